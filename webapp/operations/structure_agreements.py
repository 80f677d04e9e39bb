"""Agreements (conventions) of awarded structures: issue, record each party's signature, and
create the structure in state ``active`` once every party has signed.

LEA/LIA and GDRE/GDRI agreements come from an awarded, released proposal; a UME/UMI has no call,
so its agreement is made from a manager's form. Use cases flush and never commit.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from webapp.documents import issued
from webapp.documents.signing import signer_name
from webapp.extensions import db
from webapp.mail import queue_mail
from webapp.models import Country, IssuedDocument, Proposal, User, utcnow
from webapp.models.decisions import (
    AgreementParty,
    AwardedStructure,
    CommitteeMember,
    StructureAgreement,
)
from webapp.operations.audit import record
from webapp.operations.decisions import DecisionRefused, is_released, link
from webapp.operations.transitions import apply_transition
from webapp.storage import save_bytes
from workflows import decisions as rules
from workflows import structure_states
from workflows.errors import RuleError, TransitionRefused
from workflows.instruments import Instrument, rules_for
from workflows.proposal_states import MOVES, ProposalAction, ProposalFacts, ProposalState
from workflows.roles import Role
from workflows.structure_states import StructureAction, StructureFacts, StructureState

MAX_SCAN_BYTES = 20 * 1024 * 1024


def agreement_reference(proposal: Proposal) -> str:
    return f"AGR-{proposal.reference}"


def agreement_of(proposal: Proposal) -> StructureAgreement | None:
    return db.session.scalar(select(StructureAgreement).where(StructureAgreement.proposal_id == proposal.id))


def _team_infos(proposal: Proposal) -> list[rules.TeamInfo]:
    return [
        rules.TeamInfo(
            t.laboratory, t.institution_name, t.authority, t.country_code, t.leader_name, bool(t.is_inserm)
        )
        for t in proposal.teams
    ]


def _add_parties_and_members(
    agreement: StructureAgreement, parties: list[rules.Party], members: list[rules.Member]
) -> None:
    agreement.parties = [
        AgreementParty(position=i, kind=p.kind, name=p.name[:300], country_code=p.country_code or "")
        for i, p in enumerate(parties)
    ]
    agreement.members = [
        CommitteeMember(
            committee=m.committee, position=i, name=m.name[:200], affiliation=m.affiliation[:400], role=m.role
        )
        for i, m in enumerate(members)
    ]


def _issue_document(agreement: StructureAgreement, actor: User | None) -> None:
    data = issued.agreement_data(agreement, version=issued.next_version(agreement.reference))
    document = issued.store_document(
        data,
        issued.render_agreement(data),
        proposal_id=agreement.proposal_id,
        actor=actor,
        supersedes=agreement.document,
    )
    agreement.document_id = document.id
    agreement.platform_signed_at = document.issued_at or utcnow()
    agreement.platform_signer = signer_name()[:300]
    db.session.flush()
    record(
        actor,
        "document.issued",
        document,
        after={"reference": document.reference, "version": document.version, "sha256": document.sha256},
    )


def issue_agreement_for_proposal(
    proposal: Proposal, actor: User, *, now: datetime | None = None
) -> StructureAgreement:
    """The agreement of an awarded LEA/LIA or GDRE/GDRI, parties and committees from its teams."""
    now = now or utcnow()
    if agreement_of(proposal) is not None:
        raise DecisionRefused(str(_l("The agreement of this proposal has already been issued.")))
    if proposal.state != ProposalState.AWARDED or not is_released(proposal):
        raise DecisionRefused(str(_l("An agreement follows a released award only.")))
    call = proposal.call
    instrument = Instrument(call.instrument)
    teams = _team_infos(proposal)
    try:
        parties = rules.agreement_parties(instrument, teams)
        members = rules.committees(
            instrument, teams, proposal.coordinator.full_name, proposal.co_coordinator_name, parties
        )
        terms = rules.award_terms(
            decided_at=proposal.decided_at or now,
            duration_years=proposal.duration_years or call.duration_years,
            annual_eur=proposal.decision_annual_eur or proposal.requested_annual_eur or 0,
            call_funding_start=call.funding_start,
        )
    except RuleError as exc:
        raise DecisionRefused(str(exc)) from None
    agreement = StructureAgreement(
        reference=agreement_reference(proposal),
        instrument=instrument,
        proposal_id=proposal.id,
        title=proposal.title or proposal.reference,
        acronym=proposal.acronym,
        language=issued.language_of(proposal.coordinator),
        annual_eur=terms.annual_eur,
        duration_years=terms.duration_years,
        starts_on=terms.start,
        ends_on=terms.end,
        created_by_id=actor.id,
    )
    _add_parties_and_members(agreement, parties, members)
    db.session.add(agreement)
    db.session.flush()
    try:
        apply_transition(
            proposal,
            MOVES,
            ProposalAction.ISSUE_AGREEMENT,
            role=Role.MANAGER,
            facts=ProposalFacts(now=now),
            actor=actor,
            details={"agreement": agreement.reference},
        )
    except TransitionRefused as refused:
        raise DecisionRefused(refused.reason) from None
    _issue_document(agreement, actor)
    record(
        actor,
        "agreement.issued",
        agreement,
        after={"reference": agreement.reference, "parties": [p.name for p in agreement.parties]},
    )
    queue_mail(
        proposal.coordinator.email,
        "decision_agreement_issued",
        locale=issued.language_of(proposal.coordinator),
        proposal=proposal,
        agreement=agreement,
    )
    return agreement


@dataclass
class UnitData:
    """A UME/UMI agreement typed by a manager (no call, no proposal)."""

    title: str
    acronym: str = ""
    host_institution: str = ""
    host_country_code: str = ""
    director_name: str = ""
    deputy_director_name: str = ""
    programme: str = ""
    staffing_provisions: str = ""
    governance_notes: str = ""
    annual_eur: int | None = None
    duration_years: int = rules_for(Instrument.UME_UMI).duration_years
    starts_on: date | None = None
    language: str = "fr"


def create_unit_agreement(data: UnitData, actor: User) -> StructureAgreement:
    problems = []
    if not data.title.strip():
        problems.append(str(_l("The unit needs a name.")))
    if not data.host_institution.strip():
        problems.append(str(_l("Name the foreign host institution.")))
    if data.host_country_code and db.session.get(Country, data.host_country_code) is None:
        problems.append(str(_l("Unknown country.")))
    if data.starts_on is None:
        problems.append(str(_l("Give the start date of the mandate.")))
    if not data.staffing_provisions.strip():
        problems.append(str(_l("Describe the staffing provisions.")))
    if problems:
        raise DecisionRefused(*problems)
    start, end = rules.mandate_dates(data.starts_on, data.duration_years)
    count = (
        db.session.scalar(
            select(func.count(StructureAgreement.id)).where(
                StructureAgreement.instrument == Instrument.UME_UMI
            )
        )
        or 0
    )
    agreement = StructureAgreement(
        reference=f"AGR-UMI-{start.year}-{count + 1:04d}",
        instrument=Instrument.UME_UMI,
        title=data.title.strip(),
        acronym=data.acronym.strip(),
        language=data.language,
        host_institution=data.host_institution.strip(),
        host_country_code=data.host_country_code or None,
        director_name=data.director_name.strip(),
        deputy_director_name=data.deputy_director_name.strip(),
        programme=data.programme.strip(),
        staffing_provisions=data.staffing_provisions.strip(),
        governance_notes=data.governance_notes.strip(),
        annual_eur=data.annual_eur,
        duration_years=data.duration_years,
        starts_on=start,
        ends_on=end,
        created_by_id=actor.id,
    )
    parties = rules.agreement_parties(Instrument.UME_UMI, [], data.host_institution)
    parties = [
        rules.Party(p.name, p.kind, data.host_country_code if p.kind == "host" else p.country_code)
        for p in parties
    ]
    _add_parties_and_members(agreement, parties, rules.committees(Instrument.UME_UMI, [], "", "", parties))
    db.session.add(agreement)
    db.session.flush()
    _issue_document(agreement, actor)
    record(
        actor,
        "agreement.issued",
        agreement,
        after={"reference": agreement.reference, "parties": [p.name for p in agreement.parties]},
    )
    return agreement


# --- signatures -------------------------------------------------------------------------------------


def scan_problem(data: bytes) -> str | None:
    """Why an uploaded countersigned scan is not an acceptable PDF (``None``: it is)."""
    import pypdf
    from pypdf.errors import PyPdfError

    if not data:
        return str(_l("The file is empty."))
    if len(data) > MAX_SCAN_BYTES:
        return str(_l("The file is larger than %(n)d MB.", n=MAX_SCAN_BYTES // (1024 * 1024)))
    if not data.lstrip()[:5] == b"%PDF-":
        return str(_l("The file is not a PDF."))
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            return str(_l("The PDF is encrypted: upload an unprotected copy."))
        if len(reader.pages) < 1:
            return str(_l("The PDF has no page."))
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, IndexError):
        return str(_l("The PDF cannot be read."))
    return None


def record_signature(
    agreement: StructureAgreement,
    party: AgreementParty,
    scan: bytes,
    signatory_name: str,
    actor: User,
    *,
    now: datetime | None = None,
) -> AwardedStructure | None:
    """Record a party's countersigned scan; returns the structure if this was the last signature."""
    now = now or utcnow()
    if party.agreement_id != agreement.id:
        raise DecisionRefused(str(_l("This party does not sign this agreement.")))
    if party.signed_at is not None:
        raise DecisionRefused(str(_l("This party's signature is already recorded.")))
    if agreement.fully_signed_at is not None:
        raise DecisionRefused(str(_l("The agreement is already signed by every party.")))
    signatory_name = (signatory_name or "").strip()
    problems = []
    if not signatory_name:
        problems.append(str(_l("Give the name of the person who signed.")))
    problem = scan_problem(scan)
    if problem:
        problems.append(problem)
    if problems:
        raise DecisionRefused(*problems)
    stored = save_bytes(db.session, scan, "pdf")
    party.signatory_name = signatory_name[:200]
    party.signed_at = now
    party.scan_stored_name, party.scan_sha256, party.scan_size_bytes = (
        stored.stored_name,
        stored.sha256,
        stored.size_bytes,
    )
    party.recorded_at, party.recorded_by_id = now, actor.id
    db.session.flush()
    record(
        actor,
        "agreement.party_signed",
        agreement,
        after={"party": party.name, "signatory": party.signatory_name, "scan_sha256": stored.sha256},
    )
    if agreement.is_fully_signed:
        return _create_structure(agreement, actor, now)
    return None


def _create_structure(agreement: StructureAgreement, actor: User, now: datetime) -> AwardedStructure:
    facts = StructureFacts(
        now=now,
        parties_total=len(agreement.parties),
        parties_signed=agreement.signed_count,
        instrument=Instrument(agreement.instrument),
    )
    state = structure_states.next_state(
        StructureState.AGREEMENT_PENDING, StructureAction.SIGN_ALL, Role.SYSTEM, facts
    )
    structure = AwardedStructure(
        instrument=agreement.instrument,
        state=state,
        title=agreement.title,
        acronym=agreement.acronym,
        proposal_id=agreement.proposal_id,
        agreement_id=agreement.id,
        starts_on=agreement.starts_on,
        ends_on=agreement.ends_on,
    )
    db.session.add(structure)
    db.session.flush()
    for member in agreement.members:
        member.structure_id = structure.id
    agreement.fully_signed_at = now
    record(
        actor,
        "structure.created",
        structure,
        after={
            "state": str(state),
            "agreement": agreement.reference,
            "starts_on": agreement.starts_on.isoformat(),
            "ends_on": agreement.ends_on.isoformat(),
        },
    )
    proposal = agreement.proposal
    if proposal is not None:
        queue_mail(
            proposal.coordinator.email,
            "decision_structure_active",
            locale=issued.language_of(proposal.coordinator),
            proposal=proposal,
            structure=structure,
            link=link("decisions.letter", proposal_id=proposal.id),
        )
    db.session.flush()
    return structure


def structure_of(agreement: StructureAgreement) -> AwardedStructure | None:
    return db.session.scalar(select(AwardedStructure).where(AwardedStructure.agreement_id == agreement.id))


# --- committee membership, before anyone signs ---------------------------------------------------


def committees_editable(agreement: StructureAgreement) -> bool:
    """The names on the committees may change while no party has signed the text that lists
    them; after a signature, a change of membership is an amendment."""
    return agreement.fully_signed_at is None and not any(p.signed_at for p in agreement.parties)


def update_committees(
    agreement: StructureAgreement, names: dict[int, str], reason: str, actor: User
) -> IssuedDocument:
    """Name the committee members (e.g. each authority's representative on a GDRE/GDRI steering
    committee) and issue the corrected agreement, which supersedes the previous version."""
    if not committees_editable(agreement):
        raise DecisionRefused(
            str(_l("A party has already signed this agreement: its committees change by amendment only."))
        )
    reason = (reason or "").strip()
    changes = {}
    for member in agreement.members:
        if member.id not in names:
            continue
        name = " ".join((names[member.id] or "").split())[:200]
        if name != member.name:
            changes[member.id] = (member, member.name, name)
    problems = []
    if not changes:
        problems.append(str(_l("No name was changed: the agreement stays as it is.")))
    if any(m.role == "chair" and not new for m, _old, new in changes.values()):
        problems.append(str(_l("The chair of a committee must be named.")))
    if not reason:
        problems.append(str(_l("Say what the correction changes: it is recorded with the new version.")))
    if problems:
        raise DecisionRefused(*problems)
    for member, _old, new in changes.values():
        member.name = new
    db.session.flush()
    record(
        actor,
        "agreement.committees_changed",
        agreement,
        before={str(mid): old for mid, (_m, old, _new) in changes.items()},
        after={"names": {str(mid): new for mid, (_m, _old, new) in changes.items()}, "reason": reason[:1000]},
    )
    _issue_document(agreement, actor)
    return db.session.get(IssuedDocument, agreement.document_id)
