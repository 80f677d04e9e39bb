"""Assessment: eligibility screening, the reviewer pool, assignments, conflict declarations,
reviews and their scores, the consensus and the ranking moves (DOMAIN.md section 5).

Proposals carry the results the other capabilities read (`Proposal.consensus_*`, `rank_*`,
`assessment_summary`); the rows here are the assessment's own working material, never shown
to applicants.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.types import UTCDateTime, utcnow
from webapp.models.user import enum_column
from workflows.conflicts import ConflictKind
from workflows.reviews import ACTIVE_STATUSES, AssignmentStatus, ReviewStatus


class EligibilityScreening(db.Model):
    """A programme manager's screening of one proposal: the manual checklist and the outcome."""

    __tablename__ = "eligibility_screening"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), unique=True)
    checklist: Mapped[dict] = mapped_column(JSON, default=dict)  # item code -> bool
    notes: Mapped[str] = mapped_column(Text, default="")  # internal, never sent
    outcome: Mapped[str] = mapped_column(String(12), default="")  # "" | eligible | ineligible
    automatic_problems: Mapped[list] = mapped_column(JSON, default=list)  # as checked at decision
    screened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    screened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    proposal = relationship("Proposal")
    screened_by = relationship("User")


class ReviewerProfile(db.Model):
    """A member of the reviewer pool: expertise, affiliation, internal or external, load cap."""

    __tablename__ = "reviewer_profile"
    __table_args__ = (CheckConstraint("max_load >= 0", name="max_load_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), unique=True)
    keywords: Mapped[str] = mapped_column(String(500), default="")  # comma-separated
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"))
    institution_name: Mapped[str] = mapped_column(String(300), default="")
    unit_code: Mapped[str] = mapped_column(String(20), default="")
    country_code: Mapped[str | None] = mapped_column(ForeignKey("country.code"), index=True)
    is_external: Mapped[bool] = mapped_column(default=True, index=True)
    max_load: Mapped[int] = mapped_column(default=5)  # proposals per call
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    user = relationship("User", lazy="joined")
    institution = relationship("Institution")
    country = relationship("Country")


class PoolInvitation(db.Model):
    """A programme manager invited someone to the reviewer pool by e-mail."""

    __tablename__ = "pool_invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_account: Mapped[bool] = mapped_column(default=False)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user = relationship("User", foreign_keys=[user_id])


class ReviewAssignment(db.Model):
    """One reviewer on one proposal, from the manager's preview to the review's submission.

    One row per (proposal, reviewer): removing and reinstating a reviewer reuses it, so the
    history stays in the audit trail and never in two rows.
    """

    __tablename__ = "review_assignment"
    __table_args__ = (
        UniqueConstraint("proposal_id", "reviewer_id"),
        Index("ix_review_assignment_call_status", "call_id", "status"),
        Index("ix_review_assignment_reviewer_status", "reviewer_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), index=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    status: Mapped[AssignmentStatus] = mapped_column(
        enum_column(AssignmentStatus, length=16), default=AssignmentStatus.PROPOSED
    )
    source: Mapped[str] = mapped_column(String(10), default="manual")  # manual | automatic
    expertise_match: Mapped[Decimal | None] = mapped_column(Numeric(4, 3))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    removed_reason: Mapped[str] = mapped_column(Text, default="")

    proposal = relationship("Proposal")
    reviewer = relationship("User", foreign_keys=[reviewer_id], lazy="joined")
    assigned_by = relationship("User", foreign_keys=[assigned_by_id])
    review: Mapped[Review | None] = relationship(back_populates="assignment", uselist=False)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class ConflictDeclaration(db.Model):
    """What a reviewer declared about a proposal before opening it: "none" or a typed conflict.

    One row per (proposal, reviewer); a reviewer who declared "none" and later finds a conflict
    changes it (audited), never the other way round.
    """

    __tablename__ = "conflict_declaration"
    __table_args__ = (UniqueConstraint("proposal_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ConflictKind] = mapped_column(enum_column(ConflictKind, length=24))
    comment: Mapped[str] = mapped_column(Text, default="")
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def is_conflict(self) -> bool:
        return self.kind != ConflictKind.NONE


class Review(db.Model):
    """A reviewer's scores and comments on one proposal; locked once submitted.

    ``version_id`` makes two saves from two tabs fail loudly instead of overwriting each other.
    """

    __tablename__ = "review"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(default=1)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("review_assignment.id", ondelete="CASCADE"), unique=True
    )
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    status: Mapped[ReviewStatus] = mapped_column(
        enum_column(ReviewStatus, length=12), default=ReviewStatus.DRAFT
    )
    comment_for_applicants: Mapped[str] = mapped_column(Text, default="")
    confidential_comment: Mapped[str] = mapped_column(Text, default="")
    ethics_flag: Mapped[bool] = mapped_column(default=False)
    ethics_comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reopened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reopen_reason: Mapped[str] = mapped_column(Text, default="")

    assignment: Mapped[ReviewAssignment] = relationship(back_populates="review")
    reviewer = relationship("User", foreign_keys=[reviewer_id])
    scores: Mapped[list[ReviewScore]] = relationship(
        back_populates="review", cascade="all, delete-orphan", lazy="selectin"
    )

    __mapper_args__ = {"version_id_col": version_id}

    @property
    def is_submitted(self) -> bool:
        return self.status == ReviewStatus.SUBMITTED

    def score_map(self) -> dict[str, int | None]:
        return {s.criterion_code: s.score for s in self.scores}

    def comment_map(self) -> dict[str, str]:
        return {s.criterion_code: s.comment for s in self.scores}


class ReviewScore(db.Model):
    """One criterion of a review: the score on the call's scale and its comment."""

    __tablename__ = "review_score"
    __table_args__ = (UniqueConstraint("review_id", "criterion_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"), index=True)
    criterion_code: Mapped[str] = mapped_column(String(32))
    score: Mapped[int | None]
    comment: Mapped[str] = mapped_column(Text, default="")

    review: Mapped[Review] = relationship(back_populates="scores")


class Consensus(db.Model):
    """The programme manager's moderated consensus on a proposal.

    ``computed_score`` is the weighted score of the reviews when the consensus was recorded;
    ``score`` the moderated one (an override of the computed score carries a justification).
    """

    __tablename__ = "consensus"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(default=1)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), unique=True)
    computed_score: Mapped[Decimal | None] = mapped_column(Numeric(6, 3))
    score: Mapped[Decimal] = mapped_column(Numeric(6, 3))
    grade: Mapped[str] = mapped_column(String(4), default="")
    comment: Mapped[str] = mapped_column(Text, default="")  # goes to the applicants' summary
    override_justification: Mapped[str] = mapped_column(Text, default="")  # internal
    open_to_reviewers: Mapped[bool] = mapped_column(default=False)
    moderated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    moderated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    moderated_by = relationship("User")

    __mapper_args__ = {"version_id_col": version_id}


class RankingMove(db.Model):
    """A manual move in a call's ranking, with its written justification (also audited)."""

    __tablename__ = "ranking_move"
    __table_args__ = (CheckConstraint("justification != ''", name="justified"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), index=True)
    from_position: Mapped[int]
    to_position: Mapped[int]
    justification: Mapped[str] = mapped_column(Text)
    moved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    moved_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    proposal = relationship("Proposal")
    moved_by = relationship("User")


class ReviewReminder(db.Model):
    """A reminder sent for an assignment on a given day: at most one per assignment and day."""

    __tablename__ = "review_reminder"
    __table_args__ = (UniqueConstraint("assignment_id", "sent_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("review_assignment.id", ondelete="CASCADE"))
    sent_on: Mapped[date] = mapped_column(Date)  # the day in Paris
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
