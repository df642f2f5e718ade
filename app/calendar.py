"""The working-day calendar of the product: every statutory timescale counts with these functions.

Rules (``/work/shared/domain/timescales.md``, "Counting"):

- A *working day* is Monday to Friday except England and Wales bank holidays, as published by the
  ``holidays`` package for ``GB``/``ENG`` (substitute days and one-off holidays such as the state
  funeral on 2022-09-19 and the coronation on 2023-05-08 included).
- "Within N working days of X": X's date is day 0 (it may itself be a weekend or a bank holiday);
  the deadline is the N-th working day after it.
- "Within N months": calendar months from the date, clamped to the last day of the month
  (31 August + 6 months = 28 or 29 February).

Everything here is a pure function of its arguments; bank holidays are computed once per year and
cached, because the data generator calls these functions millions of times.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
from bisect import bisect_right
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

__all__ = [
    "LONDON",
    "add_months",
    "add_working_days",
    "add_working_hours",
    "bank_holidays",
    "is_bank_holiday",
    "is_weekend",
    "is_working_day",
    "next_working_day",
    "previous_working_day",
    "working_days_between",
]

#: Working hours (the MASH RAG rules) are wall-clock hours in England.
LONDON = ZoneInfo("Europe/London")

_ONE_DAY = timedelta(days=1)


@cache
def bank_holidays(year: int) -> frozenset[date]:
    """England and Wales bank holidays of ``year`` (``holidays``, country GB, subdivision ENG).

    The set holds every date the package lists, including a holiday that falls on a weekend
    (Boxing Day 2026, a Saturday) next to its substitute weekday (Monday 28 December 2026).
    """
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


@cache
def _weekday_holiday_ordinals(year: int) -> tuple[int, ...]:
    # Only bank holidays on Monday to Friday remove a working day; weekend ones are already off.
    return tuple(sorted(d.toordinal() for d in bank_holidays(year) if d.weekday() < 5))


def is_weekend(d: date) -> bool:
    """Saturday or Sunday."""
    return d.weekday() >= 5


def is_bank_holiday(d: date) -> bool:
    """Whether ``d`` is an England and Wales bank holiday (see :func:`bank_holidays`)."""
    return d in bank_holidays(d.year)


def is_working_day(d: date) -> bool:
    """Monday to Friday and not an England and Wales bank holiday."""
    return d.weekday() < 5 and d not in bank_holidays(d.year)


def next_working_day(d: date) -> date:
    """The first working day **on or after** ``d`` (``d`` itself when it is a working day)."""
    while not is_working_day(d):
        d += _ONE_DAY
    return d


def previous_working_day(d: date) -> date:
    """The last working day **on or before** ``d`` (``d`` itself when it is a working day)."""
    while not is_working_day(d):
        d -= _ONE_DAY
    return d


def _weekdays_through(ordinal: int) -> int:
    # Monday to Friday among ordinals 1..ordinal; ordinal 1 (0001-01-01) is a Monday.
    weeks, rest = divmod(ordinal, 7)
    return 5 * weeks + min(rest, 5)


def _weekday_holidays_in(after: int, through: int) -> int:
    """Weekday bank holidays with ordinal in ``(after, through]`` (``after <= through``)."""
    if through <= after:
        return 0
    count = 0
    first_year, last_year = date.fromordinal(after + 1).year, date.fromordinal(through).year
    for year in range(first_year, last_year + 1):
        ordinals = _weekday_holiday_ordinals(year)
        count += bisect_right(ordinals, through) - bisect_right(ordinals, after)
    return count


def _add_weekdays(d: date, n: int) -> date:
    """The n-th Monday to Friday after ``d`` (before it when ``n < 0``); ``n != 0``."""
    weekday = d.weekday()
    if weekday >= 5:
        # From a weekend, the weekdays ahead are those after Friday and the weekdays behind are
        # those before Monday: move to that anchor, which does not count itself.
        d += timedelta(days=4 - weekday if n > 0 else 7 - weekday)
        weekday = d.weekday()
    weeks, rest = divmod(weekday + n, 5)
    return d + timedelta(days=7 * weeks + rest - weekday)


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after ``start`` — the deadline "within n working days of start".

    ``start`` is day 0 and may itself be a weekend or a bank holiday: a referral received on a
    Saturday has its 1 working day deadline on the Monday (or the next working day after it).
    ``n == 0`` returns ``start`` unchanged. A negative ``n`` counts backwards the same way: the
    |n|-th working day before ``start``.

    Consequences of day 0 not counting, for ``n >= 1``:
    ``add_working_days(add_working_days(x, n), -n) == previous_working_day(x)`` and
    ``add_working_days(add_working_days(x, -n), n) == next_working_day(x)``.
    """
    if n == 0:
        return start
    # Jump n weekdays, then make up for the bank holidays jumped over; each round only has the
    # holidays of the last jump to make up, so it ends after one to three rounds.
    current, remaining = start, n
    while remaining:
        target = _add_weekdays(current, remaining)
        if remaining > 0:
            missed = _weekday_holidays_in(current.toordinal(), target.toordinal())
        else:
            missed = -_weekday_holidays_in(target.toordinal() - 1, current.toordinal() - 1)
        current, remaining = target, missed
    return current


def working_days_between(start: date, end: date) -> int:
    """The number of working days d with ``start < d <= end``; negative when ``end < start``.

    This is the inverse of :func:`add_working_days` for ``n >= 0``:
    ``working_days_between(x, add_working_days(x, n)) == n``. It is antisymmetric:
    ``working_days_between(a, b) == -working_days_between(b, a)``. A timescale of N working days
    from X is met by an event on ``e`` when ``working_days_between(X, e) <= N``.
    """
    if end < start:
        return -working_days_between(end, start)
    after, through = start.toordinal(), end.toordinal()
    weekdays = _weekdays_through(through) - _weekdays_through(after)
    return weekdays - _weekday_holidays_in(after, through)


def add_months(d: date, months: int) -> date:
    """``d`` plus calendar ``months`` (negative allowed), clamped to the last day of the month.

    The "within N months" rule: 31 August + 6 months = 28 February (29 in a leap year),
    31 January + 1 month = 28/29 February.
    """
    index = d.year * 12 + (d.month - 1) + months
    year, month0 = divmod(index, 12)
    month = month0 + 1
    last_day = _stdlib_calendar.monthrange(year, month)[1]
    return date(year, month, min(d.day, last_day))


def add_working_hours(
    start: datetime,
    hours: int,
    *,
    day_start: time = time(9),
    day_end: time = time(17),
) -> datetime:
    """The moment ``hours`` working hours after ``start`` (MASH RAG "red: 4 working hours").

    Only time between ``day_start`` and ``day_end`` (Europe/London wall clock) on working days
    counts; a start outside working hours starts counting at the next working-day start, so a
    contact at 20:00 is due 4 hours after 09:00 on the next working day. A count that uses up a
    day exactly ends at that day's ``day_end`` (13:00 + 4 hours = 17:00, not 09:00 next day).
    ``hours == 0`` returns ``start`` unchanged.

    ``start`` must be aware; the result is aware, in ``start``'s time zone. Clocks change at
    night, so a count across a BST change still counts wall-clock working hours.
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("add_working_hours needs an aware datetime")
    if hours < 0:
        raise ValueError("hours must not be negative")
    if not day_start < day_end:
        raise ValueError("day_start must be before day_end")
    if hours == 0:
        return start

    local = start.astimezone(LONDON).replace(tzinfo=None)
    day, clock = local.date(), local.time()
    if not is_working_day(day) or clock >= day_end:
        day, clock = add_working_days(day, 1), day_start
    elif clock < day_start:
        clock = day_start

    cursor = datetime.combine(day, clock)
    remaining = timedelta(hours=hours)
    left_today = datetime.combine(day, day_end) - cursor
    if remaining <= left_today:
        result = cursor + remaining
    else:
        day_length = datetime.combine(day, day_end) - datetime.combine(day, day_start)
        full_days, rest = divmod(remaining - left_today, day_length)
        if not rest:
            # End at day_end of the last day rather than at day_start of the day after.
            full_days, rest = full_days - 1, day_length
        result = datetime.combine(add_working_days(day, full_days + 1), day_start) + rest
    return result.replace(tzinfo=LONDON).astimezone(start.tzinfo)
