"""Placement stability: the two national measures (timescales.md, "Measures"; the DfE's
children-looked-after statistics).

* **Short-term**: the number of placements a child had in the 12 months to a date; three or more
  is flagged. Every placement that was current on some day of the window counts, across periods of
  care (a child who went home and came back within the year counts the placements of both).
* **Long-term**: for children under 16 who have been looked after continuously for at least two
  and a half years, whether they have lived in the same placement for at least two years, or are
  placed for adoption and that placement together with the one before it lasts two years.

**Temporary placements (T0-T4) are not counted as moves** (DfE: a temporary absence, such as a
hospital stay or the carers' holiday, is not a change of placement): a temporary placement is not
counted, and the return to the usual placement after it (SSDA903 rule 383 makes it the same
placement) continues that placement rather than starting a new one, both in the count and in how
long the child has been in the current placement.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.calendar import add_months
from app.care.codes import ADOPTION_PLACEMENTS, TEMPORARY_PLACEMENTS
from app.models.care import PeriodOfCare, Placement
from app.models.people import Person

THREE_OR_MORE = 3
LONG_TERM_MONTHS = 30  # looked after continuously for 2.5 years
SAME_PLACEMENT_MONTHS = 24
LONG_TERM_UNDER_AGE = 16


@dataclass(frozen=True)
class Spell:
    """A stretch in one placement, temporary absences from it included."""

    start_date: date
    end_date: date | None
    placement_type: str


@dataclass(frozen=True)
class Stability:
    child_id: uuid.UUID
    on: date
    looked_after: bool
    placements_last_12_months: int
    three_or_more_placements: bool
    looked_after_since: date | None
    long_term_cohort: bool
    current_placement_since: date | None
    same_placement_2_years: bool | None


def placement_spells(placements: Sequence[Placement]) -> list[Spell]:
    """The child's placements as spells, oldest first: temporary placements dropped, and the
    return from one joined to the placement the child was absent from."""
    ordered = sorted(placements, key=lambda p: (p.start_date, p.created_at))
    spells: list[Spell] = []
    absent_from: Placement | None = None
    last: Placement | None = None
    for placement in ordered:
        if placement.placement_type in TEMPORARY_PLACEMENTS:
            absent_from = last if absent_from is None else absent_from
            continue
        returning = (
            absent_from is not None
            and absent_from.period_id == placement.period_id
            and (absent_from.placement_type, absent_from.placement_postcode)
            == (placement.placement_type, placement.placement_postcode)
        )
        if returning and spells:
            spells[-1] = Spell(spells[-1].start_date, placement.end_date, spells[-1].placement_type)
        else:
            spells.append(Spell(placement.start_date, placement.end_date, placement.placement_type))
        absent_from, last = None, placement
    return spells


def stability_of(
    *, child: Person, periods: Sequence[PeriodOfCare], placements: Sequence[Placement], on: date
) -> Stability:
    """The measures for one child on ``on`` (a pure function of the records)."""
    window_start = add_months(on, -12) + timedelta(days=1)
    spells = placement_spells([p for p in placements if p.start_date <= on])
    in_window = [
        s
        for s in spells
        if s.start_date <= on and (s.end_date is None or s.end_date >= window_start)
    ]
    # A spell that ended on a day another began (a move) is counted once each; a spell that ended
    # exactly on the window's first day counts (the child was in it that day).
    current_period = next(
        (p for p in periods if p.start_date <= on and (p.end_date is None or p.end_date > on)),
        None,
    )
    current_spell = next(
        (s for s in reversed(spells) if s.end_date is None or s.end_date > on), None
    )
    looked_after = current_period is not None
    since = current_period.start_date if current_period is not None else None
    born = child.date_of_birth
    cohort = (
        since is not None
        and on >= add_months(since, LONG_TERM_MONTHS)
        and born is not None
        and on < add_months(born, 12 * LONG_TERM_UNDER_AGE)
    )
    same: bool | None = None
    spell_start = current_spell.start_date if current_spell is not None and looked_after else None
    if cohort and spell_start is not None and current_spell is not None:
        counted_from = spell_start
        if current_spell.placement_type in ADOPTION_PLACEMENTS:
            index = spells.index(current_spell)
            if index > 0 and spells[index - 1].start_date >= (since or spell_start):
                counted_from = spells[index - 1].start_date
        same = on >= add_months(counted_from, SAME_PLACEMENT_MONTHS)
    return Stability(
        child_id=child.id,
        on=on,
        looked_after=looked_after,
        placements_last_12_months=len(in_window),
        three_or_more_placements=len(in_window) >= THREE_OR_MORE,
        looked_after_since=since,
        long_term_cohort=cohort,
        current_placement_since=spell_start,
        same_placement_2_years=same,
    )


def _load(
    session: Session, child_ids: Sequence[uuid.UUID]
) -> tuple[dict[uuid.UUID, list[PeriodOfCare]], dict[uuid.UUID, list[Placement]]]:
    periods: dict[uuid.UUID, list[PeriodOfCare]] = {c: [] for c in child_ids}
    placements: dict[uuid.UUID, list[Placement]] = {c: [] for c in child_ids}
    if child_ids:
        for period in session.scalars(
            select(PeriodOfCare).where(PeriodOfCare.child_id.in_(child_ids))
        ):
            periods[period.child_id].append(period)
        for placement in session.scalars(
            select(Placement).where(Placement.child_id.in_(child_ids))
        ):
            placements[placement.child_id].append(placement)
    return periods, placements


def stability_for_children(
    session: Session, *, children: Sequence[Person], on: date
) -> list[Stability]:
    """The measures for each child (two queries whatever the number of children). The caller has
    checked and logged the reads of these children."""
    periods, placements = _load(session, [c.id for c in children])
    return [
        stability_of(child=c, periods=periods[c.id], placements=placements[c.id], on=on)
        for c in children
    ]
