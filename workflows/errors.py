"""Errors raised by the rules. Every refusal says in plain English what was refused and why."""

from __future__ import annotations


class RuleError(Exception):
    """Base of every error raised by `workflows`: a business rule was broken."""


class NaiveDatetimeError(RuleError, ValueError):
    """A datetime without a time zone reached the rules, where it would be ambiguous."""


class NonexistentLocalTime(RuleError, ValueError):
    """A Paris wall-clock time that never happens (the spring-forward gap)."""


def _with_article(noun: str) -> str:
    # Callers may pass "proposal" or already "a proposal"; never print "an a proposal".
    for article in ("a ", "an "):
        if noun.lower().startswith(article):
            noun = noun[len(article) :]
            break
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


class TransitionRefused(RuleError):
    """A state-machine move was refused; `reason` is safe to show to the person who tried.

    ``subject`` names the thing moved, with or without its article ("proposal", "a proposal").
    """

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
            f"Cannot '{action}' {_with_article(subject)} in state '{state}' as {role}: {reason}"
        )
