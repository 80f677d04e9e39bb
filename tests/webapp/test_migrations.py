"""The migrations build the schema from empty, on SQLite and on PostgreSQL, and match the models."""

from __future__ import annotations

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from config import TestingConfig
from webapp import create_app
from webapp.extensions import db

PG_URL = os.environ.get("TEST_DATABASE_URL", "")


@pytest.fixture
def scratch_url(tmp_path, request):
    """A brand-new empty database of the kind under test."""
    if not PG_URL.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    name = f"coop_migr_{uuid.uuid4().hex[:10]}"
    admin_url = PG_URL.rsplit("/", 1)[0] + "/postgres"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _diff(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_upgrade_from_empty_matches_models_and_downgrades(scratch_url):
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=scratch_url, STORAGE_DIR="")
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {
            "user",
            "user_role",
            "country",
            "institution",
            "audit_event",
            "outbox_message",
            "instrument_config",
        } <= tables
        assert _diff(db.engine) == []  # the migrations build exactly what the models describe
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert _diff(db.engine) == []
        db.engine.dispose()


def test_the_suite_runs_on_the_expected_database(db):
    expected = "postgresql" if PG_URL.startswith("postgresql") else "sqlite"
    assert db.engine.dialect.name == expected
