"""In Chromium: a programme manager reads the letters of intent of a two-stage call, turns one
down with a reason and shortlists another; its coordinator, invited, starts the full proposal."""

from __future__ import annotations

from datetime import timedelta

from tests.browser.test_assessment_browser import log_in, log_out
from tests.factories import make_call, make_proposal
from webapp.models import Proposal, utcnow
from workflows.proposal_states import ProposalState


def test_a_manager_decides_letters_and_the_invited_applicant_goes_on(live_server, page, app, db, make_user):
    manager = make_user(roles=("manager",), email="sophie.durand@inserm.example", first_name="Sophie")
    now = utcnow()
    call = make_call(
        manager,
        title_en="Two-stage browser call",
        two_stage=True,
        loi_deadline_at=now - timedelta(hours=2),
        closes_at=now + timedelta(days=40),
    )
    claire = make_user(email="claire.martin@inserm.example", first_name="Claire", last_name="Martin",
                       is_permanent=True)
    paul = make_user(email="paul.durand@inserm.example", first_name="Paul", last_name="Durand",
                     is_permanent=True)
    kept = make_proposal(call, claire, ProposalState.LOI_SUBMITTED, stage="loi", title="Neurons across borders")
    dropped = make_proposal(call, paul, ProposalState.LOI_SUBMITTED, stage="loi", title="Malaria vectors")
    ids = {"call": call.id, "kept": kept.id, "dropped": dropped.id}
    kept_ref, dropped_ref, manager_email = kept.reference, dropped.reference, manager.email
    db.session.commit()  # SQLite: the test never holds the write lock while the server works
    page.on("dialog", lambda dialog: dialog.accept())

    log_in(page, live_server, manager_email)
    page.goto(f"{live_server}/manage/calls/{ids['call']}")
    page.get_by_test_id("letters-link").click()
    letters = page.get_by_test_id("letters-list")
    assert kept_ref in letters.inner_text() and dropped_ref in letters.inner_text()

    # Turning a letter down without a reason is refused, the page says why.
    page.get_by_role("row", name=dropped_ref).get_by_role("link", name="Decide").click()
    page.get_by_test_id("turn-down").click()
    page.get_by_text("Give the applicants a reason of at least 10 characters.").first.wait_for()
    page.get_by_label("Reason the applicants are told (if not shortlisted)").fill(
        "The partner team is outside the call's countries."
    )
    page.get_by_test_id("turn-down").click()
    page.get_by_text(f"{dropped_ref} is not shortlisted; the applicants were told why.").wait_for()

    # The other one is shortlisted from the list, by ticking it.
    page.get_by_label(kept_ref).check()
    page.get_by_test_id("bulk-shortlist").click()
    page.get_by_text("1 letter(s) shortlisted").wait_for()
    page.get_by_role("link", name="Shortlisted 1", exact=True).click()
    assert kept_ref in page.get_by_test_id("letters-list").inner_text()
    log_out(page)

    log_in(page, live_server, "claire.martin@inserm.example")
    page.goto(f"{live_server}/proposals/{ids['kept']}")
    page.get_by_text("Your letter of intent is shortlisted").wait_for()
    page.get_by_role("button", name="Write the full proposal").click()
    page.get_by_text("The full proposal is open").wait_for()
    log_out(page)

    db.session.expire_all()
    assert db.session.get(Proposal, ids["kept"]).stage == "full"
    assert db.session.get(Proposal, ids["dropped"]).state == ProposalState.LOI_REJECTED
