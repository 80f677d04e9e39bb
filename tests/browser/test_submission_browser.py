"""An applicant logs in, starts a proposal from the call page, writes it (autosave included),
adds the partner team, the co-coordinator, the budget and the documents, submits it through the
confirmation dialog and downloads the receipt, in Chromium."""

from __future__ import annotations

import re

import pytest

from tests.browser import steps
from tests.factories import make_call
from webapp.models import Proposal, Submission


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True, "PROPOSAL_AUTOSAVE_SECONDS": 1}


def test_write_and_submit_a_proposal(live_server, page, make_user, db, tmp_path):
    manager = make_user(roles=("manager",))
    call = make_call(manager, title_en="LEA/LIA call 2027")
    make_user(
        email="claire.martin@inserm.fr",
        first_name="Claire",
        last_name="Martin",
        is_permanent=True,
        position="DR2",
    )
    call_id = call.id
    kinds = [(k.code, k.label("en")) for k in call.required_attachments]
    db.session.commit()  # the test holds no transaction while the browser works (SQLite locks)

    steps.log_in(page, live_server, "claire.martin@inserm.fr", "Claire Martin")

    page.goto(f"{live_server}/calls/{call_id}")
    page.get_by_test_id("apply").click()
    page.get_by_test_id("start-proposal").click()
    page.get_by_text("is started").wait_for()
    proposal_url = page.url

    # General information: typed, saved automatically, still there after a reload.
    page.locator("#general").get_by_role("link", name="Edit").click()
    page.get_by_label("Title").fill("Ageing brains across two continents")
    page.get_by_label("Acronym").fill("AGE2C")
    page.get_by_label("Abstract in French").fill("Résumé du projet.")
    page.get_by_label("Abstract in English").fill("Abstract of the project.")
    page.locator('[data-counter-for="abstract_en"]').get_by_text("24 of 2000 characters").wait_for()
    page.get_by_label("Keywords").fill("ageing, neurodegeneration")
    page.get_by_text("Draft saved automatically").wait_for()
    page.reload()
    assert page.get_by_label("Acronym").input_value() == "AGE2C"
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("Saved.").wait_for()

    steps.fill_texts(page)
    steps.complete_inserm_team(page)
    steps.add_team(page, laboratory="Laboratório de Neurociência", institution="Universidade de São Paulo",
                   country="BR", leader="Joana Silva", email="joana.silva@usp.example")
    steps.name_co_coordinator(page)
    steps.fill_budget(page)

    # Documents: a page that is not a PDF is refused beside its field; real PDFs are kept.
    page.get_by_role("link", name="Upload or replace").click()
    fake = tmp_path / "cv.pdf"
    fake.write_text("<html>not a pdf</html>")
    page.get_by_label("CV of the Inserm coordinator").set_input_files(str(fake))
    page.get_by_role("button", name="Upload").first.click()
    page.get_by_test_id("upload-error").get_by_text("The file is not a PDF document").wait_for()
    steps.upload_documents(page, kinds, tmp_path)

    page.goto(proposal_url)
    assert page.get_by_test_id("to-do").count() == 0
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("submit-proposal").click()
    page.get_by_text("Your proposal is submitted (receipt").wait_for()
    assert page.get_by_test_id("proposal-status").inner_text() == "Submitted"

    db.session.expire_all()
    proposal = db.session.scalar(db.select(Proposal))
    [submission] = db.session.scalars(db.select(Submission)).all()
    assert proposal.state == "submitted" and proposal.title == "Ageing brains across two continents"
    assert len(submission.snapshot["attachments"]) == len(kinds)
    receipt_reference = submission.receipt.reference
    db.session.commit()
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile(r"^REC-")).click()
    download = download_info.value
    assert download.suggested_filename == f"{receipt_reference}.pdf"
    download.save_as(tmp_path / "receipt.pdf")
    assert (tmp_path / "receipt.pdf").read_bytes()[:5] == b"%PDF-"
