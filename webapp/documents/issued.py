"""Decision letters and agreements: the data they are made from, the PDF, the frozen record.

Each document is built in three steps so the slow middle one holds no database lock:

1. ``*_data(...)``: everything the document says, as a plain JSON dict (kept with the document);
2. ``render_*(data)``: the PDF (WeasyPrint, PDF/A-2b) then the platform's signature (pyHanko,
   applied last), from the dict alone;
3. `store_document`: the file and its `IssuedDocument` row written as one unit.

An issued document is never regenerated: asking again returns the stored one; a correction is a
new version of the same reference that supersedes the old one (both kept).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_babel import force_locale, format_date
from sqlalchemy import func, select
from sqlalchemy.orm import lazyload, load_only

from webapp.documents.render import render_pdf
from webapp.documents.signing import sign_pdf
from webapp.extensions import db
from webapp.models import IssuedDocument, Proposal, User, utcnow
from webapp.models.decisions import StructureAgreement
from webapp.storage import save_bytes
from workflows import decisions as rules
from workflows.instruments import Instrument, rules_for
from workflows.money import BudgetLine as RuleBudgetLine
from workflows.money import totals
from workflows.proposal_states import ProposalState
from workflows.timeutils import paris_date

LETTER = "decision_letter"
AGREEMENT = "agreement"
PDF_VARIANT = "pdf/a-2b"
LANGUAGES = ("fr", "en")
#: A letter names its signatory: neither their institution nor their roles are loaded.
SIGNATORY_NAME_ONLY = [
    load_only(User.first_name, User.last_name, User.email),
    lazyload(User.institution),
    lazyload(User.role_grants),
]


def language_of(user) -> str:
    """Documents speak the coordinator's language (French unless they chose English)."""
    locale = (getattr(user, "locale", "") or "fr")[:2]
    return locale if locale in LANGUAGES else "fr"


def letter_reference(proposal: Proposal) -> str:
    return f"DEC-{proposal.reference}"


def _country_name(team, language: str) -> str:
    country = getattr(team, "country", None)
    return country.name(language) if country is not None else team.country_code


def _number(value):
    if isinstance(value, Decimal):
        return float(value)
    return value


def _team(team, language: str) -> dict:
    return {
        "laboratory": team.laboratory,
        "unit_code": team.unit_code,
        "institution": team.institution_name,
        "authority": team.authority,
        "country": _country_name(team, language),
        "country_code": team.country_code,
        "leader": team.leader_name,
        "is_inserm": bool(team.is_inserm),
    }


def _assessment(proposal: Proposal, language: str) -> dict:
    """The anonymised summary written by assessment: scores, comments for applicants, consensus.

    Only these keys are read, so nothing else that might sit in the summary reaches a letter.
    """
    summary = proposal.assessment_summary or {}
    criteria = []
    for c in summary.get("criteria") or []:
        label = c.get("label_fr") if language == "fr" else c.get("label_en")
        criteria.append(
            {
                "code": str(c.get("code", "")),
                "label": str(label or c.get("label_en") or c.get("label_fr") or ""),
                "weight": _number(c.get("weight")),
                "score": _number(c.get("score")),
            }
        )
    score = summary.get("weighted_score", proposal.consensus_score)
    return {
        "weighted_score": _number(score),
        "grade": str(summary.get("grade") or proposal.consensus_grade or ""),
        "criteria": criteria,
        "comments_for_applicants": [str(c) for c in summary.get("comments_for_applicants") or [] if c],
        "consensus_comment": str(summary.get("consensus_comment") or proposal.consensus_comment or ""),
    }


def _budget(proposal: Proposal) -> dict:
    lines = [
        RuleBudgetLine(b.year, b.category, b.amount_eur, b.partner_cash_eur, b.partner_in_kind_eur)
        for b in proposal.budget_lines
    ]
    summed = totals(lines)
    return {
        "requested_by_year": {str(y): a for y, a in summed.by_year.items()},
        "requested_total_eur": summed.total_eur,
        "partner_cash_eur": summed.partner_cash_eur,
        "partner_in_kind_eur": summed.partner_in_kind_eur,
        "partner_total_eur": summed.partner_total_eur,
    }


def letter_data(proposal: Proposal, *, version: int = 1, issued_at: datetime | None = None) -> dict:
    """What the decision letter of ``proposal`` says, in the coordinator's language."""
    issued_at = issued_at or utcnow()
    call = proposal.call
    language = language_of(proposal.coordinator)
    instrument = Instrument(call.instrument)
    teams = list(proposal.teams)
    inserm = next((t for t in teams if t.is_inserm), teams[0] if teams else None)
    awarded = ProposalState(proposal.state) in (ProposalState.AWARDED, ProposalState.AGREEMENT_PENDING)
    decided_at = proposal.decided_at or issued_at
    signatory = (
        db.session.get(User, proposal.decision_by_id, options=SIGNATORY_NAME_ONLY)
        if proposal.decision_by_id
        else None
    )
    budget = _budget(proposal)
    data = {
        "kind": LETTER,
        "reference": letter_reference(proposal),
        "version": version,
        "issued_on": paris_date(issued_at).isoformat(),
        "language": language,
        "instrument": instrument.value,
        "instrument_label": rules_for(instrument).label(language),
        "call": {"title": call.title(language), "year": call.year, "rolling": bool(call.is_rolling)},
        "proposal": {"reference": proposal.reference, "title": proposal.title, "acronym": proposal.acronym},
        "coordinator": {
            "name": proposal.coordinator.full_name,
            "laboratory": inserm.laboratory if inserm else "",
            "unit_code": inserm.unit_code if inserm else "",
            "institution": inserm.institution_name if inserm else "Inserm",
        },
        "co_coordinator": proposal.co_coordinator_name,
        "teams": [_team(t, language) for t in teams],
        "outcome": rules.Outcome.AWARD.value if awarded else rules.Outcome.REJECT.value,
        "decided_on": paris_date(decided_at).isoformat(),
        "decision_comment": proposal.decision_comment or "",
        "assessment": _assessment(proposal, language),
        "signatory": signatory.full_name if signatory is not None else "",
        "budget": budget,
        "award": None,
        "rejection": None,
    }
    if awarded:
        annual = proposal.decision_annual_eur or proposal.requested_annual_eur or 0
        terms = rules.award_terms(
            decided_at=decided_at,
            duration_years=proposal.duration_years or call.duration_years,
            annual_eur=annual,
            call_funding_start=call.funding_start,
            partner_contribution_expected=True,
        )
        data["award"] = {
            "duration_years": terms.duration_years,
            "start": terms.start.isoformat(),
            "end": terms.end.isoformat(),
            "annual_eur": terms.annual_eur,
            "grant_years": list(terms.grant_years),
            "total_eur": terms.total_eur,
            "reporting": [{"year": y, "due": d.isoformat()} for y, d in terms.reporting],
            "conditions": [c.value for c in terms.conditions],
            "agreement_within_months": terms.agreement_within_months,
            "max_per_year_eur": call.max_per_year_eur,
            "salaries_allowed": bool(call.salaries_allowed),
            "non_mobility_cap_pct": call.non_mobility_cap_pct,
        }
    else:
        released = proposal.decision_released_at or issued_at
        data["rejection"] = {
            "resubmission_allowed": bool(proposal.decision_resubmission_allowed),
            "redress_days": rules.REDRESS_DAYS,
            "redress_deadline": paris_date(rules.redress_deadline(released)).isoformat(),
        }
    return data


def _document_helpers(language: str) -> dict:
    def fmt_date(value) -> str:
        if not value:
            return ""
        day = value if isinstance(value, date) else date.fromisoformat(str(value))
        return format_date(day, "long")

    return {"fmt_date": fmt_date, "language": language}


def render_letter(data: dict) -> bytes:
    """The letter as a signed PDF/A, from its data only."""
    language = data["language"]
    with force_locale(language):
        pdf = render_pdf(
            "documents/letter.html", pdf_variant=PDF_VARIANT, d=data, **_document_helpers(language)
        )
    return sign_pdf(pdf, reason=f"Decision letter {data['reference']} v{data['version']}")


# --- agreements ------------------------------------------------------------------------------------


def agreement_data(
    agreement: StructureAgreement, *, version: int = 1, issued_at: datetime | None = None
) -> dict:
    """What the agreement says: parties, the article list of its instrument, and the annexes."""
    issued_at = issued_at or utcnow()
    language = agreement.language if agreement.language in LANGUAGES else "fr"
    instrument = Instrument(agreement.instrument)
    proposal = agreement.proposal
    teams = [_team(t, language) for t in proposal.teams] if proposal is not None else []
    articles = rules.agreement_articles(instrument, agreement.duration_years)
    budget = _budget(proposal) if proposal is not None else None
    members: dict[str, list[dict]] = {}
    for m in agreement.members:
        members.setdefault(m.committee, []).append(
            {"name": m.name, "affiliation": m.affiliation, "role": m.role}
        )
    years = list(range(agreement.starts_on.year, agreement.starts_on.year + agreement.duration_years))
    coordinator = None
    if proposal is not None:
        coordinator = {"name": proposal.coordinator.full_name, "co_coordinator": proposal.co_coordinator_name}
    return {
        "kind": AGREEMENT,
        "reference": agreement.reference,
        "version": version,
        "issued_on": paris_date(issued_at).isoformat(),
        "language": language,
        "instrument": instrument.value,
        "instrument_label": rules_for(instrument).label(language),
        "title": agreement.title,
        "acronym": agreement.acronym,
        "proposal_reference": proposal.reference if proposal is not None else "",
        "coordinator": coordinator,
        "parties": [
            {"name": p.name, "kind": p.kind, "country_code": p.country_code} for p in agreement.parties
        ],
        "articles": [
            {"number": a.number, "title": a.title(language), "body": a.body(language)} for a in articles
        ],
        "annexes": [fr if language == "fr" else en for fr, en in rules.annex_titles(instrument)],
        "programme": agreement.programme or (proposal.programme if proposal is not None else ""),
        "mobility_plan": proposal.mobility_plan if proposal is not None else "",
        "teams": teams,
        "host": {
            "institution": agreement.host_institution,
            "country": agreement.host_country.name(language) if agreement.host_country else "",
            "director": agreement.director_name,
            "deputy_director": agreement.deputy_director_name,
        },
        "staffing_provisions": agreement.staffing_provisions,
        "governance_notes": agreement.governance_notes,
        "starts_on": agreement.starts_on.isoformat(),
        "ends_on": agreement.ends_on.isoformat(),
        "duration_years": agreement.duration_years,
        "annual_eur": agreement.annual_eur,
        "grant_years": years,
        "total_eur": (agreement.annual_eur or 0) * agreement.duration_years,
        "budget": budget,
        "committees": members,
    }


def render_agreement(data: dict) -> bytes:
    language = data["language"]
    with force_locale(language):
        pdf = render_pdf(
            "documents/agreement.html", pdf_variant=PDF_VARIANT, d=data, **_document_helpers(language)
        )
    return sign_pdf(pdf, reason=f"Agreement {data['reference']} v{data['version']}")


# --- the frozen record -----------------------------------------------------------------------------


def versions_of(reference: str) -> list[IssuedDocument]:
    return list(
        db.session.scalars(
            select(IssuedDocument)
            .where(IssuedDocument.reference == reference)
            .order_by(IssuedDocument.version)
        )
    )


def current_document(reference: str) -> IssuedDocument | None:
    """The latest version of a reference (the one not superseded)."""
    return db.session.scalar(
        select(IssuedDocument)
        .where(IssuedDocument.reference == reference)
        .order_by(IssuedDocument.version.desc())
        .limit(1)
    )


def next_version(reference: str) -> int:
    highest = db.session.scalar(
        select(func.max(IssuedDocument.version)).where(IssuedDocument.reference == reference)
    )
    return (highest or 0) + 1


def store_document(
    data: dict, pdf: bytes, *, proposal_id: int | None, actor=None, supersedes: IssuedDocument | None = None
) -> IssuedDocument:
    """Write the PDF and its row as one unit (the file goes if the transaction rolls back).

    The (reference, version) pair is unique: a second writer of the same version fails with an
    IntegrityError at flush, so a document is never present twice.
    """
    stored = save_bytes(db.session, pdf, "pdf")
    document = IssuedDocument(
        reference=data["reference"],
        version=data["version"],
        kind=data["kind"],
        language=data["language"],
        proposal_id=proposal_id,
        supersedes_id=supersedes.id if supersedes is not None else None,
        stored_name=stored.stored_name,
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
        data=data,
        issued_by_id=getattr(actor, "id", None),
    )
    db.session.add(document)
    db.session.flush()
    return document


def find_by_sha256(sha256: str) -> IssuedDocument | None:
    return db.session.scalar(select(IssuedDocument).where(IssuedDocument.sha256 == sha256).limit(1))


def pdf_download(stored_name: str, filename: str):
    """A stored PDF as a download: attachment, nosniff (read whole: issued documents are small)."""
    from flask import Response

    from webapp.storage import read_bytes

    response = Response(read_bytes(stored_name), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
