"""The whole path of a LEA/LIA call, in Chromium, through the pages only.

A programme manager writes and publishes the call; an Inserm coordinator writes, documents and
submits a proposal and downloads the receipt; the deadline passes; the manager screens the
proposal eligible and assigns two reviewers, who accept, declare no conflict and score it; the
manager records the consensus, ranks the call and proposes it to the Directorate-General; a DG
member validates the list; the manager releases the decision; the applicant downloads the
decision letter, whose text is checked.

Only the accounts (and the reviewers' pool profiles) and the cooperation agreements the call's
countries come from are made by fixtures. Each person works in a browser context of their own.
The deadline passes by moving the clock (time-machine, process-wide, so the live server's
thread sees it too): a published call's deadline can only be moved later through the pages.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pypdf
import pytest
import time_machine

from tests.browser import steps
from tests.browser.conftest import ARTIFACTS
from tests.factories import ensure_agreements
from tests.webapp.assessment_fixtures import reviewer
from webapp.models import utcnow
from workflows.calls import DEFAULT_ATTACHMENTS
from workflows.timeutils import paris_to_utc, to_paris

PASSWORD = "correct horse battery"
MANAGER = "sophie.durand@inserm.fr"
APPLICANT = "claire.martin@inserm.fr"
DG = "marc.lefevre@inserm.fr"
REVIEWERS = ("anna.berg@ki.example", "marco.rossi@unimi.example")
COMMENT = "A careful and well argued comment of sufficient length."
TITLE = "Ageing brains across two continents"


@pytest.fixture
def people(browser, page, request):
    """people(name) -> a page in a browser context of its own (the `page` fixture is the
    manager's). On failure each of them is screenshotted too, as test-artifacts/<test>-<name>.png."""
    pages = {}

    def open_for(name):
        context = browser.new_context(locale="en-GB", timezone_id="Europe/Paris")
        new = context.new_page()
        new.set_default_timeout(15_000)
        new.on("dialog", lambda dialog: dialog.accept())  # confirmations of irreversible steps
        pages[name] = new
        return new

    yield open_for
    report = getattr(request.node, "rep_call", None)
    try:
        if report is not None and report.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            for name, each in pages.items():
                each.screenshot(path=str(ARTIFACTS / f"{request.node.name}-{name}.png"), full_page=True)
    finally:
        for each in pages.values():
            each.context.close()


def log_in(page, base, email, name):
    page.goto(base + "/auth/login")
    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name=f"Welcome, {name}").wait_for()


def publish_call(page, base, closes):
    """The manager writes a LEA/LIA call closing at `closes` (naive Paris time) and publishes it;
    returns its title and the number of criteria of its grid."""
    log_in(page, base, MANAGER, "Sophie Durand")
    steps.menu_item(page, "Programme management", "nav-manage-calls")
    page.get_by_test_id("new-call-lea_lia").click()
    page.get_by_role("heading", name="New call").wait_for()
    opens = closes - timedelta(days=1)
    title = f"International associated laboratories {closes.year}"
    page.get_by_label("Year", exact=True).fill(str(closes.year))
    page.get_by_label("Title (French)", exact=True).fill(
        f"Laboratoires associés internationaux {closes.year}"
    )
    page.get_by_label("Title (English)", exact=True).fill(title)
    page.get_by_label("Text of the call (French, Markdown)", exact=True).fill(
        "Un appel **ouvert** aux équipes."
    )
    page.get_by_label("Text of the call (English, Markdown)", exact=True).fill("A call **open** to teams.")
    page.get_by_label("Opens (Paris time)", exact=True).fill(opens.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label(re.compile(r"^Closes \(Paris time")).fill(closes.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Budget envelope (€)", exact=True).fill("300000")
    page.get_by_label("Funding starts on", exact=True).fill(f"{closes.year + 1}-01-01")
    page.get_by_test_id("save-call").click()
    page.get_by_text("Draft call saved").wait_for()
    assert page.get_by_test_id("call-status").inner_text() == "Draft"
    # The editor came with the default evaluation grid: it is the call's.
    grid = page.get_by_test_id("grid")
    criteria = grid.locator("tbody tr").count()
    assert criteria >= 3 and "Scientific excellence" in grid.inner_text()
    page.get_by_text("The call is complete and consistent: it can be published.").wait_for()
    page.get_by_test_id("publish").click()
    page.get_by_text("The call is published.").wait_for()
    assert page.get_by_test_id("call-status").inner_text() == "Open"
    return title, criteria


def write_and_submit(page, base, call_title, tmp_path):
    """The applicant writes the proposal, uploads the required documents, submits it and
    downloads the receipt; returns the proposal's reference."""
    log_in(page, base, APPLICANT, "Claire Martin")
    page.get_by_test_id("nav-public-calls").click()
    page.get_by_test_id("call-list").get_by_role("link", name=re.compile(re.escape(call_title))).click()
    page.get_by_test_id("apply").click()
    page.get_by_test_id("start-proposal").click()
    page.get_by_text("is started").wait_for()
    proposal_url = page.url
    assert page.get_by_test_id("proposal-status").inner_text() == "Draft"

    steps.fill_general(page, title=TITLE, acronym="AGE2C")
    steps.fill_texts(page)
    steps.complete_inserm_team(page)
    steps.add_team(page, laboratory="Laboratório de Neurociência", institution="Universidade de São Paulo",
                   country="BR", leader="Joana Silva", email="joana.silva@usp.example")
    steps.name_co_coordinator(page)
    steps.fill_budget(page)
    page.get_by_role("link", name="Upload or replace").click()
    steps.upload_documents(page, [(s.code, s.label_en) for s in DEFAULT_ATTACHMENTS if s.required], tmp_path)

    page.goto(proposal_url)
    assert page.get_by_test_id("to-do").count() == 0
    page.get_by_test_id("submit-proposal").click()
    page.get_by_text("Your proposal is submitted (receipt").wait_for()
    assert page.get_by_test_id("proposal-status").inner_text() == "Submitted"
    # Before the deadline the applicant may still take it back.
    assert page.get_by_role("button", name="Take it back to edit").is_visible()
    reference = page.get_by_role("navigation", name="Breadcrumb").get_by_role("link").nth(1).inner_text()
    assert re.fullmatch(r"LEA-\d{4}-\d+", reference), reference

    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile(r"^REC-")).click()
    receipt = info.value
    assert receipt.suggested_filename == f"REC-{reference}-1.pdf"
    assert reference in pdf_text(Path(receipt.path()).read_bytes())
    return reference


def pdf_text(data: bytes) -> str:
    assert data[:5] == b"%PDF-"
    text = " ".join((p.extract_text() or "") for p in pypdf.PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())


def screen_and_assign(page, reference):
    """From the call's page: screen the proposal eligible, propose both reviewers, send."""
    page.get_by_test_id("assessment-link").click()
    row = page.get_by_test_id("screening-list").get_by_role("row").filter(has_text=reference)
    assert "Submitted" in row.get_by_test_id("state").inner_text() and "OK" in row.inner_text()
    row.get_by_role("link", name="Screen").click()
    page.get_by_test_id("automatic-ok").wait_for()
    checkboxes = page.locator("form input[type=checkbox][name^=check_]")
    assert checkboxes.count() == 5
    for index in range(checkboxes.count()):
        checkboxes.nth(index).check()
    page.get_by_test_id("mark-eligible").click()
    page.get_by_text(f"{reference} is eligible; the applicants were told.").wait_for()

    page.get_by_role("link", name="Reviewers", exact=True).click()
    row = page.get_by_test_id("assignment-list").get_by_role("row").filter(has_text=reference)
    assert row.get_by_test_id("state").inner_text() == "Eligible"
    row.get_by_role("link", name="Assign or reassign").click()
    for email, name in zip(REVIEWERS, ("Anna Berg", "Marco Rossi"), strict=True):
        page.get_by_label("Reviewer", exact=True).select_option(label=f"{name} ({email})")
        page.get_by_test_id("add-reviewer").click()
        page.get_by_text(f"{name} is proposed for {reference}").wait_for()
    assignments = page.get_by_test_id("assignments").inner_text()
    assert assignments.count("Proposed (not sent)") == 2

    page.get_by_role("link", name="Reviewers", exact=True).click()
    preview = page.get_by_test_id("preview")
    assert "Anna Berg" in preview.inner_text() and "Marco Rossi" in preview.inner_text()
    page.get_by_test_id("send-assignments").click()
    page.get_by_text("2 invitation(s) sent to the reviewers.").wait_for()
    row = page.get_by_test_id("assignment-list").get_by_role("row").filter(has_text=reference)
    assert row.inner_text().count("Invited") == 2  # under review once both accept without conflict


def review(page, base, email, name, reference, scores):
    log_in(page, base, email, name)
    page.get_by_test_id("nav-my-reviews").click()
    row = page.get_by_test_id("queue-row").filter(has_text=reference)
    assert "Invitation awaiting your answer" in row.inner_text()
    row.get_by_role("link", name="Answer").click()
    page.get_by_test_id("accept").click()
    page.get_by_label("I have no conflict of interest with this proposal").check()
    page.get_by_test_id("declare").click()
    page.get_by_text("you may now read and score the proposal").wait_for()
    assert TITLE in page.get_by_test_id("proposal-details").inner_text()
    for index, value in enumerate(scores):
        page.locator(f'input[name="score_{index}"][value="{value}"]').check()
        page.locator(f'textarea[name="comment_{index}"]').fill(COMMENT)
    page.get_by_label("Comment for the applicants").fill(COMMENT)
    page.get_by_test_id("submit-review").click()
    page.get_by_text("Your review is submitted. Thank you.").wait_for()
    total = page.get_by_test_id("weighted-total").inner_text()
    page.get_by_test_id("nav-my-reviews").click()
    assert "Review submitted" in page.get_by_test_id("queue-row").filter(has_text=reference).inner_text()
    return total


def test_a_call_from_publication_to_the_decision_letter(live_server, page, people, make_user, db, tmp_path):
    ensure_agreements()  # the cooperation agreements the call's countries come from
    db.session.commit()
    make_user(roles=("manager",), email=MANAGER, first_name="Sophie", last_name="Durand")
    make_user(email=APPLICANT, first_name="Claire", last_name="Martin", is_permanent=True, position="DR2")
    make_user(roles=("directorate",), email=DG, first_name="Marc", last_name="Lefèvre")
    reviewer(
        make_user, REVIEWERS[0], first_name="Anna", last_name="Berg", institution="Karolinska Institutet"
    )
    reviewer(
        make_user, REVIEWERS[1], first_name="Marco", last_name="Rossi", institution="Università di Milano"
    )
    db.session.commit()  # the test holds no transaction while the browser works (SQLite locks)
    manager = page
    manager.on("dialog", lambda dialog: dialog.accept())

    # 1. The call closes in a few minutes (Paris time, to the minute, as the editor takes it).
    now = to_paris(utcnow()).replace(tzinfo=None, second=0, microsecond=0)
    closes = now + timedelta(minutes=11)
    call_title, criteria = publish_call(manager, live_server, closes)

    # 2. The applicant writes and submits before the deadline.
    applicant = people("applicant")
    reference = write_and_submit(applicant, live_server, call_title, tmp_path)

    # 3. The deadline passes (one minute after it, the clock running on).
    with time_machine.travel(paris_to_utc(closes) + timedelta(minutes=1), tick=True):
        applicant.reload()
        assert applicant.get_by_test_id("proposal-status").inner_text() == "Submitted"
        assert applicant.get_by_role("button", name="Take it back to edit").count() == 0
        manager.reload()
        assert manager.get_by_test_id("call-status").inner_text() == "Closed"

        # 4. Screening and assignment.
        screen_and_assign(manager, reference)
        applicant.reload()
        assert applicant.get_by_test_id("proposal-status").inner_text() == "Under assessment"

        # 5. Two reviewers, each in a browser of their own. C1 weighs 25 %.
        first = review(
            people("reviewer-1"),
            live_server,
            REVIEWERS[0],
            "Anna Berg",
            reference,
            [5] + [4] * (criteria - 1),
        )
        second = review(
            people("reviewer-2"), live_server, REVIEWERS[1], "Marco Rossi", reference, [4] * criteria
        )
        assert (first, second) == ("4.25", "4.00")

        # 6. Consensus, ranking, proposal to the Directorate-General.
        manager.get_by_role("link", name="Consensus and ranking").click()  # a tab of the call's assessment
        manager.get_by_test_id("missing-consensus").get_by_role("link", name=reference).click()
        manager.get_by_role("heading", name=f"Consensus on {reference}").wait_for()
        assert manager.get_by_test_id("state").inner_text() == "Reviewed"
        assert manager.get_by_test_id("weighted-score").inner_text() == "4.125"
        assert manager.get_by_label("Consensus score").input_value() == "4.125"
        manager.get_by_label("Consensus comment").fill("An ambitious and balanced partnership.")
        manager.get_by_test_id("save-consensus").click()
        manager.get_by_text(f"Consensus recorded for {reference}.").wait_for()
        manager.get_by_role("link", name="Consensus and ranking").click()
        manager.get_by_test_id("rank").click()
        manager.get_by_text("1 proposal(s) ranked.").wait_for()
        row = manager.get_by_test_id(f"rank-row-{reference}")
        assert row.get_by_test_id("list").inner_text() == "Main list"
        assert row.get_by_test_id("state").inner_text() == "Ranked"
        manager.get_by_test_id("propose").click()
        manager.get_by_text("Ranking proposed to the Directorate-General: 1 on the main list").wait_for()
        assert manager.get_by_test_id(f"rank-row-{reference}").get_by_test_id("state").inner_text() == (
            "Proposed to the DG"
        )

        # 7. A DG member validates the list; the decision is pending, unseen by the applicant.
        dg = people("dg")
        log_in(dg, live_server, DG, "Marc Lefèvre")
        dg.get_by_test_id("nav-validation-queue").click()
        dg.get_by_test_id("queue-calls").get_by_role("link", name=call_title).click()
        assert "awaiting decision" in dg.get_by_test_id(f"decision-{reference}").inner_text()
        dg.get_by_test_id("validate-list").click()
        dg.get_by_text("List validated: 1 awarded, 0 rejected").wait_for()
        assert "pending release" in dg.get_by_test_id(f"decision-{reference}").inner_text()
        applicant.reload()
        assert applicant.get_by_test_id("proposal-status").inner_text() == "Under assessment"

        # 8. The manager releases it; the letter is issued (the job runs in the request in tests).
        manager.get_by_test_id("nav-validation-queue").click()
        # (scoped: the page the manager leaves has the call's title as a link too)
        manager.get_by_test_id("queue-calls").get_by_role("link", name=call_title).click()
        manager.get_by_test_id("release").click()
        manager.get_by_text("1 decision released").wait_for()
        assert "released" in manager.get_by_test_id(f"decision-{reference}").inner_text()
        manager.wait_for_function("document.querySelector('#letters-bar').value === 1")

        # 9. The applicant sees the award and downloads the letter.
        applicant.get_by_role("link", name="Dashboard").click()
        applicant.get_by_text("Decisions on your proposals").wait_for()
        assert applicant.get_by_role("link", name=f"Decision letter {reference}").is_visible()
        applicant.get_by_test_id("nav-my-proposals").click()
        row = applicant.get_by_test_id("proposal-list").get_by_role("row").filter(has_text=reference)
        assert row.get_by_test_id("proposal-status").inner_text() == "Awarded"
        row.get_by_role("link", name=reference).click()
        applicant.get_by_test_id("proposal-title").wait_for()  # the list has the same badge and link
        assert applicant.get_by_test_id("proposal-status").inner_text() == "Awarded"
        with applicant.expect_download() as info:
            applicant.get_by_role("link", name="Download the decision letter").click()
        letter = info.value
        assert letter.suggested_filename == f"DEC-{reference}-v1.pdf"
        text = pdf_text(Path(letter.path()).read_bytes())
        assert reference in text
        assert TITLE in text
        assert "Decision: your proposal is awarded" in text
