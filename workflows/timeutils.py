"""Time-zone and deadline arithmetic.

Datetimes are stored as aware UTC and shown and entered in Europe/Paris. All comparisons here are
made in UTC: two aware datetimes sharing a ``ZoneInfo`` are compared by wall clock in Python
(ignoring ``fold``), which is wrong across the autumn change, so never compare Paris times directly.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from workflows.errors import NaiveDatetimeError, NonexistentLocalTime, RuleError

PARIS = ZoneInfo("Europe/Paris")
NO_GRACE = timedelta(0)


def utcnow() -> datetime:
    """The current time, aware, in UTC (the only "now" the rules use)."""
    return datetime.now(UTC)


def ensure_aware(dt: datetime, name: str = "datetime") -> datetime:
    """Return ``dt`` unchanged if it carries a time zone; raise `NaiveDatetimeError` otherwise.

    A naive datetime is ambiguous (UTC? Paris?), so the rules refuse it instead of guessing.
    """
    if not isinstance(dt, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(dt).__name__}.")
    if dt.tzinfo is None or dt.tzinfo.utcoffset(dt) is None:
        raise NaiveDatetimeError(f"{name} must be timezone-aware; got naive {dt.isoformat()}.")
    return dt


def paris_to_utc(local: datetime) -> datetime:
    """Turn a naive Paris wall-clock time (as typed in a form) into an aware UTC datetime.

    In the spring-forward gap (e.g. 2026-03-29 02:00-02:59) the time never happens: raise
    `NonexistentLocalTime` (a `RuleError`) so the form can ask again. In the autumn hour that
    happens twice (e.g. 2026-10-25 02:00-02:59) we take the first occurrence (``fold=0``, summer
    time), i.e. the earlier instant: for a deadline that is the stricter and least surprising one.
    """
    if not isinstance(local, datetime):
        raise TypeError(f"Expected a datetime, not {type(local).__name__}.")
    if local.tzinfo is not None:
        raise RuleError(
            f"Expected a Paris wall-clock time without time zone; got {local.isoformat()}."
        )
    aware = local.replace(tzinfo=PARIS, fold=0)
    utc = aware.astimezone(UTC)
    if utc.astimezone(PARIS).replace(tzinfo=None) != local:
        raise NonexistentLocalTime(
            f"{local:%Y-%m-%d %H:%M} does not exist in Paris: clocks jump forward an hour "
            "that night. Please choose another time."
        )
    return utc


def to_paris(moment: datetime) -> datetime:
    """The same instant on the Paris clock, for display."""
    return ensure_aware(moment, "moment").astimezone(PARIS)


def paris_date(moment: datetime) -> date:
    """The calendar day in Paris of an instant (for rules stated in days, like report dates)."""
    return to_paris(moment).date()


def deadline_passed(
    received_at: datetime,
    deadline: datetime | None,
    grace: timedelta = NO_GRACE,
) -> bool:
    """Whether something received at ``received_at`` is late.

    On time means ``received_at <= deadline + grace``: a submission received at exactly the
    deadline (or the last instant of the grace period) is accepted, as a call saying "closes at
    17:00" is read. ``grace`` is elapsed time, counted in UTC, so it is never stretched or shrunk
    by a clock change. ``deadline`` ``None`` is a rolling call: never late.
    """
    received = ensure_aware(received_at, "received_at").astimezone(UTC)
    if deadline is None:
        return False
    if grace < NO_GRACE:
        raise RuleError("A grace period cannot be negative.")
    return received > ensure_aware(deadline, "deadline").astimezone(UTC) + grace


def call_is_open(
    now: datetime,
    opens_at: datetime | None,
    closes_at: datetime | None,
    grace: timedelta = NO_GRACE,
) -> bool:
    """A call's open status, derived from its dates rather than stored.

    Open from ``opens_at`` inclusive (``None``: not yet scheduled, so closed) until
    ``closes_at + grace`` inclusive, the same boundary as `deadline_passed`; ``closes_at``
    ``None`` is a rolling call that stays open.
    """
    if opens_at is None:
        return False
    current = ensure_aware(now, "now").astimezone(UTC)
    if current < ensure_aware(opens_at, "opens_at").astimezone(UTC):
        return False
    return not deadline_passed(current, closes_at, grace)
