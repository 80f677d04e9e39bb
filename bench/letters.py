"""Decision letters: the data set with released decisions, and one letter against WeasyPrint alone.

python bench/letters.py release --db bench/out/letters.sqlite3
    every proposal the ranking proposed to the Directorate-General gets its released
    decision (main list: awarded, the others: rejected), as after `release_call`.
valgrind --tool=callgrind --instr-atstart=no python bench/letters.py measure --side letter --db ... --n 2
    segments (bench/cgreq.py): N letters issued the way the job queue issues them
    (`webapp.jobs.issue_one_letter`: read the data, template, WeasyPrint PDF/A-2b, pyHanko
    signature, file and row stored, audit, commit); then WeasyPrint alone rendering the same
    HTML again, and pyHanko signing those PDFs alone (the signature's share of the letter).
valgrind ... python bench/letters.py measure --side weasyprint --db (a copy) ... --n 2
    in a second process, WeasyPrint alone rendering the HTML of the same N letters, never
    rendered before in that process (as the letter side's were): the yardstick.
Each segment sits beside an empty one. Both processes first issue the same two letters (one of
each kind, awarded and rejected) and render one with WeasyPrint (fonts, signing key, templates).
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


def stored_letter_html(app, proposal_id: int) -> str:
    """The HTML the issued letter of ``proposal_id`` was rendered from (from its stored data)."""
    from webapp.extensions import db
    from webapp.models import IssuedDocument

    with app.app_context():
        data = db.session.scalar(
            db.select(IssuedDocument.data).where(IssuedDocument.proposal_id == proposal_id)
        )
    return letter_html(app, data)


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


def letter_html(app, data: dict) -> str:
    """The HTML a letter is rendered from, made from its data as `render_letter` makes it."""
    from flask import render_template
    from flask_babel import force_locale

    from webapp.documents.issued import _document_helpers

    with app.app_context(), force_locale(data["language"]):
        return render_template("documents/letter.html", d=data, **_document_helpers(data["language"]))


def unissued_data(app, proposal_ids: list[int]) -> list[dict]:
    """What the letters of ``proposal_ids`` will say, read as the job reads it, nothing stored."""
    from webapp.documents import issued
    from webapp.extensions import db
    from webapp.models import Proposal

    with app.app_context():
        data = [issued.letter_data(db.session.get(Proposal, pid), version=1) for pid in proposal_ids]
        db.session.rollback()
    return data


def fetcher(app):
    from webapp.documents.render import INTERNAL_ORIGIN, StaticOnlyFetcher, static_roots

    return INTERNAL_ORIGIN + "/", StaticOnlyFetcher(static_roots(app))


def segments(label: str, n: int, one) -> None:
    """Segments ``label n=0`` and ``label n=N``: ``one(i)`` for i in range(count)."""
    for count in (0, n):
        gc.collect()
        cgreq.zero()
        for i in range(count):
            one(i)
        cgreq.dump(f"{label} n={count}")


def measure(db_target: str, n: int, storage: str, side: str, out: str) -> None:
    """One side of the letter measure (two processes, the same warm-up, the same letters).

    A first rendering of a text costs WeasyPrint more than rendering it again (its and Pango's
    caches): about 30 to 50 M instructions per letter. A job renders each letter once, so both
    sides are measured on letters this process has never rendered: ``--side letter`` issues them,
    ``--side weasyprint`` renders their HTML with WeasyPrint alone. The letter side also measures
    WeasyPrint on the same HTML again (warm, the first method's yardstick) and the signature alone.
    """
    import hashlib
    import json

    from webapp import jobs

    app = make_app(db_target, STORAGE_DIR=storage)
    chosen = pick(app, 2 + n)
    warm_ids, measured = chosen[:2], chosen[2:]
    with app.app_context():
        for pid in warm_ids:
            assert jobs.issue_one_letter(pid), pid
    base = fetcher(app)
    weasyprint_alone(stored_letter_html(app, warm_ids[0]), base)
    if cgreq.on_valgrind():
        cgreq.start()
    if side == "weasyprint":
        html = [letter_html(app, d) for d in unissued_data(app, measured)]
        segments("weasyprint", n, lambda i: weasyprint_alone(html[i], base))
    else:

        def issue(i: int) -> None:
            with app.app_context():
                assert jobs.issue_one_letter(measured[i]), measured[i]

        segments("letter", n, issue)
        html = [stored_letter_html(app, pid) for pid in measured]
        pdfs = []
        segments("weasyprint-again", n, lambda i: pdfs.append(weasyprint_alone(html[i], base)))
        # The share of the signature in the letter: pyHanko signing WeasyPrint's PDF, alone.
        from webapp.documents.signing import sign_pdf

        def sign(i: int) -> None:
            with app.app_context():
                sign_pdf(pdfs[i], reason="Decision letter")

        segments("signature", n, sign)
    digest = hashlib.sha256("".join(html).encode()).hexdigest()
    Path(out).write_text(json.dumps({"side": side, "letters": measured, "html_sha256": digest}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=("release", "measure"))
    parser.add_argument("--db", required=True)
    parser.add_argument("--n", type=int, default=2)
    parser.add_argument("--storage", default=str(Path(__file__).resolve().parent / "out" / "files-letter"))
    parser.add_argument("--side", choices=("letter", "weasyprint"), default="letter")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "out" / "letter-side.json"))
    args = parser.parse_args()
    if args.action == "release":
        print(len(release_decisions(make_app(args.db))))
    else:
        measure(args.db, args.n, args.storage, args.side, args.out)


if __name__ == "__main__":
    main()
