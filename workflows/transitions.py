"""A small transition engine shared by the proposal, structure and grant state machines.

A table maps ``(action, from_state)`` to a `Move`: the state it leads to, the roles that may take
it and one guard. `apply` either returns the new state or raises `TransitionRefused`: an illegal
move always fails loudly (unlike state-machine libraries that ignore unknown events).
Because the enums are ``StrEnum``, stored string values can be passed as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

from workflows.errors import TransitionRefused
from workflows.roles import Role

S = TypeVar("S", bound=StrEnum)
A = TypeVar("A", bound=StrEnum)
F = TypeVar("F")

#: A guard returns a reason to refuse (plain English, safe to show) or ``None`` to allow.
Guard = Callable[[Any], str | None]


def no_guard(facts: object) -> str | None:
    """The guard of a move that only depends on the state and the role."""
    return None


def all_of(*guards: Guard) -> Guard:
    """Combine guards into one: the first reason to refuse wins, so messages stay specific."""

    def combined(facts: object) -> str | None:
        for guard in guards:
            reason = guard(facts)
            if reason is not None:
                return reason
        return None

    combined.__name__ = "all_of_" + "_".join(getattr(g, "__name__", "guard") for g in guards)
    return combined


@dataclass(frozen=True)
class Move(Generic[S]):
    """One row of a transition table: where the action leads, who may take it, and its guard."""

    to: S
    roles: frozenset[Role]
    guard: Guard = no_guard

    def __post_init__(self) -> None:
        roles = frozenset(Role(r) for r in self.roles)
        if not roles:
            raise ValueError("A move needs at least one role.")
        object.__setattr__(self, "roles", roles)


def move(to: S, roles: Iterable[Role], guard: Guard = no_guard) -> Move[S]:
    """Build a `Move` from any iterable of roles (keeps the tables short)."""
    return Move(to, frozenset(roles), guard)


def _or_list(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def refusal(
    table: Mapping[tuple[A, S], Move[S]],
    state: S | str,
    action: A | str,
    role: Role | str,
    facts: object,
) -> str | None:
    """Why this move would be refused, or ``None`` if it is allowed."""
    found = table.get((action, state))  # type: ignore[arg-type]  # StrEnum keys match str
    if found is None:
        return "that step does not exist from this state"
    if role not in found.roles:
        return f"only {_or_list(sorted(found.roles))} may do this"
    return found.guard(facts)


def apply(
    table: Mapping[tuple[A, S], Move[S]],
    state: S | str,
    action: A | str,
    role: Role | str,
    facts: object,
    *,
    subject: str = "item",
) -> S:
    """The state reached by taking ``action`` from ``state``; raises `TransitionRefused`.

    ``subject`` only names the thing in the error message ("a proposal", "a structure").
    """
    reason = refusal(table, state, action, role, facts)
    if reason is not None:
        raise TransitionRefused(action, state, role, reason, subject=subject)
    return table[(action, state)].to  # type: ignore[index]


def available(
    table: Mapping[tuple[A, S], Move[S]],
    state: S | str,
    role: Role | str,
    facts: object,
) -> list[A]:
    """The actions ``role`` may take now from ``state``, in table order (drives the buttons)."""
    return [
        action
        for (action, from_state), found in table.items()
        if from_state == state and role in found.roles and found.guard(facts) is None
    ]
