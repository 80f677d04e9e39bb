"""The restore drill: back up, lose everything, restore, and check every row count and file hash."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import text

from webapp.backup import table_counts
from webapp.extensions import db
from webapp.models import AuditEvent, User
from webapp.storage import path_of, save_bytes


def test_backup_then_restore_gives_back_every_row_and_file(app, make_user, tmp_path):
    for i in range(5):
        make_user(email=f"u{i}@inserm.fr")
    files = {}
    for i in range(3):
        data = f"attachment {i} ".encode() * 1000
        stored = save_bytes(db.session, data, "pdf")
        files[stored.stored_name] = hashlib.sha256(data).hexdigest()
    db.session.commit()
    before = table_counts()

    runner = app.test_cli_runner()
    archive = tmp_path / "backup.tar.gz"
    result = runner.invoke(args=["backup", str(archive)])
    assert result.exit_code == 0, result.output
    assert archive.exists() and "Backed up" in result.output

    # Disaster: rows and files are lost.
    db.session.execute(text("DELETE FROM user_role"))
    db.session.execute(text('DELETE FROM "user" WHERE id > 2'))
    db.session.commit()
    for name in files:
        path_of(name).unlink()
    assert table_counts() != before

    result = runner.invoke(args=["restore", str(archive), "--yes"])
    assert result.exit_code == 0, result.output
    assert "Restored and checked" in result.output
    assert table_counts() == before
    for name, digest in files.items():
        assert hashlib.sha256(Path(path_of(name)).read_bytes()).hexdigest() == digest
    assert db.session.scalar(db.select(db.func.count(User.id))) == 5
    assert db.session.scalar(db.select(db.func.count(AuditEvent.id))) == before["audit_event"]


def test_restore_refuses_a_tampered_archive(app, make_user, tmp_path):
    import json
    import tarfile

    make_user()
    archive = tmp_path / "backup.tar.gz"
    runner = app.test_cli_runner()
    assert runner.invoke(args=["backup", str(archive)]).exit_code == 0
    work = tmp_path / "x"
    with tarfile.open(archive) as tar:
        tar.extractall(work, filter="data")
    manifest = json.loads((work / "manifest.json").read_text())
    manifest["tables"]["user"] += 1  # claims a row the dump does not hold
    (work / "manifest.json").write_text(json.dumps(manifest))
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(tampered, "w:gz") as tar:
        for member in work.iterdir():
            tar.add(member, arcname=member.name)
    result = runner.invoke(args=["restore", str(tampered), "--yes"])
    assert result.exit_code != 0
    assert "table user" in result.output
