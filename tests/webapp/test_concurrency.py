"""Concurrent writers never meet "database is locked" (SQLite: WAL + BEGIN IMMEDIATE + timeout)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from webapp.models import User


@pytest.fixture
def app_config():
    return {"RATELIMIT_ENABLED": False}  # one address registering 24 accounts, on purpose


def test_parallel_registrations_all_succeed(app, db):
    def register(i: int) -> int:
        client = app.test_client()
        r = client.post(
            "/auth/register",
            data={
                "first_name": "P",
                "last_name": str(i),
                "email": f"p{i}@inserm.fr",
                "locale": "en",
                "password": "a long passphrase 42",
                "confirm": "a long passphrase 42",
            },
        )
        return r.status_code

    db.session.commit()
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(register, range(24)))
    assert statuses == [302] * 24
    assert db.session.scalar(db.select(db.func.count(User.id))) == 24


def test_read_then_write_transactions_in_parallel(app, db):
    """The pattern that breaks deferred SQLite transactions: read, then write, from many threads."""
    from sqlalchemy import text

    db.session.commit()
    engine = db.engine

    def work(i: int) -> int:
        for _ in range(15):
            with engine.begin() as conn:
                count = conn.execute(text("SELECT count(*) FROM outbox_message")).scalar_one()
                conn.execute(
                    text(
                        "INSERT INTO outbox_message (created_at, recipient, subject, body_text, template,"
                        " status, attempts, next_attempt_at, last_error) VALUES (CURRENT_TIMESTAMP,"
                        " :r, :s, '', 't', 'held', 0, CURRENT_TIMESTAMP, '')"
                    ),
                    {"r": f"w{i}@example.org", "s": f"seen {count}"},
                )
        return i

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert sorted(pool.map(work, range(8))) == list(range(8))
    assert db.session.scalar(text("SELECT count(*) FROM outbox_message")) == 8 * 15
