"""The machinery of the payload tests: which fields the forms have, how to fill and post a form
the way a browser would, and how to tell that what comes back (a page, an e-mail, a PDF, a
spreadsheet) left every payload inert.

- `text_fields(FormClass)` reads the WTForms class: its StringField and TextAreaField fields
  (hidden and password fields apart), with their maximum length, through FieldList/FormField.
- `scrape_form(html, action)` reads a form out of a page as a browser would submit it (the CSRF
  token included), so each test posts what the page offers, with the payloads in its text fields.
- `Outputs` checks every response, e-mail, PDF and export, and remembers which field tags it saw.
- `Listener` is a tiny HTTP server on 127.0.0.1 that records any request reaching it.
"""

from __future__ import annotations

import csv
import importlib
import inspect
import io
import pkgutil
import re
import threading
import zipfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from werkzeug.datastructures import MultiDict
from wtforms import FieldList, Form, FormField, HiddenField, PasswordField, StringField, TextAreaField
from wtforms.fields.core import UnboundField
from wtforms.validators import Email, Length

from tests.security.payloads import (
    FORMULA_PREFIXES,
    LITERAL_PROBE,
    PASSWD_LINE,
    corpus,
    packed,
    tag_for,
)

TAG_RE = re.compile(r"ZQ\d{3}Q", re.IGNORECASE)  # keywords, for one, are stored lowercase

# --- the forms ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextField:
    path: str  # "title", or "criteria-*-label_fr" for the rows of a FieldList
    max_length: int | None
    multiline: bool
    email: bool


def _validators(unbound: UnboundField) -> list:
    validators = unbound.kwargs.get("validators")
    if validators is None and len(unbound.args) > 1:
        validators = unbound.args[1]
    return list(validators or [])


def _unbound_fields(form_class) -> list[tuple[str, UnboundField]]:
    seen: dict[str, UnboundField] = {}
    for klass in reversed(form_class.__mro__):
        for name, value in vars(klass).items():
            if isinstance(value, UnboundField) and not name.startswith("_"):
                seen[name] = value
            elif name in seen and not isinstance(value, UnboundField):
                del seen[name]
    return list(seen.items())


def _fields_of(unbound: UnboundField, path: str) -> list[TextField]:
    klass = unbound.field_class
    if issubclass(klass, FieldList):
        return _fields_of(unbound.args[0], f"{path}-*")
    if issubclass(klass, FormField):
        inner = unbound.args[0]
        return [TextField(f"{path}-{f.path}", f.max_length, f.multiline, f.email) for f in text_fields(inner)]
    if not issubclass(klass, StringField) or issubclass(klass, HiddenField | PasswordField):
        return []
    validators = _validators(unbound)
    lengths = [v.max for v in validators if isinstance(v, Length) and v.max and v.max > 0]
    email = "Email" in klass.__name__ or any(isinstance(v, Email) for v in validators)
    return [TextField(path, min(lengths) if lengths else None, issubclass(klass, TextAreaField), email)]


def text_fields(form_class) -> list[TextField]:
    """The free-text fields of a WTForms class (StringField, TextAreaField and their kin, hidden
    and password fields apart), through FieldList and FormField."""
    found = []
    for name, unbound in _unbound_fields(form_class):
        found.extend(_fields_of(unbound, name))
    return found


def form_classes_with_text_fields() -> dict[str, type]:
    """Every form class defined in the `forms` package that has a free-text field."""
    import forms

    classes = {}
    for info in pkgutil.iter_modules(forms.__path__):
        module = importlib.import_module(f"forms.{info.name}")
        for name, obj in inspect.getmembers(module, inspect.isclass):
            if obj.__module__ == module.__name__ and issubclass(obj, Form) and text_fields(obj):
                classes[name] = obj
    return classes


# --- pages --------------------------------------------------------------------------------------

URL_ATTRIBUTES = {
    "href", "src", "action", "formaction", "xlink:href", "srcdoc", "data", "poster", "background",
    "ping", "cite", "longdesc", "manifest", "codebase", "srcset",
}  # fmt: skip
FETCHING_TAGS = {"img", "link", "script", "source", "video", "audio", "track", "input", "image", "use"}
FORBIDDEN_TAGS = {"iframe", "frame", "frameset", "object", "embed", "applet", "base"}
BAD_SCHEMES = ("javascript:", "vbscript:", "data:text/html", "data:application", "data:image/svg")


@dataclass
class ScrapedForm:
    action: str
    method: str
    enctype: str
    fields: list = field(default_factory=list)  # [(name, value)]
    files: list = field(default_factory=list)
    names: set = field(default_factory=set)  # every named control, submitted or not


class PageReader(HTMLParser):
    """One pass over a page: what would run (problems), what a reader sees, the forms."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.text: list[str] = []
        self.attribute_values: list[str] = []
        self.forms: list[ScrapedForm] = []
        self.dialogs: list[str] = []  # data-confirm texts, as window.confirm() would show them
        self._form: ScrapedForm | None = None
        self._textarea: tuple[str, list] | None = None
        self._select: dict | None = None
        self._raw: tuple[str, list] | None = None  # inside <script> or <style>

    # -- checks
    def _check_attributes(self, tag: str, attrs: dict) -> None:
        for name, value in attrs.items():
            value = value or ""
            self.attribute_values.append(value)
            if name.startswith("on"):
                self.problems.append(f"<{tag}> carries an event handler {name}={value!r}")
            if name in URL_ATTRIBUTES:
                squeezed = re.sub(r"[\s\x00-\x1f]+", "", value).lower()
                if squeezed.startswith(BAD_SCHEMES):
                    self.problems.append(f"<{tag} {name}={value!r}>: a scheme that runs code")
                if tag in FETCHING_TAGS and name in ("src", "href", "srcset", "data") and value:
                    local = value.startswith("/") and not value.startswith(("//", "/\\"))
                    if not (local or squeezed.startswith(("data:image/png", "data:image/jpeg", "#"))):
                        self.problems.append(f"<{tag} {name}={value!r}>: the browser would fetch it")
            if name == "style" and re.search(r"url\(|expression\(|@import", value, re.I):
                self.problems.append(f"<{tag} style={value!r}>: a style that fetches or runs")
            if name == "data-confirm":
                self.dialogs.append(value)
        if tag in FORBIDDEN_TAGS:
            self.problems.append(f"a <{tag}> element: {attrs}")
        if tag == "meta" and (attrs.get("http-equiv") or "").lower() == "refresh":
            self.problems.append(f"a <meta http-equiv=refresh>: {attrs}")
        if tag == "script":
            src = attrs.get("src") or ""
            if not src:
                self.problems.append("an inline <script>")

    # -- parser callbacks
    def handle_starttag(self, tag, attrs):
        attrs_dict = {name.lower(): value for name, value in attrs}
        self._check_attributes(tag, attrs_dict)
        if tag in ("script", "style"):
            self._raw = (tag, [])
        elif tag == "form":
            self._form = ScrapedForm(
                attrs_dict.get("action") or "",
                (attrs_dict.get("method") or "get").lower(),
                attrs_dict.get("enctype") or "",
            )
            self.forms.append(self._form)
        elif self._form is not None:
            self._form_control(tag, attrs_dict)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in ("script", "style"):
            self.handle_endtag(tag)

    def _form_control(self, tag: str, attrs: dict) -> None:
        name = attrs.get("name")
        if name:
            self._form.names.add(name)
        if tag == "input" and name:
            kind = (attrs.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self._form.fields.append((name, attrs.get("value") or "on"))
            elif kind == "file":
                self._form.files.append(name)
            elif kind not in ("submit", "button", "image", "reset"):
                self._form.fields.append((name, attrs.get("value") or ""))
        elif tag == "textarea" and name:
            self._textarea = (name, [])
        elif tag == "select" and name:
            self._select = {"name": name, "multiple": "multiple" in attrs, "options": [], "selected": []}
        elif tag == "option" and self._select is not None:
            value = attrs.get("value") or ""
            self._select["options"].append(value)
            if "selected" in attrs:
                self._select["selected"].append(value)

    def handle_endtag(self, tag):
        if self._raw is not None and tag == self._raw[0]:
            kind, chunks = self._raw
            content = "".join(chunks)
            if kind == "script" and content.strip():
                self.problems.append(f"an inline script: {content[:80]!r}")
            if kind == "style" and re.search(r"url\(|@import|127\.0\.0\.1|expression\(", content, re.I):
                self.problems.append(f"a style element that fetches: {content[:80]!r}")
            self._raw = None
        elif tag == "textarea" and self._textarea is not None:
            name, chunks = self._textarea
            value = "".join(chunks)
            # A browser drops the line break that directly follows <textarea>.
            value = value[2:] if value.startswith("\r\n") else value[1:] if value[:1] == "\n" else value
            if self._form is not None:
                self._form.fields.append((name, value))
            self.attribute_values.append(value)
            self._textarea = None
        elif tag == "select" and self._select is not None:
            chosen = self._select["selected"] or (
                self._select["options"][:1] if not self._select["multiple"] else []
            )
            if self._form is not None:
                self._form.fields.extend((self._select["name"], v) for v in chosen)
            self._select = None
        elif tag == "form":
            self._form = None

    def handle_data(self, data):
        if self._raw is not None:
            self._raw[1].append(data)
        elif self._textarea is not None:
            self._textarea[1].append(data)
        else:
            self.text.append(data)


def read_page(html: str) -> PageReader:
    reader = PageReader()
    reader.feed(html)
    reader.close()
    return reader


def visible_text(html: str) -> str:
    return " ".join(" ".join(read_page(html).text).split())


def scrape_form(html: str, action: str | None = None, having: str | None = None) -> ScrapedForm:
    """The form of a page that posts to ``action`` (a path; "" = the page itself) or that has a
    control named ``having``."""
    assert action is not None or having is not None, "say which form: its action or one of its fields"
    forms = read_page(html).forms
    for form in forms:
        form_path = urlsplit(form.action).path
        if action is not None and form_path != action and not (action == "" and form.action == ""):
            continue
        if having is not None and having not in form.names:
            continue
        return form
    raise AssertionError(
        f"no form posting to {action!r} with a field {having!r}; forms: "
        + ", ".join(f"{f.action!r}({sorted(f.names)})" for f in forms)
    )


def fill(form: ScrapedForm, values: dict) -> MultiDict:
    """The scraped values with ``values`` set (a list for a multiple field, None removes)."""
    data = MultiDict([(k, v) for k, v in form.fields if k not in values])
    for key, value in values.items():
        if value is None:
            continue
        for item in value if isinstance(value, list | tuple) else [value]:
            data.add(key, item)
    return data


def field_names(form: ScrapedForm, path: str, siblings: list[str] = (), *, rows: int | str = 1) -> list[str]:
    """The control names a field path covers in a scraped form: "criteria-*-label_fr" gives the
    rows already in use (one of the row's text fields, the ``siblings`` paths, is not empty: the
    blank rows a page offers for a new entry stay blank), or the first ``rows`` rows; every row
    on the page with ``rows="all"``."""
    if "*" not in path:
        return [path]
    head, tail = path.split("*", 1)
    pattern = re.compile("^" + re.escape(head) + r"(\d+)" + re.escape(tail) + "$")
    indices = sorted({int(m.group(1)) for n in form.names if (m := pattern.match(n))})
    values = dict(form.fields)
    tails = {s.split("*", 1)[1] for s in siblings if s.startswith(head + "*")} | {tail}
    if rows == "all":
        return [f"{head}{i}{tail}" for i in indices]
    used = [i for i in indices if any((values.get(f"{head}{i}{t}") or "").strip() for t in tails)]
    chosen = used or list(range(rows))
    return [f"{head}{i}{tail}" for i in chosen]


# --- outputs ------------------------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


class Outputs:
    """Everything a test saw come back, checked as it comes; ``problems`` must end empty."""

    def __init__(self, port: int, secret: str):
        self.port = port
        self.secret = secret
        self.problems: list[str] = []
        self.seen: dict[str, set[str]] = {}  # tag -> where it was seen
        self.tags: dict[str, tuple[str, str]] = {}  # tag -> (form, field)
        self.values: dict[str, str] = {}  # tag -> the value typed
        self.raw_markers = sorted({p for p in corpus(port).values() if "<" in p})
        self.pages = 0
        self.dialogs = 0  # data-confirm texts read
        self.pdfs: dict[str, str] = {}  # where -> text
        self.literal_pdf = False

    # -- tags
    def new_tag(self, form_name: str, field_path: str) -> str:
        tag = tag_for(len(self.tags) + 1)
        self.tags[tag] = (form_name, field_path)
        return tag

    def value_for(self, form_name: str, text_field: TextField) -> str:
        tag = self.new_tag(form_name, text_field.path)
        value = packed(tag, text_field.max_length, self.port, multiline=text_field.multiline)
        self.values[tag] = value
        return value

    def _saw(self, text: str, where: str) -> None:
        for tag in TAG_RE.findall(text):
            self.seen.setdefault(tag.upper(), set()).add(where)
        if self.secret in text:
            self.problems.append(f"{where}: the application's SECRET_KEY is shown")

    # -- responses
    def check_response(self, response, where: str) -> None:
        status = response.status_code
        if status >= 500:
            self.problems.append(f"{where}: status {status}")
            return
        mimetype = response.mimetype or ""
        data = response.get_data()
        if mimetype == "text/html":
            self.check_html(data.decode("utf-8", "replace"), where)
        elif mimetype == "application/pdf":
            self.check_pdf(data, where)
        elif mimetype.startswith("application/vnd.openxmlformats"):
            self.check_xlsx(data, where)
        elif mimetype == "text/csv":
            self.check_csv(data, where)
        elif mimetype == "application/json":
            self._saw(data.decode("utf-8", "replace"), where)
        elif status not in (301, 302, 303, 304) and data:
            self.problems.append(f"{where}: unexpected content type {mimetype!r}")
        if response.headers.get("X-Content-Type-Options") != "nosniff":
            self.problems.append(f"{where}: no X-Content-Type-Options: nosniff")

    def check_html(self, html: str, where: str) -> None:
        self.pages += 1
        reader = read_page(html)
        self.problems.extend(f"{where}: {p}" for p in reader.problems)
        for marker in self.raw_markers:
            if marker in html:
                self.problems.append(f"{where}: raw markup reached the page: {marker!r}")
        self.dialogs += len(reader.dialogs)
        self._saw(" ".join(reader.text) + " " + " ".join(reader.attribute_values), where)

    def check_pdf(self, data: bytes, where: str) -> None:
        import pypdf
        from pypdf.errors import PyPdfError

        if PASSWD_LINE.encode() in data:
            self.problems.append(f"{where}: /etc/passwd is inside the PDF")
        try:
            reader = pypdf.PdfReader(io.BytesIO(data))
            text = pdf_text(data)
            attachments = reader.attachments
        except (PyPdfError, ValueError, KeyError):
            return  # a stand-in file of the fixtures, not a document the platform made
        self.pdfs[where] = text
        if PASSWD_LINE in text:
            self.problems.append(f"{where}: /etc/passwd is inside the PDF")
        if attachments:
            self.problems.append(f"{where}: files embedded in the PDF: {sorted(attachments)}")
        if _squeeze(LITERAL_PROBE) in _squeeze(text):
            self.literal_pdf = True
        self._saw(text, where)

    def check_xlsx(self, data: bytes, where: str) -> None:
        from openpyxl import load_workbook

        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                if name.startswith("xl/worksheets/") and re.search(rb"<f[ >]", archive.read(name)):
                    self.problems.append(f"{where}: a formula in {name}")
        workbook = load_workbook(io.BytesIO(data))
        texts = []
        for sheet in workbook.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if cell.data_type == "f":
                        self.problems.append(f"{where}: cell {cell.coordinate} is a formula: {cell.value!r}")
                    if isinstance(cell.value, str):
                        texts.append(cell.value)
        self._saw(" ".join(texts), where)

    def check_csv(self, data: bytes, where: str) -> None:
        text = data.decode("utf-8-sig")
        for row in csv.reader(io.StringIO(text)):
            for cell in row:
                if cell.startswith(FORMULA_PREFIXES) and not _is_number(cell):
                    self.problems.append(f"{where}: a CSV cell a spreadsheet would run: {cell[:60]!r}")
        self._saw(text, where)

    # -- e-mails
    def check_mail(self, message) -> None:
        where = f"e-mail {message.template} to {message.recipient}"
        for name, value in (("subject", message.subject), ("recipient", message.recipient)):
            if re.search(r"[\x00-\x1f\x7f\u2028\u2029]", value or ""):
                self.problems.append(f"{where}: a control character in the {name}: {value!r}")
        if message.body_html:
            self.check_html(message.body_html, where + " (HTML part)")
        body = message.body_text or ""
        if "&lt;" in body or "&#" in body or "&quot;" in body:
            self.problems.append(f"{where}: the plain-text body is HTML-escaped: {body[:120]!r}")
        self._saw(message.subject + "\n" + body, where)

    # -- the end
    def unseen(self) -> dict[str, tuple[str, str]]:
        return {tag: origin for tag, origin in self.tags.items() if tag not in self.seen}


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --- the local listener and the fetch spy -------------------------------------------------------


class Listener:
    """An HTTP server on 127.0.0.1 that records every request; nothing should ever reach it."""

    def __init__(self):
        hits = self.hits = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server API
                hits.append(f"{self.command} {self.path}")
                body = b"body{background:red}"
                self.send_response(200)
                self.send_header("Content-Type", "text/css")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_HEAD = do_GET  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def spy_on_fetcher(monkeypatch) -> list[tuple[str, bool]]:
    """Record every URL the PDF renderer asks for, and whether it was served."""
    from webapp.documents.render import StaticOnlyFetcher

    calls: list[tuple[str, bool]] = []
    original = StaticOnlyFetcher.fetch

    def fetch(self, url, headers=None):
        try:
            response = original(self, url, headers)
        except BaseException:
            calls.append((url, False))
            raise
        calls.append((url, True))
        return response

    monkeypatch.setattr(StaticOnlyFetcher, "fetch", fetch)
    return calls


def fetch_problems(calls: list[tuple[str, bool]]) -> list[str]:
    from webapp.documents.render import INTERNAL_ORIGIN

    allowed = (INTERNAL_ORIGIN + "/static/", INTERNAL_ORIGIN + "/bootstrap/static/", "data:")
    return [
        f"the PDF renderer fetched {url}" for url, served in calls if served and not url.startswith(allowed)
    ]
