"""The proposal's documents: PDF only (checked from the bytes), size limits, safe names, file and
row written as one unit, downloads that cannot be sniffed into a page."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from pypdf import PdfWriter

from tests.factories import make_proposal
from tests.submission_support import (  # noqa: F401 - fixtures, by their names
    as_coordinator_fixture,
    attach,
    complete_draft,
    coordinator_fixture,
    open_call_fixture,
    page_text,
    pdf_bytes,
    programme_manager_fixture,
)
from webapp.models import Attachment, AuditEvent, Proposal
from webapp.storage import path_of
from workflows.proposal_states import ProposalState


@pytest.fixture
def draft(open_call, coordinator):
    return make_proposal(open_call, coordinator, ProposalState.DRAFT)


def upload(client, proposal, data, filename="cv.pdf", kind="cv_coordinator"):
    return client.post(
        f"/proposals/{proposal.id}/documents/{kind}",
        data={f"{kind}-file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def stored_files(app) -> list[Path]:
    root = Path(app.config["STORAGE_DIR"])
    return sorted(p for p in root.glob("*/*") if p.is_file()) if root.exists() else []


def attachments(db):
    db.session.expire_all()
    return db.session.scalars(db.select(Attachment)).all()


def test_a_pdf_is_stored_under_a_generated_name_with_its_hash(app, as_coordinator, draft, db):
    data = pdf_bytes(pages=2)
    response = upload(as_coordinator, draft, data, filename="CV Claire Martin.pdf")
    assert response.status_code == 302
    [attachment] = attachments(db)
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    assert attachment.size_bytes == len(data) and attachment.original_filename == "CV Claire Martin.pdf"
    assert attachment.stored_name != "CV Claire Martin.pdf" and attachment.stored_name.endswith(".pdf")
    assert path_of(attachment.stored_name).read_bytes() == data
    page = page_text(as_coordinator.get(f"/proposals/{draft.id}/documents"))
    assert "CV Claire Martin.pdf" in page and attachment.sha256 in page
    event = db.session.scalar(
        db.select(AuditEvent).where(AuditEvent.action == "proposal.attachment_uploaded")
    )
    assert event.after["sha256"] == attachment.sha256

    download = as_coordinator.get(f"/proposals/{draft.id}/documents/{attachment.id}/download")
    assert download.status_code == 200 and download.data == data
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "CV" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=100, height=100)
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "The file is empty."),
        (b"<!doctype html><html><script>alert(1)</script></html>", "The file is not a PDF document"),
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 200, "The file is not a PDF document"),
        (b"<html>" + pdf_bytes(), "The file is not a PDF document"),
        (b"%PDF-1.7\n this is no PDF at all", "The PDF cannot be read"),
        (encrypted_pdf(), "The PDF is protected by a password"),
    ],
)
def test_what_is_not_a_readable_pdf_is_refused_beside_the_field(
    app, as_coordinator, draft, db, data, message
):
    response = upload(as_coordinator, draft, data, filename="cv.pdf")
    assert response.status_code == 422
    assert message in page_text(response)
    assert attachments(db) == [] and stored_files(app) == []


def test_a_missing_file_is_asked_for(as_coordinator, draft, db):
    response = as_coordinator.post(
        f"/proposals/{draft.id}/documents/cv_coordinator", data={}, content_type="multipart/form-data"
    )
    assert response.status_code == 422
    assert "Choose a file to upload." in page_text(response)


def test_each_kind_keeps_its_size_limit(app, as_coordinator, draft, open_call, db, monkeypatch):
    from webapp.operations import submission

    # Real sizes through the rule itself...
    limit = 1024 * 1024
    assert submission.pdf_problem(pdf_bytes() + b"%" + b"0" * limit, 1) == "too_large"
    assert submission.pdf_problem(pdf_bytes(), 1) is None
    # ... and through the page, with a smaller unit (the test client leaks big request bodies).
    monkeypatch.setattr(submission, "MEGABYTE", 1024)
    kind = next(k for k in open_call.attachment_kinds if k.code == "cv_coordinator")
    kind.max_mb = 1
    db.session.commit()
    response = upload(as_coordinator, draft, pdf_bytes() + b"%" + b"0" * 1024)
    assert response.status_code == 422
    assert "The file is larger than 1 MB." in page_text(response)
    assert stored_files(app) == []


@pytest.mark.parametrize(
    "name, shown",
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("cv\u202efdp.exe", "cvfdp.exe"),
        ("<script>alert(1)</script>.pdf", "script>.pdf"),
    ],
)
def test_file_names_are_cleaned_and_escaped(as_coordinator, draft, db, name, shown):
    assert upload(as_coordinator, draft, pdf_bytes(), filename=name).status_code == 302
    [attachment] = attachments(db)
    assert "/" not in attachment.original_filename and "\u202e" not in attachment.original_filename
    html = as_coordinator.get(f"/proposals/{draft.id}/documents").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html


def test_a_new_upload_replaces_the_old_file(app, as_coordinator, draft, db):
    upload(as_coordinator, draft, pdf_bytes(text="first"))
    [first] = attachments(db)
    old_path = path_of(first.stored_name)
    assert upload(as_coordinator, draft, pdf_bytes(text="second"), filename="cv-v2.pdf").status_code == 302
    [second] = attachments(db)
    assert second.original_filename == "cv-v2.pdf"
    assert not old_path.exists() and path_of(second.stored_name).exists()
    assert stored_files(app) == [path_of(second.stored_name)]


def test_a_submitted_file_survives_its_replacement(app, as_coordinator, open_call, coordinator, db):
    proposal = complete_draft(open_call, coordinator)
    assert (
        as_coordinator.post(
            f"/proposals/{proposal.id}/submit", data={"version": proposal.version_id}
        ).status_code
        == 302
    )
    assert as_coordinator.post(f"/proposals/{proposal.id}/reopen").status_code == 302
    submitted = next(a for a in attachments(db) if a.kind_code == "cv_coordinator")
    kept = path_of(submitted.stored_name)
    assert (
        upload(as_coordinator, db.session.get(Proposal, proposal.id), pdf_bytes(text="new")).status_code
        == 302
    )
    assert kept.exists(), "the file of the submitted version must stay readable"


def test_a_failed_transaction_leaves_no_file_behind(app, as_coordinator, draft, db, monkeypatch):
    from webapp.operations import submission

    def broken(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(submission, "record", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the error page, and a rollback
    response = upload(as_coordinator, draft, pdf_bytes())
    assert response.status_code == 500
    assert "Nothing was saved" in page_text(response)
    assert attachments(db) == []
    assert stored_files(app) == []


def test_documents_are_removed_and_foreign_ones_are_not_found(
    app, as_coordinator, draft, open_call, make_user, db
):
    upload(as_coordinator, draft, pdf_bytes())
    [attachment] = attachments(db)
    path = path_of(attachment.stored_name)
    other = make_proposal(open_call, make_user(), ProposalState.DRAFT)
    theirs = attach(other, "cv_coordinator")
    assert as_coordinator.get(f"/proposals/{draft.id}/documents/{theirs.id}/download").status_code == 404
    assert as_coordinator.get(f"/proposals/{other.id}/documents/{theirs.id}/download").status_code == 404
    assert (
        as_coordinator.post(
            f"/proposals/{draft.id}/documents/unknown_kind", data={}, content_type="multipart/form-data"
        ).status_code
        == 404
    )

    assert as_coordinator.post(f"/proposals/{draft.id}/documents/cv_coordinator/delete").status_code == 302
    assert [a.id for a in attachments(db)] == [theirs.id]
    assert not path.exists()


def test_documents_cannot_change_after_submission(as_coordinator, open_call, coordinator, db):
    submitted = make_proposal(open_call, coordinator, ProposalState.SUBMITTED)
    refused = upload(as_coordinator, submitted, pdf_bytes())
    assert refused.status_code == 403
    page = page_text(as_coordinator.get(f"/proposals/{submitted.id}/documents"))
    assert "Upload" not in page and "Replace" not in page


def test_an_upload_that_arrived_before_the_deadline_is_taken_when_its_body_ends_after(
    app, programme_manager, coordinator, login, db, monkeypatch
):
    """The deadline rush found it: a document arriving in the last second, whose body took
    longer to read than the deadline had left, passed the page's check on its arrival and was
    refused by the store's own check on the clock (an error page, nothing stored). Both judge
    the arrival now: it is stored."""
    from datetime import timedelta

    import time_machine

    from forms.proposals import AttachmentForm
    from tests.factories import make_call
    from webapp.models import utcnow

    closes = utcnow().replace(microsecond=0) + timedelta(days=1)
    call = make_call(programme_manager, closes_at=closes, grace_minutes=0)
    proposal = make_proposal(call, coordinator, ProposalState.DRAFT)
    real = AttachmentForm.validate_on_submit

    def slow_body(form, *args, **kwargs):  # the upload's bytes finish arriving 3 s later
        traveller.shift(timedelta(seconds=3))
        return real(form, *args, **kwargs)

    monkeypatch.setattr(AttachmentForm, "validate_on_submit", slow_body)
    data = pdf_bytes()
    with time_machine.travel(closes - timedelta(seconds=1), tick=False) as traveller:
        client = login(coordinator, app.test_client())
        response = upload(client, proposal, data)
    assert response.status_code == 302
    [attachment] = attachments(db)
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    with time_machine.travel(closes + timedelta(seconds=1), tick=False):  # one arriving after: refused
        client = login(coordinator, app.test_client())
        late = upload(client, proposal, pdf_bytes(pages=2), filename="other.pdf")
    assert late.status_code == 403 and "The deadline has passed" in page_text(late)
    assert [a.sha256 for a in attachments(db)] == [attachment.sha256]
