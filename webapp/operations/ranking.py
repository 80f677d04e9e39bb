"""Consensus, ranking, the proposal to the Directorate-General, exports and charts.

The ranking itself is derived (`ranking_view`): computed from the consensus scores, the reviews,
the budgets and the manual moves by `workflows.ranking.rank`. The page shows one page of it and
the call's totals; it is computed once per state of its inputs (`current_ranking`: kept under a
fingerprint of them read on every request), so it never goes stale. The use cases that change it
(`rank_call`, `move_in_ranking`, `record_consensus` on a ranked proposal) also write the result
into the contract columns of `Proposal` (`rank_position`, `rank_list`, `consensus_*`,
`requested_annual_eur`); `propose_ranking` writes `assessment_summary`, the anonymised summary
the decision letters print, and moves each proposal to proposed, waitlisted or not retained.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import cache
from typing import NamedTuple

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, case, func, literal, select, true
from sqlalchemy.orm import joinedload, lazyload, load_only

from webapp.extensions import cache as fragments
from webapp.extensions import db
from webapp.models import BudgetLine, Country, Proposal, Team, User, utcnow
from webapp.models.assessment import (
    Consensus,
    RankingMove,
    Review,
    ReviewAssignment,
    ReviewerProfile,
    ReviewScore,
)
from webapp.models.calls import Call
from webapp.operations.assessment import AssessmentRefused, requested_annual_eur
from webapp.operations.audit import record
from webapp.operations.transitions import apply_transition
from webapp.pagination import PER_PAGE, Page
from workflows.calls import Grid
from workflows.proposal_states import MOVES, ProposalAction, ProposalFacts, ProposalState
from workflows.ranking import Candidate, ManualMove, Ranked, RankList, rank
from workflows.reviews import AssignmentStatus, ReviewStatus
from workflows.roles import Role
from workflows.scoring import (
    MIN_JUSTIFICATION_CHARS,
    ProposalScores,
    consensus_problems,
    criterion_stats,
    grade,
    is_override,
    proposal_scores,
    to_decimal,
    weighted_total,
)

S = ProposalState
#: A consensus is recorded once every review is in, until the ranking is proposed.
CONSENSUS_STATES = (S.REVIEWED, S.RANKED)
#: The proposals a call's ranking shows.
RANKING_STATES = (S.REVIEWED, S.RANKED, S.PROPOSED, S.WAITLISTED, S.NOT_RETAINED)
#: Still being screened or reviewed: the call cannot be ranked yet.
UNFINISHED_STATES = (S.SUBMITTED, S.ELIGIBLE, S.UNDER_REVIEW)
#: Awarded by the Directorate-General: their money is no longer in the envelope.
AWARDED_STATES = (S.AWARDED, S.AGREEMENT_PENDING)
LIST_ACTIONS = {
    RankList.MAIN: ProposalAction.PROPOSE,
    RankList.WAITING: ProposalAction.WAITLIST,
    RankList.NOT_RETAINED: ProposalAction.NOT_RETAIN,
}

#: A list of proposals names their coordinators, never their roles: one JOIN, and no query for
#: the roles of hundreds of users (the default eager loading of `User.role_grants`).
COORDINATOR_WITHOUT_ROLES = joinedload(Proposal.coordinator).lazyload(User.role_grants)


class ConsensusConflict(Exception):
    """Someone recorded the consensus meanwhile (optimistic locking)."""


# --- reviews and scores ------------------------------------------------------------------------


def counted_reviews_query():
    """Submitted reviews whose reviewer is still on the proposal (a removed one never counts)."""
    return (
        select(Review)
        .join(ReviewAssignment, ReviewAssignment.id == Review.assignment_id)
        .where(Review.status == ReviewStatus.SUBMITTED, ReviewAssignment.status == AssignmentStatus.ACCEPTED)
    )


def counted_reviews(proposal: Proposal) -> list[Review]:
    return list(
        db.session.scalars(
            counted_reviews_query()
            .where(Review.proposal_id == proposal.id)
            .order_by(Review.submitted_at, Review.id)
        )
    )


def scores_of(proposal: Proposal, grid: Grid | None = None) -> ProposalScores:
    grid = grid or proposal.call.grid()
    return proposal_scores(grid, [r.score_map() for r in counted_reviews(proposal)])


def consensus_of(proposal: Proposal) -> Consensus | None:
    return db.session.scalar(select(Consensus).where(Consensus.proposal_id == proposal.id))


def _consensus_snapshot(consensus: Consensus | None) -> dict | None:
    if consensus is None:
        return None
    return {
        "score": str(consensus.score),
        "computed": None if consensus.computed_score is None else str(consensus.computed_score),
        "grade": consensus.grade,
        "open_to_reviewers": consensus.open_to_reviewers,
        "override": bool(consensus.override_justification),
    }


def record_consensus(
    proposal: Proposal,
    actor: User,
    score: Decimal | None,
    comment: str,
    justification: str,
    open_to_reviewers: bool,
    expected_version: int | None,
) -> Consensus:
    """The manager's moderated consensus; a score departing from the computed one needs a
    written justification (`workflows.scoring.consensus_problems`)."""
    if proposal.state not in CONSENSUS_STATES:
        raise AssessmentRefused(
            _l("The consensus is recorded once every review is in, and until the ranking is proposed.")
        )
    grid = proposal.call.grid()
    stats = scores_of(proposal, grid)
    problems = consensus_problems(
        grid, stats.weighted_score, score, justification, min_chars=MIN_JUSTIFICATION_CHARS
    )
    if problems:
        raise AssessmentRefused([_problem_message(p) for p in problems])
    consensus = consensus_of(proposal)
    before = _consensus_snapshot(consensus)
    if consensus is None:
        if expected_version not in (None, 0):
            raise ConsensusConflict()
        consensus = Consensus(proposal_id=proposal.id)
        db.session.add(consensus)
    elif expected_version is not None and consensus.version_id != expected_version:
        raise ConsensusConflict()
    override = is_override(stats.weighted_score, score)
    consensus.computed_score = to_decimal(stats.weighted_score)
    consensus.score = to_decimal(score)
    consensus.grade = grade(grid, score)
    consensus.comment = (comment or "").strip()
    consensus.override_justification = (justification or "").strip() if override else ""
    consensus.open_to_reviewers = bool(open_to_reviewers)
    consensus.moderated_by_id = actor.id
    consensus.moderated_at = utcnow()
    proposal.consensus_score = consensus.score
    proposal.consensus_grade = consensus.grade
    proposal.consensus_comment = consensus.comment
    proposal.requested_annual_eur = requested_annual_eur(proposal)
    db.session.flush()
    record(
        actor,
        "consensus.recorded",
        proposal,
        before=before,
        after={**_consensus_snapshot(consensus), "justification": consensus.override_justification},
    )
    if proposal.state == S.RANKED:
        refresh_ranking(proposal.call)
    return consensus


def _problem_message(problem) -> str:
    messages = {
        "consensus_missing": _l("Give a consensus score."),
        "consensus_outside": _l("The consensus score must lie between %(low)s and %(high)s."),
        "justification_missing": _l(
            "A consensus score that differs from the computed score needs a written justification "
            "of at least %(min)s characters."
        ),
    }
    message = messages.get(problem.code)
    return str(message) % dict(problem.params) if message is not None else problem.message


# --- the ranking -------------------------------------------------------------------------------


@dataclass
class RankingView:
    call: Call
    rows: list[Ranked]
    proposals: dict[int, Proposal]
    envelope_eur: int | None
    committed_eur: int
    unfinished: list[Proposal] = field(default_factory=list)
    missing_consensus: list[Proposal] = field(default_factory=list)
    moves: list[RankingMove] = field(default_factory=list)

    @property
    def available_eur(self) -> int | None:
        return None if self.envelope_eur is None else max(self.envelope_eur - self.committed_eur, 0)

    @property
    def main_total_eur(self) -> int:
        return sum(r.candidate.annual_eur for r in self.rows if r.rank_list is RankList.MAIN)

    @property
    def fundable_count(self) -> int:
        return sum(1 for r in self.rows if r.fundable)


def ranking_criteria(grid: Grid) -> tuple[str, ...]:
    """The criteria whose means the ranking reads: the tie-break ones (order) and those with a
    threshold (fundability, `workflows.scoring.threshold_failures`)."""
    codes = list(grid.tie_break)
    codes += [c.code for c in grid.criteria if c.threshold is not None and c.code not in codes]
    return tuple(codes)


def _criterion_means(grid: Grid, which) -> dict[int, dict[str, Fraction | None]]:
    """Per proposal (``which``: a condition on `Review.proposal_id`), the mean of each criterion
    of `ranking_criteria` over its counted reviews, in one query."""
    codes = ranking_criteria(grid)
    if not codes:
        return {}
    rows = db.session.execute(
        select(Review.proposal_id, ReviewScore.criterion_code, ReviewScore.score)
        .join(ReviewAssignment, ReviewAssignment.id == Review.assignment_id)
        .join(ReviewScore, ReviewScore.review_id == Review.id)
        .where(
            which,
            Review.status == ReviewStatus.SUBMITTED,
            ReviewAssignment.status == AssignmentStatus.ACCEPTED,
            ReviewScore.criterion_code.in_(codes),
            ReviewScore.score.is_not(None),
        )
    ).all()
    return _means_of_rows(rows)


def _means_of_rows(rows) -> dict[int, dict[str, Fraction | None]]:
    """(proposal id, criterion code, score) rows -> per proposal, each criterion's mean
    (`workflows.scoring.criterion_stats`)."""
    scores: dict[int, dict[str, list[int]]] = {}
    for proposal_id, code, score in rows:
        scores.setdefault(proposal_id, {}).setdefault(code, []).append(score)
    return {
        pid: {code: criterion_stats(code, 0, None, values).mean for code, values in by_code.items()}
        for pid, by_code in scores.items()
    }


def _annual_by_proposal(which) -> dict[int, int]:
    """The largest yearly Inserm amount of each proposal (``which``: a condition on
    `BudgetLine.proposal_id`), in one query."""
    rows = db.session.execute(
        select(BudgetLine.proposal_id, BudgetLine.year, func.sum(BudgetLine.amount_eur))
        .where(which)
        .group_by(BudgetLine.proposal_id, BudgetLine.year)
    ).all()
    annual: dict[int, int] = {}
    for proposal_id, _year, total in rows:
        annual[proposal_id] = max(annual.get(proposal_id, 0), int(total or 0))
    return annual


#: Lists of proposals that show a few of their columns: neither the call nor the coordinator.
WITHOUT_CALL_AND_COORDINATOR = (lazyload(Proposal.call), lazyload(Proposal.coordinator))


def ranking_view(call: Call) -> RankingView:
    """The call's ranking as it stands, computed from the consensus scores, the reviews, the
    budgets and the moves (reads only; `workflows.ranking.rank` decides)."""
    grid = call.grid()
    in_ranking = (Proposal.call_id == call.id, Proposal.state.in_(list(RANKING_STATES)))
    proposals = list(
        db.session.scalars(
            select(Proposal)
            .where(*in_ranking)
            .options(lazyload(Proposal.call), COORDINATOR_WITHOUT_ROLES)
            .order_by(Proposal.reference)
        )
    )
    by_id = {p.id: p for p in proposals}
    # The call's proposals by a subquery, not a list of ids: a bound parameter per proposal
    # would meet SQLite's limit of 32,766 variables in a large call.
    ids = select(Proposal.id).where(*in_ranking).scalar_subquery()
    consensus = (
        {
            c.proposal_id: c
            for c in db.session.scalars(select(Consensus).where(Consensus.proposal_id.in_(ids)))
        }
        if proposals
        else {}
    )
    means = _criterion_means(grid, Review.proposal_id.in_(ids)) if proposals else {}
    annual = _annual_by_proposal(BudgetLine.proposal_id.in_(ids)) if proposals else {}
    candidates = []
    for proposal in proposals:
        agreed = consensus.get(proposal.id)
        candidates.append(
            Candidate(
                key=proposal.id,
                reference=proposal.reference,
                score=agreed.score if agreed is not None else None,
                means=means.get(proposal.id, {}),
                annual_eur=annual.get(proposal.id, 0),
                submitted_at=proposal.submitted_at,
            )
        )
    moves = list(
        db.session.scalars(select(RankingMove).where(RankingMove.call_id == call.id).order_by(RankingMove.id))
    )
    committed = int(
        db.session.scalar(
            select(
                func.coalesce(
                    func.sum(func.coalesce(Proposal.decision_annual_eur, Proposal.requested_annual_eur)), 0
                )
            ).where(Proposal.call_id == call.id, Proposal.state.in_(list(AWARDED_STATES)))
        )
        or 0
    )
    envelope = call.budget_envelope_eur
    available = None if envelope is None else max(envelope - committed, 0)
    rows = rank(
        candidates,
        grid,
        envelope_eur=available,
        target_awards=call.target_awards,
        moves=[ManualMove(m.proposal_id, m.to_position) for m in moves],
    )
    unfinished = list(
        db.session.scalars(
            select(Proposal)
            .where(Proposal.call_id == call.id, Proposal.state.in_(list(UNFINISHED_STATES)))
            .options(*WITHOUT_CALL_AND_COORDINATOR)
            .order_by(Proposal.reference)
        )
    )
    missing = [p for p in proposals if p.id not in consensus and p.state in CONSENSUS_STATES]
    return RankingView(call, rows, by_id, envelope, committed, unfinished, missing, moves)


def refresh_ranking(call: Call) -> RankingView:
    """Write the current ranking into the ranked proposals' contract columns (and keep it for
    the ranking page)."""
    view = ranking_view(call)
    for row in view.rows:
        proposal = view.proposals[row.candidate.key]
        if proposal.state != S.RANKED:
            continue
        proposal.rank_position = row.position
        proposal.rank_list = str(row.rank_list)
        proposal.requested_annual_eur = row.candidate.annual_eur
    db.session.flush()
    keep_ranking(view)
    return view


# --- the ranking as the page reads it ------------------------------------------------------------
#
# Ranking a call reads every proposal's consensus, reviews and budget; the ranking page shows one
# page of it. One aggregate statement sums up everything the ranking is computed from into a
# fingerprint (`ranking_facts`), read on every request; the ranking computed from that state is
# kept in the application's cache (Flask-Caching, each process's memory) under it
# (`current_ranking`) and computed again the first time
# the fingerprint differs (after a consensus, a completed review, an award, a change of the
# call...). Every process and server sees a change at its next request: nothing is shared or
# invalidated, and a GET writes nothing. The counts of the score chart are kept the same way,
# under a fingerprint of the call's counted reviews.
#
# The page's statements are built once (`functools.cache`, parameters bound at execution): what
# costs most in a small aggregate query is building it in Python.


@dataclass(frozen=True)
class RankingFacts:
    """What the ranking of a call and its score chart are computed from, summed up
    (`ranking_facts`), and the counts the ranking page shows."""

    fingerprint: str
    reviews_fingerprint: str
    committed_eur: int
    reviewed: int
    ranked: int
    unfinished: int
    missing_consensus: int
    moves: int


#: Change it when `ranking_view` starts reading something `ranking_facts` does not sum up.
RANKING_FINGERPRINT_VERSION = 1


def _one_of(column, values):
    """``column IN (...)`` with a bound parameter per value: a statement built once is then run
    as compiled, where an "expanding" list would be rewritten into the SQL on every run."""
    return column.in_([literal(value, column.type) for value in values])


@cache
def _facts_statement():
    call_id = bindparam("call_id")
    # Per state first (the index on call and state gives the groups), then over the states.
    per_state = (
        select(
            Proposal.state,
            func.count(Proposal.id).label("n"),
            func.sum(Proposal.id).label("ids"),
            func.sum(Proposal.version_id).label("versions"),
            func.max(Proposal.updated_at).label("updated"),
            func.count(Consensus.id).label("consensus"),
            func.sum(Consensus.version_id).label("consensus_versions"),
            func.sum(func.coalesce(Proposal.decision_annual_eur, Proposal.requested_annual_eur)).label(
                "money"
            ),
        )
        .outerjoin(Consensus, Consensus.proposal_id == Proposal.id)
        .where(
            Proposal.call_id == call_id,
            _one_of(Proposal.state, [*RANKING_STATES, *UNFINISHED_STATES, *AWARDED_STATES]),
        )
        .group_by(Proposal.state)
        .subquery()
    )
    state = per_state.c.state
    in_ranking = _one_of(state, RANKING_STATES)

    def total(condition, column):
        return func.coalesce(func.sum(case((condition, column))), 0)

    proposals = select(
        total(in_ranking, per_state.c.n).label("n"),
        total(in_ranking, per_state.c.ids).label("ids"),
        total(in_ranking, per_state.c.versions).label("versions"),
        func.max(case((in_ranking, per_state.c.updated))).label("updated"),
        total(in_ranking, per_state.c.consensus).label("consensus"),
        total(in_ranking, per_state.c.consensus_versions).label("consensus_versions"),
        total(_one_of(state, AWARDED_STATES), per_state.c.money).label("committed"),
        total(state == S.REVIEWED, per_state.c.n).label("reviewed"),
        total(state == S.RANKED, per_state.c.n).label("ranked"),
        total(_one_of(state, UNFINISHED_STATES), per_state.c.n).label("unfinished"),
        total(_one_of(state, CONSENSUS_STATES), per_state.c.n - per_state.c.consensus).label("missing"),
    ).subquery()
    moves = (
        select(func.count(RankingMove.id).label("n"), func.max(RankingMove.id).label("last"))
        .where(RankingMove.call_id == call_id)
        .subquery()
    )
    reviews = (
        select(
            func.count(Review.id).label("n"),
            func.sum(Review.id).label("ids"),
            func.sum(Review.version_id).label("versions"),
            func.max(Review.updated_at).label("updated"),
        )
        # The assignment carries its proposal's call: read by (call, status), then each review by
        # its assignment. Through the proposal, SQLite's plan depended on the order in which the
        # migrations happened to create the proposal's indexes, and could read every assignment.
        .join(ReviewAssignment, ReviewAssignment.id == Review.assignment_id)
        .where(
            ReviewAssignment.call_id == call_id,
            ReviewAssignment.status == AssignmentStatus.ACCEPTED,
            Review.status == ReviewStatus.SUBMITTED,
        )
        .subquery()
    )
    return select(proposals, moves, reviews).select_from(proposals.join(moves, true()).join(reviews, true()))


def ranking_facts(call: Call, grid: Grid | None = None) -> RankingFacts:
    """One aggregate statement over the call: fingerprints of every input of `ranking_view` and
    of the score chart, and the counts the ranking page shows.

    The ranking's inputs: the set of proposals in the ranking (count, ids), any change to them
    (each update of a proposal bumps its ``version_id`` and ``updated_at``), their consensus
    (count, versions), the money already awarded, the manual moves, the call's grid, envelope and
    target. Reviews and budgets of a proposal in the ranking do not change without its state
    changing (a review is reopened only by taking the proposal back under review). The chart's:
    the call's counted reviews (count, ids, versions, last update).
    """
    grid = grid or call.grid()
    row = db.session.execute(_facts_statement(), {"call_id": call.id}).one()
    ranking_inputs = (
        RANKING_FINGERPRINT_VERSION,
        tuple((c.code, c.threshold) for c in grid.criteria),
        grid.scale_min,
        grid.scale_max,
        grid.overall_threshold,
        grid.tie_break,
        call.budget_envelope_eur,
        call.target_awards,
        tuple(row[:13]),
    )
    return RankingFacts(
        fingerprint=hashlib.sha256(repr(ranking_inputs).encode()).hexdigest(),
        reviews_fingerprint=hashlib.sha256(repr(tuple(row[13:])).encode()).hexdigest(),
        committed_eur=int(row.committed or 0),
        reviewed=row.reviewed,
        ranked=row.ranked,
        unfinished=row.unfinished,
        missing_consensus=row.missing,
        moves=row[11] or 0,
    )


class RankingLine(NamedTuple):
    """One row of the ranking page: a `workflows.ranking.Ranked` and what the page shows of its
    proposal (a named tuple: light to keep, quick to read)."""

    id: int  # the proposal's
    reference: str
    acronym: str
    title: str
    grade: str  # the consensus grade
    state: ProposalState
    position: int  # in the whole call
    rank_list: RankList
    score: Decimal | None  # the consensus score
    annual_eur: int
    running_total_eur: int | None
    tie_break_means: tuple[str, ...]  # as shown, in the order of the tie-break ("—": no score)
    failures: tuple  # the thresholds missed (`workflows.ranking.ThresholdFailure`)

    @property
    def fundable(self) -> bool:
        return self.rank_list is not RankList.NOT_RETAINED


@dataclass(frozen=True)
class KeptRanking:
    """A call's ranking as the page reads it: every line, and the totals of the whole call."""

    lines: tuple[RankingLine, ...]
    main_total_eur: int
    fundable_count: int

    @classmethod
    def of(cls, view: RankingView) -> KeptRanking:
        tie_break = view.call.grid().tie_break
        lines = []
        for row in view.rows:
            proposal = view.proposals[row.candidate.key]
            means = row.candidate.means
            lines.append(
                RankingLine(
                    proposal.id,
                    proposal.reference,
                    proposal.acronym,
                    proposal.title,
                    proposal.consensus_grade,
                    proposal.state,
                    row.position,
                    row.rank_list,
                    row.candidate.score,
                    row.candidate.annual_eur,
                    row.running_total_eur,
                    tuple(_two_places(means.get(code)) for code in tie_break),
                    row.failures,
                )
            )
        return cls(tuple(lines), view.main_total_eur, view.fundable_count)


def _two_places(mean: Fraction | None) -> str:
    return "—" if mean is None else f"{float(mean):.2f}"  # as the page always showed ("%.2f")


def _key(kind: str, call: Call) -> str:
    return f"ranking-{kind}:{call.id}"


def _kept(key: str, fingerprint: str):
    """What was kept under ``key`` if it was computed from the data as it stands (``fingerprint``);
    the application's cache holds one version per call, so a stale one is replaced, never piled up."""
    entry = fragments.get(key)
    return entry[1] if entry is not None and entry[0] == fingerprint else None


def _keep(key: str, fingerprint: str, value):
    fragments.set(key, (fingerprint, value))
    return value


def keep_ranking(view: RankingView) -> KeptRanking:
    """Keep ``view`` for the ranking page under the fingerprint of the data as it stands
    (flushed): the use cases that rank save the page computing it again."""
    fingerprint = ranking_facts(view.call).fingerprint
    return _keep(_key("ranking", view.call), fingerprint, KeptRanking.of(view))


def current_ranking(call: Call, grid: Grid | None = None) -> tuple[KeptRanking, RankingFacts]:
    """The call's ranking as it stands (`ranking_view`, computed again only when what it is
    computed from changed) and the facts the page shows."""
    facts = ranking_facts(call, grid)
    kept = _kept(_key("ranking", call), facts.fingerprint)
    if kept is None:
        kept = _keep(_key("ranking", call), facts.fingerprint, KeptRanking.of(ranking_view(call)))
    return kept, facts


def current_score_counts(call: Call, facts: RankingFacts) -> list[list]:
    """`score_counts`, counted again only when the call's counted reviews changed."""
    kept = _kept(_key("scores", call), facts.reviews_fingerprint)
    if kept is None:
        kept = _keep(_key("scores", call), facts.reviews_fingerprint, score_counts(call))
    return kept


#: Proposals per page of the ranking page.
RANKING_PER_PAGE = PER_PAGE


@dataclass
class RankingPage:
    """One page of a call's ranking, with the totals of the whole call."""

    call: Call
    rows: list[RankingLine]  # this page's rows; positions are the call's
    page: Page  # the pager's view of it (its items are `rows`)
    envelope_eur: int | None
    committed_eur: int
    main_total_eur: int
    fundable_count: int
    facts: RankingFacts
    score_counts: list
    unfinished: list[Proposal] = field(default_factory=list)
    missing_consensus: list[Proposal] = field(default_factory=list)
    moves: list[RankingMove] = field(default_factory=list)

    @property
    def available_eur(self) -> int | None:
        return None if self.envelope_eur is None else max(self.envelope_eur - self.committed_eur, 0)

    @property
    def has_reviewed(self) -> bool:
        return self.facts.reviewed > 0

    @property
    def has_ranked(self) -> bool:
        return self.facts.ranked > 0


def ranking_page(
    call: Call,
    page: int = 1,
    rank_list: str = "",
    q: str = "",
    per_page: int = RANKING_PER_PAGE,
    grid: Grid | None = None,
) -> RankingPage:
    """Page ``page`` of the call's ranking, optionally only one list (``rank_list``) or the
    proposals whose reference, acronym or title contain ``q``; the totals are the whole call's."""
    grid = grid or call.grid()
    kept, facts = current_ranking(call, grid)
    lines: Sequence[RankingLine] = kept.lines
    if rank_list in {str(x) for x in RankList}:
        lines = [line for line in lines if line.rank_list == rank_list]
    if q:
        needle = q.casefold()
        lines = [
            line
            for line in lines
            if needle in line.reference.casefold()
            or needle in line.title.casefold()
            or needle in line.acronym.casefold()
        ]
    page = max(page, 1)
    start = (page - 1) * per_page
    rows = list(lines[start : start + per_page])
    return RankingPage(
        call=call,
        rows=rows,
        page=Page(rows, len(lines), page, per_page),
        envelope_eur=call.budget_envelope_eur,
        committed_eur=facts.committed_eur,
        main_total_eur=kept.main_total_eur,
        fundable_count=kept.fundable_count,
        facts=facts,
        score_counts=current_score_counts(call, facts),
        unfinished=_unfinished(call) if facts.unfinished else [],
        missing_consensus=_missing_consensus(call) if facts.missing_consensus else [],
        moves=_moves(call) if facts.moves else [],
    )


def _unfinished(call: Call) -> list[Proposal]:
    return list(
        db.session.scalars(
            select(Proposal)
            .where(Proposal.call_id == call.id, Proposal.state.in_(list(UNFINISHED_STATES)))
            .options(load_only(Proposal.reference, Proposal.state), *WITHOUT_CALL_AND_COORDINATOR)
            .order_by(Proposal.reference)
        )
    )


def _missing_consensus(call: Call) -> list[Proposal]:
    return list(
        db.session.scalars(
            select(Proposal)
            .outerjoin(Consensus, Consensus.proposal_id == Proposal.id)
            .where(
                Proposal.call_id == call.id,
                Proposal.state.in_(list(CONSENSUS_STATES)),
                Consensus.id.is_(None),
            )
            .options(load_only(Proposal.reference, Proposal.state), *WITHOUT_CALL_AND_COORDINATOR)
            .order_by(Proposal.reference)
        )
    )


def _moves(call: Call) -> list[RankingMove]:
    return list(
        db.session.scalars(
            select(RankingMove)
            .where(RankingMove.call_id == call.id)
            .options(
                joinedload(RankingMove.proposal).options(
                    load_only(Proposal.reference), *WITHOUT_CALL_AND_COORDINATOR
                ),
                joinedload(RankingMove.moved_by).lazyload(User.role_grants),
            )
            .order_by(RankingMove.id)
        )
    )


def page_of_position(position: int, per_page: int = RANKING_PER_PAGE) -> int:
    """The page of the ranking page that shows ``position``."""
    return max(position - 1, 0) // per_page + 1


def rank_call(call: Call, actor: User) -> int:
    """reviewed -> ranked for every reviewed proposal of the call; returns how many."""
    view = ranking_view(call)
    if view.unfinished:
        raise AssessmentRefused(
            _l(
                "Some proposals are still being screened or reviewed: %(refs)s.",
                refs=", ".join(p.reference for p in view.unfinished),
            )
        )
    if view.missing_consensus:
        raise AssessmentRefused(
            _l(
                "Record the consensus of every reviewed proposal first: %(refs)s.",
                refs=", ".join(p.reference for p in view.missing_consensus),
            )
        )
    reviewed = [p for p in view.proposals.values() if p.state == S.REVIEWED]
    if not reviewed:
        raise AssessmentRefused(_l("There is no reviewed proposal to rank."))
    for proposal in reviewed:
        apply_transition(
            proposal, MOVES, ProposalAction.RANK, role=Role.MANAGER, facts=ProposalFacts(), actor=actor
        )
    view = refresh_ranking(call)
    record(
        actor,
        "ranking.computed",
        call,
        after={
            "ranked": len(reviewed),
            "order": [view.proposals[r.candidate.key].reference for r in view.rows],
        },
    )
    return len(reviewed)


def move_in_ranking(call: Call, proposal: Proposal, position: int, justification: str, actor: User) -> int:
    """A manager moves a fundable ranked proposal, with a written justification (audited);
    returns its new position."""
    if proposal.call_id != call.id or proposal.state != S.RANKED:
        raise AssessmentRefused(_l("Only a ranked proposal, before the ranking is proposed, can be moved."))
    justification = (justification or "").strip()
    if len(justification) < MIN_JUSTIFICATION_CHARS:
        raise AssessmentRefused(
            _l("Justify the move in at least %(n)d characters.", n=MIN_JUSTIFICATION_CHARS)
        )
    view = ranking_view(call)
    row = next((r for r in view.rows if r.candidate.key == proposal.id), None)
    if row is None or not row.fundable:
        raise AssessmentRefused(
            _l("This proposal misses a threshold: it cannot be funded, whatever its position.")
        )
    target = min(max(int(position), 1), view.fundable_count)
    if target == row.position:
        raise AssessmentRefused(_l("The proposal is already at position %(n)d.", n=target))
    move = RankingMove(
        call_id=call.id,
        proposal_id=proposal.id,
        from_position=row.position,
        to_position=target,
        justification=justification,
        moved_by_id=actor.id,
    )
    db.session.add(move)
    db.session.flush()
    after = refresh_ranking(call)
    new_row = next(r for r in after.rows if r.candidate.key == proposal.id)
    record(
        actor,
        "ranking.moved",
        proposal,
        before={"position": row.position, "list": str(row.rank_list)},
        after={"position": new_row.position, "list": str(new_row.rank_list), "justification": justification},
    )
    return new_row.position


def propose_ranking(call: Call, actor: User) -> dict[str, int]:
    """Propose the ranking to the Directorate-General: every ranked proposal moves to proposed,
    waitlisted or not retained, with its anonymised assessment summary."""
    view = ranking_view(call)
    if view.unfinished or any(p.state == S.REVIEWED for p in view.proposals.values()):
        raise AssessmentRefused(_l("Rank every reviewed proposal of the call first."))
    ranked = [r for r in view.rows if view.proposals[r.candidate.key].state == S.RANKED]
    if not ranked:
        raise AssessmentRefused(_l("There is no ranked proposal to propose."))
    view = refresh_ranking(call)
    grid = call.grid()
    counts = {str(k): 0 for k in RankList}
    for row in view.rows:
        proposal = view.proposals[row.candidate.key]
        if proposal.state != S.RANKED:
            continue
        proposal.assessment_summary = assessment_summary(proposal, grid)
        apply_transition(
            proposal,
            MOVES,
            LIST_ACTIONS[row.rank_list],
            role=Role.MANAGER,
            facts=ProposalFacts(),
            actor=actor,
            details={"position": row.position, "list": str(row.rank_list)},
        )
        counts[str(row.rank_list)] += 1
    db.session.flush()
    keep_ranking(view)  # the same order; the proposals' states changed
    record(actor, "ranking.proposed", call, after=counts)
    return counts


# --- the anonymised summary ---------------------------------------------------------------------


def _fold_char(ch: str) -> str:
    """One character without accent, lower case, still one character (so spans line up)."""
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    return (base.casefold() or ch)[:1] or ch


def _fold(text: str) -> str:
    return "".join(_fold_char(c) for c in text)


def reviewer_identities(proposal: Proposal) -> list[str]:
    """Every way a reviewer of this proposal (ever assigned) could be named in a comment."""
    users = db.session.scalars(
        select(User)
        .join(ReviewAssignment, ReviewAssignment.reviewer_id == User.id)
        .where(ReviewAssignment.proposal_id == proposal.id)
    ).unique()
    forms: set[str] = set()
    for user in users:
        forms.add(user.email)
        forms.add(user.email.split("@")[0])
        first, last = user.first_name.strip(), user.last_name.strip()
        if first and last:
            forms.update(
                {
                    f"{first} {last}",
                    f"{last} {first}",
                    f"{last}, {first}",
                    f"{first[0]}. {last}",
                    f"{last} {first[0]}.",
                }
            )
        if len(last) >= 3:  # a surname alone, as a whole word
            forms.add(last)
    return sorted((f for f in forms if len(f) >= 3), key=len, reverse=True)


def scrub(text: str, identities: Iterable[str]) -> str:
    """``text`` with every reviewer identity replaced by "[…]": whole words, any case, with or
    without accents."""
    result = text or ""
    for identity in identities:
        pattern = re.compile(r"(?<!\w)" + re.escape(_fold(identity)) + r"(?!\w)")
        spans = [m.span() for m in pattern.finditer(_fold(result))]
        for start, end in reversed(spans):
            result = result[:start] + "[…]" + result[end:]
    return result


def assessment_summary(proposal: Proposal, grid: Grid | None = None) -> dict:
    """The summary applicants may see (decision letters print it): per-criterion mean scores
    with labels and weights, the comments written for the applicants and the consensus comment.
    Never a reviewer's name, e-mail or id: comments are scrubbed of every reviewer identity,
    listed in a fixed order that says nothing of who wrote what."""
    grid = grid or proposal.call.grid()
    stats = scores_of(proposal, grid)
    consensus = consensus_of(proposal)
    identities = reviewer_identities(proposal)
    comments = sorted(
        scrub(r.comment_for_applicants, identities)
        for r in counted_reviews(proposal)
        if (r.comment_for_applicants or "").strip()
    )
    score = consensus.score if consensus is not None else stats.weighted_score
    return {
        "weighted_score": None if score is None else float(to_decimal(score, 3)),
        "grade": consensus.grade if consensus is not None else grade(grid, score),
        "criteria": [
            {
                "code": c.code,
                "label_fr": c.label_fr,
                "label_en": c.label_en,
                "weight": c.weight,
                "score": None
                if stats.means.get(c.code) is None
                else float(to_decimal(stats.means[c.code], 2)),
            }
            for c in grid.criteria
        ],
        "comments_for_applicants": comments,
        "consensus_comment": scrub(consensus.comment if consensus is not None else "", identities),
    }


# --- exports -----------------------------------------------------------------------------------

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A CSV cell that a spreadsheet never runs: text starting with = + - @ tab or CR gets a
    leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def to_csv(headers: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([csv_cell(h) for h in headers])
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # the BOM tells Excel it is UTF-8


def to_xlsx(headers: Sequence[str], rows: Iterable[Sequence], title: str) -> bytes:
    """An XLSX workbook in which every text cell is stored as text, never as a formula."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    for r, row in enumerate([list(headers), *[list(x) for x in rows]], start=1):
        for c, value in enumerate(row, start=1):
            if isinstance(value, Decimal):
                value = float(value)
            elif isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters XLSX cannot hold
            cell = sheet.cell(row=r, column=c, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # openpyxl would take "=..." for a formula
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def ranking_table(view: RankingView, locale: str) -> tuple[list[str], list[list]]:
    headers = [
        _("Position"),
        _("Reference"),
        _("Acronym"),
        _("Title"),
        _("Coordinator"),
        _("Consensus score"),
        _("Grade"),
        _("Annual amount (EUR)"),
        _("Running total (EUR)"),
        _("List"),
        _("Thresholds missed"),
        _("State"),
    ]
    labels = list_labels()
    rows = []
    for row in view.rows:
        proposal = view.proposals[row.candidate.key]
        score = row.candidate.score
        rows.append(
            [
                row.position,
                proposal.reference,
                proposal.acronym,
                proposal.title,
                proposal.coordinator.full_name if proposal.coordinator else "",
                None if score is None else float(to_decimal(score, 3)),
                proposal.consensus_grade,
                row.candidate.annual_eur,
                row.running_total_eur,
                labels[row.rank_list],
                "; ".join(f.message for f in row.failures),
                str(proposal.state),
            ]
        )
    return headers, rows


def scores_table(call: Call) -> tuple[list[str], list[list]]:
    """Every counted review of the call: one row per review, one column per criterion."""
    grid = call.grid()
    headers = [
        _("Reference"),
        _("Acronym"),
        _("Reviewer"),
        _("External"),
        *[c.code for c in grid.criteria],
        _("Weighted total"),
        _("Ethics flag"),
        _("Submitted (UTC)"),
    ]
    reviews = db.session.scalars(
        counted_reviews_query()
        .join(Proposal, Proposal.id == Review.proposal_id)
        .where(Proposal.call_id == call.id)
        .order_by(Proposal.reference, Review.id)
    ).all()
    profiles = {
        p.user_id: p
        for p in db.session.scalars(
            select(ReviewerProfile).where(
                ReviewerProfile.user_id.in_(sorted({r.reviewer_id for r in reviews}))
            )
        )
    }
    rows = []
    for review in reviews:
        scores = review.score_map()
        total = weighted_total(grid, scores)
        profile = profiles.get(review.reviewer_id)
        proposal = review.assignment.proposal
        rows.append(
            [
                proposal.reference,
                proposal.acronym,
                review.reviewer.full_name,
                _("yes") if profile is not None and profile.is_external else _("no"),
                *[scores.get(c.code) for c in grid.criteria],
                None if total is None else float(to_decimal(total, 3)),
                _("yes") if review.ethics_flag else _("no"),
                review.submitted_at.strftime("%Y-%m-%d %H:%M") if review.submitted_at else "",
            ]
        )
    return headers, rows


def list_labels() -> dict[RankList, str]:
    return {
        RankList.MAIN: _("Main list"),
        RankList.WAITING: _("Waiting list"),
        RankList.NOT_RETAINED: _("Not retained"),
    }


# --- charts ------------------------------------------------------------------------------------


@cache
def _score_counts_statement():
    return (
        select(ReviewScore.criterion_code, ReviewScore.score, func.count(ReviewScore.id))
        .join(Review, Review.id == ReviewScore.review_id)
        .join(ReviewAssignment, ReviewAssignment.id == Review.assignment_id)
        .join(Proposal, Proposal.id == Review.proposal_id)
        .where(
            Proposal.call_id == bindparam("call_id"),
            Review.status == ReviewStatus.SUBMITTED,
            ReviewAssignment.status == AssignmentStatus.ACCEPTED,
            ReviewScore.score.is_not(None),
        )
        .group_by(ReviewScore.criterion_code, ReviewScore.score)
    )


def score_counts(call: Call) -> list[list]:
    """[criterion code, score, how many counted reviews gave it] over the call."""
    return [
        [code, int(score), n]
        for code, score, n in db.session.execute(_score_counts_statement(), {"call_id": call.id})
    ]


def score_distribution(
    call: Call, grid: Grid | None = None, counts: Iterable[Sequence] | None = None
) -> list[dict]:
    """Per criterion, how many counted reviews gave each score of the scale (``counts``: the
    `score_counts` of the call, if known)."""
    grid = grid or call.grid()
    by_code: dict[str, dict[int, int]] = {}
    for code, score, n in score_counts(call) if counts is None else counts:
        by_code.setdefault(code, {})[int(score)] = n
    scale = list(range(grid.scale_min, grid.scale_max + 1))
    return [
        {
            "code": c.code,
            "label_fr": c.label_fr,
            "label_en": c.label_en,
            "counts": [(s, by_code.get(c.code, {}).get(s, 0)) for s in scale],
        }
        for c in grid.criteria
    ]


@cache
def _per_country_statement():
    counts = (
        select(Team.country_code.label("code"), func.count(func.distinct(Team.proposal_id)).label("n"))
        .join(Proposal, Proposal.id == Team.proposal_id)
        .where(
            Proposal.call_id == bindparam("call_id"),
            Proposal.submitted_at.is_not(None),
            Team.country_code != "FR",
            Proposal.state != S.WITHDRAWN,
        )
        .group_by(Team.country_code)
        .subquery()
    )
    # The names of the dozen countries counted, not of every team.
    return select(counts.c.code, counts.c.n, Country.name_fr, Country.name_en).outerjoin(
        Country, Country.code == counts.c.code
    )


def partner_countries(call: Call) -> list[tuple[str, int, str | None, str | None]]:
    """How many submitted proposals of the call involve each partner country (a proposal with
    teams in two countries counts once in each), most first: (code, count, French name,
    English name)."""
    rows = db.session.execute(_per_country_statement(), {"call_id": call.id}).all()
    return sorted((tuple(row) for row in rows), key=lambda x: (-x[1], x[0]))
