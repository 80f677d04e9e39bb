"""Committee membership of an agreement: named by the managers until a party signs, each change
issuing a corrected version (the previous one kept, superseded) whose PDF lists the names."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from tests.decisions_factories import decide_and_release, ranked_call
from tests.submission_support import page_text
from tests.webapp.test_decisions_documents import _issue_agreement, pdf_text, scan_pdf
from webapp.documents.signing import check_signature
from webapp.models import AuditEvent, IssuedDocument
from webapp.models.decisions import StructureAgreement
from webapp.storage import read_bytes
from workflows.instruments import Instrument
from workflows.proposal_states import ProposalState


@pytest.fixture
def people(make_user):
    return {
        "dg": make_user(roles=("directorate",), first_name="Marc", last_name="Lefèvre"),
        "manager": make_user(roles=("manager",), first_name="Sophie", last_name="Durand"),
        "en": make_user(first_name="Claire", last_name="Martin", locale="en"),
    }


def gdri_agreement(people, db, client, login) -> StructureAgreement:
    call, proposals = ranked_call(
        people["manager"], [people["en"]], Instrument.GDRE_GDRI, states=[ProposalState.PROPOSED]
    )
    decide_and_release(call, people["dg"], people["manager"], proposals, {proposals[0]: "award"})
    return _issue_agreement(client, login, people, db, proposals[0])


def steering(agreement):
    return {m.affiliation: m for m in agreement.members if m.committee == "steering"}


def fresh(db, agreement) -> StructureAgreement:
    db.session.expire_all()
    return db.session.get(StructureAgreement, agreement.id)


def test_naming_the_steering_committee_issues_a_corrected_agreement(people, db, client, login):
    agreement = gdri_agreement(people, db, client, login)
    seats = steering(agreement)
    assert set(seats) == {"Inserm", "CNRS", "USP"} and all(not m.name for m in seats.values())
    page = client.get(f"/directorate/agreements/{agreement.id}")
    assert 'data-testid="committees-form"' in page.get_data(as_text=True)

    response = client.post(
        f"/directorate/agreements/{agreement.id}/committees",
        data={
            f"member_{seats['Inserm'].id}": "Anne Petit",
            f"member_{seats['CNRS'].id}": "  Louis   Garnier ",
            "reason": "Representatives named by the authorities.",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    agreement = fresh(db, agreement)
    assert steering(agreement)["Inserm"].name == "Anne Petit"
    assert steering(agreement)["CNRS"].name == "Louis Garnier"
    assert steering(agreement)["USP"].name == ""

    versions = db.session.scalars(
        select(IssuedDocument).where(IssuedDocument.reference == agreement.reference).order_by(IssuedDocument.version)
    ).all()
    assert [v.version for v in versions] == [1, 2] and agreement.document_id == versions[1].id
    new_text, old_text = (pdf_text(read_bytes(v.stored_name)) for v in (versions[1], versions[0]))
    assert "Anne Petit" in new_text and "Louis Garnier" in new_text
    assert "Anne Petit" not in old_text  # the first version is kept as it was
    assert check_signature(read_bytes(versions[1].stored_name)).ok
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "agreement.committees_changed")
    )
    assert event.actor_id == people["manager"].id
    assert event.after["reason"] == "Representatives named by the authorities."
    shown = page_text(client.get(f"/directorate/agreements/{agreement.id}"))
    assert "version 2" in shown and "superseded" in shown


def test_bad_committee_edits_are_refused_and_the_typing_kept(people, db, client, login):
    agreement = gdri_agreement(people, db, client, login)
    seats = steering(agreement)
    chair = next(m for m in agreement.members if m.role == "chair")
    url = f"/directorate/agreements/{agreement.id}/committees"

    no_reason = client.post(url, data={f"member_{seats['USP'].id}": "Joana Silva", "reason": ""})
    assert no_reason.status_code == 422
    assert "Say what the correction changes." in page_text(no_reason)
    assert 'value="Joana Silva"' in no_reason.get_data(as_text=True)

    unchanged = client.post(url, data={"reason": "Nothing really."})
    assert unchanged.status_code == 422
    assert "No name was changed" in page_text(unchanged)

    no_chair = client.post(url, data={f"member_{chair.id}": "", "reason": "Chair removed."})
    assert no_chair.status_code == 422 and "The chair of a committee must be named." in page_text(no_chair)

    too_long = client.post(url, data={f"member_{seats['USP'].id}": "x" * 201, "reason": "Long name."})
    assert too_long.status_code == 422
    assert fresh(db, agreement).document.version == 1


def test_after_a_signature_committees_change_by_amendment_only(people, db, client, login):
    agreement = gdri_agreement(people, db, client, login)
    party = agreement.parties[0]
    signed = client.post(
        f"/directorate/agreements/{agreement.id}/parties/{party.id}/signature",
        data={"signatory_name": "Le PDG", "scan": (io.BytesIO(scan_pdf()), "signed.pdf")},
        content_type="multipart/form-data",
    )
    assert signed.status_code == 302
    page = client.get(f"/directorate/agreements/{agreement.id}").get_data(as_text=True)
    assert 'data-testid="committees-form"' not in page
    seats = steering(fresh(db, agreement))
    response = client.post(
        f"/directorate/agreements/{agreement.id}/committees",
        data={f"member_{seats['USP'].id}": "Joana Silva", "reason": "Named late."},
    )
    assert response.status_code == 422
    assert "change by amendment only" in page_text(response)
    assert steering(fresh(db, agreement))["USP"].name == ""
