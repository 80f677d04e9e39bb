"""A GDRE/GDRI network in Chromium: the applicant writes the proposal of a rolling call, the
checklist says a second French team is missing until one is added (another institution, its own
authority), then two partner-country teams, the budget and the documents; it is submitted and the
receipt downloaded."""

from __future__ import annotations

import re

from tests.browser import steps
from tests.factories import make_call
from webapp.models import Proposal, Submission
from workflows.instruments import Instrument

TEAMS = [
    {"laboratory": "Laboratoire de neurosciences", "institution": "Université de Lyon", "country": "FR",
     "authority": "CNRS", "leader": "Luc Moreau", "email": "luc.moreau@univ-lyon.example"},
    {"laboratory": "Laboratório de Neurociência", "institution": "Universidade de São Paulo", "country": "BR",
     "authority": "USP", "leader": "Joana Silva", "email": "joana.silva@usp.example"},
    {"laboratory": "Brain Science Institute", "institution": "RIKEN", "country": "JP",
     "authority": "RIKEN", "leader": "Aiko Tanaka", "email": "aiko.tanaka@riken.example"},
]


def test_write_and_submit_a_research_network(live_server, page, make_user, db, tmp_path):
    manager = make_user(roles=("manager",))
    call = make_call(manager, Instrument.GDRE_GDRI, title_en="GDRE/GDRI rolling call")
    assert call.is_rolling
    make_user(email="helene.duboeuf@inserm.fr", first_name="Hélène", last_name="Dubœuf",
              is_permanent=True, position="DR1")
    call_id = call.id
    kinds = [(k.code, k.label("en")) for k in call.required_attachments]
    db.session.commit()  # the test holds no transaction while the browser works (SQLite locks)

    steps.log_in(page, live_server, "helene.duboeuf@inserm.fr", "Hélène Dubœuf")

    page.goto(f"{live_server}/calls/{call_id}")
    page.get_by_test_id("apply").click()
    page.get_by_test_id("start-proposal").click()
    page.get_by_text("is started").wait_for()
    proposal_url = page.url

    steps.fill_general(page, title="A European network on brain ageing", acronym="NEURAGE",
                       abstract_fr="Résumé du réseau.", abstract_en="Abstract of the network.",
                       keywords="ageing, networks")
    steps.fill_texts(page, history="Joint work since 2015.", programme="Four workshops and shared cohorts.",
                     mobility="Exchanges of PhD students.", ethics="Cohorts approved by each ethics board.")
    steps.complete_inserm_team(page, "Institut du cerveau", "U1127")

    # The checklist names what the instrument's shape still lacks.
    page.goto(proposal_url)
    to_do = page.get_by_test_id("to-do").inner_text()
    assert "needs at least 2 French teams; it has 1" in to_do
    for team in TEAMS:
        steps.add_team(page, position="Research director", **team)
    page.goto(proposal_url)
    assert "French teams" not in page.get_by_test_id("to-do").inner_text()

    steps.name_co_coordinator(page)

    page.goto(proposal_url)
    steps.fill_budget(page, partner_cash="4000")
    page.goto(proposal_url)
    assert "above the 20 % cap" not in page.get_by_test_id("to-do").inner_text()  # meetings: 2,000 of 12,000

    page.get_by_role("link", name="Upload or replace").click()
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
    assert proposal.state == "submitted" and proposal.reference.startswith("GDR-")
    assert sorted(t.country_code for t in proposal.teams) == ["BR", "FR", "FR", "JP"]
    assert {t.authority for t in proposal.teams if not t.is_inserm} == {"CNRS", "USP", "RIKEN"}
    receipt_reference = submission.receipt.reference
    db.session.commit()
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile(r"^REC-")).click()
    assert download_info.value.suggested_filename == f"{receipt_reference}.pdf"
