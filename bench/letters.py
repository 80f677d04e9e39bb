"""Decision letters: the data set with released decisions, and one letter against WeasyPrint alone.

python bench/letters.py release --db bench/out/letters.sqlite3
    every proposal the ranking proposed to the Directorate-General gets its released
    decision (main list: awarded, the others: rejected), as after `release_call`.
valgrind --tool=callgrind --instr-atstart=no python bench/letters.py measure --db ... --n 2
    segments (bench/cgreq.py): N letters issued the way the job queue issues them
    (`webapp.jobs.issue_one_letter`: read the data, template, WeasyPrint PDF/A-2b, pyHanko
    signature, file and row stored, audit, commit), then WeasyPrint alone rendering the very
    same HTML to the same PDF/A-2b N times, then pyHanko signing those PDFs alone (the
    signature's share of the letter), each beside an empty segment. One letter of each
    kind (awarded, rejected) and a WeasyPrint render are paid before the measure (fonts,
    signing key, templates).
"""

from __future__ import annotations

import argparse
import gc
import sys
import warnings
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import cgreq  # noqa: E402
from serve_n import make_app  # noqa: E402


def release_decisions(app) -> list[int]:
    """Released decisions for the proposed, waitlisted and not retained proposals; their ids."""
    from sqlalchemy import case, select, update

    from webapp.extensions import db
    from webapp.models import Proposal, User, utcnow
    from workflows.proposal_states import ProposalState as S

    with app.app_context():
        dg = db.session.scalar(select(User.id).where(User.email == "dg@scale.example"))
        now = utcnow()
        states = [S.PROPOSED, S.WAITLISTED, S.NOT_RETAINED]
        ids = list(
            db.session.scalars(select(Proposal.id).where(Proposal.state.in_(states)).order_by(Proposal.id))
        )
        awarded = Proposal.rank_list == "main"
        db.session.execute(
            update(Proposal)
            .where(Proposal.state.in_(states))
            .values(
                state=case((awarded, S.AWARDED.value), else_=S.REJECTED.value),
                decision_annual_eur=case((awarded, Proposal.requested_annual_eur), else_=None),
                decision_comment=case(
                    (awarded, ""), else_="Le comité a jugé le projet moins prioritaire que ceux retenus."
                ),
                decision_by_id=dg,
                decided_at=now - timedelta(days=2),
                decision_released_at=now - timedelta(days=1),
                version_id=Proposal.version_id + 1,
            )
        )
        db.session.commit()
        return ids


def _letter_html(app, proposal_id: int) -> tuple[str, object]:
    """The HTML the letter of ``proposal_id`` was rendered from (from its stored data)."""
    from flask import render_template
    from flask_babel import force_locale

    from webapp.documents.issued import _document_helpers
    from webapp.documents.render import INTERNAL_ORIGIN, StaticOnlyFetcher, static_roots
    from webapp.extensions import db
    from webapp.models import IssuedDocument

    with app.app_context(), app.test_request_context():
        document = db.session.scalar(
            db.select(IssuedDocument).where(IssuedDocument.proposal_id == proposal_id)
        )
        data = document.data
        with force_locale(data["language"]):
            html = render_template("documents/letter.html", d=data, **_document_helpers(data["language"]))
        return html, (INTERNAL_ORIGIN + "/", StaticOnlyFetcher(static_roots(app)))


def weasyprint_alone(html: str, base_and_fetcher) -> bytes:
    from weasyprint import HTML

    from webapp.documents.issued import PDF_VARIANT

    base_url, fetcher = base_and_fetcher
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        return HTML(string=html, base_url=base_url, url_fetcher=fetcher).write_pdf(pdf_variant=PDF_VARIANT)


def pick(app, count: int) -> list[int]:
    """Released proposals alternately awarded and rejected, lowest ids first."""
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Proposal
    from workflows.proposal_states import ProposalState as S

    with app.app_context():
        by_state = {
            state: list(
                db.session.scalars(select(Proposal.id).where(Proposal.state == state).order_by(Proposal.id))
            )
            for state in (S.AWARDED, S.REJECTED)
        }
    chosen = []
    while len(chosen) < count and (by_state[S.AWARDED] or by_state[S.REJECTED]):
        for state in (S.AWARDED, S.REJECTED):
            if by_state[state] and len(chosen) < count:
                chosen.append(by_state[state].pop(0))
    return chosen


def measure(db_target: str, n: int, storage: str) -> None:
    from webapp import jobs

    app = make_app(db_target, STORAGE_DIR=storage)
    chosen = pick(app, 2 + n)
    warm_ids, measured = chosen[:2], chosen[2:]
    with app.app_context():
        for pid in warm_ids:
            assert jobs.issue_one_letter(pid), pid
    warm_html = _letter_html(app, warm_ids[0])
    weasyprint_alone(*warm_html)
    on_valgrind = cgreq.on_valgrind()
    if on_valgrind:
        cgreq.start()
    for count in (0, n):
        gc.collect()
        cgreq.zero()
        with app.app_context():
            for pid in measured[:count]:
                assert jobs.issue_one_letter(pid), pid
        cgreq.dump(f"letter n={count}")
    html = {pid: _letter_html(app, pid) for pid in measured}
    pdfs = {}
    for count in (0, n):
        gc.collect()
        cgreq.zero()
        for pid in measured[:count]:
            pdfs[pid] = weasyprint_alone(*html[pid])
        cgreq.dump(f"weasyprint n={count}")
    # The share of the signature in the letter: pyHanko signing WeasyPrint's PDF, alone.
    from webapp.documents.signing import sign_pdf

    for count in (0, n):
        gc.collect()
        cgreq.zero()
        with app.app_context():
            for pid in measured[:count]:
                sign_pdf(pdfs[pid], reason="Decision letter")
        cgreq.dump(f"signature n={count}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=("release", "measure"))
    parser.add_argument("--db", required=True)
    parser.add_argument("--n", type=int, default=2)
    parser.add_argument("--storage", default=str(Path(__file__).resolve().parent / "out" / "files-letter"))
    args = parser.parse_args()
    if args.action == "release":
        print(len(release_decisions(make_app(args.db))))
    else:
        measure(args.db, args.n, args.storage)


if __name__ == "__main__":
    main()
