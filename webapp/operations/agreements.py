"""The cooperation-agreement registry and its themes: create, edit, seed.

Like every use case these flush and never commit; the view commits once per request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Country, Institution, User
from webapp.models.calls import CooperationAgreement, Theme
from webapp.operations.audit import record


class AgreementError(Exception):
    """A refusal whose message can be shown to the user."""


@dataclass
class PartnerData:
    name: str
    acronym: str = ""
    country_code: str = ""


@dataclass
class AgreementData:
    title: str
    starts_on: date | None = None
    ends_on: date | None = None
    notes: str = ""
    country_codes: list[str] = field(default_factory=list)
    theme_ids: list[int] = field(default_factory=list)
    partners: list[PartnerData] = field(default_factory=list)


def _summary(agreement: CooperationAgreement) -> dict:
    return {
        "title": agreement.title,
        "starts_on": agreement.starts_on.isoformat() if agreement.starts_on else None,
        "ends_on": agreement.ends_on.isoformat() if agreement.ends_on else None,
        "countries": sorted(c.code for c in agreement.countries),
        "themes": sorted(t.id for t in agreement.themes),
        "partners": sorted(p.id for p in agreement.partners),
    }


def find_or_create_institution(partner: PartnerData) -> Institution:
    """The institution of that name in that country, created if the registry names it first."""
    name = " ".join(partner.name.split())
    code = partner.country_code.strip().upper()
    found = db.session.scalar(
        select(Institution).where(
            func.lower(Institution.name) == name.lower(), Institution.country_code == code
        )
    )
    if found is not None:
        if partner.acronym and not found.acronym:
            found.acronym = partner.acronym.strip()
        return found
    institution = Institution(
        name=name,
        acronym=partner.acronym.strip(),
        country_code=code,
        kind="french_other" if code == "FR" else "foreign",
    )
    db.session.add(institution)
    db.session.flush()
    return institution


def _apply(agreement: CooperationAgreement, data: AgreementData) -> None:
    if not data.title.strip():
        raise AgreementError(_l("The agreement needs a title."))
    if not data.country_codes:
        raise AgreementError(_l("Choose at least one country."))
    if data.starts_on and data.ends_on and data.ends_on < data.starts_on:
        raise AgreementError(_l("The agreement ends before it starts."))
    agreement.title = data.title.strip()
    agreement.starts_on, agreement.ends_on = data.starts_on, data.ends_on
    agreement.notes = data.notes.strip()
    codes = sorted({c.upper() for c in data.country_codes})
    agreement.countries = list(db.session.scalars(select(Country).where(Country.code.in_(codes))))
    agreement.themes = (
        list(db.session.scalars(select(Theme).where(Theme.id.in_(set(data.theme_ids)))))
        if data.theme_ids
        else []
    )
    partners: dict[int, Institution] = {}
    for partner in data.partners:
        if partner.name.strip():
            institution = find_or_create_institution(partner)
            partners[institution.id] = institution
    agreement.partners = list(partners.values())


def create_agreement(data: AgreementData, actor: User | None) -> CooperationAgreement:
    agreement = CooperationAgreement(title=data.title.strip())
    db.session.add(agreement)
    _apply(agreement, data)
    db.session.flush()
    record(actor, "agreement.created", agreement, after=_summary(agreement))
    return agreement


def update_agreement(agreement: CooperationAgreement, data: AgreementData, actor: User) -> None:
    before = _summary(agreement)
    _apply(agreement, data)
    db.session.flush()
    after = _summary(agreement)
    changed = [k for k in after if before[k] != after[k]]
    record(
        actor,
        "agreement.updated",
        agreement,
        before={k: before[k] for k in changed},
        after={k: after[k] for k in changed},
    )


def save_theme(theme: Theme | None, label_fr: str, label_en: str, actor: User | None) -> Theme:
    """Create (``theme`` None) or rename a theme; English labels are unique."""
    label_fr, label_en = " ".join(label_fr.split()), " ".join(label_en.split())
    if not label_fr or not label_en:
        raise AgreementError(_l("A theme needs a French and an English label."))
    clash = db.session.scalar(select(Theme).where(func.lower(Theme.label_en) == label_en.lower()))
    if clash is not None and clash is not theme:
        raise AgreementError(_l("This theme already exists."))
    before = None if theme is None else {"label_fr": theme.label_fr, "label_en": theme.label_en}
    if theme is None:
        theme = Theme(label_fr=label_fr, label_en=label_en)
        db.session.add(theme)
    theme.label_fr, theme.label_en = label_fr, label_en
    db.session.flush()
    record(
        actor,
        "theme.created" if before is None else "theme.updated",
        theme,
        before=before,
        after={"label_fr": label_fr, "label_en": label_en},
    )
    return theme


# --- seed: the priority countries and themes of DOMAIN.md section 1 (2016 call) -----------------

PRIORITY_THEMES = {
    "infectious": ("Maladies infectieuses", "Infectious diseases"),
    "metabolic": ("Maladies métaboliques chroniques", "Chronic metabolic diseases"),
    "neuro": ("Neurosciences", "Neurosciences"),
    "ageing": ("Vieillissement", "Ageing"),
    "regenerative": (
        "Médecine régénératrice et thérapie cellulaire",
        "Regenerative medicine and cell therapy",
    ),
    "neurodegeneration": ("Neurodégénérescence", "Neurodegeneration"),
}

# (title, country codes or "EUROPE", preferred themes)
PRIORITY_AGREEMENTS: list[tuple[str, list[str] | str, list[str]]] = [
    ("Brazil", ["BR"], ["neuro"]),
    ("Canada / Quebec", ["CA"], ["ageing", "neurodegeneration"]),
    ("China", ["CN"], ["infectious"]),
    ("India", ["IN"], ["metabolic"]),
    ("Israel", ["IL"], []),
    ("Japan", ["JP"], ["ageing", "regenerative"]),
    ("Maghreb", ["DZ", "MA", "TN"], []),
    ("Singapore", ["SG"], ["ageing", "regenerative"]),
    ("South Korea", ["KR"], ["ageing", "regenerative"]),
    ("Taiwan", ["TW"], ["ageing", "regenerative"]),
    ("United States", ["US"], []),
    ("Europe", "EUROPE", []),
]
SEED_NOTE = (
    "Priority country of Inserm's LEA/LIA call (2016). Partner institutions and dates to be "
    "completed by the international affairs department."
)


def seed_priority_agreements() -> int:
    """Create the priority themes and one agreement per priority country (idempotent).

    Returns the number of agreements created. Countries must be loaded first.
    """
    themes = {}
    for key, (label_fr, label_en) in PRIORITY_THEMES.items():
        theme = db.session.scalar(select(Theme).where(Theme.label_en == label_en))
        if theme is None:
            theme = Theme(label_fr=label_fr, label_en=label_en)
            db.session.add(theme)
        themes[key] = theme
    db.session.flush()
    created = 0
    for title, codes, theme_keys in PRIORITY_AGREEMENTS:
        full_title = f"Inserm – {title}"
        exists = db.session.scalar(
            select(CooperationAgreement.id).where(CooperationAgreement.title == full_title)
        )
        if exists is not None:
            continue
        if codes == "EUROPE":
            countries = list(
                db.session.scalars(select(Country).where(Country.is_european.is_(True), Country.code != "FR"))
            )
        else:
            countries = list(db.session.scalars(select(Country).where(Country.code.in_(codes))))
        if not countries:
            continue
        agreement = CooperationAgreement(
            title=full_title, notes=SEED_NOTE, countries=countries, themes=[themes[k] for k in theme_keys]
        )
        db.session.add(agreement)
        created += 1
    db.session.flush()
    return created
