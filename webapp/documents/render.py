"""The one place that renders PDFs (WeasyPrint).

WeasyPrint's default fetcher follows any URL it meets, so a ``file:///etc/passwd`` attachment
link or an ``http://169.254.169.254/`` image typed into a proposal would be read and embedded.
`StaticOnlyFetcher` answers only ``data:`` URLs and the platform's own static files (ours and
Bootstrap-Flask's), read from disk, never over the network; everything else is refused.

A refusal is an ordinary exception: WeasyPrint then skips that one resource (with a logged
warning) and the document is still produced. Its ``FatalURLFetchingError``, which would stop the
rendering instead, derives from ``BaseException``: `except Exception` around `render_pdf` does
not catch it, so we never raise it.
"""

from __future__ import annotations

import mimetypes
import os
import warnings
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import DataHandler, Request

from flask import current_app, render_template
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse
from werkzeug.security import safe_join

#: Relative URLs in PDF templates resolve against this origin; it is never contacted.
INTERNAL_ORIGIN = "https://pdf.internal.invalid"


class FetchRefused(ValueError):
    """A URL the PDF renderer will not fetch."""


class StaticOnlyFetcher(URLFetcher):
    """Serves ``data:`` URLs and files under the static folders it is given; refuses the rest.

    ``roots`` maps a URL path prefix (``/static/``) to a directory. Static URLs are accepted on
    the internal origin only (``url_for('static', ...)`` in a template resolves there).
    """

    def __init__(self, roots: dict[str, str]):
        super().__init__(timeout=1, allowed_protocols={"data", "https"}, allow_redirects=False)
        self.roots = {prefix.rstrip("/") + "/": folder for prefix, folder in roots.items()}
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            response = DataHandler().data_open(Request(url))  # noqa: S310 - data: only
            return URLFetcherResponse(url, response.read(), dict(response.headers.items()))
        path = self._static_path(url)
        if path is None:
            self.refused.append(url)
            raise FetchRefused(f"the PDF renderer only reads the platform's static files: {url}")
        content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
        return URLFetcherResponse(url, Path(path).read_bytes(), {"Content-Type": content_type})

    def _static_path(self, url: str) -> str | None:
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}".lower() != INTERNAL_ORIGIN:
            return None
        path = unquote(parts.path)
        for prefix, folder in self.roots.items():
            if path.startswith(prefix):
                found = safe_join(folder, path[len(prefix):])
                if found and os.path.isfile(found):
                    return found
        return None


def static_roots(app) -> dict[str, str]:
    """The platform's static folders by URL prefix: ours and Bootstrap-Flask's."""
    roots = {app.static_url_path: app.static_folder}
    bootstrap = app.blueprints.get("bootstrap")
    if bootstrap is not None and bootstrap.static_folder:
        roots[bootstrap.static_url_path] = bootstrap.static_folder
    return roots


def render_pdf(template_name: str, *, pdf_variant: str | None = None, **context) -> bytes:
    """Render ``templates/<template_name>`` with ``context`` to PDF bytes.

    ``pdf_variant`` asks WeasyPrint for an archival variant (``"pdf/a-2b"`` for letters); the
    title, author and language come from the template's ``<title>``, ``<meta>`` and ``lang``.
    """
    html = render_template(template_name, **context)
    fetcher = StaticOnlyFetcher(static_roots(current_app))
    document = HTML(string=html, base_url=INTERNAL_ORIGIN + "/", url_fetcher=fetcher)
    if pdf_variant is None:
        return document.write_pdf()
    with warnings.catch_warnings():
        # WeasyPrint 70 leaves its sRGB profile file open for PDF/A output (a ResourceWarning).
        warnings.simplefilter("ignore", ResourceWarning)
        return document.write_pdf(pdf_variant=pdf_variant)
