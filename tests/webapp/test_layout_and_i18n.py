"""The layout's kept parts and the translation fast paths: the menu follows each reader's roles
and language, and templates translate, escape and substitute as Jinja's own gettext does."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import render_template_string
from flask_babel import force_locale, format_datetime, gettext

from webapp.templating import money, paris_datetime


def _menu(response) -> str:
    html = response.get_data(as_text=True)
    return html[html.index('<ul class="navbar-nav me-auto">') : html.index("</ul>\n      <ul")]


def test_the_menu_follows_each_readers_roles_and_language(app, make_user, login):
    anonymous = _menu(app.test_client().get("/calls"))
    assert "Dashboard" not in anonymous and "Calls" in anonymous
    manager = login(make_user(roles=("manager",), email="m@inserm.example"), app.test_client())
    applicant = login(make_user(roles=("applicant",), email="a@inserm.example"), app.test_client())
    dg = login(make_user(roles=("directorate",), email="dg@inserm.example"), app.test_client())
    for _ in range(2):  # the second time from the kept menu
        assert "Programme management" in _menu(manager.get("/dashboard"))
        assert "My proposals" not in _menu(manager.get("/dashboard"))
        mine = _menu(applicant.get("/dashboard"))
        assert "My proposals" in mine and "Programme management" not in mine
        assert "Validation queue" in _menu(dg.get("/dashboard"))
    applicant.post("/language/fr")
    assert "Mes projets" in _menu(applicant.get("/dashboard"))
    assert "My proposals" in _menu(login(make_user(roles=("applicant",), email="b@inserm.example"),
                                         app.test_client()).get("/dashboard"))


def test_template_translations_escape_and_substitute_like_jinja(app):
    with app.test_request_context(), force_locale("en"):
        html = render_template_string(
            '{{ _("Deadline: %(date)s (Paris time)", date="<b>soon</b>") }}|'
            '{{ ngettext("%(num)d call", "%(num)d calls", 3) }}|{{ _("100%% done") }}'
        )
        assert html == "Deadline: &lt;b&gt;soon&lt;/b&gt; (Paris time)|3 calls|100% done"
        text = render_template_string(
            '{% autoescape false %}{{ _("Deadline: %(date)s (Paris time)", date="<b>") }}{% endautoescape %}'
        )
        assert text == "Deadline: <b> (Paris time)"  # a text e-mail is not HTML-escaped
        with force_locale("fr"):
            assert render_template_string('{{ _("Calls") }}') == gettext("Calls") == "Appels"
        assert render_template_string('{{ _("Calls") }}') == "Calls"


def test_dates_and_amounts_kept_per_language_match_babel(app):
    moment = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # the night Paris moves to summer time
    with app.test_request_context():
        for locale, amount in (("fr", "12\u202f345\xa0€"), ("en", "€12,345")):
            with force_locale(locale):
                for pattern in ("medium", "short", "EEEE d MMMM y, HH:mm (ZZZZ)"):
                    assert paris_datetime(moment, pattern) == format_datetime(moment, pattern)
                assert money(12345) == amount
        with force_locale("fr"):
            assert paris_datetime(moment, "d MMMM y, HH:mm") == "29 mars 2026, 03:30"
