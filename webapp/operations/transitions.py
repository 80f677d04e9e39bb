"""The transition engine of the web layer.

`workflows` decides whether a move is legal; this applies it to a model and, in the same
transaction, writes the audit row and the outbox messages. Nothing is committed here: the view
commits once, so a refused or failed step leaves no trace, and a committed one never lacks its
audit row or its e-mails.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from webapp.extensions import db
from webapp.mail import queue_mail
from webapp.operations.audit import record
from workflows import transitions
from workflows.roles import Role


@dataclass
class Mail:
    """An e-mail to queue with the transition: template name, recipients, language, context."""

    template: str
    to: str | list[str]
    locale: str = "fr"
    context: dict[str, Any] = field(default_factory=dict)


def apply_transition(
    obj,
    table: Mapping,
    action,
    *,
    role: Role,
    facts: object,
    actor,
    mails: Iterable[Mail] = (),
    details: dict | None = None,
    state_attr: str = "state",
):
    """Move `obj` by `action` as `role`; raise `TransitionRefused` (nothing written) if illegal."""
    before = getattr(obj, state_attr)
    subject = getattr(obj, "__tablename__", type(obj).__name__.lower())
    after = transitions.apply(table, before, action, role, facts, subject=f"a {subject}")
    setattr(obj, state_attr, after)
    record(
        actor,
        f"{subject}.{action}",
        obj,
        before={state_attr: str(before)},
        after={state_attr: str(after), "role": str(role), **(details or {})},
    )
    for mail in mails:
        queue_mail(mail.to, mail.template, locale=mail.locale, **mail.context)
    db.session.flush()
    return after
