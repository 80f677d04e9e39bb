"""Append-only audit trail and the e-mail outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from webapp.extensions import db
from webapp.models.types import UTCDateTime, utcnow


class AuditEvent(db.Model):
    """One row per act that matters. Never updated nor deleted (a database trigger enforces it)."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str] = mapped_column(String(50), default="")
    object_id: Mapped[int | None]
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    ip_address: Mapped[str] = mapped_column(String(45), default="")

    actor = relationship("User", lazy="joined")


class OutboxMessage(db.Model):
    """An e-mail written in the same transaction as the change it reports.

    A rolled-back change sends nothing; a committed one is delivered by the outbox worker.
    """

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    recipient: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    template: Mapped[str] = mapped_column(String(80))
    # queued -> sent | failed (after OUTBOX_MAX_ATTEMPTS); held while no SMTP server is configured.
    status: Mapped[str] = mapped_column(String(12), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Claimed by a worker until this time; a crashed worker's claim simply runs out.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


@event.listens_for(Session, "before_flush")
def _audit_is_append_only(session: Session, flush_context, instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise PermissionError("the audit trail is append-only")
