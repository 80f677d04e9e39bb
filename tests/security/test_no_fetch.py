"""The PDF renderer never fetches what a document names (QUALITY.md: "a file:///etc/passwd or
http://169.254.169.254/ reference in any field is neither fetched nor embedded in a PDF").

The payload tests (test_payloads.py) put these references in every text that reaches a PDF and
check that escaping keeps them text. This file checks the second wall, the renderer's fetcher
(`webapp.documents.render.StaticOnlyFetcher`): handed raw markup full of hostile references
through `render_pdf` itself, it serves only the platform's static files and ``data:`` URLs, so a
listener on 127.0.0.1 is never reached and no local file ends up inside the PDF.
"""

from __future__ import annotations

import io

import pypdf
import pytest
from jinja2 import ChoiceLoader, DictLoader

from tests.security.payload_support import pdf_text, spy_on_fetcher
from tests.security.payload_walk import listener_fixture  # noqa: F401 - a fixture, by its name
from tests.security.payloads import PASSWD_LINE
from webapp.documents.render import INTERNAL_ORIGIN


def hostile_page(port: int) -> str:
    here = f"127.0.0.1:{port}"
    refs = [
        '<img src="file:///etc/passwd">',
        '<img src="file://localhost/etc/passwd">',
        '<link rel="attachment" href="file:///etc/passwd">',
        '<a rel="attachment" href="file:///etc/passwd">attachment link</a>',
        f'<link rel="stylesheet" href="http://{here}/sheet.css">',
        f'<img src="http://{here}/image.png">',
        f'<img src="https://{here}/https.png">',
        f'<img src="http://localhost:{port}/localhost.png">',
        f'<img src="https://pdf.internal.invalid@{here}/userinfo.png">',
        f'<object data="http://{here}/object"></object>',
        f'<embed src="http://{here}/embed">',
        f'<iframe src="http://{here}/iframe"></iframe>',
        f'<svg width="10" height="10"><image href="http://{here}/svg.png" width="10" height="10"/></svg>',
        '<svg width="10" height="10"><image href="file:///etc/passwd" width="10" height="10"/></svg>',
        '<img src="http://169.254.169.254/latest/meta-data/">',
        '<img src="/static/../../../../../../etc/passwd">',
        '<img src="/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd">',
        '<img src="/static/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd">',
        f'<p style="background: url(http://{here}/inline-style.png)">inline style</p>',
        '<p style="background: url(file:///etc/passwd)">file in a style</p>',
    ]
    style = (
        f'@import url("http://{here}/import.css");'
        f"body {{ background: url(http://{here}/background.png); }}"
        f"@font-face {{ font-family: Remote; src: url(http://{here}/font.woff); }}"
        'h1 { font-family: Remote; } p::after { content: url("file:///etc/passwd"); }'
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>hostile</title>"
        f"<link rel='stylesheet' href='/static/app.css'><style>{style}</style></head>"
        f"<body><h1>Hostile references</h1>{''.join(refs)}<p>end of the page</p></body></html>"
    )


@pytest.mark.parametrize("variant", [None, "pdf/a-2b"])
def test_the_renderer_fetches_nothing_but_static_files(app, listener, monkeypatch, variant):
    from webapp.documents.render import render_pdf

    calls = spy_on_fetcher(monkeypatch)
    app.jinja_env.loader = ChoiceLoader(
        [DictLoader({"hostile.html": hostile_page(listener.port)}), app.jinja_env.loader]
    )
    with app.test_request_context():
        data = render_pdf("hostile.html", pdf_variant=variant)

    assert listener.hits == [], f"the renderer reached the local listener: {listener.hits}"
    served = [url for url, ok in calls if ok]
    assert served == [f"{INTERNAL_ORIGIN}/static/app.css"], served
    refused = [url for url, ok in calls if not ok]
    assert any(url.startswith("file:") for url in refused), "the file:// references were never asked for"
    assert any(str(listener.port) in url for url in refused)
    assert PASSWD_LINE.encode() not in data
    text = pdf_text(data)
    assert "Hostile references" in text and "end of the page" in text
    assert PASSWD_LINE not in text
    assert pypdf.PdfReader(io.BytesIO(data)).attachments == {}


def test_a_static_file_outside_the_static_folders_is_not_served(app, tmp_path):
    from webapp.documents.render import FetchRefused, StaticOnlyFetcher, static_roots

    fetcher = StaticOnlyFetcher(static_roots(app))
    assert fetcher.fetch(f"{INTERNAL_ORIGIN}/static/app.css").read()  # the positive control
    for url in (
        f"{INTERNAL_ORIGIN}/static/../config.py",
        f"{INTERNAL_ORIGIN}/static/%2e%2e/%2e%2e/config.py",
        f"{INTERNAL_ORIGIN}/static/..%2f..%2fconfig.py",
        f"{INTERNAL_ORIGIN}/static//etc/passwd",
        f"{INTERNAL_ORIGIN}/etc/passwd",
        f"{INTERNAL_ORIGIN.upper()}/static/../../../etc/passwd",
        f"{INTERNAL_ORIGIN}:443/static/../../../../etc/passwd",
        "file:///etc/passwd",
        f"file://{tmp_path}/x",
        "http://127.0.0.1:9/x",
        "ftp://127.0.0.1/x",
    ):
        with pytest.raises(FetchRefused):
            fetcher.fetch(url)
