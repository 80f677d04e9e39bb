"""Review assignments and reviews: who may move them, from where to where."""

from __future__ import annotations

import pytest

from workflows.errors import TransitionRefused
from workflows.reviews import (
    ACTIVE_STATUSES,
    REVIEWER_VISIBLE_STATUSES,
    AssignmentAction,
    AssignmentStatus,
    ReviewAction,
    ReviewFacts,
    ReviewStatus,
    next_assignment_status,
    next_review_status,
)
from workflows.roles import Role

S, A = AssignmentStatus, AssignmentAction


@pytest.mark.parametrize(
    "status, action, role, expected",
    [
        (S.PROPOSED, A.SEND, Role.MANAGER, S.INVITED),
        (S.PROPOSED, A.SEND, Role.REVIEWER, TransitionRefused),
        (S.INVITED, A.ACCEPT, Role.REVIEWER, S.ACCEPTED),
        (S.INVITED, A.ACCEPT, Role.MANAGER, TransitionRefused),  # nobody accepts for a reviewer
        (S.INVITED, A.DECLINE, Role.REVIEWER, S.DECLINED),
        (S.ACCEPTED, A.DECLINE, Role.REVIEWER, TransitionRefused),
        (S.PROPOSED, A.ACCEPT, Role.REVIEWER, TransitionRefused),  # a preview is not an invitation
        (S.INVITED, A.DECLARE_CONFLICT, Role.REVIEWER, S.REMOVED),
        (S.ACCEPTED, A.DECLARE_CONFLICT, Role.REVIEWER, S.REMOVED),
        (S.ACCEPTED, A.REMOVE, Role.MANAGER, S.REMOVED),
        (S.ACCEPTED, A.REMOVE, Role.REVIEWER, TransitionRefused),
        (S.REMOVED, A.REINSTATE, Role.MANAGER, S.PROPOSED),
        (S.DECLINED, A.REINSTATE, Role.MANAGER, S.PROPOSED),
        (S.REMOVED, A.ACCEPT, Role.REVIEWER, TransitionRefused),
        (S.INVITED, A.SEND, Role.MANAGER, TransitionRefused),
    ],
)
def test_assignment_moves(status, action, role, expected):
    if expected is TransitionRefused:
        with pytest.raises(TransitionRefused):
            next_assignment_status(status, action, role)
    else:
        assert next_assignment_status(status, action, role) == expected


def test_visible_and_active_statuses():
    assert S.PROPOSED in ACTIVE_STATUSES and S.PROPOSED not in REVIEWER_VISIBLE_STATUSES
    assert S.REMOVED not in ACTIVE_STATUSES | REVIEWER_VISIBLE_STATUSES
    assert S.DECLINED not in ACTIVE_STATUSES | REVIEWER_VISIBLE_STATUSES


@pytest.mark.parametrize(
    "status, action, role, facts, expected",
    [
        (ReviewStatus.DRAFT, ReviewAction.SUBMIT, Role.REVIEWER, ReviewFacts(), ReviewStatus.SUBMITTED),
        (
            ReviewStatus.DRAFT,
            ReviewAction.SUBMIT,
            Role.REVIEWER,
            ReviewFacts(problems=["C1 has no score"]),
            TransitionRefused,
        ),
        (ReviewStatus.SUBMITTED, ReviewAction.SUBMIT, Role.REVIEWER, ReviewFacts(), TransitionRefused),
        (
            ReviewStatus.SUBMITTED,
            ReviewAction.REOPEN,
            Role.MANAGER,
            ReviewFacts(reason="C3"),
            ReviewStatus.DRAFT,
        ),
        (
            ReviewStatus.SUBMITTED,
            ReviewAction.REOPEN,
            Role.MANAGER,
            ReviewFacts(reason=" "),
            TransitionRefused,
        ),
        (
            ReviewStatus.SUBMITTED,
            ReviewAction.REOPEN,
            Role.REVIEWER,
            ReviewFacts(reason="x"),
            TransitionRefused,
        ),
    ],
)
def test_review_moves(status, action, role, facts, expected):
    if expected is TransitionRefused:
        with pytest.raises(TransitionRefused):
            next_review_status(status, action, role, facts)
    else:
        assert next_review_status(status, action, role, facts) == expected
