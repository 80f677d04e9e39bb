"""Errors, headers, CSRF, language, formats, configuration."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask import render_template_string

import config
from webapp import create_app


def test_friendly_404(client):
    r = client.get("/no/such/page")
    assert r.status_code == 404
    assert b"This page does not exist" in r.data


@pytest.mark.parametrize("app_config", [{"PROPAGATE_EXCEPTIONS": False}])
def test_500_shows_no_stack_trace(app, client, app_config):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    r = client.get("/boom")
    assert r.status_code == 500
    assert b"An unexpected error occurred" in r.data
    assert b"secret internals" not in r.data and b"Traceback" not in r.data


@pytest.mark.parametrize("app_config", [{"MAX_CONTENT_LENGTH": 1000}])
def test_413_for_oversize_requests(client, app_config):
    r = client.post("/auth/login", data={"email": "x" * 5000, "password": "y"})
    assert r.status_code == 413
    assert b"larger than the platform accepts" in r.data


def test_405(client):
    r = client.get("/auth/logout")
    assert r.status_code == 405
    assert b"cannot be used this way" in r.data


def test_security_headers_with_a_fresh_nonce(client):
    first, second = client.get("/"), client.get("/")
    csp = first.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert f'nonce="{nonce}"'.encode() in first.data
    assert nonce not in second.headers["Content-Security-Policy"]
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    assert first.headers["Referrer-Policy"] == "same-origin"
    # No inline script without the nonce.
    for tag in re.findall(rb"<script[^>]*>", first.data):
        assert f'nonce="{nonce}"'.encode() in tag


def test_bootstrap_is_served_locally(client):
    r = client.get("/")
    assert b"cdn" not in r.data.lower()
    css = re.search(rb'href="([^"]*bootstrap\.min\.css)"', r.data).group(1).decode()
    with client.get(css) as response:
        assert response.status_code == 200


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_csrf_is_enforced(client, make_user, app_config):
    user = make_user(email="u@inserm.fr")
    r = client.post("/auth/login", data={"email": user.email, "password": "correct horse battery"})
    assert r.status_code == 400
    assert b"form has expired" in r.data
    page = client.get("/auth/login")
    token = (
        re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page.data).group(1).decode()
    )
    r = client.post(
        "/auth/login",
        data={"email": user.email, "password": "correct horse battery", "csrf_token": token},
    )
    assert r.status_code == 302


def test_language_switch(client, make_user, login, db):
    r = client.get("/", headers={"Accept-Language": "en"})
    assert b"Log in" in r.data and b'lang="en"' in r.data
    client.post("/language/fr", data={"next": "/auth/login"})
    r = client.get("/auth/login")
    assert b'lang="fr"' in r.data
    assert b"Se connecter" in r.data
    user = make_user(email="u@inserm.fr", locale="en")
    login(user)
    client.post("/language/fr", data={"next": "/dashboard"})
    db.session.refresh(user)
    assert user.locale == "fr"  # e-mails follow the language chosen last


def test_language_switch_refuses_foreign_next(client):
    r = client.post("/language/en", data={"next": "https://evil.example/"})
    assert r.headers["Location"] == "/"


def test_dates_and_money_per_language(app):
    moment = datetime(2026, 6, 15, 15, 0, tzinfo=UTC)  # 17:00 in Paris (summer time)
    template = "{{ moment|paris('short') }} | {{ 15000|money }}"
    # A fresh application context per request, as in production (the locale is cached on it).
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "fr"}):
        fr = render_template_string(template, moment=moment)
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}):
        en = render_template_string(template, moment=moment)
    assert fr.startswith("15/06/2026 17:00") and fr.endswith("15\u202f000\xa0€")
    assert "17:00" in en or "5:00" in en
    assert "€15,000" in en


def test_production_refuses_unsafe_settings(monkeypatch):
    class Prod(config.ProductionConfig):
        SECRET_KEY = "short"

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(Prod)

    class ProdDebug(config.ProductionConfig):
        SECRET_KEY = "x" * 40 + "unique-and-random"
        DEBUG = True

    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://localhost/x")
    with pytest.raises(RuntimeError, match="DEBUG"):
        create_app(ProdDebug)

    class ProdCookies(config.ProductionConfig):
        SECRET_KEY = "x" * 40 + "unique-and-random"
        SESSION_COOKIE_SECURE = False

    with pytest.raises(RuntimeError, match="Secure"):
        create_app(ProdCookies)

    class ProdDefault(config.ProductionConfig):
        SECRET_KEY = "change-me"

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(ProdDefault)


def test_database_url_selects_psycopg(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/coop")
    assert config._database_url("x.sqlite3") == "postgresql+psycopg://u@db/coop"
    monkeypatch.delenv("DATABASE_URL")
    assert config._database_url("x.sqlite3").startswith("sqlite:///")


def test_healthz(client):
    assert client.get("/healthz").json == {"status": "ok"}
