"""Starting a proposal from a public call page: who may, when, and what it starts with."""

from __future__ import annotations

from datetime import timedelta

from tests.factories import make_call
from tests.submission_support import (  # noqa: F401 - fixtures, by their names
    as_coordinator_fixture,
    coordinator_fixture,
    open_call_fixture,
    page_text,
    programme_manager_fixture,
)
from webapp.models import AuditEvent, Proposal, utcnow


def proposals(db):
    db.session.expire_all()
    return db.session.scalars(db.select(Proposal).order_by(Proposal.id)).all()


def test_an_applicant_starts_from_the_call_page(as_coordinator, open_call, coordinator, db):
    page = as_coordinator.get(f"/calls/{open_call.id}")
    assert "Apply to this call" in page_text(page)
    start = as_coordinator.get(f"/calls/{open_call.id}/apply")
    assert start.status_code == 200
    assert "Start my proposal" in page_text(start)
    assert "CV of the Inserm coordinator" in page_text(start)

    response = as_coordinator.post(f"/calls/{open_call.id}/apply")
    [proposal] = proposals(db)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/proposals/{proposal.id}")
    assert proposal.reference == f"LEA-{open_call.year}-0001"
    assert proposal.state == "draft" and proposal.stage == "full"
    assert proposal.coordinator_id == coordinator.id
    # The coordinator's own team comes filled from the account.
    [team] = proposal.teams
    assert (team.is_inserm, team.country_code, team.leader_name, team.leader_permanent) == (
        True,
        "FR",
        "Claire Martin",
        True,
    )
    assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "proposal.created"))
    shown = page_text(as_coordinator.get(response.headers["Location"]))
    assert f"Your proposal LEA-{open_call.year}-0001 is started" in shown
    assert "Before you can submit" in shown and "The title is missing." in shown


def test_references_number_on_within_instrument_and_year(as_coordinator, open_call, programme_manager, db):
    gdr = make_call(programme_manager, "gdre_gdri")
    for call in (open_call, open_call, gdr):
        assert as_coordinator.post(f"/calls/{call.id}/apply").status_code == 302
    refs = [p.reference for p in proposals(db)]
    assert refs == [f"LEA-{open_call.year}-0001", f"LEA-{open_call.year}-0002", f"GDR-{gdr.year}-0001"]
    # The start page points to what the applicant already has on this call.
    assert f"LEA-{open_call.year}-0002" in page_text(as_coordinator.get(f"/calls/{open_call.id}/apply"))


def test_anonymous_visitors_are_asked_to_log_in(client, open_call):
    page = client.get(f"/calls/{open_call.id}")
    assert "Log in to apply" in page_text(page)
    response = client.get(f"/calls/{open_call.id}/apply")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_only_applicants_start_proposals(app, make_user, login, open_call, db):
    reviewer = login(make_user(roles=("reviewer",)), app.test_client())
    assert "Apply to this call" not in page_text(reviewer.get(f"/calls/{open_call.id}"))
    refused = reviewer.post(f"/calls/{open_call.id}/apply")
    assert refused.status_code == 403
    assert "Only applicants can start a proposal." in page_text(refused)
    assert proposals(db) == []


def test_no_proposal_to_a_closed_upcoming_or_unpublished_call(as_coordinator, programme_manager, db):
    now = utcnow()
    closed = make_call(
        programme_manager, opens_at=now - timedelta(days=60), closes_at=now - timedelta(seconds=1)
    )
    upcoming = make_call(
        programme_manager, opens_at=now + timedelta(days=1), closes_at=now + timedelta(days=60)
    )
    draft = make_call(programme_manager, published=False)
    for call in (closed, upcoming):
        assert "Apply to this call" not in page_text(as_coordinator.get(f"/calls/{call.id}"))
        refused = as_coordinator.post(f"/calls/{call.id}/apply")
        assert refused.status_code == 403
        assert "This call is not open for new proposals." in page_text(refused)
    assert as_coordinator.get(f"/calls/{draft.id}/apply").status_code == 404
    assert as_coordinator.post(f"/calls/{draft.id}/apply").status_code == 404
    assert as_coordinator.get("/calls/999999/apply").status_code == 404
    assert proposals(db) == []


def test_a_two_stage_call_starts_with_a_letter_of_intent_until_its_deadline(
    as_coordinator, programme_manager, db
):
    now = utcnow()
    call = make_call(
        programme_manager,
        two_stage=True,
        loi_deadline_at=now + timedelta(days=10),
        closes_at=now + timedelta(days=60),
    )
    assert "Submit a letter of intent" in page_text(as_coordinator.get(f"/calls/{call.id}"))
    assert as_coordinator.post(f"/calls/{call.id}/apply").status_code == 302
    [proposal] = proposals(db)
    assert proposal.stage == "loi"

    late = make_call(
        programme_manager,
        two_stage=True,
        loi_deadline_at=now - timedelta(seconds=1),
        closes_at=now + timedelta(days=60),
        opens_at=now - timedelta(days=30),
    )
    refused = as_coordinator.post(f"/calls/{late.id}/apply")
    assert refused.status_code == 403
    assert "letter-of-intent stage of this call is over" in page_text(refused)


def test_the_start_button_needs_its_csrf_token(app, coordinator, login, open_call, db):
    app.config["WTF_CSRF_ENABLED"] = True
    client = login(coordinator, app.test_client())
    response = client.post(f"/calls/{open_call.id}/apply")
    assert response.status_code == 400
    assert proposals(db) == []
