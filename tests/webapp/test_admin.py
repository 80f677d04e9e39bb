"""Administration of accounts and roles."""

from __future__ import annotations

import pytest

from webapp.models import AuditEvent, User


@pytest.fixture
def admin(make_user, login):
    user = make_user(roles=("admin",), email="admin@inserm.fr")
    login(user)
    return user


@pytest.mark.parametrize("role", ["applicant", "reviewer", "manager", "directorate"])
def test_only_admins_reach_the_admin_pages(client, make_user, login, role):
    login(make_user(roles=(role,)))
    for path in ("/admin/users", "/admin/users/new", "/admin/outbox", "/admin/audit"):
        assert client.get(path).status_code == 403


def test_anonymous_is_sent_to_login(client):
    r = client.get("/admin/users")
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"]


def test_list_search_filter_and_paginate(client, admin, make_user):
    for i in range(30):
        make_user(email=f"person{i:02d}@example.org", last_name=f"Person{i:02d}")
    make_user(roles=("reviewer",), email="expert@univ.example", last_name="Zeta")
    r = client.get("/admin/users")
    assert b"32 accounts" in r.data
    assert b"Page 1 of 2" in r.data
    r = client.get("/admin/users", query_string={"q": "expert"})
    assert b"expert@univ.example" in r.data and b"person01" not in r.data
    r = client.get("/admin/users", query_string={"role": "reviewer"})
    assert b"1 account" in r.data and b"expert@univ.example" in r.data


def test_create_user_sends_an_invitation(client, admin, db, outbox):
    r = client.post(
        "/admin/users/new",
        data={
            "first_name": "Rita",
            "last_name": "Levi",
            "email": "rita@inserm.fr",
            "locale": "en",
            "roles": ["reviewer", "manager"],
        },
        follow_redirects=True,
    )
    assert b"Account created" in r.data
    user = db.session.scalar(db.select(User).where(User.email == "rita@inserm.fr"))
    assert {r.value for r in user.roles} == {"reviewer", "manager"}
    (message,) = outbox("rita@inserm.fr")
    assert "http://calls.test/auth/reset/" in message.body_text
    event = db.session.scalar(
        db.select(AuditEvent).where(
            AuditEvent.action == "user.created", AuditEvent.object_id == user.id
        )
    )
    assert event.actor_id == admin.id and event.after["roles"] == ["manager", "reviewer"]


def test_create_user_refuses_bad_input_and_keeps_it(client, admin, make_user):
    make_user(email="dup@inserm.fr")
    r = client.post(
        "/admin/users/new",
        data={
            "first_name": "Typed",
            "last_name": "Text",
            "email": "dup@inserm.fr",
            "roles": ["reviewer"],
        },
    )
    assert b"already exists" in r.data and b'value="Typed"' in r.data
    r = client.post(
        "/admin/users/new", data={"first_name": "A", "last_name": "B", "email": "x@y.org"}
    )
    assert b"Choose at least one role" in r.data


def test_grant_and_remove_roles_are_audited(client, admin, make_user, db):
    user = make_user(email="u@inserm.fr")
    client.post(f"/admin/users/{user.id}/roles", data={"role": "reviewer"})
    db.session.refresh(user)
    assert {r.value for r in user.roles} == {"applicant", "reviewer"}
    client.post(f"/admin/users/{user.id}/roles/applicant/remove")
    db.session.refresh(user)
    assert {r.value for r in user.roles} == {"reviewer"}
    actions = [
        e.action
        for e in db.session.scalars(
            db.select(AuditEvent)
            .where(AuditEvent.object_id == user.id, AuditEvent.object_type == "user")
            .order_by(AuditEvent.id)
        )
    ]
    assert actions[-2:] == ["user.role_granted", "user.role_removed"]
    removed = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.action == "user.role_removed")
    ).one()
    assert removed.before == {"roles": ["applicant", "reviewer"]} and removed.after == {
        "roles": ["reviewer"]
    }


def test_unknown_role_or_user_is_404(client, admin):
    assert client.post(f"/admin/users/{admin.id}/roles/king/remove").status_code == 404
    assert client.get("/admin/users/99999").status_code == 404


def test_admin_cannot_remove_own_admin_role_or_disable_self(client, admin, db):
    r = client.post(f"/admin/users/{admin.id}/roles/admin/remove", follow_redirects=True)
    assert b"cannot remove your own administrator role" in r.data
    r = client.post(f"/admin/users/{admin.id}/disable", follow_redirects=True)
    assert b"cannot disable your own account" in r.data


def test_disable_ends_sessions_and_blocks_login(app, client, admin, make_user, db):
    user = make_user(email="u@inserm.fr")
    other = app.test_client()
    other.post("/auth/login", data={"email": user.email, "password": "correct horse battery"})
    assert other.get("/dashboard").status_code == 200
    client.post(f"/admin/users/{user.id}/disable")
    assert other.get("/dashboard").status_code == 302
    r = other.post("/auth/login", data={"email": user.email, "password": "correct horse battery"})
    assert b"Wrong e-mail or password" in r.data
    client.post(f"/admin/users/{user.id}/enable")
    r = other.post("/auth/login", data={"email": user.email, "password": "correct horse battery"})
    assert r.status_code == 302
    actions = {e.action for e in db.session.scalars(db.select(AuditEvent))}
    assert {"user.disabled", "user.enabled"} <= actions


def test_outbox_is_viewable_by_admins(client, admin, make_user, outbox):
    client.post("/auth/forgot", data={"email": admin.email})
    (message,) = outbox(admin.email)
    r = client.get("/admin/outbox")
    assert message.subject.encode() in r.data
    assert b"No SMTP server is configured" in r.data
    r = client.get(f"/admin/outbox/{message.id}")
    assert b"/auth/reset/" in r.data


def test_audit_page_lists_events(client, admin, make_user):
    make_user(email="u@inserm.fr")
    r = client.get("/admin/audit", query_string={"action": "user."})
    assert b"user.created" in r.data


def test_refused_access_is_audited(client, make_user, login, db):
    user = make_user(roles=("reviewer",))
    login(user)
    assert client.get("/admin/users").status_code == 403
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "access.refused"))
    assert event.actor_id == user.id and event.after == {"method": "GET", "path": "/admin/users"}
