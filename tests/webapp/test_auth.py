"""Registration, confirmation, login, logout, reset, throttling, sessions."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine

from webapp.models import AuditEvent, User, utcnow


def _link(message) -> str:
    match = re.search(r"https?://\S+", message.body_text)
    assert match, message.body_text
    return match.group(0)


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def register(client, email="new@inserm.fr", password="a long passphrase 42", **extra):
    data = {
        "first_name": "Nadia",
        "last_name": "Haddad",
        "email": email,
        "position": "CR1",
        "locale": "en",
        "password": password,
        "confirm": password,
        **extra,
    }
    return client.post("/auth/register", data=data, follow_redirects=True)


def test_registration_creates_unconfirmed_applicant_and_mails_a_link(client, db, outbox):
    r = register(client)
    assert r.status_code == 200
    assert b"we sent a confirmation link" in r.data
    user = db.session.scalar(db.select(User).where(User.email == "new@inserm.fr"))
    assert user is not None and not user.is_confirmed
    assert {r.value for r in user.roles} == {"applicant"}
    assert user.password_hash.startswith("$argon2id$")
    (message,) = outbox("new@inserm.fr")
    # The link is built from the configured host, not from the request.
    assert _link(message).startswith("http://calls.test/auth/confirm/")


def test_registration_link_ignores_a_forged_host_header(client, outbox):
    client.post(
        "/auth/register",
        data={
            "first_name": "A",
            "last_name": "B",
            "email": "h@inserm.fr",
            "locale": "en",
            "password": "a long passphrase 42",
            "confirm": "a long passphrase 42",
        },
        headers={"Host": "evil.example"},
    )
    (message,) = outbox("h@inserm.fr")
    assert "evil.example" not in message.body_text
    assert _link(message).startswith("http://calls.test/")


@pytest.mark.parametrize(
    "password, message",
    [
        ("short1", b"at least 8 characters"),
        ("password123", b"too common"),
        ("azerty123", b"too common"),
        ("aaaaaaaaaaaa", b"too easy"),
    ],
)
def test_password_policy(client, db, password, message):
    r = register(client, password=password)
    assert message in r.data
    assert db.session.scalar(db.select(User).where(User.email == "new@inserm.fr")) is None


def test_long_passwords_are_accepted_whole(client, db, make_user):
    long_password = "x" * 200 + "distinct tail"
    register(client, email="long@inserm.fr", password=long_password)
    user = db.session.scalar(db.select(User).where(User.email == "long@inserm.fr"))
    user.email_confirmed_at = utcnow()
    db.session.commit()
    # No truncation: a password sharing the first 200 characters is refused.
    r = client.post(
        "/auth/login", data={"email": "long@inserm.fr", "password": "x" * 200 + "other"}
    )
    assert b"Wrong e-mail or password" in r.data
    r = client.post("/auth/login", data={"email": "long@inserm.fr", "password": long_password})
    assert r.status_code == 302


def test_duplicate_registration_gives_the_same_answer_and_warns_the_owner(
    client, make_user, outbox, db
):
    make_user(email="taken@inserm.fr")
    r = register(client, email="taken@inserm.fr")
    assert b"we sent a confirmation link" in r.data
    (message,) = outbox("taken@inserm.fr")
    assert message.template == "account_exists"
    assert (
        db.session.scalar(db.select(db.func.count(User.id)).where(User.email == "taken@inserm.fr"))
        == 1
    )


def test_confirmation_get_changes_nothing_post_confirms(client, db, outbox):
    register(client)
    path = _path(_link(outbox("new@inserm.fr")[0]))
    r = client.get(path)
    assert b"Confirm my address" in r.data
    user = db.session.scalar(db.select(User).where(User.email == "new@inserm.fr"))
    assert not user.is_confirmed
    r = client.post(path, follow_redirects=True)
    assert b"Your e-mail address is confirmed" in r.data
    db.session.refresh(user)
    assert user.is_confirmed


def test_bad_confirmation_token(client):
    r = client.get("/auth/confirm/not-a-token", follow_redirects=True)
    assert b"This confirmation link is not valid" in r.data


def test_login_requires_confirmation(client, make_user):
    make_user(email="u@inserm.fr", confirmed=False)
    r = client.post(
        "/auth/login",
        data={"email": "u@inserm.fr", "password": "correct horse battery"},
        follow_redirects=True,
    )
    assert b"Please confirm your e-mail address first" in r.data
    assert client.get("/dashboard").status_code == 302


def test_login_and_logout(client, make_user, db):
    user = make_user(email="u@inserm.fr")
    r = client.post(
        "/auth/login", data={"email": "U@Inserm.fr ", "password": "correct horse battery"}
    )
    assert r.status_code == 302 and r.headers["Location"].endswith("/dashboard")
    assert client.get("/dashboard").status_code == 200
    assert db.session.scalar(
        db.select(AuditEvent).where(
            AuditEvent.action == "auth.login", AuditEvent.actor_id == user.id
        )
    )
    client.post("/auth/logout")
    assert client.get("/dashboard").status_code == 302


def test_wrong_password_and_unknown_email_get_the_same_answer(client, make_user, db):
    make_user(email="u@inserm.fr")
    wrong = client.post(
        "/auth/login", data={"email": "u@inserm.fr", "password": "not the password"}
    )
    unknown = client.post(
        "/auth/login", data={"email": "nobody@inserm.fr", "password": "not the password"}
    )
    assert wrong.status_code == unknown.status_code == 200
    assert b"Wrong e-mail or password" in wrong.data and b"Wrong e-mail or password" in unknown.data
    failures = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.action == "auth.login_failed")
    ).all()
    assert len(failures) == 2
    # No password ever reaches the audit trail.
    assert all("not the password" not in str(e.after) for e in failures)


def test_a_new_session_id_at_login(client, make_user):
    user = make_user(email="u@inserm.fr")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    client.post("/auth/login", data={"email": user.email, "password": "correct horse battery"})
    with client.session_transaction() as session:
        assert "planted" not in session


def test_account_throttled_after_repeated_failures(client, make_user, app):
    user = make_user(email="u@inserm.fr")
    for _ in range(app.config["MAX_FAILED_LOGINS"]):
        client.post("/auth/login", data={"email": user.email, "password": "wrong password!"})
    r = client.post("/auth/login", data={"email": user.email, "password": "correct horse battery"})
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) > 0
    assert b"Too many attempts" in r.data
    with time_machine.travel(utcnow() + timedelta(seconds=app.config["LOCKOUT_SECONDS"] + 1)):
        r = client.post(
            "/auth/login", data={"email": user.email, "password": "correct horse battery"}
        )
        assert r.status_code == 302


@pytest.mark.parametrize("app_config", [{"LOGIN_RATE_LIMIT": "3 per minute"}])
def test_address_throttled(client, app_config):
    for _ in range(3):
        client.post("/auth/login", data={"email": "x@inserm.fr", "password": "whatever you say"})
    r = client.post("/auth/login", data={"email": "y@inserm.fr", "password": "whatever you say"})
    assert r.status_code == 429
    assert "Retry-After" in r.headers


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/admin/users", "/admin/users"),
        ("/dashboard?x=1", "/dashboard?x=1"),
        ("https://evil.example/", "/dashboard"),
        ("//evil.example/", "/dashboard"),
        ("/\\evil.example/", "/dashboard"),
        ("javascript:alert(1)", "/dashboard"),
        ("http:/evil.example", "/dashboard"),
        ("/%0d%0aSet-Cookie:x=1", "/%0d%0aSet-Cookie:x=1"),
    ],
)
def test_next_redirects_stay_on_this_site(client, make_user, target, expected):
    user = make_user(email="u@inserm.fr")
    r = client.post(
        "/auth/login",
        query_string={"next": target},
        data={"email": user.email, "password": "correct horse battery"},
    )
    assert r.status_code == 302
    assert r.headers["Location"] == expected


def test_password_reset_is_single_use_and_expires(client, make_user, outbox, app):
    user = make_user(email="u@inserm.fr")
    client.post("/auth/forgot", data={"email": "u@inserm.fr"})
    (message,) = outbox("u@inserm.fr")
    link = _link(message)
    assert link.startswith("http://calls.test/auth/reset/")
    path = _path(link)
    r = client.post(
        path,
        data={"password": "a brand new passphrase", "confirm": "a brand new passphrase"},
        follow_redirects=True,
    )
    assert b"Your password has been changed" in r.data
    r = client.post("/auth/login", data={"email": user.email, "password": "a brand new passphrase"})
    assert r.status_code == 302
    client.post("/auth/logout")
    # Used once: refused the second time.
    r = client.post(
        path,
        data={"password": "another passphrase 9", "confirm": "another passphrase 9"},
        follow_redirects=True,
    )
    assert b"already been used" in r.data
    # A fresh link expires after RESET_TOKEN_MAX_AGE.
    client.post("/auth/forgot", data={"email": "u@inserm.fr"})
    path2 = _path(_link(outbox("u@inserm.fr")[-1]))
    with time_machine.travel(utcnow() + timedelta(seconds=app.config["RESET_TOKEN_MAX_AGE"] + 5)):
        r = client.get(path2, follow_redirects=True)
        assert b"This reset link has expired" in r.data


def test_forgot_password_says_the_same_for_unknown_addresses(client, outbox):
    r = client.post("/auth/forgot", data={"email": "nobody@inserm.fr"}, follow_redirects=True)
    assert b"If an account uses this address" in r.data
    assert outbox() == []


def test_password_change_ends_other_sessions(app, make_user):
    user = make_user(email="u@inserm.fr")
    first, second = app.test_client(), app.test_client()
    for c in (first, second):
        c.post("/auth/login", data={"email": user.email, "password": "correct horse battery"})
        assert c.get("/dashboard").status_code == 200
    r = first.post(
        "/auth/password",
        data={
            "current": "correct horse battery",
            "password": "a brand new passphrase",
            "confirm": "a brand new passphrase",
        },
    )
    assert r.status_code == 302
    assert first.get("/dashboard").status_code == 200
    assert second.get("/dashboard").status_code == 302


def test_password_change_needs_the_current_password(client, make_user, login):
    user = make_user(email="u@inserm.fr")
    login(user)
    r = client.post(
        "/auth/password",
        data={
            "current": "wrong one!!",
            "password": "a brand new passphrase",
            "confirm": "a brand new passphrase",
        },
    )
    assert b"The current password is wrong" in r.data


def test_logout_everywhere(app, make_user):
    user = make_user(email="u@inserm.fr")
    first, second = app.test_client(), app.test_client()
    for c in (first, second):
        c.post("/auth/login", data={"email": user.email, "password": "correct horse battery"})
    first.post("/auth/logout-everywhere")
    assert first.get("/dashboard").status_code == 302
    assert second.get("/dashboard").status_code == 302


def test_session_cookie_flags(client, make_user):
    user = make_user(email="u@inserm.fr")
    r = client.post("/auth/login", data={"email": user.email, "password": "correct horse battery"})
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_authenticated_pages_are_not_cached(client, make_user, login):
    login(make_user())
    assert client.get("/dashboard").headers["Cache-Control"] == "no-store"
