"""The French catalogue: complete, placeholders intact, never fuzzy, and in step with the code.

No Flask app is needed: the catalogue is read with Babel and the code is extracted with the
same mapping (babel.cfg) and keywords (_l, lazy_gettext) as the `pybabel extract` command.
When a test here fails because of new strings, run from the project root:

    .venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext \
        -o webapp/translations/messages.pot --no-location --sort-output --project coop-calls .
    .venv/bin/pybabel update -i webapp/translations/messages.pot -d webapp/translations \
        --no-fuzzy-matching

then translate every empty msgstr in webapp/translations/fr/LC_MESSAGES/messages.po.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
BABEL_CFG = ROOT / "babel.cfg"
PO_PATH = ROOT / "webapp" / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
# Same keywords as `pybabel extract -k _l -k lazy_gettext` (None: the first argument).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}

# printf-style conversions: %(name)s, %(n)d, %s, %.2f ... ("%%" is a literal percent sign).
PERCENT = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0 +\-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<conv>[a-zA-Z%])"
)
# str.format fields: {0}, {name}, {name:>3} ("{{" and "}}" are literal braces).
BRACES = re.compile(r"(?<!\{)\{(?P<field>[^{}]*)\}(?!\})")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    with PO_PATH.open("rb") as f:
        return read_po(f, locale="fr")


@pytest.fixture(scope="module")
def messages(catalog) -> list[Message]:
    return [m for m in catalog if m.id]


def label(message: Message) -> str:
    msgid = message.id[0] if isinstance(message.id, tuple) else message.id
    return f"{message.context}|{msgid}" if message.context else msgid


def forms(message: Message) -> tuple[str, ...]:
    """The msgstr forms of a message (one, or one per plural form)."""
    if isinstance(message.string, tuple | list):
        return tuple(message.string)
    return (message.string,)


def msgids(message: Message) -> tuple[str, ...]:
    return tuple(message.id) if isinstance(message.id, tuple | list) else (message.id,)


def percent_placeholders(text: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """Named conversions as a set ("%(name)s"), positional ones in order ("%d")."""
    named, positional = set(), []
    for match in PERCENT.finditer(text):
        conv = match["conv"]
        if conv == "%":
            continue
        if match["name"] is not None:
            named.add(f"%({match['name']}){conv}")
        else:
            positional.append(f"%{conv}")
    return frozenset(named), tuple(positional)


def brace_placeholders(text: str) -> Counter[str]:
    return Counter(match["field"] for match in BRACES.finditer(text))


def extracted_catalog() -> Catalog:
    """What `pybabel extract -F babel.cfg -k _l -k lazy_gettext .` finds in the code today."""
    with BABEL_CFG.open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, str(BABEL_CFG))
    template = Catalog()
    # The default directory filter skips hidden and "_" folders (.venv, .git, caches).
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def test_the_catalogue_is_french_with_two_plural_forms(catalog):
    assert str(catalog.locale) == "fr"
    assert catalog.num_plurals == 2
    assert "n > 1" in catalog.plural_expr


def test_every_message_is_translated(messages):
    assert messages, "the French catalogue is empty"
    untranslated = [
        label(m)
        for m in messages
        if not all(s and s.strip() for s in forms(m)) or (m.pluralizable and len(forms(m)) != 2)
    ]
    assert not untranslated, f"{len(untranslated)} untranslated message(s):\n" + "\n".join(
        untranslated
    )


def test_no_entry_is_fuzzy(catalog, messages):
    assert not catalog.fuzzy, "the catalogue header is marked fuzzy"
    fuzzy = [label(m) for m in messages if m.fuzzy]
    assert not fuzzy, "fuzzy entries:\n" + "\n".join(fuzzy)


def test_translations_keep_the_placeholders(messages):
    wrong = []
    for m in messages:
        ids = msgids(m)
        # For plurals, every form carries the placeholders of msgid and msgid_plural together.
        expected_named = frozenset().union(*(percent_placeholders(i)[0] for i in ids))
        expected_positional = percent_placeholders(ids[-1])[1]
        expected_braces = sum((brace_placeholders(i) for i in ids), Counter())
        check_braces = "python-brace-format" in m.flags or bool(expected_braces)
        for text in forms(m):
            named, positional = percent_placeholders(text)
            if named != expected_named or positional != expected_positional:
                wrong.append(f"{label(m)!r}: {sorted(named)} != {sorted(expected_named)}")
            elif check_braces and set(brace_placeholders(text)) != set(expected_braces):
                wrong.append(f"{label(m)!r}: braces differ in {text!r}")
    assert not wrong, "placeholders changed:\n" + "\n".join(wrong)


def test_translations_keep_leading_and_trailing_whitespace(messages):
    def edges(text: str) -> tuple[str, str]:
        return text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]

    wrong = [
        label(m)
        for m in messages
        for text in forms(m)
        if text and edges(text) != edges(msgids(m)[0])
    ]
    assert not wrong, "leading/trailing whitespace differs from the msgid:\n" + "\n".join(wrong)


def test_babel_checkers_find_nothing(catalog):
    """The checks `pybabel compile` runs (python-format, number of plural forms)."""
    problems = [f"{label(m)!r}: {'; '.join(map(str, errors))}" for m, errors in catalog.check()]
    assert not problems, "\n".join(problems)


def test_the_catalogue_is_up_to_date_with_the_code(catalog):
    template = extracted_catalog()
    assert len(template) > 0, "nothing extracted: is babel.cfg still mapping the code?"
    missing = []
    for m in template:
        if not m.id:
            continue
        entry = catalog.get(m.id, context=m.context)
        if entry is None or msgids(entry) != msgids(m):
            missing.append(label(m))
    assert not missing, (
        f"{len(missing)} msgid(s) in the code but not in {PO_PATH.relative_to(ROOT)} "
        "(run pybabel extract + update, then translate):\n" + "\n".join(sorted(missing))
    )
