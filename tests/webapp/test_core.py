"""The transition engine, the append-only audit trail, the outbox worker, the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from webapp.cli import DEMO_USERS
from webapp.mail import deliver_outbox, queue_mail
from webapp.models import AuditEvent, Country, InstrumentConfig, OutboxMessage, User, utcnow
from webapp.operations.transitions import Mail, apply_transition
from workflows.errors import TransitionRefused
from workflows.proposal_states import MOVES, ProposalAction, ProposalFacts, ProposalState
from workflows.roles import Role


@dataclass
class Thing:
    """Stands for any stateful model: the engine only needs `state`, `id` and a table name."""

    state: str
    id: int = 7
    __tablename__ = "proposal"


def test_transition_writes_state_audit_and_mail_in_one_transaction(app, db, make_user, outbox):
    actor = make_user(email="m@inserm.fr", roles=("manager",))
    thing = Thing(ProposalState.SUBMITTED)
    apply_transition(
        thing,
        MOVES,
        ProposalAction.MARK_ELIGIBLE,
        role=Role.MANAGER,
        facts=ProposalFacts(),
        actor=actor,
        mails=[
            Mail(
                "confirm_account",
                "coord@inserm.fr",
                "en",
                {"user": actor, "link": "http://calls.test/x"},
            )
        ],
    )
    assert thing.state == ProposalState.ELIGIBLE
    event = db.session.scalar(
        db.select(AuditEvent).where(AuditEvent.action == "proposal.mark_eligible")
    )
    assert event.before == {"state": "submitted"} and event.after["state"] == "eligible"
    assert event.actor_id == actor.id and event.object_id == 7
    # Nothing is committed by the engine: a rollback takes the audit row and the mail away.
    db.session.rollback()
    assert (
        db.session.scalar(
            db.select(AuditEvent).where(AuditEvent.action == "proposal.mark_eligible")
        )
        is None
    )
    assert outbox("coord@inserm.fr") == []


def test_refused_transition_writes_nothing(app, db, make_user, outbox):
    actor = make_user(email="a@inserm.fr")
    thing = Thing(ProposalState.SUBMITTED)
    with pytest.raises(TransitionRefused, match="only manager may do this"):
        apply_transition(
            thing,
            MOVES,
            ProposalAction.MARK_ELIGIBLE,
            role=Role.APPLICANT,
            facts=ProposalFacts(),
            actor=actor,
            mails=[Mail("confirm_account", "x@inserm.fr", "en", {"user": actor, "link": ""})],
        )
    assert thing.state == ProposalState.SUBMITTED
    assert (
        db.session.scalar(db.select(AuditEvent).where(AuditEvent.object_type == "proposal")) is None
    )
    assert outbox() == []


def test_audit_trail_is_append_only_in_the_database(app, db, make_user):
    make_user()
    event = db.session.scalars(db.select(AuditEvent)).first()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(
            text("UPDATE audit_event SET action = 'forged' WHERE id = :id"), {"id": event.id}
        )
    db.session.rollback()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": event.id})
    db.session.rollback()
    event = db.session.scalars(db.select(AuditEvent)).first()
    event.action = "forged"
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()


def _queue(app, n=1):
    user = User(email="x@y.org", first_name="Ana", last_name="B")
    for i in range(n):
        queue_mail(
            f"person{i}@example.org",
            "confirm_account",
            locale="en",
            user=user,
            link="http://calls.test/l",
        )


@pytest.fixture
def app_config():
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": 1}


def test_outbox_delivers_over_smtp_exactly_once(app, db, smtp_sink):
    app.config["MAIL_PORT"] = smtp_sink.port
    _queue(app, 3)
    db.session.commit()
    assert deliver_outbox() == {"sent": 3, "retry": 0, "failed": 0}
    assert deliver_outbox() == {"sent": 0, "retry": 0, "failed": 0}
    assert sorted(e.rcpt_tos[0] for e in smtp_sink.messages) == [
        f"person{i}@example.org" for i in range(3)
    ]
    body = smtp_sink.messages[0].content.decode()
    assert "Please confirm your e-mail address" in body and "[Inserm]" in body
    assert all(
        m.status == "sent" and m.sent_at for m in db.session.scalars(db.select(OutboxMessage))
    )


def test_outbox_waits_while_smtp_is_down_then_delivers_once(app, db, smtp_sink):
    smtp_sink.stop()  # the server is down: connection refused
    app.config["MAIL_PORT"] = smtp_sink.port
    _queue(app, 2)
    db.session.commit()
    assert deliver_outbox() == {"sent": 0, "retry": 2, "failed": 0}
    messages = db.session.scalars(db.select(OutboxMessage)).all()
    assert all(m.status == "queued" and m.attempts == 1 and m.last_error for m in messages)
    # Not retried before its backoff...
    assert deliver_outbox()["sent"] == 0
    smtp_sink.start()
    later = utcnow() + timedelta(minutes=5)
    assert deliver_outbox(now=later) == {"sent": 2, "retry": 0, "failed": 0}
    assert deliver_outbox(now=later + timedelta(hours=1))["sent"] == 0
    assert len(smtp_sink.messages) == 2


def test_outbox_gives_up_after_max_attempts(app, db, smtp_sink):
    smtp_sink.stop()
    app.config.update(MAIL_PORT=smtp_sink.port, OUTBOX_MAX_ATTEMPTS=2)
    _queue(app)
    db.session.commit()
    deliver_outbox()
    assert deliver_outbox(now=utcnow() + timedelta(hours=2)) == {"sent": 0, "retry": 0, "failed": 1}
    assert db.session.scalar(db.select(OutboxMessage)).status == "failed"


@pytest.mark.parametrize("app_config", [{"MAIL_SERVER": ""}])
def test_without_smtp_messages_are_held(app, db, app_config):
    _queue(app)
    db.session.commit()
    assert deliver_outbox() == {"sent": 0, "retry": 0, "failed": 0}
    assert db.session.scalar(db.select(OutboxMessage)).status == "held"


def test_held_messages_go_out_once_smtp_is_configured(app, db, smtp_sink):
    app.config["MAIL_SERVER"] = ""
    _queue(app)
    db.session.commit()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_sink.port)
    assert deliver_outbox()["sent"] == 1


def test_seed_demo_is_idempotent(app, db):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "applicant@demo.inserm.fr" in first.output and "demo-Inserm-2026" in first.output
    counts = {
        m.__name__: db.session.scalar(db.select(db.func.count()).select_from(m))
        for m in (User, Country, InstrumentConfig)
    }
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    again = {
        m.__name__: db.session.scalar(db.select(db.func.count()).select_from(m))
        for m in (User, Country, InstrumentConfig)
    }
    assert counts == again and counts["User"] == len(DEMO_USERS)
    roles = set()
    for user in db.session.scalars(db.select(User)):
        roles |= {r.value for r in user.roles}
    assert roles == {"applicant", "reviewer", "manager", "directorate", "admin"}
    france = db.session.get(Country, "FR")
    assert france.name_fr == "France" and db.session.get(Country, "DE").name_fr == "Allemagne"
    assert (
        db.session.get(Country, "DE").is_european and not db.session.get(Country, "BR").is_european
    )


def test_create_user_command(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["create-user", "--email", "Pm@Inserm.fr", "--role", "manager", "--role", "reviewer"],
        input="a good passphrase\na good passphrase\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(db.select(User).where(User.email == "pm@inserm.fr"))
    assert {r.value for r in user.roles} == {"manager", "reviewer"} and user.is_confirmed
    weak = runner.invoke(
        args=["create-user", "--email", "w@inserm.fr", "--role", "admin"], input="short\nshort\n"
    )
    assert weak.exit_code != 0 and "8" in weak.output
