"""When a programme manager may decide a letter of intent (workflows.submission.loi_outcome_problems)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workflows.proposal_states import ProposalState
from workflows.submission import loi_outcome_problems

LOI_DEADLINE = datetime(2027, 3, 1, 16, 0, tzinfo=UTC)
CLOSES = datetime(2027, 6, 1, 16, 0, tzinfo=UTC)
GRACE = timedelta(minutes=15)


def codes(now, *, shortlist=True, state=ProposalState.LOI_SUBMITTED, stage="loi", reason=""):
    return [
        p.code
        for p in loi_outcome_problems(
            now, shortlist=shortlist, state=state, stage=stage, loi_deadline_at=LOI_DEADLINE,
            closes_at=CLOSES, grace=GRACE, reason=reason,
        )
    ]


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (timedelta(days=-1), ["loi_stage_open"]),
        (GRACE, ["loi_stage_open"]),  # the last instant of grace still belongs to the applicants
        (GRACE + timedelta(seconds=1), []),
        (CLOSES - LOI_DEADLINE, []),  # invited at the very deadline: still on time
        (CLOSES - LOI_DEADLINE + timedelta(seconds=1), ["full_deadline_passed"]),
    ],
)
def test_shortlisting_waits_for_the_letters_deadline_and_not_past_the_full_one(offset, expected):
    assert codes(LOI_DEADLINE + offset) == expected


def test_turning_down_needs_a_reason_but_not_a_future_deadline():
    late = CLOSES + timedelta(days=1)
    assert codes(late, shortlist=False, reason="Too short") == ["loi_reason_short"]
    assert codes(late, shortlist=False, reason="  ten chars!  ") == []


@pytest.mark.parametrize(
    ("state", "stage"),
    [
        (ProposalState.DRAFT, "loi"),
        (ProposalState.LOI_SHORTLISTED, "loi"),
        (ProposalState.LOI_REJECTED, "loi"),
        (ProposalState.SUBMITTED, "full"),
        (ProposalState.LOI_SUBMITTED, "full"),
    ],
)
def test_only_a_pending_letter_is_decided(state, stage):
    assert codes(LOI_DEADLINE + timedelta(days=1), state=state, stage=stage) == ["loi_not_pending"]


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        loi_outcome_problems(
            datetime(2027, 3, 2),  # noqa: DTZ001 - naive on purpose
            shortlist=True, state="loi_submitted", stage="loi",
            loi_deadline_at=LOI_DEADLINE, closes_at=CLOSES,
        )
