"""One way to paginate a select."""

from __future__ import annotations

from flask import request

PER_PAGE = 25


def paginate(db, stmt, per_page: int = PER_PAGE):
    page = request.args.get("page", 1, type=int) or 1
    return db.paginate(
        stmt, page=max(page, 1), per_page=per_page, max_per_page=100, error_out=False
    )
