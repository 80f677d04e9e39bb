"""Jinja filters and globals: dates in Paris time and money per language."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from babel import dates, numbers
from flask import render_template, request, url_for
from flask_babel import format_decimal, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from forms.admin import ROLE_LABELS
from webapp import access, markdown
from webapp.dashboard import dashboard_cards
from webapp.models.calls import localised
from workflows.roles import Role
from workflows.timeutils import PARIS

# Formatting a date or an amount is a pure function of the value and the language, and lists
# show the same deadlines and amounts on every request: each result is computed once per process.


@lru_cache(maxsize=4096)
def _paris(value: datetime, format: str, locale: str) -> str:
    return dates.format_datetime(value, format, tzinfo=PARIS, locale=locale)


@lru_cache(maxsize=4096)
def _money(value: int | Decimal, locale: str) -> str:
    pattern = "#,##0\xa0¤" if locale == "fr" else "¤#,##0"
    return numbers.format_currency(value, "EUR", format=pattern, locale=locale, currency_digits=False)


def _locale() -> str:
    return str(get_locale() or "fr")


def paris_datetime(value: datetime | None, format: str = "medium") -> str:
    """A time in Paris time in the reader's language (times are stored in UTC)."""
    if value is None:
        return ""
    return _paris(value, format, _locale())


def money(value: int | Decimal | None) -> str:
    if value is None:
        return ""
    return _money(value, _locale())


def number(value, format: str = "0.##") -> str:
    """A score or a mean in the reader's language (3,70 in French, 3.70 in English)."""
    if value is None:
        return "—"
    return format_decimal(value, format=format)


#: A proposal's state as programme managers read it (the labels are translated when shown).
MANAGER_STATE_LABELS = {
    "submitted": _l("Submitted"),
    "eligible": _l("Eligible"),
    "ineligible": _l("Ineligible"),
    "under_review": _l("Under review"),
    "reviewed": _l("Reviewed"),
    "ranked": _l("Ranked"),
    "proposed": _l("Proposed to the DG"),
    "waitlisted": _l("Waiting list (proposed)"),
    "not_retained": _l("Not retained (proposed)"),
    "awarded": _l("Awarded"),
    "rejected": _l("Rejected"),
    "agreement_pending": _l("Agreement pending"),
    "withdrawn": _l("Withdrawn"),
}


def manager_state_label(state) -> str:
    value = str(getattr(state, "value", state))
    return str(MANAGER_STATE_LABELS.get(value, value))


# --- the layout's fixed parts ---------------------------------------------------------------------
# The main menu depends only on the language, the reader's roles and where the application is
# mounted, and a static file's address only on the latter: each combination is rendered once per
# process instead of on every page (the menu is a dozen links, predicates and translations).


def nav_items() -> Markup:
    user = current_user._get_current_object()
    authenticated = bool(getattr(user, "is_authenticated", False))
    roles = user.roles if authenticated else frozenset()
    return _nav_items(_locale(), roles, authenticated, request.script_root)


@lru_cache(maxsize=256)
def _nav_items(locale: str, roles: frozenset, authenticated: bool, script_root: str) -> Markup:
    return Markup(render_template("_nav_items.html"))  # noqa: S704 - our own rendered template


def static_url(endpoint: str, filename: str) -> str:
    return _static_url(endpoint, filename, request.script_root)


@lru_cache(maxsize=256)
def _static_url(endpoint: str, filename: str, script_root: str) -> str:
    return url_for(endpoint, filename=filename)


def role_label(role) -> str:
    value = getattr(role, "value", role)
    return str(ROLE_LABELS.get(value, value))


def init_app(app) -> None:
    app.jinja_env.filters["paris"] = paris_datetime
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["number"] = number
    app.jinja_env.globals["manager_state_label"] = manager_state_label
    markdown.init_app(app)
    app.jinja_env.globals.update(access.PREDICATES)
    app.jinja_env.globals["Role"] = Role
    app.jinja_env.globals["role_label"] = role_label
    app.jinja_env.globals["dashboard_cards"] = dashboard_cards
    app.jinja_env.globals["nav_items"] = nav_items
    app.jinja_env.globals["static_url"] = static_url
    app.jinja_env.globals["localised"] = localised

    @app.context_processor
    def _context():
        return {
            "current_locale": str(get_locale() or app.config["BABEL_DEFAULT_LOCALE"]),
            "languages": app.config["LANGUAGES"],
            "app_name": app.config["APP_NAME"],
            "current_path": request.full_path.rstrip("?") if request else "/",
        }
