"""Awarded structures and their annual grants, against literal copies of DOMAIN.md section 6."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pytest

from workflows.errors import NaiveDatetimeError, RuleError, TransitionRefused
from workflows.structure_states import (
    GRANT_MOVES,
    MOVES,
    TERMINAL_STATES,
    GrantAction,
    GrantFacts,
    GrantState,
    StructureAction,
    StructureFacts,
    StructureState,
    available_actions,
    available_grant_actions,
    can_move,
    can_move_grant,
    first_grant_year,
    grant_notification_problems,
    next_grant_state,
    next_state,
    renewal_limit,
    report_due_date,
    report_overdue,
)

ALL_ROLES = ["applicant", "reviewer", "manager", "directorate", "admin", "system"]
STRUCTURE_STATES = [
    "agreement_pending", "active", "final_report_due", "ended", "renewal_requested", "renewed",
    "closed", "terminated_early",
]  # fmt: skip
EXPECTED_STRUCTURE_MOVES: list[tuple[str, str, str, set[str]]] = [
    ("sign_all", "agreement_pending", "active", {"manager", "system"}),
    ("request_final_report", "active", "final_report_due", {"manager", "system"}),
    ("end", "final_report_due", "ended", {"manager"}),
    ("request_renewal", "ended", "renewal_requested", {"applicant"}),
    ("renew", "renewal_requested", "renewed", {"directorate"}),
    ("start_new_mandate", "renewed", "active", {"manager", "system"}),
    ("close", "ended", "closed", {"manager", "directorate"}),
    ("close", "renewal_requested", "closed", {"directorate"}),
    ("terminate", "active", "terminated_early", {"directorate"}),
]
EXPECTED_STRUCTURE = {(a, s): (to, roles) for a, s, to, roles in EXPECTED_STRUCTURE_MOVES}

GRANT_STATES = ["notified", "report_due", "report_approved", "released"]
EXPECTED_GRANT_MOVES: list[tuple[str, str, str, set[str]]] = [
    ("request_report", "notified", "report_due", {"manager", "system"}),
    ("approve_report", "report_due", "report_approved", {"manager"}),
    ("release_next", "report_approved", "released", {"manager", "system"}),
]
EXPECTED_GRANT = {(a, s): (to, roles) for a, s, to, roles in EXPECTED_GRANT_MOVES}

NOW = datetime(2031, 3, 1, 10, 0, tzinfo=UTC)
PASSING = StructureFacts(
    now=NOW,
    parties_total=2,
    parties_signed=2,
    mandate_ends_on=date(2031, 2, 28),
    final_report_approved=True,
    instrument="lea_lia",  # type: ignore[arg-type]
    renewals_used=0,
    reason="Partner institution withdrew.",
)
GRANT_PASSING = GrantFacts(
    year=2027, now=datetime(2028, 2, 1, tzinfo=UTC), report_received=True, last_year=2030
)


def test_enums_hold_exactly_the_documented_values():
    assert [s.value for s in StructureState] == STRUCTURE_STATES
    assert {a.value for a in StructureAction} == {a for a, _ in EXPECTED_STRUCTURE}
    assert [s.value for s in GrantState] == GRANT_STATES
    assert {a.value for a in GrantAction} == {a for a, _ in EXPECTED_GRANT}


@pytest.mark.parametrize(
    "table, expected",
    [(MOVES, EXPECTED_STRUCTURE), (GRANT_MOVES, EXPECTED_GRANT)],
    ids=["structure", "grant"],
)
def test_tables_have_exactly_the_expected_rows(table, expected):
    assert {(str(a), str(s)) for a, s in table} == set(expected)
    for key, move in table.items():
        to, roles = expected[(str(key[0]), str(key[1]))]
        assert move.to == to
        assert {str(r) for r in move.roles} == roles


@pytest.mark.parametrize(
    "action, state, role",
    list(itertools.product([a.value for a in StructureAction], STRUCTURE_STATES, ALL_ROLES)),
)
def test_every_structure_action_state_role(action, state, role):
    expected = EXPECTED_STRUCTURE.get((action, state))
    if expected is not None and role in expected[1]:
        assert next_state(state, action, role, PASSING) == expected[0]
        assert can_move(state, action, role, PASSING)
    else:
        with pytest.raises(TransitionRefused) as refused:
            next_state(state, action, role, PASSING)
        assert not can_move(state, action, role, PASSING)
        assert str(refused.value).startswith(f"Cannot '{action}' a structure in state '{state}'")


@pytest.mark.parametrize(
    "action, state, role",
    list(itertools.product([a.value for a in GrantAction], GRANT_STATES, ALL_ROLES)),
)
def test_every_grant_action_state_role(action, state, role):
    expected = EXPECTED_GRANT.get((action, state))
    if expected is not None and role in expected[1]:
        assert next_grant_state(state, action, role, GRANT_PASSING) == expected[0]
        assert can_move_grant(state, action, role, GRANT_PASSING)
    else:
        with pytest.raises(TransitionRefused) as refused:
            next_grant_state(state, action, role, GRANT_PASSING)
        assert not can_move_grant(state, action, role, GRANT_PASSING)
        assert str(refused.value).startswith(f"Cannot '{action}' an annual grant in state")


def test_terminal_states():
    assert {str(s) for s in TERMINAL_STATES} == {"closed", "terminated_early"}
    sources = {state for _, state in EXPECTED_STRUCTURE}
    for state in STRUCTURE_STATES:
        assert (state in sources) == (state not in TERMINAL_STATES), state


# --- structure guards --------------------------------------------------------------------------


def facts(**changes) -> StructureFacts:
    base = {
        "now": NOW, "parties_total": 2, "parties_signed": 2, "mandate_ends_on": date(2031, 2, 28),
        "final_report_approved": True, "instrument": "lea_lia", "renewals_used": 0,
        "reason": "x",
    }  # fmt: skip
    return StructureFacts(**{**base, **changes})


STRUCTURE_GUARDS = [
    ("agreement_pending", "sign_all", "manager", {"parties_signed": 1}, "signed by 1 of 2"),
    ("agreement_pending", "sign_all", "system", {"parties_total": 3, "parties_signed": 2},
     "signed by 2 of 3 parties"),
    ("agreement_pending", "sign_all", "manager", {"parties_total": 0, "parties_signed": 0},
     "at least two parties"),
    ("agreement_pending", "sign_all", "manager", {"parties_total": 5, "parties_signed": 5}, None),
    ("renewed", "start_new_mandate", "manager", {"parties_signed": 0}, "signed by 0 of 2"),
    ("active", "request_final_report", "system", {"mandate_ends_on": None}, "end date is not set"),
    ("active", "request_final_report", "system", {"mandate_ends_on": date(2031, 3, 2)},
     "the mandate runs until 2031-03-02"),
    ("active", "request_final_report", "system", {"mandate_ends_on": date(2031, 3, 1)}, None),
    # 22:59:59 UTC on 30 June 2031 is 00:59:59 on 1 July in Paris: the last day has come.
    ("active", "request_final_report", "system",
     {"now": datetime(2031, 6, 30, 22, 59, 59, tzinfo=UTC), "mandate_ends_on": date(2031, 7, 1)},
     None),
    ("active", "request_final_report", "system",
     {"now": datetime(2031, 6, 30, 21, 59, 59, tzinfo=UTC), "mandate_ends_on": date(2031, 7, 1)},
     "runs until 2031-07-01"),
    ("final_report_due", "end", "manager", {"final_report_approved": False},
     "final report has not been approved"),
    ("ended", "request_renewal", "applicant", {"renewals_used": 1}, "no renewal left (1 of 1"),
    ("ended", "request_renewal", "applicant", {"instrument": "gdre_gdri", "renewals_used": 1},
     "no renewal left (1 of 1"),
    ("ended", "request_renewal", "applicant", {"instrument": "ume_umi", "renewals_used": 1}, None),
    ("ended", "request_renewal", "applicant", {"instrument": "ume_umi", "renewals_used": 2},
     "no renewal left (2 of 2"),
    ("ended", "request_renewal", "applicant", {"max_renewals": 0}, "no renewal left (0 of 0"),
    ("ended", "request_renewal", "applicant", {"max_renewals": 3, "renewals_used": 2}, None),
    ("ended", "request_renewal", "applicant", {"instrument": None}, "instrument is needed"),
    ("renewal_requested", "renew", "directorate", {"renewals_used": 1}, "no renewal left"),
    ("active", "terminate", "directorate", {"reason": None}, "a reason is required"),
    ("active", "terminate", "directorate", {"reason": "   "}, "a reason is required"),
    ("ended", "close", "manager", {"final_report_approved": False, "reason": None}, None),
]  # fmt: skip


@pytest.mark.parametrize("state, action, role, changes, reason", STRUCTURE_GUARDS)
def test_structure_guards(state, action, role, changes, reason):
    f = facts(**changes)
    if reason is None:
        assert next_state(state, action, role, f) == EXPECTED_STRUCTURE[(action, state)][0]
    else:
        with pytest.raises(TransitionRefused) as refused:
            next_state(state, action, role, f)
        assert reason in refused.value.reason
        assert action not in available_actions(state, role, f)


def test_renewal_limit():
    assert renewal_limit(facts(instrument="lea_lia")) == 1
    assert renewal_limit(facts(instrument="ume_umi")) == 2
    assert renewal_limit(facts(instrument=None, max_renewals=4)) == 4
    with pytest.raises(RuleError):
        renewal_limit(facts(instrument=None))


def test_structure_available_actions():
    assert [str(a) for a in available_actions("active", "directorate", PASSING)] == ["terminate"]
    assert [str(a) for a in available_actions("ended", "manager", PASSING)] == ["close"]
    assert [str(a) for a in available_actions("ended", "applicant", PASSING)] == ["request_renewal"]
    assert [str(a) for a in available_actions("renewal_requested", "directorate", PASSING)] == [
        "renew",
        "close",
    ]


def test_structure_facts_refuse_naive_now():
    with pytest.raises(NaiveDatetimeError):
        StructureFacts(now=datetime(2031, 1, 1))  # noqa: DTZ001


# --- the annual grant cycle --------------------------------------------------------------------


def grant(**changes) -> GrantFacts:
    base = {
        "year": 2027, "now": datetime(2028, 2, 1, tzinfo=UTC), "report_received": True,
        "last_year": 2030,
    }  # fmt: skip
    return GrantFacts(**{**base, **changes})


GRANT_GUARDS = [
    # 22:59:59 UTC on 31 December 2027 is still 2027 in Paris (23:59:59).
    ("notified", "request_report", "system",
     {"now": datetime(2027, 12, 31, 22, 59, 59, tzinfo=UTC)}, "the year 2027 is not over"),
    ("notified", "request_report", "system",
     {"now": datetime(2027, 12, 31, 23, 0, tzinfo=UTC)}, None),
    ("notified", "request_report", "manager",
     {"now": datetime(2027, 6, 1, tzinfo=UTC)}, "not over"),
    ("report_due", "approve_report", "manager", {"report_received": False},
     "the report for 2027 has not been received"),
    ("report_approved", "release_next", "system", {"last_year": 2027}, "no grant follows 2027"),
    ("report_approved", "release_next", "system", {"last_year": None}, "no grant follows"),
    ("report_approved", "release_next", "manager", {"last_year": 2028}, None),
]  # fmt: skip


@pytest.mark.parametrize("state, action, role, changes, reason", GRANT_GUARDS)
def test_grant_guards(state, action, role, changes, reason):
    f = grant(**changes)
    if reason is None:
        assert next_grant_state(state, action, role, f) == EXPECTED_GRANT[(action, state)][0]
    else:
        with pytest.raises(TransitionRefused) as refused:
            next_grant_state(state, action, role, f)
        assert reason in refused.value.reason
        assert action not in available_grant_actions(state, role, f)


def test_next_instalment_only_after_approved_report():
    # No path from "notified" or "report_due" to "released" skips the approval.
    for state in ("notified", "report_due"):
        with pytest.raises(TransitionRefused):
            next_grant_state(state, "release_next", "manager", GRANT_PASSING)


@pytest.mark.parametrize(
    "decision, year",
    [
        (date(2026, 7, 10), 2027),
        (date(2026, 12, 31), 2027),
        (date(2027, 1, 1), 2028),
        (datetime(2026, 12, 31, 22, 59, tzinfo=UTC), 2027),  # 23:59 Paris, still 2026
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), 2028),  # 00:30 Paris, already 2027
    ],
)
def test_first_grant_year(decision, year):
    assert first_grant_year(decision) == year


def test_first_grant_year_refuses_naive_datetime():
    with pytest.raises(NaiveDatetimeError):
        first_grant_year(datetime(2026, 7, 10, 12, 0))  # noqa: DTZ001


def test_report_due_date_is_31_january_of_next_year():
    assert report_due_date(2027) == date(2028, 1, 31)
    assert report_due_date(2030) == date(2031, 1, 31)


@pytest.mark.parametrize(
    "now, overdue",
    [
        (datetime(2028, 1, 31, 22, 59, 59, tzinfo=UTC), False),  # 23:59:59 Paris, due day
        (datetime(2028, 1, 31, 23, 0, tzinfo=UTC), True),  # 00:00 Paris, 1 February
    ],
)
def test_report_overdue_on_the_paris_calendar(now, overdue):
    assert report_overdue(2027, now) is overdue


@pytest.mark.parametrize(
    "year, previous, last_year, problems",
    [
        (2027, None, None, []),
        (2026, None, None, ["The first grant is for 2027, the year after the decision."]),
        (2028, "notified", None, ["The report for 2027 has not been approved yet."]),
        (2028, "report_due", None, ["The report for 2027 has not been approved yet."]),
        (2028, "report_approved", None, []),
        (2028, GrantState.RELEASED, None, []),
        (2028, None, None, ["There is no grant for 2027 to follow."]),
        (2031, "released", 2030, ["The mandate's last grant year is 2030."]),
    ],
)
def test_grant_notification_problems(year, previous, last_year, problems):
    assert grant_notification_problems(year, date(2026, 9, 1), previous, last_year) == problems
