"""WTForms classes, one module per area. Field rules live here; business rules in workflows.

Every form derives from `Form`: what people type is cleaned of control characters before any
rule sees it. A one-line field keeps no line break (a call's title ends up in e-mail subjects),
a text area keeps its lines and tabs; NUL, escape and the like are never stored (PostgreSQL
refuses NUL in text, spreadsheets refuse the others). Passwords are left exactly as typed.
"""

from __future__ import annotations

import re
from functools import cache

import wtforms
from babel import support
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectChoice, StringField, TextAreaField
from wtforms.i18n import messages_path

_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAKS = re.compile(r"[\t\r\n\u2028\u2029\x85]+")


def clean_line(value):
    """One line: control characters dropped, line breaks and tabs turned into a space."""
    if not isinstance(value, str):
        return value
    return _CONTROLS.sub("", _LINE_BREAKS.sub(" ", value))


def clean_text(value):
    """Several lines: control characters dropped, line breaks (as \\n) and tabs kept."""
    if not isinstance(value, str):
        return value
    return _CONTROLS.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


class _CleanInput:
    """Form meta that puts `clean_line` or `clean_text` first in every text field's filters."""

    def bind_field(self, form, unbound_field, options):
        field_class = unbound_field.field_class
        if issubclass(field_class, StringField) and not issubclass(field_class, PasswordField):
            clean = clean_text if issubclass(field_class, TextAreaField) else clean_line
            options = {**options, "filters": [clean, *unbound_field.kwargs.get("filters", ())]}
        return unbound_field.bind(form=form, **options)


@cache
def _wtforms_catalogue(locale: str) -> support.NullTranslations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class _WTFormsMessages:
    """WTForms' own messages ("This field is required.") in the request's language. Flask-WTF
    reads WTForms' catalogue from disk again on every request that builds a form; here each
    language's catalogue is read once per process."""

    @staticmethod
    def _catalogue() -> support.NullTranslations:
        return _wtforms_catalogue(str(get_locale() or "en"))

    def gettext(self, string: str) -> str:
        return self._catalogue().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._catalogue().ungettext(singular, plural, n)


_WTFORMS_MESSAGES = _WTFormsMessages()


class Form(FlaskForm):
    """A page's form (with its CSRF token)."""

    class Meta(_CleanInput):
        def get_translations(self, form):
            return _WTFORMS_MESSAGES


class SubForm(wtforms.Form):
    """A row inside another form (FormField / FieldList): no token of its own."""

    class Meta(_CleanInput):
        pass


def choices(pairs) -> list[SelectChoice]:
    """Select options from (value, label) pairs: WTForms 3.3 deprecates bare tuples."""
    return [SelectChoice(value, label) for value, label in pairs]
