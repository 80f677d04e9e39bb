"""The one place Markdown becomes HTML: markdown-it-py ('js-default': raw HTML is escaped, not
passed through) then nh3, which keeps only the tags and link schemes below.

Images are dropped on purpose: a remote image in a call text would be a tracking pixel on
the public page and a fetch when the PDF is rendered.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "s", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}

_parser = MarkdownIt("js-default")


def render_markdown(text: str | None) -> Markup:
    """Sanitised HTML for a Markdown text (empty text gives empty markup)."""
    if not text:
        return Markup("")
    html = _parser.render(text)
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above


def init_app(app) -> None:
    app.jinja_env.filters["markdown"] = render_markdown
