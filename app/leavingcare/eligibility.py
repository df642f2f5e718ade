"""Which care leaver a young person is, derived from the periods of care and their legal statuses.

The statutory definitions (Children Act 1989 and the regulations under it):

- **Eligible child** (Sch 2 para 19B(2); Care Planning, Placement and Case Review (England)
  Regulations 2010 reg 40): aged 16 or 17, looked after, and looked after for a period of 13 weeks,
  or periods amounting in total to 13 weeks, which began after the 14th birthday and ended after
  the 16th. Reg 40(2) leaves out a series of pre-planned short-term placements (SSDA903 legal
  status V3/V4), so short breaks do not count towards the 13 weeks.
- **Relevant child** (s.23A; Care Leavers (England) Regulations 2010 reg 3): aged 16 or 17, no
  longer looked after, and an eligible child before care ceased.
- **Former relevant child** (s.23C(1)): aged 18 or over, and a relevant child, or an eligible child
  when care ceased at 18. Duties run to 21, and to 25 for those who ask (s.23CZB, inserted by the
  Children and Social Work Act 2017 s.3).
- **Qualifying** (s.24(1), (1A)): under 21, looked after (including short breaks) or subject to a
  special guardianship order at some time after the 16th birthday, but none of the above.

The 13 weeks are counted as the DfE validator counts them (SSDA903 rule 1001): the days from the
later of each looked-after spell's start and the 14th birthday to its end, V3/V4 spells left out,
at least 91 in all, at least one of them on or after the 16th birthday. A spell still running
counts up to and including ``as_of``. A child adopted from care is nobody's care leaver (rule 1001),
nor one whose care another council took over (rule 1011).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from app.calendar import add_months
from app.care.codes import ADOPTED, SHORT_BREAKS, ReasonEpisodeCeased
from app.models.care import LegalStatusRecord, PeriodOfCare
from app.models.leavingcare import CareLeaverCategory

#: 13 weeks (para 19B(2)(b); validator rule 1001 counts 91 days).
THIRTEEN_WEEKS = 91
ONE_DAY = timedelta(days=1)


def birthday(born: date, years: int) -> date:
    """The ``years``-th birthday (29 February falls on 28 February, as ``add_months`` clamps)."""
    return add_months(born, 12 * years)


def age_on(born: date, day: date) -> int:
    years = day.year - born.year
    return years if birthday(born, years) <= day else years - 1


@dataclass(frozen=True)
class Spell:
    """Days looked after under one legal status: [start, end) (``end`` exclusive)."""

    start: date
    end: date
    short_break: bool


@dataclass(frozen=True)
class Eligibility:
    category: CareLeaverCategory
    reason: str
    rule: str
    #: The first day the eligible-child test was met, if ever.
    eligible_since: date | None
    days_since_14: int
    looked_after_now: bool

    @property
    def is_care_leaver(self) -> bool:
        """Eligible, relevant or former relevant: the young people with a pathway plan and a
        personal adviser."""
        return self.category in (
            CareLeaverCategory.eligible,
            CareLeaverCategory.relevant,
            CareLeaverCategory.former_relevant,
        )


def spells(
    periods: list[PeriodOfCare], statuses: list[LegalStatusRecord], *, as_of: date
) -> list[Spell]:
    """Every legal-status spell of every period up to ``as_of``, oldest first."""
    by_period = {p.id: p for p in periods}
    result: list[Spell] = []
    for status in statuses:
        period = by_period.get(status.period_id)
        if period is None or status.start_date > as_of:
            continue
        end = status.end_date or period.end_date
        # Still running: today counts as a day looked after.
        end_exclusive = min(end, as_of + ONE_DAY) if end is not None else as_of + ONE_DAY
        if end_exclusive > status.start_date:
            result.append(
                Spell(status.start_date, end_exclusive, status.legal_status in SHORT_BREAKS)
            )
    return sorted(result, key=lambda s: s.start)


def _days_from(spell: Spell, day: date, until: date) -> int:
    return max(0, (min(spell.end, until) - max(spell.start, day)).days)


def _eligible_since(counted: list[Spell], *, at_14: date, at_16: date, at_18: date) -> date | None:
    """The first day on which the young person was looked after at 16 or 17 with 13 weeks in all
    since the 14th birthday (para 19B(2)), or None."""
    total = 0
    for spell in counted:
        start, end = max(spell.start, at_14), min(spell.end, at_18)
        if end <= start:
            continue
        length = (end - start).days
        if total + length >= THIRTEEN_WEEKS:
            thirteenth_week_done = start + timedelta(days=THIRTEEN_WEEKS - total - 1)
            candidate = max(thirteenth_week_done, at_16, start)
            if candidate < end:
                return candidate
        total += length
    return None


def derive(
    *,
    born: date,
    died: date | None,
    periods: list[PeriodOfCare],
    statuses: list[LegalStatusRecord],
    as_of: date,
    special_guardianship_after_16: bool = False,
) -> Eligibility:
    """The young person's leaving-care category on ``as_of``, with the reason in words and the
    statutory rule behind it."""
    at_14, at_16, at_18 = (birthday(born, n) for n in (14, 16, 18))
    at_21, at_25 = birthday(born, 21), birthday(born, 25)
    age = age_on(born, as_of)
    all_spells = spells(periods, statuses, as_of=as_of)
    counted = [s for s in all_spells if not s.short_break]
    days_14 = sum(_days_from(s, at_14, at_18) for s in counted)
    since = _eligible_since(counted, at_14=at_14, at_16=at_16, at_18=at_18)
    open_period = next((p for p in periods if p.end_date is None), None)
    looked_after_now = open_period is not None
    last = max(periods, key=lambda p: p.start_date, default=None)
    ever_16 = any(s.end > at_16 for s in all_spells) or special_guardianship_after_16

    def result(category: CareLeaverCategory, reason: str, rule: str) -> Eligibility:
        return Eligibility(category, reason, rule, since, days_14, looked_after_now)

    none = CareLeaverCategory.none
    if died is not None and died <= as_of:
        return result(none, "The young person has died.", "SSDA903 1000")
    if age < 16:
        return result(none, "Under 16: the leaving-care categories start at 16.", "Sch 2 para 19B")
    if last is not None and last.end_date is not None and not looked_after_now:
        if last.reason_ceased in ADOPTED:
            return result(
                none,
                "Adopted from care: an adopted child is not a care leaver.",
                "SSDA903 1001",
            )
        if last.reason_ceased == ReasonEpisodeCeased.OTHER_LA_TOOK_OVER:
            return result(
                none,
                "Care was taken over by another local authority, which now holds the "
                "leaving-care duties.",
                "SSDA903 1011",
            )
    progress = f"{days_14} of {THIRTEEN_WEEKS} days looked after since the 14th birthday"
    if looked_after_now and age < 18:
        if since is not None:
            return result(
                CareLeaverCategory.eligible,
                f"Eligible child since {since.isoformat()}: aged 16 or 17, looked after, and "
                f"{progress} (short breaks not counted).",
                "Children Act 1989 Sch 2 para 19B; Care Planning Regulations 2010 reg 40",
            )
        return result(
            none,
            f"Looked after but not (yet) an eligible child: {progress}, short breaks not "
            "counted; 13 weeks are needed.",
            "Children Act 1989 Sch 2 para 19B; Care Planning Regulations 2010 reg 40",
        )
    if since is not None and age < 18:
        return result(
            CareLeaverCategory.relevant,
            f"Relevant child: aged 16 or 17, no longer looked after, and an eligible child "
            f"(since {since.isoformat()}) before care ceased.",
            "Children Act 1989 s.23A; Care Leavers (England) Regulations 2010 reg 3",
        )
    if since is not None and as_of < at_25:
        return result(
            CareLeaverCategory.former_relevant,
            "Former relevant child: aged 18 or over and an eligible or relevant child before "
            "(duties to 21, or to 25 on request).",
            "Children Act 1989 s.23C, s.23CZB",
        )
    if ever_16 and as_of < at_21:
        return result(
            CareLeaverCategory.qualifying,
            f"Qualifying for advice and assistance: looked after (or under a special "
            f"guardianship order) after the 16th birthday, but never an eligible child "
            f"({progress}).",
            "Children Act 1989 s.24",
        )
    if since is not None or ever_16:
        return result(
            none, "Past the age the leaving-care duties run to.", "Children Act 1989 s.23C"
        )
    return result(
        none,
        f"Never an eligible child: {progress}, at least one of them after the 16th birthday "
        "(short breaks not counted).",
        "Children Act 1989 Sch 2 para 19B; Care Planning Regulations 2010 reg 40",
    )
