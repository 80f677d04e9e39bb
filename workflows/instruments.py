"""The four cooperation instruments and their default rules (DOMAIN.md section 1).

Values marked [doc] come from Inserm's public pages; [default] values are our choice. Every
value here is a *default*: a call or an agreement may override it (the web layer seeds its
editable ``InstrumentConfig`` rows from `RULES`), so code must read limits from the call where
one exists and fall back to these only when none does.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from workflows.errors import RuleError


class Instrument(StrEnum):
    """A cooperation instrument; E/I (European/international) is decided by the partner country."""

    LEA_LIA = "lea_lia"
    GDRE_GDRI = "gdre_gdri"
    UME_UMI = "ume_umi"
    COOPERATION_AGREEMENT = "cooperation_agreement"


@dataclass(frozen=True)
class InstrumentRules:
    """Default shape, duration and money of one instrument.

    ``max_*`` counts of ``None`` mean "no maximum". Amounts are whole euros; ``None`` means the
    amount is set per agreement rather than by a default.
    """

    duration_years: int
    max_renewals: int
    min_french_teams: int
    max_french_teams: int | None
    min_foreign_teams: int
    max_foreign_teams: int | None
    default_annual_amount_eur: int | None
    default_max_annual_amount_eur: int | None
    has_call: bool
    rolling_call: bool
    requires_committees: bool
    label_en: str
    label_fr: str
    # Applicants belong to an Inserm unit, so every instrument has at least one Inserm team.
    min_inserm_teams: int = 1
    default_min_annual_amount_eur: int | None = None
    # Eligible-expense rules [doc: no salaries; CNRS caps non-mobility costs at 20 % a year].
    salaries_allowed: bool = False
    non_mobility_cap_pct: int | None = 20

    @property
    def short_label_en(self) -> str:
        """The acronym form for messages ("LEA / LIA"), or the full name if it has none."""
        start, end = self.label_en.find("("), self.label_en.rfind(")")
        return self.label_en[start + 1 : end] if 0 <= start < end else self.label_en

    def label(self, locale: str) -> str:
        """The instrument's name in the reader's language (French for any ``fr*`` locale)."""
        return self.label_fr if locale.lower().startswith("fr") else self.label_en


RULES: dict[Instrument, InstrumentRules] = {
    Instrument.LEA_LIA: InstrumentRules(
        duration_years=4,  # [doc] 4-year cooperation agreement
        max_renewals=1,  # [default, as CNRS]
        min_french_teams=1,  # [doc] one Inserm team + one foreign team
        max_french_teams=1,
        min_foreign_teams=1,
        max_foreign_teams=1,
        default_annual_amount_eur=15_000,  # [default]
        default_max_annual_amount_eur=15_000,
        has_call=True,  # [doc] annual competitive call, March to June
        rolling_call=False,
        requires_committees=False,
        label_en="European / International Associated Laboratory (LEA / LIA)",
        label_fr="Laboratoire européen / international associé (LEA / LIA)",
    ),
    Instrument.GDRE_GDRI: InstrumentRules(
        duration_years=4,  # [doc] 4 years, renewable once
        max_renewals=1,
        min_french_teams=2,  # [doc] several French teams + one or more partner countries
        max_french_teams=None,
        min_foreign_teams=1,
        max_foreign_teams=None,
        default_annual_amount_eur=None,  # decided case by case within the range below
        default_max_annual_amount_eur=15_000,  # [default] 10,000-15,000 a year
        default_min_annual_amount_eur=10_000,
        has_call=True,  # [doc] case-by-case designation: a call open all year
        rolling_call=True,
        requires_committees=True,  # [doc] scientific and steering committees
        label_en="European / International Research Network (GDRE / GDRI)",
        label_fr="Groupement de recherche européen / international (GDRE / GDRI)",
    ),
    Instrument.UME_UMI: InstrumentRules(
        duration_years=5,  # [doc]
        max_renewals=2,  # [default] renewal after evaluation
        min_french_teams=1,  # Inserm
        max_french_teams=None,
        min_foreign_teams=1,  # the foreign host institution
        max_foreign_teams=None,
        default_annual_amount_eur=None,  # [doc] resources set by the negotiated agreement
        default_max_annual_amount_eur=None,
        has_call=False,  # [doc] negotiated, no call
        rolling_call=False,
        requires_committees=False,
        label_en="European / International Joint Unit (UME / UMI)",
        label_fr="Unité mixte européenne / internationale (UME / UMI)",
    ),
    Instrument.COOPERATION_AGREEMENT: InstrumentRules(
        duration_years=5,  # [default] per agreement
        max_renewals=1,  # [default] per agreement; an int so it can seed an editable setting
        min_french_teams=1,  # institution to institution: Inserm and one foreign institution
        max_french_teams=1,
        min_foreign_teams=1,
        max_foreign_teams=1,
        default_annual_amount_eur=None,  # per agreement
        default_max_annual_amount_eur=None,
        has_call=False,  # [doc] Directorate-General initiative
        rolling_call=False,
        requires_committees=False,
        label_en="Cooperation agreement",
        label_fr="Accord de coopération",
    ),
}

#: Instruments a call can be published for, in display order.
CALL_INSTRUMENTS: tuple[Instrument, ...] = tuple(i for i in Instrument if RULES[i].has_call)


def rules_for(instrument: Instrument | str) -> InstrumentRules:
    """The default rules of an instrument; accepts the stored string value too.

    Raises `RuleError` for an unknown instrument rather than a bare ``KeyError``, so a bad value
    read from storage is reported as what it is.
    """
    try:
        return RULES[Instrument(instrument)]
    except ValueError:
        raise RuleError(f"Unknown instrument {instrument!r}.") from None
