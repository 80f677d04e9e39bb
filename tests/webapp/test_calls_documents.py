"""The one PDF renderer (only our static files and data: URLs) and the one Markdown sanitiser."""

from __future__ import annotations

import io
import socket

import pytest
from pypdf import PdfReader

from webapp.documents import render
from webapp.documents.render import INTERNAL_ORIGIN, FetchRefused, StaticOnlyFetcher, static_roots
from webapp.markdown import render_markdown

HOSTILE_HTML = """<!doctype html><html><head>
<link rel="stylesheet" href="http://169.254.169.254/latest/style.css">
<link rel="stylesheet" href="/static/app.css">
<style>body { background: url("file:///etc/hostname"); }</style>
</head><body>
<p>Hostile document</p>
<img src="file:///etc/passwd" alt="x">
<img src="http://169.254.169.254/latest/meta-data/" alt="y">
<img src="https://example.org/pixel.png" alt="z">
<img src="/static/../../config.py" alt="traversal">
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="inline">
<a rel="attachment" href="file:///etc/passwd">passwd</a>
<link rel="attachment" href="file:///etc/passwd">
</body></html>"""


@pytest.fixture
def no_network(monkeypatch):
    attempts = []

    def refuse(self, address):
        attempts.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


def test_the_fetcher_serves_only_static_files_and_data(app):
    fetcher = StaticOnlyFetcher(static_roots(app))
    ours = fetcher.fetch(f"{INTERNAL_ORIGIN}/static/app.css")
    assert b"bg-inserm" in ours.read()
    assert fetcher.fetch(f"{INTERNAL_ORIGIN}/bootstrap/static/css/bootstrap.min.css").read()
    assert fetcher.fetch("data:text/plain;base64,aGVsbG8=").read() == b"hello"
    for url in (
        "file:///etc/passwd",
        "http://169.254.169.254/latest/meta-data/",
        "https://169.254.169.254/",
        "http://127.0.0.1:5000/static/app.css",  # our files, but over the network: no
        f"{INTERNAL_ORIGIN}/static/../../config.py",
        f"{INTERNAL_ORIGIN}/static/%2e%2e/%2e%2e/config.py",
        f"{INTERNAL_ORIGIN}/etc/passwd",
        "ftp://example.org/x",
    ):
        with pytest.raises(FetchRefused):
            fetcher.fetch(url)
    assert len(fetcher.refused) == 8


def test_render_pdf_fetches_nothing_it_should_not(app, monkeypatch, no_network):
    asked = []
    original = StaticOnlyFetcher.fetch

    def spy(self, url, headers=None):
        asked.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(StaticOnlyFetcher, "fetch", spy)
    monkeypatch.setattr(render, "render_template", lambda name, **context: HOSTILE_HTML)
    with app.test_request_context():
        pdf = render.render_pdf("documents/call.html")
    reader = PdfReader(io.BytesIO(pdf))
    assert "Hostile document" in reader.pages[0].extract_text()
    assert not reader.attachments
    assert no_network == []
    # WeasyPrint did ask, and was refused: the fetcher is what stood in the way.
    assert "file:///etc/passwd" in asked
    assert "http://169.254.169.254/latest/meta-data/" in asked
    assert f"{INTERNAL_ORIGIN}/static/app.css" in asked


def test_without_our_fetcher_weasyprint_would_embed_the_file(tmp_path):
    """The control: the default fetcher does embed a local file, so the test above can fail."""
    from weasyprint import HTML

    secret = tmp_path / "secret.txt"
    secret.write_text("top-secret-value")
    html = f'<p>x</p><link rel="attachment" href="file://{secret}">'
    reader = PdfReader(io.BytesIO(HTML(string=html).write_pdf()))
    assert reader.attachments


@pytest.mark.parametrize(
    "source, present, absent",
    [
        ("**bold** and *it*", ["<strong>bold</strong>", "<em>it</em>"], []),
        ("<script>alert(1)</script>", ["&lt;script&gt;"], ["<script"]),
        ('"><img src=x onerror=alert(1)>', ["&lt;img src=x"], ["<img"]),  # inert text
        ("[click](javascript:alert(1))", [], ['href="javascript:']),
        ("[site](https://www.inserm.fr)",
         ['<a href="https://www.inserm.fr" rel="noopener noreferrer nofollow">site</a>'], []),
        ("![pixel](http://169.254.169.254/x.png)", [], ["<img", "169.254.169.254"]),
        ("<svg onload=alert(1)>", ["&lt;svg"], ["<svg"]),
        ("{{ 7*7 }}", ["{{ 7*7 }}"], ["49"]),
        ("- one\n- two", ["<ul>", "<li>one</li>"], []),
        ("", [], ["<p>"]),
    ],
)
def test_markdown_is_sanitised(source, present, absent):
    html = str(render_markdown(source))
    for fragment in present:
        assert fragment in html
    for fragment in absent:
        assert fragment not in html
