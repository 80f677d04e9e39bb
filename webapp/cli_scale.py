"""flask seed-scale: a generated data set for the benchmarks (bench/, `make bench`).

One closed LEA/LIA call with N submitted proposals (two teams and eight budget lines each), three
submitted reviews per proposal against the seven weighted criteria of the default grid, a
recorded consensus for every proposal, and the call's ranking proposed to the
Directorate-General for 70 % of them (main list, waiting list, not retained); the other 30 % are
reviewed and wait for the ranking, so the reviewer's queue has rows too. Eleven further calls are
published and open, without proposals, so the public list has a full page.

Accounts (password `BENCH_PASSWORD` for all): a programme manager, a Directorate-General member, an
applicant with ten of the proposals, a reviewer on thirty reviewed proposals (a full page of their
queue, the same at any N >= 100), plus a pool of applicants and reviewers holding the rest.

Rows are written in bulk (Core `executemany`, explicit ids), not through the use cases: N=10,000
(30,000 reviews, 210,000 scores) builds in well under a minute on SQLite. The command refuses a
database that already holds accounts or proposals unless `--recreate` is given, which deletes
the SQLite file (or drops the PostgreSQL schema) and migrates afresh.
"""

from __future__ import annotations

import random
import time
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import click
from flask import current_app
from sqlalchemy import func, inspect, select, text

from webapp.extensions import db
from workflows.instruments import Instrument
from workflows.proposal_states import ProposalState
from workflows.roles import Role

BENCH_PASSWORD = "bench-Scale-2026"  # noqa: S105 - generated benchmark data only
DOMAIN = "scale.example"
NAMED_USERS = {
    # key: (e-mail, first name, last name, role)
    "manager": (f"manager@{DOMAIN}", "Sophie", "Durand", Role.MANAGER),
    "dg": (f"dg@{DOMAIN}", "Marc", "Lefèvre", Role.DIRECTORATE),
    "applicant": (f"applicant@{DOMAIN}", "Claire", "Martin", Role.APPLICANT),
    "reviewer": (f"reviewer@{DOMAIN}", "Hiro", "Tanaka", Role.REVIEWER),
}
BENCH_APPLICANT_PROPOSALS = 10
BENCH_REVIEWER_ASSIGNMENTS = 30  # on reviewed proposals: a full queue page, the same at any N >= 100
REVIEWS_PER_PROPOSAL = 3
REVIEWED_SHARE = (1, 4, 7)  # index % 10 in this: reviewed, waiting for the ranking (30 %)
OPEN_CALLS = 11
CHUNK = 5_000
PARTNERS = ("BR", "JP", "CN", "IN", "CA", "US", "DE", "IT", "ES", "SG", "KR", "IL")
CATEGORIES = ("mobility", "meetings")


def database_url(target: str) -> str:
    """A URL from `--db`: a URL as given, or a SQLite file path."""
    if "://" in target:
        return target
    return f"sqlite:///{Path(target).resolve()}"


def _has_data() -> bool:
    tables = set(inspect(db.engine).get_table_names())
    for table in ("user", "proposal"):
        probe = text(f'SELECT 1 FROM "{table}" LIMIT 1')  # noqa: S608 - a constant table name
        if table in tables and db.session.execute(probe).first():
            db.session.rollback()
            return True
    db.session.rollback()
    return False


def _drop_everything() -> None:
    """Delete the SQLite file, or drop the PostgreSQL schema (only on --recreate)."""
    engine = db.engine
    db.session.remove()
    if engine.dialect.name == "sqlite":
        engine.dispose()
        path = engine.url.database
        if path and path != ":memory:":
            for suffix in ("", "-wal", "-shm"):
                Path(path + suffix).unlink(missing_ok=True)
        return
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
        conn.commit()
    engine.dispose()


def _insert(table, rows: list[dict]) -> None:
    conn = db.session.connection()
    for start in range(0, len(rows), CHUNK):
        conn.execute(table.insert(), rows[start : start + CHUNK])


def _next_id(model) -> int:
    return (db.session.scalar(select(func.max(model.id))) or 0) + 1


def _reset_sequences(models) -> None:
    """PostgreSQL: move the id sequences past the ids written explicitly."""
    if db.engine.dialect.name != "postgresql":
        return
    for model in models:
        table = model.__table__.name
        sequence = f"pg_get_serial_sequence('\"{table}\"', 'id')"
        highest = f'(SELECT MAX(id) FROM "{table}")'  # noqa: S608 - our own table names
        db.session.execute(text(f"SELECT setval({sequence}, COALESCE({highest}, 1))"))


def _named_users() -> dict:
    from webapp.models import ReviewerProfile
    from webapp.operations import accounts

    users = {}
    for key, (email, first, last, role) in NAMED_USERS.items():
        users[key] = accounts.create_user(
            email,
            first_name=first,
            last_name=last,
            password=BENCH_PASSWORD,
            roles=(role,),
            locale="fr",
            confirmed=True,
            position="Directeur de recherche",
            is_permanent=True,
        )
    db.session.flush()
    db.session.add(
        ReviewerProfile(
            user_id=users["reviewer"].id,
            keywords="ageing, neuroscience",
            institution_name="University of Tokyo",
            country_code="JP",
            is_external=True,
            max_load=10_000,
        )
    )
    db.session.flush()
    return users


def _pool(prefix: str, count: int, role: Role, password_hash: str, now) -> list[int]:
    """`count` accounts with one role, written in bulk (they share the named accounts' hash)."""
    from webapp.models import ReviewerProfile, User, UserRole

    first = _next_id(User)
    ids = list(range(first, first + count))
    _insert(
        User.__table__,
        [
            {
                "id": uid,
                "email": f"{prefix}{n:05d}@{DOMAIN}",
                "password_hash": password_hash,
                "first_name": prefix.capitalize(),
                "last_name": f"N{n:05d}",
                "locale": "fr" if n % 3 else "en",
                "position": "Chargé de recherche",
                "is_permanent": True,
                "email_confirmed_at": now,
                "session_version": 1,
                "failed_logins": 0,
                "created_at": now,
            }
            for n, uid in enumerate(ids)
        ],
    )
    _insert(UserRole.__table__, [{"user_id": uid, "role": role, "granted_at": now} for uid in ids])
    if role == Role.REVIEWER:
        _insert(
            ReviewerProfile.__table__,
            [
                {
                    "user_id": uid,
                    "keywords": "ageing, infectious diseases",
                    "institution_name": "Partner university",
                    "unit_code": "",
                    "country_code": PARTNERS[n % len(PARTNERS)],
                    "is_external": bool(n % 2),
                    "max_load": 10_000,
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                }
                for n, uid in enumerate(ids)
            ],
        )
    return ids


def _calls(manager, now):
    """The call under assessment (closed) and the open calls of the public list."""
    from webapp.operations.calls import create_call, new_call_data

    closes = now - timedelta(days=30)
    year = closes.year
    data = new_call_data(Instrument.LEA_LIA, year)
    countries = sorted(set(data.country_codes) & set(PARTNERS)) or list(data.country_codes)[:5]
    data = replace(
        data,
        title_fr=f"Appel LEA/LIA {year} (jeu de données de mesure)",
        title_en=f"LEA/LIA call {year} (benchmark data set)",
        text_fr="Cet appel finance des **laboratoires associés** (données générées).",
        text_en="This call funds **associated laboratories** (generated data).",
        opens_at=now - timedelta(days=120),
        closes_at=closes,
        country_codes=countries,
        max_per_year_eur=15_000,
        reviewers_per_proposal=REVIEWS_PER_PROPOSAL,
        funding_start=date(year + 1, 1, 1),
        grid=replace(data.grid, overall_threshold=2.5),
    )
    call = create_call(data, manager)
    call.published_at = now - timedelta(days=127)
    call.published_by_id = manager.id
    for i in range(OPEN_CALLS):
        instrument = Instrument.GDRE_GDRI if i % 4 == 3 else Instrument.LEA_LIA
        other = new_call_data(instrument, now.year + 1)
        other = replace(
            other,
            title_fr=f"Appel ouvert {i + 1} (mesure)",
            title_en=f"Open call {i + 1} (benchmark)",
            text_fr="Appel ouvert.",
            text_en="Open call.",
            opens_at=now - timedelta(days=10 + i),
            closes_at=None if other.is_rolling else now + timedelta(days=60 + i),
            country_codes=countries,
        )
        opened = create_call(other, manager)
        opened.published_at = now - timedelta(days=11 + i)
        opened.published_by_id = manager.id
    db.session.flush()
    return call, countries


def _summary(grid, means: dict, score, grade: str) -> dict:
    return {
        "weighted_score": float(score),
        "grade": grade,
        "criteria": [
            {
                "code": c.code,
                "label_fr": c.label_fr,
                "label_en": c.label_en,
                "weight": c.weight,
                "score": float(means[c.code]) if means.get(c.code) is not None else None,
            }
            for c in grid.criteria
        ],
        "comments_for_applicants": [
            "Très bon projet : équipes complémentaires, mobilité bien pensée.",
            "Strong reciprocity; the budget could be detailed further.",
        ],
        "consensus_comment": "Projet solide, réciprocité équilibrée.",
    }


def build(n: int, seed: int = 2026, log=click.echo) -> dict:
    """Write the whole data set into the current (empty, migrated) database; returns counts."""
    from webapp.cli import seed_reference
    from webapp.models import (
        BudgetLine,
        Proposal,
        Submission,
        Team,
        User,
        utcnow,
    )
    from webapp.models.assessment import (
        ConflictDeclaration,
        Consensus,
        EligibilityScreening,
        Review,
        ReviewAssignment,
        ReviewScore,
    )
    from webapp.operations.agreements import seed_priority_agreements
    from workflows.conflicts import ConflictKind
    from workflows.ranking import Candidate, RankList, rank
    from workflows.reviews import AssignmentStatus, ReviewStatus
    from workflows.scoring import grade, proposal_scores, to_decimal

    started = time.perf_counter()
    rng = random.Random(seed)
    now = utcnow().replace(microsecond=0)
    seed_reference()
    seed_priority_agreements()
    users = _named_users()
    manager, applicant, reviewer = users["manager"], users["applicant"], users["reviewer"]
    call, countries = _calls(manager, now)
    grid = call.grid()
    codes = [c.code for c in grid.criteria]
    shared_hash = applicant.password_hash
    applicants = _pool("applicant", max(1, n // 4), Role.APPLICANT, shared_hash, now)
    reviewers = _pool("reviewer", max(REVIEWS_PER_PROPOSAL * 2, n // 15), Role.REVIEWER, shared_hash, now)
    log(f"  accounts: {len(applicants) + len(reviewers) + len(users)}")

    step = max(1, n // BENCH_APPLICANT_PROPOSALS)
    first_proposal = _next_id(Proposal)
    first_assignment = _next_id(ReviewAssignment)
    first_review = _next_id(Review)
    closes = call.closes_at
    proposals, teams, budget, submissions, screenings = [], [], [], [], []
    assignments, declarations, reviews, scores, consensus = [], [], [], [], []
    ranked_candidates, facts = [], {}
    bench_reviews = 0
    for k in range(n):
        pid = first_proposal + k
        coordinator = (
            applicant.id
            if k % step == 0 and k // step < BENCH_APPLICANT_PROPOSALS
            else (applicants[k % len(applicants)])
        )
        reviewed = k % 10 in REVIEWED_SHARE
        submitted_at = closes - timedelta(minutes=(k * 7) % 20_000 + 1)
        annual = rng.choice((8_000, 10_000, 12_000, 15_000))
        quality = rng.uniform(1.8, 4.9)
        partner = countries[k % len(countries)]
        proposals.append(
            {
                "id": pid,
                "version_id": 1,
                "call_id": call.id,
                "reference": f"LEA-{call.year}-{k + 1:05d}",
                "stage": "full",
                "coordinator_id": coordinator,
                "co_coordinator_name": f"Partner Coordinator {k + 1}",
                "co_coordinator_email": f"partner{k + 1:05d}@partner.{DOMAIN}",
                "title": f"Cooperative project {k + 1} on ageing and cell therapy",
                "acronym": f"SC{k + 1:05d}",
                "abstract_fr": "Résumé du projet de coopération. " * 8,
                "abstract_en": "Abstract of the cooperation project. " * 8,
                "keywords": "ageing, regenerative medicine, mobility",
                "history": "Joint work since 2019; 6 joint publications.",
                "programme": "Work packages 1 to 3: " + "scientific programme. " * 20,
                "mobility_plan": "Two PhD students per year, short visits.",
                "ethics": "No ethical issue.",
                "duration_years": call.duration_years,
                "created_at": submitted_at - timedelta(days=20),
                "updated_at": submitted_at + timedelta(minutes=k % 977),
                "submitted_at": submitted_at,
                "country_flagged": False,
                "requested_annual_eur": annual,
                "decision_resubmission_allowed": True,
            }
        )
        teams.append(
            {
                "proposal_id": pid,
                "position": 0,
                "is_inserm": True,
                "laboratory": f"Inserm team {k + 1}",
                "unit_code": f"U{1000 + k % 1000}",
                "institution_name": "Inserm",
                "country_code": "FR",
                "authority": "Inserm",
                "leader_name": "Claire Martin",
                "leader_email": f"lead{k}@inserm.example",
                "leader_position": "DR2",
                "leader_permanent": True,
            }
        )
        teams.append(
            {
                "proposal_id": pid,
                "position": 9,
                "is_inserm": False,
                "laboratory": f"Partner lab {k + 1}",
                "unit_code": "",
                "institution_name": "Partner university",
                "country_code": partner,
                "authority": "Partner university",
                "leader_name": f"Partner Coordinator {k + 1}",
                "leader_email": f"partner{k + 1:05d}@partner.{DOMAIN}",
                "leader_position": "Professor",
                "leader_permanent": True,
            }
        )
        for year in range(1, call.duration_years + 1):
            for category, amount in zip(CATEGORIES, (annual - 2_000, 2_000), strict=True):
                budget.append(
                    {
                        "proposal_id": pid,
                        "year": year,
                        "category": category,
                        "amount_eur": amount,
                        "partner_cash_eur": 3_000 if category == "mobility" else 0,
                        "partner_in_kind_eur": 1_000,
                        "note": "",
                    }
                )
        submissions.append(
            {
                "proposal_id": pid,
                "version": 1,
                "stage": "full",
                "received_at": submitted_at,
                "submitted_by_id": coordinator,
                "snapshot": {"reference": f"LEA-{call.year}-{k + 1:05d}", "files": []},
            }
        )
        screenings.append(
            {
                "proposal_id": pid,
                "checklist": {},
                "notes": "",
                "outcome": "eligible",
                "automatic_problems": [],
                "screened_by_id": manager.id,
                "screened_at": closes + timedelta(days=2),
                "updated_at": now,
            }
        )
        panel = [
            reviewers[(REVIEWS_PER_PROPOSAL * k + j) % len(reviewers)] for j in range(REVIEWS_PER_PROPOSAL)
        ]
        if reviewed and bench_reviews < BENCH_REVIEWER_ASSIGNMENTS:
            panel[0] = reviewer.id
            bench_reviews += 1
        maps = []
        for j, reviewer_id in enumerate(panel):
            aid = first_assignment + REVIEWS_PER_PROPOSAL * k + j
            rid = first_review + REVIEWS_PER_PROPOSAL * k + j
            assignments.append(
                {
                    "id": aid,
                    "proposal_id": pid,
                    "call_id": call.id,
                    "reviewer_id": reviewer_id,
                    "status": AssignmentStatus.ACCEPTED,
                    "source": "automatic",
                    "expertise_match": Decimal("0.750"),
                    "due_at": closes + timedelta(days=40 + k % 13),
                    "assigned_by_id": manager.id,
                    "created_at": closes + timedelta(days=3),
                    "invited_at": closes + timedelta(days=3),
                    "responded_at": closes + timedelta(days=4),
                    "decline_reason": "",
                    "removed_reason": "",
                }
            )
            declarations.append(
                {
                    "proposal_id": pid,
                    "reviewer_id": reviewer_id,
                    "kind": ConflictKind.NONE,
                    "comment": "",
                    "declared_at": closes + timedelta(days=4),
                }
            )
            reviews.append(
                {
                    "id": rid,
                    "version_id": 1,
                    "assignment_id": aid,
                    "proposal_id": pid,
                    "reviewer_id": reviewer_id,
                    "status": ReviewStatus.SUBMITTED,
                    "comment_for_applicants": "Solid project; the mobility plan is convincing.",
                    "confidential_comment": "",
                    "ethics_flag": False,
                    "ethics_comment": "",
                    "created_at": closes + timedelta(days=5),
                    "updated_at": closes + timedelta(days=9),
                    "submitted_at": closes + timedelta(days=9, minutes=j),
                    "reopen_reason": "",
                }
            )
            score_map = {}
            for code in codes:
                value = min(5, max(1, round(quality + rng.gauss(0, 0.7))))
                score_map[code] = value
                scores.append(
                    {
                        "review_id": rid,
                        "criterion_code": code,
                        "score": value,
                        "comment": "Argued comment on this criterion.",
                    }
                )
            maps.append(score_map)
        stats = proposal_scores(grid, maps)
        score = to_decimal(stats.weighted_score)
        agreed_grade = grade(grid, score)
        consensus.append(
            {
                "proposal_id": pid,
                "version_id": 1,
                "computed_score": score,
                "score": score,
                "grade": agreed_grade,
                "comment": "Projet solide, réciprocité équilibrée.",
                "override_justification": "",
                "open_to_reviewers": False,
                "moderated_by_id": manager.id,
                "moderated_at": closes + timedelta(days=12),
            }
        )
        facts[pid] = (stats.means, score, agreed_grade, reviewed)
        if not reviewed:
            ranked_candidates.append(
                Candidate(
                    key=pid,
                    reference=proposals[-1]["reference"],
                    score=score,
                    means=stats.means,
                    annual_eur=annual,
                    submitted_at=submitted_at,
                )
            )

    # The manager's ranking of the proposals not left "reviewed", proposed to the DG.
    call.budget_envelope_eur = max(1, len(ranked_candidates) * 15 // 100) * 12_000
    rows = rank(ranked_candidates, grid, envelope_eur=call.budget_envelope_eur, target_awards=None)
    placed = {r.candidate.key: r for r in rows}
    states = {
        RankList.MAIN: ProposalState.PROPOSED,
        RankList.WAITING: ProposalState.WAITLISTED,
        RankList.NOT_RETAINED: ProposalState.NOT_RETAINED,
    }
    for row in proposals:
        means, score, agreed_grade, reviewed = facts[row["id"]]
        row.update(
            consensus_score=score,
            consensus_grade=agreed_grade,
            consensus_comment="Projet solide, réciprocité équilibrée.",
        )
        if reviewed:
            row.update(
                state=ProposalState.REVIEWED, rank_position=None, rank_list="", assessment_summary=None
            )
        else:
            ranked = placed[row["id"]]
            row.update(
                state=states[ranked.rank_list],
                rank_position=ranked.position,
                rank_list=str(ranked.rank_list),
                assessment_summary=_summary(grid, means, score, agreed_grade),
            )
    db.session.flush()
    log(f"  generated in {time.perf_counter() - started:.1f} s; writing")

    for model, rows_ in (
        (Proposal, proposals),
        (Team, teams),
        (BudgetLine, budget),
        (Submission, submissions),
        (EligibilityScreening, screenings),
        (ReviewAssignment, assignments),
        (ConflictDeclaration, declarations),
        (Review, reviews),
        (ReviewScore, scores),
        (Consensus, consensus),
    ):
        _insert(model.__table__, rows_)
    _reset_sequences((User, Proposal, ReviewAssignment, Review))
    db.session.commit()
    with db.engine.connect() as conn:  # planner statistics, as a database in service has them
        conn.execute(text("ANALYZE"))
        conn.commit()
    counts = {
        "call_id": call.id,
        "proposals": len(proposals),
        "reviews": len(reviews),
        "scores": len(scores),
        "ranked": len(ranked_candidates),
        "seconds": round(time.perf_counter() - started, 1),
    }
    return counts


def seed_scale(n: int, *, recreate: bool = False, seed: int = 2026, log=click.echo) -> dict:
    """Migrate the current app's database if needed, refuse (or recreate) a non-empty one, build."""
    from flask_migrate import upgrade

    if _has_data():
        if not recreate:
            raise click.ClickException(
                "The database already holds accounts or proposals; seed-scale writes into an empty "
                "database only. Pass --recreate to delete it and start afresh."
            )
        _drop_everything()
    upgrade(revision="heads")
    return build(n, seed=seed, log=log)


def init_app(app) -> None:
    @app.cli.command("seed-scale")
    @click.option("--n", "n", type=click.IntRange(1, 1_000_000), required=True, help="Proposals in the call.")
    @click.option("--db", "target", default="", help="SQLite file or database URL (default: the app's).")
    @click.option("--recreate", is_flag=True, help="Delete a non-empty database first.")
    @click.option("--seed", default=2026, show_default=True, help="Random seed of the scores.")
    def seed_scale_cmd(n, target, recreate, seed):
        """A benchmark data set: one call with N proposals, 3 reviews each, 7 criteria, ranked."""
        if target:
            from webapp import create_app

            app_ = create_app(SQLALCHEMY_DATABASE_URI=database_url(target))
        else:
            app_ = current_app._get_current_object()
        with app_.app_context():
            click.echo(f"seed-scale: N={n} into {db.engine.url.render_as_string(hide_password=True)}")
            counts = seed_scale(n, recreate=recreate, seed=seed)
            db.engine.dispose()
        click.echo(
            f"seed-scale: call {counts['call_id']}, {counts['proposals']} proposals "
            f"({counts['ranked']} ranked), {counts['reviews']} reviews, {counts['scores']} scores "
            f"in {counts['seconds']} s. Accounts: {', '.join(e for e, *_ in NAMED_USERS.values())} "
            f"(password {BENCH_PASSWORD})."
        )
