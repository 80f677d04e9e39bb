"""Files on disk, written as one unit with their database rows.

A file is written under a generated name (never the uploader's), fsynced and renamed into place,
and remembered in the session. If the transaction rolls back, the file is removed; if the
process dies between the write and the commit, `sweep_orphans` removes files no row names.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

PENDING_KEY = "coop.pending_files"


@dataclass(frozen=True)
class StoredFile:
    stored_name: str
    sha256: str
    size_bytes: int


def storage_root() -> Path:
    root = Path(current_app.config["STORAGE_DIR"])
    root.mkdir(parents=True, exist_ok=True)
    return root


def path_of(stored_name: str) -> Path:
    if not stored_name or "/" in stored_name or "\\" in stored_name or stored_name.startswith("."):
        raise ValueError("invalid stored name")
    return storage_root() / stored_name[:2] / stored_name


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def save_bytes(session: Session, data: bytes, suffix: str = "") -> StoredFile:
    """Write `data` durably under a fresh name; it is deleted again if `session` rolls back."""
    suffix = "".join(c for c in suffix.lower() if c.isalnum())[:8]
    stored_name = secrets.token_hex(16) + (f".{suffix}" if suffix else "")
    target = path_of(stored_name)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    session.info.setdefault(PENDING_KEY, []).append(target)
    return StoredFile(stored_name, sha256_of(data), len(data))


def read_bytes(stored_name: str) -> bytes:
    return path_of(stored_name).read_bytes()


def delete_later(session: Session, stored_name: str) -> None:
    """Delete a file once the transaction that stops naming it has committed."""
    session.info.setdefault("coop.delete_after_commit", []).append(path_of(stored_name))


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)
    for path in session.info.pop("coop.delete_after_commit", []):
        Path(path).unlink(missing_ok=True)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("coop.delete_after_commit", None)
    for path in session.info.pop(PENDING_KEY, []):
        Path(path).unlink(missing_ok=True)


def sweep_orphans(referenced: set[str], older_than_seconds: int = 3600) -> list[str]:
    """Remove stored files that no row names (a crash between write and commit leaves these)."""
    removed = []
    cutoff = time.time() - older_than_seconds
    for path in storage_root().glob("*/*"):
        if path.name.startswith(".tmp-") or path.name not in referenced:
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed.append(path.name)
    return removed
