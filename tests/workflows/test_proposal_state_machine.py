"""The proposal state machine, checked against an independent literal copy of DOMAIN.md section 6.

The expectations below are written out by hand and never derived from ``MOVES``: a change to the
table that is not mirrored here makes these tests fail.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from workflows.errors import NaiveDatetimeError, TransitionRefused
from workflows.proposal_states import (
    APPLICANT_VISIBLE_STATUS,
    MOVES,
    TERMINAL_STATES,
    ProposalAction,
    ProposalFacts,
    ProposalState,
    applicant_status,
    available_actions,
    can_move,
    next_state,
    why_not,
)
from workflows.roles import Role

NOW = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
DEADLINE = datetime(2026, 6, 15, 15, 0, tzinfo=UTC)  # 17:00 Paris time

BEFORE_DECISION = [
    "draft", "loi_submitted", "loi_shortlisted", "submitted", "eligible", "under_review",
    "reviewed", "ranked", "proposed", "waitlisted", "not_retained",
]  # fmt: skip
LISTS = ["proposed", "waitlisted", "not_retained"]

# (action, from, to, roles that may take it): the whole table, by hand.
EXPECTED_MOVES: list[tuple[str, str, str, set[str]]] = [
    ("submit_loi", "draft", "loi_submitted", {"applicant"}),
    ("shortlist_loi", "loi_submitted", "loi_shortlisted", {"manager"}),
    ("reject_loi", "loi_submitted", "loi_rejected", {"manager"}),
    ("start_full_proposal", "loi_shortlisted", "draft", {"applicant"}),
    ("submit", "draft", "submitted", {"applicant"}),
    ("reopen", "submitted", "draft", {"applicant"}),
    ("mark_eligible", "submitted", "eligible", {"manager"}),
    ("mark_ineligible", "submitted", "ineligible", {"manager"}),
    ("start_review", "eligible", "under_review", {"manager"}),
    ("complete_review", "under_review", "reviewed", {"system", "manager"}),
    ("reopen_review", "reviewed", "under_review", {"manager"}),
    ("rank", "reviewed", "ranked", {"manager"}),
    ("propose", "ranked", "proposed", {"manager"}),
    ("waitlist", "ranked", "waitlisted", {"manager"}),
    ("not_retain", "ranked", "not_retained", {"manager"}),
    *[("send_back", s, "ranked", {"directorate"}) for s in LISTS],
    *[("award", s, "awarded", {"directorate"}) for s in LISTS],
    *[("reject", s, "rejected", {"directorate"}) for s in LISTS],
    ("issue_agreement", "awarded", "agreement_pending", {"manager", "system"}),
    *[("withdraw", s, "withdrawn", {"applicant"}) for s in BEFORE_DECISION],
    # A decision not yet released looks undecided to the applicants, who may still withdraw.
    *[("withdraw", s, "withdrawn", {"applicant"}) for s in ("awarded", "rejected")],
]
EXPECTED = {(a, s): (to, roles) for a, s, to, roles in EXPECTED_MOVES}

ALL_STATES = [
    "draft", "loi_submitted", "loi_shortlisted", "loi_rejected", "submitted", "eligible",
    "ineligible", "under_review", "reviewed", "ranked", "proposed", "waitlisted", "not_retained",
    "awarded", "rejected", "agreement_pending", "withdrawn",
]  # fmt: skip
ALL_ROLES = ["applicant", "reviewer", "manager", "directorate", "admin", "system"]

# Facts under which every guard passes (the letter of intent needs a two-stage call).
PASSING = ProposalFacts(
    now=NOW,
    deadline=DEADLINE,
    reviewers_assigned=2,
    reviewers_required=2,
    reason="Out of the call's scope.",
)
PASSING_LOI = ProposalFacts(now=NOW, deadline=DEADLINE, two_stage=True, stage="loi")


def passing_facts(action: str) -> ProposalFacts:
    return PASSING_LOI if action == "submit_loi" else PASSING


def test_enums_hold_exactly_the_documented_values():
    assert [s.value for s in ProposalState] == ALL_STATES
    assert {a.value for a in ProposalAction} == {a for a, _ in EXPECTED}


def test_table_has_exactly_the_expected_rows():
    assert {(str(a), str(s)) for a, s in MOVES} == set(EXPECTED)
    for (action, state), move in MOVES.items():
        to, roles = EXPECTED[(action, state)]
        assert move.to == to
        assert {str(r) for r in move.roles} == roles


@pytest.mark.parametrize(
    "action, state, role",
    list(itertools.product([a.value for a in ProposalAction], ALL_STATES, ALL_ROLES)),
)
def test_every_action_state_role(action, state, role):
    facts = passing_facts(action)
    expected = EXPECTED.get((action, state))
    if expected is not None and role in expected[1]:
        result = next_state(ProposalState(state), ProposalAction(action), Role(role), facts)
        assert result == expected[0]
        assert isinstance(result, ProposalState)
        assert can_move(state, action, role, facts)
        assert why_not(state, action, role, facts) is None
    else:
        with pytest.raises(TransitionRefused) as refused:
            next_state(ProposalState(state), ProposalAction(action), Role(role), facts)
        assert not can_move(state, action, role, facts)
        if expected is None:
            assert "does not exist from this state" in refused.value.reason
        else:
            assert refused.value.reason.startswith("only ")
        assert refused.value.action == action
        assert refused.value.state == state
        assert refused.value.role == role


def test_admin_holds_no_proposal_move():
    assert all(Role.ADMIN not in move.roles for move in MOVES.values())


def test_stored_strings_are_accepted():
    assert next_state("draft", "submit", "applicant", PASSING) == ProposalState.SUBMITTED


@pytest.mark.parametrize("action", ["fly", "", "SUBMIT"])
def test_unknown_actions_are_refused_loudly(action):
    with pytest.raises(TransitionRefused):
        next_state("draft", action, "applicant", PASSING)


def test_refusal_message_names_action_state_role_and_reason():
    with pytest.raises(TransitionRefused) as refused:
        next_state(ProposalState.RANKED, ProposalAction.SUBMIT, Role.APPLICANT, PASSING)
    assert str(refused.value) == (
        "Cannot 'submit' a proposal in state 'ranked' as applicant: "
        "that step does not exist from this state"
    )


def test_role_is_checked_before_guards():
    late = ProposalFacts(now=DEADLINE + timedelta(days=1), deadline=DEADLINE)
    with pytest.raises(TransitionRefused, match="only applicant may do this"):
        next_state("draft", "submit", "reviewer", late)


def test_role_list_in_message_for_shared_moves():
    with pytest.raises(TransitionRefused, match="only manager or system may do this"):
        next_state("awarded", "issue_agreement", "directorate", PASSING)


# --- guards: each refuses with its own reason -------------------------------------------------

ON_TIME = {"now": NOW, "deadline": DEADLINE}
LATE = {"now": DEADLINE + timedelta(seconds=1), "deadline": DEADLINE}
LOI = {"two_stage": True, "stage": "loi"}

GUARD_CASES = [
    # (state, action, role, facts, expected reason fragment or None when allowed)
    ("draft", "submit_loi", "applicant", {**ON_TIME}, "has no letter-of-intent stage"),
    (
        "draft", "submit_loi", "applicant", {**ON_TIME, "two_stage": True, "stage": "full"},
        "letter-of-intent stage is over",
    ),
    ("draft", "submit_loi", "applicant", {**LATE, **LOI}, "the deadline has passed"),
    (
        "draft", "submit_loi", "applicant", {**ON_TIME, **LOI, "missing": ("summary",)},
        "incomplete: summary",
    ),
    ("draft", "submit_loi", "applicant", {**ON_TIME, **LOI}, None),
    ("draft", "submit", "applicant", {**ON_TIME, **LOI}, "submit the letter of intent first"),
    ("draft", "submit", "applicant", {**ON_TIME, "two_stage": True, "stage": "full"}, None),
    ("draft", "submit", "applicant", {**LATE}, "the deadline has passed"),
    ("draft", "submit", "applicant", {"now": DEADLINE, "deadline": DEADLINE}, None),
    (
        "draft", "submit", "applicant",
        {**LATE, "grace": timedelta(minutes=5)}, None,
    ),
    (
        "draft", "submit", "applicant",
        {"now": DEADLINE + timedelta(minutes=5, seconds=1), "deadline": DEADLINE,
         "grace": timedelta(minutes=5)},
        "the deadline has passed",
    ),
    ("draft", "submit", "applicant", {"now": NOW, "deadline": None}, None),
    (
        "draft", "submit", "applicant", {**ON_TIME, "missing": ("CV", "budget")},
        "the proposal is incomplete: CV; budget",
    ),
    (
        "draft", "submit", "applicant",
        {**ON_TIME, "eligibility_problems": ("LEA / LIA needs exactly 1 foreign team; has 0.",)},
        "does not meet the call's conditions: LEA / LIA needs exactly 1 foreign team",
    ),
    ("submitted", "reopen", "applicant", {**ON_TIME}, None),
    ("submitted", "reopen", "applicant", {**LATE}, "the deadline has passed"),
    ("submitted", "reopen", "applicant", {"now": NOW, "deadline": None}, None),
    ("submitted", "mark_ineligible", "manager", {"reason": None}, "a reason is required"),
    ("submitted", "mark_ineligible", "manager", {"reason": ""}, "a reason is required"),
    ("submitted", "mark_ineligible", "manager", {"reason": "  \n"}, "a reason is required"),
    ("submitted", "mark_ineligible", "manager", {"reason": "Country not covered."}, None),
    ("submitted", "mark_eligible", "manager", {}, None),
    ("eligible", "start_review", "manager", {"reviewers_assigned": 0}, "0 of 2 reviewers"),
    ("eligible", "start_review", "manager", {"reviewers_assigned": 1}, "1 of 2 reviewers"),
    (
        "eligible", "start_review", "manager",
        {"reviewers_assigned": 3, "reviewers_required": 3}, None,
    ),
    (
        "eligible", "start_review", "manager",
        {"reviewers_assigned": 0, "reviewers_required": 0}, "0 of 1 reviewers assigned",
    ),
    (
        "eligible", "start_review", "manager",
        {"reviewers_assigned": 2, "conflicts_pending": 1},
        "1 conflict-of-interest declaration(s) pending",
    ),
    ("under_review", "complete_review", "system", {"reviews_missing": 1}, "1 review(s) still"),
    ("under_review", "complete_review", "manager", {"reviews_missing": 2}, "2 review(s) still"),
    ("under_review", "complete_review", "system", {"reviews_missing": 0}, None),
]  # fmt: skip


@pytest.mark.parametrize("state, action, role, facts, reason", GUARD_CASES)
def test_guards(state, action, role, facts, reason):
    facts = ProposalFacts(**facts)
    if reason is None:
        assert can_move(state, action, role, facts)
        next_state(state, action, role, facts)
    else:
        with pytest.raises(TransitionRefused) as refused:
            next_state(state, action, role, facts)
        assert reason in refused.value.reason
        assert reason in str(refused.value)
        assert why_not(state, action, role, facts) == refused.value.reason
        assert action not in available_actions(state, role, facts)


def test_first_failing_guard_gives_the_reason():
    facts = ProposalFacts(**LATE, missing=("CV",))
    with pytest.raises(TransitionRefused, match="the deadline has passed"):
        next_state("draft", "submit", "applicant", facts)


# --- available_actions drives the buttons -----------------------------------------------------


@pytest.mark.parametrize(
    "state, role, facts, expected",
    [
        ("draft", "applicant", PASSING, ["submit", "withdraw"]),
        ("draft", "applicant", PASSING_LOI, ["submit_loi", "withdraw"]),
        ("draft", "applicant", ProposalFacts(**LATE), ["withdraw"]),
        ("draft", "manager", PASSING, []),
        ("submitted", "applicant", PASSING, ["reopen", "withdraw"]),
        ("submitted", "applicant", ProposalFacts(**LATE), ["withdraw"]),
        ("submitted", "manager", PASSING, ["mark_eligible", "mark_ineligible"]),
        ("submitted", "manager", ProposalFacts(now=NOW), ["mark_eligible"]),
        ("eligible", "manager", ProposalFacts(now=NOW), []),
        ("under_review", "system", PASSING, ["complete_review"]),
        ("reviewed", "manager", PASSING, ["reopen_review", "rank"]),
        ("ranked", "manager", PASSING, ["propose", "waitlist", "not_retain"]),
        ("proposed", "directorate", PASSING, ["send_back", "award", "reject"]),
        ("proposed", "applicant", PASSING, ["withdraw"]),
        ("awarded", "applicant", PASSING, ["withdraw"]),
        ("awarded", "applicant", ProposalFacts(now=NOW, decision_released=True), []),
        ("rejected", "applicant", ProposalFacts(now=NOW, decision_released=True), []),
        ("awarded", "system", PASSING, ["issue_agreement"]),
        ("withdrawn", "applicant", PASSING, []),
        ("ranked", "admin", PASSING, []),
        ("under_review", "reviewer", PASSING, []),
    ],
)
def test_available_actions(state, role, facts, expected):
    assert [str(a) for a in available_actions(state, role, facts)] == expected


# --- terminal states and reachability ---------------------------------------------------------


def test_terminal_states():
    assert {str(s) for s in TERMINAL_STATES} == {
        "loi_rejected", "ineligible", "withdrawn", "agreement_pending",
    }  # fmt: skip
    sources = {state for _, state in EXPECTED}
    for state in ALL_STATES:
        assert (state in sources) == (state not in TERMINAL_STATES), state


def test_every_state_is_reachable_from_draft():
    reached, frontier = {"draft"}, ["draft"]
    while frontier:
        current = frontier.pop()
        for (_, source), (to, _) in EXPECTED.items():
            if source == current and to not in reached:
                reached.add(to)
                frontier.append(to)
    assert reached == set(ALL_STATES)


# --- what an applicant may see ----------------------------------------------------------------

HIDDEN = [
    "eligible", "under_review", "reviewed", "ranked", "proposed", "waitlisted", "not_retained",
]  # fmt: skip
SHOWN_AS_IS = [
    "draft", "loi_submitted", "loi_shortlisted", "loi_rejected", "submitted", "ineligible",
    "withdrawn",
]  # fmt: skip
DECISIONS = ["awarded", "rejected", "agreement_pending"]


def test_visible_status_covers_every_state():
    assert {str(s) for s in APPLICANT_VISIBLE_STATUS} == set(ALL_STATES)


@pytest.mark.parametrize("released", [False, True])
@pytest.mark.parametrize("state", HIDDEN)
def test_internal_steps_are_never_shown(state, released):
    assert applicant_status(state, released) == "under_assessment"
    assert APPLICANT_VISIBLE_STATUS[ProposalState(state)] == "under_assessment"


@pytest.mark.parametrize("released", [False, True])
@pytest.mark.parametrize("state", SHOWN_AS_IS)
def test_applicant_facing_steps_are_shown(state, released):
    assert applicant_status(state, released) == state


@pytest.mark.parametrize("state", DECISIONS)
def test_decisions_hidden_until_released(state):
    assert applicant_status(state, decision_released=False) == "under_assessment"
    assert APPLICANT_VISIBLE_STATUS[ProposalState(state)] == "under_assessment"
    assert applicant_status(state, decision_released=True) == state


# --- facts ------------------------------------------------------------------------------------


def test_facts_refuse_naive_datetimes():
    with pytest.raises(NaiveDatetimeError):
        ProposalFacts(now=datetime(2026, 6, 1, 12, 0))  # noqa: DTZ001
    with pytest.raises(NaiveDatetimeError):
        ProposalFacts(now=NOW, deadline=datetime(2026, 6, 15, 17, 0))  # noqa: DTZ001


def test_facts_validate_stage_and_grace():
    with pytest.raises(ValueError, match="stage"):
        ProposalFacts(now=NOW, stage="final")
    with pytest.raises(ValueError, match="grace"):
        ProposalFacts(now=NOW, grace=timedelta(seconds=-1))


def test_facts_default_to_an_aware_now_and_freeze_lists():
    facts = ProposalFacts(missing=["CV"], eligibility_problems=["x"])  # type: ignore[arg-type]
    assert facts.now.tzinfo is not None
    assert facts.missing == ("CV",)
    assert facts.eligibility_problems == ("x",)
    hash(facts)
