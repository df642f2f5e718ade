"""The SSDA903 children looked after return: the CSV tables the DfE collects for a year to 31 March.

Every row is derived from the live record through the per-child functions that already encode the
rules (episodes from the legal-status and placement histories, OC2 from health records, OC3 from
leaving-care contacts, ...); this module decides only who is in each table and writes the rows.

Who is in the return (SSDA903 guidance, and what the DfE validator ``lac_validator`` expects):

* **Episodes**: every episode open at any time in the year — started on or before 31 March and not
  ended before 1 April. A child in care on 1 April therefore keeps the episode that was open that
  day, with its original DECOM and RNE (rule 357 only asks for RNE S of a first episode that
  starts in the year).
* **Header**: every child in any table — the children looked after in the year and the OC3 cohort
  (care leavers with a 17th to 21st birthday in the year).
* The return is as at 31 March: an episode, missing spell, social worker episode or decision that
  ended after the year is written open (DEC, REC and REASON_PLACE_CHANGE blank; rules 148, 233),
  so a return generated later for a past year is the one that would have been sent.
* Restricted children are included: the return is statutory (Children Act 1989 s.83).

The tables carry exactly the column sets the validator recognises (``lac_validator/config.py``);
a year with no data gives each table with its header row only.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from enum import Enum

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app import clock
from app.calendar import LONDON, add_months
from app.care.codes import ReasonNewEpisode
from app.care.episodes import Episode, derive_episodes
from app.cases.service import social_worker_episodes_for_child
from app.config import Settings
from app.core_types import Sex, UPNUnknown
from app.health.service import oc2_for_child
from app.leavingcare.service import WINDOW_AFTER_MONTHS, Oc3Row, oc3_for_child
from app.missing.service import missing_episodes_for_child
from app.models.care import LegalStatusRecord, PeriodOfCare, Placement
from app.models.iro import CLAReview
from app.models.missing import MissingEpisode
from app.models.people import Person
from app.models.permanence import (
    AdoptionDecision,
    Motherhood,
    PreviousPermanenceRecord,
    UascStatus,
)
from app.permanence.service import (
    adoption_for_child,
    motherhood_for_child,
    prev_perm_for_child,
    uasc_for_child,
)
from app.returns.common import CollectionYear, dmy

#: File name → (the validator's table name, its columns in order), as ``lac_validator/config.py``
#: names them: the validator identifies each CSV by its exact column set.
TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "header.csv": ("Header", ("CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB")),
    "episodes.csv": (
        "Episodes",
        (
            "CHILD",
            "DECOM",
            "RNE",
            "LS",
            "CIN",
            "PLACE",
            "PLACE_PROVIDER",
            "DEC",
            "REC",
            "REASON_PLACE_CHANGE",
            "HOME_POST",
            "PL_POST",
            "URN",
        ),
    ),
    "reviews.csv": ("Reviews", ("CHILD", "DOB", "REVIEW", "REVIEW_CODE")),
    "uasc.csv": ("UASC", ("CHILD", "SEX", "DOB", "DUC")),
    "oc2.csv": (
        "OC2",
        (
            "CHILD",
            "DOB",
            "SDQ_SCORE",
            "SDQ_REASON",
            "CONVICTED",
            "HEALTH_CHECK",
            "IMMUNISATIONS",
            "TEETH_CHECK",
            "HEALTH_ASSESSMENT",
            "SUBSTANCE_MISUSE",
            "INTERVENTION_RECEIVED",
            "INTERVENTION_OFFERED",
        ),
    ),
    "oc3.csv": ("OC3", ("CHILD", "DOB", "IN_TOUCH", "ACTIV", "ACCOM")),
    "ad1.csv": (
        "AD1",
        (
            "CHILD",
            "DOB",
            "DATE_INT",
            "DATE_MATCH",
            "FOSTER_CARE",
            "NB_ADOPTR",
            "SEX_ADOPTR",
            "LS_ADOPTR",
        ),
    ),
    "placed_for_adoption.csv": (
        "PlacedAdoption",
        ("CHILD", "DOB", "DATE_PLACED", "DATE_PLACED_CEASED", "REASON_PLACED_CEASED"),
    ),
    "prev_perm.csv": ("PrevPerm", ("CHILD", "DOB", "PREV_PERM", "LA_PERM", "DATE_PERM")),
    "missing.csv": ("Missing", ("CHILD", "DOB", "MISSING", "MIS_START", "MIS_END")),
    "sw_episodes.csv": ("SWEpisodes", ("CHILD", "DOB", "SW_ID", "SW_DECOM", "SW_DEC", "SW_REASON")),
    "dolo.csv": ("DoLo", ("CHILD", "DOB", "DOLO_START", "DOLO_END")),
}

#: The Deprivation of Liberty table is collected from 2026-27 (returns.md).
DOLO_FROM_YEAR = 2027

Row = dict[str, object]


class ChildWithoutId(ValueError):
    """A child in the return has no LA child id, which every SSDA903 row is keyed on."""


def tables_for_year(year: int) -> dict[str, tuple[str, tuple[str, ...]]]:
    """The tables of the year's return: DoLo only from 2026-27."""
    return {
        name: spec for name, spec in TABLES.items() if name != "dolo.csv" or year >= DOLO_FROM_YEAR
    }


# --- formatting ----------------------------------------------------------------------------------


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return dmy(value)
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _csv(columns: Sequence[str], rows: Iterable[Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return out.getvalue()


def _until(day: date | None, year: CollectionYear) -> date | None:
    """An end date as the return sees it on 31 March: blank when it came after the year."""
    return day if day is not None and day <= year.end else None


# --- who is in the return ------------------------------------------------------------------------


def _episodes(session: Session, year: CollectionYear) -> list[Episode]:
    """Every episode open at some time in the year, derived from each period's histories (three
    queries for the whole return, not three a child)."""
    periods = list(
        session.scalars(
            select(PeriodOfCare).where(
                PeriodOfCare.start_date <= year.end,
                or_(PeriodOfCare.end_date.is_(None), PeriodOfCare.end_date >= year.start),
            )
        )
    )
    if not periods:
        return []
    period_ids = [p.id for p in periods]
    children: dict[uuid.UUID, Person] = {}
    for chunk in _chunks(sorted({p.child_id for p in periods})):
        children.update(
            (c.id, c) for c in session.scalars(select(Person).where(Person.id.in_(chunk)))
        )
    statuses: dict[uuid.UUID, list[LegalStatusRecord]] = defaultdict(list)
    placements: dict[uuid.UUID, list[Placement]] = defaultdict(list)
    for chunk in _chunks(period_ids):
        for status in session.scalars(
            select(LegalStatusRecord).where(LegalStatusRecord.period_id.in_(chunk))
        ):
            statuses[status.period_id].append(status)
        for placement in session.scalars(select(Placement).where(Placement.period_id.in_(chunk))):
            placements[placement.period_id].append(placement)
    episodes: list[Episode] = []
    for period in periods:
        for episode in derive_episodes(
            period=period,
            child=children[period.child_id],
            legal_statuses=statuses[period.id],
            placements=placements[period.id],
        ):
            if year.overlaps(episode.decom, episode.dec):
                episodes.append(episode)
    return episodes


def _chunks(ids: Sequence[uuid.UUID], size: int = 900) -> Iterable[list[uuid.UUID]]:
    """IN lists of a size every backend takes (SQLite's bound-parameter limit)."""
    for i in range(0, len(ids), size):
        yield list(ids[i : i + size])


def _ids_with(
    session: Session, column: InstrumentedAttribute[uuid.UUID], among: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """The children among ``among`` that have a row in ``column``'s table: one query per chunk, so
    the per-child functions run only for the children they will find something for."""
    found: set[uuid.UUID] = set()
    for chunk in _chunks(among):
        found.update(session.scalars(select(column).where(column.in_(chunk))))
    return found


def _oc3_candidates(session: Session, year: CollectionYear) -> list[uuid.UUID]:
    """Children who were ever looked after and have a 17th to 21st birthday in the year (rule
    391): the only ones ``oc3_for_child`` can find in the OC3 cohort."""
    born_after = add_months(year.start, -22 * 12)
    born_by = add_months(year.end, -17 * 12)
    return list(
        session.scalars(
            select(Person.id)
            .where(
                Person.date_of_birth > born_after,
                Person.date_of_birth <= born_by,
                Person.id.in_(select(PeriodOfCare.child_id)),
            )
            .order_by(Person.id)
        )
    )


def _oc3_due(row: Oc3Row) -> bool:
    """Whether the OC3 row belongs in the return as it stands today: once anything is recorded,
    or once the window around the birthday (to one month after it) has closed. A young person
    whose birthday is still to come in the current year is not yet due: their blank row would
    only say the contact has not happened yet (rules 131-133 would flag it)."""
    recorded = row.in_touch is not None or row.contact_date is not None
    return recorded or add_months(row.birthday, WINDOW_AFTER_MONTHS) < clock.today()


# --- the tables ----------------------------------------------------------------------------------


def _episode_row(episode: Episode, year: CollectionYear) -> Row:
    ended = episode.dec is not None and episode.dec <= year.end
    return {
        "CHILD": episode.child,
        "DECOM": episode.decom,
        "RNE": episode.rne,
        "LS": episode.ls,
        "CIN": episode.cin,
        "PLACE": episode.place,
        "PLACE_PROVIDER": episode.place_provider,
        # Open on 31 March: no end, no reason it ended, no reason the placement changed (148, 233).
        "DEC": episode.dec if ended else None,
        "REC": episode.rec if ended else None,
        "REASON_PLACE_CHANGE": episode.reason_place_change if ended else None,
        "HOME_POST": episode.home_post,
        "PL_POST": episode.pl_post,
        "URN": episode.urn,
    }


def _london(moment: datetime | None) -> date | None:
    """Missing-spell instants as the calendar day in England (SSDA903 dates are days)."""
    if moment is None:
        return None
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(LONDON).date()


def _upn_unknown(born: date | None, year: CollectionYear) -> UPNUnknown | None:
    """The UPN column of a child without a UPN. Casework stores no reason: UN1 ("aged under 6,
    not yet assigned") follows from the date of birth for a child not yet of school age as rule
    209 counts it (4 years old by 31 August before the year starts). A school-age child with no
    UPN is left blank, for rule 442 to put on the worklist: the council must obtain the UPN."""
    school_age_by = date(year.start.year - 1, 8, 31)
    if born is None or add_months(born, 4 * 12) > school_age_by:
        return UPNUnknown.UNDER_SIX
    return None


#: Below this age a girl cannot be a mother: MOTHER is 0 without anything to record (rule 393
#: asks for MOTHER for every looked-after girl).
MOTHER_MINIMUM_AGE = 10


def _motherhood(
    session: Session, person: Person, year: CollectionYear, *, recorded: bool
) -> tuple[int | None, date | None]:
    """Header MOTHER and MC_DOB for a girl (blank for boys), as at 31 March: a first child born
    after the year does not count yet. A girl of ``MOTHER_MINIMUM_AGE`` or more with nothing
    recorded is left blank, for rule 393 to put on the worklist."""
    if person.sex is not Sex.FEMALE:
        return None, None
    found = motherhood_for_child(session, person.id) if recorded else None
    if found is None:
        born = person.date_of_birth
        young = born is not None and add_months(born, MOTHER_MINIMUM_AGE * 12) > year.end
        return (0, None) if young else (None, None)
    mc_dob = _until(found.mc_dob, year)
    return (1 if found.mother and mc_dob is not None else 0), mc_dob


def build_ssda903(session: Session, *, year: int, settings: Settings) -> dict[str, str]:
    """The SSDA903 return for the year ending 31 March ``year``: file name → CSV text.

    Reads only (no access checks: the caller holds ``returns:generate``). Raises
    :class:`ChildWithoutId` when a child who must be in the return has no LA child id."""
    del settings  # the CSV tables name no council; the LA is given to the validator separately
    cy = CollectionYear(year)
    tables: dict[str, list[Row]] = {spec[0]: [] for spec in tables_for_year(year).values()}

    episodes = _episodes(session, cy)
    in_care = sorted({e.child_id for e in episodes})
    # Who can have an OC2 row or a PrevPerm row, read off the episodes already derived, so the
    # per-child functions run only where they can find something (speed: one council's year).
    in_care_on_1_april = {e.child_id for e in episodes if e.decom <= cy.start}
    in_care_on_31_march = {e.child_id for e in episodes if e.dec is None or e.dec >= cy.end}
    oc2_possible = in_care_on_1_april & in_care_on_31_march
    started_in_year = {
        e.child_id for e in episodes if e.rne is ReasonNewEpisode.STARTED and e.decom >= cy.start
    }
    oc3_rows = {
        row.child_id: row
        for child_id in _oc3_candidates(session, cy)
        if (row := oc3_for_child(session, child_id, cy.end)) is not None and _oc3_due(row)
    }
    everyone = sorted(set(in_care) | set(oc3_rows))
    looked_after = set(in_care)
    people: dict[uuid.UUID, Person] = {}
    for chunk in _chunks(everyone):
        people.update(
            (p.id, p) for p in session.scalars(select(Person).where(Person.id.in_(chunk)))
        )
    unnamed = sum(1 for p in people.values() if not p.la_child_id)
    if unnamed:
        raise ChildWithoutId(
            f"{unnamed} children in the {cy.label} SSDA903 return have no LA child id; give each "
            "one an LA child id before the return can be generated."
        )

    def key(child_id: uuid.UUID) -> str:
        return people[child_id].la_child_id or ""

    mothers = _ids_with(session, Motherhood.child_id, everyone)
    uasc = _ids_with(session, UascStatus.child_id, everyone)
    adopting = _ids_with(session, AdoptionDecision.child_id, in_care)
    prev_perm = _ids_with(session, PreviousPermanenceRecord.child_id, sorted(started_in_year))
    missing = _ids_with(session, MissingEpisode.child_id, in_care)

    # Header: every child in any table.
    for child_id in everyone:
        person = people[child_id]
        # Rule 628: a care leaver who was not looked after in the year has no motherhood details.
        mother, mc_dob = (
            _motherhood(session, person, cy, recorded=child_id in mothers)
            if child_id in looked_after
            else (None, None)
        )
        tables["Header"].append(
            {
                "CHILD": person.la_child_id,
                "SEX": person.sex,
                "DOB": person.date_of_birth,
                "ETHNIC": person.ethnicity,
                "UPN": person.upn or _upn_unknown(person.date_of_birth, cy),
                "MOTHER": mother,
                "MC_DOB": mc_dob,
            }
        )

    tables["Episodes"] = [_episode_row(e, cy) for e in episodes]

    for chunk in _chunks(in_care):
        for review in session.scalars(
            select(CLAReview).where(
                and_(
                    CLAReview.child_id.in_(chunk),
                    CLAReview.review_date >= cy.start,
                    CLAReview.review_date <= cy.end,
                )
            )
        ):
            tables["Reviews"].append(
                {
                    "CHILD": key(review.child_id),
                    "DOB": people[review.child_id].date_of_birth,
                    "REVIEW": review.review_date,
                    "REVIEW_CODE": review.participation,
                }
            )

    for child_id in everyone:
        person = people[child_id]
        if child_id in uasc:
            status = uasc_for_child(session, child_id, cy.end)
            if status is not None:
                tables["UASC"].append(
                    {
                        "CHILD": key(child_id),
                        "SEX": person.sex,
                        "DOB": person.date_of_birth,
                        "DUC": _until(status.duc, cy),
                    }
                )
        if child_id in oc3_rows:
            oc3 = oc3_rows[child_id]
            tables["OC3"].append(
                {
                    "CHILD": key(child_id),
                    "DOB": person.date_of_birth,
                    "IN_TOUCH": oc3.in_touch,
                    "ACTIV": oc3.activity,
                    "ACCOM": oc3.accommodation,
                }
            )

    for child_id in in_care:
        person = people[child_id]
        dob = person.date_of_birth
        oc2 = oc2_for_child(session, child_id, cy.end) if child_id in oc2_possible else None
        if oc2 is not None:
            tables["OC2"].append({**oc2.fields(), "CHILD": key(child_id)})
        if child_id in adopting:
            for decision in adoption_for_child(session, child_id):
                if decision.date_placed > cy.end:
                    continue
                ceased = _until(decision.date_placed_ceased, cy)
                if (
                    decision.date_placed_ceased is not None
                    and decision.date_placed_ceased < cy.start
                ):
                    continue  # reversed before the year: in an earlier return only
                adopted = decision.adoption_order_date
                if adopted is not None and adopted < cy.start:
                    continue
                tables["PlacedAdoption"].append(
                    {
                        "CHILD": key(child_id),
                        "DOB": dob,
                        "DATE_PLACED": decision.date_placed,
                        "DATE_PLACED_CEASED": ceased,
                        "REASON_PLACED_CEASED": decision.reason_placed_ceased if ceased else None,
                    }
                )
                if adopted is not None and adopted <= cy.end:
                    tables["AD1"].append(
                        {
                            "CHILD": key(child_id),
                            "DOB": dob,
                            "DATE_INT": decision.date_placed,
                            "DATE_MATCH": decision.date_match,
                            "FOSTER_CARE": decision.foster_care,
                            "NB_ADOPTR": decision.nb_adoptr,
                            "SEX_ADOPTR": decision.sex_adoptr,
                            "LS_ADOPTR": decision.ls_adoptr,
                        }
                    )
        if child_id in prev_perm:
            # One row per child (SSDA903 INT35): a child who came into care twice in the year is
            # reported with the latest period's record (periods come in start-date order).
            this_year = [
                perm
                for perm in prev_perm_for_child(session, child_id)
                if cy.start <= perm.period_start <= cy.end
            ]
            if this_year:
                perm = this_year[-1]
                tables["PrevPerm"].append(
                    {
                        "CHILD": key(child_id),
                        "DOB": dob,
                        "PREV_PERM": perm.prev_perm,
                        "LA_PERM": perm.la_perm,
                        "DATE_PERM": perm.date_perm,
                    }
                )
        if child_id in missing:
            for spell in missing_episodes_for_child(session, child_id):
                started, ended = _london(spell.started_at), _london(spell.ended_at)
                if not spell.while_looked_after or not cy.overlaps(started, ended):
                    continue  # rule 581: only spells while looked after
                tables["Missing"].append(
                    {
                        "CHILD": key(child_id),
                        "DOB": dob,
                        "MISSING": spell.kind,
                        "MIS_START": started,
                        "MIS_END": _until(ended, cy),
                    }
                )
        for worker in social_worker_episodes_for_child(session, child_id=child_id):
            if not cy.overlaps(worker.sw_decom, worker.sw_dec):
                continue
            ended_in_year = _until(worker.sw_dec, cy)
            tables["SWEpisodes"].append(
                {
                    "CHILD": key(child_id),
                    "DOB": dob,
                    "SW_ID": worker.sw_id,
                    "SW_DECOM": worker.sw_decom,
                    "SW_DEC": ended_in_year,
                    "SW_REASON": worker.sw_reason,
                }
            )

    # Deterministic: by CHILD, then the table's own order (dates as dates, not as text).
    out: dict[str, str] = {}
    for file_name, (table, columns) in tables_for_year(year).items():
        rows = sorted(tables[table], key=lambda r: (str(r["CHILD"]), _sort_key(r, columns)))
        out[file_name] = _csv(columns, rows)
    return out


def _sort_key(row: Row, columns: Sequence[str]) -> tuple[str, ...]:
    return tuple(
        v.isoformat() if isinstance(v, date) else _cell(v)
        for v in (row.get(c) for c in columns[1:])
    )
