"""Two-stage calls, the programme manager's side: letters of intent shortlisted (the applicants
invited to the full proposal) or turned down with a reason, one at a time or several at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from tests.factories import make_call, make_proposal
from tests.submission_support import page_text
from webapp.models import AuditEvent, Proposal, utcnow
from workflows.proposal_states import ProposalState


@pytest.fixture
def two_stage(app, manager):
    """A two-stage LEA/LIA call whose letter-of-intent deadline passed yesterday."""
    now = utcnow()
    return make_call(
        manager,
        two_stage=True,
        loi_deadline_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=60),
    )


@pytest.fixture
def coordinator(make_user):
    return make_user(email="claire.martin@inserm.fr", first_name="Claire", last_name="Martin",
                     is_permanent=True, position="DR2")


@pytest.fixture
def partner(make_user):
    return make_user(email="joana.silva@usp.example", first_name="Joana", last_name="Silva")


def letter(call, coordinator, co_coordinator=None, **fields) -> Proposal:
    from webapp.extensions import db

    proposal = make_proposal(call, coordinator, ProposalState.LOI_SUBMITTED, stage="loi", **fields)
    if co_coordinator is not None:
        proposal.co_coordinator_id = co_coordinator.id
        proposal.co_coordinator_email = co_coordinator.email
        db.session.commit()
    return proposal


def fresh(db, proposal) -> Proposal:
    db.session.expire_all()
    return db.session.get(Proposal, proposal.id)


def applicant_client(app, login, user):
    """A client logged in as ``user``, reading English."""
    client = app.test_client()
    login(user, client)
    with client.session_transaction() as session:
        session["lang"] = "en"
    return client


def test_the_call_page_leads_to_its_letters(two_stage, manager_client, coordinator):
    letter(two_stage, coordinator, title="Ageing brains")
    call_page = manager_client.get(f"/manage/calls/{two_stage.id}").get_data(as_text=True)
    assert f"/manage/calls/{two_stage.id}/letters" in call_page
    page = manager_client.get(f"/manage/calls/{two_stage.id}/letters")
    assert page.status_code == 200
    shown = page_text(page)
    assert "Letters of intent" in shown and "Ageing brains" in shown and "Claire Martin" in shown
    assert "To decide 1" in shown and "Shortlisted 0" in shown


def test_shortlisting_invites_both_coordinators_to_the_full_proposal(
    app, db, login, two_stage, manager, manager_client, coordinator, partner, outbox
):
    proposal = letter(two_stage, coordinator, partner, title="Ageing brains")
    page = manager_client.get(f"/manage/calls/{two_stage.id}/letters/{proposal.id}")
    assert "Shortlist and invite to the full proposal" in page_text(page)
    assert "Work packages 1 to 3." in page_text(page)  # the letter's content is read here

    response = manager_client.post(
        f"/manage/calls/{two_stage.id}/letters/{proposal.id}",
        data={"action": "shortlist", "message": "Please detail the mobility plan."},
    )
    assert response.status_code == 302
    proposal = fresh(db, proposal)
    assert proposal.state == ProposalState.LOI_SHORTLISTED
    assert proposal.loi_feedback == "Please detail the mobility plan."
    assert proposal.loi_decided_by_id == manager.id and proposal.loi_decided_at is not None
    event = db.session.scalar(
        db.select(AuditEvent).where(
            AuditEvent.object_type == "proposal",
            AuditEvent.object_id == proposal.id,
            AuditEvent.action.contains("shortlist_loi"),
        )
    )
    assert event is not None and event.actor_id == manager.id

    for address in (coordinator.email, partner.email):
        [mail] = outbox(to=address)
        assert "is shortlisted" in mail.subject and proposal.reference in mail.subject
        assert "Please detail the mobility plan." in mail.body_text
        assert f"/proposals/{proposal.id}" in mail.body_text
        assert "The full proposal is due" in mail.body_text

    as_coordinator = applicant_client(app, login, coordinator)
    shown = page_text(as_coordinator.get(f"/proposals/{proposal.id}"))
    assert "Your letter of intent is shortlisted" in shown and "Please detail the mobility plan." in shown
    assert as_coordinator.post(f"/proposals/{proposal.id}/full-proposal").status_code == 302
    assert (fresh(db, proposal).state, fresh(db, proposal).stage) == ("draft", "full")

    # The letter stays among the shortlisted ones while its full proposal is written.
    shown = page_text(manager_client.get(f"/manage/calls/{two_stage.id}/letters?state=shortlisted"))
    assert proposal.reference in shown and "full proposal: being written" in shown
    # Its draft is the applicants' own: no longer a letter a manager opens.
    assert manager_client.get(f"/manage/calls/{two_stage.id}/letters/{proposal.id}").status_code == 404


def test_turning_down_needs_a_reason_that_the_applicants_receive(
    app, db, login, two_stage, manager_client, coordinator, outbox
):
    proposal = letter(two_stage, coordinator)
    short = manager_client.post(
        f"/manage/calls/{two_stage.id}/letters/{proposal.id}", data={"action": "turn_down", "reason": "No."}
    )
    assert short.status_code == 422
    assert "Give the applicants a reason of at least 10 characters." in page_text(short)
    assert "No.</textarea>" in short.get_data(as_text=True)  # the text typed is given back
    assert fresh(db, proposal).state == ProposalState.LOI_SUBMITTED and outbox() == []

    reason = "The partner team has no mobility budget of its own."
    response = manager_client.post(
        f"/manage/calls/{two_stage.id}/letters/{proposal.id}", data={"action": "turn_down", "reason": reason}
    )
    assert response.status_code == 302
    assert fresh(db, proposal).state == ProposalState.LOI_REJECTED
    [mail] = outbox(to=coordinator.email)
    assert "is not shortlisted" in mail.subject and reason in mail.body_text

    as_coordinator = applicant_client(app, login, coordinator)
    shown = page_text(as_coordinator.get(f"/proposals/{proposal.id}"))
    assert "Your letter of intent was not shortlisted." in shown and reason in shown
    assert "Write the full proposal" not in shown
    assert as_coordinator.post(f"/proposals/{proposal.id}/full-proposal").status_code == 403

    # Decided once: a second decision is refused and sends nothing more.
    again = manager_client.post(
        f"/manage/calls/{two_stage.id}/letters/{proposal.id}", data={"action": "shortlist"}
    )
    assert again.status_code == 422
    assert fresh(db, proposal).state == ProposalState.LOI_REJECTED and len(outbox()) == 1


def test_letters_are_decided_only_after_their_deadline(
    app, login, db, manager, manager_client, coordinator, outbox
):
    now = utcnow()
    call = make_call(
        manager, two_stage=True, loi_deadline_at=now + timedelta(days=2), closes_at=now + timedelta(days=60),
        grace_minutes=15,
    )
    proposal = letter(call, coordinator)
    url = f"/manage/calls/{call.id}/letters/{proposal.id}"
    response = manager_client.post(url, data={"action": "shortlist"})
    assert response.status_code == 422
    assert "Letters of intent are decided once their deadline has passed" in page_text(response)
    assert fresh(db, proposal).state == ProposalState.LOI_SUBMITTED and outbox() == []

    with time_machine.travel(call.loi_deadline_at + timedelta(minutes=14), tick=False):
        client = applicant_client(app, login, manager)  # a session of that day
        assert client.post(url, data={"action": "shortlist"}).status_code == 422  # in grace
    with time_machine.travel(call.loi_deadline_at + timedelta(minutes=16), tick=False):
        client = applicant_client(app, login, manager)
        assert client.post(url, data={"action": "shortlist"}).status_code == 302
    assert fresh(db, proposal).state == ProposalState.LOI_SHORTLISTED


def test_no_invitation_once_the_full_proposal_deadline_has_passed(
    app, login, db, two_stage, manager, coordinator
):
    proposal = letter(two_stage, coordinator)
    with time_machine.travel(two_stage.closes_at + timedelta(seconds=1), tick=False):
        response = applicant_client(app, login, manager).post(
            f"/manage/calls/{two_stage.id}/letters/{proposal.id}", data={"action": "shortlist"}
        )
    assert response.status_code == 422
    assert "The full-proposal deadline" in page_text(response)
    assert fresh(db, proposal).state == ProposalState.LOI_SUBMITTED


def test_several_letters_shortlisted_at_once(db, two_stage, manager_client, coordinator, make_user, outbox):
    others = [make_user(email=f"applicant{i}@inserm.fr", is_permanent=True) for i in range(2)]
    chosen = [letter(two_stage, coordinator), letter(two_stage, others[0])]
    left = letter(two_stage, others[1])
    url = f"/manage/calls/{two_stage.id}/letters"

    nothing = manager_client.post(url, data={})
    assert nothing.status_code == 422 and "Choose at least one letter." in page_text(nothing)

    response = manager_client.post(url, data={"proposal_ids": [p.id for p in chosen]})
    assert response.status_code == 302
    shown = page_text(manager_client.get(response.headers["Location"]))
    assert "2 letter(s) shortlisted" in shown
    assert [fresh(db, p).state for p in chosen] == [ProposalState.LOI_SHORTLISTED] * 2
    assert fresh(db, left).state == ProposalState.LOI_SUBMITTED
    assert len(outbox(to=coordinator.email)) == 1 and len(outbox(to=others[1].email)) == 0


def test_filters_and_search(two_stage, manager_client, coordinator, make_user, db):
    other = make_user(email="paul.durand@inserm.fr", first_name="Paul", last_name="Durand", is_permanent=True)
    mine = letter(two_stage, coordinator, title="Ageing brains")
    theirs = letter(two_stage, other, title="Malaria vectors")
    rejected = letter(two_stage, other, title="Rare diseases")
    rejected.state, rejected.loi_decided_at = ProposalState.LOI_REJECTED, utcnow()
    db.session.commit()
    url = f"/manage/calls/{two_stage.id}/letters"

    pending = page_text(manager_client.get(url))
    assert mine.reference in pending and theirs.reference in pending and rejected.reference not in pending
    turned_down = page_text(manager_client.get(f"{url}?state=not_shortlisted"))
    assert rejected.reference in turned_down and mine.reference not in turned_down
    everything = page_text(manager_client.get(f"{url}?state=all"))
    assert all(p.reference in everything for p in (mine, theirs, rejected))
    by_name = page_text(manager_client.get(f"{url}?state=all&q=durand"))
    assert theirs.reference in by_name and rejected.reference in by_name and mine.reference not in by_name
    by_title = page_text(manager_client.get(f"{url}?q=AGEING"))
    assert mine.reference in by_title and theirs.reference not in by_title


def test_letters_belong_to_two_stage_calls_only(
    manager, manager_client, two_stage, coordinator, db
):
    single = make_call(manager)
    assert manager_client.get(f"/manage/calls/{single.id}/letters").status_code == 404
    full = make_proposal(single, coordinator, ProposalState.SUBMITTED)
    assert manager_client.get(f"/manage/calls/{single.id}/letters/{full.id}").status_code == 404
    proposal = letter(two_stage, coordinator)
    # A letter is reached through its own call only.
    other_call = make_call(
        manager, two_stage=True, loi_deadline_at=utcnow() - timedelta(days=1),
        closes_at=utcnow() + timedelta(days=30),
    )
    assert manager_client.get(f"/manage/calls/{other_call.id}/letters/{proposal.id}").status_code == 404
    assert manager_client.get(f"/manage/calls/{two_stage.id}/letters/999999").status_code == 404
    # A draft letter is the applicant's own.
    draft = make_proposal(two_stage, coordinator, ProposalState.DRAFT, stage="loi")
    assert manager_client.get(f"/manage/calls/{two_stage.id}/letters/{draft.id}").status_code == 404


def test_the_letters_files_are_downloaded_by_the_manager(two_stage, manager_client, coordinator, db):
    from tests.submission_support import attach, pdf_bytes

    proposal = letter(two_stage, coordinator)
    attachment = attach(proposal, "cv", pdf_bytes(text="cv of the coordinator"), filename="cv-martin.pdf")
    page = manager_client.get(f"/manage/calls/{two_stage.id}/letters/{proposal.id}").get_data(as_text=True)
    link = f"/manage/calls/{two_stage.id}/letters/{proposal.id}/files/{attachment.id}"
    assert link in page
    response = manager_client.get(link)
    assert response.status_code == 200 and response.data == pdf_bytes(text="cv of the coordinator")
    assert "attachment" in response.headers["Content-Disposition"]


def test_a_reviewer_or_an_applicant_may_not_decide(app, login, two_stage, coordinator, make_user, db):
    proposal = letter(two_stage, coordinator)
    reviewer = make_user(email="rev@example.org", roles=("reviewer",))
    for user in (reviewer, coordinator):
        client = applicant_client(app, login, user)
        assert client.get(f"/manage/calls/{two_stage.id}/letters").status_code == 403
        response = client.post(f"/manage/calls/{two_stage.id}/letters/{proposal.id}", data={"action": "shortlist"})
        assert response.status_code == 403
    assert fresh(db, proposal).state == ProposalState.LOI_SUBMITTED
