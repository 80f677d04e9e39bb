"""Property-based checks: the rules hold for every input, not only the hand-picked ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from workflows.errors import NonexistentLocalTime, TransitionRefused  # noqa: E402
from workflows.money import BudgetLine, BudgetRules, check_budget, totals  # noqa: E402
from workflows.proposal_states import (  # noqa: E402
    MOVES,
    ProposalAction,
    ProposalFacts,
    ProposalState,
    available_actions,
    can_move,
    next_state,
)
from workflows.roles import Role  # noqa: E402
from workflows.timeutils import deadline_passed, paris_to_utc, to_paris  # noqa: E402

naive = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2060, 12, 31))  # noqa: DTZ001


@given(naive)
def test_paris_round_trip(wall_clock):
    try:
        moment = paris_to_utc(wall_clock)
    except NonexistentLocalTime:
        # Only the spring-forward hour, in March, at 02:xx, is missing.
        assert (wall_clock.month, wall_clock.hour) == (3, 2)
        return
    assert moment.tzinfo is UTC
    assert to_paris(moment).replace(tzinfo=None) == wall_clock


@given(
    st.datetimes(
        min_value=datetime(2020, 1, 1),  # noqa: DTZ001
        max_value=datetime(2040, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    st.integers(min_value=-10_000, max_value=10_000),
    st.integers(min_value=0, max_value=3_600),
)
def test_late_exactly_when_past_deadline_plus_grace(deadline, offset, grace):
    received = deadline + timedelta(seconds=offset)
    assert deadline_passed(received, deadline, timedelta(seconds=grace)) is (offset > grace)
    # The answer does not depend on the clock the instants are written in.
    assert deadline_passed(to_paris(received), to_paris(deadline), timedelta(seconds=grace)) is (
        offset > grace
    )


lines = st.lists(
    st.builds(
        BudgetLine,
        year=st.integers(-1, 6),
        category=st.sampled_from(["mobility", "meetings", "other", "salaries", "x"]),
        amount_eur=st.integers(-1_000, 20_000),
        partner_cash_eur=st.integers(-10, 5_000),
        partner_in_kind_eur=st.integers(-10, 5_000),
    ),
    max_size=12,
)


@given(lines)
def test_totals_are_consistent(budget):
    result = totals(budget)
    assert result.total_eur == sum(line.amount_eur for line in budget)
    assert sum(result.by_year.values()) == result.total_eur
    assert sum(result.by_category.values()) == result.total_eur
    assert sum(sum(c.values()) for c in result.by_year_category.values()) == result.total_eur
    assert result.partner_total_eur == sum(
        line.partner_cash_eur + line.partner_in_kind_eur for line in budget
    )


@given(lines)
def test_check_budget_never_crashes_and_accepts_only_clean_budgets(budget):
    problems = check_budget(budget, BudgetRules(15_000, 4))
    assert all(isinstance(p, str) and p for p in problems)
    if not problems:
        assert budget
        assert all(1 <= line.year <= 4 and line.amount_eur >= 0 for line in budget)
        assert all(v <= 15_000 for v in totals(budget).by_year.values())


DEADLINES = [None, datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)]
FACTS = st.builds(
    ProposalFacts,
    now=st.just(datetime(2026, 6, 10, tzinfo=UTC)),
    deadline=st.sampled_from(DEADLINES),
    two_stage=st.booleans(),
    stage=st.sampled_from(["loi", "full"]),
    missing=st.sampled_from([(), ("CV",)]),
    reviewers_assigned=st.integers(0, 3),
    conflicts_pending=st.integers(0, 1),
    reviews_missing=st.integers(0, 1),
    reason=st.sampled_from([None, "", "because"]),
)  # fmt: skip


@given(st.lists(st.tuples(st.sampled_from(ProposalAction), st.sampled_from(Role), FACTS)))
def test_random_walks_stay_inside_the_table(steps):
    state = ProposalState.DRAFT
    for action, role, facts in steps:
        offered = available_actions(state, role, facts)
        allowed = can_move(state, action, role, facts)
        assert allowed is (action in offered)
        try:
            new = next_state(state, action, role, facts)
        except TransitionRefused:
            assert not allowed
            continue
        assert allowed
        assert MOVES[(action, state)].to == new and role in MOVES[(action, state)].roles
        state = new
