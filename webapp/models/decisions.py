"""After the Directorate-General's decision: agreements and their signatures, awarded structures
with their committees, background jobs and requests for review (DOMAIN.md sections 6 and 7)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.types import UTCDateTime, utcnow
from webapp.models.user import enum_column
from workflows.decisions import JobStatus, RedressStatus
from workflows.instruments import Instrument
from workflows.structure_states import StructureState


class StructureAgreement(db.Model):
    """The agreement (convention) creating a structure, with its parties and committees.

    LEA/LIA and GDRE/GDRI agreements come from an awarded proposal; a UME/UMI has no call, so
    its agreement is made from a manager's form (``proposal_id`` empty). The PDF itself is an
    `IssuedDocument` (``document_id``: the current version), signed by the platform (PAdES).
    """

    __tablename__ = "structure_agreement"
    __table_args__ = (
        CheckConstraint("duration_years >= 1", name="duration_positive"),
        CheckConstraint("annual_eur IS NULL OR annual_eur >= 0", name="annual_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(60), unique=True)
    instrument: Mapped[Instrument] = mapped_column(enum_column(Instrument))
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposal.id"), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    acronym: Mapped[str] = mapped_column(String(40), default="")
    language: Mapped[str] = mapped_column(String(5), default="fr")
    # UME/UMI: the foreign host institution and what the unit's own agreement settles.
    host_institution: Mapped[str] = mapped_column(String(300), default="")
    host_country_code: Mapped[str | None] = mapped_column(ForeignKey("country.code"))
    director_name: Mapped[str] = mapped_column(String(200), default="")
    deputy_director_name: Mapped[str] = mapped_column(String(200), default="")
    programme: Mapped[str] = mapped_column(Text, default="")
    staffing_provisions: Mapped[str] = mapped_column(Text, default="")
    governance_notes: Mapped[str] = mapped_column(Text, default="")
    annual_eur: Mapped[int | None]
    duration_years: Mapped[int]
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("issued_document.id"))
    # The platform's own signature (PAdES) on the current document.
    platform_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    platform_signer: Mapped[str] = mapped_column(String(300), default="")
    fully_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    proposal = relationship("Proposal")
    document = relationship("IssuedDocument", foreign_keys=[document_id])
    host_country = relationship("Country")
    parties: Mapped[list[AgreementParty]] = relationship(
        back_populates="agreement", cascade="all, delete-orphan", order_by="AgreementParty.position"
    )
    members: Mapped[list[CommitteeMember]] = relationship(
        back_populates="agreement",
        cascade="all, delete-orphan",
        order_by="(CommitteeMember.committee, CommitteeMember.position)",
    )

    @property
    def signed_count(self) -> int:
        return sum(1 for p in self.parties if p.signed_at is not None)

    @property
    def is_fully_signed(self) -> bool:
        return bool(self.parties) and self.signed_count == len(self.parties)


class AgreementParty(db.Model):
    """A signatory institution and, once recorded, its countersigned scan (a checked PDF)."""

    __tablename__ = "agreement_party"
    __table_args__ = (
        UniqueConstraint("agreement_id", "position"),
        CheckConstraint("(signed_at IS NULL) = (scan_stored_name IS NULL)", name="signed_has_scan"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("structure_agreement.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(20))  # inserm | partner | authority | host
    name: Mapped[str] = mapped_column(String(300))
    country_code: Mapped[str] = mapped_column(String(2), default="")
    signatory_name: Mapped[str] = mapped_column(String(200), default="")
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    scan_stored_name: Mapped[str | None] = mapped_column(String(80), unique=True)
    scan_sha256: Mapped[str] = mapped_column(String(64), default="")
    scan_size_bytes: Mapped[int | None]
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    agreement: Mapped[StructureAgreement] = relationship(back_populates="parties")
    recorded_by = relationship("User")


class AwardedStructure(db.Model):
    """An LEA/LIA, GDRE/GDRI or UME/UMI, created when every party has signed its agreement."""

    __tablename__ = "awarded_structure"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
        CheckConstraint("renewals_used >= 0", name="renewals_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument: Mapped[Instrument] = mapped_column(enum_column(Instrument))
    state: Mapped[StructureState] = mapped_column(
        enum_column(StructureState), default=StructureState.ACTIVE, index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    acronym: Mapped[str] = mapped_column(String(40), default="")
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposal.id"), unique=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("structure_agreement.id"), unique=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    renewals_used: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    proposal = relationship("Proposal")
    agreement = relationship("StructureAgreement")


class CommitteeMember(db.Model):
    """A seat on a committee: GDRE/GDRI scientific committee (one per laboratory, chaired by the
    coordinator) and steering committee (one per authority); LEA/LIA coordination; UME/UMI
    governance board. Set by the agreement, then data of the awarded structure."""

    __tablename__ = "committee_member"
    __table_args__ = (
        CheckConstraint(
            "committee IN ('scientific', 'steering', 'coordination', 'governance')",
            name="committee_known",
        ),
        Index("ix_committee_member_agreement_committee", "agreement_id", "committee"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("structure_agreement.id", ondelete="CASCADE"))
    structure_id: Mapped[int | None] = mapped_column(ForeignKey("awarded_structure.id"), index=True)
    committee: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(200), default="")  # empty: to be designated
    affiliation: Mapped[str] = mapped_column(String(400), default="")
    role: Mapped[str] = mapped_column(String(10), default="member")  # chair | member

    agreement: Mapped[StructureAgreement] = relationship(back_populates="members")


class BackgroundJob(db.Model):
    """One unit of background work, as the database sees it.

    The queue (Huey) delivers a task at most once; this row stays the truth: a worker claims it
    (``running``), beats its ``heartbeat_at`` as it goes, and a sweeper puts a job whose
    heartbeat went stale (a crashed worker) back in the queue. ``payload`` says what to do
    (for letters: the proposal ids), ``done`` how much of ``total`` is finished.
    """

    __tablename__ = "background_job"
    __table_args__ = (
        CheckConstraint("done >= 0 AND total >= 0", name="counts_not_negative"),
        Index("ix_background_job_status_heartbeat", "status", "heartbeat_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)  # issue_letters
    call_id: Mapped[int | None] = mapped_column(ForeignKey("call.id"), index=True)
    batch: Mapped[str] = mapped_column(String(32), index=True)  # jobs started together
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[JobStatus] = mapped_column(enum_column(JobStatus, length=10), default=JobStatus.QUEUED)
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(default=0)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class RedressRequest(db.Model):
    """A request for review of a released rejection, on procedural grounds, and its answer."""

    __tablename__ = "redress_request"
    __table_args__ = (
        CheckConstraint("grounds != ''", name="grounds_given"),
        CheckConstraint("status = 'open' OR answer != ''", name="answered_has_answer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), unique=True)
    filed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    grounds: Mapped[str] = mapped_column(Text)
    status: Mapped[RedressStatus] = mapped_column(
        enum_column(RedressStatus, length=10), default=RedressStatus.OPEN, index=True
    )
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    proposal = relationship("Proposal", lazy="joined")
    filed_by = relationship("User", foreign_keys=[filed_by_id])
