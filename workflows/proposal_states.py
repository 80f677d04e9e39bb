"""The proposal state machine (DOMAIN.md sections 5 and 6).

One table, `MOVES`, says which action leads from which state to which, who may take it and under
what condition; `next_state` applies it and refuses loudly. The admin role holds no proposal
moves on purpose: admins manage accounts and settings, and letting them push a proposal would
bypass the separation between applicant, manager and Directorate-General that the assessment
relies on. A person who must act holds (or is given) the role that owns the move, which the
audit trail then records under that role.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from workflows import transitions
from workflows.roles import Role
from workflows.timeutils import NO_GRACE, deadline_passed, ensure_aware, utcnow
from workflows.transitions import Move, all_of, move


class ProposalState(StrEnum):
    """Where a proposal stands; stored as its string value."""

    DRAFT = "draft"
    LOI_SUBMITTED = "loi_submitted"
    LOI_SHORTLISTED = "loi_shortlisted"
    LOI_REJECTED = "loi_rejected"
    SUBMITTED = "submitted"
    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"
    UNDER_REVIEW = "under_review"
    REVIEWED = "reviewed"
    RANKED = "ranked"
    PROPOSED = "proposed"
    WAITLISTED = "waitlisted"
    NOT_RETAINED = "not_retained"
    AWARDED = "awarded"
    REJECTED = "rejected"
    AGREEMENT_PENDING = "agreement_pending"
    WITHDRAWN = "withdrawn"


class ProposalAction(StrEnum):
    """Something a role does to a proposal; each is a row (or rows) of `MOVES`."""

    SUBMIT_LOI = "submit_loi"
    SHORTLIST_LOI = "shortlist_loi"
    REJECT_LOI = "reject_loi"
    START_FULL_PROPOSAL = "start_full_proposal"
    SUBMIT = "submit"
    REOPEN = "reopen"
    MARK_ELIGIBLE = "mark_eligible"
    MARK_INELIGIBLE = "mark_ineligible"
    START_REVIEW = "start_review"
    COMPLETE_REVIEW = "complete_review"
    REOPEN_REVIEW = "reopen_review"
    RANK = "rank"
    PROPOSE = "propose"
    WAITLIST = "waitlist"
    NOT_RETAIN = "not_retain"
    SEND_BACK = "send_back"
    AWARD = "award"
    REJECT = "reject"
    ISSUE_AGREEMENT = "issue_agreement"
    WITHDRAW = "withdraw"


STAGE_LOI = "loi"
STAGE_FULL = "full"


@dataclass(frozen=True)
class ProposalFacts:
    """What the guards need to know, gathered by the web layer (the rules never see a request).

    - ``now``: when the request was received (taken at its start); submissions are judged on it.
    - ``deadline``: closing time of the stage the proposal is in (``None``: rolling call).
    - ``grace``: elapsed time accepted after the deadline.
    - ``two_stage`` / ``stage``: whether the call has a letter-of-intent stage, and which stage
      this proposal's draft belongs to (``"loi"`` or ``"full"``).
    - ``missing``: completeness problems (empty means complete).
    - ``eligibility_problems``: automatic eligibility problems (team shape, countries, budget).
    - ``reviewers_assigned`` / ``reviewers_required`` / ``conflicts_pending`` /
      ``reviews_missing``: review progress, derived from the reviews.
    - ``reason``: the justification typed by the person acting, where a move needs one.
    - ``decision_released``: the Directorate-General's decision has been released to the
      applicants (until then it is pending, and the proposal looks undecided to them).
    """

    now: datetime = field(default_factory=utcnow)
    deadline: datetime | None = None
    grace: timedelta = NO_GRACE
    two_stage: bool = False
    stage: str = STAGE_FULL
    missing: tuple[str, ...] = ()
    eligibility_problems: tuple[str, ...] = ()
    reviewers_assigned: int = 0
    reviewers_required: int = 2  # [default] two reviewers per proposal
    conflicts_pending: int = 0
    reviews_missing: int = 0
    reason: str | None = None
    decision_released: bool = False

    def __post_init__(self) -> None:
        ensure_aware(self.now, "now")
        if self.deadline is not None:
            ensure_aware(self.deadline, "deadline")
        if self.stage not in (STAGE_LOI, STAGE_FULL):
            raise ValueError(f"stage must be {STAGE_LOI!r} or {STAGE_FULL!r}, not {self.stage!r}.")
        if self.grace < NO_GRACE:
            raise ValueError("grace cannot be negative.")
        # Lists from the web layer are accepted and frozen, so facts stay hashable.
        object.__setattr__(self, "missing", tuple(self.missing))
        object.__setattr__(self, "eligibility_problems", tuple(self.eligibility_problems))


# Guards: each returns a reason to refuse, in plain English, or None.


def _decision_pending(facts: ProposalFacts) -> str | None:
    if facts.decision_released:
        return "the decision has been released"
    return None


def _before_deadline(facts: ProposalFacts) -> str | None:
    if deadline_passed(facts.now, facts.deadline, facts.grace):
        return "the deadline has passed"
    return None


def _loi_stage(facts: ProposalFacts) -> str | None:
    if not facts.two_stage:
        return "this call has no letter-of-intent stage"
    if facts.stage != STAGE_LOI:
        return "the letter-of-intent stage is over for this proposal"
    return None


def _full_stage(facts: ProposalFacts) -> str | None:
    if facts.two_stage and facts.stage != STAGE_FULL:
        return "this call starts with a letter of intent: submit the letter of intent first"
    return None


def _complete(facts: ProposalFacts) -> str | None:
    if facts.missing:
        return "the proposal is incomplete: " + "; ".join(facts.missing)
    return None


def _eligible_shape(facts: ProposalFacts) -> str | None:
    if facts.eligibility_problems:
        return "the proposal does not meet the call's conditions: " + "; ".join(
            facts.eligibility_problems
        )
    return None


def _reason_given(facts: ProposalFacts) -> str | None:
    if not (facts.reason or "").strip():
        return "a reason is required"
    return None


def _reviewers_ready(facts: ProposalFacts) -> str | None:
    required = max(facts.reviewers_required, 1)
    if facts.reviewers_assigned < required:
        return f"{facts.reviewers_assigned} of {required} reviewers assigned"
    if facts.conflicts_pending:
        return f"{facts.conflicts_pending} conflict-of-interest declaration(s) pending"
    return None


def _all_reviews_in(facts: ProposalFacts) -> str | None:
    if facts.reviews_missing:
        return f"{facts.reviews_missing} review(s) still missing"
    return None


S = ProposalState
A = ProposalAction
APPLICANT = {Role.APPLICANT}
MANAGER = {Role.MANAGER}
DIRECTORATE = {Role.DIRECTORATE}

#: States from which the applicant may still withdraw: everything before the DG's decision.
WITHDRAWABLE_STATES: frozenset[ProposalState] = frozenset(
    {
        S.DRAFT,
        S.LOI_SUBMITTED,
        S.LOI_SHORTLISTED,
        S.SUBMITTED,
        S.ELIGIBLE,
        S.UNDER_REVIEW,
        S.REVIEWED,
        S.RANKED,
        S.PROPOSED,
        S.WAITLISTED,
        S.NOT_RETAINED,
    }
)

#: The pre-decision lists a manager proposes to the Directorate-General.
_PROPOSAL_LISTS = (S.PROPOSED, S.WAITLISTED, S.NOT_RETAINED)

MOVES: dict[tuple[ProposalAction, ProposalState], Move[ProposalState]] = {
    # Two-stage calls: a letter of intent first.
    (A.SUBMIT_LOI, S.DRAFT): move(
        S.LOI_SUBMITTED, APPLICANT, all_of(_loi_stage, _before_deadline, _complete)
    ),
    (A.SHORTLIST_LOI, S.LOI_SUBMITTED): move(S.LOI_SHORTLISTED, MANAGER),
    (A.REJECT_LOI, S.LOI_SUBMITTED): move(S.LOI_REJECTED, MANAGER),
    (A.START_FULL_PROPOSAL, S.LOI_SHORTLISTED): move(S.DRAFT, APPLICANT),
    # Submission; the applicant may take a submission back to edit it while the call is open.
    (A.SUBMIT, S.DRAFT): move(
        S.SUBMITTED, APPLICANT, all_of(_full_stage, _before_deadline, _complete, _eligible_shape)
    ),
    (A.REOPEN, S.SUBMITTED): move(S.DRAFT, APPLICANT, _before_deadline),
    # Eligibility check by the programme manager.
    (A.MARK_ELIGIBLE, S.SUBMITTED): move(S.ELIGIBLE, MANAGER),
    (A.MARK_INELIGIBLE, S.SUBMITTED): move(S.INELIGIBLE, MANAGER, _reason_given),
    # Review.
    (A.START_REVIEW, S.ELIGIBLE): move(S.UNDER_REVIEW, MANAGER, _reviewers_ready),
    (A.COMPLETE_REVIEW, S.UNDER_REVIEW): move(
        S.REVIEWED, {Role.SYSTEM, Role.MANAGER}, _all_reviews_in
    ),
    (A.REOPEN_REVIEW, S.REVIEWED): move(S.UNDER_REVIEW, MANAGER),
    # Ranking and the proposed decision.
    (A.RANK, S.REVIEWED): move(S.RANKED, MANAGER),
    (A.PROPOSE, S.RANKED): move(S.PROPOSED, MANAGER),
    (A.WAITLIST, S.RANKED): move(S.WAITLISTED, MANAGER),
    (A.NOT_RETAIN, S.RANKED): move(S.NOT_RETAINED, MANAGER),
    # The Directorate-General's decision, final and binding, or a send-back for re-ranking.
    **{(A.SEND_BACK, s): move(S.RANKED, DIRECTORATE) for s in _PROPOSAL_LISTS},
    **{(A.AWARD, s): move(S.AWARDED, DIRECTORATE) for s in _PROPOSAL_LISTS},
    **{(A.REJECT, s): move(S.REJECTED, DIRECTORATE) for s in _PROPOSAL_LISTS},
    # After an award the proposal hands over to the structure machine (structure_states).
    (A.ISSUE_AGREEMENT, S.AWARDED): move(S.AGREEMENT_PENDING, {Role.MANAGER, Role.SYSTEM}),
    **{
        (A.WITHDRAW, s): move(S.WITHDRAWN, APPLICANT)
        for s in sorted(WITHDRAWABLE_STATES, key=list(ProposalState).index)
    },
    # A decision not yet released is invisible to the applicants, so they may still withdraw as
    # from any proposal under assessment; once released, the decision is final.
    **{(A.WITHDRAW, s): move(S.WITHDRAWN, APPLICANT, _decision_pending) for s in (S.AWARDED, S.REJECTED)},
}

#: States with no way out. ``agreement_pending`` ends the proposal's life: the awarded structure
#: takes over from there. ``rejected`` is not among them: until the decision is released the
#: applicants may still withdraw (then it is final, as the guard of that move says).
TERMINAL_STATES: frozenset[ProposalState] = frozenset(
    {S.LOI_REJECTED, S.INELIGIBLE, S.WITHDRAWN, S.AGREEMENT_PENDING}
)

#: States holding the Directorate-General's decision, hidden until the decision is released.
DECISION_STATES: frozenset[ProposalState] = frozenset({S.AWARDED, S.REJECTED, S.AGREEMENT_PENDING})


class ApplicantStatus(StrEnum):
    """What an applicant may see of their proposal's state: never the internal review steps."""

    DRAFT = "draft"
    LOI_SUBMITTED = "loi_submitted"
    LOI_SHORTLISTED = "loi_shortlisted"
    LOI_REJECTED = "loi_rejected"
    SUBMITTED = "submitted"
    INELIGIBLE = "ineligible"
    UNDER_ASSESSMENT = "under_assessment"
    AWARDED = "awarded"
    REJECTED = "rejected"
    AGREEMENT_PENDING = "agreement_pending"
    WITHDRAWN = "withdrawn"


_UNDER_ASSESSMENT = ApplicantStatus.UNDER_ASSESSMENT

#: Each state as an applicant may see it *before* the decision is released. Reading this table
#: alone can never leak a decision; `applicant_status` reveals it once released.
APPLICANT_VISIBLE_STATUS: dict[ProposalState, str] = {
    S.DRAFT: ApplicantStatus.DRAFT,
    S.LOI_SUBMITTED: ApplicantStatus.LOI_SUBMITTED,
    S.LOI_SHORTLISTED: ApplicantStatus.LOI_SHORTLISTED,
    S.LOI_REJECTED: ApplicantStatus.LOI_REJECTED,
    S.SUBMITTED: ApplicantStatus.SUBMITTED,
    S.ELIGIBLE: _UNDER_ASSESSMENT,
    S.INELIGIBLE: ApplicantStatus.INELIGIBLE,
    S.UNDER_REVIEW: _UNDER_ASSESSMENT,
    S.REVIEWED: _UNDER_ASSESSMENT,
    S.RANKED: _UNDER_ASSESSMENT,
    S.PROPOSED: _UNDER_ASSESSMENT,
    S.WAITLISTED: _UNDER_ASSESSMENT,
    S.NOT_RETAINED: _UNDER_ASSESSMENT,
    S.AWARDED: _UNDER_ASSESSMENT,
    S.REJECTED: _UNDER_ASSESSMENT,
    S.AGREEMENT_PENDING: _UNDER_ASSESSMENT,
    S.WITHDRAWN: ApplicantStatus.WITHDRAWN,
}

_RELEASED_STATUS: dict[ProposalState, ApplicantStatus] = {
    S.AWARDED: ApplicantStatus.AWARDED,
    S.REJECTED: ApplicantStatus.REJECTED,
    S.AGREEMENT_PENDING: ApplicantStatus.AGREEMENT_PENDING,
}


def applicant_status(state: ProposalState | str, decision_released: bool) -> str:
    """The status to show an applicant: the decision only once it has been released to them.

    Ranking, lists and the decision itself stay "under assessment" until release, so an
    applicant never learns an internal step (or a decision the DG has not yet announced).
    """
    state = ProposalState(state)
    if decision_released and state in _RELEASED_STATUS:
        return _RELEASED_STATUS[state]
    return APPLICANT_VISIBLE_STATUS[state]


def next_state(
    state: ProposalState | str,
    action: ProposalAction | str,
    role: Role | str,
    facts: ProposalFacts,
) -> ProposalState:
    """The state after ``role`` takes ``action``; raises `TransitionRefused` with the reason."""
    return transitions.apply(MOVES, state, action, role, facts, subject="proposal")


def available_actions(
    state: ProposalState | str, role: Role | str, facts: ProposalFacts
) -> list[ProposalAction]:
    """The actions ``role`` may take now, so the interface never offers what would be refused."""
    return transitions.available(MOVES, state, role, facts)


def can_move(
    state: ProposalState | str,
    action: ProposalAction | str,
    role: Role | str,
    facts: ProposalFacts,
) -> bool:
    """Whether `next_state` would succeed (for permission predicates and templates)."""
    return transitions.refusal(MOVES, state, action, role, facts) is None


def why_not(
    state: ProposalState | str,
    action: ProposalAction | str,
    role: Role | str,
    facts: ProposalFacts,
) -> str | None:
    """Why the move would be refused (to explain a disabled button), or ``None`` if allowed."""
    return transitions.refusal(MOVES, state, action, role, facts)
