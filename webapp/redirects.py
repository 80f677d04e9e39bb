"""`next` redirects limited to this site."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import url_for


def safe_next(target: str | None, default_endpoint: str = "public.dashboard") -> str:
    """Accept only a local path: no scheme, no host, no `//host`, no `/\\host`, no control chars."""
    fallback = url_for(default_endpoint)
    if not target or not isinstance(target, str):
        return fallback
    if any(ord(c) < 32 or c == "\\" for c in target):
        return fallback
    if not target.startswith("/") or target.startswith("//"):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target
