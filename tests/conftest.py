"""Fixtures shared by the whole suite.

The database schema is built once per run by the real migrations, then:
- on SQLite (the default) each test gets its own copy of that database file;
- on PostgreSQL (TEST_DATABASE_URL=postgresql+psycopg://...) each test runs on the migrated
  schema and every table but the reference data is truncated after it.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from config import TestingConfig

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
ON_POSTGRES = PG_URL.startswith("postgresql")
# Under pytest-xdist (`make test` runs one worker per core) each worker has its own PostgreSQL
# database beside the one named, created fresh; on SQLite every test has its own file anyway.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if ON_POSTGRES and XDIST_WORKER:
    PG_URL = f"{PG_URL}_{XDIST_WORKER}"
REFERENCE_TABLES = {"country", "instrument_config", "alembic_version"}


def compile_translations() -> None:
    """Tests run the French interface: make sure the catalogues are compiled."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parent.parent / "webapp" / "translations"
    for po_path in root.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as f:
            catalog = read_po(f)
        with mo_path.open("wb") as f:
            write_mo(f, catalog)


def _build_schema(url: str) -> None:
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.cli import seed_reference
    from webapp.extensions import db

    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url, STORAGE_DIR="")
    with app.app_context():
        upgrade(revision="heads")
        seed_reference()
        db.session.commit()
        db.engine.dispose()


def _create_worker_database(url: str) -> None:
    """A fresh database for this xdist worker, on the server of TEST_DATABASE_URL."""
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def _reset_postgres_schema(url: str) -> None:
    if XDIST_WORKER:
        _create_worker_database(url)
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory) -> str:
    """The migrated database every test starts from (a file on SQLite, the URL on PostgreSQL)."""
    compile_translations()
    if ON_POSTGRES:
        _reset_postgres_schema(PG_URL)
        _build_schema(PG_URL)
        return PG_URL
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    _build_schema(f"sqlite:///{path}")
    return str(path)


def _truncate_postgres(engine) -> None:
    """Empty what the test wrote and restart the identities it moved.

    Only the tables holding rows are emptied, by DELETE with triggers and foreign-key checks
    off for this transaction (the audit trail's append-only trigger included), and without
    waiting for the disk: a TRUNCATE costs a file swap per table, too slow between 4,000 tests.
    """
    with engine.begin() as conn:
        tables = [
            row[0]
            for row in conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
            if row[0] not in REFERENCE_TABLES
        ]
        if not tables:
            return
        conn.execute(text("SET LOCAL synchronous_commit = off"))
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        probe = " UNION ALL ".join(
            f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM \"{t}\")" for t in tables  # noqa: S608 - our names
        )
        for (table,) in conn.execute(text(probe)).all():
            conn.execute(text(f'DELETE FROM "{table}"'))  # noqa: S608 - a table name of ours
        moved = conn.execute(
            text(
                "SELECT sequencename FROM pg_sequences "
                "WHERE schemaname = 'public' AND last_value IS NOT NULL"
            )
        ).all()
        for (sequence,) in moved:
            conn.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))


@pytest.fixture
def database_url(database_template, tmp_path) -> str:
    if ON_POSTGRES:
        return database_template
    target = tmp_path / "test.sqlite3"
    shutil.copyfile(database_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def app_config() -> dict:
    """Override in a module to change settings for its tests."""
    return {}


class IsolatedClient(FlaskClient):
    """Each request runs in its own application context, as in production.

    The test's own context stays pushed for direct database access; its transaction is committed
    before each request, so a request never waits on the test's lock (SQLite takes the write lock
    at BEGIN IMMEDIATE) and the test's objects reload fresh afterwards.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Tests read English unless they ask for French.
        self.environ_base.setdefault("HTTP_ACCEPT_LANGUAGE", "en")

    def open(self, *args, **kwargs):
        from flask import has_app_context

        from webapp.extensions import db

        if has_app_context():
            db.session.commit()
        ctx = self.application.app_context()
        ctx.push()
        try:
            return super().open(*args, **kwargs)
        finally:
            ctx.pop()


@pytest.fixture
def app(database_url, tmp_path, app_config):
    from webapp import create_app
    from webapp.extensions import db, limiter

    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "STORAGE_DIR": str(tmp_path / "files"),
        **app_config,
    }
    app = create_app(TestingConfig, **settings)
    app.test_client_class = IsolatedClient
    limiter.reset()
    ctx = app.app_context()
    ctx.push()
    yield app
    db.session.remove()
    if ON_POSTGRES:
        _truncate_postgres(db.engine)
    db.engine.dispose()
    ctx.pop()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(app):
    from webapp.extensions import db as _db

    return _db


@pytest.fixture
def make_user(app):
    """make_user(roles=("manager",), email=None, password=..., confirmed=True) -> User (committed)."""
    from webapp.extensions import db
    from webapp.operations import accounts
    from workflows.roles import Role

    counter = {"n": 0}

    def make(
        roles=("applicant",), email=None, password="correct horse battery", confirmed=True, **fields
    ):
        counter["n"] += 1
        email = email or f"user{counter['n']}@example.org"
        fields.setdefault("first_name", "User")
        fields.setdefault("locale", "en")
        fields.setdefault("last_name", str(counter["n"]))
        user = accounts.create_user(
            email,
            password=password,
            roles=tuple(Role(r) for r in roles),
            confirmed=confirmed,
            **fields,
        )
        db.session.commit()
        return user

    return make


@pytest.fixture
def login(client):
    """login(user) puts the user's session in the test client (no password round trip)."""

    def do(user, the_client=None):
        c = the_client or client
        with c.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        return c

    return do


@pytest.fixture
def outbox(app):
    """The outbox rows, newest last."""
    from webapp.extensions import db
    from webapp.models import OutboxMessage

    def messages(to: str | None = None):
        db.session.expire_all()
        stmt = db.select(OutboxMessage).order_by(OutboxMessage.id)
        if to:
            stmt = stmt.where(OutboxMessage.recipient == to)
        return db.session.scalars(stmt).all()

    return messages


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SMTPSink:
    """A real SMTP server on loopback (aiosmtpd) that keeps what it receives.

    stop() then start() brings it back on the same port, for "server down" drills.
    """

    def __init__(self):
        self.messages: list = []
        self._lock = threading.Lock()
        self.port = free_port()
        self.controller = None

    def _handler(self):
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                with sink._lock:
                    sink.messages.append(envelope)
                return "250 OK"

        return Handler()

    def start(self):
        from aiosmtpd.controller import Controller

        self.controller = Controller(self._handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_sink() -> Iterator[SMTPSink]:
    sink = SMTPSink().start()
    yield sink
    sink.stop()
