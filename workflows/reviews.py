"""Review assignments and reviews: their states and moves (DOMAIN.md section 5).

An **assignment** puts one reviewer on one proposal with a due date:

    proposed (the manager's preview, not sent) -> invited (e-mailed) -> accepted | declined
    proposed | invited | accepted -> removed   (by a manager; or by the reviewer's own
                                                declaration of a conflict of interest)
    removed | declined -> proposed             (a manager puts the reviewer back on)

A **review** belongs to an accepted assignment whose reviewer declared no conflict:

    draft -> submitted (locked) -> draft (reopened by a manager only)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from workflows import transitions
from workflows.roles import Role
from workflows.transitions import Move, move


class AssignmentStatus(StrEnum):
    PROPOSED = "proposed"
    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    REMOVED = "removed"


class AssignmentAction(StrEnum):
    SEND = "send"
    ACCEPT = "accept"
    DECLINE = "decline"
    REMOVE = "remove"
    DECLARE_CONFLICT = "declare_conflict"
    REINSTATE = "reinstate"


#: Assignments that count: towards a proposal's reviewers and a reviewer's load.
ACTIVE_STATUSES: frozenset[AssignmentStatus] = frozenset(
    {AssignmentStatus.PROPOSED, AssignmentStatus.INVITED, AssignmentStatus.ACCEPTED}
)
#: Assignments a reviewer sees (a preview is the manager's business until it is sent).
REVIEWER_VISIBLE_STATUSES: frozenset[AssignmentStatus] = frozenset(
    {AssignmentStatus.INVITED, AssignmentStatus.ACCEPTED}
)


class ReviewStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class ReviewAction(StrEnum):
    SUBMIT = "submit"
    REOPEN = "reopen"


@dataclass(frozen=True)
class ReviewFacts:
    """What the review guards need: the problems of the form, the reopening reason."""

    problems: tuple[str, ...] = ()
    reason: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "problems", tuple(self.problems))


def _no_problems(facts: ReviewFacts) -> str | None:
    if facts.problems:
        return "the review is incomplete: " + "; ".join(facts.problems)
    return None


def _reason_given(facts: ReviewFacts) -> str | None:
    if not (facts.reason or "").strip():
        return "a reason is required"
    return None


S, A = AssignmentStatus, AssignmentAction
MANAGER, REVIEWER = {Role.MANAGER}, {Role.REVIEWER}

ASSIGNMENT_MOVES: dict[tuple[AssignmentAction, AssignmentStatus], Move[AssignmentStatus]] = {
    (A.SEND, S.PROPOSED): move(S.INVITED, MANAGER),
    (A.ACCEPT, S.INVITED): move(S.ACCEPTED, REVIEWER),
    (A.DECLINE, S.INVITED): move(S.DECLINED, REVIEWER),
    **{(A.REMOVE, s): move(S.REMOVED, MANAGER) for s in (S.PROPOSED, S.INVITED, S.ACCEPTED)},
    **{(A.DECLARE_CONFLICT, s): move(S.REMOVED, REVIEWER) for s in (S.INVITED, S.ACCEPTED)},
    **{(A.REINSTATE, s): move(S.PROPOSED, MANAGER) for s in (S.REMOVED, S.DECLINED)},
}

REVIEW_MOVES: dict[tuple[ReviewAction, ReviewStatus], Move[ReviewStatus]] = {
    (ReviewAction.SUBMIT, ReviewStatus.DRAFT): move(ReviewStatus.SUBMITTED, REVIEWER, _no_problems),
    (ReviewAction.REOPEN, ReviewStatus.SUBMITTED): move(ReviewStatus.DRAFT, MANAGER, _reason_given),
}


def next_assignment_status(
    status: AssignmentStatus | str, action: AssignmentAction | str, role: Role | str
) -> AssignmentStatus:
    """The status after ``role`` takes ``action``; raises `TransitionRefused`."""
    return transitions.apply(ASSIGNMENT_MOVES, status, action, role, None, subject="review assignment")


def next_review_status(
    status: ReviewStatus | str, action: ReviewAction | str, role: Role | str, facts: ReviewFacts
) -> ReviewStatus:
    """The status after ``role`` takes ``action``; raises `TransitionRefused`."""
    return transitions.apply(REVIEW_MOVES, status, action, role, facts, subject="review")
