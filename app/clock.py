"""The only place that reads the clock, so tests (and the demo) can move time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")

_frozen: datetime | None = None


def now() -> datetime:
    """The current instant, aware, in UTC."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def today() -> date:
    """Today's date in England (a deadline falls due on a London calendar day, not a UTC one)."""
    return now().astimezone(LONDON).date()


@contextmanager
def frozen_at(instant: datetime) -> Iterator[None]:
    """Freeze the clock at ``instant`` (aware) for the duration of the block."""
    global _frozen
    if instant.tzinfo is None:
        raise ValueError("freeze the clock with an aware datetime")
    previous, _frozen = _frozen, instant.astimezone(UTC)
    try:
        yield
    finally:
        _frozen = previous
