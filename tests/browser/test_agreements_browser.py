"""In Chromium: after a released award, the manager issues the agreement, downloads it and records
each party's countersigned scan until the structure is active (LEA/LIA); on a rolling GDRE/GDRI
call the DG awards one proposal on its own page, the applicant downloads the letter, and the
manager names the steering committee (a corrected version 2) before the three authorities sign."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pypdf
from babel.dates import format_date
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.test_decisions_browser import log_in, log_out
from tests.decisions_factories import decide_and_release, ranked_call
from tests.webapp.test_decisions_documents import scan_pdf
from webapp.models import IssuedDocument, Proposal
from webapp.models.decisions import AwardedStructure, StructureAgreement
from workflows.decisions import award_terms
from workflows.instruments import Instrument
from workflows.proposal_states import ProposalState
from workflows.structure_states import StructureState


def pdf_text(path) -> str:
    reader = pypdf.PdfReader(io.BytesIO(Path(path).read_bytes()))
    return " ".join(" ".join((p.extract_text() or "").split()) for p in reader.pages)


def download(page, link_name: str):
    """Click the link and return (suggested file name, text of the PDF)."""
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name, exact=True).click()
    pdf = info.value
    return pdf.suggested_filename, pdf_text(pdf.path())


def mandate(proposal) -> tuple[str, str]:
    """The mandate of an awarded proposal as the pages print it in English (first and last day)."""
    terms = award_terms(
        decided_at=proposal.decided_at,
        duration_years=proposal.duration_years,
        annual_eur=proposal.decision_annual_eur,
        call_funding_start=proposal.call.funding_start,
    )
    return format_date(terms.start, "long", locale="en"), format_date(terms.end, "long", locale="en")


def record_signature(page, index: int, signatory: str, scan_path: Path, expected_flash: str):
    form = page.get_by_test_id(f"sign-{index}")
    form.get_by_label("Name and title of the signatory").fill(signatory)
    form.get_by_label("Countersigned copy (PDF)").set_input_files(str(scan_path))
    form.get_by_role("button", name="Record the signature").click()
    page.get_by_text(expected_flash).wait_for()


def test_manager_issues_the_lea_lia_agreement_and_records_both_signatures(
    live_server, page, make_user, db, tmp_path
):
    dg = make_user(roles=("directorate",), first_name="Marc", last_name="Lefèvre")
    manager = make_user(roles=("manager",), first_name="Sophie", last_name="Durand")
    applicant = make_user(first_name="Claire", last_name="Martin")
    other = make_user(first_name="Ana", last_name="Costa")
    call, (awarded, rejected) = ranked_call(
        manager, [applicant, other], states=[ProposalState.PROPOSED, ProposalState.NOT_RETAINED]
    )
    decide_and_release(call, dg, manager, [awarded, rejected], {awarded: "award", rejected: "reject"})
    # Everything the test reads from the rows, before the commit that ends its transaction.
    manager_email, call_id = manager.email, call.id
    proposal_id, reference, title = awarded.id, awarded.reference, awarded.title
    start, end = mandate(awarded)
    db.session.commit()
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmations of irreversible steps
    scan = tmp_path / "countersigned.pdf"
    scan.write_bytes(scan_pdf("Countersigned agreement"))
    not_a_pdf = tmp_path / "countersigned.txt"
    not_a_pdf.write_text("Signed, honestly.")

    # The manager opens the awarded proposal's decision page and issues its agreement.
    log_in(page, live_server, manager_email)
    page.goto(live_server + f"/directorate/calls/{call_id}")
    page.get_by_role("link", name=reference, exact=True).click()
    expect(page.get_by_test_id("decision")).to_contain_text("Awarded: €12,000 a year")
    page.get_by_test_id("issue-agreement").click()
    page.get_by_text("Agreement issued and signed by the platform").wait_for()
    assert re.search(r"/directorate/agreements/\d+$", page.url)
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)
    expect(page.get_by_text(f"From {start} to {end}")).to_be_visible()
    parties = page.get_by_test_id("parties")
    expect(parties).to_contain_text("Inserm")
    expect(parties).to_contain_text("Universidade de São Paulo")
    assert page.get_by_test_id("structure").count() == 0

    # The agreement PDF: its reference and its parties.
    name, text = download(page, f"AGR-{reference} · version 1")
    assert name == f"AGR-{reference}-v1.pdf"
    for expected in [
        f"AGR-{reference}",
        "European / International Associated Laboratory (LEA / LIA)",
        title,
        "Between",
        "Inserm, Institut national de la santé et de la recherche médicale",
        "Universidade de São Paulo, partner foreign institution",
        "Coordinator: Claire Martin",
        "Partner coordinator: Joana Silva",
    ]:
        assert expected in text, expected

    # A scan that is not a PDF is refused; the typed name is kept in the party's form.
    form = page.get_by_test_id("sign-1")
    form.get_by_label("Name and title of the signatory").fill("Marc Lefèvre, par délégation")
    form.get_by_label("Countersigned copy (PDF)").set_input_files(str(not_a_pdf))
    form.get_by_role("button", name="Record the signature").click()
    expect(page.get_by_test_id("refusal")).to_contain_text("The file is not a PDF.")
    form = page.get_by_test_id("sign-1")
    # By name: in the re-rendered form the labels keep the fields' default ids (for="signatory_name",
    # "scan") while the inputs get "signatory-<id>"/"scan-<id>", so get_by_label finds nothing there.
    expect(form.locator("input[name=signatory_name]")).to_have_value("Marc Lefèvre, par délégation")
    expect(parties.get_by_text("signed", exact=True)).to_have_count(0)  # nothing was recorded

    # Each party's countersigned copy; after the last one the structure is active.
    form.locator("input[name=scan]").set_input_files(str(scan))
    form.get_by_role("button", name="Record the signature").click()
    page.get_by_text("Signature recorded.").wait_for()
    expect(page.get_by_test_id("sign-1")).to_have_count(0)
    record_signature(
        page, 2, "Prof. Carlos Almeida, Rector", scan, "Every party has signed: the structure is now active."
    )
    expect(page.get_by_test_id("structure")).to_have_text(
        f"Every party has signed: the structure is active from {start} to {end}."
    )
    expect(parties).to_contain_text("Marc Lefèvre, par délégation")
    expect(parties).to_contain_text("Prof. Carlos Almeida, Rector")
    expect(parties.get_by_role("link", name="countersigned copy")).to_have_count(2)
    assert page.locator("form[data-testid^='sign-']").count() == 0
    log_out(page)

    # The server is idle now: the database says the same.
    db.session.expire_all()
    agreement = db.session.scalar(
        select(StructureAgreement).where(StructureAgreement.proposal_id == proposal_id)
    )
    structure = db.session.scalar(
        select(AwardedStructure).where(AwardedStructure.agreement_id == agreement.id)
    )
    assert structure.state == StructureState.ACTIVE and structure.instrument == Instrument.LEA_LIA
    assert all(p.signed_at and p.scan_sha256 for p in agreement.parties)
    assert db.session.get(Proposal, proposal_id).state == ProposalState.AGREEMENT_PENDING
    db.session.commit()


def test_rolling_gdre_gdri_one_award_then_committees_and_three_signatures(
    live_server, page, make_user, db, tmp_path
):
    dg = make_user(roles=("directorate",), first_name="Marc", last_name="Lefèvre")
    manager = make_user(roles=("manager",), first_name="Sophie", last_name="Durand")
    applicant = make_user(first_name="Claire", last_name="Martin")
    other = make_user(first_name="Ana", last_name="Costa")
    call, (first, second) = ranked_call(
        manager,
        [applicant, other],
        Instrument.GDRE_GDRI,
        states=[ProposalState.PROPOSED, ProposalState.PROPOSED],
    )
    assert call.is_rolling
    dg_email, manager_email, applicant_email = dg.email, manager.email, applicant.email
    call_id, call_title = call.id, call.title_en
    first_id, first_ref, second_id, second_ref = first.id, first.reference, second.id, second.reference
    db.session.commit()
    page.on("dialog", lambda dialog: dialog.accept())
    scan = tmp_path / "countersigned.pdf"
    scan.write_bytes(scan_pdf("Countersigned agreement"))
    comment = "Awarded for the reciprocity of the network; the steering committee meets in 2028."

    # The DG: a rolling call is decided proposal by proposal, never as a whole list.
    log_in(page, live_server, dg_email)
    page.get_by_test_id("nav-validation-queue").click()
    rolling = page.get_by_test_id("rolling-queue")
    expect(rolling).to_contain_text(first_ref)
    expect(rolling).to_contain_text(second_ref)
    page.get_by_test_id("queue-calls").get_by_role("link", name=call_title).click()
    page.get_by_text(
        "This is a rolling call: its proposals are validated one by one, as they come."
    ).wait_for()
    assert page.get_by_test_id("validate-list").count() == 0
    token = page.locator("input[name=csrf_token]").first.input_value()
    refused = page.request.post(
        live_server + f"/directorate/calls/{call_id}/validate", form={"csrf_token": token, "comment": ""}
    )
    assert refused.status == 422
    assert "Proposals of a rolling call are validated one by one, as they come." in refused.text()
    page.get_by_test_id("ranking").get_by_role("link", name=first_ref, exact=True).click()
    decide = page.get_by_test_id("decide-form")
    expect(decide).to_contain_text("Printed in the applicants' decision letter")
    decide.get_by_label("Comment", exact=True).fill(comment)
    decide.get_by_test_id("award").click()
    page.get_by_text("Proposal awarded. The decision stays pending until it is released.").wait_for()
    expect(page.get_by_test_id(f"decision-{first_ref}")).to_contain_text("pending release")
    expect(page.get_by_test_id(f"decision-{second_ref}")).to_contain_text("awaiting decision")
    log_out(page)

    # A manager releases it: one letter, the second proposal is untouched.
    log_in(page, live_server, manager_email)
    page.goto(live_server + f"/directorate/calls/{call_id}")
    page.get_by_test_id("release").click()
    page.get_by_text("1 decision released").wait_for()
    page.wait_for_function("document.querySelector('#letters-bar').value === 1")
    expect(page.get_by_test_id(f"decision-{first_ref}")).to_contain_text("released")
    expect(page.get_by_test_id(f"decision-{second_ref}")).to_contain_text("awaiting decision")
    log_out(page)

    # The applicant downloads the letter.
    log_in(page, live_server, applicant_email)
    page.get_by_text("Decisions on your proposals").wait_for()
    name, text = download(page, f"Decision letter {first_ref}")
    assert name == f"DEC-{first_ref}-v1.pdf"
    for expected in [
        f"Reference DEC-{first_ref}",
        "European / International Research Network (GDRE / GDRI)",
        "Decision: your proposal is awarded",
        "has decided to award your proposal an annual grant of €12,000",
        comment,
    ]:
        assert expected in text, expected
    log_out(page)

    # The manager issues the agreement and names the steering committee: version 2.
    log_in(page, live_server, manager_email)
    page.goto(live_server + f"/directorate/proposals/{first_id}")
    page.get_by_test_id("issue-agreement").click()
    page.get_by_text("Agreement issued and signed by the platform").wait_for()
    parties = page.get_by_test_id("parties")
    for party in ("Inserm", "CNRS", "USP"):
        expect(parties).to_contain_text(party)
    _name, text = download(page, f"AGR-{first_ref} · version 1")
    assert f"AGR-{first_ref}" in text and "representative to be designated" in text
    names = {"Inserm": "Anne Petit", "CNRS": "Louis Garnier", "USP": "Maria Souza"}
    committees = page.get_by_test_id("committees-form")
    for affiliation, person in names.items():
        committees.get_by_label(f"Steering committee — {affiliation}", exact=True).fill(person)
    committees.get_by_label("What the correction changes").fill(
        "Steering committee named by the authorities."
    )
    page.get_by_test_id("save-committees").click()
    page.get_by_text("Committees saved: version 2 of the agreement is issued").wait_for()
    name, text = download(page, f"AGR-{first_ref} · version 2")
    assert name == f"AGR-{first_ref}-v2.pdf"
    assert f"AGR-{first_ref} · version 2" in text
    for affiliation, person in names.items():
        assert re.search(rf"{person} {affiliation} member", text), person
    assert "Steering committee" in text and "representative to be designated" not in text

    # The three authorities sign; the structure is active.
    record_signature(page, 1, "Didier Samuel, Inserm", scan, "Signature recorded.")
    expect(page.get_by_test_id("committees-form")).to_have_count(0)  # names change by amendment now
    record_signature(page, 2, "Antoine Petit, CNRS", scan, "Signature recorded.")
    record_signature(
        page, 3, "Carlos Carlotti, USP", scan, "Every party has signed: the structure is now active."
    )
    structure_text = page.get_by_test_id("structure").inner_text()
    assert structure_text.startswith("Every party has signed: the structure is active from ")
    log_out(page)

    db.session.expire_all()
    agreement = db.session.scalar(
        select(StructureAgreement).where(StructureAgreement.proposal_id == first_id)
    )
    structure = db.session.scalar(
        select(AwardedStructure).where(AwardedStructure.agreement_id == agreement.id)
    )
    assert structure.state == StructureState.ACTIVE and structure.instrument == Instrument.GDRE_GDRI
    assert structure_text == (
        "Every party has signed: the structure is active from "
        f"{format_date(structure.starts_on, 'long', locale='en')} "
        f"to {format_date(structure.ends_on, 'long', locale='en')}."
    )
    assert [p.name for p in agreement.parties] == ["Inserm", "CNRS", "USP"]
    assert {m.affiliation: m.name for m in agreement.members if m.committee == "steering"} == names
    assert [
        d.version
        for d in db.session.scalars(
            select(IssuedDocument).where(IssuedDocument.reference == f"AGR-{first_ref}")
        )
    ] == [1, 2]
    undecided = db.session.get(Proposal, second_id)
    assert undecided.state == ProposalState.PROPOSED and undecided.decision_released_at is None
    assert db.session.scalar(select(IssuedDocument).where(IssuedDocument.proposal_id == second_id)) is None
    db.session.commit()
