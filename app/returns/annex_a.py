"""Ofsted's Annex A: the eleven inspection lists, as of a day, in one workbook.

At the start of an inspection of local authority children's services (ILACS) Ofsted asks for
child-level lists 1-11 (Annex A of the ILACS inspection guidance), the same day. Every list is an
output of the live record; nothing here is typed in by hand.

Sources for the sheet names and column headings: Ofsted's Annex A template as read by Data to
Insight / Social Finance's Annex A tools (``SocialFinanceDigitalLabs/liia-tools``,
``liiatools/annex_a_pipeline/spec/pipeline.yml`` and ``Annex_A_schema.yml``: sheets ``List 1`` ...
``List 11`` and their column names) and Data to Insight's Standard Safeguarding Dataset Annex A
queries (``data-to-insight/ssd-data-model``: "all contacts received in the six months before the
date of inspection; where a contact refers to multiple children, include an entry for each child";
an unborn child's age is -1). Headings are kept word for word so those tools read the workbook.

Windows (``shared/domain/returns.md``): lists 1-8 cover the six months before ``as_of`` (from
``as_of`` - 6 months to ``as_of``, both inclusive); lists 7 and 8 also everyone still on a plan or
in care on ``as_of``, because a plan or period open on that day overlaps the window. Lists 9-11
cover twelve months. Nothing recorded after ``as_of`` is shown, so a workbook for a past day reads
as it would have read that day (except the care-leaver status, which Casework keeps only as it is
now).

Where Casework is silent, the choices made:

- Every list carries the child's id, gender, ethnicity, date of birth, age, disability and the
  allocated team and worker (the brief for issue 5), also the lists whose template omits some of
  them (1, 2, 3, 10). The allocation is the case's current one (``Case.team_id``,
  ``Case.allocated_worker_id``; for a closed case, the one it closed with); no worker reads
  "Unallocated".
- The child's id is the LA child id (the id the CIN census and SSDA903 carry).
- Disability: "Yes" for any DfE disability code, "No" when recorded as NONE, "Unknown" when nothing
  is recorded.
- List 6 is one row per CIN episode (a referral that was not closed with no further action) open at
  any time in the window; NFA referrals are in list 3. "Date Child Was Last Seen" is the latest of:
  a final case note recording the child seen, a sighting during an assessment, a CP visit or a
  statutory visit with the child seen.
- List 2 is one row per early help episode whose early help assessment is dated in the six months
  (``EarlyHelpEpisode.assessment_date``): the assessment started when the episode did (the
  step-down) and was completed on its date; the organisation completing it is the lead
  professional's agency when a partner leads, else the council. The allocation is the episode's
  early help team and lead professional (not the social care case it stepped down from).
- List 11 (adopters) has its headings and no rows: Casework does not yet hold prospective
  adopters. A comment on the first heading says so; no data is invented. Columns Casework does not
  hold are left blank and the heading carries a comment saying why (e.g. "Family identifier").
- Restricted children are included: the inspection is statutory (Education and Inspections Act
  2006 s.136) and Ofsted inspectors may see every record.

The work is set-based: each list is one query for its rows plus a few grouped queries for the
counts and latest dates, never a query per child.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from app.calendar import add_months
from app.clock import LONDON
from app.config import Settings
from app.core_types import Disability, Sex
from app.leavingcare.codes import Accommodation
from app.models.assessments import Assessment, AssessmentChildSeen, AssessmentOutcome
from app.models.care import LegalStatusRecord, PeriodOfCare, Placement
from app.models.careplans import CLAPlan, CLAPlanVersion
from app.models.casenotes import CaseNote
from app.models.cases import Case
from app.models.earlyhelp import EarlyHelpEpisode
from app.models.frontdoor import Contact, ContactChild, Referral, ReferralDecision
from app.models.health import DentalCheck, HealthAssessment
from app.models.iro import CLAReview, IROContact, IROContactKind
from app.models.leavingcare import CareLeaverCategory, LeavingCareContact, LeavingCareStatus
from app.models.missing import MissingEpisode, MissingKind, ReturnInterviewResponse
from app.models.org import Team, UserAccount
from app.models.people import Person
from app.models.permanence import AdoptionDecision, UascStatus
from app.models.protection import (
    ConferenceKind,
    ConferenceOutcome,
    CPConference,
    CPPlan,
    CPVisit,
    S47Enquiry,
    S47Outcome,
    StrategyDiscussion,
)
from app.models.visits import StatutoryVisit

#: How dates look in every sheet (real Excel dates, shown the English way).
DATE_FORMAT = "DD/MM/YYYY"

# --------------------------------------------------------------------------------------------------
# The headings (Ofsted's template, as the Annex A tools read it; see the module docstring)
# --------------------------------------------------------------------------------------------------

CHILD_ID = "Child Unique ID"
GENDER = "Gender"
ETHNICITY = "Ethnicity"
DOB = "Date of Birth"
AGE = "Age of Child (Years)"
DISABILITY = "Does the Child have a Disability"
TEAM = "Allocated Team"
WORKER = "Allocated Worker"

CHILD_COLUMNS = (CHILD_ID, GENDER, ETHNICITY, DOB, AGE, DISABILITY)
ALLOCATION_COLUMNS = (TEAM, WORKER)

LIST_1 = (*CHILD_COLUMNS, "Date of Contact", "Contact Source", *ALLOCATION_COLUMNS)
LIST_2 = (
    *CHILD_COLUMNS,
    "Assessment start date",
    "Assessment completion date",
    "Organisation completing assessment",
    *ALLOCATION_COLUMNS,
)
LIST_3 = (
    *CHILD_COLUMNS,
    "Date of referral",
    "Referral Source",
    "Referral NFA?",
    "Number of Referrals in Last 12 Months",
    *ALLOCATION_COLUMNS,
)
LIST_4 = (
    *CHILD_COLUMNS,
    "Continuous Assessment Start Date",
    "Child Seen During Continuous Assessment",
    "Continuous Assessment Date of Authorisation",
    "Was the child assessed as requiring LA children's social care support?",
    *ALLOCATION_COLUMNS,
)
LIST_5 = (
    *CHILD_COLUMNS,
    "Strategy discussion initiating Section 47 Enquiry Start Date",
    "Was an Initial Child Protection Conference deemed unnecessary?",
    "Date of Initial Child Protection Conference",
    "Did the Initial Child Protection Conference Result in a Child Protection Plan",
    "Number of Section 47 Enquiries in the last 12 months",
    "Number of ICPCs in the last 12 months",
    *ALLOCATION_COLUMNS,
)
LIST_6 = (
    *CHILD_COLUMNS,
    "CIN Start Date",
    "Primary Need Code",
    "Date Child Was Last Seen",
    "CIN Closure Date",
    "Reason for Closure",
    "Case Status",
    *ALLOCATION_COLUMNS,
)
LIST_7 = (
    *CHILD_COLUMNS,
    "Child Protection Plan Start Date",
    "Initial Category of Abuse",
    "Latest Category of Abuse",
    "Date of the Last Statutory Visit",
    "Was the Child Seen Alone?",
    "Date of latest review conference",
    "Child Protection Plan End Date",
    "Subject to Emergency Protection Order or Protected Under Police Powers in Last Six Months "
    "(Y/N)",
    "Number of Previous Child Protection Plans",
    *ALLOCATION_COLUMNS,
)
LIST_8 = (
    CHILD_ID,
    GENDER,
    ETHNICITY,
    DOB,
    AGE,
    "Unaccompanied Asylum Seeking Child (UASC) within the Last 12 Months (Y/N)",
    DISABILITY,
    "Date Started to be Looked After",
    "Child's Category of Need",
    "Is this a second or subsequent period of being a Looked After Child within the last 12 "
    "months (Y/N)",
    "Start date of current legal status",
    "Child's Legal Status",
    "Date of Latest Statutory Review",
    "Date of Last Social Work Visit",
    "What is the permanence plan for this child?",
    "Date of Last IRO Visit / Contact to the Child",
    "Date of Last Health Assessment",
    "Date of Last Dental Check",
    "Number of Placements in the Last 12 months",
    "Date Ceased to be Looked After",
    "Reason Ceased to be Looked After",
    "Start Date of Most Recent Placement",
    "Placement Type",
    "Placement Provider",
    "Placement postcode",
    "URN of Placement",
    "Placement Location",
    "LA of Placement",
    "Number of Episodes the Child has been 'Missing' from their Placement in the last 12 months",
    "Number of Episodes the Child has been 'Absent' from their Placement in the last 12 months",
    "Was the child offered a Return Interview after their last missing episode (Y/N)?",
    "Did the child accept a Return Interview after their last missing episode (Y/N)?",
    *ALLOCATION_COLUMNS,
)
LIST_9 = (
    *CHILD_COLUMNS,
    *ALLOCATION_COLUMNS,
    "Eligibility Category",
    "LA in Touch",
    "Type of Accommodation",
    "Suitability of Accommodation",
    "Activity Status",
)
LIST_10 = (
    CHILD_ID,
    "Family identifier",
    GENDER,
    ETHNICITY,
    DOB,
    AGE,
    DISABILITY,
    "Date the Child Entered Care",
    "Date of Decision that Child Should be Placed for Adoption",
    "Date of Placement Order",
    "Date of Matching Child and Prospective Adopters",
    "Date Placed for Adoption",
    "Date of Adoption Order",
    "Date of Decision that Child Should No Longer be Placed for Adoption",
    "Reason Why Child No Longer Placed for Adoption",
    "Date the child was placed for fostering in FFA or concurrent planning placement",
    *ALLOCATION_COLUMNS,
)
LIST_11 = (
    "Individual adopter identifier",
    "Family identifier",
    GENDER,
    ETHNICITY,
    "Disability",
    "Is the (prospective) adopter fostering for adoption?",
    "Date enquiry received",
    "Date Stage 1 started",
    "Date Stage 1 ended",
    "Date Stage 2 started",
    "Date Stage 2 ended",
    "Date application submitted",
    "Date application approved",
    "Date adopter matched with child(ren)",
    "Date child/children placed with adopter(s)",
    "No. of children placed",
    "Date of Adoption Order",
    "Date of leaving adoption process",
    "Reason for leaving adoption process",
)

#: Sheet name → headings, in the order Ofsted numbers the lists.
HEADINGS: dict[str, tuple[str, ...]] = {
    "List 1": LIST_1,
    "List 2": LIST_2,
    "List 3": LIST_3,
    "List 4": LIST_4,
    "List 5": LIST_5,
    "List 6": LIST_6,
    "List 7": LIST_7,
    "List 8": LIST_8,
    "List 9": LIST_9,
    "List 10": LIST_10,
    "List 11": LIST_11,
}

#: Why a heading has no data from Casework (shown as a comment on that heading).
NOT_HELD: dict[tuple[str, str], str] = {
    ("List 11", "Individual adopter identifier"): "Casework does not yet record prospective "
    "adopters, so this list has no rows.",
    ("List 10", "Family identifier"): "Casework does not yet group siblings placed together for "
    "adoption; left blank.",
    (
        "List 10",
        "Date the child was placed for fostering in FFA or concurrent planning placement",
    ): "Casework does not record fostering-for-adoption placements apart from other foster "
    "placements; left blank.",
}

YES, NO, UNKNOWN = "Yes", "No", "Unknown"

_GENDER = {Sex.MALE: "Male", Sex.FEMALE: "Female", Sex.UNKNOWN: "Not stated/recorded"}

#: Assessment outcomes that mean the child needs children's social care support (list 4).
_NEEDS_SUPPORT = {
    AssessmentOutcome.cin_plan,
    AssessmentOutcome.strategy_discussion,
    AssessmentOutcome.looked_after,
}

#: Care leavers owed leaving-care services (Children Act 1989 s.23A relevant, s.23C former
#: relevant): Ofsted's list 9.
_CARE_LEAVERS = (CareLeaverCategory.relevant, CareLeaverCategory.former_relevant)
_ELIGIBILITY = {
    CareLeaverCategory.relevant: "Relevant",
    CareLeaverCategory.former_relevant: "Former relevant",
}

#: Police protection (L1) and emergency protection orders (L2): list 7's last-six-months flag.
_EMERGENCY_STATUSES = ("L1", "L2")


# --------------------------------------------------------------------------------------------------
# The entry point
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Windows:
    """The day of the inspection and the starts of its six- and twelve-month windows."""

    as_of: date
    six: date
    twelve: date

    @classmethod
    def before(cls, as_of: date) -> Windows:
        return cls(as_of, add_months(as_of, -6), add_months(as_of, -12))

    def instant_after(self) -> datetime:
        """The first instant after ``as_of`` ends in England (timestamps are stored in UTC)."""
        return _london_midnight(self.as_of + timedelta(days=1))


def build_annex_a(session: Session, *, as_of: date, settings: Settings) -> bytes:
    """Ofsted's Annex A lists 1-11 as of ``as_of``, one sheet each, as an XLSX workbook."""
    w = Windows.before(as_of)
    rows: dict[str, Iterable[Sequence[Any]]] = {
        "List 1": _list_1_contacts(session, w),
        "List 2": _list_2_early_help(session, w, settings),
        "List 3": _list_3_referrals(session, w),
        "List 4": _list_4_assessments(session, w),
        "List 5": _list_5_section_47(session, w),
        "List 6": _list_6_children_in_need(session, w),
        "List 7": _list_7_child_protection(session, w),
        "List 8": _list_8_children_in_care(session, w, settings),
        "List 9": _list_9_care_leavers(session, w),
        "List 10": _list_10_adoption(session, w),
        "List 11": (),
    }
    workbook = Workbook(write_only=True)
    workbook.properties.creator = f"Casework ({settings.la_name})"
    workbook.properties.title = f"Ofsted Annex A as of {as_of.isoformat()}"
    workbook.properties.created = datetime.combine(as_of, time())
    date_style = 0
    for name, headings in HEADINGS.items():
        sheet = workbook.create_sheet(name)
        _write_headings(sheet, name, headings)
        date_style = _date_style(sheet)
    out = io.BytesIO()
    workbook.save(out)
    return _with_rows(out.getvalue(), rows, date_style=date_style)


def _write_headings(sheet: WriteOnlyWorksheet, name: str, headings: Sequence[str]) -> None:
    """The heading row, bold and frozen, with a comment where Casework holds no data."""
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    heading_cells = []
    for heading in headings:
        cell = WriteOnlyCell(sheet, value=heading)
        cell.font = bold
        note = NOT_HELD.get((name, heading))
        if note is not None:
            cell.comment = Comment(note, "Casework")
        heading_cells.append(cell)
    sheet.append(heading_cells)


def _date_style(sheet: WriteOnlyWorksheet) -> int:
    """The workbook's cell style for dates (registered in styles.xml when first asked for)."""
    cell = WriteOnlyCell(sheet)
    cell.number_format = DATE_FORMAT
    return cell.style_id


# The rows are written straight into each sheet's XML rather than through openpyxl's cell objects:
# openpyxl (without lxml) serialises a cell in ~30 µs, which for a large council's ~100,000 rows
# of 10-35 cells was most of the time of the whole workbook. openpyxl still writes everything
# else (workbook, styles, headings, comments, frozen panes), so the file is a normal XLSX.

_EXCEL_EPOCH = date(1899, 12, 30)  # Excel's day 0 (with its 1900 leap-year quirk, for 1 March on)
_COLUMN_LETTERS = [get_column_letter(n) for n in range(1, 64)]


def _with_rows(
    workbook: bytes, rows: Mapping[str, Iterable[Sequence[Any]]], *, date_style: int
) -> bytes:
    """``workbook`` with each sheet's rows added under its heading row."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(workbook)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        sheet_paths = {
            f"xl/worksheets/sheet{n}.xml": name for n, name in enumerate(HEADINGS, start=1)
        }
        for item in source.infolist():
            data = source.read(item.filename)
            name = sheet_paths.get(item.filename)
            if name is not None:
                data = _sheet_with_rows(data.decode(), name, rows[name], date_style).encode()
            target.writestr(item, data)
    return out.getvalue()


def _sheet_with_rows(xml: str, name: str, rows: Iterable[Sequence[Any]], date_style: int) -> str:
    end = "</sheetData>"
    if xml.count(end) != 1:  # openpyxl's layout changed: fail loudly rather than write nonsense
        raise AssertionError(f"{name}: unexpected worksheet XML")
    width = len(HEADINGS[name])
    body = []
    for number, row in enumerate(rows, start=2):
        if len(row) != width:  # a programming error: every row fills every column
            raise AssertionError(f"{name}: {len(row)} cells for {width} headings")
        body.append(_row_xml(number, row, date_style))
    return xml.replace(end, "".join(body) + end)


def _row_xml(number: int, row: Sequence[Any], date_style: int) -> str:
    cells = []
    for letter, value in zip(_COLUMN_LETTERS, row, strict=False):
        if value is None or value == "":
            continue
        ref = f"{letter}{number}"
        if isinstance(value, datetime):
            raise TypeError(f"{ref}: the lists carry dates, not date-times")
        if isinstance(value, date):  # a real Excel date: the serial day, shown as DD/MM/YYYY
            cells.append(f'<c r="{ref}" s="{date_style}"><v>{(value - _EXCEL_EPOCH).days}</v></c>')
        elif isinstance(value, int) and not isinstance(value, bool):
            cells.append(f'<c r="{ref}"><v>{value}</v></c>')
        elif isinstance(value, str):
            text = escape(ILLEGAL_CHARACTERS_RE.sub("", value))
            keep = ' xml:space="preserve"' if text != text.strip() else ""
            cells.append(f'<c r="{ref}" t="inlineStr"><is><t{keep}>{text}</t></is></c>')
        else:
            raise TypeError(f"{ref}: cannot write {type(value).__name__}")
    return f'<row r="{number}">{"".join(cells)}</row>'


# --------------------------------------------------------------------------------------------------
# What every list carries: the child and the allocation
# --------------------------------------------------------------------------------------------------

_CHILD_SELECT = (
    Person.id.label("person_id"),
    Person.la_child_id,
    Person.sex,
    Person.ethnicity,
    Person.date_of_birth,
    Person.disabilities,
    Team.name.label("team_name"),
    UserAccount.display_name.label("worker_name"),
)


def _with_child(stmt: Select[Any], child_id: Any, case_id: Any) -> Select[Any]:
    """Join the child and the case's allocated team and worker onto ``stmt``."""
    return (
        stmt.join(Person, Person.id == child_id)
        .join(Case, Case.id == case_id)
        .join(Team, Team.id == Case.team_id)
        .outerjoin(UserAccount, UserAccount.id == Case.allocated_worker_id)
    )


def _child_cells(r: Any, as_of: date) -> tuple[Any, ...]:
    """Child id, gender, ethnicity, date of birth, age and disability."""
    born: date | None = r.date_of_birth
    return (
        r.la_child_id or str(r.person_id),
        _GENDER.get(r.sex, "Not stated/recorded"),
        r.ethnicity.value if r.ethnicity is not None else "NOBT",
        born,
        _age(born, as_of),
        _disability(r.disabilities),
    )


def _allocation_cells(r: Any) -> tuple[str, str]:
    return (r.team_name, r.worker_name or "Unallocated")


def _age(born: date | None, as_of: date) -> int:
    """Age in whole years at the last birthday; -1 for an unborn child (Annex A guidance)."""
    if born is None or born > as_of:
        return -1
    return as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))


def _disability(codes: Sequence[Any] | None) -> str:
    recorded = {str(c) for c in codes or ()}
    if not recorded:
        return UNKNOWN
    return NO if recorded <= {Disability.NONE.value} else YES


def _yes_no(flag: bool | None) -> str:
    if flag is None:
        return ""
    return YES if flag else NO


def _by_then(day: date | None, as_of: date) -> date | None:
    """A date only if it had happened by ``as_of`` (later facts are not shown)."""
    return day if day is not None and day <= as_of else None


def _london_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=LONDON)


def _london_date(instant: datetime | None) -> date | None:
    return instant.astimezone(LONDON).date() if instant is not None else None


def _open_during(start: Any, end: Any, w: Windows, since: date) -> ColumnElement[bool]:
    """A period that started by ``as_of`` and had not ended before ``since``."""
    return and_(start <= w.as_of, or_(end.is_(None), end >= since))


def _grouped(session: Session, stmt: Select[Any, Any]) -> dict[Any, Any]:
    """``{key: value}`` from a two-column grouped query."""
    return dict(session.execute(stmt).all())


def _latest(rows: Iterable[Any], key: Callable[[Any], Any]) -> dict[Any, Any]:
    """The last row for each key of rows ordered oldest first."""
    out: dict[Any, Any] = {}
    for row in rows:
        out[key(row)] = row
    return out


# --------------------------------------------------------------------------------------------------
# List 1: contacts (six months)
# --------------------------------------------------------------------------------------------------


def _list_1_contacts(session: Session, w: Windows) -> Iterator[tuple[Any, ...]]:
    """Every contact received in the six months, one row per child on it."""
    stmt = _with_child(
        select(*_CHILD_SELECT, Contact.received_at, Contact.source, ContactChild.id)
        .select_from(ContactChild)
        .join(Contact, Contact.id == ContactChild.contact_id),
        ContactChild.child_id,
        ContactChild.case_id,
    ).where(
        Contact.received_at >= _london_midnight(w.six),
        Contact.received_at < w.instant_after(),
    )
    stmt = stmt.order_by(Contact.received_at, Person.la_child_id, ContactChild.id)
    for r in session.execute(stmt):
        yield (
            *_child_cells(r, w.as_of),
            _london_date(r.received_at),
            f"{r.source.value}: {r.source.label}",
            *_allocation_cells(r),
        )


# --------------------------------------------------------------------------------------------------
# List 2: early help assessments (six months)
# --------------------------------------------------------------------------------------------------


def _list_2_early_help(
    session: Session, w: Windows, settings: Settings
) -> Iterator[tuple[Any, ...]]:
    """Every early help assessment completed in the six months, one row per episode, with the
    episode's early help team and lead professional."""
    stmt = (
        select(
            *_CHILD_SELECT,
            EarlyHelpEpisode.start_date,
            EarlyHelpEpisode.assessment_date,
            EarlyHelpEpisode.lead_professional_name,
            EarlyHelpEpisode.lead_professional_agency,
        )
        .select_from(EarlyHelpEpisode)
        .join(Person, Person.id == EarlyHelpEpisode.child_id)
        .outerjoin(Team, Team.id == EarlyHelpEpisode.team_id)
        .outerjoin(UserAccount, UserAccount.id == EarlyHelpEpisode.lead_professional_user_id)
        .where(
            EarlyHelpEpisode.assessment_date >= w.six, EarlyHelpEpisode.assessment_date <= w.as_of
        )
        .order_by(EarlyHelpEpisode.assessment_date, Person.la_child_id, EarlyHelpEpisode.id)
    )
    for r in session.execute(stmt):
        lead = r.worker_name or r.lead_professional_name
        yield (
            *_child_cells(r, w.as_of),
            r.start_date,
            r.assessment_date,
            r.lead_professional_agency or settings.la_name,
            r.team_name or "Awaiting allocation",
            lead or "Unallocated",
        )


# --------------------------------------------------------------------------------------------------
# List 3: referrals (six months), with the child's referrals in twelve
# --------------------------------------------------------------------------------------------------


def _list_3_referrals(session: Session, w: Windows) -> Iterator[tuple[Any, ...]]:
    """Every referral in the six months, with how many referrals the child had in twelve (the
    re-referral measure Ofsted reads)."""
    in_twelve = _grouped(
        session,
        select(Referral.child_id, func.count())
        .where(Referral.referral_date >= w.twelve, Referral.referral_date <= w.as_of)
        .group_by(Referral.child_id),
    )
    stmt = _with_child(
        select(*_CHILD_SELECT, Referral.referral_date, Referral.source, Referral.decision),
        Referral.child_id,
        Referral.case_id,
    ).where(Referral.referral_date >= w.six, Referral.referral_date <= w.as_of)
    stmt = stmt.order_by(Referral.referral_date, Person.la_child_id, Referral.id)
    for r in session.execute(stmt):
        yield (
            *_child_cells(r, w.as_of),
            r.referral_date,
            f"{r.source.value}: {r.source.label}",
            _yes_no(r.decision == ReferralDecision.no_further_action),
            in_twelve.get(r.person_id, 0),
            *_allocation_cells(r),
        )


# --------------------------------------------------------------------------------------------------
# List 4: assessments (six months)
# --------------------------------------------------------------------------------------------------


def _list_4_assessments(session: Session, w: Windows) -> Iterator[tuple[Any, ...]]:
    """Every child and family assessment open at any time in the six months (started by the day,
    not authorised before the window)."""
    in_window = _open_during(Assessment.start_date, Assessment.authorised_date, w, w.six)
    seen = {
        assessment_id
        for (assessment_id,) in session.execute(
            select(AssessmentChildSeen.assessment_id)
            .join(Assessment, Assessment.id == AssessmentChildSeen.assessment_id)
            .where(in_window, AssessmentChildSeen.seen_date <= w.as_of)
            .distinct()
        )
    }
    stmt = _with_child(
        select(
            *_CHILD_SELECT,
            Assessment.id,
            Assessment.start_date,
            Assessment.authorised_date,
            Assessment.outcome,
        ),
        Assessment.child_id,
        Assessment.case_id,
    ).where(in_window)
    stmt = stmt.order_by(Assessment.start_date, Person.la_child_id, Assessment.id)
    for r in session.execute(stmt):
        authorised = _by_then(r.authorised_date, w.as_of)
        needs_support = (
            _yes_no(r.outcome in _NEEDS_SUPPORT)
            if authorised is not None and r.outcome is not None
            else ""
        )
        yield (
            *_child_cells(r, w.as_of),
            r.start_date,
            _yes_no(r.id in seen),
            authorised,
            needs_support,
            *_allocation_cells(r),
        )


# --------------------------------------------------------------------------------------------------
# List 5: section 47 enquiries and initial conferences (six months)
# --------------------------------------------------------------------------------------------------


def _list_5_section_47(session: Session, w: Windows) -> Iterator[tuple[Any, ...]]:
    """Every section 47 enquiry started in the six months (Children Act 1989 s.47), its initial
    conference, and the child's enquiries and conferences in twelve months."""
    s47_in_twelve = _grouped(
        session,
        select(S47Enquiry.child_id, func.count())
        .where(S47Enquiry.start_date >= w.twelve, S47Enquiry.start_date <= w.as_of)
        .group_by(S47Enquiry.child_id),
    )
    icpcs_in_twelve = _grouped(
        session,
        select(CPConference.child_id, func.count())
        .where(
            CPConference.kind == ConferenceKind.initial,
            CPConference.conference_date >= w.twelve,
            CPConference.conference_date <= w.as_of,
        )
        .group_by(CPConference.child_id),
    )
    in_window = and_(S47Enquiry.start_date >= w.six, S47Enquiry.start_date <= w.as_of)
    initial = _latest(
        session.execute(
            select(CPConference.s47_enquiry_id, CPConference.conference_date, CPConference.outcome)
            .join(S47Enquiry, S47Enquiry.id == CPConference.s47_enquiry_id)
            .where(
                in_window,
                CPConference.kind == ConferenceKind.initial,
                CPConference.conference_date <= w.as_of,
            )
            .order_by(CPConference.conference_date.desc(), CPConference.id)
        ),
        key=lambda c: c.s47_enquiry_id,
    )  # newest first, so the first conference of each enquiry is kept last
    stmt = _with_child(
        select(*_CHILD_SELECT, S47Enquiry.id, StrategyDiscussion.held_date, S47Enquiry.outcome)
        .select_from(S47Enquiry)
        .join(StrategyDiscussion, StrategyDiscussion.id == S47Enquiry.strategy_discussion_id),
        S47Enquiry.child_id,
        S47Enquiry.case_id,
    ).where(in_window)
    stmt = stmt.order_by(StrategyDiscussion.held_date, Person.la_child_id, S47Enquiry.id)
    for r in session.execute(stmt):
        icpc = initial.get(r.id)
        yield (
            *_child_cells(r, w.as_of),
            r.held_date,
            _yes_no(r.outcome == S47Outcome.icpc_not_required) if r.outcome else "",
            icpc.conference_date if icpc else None,
            _yes_no(icpc.outcome == ConferenceOutcome.cp_plan) if icpc else "",
            s47_in_twelve.get(r.person_id, 0),
            icpcs_in_twelve.get(r.person_id, 0),
            *_allocation_cells(r),
        )


# --------------------------------------------------------------------------------------------------
# List 6: children in need (six months)
# --------------------------------------------------------------------------------------------------


def _last_seen(session: Session, w: Windows) -> dict[uuid.UUID, date]:
    """The last day each child was seen by the day, from every record that says so."""
    seen: dict[uuid.UUID, date] = {}

    def keep(child_id: uuid.UUID, day: date | None) -> None:
        if day is not None and (child_id not in seen or day > seen[child_id]):
            seen[child_id] = day

    for child_id, at in session.execute(
        select(CaseNote.child_id, func.max(CaseNote.occurred_at))
        .where(
            CaseNote.child_seen.is_(True),
            CaseNote.state == "final",
            CaseNote.occurred_at < w.instant_after(),
        )
        .group_by(CaseNote.child_id)
    ):
        keep(child_id, _london_date(at))
    for stmt in (
        select(Assessment.child_id, func.max(AssessmentChildSeen.seen_date))
        .join(Assessment, Assessment.id == AssessmentChildSeen.assessment_id)
        .where(AssessmentChildSeen.seen_date <= w.as_of)
        .group_by(Assessment.child_id),
        select(CPPlan.child_id, func.max(CPVisit.visit_date))
        .join(CPPlan, CPPlan.id == CPVisit.cp_plan_id)
        .where(CPVisit.child_seen.is_(True), CPVisit.visit_date <= w.as_of)
        .group_by(CPPlan.child_id),
        select(StatutoryVisit.child_id, func.max(StatutoryVisit.visit_date))
        .where(StatutoryVisit.child_seen.is_(True), StatutoryVisit.visit_date <= w.as_of)
        .group_by(StatutoryVisit.child_id),
    ):
        for child_id, day in session.execute(stmt):
            keep(child_id, day)
    return seen


def _list_6_children_in_need(session: Session, w: Windows) -> Iterator[tuple[Any, ...]]:
    """Every CIN episode (referral to closure) open at any time in the six months, of a child
    under 18 on some day of it (Children Act 1989 s.105: a child is under 18; a care leaver's
    open case is in list 9, not here)."""
    last_seen = _last_seen(session, w)
    eighteen_before_window = add_months(w.six, -18 * 12)
    stmt = _with_child(
        select(
            *_CHILD_SELECT,
            Referral.referral_date,
            Referral.primary_need,
            Case.closed_date,
            Case.closure_reason,
        ),
        Referral.child_id,
        Referral.case_id,
    ).where(
        _open_during(Referral.referral_date, Case.closed_date, w, w.six),
        or_(
            Referral.decision.is_(None),
            Referral.decision != ReferralDecision.no_further_action,
        ),
        or_(Person.date_of_birth.is_(None), Person.date_of_birth > eighteen_before_window),
    )
    stmt = stmt.order_by(Referral.referral_date, Person.la_child_id, Referral.id)
    for r in session.execute(stmt):
        closed = _by_then(r.closed_date, w.as_of)
        yield (
            *_child_cells(r, w.as_of),
            r.referral_date,
            r.primary_need.value,
            last_seen.get(r.person_id),
            closed,
            r.closure_reason.value if closed is not None and r.closure_reason else "",
            "Closed" if closed is not None else "Open",
            *_allocation_cells(r),
        )


# --------------------------------------------------------------------------------------------------
# List 7: child protection (six months, and everyone on a plan)
# --------------------------------------------------------------------------------------------------


def _list_7_child_protection(session: Session, w: Windows) -> Iterator[tuple[Any, ...]]:
    """Every child protection plan open at any time in the six months (so everyone on a plan
    on the day), with the latest statutory visit and review conference."""
    in_window = _open_during(CPPlan.start_date, CPPlan.end_date, w, w.six)
    plans_in_window = select(CPPlan.id).where(in_window)
    last_visit = _latest(
        session.execute(
            select(CPVisit.cp_plan_id, CPVisit.visit_date, CPVisit.seen_alone)
            .where(CPVisit.cp_plan_id.in_(plans_in_window), CPVisit.visit_date <= w.as_of)
            .order_by(CPVisit.visit_date, CPVisit.created_at, CPVisit.id)
        ),
        key=lambda v: v.cp_plan_id,
    )
    last_review = _grouped(
        session,
        select(CPConference.cp_plan_id, func.max(CPConference.conference_date))
        .where(
            CPConference.kind == ConferenceKind.review,
            CPConference.cp_plan_id.in_(plans_in_window),
            CPConference.conference_date <= w.as_of,
        )
        .group_by(CPConference.cp_plan_id),
    )
    emergency = {
        child_id
        for (child_id,) in session.execute(
            select(LegalStatusRecord.child_id)
            .where(
                LegalStatusRecord.legal_status.in_(_EMERGENCY_STATUSES),
                _open_during(LegalStatusRecord.start_date, LegalStatusRecord.end_date, w, w.six),
            )
            .distinct()
        )
    }
    starts: dict[uuid.UUID, list[date]] = {}
    for child_id, start in session.execute(
        select(CPPlan.child_id, CPPlan.start_date)
        .where(CPPlan.start_date <= w.as_of)
        .order_by(CPPlan.start_date)
    ):
        starts.setdefault(child_id, []).append(start)
    stmt = _with_child(
        select(
            *_CHILD_SELECT,
            CPPlan.id,
            CPPlan.start_date,
            CPPlan.end_date,
            CPPlan.initial_category,
            CPPlan.latest_category,
        ),
        CPPlan.child_id,
        CPPlan.case_id,
    ).where(in_window)
    stmt = stmt.order_by(CPPlan.start_date, Person.la_child_id, CPPlan.id)
    for r in session.execute(stmt):
        visit = last_visit.get(r.id)
        previous = sum(1 for s in starts.get(r.person_id, ()) if s < r.start_date)
        yield (
            *_child_cells(r, w.as_of),
            r.start_date,
            r.initial_category.value,
            r.latest_category.value,
            visit.visit_date if visit else None,
            _yes_no(visit.seen_alone) if visit else "",
            last_review.get(r.id),
            _by_then(r.end_date, w.as_of),
            _yes_no(r.person_id in emergency),
            previous,
            *_allocation_cells(r),
        )


# --------------------------------------------------------------------------------------------------
# List 8: children in care (six months, and everyone in care)
# --------------------------------------------------------------------------------------------------


def _list_8_children_in_care(
    session: Session, w: Windows, settings: Settings
) -> Iterator[tuple[Any, ...]]:
    """Every period of care open at any time in the six months (so everyone looked after on the
    day): legal status, visits, reviews, health, placements and missing episodes."""
    in_window = _open_during(PeriodOfCare.start_date, PeriodOfCare.end_date, w, w.six)
    periods_in_window = select(PeriodOfCare.id).where(in_window)

    def latest_per_period(model: Any, day: Any) -> dict[uuid.UUID, date]:
        return _grouped(
            session,
            select(model.period_id, func.max(day))
            .where(model.period_id.in_(periods_in_window), day <= w.as_of)
            .group_by(model.period_id),
        )

    def latest_per_child(model: Any, day: Any, *where: ColumnElement[bool]) -> dict[Any, date]:
        return _grouped(
            session,
            select(model.child_id, func.max(day))
            .where(day <= w.as_of, *where)
            .group_by(model.child_id),
        )

    uasc = {
        child_id
        for (child_id,) in session.execute(
            select(UascStatus.child_id).where(
                _open_during(UascStatus.since_date, UascStatus.ceased_date, w, w.twelve)
            )
        )
    }
    # SSDA903's "second or subsequent period within 12 months": an earlier period that was still
    # open at some time in the twelve months before this one started.
    earlier_ends: dict[uuid.UUID, list[tuple[date, date | None]]] = {}
    for child_id, start, end in session.execute(
        select(PeriodOfCare.child_id, PeriodOfCare.start_date, PeriodOfCare.end_date)
        .where(PeriodOfCare.start_date <= w.as_of)
        .order_by(PeriodOfCare.start_date)
    ):
        earlier_ends.setdefault(child_id, []).append((start, end))
    legal_status = _latest(
        session.execute(
            select(
                LegalStatusRecord.period_id,
                LegalStatusRecord.legal_status,
                LegalStatusRecord.start_date,
            )
            .where(
                LegalStatusRecord.period_id.in_(periods_in_window),
                LegalStatusRecord.start_date <= w.as_of,
            )
            .order_by(LegalStatusRecord.start_date, LegalStatusRecord.created_at)
        ),
        key=lambda s: s.period_id,
    )
    placement = _latest(
        session.execute(
            select(
                Placement.period_id,
                Placement.start_date,
                Placement.placement_type,
                Placement.provider,
                Placement.placement_postcode,
                Placement.ofsted_urn,
                Placement.placement_la_code,
            )
            .where(Placement.period_id.in_(periods_in_window), Placement.start_date <= w.as_of)
            .order_by(Placement.start_date, Placement.created_at)
        ),
        key=lambda p: p.period_id,
    )
    permanence = _latest(
        session.execute(
            select(CLAPlan.period_id, CLAPlanVersion.permanence_option)
            .join(CLAPlan, CLAPlan.id == CLAPlanVersion.plan_id)
            .where(
                CLAPlan.period_id.in_(periods_in_window),
                CLAPlanVersion.plan_date <= w.as_of,
                CLAPlanVersion.permanence_option.is_not(None),
            )
            .order_by(CLAPlanVersion.plan_date, CLAPlanVersion.number)
        ),
        key=lambda p: p.period_id,
    )
    reviews = latest_per_period(CLAReview, CLAReview.review_date)
    visits = latest_per_period(StatutoryVisit, StatutoryVisit.visit_date)
    iro = latest_per_child(
        IROContact,
        IROContact.contact_date,
        IROContact.kind.in_((IROContactKind.visit_child, IROContactKind.call_child)),
    )
    health = latest_per_child(HealthAssessment, HealthAssessment.assessment_date)
    dental = latest_per_child(DentalCheck, DentalCheck.check_date)
    placements_in_twelve = _grouped(
        session,
        select(Placement.child_id, func.count())
        .where(_open_during(Placement.start_date, Placement.end_date, w, w.twelve))
        .group_by(Placement.child_id),
    )
    missing_count: dict[tuple[uuid.UUID, MissingKind], int] = {}
    last_missing: dict[uuid.UUID, Any] = {}
    for m in session.execute(
        select(
            MissingEpisode.child_id,
            MissingEpisode.kind,
            MissingEpisode.started_at,
            MissingEpisode.interview_offered_at,
            MissingEpisode.interview_response,
        )
        .where(
            MissingEpisode.while_looked_after.is_(True),
            MissingEpisode.started_at >= _london_midnight(w.twelve),
            MissingEpisode.started_at < w.instant_after(),
        )
        .order_by(MissingEpisode.started_at, MissingEpisode.id)
    ):
        missing_count[(m.child_id, m.kind)] = missing_count.get((m.child_id, m.kind), 0) + 1
        if m.kind == MissingKind.M:
            last_missing[m.child_id] = m

    stmt = _with_child(
        select(
            *_CHILD_SELECT,
            PeriodOfCare.id,
            PeriodOfCare.start_date,
            PeriodOfCare.end_date,
            PeriodOfCare.category_of_need,
            PeriodOfCare.reason_ceased,
        ),
        PeriodOfCare.child_id,
        PeriodOfCare.case_id,
    ).where(in_window)
    stmt = stmt.order_by(PeriodOfCare.start_date, Person.la_child_id, PeriodOfCare.id)
    for r in session.execute(stmt):
        ceased = _by_then(r.end_date, w.as_of)
        status = legal_status.get(r.id)
        place = placement.get(r.id)
        plan = permanence.get(r.id)
        missing = last_missing.get(r.person_id)
        subsequent = any(
            start < r.start_date and (end is None or end >= add_months(r.start_date, -12))
            for start, end in earlier_ends.get(r.person_id, ())
        )
        offered = missing.interview_offered_at is not None if missing else None
        accepted = (
            missing.interview_response == ReturnInterviewResponse.accepted
            if missing is not None and missing.interview_response is not None
            else None
        )
        child = _child_cells(r, w.as_of)
        yield (
            *child[:5],
            _yes_no(r.person_id in uasc),
            child[5],
            r.start_date,
            r.category_of_need.value,
            _yes_no(subsequent),
            status.start_date if status else None,
            status.legal_status.value if status else "",
            reviews.get(r.id),
            visits.get(r.id),
            plan.permanence_option.value.replace("_", " ") if plan else "",
            iro.get(r.person_id),
            health.get(r.person_id),
            dental.get(r.person_id),
            placements_in_twelve.get(r.person_id, 0),
            ceased,
            r.reason_ceased.value if ceased is not None and r.reason_ceased else "",
            place.start_date if place else None,
            place.placement_type.value if place else "",
            place.provider.value if place and place.provider else "",
            (place.placement_postcode or "") if place else "",
            (place.ofsted_urn or "") if place else "",
            _placement_location(place.placement_la_code, settings) if place else "",
            (place.placement_la_code or "") if place else "",
            missing_count.get((r.person_id, MissingKind.M), 0),
            missing_count.get((r.person_id, MissingKind.A), 0),
            _yes_no(offered),
            _yes_no(accepted),
            *_allocation_cells(r),
        )


def _placement_location(la_code: str | None, settings: Settings) -> str:
    """Inside or outside the council's own area (Ofsted reads distance from home this way)."""
    if la_code is None:
        return ""
    return "In LA boundary" if la_code == settings.la_code else "Out of LA boundary"


# --------------------------------------------------------------------------------------------------
# List 9: care leavers (twelve months)
# --------------------------------------------------------------------------------------------------


def _list_9_care_leavers(session: Session, w: Windows) -> Iterator[tuple[Any, ...]]:
    """Relevant and former relevant care leavers (Children Act 1989 s.23A, s.23C), with their
    latest contact (in touch, accommodation, activity) in the twelve months."""
    latest_contact = _latest(
        session.execute(
            select(
                LeavingCareContact.child_id,
                LeavingCareContact.in_touch,
                LeavingCareContact.accommodation,
                LeavingCareContact.activity,
            )
            .where(
                LeavingCareContact.contact_date >= w.twelve,
                LeavingCareContact.contact_date <= w.as_of,
            )
            .order_by(LeavingCareContact.contact_date, LeavingCareContact.created_at)
        ),
        key=lambda c: c.child_id,
    )
    stmt = _with_child(
        select(*_CHILD_SELECT, LeavingCareStatus.category),
        LeavingCareStatus.child_id,
        LeavingCareStatus.case_id,
    ).where(LeavingCareStatus.category.in_(_CARE_LEAVERS))
    stmt = stmt.order_by(Person.la_child_id, Person.id)
    for r in session.execute(stmt):
        contact = latest_contact.get(r.person_id)
        accommodation: Accommodation | None = contact.accommodation if contact else None
        yield (
            *_child_cells(r, w.as_of),
            *_allocation_cells(r),
            _ELIGIBILITY[r.category],
            contact.in_touch.value if contact else "",
            accommodation.value if accommodation else "",
            _suitability(accommodation),
            contact.activity.value if contact else "",
        )


def _suitability(accommodation: Accommodation | None) -> str:
    """SSDA903 ACCOM ends in 1 for suitable and 2 for unsuitable (validator rule 133)."""
    if accommodation is None:
        return ""
    return "Suitable" if accommodation.value.endswith("1") else "Unsuitable"


# --------------------------------------------------------------------------------------------------
# List 10: adoption (twelve months)
# --------------------------------------------------------------------------------------------------


def _list_10_adoption(session: Session, w: Windows) -> Iterator[tuple[Any, ...]]:
    """Every child with a decision that they should be placed for adoption that was still being
    acted on at some time in the twelve months (not adopted or reversed before them)."""
    stmt = _with_child(
        select(
            *_CHILD_SELECT,
            PeriodOfCare.start_date.label("entered_care"),
            AdoptionDecision.decision_date,
            AdoptionDecision.placement_order_date,
            AdoptionDecision.matched_date,
            AdoptionDecision.placed_date,
            AdoptionDecision.adoption_order_date,
            AdoptionDecision.reversed_date,
            AdoptionDecision.reversed_reason,
        )
        .select_from(AdoptionDecision)
        .join(PeriodOfCare, PeriodOfCare.id == AdoptionDecision.period_id),
        AdoptionDecision.child_id,
        AdoptionDecision.case_id,
    ).where(
        AdoptionDecision.decision_date <= w.as_of,
        or_(
            AdoptionDecision.adoption_order_date.is_(None),
            AdoptionDecision.adoption_order_date >= w.twelve,
        ),
        or_(AdoptionDecision.reversed_date.is_(None), AdoptionDecision.reversed_date >= w.twelve),
    )
    stmt = stmt.order_by(AdoptionDecision.decision_date, Person.la_child_id, AdoptionDecision.id)
    for r in session.execute(stmt):
        child = _child_cells(r, w.as_of)
        reversed_on = _by_then(r.reversed_date, w.as_of)
        yield (
            child[0],
            "",  # family identifier: not held (see NOT_HELD)
            *child[1:],
            r.entered_care,
            r.decision_date,
            _by_then(r.placement_order_date, w.as_of),
            _by_then(r.matched_date, w.as_of),
            _by_then(r.placed_date, w.as_of),
            _by_then(r.adoption_order_date, w.as_of),
            reversed_on,
            r.reversed_reason.value if reversed_on is not None and r.reversed_reason else "",
            None,  # fostering for adoption: not held (see NOT_HELD)
            *_allocation_cells(r),
        )


__all__ = ["HEADINGS", "build_annex_a"]
