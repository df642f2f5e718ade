"""The front door's clock: when a contact's decision is due (timescales rule 1) and how much
working time is left.

A red contact counts working hours (09:00-17:00 London time on working days), so its time left is
in working hours; amber and green count working days, so theirs is in working days. Both come from
``app.calendar`` (weekends and England bank holidays do not count).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from app.calendar import LONDON, is_working_day, working_days_between
from app.config import Settings
from app.deadlines import rules
from app.models.frontdoor import RagRating

WorkingUnit = Literal["working_hours", "working_days"]


def contact_decision_due(received_at: datetime, rag: RagRating, settings: Settings) -> rules.Due:
    """Rule 1 for a contact received at ``received_at``: red 4 working hours, amber 1 working day,
    green 3 working days by default (``CASEWORK_CONTACT_DECISION_*``)."""
    return rules.contact_decision_due(
        received_at,
        rag.value,
        red_hours=settings.contact_decision_red_hours,
        amber_days=settings.contact_decision_amber_days,
        green_days=settings.contact_decision_green_days,
    )


def working_time_between(start: datetime, end: datetime) -> timedelta:
    """The working time (09:00-17:00 London, working days) from ``start`` to ``end``; negative
    when ``end`` is before ``start``."""
    if end < start:
        return -working_time_between(end, start)
    total = timedelta(0)
    day = start.astimezone(LONDON).date()
    last = end.astimezone(LONDON).date()
    while day <= last:
        if is_working_day(day):
            opens = datetime.combine(day, rules.WORKDAY_START, LONDON)
            closes = datetime.combine(day, rules.WORKDAY_END, LONDON)
            overlap = min(closes, end) - max(opens, start)
            if overlap > timedelta(0):
                total += overlap
        day += timedelta(days=1)
    return total


@dataclass(frozen=True)
class TimeLeft:
    """What is left before a decision is due: working hours for a red contact, working days for
    amber and green (0 days: due today); negative once it is overdue."""

    unit: WorkingUnit
    amount: float
    is_overdue: bool


def time_left(*, due_date: date, due_at: datetime | None, now: datetime, today: date) -> TimeLeft:
    """The working time left until ``due_at`` (an instant: red) or ``due_date`` (a day)."""
    if due_at is not None:
        hours = working_time_between(now, due_at).total_seconds() / 3600
        return TimeLeft("working_hours", round(hours, 2), now > due_at)
    days = working_days_between(today, due_date)
    return TimeLeft("working_days", float(days), today > due_date)
