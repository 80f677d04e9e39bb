"""Helpers of the submission tests: PDF bytes, a complete draft with its documents, a client
logged in as its coordinator."""

from __future__ import annotations

import functools
import io

from pypdf import PdfWriter

from tests.factories import make_proposal
from webapp.extensions import db
from webapp.models import Attachment
from webapp.storage import save_bytes
from workflows.proposal_states import ProposalState


@functools.lru_cache(maxsize=64)
def pdf_bytes(pages: int = 1, text: str = "") -> bytes:
    """A small, valid PDF (``text`` only changes its bytes, hence its hash)."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    if text:
        writer.add_metadata({"/Title": text})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def attach(
    proposal, kind_code: str, data: bytes | None = None, filename: str | None = None, commit: bool = True
) -> Attachment:
    """Store a document on ``proposal`` as if uploaded (file and row, committed together)."""
    data = data or pdf_bytes(text=kind_code)
    stored = save_bytes(db.session, data, "pdf")
    attachment = Attachment(
        proposal_id=proposal.id,
        kind_code=kind_code,
        original_filename=filename or f"{kind_code}.pdf",
        stored_name=stored.stored_name,
        content_type="application/pdf",
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
    )
    db.session.add(attachment)
    if commit:
        db.session.commit()
    return attachment


def complete_draft(call, coordinator, co_coordinator=None, **fields):
    """A draft ready to submit: factory content, the Inserm coordinator permanent, every
    required document attached; ``co_coordinator`` (a user) joined when given."""
    proposal = make_proposal(call, coordinator, ProposalState.DRAFT, **fields)
    if co_coordinator is not None:
        proposal.co_coordinator_id = co_coordinator.id
        proposal.co_coordinator_email = co_coordinator.email
        proposal.co_coordinator_name = co_coordinator.full_name
        db.session.commit()
    for kind in call.required_attachments:
        attach(proposal, kind.code, commit=False)
    db.session.commit()
    db.session.refresh(proposal)
    return proposal


def mark_submitted(proposal, by) -> None:
    """Put a draft in ``submitted`` with its first Submission and a stand-in receipt, without
    rendering a PDF (for worlds built many times over; the submit tests render real ones)."""
    from webapp.models import IssuedDocument, Submission, utcnow
    from webapp.operations.submission import snapshot_of

    now = utcnow()
    proposal.state, proposal.submitted_at = ProposalState.SUBMITTED, now
    stored = save_bytes(db.session, pdf_bytes(text=f"receipt {proposal.reference}"), "pdf")
    receipt = IssuedDocument(
        reference=f"REC-{proposal.reference}-1",
        kind="receipt",
        language="en",
        proposal_id=proposal.id,
        stored_name=stored.stored_name,
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
        data={},
        issued_by_id=by.id,
    )
    db.session.add(receipt)
    db.session.flush()
    db.session.add(
        Submission(
            proposal_id=proposal.id,
            version=1,
            stage=proposal.stage,
            received_at=now,
            submitted_by_id=by.id,
            snapshot=snapshot_of(proposal),
            receipt_id=receipt.id,
        )
    )
    db.session.commit()


# --- fixtures (imported by the submission test modules) ---------------------------------------

import pytest  # noqa: E402


@pytest.fixture(name="programme_manager")
def programme_manager_fixture(make_user):
    return make_user(roles=("manager",), email="sophie.manager@inserm.fr", first_name="Sophie")


@pytest.fixture(name="coordinator")
def coordinator_fixture(make_user):
    return make_user(
        email="claire.martin@inserm.fr",
        first_name="Claire",
        last_name="Martin",
        is_permanent=True,
        position="DR2",
    )


@pytest.fixture(name="partner")
def partner_fixture(make_user):
    """The foreign co-coordinator's own account."""
    return make_user(email="joana.silva@usp.example", first_name="Joana", last_name="Silva")


@pytest.fixture(name="open_call")
def open_call_fixture(app, programme_manager):
    from tests.factories import make_call

    return make_call(programme_manager)


@pytest.fixture(name="as_coordinator")
def as_coordinator_fixture(app, coordinator, login):
    client = app.test_client()
    login(coordinator, client)
    return client


@pytest.fixture(name="as_partner")
def as_partner_fixture(app, partner, login):
    client = app.test_client()
    login(partner, client)
    return client


def page_text(response) -> str:
    """The visible text of an HTML page, whitespace collapsed (what a reader sees)."""
    import re

    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", html)
    import html as html_module

    return re.sub(r"\s+", " ", html_module.unescape(text)).strip()
