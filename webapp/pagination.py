"""One way to paginate a select."""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from flask import request
from sqlalchemy import func, select

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


def paginate_counted(session, stmt, per_page: int = PER_PAGE) -> Page:
    """A page of ``stmt``'s first entity, the total counted by the same statement (a window
    count over the rows) instead of a second one. Past the last page, a count finds the total."""
    number = page_number()
    rows = session.execute(
        stmt.add_columns(func.count().over()).limit(per_page).offset((number - 1) * per_page)
    ).all()
    if rows:
        total = rows[0][-1]
    elif number > 1:
        total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    else:
        total = 0
    return Page([row[0] for row in rows], total, number, per_page)


def page_number() -> int:
    """The page asked for (1 for anything that is not a positive number)."""
    return max(request.args.get("page", 1, type=int) or 1, 1)
