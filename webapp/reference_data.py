"""Loading reference data: countries (ISO codes, French and English names), instruments."""

from __future__ import annotations

import gettext

import pycountry
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Country, InstrumentConfig
from workflows.instruments import RULES

# Council of Europe members and the other states of the continent: an "E" partner (LEA, GDRE).
EUROPEAN = set(
    "AD AL AM AT AZ BA BE BG BY CH CY CZ DE DK EE ES FI FO FR GB GE GI GR HR HU IE IS IT LI LT LU "
    "LV MC MD ME MK MT NL NO PL PT RO RS RU SE SI SK SM UA VA XK".split()
)


def load_countries() -> int:
    """Insert missing countries; names come from pycountry's ISO 3166 catalogue and translations."""
    french = gettext.translation(
        "iso3166-1", pycountry.LOCALES_DIR, languages=["fr"], fallback=True
    )
    existing = set(db.session.scalars(select(Country.code)))
    added = 0
    for c in pycountry.countries:
        if c.alpha_2 in existing:
            continue
        name_en = getattr(c, "common_name", None) or c.name
        db.session.add(
            Country(
                code=c.alpha_2,
                alpha3=c.alpha_3,
                name_en=name_en,
                name_fr=french.gettext(c.name),
                is_european=c.alpha_2 in EUROPEAN,
            )
        )
        added += 1
    db.session.flush()
    return added


def load_instruments() -> int:
    added = 0
    for instrument, rules in RULES.items():
        if db.session.get(InstrumentConfig, instrument) is not None:
            continue
        db.session.add(
            InstrumentConfig(
                instrument=instrument,
                label_en=rules.label_en,
                label_fr=rules.label_fr,
                duration_years=rules.duration_years,
                max_renewals=rules.max_renewals,
                default_annual_amount_eur=rules.default_annual_amount_eur,
                max_annual_amount_eur=rules.default_max_annual_amount_eur,
                has_call=rules.has_call,
                rolling_call=rules.rolling_call,
            )
        )
        added += 1
    db.session.flush()
    return added
