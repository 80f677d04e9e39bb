"""Submitting: the receipt, the deadline to the second, one submission however often it is sent,
taking it back, withdrawing, the letter-of-intent stage, and what other capabilities read."""

from __future__ import annotations

import hashlib
import io
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import time_machine
from pypdf import PdfReader

from tests.factories import make_call, make_proposal
from tests.submission_support import (  # noqa: F401 - fixtures, by their names
    as_coordinator_fixture,
    as_partner_fixture,
    complete_draft,
    coordinator_fixture,
    open_call_fixture,
    page_text,
    partner_fixture,
    programme_manager_fixture,
)
from webapp.models import AuditEvent, IssuedDocument, Proposal, Submission, utcnow
from webapp.storage import path_of
from workflows.proposal_states import ProposalState
from workflows.submission import fingerprint


def fresh(db, proposal):
    db.session.expire_all()
    return db.session.get(Proposal, proposal.id)


def submissions(db):
    db.session.expire_all()
    return db.session.scalars(db.select(Submission).order_by(Submission.id)).all()


def submit(client, proposal, version=None):
    return client.post(
        f"/proposals/{proposal.id}/submit",
        data={"version": proposal.version_id if version is None else version},
    )


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def ready(open_call, coordinator, partner):
    return complete_draft(open_call, coordinator, co_coordinator=partner)


# --- the receipt ---


def test_a_submission_is_frozen_with_its_receipt_mails_and_audit(
    app, as_coordinator, ready, coordinator, partner, outbox, db
):
    before = utcnow()
    files = {a.kind_code: a.sha256 for a in ready.attachments}
    response = submit(as_coordinator, ready)
    after = utcnow()
    assert response.status_code == 302
    proposal = fresh(db, ready)
    assert proposal.state == "submitted" and before <= proposal.submitted_at <= after
    assert proposal.requested_annual_eur == 12_000 and proposal.country_flagged is False
    assert proposal.call.has_submissions

    [submission] = submissions(db)
    assert (submission.version, submission.stage, submission.submitted_by_id) == (1, "full", coordinator.id)
    assert submission.received_at == proposal.submitted_at
    snapshot = dict(submission.snapshot)
    assert {a["kind"]: a["sha256"] for a in snapshot["attachments"]} == files
    assert snapshot["title"] == proposal.title and len(snapshot["teams"]) == 2
    content_hash = snapshot.pop("content_sha256")
    assert content_hash == fingerprint(snapshot)

    receipt = submission.receipt
    assert receipt.reference == f"REC-{proposal.reference}-1" and receipt.kind == "receipt"
    stored = path_of(receipt.stored_name).read_bytes()
    assert hashlib.sha256(stored).hexdigest() == receipt.sha256
    download = as_coordinator.get(f"/proposals/{proposal.id}/receipts/1.pdf")
    assert download.data == stored
    assert download.headers["Content-Disposition"].startswith("attachment;")
    text = pdf_text(stored)
    flat = re.sub(r"\s+", "", text)
    assert "Submission receipt" in text and receipt.reference in text and proposal.reference in text
    assert "(Paris time)" in text
    for sha in files.values():
        assert sha in flat
    assert content_hash in flat

    mails = outbox()
    assert sorted(m.recipient for m in mails) == sorted([coordinator.email, partner.email])
    body = mails[0].body_text
    assert mails[0].subject == f"[Inserm] Proposal received: {proposal.reference}"
    assert receipt.reference in body and receipt.sha256 in body and all(sha in body for sha in files.values())
    actions = db.session.scalars(
        db.select(AuditEvent.action).where(
            AuditEvent.object_type == "proposal", AuditEvent.object_id == proposal.id
        )
    ).all()
    assert "proposal.submit" in actions and "proposal.receipt_issued" in actions

    shown = page_text(as_coordinator.get(f"/proposals/{proposal.id}"))
    assert "Your proposal is submitted (receipt" in shown
    assert receipt.reference in shown and content_hash in shown


def test_the_receipt_speaks_the_submitters_language(app, open_call, coordinator, login, db):
    proposal = complete_draft(open_call, coordinator)
    client = login(coordinator, app.test_client())
    with client.session_transaction() as session:
        session["lang"] = "fr"
    assert submit(client, proposal).status_code == 302
    [submission] = submissions(db)
    assert submission.receipt.language == "fr"
    text = pdf_text(path_of(submission.receipt.stored_name).read_bytes())
    from babel.dates import format_datetime

    french_day = format_datetime(submission.received_at, "EEEE d MMMM y", tzinfo="Europe/Paris", locale="fr")
    assert french_day in text  # the date is written the French way


# --- incomplete, conflicting, misplaced ---


def test_an_incomplete_proposal_is_refused_with_the_list(as_coordinator, open_call, coordinator, outbox, db):
    proposal = make_proposal(open_call, coordinator, ProposalState.DRAFT)
    proposal.programme = ""
    db.session.commit()
    response = submit(as_coordinator, proposal)
    assert response.status_code == 422
    shown = page_text(response)
    assert "The proposal cannot be submitted yet" in shown
    assert "The scientific programme is missing." in shown
    assert "The document \u201cCV of the Inserm coordinator\u201d is missing." in shown
    assert fresh(db, proposal).state == "draft" and submissions(db) == [] and outbox() == []


def test_a_stale_page_does_not_submit(as_coordinator, ready, db):
    response = submit(as_coordinator, ready, version=ready.version_id - 1)
    assert response.status_code == 409
    assert "The proposal changed since you opened this page" in page_text(response)
    assert fresh(db, ready).state == "draft" and submissions(db) == []


def test_a_refused_partner_country_stops_it_and_a_flagged_one_marks_it(
    as_coordinator, programme_manager, coordinator, db
):
    refusing = make_call(programme_manager)
    outside = complete_draft(refusing, coordinator, partner_country="US")
    response = submit(as_coordinator, outside)
    assert response.status_code == 422
    assert fresh(db, outside).state == "draft"
    overview = page_text(as_coordinator.get(f"/proposals/{outside.id}"))
    assert "Team 2 is in US, which this call does not cover." in overview

    flagging = make_call(programme_manager, country_policy="flag")
    flagged = complete_draft(flagging, coordinator, partner_country="US")
    assert "examined case by case" in page_text(as_coordinator.get(f"/proposals/{flagged.id}"))
    assert submit(as_coordinator, flagged).status_code == 302
    assert fresh(db, flagged).country_flagged is True


# --- the deadline, to the second ---


@pytest.mark.parametrize(
    "offset, grace, accepted",
    [
        (timedelta(seconds=-1), 0, True),
        (timedelta(0), 0, True),
        (timedelta(seconds=1), 0, False),
        (timedelta(minutes=4, seconds=59), 5, True),
        (timedelta(minutes=5, seconds=1), 5, False),
    ],
)
def test_the_deadline_is_judged_on_arrival(
    app, programme_manager, coordinator, login, db, offset, grace, accepted
):
    closes = utcnow().replace(microsecond=0) + timedelta(days=1)
    call = make_call(programme_manager, closes_at=closes, grace_minutes=grace)
    proposal = complete_draft(call, coordinator)
    version = proposal.version_id
    with time_machine.travel(closes + offset, tick=False):
        client = login(coordinator, app.test_client())
        response = submit(client, proposal, version)
    if accepted:
        assert response.status_code == 302
        assert fresh(db, proposal).submitted_at == closes + offset
    else:
        assert response.status_code == 403
        assert "The deadline has passed" in page_text(response)
        assert fresh(db, proposal).state == "draft" and submissions(db) == []


def test_a_submission_started_before_the_deadline_is_on_time_even_if_it_ends_after(
    app, programme_manager, coordinator, login, db, monkeypatch
):
    closes = utcnow().replace(microsecond=0) + timedelta(days=1)
    call = make_call(programme_manager, closes_at=closes)
    proposal = complete_draft(call, coordinator)
    version = proposal.version_id
    from webapp.operations import submission as ops

    real = ops._issue_receipt

    def slow_receipt(*args, **kwargs):  # the receipt is rendered after the deadline has passed
        traveller.shift(timedelta(seconds=30))
        return real(*args, **kwargs)

    monkeypatch.setattr(ops, "_issue_receipt", slow_receipt)
    with time_machine.travel(closes - timedelta(seconds=1), tick=False) as traveller:
        client = login(coordinator, app.test_client())
        assert submit(client, proposal, version).status_code == 302
    assert fresh(db, proposal).submitted_at == closes - timedelta(seconds=1)


# --- once, whatever happens ---


def test_a_second_click_submits_nothing_twice(as_coordinator, ready, outbox, db):
    version = ready.version_id
    assert submit(as_coordinator, ready, version).status_code == 302
    again = submit(as_coordinator, ready, version)
    assert again.status_code == 302
    assert "already submitted: nothing was sent twice" in page_text(
        as_coordinator.get(again.headers["Location"])
    )
    assert len(submissions(db)) == 1
    assert db.session.scalar(db.select(db.func.count(IssuedDocument.id))) == 1
    assert len(outbox()) == 2  # coordinator and co-coordinator, once each


def test_simultaneous_submissions_make_one(app, ready, coordinator, login, db):
    version, user_id, proposal_id = ready.version_id, coordinator.get_id(), ready.id
    documents = len(ready.attachments)
    db.session.commit()

    def send(_):
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"], session["_fresh"] = user_id, True
        return client.post(f"/proposals/{proposal_id}/submit", data={"version": version}).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(send, range(4)))
    assert statuses == [302] * 4
    assert len(submissions(db)) == 1
    assert db.session.scalar(db.select(db.func.count(IssuedDocument.id))) == 1
    stored = [p for p in (path_of("aa").parent.parent).glob("*/*") if p.is_file()]
    # Four documents and one receipt: the losers' receipts were removed with their rollback.
    assert len(stored) == documents + 1


# --- taking back, withdrawing ---


def test_a_submission_is_taken_back_and_submitted_again(as_coordinator, ready, outbox, db):
    submit(as_coordinator, ready)
    response = as_coordinator.post(f"/proposals/{ready.id}/reopen")
    assert response.status_code == 302
    proposal = fresh(db, ready)
    assert proposal.state == "draft" and proposal.submitted_at is not None
    assert proposal.call.has_submissions  # the grid stays frozen
    shown = page_text(as_coordinator.get(f"/proposals/{ready.id}"))
    assert "It no longer counts as submitted" in shown
    reopened = [m for m in outbox() if "taken back to draft" in m.subject]
    assert len(reopened) == 2 and "must be submitted again before" in reopened[0].body_text

    assert submit(as_coordinator, fresh(db, ready)).status_code == 302
    first, second = submissions(db)
    assert (first.version, second.version) == (1, 2)
    assert second.receipt.reference.endswith("-2")
    assert as_coordinator.get(f"/proposals/{ready.id}/receipts/1.pdf").status_code == 200
    assert as_coordinator.get(f"/proposals/{ready.id}/receipts/3.pdf").status_code == 404


def test_no_taking_back_after_the_deadline(app, programme_manager, coordinator, login, db):
    closes = utcnow().replace(microsecond=0) + timedelta(hours=1)
    call = make_call(programme_manager, closes_at=closes)
    proposal = make_proposal(call, coordinator, ProposalState.SUBMITTED)
    with time_machine.travel(closes + timedelta(seconds=1), tick=False):
        client = login(coordinator, app.test_client())
        refused = client.post(f"/proposals/{proposal.id}/reopen")
        assert refused.status_code == 403
        assert "only before the deadline" in page_text(refused)
        assert "Take it back" not in page_text(client.get(f"/proposals/{proposal.id}"))
    assert fresh(db, proposal).state == "submitted"


def test_the_co_coordinator_neither_takes_back_nor_withdraws(as_partner, open_call, coordinator, partner, db):
    proposal = make_proposal(open_call, coordinator, ProposalState.SUBMITTED, co_coordinator_id=partner.id)
    assert as_partner.post(f"/proposals/{proposal.id}/reopen").status_code == 403
    assert as_partner.post(f"/proposals/{proposal.id}/withdraw", data={"reason": "x"}).status_code == 403
    assert fresh(db, proposal).state == "submitted"


def test_a_proposal_is_withdrawn_with_its_reason(as_coordinator, open_call, coordinator, outbox, db):
    proposal = make_proposal(open_call, coordinator, ProposalState.UNDER_REVIEW)
    form = as_coordinator.get(f"/proposals/{proposal.id}/withdraw")
    assert form.status_code == 200 and "Withdrawing is final" in page_text(form)
    response = as_coordinator.post(
        f"/proposals/{proposal.id}/withdraw", data={"reason": "The partner lab closed."}
    )
    assert response.status_code == 302
    withdrawn = fresh(db, proposal)
    assert (withdrawn.state, withdrawn.withdraw_reason) == ("withdrawn", "The partner lab closed.")
    assert withdrawn.withdrawn_at is not None
    [mail, _] = outbox()
    assert mail.subject == f"[Inserm] Proposal withdrawn: {proposal.reference}"
    assert "The partner lab closed." in mail.body_text
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "proposal.withdraw"))
    assert event.before == {"state": "under_review"} and event.after["reason"] == "The partner lab closed."
    shown = page_text(as_coordinator.get(f"/proposals/{proposal.id}"))
    assert "Withdrawn" in shown and "Withdraw the proposal" not in shown
    assert as_coordinator.post(f"/proposals/{proposal.id}/withdraw").status_code == 403


@pytest.mark.parametrize("state", [ProposalState.AWARDED, ProposalState.REJECTED, ProposalState.INELIGIBLE])
def test_no_withdrawal_after_the_decision(as_coordinator, open_call, coordinator, db, state):
    proposal = make_proposal(open_call, coordinator, state)
    if state != ProposalState.INELIGIBLE:
        proposal.decision_released_at = utcnow()  # the applicants know the decision
        db.session.commit()
    assert as_coordinator.get(f"/proposals/{proposal.id}/withdraw").status_code == 403
    assert as_coordinator.post(f"/proposals/{proposal.id}/withdraw", data={"reason": ""}).status_code == 403
    assert fresh(db, proposal).state == state


@pytest.mark.parametrize("state", [ProposalState.AWARDED, ProposalState.REJECTED])
def test_a_pending_decision_looks_undecided_and_lapses_if_the_applicants_withdraw(
    as_coordinator, open_call, coordinator, db, state
):
    decided = make_proposal(open_call, coordinator, state, title="Decided, not released")
    proposed = make_proposal(open_call, coordinator, ProposalState.PROPOSED, title="Still proposed")

    def page(proposal):
        text = page_text(as_coordinator.get(f"/proposals/{proposal.id}"))
        for own in (proposal.title, proposal.reference, proposal.acronym, proposal.co_coordinator_email):
            text = text.replace(own, "")
        return text

    # Nothing on the page tells a pending decision from a proposal still before the DG.
    assert page(decided) == page(proposed)
    assert as_coordinator.get(f"/proposals/{decided.id}/withdraw").status_code == 200
    response = as_coordinator.post(f"/proposals/{decided.id}/withdraw", data={"reason": "Lab closed."})
    assert response.status_code == 302
    decided = fresh(db, decided)
    assert decided.state == ProposalState.WITHDRAWN and decided.decision_released_at is None


def test_a_decision_is_not_shown_before_it_is_released(as_coordinator, open_call, coordinator, db):
    proposal = make_proposal(open_call, coordinator, ProposalState.AWARDED)
    shown = page_text(as_coordinator.get(f"/proposals/{proposal.id}"))
    assert "Under assessment" in shown and "Awarded" not in shown
    assert "Download the decision letter" not in shown
    proposal.decision_released_at = utcnow()
    db.session.commit()
    shown = page_text(as_coordinator.get(f"/proposals/{proposal.id}"))
    assert "Awarded" in shown and "Download the decision letter" in shown
    assert "Download the decision letter" in page_text(as_coordinator.get("/proposals"))


# --- the letter-of-intent stage ---


def test_a_letter_of_intent_then_the_full_proposal(
    as_coordinator, programme_manager, coordinator, outbox, db
):
    now = utcnow()
    call = make_call(
        programme_manager,
        two_stage=True,
        loi_deadline_at=now + timedelta(days=5),
        closes_at=now + timedelta(days=60),
    )
    as_coordinator.post(f"/calls/{call.id}/apply")
    proposal = db.session.scalar(db.select(Proposal))
    for path in ("budget", "documents"):
        assert as_coordinator.get(f"/proposals/{proposal.id}/{path}").status_code == 403
    as_coordinator.post(
        f"/proposals/{proposal.id}/general",
        data={
            "version": proposal.version_id,
            "title": "Ageing brains",
            "acronym": "AGE",
            "abstract_fr": "Résumé",
            "abstract_en": "Abstract",
            "keywords": "",
            "theme_id": "",
            "duration_years": "4",
        },
    )
    proposal = fresh(db, proposal)
    as_coordinator.post(
        f"/proposals/{proposal.id}/co-coordinator",
        data={"version": proposal.version_id, "name": "Joana Silva", "email": "joana@usp.example"},
    )
    proposal = fresh(db, proposal)
    as_coordinator.post(
        f"/proposals/{proposal.id}/teams/{proposal.teams[0].id}",
        data={
            "version": proposal.version_id,
            "is_inserm": "y",
            "laboratory": "Lab A",
            "unit_code": "U1234",
            "institution_name": "Inserm",
            "country_code": "FR",
            "authority": "Inserm",
            "leader_name": "Claire Martin",
            "leader_email": coordinator.email,
            "leader_position": "DR2",
            "leader_permanent": "y",
        },
    )
    proposal = fresh(db, proposal)
    as_coordinator.post(
        f"/proposals/{proposal.id}/teams/new",
        data={
            "version": proposal.version_id,
            "laboratory": "Lab B",
            "institution_name": "USP",
            "country_code": "BR",
            "authority": "USP",
            "leader_name": "Joana Silva",
            "leader_email": "joana@usp.example",
            "leader_position": "Professor",
            "leader_permanent": "y",
        },
    )
    proposal = fresh(db, proposal)
    assert "Submit the letter of intent" in page_text(as_coordinator.get(f"/proposals/{proposal.id}"))
    assert submit(as_coordinator, proposal).status_code == 302
    proposal = fresh(db, proposal)
    assert proposal.state == "loi_submitted"
    [submission] = submissions(db)
    assert submission.stage == "loi"
    assert "Receipt of a letter of intent" in pdf_text(path_of(submission.receipt.stored_name).read_bytes())
    assert any("Letter of intent received" in m.subject for m in outbox())

    proposal.state = ProposalState.LOI_SHORTLISTED  # the programme manager's shortlist
    db.session.commit()
    assert "Write the full proposal" in page_text(as_coordinator.get(f"/proposals/{proposal.id}"))
    assert as_coordinator.post(f"/proposals/{proposal.id}/full-proposal").status_code == 302
    proposal = fresh(db, proposal)
    assert (proposal.state, proposal.stage) == ("draft", "full")
    assert as_coordinator.get(f"/proposals/{proposal.id}/budget").status_code == 200
    shown = page_text(as_coordinator.get(f"/proposals/{proposal.id}"))
    assert "The scientific programme is missing." in shown and "The budget is empty." in shown


# --- what other capabilities read ---


def test_deadline_extensions_reach_every_draft_holder(app, open_call, coordinator, partner, make_user, db):
    from webapp.operations.calls import drafts_to_notify

    draft = make_proposal(
        open_call, coordinator, ProposalState.DRAFT, co_coordinator_id=partner.id, title="Zebrafish"
    )
    make_proposal(open_call, make_user(), ProposalState.SUBMITTED)
    notices = drafts_to_notify(open_call)
    assert sorted((n.email, n.proposal_title) for n in notices) == sorted(
        [(coordinator.email, "Zebrafish"), (partner.email, "Zebrafish")]
    )
    assert fresh(db, draft).call.has_submissions is True  # the submitted one


def test_a_call_without_submissions_is_not_frozen(open_call, coordinator, db):
    make_proposal(open_call, coordinator, ProposalState.DRAFT)
    assert open_call.has_submissions is False


def test_a_rush_of_submitters_loses_none(app, open_call, make_user, db):
    """Ten coordinators submitting at the same moment: ten submissions, ten receipts, no error
    (SQLite serialises the writers; PostgreSQL runs them side by side)."""
    people = [make_user(is_permanent=True) for _ in range(10)]
    drafts = [complete_draft(open_call, person) for person in people]
    jobs = [
        (person.get_id(), draft.id, draft.version_id) for person, draft in zip(people, drafts, strict=True)
    ]
    db.session.commit()

    def send(job):
        user_id, proposal_id, version = job
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"], session["_fresh"] = user_id, True
        return client.post(f"/proposals/{proposal_id}/submit", data={"version": version}).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(send, jobs))
    assert statuses == [302] * 10
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count(Submission.id))) == 10
    receipts = db.session.scalars(db.select(IssuedDocument)).all()
    assert len(receipts) == 10 and all(path_of(r.stored_name).exists() for r in receipts)
    assert {p.state for p in db.session.scalars(db.select(Proposal))} == {"submitted"}
