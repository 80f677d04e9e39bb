"""Calls for proposals, their grid and documents, and the cooperation-agreement registry."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.reference import Country, Institution
from webapp.models.types import UTCDateTime, utcnow
from webapp.models.user import enum_column
from workflows.calls import (
    TEXT_FIELDS,
    AttachmentSpec,
    CallStatus,
    CountryPolicy,
    CriterionSpec,
    GradeBand,
    Grid,
    call_status,
)
from workflows.instruments import Instrument, rules_for


def localised(fr: str, en: str, locale: str) -> str:
    """The text in the reader's language, or the other one rather than nothing."""
    first, second = (fr, en) if str(locale).startswith("fr") else (en, fr)
    return first or second or ""


class Theme(db.Model):
    """A research theme: preferred by agreements, made eligible by calls."""

    __tablename__ = "theme"

    id: Mapped[int] = mapped_column(primary_key=True)
    label_fr: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200), unique=True)

    def label(self, locale: str) -> str:
        return localised(self.label_fr, self.label_en, locale)


# --- the cooperation-agreement registry ---------------------------------------------------------

agreement_country = Table(
    "agreement_country",
    db.metadata,
    Column(
        "agreement_id", ForeignKey("cooperation_agreement.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("country_code", ForeignKey("country.code"), primary_key=True, index=True),
)

agreement_theme = Table(
    "agreement_theme",
    db.metadata,
    Column(
        "agreement_id", ForeignKey("cooperation_agreement.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("theme_id", ForeignKey("theme.id", ondelete="CASCADE"), primary_key=True, index=True),
)

agreement_partner = Table(
    "agreement_partner",
    db.metadata,
    Column(
        "agreement_id", ForeignKey("cooperation_agreement.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("institution_id", ForeignKey("institution.id"), primary_key=True, index=True),
)


class CooperationAgreement(db.Model):
    """An institution-to-institution framework with a priority country (DOMAIN.md section 1).

    Calls draw their eligible countries from the agreements in force.
    """

    __tablename__ = "cooperation_agreement"
    __table_args__ = (
        CheckConstraint(
            "ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on", name="ends_after_start"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    countries: Mapped[list[Country]] = relationship(
        secondary=agreement_country, order_by=Country.name_en, lazy="selectin"
    )
    themes: Mapped[list[Theme]] = relationship(
        secondary=agreement_theme, order_by=Theme.label_en, lazy="selectin"
    )
    partners: Mapped[list[Institution]] = relationship(
        secondary=agreement_partner, order_by=Institution.name, lazy="selectin"
    )

    def in_force(self, today: date) -> bool:
        """Whether the agreement covers ``today`` (open-ended dates count as covering)."""
        return (self.starts_on is None or self.starts_on <= today) and (
            self.ends_on is None or today <= self.ends_on
        )


# --- calls --------------------------------------------------------------------------------------

call_country = Table(
    "call_country",
    db.metadata,
    Column("call_id", ForeignKey("call.id", ondelete="CASCADE"), primary_key=True),
    Column("country_code", ForeignKey("country.code"), primary_key=True, index=True),
)

call_theme = Table(
    "call_theme",
    db.metadata,
    Column("call_id", ForeignKey("call.id", ondelete="CASCADE"), primary_key=True),
    Column("theme_id", ForeignKey("theme.id"), primary_key=True, index=True),
)


class Call(db.Model):
    """A call for proposals for one instrument and year.

    Times are aware UTC (entered and shown in Paris time). ``closes_at`` is the call's final
    deadline (the full-proposal deadline of a two-stage call); it is empty for a rolling call.
    The open / upcoming / closed status is derived from the dates (`status`), never stored.
    ``version_id`` makes concurrent edits fail loudly instead of overwriting each other.
    """

    __tablename__ = "call"
    __table_args__ = (
        CheckConstraint("NOT is_rolling OR closes_at IS NULL", name="rolling_has_no_closing"),
        CheckConstraint("NOT (is_rolling AND two_stage)", name="rolling_single_stage"),
        CheckConstraint("grace_minutes >= 0", name="grace_not_negative"),
        CheckConstraint(
            "max_per_year_eur IS NULL OR max_per_year_eur >= 0", name="max_per_year_not_negative"
        ),
        CheckConstraint(
            "budget_envelope_eur IS NULL OR budget_envelope_eur >= 0", name="envelope_not_negative"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(default=1)
    instrument: Mapped[Instrument] = mapped_column(enum_column(Instrument), index=True)
    year: Mapped[int] = mapped_column(index=True)
    title_fr: Mapped[str] = mapped_column(String(300), default="")
    title_en: Mapped[str] = mapped_column(String(300), default="")
    text_fr: Mapped[str] = mapped_column(Text, default="")  # Markdown
    text_en: Mapped[str] = mapped_column(Text, default="")  # Markdown

    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    is_rolling: Mapped[bool] = mapped_column(default=False)
    grace_minutes: Mapped[int] = mapped_column(default=0)
    two_stage: Mapped[bool] = mapped_column(default=False)
    loi_deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    country_policy: Mapped[CountryPolicy] = mapped_column(
        enum_column(CountryPolicy, length=16), default=CountryPolicy.REFUSE
    )

    budget_envelope_eur: Mapped[int | None]
    max_per_year_eur: Mapped[int | None]
    duration_years: Mapped[int] = mapped_column(default=4)
    salaries_allowed: Mapped[bool] = mapped_column(default=False)
    non_mobility_cap_pct: Mapped[int | None] = mapped_column(default=20)

    max_chars_abstract: Mapped[int | None]
    max_chars_history: Mapped[int | None]
    max_chars_programme: Mapped[int | None]
    max_chars_mobility_plan: Mapped[int | None]
    max_chars_ethics: Mapped[int | None]

    scale_min: Mapped[int] = mapped_column(default=1)
    scale_max: Mapped[int] = mapped_column(default=5)
    overall_threshold: Mapped[float | None] = mapped_column(Float)
    # [{"grade": "A+", "min_score": 4.5}, ...], highest first.
    grade_bands: Mapped[list] = mapped_column(JSON, default=list)
    # Criterion codes, most decisive first.
    tie_break: Mapped[list] = mapped_column(JSON, default=list)
    reviewers_per_proposal: Mapped[int] = mapped_column(default=2)
    target_awards: Mapped[int | None]
    funding_start: Mapped[date | None] = mapped_column(Date)

    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    cloned_from_id: Mapped[int | None] = mapped_column(ForeignKey("call.id", ondelete="SET NULL"))

    countries: Mapped[list[Country]] = relationship(
        secondary=call_country, order_by=Country.name_en, lazy="selectin"
    )
    themes: Mapped[list[Theme]] = relationship(
        secondary=call_theme, order_by=Theme.label_en, lazy="selectin"
    )
    criteria: Mapped[list[CallCriterion]] = relationship(
        back_populates="call",
        cascade="all, delete-orphan",
        order_by="CallCriterion.position",
        lazy="selectin",
    )
    attachment_kinds: Mapped[list[CallAttachmentKind]] = relationship(
        back_populates="call",
        cascade="all, delete-orphan",
        order_by="CallAttachmentKind.position",
        lazy="selectin",
    )

    __mapper_args__ = {"version_id_col": version_id}

    def __repr__(self) -> str:
        return f"<Call {self.id} {self.instrument} {self.year}>"

    # --- language ---

    def title(self, locale: str) -> str:
        return localised(self.title_fr, self.title_en, locale)

    def text(self, locale: str) -> str:
        return localised(self.text_fr, self.text_en, locale)

    @property
    def instrument_rules(self):
        return rules_for(self.instrument)

    # --- status, derived from the dates ---

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    def status(self, now: datetime | None = None) -> CallStatus:
        return call_status(
            now or utcnow(),
            published=self.is_published,
            opens_at=self.opens_at,
            closes_at=None if self.is_rolling else self.closes_at,
        )

    @property
    def grace(self) -> timedelta:
        return timedelta(minutes=self.grace_minutes or 0)

    def next_deadline(self, now: datetime | None = None) -> datetime | None:
        """The deadline applicants race against now: the letter of intent's, then the call's."""
        now = now or utcnow()
        if self.two_stage and self.loi_deadline_at is not None and now <= self.loi_deadline_at:
            return self.loi_deadline_at
        return None if self.is_rolling else self.closes_at

    @property
    def has_submissions(self) -> bool:
        """Whether any proposal has been submitted to this call (at least once, even if taken
        back since). It freezes the grid (editor and `workflows.calls.grid_change_problems`)
        and stops unpublishing (`workflows.calls.unpublish_problems`)."""
        from webapp.models.proposals import submitted_count

        return self.id is not None and submitted_count(self.id) > 0

    # --- the pure views the rules work on ---

    @property
    def char_limits(self) -> dict[str, int | None]:
        return {name: getattr(self, f"max_chars_{name}") for name in TEXT_FIELDS}

    def grid(self) -> Grid:
        return Grid(
            criteria=tuple(c.spec() for c in self.criteria),
            scale_min=self.scale_min,
            scale_max=self.scale_max,
            overall_threshold=self.overall_threshold,
            grade_bands=tuple(
                GradeBand(str(b.get("grade", "")), float(b.get("min_score", 0)))
                for b in (self.grade_bands or [])
            ),
            tie_break=tuple(self.tie_break or ()),
        )

    def attachment_specs(self) -> tuple[AttachmentSpec, ...]:
        return tuple(k.spec() for k in self.attachment_kinds)

    @property
    def required_attachments(self) -> list[CallAttachmentKind]:
        return [k for k in self.attachment_kinds if k.required]

    @property
    def optional_attachments(self) -> list[CallAttachmentKind]:
        return [k for k in self.attachment_kinds if not k.required]

    @property
    def country_codes(self) -> list[str]:
        return [c.code for c in self.countries]


class CallCriterion(db.Model):
    """One criterion of a call's evaluation grid."""

    __tablename__ = "call_criterion"
    __table_args__ = (
        UniqueConstraint("call_id", "code"),
        CheckConstraint("weight >= 0 AND weight <= 100", name="weight_percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    code: Mapped[str] = mapped_column(String(32))
    label_fr: Mapped[str] = mapped_column(String(300), default="")
    label_en: Mapped[str] = mapped_column(String(300), default="")
    guidance_fr: Mapped[str] = mapped_column(Text, default="")
    guidance_en: Mapped[str] = mapped_column(Text, default="")
    weight: Mapped[int] = mapped_column(default=0)
    threshold: Mapped[int | None]

    call: Mapped[Call] = relationship(back_populates="criteria")

    def label(self, locale: str) -> str:
        return localised(self.label_fr, self.label_en, locale)

    def guidance(self, locale: str) -> str:
        return localised(self.guidance_fr, self.guidance_en, locale)

    def spec(self) -> CriterionSpec:
        return CriterionSpec(
            self.code,
            self.label_fr,
            self.label_en,
            self.weight,
            self.guidance_fr,
            self.guidance_en,
            self.threshold,
        )


class CallAttachmentKind(db.Model):
    """A document proposals to this call carry, required or optional, with its size limit."""

    __tablename__ = "call_attachment_kind"
    __table_args__ = (
        UniqueConstraint("call_id", "code"),
        CheckConstraint("max_mb > 0", name="max_mb_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    code: Mapped[str] = mapped_column(String(40))
    label_fr: Mapped[str] = mapped_column(String(300), default="")
    label_en: Mapped[str] = mapped_column(String(300), default="")
    required: Mapped[bool] = mapped_column(default=True)
    max_mb: Mapped[int] = mapped_column(default=5)

    call: Mapped[Call] = relationship(back_populates="attachment_kinds")

    def label(self, locale: str) -> str:
        return localised(self.label_fr, self.label_en, locale)

    def spec(self) -> AttachmentSpec:
        return AttachmentSpec(self.code, self.label_fr, self.label_en, self.required, self.max_mb)


def without_collections():
    """Loader options for a list of calls that shows none of their collections (countries,
    themes, criteria, documents): they are otherwise loaded with every call."""
    from sqlalchemy.orm import lazyload

    return [lazyload(c) for c in CALL_COLLECTIONS]


def call_without_collections(relationship):
    """Loader option for rows that show their call (``Proposal.call``, ...) but none of its
    collections: the call joined, its four collections not loaded."""
    from sqlalchemy.orm import joinedload

    return joinedload(relationship).options(*without_collections())


CALL_COLLECTIONS = (Call.countries, Call.themes, Call.criteria, Call.attachment_kinds)
