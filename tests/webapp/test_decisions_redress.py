"""Requests for review: filed by the coordinator within 30 days of a released rejection, seen and
answered by managers, audited and notified."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from tests.decisions_factories import decide_and_release, ranked_call
from webapp.models import AuditEvent
from webapp.models.decisions import RedressRequest
from workflows.decisions import RedressStatus
from workflows.proposal_states import ProposalState

GROUNDS = "Le conflit d'intérêts déclaré par un rapporteur n'a pas été pris en compte."


@pytest.fixture
def rejected(make_user, db):
    dg = make_user(roles=("directorate",))
    manager = make_user(roles=("manager",), locale="fr")
    owner = make_user(first_name="Claire", last_name="Martin")
    winner = make_user()
    call, proposals = ranked_call(
        manager, [winner, owner], states=[ProposalState.PROPOSED, ProposalState.NOT_RETAINED]
    )
    decide_and_release(call, dg, manager, proposals, {proposals[0]: "award", proposals[1]: "reject"})
    return {
        "proposal": proposals[1],
        "awarded": proposals[0],
        "owner": owner,
        "winner": winner,
        "manager": manager,
        "dg": dg,
    }


def test_file_and_answer_a_request_for_review(rejected, client, login, db, outbox):
    proposal, owner, manager = rejected["proposal"], rejected["owner"], rejected["manager"]
    login(owner)
    form = client.get(f"/decisions/proposals/{proposal.id}/redress")
    assert form.status_code == 200 and "procedure only" in form.get_data(as_text=True)
    short = client.post(f"/decisions/proposals/{proposal.id}/redress", data={"grounds": "Unfair."})
    assert short.status_code == 422 and "Unfair." in short.get_data(as_text=True)  # typed text kept
    response = client.post(f"/decisions/proposals/{proposal.id}/redress", data={"grounds": GROUNDS})
    assert response.status_code == 302
    request = db.session.scalar(select(RedressRequest))
    assert (
        request.grounds == GROUNDS
        and request.status == RedressStatus.OPEN
        and request.filed_by_id == owner.id
    )
    assert (
        "Request for review" in outbox(manager.email)[-1].subject
        or "réexamen" in outbox(manager.email)[-1].subject
    )
    # Once only.
    again = client.get(f"/decisions/proposals/{proposal.id}/redress")
    assert again.status_code == 403 and "already been filed" in again.get_data(as_text=True)
    assert client.get(f"/decisions/redress/{request.id}").status_code == 200
    assert (
        client.post(f"/decisions/redress/{request.id}", data={"status": "upheld", "answer": "x"}).status_code
        == 403
    )
    assert client.get("/decisions/redress").status_code == 403

    login(manager)
    listing = client.get("/decisions/redress").get_data(as_text=True)
    assert proposal.reference in listing
    assert (
        client.post(
            f"/decisions/redress/{request.id}", data={"status": "dismissed", "answer": ""}
        ).status_code
        == 422
    )
    answered = client.post(
        f"/decisions/redress/{request.id}",
        data={"status": "dismissed", "answer": "La déclaration a été traitée avant l'évaluation."},
    )
    assert answered.status_code == 302
    db.session.expire_all()
    request = db.session.get(RedressRequest, request.id)
    assert request.status == RedressStatus.DISMISSED and request.answered_by_id == manager.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "redress.answered"))
    assert event.actor_id == manager.id and event.after == {"status": "dismissed"}
    mail = outbox(owner.email)[-1]
    assert "La déclaration a été traitée avant l'évaluation." in mail.body_text
    assert (
        client.post(
            f"/decisions/redress/{request.id}", data={"status": "upheld", "answer": "Oops"}
        ).status_code
        == 403
    )
    login(owner)
    assert "La déclaration a été traitée" in client.get(f"/decisions/redress/{request.id}").get_data(
        as_text=True
    )


def test_no_request_after_30_days_for_an_award_or_for_someone_else(rejected, client, login, db):
    proposal = rejected["proposal"]
    with time_machine.travel(proposal.decision_released_at + timedelta(days=30, minutes=1)):
        login(rejected["owner"])  # sessions last 12 hours: log in on the day
        late = client.get(f"/decisions/proposals/{proposal.id}/redress")
        assert late.status_code == 403 and "within 30 days" in late.get_data(as_text=True)
        late_post = client.post(f"/decisions/proposals/{proposal.id}/redress", data={"grounds": GROUNDS})
        assert late_post.status_code == 403, late_post.headers.get("Location")
    login(rejected["winner"])
    assert client.get(f"/decisions/proposals/{rejected['awarded'].id}/redress").status_code == 403
    assert client.get(f"/decisions/proposals/{proposal.id}/redress").status_code == 404  # not theirs
    assert client.get(f"/decisions/proposals/{proposal.id}/letter").status_code == 404
    login(rejected["manager"])
    assert client.get(f"/decisions/proposals/{proposal.id}/redress").status_code == 404
    assert db.session.scalar(select(RedressRequest.id)) is None
