"""Every route x every role answers what the checked-in matrix says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import url_for

from tests.security.permission_matrix import MATRIX
from tests.security.world import ROLES, build_world


@pytest.fixture
def app_config():
    # CSRF on, as everywhere in this suite; rate limits off: ten roles hit one route in a row.
    return {"WTF_CSRF_ENABLED": True, "RATELIMIT_ENABLED": False}


IGNORED_ENDPOINTS = {"static", "bootstrap.static"}
REPORT = Path(__file__).resolve().parents[2] / "test-artifacts" / "permission-matrix.txt"


def app_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in IGNORED_ENDPOINTS:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((method, rule.endpoint))
    return routes


def test_every_route_is_in_the_matrix(app):
    routes = app_routes(app)
    missing = sorted(routes - set(MATRIX))
    stale = sorted(set(MATRIX) - routes)
    REPORT.parent.mkdir(exist_ok=True)
    covered = len(routes) - len(missing)
    REPORT.write_text(
        f"routes covered {covered} / routes total {len(routes)}; roles {len(ROLES)}; "
        f"cases {len(MATRIX) * len(ROLES)}\n"
    )
    print(f"\npermission matrix: routes covered {covered} / routes total {len(routes)}")
    assert not missing, f"routes missing from tests/security/permission_matrix.py: {missing}"
    assert not stale, f"matrix rows for routes that no longer exist: {stale}"


def csrf_token(client) -> str:
    page = client.get("/auth/forgot")
    match = re.search(rb'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page.data)
    assert match, "no CSRF token on the page"
    return match.group(1).decode()


def _call(app, client, world, method, endpoint, row):
    with app.test_request_context():
        url = url_for(endpoint, **(row.args(world) if row.args else {}))
    if method == "GET":
        return url, client.get(url)
    data = dict(row.data(world)) if row.data else {}
    data["csrf_token"] = csrf_token(client)
    return url, client.open(url, method=method, data=data)


def db_fingerprint(db) -> str:
    """A digest of every row of every table but the audit trail (refusals are audited on purpose)."""
    import hashlib

    from sqlalchemy import inspect, text

    digest = hashlib.sha256()
    db.session.commit()
    with db.engine.connect() as conn:
        for table in sorted(inspect(db.engine).get_table_names()):
            if table in ("audit_event", "alembic_version"):
                continue
            for row in conn.execute(text(f'SELECT * FROM "{table}" ORDER BY 1')):  # noqa: S608
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def _refused(status: int) -> bool:
    return status in (302, 403, 404, 405)


@pytest.mark.parametrize("method, endpoint", sorted(MATRIX), ids=[f"{m} {e}" for m, e in sorted(MATRIX)])
def test_route_answers_each_role_as_the_matrix_says(app, make_user, login, db, method, endpoint):
    """All ten roles for one route. Refused roles go first: a refusal must change nothing, so they
    share one world; each role the route serves gets a fresh world when the route writes (POST)."""
    row = MATRIX[(method, endpoint)]
    order = sorted(ROLES, key=lambda r: (not _refused(row.expected[r]), ROLES.index(r)))
    world = build_world(make_user, db)
    failures = []
    fingerprinted = False
    for role in order:
        if method != "GET" and not _refused(row.expected[role]):
            world = build_world(make_user, db)
        client = app.test_client()
        if role != "anonymous":
            login(world.users[role], client)
        # One fingerprint per GET route (the first role the route serves): checking every role
        # would cost a full table scan per request and find nothing more.
        check = method == "GET" and not fingerprinted and not _refused(row.expected[role])
        before = db_fingerprint(db) if check else None
        fingerprinted = fingerprinted or check
        url, response = _call(app, client, world, method, endpoint, row)
        if before is not None and db_fingerprint(db) != before:
            failures.append(f"GET {url} as {role} changed the database")
        if response.status_code != row.expected[role]:
            failures.append(
                f"{method} {url} as {role}: got {response.status_code}, matrix says {row.expected[role]}"
            )
        elif (
            role == "anonymous"
            and row.expected[role] == 302
            and method == "GET"
            and (not endpoint.startswith("auth."))
        ):
            assert "/auth/login" in response.headers["Location"], response.headers["Location"]
    assert not failures, "\n".join(failures)
