"""In Chromium: the DG validates a call's list, a manager releases it, the applicant downloads
the decision letter (and a pending decision stays invisible to the applicant until then)."""

from __future__ import annotations

import io

import pypdf

from tests.decisions_factories import ranked_call
from workflows.proposal_states import ProposalState

PASSWORD = "correct horse battery"


def log_in(page, base, email):
    page.goto(base + "/auth/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Log out").wait_for()


def log_out(page):
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("link", name="Log in").first.wait_for()


def test_dg_validates_manager_releases_applicant_downloads(live_server, page, make_user, db):
    dg = make_user(roles=("directorate",), first_name="Marc", last_name="Lefèvre")
    manager = make_user(roles=("manager",), first_name="Sophie", last_name="Durand")
    applicant = make_user(first_name="Claire", last_name="Martin")
    other = make_user(first_name="Ana", last_name="Costa")
    call, (awarded, rejected) = ranked_call(
        manager, [applicant, other], states=[ProposalState.PROPOSED, ProposalState.NOT_RETAINED]
    )
    # Read what the test needs, then end the test's transaction: SQLite would otherwise keep the
    # server's requests waiting on the test's lock.
    dg, manager, applicant = dg.email, manager.email, applicant.email
    call_id, call_title = call.id, call.title_en
    awarded_id, reference = awarded.id, awarded.reference
    db.session.commit()
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmations of irreversible steps

    # The DG validates the whole list from the validation queue.
    log_in(page, live_server, dg)
    page.get_by_test_id("nav-validation-queue").click()
    page.get_by_role("link", name=call_title).click()
    page.get_by_text("remaining if all are awarded").wait_for()
    page.get_by_test_id("validate-list").click()
    page.get_by_text("List validated: 1 awarded, 1 rejected").wait_for()
    assert "pending release" in page.get_by_test_id(f"decision-{reference}").inner_text()
    log_out(page)

    # Pending: the applicant sees nothing of the decision.
    log_in(page, live_server, applicant)
    assert page.get_by_text("Decisions on your proposals").count() == 0
    response = page.goto(live_server + f"/decisions/proposals/{awarded_id}/letter")
    assert response.status == 404
    log_out(page)

    # A manager releases the call's decisions; the letters are issued, with their progress bar.
    log_in(page, live_server, manager)
    page.goto(live_server + f"/directorate/calls/{call_id}")
    page.get_by_test_id("release").click()
    page.get_by_text("2 decisions released").wait_for()
    progress = page.get_by_test_id("letters-progress")
    progress.wait_for()
    page.wait_for_function("document.querySelector('#letters-bar').value === 2")
    log_out(page)

    # The applicant downloads the letter from the dashboard.
    log_in(page, live_server, applicant)
    page.get_by_text("Decisions on your proposals").wait_for()
    with page.expect_download() as info:
        page.get_by_role("link", name=f"Decision letter {reference}").click()
    download = info.value
    assert download.suggested_filename == f"DEC-{reference}-v1.pdf"
    from pathlib import Path

    data = Path(download.path()).read_bytes()
    text = " ".join((p.extract_text() or "") for p in pypdf.PdfReader(io.BytesIO(data)).pages)
    assert "your proposal is awarded" in " ".join(text.split())
    assert reference in text
