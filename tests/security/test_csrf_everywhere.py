"""Every state-changing route refuses a request without a valid CSRF token."""

from __future__ import annotations

import pytest
from flask import url_for

from tests.security.permission_matrix import MATRIX
from tests.security.world import ROLES, build_world

POST_ROWS = sorted(key for key in MATRIX if key[0] != "GET")


@pytest.mark.parametrize("method, endpoint", POST_ROWS, ids=[f"{m} {e}" for m, e in POST_ROWS])
def test_no_token_no_change(app, client, make_user, login, db, method, endpoint):
    world = build_world(make_user, db)
    row = MATRIX[(method, endpoint)]
    role = next((r for r in ROLES if r != "anonymous" and row.expected[r] not in (403, 404)), "admin")
    login(world.users[role])
    with app.test_request_context():
        url = url_for(endpoint, **(row.args(world) if row.args else {}))
    data = dict(row.data(world)) if row.data else {}
    response = client.open(url, method=method, data=data)
    assert response.status_code == 400, (
        f"{method} {url} as {role} without a CSRF token: {response.status_code}"
    )
