"""Writing the audit trail."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request

from webapp.extensions import db
from webapp.models import AuditEvent


def record(
    actor,
    action: str,
    obj: Any = None,
    *,
    before: dict | None = None,
    after: dict | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
) -> AuditEvent:
    """Add an audit row to the current transaction (it commits, or vanishes, with the change)."""
    actor_id = (
        getattr(actor, "id", None)
        if actor is not None and getattr(actor, "is_authenticated", True)
        else None
    )
    if obj is not None:
        object_type = object_type or getattr(obj, "__tablename__", type(obj).__name__.lower())
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
    ip = request.remote_addr or "" if has_request_context() else ""
    event = AuditEvent(
        actor_id=actor_id,
        action=action,
        object_type=object_type or "",
        object_id=object_id,
        before=before,
        after=after,
        ip_address=ip[:45],
    )
    db.session.add(event)
    return event
