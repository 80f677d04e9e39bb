"""Decision letters and agreements: their text (pypdf) per instrument and language, PDF/A, the
platform's signature (pyHanko), frozen versions, what WeasyPrint may fetch, the signature flow
that makes a structure active, and the public verification page."""

from __future__ import annotations

import io
import re
from datetime import date

import pypdf
import pytest
from sqlalchemy import select

from tests.decisions_factories import decide_and_release, ranked_call, ranked_proposal
from tests.factories import make_call
from webapp.documents import issued
from webapp.documents.signing import SigningNotConfigured, check_signature
from webapp.models import AuditEvent, IssuedDocument
from webapp.models.decisions import AwardedStructure, StructureAgreement
from webapp.storage import read_bytes
from workflows.decisions import redress_deadline
from workflows.instruments import Instrument
from workflows.proposal_states import ProposalState
from workflows.structure_states import StructureState


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


@pytest.fixture
def people(make_user):
    return {
        "dg": make_user(roles=("directorate",), first_name="Marc", last_name="Lefèvre"),
        "manager": make_user(roles=("manager",), first_name="Sophie", last_name="Durand"),
        "en": make_user(first_name="Claire", last_name="Martin", locale="en"),
        "fr": make_user(first_name="Hélène", last_name="Dubœuf", locale="fr"),
        "other": make_user(first_name="Ana", last_name="Costa"),
    }


def released(people, instrument=Instrument.LEA_LIA, acts=("award", "reject")):
    call, proposals = ranked_call(
        people["manager"],
        [people["en"], people["fr"]],
        instrument,
        states=[ProposalState.PROPOSED, ProposalState.NOT_RETAINED],
    )
    decide_and_release(
        call, people["dg"], people["manager"], proposals, dict(zip(proposals, acts, strict=True))
    )
    return call, proposals


def letter_of(db, proposal) -> IssuedDocument:
    db.session.expire_all()
    return db.session.scalar(
        select(IssuedDocument).where(
            IssuedDocument.proposal_id == proposal.id, IssuedDocument.kind == "decision_letter"
        )
    )


@pytest.mark.parametrize("instrument", [Instrument.LEA_LIA, Instrument.GDRE_GDRI])
def test_award_letter_in_english_and_rejection_letter_in_french(people, db, instrument):
    call, (awarded, rejected) = released(people, instrument)
    award = letter_of(db, awarded)
    assert award.language == "en" and award.reference == f"DEC-{awarded.reference}" and award.version == 1
    text = pdf_text(read_bytes(award.stored_name))
    label = (
        "European / International Associated Laboratory (LEA / LIA)"
        if instrument == Instrument.LEA_LIA
        else "European / International Research Network (GDRE / GDRI)"
    )
    for expected in [
        f"Reference DEC-{awarded.reference}",
        label,
        awarded.title,
        f"({awarded.acronym})",
        "Claire Martin",
        "Institut de biologie (U1234), Inserm",
        "Joana Silva",
        "Universidade de São Paulo",
        "your proposal is awarded",
        "annual grant of €12,000 for 4 years, that is €48,000 in total",
        "€12,000 a year × 4 years = €48,000",
        "Summary of the assessment",
        "names no reviewer",
        "C1 · Scientific excellence and originality",
        "25 %",
        "4.5",
        "Weighted score: 4.50",
        "Très bon projet : équipes complémentaires, mobilité bien pensée.",
        "Projet d'excellence, à financer en priorité (réciprocité équilibrée).",
        "Salaries are not eligible.",
        "capped at 20 % of each year",
        "At most €15,000 a year.",
        "Expected partner contribution",
        "€12,000 in cash",
        "signed by all parties within 6 months",
        "letter of commitment",
        "ethics approvals",
        "previous annual report is approved",
        "not carried over",
        "mention the structure",
        "Reporting calendar",
        "January 31",
        "Marc Lefèvre",
        "by delegation",
    ]:
        assert expected in text, expected
    first_year = awarded.decided_at.year + 1
    assert f"January 1, {first_year}" in text and f"{first_year}, {first_year + 1}, {first_year + 2}" in text
    assert "@" not in text  # no e-mail address of anyone (reviewers included)

    reject = letter_of(db, rejected)
    assert reject.language == "fr"
    text = pdf_text(read_bytes(reject.stored_name))
    # French: the data written in French (labels, dates, amounts). The interface strings of the
    # letter follow the translation catalogue, filled by the translation pass.
    label_fr = (
        "Laboratoire européen / international associé (LEA / LIA)"
        if instrument == Instrument.LEA_LIA
        else "Groupement de recherche européen / international (GDRE / GDRI)"
    )
    for expected in [
        f"DEC-{rejected.reference}",
        label_fr,
        "Hélène Dubœuf",
        rejected.title,
        "Excellence scientifique et originalité du projet",
        "Adéquation aux priorités de l'Inserm",
        "Décision motivée : qualité évaluée.",
        "Projet d'excellence, à financer en priorité",
        f"{paris_day(rejected.decided_at)}",
        "Marc Lefèvre",
        # The letter's own sentences, from the French catalogue.
        "Décision : votre projet n'est pas financé",
        "Chère collègue, cher collègue,",
        "À l'issue de l'évaluation, la Direction générale de l'Inserm a décidé de ne pas financer votre projet.",
        "Synthèse de l'évaluation",
        "Principaux motifs",
        "Les principaux motifs figurent dans la décision et dans le consensus de l'évaluation",
        "Une nouvelle candidature",
        "Vous pouvez déposer une nouvelle candidature à un appel ultérieur, en tenant compte de l'évaluation.",
        "Demande de réexamen",
        "Si vous estimez que la procédure n'a pas été respectée, vous pouvez déposer une demande de réexamen",
        f"dans un délai de 30 jours, jusqu'au {paris_day(redress_deadline(rejected.decision_released_at))}.",
        "Une demande ne porte que sur la procédure, et non sur l'appréciation scientifique.",
        "par délégation",
    ]:
        assert expected in text, expected
    assert "Scientific excellence and originality" not in text
    for english in ["Main reasons", "Request for review", "not funded", "A new application"]:
        assert english not in text, english
    assert "n'est pas sollicitée" not in text  # resubmission allowed (the default)
    assert re.search(r"Note pondérée : \d,\d\d", text)  # a French decimal comma


def paris_day(moment) -> str:
    from babel.dates import format_date

    from workflows.timeutils import paris_date

    return format_date(paris_date(moment), "long", locale="fr")


def test_letters_are_pdf_a_with_accents_intact_and_signed(people, db):
    _call, (awarded, rejected) = released(people)
    data = read_bytes(letter_of(db, rejected).stored_name)
    root = pypdf.PdfReader(io.BytesIO(data)).trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data()
    assert re.search(rb"pdfaid:part[^0-9]{1,3}2", xmp) and re.search(rb"pdfaid:conformance[^A-Z]{1,3}B", xmp)
    assert "/OutputIntents" in root
    text = pdf_text(data)
    assert (
        "Dubœuf" in text and "Hélène" in text and "Adéquation aux priorités" in text and "à financer" in text
    )
    check = check_signature(data)
    assert check.ok and "TEST KEY" in check.signer


def test_the_signature_validates_and_one_flipped_byte_breaks_it(people, db):
    _call, (awarded, _rejected) = released(people)
    data = read_bytes(letter_of(db, awarded).stored_name)
    assert check_signature(data).ok
    altered = bytearray(data)
    altered[len(data) // 3] ^= 0x01
    broken = check_signature(bytes(altered))
    assert broken.present and not broken.ok and not broken.intact


def test_an_issued_letter_is_never_regenerated_and_a_correction_is_a_new_version(people, db, client, login):
    from webapp.operations import decisions as ops

    _call, (awarded, _rejected) = released(people)
    first = letter_of(db, awarded)
    assert ops.issue_letter(db.session.get(type(awarded), awarded.id)).id == first.id  # the stored one, as is
    login(people["manager"])
    assert (
        client.post(f"/directorate/proposals/{awarded.id}/letter/correct", data={"reason": ""}).status_code
        == 422
    )
    response = client.post(
        f"/directorate/proposals/{awarded.id}/letter/correct",
        data={"reason": "Coordinator's laboratory name corrected."},
    )
    assert response.status_code == 302
    versions = issued.versions_of(first.reference)
    assert [v.version for v in versions] == [1, 2]
    assert versions[1].supersedes_id == versions[0].id and versions[0].sha256 != versions[1].sha256
    assert read_bytes(versions[0].stored_name)  # the old one is kept
    assert "version 2" in pdf_text(read_bytes(versions[1].stored_name))
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "document.corrected"))
    assert event.actor_id == people["manager"].id and event.after["reason"].startswith("Coordinator")
    # The applicant downloads the current version; the first stays reachable by number.
    login(people["en"])
    assert client.get(f"/decisions/proposals/{awarded.id}/letter").data == read_bytes(versions[1].stored_name)
    assert client.get(f"/decisions/proposals/{awarded.id}/letter?version=1").data == read_bytes(
        versions[0].stored_name
    )
    assert client.get(f"/decisions/proposals/{awarded.id}/letter?version=9").status_code == 404


def test_a_url_typed_in_a_proposal_is_neither_fetched_nor_embedded(people, db, monkeypatch):
    from weasyprint.urls import URLFetcher

    from webapp.documents import render

    asked: list[tuple[str, bool]] = []
    network: list[str] = []
    original = render.StaticOnlyFetcher.fetch

    def spy(self, url, headers=None):
        try:
            response = original(self, url, headers)
        except render.FetchRefused:
            asked.append((url, False))
            raise
        asked.append((url, True))
        return response

    monkeypatch.setattr(render.StaticOnlyFetcher, "fetch", spy)
    monkeypatch.setattr(URLFetcher, "fetch", lambda self, url, headers=None: network.append(url))
    payload = (
        '<link rel="attachment" href="file:///etc/passwd"><img src="http://169.254.169.254/latest/meta-data/">'
        " ![x](http://169.254.169.254/pixel.png) [y](file:///etc/passwd)"
    )
    call = make_call(people["manager"])
    proposal = ranked_proposal(call, people["en"], title="Projet <img src=file:///etc/passwd>", acronym="X")
    proposal.programme = proposal.mobility_plan = proposal.history = payload
    proposal.teams[1].laboratory = payload[:300]
    proposal.consensus_comment = payload
    proposal.assessment_summary = {**proposal.assessment_summary, "comments_for_applicants": [payload]}
    db.session.commit()
    decide_and_release(call, people["dg"], people["manager"], [proposal], {proposal: "award"})
    from webapp.operations.structure_agreements import issue_agreement_for_proposal

    agreement = issue_agreement_for_proposal(db.session.get(type(proposal), proposal.id), people["manager"])
    db.session.commit()
    from pathlib import Path

    passwd = Path("/etc/passwd").read_bytes()[:20]
    for document in (letter_of(db, proposal), agreement.document):
        data = read_bytes(document.stored_name)
        reader = pypdf.PdfReader(io.BytesIO(data))
        assert not reader.attachments
        assert passwd not in data and b"root:x:0:0" not in data
        assert "root:x:0:0" not in pdf_text(data)
    assert not network  # WeasyPrint's own fetcher (network, local files) was never used
    served = [url for url, ok in asked if ok]
    assert all(
        url.startswith("data:") or url.startswith(render.INTERNAL_ORIGIN + "/static/") for url in served
    )
    assert not [url for url, ok in asked if ok and ("169.254" in url or url.startswith("file:"))]


# --- agreements --------------------------------------------------------------------------------------


def _issue_agreement(client, login, people, db, proposal):
    login(people["manager"])
    response = client.post(f"/directorate/proposals/{proposal.id}/agreement")
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    return db.session.scalar(select(StructureAgreement).where(StructureAgreement.proposal_id == proposal.id))


def scan_pdf(text="Signed copy") -> bytes:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Title": text})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _sign_all(client, db, agreement, signatories=None):
    for i, party in enumerate(agreement.parties):
        response = client.post(
            f"/directorate/agreements/{agreement.id}/parties/{party.id}/signature",
            data={
                "signatory_name": (signatories or {}).get(i, f"Signataire {i + 1}"),
                "scan": (io.BytesIO(scan_pdf()), "signed.pdf"),
            },
            content_type="multipart/form-data",
        )
        assert response.status_code == 302, response.get_data(as_text=True)


def test_lea_lia_agreement_in_english_then_signed_by_both_parties(people, db, client, login, outbox):
    _call, (awarded, _r) = released(people)
    agreement = _issue_agreement(client, login, people, db, awarded)
    assert agreement.reference == f"AGR-{awarded.reference}"
    assert db.session.get(type(awarded), awarded.id).state == ProposalState.AGREEMENT_PENDING
    assert [p.name for p in agreement.parties] == ["Inserm", "Universidade de São Paulo"]
    data = read_bytes(agreement.document.stored_name)
    assert check_signature(data).ok and agreement.platform_signed_at is not None
    text = pdf_text(data)
    for expected in [
        "European / International Associated Laboratory (LEA / LIA)",
        awarded.title,
        "Between",
        "Universidade de São Paulo",
        "partner foreign institution",
        "Preamble",
        "Article 1 – Purpose",
        "no legal personality",
        "Article 2 – Parties, teams and coordinators",
        "two coordinators",
        "Coordinator: Claire Martin",
        "Partner coordinator: Joana Silva",
        "Article 5 – Governance",
        "at least every two years",
        "Article 11 – Intellectual property",
        "Article 16 – Languages and signatures",
        "Annex 1 – Scientific programme",
        "Work packages 1 to 3.",
        "Annex 2 – Teams and coordinators",
        "Annex 3 – Provisional budget",
        "€48,000",
        "Annex 4 – Committee membership",
        "Coordination",
    ]:
        assert expected in text, expected
    page = client.get(f"/directorate/agreements/{agreement.id}").get_data(as_text=True)
    assert "Record the signature" in page and "0 / 2" not in page
    # A scan that is not a PDF is refused next to the form; nothing is recorded.
    refused = client.post(
        f"/directorate/agreements/{agreement.id}/parties/{agreement.parties[0].id}/signature",
        data={"signatory_name": "X", "scan": (io.BytesIO(b"<html>no</html>"), "x.pdf")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422 and "The file is not a PDF." in refused.get_data(as_text=True)
    _sign_all(client, db, agreement, {0: "Marc Lefèvre, par délégation"})
    db.session.expire_all()
    structure = db.session.scalar(
        select(AwardedStructure).where(AwardedStructure.agreement_id == agreement.id)
    )
    assert structure.state == StructureState.ACTIVE and structure.instrument == Instrument.LEA_LIA
    assert structure.starts_on == agreement.starts_on and structure.ends_on == date(
        agreement.starts_on.year + 4, agreement.starts_on.month, agreement.starts_on.day
    ).replace() - (date(2001, 1, 2) - date(2001, 1, 1))
    parties = db.session.get(StructureAgreement, agreement.id).parties
    assert all(p.signed_at and p.scan_sha256 and p.recorded_by_id == people["manager"].id for p in parties)
    assert parties[0].signatory_name == "Marc Lefèvre, par délégation"
    assert "is active" in outbox(people["en"].email)[-1].subject
    # The structure's state is a label of the page's language, not the raw value.
    from babel.dates import format_date

    page = client.get(f"/directorate/agreements/{agreement.id}").get_data(as_text=True)
    assert (
        f"the structure is active from {format_date(structure.starts_on, 'long', locale='en')} "
        f"to {format_date(structure.ends_on, 'long', locale='en')}." in page
    )
    with client.session_transaction() as session:
        session["lang"] = "fr"
    page = client.get(f"/directorate/agreements/{agreement.id}").get_data(as_text=True)
    assert (
        f"la structure est active du {format_date(structure.starts_on, 'long', locale='fr')} "
        f"au {format_date(structure.ends_on, 'long', locale='fr')}." in page
    )
    with client.session_transaction() as session:
        session["lang"] = "en"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "structure.created")) is not None
    again = client.post(
        f"/directorate/agreements/{agreement.id}/parties/{parties[0].id}/signature",
        data={"signatory_name": "X", "scan": (io.BytesIO(scan_pdf()), "s.pdf")},
        content_type="multipart/form-data",
    )
    assert again.status_code == 422
    scan = client.get(f"/directorate/agreements/{agreement.id}/parties/{parties[0].id}/scan")
    assert scan.status_code == 200 and scan.data.startswith(b"%PDF")


def test_gdre_gdri_agreement_in_french_between_all_authorities_with_both_committees(
    people, db, client, login
):
    call, proposals = ranked_call(
        people["manager"], [people["fr"]], Instrument.GDRE_GDRI, states=[ProposalState.PROPOSED]
    )
    decide_and_release(call, people["dg"], people["manager"], proposals, {proposals[0]: "award"})
    agreement = _issue_agreement(client, login, people, db, proposals[0])
    assert [p.name for p in agreement.parties] == ["Inserm", "CNRS", "USP"]
    committees = {(m.committee, m.role, m.name or m.affiliation) for m in agreement.members}
    assert ("scientific", "chair", "Hélène Dubœuf") in committees
    assert {m.affiliation for m in agreement.members if m.committee == "steering"} == {
        "Inserm",
        "CNRS",
        "USP",
    }
    text = pdf_text(read_bytes(agreement.document.stored_name))
    for expected in [
        # French from the agreement's data (the interface strings follow the translation catalogue).
        "Groupement de recherche européen / international (GDRE / GDRI)",
        "Article 1 – Objet",
        "Le groupement de recherche n'a pas de personnalité juridique",
        "Parties, équipes et coordinateurs",
        "tutelles de tous les laboratoires partenaires",
        "Le coordinateur préside le comité scientifique",
        "un représentant de chaque tutelle",
        "Propriété intellectuelle",
        "Programme scientifique",
        "Composition des comités",
        "Université de Lyon",
        "Laboratoire de neurosciences",
        "CNRS",
        "USP",
        "Hélène Dubœuf",
        "48 000",
    ]:
        assert expected in text, expected
    _sign_all(client, db, agreement)
    db.session.expire_all()
    structure = db.session.scalar(
        select(AwardedStructure).where(AwardedStructure.agreement_id == agreement.id)
    )
    assert structure.state == StructureState.ACTIVE
    from webapp.models.decisions import CommitteeMember

    assert {
        m.structure_id
        for m in db.session.scalars(
            select(CommitteeMember).where(CommitteeMember.agreement_id == agreement.id)
        )
    } == {structure.id}


def test_ume_umi_agreement_from_the_managers_form(people, db, client, login):
    login(people["manager"])
    assert client.get("/directorate/agreements/new").status_code == 200
    incomplete = client.post("/directorate/agreements/new", data={"title": "Unité"})
    assert incomplete.status_code == 422 and "Unité" in incomplete.get_data(as_text=True)  # typed text kept
    response = client.post(
        "/directorate/agreements/new",
        data={
            "title": "Unité mixte internationale de neurosciences",
            "acronym": "UMI-NEURO",
            "host_institution": "University of Tokyo",
            "host_country_code": "JP",
            "director_name": "Akiko Sato",
            "deputy_director_name": "Jean Dupré",
            "programme": "Neural circuits of ageing.",
            "staffing_provisions": "Two Inserm researchers seconded; four host engineers.",
            "governance_notes": "",
            "annual_eur": "250000",
            "duration_years": "5",
            "starts_on": "2028-01-01",
            "language": "en",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    agreement = db.session.scalar(
        select(StructureAgreement).where(StructureAgreement.instrument == Instrument.UME_UMI)
    )
    assert agreement.reference == "AGR-UMI-2028-0001" and agreement.ends_on == date(2032, 12, 31)
    assert [p.name for p in agreement.parties] == ["Inserm", "University of Tokyo"]
    text = pdf_text(read_bytes(agreement.document.stored_name))
    for expected in [
        "European / International Joint Unit (UME / UMI)",
        "Unité mixte internationale de neurosciences",
        "foreign host institution (Japan)",
        "joint unit",
        "Director of the unit: Akiko Sato",
        "Deputy director: Jean Dupré",
        "for 5 years",
        "governance board",
        "staffing provisions",
        "Two Inserm researchers seconded; four host engineers.",
        "Neural circuits of ageing.",
        "€250,000",
        "€1,250,000",
        "Governance board",
        "Annex 3 – Provisional budget and staffing provisions",
    ]:
        assert expected in text, expected
    _sign_all(client, db, agreement)
    db.session.expire_all()
    structure = db.session.scalar(
        select(AwardedStructure).where(AwardedStructure.agreement_id == agreement.id)
    )
    assert structure.state == StructureState.ACTIVE and structure.proposal_id is None
    assert (structure.starts_on, structure.ends_on) == (date(2028, 1, 1), date(2032, 12, 31))


def test_agreement_needs_a_released_award(people, db, client, login):
    call, proposals = ranked_call(people["manager"], [people["en"]], states=[ProposalState.PROPOSED])
    from webapp.operations import decisions as ops

    ops.decide(proposals[0], "award", people["dg"])
    db.session.commit()
    login(people["manager"])
    refused = client.post(f"/directorate/proposals/{proposals[0].id}/agreement")
    assert refused.status_code == 422 and "released award" in refused.get_data(as_text=True)
    login(people["dg"])
    assert client.post(f"/directorate/proposals/{proposals[0].id}/agreement").status_code == 403


# --- verification -------------------------------------------------------------------------------------


def test_the_verification_page_accepts_the_issued_pdf_and_refuses_an_altered_one(people, db, client):
    _call, (awarded, _r) = released(people)
    letter = letter_of(db, awarded)
    data = read_bytes(letter.stored_name)
    page = client.get(f"/verify?reference={letter.reference}").get_data(as_text=True)
    assert letter.sha256 in page and "current" in page
    assert "No document was issued under this reference." in client.get(
        "/verify?reference=DEC-NOPE"
    ).get_data(as_text=True)
    ok = client.post(
        "/verify", data={"document": (io.BytesIO(data), "letter.pdf")}, content_type="multipart/form-data"
    )
    text = ok.get_data(as_text=True)
    assert (
        ok.status_code == 200 and "Authentic" in text and f"Reference {letter.reference}, version 1" in text
    )
    assert "electronic signature is valid" in text
    altered = bytearray(data)
    altered[len(data) // 2] ^= 0x01
    refused = client.post(
        "/verify",
        data={"document": (io.BytesIO(bytes(altered)), "letter.pdf")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "Not recognised" in refused and "Authentic" not in refused
    assert "no longer validates" in refused
    junk = client.post(
        "/verify", data={"document": (io.BytesIO(b"not a pdf"), "x.pdf")}, content_type="multipart/form-data"
    )
    assert junk.status_code == 200 and "Not recognised" in junk.get_data(as_text=True)
    assert client.post("/verify", data={}).status_code == 422


def test_verification_names_the_superseding_version(people, db, client):
    from webapp.operations import decisions as ops

    _call, (awarded, _r) = released(people)
    first = letter_of(db, awarded)
    ops.correct_letter(db.session.get(type(awarded), awarded.id), people["manager"], "Typo.")
    db.session.commit()
    text = client.post(
        "/verify",
        data={"document": (io.BytesIO(read_bytes(first.stored_name)), "l.pdf")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "version 1" in text and "superseded by version 2" in text


@pytest.mark.parametrize("instrument", [Instrument.LEA_LIA, Instrument.GDRE_GDRI, Instrument.UME_UMI])
@pytest.mark.parametrize("language", ["fr", "en"])
def test_agreement_articles_in_each_instrument_and_language(people, db, instrument, language):
    """The article list is the instrument's, in the agreement's language (pypdf on the PDF)."""
    from webapp.operations import structure_agreements as agreements
    from workflows.decisions import agreement_articles

    if instrument == Instrument.UME_UMI:
        agreement = agreements.create_unit_agreement(
            agreements.UnitData(
                title="Unité mixte",
                host_institution="McGill University",
                host_country_code="CA",
                director_name="Anne Tremblay",
                staffing_provisions="Deux chercheurs détachés.",
                starts_on=date(2028, 1, 1),
                language=language,
            ),
            people["manager"],
        )
    else:
        coordinator = people["fr"] if language == "fr" else people["en"]
        call, proposals = ranked_call(
            people["manager"], [coordinator], instrument, states=[ProposalState.PROPOSED]
        )
        decide_and_release(call, people["dg"], people["manager"], proposals, {proposals[0]: "award"})
        agreement = agreements.issue_agreement_for_proposal(proposals[0], people["manager"])
    db.session.commit()
    assert agreement.language == language
    text = pdf_text(read_bytes(agreement.document.stored_name))
    for article in agreement_articles(instrument):
        assert f"Article {article.number} – {article.title(language)}" in text
        assert " ".join(article.body(language).split())[:60] in text
    other = "en" if language == "fr" else "fr"
    assert (
        agreement_articles(instrument)[10].title(other) not in text
    )  # "Intellectual property" / "Propriété…"
    assert check_signature(read_bytes(agreement.document.stored_name)).ok


def test_signing_works_inside_a_running_event_loop(app):
    """pyHanko's synchronous API starts an event loop; inside a running one it signs in a thread."""
    import asyncio
    import concurrent.futures

    from weasyprint import HTML

    from webapp.documents.signing import sign_pdf

    pdf = HTML(string="<p>Décision</p>").write_pdf()

    async def inside_a_loop():
        asyncio.get_running_loop()  # raises unless a loop is running here
        return check_signature(sign_pdf(pdf, reason="test"))

    def in_a_fresh_thread():
        with app.app_context():
            return asyncio.run(inside_a_loop())

    # A thread of its own: the browser tests' Playwright session may already run a loop in this one.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        result = pool.submit(in_a_fresh_thread).result()
    assert result.ok


def test_one_kept_signer_signs_document_after_document_each_naming_its_certificate(app):
    """The signer keeps its key and its signing-certificate-v2 attribute from one signature to the
    next: every signature still validates, covers its own document and names the certificate."""
    import hashlib

    from asn1crypto import cms
    from pyhanko.pdf_utils.reader import PdfFileReader
    from weasyprint import HTML

    from webapp.documents.signing import sign_pdf

    with app.app_context():
        signed = [
            sign_pdf(HTML(string=f"<p>Décision n° {i}</p>").write_pdf(), reason=f"Decision letter {i}")
            for i in range(3)
        ]
        checks = [check_signature(pdf) for pdf in signed]
    assert all(check.ok for check in checks)
    # A signature moved onto another document does not hold: each covers its own bytes.
    first = PdfFileReader(io.BytesIO(signed[0])).embedded_signatures[0]
    second = PdfFileReader(io.BytesIO(signed[1])).embedded_signatures[0]
    assert first.signer_info["signature"].native != second.signer_info["signature"].native
    for pdf in signed:
        signature = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
        attributes = {a["type"].native: a["values"][0] for a in signature.signer_info["signed_attrs"]}
        # PAdES baseline: content type, message digest and the signing certificate (v2), no signing-time.
        assert {"content_type", "message_digest", "signing_certificate_v2"} <= set(attributes)
        assert "signing_time" not in attributes
        cert_hash = attributes["signing_certificate_v2"]["certs"][0]["cert_hash"].native
        assert cert_hash == hashlib.sha256(signature.signer_cert.dump()).digest()
        assert isinstance(signature.signed_data, cms.SignedData)


# --- the letters' other cases, the frozen record -----------------------------------------------------


def english_day(moment) -> str:
    from babel.dates import format_date

    from workflows.timeutils import paris_date

    return format_date(paris_date(moment), "long", locale="en")


def test_english_rejection_letter_when_a_new_application_is_not_invited(people, db):
    from webapp.operations import decisions as ops

    call, (proposal,) = ranked_call(people["manager"], [people["en"]], states=[ProposalState.NOT_RETAINED])
    ops.decide(
        proposal,
        "reject",
        people["dg"],
        comment="Outside the priorities of this call.",
        resubmission_allowed=False,
    )
    db.session.commit()
    ops.release_call(call, people["manager"])
    db.session.commit()
    db.session.refresh(proposal)
    assert proposal.decision_resubmission_allowed is False
    letter = letter_of(db, proposal)
    assert letter.language == "en" and letter.data["outcome"] == "reject"
    assert letter.data["rejection"]["resubmission_allowed"] is False
    text = pdf_text(read_bytes(letter.stored_name))
    deadline = english_day(redress_deadline(proposal.decision_released_at))
    for expected in [
        f"Reference DEC-{proposal.reference}",
        "Decision: your proposal is not funded",
        "After assessment, the Directorate-General of Inserm has decided not to fund your proposal.",
        "Outside the priorities of this call.",
        "Main reasons",
        "The main reasons are given by the decision and the consensus of the assessment above.",
        "A new application",
        "A new application for the same project is not invited.",
        "Request for review",
        f"within 30 days, until {deadline}.",
        "A request concerns the procedure only, not the scientific judgement.",
        "Marc Lefèvre",
    ]:
        assert expected in text, expected
    for absent in ["You may submit a new application", "your proposal is awarded", "Terms of the award"]:
        assert absent not in text, absent


def test_french_award_letter_states_the_amounts_and_duration_in_french(people, db):
    call, (proposal,) = ranked_call(people["manager"], [people["fr"]], states=[ProposalState.PROPOSED])
    decide_and_release(call, people["dg"], people["manager"], [proposal], {proposal: "award"})
    from babel.dates import format_date

    letter = letter_of(db, proposal)
    assert letter.language == "fr" and letter.data["outcome"] == "award"
    text = pdf_text(read_bytes(letter.stored_name))
    first_year = proposal.decided_at.year + 1
    start = format_date(date(first_year, 1, 1), "long", locale="fr")
    end = format_date(date(first_year + 3, 12, 31), "long", locale="fr")
    for expected in [
        "Décision : votre projet est retenu",
        "À l'issue de l'évaluation, la Direction générale de l'Inserm a décidé d'attribuer à votre projet "
        "une subvention annuelle de 12 000 € pendant 4 ans, soit 48 000 € au total.",
        "Conditions de l'attribution",
        "Durée",
        f"4 ans, du {start} au {end}",
        "Montant annuel",
        "12 000 € par an × 4 ans = 48 000 €",
        "Années de subvention",
        f"{first_year}, {first_year + 1}, {first_year + 2}, {first_year + 3}",
        "Les salaires ne sont pas éligibles.",
        "Au plus 15 000 € par an.",
        "12 000 € en numéraire",
        "Calendrier des rapports",
        f"31 janvier {first_year + 1}",
    ]:
        assert expected in text, expected
    for english in ["€12,000", "€48,000", "a year", "years, from", "Terms of the award"]:
        assert english not in text, english


def test_the_issued_letter_keeps_its_data_and_the_sha256_of_its_file(people, db):
    import hashlib

    _call, (awarded, rejected) = released(people)
    for proposal, outcome in ((awarded, "award"), (rejected, "reject")):
        letter = letter_of(db, proposal)
        data = read_bytes(letter.stored_name)
        assert letter.sha256 == hashlib.sha256(data).hexdigest() and letter.size_bytes == len(data)
        assert letter.kind == "decision_letter" and letter.proposal_id == proposal.id
        stored = letter.data
        assert stored["kind"] == "decision_letter" and stored["outcome"] == outcome
        assert stored["reference"] == letter.reference == f"DEC-{proposal.reference}"
        assert stored["version"] == letter.version == 1 and stored["language"] == letter.language
        assert stored["proposal"]["reference"] == proposal.reference
        assert stored["signatory"] == "Marc Lefèvre"
        event = db.session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "document.issued", AuditEvent.object_id == letter.id
            )
        )
        assert event.after["sha256"] == letter.sha256 and event.after["reference"] == letter.reference
    award = letter_of(db, awarded).data
    assert award["rejection"] is None
    assert (award["award"]["annual_eur"], award["award"]["duration_years"], award["award"]["total_eur"]) == (
        12_000,
        4,
        48_000,
    )
    reject = letter_of(db, rejected).data
    assert reject["award"] is None and reject["decision_comment"] == "Décision motivée : qualité évaluée."
    assert reject["rejection"]["resubmission_allowed"] is True and reject["rejection"]["redress_days"] == 30


def test_an_agreement_is_pdf_a_too(people, db):
    from webapp.operations.structure_agreements import issue_agreement_for_proposal

    _call, (awarded, _rejected) = released(people)
    agreement = issue_agreement_for_proposal(awarded, people["manager"])
    db.session.commit()
    data = read_bytes(agreement.document.stored_name)
    root = pypdf.PdfReader(io.BytesIO(data)).trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data()
    assert re.search(rb"pdfaid:part[^0-9]{1,3}2", xmp) and re.search(rb"pdfaid:conformance[^A-Z]{1,3}B", xmp)
    assert "/OutputIntents" in root
    assert agreement.document.kind == "agreement" and check_signature(data).ok


def test_the_whole_list_validation_is_audited_as_the_dgs_act(people, db, client, login):
    call, proposals = ranked_call(people["manager"], [people["en"], people["fr"], people["other"]])
    login(people["dg"])
    # The DG is told where the comments go.
    page = client.get(f"/directorate/calls/{call.id}").get_data(as_text=True)
    assert "Printed in the decision letter of every proposal this validation awards or rejects." in page
    page = client.get(f"/directorate/proposals/{proposals[1].id}").get_data(as_text=True)
    assert 'data-testid="decide-form"' in page
    assert "Printed in the applicants' decision letter (award or rejection)." in page
    response = client.post(f"/directorate/calls/{call.id}/validate", data={"comment": "Validated as ranked."})
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "decisions.list_validated"))
    assert event.actor_id == people["dg"].id
    assert (event.object_type, event.object_id) == ("call", call.id)
    assert event.after == {"awarded": 1, "rejected": 1, "waiting": 1}
    decided = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("proposal.%"), AuditEvent.actor_id == people["dg"].id)
    ).all()
    assert {e.object_id for e in decided} >= {proposals[0].id, proposals[2].id}


# --- the signing key ----------------------------------------------------------------------------------


def make_signing_key(folder, common_name: str, passphrase: bytes = b""):
    """A key and self-signed certificate as an administrator would configure."""
    from cryptography.hazmat.primitives import serialization

    from webapp.documents.signing import self_signed

    key, cert = self_signed(common_name, "Inserm", days=365)
    folder.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = folder / "platform-key.pem", folder / "platform-cert.pem"
    encryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


CONFIGURED_SIGNER = "Inserm calls platform (configured key)"


class TestAConfiguredSigningKey:
    @pytest.fixture
    def app_config(self, tmp_path):
        key_path, cert_path = make_signing_key(tmp_path / "signing", CONFIGURED_SIGNER, b"s3cret passphrase")
        return {
            "SIGNING_KEY_PATH": str(key_path),
            "SIGNING_CERT_PATH": str(cert_path),
            "SIGNING_KEY_PASSPHRASE": "s3cret passphrase",
            "SIGNING_TEST_KEY_ALLOWED": False,  # as in production: the configured key or nothing
        }

    def test_letters_are_signed_with_the_configured_key(self, app, people, db):
        from pyhanko.keys import load_cert_from_pemder

        from webapp.documents.signing import signer_name

        subject = load_cert_from_pemder(app.config["SIGNING_CERT_PATH"]).subject.human_friendly
        assert CONFIGURED_SIGNER in subject
        _call, (awarded, rejected) = released(people)
        for proposal in (awarded, rejected):
            check = check_signature(read_bytes(letter_of(db, proposal).stored_name))
            assert check.ok, check
            assert check.signer == subject and "TEST KEY" not in check.signer
        assert signer_name() == subject

    def test_the_agreement_names_the_configured_signer(self, people, db, client, login):
        _call, (awarded, _rejected) = released(people)
        agreement = _issue_agreement(client, login, people, db, awarded)
        assert CONFIGURED_SIGNER in agreement.platform_signer
        assert check_signature(read_bytes(agreement.document.stored_name)).ok


class TestNoSigningKeyWhereTheTestKeyIsRefused:
    @pytest.fixture
    def app_config(self):
        return {"SIGNING_TEST_KEY_ALLOWED": False, "SIGNING_KEY_PATH": "", "SIGNING_CERT_PATH": ""}

    def test_signing_raises_signing_not_configured(self, app):
        from weasyprint import HTML

        from webapp.documents.signing import sign_pdf

        pdf = HTML(string="<p>Décision</p>").write_pdf()
        with pytest.raises(SigningNotConfigured, match="SIGNING_KEY_PATH"):
            sign_pdf(pdf, reason="test")
        with pytest.raises(SigningNotConfigured):
            check_signature(pdf)

    def test_a_release_records_the_failed_letters_and_shows_why(self, people, db, client, login):
        from webapp.operations import decisions as ops

        call, (proposal,) = ranked_call(people["manager"], [people["en"]], states=[ProposalState.PROPOSED])
        ops.decide(proposal, "award", people["dg"])
        db.session.commit()
        login(people["manager"])
        response = client.post(f"/directorate/calls/{call.id}/release")
        assert response.status_code == 302  # released; the letter job failed, it did not break the page
        page = client.get(f"/directorate/calls/{call.id}")
        text = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "SigningNotConfigured: No signing key is configured" in text
        assert "Issue the missing letters" in text
        assert letter_of(db, proposal) is None
        assert db.session.get(type(proposal), proposal.id).decision_released_at is not None

    def test_issuing_an_agreement_without_a_key_shows_a_clear_error(self, people, db, client, login):
        from webapp.operations import decisions as ops

        call, (proposal,) = ranked_call(people["manager"], [people["en"]], states=[ProposalState.PROPOSED])
        ops.decide(proposal, "award", people["dg"])
        db.session.commit()
        ops.release_call(call, people["manager"])
        db.session.commit()
        login(people["manager"])
        response = client.post(f"/directorate/proposals/{proposal.id}/agreement")
        assert response.status_code == 503
        assert "signing key is not configured" in response.get_data(as_text=True)
        db.session.expire_all()
        assert db.session.scalar(select(StructureAgreement)) is None  # nothing half-issued
        assert db.session.get(type(proposal), proposal.id).state == ProposalState.AWARDED
