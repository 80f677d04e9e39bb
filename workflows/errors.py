"""Errors raised by the rules. Every refusal says in plain English what was refused and why."""

from __future__ import annotations


class RuleError(Exception):
    """Base of every error raised by `workflows`: a business rule was broken."""


class NaiveDatetimeError(RuleError, ValueError):
    """A datetime without a time zone reached the rules, where it would be ambiguous."""


class NonexistentLocalTime(RuleError, ValueError):
    """A Paris wall-clock time that never happens (the spring-forward gap)."""


def _article(noun: str) -> str:
    return "an" if noun[:1].lower() in "aeiou" else "a"


class TransitionRefused(RuleError):
    """A state-machine move was refused; `reason` is safe to show to the person who tried."""

    def __init__(
        self,
        action: str,
        state: str,
        role: str,
        reason: str,
        subject: str = "proposal",
    ) -> None:
        self.action = action
        self.state = state
        self.role = role
        self.reason = reason
        self.subject = subject
        super().__init__(
            f"Cannot '{action}' {_article(subject)} {subject} in state '{state}' "
            f"as {role}: {reason}"
        )
