"""Language and time zone of each request."""

from __future__ import annotations

from types import SimpleNamespace

import flask_babel
from flask import current_app, g, has_request_context, request, session
from flask_babel import get_translations
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if current_user and getattr(current_user, "is_authenticated", False):
        if current_user.locale in languages:
            return current_user.locale
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def select_timezone() -> str:
    # Calls are run from Paris: every time is shown in Paris time, whatever the visitor's zone.
    return "Europe/Paris"


# --- gettext in templates -------------------------------------------------------------------------
# Flask-Babel installs Jinja's "newstyle" callables: every `_()` in a template goes through three
# `Context.call` levels and two lambdas before reaching the catalogue (about 25 Python calls; a
# page has 40 to 200 of them). These do the same in one call each: translate with the request's
# catalogue (force_locale included), mark safe when the template autoescapes, then substitute the
# escaped variables, exactly as Jinja's newstyle gettext does.


@pass_context
def template_gettext(context, string: str, **variables) -> str:
    rv = get_translations().ugettext(string)
    if context.eval_ctx.autoescape:
        rv = Markup(rv)  # noqa: S704 - a translation of our own catalogue, as Jinja marks it
    return rv % variables


@pass_context
def template_ngettext(context, singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    rv = get_translations().ungettext(singular, plural, num)
    if context.eval_ctx.autoescape:
        rv = Markup(rv)  # noqa: S704 - a translation of our own catalogue, as Jinja marks it
    return rv % variables


# --- Flask-Babel's request state -----------------------------------------------------------------
# Every Flask-Babel call (gettext, lazy strings, get_locale, format_*) first finds its per-request
# state through `_get_current_context`, which touches the `g` proxy three times (about 1.6 us
# each); a page makes hundreds of such calls. This does the same with one proxy lookup.


def _babel_state():
    try:
        app_globals = g._get_current_object()
    except RuntimeError:  # no application context: Flask-Babel then uses no translation
        return None
    try:
        return app_globals._flask_babel
    except AttributeError:
        app_globals._flask_babel = SimpleNamespace()
        return app_globals._flask_babel


def init_app(app) -> None:
    flask_babel._get_current_context = _babel_state
    app.jinja_env.globals.update(_=template_gettext, gettext=template_gettext,
                                 ngettext=template_ngettext)
