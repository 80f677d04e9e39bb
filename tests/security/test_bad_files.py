"""The bad-file corpus (`payloads.BAD_FILES`) sent to every upload field other than the
proposal's documents (tests/webapp/test_submission_documents.py has those): the countersigned
scan of an agreement (`SignatureForm.scan`) and the public verification page
(`VerifyForm.document`).

What is not a readable, unprotected PDF is refused with a message saying why, and nothing is
stored; what is a PDF (a polyglot, a hostile file name) is stored under a generated name only,
and served back as a download that a browser cannot sniff into a page. A body over the
platform's limit gets 413.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from forms.decisions import SignatureForm, VerifyForm
from tests.security.payload_support import Outputs, scrape_form, visible_text
from tests.security.payload_walk import Walker
from tests.security.payloads import BAD_FILES, LITERAL_PROBE, valid_pdf

LIMIT = 2 * 1024 * 1024
SCAN_MESSAGES = (
    "The file is empty.",
    "The file is not a PDF.",
    "The PDF is encrypted: upload an unprotected copy.",
    "The PDF has no page.",
    "The PDF cannot be read.",
)
REFUSED = [f for f in BAD_FILES if not f.accept_ok]
ACCEPTABLE = [f for f in BAD_FILES if f.accept_ok]


@pytest.fixture
def app_config():
    # CSRF on, as in the whole security suite; a small body limit, to reach it cheaply.
    return {"WTF_CSRF_ENABLED": True, "MAX_CONTENT_LENGTH": LIMIT}


def test_the_corpus_covers_every_upload_field():
    """A new upload field must be added here (and its file tests written)."""
    import importlib
    import inspect
    import pkgutil

    from flask_wtf.file import FileField

    import forms

    fields = set()
    for info in pkgutil.iter_modules(forms.__path__):
        module = importlib.import_module(f"forms.{info.name}")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            for attr, value in vars(cls).items():
                if getattr(value, "field_class", None) is FileField:
                    fields.add(f"{name}.{attr}")
    assert fields == {
        "AttachmentForm.file",  # tests/webapp/test_submission_documents.py
        f"{SignatureForm.__name__}.scan",
        f"{VerifyForm.__name__}.document",
    }


def stored_files(app) -> set[Path]:
    root = Path(app.config["STORAGE_DIR"])
    return {p for p in root.glob("*/*") if p.is_file()} if root.exists() else set()


def agreement_with_parties(db, manager, count: int):
    """An issued agreement awaiting ``count`` countersignatures."""
    from webapp.documents import issued
    from webapp.models.decisions import AgreementParty, StructureAgreement
    from workflows.instruments import Instrument

    agreement = StructureAgreement(
        reference="AGR-UMI-FILES-0001",
        instrument=Instrument.UME_UMI,
        title="Joint unit for the file tests",
        host_institution="University of Tokyo",
        director_name="Akiko Sato",
        staffing_provisions="Two researchers.",
        annual_eur=100_000,
        duration_years=5,
        starts_on=date(2028, 1, 1),
        ends_on=date(2032, 12, 31),
        created_by_id=manager.id,
    )
    agreement.parties = [
        AgreementParty(position=i, kind="inserm" if i == 0 else "host", name=f"Party {i}")
        for i in range(count)
    ]
    db.session.add(agreement)
    db.session.flush()
    document = issued.store_document(
        {"kind": issued.AGREEMENT, "reference": agreement.reference, "version": 1, "language": "en"},
        valid_pdf("agreement"),
        proposal_id=None,
    )
    agreement.document_id = document.id
    db.session.commit()
    return agreement


@pytest.fixture
def signing(app, db, make_user, login):
    manager = make_user(roles=("manager",), email="manager@example.org")
    agreement = agreement_with_parties(db, manager, len(ACCEPTABLE) + 2)
    outputs = Outputs(0, app.config["SECRET_KEY"])
    walker = Walker(app, outputs, login)
    return walker, walker.client(manager), agreement, outputs


def sign(walker, client, agreement, party, data: bytes, filename: str):
    page = f"/directorate/agreements/{agreement.id}"
    action = f"{page}/parties/{party.id}/signature"
    return walker.upload(
        client, page, action, data, filename, expect=None, fields={"signatory_name": "Marc Lefèvre, DG"}
    )


def test_a_countersigned_scan_that_is_no_pdf_is_refused_and_not_kept(app, db, signing):
    walker, client, agreement, outputs = signing
    party = agreement.parties[-1]
    before = stored_files(app)
    for bad in REFUSED:
        response = sign(walker, client, agreement, party, bad.data(), bad.filename)
        assert response.status_code == 422, f"{bad.name}: {response.status_code}"
        text = visible_text(response.get_data(as_text=True))
        assert any(m in text for m in SCAN_MESSAGES), f"{bad.name}: no clear message in {text[-400:]!r}"
        db.session.expire_all()
        assert party.signed_at is None and party.scan_stored_name is None, bad.name
        assert stored_files(app) == before, f"{bad.name}: a file was kept"
    assert not outputs.problems, outputs.problems


def test_a_scan_is_stored_under_a_generated_name_and_served_as_a_download(app, db, signing):
    walker, client, agreement, outputs = signing
    for bad, party in zip(ACCEPTABLE, agreement.parties, strict=False):
        response = sign(walker, client, agreement, party, bad.data(), bad.filename)
        assert response.status_code == 302, f"{bad.name}: {response.status_code}"
        db.session.expire_all()
        assert re.fullmatch(r"[0-9a-f]{32}\.pdf", party.scan_stored_name), party.scan_stored_name
        download = client.get(f"/directorate/agreements/{agreement.id}/parties/{party.id}/scan")
        assert download.status_code == 200 and download.data == bad.data()
        assert download.mimetype == "application/pdf"
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        disposition = download.headers["Content-Disposition"]
        assert disposition.startswith("attachment;"), disposition
        assert "tmp" not in disposition and "script" not in disposition and "\u202e" not in disposition
    walker.get(client, f"/directorate/agreements/{agreement.id}")
    assert not outputs.problems, outputs.problems


def test_an_oversized_scan_is_refused(app, db, signing, monkeypatch):
    from webapp.operations import structure_agreements

    walker, client, agreement, outputs = signing
    party = agreement.parties[-1]
    before = stored_files(app)
    # over the platform's limit: 413, before any form is read
    response = sign(walker, client, agreement, party, valid_pdf() + b"%" + b"0" * LIMIT, "big.pdf")
    assert response.status_code == 413
    assert "larger than the platform accepts" in visible_text(response.get_data(as_text=True))
    # under it, but over the scan's own limit: a message beside the field
    monkeypatch.setattr(structure_agreements, "MAX_SCAN_BYTES", 1024 * 1024)
    response = sign(walker, client, agreement, party, valid_pdf() + b"%" + b"0" * (1024 * 1024), "big.pdf")
    assert response.status_code == 422
    assert "The file is larger than 1 MB." in visible_text(response.get_data(as_text=True))
    db.session.expire_all()
    assert party.signed_at is None and stored_files(app) == before
    assert not outputs.problems, outputs.problems


def test_the_verification_page_reads_any_file_and_keeps_none(app, db, make_user, login):
    outputs = Outputs(0, app.config["SECRET_KEY"])
    walker = Walker(app, outputs, login)
    visitor = walker.client()
    before = stored_files(app)
    for bad in BAD_FILES:
        response = walker.upload(visitor, "/verify", "/verify", bad.data(), bad.filename, expect=(200, 422))
        text = visible_text(response.get_data(as_text=True))
        if response.status_code == 200:
            assert "Not recognised" in text, f"{bad.name}: {text[-300:]!r}"
        else:
            assert "Choose a PDF file." in text, bad.name
    response = walker.upload(visitor, "/verify", "/verify", b"%PDF-" + b"0" * LIMIT, "big.pdf", expect=(413,))
    assert stored_files(app) == before, "the verification page kept a file"
    # the reference box echoes what was typed, escaped
    walker.get(visitor, "/verify?" + __import__("urllib.parse").parse.urlencode({"reference": LITERAL_PROBE}))
    assert not outputs.problems, outputs.problems


def test_a_missing_scan_is_asked_for(app, db, signing):
    walker, client, agreement, outputs = signing
    page = f"/directorate/agreements/{agreement.id}"
    party = agreement.parties[-1]
    form = scrape_form(client.get(page).get_data(as_text=True), action=f"{page}/parties/{party.id}/signature")
    data = dict(form.fields)
    data["signatory_name"] = "Marc Lefèvre"
    response = client.post(form.action, data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Choose the PDF scan." in visible_text(response.get_data(as_text=True))
