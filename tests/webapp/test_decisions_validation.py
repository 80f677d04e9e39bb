"""The Directorate-General's queue: only the DG validates, only what was proposed; decisions stay
pending (invisible to applicants) until a manager or the DG releases them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.decisions_factories import ranked_call, ranked_proposal
from tests.factories import make_call, make_proposal
from webapp.models import AuditEvent, IssuedDocument
from workflows.instruments import Instrument
from workflows.proposal_states import ProposalState


@pytest.fixture
def people(make_user):
    return {
        "dg": make_user(roles=("directorate",), first_name="Marc", last_name="Lefèvre"),
        "manager": make_user(roles=("manager",), first_name="Sophie", last_name="Durand"),
        "admin": make_user(roles=("admin",)),
        "a1": make_user(first_name="Claire", last_name="Martin"),
        "a2": make_user(first_name="Paul", last_name="Bernard", locale="fr"),
        "a3": make_user(first_name="Ana", last_name="Costa"),
        "reviewer": make_user(roles=("reviewer",)),
    }


@pytest.fixture
def ranked(people):
    return ranked_call(people["manager"], [people["a1"], people["a2"], people["a3"]])


@pytest.fixture(autouse=True)
def _english_messages(app):
    """Use cases called outside a request speak the default language (French): read English."""
    from flask_babel import force_locale

    with force_locale("en"):
        yield



def _states(db, proposals):
    db.session.expire_all()
    return [db.session.get(type(p), p.id).state for p in proposals]


def test_the_dg_sees_the_ranking_with_the_budget_summary(client, login, people, ranked):
    call, proposals = ranked
    login(people["dg"])
    page = client.get(f"/directorate/calls/{call.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for p in proposals:
        assert p.reference in text
    assert "Envelope" in text and "€100,000" in text
    assert "Main list still proposed" in text and "€12,000" in text  # the main list's request
    assert "remaining if all are awarded: €88,000" in text
    assert "Validate the list" in text
    queue = client.get("/directorate/").get_data(as_text=True)
    assert call.title_en in queue


@pytest.mark.parametrize("role, status", [("manager", 403), ("admin", 403), ("a1", 403), ("reviewer", 403)])
def test_only_the_dg_validates_the_list(client, login, people, ranked, db, role, status):
    call, proposals = ranked
    login(people[role])
    assert client.post(f"/directorate/calls/{call.id}/validate").status_code == status
    for p in proposals:
        assert client.post(f"/directorate/proposals/{p.id}", data={"act": "award"}).status_code == status
    assert _states(db, proposals) == [
        ProposalState.PROPOSED,
        ProposalState.WAITLISTED,
        ProposalState.NOT_RETAINED,
    ]


def test_the_dg_validates_the_whole_list(client, login, people, ranked, db):
    call, proposals = ranked
    login(people["dg"])
    response = client.post(f"/directorate/calls/{call.id}/validate", data={"comment": "Liste validée."})
    assert response.status_code == 302
    assert _states(db, proposals) == [ProposalState.AWARDED, ProposalState.WAITLISTED, ProposalState.REJECTED]
    awarded = db.session.get(type(proposals[0]), proposals[0].id)
    assert awarded.decision_annual_eur == 12_000 and awarded.decision_by_id == people["dg"].id
    assert awarded.decided_at is not None and awarded.decision_released_at is None
    audit = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.in_(["proposal.award", "proposal.reject"]))
    ).all()
    assert {(a.object_id, a.actor_id) for a in audit} == {
        (proposals[0].id, people["dg"].id),
        (proposals[2].id, people["dg"].id),
    }
    assert audit[0].after["role"] == "directorate"
    page = client.get(f"/directorate/calls/{call.id}").get_data(as_text=True)
    assert "pending release" in page and "Committed (awarded)" in page
    # Validating again: nothing left but the waiting list, which is decided one by one.
    again = client.post(f"/directorate/calls/{call.id}/validate")
    assert again.status_code == 302
    assert _states(db, proposals)[1] == ProposalState.WAITLISTED


def test_the_dg_cannot_validate_what_has_not_been_proposed(client, login, people, db):
    call = make_call(people["manager"])
    ranked_state = make_proposal(call, people["a1"], ProposalState.RANKED)
    submitted = make_proposal(call, people["a2"], ProposalState.SUBMITTED)
    login(people["dg"])
    for p in (ranked_state, submitted):
        assert client.get(f"/directorate/proposals/{p.id}").status_code == 404
        assert client.post(f"/directorate/proposals/{p.id}", data={"act": "award"}).status_code == 404
    refused = client.post(f"/directorate/calls/{call.id}/validate")
    assert refused.status_code == 422
    assert "No proposal of this call awaits a decision" in refused.get_data(as_text=True)
    assert _states(db, [ranked_state, submitted]) == [ProposalState.RANKED, ProposalState.SUBMITTED]

    from webapp.operations import decisions as ops

    with pytest.raises(ops.DecisionRefused, match="has not been proposed"):
        ops.decide(db.session.get(type(ranked_state), ranked_state.id), "award", people["dg"])
    with pytest.raises(ops.DecisionRefused, match="Only the Directorate-General"):
        waiting = ranked_proposal(call, people["a3"], ProposalState.WAITLISTED)
        ops.decide(waiting, "award", people["manager"])


def test_decide_one_proposal_with_a_comment(client, login, people, ranked, db, outbox):
    call, proposals = ranked
    login(people["dg"])
    waiting = proposals[1]
    # A rejection needs a comment: the form comes back with the message, nothing changes.
    refused = client.post(f"/directorate/proposals/{waiting.id}", data={"act": "reject", "comment": " "})
    assert refused.status_code == 422
    assert "A comment is required." in refused.get_data(as_text=True)
    # Above the call's maximum a year: refused.
    too_much = client.post(
        f"/directorate/proposals/{waiting.id}", data={"act": "award", "annual_eur": "20000"}
    )
    assert too_much.status_code == 422 and "above the call&#39;s maximum" in too_much.get_data(as_text=True)
    assert _states(db, [waiting]) == [ProposalState.WAITLISTED]
    ok = client.post(
        f"/directorate/proposals/{waiting.id}",
        data={"act": "award", "annual_eur": "9000", "comment": "Financé sur reliquat."},
    )
    assert ok.status_code == 302
    fresh = db.session.get(type(waiting), waiting.id)
    assert fresh.state == ProposalState.AWARDED and fresh.decision_annual_eur == 9_000
    assert fresh.decision_comment == "Financé sur reliquat."
    # Mass assignment: a posted decision_released_at or state changes nothing.
    other = proposals[2]
    client.post(
        f"/directorate/proposals/{other.id}",
        data={
            "act": "reject",
            "comment": "Sous la ligne.",
            "decision_released_at": "2020-01-01",
            "state": "awarded",
        },
    )
    fresh = db.session.get(type(other), other.id)
    assert fresh.state == ProposalState.REJECTED and fresh.decision_released_at is None
    assert fresh.decision_resubmission_allowed is False  # the box was not ticked in this post


def test_send_back_to_the_managers(client, login, people, ranked, db, outbox):
    call, proposals = ranked
    login(people["dg"])
    assert (
        client.post(f"/directorate/proposals/{proposals[0].id}", data={"act": "send_back"}).status_code == 422
    )
    response = client.post(
        f"/directorate/proposals/{proposals[0].id}",
        data={"act": "send_back", "comment": "Revoir le budget de l'équipe partenaire."},
    )
    assert response.status_code == 302
    assert _states(db, proposals[:1]) == [ProposalState.RANKED]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "proposal.send_back"))
    assert event.actor_id == people["dg"].id and event.after["comment"].startswith("Revoir le budget")
    mails = outbox(people["manager"].email)
    assert len(mails) == 1 and "Revoir le budget de l'équipe partenaire." in mails[0].body_text
    assert not outbox(people["a1"].email)  # the applicant hears nothing of it


def test_pending_decisions_are_invisible_to_applicants_until_release(
    client, login, people, ranked, db, outbox, app
):
    call, proposals = ranked
    login(people["dg"])
    r = client.post(f"/directorate/calls/{call.id}/validate")
    assert r.status_code == 302, r.get_data(as_text=True)
    assert _states(db, proposals) == [ProposalState.AWARDED, ProposalState.WAITLISTED, ProposalState.REJECTED]
    awarded, _waiting, rejected = proposals
    applicant = app.test_client()
    login(people["a1"], applicant)
    # Every route of this capability answers 404 to the owner while the decision is pending.
    assert applicant.get(f"/decisions/proposals/{awarded.id}/letter").status_code == 404
    assert applicant.get(f"/decisions/proposals/{awarded.id}/redress").status_code == 404
    login(people["a3"], applicant)
    assert applicant.get(f"/decisions/proposals/{rejected.id}/letter").status_code == 404
    assert applicant.get(f"/decisions/proposals/{rejected.id}/redress").status_code == 404
    assert (
        applicant.post(f"/decisions/proposals/{rejected.id}/redress", data={"grounds": "x" * 30}).status_code
        == 404
    )
    assert applicant.get("/directorate/").status_code == 403
    assert applicant.get(f"/directorate/calls/{call.id}").status_code == 403
    assert not outbox(people["a1"].email) and not outbox(people["a3"].email)
    assert (
        db.session.scalar(select(IssuedDocument.id).where(IssuedDocument.kind == "decision_letter")) is None
    )
    # The dashboard partial shows nothing while pending.
    from flask import render_template_string

    with app.test_request_context():
        from flask_login import login_user

        login_user(db.session.get(type(people["a1"]), people["a1"].id))
        html = render_template_string(
            '{% from "applicant/_macros.html" import decision_links %}'
            "{{ decision_links(proposal, current_user) }}",
            proposal=db.session.get(type(awarded), awarded.id),
        )
        assert "decision letter" not in html

    # The manager releases in one step: notifications go out, letters are issued.
    manager = app.test_client()
    login(people["manager"], manager)
    response = manager.post(f"/directorate/calls/{call.id}/release")
    assert response.status_code == 302, response.get_data(as_text=True)
    mail = outbox(people["a1"].email)
    assert len(mail) == 1 and "has awarded the proposal" in mail[0].body_text
    assert f"/decisions/proposals/{awarded.id}/letter" in mail[0].body_text
    assert mail[0].body_text.count("http://calls.test/") == 1
    assert "decided not to fund" in outbox(people["a3"].email)[0].body_text
    assert (
        db.session.scalar(select(AuditEvent).where(AuditEvent.action == "decisions.released")).actor_id
        == people["manager"].id
    )

    login(people["a1"], applicant)
    letter = applicant.get(f"/decisions/proposals/{awarded.id}/letter")
    assert letter.status_code == 200 and letter.mimetype == "application/pdf"
    assert letter.headers["Content-Disposition"].startswith("attachment")
    assert letter.data.startswith(b"%PDF")
    assert applicant.get(f"/decisions/proposals/{rejected.id}/letter").status_code == 404  # not theirs
    with app.test_request_context():
        from flask_login import login_user

        login_user(db.session.get(type(people["a3"]), people["a3"].id))
        html = render_template_string(
            '{% from "applicant/_macros.html" import decision_links %}'
            "{{ decision_links(proposal, current_user) }}",
            proposal=db.session.get(type(rejected), rejected.id),
        )
        assert "Download the decision letter" in html and "Request a review" in html
    # Releasing again: nothing is waiting.
    again = manager.post(f"/directorate/calls/{call.id}/release")
    assert again.status_code == 422 and "No validated decision is waiting" in again.get_data(as_text=True)


def test_a_waitlisted_proposal_decided_later_is_released_later(client, login, people, ranked, db, outbox):
    call, proposals = ranked
    login(people["dg"])
    client.post(f"/directorate/calls/{call.id}/validate")
    client.post(f"/directorate/calls/{call.id}/release")
    waiting = proposals[1]
    assert client.get(f"/directorate/proposals/{waiting.id}").status_code == 200
    client.post(
        f"/directorate/proposals/{waiting.id}",
        data={"act": "reject", "comment": "Enveloppe épuisée.", "resubmission_allowed": "y"},
    )
    fresh = db.session.get(type(waiting), waiting.id)
    assert fresh.state == ProposalState.REJECTED and fresh.decision_released_at is None
    assert not outbox(people["a2"].email)
    assert client.post(f"/directorate/calls/{call.id}/release").status_code == 302
    assert len(outbox(people["a2"].email)) == 1


def test_rolling_call_proposals_are_validated_one_by_one(client, login, people, db):
    call = make_call(people["manager"], Instrument.GDRE_GDRI)
    first = ranked_proposal(call, people["a1"], ProposalState.PROPOSED, rank=None)
    second = ranked_proposal(call, people["a2"], ProposalState.PROPOSED, rank=None)
    login(people["dg"])
    queue = client.get("/directorate/").get_data(as_text=True)
    assert queue.index(first.reference) < queue.index(second.reference)  # in the order they came
    page = client.get(f"/directorate/calls/{call.id}").get_data(as_text=True)
    assert "Validate the list" not in page and "validated one by one" in page
    refused = client.post(f"/directorate/calls/{call.id}/validate")
    assert refused.status_code == 422 and "validated one by one" in refused.get_data(as_text=True)
    assert (
        client.post(
            f"/directorate/proposals/{first.id}", data={"act": "award", "annual_eur": "12000"}
        ).status_code
        == 302
    )
    assert _states(db, [first, second]) == [ProposalState.AWARDED, ProposalState.PROPOSED]
    assert client.post(f"/directorate/calls/{call.id}/release").status_code == 302
    assert db.session.get(type(first), first.id).decision_released_at is not None
    assert db.session.get(type(second), second.id).decision_released_at is None
