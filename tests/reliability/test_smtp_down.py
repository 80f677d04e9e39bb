"""The mail server down during submissions, over the real SMTP path (aiosmtpd on loopback).

Submissions do not wait for mail: they commit with their receipt and queue their messages in the
outbox. The worker's attempts fail and are spaced out (backoff); when the server is back, every
message goes out exactly once - even with two workers running at the same moment, and even when
the server gives up in the middle of a round.
"""

from __future__ import annotations

import email
import email.policy
import gc
import hashlib
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import SMTPSink
from tests.submission_support import (  # noqa: F401 - fixtures, by their names
    complete_draft,
    open_call_fixture,
    page_text,
    programme_manager_fixture,
)
from webapp.mail import deliver_outbox
from webapp.models import OutboxMessage, Proposal, Submission, utcnow
from webapp.storage import path_of


@pytest.fixture
def app_config():
    # A mail server is configured: messages are queued for it (not held for the admins).
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": 1}


def received(sink) -> Counter:
    """(recipient, subject) of every message the server accepted, with how many times."""
    counts = Counter()
    for envelope in sink.messages:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        for recipient in envelope.rcpt_tos:
            counts[(recipient, str(message["Subject"]))] += 1
    return counts


def bodies(sink) -> dict[str, str]:
    out = {}
    for envelope in sink.messages:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        out[envelope.rcpt_tos[0]] = message.get_body(("plain",)).get_content()
    return out


def messages(db) -> list[OutboxMessage]:
    db.session.expire_all()
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def submit_all(app, people_and_drafts) -> list[tuple[int, str]]:
    """Every coordinator clicks "submit" at the same moment; each then reads the page it lands on."""
    from webapp.extensions import db

    jobs = [(p.get_id(), d.id, d.version_id) for p, d in people_and_drafts]
    db.session.commit()  # the test's transaction ends: on SQLite it would hold the write lock

    def send(job):
        user_id, proposal_id, version = job
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"], session["_fresh"] = user_id, True
        response = client.post(f"/proposals/{proposal_id}/submit", data={"version": version})
        shown = page_text(client.get(response.headers["Location"])) if response.status_code == 302 else ""
        return response.status_code, shown

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(send, jobs))


def run_worker_until_idle(start, step=timedelta(minutes=10), rounds=20) -> list[dict]:
    """The outbox worker, round after round, its clock moving on (backoff waits pass)."""
    history, now = [], start
    for _ in range(rounds):
        counts = deliver_outbox(now=now)
        history.append(counts)
        if not any(counts.values()):
            break
        now += step
    return history


def drafts_of(make_user, open_call, count):
    people = [make_user(is_permanent=True, first_name="Applicant") for _ in range(count)]
    return [(person, complete_draft(open_call, person)) for person in people]


def test_submissions_commit_while_smtp_is_down_and_each_mail_goes_out_once_when_it_is_back(
    app, db, make_user, login, client, open_call, smtp_sink
):
    app.config["MAIL_PORT"] = smtp_sink.port
    admin = make_user(roles=("admin",), email="admin@inserm.fr")
    world = drafts_of(make_user, open_call, 6)
    db.session.commit()
    smtp_sink.stop()  # the mail server is down: connections are refused

    answers = submit_all(app, world)

    # Every applicant is told their proposal is in, with its receipt; nothing waited for mail.
    for (_person, draft), (status, shown) in zip(world, answers, strict=True):
        assert status == 302
        assert f"Your proposal is submitted (receipt REC-{draft.reference}-1)" in shown
    db.session.expire_all()
    submissions = db.session.scalars(select(Submission)).all()
    assert len(submissions) == 6
    for submission in submissions:
        receipt = submission.receipt
        assert hashlib.sha256(path_of(receipt.stored_name).read_bytes()).hexdigest() == receipt.sha256
    assert {p.state for p in db.session.scalars(select(Proposal))} == {"submitted"}
    queued = messages(db)
    expected = Counter((m.recipient, m.subject) for m in queued)
    assert len(queued) == 12 and len(expected) == 12  # coordinator and co-coordinator, each proposal
    assert all(
        m.status == "queued" and m.attempts == 0 and m.template == "proposal_submitted" for m in queued
    )

    # The worker tries while the server is down: every attempt fails, is counted and spaced out.
    now = utcnow()
    assert deliver_outbox(now=now) == {"sent": 0, "retry": 12, "failed": 0}
    assert deliver_outbox(now=now) == {"sent": 0, "retry": 0, "failed": 0}  # not before its backoff
    later = now + timedelta(minutes=10)
    assert deliver_outbox(now=later) == {"sent": 0, "retry": 12, "failed": 0}
    for message in messages(db):
        assert message.status == "queued" and message.attempts == 2 and message.sent_at is None
        assert "refused" in message.last_error.lower() and message.next_attempt_at > later
        assert message.locked_until is None
    assert smtp_sink.messages == []
    login(admin)
    waiting = page_text(client.get("/admin/outbox?status=queued"))  # what the administrator sees
    assert waiting.count("Proposal received") == 12

    # The server is back; two workers wake up at the same moment.
    smtp_sink.start()
    back = later + timedelta(minutes=30)
    db.session.commit()

    def worker(_):
        with app.app_context():
            try:
                return deliver_outbox(now=back)
            finally:
                from webapp.extensions import db as thread_db

                thread_db.session.remove()

    with ThreadPoolExecutor(max_workers=2) as pool:
        rounds = list(pool.map(worker, range(2)))
    assert sum(r["sent"] for r in rounds) == 12 and sum(r["retry"] + r["failed"] for r in rounds) == 0
    history = run_worker_until_idle(back + timedelta(minutes=10))
    assert sum(h["sent"] for h in history) == 0  # nothing left, nothing sent again

    assert received(smtp_sink) == Counter({key: 1 for key in expected})  # each one, exactly once
    final = messages(db)
    assert all(m.status == "sent" and m.sent_at and m.attempts == 3 and m.locked_until is None for m in final)
    assert (
        db.session.scalar(
            select(db.func.count(OutboxMessage.id)).where(OutboxMessage.status.in_(("queued", "held")))
        )
        == 0
    )
    texts = bodies(smtp_sink)
    for person, draft in world:
        receipt = next(s.receipt for s in submissions if s.proposal_id == draft.id)
        assert receipt.reference in texts[person.email] and receipt.sha256 in texts[person.email]
    assert page_text(client.get("/admin/outbox?status=sent")).count("Proposal received") == 12
    assert "Proposal received" not in page_text(client.get("/admin/outbox?status=queued"))


class FlakySMTPSink(SMTPSink):
    """A server that accepts ``accept`` messages, then answers 451 (try again later) to the rest,
    until it is healed."""

    def __init__(self, accept: int | None):
        super().__init__()
        self.accept = accept
        self.refusals = 0

    def _handler(self):
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                with sink._lock:
                    if sink.accept is not None and len(sink.messages) >= sink.accept:
                        sink.refusals += 1
                        return "451 4.3.0 Mail server temporarily unavailable"
                    sink.messages.append(envelope)
                return "250 OK"

        return Handler()


@pytest.fixture
def flaky_sink():
    sink = FlakySMTPSink(accept=3).start()
    yield sink
    sink.stop()


def test_a_server_failing_in_the_middle_of_a_round_still_gets_each_mail_once(
    app, db, make_user, open_call, flaky_sink
):
    app.config["MAIL_PORT"] = flaky_sink.port
    world = drafts_of(make_user, open_call, 4)
    db.session.commit()
    assert [status for status, _shown in submit_all(app, world)] == [302] * 4
    expected = Counter((m.recipient, m.subject) for m in messages(db))
    assert len(expected) == 8

    now = utcnow()
    assert deliver_outbox(now=now) == {"sent": 3, "retry": 5, "failed": 0}
    gc.collect()
    assert flaky_sink.refusals == 5
    assert [m.status for m in messages(db)].count("sent") == 3
    flaky_sink.accept = None  # the server recovers
    history = run_worker_until_idle(now + timedelta(minutes=10))
    assert sum(h["sent"] for h in history) == 5
    assert received(flaky_sink) == Counter({key: 1 for key in expected})
    assert {m.status for m in messages(db)} == {"sent"}


def test_a_refused_message_does_not_leak_the_smtp_connection(app, db, make_user, open_call, flaky_sink):
    app.config["MAIL_PORT"] = flaky_sink.port
    flaky_sink.accept = 0  # the server answers every message with 451
    world = drafts_of(make_user, open_call, 1)
    db.session.commit()
    assert [status for status, _shown in submit_all(app, world)] == [302]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert deliver_outbox(now=utcnow()) == {"sent": 0, "retry": 2, "failed": 0}
        gc.collect()
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == []
