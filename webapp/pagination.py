"""One way to paginate a select."""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from flask import request

PER_PAGE = 25


def paginate(db, stmt, per_page: int = PER_PAGE):
    return db.paginate(
        stmt, page=page_number(), per_page=per_page, max_per_page=100, error_out=False
    )


@dataclass(frozen=True)
class Page:
    """A page of rows whose query counted them itself (a window count): what the pager shows."""

    items: list
    total: int
    page: int
    per_page: int = PER_PAGE

    @property
    def pages(self) -> int:
        return ceil(self.total / self.per_page) if self.total else 0

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None


def page_number() -> int:
    """The page asked for (1 for anything that is not a positive number)."""
    return max(request.args.get("page", 1, type=int) or 1, 1)
