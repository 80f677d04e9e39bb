"""Issued documents: receipts, decision letters, agreements. Frozen once issued."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.types import UTCDateTime, utcnow


class IssuedDocument(db.Model):
    """A PDF the platform issued: stored once with the data it was made from and its SHA-256.

    Never regenerated in place: a corrected version is a new row that `supersedes` the old one,
    and both are kept. The verification page looks documents up by reference or by hash.
    """

    __tablename__ = "issued_document"
    __table_args__ = (UniqueConstraint("reference", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(60), index=True)  # e.g. REC-LEA-2027-0042-1
    version: Mapped[int] = mapped_column(default=1)
    kind: Mapped[str] = mapped_column(String(30), index=True)  # receipt | decision_letter | agreement | ...
    language: Mapped[str] = mapped_column(String(5), default="fr")
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposal.id"), index=True)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("issued_document.id"))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    data: Mapped[dict] = mapped_column(JSON)  # what the document was made from
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    proposal = relationship("Proposal", foreign_keys=[proposal_id])
    supersedes = relationship("IssuedDocument", remote_side=[id])
