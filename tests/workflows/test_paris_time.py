"""Paris time entry, display and deadlines, around the 2026 clock changes.

In 2026 Paris springs forward on 29 March (02:00 -> 03:00) and falls back on 25 October
(03:00 -> 02:00).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workflows.errors import NaiveDatetimeError, NonexistentLocalTime, RuleError
from workflows.timeutils import (
    PARIS,
    call_is_open,
    deadline_passed,
    ensure_aware,
    paris_date,
    paris_to_utc,
    to_paris,
    utcnow,
)

SECOND = timedelta(seconds=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(*args: int) -> datetime:
    return datetime(*args)  # noqa: DTZ001 - a naive Paris wall-clock time, as typed in a form


@pytest.mark.parametrize(
    "wall_clock, expected",
    [
        (local(2026, 1, 15, 17, 0), utc(2026, 1, 15, 16, 0)),  # winter, UTC+1
        (local(2026, 6, 15, 17, 0), utc(2026, 6, 15, 15, 0)),  # summer, UTC+2
        # Spring forward, 29 March 2026.
        (local(2026, 3, 29, 1, 59, 59), utc(2026, 3, 29, 0, 59, 59)),
        (local(2026, 3, 29, 3, 0), utc(2026, 3, 29, 1, 0)),
        # Fall back, 25 October 2026: the repeated hour resolves to its first occurrence.
        (local(2026, 10, 25, 1, 59, 59), utc(2026, 10, 24, 23, 59, 59)),
        (local(2026, 10, 25, 2, 0), utc(2026, 10, 25, 0, 0)),
        (local(2026, 10, 25, 2, 30), utc(2026, 10, 25, 0, 30)),
        (local(2026, 10, 25, 2, 59, 59), utc(2026, 10, 25, 0, 59, 59)),
        (local(2026, 10, 25, 3, 0), utc(2026, 10, 25, 2, 0)),
    ],
)
def test_paris_to_utc(wall_clock, expected):
    result = paris_to_utc(wall_clock)
    assert result == expected
    assert result.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "wall_clock",
    [local(2026, 3, 29, 2, 0), local(2026, 3, 29, 2, 30), local(2026, 3, 29, 2, 59, 59)],
)
def test_spring_forward_gap_is_refused(wall_clock):
    with pytest.raises(NonexistentLocalTime, match="does not exist in Paris") as refused:
        paris_to_utc(wall_clock)
    assert isinstance(refused.value, RuleError)


def test_paris_to_utc_refuses_aware_input():
    with pytest.raises(RuleError, match="without time zone"):
        paris_to_utc(utc(2026, 6, 15, 15, 0))


def test_to_paris_shows_both_occurrences_of_the_autumn_hour():
    first = to_paris(utc(2026, 10, 25, 0, 30))
    second = to_paris(utc(2026, 10, 25, 1, 30))
    assert (first.hour, first.minute, first.fold) == (2, 30, 0)
    assert (second.hour, second.minute, second.fold) == (2, 30, 1)
    assert first.utcoffset() == timedelta(hours=2)
    assert second.utcoffset() == timedelta(hours=1)
    assert first.tzinfo is PARIS


def test_paris_date():
    assert paris_date(utc(2026, 12, 31, 23, 0)).isoformat() == "2027-01-01"
    assert paris_date(utc(2026, 12, 31, 22, 59, 59)).isoformat() == "2026-12-31"


def test_ensure_aware():
    moment = utc(2026, 1, 1)
    assert ensure_aware(moment) is moment
    with pytest.raises(NaiveDatetimeError, match="timezone-aware") as refused:
        ensure_aware(local(2026, 1, 1))
    assert isinstance(refused.value, RuleError)
    with pytest.raises(TypeError):
        ensure_aware("2026-01-01")  # type: ignore[arg-type]


def test_utcnow_is_aware_utc():
    now = utcnow()
    assert now.utcoffset() == timedelta(0)


# --- deadlines --------------------------------------------------------------------------------

JUNE = paris_to_utc(local(2026, 6, 15, 17, 0))  # the 2016-style "15 June, 17:00 Paris time"
SPRING = paris_to_utc(local(2026, 3, 29, 3, 0))  # first instant after the gap
AUTUMN = paris_to_utc(local(2026, 10, 25, 2, 30))  # first 02:30 (UTC+2)


@pytest.mark.parametrize("deadline", [JUNE, SPRING, AUTUMN], ids=["june", "spring", "autumn"])
@pytest.mark.parametrize(
    "offset, grace, late",
    [
        (-SECOND, timedelta(0), False),
        (timedelta(0), timedelta(0), False),  # received exactly at the deadline: on time
        (SECOND, timedelta(0), True),
        (timedelta(minutes=9), timedelta(minutes=10), False),  # in grace
        (timedelta(minutes=10), timedelta(minutes=10), False),  # last instant of grace
        (timedelta(minutes=10) + SECOND, timedelta(minutes=10), True),
    ],
)
def test_deadline_boundaries(deadline, offset, grace, late):
    assert deadline_passed(deadline + offset, deadline, grace) is late
    # The same instants written on the Paris clock give the same answer.
    assert deadline_passed(to_paris(deadline + offset), to_paris(deadline), grace) is late


def test_spring_deadline_received_just_before_the_jump():
    received = datetime(2026, 3, 29, 1, 59, 59, tzinfo=PARIS)
    assert not deadline_passed(received, SPRING)
    assert SPRING - received.astimezone(UTC) == SECOND


def test_autumn_second_occurrence_is_later_than_first():
    # 02:10 in the repeated hour (second pass, UTC+1) is 40 minutes *after* a 02:30 deadline
    # taken at its first occurrence, although its wall clock reads earlier.
    received = datetime(2026, 10, 25, 2, 10, fold=1, tzinfo=PARIS)
    assert deadline_passed(received, AUTUMN)
    assert not deadline_passed(datetime(2026, 10, 25, 2, 20, tzinfo=PARIS), AUTUMN)
    assert deadline_passed(datetime(2026, 10, 25, 2, 40, tzinfo=PARIS), AUTUMN)


def test_grace_is_elapsed_time_across_the_autumn_change():
    # One hour of grace after the first 02:30 ends at the second 02:30.
    grace = timedelta(hours=1)
    assert not deadline_passed(datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=PARIS), AUTUMN, grace)
    assert deadline_passed(datetime(2026, 10, 25, 2, 30, 1, fold=1, tzinfo=PARIS), AUTUMN, grace)


def test_grace_is_elapsed_time_across_the_spring_change():
    deadline = paris_to_utc(local(2026, 3, 29, 1, 30))
    grace = timedelta(hours=1)
    assert not deadline_passed(datetime(2026, 3, 29, 3, 30, tzinfo=PARIS), deadline, grace)
    assert deadline_passed(datetime(2026, 3, 29, 3, 30, 1, tzinfo=PARIS), deadline, grace)


def test_rolling_call_has_no_deadline():
    assert not deadline_passed(utc(2099, 1, 1), None)


def test_deadline_refuses_naive_and_negative_grace():
    with pytest.raises(NaiveDatetimeError):
        deadline_passed(local(2026, 6, 15, 17, 0), JUNE)
    with pytest.raises(NaiveDatetimeError):
        deadline_passed(JUNE, local(2026, 6, 15, 17, 0))
    with pytest.raises(RuleError, match="negative"):
        deadline_passed(JUNE, JUNE, timedelta(seconds=-1))


OPENS = paris_to_utc(local(2026, 3, 2, 9, 0))


@pytest.mark.parametrize(
    "now, opens_at, closes_at, is_open",
    [
        (OPENS - SECOND, OPENS, JUNE, False),
        (OPENS, OPENS, JUNE, True),
        (JUNE, OPENS, JUNE, True),
        (JUNE + SECOND, OPENS, JUNE, False),
        (utc(2030, 1, 1), OPENS, None, True),  # rolling
        (utc(2030, 1, 1), None, None, False),  # not scheduled
    ],
)
def test_call_is_open(now, opens_at, closes_at, is_open):
    assert call_is_open(now, opens_at, closes_at) is is_open


def test_call_is_open_honours_grace():
    assert call_is_open(JUNE + SECOND, OPENS, JUNE, timedelta(minutes=5))
