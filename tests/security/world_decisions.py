"""Objects of the decisions capability in the security world (keys prefixed "decisions_").

One call before the Directorate-General: a proposal awaiting a decision, one on the waiting list,
one decided but not yet released; the owner's released award (with its letter, the co-coordinator
named) and two released rejections (one with a request for review); and a joint unit's agreement
with one party signed. Documents are stored as small stand-in PDFs: the permission suite checks
who reaches what, the document tests check what the PDFs say.
"""

from __future__ import annotations

from datetime import date

from tests.decisions_factories import ranked_proposal
from tests.factories import make_call
from tests.security.world import world_builder
from webapp.documents import issued
from webapp.models import utcnow
from webapp.models.decisions import AgreementParty, RedressRequest, StructureAgreement
from webapp.storage import save_bytes
from workflows.instruments import Instrument
from workflows.proposal_states import ProposalState

STAND_IN_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
_n = {"n": 0}


def _decided(proposal, dg, state, released=True):
    now = utcnow()
    proposal.state = state
    proposal.decision_by_id, proposal.decided_at = dg.id, now
    proposal.decision_annual_eur = proposal.requested_annual_eur if state == ProposalState.AWARDED else None
    proposal.decision_comment = "" if state == ProposalState.AWARDED else "Sous la ligne de financement."
    proposal.decision_released_at = now if released else None
    return proposal


def _stand_in_letter(proposal):
    data = {
        "kind": issued.LETTER,
        "reference": issued.letter_reference(proposal),
        "version": 1,
        "language": "en",
    }
    return issued.store_document(data, STAND_IN_PDF, proposal_id=proposal.id)


def call_with_unreleased_decision(world):
    """A fresh call whose only proposal is awarded and not yet released."""
    from webapp.extensions import db

    _n["n"] += 1
    call = make_call(world.users["manager"], title_en=f"World release call {_n['n']}")
    proposal = ranked_proposal(call, world.users["other_applicant"], ProposalState.PROPOSED)
    _decided(proposal, world.users["directorate"], ProposalState.AWARDED, released=False)
    db.session.commit()
    return call


@world_builder
def decisions_world(world, make_user, db):
    _n["n"] += 1
    manager, dg, owner = world.users["manager"], world.users["directorate"], world.users["owner"]
    call = make_call(manager, title_en=f"World decisions call {_n['n']}")
    others = [make_user(first_name="Applicant") for _ in range(3)]
    pending = ranked_proposal(call, others[0], ProposalState.PROPOSED, rank=1)
    waiting = ranked_proposal(call, others[1], ProposalState.WAITLISTED, rank=4)
    unreleased = _decided(
        ranked_proposal(call, others[2], ProposalState.PROPOSED, rank=2),
        dg,
        ProposalState.AWARDED,
        released=False,
    )
    awarded = _decided(
        ranked_proposal(call, owner, ProposalState.PROPOSED, rank=3), dg, ProposalState.AWARDED
    )
    awarded.co_coordinator_id = world.users["co_coordinator"].id
    rejected = _decided(
        ranked_proposal(call, owner, ProposalState.NOT_RETAINED, rank=5), dg, ProposalState.REJECTED
    )
    rejected.co_coordinator_id = world.users["co_coordinator"].id
    contested = _decided(
        ranked_proposal(call, owner, ProposalState.NOT_RETAINED, rank=6), dg, ProposalState.REJECTED
    )
    db.session.flush()
    for proposal in (awarded, rejected, contested):
        _stand_in_letter(proposal)
    redress = RedressRequest(
        proposal_id=contested.id,
        filed_by_id=owner.id,
        grounds="La procédure de conflit d'intérêts n'a pas été suivie.",
    )
    db.session.add(redress)

    agreement = StructureAgreement(
        reference=f"AGR-UMI-W{_n['n']:04d}-{owner.id}",
        instrument=Instrument.UME_UMI,
        title="World joint unit",
        host_institution="University of Tokyo",
        director_name="Akiko Sato",
        staffing_provisions="Two researchers.",
        annual_eur=100_000,
        duration_years=5,
        starts_on=date(2028, 1, 1),
        ends_on=date(2032, 12, 31),
        created_by_id=manager.id,
    )
    agreement.parties = [
        AgreementParty(position=0, kind="inserm", name="Inserm"),
        AgreementParty(position=1, kind="host", name="University of Tokyo"),
    ]
    db.session.add(agreement)
    db.session.flush()
    document = issued.store_document(
        {"kind": issued.AGREEMENT, "reference": agreement.reference, "version": 1, "language": "en"},
        STAND_IN_PDF,
        proposal_id=None,
    )
    agreement.document_id = document.id
    scan = save_bytes(db.session, STAND_IN_PDF, "pdf")
    signed = agreement.parties[0]
    signed.signatory_name, signed.signed_at = "Marc Lefèvre", utcnow()
    signed.scan_stored_name, signed.scan_sha256, signed.scan_size_bytes = (
        scan.stored_name,
        scan.sha256,
        scan.size_bytes,
    )
    signed.recorded_by_id = manager.id
    db.session.flush()
    world.objects.update(
        {
            "decisions_call": call,
            "decisions_pending": pending,
            "decisions_waiting": waiting,
            "decisions_unreleased": unreleased,
            "decisions_awarded": awarded,
            "decisions_rejected": rejected,
            "decisions_contested": contested,
            "decisions_redress": redress,
            "decisions_agreement": agreement,
            "decisions_signed_party": signed,
            "decisions_unsigned_party": agreement.parties[1],
        }
    )
