"""Failure drills where a file and its row are written together: a proposal's document, the
receipt of a submission, a decision letter (issued by the release's job, or corrected), an
agreement and the countersigned scan of one of its parties.

Each drill makes the database fail once, through the real HTTP route, after the file is on disk:
either the row is refused at flush (the server drops the connection during the INSERT), or the
COMMIT itself fails (the disk is full). The user must see the error page that says nothing was
saved (no stack trace, no technical message), and nothing may be left half-done: no row, no file,
the previous state intact (draft text, version, earlier document). A retry then works, once.

The last drill kills a process between the file and the commit: the row vanishes with the
transaction, the file stays, and only a sweeper can remove it.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from flask import has_request_context
from sqlalchemy import event, select

from tests.decisions_factories import decide_and_release, ranked_call
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
from webapp.models import (
    Attachment,
    AuditEvent,
    IssuedDocument,
    Proposal,
    Submission,
)
from webapp.models.decisions import AgreementParty, StructureAgreement
from webapp.storage import path_of
from workflows.proposal_states import ProposalState

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app_config():
    # As in production: an unexpected error gives the error page and a rollback, never a traceback.
    return {"PROPAGATE_EXCEPTIONS": False}


class Injector:
    """Makes the database fail once, inside the next request that reaches the chosen point."""

    def __init__(self, db, monkeypatch):
        self.engine = db.engine
        self.dialect = db.engine.dialect
        self.monkeypatch = monkeypatch
        self.fired: list[str] = []
        self._listeners = []

    def fail_statement(self, pattern: str) -> None:
        """The statement matching ``pattern`` fails at flush, as when the server goes away."""
        error = self.dialect.loaded_dbapi.OperationalError

        def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
            if not self.fired and has_request_context() and re.match(pattern, statement.strip(), re.I):
                self.fired.append(statement.split("(")[0].strip())
                raise error("injected: the server closed the connection during the statement")

        event.listen(self.engine, "before_cursor_execute", before_cursor_execute)
        self._listeners.append(before_cursor_execute)

    def fail_commit(self) -> None:
        """The COMMIT fails after everything was flushed, as when the disk is full."""
        error = self.dialect.loaded_dbapi.OperationalError
        real_commit = self.dialect.do_commit

        def do_commit(dbapi_connection):
            if not self.fired and has_request_context():
                self.fired.append("COMMIT")
                raise error("injected: could not write the transaction log: no space left on device")
            return real_commit(dbapi_connection)

        self.monkeypatch.setattr(self.dialect, "do_commit", do_commit)

    def arm(self, how: str, pattern: str = "") -> None:
        if how == "commit":
            self.fail_commit()
        else:
            self.fail_statement(pattern)

    def close(self) -> None:
        for listener in self._listeners:
            event.remove(self.engine, "before_cursor_execute", listener)


@pytest.fixture
def inject(db, monkeypatch):
    injector = Injector(db, monkeypatch)
    yield injector
    injector.close()


@pytest.fixture
def written(monkeypatch):
    """Spies on the file writes of a module: each written path, checked present when written."""
    from webapp import storage

    paths: list[Path] = []

    def spy(module):
        def save_bytes(session, data, suffix=""):
            stored = storage.save_bytes(session, data, suffix)
            path = path_of(stored.stored_name)
            assert path.read_bytes() == data  # the file is really on disk before the failure
            paths.append(path)
            return stored

        monkeypatch.setattr(module, "save_bytes", save_bytes)
        return paths

    return spy


def stored_files(app) -> list[Path]:
    """Everything in the file store, temporary files included."""
    root = Path(app.config["STORAGE_DIR"])
    return sorted(p for p in root.glob("*/*") if p.is_file()) if root.exists() else []


def assert_error_page(response) -> None:
    """The error page, in the user's words: nothing saved, try again; no technical detail."""
    assert response.status_code == 500
    shown = page_text(response)
    assert "Something went wrong" in shown
    assert "Nothing was saved; please try again." in shown
    body = response.get_data(as_text=True)
    for leak in ("Traceback", "OperationalError", "injected", "sqlalchemy", 'File "'):
        assert leak not in body


def draft_state(db, proposal_id: int) -> dict:
    db.session.expire_all()
    proposal = db.session.get(Proposal, proposal_id)
    return {
        "state": proposal.state,
        "version": proposal.version_id,
        "submitted_at": proposal.submitted_at,
        "texts": {
            name: getattr(proposal, name)
            for name in ("title", "acronym", "abstract_fr", "abstract_en", "history", "programme", "ethics")
        },
        "attachments": sorted((a.kind_code, a.stored_name, a.sha256) for a in proposal.attachments),
    }


def audit_actions(db) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def upload(client, proposal_id, data, kind="cv_coordinator", filename="cv.pdf"):
    return client.post(
        f"/proposals/{proposal_id}/documents/{kind}",
        data={f"{kind}-file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


# --- a proposal's document -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "how, pattern",
    [("statement", r"INSERT INTO attachment\b"), ("commit", "")],
    ids=["row-refused-at-flush", "commit-fails"],
)
def test_an_upload_that_fails_after_its_file_leaves_neither_and_the_draft_intact(
    app, as_coordinator, open_call, coordinator, db, inject, written, how, pattern
):
    from webapp.operations import submission

    draft = make_proposal(open_call, coordinator, ProposalState.DRAFT, title="Zebrafish ageing")
    before, actions = draft_state(db, draft.id), audit_actions(db)
    paths = written(submission)
    inject.arm(how, pattern)
    data = pdf_bytes(pages=2, text="CV, final version")

    response = upload(as_coordinator, draft.id, data, filename="CV Claire Martin.pdf")

    assert inject.fired, "the failure was not reached"
    assert_error_page(response)
    assert len(paths) == 1 and not paths[0].exists(), "the written file is removed with the rollback"
    assert stored_files(app) == []
    assert draft_state(db, draft.id) == before  # the text and the version as they were
    assert audit_actions(db) == actions
    # The applicant retries: the document is stored once, with its hash.
    assert upload(as_coordinator, draft.id, data, filename="CV Claire Martin.pdf").status_code == 302
    [attachment] = db.session.scalars(select(Attachment)).all()
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    assert stored_files(app) == [path_of(attachment.stored_name)]
    assert "CV Claire Martin.pdf" in page_text(as_coordinator.get(f"/proposals/{draft.id}/documents"))


def test_a_replacement_whose_commit_fails_keeps_the_previous_document(
    app, as_coordinator, open_call, coordinator, db, inject, written
):
    from webapp.operations import submission

    draft = make_proposal(open_call, coordinator, ProposalState.DRAFT)
    previous = attach(draft, "cv_coordinator", data=pdf_bytes(text="CV 2025"), filename="cv-2025.pdf")
    previous_path, previous_sha = path_of(previous.stored_name), previous.sha256
    before = draft_state(db, draft.id)
    paths = written(submission)
    inject.fail_commit()

    response = upload(as_coordinator, draft.id, pdf_bytes(text="CV 2026"), filename="cv-2026.pdf")

    assert_error_page(response)
    assert len(paths) == 1 and not paths[0].exists()
    # The old file was to be deleted after the commit: the commit failed, so it stays, readable.
    assert hashlib.sha256(previous_path.read_bytes()).hexdigest() == previous_sha
    assert stored_files(app) == [previous_path]
    assert draft_state(db, draft.id) == before
    download = as_coordinator.get(f"/proposals/{draft.id}/documents/{previous.id}/download")
    assert download.status_code == 200 and download.data == pdf_bytes(text="CV 2025")


# --- the receipt of a submission -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "how, pattern",
    [("statement", r"INSERT INTO outbox_message\b"), ("commit", "")],
    ids=["mail-row-refused-after-receipt", "commit-fails"],
)
def test_a_submission_that_fails_after_its_receipt_leaves_a_draft_and_no_receipt(
    app, as_coordinator, open_call, coordinator, db, inject, written, outbox, how, pattern
):
    from webapp.operations import submission

    draft = complete_draft(open_call, coordinator)
    before, actions, files = draft_state(db, draft.id), audit_actions(db), stored_files(app)
    paths = written(submission)
    inject.arm(how, pattern)

    response = as_coordinator.post(f"/proposals/{draft.id}/submit", data={"version": before["version"]})

    assert inject.fired, "the failure was not reached"
    assert_error_page(response)
    assert len(paths) == 1 and not paths[0].exists(), "the receipt PDF is removed with the rollback"
    assert stored_files(app) == files
    assert draft_state(db, draft.id) == before  # still a draft, same version, same documents
    assert db.session.scalars(select(Submission)).all() == []
    assert db.session.scalars(select(IssuedDocument)).all() == []
    assert outbox() == [] and audit_actions(db) == actions
    shown = page_text(as_coordinator.get(f"/proposals/{draft.id}"))
    assert "Submit the proposal" in shown and "Your proposal is submitted" not in shown

    # The applicant clicks again: one submission, and its receipt is the first one.
    retry = as_coordinator.post(f"/proposals/{draft.id}/submit", data={"version": before["version"]})
    assert retry.status_code == 302
    [done] = db.session.scalars(select(Submission)).all()
    assert done.version == 1 and done.receipt.reference == f"REC-{draft.reference}-1"
    assert hashlib.sha256(path_of(done.receipt.stored_name).read_bytes()).hexdigest() == done.receipt.sha256
    assert stored_files(app) == sorted([*files, path_of(done.receipt.stored_name)])
    assert len(outbox()) == 2
    assert f"receipt REC-{draft.reference}-1" in page_text(as_coordinator.get(retry.headers["Location"]))


# --- issued documents of the decisions: a corrected letter, a countersigned scan -----------------------


@pytest.fixture
def people(make_user):
    return {
        "dg": make_user(roles=("directorate",), first_name="Marc", last_name="Lefèvre"),
        "manager": make_user(roles=("manager",), first_name="Sophie", last_name="Durand"),
        "en": make_user(first_name="Claire", last_name="Martin", locale="en"),
        "fr": make_user(first_name="Hélène", last_name="Dubœuf", locale="fr"),
    }


@pytest.fixture
def awarded(people, db):
    """A call whose decisions are released: the awarded proposal has its letter (version 1)."""
    call, proposals = ranked_call(
        people["manager"],
        [people["en"], people["fr"]],
        states=[ProposalState.PROPOSED, ProposalState.NOT_RETAINED],
    )
    decide_and_release(
        call, people["dg"], people["manager"], proposals, {proposals[0]: "award", proposals[1]: "reject"}
    )
    return proposals[0]


def letters(db, proposal) -> list[IssuedDocument]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(IssuedDocument)
            .where(IssuedDocument.proposal_id == proposal.id, IssuedDocument.kind == "decision_letter")
            .order_by(IssuedDocument.version)
        )
    )


def test_a_corrected_letter_whose_commit_fails_leaves_the_issued_one_alone(
    app, client, login, people, awarded, db, inject, written
):
    from webapp.documents import issued

    [first] = letters(db, awarded)
    first_bytes = path_of(first.stored_name).read_bytes()
    files, actions = stored_files(app), audit_actions(db)
    login(people["manager"])
    paths = written(issued)
    inject.fail_commit()

    response = client.post(
        f"/directorate/proposals/{awarded.id}/letter/correct", data={"reason": "Laboratory name corrected."}
    )

    assert_error_page(response)
    assert len(paths) == 1 and not paths[0].exists()
    assert stored_files(app) == files and audit_actions(db) == actions
    assert [(d.version, d.sha256) for d in letters(db, awarded)] == [(1, first.sha256)]
    assert path_of(first.stored_name).read_bytes() == first_bytes
    login(people["en"])
    assert client.get(f"/decisions/proposals/{awarded.id}/letter").data == first_bytes  # what they see

    login(people["manager"])
    retry = client.post(
        f"/directorate/proposals/{awarded.id}/letter/correct", data={"reason": "Laboratory name corrected."}
    )
    assert retry.status_code == 302
    assert [d.version for d in letters(db, awarded)] == [1, 2]


def scan_pdf(text: str) -> bytes:
    return pdf_bytes(text=f"countersigned: {text}")


def test_a_signature_scan_whose_commit_fails_is_not_recorded(
    app, client, login, people, awarded, db, inject, written
):
    from webapp.operations import structure_agreements

    login(people["manager"])
    assert client.post(f"/directorate/proposals/{awarded.id}/agreement").status_code == 302
    db.session.expire_all()
    agreement = db.session.scalar(
        select(StructureAgreement).where(StructureAgreement.proposal_id == awarded.id)
    )
    party_id, agreement_id = agreement.parties[0].id, agreement.id
    files, actions = stored_files(app), audit_actions(db)
    paths = written(structure_agreements)
    inject.fail_commit()
    url = f"/directorate/agreements/{agreement_id}/parties/{party_id}/signature"
    form = {"signatory_name": "Marc Lefèvre", "scan": (io.BytesIO(scan_pdf("Inserm")), "signed.pdf")}

    response = client.post(url, data=form, content_type="multipart/form-data")

    assert_error_page(response)
    assert len(paths) == 1 and not paths[0].exists()
    assert stored_files(app) == files and audit_actions(db) == actions
    db.session.expire_all()
    party = db.session.get(AgreementParty, party_id)
    assert party.signed_at is None and party.scan_stored_name is None and not party.scan_sha256
    assert client.get(f"{url.rsplit('/', 1)[0]}/scan").status_code == 404
    assert "Record the signature" in page_text(client.get(f"/directorate/agreements/{agreement_id}"))

    form = {"signatory_name": "Marc Lefèvre", "scan": (io.BytesIO(scan_pdf("Inserm")), "signed.pdf")}
    assert client.post(url, data=form, content_type="multipart/form-data").status_code == 302
    db.session.expire_all()
    party = db.session.get(AgreementParty, party_id)
    assert party.signed_at is not None
    assert hashlib.sha256(path_of(party.scan_stored_name).read_bytes()).hexdigest() == party.scan_sha256


def test_an_agreement_whose_commit_fails_is_not_issued(
    app, client, login, people, awarded, db, inject, written
):
    from webapp.documents import issued

    files, actions = stored_files(app), audit_actions(db)
    login(people["manager"])
    paths = written(issued)
    inject.fail_commit()

    response = client.post(f"/directorate/proposals/{awarded.id}/agreement")

    assert_error_page(response)
    assert len(paths) == 1 and not paths[0].exists(), "the signed agreement PDF is removed"
    assert stored_files(app) == files and audit_actions(db) == actions
    db.session.expire_all()
    assert db.session.scalars(select(StructureAgreement)).all() == []
    assert db.session.get(Proposal, awarded.id).state == ProposalState.AWARDED
    assert (
        db.session.scalars(select(IssuedDocument).where(IssuedDocument.kind != "decision_letter")).all() == []
    )

    assert client.post(f"/directorate/proposals/{awarded.id}/agreement").status_code == 302
    db.session.expire_all()
    [agreement] = db.session.scalars(select(StructureAgreement)).all()
    document = agreement.document
    assert hashlib.sha256(path_of(document.stored_name).read_bytes()).hexdigest() == document.sha256
    assert db.session.get(Proposal, awarded.id).state == ProposalState.AGREEMENT_PENDING


def test_a_letter_job_failing_after_its_file_leaves_no_letter_and_issues_them_once_on_retry(
    app, client, login, people, db, inject, written
):
    """The release commits; a letter job then fails on its first letter, after the PDF is written."""
    from webapp.documents import issued
    from webapp.operations import decisions

    call, proposals = ranked_call(
        people["manager"],
        [people["en"], people["fr"]],
        states=[ProposalState.PROPOSED, ProposalState.NOT_RETAINED],
    )
    for proposal, act in zip(proposals, ("award", "reject"), strict=True):
        decisions.decide(proposal, act, people["dg"], comment="Décision motivée." if act == "reject" else "")
    db.session.commit()
    call_id, files = call.id, stored_files(app)
    login(people["manager"])
    paths = written(issued)
    inject.fail_statement(r"INSERT INTO issued_document\b")

    response = client.post(f"/directorate/calls/{call_id}/release")

    assert inject.fired and response.status_code == 302  # the release itself went through
    # The letters are shared out between jobs: the failing one wrote its file first.
    assert paths and not paths[0].exists(), "the letter written before the failure is removed"
    db.session.expire_all()
    issued_now = db.session.scalars(select(IssuedDocument)).all()
    assert len(issued_now) < len(proposals)  # the failed letter has no row
    assert stored_files(app) == sorted([*files, *(path_of(d.stored_name) for d in issued_now)])
    assert all(db.session.get(Proposal, p.id).decision_released_at for p in proposals)
    progress = client.get(f"/directorate/calls/{call_id}/letters/progress").get_json()
    assert progress["status"] == "failed" and progress["errors"]

    assert client.post(f"/directorate/calls/{call_id}/letters").status_code == 302  # "issue the missing"
    db.session.expire_all()
    documents = db.session.scalars(select(IssuedDocument)).all()
    assert sorted(d.proposal_id for d in documents) == sorted(p.id for p in proposals)  # once each
    for document in documents:
        assert hashlib.sha256(path_of(document.stored_name).read_bytes()).hexdigest() == document.sha256
    assert client.get(f"/directorate/calls/{call_id}/letters/progress").get_json()["status"] == "done"


# --- a crash between the file and the commit -----------------------------------------------------------

CRASH = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from config import TestingConfig
    from webapp import create_app
    from webapp.extensions import db
    from webapp.models import Proposal, User
    from webapp.operations import submission as ops

    url, storage, proposal_id, user_id, pdf = sys.argv[1:]
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url, STORAGE_DIR=storage)
    with app.test_request_context():
        proposal = db.session.get(Proposal, int(proposal_id))
        kind = next(k for k in proposal.call.attachment_kinds if k.code == "cv_coordinator")
        user = db.session.get(User, int(user_id))
        ops.store_attachment(proposal, kind, "cv.pdf", Path(pdf).read_bytes(), user)
        db.session.flush()
        print("flushed", flush=True)
        os._exit(9)  # the worker dies here: no commit, no rollback, no cleanup
    """
)


def crash_during_upload(app, proposal, user, tmp_path) -> None:
    from webapp.extensions import db

    proposal_id, user_id = proposal.id, user.id
    db.session.commit()  # the test holds no lock while the other process writes (SQLite)
    pdf = tmp_path / "cv.pdf"
    pdf.write_bytes(pdf_bytes(text="written by a process that dies"))
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            CRASH,
            app.config["SQLALCHEMY_DATABASE_URI"],
            app.config["STORAGE_DIR"],
            str(proposal_id),
            str(user_id),
            str(pdf),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 9 and "flushed" in result.stdout, result.stderr[-2000:]


def referenced_names(db) -> set[str]:
    db.session.expire_all()
    names = set(db.session.scalars(select(Attachment.stored_name)))
    names |= set(db.session.scalars(select(IssuedDocument.stored_name)))
    names |= {n for n in db.session.scalars(select(AgreementParty.scan_stored_name)) if n}
    return names


def test_a_crash_between_file_and_commit_leaves_only_a_file_that_the_sweep_removes(
    app, open_call, coordinator, db, tmp_path
):
    from webapp.storage import sweep_orphans

    draft = make_proposal(open_call, coordinator, ProposalState.DRAFT)
    kept = attach(draft, next(k.code for k in open_call.attachment_kinds if k.code != "cv_coordinator"))
    before = draft_state(db, draft.id)
    files = stored_files(app)

    crash_during_upload(app, draft, coordinator, tmp_path)

    assert draft_state(db, draft.id) == before  # the row went with the dead transaction
    orphans = [p for p in stored_files(app) if p not in files]
    assert len(orphans) == 1 and orphans[0].name not in referenced_names(db)
    # An hour-old sweep keeps young files (an upload may be between its write and its commit)...
    assert sweep_orphans(referenced_names(db)) == [] and orphans[0].exists()
    # ... and removes the orphan once it is old enough; the files that rows name stay.
    old = time.time() - 2 * 3600
    os.utime(orphans[0], (old, old))
    assert sweep_orphans(referenced_names(db)) == [orphans[0].name]
    assert stored_files(app) == files and path_of(kept.stored_name).exists()


def test_the_platform_sweeps_a_crash_orphan_by_itself(app, open_call, coordinator, db, tmp_path):
    from webapp import jobs

    draft = make_proposal(open_call, coordinator, ProposalState.DRAFT)
    files = stored_files(app)
    crash_during_upload(app, draft, coordinator, tmp_path)
    [orphan] = [p for p in stored_files(app) if p not in files]
    old = time.time() - 2 * 3600
    os.utime(orphan, (old, old))
    jobs.files_sweep_task.call_local()  # the platform's hourly sweeper, run now
    assert not orphan.exists()
