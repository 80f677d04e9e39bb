"""Proposals: the applicant's content, teams, budget, files and submitted versions.

This module is the contract shared by submission, assessment and decision: assessment fills
the `consensus_*` and `rank_*` columns, the Directorate-General's decision fills `decision_*`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.types import UTCDateTime, utcnow
from webapp.models.user import enum_column
from workflows.proposal_states import ProposalState


class Proposal(db.Model):
    __tablename__ = "proposal"
    __table_args__ = (
        CheckConstraint("state != 'ineligible' OR ineligible_reason != ''", name="ineligible_has_reason"),
        CheckConstraint("stage IN ('loi', 'full')", name="stage_known"),
        Index("ix_proposal_call_state", "call_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(default=1)  # optimistic locking of the draft
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id"), index=True)
    # Human reference, e.g. LEA-2027-0042; given at creation, printed on every document.
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    state: Mapped[ProposalState] = mapped_column(enum_column(ProposalState), default=ProposalState.DRAFT)
    stage: Mapped[str] = mapped_column(String(4), default="full")  # loi | full (two-stage calls)

    coordinator_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    co_coordinator_name: Mapped[str] = mapped_column(String(200), default="")
    co_coordinator_email: Mapped[str] = mapped_column(String(254), default="", index=True)
    co_coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    co_coordinator_invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    title: Mapped[str] = mapped_column(String(300), default="")
    acronym: Mapped[str] = mapped_column(String(40), default="")
    abstract_fr: Mapped[str] = mapped_column(Text, default="")
    abstract_en: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[str] = mapped_column(String(500), default="")  # comma-separated
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("theme.id"))
    history: Mapped[str] = mapped_column(Text, default="")  # collaboration and joint publications
    programme: Mapped[str] = mapped_column(Text, default="")
    mobility_plan: Mapped[str] = mapped_column(Text, default="")
    ethics: Mapped[str] = mapped_column(Text, default="")
    duration_years: Mapped[int | None]

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # last submission's receipt time
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdraw_reason: Mapped[str] = mapped_column(Text, default="")
    ineligible_reason: Mapped[str] = mapped_column(Text, default="")
    country_flagged: Mapped[bool] = mapped_column(default=False)  # call policy "flag"
    # Two-stage calls: the programme manager's outcome for the letter of intent (0008). The
    # feedback is sent to the applicants: the reason when not shortlisted, an optional word otherwise.
    loi_feedback: Mapped[str] = mapped_column(Text, default="", server_default="")
    loi_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    loi_decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    # Assessment (filled by the assessment capability).
    consensus_score: Mapped[Decimal | None] = mapped_column(Numeric(6, 3))
    consensus_grade: Mapped[str] = mapped_column(String(4), default="")
    rank_position: Mapped[int | None]
    rank_list: Mapped[str] = mapped_column(String(16), default="")  # main | waiting | not_retained
    requested_annual_eur: Mapped[int | None]  # the annual amount the ranking draws down
    consensus_comment: Mapped[str] = mapped_column(Text, default="")
    # Written by assessment when the ranking is proposed, read by the decision letters: the
    # anonymised summary applicants may see - per-criterion scores, the comments written for
    # applicants, the consensus comment - and never a reviewer's name, e-mail or id.
    # {"weighted_score": float, "grade": str, "criteria": [{"code", "label_fr", "label_en",
    #  "weight", "score"}], "comments_for_applicants": [str], "consensus_comment": str}
    assessment_summary: Mapped[dict | None] = mapped_column(JSON)

    # Decision (filled by the Directorate-General capability).
    decision_annual_eur: Mapped[int | None]
    decision_comment: Mapped[str] = mapped_column(Text, default="")
    decision_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Added by the decisions migration (0006): whether the rejection letter invites a new application.
    decision_resubmission_allowed: Mapped[bool] = mapped_column(default=True, server_default="1")

    call = relationship("Call", lazy="joined")
    coordinator = relationship("User", foreign_keys=[coordinator_id], lazy="joined")
    co_coordinator = relationship("User", foreign_keys=[co_coordinator_id])
    theme = relationship("Theme")
    teams: Mapped[list[Team]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="Team.position"
    )
    budget_lines: Mapped[list[BudgetLine]] = relationship(
        back_populates="proposal",
        cascade="all, delete-orphan",
        order_by="(BudgetLine.year, BudgetLine.category)",
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="Attachment.id"
    )
    submissions: Mapped[list[Submission]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="Submission.version"
    )

    __mapper_args__ = {"version_id_col": version_id}

    def __repr__(self) -> str:
        return f"<Proposal {self.reference} {self.state}>"

    def is_coordinated_by(self, user) -> bool:
        return user is not None and getattr(user, "id", None) == self.coordinator_id

    def is_co_coordinated_by(self, user) -> bool:
        return user is not None and self.co_coordinator_id is not None and user.id == self.co_coordinator_id

    @property
    def is_draft(self) -> bool:
        return self.state == ProposalState.DRAFT


class Team(db.Model):
    """A laboratory in the proposal: the Inserm team, French teams, partner-country teams."""

    __tablename__ = "team"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    is_inserm: Mapped[bool] = mapped_column(default=False)
    laboratory: Mapped[str] = mapped_column(String(300), default="")
    unit_code: Mapped[str] = mapped_column(String(20), default="")  # e.g. U1234, for Inserm units
    institution_name: Mapped[str] = mapped_column(String(300), default="")
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"))
    country_code: Mapped[str] = mapped_column(ForeignKey("country.code"))
    authority: Mapped[str] = mapped_column(String(300), default="")  # tutelle
    leader_name: Mapped[str] = mapped_column(String(200), default="")
    leader_email: Mapped[str] = mapped_column(String(254), default="")
    leader_position: Mapped[str] = mapped_column(String(200), default="")
    leader_permanent: Mapped[bool] = mapped_column(default=False)

    proposal: Mapped[Proposal] = relationship(back_populates="teams")
    country = relationship("Country", lazy="joined")

    @property
    def is_french(self) -> bool:
        return self.country_code == "FR"


class BudgetLine(db.Model):
    """Provisional budget: one row per year and category, in whole euros."""

    __tablename__ = "budget_line"
    __table_args__ = (
        UniqueConstraint("proposal_id", "year", "category"),
        CheckConstraint(
            "amount_eur >= 0 AND partner_cash_eur >= 0 AND partner_in_kind_eur >= 0",
            name="amounts_not_negative",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), index=True)
    year: Mapped[int]  # 1..duration
    category: Mapped[str] = mapped_column(String(20))  # mobility | meetings | other | salaries
    amount_eur: Mapped[int] = mapped_column(default=0)
    partner_cash_eur: Mapped[int] = mapped_column(default=0)
    partner_in_kind_eur: Mapped[int] = mapped_column(default=0)
    note: Mapped[str] = mapped_column(String(500), default="")

    proposal: Mapped[Proposal] = relationship(back_populates="budget_lines")


class Attachment(db.Model):
    """An uploaded file: stored under a generated name, its SHA-256 kept with the row."""

    __tablename__ = "attachment"
    __table_args__ = (UniqueConstraint("proposal_id", "kind_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), index=True)
    kind_code: Mapped[str] = mapped_column(String(40))
    original_filename: Mapped[str] = mapped_column(String(255))  # cleaned, for display only
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    proposal: Mapped[Proposal] = relationship(back_populates="attachments")


class Submission(db.Model):
    """One submitted version of a proposal (the last one counts); made once per version."""

    __tablename__ = "submission"
    __table_args__ = (UniqueConstraint("proposal_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    stage: Mapped[str] = mapped_column(String(4), default="full")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())  # when the request started
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    snapshot: Mapped[dict] = mapped_column(JSON)  # the content and file hashes as submitted
    receipt_id: Mapped[int | None] = mapped_column(ForeignKey("issued_document.id"))

    proposal: Mapped[Proposal] = relationship(back_populates="submissions")
    receipt = relationship("IssuedDocument", foreign_keys=[receipt_id])


def submitted_count(call_id: int) -> int:
    """How many proposals of a call have been submitted at least once (drives the grid freeze)."""
    return (
        db.session.scalar(
            select(func.count(Proposal.id)).where(
                Proposal.call_id == call_id, Proposal.submitted_at.is_not(None)
            )
        )
        or 0
    )
