"""Password policy: 8 characters or more, long ones accepted whole, common ones refused."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from flask_babel import gettext as _

MIN_LENGTH = 8


@cache
def common_passwords() -> frozenset[str]:
    path = Path(__file__).with_name("common_passwords.txt")
    return frozenset(line.strip().lower() for line in path.read_text().splitlines() if line.strip())


def password_problem(password: str, email: str = "") -> str | None:
    """The reason a password is refused, or None. Never truncated: Argon2 hashes every byte."""
    if len(password) < MIN_LENGTH:
        return _("Use at least %(n)d characters.", n=MIN_LENGTH)
    lowered = password.lower()
    if lowered in common_passwords():
        return _("This password is too common; choose another one.")
    local = email.split("@", 1)[0].lower()
    if local and len(local) >= 4 and local in lowered:
        return _("The password must not contain your e-mail address.")
    if len(set(password)) < 3:
        return _("This password is too easy to guess.")
    return None
