"""A GDRE/GDRI network in Chromium: the applicant writes the proposal of a rolling call, the
checklist says a second French team is missing until one is added (another institution, its own
authority), then two partner-country teams, the budget and the documents; it is submitted and the
receipt downloaded."""

from __future__ import annotations

import re

from tests.factories import make_call
from tests.submission_support import pdf_bytes
from webapp.models import Proposal, Submission
from workflows.instruments import Instrument

TEAMS = [
    # laboratory, institution, country, authority, leader, e-mail
    ("Laboratoire de neurosciences", "Université de Lyon", "FR", "CNRS", "Luc Moreau", "luc.moreau@univ-lyon.example"),
    ("Laboratório de Neurociência", "Universidade de São Paulo", "BR", "USP", "Joana Silva", "joana.silva@usp.example"),
    ("Brain Science Institute", "RIKEN", "JP", "RIKEN", "Aiko Tanaka", "aiko.tanaka@riken.example"),
]


def add_team(page, laboratory, institution, country, authority, leader, email):
    page.get_by_role("link", name="Add a team").click()
    page.get_by_label("Laboratory").fill(laboratory)
    page.get_by_label("Institution").fill(institution)
    page.get_by_label("Country").select_option(country)
    page.get_by_label("Supervising authority (tutelle)").fill(authority)
    page.get_by_label("Team leader", exact=True).fill(leader)
    page.get_by_label("Team leader's e-mail").fill(email)
    page.get_by_label("Team leader's position").fill("Research director")
    page.get_by_label("The team leader holds a permanent position").check()
    page.get_by_role("button", name="Save the team").click()
    page.get_by_text("Team saved.").wait_for()


def test_write_and_submit_a_research_network(live_server, page, make_user, db, tmp_path):
    manager = make_user(roles=("manager",))
    call = make_call(manager, Instrument.GDRE_GDRI, title_en="GDRE/GDRI rolling call")
    assert call.is_rolling
    make_user(email="helene.duboeuf@inserm.fr", first_name="Hélène", last_name="Dubœuf",
              is_permanent=True, position="DR1")
    call_id = call.id
    kinds = [(k.code, k.label("en")) for k in call.required_attachments]
    db.session.commit()  # the test holds no transaction while the browser works (SQLite locks)

    page.goto(live_server + "/auth/login")
    page.get_by_label("E-mail").fill("helene.duboeuf@inserm.fr")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Welcome, Hélène Dubœuf").wait_for()

    page.goto(f"{live_server}/calls/{call_id}")
    page.get_by_test_id("apply").click()
    page.get_by_test_id("start-proposal").click()
    page.get_by_text("is started").wait_for()
    proposal_url = page.url

    page.locator("#general").get_by_role("link", name="Edit").click()
    page.get_by_label("Title").fill("A European network on brain ageing")
    page.get_by_label("Acronym").fill("NEURAGE")
    page.get_by_label("Abstract in French").fill("Résumé du réseau.")
    page.get_by_label("Abstract in English").fill("Abstract of the network.")
    page.get_by_label("Keywords").fill("ageing, networks")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("Saved.").wait_for()

    page.locator("#texts").get_by_role("link", name="Edit").click()
    page.get_by_label("History of the collaboration and joint publications").fill("Joint work since 2015.")
    page.get_by_label("Scientific programme").fill("Four workshops and shared cohorts.")
    page.get_by_label("Mobility and training plan (young researchers)").fill("Exchanges of PhD students.")
    page.get_by_label("Ethics statement").fill("Cohorts approved by each ethics board.")
    page.get_by_role("button", name="Save", exact=True).click()

    page.locator("#teams").get_by_role("link", name="Edit").first.click()
    page.get_by_label("Laboratory").fill("Institut du cerveau")
    page.get_by_label("Unit code (Inserm units, e.g. U1234)").fill("U1127")
    page.get_by_role("button", name="Save the team").click()
    page.get_by_text("Team saved.").wait_for()

    # The checklist names what the instrument's shape still lacks.
    page.goto(proposal_url)
    to_do = page.get_by_test_id("to-do").inner_text()
    assert "needs at least 2 French teams; it has 1" in to_do
    add_team(page, *TEAMS[0])
    add_team(page, *TEAMS[1])
    add_team(page, *TEAMS[2])
    page.goto(proposal_url)
    assert "French teams" not in page.get_by_test_id("to-do").inner_text()

    page.get_by_role("link", name="Edit the co-coordinator").click()
    page.get_by_label("Name of the foreign co-coordinator").fill("Joana Silva")
    page.get_by_label("E-mail of the foreign co-coordinator").fill("joana.silva@usp.example")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("An invitation to view and co-edit the proposal was sent").wait_for()

    page.goto(proposal_url)
    page.locator("#budget").get_by_role("link", name="Edit").click()
    for year in range(1, 5):
        page.get_by_label(f"Year {year}, Mobility: asked of Inserm").fill("10000")
        page.get_by_label(f"Year {year}, Mobility: partner, cash").fill("4000")
        page.get_by_label(f"Year {year}, Meetings, seminars: asked of Inserm").fill("2000")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_test_id("budget-total").get_by_text("€48,000").wait_for()
    page.goto(proposal_url)
    assert "above the 20 % cap" not in page.get_by_test_id("to-do").inner_text()  # meetings: 2,000 of 12,000

    page.get_by_role("link", name="Upload or replace").click()
    for code, label in kinds:
        real = tmp_path / f"{code}.pdf"
        real.write_bytes(pdf_bytes(text=code))
        page.get_by_label(label).set_input_files(str(real))
        page.get_by_label(label).locator("xpath=../..").locator("button[type=submit]").click()
        page.get_by_text(f"{label} uploaded.").wait_for()

    page.goto(proposal_url)
    assert page.get_by_test_id("to-do").count() == 0
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("submit-proposal").click()
    page.get_by_text("Your proposal is submitted (receipt").wait_for()
    assert page.get_by_test_id("proposal-status").inner_text() == "Submitted"

    db.session.expire_all()
    proposal = db.session.scalar(db.select(Proposal))
    [submission] = db.session.scalars(db.select(Submission)).all()
    assert proposal.state == "submitted" and proposal.reference.startswith("GDR-")
    assert sorted(t.country_code for t in proposal.teams) == ["BR", "FR", "FR", "JP"]
    assert {t.authority for t in proposal.teams if not t.is_inserm} == {"CNRS", "USP", "RIKEN"}
    receipt_reference = submission.receipt.reference
    db.session.commit()
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile(r"^REC-")).click()
    assert download_info.value.suggested_filename == f"{receipt_reference}.pdf"
