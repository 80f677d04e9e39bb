"""The generic transition engine shared by the three state machines."""

from __future__ import annotations

from enum import StrEnum

import pytest

from workflows.errors import RuleError, TransitionRefused
from workflows.proposal_states import MOVES as PROPOSAL_MOVES
from workflows.proposal_states import ProposalAction, ProposalState
from workflows.roles import Role
from workflows.structure_states import (
    GRANT_MOVES,
    GrantAction,
    GrantState,
    StructureAction,
    StructureState,
)
from workflows.structure_states import MOVES as STRUCTURE_MOVES
from workflows.transitions import Move, all_of, apply, available, move, no_guard, refusal


class Light(StrEnum):
    OFF = "off"
    ON = "on"


class Switch(StrEnum):
    TURN_ON = "turn_on"
    TURN_OFF = "turn_off"


def needs_power(facts: dict) -> str | None:
    return None if facts.get("power") else "there is no power"


def needs_bulb(facts: dict) -> str | None:
    return None if facts.get("bulb") else "there is no bulb"


TABLE = {
    (Switch.TURN_ON, Light.OFF): move(Light.ON, [Role.MANAGER], all_of(needs_power, needs_bulb)),
    (Switch.TURN_OFF, Light.ON): move(Light.OFF, {Role.MANAGER, Role.SYSTEM}),
}


def test_apply_moves_and_refuses():
    assert apply(TABLE, Light.OFF, Switch.TURN_ON, Role.MANAGER, {"power": 1, "bulb": 1}) == "on"
    with pytest.raises(TransitionRefused) as refused:
        apply(TABLE, Light.OFF, Switch.TURN_ON, Role.MANAGER, {"bulb": 1}, subject="light")
    assert str(refused.value) == (
        "Cannot 'turn_on' a light in state 'off' as manager: there is no power"
    )
    assert isinstance(refused.value, RuleError)


def test_all_of_reports_the_first_failing_guard():
    assert refusal(TABLE, "off", "turn_on", "manager", {}) == "there is no power"
    assert refusal(TABLE, "off", "turn_on", "manager", {"power": 1}) == "there is no bulb"
    assert refusal(TABLE, "off", "turn_on", "manager", {"power": 1, "bulb": 1}) is None


def test_refusal_reasons_for_role_and_missing_row():
    assert refusal(TABLE, "off", "turn_on", "admin", {}) == "only manager may do this"
    assert refusal(TABLE, "on", "turn_off", "admin", {}) == "only manager or system may do this"
    assert refusal(TABLE, "on", "turn_on", "manager", {}) == (
        "that step does not exist from this state"
    )


def test_available_lists_only_moves_that_would_succeed():
    assert available(TABLE, "off", "manager", {}) == []
    assert available(TABLE, "off", "manager", {"power": 1, "bulb": 1}) == [Switch.TURN_ON]
    assert available(TABLE, "on", "system", {}) == [Switch.TURN_OFF]


@pytest.mark.parametrize(
    "subject, phrase",
    [
        ("proposal", "a proposal"),
        ("annual grant", "an annual grant"),
        ("item", "an item"),
        ("a proposal", "a proposal"),  # an article given by the caller is not doubled
        ("an annual grant", "an annual grant"),
        ("An item", "an item"),
        ("agreement", "an agreement"),
    ],
)
def test_message_article(subject, phrase):
    error = TransitionRefused("x", "y", "manager", "why", subject=subject)
    assert str(error) == f"Cannot 'x' {phrase} in state 'y' as manager: why"
    assert (error.action, error.state, error.role, error.reason) == ("x", "y", "manager", "why")


def test_default_subject_is_a_proposal():
    error = TransitionRefused(ProposalAction.SUBMIT, ProposalState.RANKED, Role.APPLICANT, "no")
    assert str(error) == "Cannot 'submit' a proposal in state 'ranked' as applicant: no"


def test_move_validates_roles():
    assert Move(Light.ON, frozenset({"manager"})).roles == frozenset({Role.MANAGER})  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Move(Light.ON, frozenset())
    with pytest.raises(ValueError):
        move(Light.ON, ["janitor"])  # type: ignore[list-item]
    assert no_guard({}) is None


@pytest.mark.parametrize(
    "table, action_enum, state_enum",
    [
        (PROPOSAL_MOVES, ProposalAction, ProposalState),
        (STRUCTURE_MOVES, StructureAction, StructureState),
        (GRANT_MOVES, GrantAction, GrantState),
    ],
    ids=["proposal", "structure", "grant"],
)
def test_tables_are_well_typed(table, action_enum, state_enum):
    for (action, state), row in table.items():
        assert type(action) is action_enum
        assert type(state) is state_enum
        assert type(row.to) is state_enum
        assert row.to != state or action == "send_back"
        assert row.roles and all(type(r) is Role for r in row.roles)
