"""Backups and restores: the database and the stored files, with a manifest to check them by.

SQLite is copied through its online backup API (consistent while the platform runs);
PostgreSQL through pg_dump / pg_restore (custom format). The manifest holds every table's row
count and every stored file's SHA-256, and a restore is checked against it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess  # noqa: S404 - pg_dump / pg_restore, with argument lists only
import tarfile
import tempfile
from pathlib import Path

from flask import current_app
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from webapp.extensions import db
from webapp.models import utcnow

MANIFEST = "manifest.json"


class BackupError(Exception):
    pass


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def table_counts() -> dict[str, int]:
    names = sorted(inspect(db.engine).get_table_names())
    with db.engine.connect() as conn:
        return {n: conn.execute(text(f'SELECT count(*) FROM "{n}"')).scalar_one() for n in names}  # noqa: S608 - names from the schema


def file_hashes(root: Path) -> dict[str, str]:
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): _sha256(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".tmp-")
    }


def _pg_env_args(url) -> tuple[list[str], dict[str, str]]:
    args = [
        "-h",
        url.host or "127.0.0.1",
        "-p",
        str(url.port or 5432),
        "-U",
        url.username or "postgres",
    ]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    return args, env


def backup(target: Path) -> dict:
    """Write a .tar.gz holding the database, the files and the manifest; return the manifest."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    storage = Path(current_app.config["STORAGE_DIR"])
    manifest = {
        "created_at": utcnow().isoformat(),
        "dialect": url.get_backend_name(),
        "tables": table_counts(),
        "files": file_hashes(storage),
    }
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if url.get_backend_name() == "sqlite":
            source = sqlite3.connect(url.database)
            dest = sqlite3.connect(work / "database.sqlite3")
            with dest:
                source.backup(dest)
            dest.close()
            source.close()
            db_member = "database.sqlite3"
        elif url.get_backend_name() == "postgresql":
            args, env = _pg_env_args(url)
            dump = work / "database.dump"
            result = subprocess.run(  # noqa: S603
                ["pg_dump", *args, "-Fc", "--no-owner", "-f", str(dump), url.database],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
            db_member = "database.dump"
        else:  # pragma: no cover
            raise BackupError(f"unsupported database {url.get_backend_name()}")
        manifest["database"] = db_member
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        target.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(target, "w:gz") as tar:
            tar.add(work / MANIFEST, arcname=MANIFEST)
            tar.add(work / db_member, arcname=db_member)
            if storage.exists():
                tar.add(
                    storage,
                    arcname="files",
                    filter=lambda m: None if Path(m.name).name.startswith(".tmp-") else m,
                )
    return manifest


def restore(archive: Path) -> dict:
    """Replace the database and files with the archive's, then check them against its manifest."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    storage = Path(current_app.config["STORAGE_DIR"])
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(work, filter="data")
        manifest = json.loads((work / MANIFEST).read_text())
        if manifest["dialect"] != url.get_backend_name():
            raise BackupError(
                f"this backup is of a {manifest['dialect']} database; "
                f"the platform uses {url.get_backend_name()}"
            )
        db.session.remove()
        db.engine.dispose()
        if url.get_backend_name() == "sqlite":
            source = sqlite3.connect(work / manifest["database"])
            dest = sqlite3.connect(url.database)
            with dest:
                source.backup(dest)
            dest.close()
            source.close()
        else:
            args, env = _pg_env_args(url)
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            db.engine.dispose()
            result = subprocess.run(  # noqa: S603
                [
                    "pg_restore",
                    *args,
                    "--no-owner",
                    "-d",
                    url.database,
                    str(work / manifest["database"]),
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
        if storage.exists():
            shutil.rmtree(storage)
        if (work / "files").exists():
            shutil.copytree(work / "files", storage)
        else:
            storage.mkdir(parents=True, exist_ok=True)
    problems = verify(manifest)
    if problems:
        raise BackupError("the restored data differ from the backup: " + "; ".join(problems))
    return manifest


def verify(manifest: dict) -> list[str]:
    problems = []
    counts = table_counts()
    for table, expected in manifest["tables"].items():
        if counts.get(table) != expected:
            problems.append(f"table {table}: {counts.get(table)} rows, expected {expected}")
    hashes = file_hashes(Path(current_app.config["STORAGE_DIR"]))
    for name, digest in manifest["files"].items():
        if hashes.get(name) != digest:
            problems.append(f"file {name}: hash differs or file missing")
    return problems
