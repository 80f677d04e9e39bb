"""Reference data: countries, institutions, the instruments' configuration."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.user import enum_column
from workflows.instruments import Instrument


class Country(db.Model):
    __tablename__ = "country"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)  # ISO 3166-1 alpha-2
    alpha3: Mapped[str] = mapped_column(String(3), unique=True)
    name_en: Mapped[str] = mapped_column(String(120))
    name_fr: Mapped[str] = mapped_column(String(120))
    is_european: Mapped[bool] = mapped_column(default=False)

    def name(self, locale: str) -> str:
        return self.name_fr if locale.startswith("fr") else self.name_en


class Institution(db.Model):
    __tablename__ = "institution"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    acronym: Mapped[str] = mapped_column(String(50), default="")
    country_code: Mapped[str] = mapped_column(ForeignKey("country.code"), index=True)
    # inserm, french_university, french_other, foreign: decides which side of a team it stands.
    kind: Mapped[str] = mapped_column(String(30), default="foreign")
    # Used by conflict-of-interest detection (same e-mail domain as a team).
    email_domain: Mapped[str] = mapped_column(String(120), default="")

    country: Mapped[Country] = relationship(lazy="joined")

    @property
    def is_french(self) -> bool:
        return self.country_code == "FR"

    def __str__(self) -> str:
        return f"{self.name} ({self.acronym})" if self.acronym else self.name


class InstrumentConfig(db.Model):
    """Per-instrument defaults a call starts from; editable by admins, seeded from workflows."""

    __tablename__ = "instrument_config"

    instrument: Mapped[Instrument] = mapped_column(enum_column(Instrument), primary_key=True)
    label_en: Mapped[str] = mapped_column(String(120))
    label_fr: Mapped[str] = mapped_column(String(120))
    duration_years: Mapped[int]
    max_renewals: Mapped[int]
    default_annual_amount_eur: Mapped[int | None]
    max_annual_amount_eur: Mapped[int | None]
    non_mobility_cap_pct: Mapped[int] = mapped_column(default=20)
    salaries_allowed: Mapped[bool] = mapped_column(default=False)
    has_call: Mapped[bool] = mapped_column(default=True)
    rolling_call: Mapped[bool] = mapped_column(default=False)

    def label(self, locale: str) -> str:
        return self.label_fr if locale.startswith("fr") else self.label_en
