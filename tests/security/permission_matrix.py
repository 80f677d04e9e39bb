"""The permission matrix: (method, endpoint) -> how to call it, and the status each role gets.

Checked in on purpose: a change of who may do what shows up in review as a change of this table.
`test_every_route_is_in_the_matrix` fails on any route of the application missing here.
Statuses: 200 page, 302 redirect (after a successful POST, or to the login page for anonymous),
403 refused, 404 absent or not visible to this role (the same answer as for a missing object).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.security.world import ROLES


def expect(default: int, **by_role: int) -> dict[str, int]:
    unknown = set(by_role) - set(ROLES)
    assert not unknown, unknown
    return {role: by_role.get(role, default) for role in ROLES}


ANY = expect(200)
LOGGED_IN = expect(200, anonymous=302)
ADMIN_ONLY = expect(403, anonymous=302, admin=200)
ADMIN_POST = expect(403, anonymous=302, admin=302)
MANAGERS = expect(403, anonymous=302, manager=200, admin=200)
MANAGERS_POST = expect(403, anonymous=302, manager=302, admin=302)
ANONYMOUS_ONLY = expect(302, anonymous=200)  # logged-in users are sent on to their dashboard


@dataclass(frozen=True)
class Row:
    expected: dict[str, int]
    args: Callable | None = None  # world -> url_for arguments
    data: Callable | None = None  # world -> form data for a POST
    note: str = ""
    states: dict = field(default_factory=dict)


def _user_arg(world):
    return {"user_id": world.users["owner"].id}


MATRIX: dict[tuple[str, str], Row] = {
    # public
    ("GET", "public.index"): Row(ANY),
    ("GET", "public.healthz"): Row(ANY),
    ("GET", "public.dashboard"): Row(LOGGED_IN),
    ("POST", "public.set_language"): Row(
        expect(302), args=lambda w: {"lang": "en"}, data=lambda w: {"next": "/"}
    ),
    # accounts
    ("GET", "auth.login"): Row(ANONYMOUS_ONLY),
    ("POST", "auth.login"): Row(
        expect(302, anonymous=200),
        data=lambda w: {"email": "x@y.org", "password": "wrong"},
        note="anonymous sees the form again with an error",
    ),
    ("POST", "auth.logout"): Row(expect(302)),
    ("POST", "auth.logout_everywhere"): Row(expect(302)),
    ("GET", "auth.register"): Row(ANONYMOUS_ONLY),
    ("POST", "auth.register"): Row(expect(302, anonymous=200), data=lambda w: {"email": "bad"}),
    ("GET", "auth.confirm"): Row(
        expect(302), args=lambda w: {"token": "invalid"}, note="bad token: back to resend"
    ),
    ("POST", "auth.confirm"): Row(expect(302), args=lambda w: {"token": "invalid"}),
    ("GET", "auth.resend_confirmation"): Row(ANY),
    ("POST", "auth.resend_confirmation"): Row(expect(302), data=lambda w: {"email": "nobody@x.org"}),
    ("GET", "auth.forgot_password"): Row(ANY),
    ("POST", "auth.forgot_password"): Row(expect(302), data=lambda w: {"email": "nobody@x.org"}),
    ("GET", "auth.reset_password"): Row(expect(302), args=lambda w: {"token": "invalid"}),
    ("POST", "auth.reset_password"): Row(expect(302), args=lambda w: {"token": "invalid"}),
    ("GET", "auth.change_password"): Row(LOGGED_IN),
    ("POST", "auth.change_password"): Row(
        LOGGED_IN, data=lambda w: {"current": "wrong"}, note="a wrong current password re-shows the form"
    ),
    ("GET", "auth.account"): Row(LOGGED_IN),
    # administration
    ("GET", "admin.users"): Row(ADMIN_ONLY),
    ("GET", "admin.create_user"): Row(ADMIN_ONLY),
    ("POST", "admin.create_user"): Row(
        ADMIN_ONLY, data=lambda w: {"email": "bad"}, note="invalid: form again"
    ),
    ("GET", "admin.user"): Row(ADMIN_ONLY, args=_user_arg),
    ("POST", "admin.grant_role"): Row(ADMIN_POST, args=_user_arg, data=lambda w: {"role": "reviewer"}),
    ("POST", "admin.remove_role"): Row(ADMIN_POST, args=lambda w: {**_user_arg(w), "role": "applicant"}),
    ("POST", "admin.disable_user"): Row(ADMIN_POST, args=_user_arg),
    ("POST", "admin.enable_user"): Row(ADMIN_POST, args=_user_arg),
    ("GET", "admin.outbox"): Row(ADMIN_ONLY),
    ("GET", "admin.outbox_message"): Row(
        expect(403, anonymous=302, admin=404), args=lambda w: {"message_id": 999999}
    ),
    ("GET", "admin.audit"): Row(ADMIN_ONLY),
}


def _load_capability_rows() -> None:
    """Each capability keeps its rows in tests/security/matrix_<capability>.py (ROWS = {...})."""
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.name.startswith("matrix_"):
            module = importlib.import_module(f"tests.security.{info.name}")
            overlap = set(module.ROWS) & set(MATRIX)
            assert not overlap, f"{info.name} repeats rows: {sorted(overlap)}"
            MATRIX.update(module.ROWS)


_load_capability_rows()
