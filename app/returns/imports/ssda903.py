"""Import a council's historical SSDA903 return (its CSV tables) when it moves to Casework.

The return is the one record of a looked-after child's history every council keeps: the Header
(who the child is), the Episodes (legal status and placement, one row per change), the Reviews,
the Missing episodes, care leavers' OC3, PrevPerm and the adoption tables. This module turns them
back into what Casework stores — periods of care with their legal-status and placement histories
(:mod:`app.care.episodes` derives the episodes from those, so the export gives back the rows that
came in), CLA reviews, missing episodes, leaving-care contacts, previous permanence and adoption
decisions — in the states the workflows would have left them (a ceased period ``ceased``, a review
``record_completed``), attributed to the ``migration`` account (:mod:`app.returns.imports.common`)
with one chronology event per migrated group of records saying which file it came from.

How it goes, and why:

* Each file is identified by its exact column set, as the DfE validator identifies it
  (``lac_validator.config.column_names``); a file with other columns is refused, naming the table
  its name suggests and the columns that table has.
* Everything is checked before anything is written: codes against :mod:`app.care.codes`, dates as
  dd/mm/YYYY, a child twice in the Header, episodes that overlap or leave a gap inside a period
  of care, impossible dates (DEC before DECOM). Every failing row is reported with its reasons;
  when there is one, nothing is written (the import is all or nothing).
* Children are matched by ``CHILD`` = ``Person.la_child_id``. A child Casework does not know yet
  is created with placeholder names (returns carry none): "Unknown (imported LAchildID 123)". A
  child it knows is not updated (the record in Casework wins), but a different date of birth is
  refused: it means the identifier matched someone else. A UPN-unknown code (UN1-UN5) is not
  stored: Casework holds no reason, and the export derives UN1 for a child under school age.
* The return names no carers: RNE T and B (same carers) give the new placement the previous one's
  ``carer_key``; P and U a new one. Nor does it say how care began: the entry route is the first
  one whose legal statuses include the period's first (``ENTRY_ROUTE_STATUSES``).
* Re-importing the same files changes nothing: a period of care whose derived episodes already
  equal the file's is left as it is, as are reviews and missing episodes on the same dates. A
  period still open in Casework (imported from last year's return, where it was open on 31 March)
  is continued by this year's episodes, so a council can migrate several years oldest first.
* An episode that does not start a period (RNE other than S) needs the earlier episodes of its
  period: they must be in the file or already in Casework (import the earlier year first).
* No statutory deadline is opened: the timescales of historical work have all run their course.
* OC3 and PrevPerm rows belong to a collection year the files do not name: it is the year of the
  latest date in the Episodes, Reviews and Missing tables (an OC3 row is the contact around the
  17th-21st birthday in that year; a PrevPerm row goes with the period of care that started in it).
* PlacedAdoption rows are decisions to place for adoption; an AD1 row completes its decision with
  the match, the adopters and the dates the Episodes give: the start of the placement for
  adoption (A3-A6) and the day care ceased by adoption (E11/E12), the adoption order.
* A UASC row records that the child was an unaccompanied asylum-seeking child (``UascStatus``).
  The return gives only the day the status ceased (DUC), not the day it began, so the status is
  recorded as held from the start of the child's first period of care (in the file or in
  Casework): that is the earliest day the council can vouch for it, since the UASC table is about
  looked-after children (or DUC itself when that is earlier). A DUC is kept as the day the status
  ceased; a blank DUC leaves it open, and the export derives the 18th birthday (rule 304). A later
  return's DUC ends a status an earlier return left open.
* A SWEpisodes row is a spell with one social worker, which Casework derives from the case's
  allocations (``app.cases.service.social_worker_episodes_for_child``). A worker the council's
  Social Work England number (SW_ID) names but no account holds gets an inactive placeholder
  account ("Social worker SW_ID (migrated)", no password: it cannot sign in) to hold the
  history. The allocation goes on the child's case that was open on SW_DECOM, or else the next
  case to open after it (a worker allocated before care began: rule SW16 asks for the year before
  31 March whether or not the child was looked after then), or else the child's latest case. A
  spell with no worker is put between two episodes that do not meet, so the first ends on its
  SW_DEC. An episode Casework already derives (same SW_ID and SW_DECOM) is left as it is, or
  ended when last year's return had it open.
* Tables Casework does not import yet (OC2, DoLo) are refused when they hold rows, rather than
  silently dropped; with headers only they are accepted. DoLo (deprivation of liberty orders)
  has no model in Casework at all.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, TypeVar

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.calendar import add_months
from app.care.codes import (
    ADOPTED,
    ADOPTION_PLACEMENTS,
    LegalStatus,
    PlacementProvider,
    PlacementType,
    ReasonEpisodeCeased,
    ReasonNewEpisode,
    ReasonPlaceChange,
)
from app.care.episodes import Episode, episodes_for_child, episodes_for_period
from app.care.service import ENTRY_ROUTE_STATUSES
from app.care.workflow import CEASED
from app.care.workflow import LOOKED_AFTER as PERIOD_LOOKED_AFTER
from app.cases.codes import SWReason
from app.cases.service import SocialWorkerEpisode, social_worker_episodes_for_child
from app.cases.workflow import CARE_LEAVER, CLOSED
from app.cases.workflow import LOOKED_AFTER as CASE_LOOKED_AFTER
from app.clock import LONDON
from app.core_types import (
    CodeSet,
    Ethnicity,
    PrimaryNeed,
    ReasonForClosure,
    Sex,
    UPNUnknown,
    is_valid_la_child_id,
    is_valid_uk_postcode,
    is_valid_upn,
    normalise_postcode,
    normalise_upn,
)
from app.iro.workflow import RECORD_COMPLETED
from app.leavingcare.codes import Accommodation, Activity, InTouch
from app.leavingcare.eligibility import birthday
from app.missing.service import local_date
from app.models.care import CareEntryRoute, LegalStatusRecord, PeriodOfCare, Placement
from app.models.cases import Allocation, Case
from app.models.iro import CLAReview, ParticipationCode
from app.models.leavingcare import LeavingCareContact
from app.models.missing import MissingEpisode, MissingKind
from app.models.org import Role, UserAccount
from app.models.people import Person
from app.models.permanence import (
    AdoptionDecision,
    Motherhood,
    PreviousPermanenceRecord,
    UascStatus,
)
from app.permanence.codes import (
    AdopterLegalStatus,
    AdopterSex,
    PreviousPermanence,
    ReasonPlacedCeased,
)
from app.returns.common import CollectionYear, ImportReport
from app.returns.imports.common import (
    child_by_la_child_id,
    migrated_case_event,
    migrated_child_create,
    migration_principal,
    migration_team,
)
from app.returns.ssda903 import TABLES
from app.security.principal import Principal

#: The column set of each SSDA903 table, exactly as the DfE validator recognises them
#: (``lac_validator.config.column_names``): a file is the table whose columns it has. One list for
#: the export and the import, so the two can never disagree.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = dict(TABLES.values())
#: The tables this import turns into records; the others are accepted only when empty.
IMPORTED_TABLES = (
    "Header",
    "Episodes",
    "Reviews",
    "Missing",
    "OC3",
    "PrevPerm",
    "PlacedAdoption",
    "AD1",
    "UASC",
    "SWEpisodes",
)

#: SSDA903 SEX (validator rule 101): M, F or U from 2024-25; returns before then used 1 (male)
#: and 2 (female), which an older return being migrated still carries.
SEX_CODES = {"M": Sex.MALE, "F": Sex.FEMALE, "U": Sex.UNKNOWN, "1": Sex.MALE, "2": Sex.FEMALE}
#: SSDA903 CIN (validator rule 145): a child in care has a category of need N1-N8.
CATEGORIES_OF_NEED = frozenset(PrimaryNeed) - {PrimaryNeed.NOT_STATED, PrimaryNeed.NOT_IN_NEED}
_R = ReasonNewEpisode
LEGAL_STATUS_CHANGES = frozenset({_R.LEGAL_STATUS, _R.BOTH, _R.BOTH_SAME_CARER})
PLACEMENT_CHANGES = frozenset({_R.PLACEMENT, _R.PLACEMENT_SAME_CARER, _R.BOTH, _R.BOTH_SAME_CARER})
SAME_CARER = frozenset({_R.PLACEMENT_SAME_CARER, _R.BOTH_SAME_CARER})
#: How a migrated period's case closes: the CIN reason for closure that says what the SSDA903
#: reason care ceased says (CIN census codes RC1-RC7); any other ending is RC7.
CLOSURE_FOR_CEASING: dict[ReasonEpisodeCeased, ReasonForClosure] = {
    ReasonEpisodeCeased.ADOPTED_UNOPPOSED: ReasonForClosure("RC1"),
    ReasonEpisodeCeased.ADOPTED_CONSENT_DISPENSED: ReasonForClosure("RC1"),
    ReasonEpisodeCeased.DIED: ReasonForClosure("RC2"),
    ReasonEpisodeCeased.CHILD_ARRANGEMENTS_ORDER: ReasonForClosure("RC3"),
    ReasonEpisodeCeased.SGO_FOSTER_CARER_RELATIVE: ReasonForClosure("RC4"),
    ReasonEpisodeCeased.SGO_FOSTER_CARER_OTHER: ReasonForClosure("RC4"),
    ReasonEpisodeCeased.SGO_CARER_RELATIVE: ReasonForClosure("RC4"),
    ReasonEpisodeCeased.SGO_CARER_OTHER: ReasonForClosure("RC4"),
    ReasonEpisodeCeased.OTHER_LA_TOOK_OVER: ReasonForClosure("RC5"),
    ReasonEpisodeCeased.ADULT_SOCIAL_CARE: ReasonForClosure("RC6"),
}
OTHER_CLOSURE = ReasonForClosure("RC7")
#: A missing episode's day becomes an instant at noon in England, so that its calendar day in
#: England (``app.missing.service.local_date``, the MIS_START/MIS_END exported) is that day.
MIDDAY = time(12, 0)
#: The first legal status of a period says how the child came into care (``CareEntryRoute``);
#: the import knows only the status, so it takes the first route that starts under it.
_ROUTE_ORDER = (
    CareEntryRoute.emergency,
    CareEntryRoute.section_20,
    CareEntryRoute.remand,
    CareEntryRoute.short_breaks,
    CareEntryRoute.court_order,
)

C = TypeVar("C", bound=CodeSet)


# --- reading the files -------------------------------------------------------------------------


@dataclass
class _Row:
    """One data row of a table, with its place in the file for the report."""

    table: str
    file: str
    line: int
    values: dict[str, str]
    problems: list[str] = field(default_factory=list)

    @property
    def record(self) -> str:
        child = self.values.get("CHILD", "")
        return f"{self.file} line {self.line}" + (f" (CHILD {child})" if child else "")

    def text(self, column: str) -> str | None:
        value = (self.values.get(column) or "").strip()
        return value or None

    def required(self, column: str) -> str | None:
        value = self.text(column)
        if value is None:
            self.problems.append(f"{column} is missing")
        return value

    def day(self, column: str, *, required: bool = True) -> date | None:
        value = self.required(column) if required else self.text(column)
        if value is None:
            return None
        try:
            return datetime.strptime(value, "%d/%m/%Y").date()
        except ValueError:
            self.problems.append(f"{column} '{value}' is not a date in the form dd/mm/YYYY")
            return None

    def code(self, column: str, code_set: type[C], *, required: bool = True) -> C | None:
        value = self.required(column) if required else self.text(column)
        if value is None:
            return None
        try:
            return code_set(value.upper())
        except ValueError:
            codes = ", ".join(c.value for c in code_set)
            self.problems.append(f"{column} '{value}' is not an SSDA903 code (one of {codes})")
            return None


def _name_key(name: str) -> str:
    stem = name.rsplit(".", 1)[0]
    return re.sub(r"[^a-z0-9]", "", stem.lower())


#: File names councils and Casework give the tables (``placed_for_adoption.csv``,
#: ``sw_episodes.csv``), by the table they suggest: used only to word a refusal helpfully.
_TABLE_BY_NAME = {_name_key(t): t for t in TABLE_COLUMNS} | {
    "placedforadoption": "PlacedAdoption",
    "ssda903header": "Header",
    "ssda903episodes": "Episodes",
}


def _read_tables(tables: dict[str, str], report: ImportReport) -> dict[str, list[_Row]]:
    """Each file identified by its columns, as rows; unknown files are rejected."""
    found: dict[str, list[_Row]] = {}
    files_of: dict[str, str] = {}
    for name in sorted(tables):
        text = tables[name]
        if "\x00" in text:
            report.reject(name, "This is not a CSV text file (it holds binary data).")
            continue
        reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
        try:
            lines = list(reader)
        except csv.Error as exc:
            report.reject(name, f"This is not a readable CSV file ({exc}).")
            continue
        if not lines:
            report.reject(name, "The file is empty: a table has at least its header line.")
            continue
        columns = [c.strip() for c in lines[0]]
        table = next((t for t, cols in TABLE_COLUMNS.items() if set(cols) == set(columns)), None)
        if table is None:
            report.reject(name, _unknown_columns(name, columns))
            continue
        if table in files_of:
            report.reject(name, f"This is a second {table} table (the first is {files_of[table]}).")
            continue
        files_of[table] = name
        rows: list[_Row] = []
        for number, cells in enumerate(lines[1:], start=2):
            if not any(c.strip() for c in cells):
                continue  # a blank line
            if len(cells) != len(columns):
                report.reject(
                    f"{name} line {number}",
                    f"The row has {len(cells)} values where the {table} table has "
                    f"{len(columns)} columns.",
                )
                continue
            rows.append(_Row(table, name, number, dict(zip(columns, cells, strict=True))))
        found[table] = rows
    for table, rows in found.items():
        if table == "DoLo" and rows:
            report.reject(
                files_of[table],
                f"Casework keeps no record of deprivation of liberty orders, so the {len(rows)} "
                "rows of the DoLo table cannot be imported and would be lost: keep them in the "
                "legacy system and remove the file (or its rows) to import the rest of the return.",
            )
        elif table not in IMPORTED_TABLES and rows:
            report.reject(
                files_of[table],
                f"Casework does not import the {table} table yet, and its {len(rows)} rows "
                "would be lost: remove the file (or its rows) to import the rest of the return.",
            )
    return found


def _unknown_columns(name: str, columns: Sequence[str]) -> str:
    shown = ", ".join(c for c in columns if c) or "none"
    guess = _TABLE_BY_NAME.get(_name_key(name))
    if guess is not None:
        expected = TABLE_COLUMNS[guess]
        missing = [c for c in expected if c not in columns]
        extra = [c for c in columns if c not in expected]
        detail = "; ".join(
            part
            for part in (
                f"missing {', '.join(missing)}" if missing else "",
                f"unexpected {', '.join(extra)}" if extra else "",
            )
            if part
        )
        return (
            f"The columns ({shown}) are not those of the SSDA903 {guess} table, which has exactly "
            f"{', '.join(expected)}" + (f" ({detail})." if detail else ".")
        )
    tables = "; ".join(f"{t}: {', '.join(cols)}" for t, cols in TABLE_COLUMNS.items())
    return (
        f"The columns ({shown}) are not those of any SSDA903 table. Each table has exactly these "
        f"columns: {tables}."
    )


# --- checking the rows -------------------------------------------------------------------------


@dataclass(frozen=True)
class HeaderIn:
    record: str
    child: str
    sex: Sex
    dob: date
    ethnicity: Ethnicity
    upn: str | None
    mother: bool | None
    mc_dob: date | None


@dataclass(frozen=True)
class EpisodeIn:
    """One Episodes row, checked. ``key`` is what an exported episode must equal."""

    record: str
    child: str
    decom: date
    rne: ReasonNewEpisode
    ls: LegalStatus
    cin: PrimaryNeed
    place: PlacementType
    provider: PlacementProvider | None
    dec: date | None
    rec: ReasonEpisodeCeased | None
    reason_place_change: ReasonPlaceChange | None
    home_post: str | None
    pl_post: str | None
    urn: str | None

    @property
    def placement(self) -> tuple[object, ...]:
        return (self.place, self.provider, self.home_post, self.pl_post, self.urn)

    @property
    def key(self) -> tuple[object, ...]:
        return (
            self.decom,
            self.rne,
            self.ls,
            self.cin,
            self.place,
            self.provider,
            self.dec,
            self.rec,
            self.reason_place_change,
            self.home_post,
            self.pl_post,
            self.urn,
        )


def _episode_key(ep: Episode) -> tuple[object, ...]:
    return (
        ep.decom,
        ep.rne,
        ep.ls,
        ep.cin,
        ep.place,
        ep.place_provider,
        ep.dec,
        ep.rec,
        ep.reason_place_change,
        ep.home_post,
        ep.pl_post,
        ep.urn,
    )


@dataclass(frozen=True)
class ReviewIn:
    record: str
    child: str
    review: date
    code: ParticipationCode


@dataclass(frozen=True)
class MissingIn:
    record: str
    child: str
    kind: MissingKind
    start: date
    end: date | None


@dataclass(frozen=True)
class Oc3In:
    """A care leaver's OC3 row: the contact around their birthday (blank when none was had)."""

    record: str
    child: str
    in_touch: InTouch | None
    activity: Activity | None
    accommodation: Accommodation | None


@dataclass(frozen=True)
class PrevPermIn:
    record: str
    child: str
    prev_perm: PreviousPermanence
    la_perm: str | None
    date_perm: str | None


@dataclass(frozen=True)
class PlacedIn:
    """A decision that the child should be placed for adoption, and its reversal if any."""

    record: str
    child: str
    decided: date
    reversed: date | None
    reason: ReasonPlacedCeased | None


@dataclass(frozen=True)
class Ad1In:
    """An adopted child's AD1 row (rule 523: DATE_INT is the decision's DATE_PLACED)."""

    record: str
    child: str
    decided: date
    matched: date | None
    foster_care: bool | None
    adopters: int | None
    sex: AdopterSex | None
    legal_status: AdopterLegalStatus | None


@dataclass(frozen=True)
class UascIn:
    record: str
    child: str
    dob: date
    duc: date | None


@dataclass(frozen=True)
class SwEpisodeIn:
    record: str
    child: str
    dob: date
    sw_id: str
    decom: date
    dec: date | None
    reason: SWReason


@dataclass(frozen=True)
class Adoption:
    """An AD1 row with the dates the Episodes give it."""

    row: Ad1In
    placed: date
    adopted: date


def _postcode(row: _Row, column: str) -> str | None:
    value = row.text(column)
    if value is None:
        return None
    if not is_valid_uk_postcode(value):
        row.problems.append(f"{column} '{value}' is not a full UK postcode (rule 392c)")
        return None
    return normalise_postcode(value)


def _header(row: _Row, seen: dict[str, str]) -> HeaderIn | None:
    child = row.required("CHILD")
    if child is not None:
        if not is_valid_la_child_id(child):
            row.problems.append("CHILD must be 1 to 20 characters with no surrounding spaces")
        elif child in seen:
            row.problems.append(f"the child is in the Header twice (also {seen[child]})")
        else:
            seen[child] = row.record
    raw_sex = row.required("SEX")
    sex = SEX_CODES.get(raw_sex.upper()) if raw_sex is not None else None
    if raw_sex is not None and sex is None:
        row.problems.append(
            f"SEX '{raw_sex}' is not M, F or U (or 1 or 2 before 2024-25) (rule 101)"
        )
    dob = row.day("DOB")
    ethnicity = row.code("ETHNIC", Ethnicity)
    upn: str | None = None
    raw_upn = row.text("UPN")
    if raw_upn is not None:
        if raw_upn.upper() in {c.value for c in UPNUnknown}:
            # A reason the UPN is not known: Casework stores no reason (the returns derive it,
            # e.g. UN1 for a child under school age), and the UPN field holds only real UPNs.
            upn = None
        elif is_valid_upn(raw_upn):
            upn = normalise_upn(raw_upn)
        else:
            row.problems.append(
                f"UPN '{raw_upn}' is neither a valid UPN nor a reason code UN1-UN5 (rule 1510)"
            )
    raw_mother = row.text("MOTHER")
    mother = {"1": True, "0": False, None: None}.get(raw_mother)
    if raw_mother is not None and mother is None:
        row.problems.append(f"MOTHER '{raw_mother}' is not 1 or 0")
    known = len(row.problems)
    mc_dob = row.day("MC_DOB", required=False)
    if mother is True and mc_dob is None and len(row.problems) == known:
        row.problems.append("MOTHER is 1 but MC_DOB, her child's date of birth, is missing")
    if mother is not True and mc_dob is not None:
        row.problems.append("MC_DOB is given but MOTHER is not 1")
    if mother is not None and sex is Sex.MALE:
        row.problems.append("MOTHER is given for a boy")
    if dob is not None and mc_dob is not None and mc_dob <= dob:
        row.problems.append("MC_DOB is not after the mother's own DOB")
    if row.problems or child is None or sex is None or dob is None or ethnicity is None:
        return None
    return HeaderIn(row.record, child, sex, dob, ethnicity, upn, mother, mc_dob)


def _episode(row: _Row) -> EpisodeIn | None:
    child = row.required("CHILD")
    decom = row.day("DECOM")
    rne = row.code("RNE", ReasonNewEpisode)
    ls = row.code("LS", LegalStatus)
    cin = row.code("CIN", PrimaryNeed)
    if cin is not None and cin not in CATEGORIES_OF_NEED:
        row.problems.append(f"CIN '{cin.value}' is not a category of need N1-N8 (rule 145)")
    place = row.code("PLACE", PlacementType)
    provider = row.code("PLACE_PROVIDER", PlacementProvider, required=False)
    dec = row.day("DEC", required=False)
    rec = row.code("REC", ReasonEpisodeCeased, required=False)
    reason = row.code("REASON_PLACE_CHANGE", ReasonPlaceChange, required=False)
    home_post = _postcode(row, "HOME_POST")
    pl_post = _postcode(row, "PL_POST")
    urn = row.text("URN")
    if urn is not None and len(urn) > 10:
        row.problems.append(f"URN '{urn}' is longer than an Ofsted URN (10 characters)")
    if decom is not None and dec is not None and dec <= decom:
        row.problems.append(
            f"DEC {dec:%d/%m/%Y} is not after DECOM {decom:%d/%m/%Y}: an episode lasts at least "
            "a day (rule 355)"
        )
    if (dec is None) != (row.text("REC") is None):
        row.problems.append("DEC and REC come together: both given or both blank (rule 148)")
    if (
        row.problems
        or child is None
        or decom is None
        or rne is None
        or ls is None
        or cin is None
        or place is None
    ):
        return None
    return EpisodeIn(
        row.record,
        child,
        decom,
        rne,
        ls,
        cin,
        place,
        provider,
        dec,
        rec,
        reason,
        home_post,
        pl_post,
        urn,
    )


def _review(row: _Row) -> ReviewIn | None:
    child = row.required("CHILD")
    review = row.day("REVIEW")
    raw = row.required("REVIEW_CODE")
    code: ParticipationCode | None = None
    if raw is not None:
        try:
            code = ParticipationCode(raw.upper())
        except ValueError:
            row.problems.append(f"REVIEW_CODE '{raw}' is not one of PN0-PN7 (rule 167)")
    if row.problems or child is None or review is None or code is None:
        return None
    return ReviewIn(row.record, child, review, code)


def _missing(row: _Row) -> MissingIn | None:
    child = row.required("CHILD")
    raw = row.required("MISSING")
    kind: MissingKind | None = None
    if raw is not None:
        try:
            kind = MissingKind(raw.upper())
        except ValueError:
            row.problems.append(f"MISSING '{raw}' is not M (missing) or A (away) (rule 1006)")
    start = row.day("MIS_START")
    end = row.day("MIS_END", required=False)
    if start is not None and end is not None and end < start:
        row.problems.append(
            f"MIS_END {end:%d/%m/%Y} is before MIS_START {start:%d/%m/%Y} (rule 567)"
        )
    if row.problems or child is None or kind is None or start is None:
        return None
    return MissingIn(row.record, child, kind, start, end)


def _oc3(row: _Row) -> Oc3In | None:
    child = row.required("CHILD")
    in_touch = row.code("IN_TOUCH", InTouch, required=False)
    activity = row.code("ACTIV", Activity, required=False)
    accommodation = row.code("ACCOM", Accommodation, required=False)
    given = [row.text(c) is not None for c in ("IN_TOUCH", "ACTIV", "ACCOM")]
    if any(given) and not all(given):
        row.problems.append("IN_TOUCH, ACTIV and ACCOM are recorded together (rule 153)")
    if row.problems or child is None:
        return None
    return Oc3In(row.record, child, in_touch, activity, accommodation)


#: DATE_PERM as the return writes it: dd/mm/YYYY, with ZZ for a day or month not known (632).
_DATE_PERM = re.compile(r"(\d{2}|ZZ)/(\d{2}|ZZ)/\d{4}")


def _prev_perm(row: _Row) -> PrevPermIn | None:
    child = row.required("CHILD")
    prev_perm = row.code("PREV_PERM", PreviousPermanence)
    la_perm = row.text("LA_PERM")
    date_perm = row.text("DATE_PERM")
    if la_perm is not None and len(la_perm) > 3:
        row.problems.append(f"LA_PERM '{la_perm}' is not a 3-character LA code")
    if date_perm is not None and not _DATE_PERM.fullmatch(date_perm.upper()):
        row.problems.append(
            f"DATE_PERM '{date_perm}' is not dd/mm/YYYY (ZZ for an unknown day or month)"
        )
    if prev_perm is PreviousPermanence.NONE and (la_perm or date_perm):
        row.problems.append("PREV_PERM Z1 (no previous permanence) has no LA_PERM or DATE_PERM")
    option = prev_perm is not None and prev_perm is not PreviousPermanence.NONE
    if option and not (la_perm or date_perm):
        row.problems.append(f"PREV_PERM {row.text('PREV_PERM')} needs LA_PERM or DATE_PERM (630)")
    if row.problems or child is None or prev_perm is None:
        return None
    return PrevPermIn(
        row.record, child, prev_perm, la_perm, date_perm.upper() if date_perm else None
    )


def _placed(row: _Row) -> PlacedIn | None:
    child = row.required("CHILD")
    decided = row.day("DATE_PLACED")
    reversed_on = row.day("DATE_PLACED_CEASED", required=False)
    reason = row.code("REASON_PLACED_CEASED", ReasonPlacedCeased, required=False)
    if (row.text("DATE_PLACED_CEASED") is None) != (row.text("REASON_PLACED_CEASED") is None):
        row.problems.append("DATE_PLACED_CEASED and REASON_PLACED_CEASED come together (rule 119)")
    if decided is not None and reversed_on is not None and reversed_on < decided:
        row.problems.append("DATE_PLACED_CEASED is before DATE_PLACED (rule 522)")
    if row.problems or child is None or decided is None:
        return None
    return PlacedIn(row.record, child, decided, reversed_on, reason)


def _flag(row: _Row, column: str) -> bool | None:
    value = row.text(column)
    if value is None:
        return None
    if value not in ("0", "1"):
        row.problems.append(f"{column} '{value}' is not 0 or 1")
        return None
    return value == "1"


def _ad1(row: _Row) -> Ad1In | None:
    child = row.required("CHILD")
    decided = row.day("DATE_INT")
    matched = row.day("DATE_MATCH", required=False)
    foster_care = _flag(row, "FOSTER_CARE")
    raw = row.text("NB_ADOPTR")
    adopters: int | None = None
    if raw is not None:
        if raw in ("1", "2"):
            adopters = int(raw)
        else:
            row.problems.append(f"NB_ADOPTR '{raw}' is not 1 or 2 (rule 175)")
    sex = row.code("SEX_ADOPTR", AdopterSex, required=False)
    legal_status = row.code("LS_ADOPTR", AdopterLegalStatus, required=False)
    if decided is not None and matched is not None and matched < decided:
        row.problems.append("DATE_MATCH is before DATE_INT (rule 333)")
    if row.problems or child is None or decided is None:
        return None
    return Ad1In(row.record, child, decided, matched, foster_care, adopters, sex, legal_status)


def _uasc(row: _Row) -> UascIn | None:
    child = row.required("CHILD")
    raw_sex = row.required("SEX")
    if raw_sex is not None and raw_sex.upper() not in SEX_CODES:
        row.problems.append(
            f"SEX '{raw_sex}' is not M, F or U (or 1 or 2 before 2024-25) (rule 101)"
        )
    dob = row.day("DOB")
    duc = row.day("DUC", required=False)
    if dob is not None and duc is not None:
        if duc < dob:
            row.problems.append(f"DUC {duc:%d/%m/%Y} is before DOB {dob:%d/%m/%Y}")
        elif duc > add_months(dob, 18 * 12):
            row.problems.append(
                f"DUC {duc:%d/%m/%Y} is after the 18th birthday: UASC status ends then at the "
                "latest (rule 304)"
            )
    if row.problems or child is None or dob is None:
        return None
    return UascIn(row.record, child, dob, duc)


#: The longest SW_ID an account holds (``UserAccount.swe_registration_number``).
SW_ID_LENGTH = 20


def _sw_episode(row: _Row) -> SwEpisodeIn | None:
    child = row.required("CHILD")
    dob = row.day("DOB")
    sw_id = row.required("SW_ID")
    if sw_id is not None and len(sw_id) > SW_ID_LENGTH:
        row.problems.append(f"SW_ID '{sw_id}' is longer than {SW_ID_LENGTH} characters")
    decom = row.day("SW_DECOM")
    dec = row.day("SW_DEC", required=False)
    raw_reason = row.text("SW_REASON")
    reason: SWReason | None = None
    if raw_reason is None:
        row.problems.append("SW_REASON is missing (rule SW15)")
    else:
        try:
            reason = SWReason(raw_reason.upper())
        except ValueError:
            codes = ", ".join(c.value for c in SWReason)
            row.problems.append(
                f"SW_REASON '{raw_reason}' is not an SSDA903 code (one of {codes}) (rule SW13)"
            )
    if decom is not None and dec is not None and dec <= decom:
        # A worker who held the case within one day is no episode (SW19: episodes never start
        # on the same day), so an episode ends at the earliest the day after it started.
        row.problems.append(
            f"SW_DEC {dec:%d/%m/%Y} is not after SW_DECOM {decom:%d/%m/%Y}: a social worker "
            "episode lasts at least a day"
        )
    if dob is not None and decom is not None and decom < dob:
        row.problems.append(f"SW_DECOM {decom:%d/%m/%Y} is before DOB {dob:%d/%m/%Y}")
    if row.problems or child is None or dob is None or sw_id is None or decom is None:
        return None
    assert reason is not None  # no problem recorded: the reason was read
    return SwEpisodeIn(row.record, child, dob, sw_id, decom, dec, reason)


def _collection_year(
    episodes: Sequence[EpisodeIn], reviews: Sequence[ReviewIn], missing: Sequence[MissingIn]
) -> CollectionYear | None:
    """The year the return is for: the one its latest date falls in (a return holds nothing
    after its 31 March: rules 148, 233)."""
    days = [d for e in episodes for d in (e.decom, e.dec) if d is not None]
    days += [r.review for r in reviews]
    days += [d for m in missing for d in (m.start, m.end) if d is not None]
    return CollectionYear.containing(max(days)) if days else None


T = TypeVar("T")


def _sentence(problems: Sequence[str]) -> str:
    """A row's problems as one sentence for the report."""
    text = "; ".join(problems)
    return text[:1].upper() + text[1:] + "."


def _checked(
    rows: Iterable[_Row], check: Callable[[_Row], T | None], report: ImportReport
) -> list[T]:
    out: list[T] = []
    for row in rows:
        item = check(row)
        if row.problems:
            report.reject(row.record, _sentence(row.problems))
        elif item is not None:
            out.append(item)
    return out


# --- periods of care from the episodes ----------------------------------------------------------


@dataclass
class PeriodIn:
    """The episodes of one period of care in the file, oldest first."""

    child: str
    episodes: list[EpisodeIn]

    @property
    def start(self) -> date:
        return self.episodes[0].decom

    @property
    def end(self) -> date | None:
        return self.episodes[-1].dec

    @property
    def continues_earlier(self) -> bool:
        """Whether the file holds only the later part of the period (its first row is not S)."""
        return self.episodes[0].rne is not _R.STARTED


def _periods(child: str, episodes: list[EpisodeIn], report: ImportReport) -> list[PeriodIn]:
    """The child's episodes grouped into periods of care, or [] with rejections when they do not
    make a history Casework can hold (they overlap, leave a gap, or change nothing)."""
    episodes = sorted(episodes, key=lambda e: e.decom)
    periods: list[PeriodIn] = []
    ok = True
    for i, ep in enumerate(episodes):
        before = episodes[i - 1] if i else None
        problems: list[str] = []
        if before is not None:
            if before.dec is None:
                problems.append(
                    f"it starts while the previous episode is still open ({before.record}): "
                    "episodes do not overlap (rule 142)"
                )
            elif ep.decom < before.dec:
                problems.append(
                    f"DECOM {ep.decom:%d/%m/%Y} is before the previous episode ended "
                    f"({before.dec:%d/%m/%Y}, {before.record}): episodes do not overlap"
                )
            elif before.rec is ReasonEpisodeCeased.NEW_EPISODE:
                if ep.decom != before.dec:
                    problems.append(
                        f"the previous episode ended {before.dec:%d/%m/%Y} with REC X1, so the "
                        f"next starts that day, not {ep.decom:%d/%m/%Y} (rule 142)"
                    )
                if ep.rne is _R.STARTED:
                    problems.append(
                        "RNE S starts a period of care, but the previous episode (X1) "
                        "said care went on"
                    )
            elif ep.rne is not _R.STARTED:
                problems.append(
                    f"care ceased on {before.dec:%d/%m/%Y} ({before.record}), so the next "
                    f"episode starts a new period with RNE S, not {ep.rne.value}"
                )
        continuing = before is not None and before.rec is ReasonEpisodeCeased.NEW_EPISODE
        if continuing and not problems and before is not None:
            if ep.rne is _R.LEGAL_STATUS and ep.placement != before.placement:
                problems.append(
                    "RNE L says only the legal status changed, but the placement details differ "
                    "from the previous episode"
                )
            if ep.rne in (_R.PLACEMENT, _R.PLACEMENT_SAME_CARER) and ep.ls != before.ls:
                problems.append(
                    f"RNE {ep.rne.value} says only the placement changed, but LS changed from "
                    f"{before.ls.value} to {ep.ls.value}"
                )
            if ep.cin != before.cin:
                problems.append(
                    f"CIN changed within a period of care ({before.cin.value} to {ep.cin.value}): "
                    "the category of need is the one at the start of the period (rule 145)"
                )
        if (
            before is not None
            and before.reason_place_change is not None
            and (not continuing or ep.rne not in PLACEMENT_CHANGES)
        ):
            report.reject(
                before.record,
                "REASON_PLACE_CHANGE is given, but the placement does not change after this "
                "episode: it says why a placement ended for a move.",
            )
            ok = False
        if problems:
            report.reject(ep.record, _sentence(problems))
            ok = False
            continue
        if continuing and periods:
            periods[-1].episodes.append(ep)
        else:
            periods.append(PeriodIn(child, [ep]))
    last = episodes[-1] if episodes else None
    if last is not None and last.reason_place_change is not None:
        report.reject(
            last.record,
            "REASON_PLACE_CHANGE is given on the child's last episode, which no placement change "
            "follows (rule 233).",
        )
        ok = False
    return periods if ok else []


# --- the plan: what is new, what is already there ------------------------------------------------


@dataclass
class _Extension:
    """An open period in Casework continued by the file's later episodes."""

    period: PeriodOfCare
    known: int  # how many of the file's episodes Casework already holds
    episodes: list[EpisodeIn]


@dataclass
class ChildPlan:
    child: str
    header: HeaderIn | None
    person: Person | None
    new_periods: list[PeriodIn] = field(default_factory=list)
    extensions: list[_Extension] = field(default_factory=list)
    unchanged_periods: int = 0
    reviews: list[ReviewIn] = field(default_factory=list)
    missing: list[MissingIn] = field(default_factory=list)
    oc3: list[tuple[Oc3In, date]] = field(default_factory=list)
    prev_perm: list[tuple[PrevPermIn, date]] = field(default_factory=list)
    placed: list[PlacedIn] = field(default_factory=list)
    adoptions: list[Adoption] = field(default_factory=list)
    episodes: list[EpisodeIn] = field(default_factory=list)
    held_periods: list[PeriodOfCare] | None = None
    held_missing: dict[date, MissingEpisode] | None = None
    uasc: UascIn | None = None  # a new UASC status, held from uasc_since
    uasc_since: date | None = None
    uasc_ended: tuple[UascStatus, date] | None = None
    uasc_unchanged: bool = False
    sw_new: list[SwEpisodeIn] = field(default_factory=list)
    sw_ended: list[tuple[SocialWorkerEpisode, date]] = field(default_factory=list)
    sw_unchanged: int = 0


def _existing_periods(
    session: Session, person: Person | None
) -> list[tuple[PeriodOfCare, list[Episode]]]:
    if person is None:
        return []
    periods = session.scalars(
        select(PeriodOfCare)
        .where(PeriodOfCare.child_id == person.id)
        .order_by(PeriodOfCare.start_date)
    )
    return [(p, episodes_for_period(session, p)) for p in periods]


def _same_but_open(open_key: tuple[object, ...], key: tuple[object, ...]) -> bool:
    """Whether an episode open on 31 March (no DEC, REC or REASON_PLACE_CHANGE: rules 148, 233)
    is the same episode as one that has since ended: the same in every other column."""
    return open_key[:6] == key[:6] and open_key[9:] == key[9:] and open_key[6:9] == (None,) * 3


def _earlier_view(
    earlier: Sequence[tuple[object, ...]], later: Sequence[tuple[object, ...]]
) -> bool:
    """Whether ``earlier`` is the same period seen on an earlier 31 March than ``later``: the same
    first episodes, its last one still open then."""
    n = len(earlier)
    return (
        0 < n <= len(later)
        and list(earlier[: n - 1]) == list(later[: n - 1])
        and _same_but_open(earlier[n - 1], later[n - 1])
    )


def _match_period(
    plan: ChildPlan,
    period_in: PeriodIn,
    existing: list[tuple[PeriodOfCare, list[Episode]]],
    report: ImportReport,
) -> None:
    """Decide whether the file's period is new, already held, or continues an open one."""
    first = period_in.episodes[0]
    for period, derived in existing:
        keys = [_episode_key(e) for e in derived]
        at = next((i for i, e in enumerate(derived) if e.decom == first.decom), None)
        if at is None:
            continue
        held = keys[at:]
        incoming = [e.key for e in period_in.episodes]
        if held == incoming or _earlier_view(incoming, held):
            plan.unchanged_periods += 1
            return
        # An open period (last year's return) continued by this year's episodes: Casework's
        # episodes are the file's first ones, the last of them then still open.
        if period.state == PERIOD_LOOKED_AFTER and _earlier_view(held, incoming):
            plan.extensions.append(_Extension(period, len(held), period_in.episodes))
            return
        report.reject(
            first.record,
            f"Casework already holds a period of care from {period.start_date:%d/%m/%Y} whose "
            "episodes differ from the file's from this one on; correct the record in Casework "
            "or the file so that they agree.",
        )
        return
    if period_in.continues_earlier:
        report.reject(
            first.record,
            f"RNE {first.rne.value} says care began before DECOM {first.decom:%d/%m/%Y}, but "
            "neither the file nor Casework holds the earlier episodes of this period: import the "
            "earlier year's return first.",
        )
        return
    end = period_in.end
    for period, _derived in existing:
        if (end is None or period.start_date <= end) and (
            period.end_date is None or period.end_date >= period_in.start
        ):
            report.reject(
                first.record,
                f"This period of care overlaps the one Casework holds from "
                f"{period.start_date:%d/%m/%Y}: periods of care never overlap (rule 142).",
            )
            return
    born = plan.header.dob if plan.header else (plan.person.date_of_birth if plan.person else None)
    if born is not None and first.decom < born:
        report.reject(first.record, f"DECOM is before the child's birth ({born:%d/%m/%Y}).")
        return
    plan.new_periods.append(period_in)


def _period_of(plan: ChildPlan, existing: list[PeriodOfCare], day: date) -> bool:
    def covers(start: date, end: date | None) -> bool:
        return start <= day and (end is None or day <= end)

    return (
        any(covers(p.start, p.end) for p in plan.new_periods)
        or any(covers(e.period.start_date, e.episodes[-1].dec) for e in plan.extensions)
        or any(covers(p.start_date, p.end_date) for p in existing)
    )


def _plan(session: Session, found: dict[str, list[_Row]], report: ImportReport) -> list[ChildPlan]:
    seen: dict[str, str] = {}
    headers = _checked(found.get("Header", []), lambda r: _header(r, seen), report)
    episodes = _checked(found.get("Episodes", []), _episode, report)
    reviews = _checked(found.get("Reviews", []), _review, report)
    missing = _checked(found.get("Missing", []), _missing, report)
    oc3 = _checked(found.get("OC3", []), _oc3, report)
    prev_perm = _checked(found.get("PrevPerm", []), _prev_perm, report)
    placed = _checked(found.get("PlacedAdoption", []), _placed, report)
    ad1 = _checked(found.get("AD1", []), _ad1, report)
    uasc = _checked(found.get("UASC", []), _uasc, report)
    sw_episodes = _checked(found.get("SWEpisodes", []), _sw_episode, report)
    year = _collection_year(episodes, reviews, missing)
    plans: dict[str, ChildPlan] = {}
    for header in headers:
        person = child_by_la_child_id(session, header.child)
        if person is not None and person.date_of_birth not in (None, header.dob):
            report.reject(
                header.record,
                f"Casework's child with this LA child id was born on "
                f"{person.date_of_birth:%d/%m/%Y}, not {header.dob:%d/%m/%Y}: check the "
                "identifier matches the same child.",
            )
            continue
        plans[header.child] = ChildPlan(header.child, header, person)
    # Rows about a child the Header does not name: allowed for a child Casework already holds.
    named: list[
        EpisodeIn | ReviewIn | MissingIn | Oc3In | PrevPermIn | PlacedIn | Ad1In | UascIn
    ] = [
        *episodes,
        *reviews,
        *missing,
        *oc3,
        *prev_perm,
        *placed,
        *ad1,
        *uasc,
    ]
    for item in [*named, *sw_episodes]:
        if item.child in plans or item.child in seen:
            continue
        person = child_by_la_child_id(session, item.child)
        if person is None:
            report.reject(
                item.record,
                "This child is not in the Header table nor already in Casework: the Header gives "
                "the sex and date of birth needed to create them.",
            )
            seen[item.child] = item.record  # one rejection is enough
            continue
        plans[item.child] = ChildPlan(item.child, None, person)
    by_child: dict[str, list[EpisodeIn]] = {}
    for ep in episodes:
        by_child.setdefault(ep.child, []).append(ep)
    for child, eps in by_child.items():
        plan = plans.get(child)
        if plan is None:
            continue
        plan.episodes = eps
        existing = _existing_periods(session, plan.person)
        for period_in in _periods(child, eps, report):
            _match_period(plan, period_in, existing, report)
    for review in reviews:
        plan = plans.get(review.child)
        if plan is None:
            continue
        held = _held_periods(session, plan)
        if not _period_of(plan, held, review.review):
            report.reject(
                review.record,
                f"The review on {review.review:%d/%m/%Y} is not within a period of care in the "
                "file or in Casework.",
            )
            continue
        plan.reviews.append(review)
    for item in missing:
        plan = plans.get(item.child)
        if plan is None:
            continue
        held = _held_periods(session, plan)
        if not _period_of(plan, held, item.start):
            report.reject(
                item.record,
                f"The episode starting {item.start:%d/%m/%Y} is not within a period of care in "
                "the file or in Casework: the Missing table holds episodes while looked after "
                "(rule 581).",
            )
            continue
        problem = _missing_conflict(session, plan, item, missing)
        if problem is not None:
            report.reject(item.record, problem)
            continue
        plan.missing.append(item)
    _refuse_overlapping_missing(plans.values(), report)
    for decision in placed:
        plan = plans.get(decision.child)
        if plan is not None:
            _plan_placed(session, plan, decision, report)
    for adopted in ad1:
        plan = plans.get(adopted.child)
        if plan is not None:
            _plan_ad1(session, plan, adopted, report)
    yearly: list[Oc3In | PrevPermIn | UascIn | SwEpisodeIn] = [
        *oc3,
        *prev_perm,
        *uasc,
        *sw_episodes,
    ]
    if yearly and year is None:
        report.reject(
            yearly[0].record,
            "OC3, PrevPerm, UASC and SWEpisodes rows are read as at the return's 31 March, "
            "which is read from the dates of its Episodes, Reviews and Missing tables: this "
            "return has none.",
        )
        return []
    if year is not None:
        for leaver in oc3:
            plan = plans.get(leaver.child)
            if plan is not None:
                _plan_oc3(session, plan, leaver, year, report)
        for perm in prev_perm:
            plan = plans.get(perm.child)
            if plan is not None:
                _plan_prev_perm(session, plan, perm, year, report)
        for status in uasc:
            plan = plans.get(status.child)
            if plan is not None:
                _plan_uasc(session, plan, status, year, report)
        workers: dict[str, list[SwEpisodeIn]] = {}
        for worker in sw_episodes:
            workers.setdefault(worker.child, []).append(worker)
        for child, rows in workers.items():
            plan = plans.get(child)
            if plan is not None:
                _plan_social_workers(session, plan, rows, year, report)
    return sorted(plans.values(), key=lambda p: p.child)


def _held_decisions(session: Session, person: Person | None) -> dict[date, AdoptionDecision]:
    if person is None:
        return {}
    return {
        d.decision_date: d
        for d in session.scalars(
            select(AdoptionDecision).where(AdoptionDecision.child_id == person.id)
        )
    }


def _plan_placed(
    session: Session, plan: ChildPlan, decision: PlacedIn, report: ImportReport
) -> None:
    if not _period_of(plan, _held_periods(session, plan), decision.decided):
        report.reject(
            decision.record,
            f"The decision of {decision.decided:%d/%m/%Y} to place for adoption is not within a "
            "period of care in the file or in Casework.",
        )
        return
    held = _held_decisions(session, plan.person).get(decision.decided)
    if (
        held is not None
        and held.reversed_date is not None
        and decision.reversed is not None
        and (held.reversed_date, held.reversed_reason) != (decision.reversed, decision.reason)
    ):
        report.reject(
            decision.record,
            f"Casework holds this decision as reversed on {held.reversed_date:%d/%m/%Y} "
            f"({held.reversed_reason}), which the file contradicts.",
        )
        return
    plan.placed.append(decision)


def _adoption_dates(
    session: Session, plan: ChildPlan, decided: date
) -> tuple[date | None, date | None]:
    """From the episodes (the file's, else Casework's): the day the child was placed for adoption
    after the decision (the first A3-A6 placement) and the day care ceased by adoption."""
    rows: list[tuple[date, PlacementType, date | None, ReasonEpisodeCeased | None]] = [
        (e.decom, e.place, e.dec, e.rec) for e in plan.episodes
    ]
    if plan.person is not None:
        rows += [
            (e.decom, e.place, e.dec, e.rec)
            for e in episodes_for_child(session, plan.person.id)
            if not any(e.decom == r[0] for r in rows)
        ]
    rows.sort(key=lambda r: r[0])
    placed = next((r[0] for r in rows if r[0] >= decided and r[1] in ADOPTION_PLACEMENTS), None)
    adopted = next(
        (r[2] for r in rows if r[0] >= decided and r[3] in ADOPTED and r[2] is not None), None
    )
    return placed, adopted


def _plan_ad1(session: Session, plan: ChildPlan, adopted: Ad1In, report: ImportReport) -> None:
    decisions = {d.decided for d in plan.placed} | set(_held_decisions(session, plan.person))
    if adopted.decided not in decisions:
        report.reject(
            adopted.record,
            f"DATE_INT {adopted.decided:%d/%m/%Y} is not the DATE_PLACED of a decision to place "
            "for adoption in the file or in Casework (rule 523).",
        )
        return
    placed, order = _adoption_dates(session, plan, adopted.decided)
    if order is None:
        report.reject(
            adopted.record,
            "AD1 is for a child adopted in the year, but no episode after the decision ends with "
            "an adoption (REC E11 or E12).",
        )
        return
    if placed is None or placed > order:
        report.reject(
            adopted.record,
            "No placement for adoption (A3-A6) follows the decision before the adoption order.",
        )
        return
    if adopted.matched is not None and adopted.matched > placed:
        report.reject(
            adopted.record,
            f"DATE_MATCH {adopted.matched:%d/%m/%Y} is after the child was placed for adoption "
            f"({placed:%d/%m/%Y}) (rule 521).",
        )
        return
    plan.adoptions.append(Adoption(adopted, placed, order))


def _born(plan: ChildPlan) -> date | None:
    if plan.header is not None:
        return plan.header.dob
    return plan.person.date_of_birth if plan.person is not None else None


def _plan_oc3(
    session: Session, plan: ChildPlan, leaver: Oc3In, year: CollectionYear, report: ImportReport
) -> None:
    """OC3 is about the care leaver's 17th to 21st birthday in the year (rule 391); the contact
    goes on the case of their last period of care."""
    born = _born(plan)
    days = [birthday(born, n) for n in range(17, 22)] if born is not None else []
    day = next((d for d in days if year.start <= d <= year.end), None)
    if day is None:
        report.reject(
            leaver.record,
            f"OC3 is for a care leaver whose 17th to 21st birthday falls in {year.label}; this "
            "young person has none in that year (rule 391).",
        )
        return
    if not plan.new_periods and not _held_periods(session, plan):
        report.reject(
            leaver.record,
            "OC3 is for a care leaver, but neither the file nor Casework holds a period of care "
            "for this young person: import the return of the year they left care first.",
        )
        return
    plan.oc3.append((leaver, day))


def _plan_prev_perm(
    session: Session, plan: ChildPlan, perm: PrevPermIn, year: CollectionYear, report: ImportReport
) -> None:
    """Rule 630: a PrevPerm row for each child who started care in the year, with that period."""
    starts = sorted(
        {p.start for p in plan.new_periods if year.start <= p.start <= year.end}
        | {
            p.start_date
            for p in _held_periods(session, plan)
            if year.start <= p.start_date <= year.end
        }
    )
    taken = {day for _, day in plan.prev_perm}
    free = [d for d in starts if d not in taken]
    if not free:
        report.reject(
            perm.record,
            f"PrevPerm goes with a period of care that started in {year.label}, and this child "
            "has no such period (left) in the file or in Casework (rule 630).",
        )
        return
    plan.prev_perm.append((perm, free[0]))


def _as_at(day: date | None, year: CollectionYear) -> date | None:
    """An end date as the return for ``year`` shows it: blank when it came after 31 March."""
    return day if day is not None and day <= year.end else None


def _dob_differs(plan: ChildPlan, dob: date, record: str, report: ImportReport) -> bool:
    born = _born(plan)
    if born is not None and born != dob:
        report.reject(
            record,
            f"DOB {dob:%d/%m/%Y} is not the child's date of birth ({born:%d/%m/%Y}, in the "
            "Header or in Casework).",
        )
        return True
    return False


def _plan_uasc(
    session: Session, plan: ChildPlan, row: UascIn, year: CollectionYear, report: ImportReport
) -> None:
    """A UASC row: a new status, one Casework already holds, or the end of one it holds open."""
    if _dob_differs(plan, row.dob, row.record, report):
        return
    if plan.uasc is not None or plan.uasc_ended is not None or plan.uasc_unchanged:
        report.reject(row.record, "The child has a second row in the UASC table.")
        return
    starts = [p.start for p in plan.new_periods] + [
        p.start_date for p in _held_periods(session, plan)
    ]
    if not starts:
        report.reject(
            row.record,
            "UASC is reported for looked-after children, but neither the file nor Casework holds "
            "a period of care for this child: import the Episodes first.",
        )
        return
    adult = add_months(row.dob, 18 * 12)
    if row.duc is None and adult <= year.end:
        report.reject(
            row.record,
            f"DUC is blank, but the child turned 18 on {adult:%d/%m/%Y}, when UASC status "
            "ends (rule 304).",
        )
        return
    held = (
        session.scalar(select(UascStatus).where(UascStatus.child_id == plan.person.id))
        if plan.person is not None
        else None
    )
    if held is None:
        plan.uasc = row
        plan.uasc_since = min(starts) if row.duc is None else min(*starts, row.duc)
        return
    # As the export derives DUC (app.permanence.service.uasc_for_child).
    ceased = held.ceased_date or (adult if adult <= year.end else None)
    if _as_at(ceased, year) == row.duc:
        plan.uasc_unchanged = True
    elif held.ceased_date is None and row.duc is not None and row.duc >= held.since_date:
        plan.uasc_ended = (held, row.duc)
    else:
        shown = f"ceasing on {ceased:%d/%m/%Y}" if ceased else "not ceased"
        duc = f"{row.duc:%d/%m/%Y}" if row.duc else "blank"
        report.reject(
            row.record,
            f"Casework records the child's UASC status (held since "
            f"{held.since_date:%d/%m/%Y}) as {shown}, where DUC is {duc}: correct the record in "
            "Casework or the file so that they agree.",
        )


def _overlap(a_start: date, a_end: date | None, b_start: date, b_end: date | None) -> bool:
    return (a_end is None or b_start < a_end) and (b_end is None or a_start < b_end)


def _plan_social_workers(
    session: Session,
    plan: ChildPlan,
    rows: list[SwEpisodeIn],
    year: CollectionYear,
    report: ImportReport,
) -> None:
    """The child's social worker episodes: each new, held already, or ending one held open."""
    rows = sorted(
        (r for r in rows if not _dob_differs(plan, r.dob, r.record, report)),
        key=lambda r: r.decom,
    )
    for before, after in itertools.pairwise(rows):
        if before.dec is None or after.decom < before.dec:
            report.reject(
                after.record,
                f"It starts before the episode from {before.decom:%d/%m/%Y} ended "
                f"({before.record}): a child's social worker episodes do not overlap (rule SW10).",
            )
        elif before.sw_id == after.sw_id and before.dec == after.decom:
            report.reject(
                after.record,
                f"It continues {before.sw_id}'s episode ({before.record}) on the day it ended: "
                "one worker's unbroken spell is one episode.",
            )
    held = (
        social_worker_episodes_for_child(session, child_id=plan.person.id)
        if plan.person is not None
        else []
    )
    has_case = bool(plan.new_periods) or (
        plan.person is not None
        and session.scalar(select(Case.id).where(Case.child_id == plan.person.id).limit(1))
        is not None
    )
    new: list[SwEpisodeIn] = []
    for row in rows:
        same = next((h for h in held if (h.sw_id, h.sw_decom) == (row.sw_id, row.decom)), None)
        if same is None:
            new.append(row)
        else:
            shown = _as_at(same.sw_dec, year)
            if same.sw_reason is not row.reason:
                held_reason = same.sw_reason.value if same.sw_reason else "none"
                report.reject(
                    row.record,
                    f"Casework holds this episode with SW_REASON {held_reason}, not "
                    f"{row.reason.value}.",
                )
            elif shown == row.dec:
                plan.sw_unchanged += 1
            elif same.sw_dec is None and row.dec is not None:
                plan.sw_ended.append((same, row.dec))
            else:
                ended = f"ended on {same.sw_dec:%d/%m/%Y}" if same.sw_dec else "not ended"
                dec = f"{row.dec:%d/%m/%Y}" if row.dec else "blank"
                report.reject(
                    row.record,
                    f"Casework holds this episode as {ended}, where SW_DEC is {dec}: correct the "
                    "record in Casework or the file so that they agree.",
                )
    # Casework's episodes as they stand once the file has ended those it held open.
    ends = {(h.case_id, h.worker_id, h.sw_decom): dec for h, dec in plan.sw_ended}
    spans = [(h, ends.get((h.case_id, h.worker_id, h.sw_decom), h.sw_dec)) for h in held]
    for row in new:
        clash = next((h for h, dec in spans if _overlap(h.sw_decom, dec, row.decom, row.dec)), None)
        if clash is not None:
            until = f"{clash.sw_dec:%d/%m/%Y}" if clash.sw_dec else "now"
            who = clash.sw_id or "a worker with no SW_ID"
            report.reject(
                row.record,
                f"Casework holds a social worker episode ({who}) from "
                f"{clash.sw_decom:%d/%m/%Y} to {until} that overlaps this one: a child's social "
                "worker episodes do not overlap (rule SW10).",
            )
            continue
        if not has_case:
            report.reject(
                row.record,
                "Neither the file nor Casework holds a case of this child to allocate the social "
                "worker on: import the return's Episodes (or the CIN census) first.",
            )
            continue
        plan.sw_new.append(row)


def _held_missing(session: Session, person: Person | None) -> dict[date, MissingEpisode]:
    """The child's missing episodes in Casework by the day they started (in England)."""
    if person is None:
        return {}
    return {
        local_date(m.started_at): m
        for m in session.scalars(select(MissingEpisode).where(MissingEpisode.child_id == person.id))
    }


def _missing_conflict(
    session: Session, plan: ChildPlan, item: MissingIn, in_file: Sequence[MissingIn]
) -> str | None:
    """Why the file's episode cannot sit with what Casework holds, or None. The same start is the
    same episode: it may end now where last year's return had it open on 31 March."""
    if plan.held_missing is None:
        plan.held_missing = _held_missing(session, plan.person)
    held = plan.held_missing
    same = held.get(item.start)
    if same is not None:
        ended = local_date(same.ended_at) if same.ended_at is not None else None
        if same.kind is not item.kind:
            return (
                f"Casework holds the episode of {item.start:%d/%m/%Y} as {same.kind.value}, not "
                f"{item.kind.value}."
            )
        if ended is not None and item.end is not None and ended != item.end:
            return (
                f"Casework holds the episode of {item.start:%d/%m/%Y} as ended on "
                f"{ended:%d/%m/%Y}, not {item.end:%d/%m/%Y}."
            )
        return None
    ended_now = {m.start for m in in_file if m.child == item.child and m.end is not None}
    still_open = [d for d, m in held.items() if m.ended_at is None and d not in ended_now]
    if still_open and (item.end is None or item.end > still_open[0]):
        return (
            f"Casework holds a missing episode from {still_open[0]:%d/%m/%Y} that has not "
            "ended: missing episodes do not overlap (rule 574)."
        )
    return None


def _held_periods(session: Session, plan: ChildPlan) -> list[PeriodOfCare]:
    """The child's periods of care in Casework (read once: nothing is written while planning)."""
    if plan.person is None:
        return []
    if plan.held_periods is None:
        plan.held_periods = list(
            session.scalars(select(PeriodOfCare).where(PeriodOfCare.child_id == plan.person.id))
        )
    return plan.held_periods


def _refuse_overlapping_missing(plans: Iterable[ChildPlan], report: ImportReport) -> None:
    """Rule 574: a missing episode starts after the previous one ended (one open at a time)."""
    for plan in plans:
        ordered = sorted(plan.missing, key=lambda m: m.start)
        for before, after in itertools.pairwise(ordered):
            if before.end is None or after.start < before.end:
                report.reject(
                    after.record,
                    f"It starts before the episode of {before.start:%d/%m/%Y} ended "
                    f"({before.record}): missing episodes do not overlap (rule 574).",
                )


# --- writing ----------------------------------------------------------------------------------


def _entry_route(ls: LegalStatus) -> CareEntryRoute:
    return next(r for r in _ROUTE_ORDER if ls in ENTRY_ROUTE_STATUSES[r])


class _Writer:
    """Writes one child's plan as model rows, attributed to the migration account."""

    def __init__(self, session: Session, *, actor: Principal, source: str, report: ImportReport):
        self.session = session
        self.actor = actor
        self.source = source
        self.report = report
        self.team_id = migration_team(session).id
        # Each child's periods once written (read by the reviews, missing episodes, ...).
        self._periods: dict[uuid.UUID, list[PeriodOfCare]] = {}

    def person(self, plan: ChildPlan) -> Person:
        if plan.person is not None:
            self.report.count("children", created=False)
            return plan.person
        header = plan.header
        assert header is not None  # _plan refuses a new child with no Header row
        person = migrated_child_create(
            self.session,
            actor=self.actor,
            source=self.source,
            la_child_id=header.child,
            sex=header.sex,
            date_of_birth=header.dob,
            ethnicity=header.ethnicity,
            upn=header.upn,
        )
        self.report.count("children")
        return person

    def motherhood(self, person: Person, header: HeaderIn | None) -> None:
        if header is None or header.mother is None:
            return
        held = self.session.scalar(select(Motherhood).where(Motherhood.child_id == person.id))
        if held is not None:
            return  # the record in Casework wins
        self.session.add(
            Motherhood(
                child_id=person.id,
                is_mother=header.mother,
                first_child_birth_date=header.mc_dob,
                notes=f"Migrated from {self.source}",
            )
        )

    def case_for(self, person: Person, period_in: PeriodIn) -> Case:
        """The case the period sits on: the child's open case for a period still open (it moves to
        ``looked_after``); for a period that ceased, a case of the child's that spans it (a CIN
        episode migrated from the census, say); else a migrated case of its own, closed when care
        ceased (with the CIN reason for closure that matches the SSDA903 one)."""
        end = period_in.end
        if end is not None:
            spanning = self.session.scalar(
                select(Case)
                .where(
                    Case.child_id == person.id,
                    Case.opened_date <= period_in.start,
                    or_(Case.closed_date.is_(None), Case.closed_date >= end),
                )
                .order_by(Case.opened_date.desc())
                .limit(1)
            )
            if spanning is not None:
                return spanning
        if end is None:
            open_case = self.session.scalar(
                select(Case).where(Case.child_id == person.id, Case.state != CLOSED)
            )
            if open_case is not None:
                if open_case.state != CASE_LOOKED_AFTER:
                    before = open_case.state
                    open_case.state = CASE_LOOKED_AFTER
                    migrated_case_event(
                        self.session,
                        actor=self.actor,
                        case=open_case,
                        source=self.source,
                        changes={"state": {"before": before, "after": CASE_LOOKED_AFTER}},
                    )
                return open_case
        last = period_in.episodes[-1]
        case = Case(
            id=uuid.uuid4(),
            child_id=person.id,
            state=CASE_LOOKED_AFTER if end is None else CLOSED,
            opened_date=period_in.start,
            closed_date=end,
            closure_reason=(
                None
                if end is None or last.rec is None
                else CLOSURE_FOR_CEASING.get(last.rec, OTHER_CLOSURE)
            ),
            team_id=self.team_id,
            summary=f"Period of care migrated from {self.source}",
        )
        self.session.add(case)
        self.session.flush()
        migrated_case_event(self.session, actor=self.actor, case=case, source=self.source)
        self.report.count("cases")
        return case

    def new_period(self, person: Person, period_in: PeriodIn) -> None:
        case = self.case_for(person, period_in)
        first = period_in.episodes[0]
        period = PeriodOfCare(
            id=uuid.uuid4(),
            case_id=case.id,
            child_id=person.id,
            state=PERIOD_LOOKED_AFTER,
            start_date=first.decom,
            entry_route=_entry_route(first.ls),
            category_of_need=first.cin,
        )
        self.session.add(period)
        self.session.flush()  # no ORM relationships order the inserts: the period goes first
        status = LegalStatusRecord(
            period_id=period.id, child_id=person.id, legal_status=first.ls, start_date=first.decom
        )
        placement = self._placement(period, first, carer_key=None)
        self.session.add_all([status, placement])
        self._continue(period, status, placement, period_in.episodes, 0)
        self.session.flush()
        self._audit(case, period, period_in.episodes, "period_of_care")
        self.report.count("periods of care")

    def extend(self, ext: _Extension) -> None:
        period = ext.period
        statuses = list(
            self.session.scalars(
                select(LegalStatusRecord).where(
                    LegalStatusRecord.period_id == period.id, LegalStatusRecord.end_date.is_(None)
                )
            )
        )
        placement = self.session.scalar(
            select(Placement).where(Placement.period_id == period.id, Placement.end_date.is_(None))
        )
        assert len(statuses) == 1  # an open period has one current legal status
        assert placement is not None  # and one current placement
        self._continue(period, statuses[0], placement, ext.episodes, ext.known - 1)
        self.session.flush()
        case = self.session.get(Case, period.case_id)
        assert case is not None  # a foreign key
        if period.end_date is not None and case.team_id == self.team_id:
            # The case was made by an earlier migration for this period alone: it ends with it,
            # as a migrated period that ceased is loaded on a closed case.
            self._close_migrated_case(case, period)
        self._audit(case, period, ext.episodes[ext.known - 1 :], "period_of_care")
        self.report.count("periods of care continued")

    def _close_migrated_case(self, case: Case, period: PeriodOfCare) -> None:
        still_open = self.session.scalar(
            select(PeriodOfCare.id)
            .where(PeriodOfCare.case_id == case.id, PeriodOfCare.state == PERIOD_LOOKED_AFTER)
            .limit(1)
        )
        if still_open is not None or case.state == CLOSED or period.reason_ceased is None:
            return
        before = case.state
        case.state = CLOSED
        case.closed_date = period.end_date
        case.closure_reason = CLOSURE_FOR_CEASING.get(period.reason_ceased, OTHER_CLOSURE)
        migrated_case_event(
            self.session,
            actor=self.actor,
            case=case,
            source=self.source,
            changes={"state": {"before": before, "after": CLOSED}},
        )

    def _placement(
        self, period: PeriodOfCare, ep: EpisodeIn, *, carer_key: str | None
    ) -> Placement:
        placement_id = uuid.uuid4()
        return Placement(
            id=placement_id,
            period_id=period.id,
            case_id=period.case_id,
            child_id=period.child_id,
            placement_type=ep.place,
            provider=ep.provider,
            ofsted_urn=ep.urn,
            # The return does not name carers; RNE T and B say the carer(s) stayed the same, so
            # the placements of one carer share a key (app.care.episodes derives T/B from it).
            carer_key=carer_key or f"migrated:{placement_id}",
            home_postcode=ep.home_post,
            placement_postcode=ep.pl_post,
            start_date=ep.decom,
        )

    def _continue(
        self,
        period: PeriodOfCare,
        status: LegalStatusRecord,
        placement: Placement,
        episodes: Sequence[EpisodeIn],
        start: int,
    ) -> None:
        """Apply the episodes after ``episodes[start]`` (whose status and placement are current)
        as changes of legal status and placement, then cease care if the last one ended."""
        for before, ep in zip(episodes[start:], episodes[start + 1 :], strict=False):
            if ep.rne in LEGAL_STATUS_CHANGES:
                status.end_date = ep.decom
                status = LegalStatusRecord(
                    period_id=period.id,
                    child_id=period.child_id,
                    legal_status=ep.ls,
                    start_date=ep.decom,
                )
                self.session.add(status)
            if ep.rne in PLACEMENT_CHANGES:
                placement.end_date = ep.decom
                placement.end_reason = before.reason_place_change
                same_carer: str | None = None
                if ep.rne in SAME_CARER:
                    if placement.carer_key is None:
                        placement.carer_key = f"migrated:{placement.id}"
                    same_carer = placement.carer_key
                placement = self._placement(period, ep, carer_key=same_carer)
                self.session.add(placement)
        last = episodes[-1]
        if last.dec is not None:
            status.end_date = last.dec
            placement.end_date = last.dec
            period.end_date = last.dec
            period.reason_ceased = last.rec
            period.state = CEASED

    def _audit(
        self, case: Case, period: PeriodOfCare, episodes: Sequence[EpisodeIn], kind: str
    ) -> None:
        migrated_case_event(
            self.session,
            actor=self.actor,
            case=case,
            source=self.source,
            subject_type=kind,
            subject_id=period.id,
            changes={"episodes": [e.record for e in episodes], "start_date": period.start_date},
        )

    def period_on(self, person: Person, day: date) -> PeriodOfCare:
        """The child's period of care on ``day`` (the latest to have started by then)."""
        if person.id not in self._periods:
            self._periods[person.id] = list(
                self.session.scalars(
                    select(PeriodOfCare)
                    .where(PeriodOfCare.child_id == person.id)
                    .order_by(PeriodOfCare.start_date.desc())
                )
            )
        period = next((p for p in self._periods[person.id] if p.start_date <= day), None)
        assert period is not None  # _plan checked the day falls in a period
        return period

    def reviews(self, person: Person, reviews: Sequence[ReviewIn]) -> None:
        written: dict[uuid.UUID, list[CLAReview]] = {}
        held_by_period: dict[uuid.UUID, list[CLAReview]] = {}
        if reviews:
            for held_review in self.session.scalars(
                select(CLAReview).where(CLAReview.child_id == person.id)
            ):
                held_by_period.setdefault(held_review.period_id, []).append(held_review)
        for review in sorted(reviews, key=lambda r: r.review):
            period = self.period_on(person, review.review)
            held = held_by_period.setdefault(period.id, [])
            if any(r.review_date == review.review for r in held):
                self.report.count("reviews", created=False)
                continue
            row = CLAReview(
                period_id=period.id,
                case_id=period.case_id,
                child_id=person.id,
                sequence=max((r.sequence for r in held), default=0) + 1,
                # A historical review is complete: decisions circulated and record written
                # (the IRO workflow's last state); who chaired it is not in the return.
                state=RECORD_COMPLETED,
                review_date=review.review,
                chair_id=self.actor.user_id,
                participation=review.code,
                decisions_circulated_date=review.review,
                record_completed_date=review.review,
                recorded_by_id=self.actor.user_id,
                notes=f"Migrated from {self.source}; the chair is not recorded in the return.",
            )
            self.session.add(row)
            held.append(row)
            written.setdefault(period.id, []).append(row)
            self.report.count("reviews")
        if written:
            self.session.flush()
        for rows in written.values():
            self._migrated_event(
                rows[0].case_id,
                subject_type="cla_review",
                subject_id=rows[0].id,
                changes={"reviews": [r.review_date for r in rows]},
            )

    def missing(self, person: Person, items: Sequence[MissingIn]) -> None:
        held = _held_missing(self.session, person)
        written: list[MissingEpisode] = []
        for item in sorted(items, key=lambda m: m.start):
            same = held.get(item.start)
            if same is not None and same.ended_at is None and item.end is not None:
                # Open on 31 March last year, ended since: the episode goes on to its end.
                same.ended_at = _midday(item.end)
                written.append(same)
                self.report.count("missing episodes ended")
                continue
            if same is not None:
                self.report.count("missing episodes", created=False)
                continue
            period = self.period_on(person, item.start)
            row = MissingEpisode(
                case_id=period.case_id,
                child_id=person.id,
                period_id=period.id,
                while_looked_after=True,
                kind=item.kind,
                started_at=_midday(item.start),
                ended_at=_midday(item.end) if item.end is not None else None,
                notes=f"Migrated from {self.source}; times of day are not in the return.",
                recorded_by_id=self.actor.user_id,
            )
            self.session.add(row)
            written.append(row)
            self.report.count("missing episodes")
        if written:
            self.session.flush()
            case = self.session.get(Case, written[0].case_id)
            assert case is not None
            migrated_case_event(
                self.session,
                actor=self.actor,
                case=case,
                source=self.source,
                subject_type="missing_episode",
                subject_id=written[0].id,
                changes={"missing_episodes": [m.started_at for m in written]},
            )

    def oc3(self, person: Person, rows: Sequence[tuple[Oc3In, date]]) -> None:
        for leaver, day in rows:
            if leaver.in_touch is None or leaver.activity is None or leaver.accommodation is None:
                continue  # a blank OC3 row: no contact was had around the birthday
            held = self.session.scalar(
                select(LeavingCareContact.id).where(
                    LeavingCareContact.child_id == person.id,
                    LeavingCareContact.contact_date == day,
                )
            )
            if held is not None:
                self.report.count("care leaver contacts", created=False)
                continue
            # The return gives the contact's findings, not its day: it is put on the birthday,
            # the centre of the window OC3 reads (3 months before to 1 month after).
            case_id = self.session.scalar(
                select(PeriodOfCare.case_id)
                .where(PeriodOfCare.child_id == person.id)
                .order_by(PeriodOfCare.start_date.desc())
                .limit(1)
            )
            assert case_id is not None  # _plan_oc3 checked there is a period of care
            contact = LeavingCareContact(
                child_id=person.id,
                case_id=case_id,
                contact_date=day,
                in_touch=leaver.in_touch,
                activity=leaver.activity,
                accommodation=leaver.accommodation,
                notes=f"Migrated from {self.source} (OC3 for the birthday on {day:%d/%m/%Y}).",
                recorded_by_id=self.actor.user_id,
            )
            self.session.add(contact)
            self.session.flush()
            self._migrated_event(
                case_id,
                subject_type="leaving_care_contact",
                subject_id=contact.id,
                changes={"contact_date": day},
            )
            self.report.count("care leaver contacts")

    def prev_perm(self, person: Person, rows: Sequence[tuple[PrevPermIn, date]]) -> None:
        for perm, start in rows:
            period = self.session.scalar(
                select(PeriodOfCare).where(
                    PeriodOfCare.child_id == person.id, PeriodOfCare.start_date == start
                )
            )
            assert period is not None  # _plan_prev_perm found it, or it was written just now
            held = self.session.scalar(
                select(PreviousPermanenceRecord.id).where(
                    PreviousPermanenceRecord.period_id == period.id
                )
            )
            if held is not None:
                self.report.count("previous permanence", created=False)
                continue
            self.session.add(
                PreviousPermanenceRecord(
                    period_id=period.id,
                    child_id=person.id,
                    prev_perm=perm.prev_perm,
                    la_perm=perm.la_perm,
                    date_perm=perm.date_perm,
                )
            )
            self.report.count("previous permanence")

    def adoption(
        self, person: Person, placed: Sequence[PlacedIn], adoptions: Sequence[Adoption]
    ) -> None:
        held = _held_decisions(self.session, person)
        touched: list[AdoptionDecision] = []
        for row in sorted(placed, key=lambda p: p.decided):
            decision = held.get(row.decided)
            if decision is None:
                period = self.period_on(person, row.decided)
                decision = AdoptionDecision(
                    child_id=person.id,
                    case_id=period.case_id,
                    period_id=period.id,
                    decision_date=row.decided,
                    reversed_date=row.reversed,
                    reversed_reason=row.reason,
                )
                self.session.add(decision)
                self.session.flush()
                held[row.decided] = decision
                touched.append(decision)
                self.report.count("adoption decisions")
            elif decision.reversed_date is None and row.reversed is not None:
                decision.reversed_date, decision.reversed_reason = row.reversed, row.reason
                touched.append(decision)
                self.report.count("adoption decisions reversed")
            else:
                self.report.count("adoption decisions", created=False)
        for adoption in adoptions:
            ad1 = adoption.row
            decision = held[ad1.decided]
            values = {
                "matched_date": ad1.matched,
                "placed_date": adoption.placed,
                "adoption_order_date": adoption.adopted,
                "adopted_by_foster_carers": ad1.foster_care,
                "number_of_adopters": ad1.adopters,
                "adopters_sex": ad1.sex,
                "adopters_legal_status": ad1.legal_status,
            }
            if all(getattr(decision, k) == v for k, v in values.items()):
                self.report.count("adoptions", created=False)
                continue
            for key, value in values.items():
                setattr(decision, key, value)
            touched.append(decision)
            self.report.count("adoptions")
        self.session.flush()
        for decision in touched:
            self._migrated_event(
                decision.case_id,
                subject_type="adoption_decision",
                subject_id=decision.id,
                changes={
                    "decision_date": decision.decision_date,
                    "adoption_order_date": decision.adoption_order_date,
                },
            )

    def uasc(self, person: Person, plan: ChildPlan) -> None:
        if plan.uasc_unchanged:
            self.report.count("UASC status", created=False)
        status: UascStatus | None = None
        if plan.uasc is not None:
            assert plan.uasc_since is not None  # set with it by _plan_uasc
            duc = plan.uasc.duc
            status = UascStatus(
                child_id=person.id,
                since_date=plan.uasc_since,
                ceased_date=duc,
                ceased_reason=self._ceased_reason() if duc is not None else None,
            )
            self.session.add(status)
            self.report.count("UASC status")
        if plan.uasc_ended is not None:
            status, duc = plan.uasc_ended
            status.ceased_date, status.ceased_reason = duc, self._ceased_reason()
            self.report.count("UASC status ended")
        if status is None:
            return
        self.session.flush()
        self._migrated_event(
            self.period_on(person, date.max).case_id,
            subject_type="uasc_status",
            subject_id=status.id,
            changes={"since_date": status.since_date, "ceased_date": status.ceased_date},
        )

    def _ceased_reason(self) -> str:
        return f"UASC status ceased (DUC in the SSDA903 return migrated from {self.source})."

    def worker(self, sw_id: str) -> UserAccount:
        """The account holding the Social Work England number ``sw_id``; for a worker Casework
        has never had, an inactive placeholder with no password (it can never sign in) so the
        child's history names who held the case."""
        account = self.session.scalar(
            select(UserAccount).where(UserAccount.swe_registration_number == sw_id)
        )
        if account is None:
            account = UserAccount(
                username=f"migrated-sw-{sw_id.lower()}",
                display_name=f"Social worker {sw_id} (migrated)",
                role=Role.social_worker,
                password_hash=None,
                is_active=False,
                swe_registration_number=sw_id,
            )
            self.session.add(account)
            self.session.flush()
            self.report.count("social worker accounts")
        return account

    def _case_for_worker(self, person: Person, day: date) -> Case:
        """The case open on ``day``; else the next to open (a worker before care began, SW16);
        else the child's latest."""
        cases = list(
            self.session.scalars(
                select(Case).where(Case.child_id == person.id).order_by(Case.opened_date, Case.id)
            )
        )
        spanning = [
            c
            for c in cases
            if c.opened_date <= day and (c.closed_date is None or day <= c.closed_date)
        ]
        later = [c for c in cases if c.opened_date > day]
        assert cases  # _plan_social_workers checked the child has one, or a period in the file
        return spanning[-1] if spanning else later[0] if later else cases[-1]

    def social_workers(self, person: Person, plan: ChildPlan) -> None:
        for _ in range(plan.sw_unchanged):
            self.report.count("social worker episodes", created=False)
        for held, dec in plan.sw_ended:
            # An episode open on last year's 31 March: its worker's open allocation ends.
            allocation = self.session.scalar(
                select(Allocation)
                .where(
                    Allocation.case_id == held.case_id,
                    Allocation.worker_id == held.worker_id,
                    Allocation.ended_at.is_(None),
                )
                .order_by(Allocation.started_at.desc())
                .limit(1)
            )
            assert allocation is not None  # the episode is derived open from it
            allocation.ended_at = _midday(dec)
            self._allocation_audit(allocation, dec)
            self.report.count("social worker episodes ended")
        for row in plan.sw_new:
            self._allocate(person, row)
            self.report.count("social worker episodes")

    def _allocate(self, person: Person, row: SwEpisodeIn) -> None:
        """The allocation that derives the row's episode. An episode ends where the case's next
        allocation starts, so a spell with no worker fills any gap either side of it."""
        worker = self.worker(row.sw_id)
        case = self._case_for_worker(person, row.decom)
        if row.dec is None and case.closed_date is not None:
            case = self._case_still_open(person, case, row)
        held = list(
            self.session.scalars(
                select(Allocation)
                .where(Allocation.case_id == case.id)
                .order_by(Allocation.started_at, Allocation.id)
            )
        )
        before = [a for a in held if local_date(a.started_at) < row.decom]
        after = [a for a in held if local_date(a.started_at) >= row.decom]
        start = _midday(row.decom)
        end = _midday(row.dec) if row.dec is not None else None
        previous = before[-1] if before else None
        if (
            previous is not None
            and previous.worker_id is not None
            and previous.ended_at is not None
            and local_date(previous.ended_at) < row.decom
        ):
            self.session.add(self._unallocated(case, previous.ended_at, start))
        allocation = Allocation(
            case_id=case.id,
            team_id=case.team_id,
            worker_id=worker.id,
            started_at=start,
            ended_at=end,
            reason=f"Migrated from {self.source}",
            allocated_by_id=self.actor.user_id,
            sw_reason=row.reason,
        )
        self.session.add(allocation)
        if end is not None and row.dec is not None and after:
            following = after[0].started_at
            if local_date(following) > row.dec:
                self.session.add(self._unallocated(case, end, following))
        self.session.flush()
        self._allocation_audit(allocation, row.dec)

    def _case_still_open(self, person: Person, closed: Case, row: SwEpisodeIn) -> Case:
        """SW_DEC is blank: a worker still held the child on 31 March, after the case closed
        (leaving-care support once care ceased, Children Act 1989 s.23C), and an allocation on a
        closed case ends with it. So: the child's open case; else the migrated case, reopened as
        ``care_leaver`` (a migrated case closes when care ceases, before the import reads the
        SWEpisodes); else, beside a case Casework closed itself, a new migrated one."""
        open_case = self.session.scalar(
            select(Case).where(Case.child_id == person.id, Case.state != CLOSED)
        )
        if open_case is not None:
            return open_case
        if closed.team_id == self.team_id:
            before = closed.state
            closed.state, closed.closed_date, closed.closure_reason = CARE_LEAVER, None, None
            migrated_case_event(
                self.session,
                actor=self.actor,
                case=closed,
                source=self.source,
                changes={"state": {"before": before, "after": CARE_LEAVER}},
            )
            self.report.count("cases reopened for leaving care")
            return closed
        case = Case(
            id=uuid.uuid4(),
            child_id=person.id,
            state=CARE_LEAVER,
            opened_date=row.decom,
            team_id=self.team_id,
            summary=f"Social work after care migrated from {self.source}",
        )
        self.session.add(case)
        self.session.flush()
        migrated_case_event(self.session, actor=self.actor, case=case, source=self.source)
        self.report.count("cases")
        return case

    def _unallocated(self, case: Case, start: datetime, end: datetime) -> Allocation:
        return Allocation(
            case_id=case.id,
            team_id=case.team_id,
            worker_id=None,
            started_at=start,
            ended_at=end,
            reason=f"Migrated from {self.source}: no social worker between episodes",
            allocated_by_id=self.actor.user_id,
        )

    def _migrated_event(
        self,
        case_id: uuid.UUID,
        *,
        subject_type: str,
        subject_id: uuid.UUID,
        changes: dict[str, Any],
    ) -> None:
        """The chronology event saying a record group came from this return (on its case)."""
        case = self.session.get(Case, case_id)
        assert case is not None  # a foreign key
        migrated_case_event(
            self.session,
            actor=self.actor,
            case=case,
            source=self.source,
            subject_type=subject_type,
            subject_id=subject_id,
            changes=changes,
        )

    def _allocation_audit(self, allocation: Allocation, dec: date | None) -> None:
        self._migrated_event(
            allocation.case_id,
            subject_type="allocation",
            subject_id=allocation.id,
            changes={
                "sw_decom": local_date(allocation.started_at),
                "sw_dec": dec,
                "sw_reason": allocation.sw_reason,
            },
        )


def _midday(day: date) -> datetime:
    return datetime.combine(day, MIDDAY, tzinfo=LONDON)


# --- the import --------------------------------------------------------------------------------


def import_ssda903(session: Session, tables: dict[str, str], *, source: str) -> ImportReport:
    """Load a historical SSDA903 return (file name → CSV text) into Casework, all or nothing.

    Every row is checked first; when any is rejected the report lists each with its reason and
    nothing is written. Otherwise the children, periods of care (legal statuses and placements),
    reviews, missing episodes, care leavers' contacts, previous permanence, adoption decisions,
    UASC status and social worker allocations the return holds are written as migrated history,
    and what Casework already held is counted as unchanged. The caller commits (or rolls back)."""
    report = ImportReport(source=source)
    found = _read_tables(tables, report)
    if not tables:
        report.reject(source, "The return holds no tables.")
    if report.rejections:
        return report
    plans = _plan(session, found, report)
    if report.rejections:
        return report
    actor = migration_principal(session)
    writer = _Writer(session, actor=actor, source=source, report=report)
    for plan in plans:
        person = writer.person(plan)
        writer.motherhood(person, plan.header)
        for period_in in plan.new_periods:
            writer.new_period(person, period_in)
        for ext in plan.extensions:
            writer.extend(ext)
        for _ in range(plan.unchanged_periods):
            report.count("periods of care", created=False)
        session.flush()
        writer.reviews(person, plan.reviews)
        writer.missing(person, plan.missing)
        writer.oc3(person, plan.oc3)
        writer.prev_perm(person, plan.prev_perm)
        writer.adoption(person, plan.placed, plan.adoptions)
        writer.uasc(person, plan)
        writer.social_workers(person, plan)
    session.flush()
    return report
