"""Eligibility screening: automatic checks, the manual checklist, eligible or ineligible with a
reason the applicants are told, and the bulk view of a call."""

from __future__ import annotations

import re

import pytest

from tests.factories import make_call, make_proposal
from webapp.models import AuditEvent, BudgetLine, Proposal
from workflows.screening import CHECKLIST_CODES


@pytest.fixture
def setting(app, db, make_user, manager, manager_client):
    call = make_call(manager)
    owner = make_user(email="claire.martin@inserm.example", first_name="Claire", last_name="Martin")
    proposal = make_proposal(call, owner, "submitted", title="Neurons across borders")
    return call, owner, proposal


def is_checked(page: str, name: str) -> bool:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)
    return re.search(r"\bchecked\b", tag) is not None


def checklist(**over):
    data = {f"check_{code}": "y" for code in CHECKLIST_CODES}
    data.update(over)
    return data


def test_the_page_shows_the_automatic_checks_and_the_checklist(setting, manager_client):
    call, owner, proposal = setting
    page = manager_client.get(f"/manage/proposals/{proposal.id}/screening")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Neurons across borders" in text
    assert "Team shape, budget and partner countries meet the call" in text
    assert "The partner institution's letter of support attests its co-funding." in text
    assert "Mark ineligible" in text


def test_mark_eligible_needs_the_whole_checklist(setting, manager_client, db, outbox):
    call, owner, proposal = setting
    partial = checklist()
    del partial["check_partner_cofunding"]
    response = manager_client.post(
        f"/manage/proposals/{proposal.id}/screening", data={**partial, "action": "eligible"}
    )
    assert response.status_code == 422
    assert "Checklist item not confirmed" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Proposal, proposal.id).state == "submitted"
    assert outbox() == []
    # What was ticked is kept on the page.
    assert is_checked(response.get_data(as_text=True), "check_scope")
    assert not is_checked(response.get_data(as_text=True), "check_partner_cofunding")

    response = manager_client.post(
        f"/manage/proposals/{proposal.id}/screening", data={**checklist(), "action": "eligible"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Proposal, proposal.id).state == "eligible"
    [mail] = outbox(owner.email)
    assert mail.template == "screening_eligible"
    assert proposal.reference in mail.subject
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "proposal.mark_eligible"))
    assert event.object_id == proposal.id


def test_automatic_problems_block_eligibility(setting, manager_client, db):
    call, owner, proposal = setting
    db.session.add(BudgetLine(proposal_id=proposal.id, year=1, category="salaries", amount_eur=30_000))
    db.session.commit()
    page = manager_client.get(f"/manage/proposals/{proposal.id}/screening").get_data(as_text=True)
    assert "Salaries are not an eligible expense" in page
    response = manager_client.post(
        f"/manage/proposals/{proposal.id}/screening", data={**checklist(), "action": "eligible"}
    )
    assert response.status_code == 422
    assert "Automatic check: Salaries are not an eligible expense" in response.get_data(as_text=True)


def test_ineligible_needs_a_reason_told_to_the_applicants(setting, manager_client, db, outbox):
    call, owner, proposal = setting
    response = manager_client.post(
        f"/manage/proposals/{proposal.id}/screening", data={"action": "ineligible", "reason": "  "}
    )
    assert response.status_code == 422
    assert "reason of at least 10 characters" in response.get_data(as_text=True)
    assert outbox() == []

    reason = "The partner laboratory is not in an eligible country."
    response = manager_client.post(
        f"/manage/proposals/{proposal.id}/screening",
        data={"action": "ineligible", "reason": reason, "notes": "internal only"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    stored = db.session.get(Proposal, proposal.id)
    assert (stored.state, stored.ineligible_reason) == ("ineligible", reason)
    [mail] = outbox(owner.email)
    assert mail.template == "screening_ineligible"
    assert reason in mail.body_text
    assert "internal only" not in mail.body_text
    # Screened once: the form is gone, the outcome stays.
    page = manager_client.get(f"/manage/proposals/{proposal.id}/screening").get_data(as_text=True)
    assert "Mark ineligible" not in page and reason in page


def test_save_the_checklist_without_deciding(setting, manager_client, db):
    call, owner, proposal = setting
    response = manager_client.post(
        f"/manage/proposals/{proposal.id}/screening",
        data={"check_scope": "y", "notes": "Letter to double-check", "action": "save"},
    )
    assert response.status_code == 302
    page = manager_client.get(f"/manage/proposals/{proposal.id}/screening").get_data(as_text=True)
    assert "Letter to double-check" in page
    assert is_checked(page, "check_scope") and not is_checked(page, "check_director_endorsement")
    db.session.expire_all()
    assert db.session.get(Proposal, proposal.id).state == "submitted"


def test_bulk_screening_of_a_call(setting, manager_client, db, make_user, outbox):
    call, owner, proposal = setting
    other = make_proposal(call, owner, "submitted", title="Second")
    broken = make_proposal(call, owner, "submitted", title="Over budget")
    db.session.add(BudgetLine(proposal_id=broken.id, year=1, category="salaries", amount_eur=40_000))
    draft = make_proposal(call, owner, "draft", title="Still a draft")
    db.session.commit()
    page = manager_client.get(f"/manage/calls/{call.id}/screening").get_data(as_text=True)
    assert proposal.reference in page and other.reference in page and broken.reference in page
    assert draft.reference not in page  # drafts are the applicant's own business
    assert f'value="{broken.id}" id="pick-{broken.id}"' not in page  # cannot be chosen in bulk

    refused = manager_client.post(f"/manage/calls/{call.id}/screening", data={"proposal_ids": [proposal.id]})
    assert refused.status_code == 422
    assert "Confirm that the checklist was checked." in refused.get_data(as_text=True)

    response = manager_client.post(
        f"/manage/calls/{call.id}/screening",
        data={"proposal_ids": [proposal.id, other.id, broken.id], "checklist_confirmed": "y"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Proposal, proposal.id).state == "eligible"
    assert db.session.get(Proposal, other.id).state == "eligible"
    assert db.session.get(Proposal, broken.id).state == "submitted"
    assert len(outbox(owner.email)) == 2
    flashed = manager_client.get(f"/manage/calls/{call.id}/screening?state=eligible").get_data(as_text=True)
    assert "Neurons across borders" in flashed


def test_search_and_pages(setting, manager_client, db):
    call, owner, proposal = setting
    for n in range(27):
        make_proposal(call, owner, "submitted", title=f"Bulk proposal {n}")
    first = manager_client.get(f"/manage/calls/{call.id}/screening").get_data(as_text=True)
    assert "Page 1 of 2" in first
    second = manager_client.get(f"/manage/calls/{call.id}/screening?page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second
    found = manager_client.get(f"/manage/calls/{call.id}/screening?q=borders").get_data(as_text=True)
    assert "Neurons across borders" in found and "Bulk proposal 3" not in found


def test_only_managers_screen_and_drafts_are_absent(setting, app, login, make_user, db):
    call, owner, proposal = setting
    draft = make_proposal(call, owner, "draft")
    for roles, status in (
        (("applicant",), 403),
        (("reviewer",), 403),
        (("admin",), 403),
        (("directorate",), 403),
    ):
        client = login(make_user(roles=roles), app.test_client())
        assert client.get(f"/manage/proposals/{proposal.id}/screening").status_code == status
    manager_client = login(make_user(roles=("manager",)), app.test_client())
    assert manager_client.get(f"/manage/proposals/{draft.id}/screening").status_code == 404
    assert manager_client.get("/manage/proposals/999999/screening").status_code == 404


def test_dashboard_cards(setting, manager_client, app, login, make_user):
    page = manager_client.get("/dashboard").get_data(as_text=True)
    assert "1 proposal(s) to screen, 0 in review, 0 to moderate or rank." in page
    reviewer_client = login(make_user(roles=("reviewer",)), app.test_client())
    page = reviewer_client.get("/dashboard").get_data(as_text=True)
    assert "My reviews" in page and "0 invitation(s) awaiting your answer" in page
    assert "to screen" not in page
