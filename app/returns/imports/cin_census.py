"""Import a council's historical CIN census (migration from a legacy system).

A council's past CIN census returns are the one record of its children in need that every legacy
system can produce in the same shape. This module reads one return (the DfE XML, see returns.md)
and loads it as Casework records: a case per CIN episode with its referral, assessments, CIN plans,
section 47 enquiries (each with the strategy discussion that must precede it and its initial
conference), child protection plans and their review conferences, in the states the workflows
would have left them. The export of the same year (``build_cin_census``) gives the return back.

How it behaves, and why:

- **All or nothing.** Every record is checked first, against the DfE code sets and the census's
  own invariants (rule numbers cited where a check repeats one); every rejection is reported with
  its reason, and if there is any, nothing is written: a half-migrated child is worse than none.
- **Children are matched by LAchildID** (``Person.la_child_id``). A child already in Casework is
  reused and *not updated*: the record in Casework is the one practitioners keep, and a return
  cannot say which of two differing values is right. The one exception is a child Casework holds
  as unborn whom the return shows born (birth date and sex recorded). A new child is created with
  placeholder names ("Unknown", "(imported LAchildID …)"): the census carries no names.
- **Episodes are matched by child and referral date**, their parts by their own dates (an
  assessment by its start, a plan by its start, a review by its date). Re-importing a file finds
  everything present and changes nothing. A later year's return adds what is new in it and
  *moves history on*: what Casework still has open and the return settles (an episode closed, a
  plan ended, an assessment authorised, an enquiry concluded, a CP plan's latest category given at
  a later review) is recorded. Any other difference is rejected, never overwritten. Dates are
  compared as at the return's ReferenceDate, so an older return re-imported after a newer one
  finds nothing new.
- **History, not work**: rows are written directly (not through the workflows, whose guards
  concern today's practice), attributed to the inactive ``migration`` account, with a chronology
  event on each case saying which file it came from. No statutory deadline is opened: every
  timescale on historical work has already run its course.

What the census does not hold and Casework therefore cannot reproduce: ``AssessmentInternalReview
Date`` (no column; ignored), ``NumberOfPreviousCPP`` (Casework counts the child's earlier plans, so
import a council's returns oldest first), ``UPNunknown`` (derived again by the exporter). A
``DateOfInitialCPC`` at episode level is refused: Casework records an initial conference only with
the section 47 enquiry that led to it (CIN rule 2884 allows either place; the Section47 one is the
one that keeps the enquiry's dates).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import Any, TypeVar
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from pydantic_core import PydanticCustomError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.assessments.factors import NO_FACTORS, AssessmentFactor
from app.audit.service import change_log_append
from app.core_types import (
    CategoryOfAbuse,
    Disability,
    Ethnicity,
    PrimaryNeed,
    ReasonForClosure,
    ReferralSource,
    Sex,
    UPNUnknown,
    validate_la_child_id,
    validate_upn,
)
from app.models.assessments import Assessment
from app.models.cases import Case
from app.models.cin import CINPlan
from app.models.frontdoor import Referral, ReferralDecision
from app.models.people import Person, PersonKind
from app.models.protection import (
    ConferenceKind,
    ConferenceOutcome,
    CPConference,
    CPPlan,
    DiscussionFormat,
    S47Enquiry,
    S47Outcome,
    StrategyDiscussion,
)
from app.people.service import person_rule_errors
from app.returns.common import CollectionYear, ImportReport
from app.returns.imports.common import (
    migrated_case_event,
    migrated_child_create,
    migration_principal,
    migration_team,
)
from app.security.principal import Principal

E = TypeVar("E", bound=StrEnum)

# The element names the DfE schema allows in each block, in schema order (an unknown one is most
# likely a typing error in a hand-edited file, and would otherwise be silently lost).
HEADER_ELEMENTS = {
    "CollectionDetails": ("Collection", "Year", "ReferenceDate"),
    "Source": ("SourceLevel", "LEA", "SoftwareCode", "Release", "SerialNo", "DateTime"),
}
CHILD_ELEMENTS = ("ChildIdentifiers", "ChildCharacteristics", "CINdetails")
IDENTIFIER_ELEMENTS = (
    "LAchildID",
    "UPN",
    "FormerUPN",
    "UPNunknown",
    "PersonBirthDate",
    "ExpectedPersonBirthDate",
    "GenderCurrent",
    "Sex",
    "PersonDeathDate",
)
CHARACTERISTICS_ELEMENTS = ("Ethnicity", "Disabilities")
CIN_DETAILS_ELEMENTS = (
    "CINreferralDate",
    "ReferralSource",
    "PrimaryNeedCode",
    "CINclosureDate",
    "ReasonForClosure",
    "DateOfInitialCPC",
    "Assessments",
    "CINPlanDates",
    "Section47",
    "ReferralNFA",
    "ChildProtectionPlans",
)
ASSESSMENT_ELEMENTS = (
    "AssessmentActualStartDate",
    "AssessmentInternalReviewDate",
    "AssessmentAuthorisationDate",
    "FactorsIdentifiedAtAssessment",
)
CIN_PLAN_ELEMENTS = ("CINPlanStartDate", "CINPlanEndDate")
SECTION47_ELEMENTS = (
    "S47ActualStartDate",
    "InitialCPCtarget",
    "DateOfInitialCPC",
    "ICPCnotRequired",
)
CP_PLAN_ELEMENTS = (
    "CPPstartDate",
    "CPPendDate",
    "InitialCategoryOfAbuse",
    "LatestCategoryOfAbuse",
    "NumberOfPreviousCPP",
    "Reviews",
)
# The blocks the schema lets repeat (every other element appears at most once).
REPEATABLE_ELEMENTS = frozenset(
    {"CINdetails", "Assessments", "CINPlanDates", "Section47", "ChildProtectionPlans", "Reviews"}
)
# xs:boolean, which the schema's yes/no type is; the validator reads 1/0 the same way.
TRUE_VALUES = {"true": True, "1": True, "false": False, "0": False}
# CIN rule 8606: a referral for an unborn child at most 40 weeks before the expected birth.
MAX_WEEKS_BEFORE_BIRTH = 40

# Insert phases (see _Writer.finish): each after the tables its foreign keys point at.
CASES, REFERRALS, PARTS, ENQUIRIES, CONFERENCES = range(1, 6)

# The case workflow's states a CIN census can tell apart (app/cases/workflow.py).
CENSUS_CASE_STATES = frozenset({"referral", "assessment", "protection", "cin_plan", "cp_plan"})

MIGRATED_NOTE = "Recorded before migration to Casework; the CIN census return holds no more."


# --------------------------------------------------------------------------------------------------
# What the file says, once read
# --------------------------------------------------------------------------------------------------


@dataclass
class CensusAssessment:
    label: str
    start: date
    authorised: date | None
    factors: list[str]


@dataclass
class CensusCINPlan:
    label: str
    start: date
    end: date | None


@dataclass
class CensusSection47:
    label: str
    start: date
    icpc_target: date | None
    icpc: date | None
    icpc_not_required: bool


@dataclass
class CensusCPPlan:
    label: str
    start: date
    end: date | None
    initial_category: CategoryOfAbuse
    latest_category: CategoryOfAbuse
    reviews: list[date]


@dataclass
class CensusEpisode:
    label: str
    referral_date: date
    source: ReferralSource
    primary_need: PrimaryNeed
    closure_date: date | None
    closure_reason: ReasonForClosure | None
    is_nfa: bool
    assessments: list[CensusAssessment] = field(default_factory=list)
    cin_plans: list[CensusCINPlan] = field(default_factory=list)
    section47s: list[CensusSection47] = field(default_factory=list)
    cp_plans: list[CensusCPPlan] = field(default_factory=list)


@dataclass
class CensusChild:
    label: str
    la_child_id: str
    upn: str | None
    former_upn: str | None
    date_of_birth: date | None
    expected_date_of_birth: date | None
    sex: Sex
    date_of_death: date | None
    ethnicity: Ethnicity | None
    disabilities: list[str]
    episodes: list[CensusEpisode] = field(default_factory=list)

    def person_fields(self) -> dict[str, object]:
        return {
            "upn": self.upn,
            "former_upn": self.former_upn,
            "date_of_birth": self.date_of_birth,
            "expected_date_of_birth": self.expected_date_of_birth,
            "sex": self.sex,
            "date_of_death": self.date_of_death,
            "ethnicity": self.ethnicity,
            "disabilities": self.disabilities,
        }


class _Reader:
    """Reads one block's elements, reporting each unreadable value against ``record``."""

    def __init__(self, report: ImportReport, record: str, block: Element, allowed: Iterable[str]):
        self.report = report
        self.record = record
        self.block = block
        self.ok = True
        allowed = tuple(allowed)
        seen: set[str] = set()
        for element in block:
            if element.tag not in allowed:
                self.reject(
                    f"<{element.tag}> is not an element of <{block.tag}> in the CIN census "
                    f"(expected {', '.join(allowed)})"
                )
            elif element.tag in seen and element.tag not in REPEATABLE_ELEMENTS:
                self.reject(f"<{element.tag}> is given twice in <{block.tag}>")
            seen.add(element.tag)

    def reject(self, reason: str) -> None:
        self.ok = False
        self.report.reject(self.record, reason)

    def text(self, name: str, *, required: bool = False) -> str | None:
        element = self.block.find(name)
        value = (element.text or "").strip() if element is not None else ""
        if not value:
            if required:
                self.reject(f"{name} is missing")
            return None
        return value

    def date(self, name: str, *, required: bool = False) -> date | None:
        value = self.text(name, required=required)
        if value is None:
            return None
        try:
            return date.fromisoformat(value) if len(value) == 10 else _not_a_date()
        except ValueError:
            self.reject(f"{name} '{value}' is not a date (the census writes YYYY-MM-DD)")
            return None

    def code(self, name: str, code_set: type[E], *, required: bool = False) -> E | None:
        value = self.text(name, required=required)
        if value is None:
            return None
        try:
            return code_set(value)
        except ValueError:
            self.reject(f"{name} '{value}' is not a DfE code ({_codes(code_set)})")
            return None

    def flag(self, name: str) -> bool:
        value = self.text(name)
        if value is None:
            return False
        if value.lower() not in TRUE_VALUES:
            self.reject(f"{name} '{value}' must be true or false (or 1 or 0)")
            return False
        return TRUE_VALUES[value.lower()]


def _not_a_date() -> date:
    raise ValueError("not YYYY-MM-DD")


def _codes(code_set: type[StrEnum]) -> str:
    values = [c.value for c in code_set]
    return ", ".join(values) if len(values) <= 14 else f"{values[0]} … {values[-1]}"


# --------------------------------------------------------------------------------------------------
# Reading the XML
# --------------------------------------------------------------------------------------------------


def _strip_namespaces(root: Element) -> None:
    # Some systems write the DfE namespace on <Message>; the element names are what matter.
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.startswith("{"):
            element.tag = element.tag.split("}", 1)[1]


def _read_year(report: ImportReport, root: Element) -> CollectionYear | None:
    header = root.find("Header")
    if header is None:
        report.reject("Header", "the return has no <Header>")
        return None
    details = header.find("CollectionDetails")
    if details is None:
        report.reject("Header", "the header has no <CollectionDetails>")
        return None
    reader = _Reader(report, "Header", details, HEADER_ELEMENTS["CollectionDetails"])
    collection = reader.text("Collection", required=True)
    if collection is not None and collection != "CIN":
        reader.reject(f"Collection is '{collection}': this is not a CIN census return")
    year_text = reader.text("Year", required=True)
    reference = reader.date("ReferenceDate", required=True)
    if year_text is None or reference is None or not reader.ok:
        return None
    if not year_text.isdigit():
        reader.reject(f"Year '{year_text}' is not a year")
        return None
    year = CollectionYear(int(year_text))
    if reference != year.end:
        reader.reject(
            f"ReferenceDate {reference} is not 31 March {year.year}, the end of the "
            f"{year.label} census year"
        )
        return None
    return year


def _read_child(
    report: ImportReport, element: Element, position: int, year: CollectionYear
) -> CensusChild | None:
    identifiers = element.find("ChildIdentifiers")
    la_child_id = (identifiers.findtext("LAchildID") or "") if identifiers is not None else ""
    label = f"Child {la_child_id}" if la_child_id.strip() else f"Child {position} (no LAchildID)"
    shape = _Reader(report, label, element, CHILD_ELEMENTS)
    if identifiers is None:
        shape.reject("<ChildIdentifiers> is missing")
        return None
    ids = _Reader(report, label, identifiers, IDENTIFIER_ELEMENTS)
    try:
        validate_la_child_id(la_child_id)
    except PydanticCustomError as exc:
        ids.reject(str(exc))
    upn, former_upn = (_upn(ids, name) for name in ("UPN", "FormerUPN"))
    upn_unknown = ids.code("UPNunknown", UPNUnknown)
    if upn is not None and upn_unknown is not None:
        ids.reject("UPN and UPNunknown are both given: a child has one or the other")
    dob = ids.date("PersonBirthDate")
    expected = ids.date("ExpectedPersonBirthDate")
    sex = ids.code("Sex", Sex, required=True)
    death = ids.date("PersonDeathDate")
    if dob is None and expected is None and ids.ok:
        ids.reject("PersonBirthDate or ExpectedPersonBirthDate is needed")
    if dob is not None and expected is not None:
        ids.reject("PersonBirthDate and ExpectedPersonBirthDate are both given")
    for name, day in (("PersonBirthDate", dob), ("PersonDeathDate", death)):
        if day is not None and day > year.end:
            ids.reject(f"{name} {day} is after the census ReferenceDate {year.end}")

    ethnicity: Ethnicity | None = None
    disabilities: list[str] = []
    characteristics = element.find("ChildCharacteristics")
    if characteristics is None:
        shape.reject("<ChildCharacteristics> is missing")
    else:
        chars = _Reader(report, label, characteristics, CHARACTERISTICS_ELEMENTS)
        ethnicity = chars.code("Ethnicity", Ethnicity, required=True)
        block = characteristics.find("Disabilities")
        for item in block if block is not None else ():
            value = (item.text or "").strip()
            if item.tag != "Disability":
                chars.reject(f"<{item.tag}> is not an element of <Disabilities>")
            elif value not in {d.value for d in Disability}:
                chars.reject(f"Disability '{value}' is not a DfE code ({_codes(Disability)})")
            elif value in disabilities:
                chars.reject(f"Disability '{value}' is given twice")
            else:
                disabilities.append(value)
        # The exporter writes NONE for a child with no disability recorded: both mean "none".
        if disabilities == [Disability.NONE.value]:
            disabilities = []
        elif Disability.NONE.value in disabilities:
            chars.reject("Disability NONE cannot be given together with a disability")
        if not chars.ok:
            shape.ok = False

    episodes = [
        _read_episode(report, label, n, block, year)
        for n, block in enumerate(element.findall("CINdetails"), start=1)
    ]
    if not episodes:
        shape.reject("the child has no <CINdetails>: a child is in the census for an episode")
    if not (shape.ok and ids.ok) or sex is None or any(e is None for e in episodes):
        return None
    child = CensusChild(
        label=label,
        la_child_id=la_child_id,
        upn=upn,
        former_upn=former_upn,
        date_of_birth=dob,
        expected_date_of_birth=expected,
        sex=sex,
        date_of_death=death,
        ethnicity=ethnicity,
        disabilities=disabilities,
        episodes=[e for e in episodes if e is not None],
    )
    return child


def _upn(reader: _Reader, name: str) -> str | None:
    value = reader.text(name)
    if value is None:
        return None
    try:
        return validate_upn(value)  # CIN rules 1510, 1530: check letter and LA code
    except PydanticCustomError as exc:
        reader.reject(f"{name} '{value}': {exc}")
        return None


def _read_episode(
    report: ImportReport, child_label: str, n: int, block: Element, year: CollectionYear
) -> CensusEpisode | None:
    label = f"{child_label} / CINdetails {n}"
    r = _Reader(report, label, block, CIN_DETAILS_ELEMENTS)
    referral_date = r.date("CINreferralDate", required=True)
    source = r.code("ReferralSource", ReferralSource, required=True)
    need = r.code("PrimaryNeedCode", PrimaryNeed, required=True)
    closure = r.date("CINclosureDate")
    reason = r.code("ReasonForClosure", ReasonForClosure)
    if r.text("DateOfInitialCPC") is not None:
        r.reject(
            "DateOfInitialCPC is given at episode level: Casework records an initial conference "
            "with its section 47 enquiry, so give it in the <Section47> block (CIN rule 2884 "
            "allows either place, never both)"
        )
    is_nfa = r.flag("ReferralNFA")

    assessments = [
        _read_assessment(report, label, i, b)
        for i, b in enumerate(block.findall("Assessments"), start=1)
    ]
    cin_plans = [
        _read_cin_plan(report, label, i, b)
        for i, b in enumerate(block.findall("CINPlanDates"), start=1)
    ]
    section47s = [
        _read_section47(report, label, i, b)
        for i, b in enumerate(block.findall("Section47"), start=1)
    ]
    cp_plans = [
        _read_cp_plan(report, label, i, b)
        for i, b in enumerate(block.findall("ChildProtectionPlans"), start=1)
    ]
    parts: list[object] = [*assessments, *cin_plans, *section47s, *cp_plans]
    if not r.ok or referral_date is None or source is None or need is None or None in parts:
        return None
    episode = CensusEpisode(
        label=label,
        referral_date=referral_date,
        source=source,
        primary_need=need,
        closure_date=closure,
        closure_reason=reason,
        is_nfa=is_nfa,
        assessments=[a for a in assessments if a is not None],
        cin_plans=[p for p in cin_plans if p is not None],
        section47s=[s for s in section47s if s is not None],
        cp_plans=[p for p in cp_plans if p is not None],
    )
    return episode


def _read_assessment(
    report: ImportReport, episode: str, n: int, block: Element
) -> CensusAssessment | None:
    r = _Reader(report, f"{episode} / Assessments {n}", block, ASSESSMENT_ELEMENTS)
    start = r.date("AssessmentActualStartDate", required=True)
    r.date("AssessmentInternalReviewDate")  # read so a bad one is reported; Casework holds none
    authorised = r.date("AssessmentAuthorisationDate")
    factors: list[str] = []
    holder = block.find("FactorsIdentifiedAtAssessment")
    codes = {f.value for f in AssessmentFactor}
    for item in holder if holder is not None else ():
        value = (item.text or "").strip()
        if item.tag != "AssessmentFactors":
            r.reject(f"<{item.tag}> is not an element of <FactorsIdentifiedAtAssessment>")
        elif value not in codes:
            r.reject(f"AssessmentFactors '{value}' is not a DfE assessment factor code (1A-24A)")
        elif value not in factors:
            factors.append(value)
    if NO_FACTORS.value in factors and len(factors) > 1:
        r.reject('AssessmentFactors "21" (no factors identified) must stand alone')
    if start is None or not r.ok:
        return None
    return CensusAssessment(r.record, start, authorised, factors)


def _read_cin_plan(
    report: ImportReport, episode: str, n: int, block: Element
) -> CensusCINPlan | None:
    r = _Reader(report, f"{episode} / CINPlanDates {n}", block, CIN_PLAN_ELEMENTS)
    start = r.date("CINPlanStartDate", required=True)
    end = r.date("CINPlanEndDate")
    if start is None or not r.ok:
        return None
    return CensusCINPlan(r.record, start, end)


def _read_section47(
    report: ImportReport, episode: str, n: int, block: Element
) -> CensusSection47 | None:
    r = _Reader(report, f"{episode} / Section47 {n}", block, SECTION47_ELEMENTS)
    start = r.date("S47ActualStartDate", required=True)
    target = r.date("InitialCPCtarget")
    icpc = r.date("DateOfInitialCPC")
    not_required = r.flag("ICPCnotRequired")
    if start is None or not r.ok:
        return None
    return CensusSection47(r.record, start, target, icpc, not_required)


def _read_cp_plan(
    report: ImportReport, episode: str, n: int, block: Element
) -> CensusCPPlan | None:
    r = _Reader(report, f"{episode} / ChildProtectionPlans {n}", block, CP_PLAN_ELEMENTS)
    start = r.date("CPPstartDate", required=True)
    end = r.date("CPPendDate")
    initial = r.code("InitialCategoryOfAbuse", CategoryOfAbuse, required=True)
    latest = r.code("LatestCategoryOfAbuse", CategoryOfAbuse, required=True)
    previous = r.text("NumberOfPreviousCPP")
    if previous is not None and not previous.isdigit():
        r.reject(f"NumberOfPreviousCPP '{previous}' is not a whole number")
    reviews: list[date] = []
    # The schema has one <Reviews> holding every <CPPreviewDate>; some systems (and the DfE
    # validator's reader) use one <Reviews> per date. Both are read.
    for holder in block.findall("Reviews"):
        for item in holder:
            if item.tag != "CPPreviewDate":
                r.reject(f"<{item.tag}> is not an element of <Reviews>")
                continue
            value = (item.text or "").strip()
            try:
                reviews.append(date.fromisoformat(value) if len(value) == 10 else _not_a_date())
            except ValueError:
                r.reject(f"CPPreviewDate '{value}' is not a date (the census writes YYYY-MM-DD)")
    if start is None or initial is None or latest is None or not r.ok:
        return None
    return CensusCPPlan(r.record, start, end, initial, latest, sorted(set(reviews)))


def read_cin_census(
    report: ImportReport, data: bytes
) -> tuple[CollectionYear | None, list[CensusChild]]:
    """Parse and check the shape and codes of a return; rejections go to ``report``.

    Parsed with defusedxml: a return comes from outside, and an entity bomb or an external entity
    must not be expanded."""
    try:
        root = SafeET.fromstring(data)
    except ParseError as exc:
        report.reject("file", f"the file is not well-formed XML ({exc})")
        return None, []
    except DefusedXmlException as exc:
        report.reject("file", f"the file uses XML features refused for safety ({exc})")
        return None, []
    _strip_namespaces(root)
    if root.tag != "Message":
        report.reject("file", f"the root element is <{root.tag}>, not the CIN census <Message>")
        return None, []
    year = _read_year(report, root)
    children_block = root.find("Children")
    if children_block is None:
        report.reject("file", "the return has no <Children>")
        return None, []
    for element in root:
        if element.tag not in ("Header", "Children"):
            report.reject("file", f"<{element.tag}> is not an element of the CIN census <Message>")
    children: list[CensusChild] = []
    for position, element in enumerate(children_block, start=1):
        if element.tag != "Child":
            report.reject(f"Children element {position}", f"<{element.tag}> is not a <Child>")
            continue
        child = _read_child(report, element, position, year or CollectionYear(date.max.year))
        if child is not None:
            children.append(child)
    return year, children


# --------------------------------------------------------------------------------------------------
# Checking the records: the census's invariants (the rules the exporter's output must pass)
# --------------------------------------------------------------------------------------------------


def _overlaps(a_start: date, a_end: date | None, b_start: date, b_end: date | None) -> bool:
    """Strict overlap: a plan may end on the day the next one starts."""
    return (a_end is None or b_start < a_end) and (b_end is None or a_start < b_end)


def check_child(report: ImportReport, child: CensusChild, year: CollectionYear) -> None:
    """Every rule a child's records break, each one a rejection naming the record."""
    state = {"kind": PersonKind.child, **child.person_fields()}
    for error in person_rule_errors(state):
        rule = f" (CIN rule {error['rule']})" if "rule" in error else ""
        report.reject(child.label, f"{error['message']}{rule}")

    episodes = sorted(child.episodes, key=lambda e: e.referral_date)
    for episode in episodes:
        check_episode(report, child, episode, year)
    seen: set[date] = set()
    for episode in episodes:
        if episode.referral_date in seen:
            report.reject(
                episode.label, f"a second CIN episode with referral date {episode.referral_date}"
            )
        seen.add(episode.referral_date)
    # CIN 8820: a referral never falls inside an earlier episode; 8815/8816: only the latest
    # episode may be open (Casework closes an NFA episode when it decides NFA, see check_episode).
    for earlier, later in pairwise(episodes):
        if earlier.referral_date == later.referral_date:
            continue
        if earlier.closure_date is None:
            report.reject(
                earlier.label,
                f"the episode is open but a later one starts {later.referral_date}: only the "
                "latest CIN episode may be open (CIN rules 8815, 8816)",
            )
        elif later.referral_date < earlier.closure_date:
            report.reject(
                later.label,
                f"the referral on {later.referral_date} falls inside the episode of "
                f"{earlier.referral_date} to {earlier.closure_date} (CIN rule 8820)",
            )
    # One open CP plan (8935) and one open CIN plan (4004) per child, across episodes.
    cp_plans = [p for e in episodes for p in e.cp_plans]
    cin_plans = [p for e in episodes for p in e.cin_plans]
    for kind, plans, rule in (("child protection", cp_plans, "8935"), ("CIN", cin_plans, "4004")):
        open_plans = [p for p in plans if p.end is None]
        for plan in open_plans[1:]:
            report.reject(
                plan.label,
                f"a second open {kind} plan: a child has at most one (CIN rule {rule})",
            )
    for cin in cin_plans:
        for cp in cp_plans:
            if _overlaps(cin.start, cin.end, cp.start, cp.end):
                report.reject(
                    cin.label,
                    f"the CIN plan from {cin.start} overlaps the child protection plan from "
                    f"{cp.start} (CIN rules 4001, 4016, 4017)",
                )
    for i, plan in enumerate(cp_plans):
        for other in cp_plans[i + 1 :]:
            if _overlaps(plan.start, plan.end, other.start, other.end):
                report.reject(
                    other.label,
                    f"the child protection plan from {other.start} overlaps the one from "
                    f"{plan.start}",
                )


def check_episode(
    report: ImportReport, child: CensusChild, episode: CensusEpisode, year: CollectionYear
) -> None:
    label = episode.label
    referral, closure = episode.referral_date, episode.closure_date

    def reject(record: str, reason: str) -> None:
        report.reject(record, reason)

    if (closure is None) != (episode.closure_reason is None):
        reject(
            label,
            "CINclosureDate and ReasonForClosure go together: one is given without the other "
            "(CIN rules 8805, 8810)",
        )
    if referral > year.end:
        reject(label, f"CINreferralDate {referral} is after the census ReferenceDate {year.end}")
    if closure is not None:
        if closure < referral:
            reject(label, f"CINclosureDate {closure} is before CINreferralDate {referral}")
        if closure > year.end:
            reject(label, f"CINclosureDate {closure} is after the census ReferenceDate {year.end}")
        if closure < year.start:
            reject(label, f"the episode closed {closure}, before the {year.label} census year")
    if child.expected_date_of_birth is not None and child.date_of_birth is None:
        earliest = child.expected_date_of_birth - timedelta(weeks=MAX_WEEKS_BEFORE_BIRTH)
        if referral < earliest:
            reject(
                label,
                f"the referral on {referral} is more than 40 weeks before the expected birth "
                f"{child.expected_date_of_birth} (CIN rule 8606)",
            )
    if episode.is_nfa:
        # CIN 8831, 8832, 4000: nothing happens on a referral with no further action.
        if episode.assessments or episode.cin_plans or episode.section47s or episode.cp_plans:
            reject(
                label,
                "ReferralNFA is true but the episode has assessments, plans or section 47 "
                "enquiries (CIN rules 8831, 8832, 4000)",
            )
        if closure is None:
            reject(
                label,
                "ReferralNFA is true but the episode has no CINclosureDate: Casework closes an "
                "episode when no further action is decided",
            )

    def within_episode(record: str, name: str, day: date | None) -> None:
        if day is None:
            return
        if day < referral:
            reject(record, f"{name} {day} is before the referral on {referral}")
        elif closure is not None and day > closure:
            reject(record, f"{name} {day} is after the episode closed on {closure} (CIN rule 8565)")
        elif day > year.end:
            reject(record, f"{name} {day} is after the census ReferenceDate {year.end}")

    def ends_after_start(record: str, name: str, start: date, end: date | None) -> None:
        if end is not None and end < start:
            reject(record, f"{name} {end} is before the start on {start}")

    open_assessments = [a for a in episode.assessments if a.authorised is None]
    for extra in open_assessments[1:]:
        reject(extra.label, "a second assessment not yet authorised in one episode (CIN 8896)")
    for a in episode.assessments:
        within_episode(a.label, "AssessmentActualStartDate", a.start)
        within_episode(a.label, "AssessmentAuthorisationDate", a.authorised)
        ends_after_start(a.label, "AssessmentAuthorisationDate", a.start, a.authorised)
        if closure is not None and a.authorised is None:
            reject(a.label, "the episode is closed but the assessment was never authorised")
    for p in episode.cin_plans:
        within_episode(p.label, "CINPlanStartDate", p.start)
        within_episode(p.label, "CINPlanEndDate", p.end)
        ends_after_start(p.label, "CINPlanEndDate", p.start, p.end)
        if closure is not None and p.end is None:
            reject(p.label, "the episode is closed but the CIN plan has no end date")
    for s in episode.section47s:
        within_episode(s.label, "S47ActualStartDate", s.start)
        within_episode(s.label, "DateOfInitialCPC", s.icpc)
        ends_after_start(s.label, "DateOfInitialCPC", s.start, s.icpc)
        ends_after_start(s.label, "InitialCPCtarget", s.start, s.icpc_target)
        if s.icpc_target is None:
            reject(s.label, "InitialCPCtarget is missing: every section 47 enquiry has one")
        if s.icpc is not None and s.icpc_not_required:
            reject(s.label, "DateOfInitialCPC is given but ICPCnotRequired is true")
        if s.icpc is not None and s.icpc.weekday() >= 5:
            reject(s.label, f"the initial conference on {s.icpc} is at a weekend (CIN rule 8875)")
    icpc_days = {s.icpc for s in episode.section47s if s.icpc is not None}
    for cp in episode.cp_plans:
        within_episode(cp.label, "CPPstartDate", cp.start)
        within_episode(cp.label, "CPPendDate", cp.end)
        ends_after_start(cp.label, "CPPendDate", cp.start, cp.end)
        if closure is not None and cp.end is None:
            reject(cp.label, "the episode is closed but the child protection plan has no end date")
        if (
            episode.section47s
            and icpc_days
            and cp.start not in icpc_days
            and cp.start >= min(icpc_days)
        ):
            reject(
                cp.label,
                f"the plan starts {cp.start}, not on the day of an initial conference "
                f"({', '.join(str(d) for d in sorted(icpc_days))}) (CIN rule 2885)",
            )
        for review in cp.reviews:
            if review <= cp.start:
                reject(cp.label, f"the review on {review} is not after the plan start (CIN 8841)")
            elif cp.end is not None and review > cp.end:
                reject(cp.label, f"the review on {review} is after the plan ended on {cp.end}")
            elif review > year.end:
                reject(cp.label, f"the review on {review} is after the census ReferenceDate")


# --------------------------------------------------------------------------------------------------
# What Casework already holds for these children
# --------------------------------------------------------------------------------------------------


@dataclass
class HeldEpisode:
    """A CIN episode already in Casework, with its parts keyed by the date the census matches on."""

    case: Case
    referral: Referral
    assessments: dict[date, Assessment] = field(default_factory=dict)
    cin_plans: dict[date, CINPlan] = field(default_factory=dict)
    section47s: dict[date, S47Enquiry] = field(default_factory=dict)
    initial_conferences: dict[uuid.UUID, CPConference] = field(default_factory=dict)
    cp_plans: dict[date, CPPlan] = field(default_factory=dict)
    reviews: dict[uuid.UUID, set[date]] = field(default_factory=dict)


@dataclass
class Held:
    people: dict[str, Person]
    episodes: dict[tuple[uuid.UUID, date], HeldEpisode]
    cases_by_child: dict[uuid.UUID, list[Case]]
    referrals_by_child: dict[uuid.UUID, list[Referral]]
    active_cin_plans: dict[uuid.UUID, list[CINPlan]]
    active_cp_plans: dict[uuid.UUID, list[CPPlan]]
    upn_owners: dict[str, str | None]


def _held(session: Session, children: list[CensusChild]) -> Held:
    """Load, in a handful of queries, what Casework holds for the children in the file."""
    ids = [c.la_child_id for c in children]
    people: dict[str, Person] = {}
    for id_chunk in _chunks(ids):
        for person in session.scalars(select(Person).where(Person.la_child_id.in_(id_chunk))):
            if person.la_child_id is not None:
                people[person.la_child_id] = person
    person_ids = [p.id for p in people.values()]
    held = Held(people, {}, {}, {}, {}, {}, {})
    upns = [c.upn for c in children if c.upn]
    for upn_chunk in _chunks(upns):
        for upn, owner in session.execute(
            select(Person.upn, Person.la_child_id).where(Person.upn.in_(upn_chunk))
        ):
            if upn is not None:
                held.upn_owners[upn] = owner
    if not person_ids:
        return held
    by_case: dict[uuid.UUID, HeldEpisode] = {}
    for chunk in _chunks(person_ids):
        for case, referral in session.execute(
            select(Case, Referral)
            .outerjoin(Referral, Referral.case_id == Case.id)
            .where(Case.child_id.in_(chunk))
        ):
            held.cases_by_child.setdefault(case.child_id, []).append(case)
            if referral is not None:
                held.referrals_by_child.setdefault(case.child_id, []).append(referral)
            if referral is not None:
                episode = HeldEpisode(case, referral)
                held.episodes[(case.child_id, referral.referral_date)] = episode
                by_case[case.id] = episode
        for a in session.scalars(select(Assessment).where(Assessment.child_id.in_(chunk))):
            if a.case_id in by_case:
                by_case[a.case_id].assessments[a.start_date] = a
        for p in session.scalars(select(CINPlan).where(CINPlan.child_id.in_(chunk))):
            if p.state == "active":
                held.active_cin_plans.setdefault(p.child_id, []).append(p)
            if p.case_id in by_case:
                by_case[p.case_id].cin_plans[p.start_date] = p
        for s in session.scalars(select(S47Enquiry).where(S47Enquiry.child_id.in_(chunk))):
            if s.case_id in by_case:
                by_case[s.case_id].section47s[s.start_date] = s
        for cp in session.scalars(select(CPPlan).where(CPPlan.child_id.in_(chunk))):
            if cp.state != "ended":
                held.active_cp_plans.setdefault(cp.child_id, []).append(cp)
            if cp.case_id in by_case:
                by_case[cp.case_id].cp_plans[cp.start_date] = cp
        for conference in session.scalars(
            select(CPConference).where(CPConference.child_id.in_(chunk))
        ):
            on_case = by_case.get(conference.case_id)
            if on_case is None:
                continue
            if conference.kind == ConferenceKind.initial and conference.s47_enquiry_id:
                on_case.initial_conferences[conference.s47_enquiry_id] = conference
            elif conference.cp_plan_id is not None:
                on_case.reviews.setdefault(conference.cp_plan_id, set()).add(
                    conference.conference_date
                )
    return held


def _chunks(values: list[_T]) -> Iterable[list[_T]]:
    # Bounded IN lists: SQLite allows 32k parameters, PostgreSQL 65k; 1,000 is safe for both.
    for i in range(0, len(values), 1000):
        yield values[i : i + 1000]


_T = TypeVar("_T")


def _as_at(day: date | None, year: CollectionYear) -> date | None:
    """A date as the census of ``year`` shows it: a later one had not happened yet."""
    return day if day is not None and day <= year.end else None


def check_against_held(
    report: ImportReport, child: CensusChild, held: Held, year: CollectionYear
) -> None:
    """What Casework holds must agree with the file: equal values are "already imported"; a value
    Casework still has open that the file settles (a closure, an end date, an authorisation, a
    conference) is history moving on and will be recorded; any other difference is rejected (an
    import never overwrites). New episodes and plans must fit around what the child has."""
    owner = held.upn_owners.get(child.upn) if child.upn else None
    if child.upn and child.upn in held.upn_owners and owner != child.la_child_id:
        report.reject(child.label, f"UPN {child.upn} belongs to another child in Casework")
    person = held.people.get(child.la_child_id)
    if person is None:
        return
    if person.kind is not PersonKind.child:
        report.reject(child.label, "the LAchildID belongs to an adult in Casework")
        return
    new_episodes: list[CensusEpisode] = []
    matched_cases: set[uuid.UUID] = set()
    # Plans Casework has open that stay open after this file (not ended by it).
    open_cin = {p.id: p for p in held.active_cin_plans.get(person.id, [])}
    open_cp = {p.id: p for p in held.active_cp_plans.get(person.id, [])}
    new_open_cin: list[CensusCINPlan] = []
    new_open_cp: list[CensusCPPlan] = []
    for episode in child.episodes:
        matched = held.episodes.get((person.id, episode.referral_date))
        if matched is None:
            new_episodes.append(episode)
            new_open_cin += [p for p in episode.cin_plans if p.end is None]
            new_open_cp += [p for p in episode.cp_plans if p.end is None]
            continue
        matched_cases.add(matched.case.id)
        _compare_episode(report, episode, matched, year)
        for plan in episode.cin_plans:
            if (held_plan := matched.cin_plans.get(plan.start)) is None:
                new_open_cin += [plan] if plan.end is None else []
            elif plan.end is not None:
                open_cin.pop(held_plan.id, None)
        for cp in episode.cp_plans:
            if (held_cp := matched.cp_plans.get(cp.start)) is None:
                new_open_cp += [cp] if cp.end is None else []
            elif cp.end is not None:
                open_cp.pop(held_cp.id, None)
    if new_open_cin and open_cin:
        report.reject(
            new_open_cin[0].label, "the child already has an open CIN plan (CIN rule 4004)"
        )
    if new_open_cp and open_cp:
        report.reject(
            new_open_cp[0].label,
            "the child already has an open child protection plan (CIN rule 8935)",
        )
    others = [c for c in held.cases_by_child.get(person.id, []) if c.id not in matched_cases]
    with_referral = {r.case_id for r in held.referrals_by_child.get(person.id, [])}
    for episode in new_episodes:
        for case in others:
            if _overlaps(
                episode.referral_date,
                episode.closure_date,
                case.opened_date,
                case.closed_date,
            ) or (case.closed_date is None and episode.closure_date is None):
                if case.id in with_referral:
                    hint = ""
                else:
                    # A case with no referral: most likely a period of care an SSDA903 import
                    # made; the census imported first gives those periods their CIN episode.
                    hint = (
                        ", which has no referral (a migrated period of care?): import a "
                        "council's CIN census returns before its SSDA903 returns"
                    )
                report.reject(
                    episode.label,
                    f"the episode overlaps the child's case in Casework opened {case.opened_date}"
                    f"{hint} (CIN rules 8820, 8815)",
                )


def _compare_episode(
    report: ImportReport, episode: CensusEpisode, held: HeldEpisode, year: CollectionYear
) -> None:
    def differs(record: str, what: str, file_value: object, held_value: object) -> None:
        if file_value != held_value:
            report.reject(
                record,
                f"already in Casework with {what} {_show(held_value)}, the file says "
                f"{_show(file_value)}: an import does not change existing records",
            )

    def compare_end(record: str, what: str, file_value: date | None, stored: date | None) -> None:
        # Casework has it open and the file ends it: a later return, recorded by the import.
        if stored is None and file_value is not None:
            return
        differs(record, what, file_value, _as_at(stored, year))

    case, referral = held.case, held.referral
    differs(episode.label, "ReferralSource", episode.source, referral.source)
    differs(episode.label, "PrimaryNeedCode", episode.primary_need, referral.primary_need)
    compare_end(episode.label, "CINclosureDate", episode.closure_date, case.closed_date)
    if _as_at(case.closed_date, year) is not None:
        differs(episode.label, "ReasonForClosure", episode.closure_reason, case.closure_reason)
    is_nfa = referral.decision == ReferralDecision.no_further_action
    differs(episode.label, "ReferralNFA", episode.is_nfa, is_nfa)
    for a in episode.assessments:
        if (ha := held.assessments.get(a.start)) is not None:
            compare_end(a.label, "AssessmentAuthorisationDate", a.authorised, ha.authorised_date)
            if _as_at(ha.authorised_date, year) is not None:
                differs(a.label, "AssessmentFactors", a.factors, list(ha.factors))
    for p in episode.cin_plans:
        if (hp := held.cin_plans.get(p.start)) is not None:
            compare_end(p.label, "CINPlanEndDate", p.end, hp.end_date)
    for s in episode.section47s:
        if (hs := held.section47s.get(s.start)) is not None:
            differs(s.label, "InitialCPCtarget", s.icpc_target, hs.icpc_target_date)
            if hs.outcome is None:
                continue  # open in Casework: the file may conclude it
            conference = held.initial_conferences.get(hs.id)
            held_icpc = _as_at(conference.conference_date if conference else None, year)
            differs(s.label, "DateOfInitialCPC", s.icpc, held_icpc)
            held_not_required = hs.outcome == S47Outcome.icpc_not_required
            differs(s.label, "ICPCnotRequired", s.icpc_not_required, held_not_required)
    for cp in episode.cp_plans:
        if (hc := held.cp_plans.get(cp.start)) is not None:
            compare_end(cp.label, "CPPendDate", cp.end, hc.end_date)
            differs(cp.label, "InitialCategoryOfAbuse", cp.initial_category, hc.initial_category)
            if hc.end_date is not None:  # an open plan's latest category moves on with reviews
                differs(cp.label, "LatestCategoryOfAbuse", cp.latest_category, hc.latest_category)
    if episode.closure_date is not None and case.closed_date is None:
        # Closing the episode: whatever Casework has open in it must be ended by the file too.
        still_open = [
            *(
                f"assessment of {d}"
                for d, a in held.assessments.items()
                if a.authorised_date is None
                and not any(x.start == d and x.authorised for x in episode.assessments)
            ),
            *(
                f"CIN plan of {d}"
                for d, p in held.cin_plans.items()
                if p.end_date is None and not any(x.start == d and x.end for x in episode.cin_plans)
            ),
            *(
                f"child protection plan of {d}"
                for d, c in held.cp_plans.items()
                if c.end_date is None and not any(x.start == d and x.end for x in episode.cp_plans)
            ),
        ]
        for what in still_open:
            report.reject(
                episode.label,
                f"the file closes the episode but Casework has its {what} open and the file "
                "does not end it",
            )


def _show(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


# --------------------------------------------------------------------------------------------------
# Writing the records
# --------------------------------------------------------------------------------------------------


def _at_start_of(day: date) -> datetime:
    # Midnight UTC falls on the same calendar day in London (UTC or UTC+1), so a date read back
    # from it is the census date.
    return datetime.combine(day, time(0), tzinfo=UTC)


def _case_state(episode: CensusEpisode) -> str:
    """The state the case workflow (app/cases/workflow.py) would be in after this history."""
    if episode.closure_date is not None:
        return "closed"
    if any(p.end is None for p in episode.cp_plans):
        return "cp_plan"
    if any(p.end is None for p in episode.cin_plans):
        return "cin_plan"
    if any(s.icpc is None and not s.icpc_not_required for s in episode.section47s):
        return "protection"
    if episode.assessments:
        return "assessment"
    return "referral"


def _record_birth(
    session: Session, *, actor: Principal, person: Person, child: CensusChild, source: str
) -> None:
    """A child Casework has as unborn whom a later return shows born: the one change to a known
    person an import makes, because it settles what Casework holds as not yet known (the sex of
    an unborn child is U, CIN rule 8750)."""
    if person.date_of_birth is not None or child.date_of_birth is None:
        return
    before = {"date_of_birth": None, "sex": person.sex}
    person.date_of_birth = child.date_of_birth
    person.sex = child.sex
    change_log_append(
        session,
        actor=actor,
        entity_type="person",
        entity_id=person.id,
        action="update",
        changes={
            "source": source,
            "date_of_birth": {"before": None, "after": child.date_of_birth},
            "sex": {"before": before["sex"], "after": child.sex},
        },
    )


def _newer_category(cp: CensusCPPlan, plan: CPPlan, held: HeldEpisode) -> bool:
    """Whether the file's latest category of abuse is news: it differs, and the file knows of a
    review later than any Casework holds (the category changes at a review; an older return
    re-imported must not put back an older category)."""
    if cp.latest_category == plan.latest_category or not cp.reviews:
        return False
    known = held.reviews.get(plan.id, set())
    return not known or max(cp.reviews) > max(known)


def _held_case_state(session: Session, case: Case) -> str:
    """``_case_state`` for an open case from what Casework now holds for it: a later return shows
    only that year's part of an episode."""

    def has(model: type[CPPlan | CINPlan | S47Enquiry | Assessment], *where: Any) -> bool:
        stmt = select(model.id).where(model.case_id == case.id, *where).limit(1)
        return session.scalar(stmt) is not None

    if has(CPPlan, CPPlan.state != "ended"):
        return "cp_plan"
    if has(CINPlan, CINPlan.state == "active"):
        return "cin_plan"
    if has(S47Enquiry, S47Enquiry.state == "open"):
        return "protection"
    if has(Assessment):
        return "assessment"
    return "referral"


@dataclass
class _Writer:
    session: Session
    actor: Principal
    source: str
    year: CollectionYear
    team_id: uuid.UUID
    report: ImportReport
    previous_referrals: dict[uuid.UUID, list[Referral]] = field(default_factory=dict)
    # New rows by insert phase: no ORM relationship orders the inserts, so each phase is flushed
    # after the ones its foreign keys point at (one batch per table, not one per row).
    pending: dict[int, list[object]] = field(default_factory=dict)
    new_cases: list[tuple[Case, dict[str, object]]] = field(default_factory=list)
    existing: list[tuple[Case, list[str], list[str]]] = field(default_factory=list)

    def add(self, row: object, kind: str, phase: int) -> None:
        self.pending.setdefault(phase, []).append(row)
        self.report.count(kind)

    def finish(self) -> None:
        """Write what the episodes planned: updates first (an ended plan frees the one-open-plan
        index before a new plan is inserted), then each phase, then the chronology events."""
        self.session.flush()
        for phase in sorted(self.pending):
            self.session.add_all(self.pending[phase])
            self.session.flush()
        for case, changes in self.new_cases:
            migrated_case_event(
                self.session, actor=self.actor, case=case, source=self.source, changes=changes
            )
        for case, added, moved_on in self.existing:
            if case.closed_date is None and case.state in CENSUS_CASE_STATES:
                # Only the stages the census shows: a case Casework has moved on to looked
                # after (or beyond) is not moved back by a return that cannot see it.
                state = _held_case_state(self.session, case)
                if state != case.state:
                    moved_on.append(f"case now at {state}")
                    self.report.count("updated records")
                    case.state = state
            # A later return adding to an episode already here says so in the case's chronology.
            migrated_case_event(
                self.session,
                actor=self.actor,
                case=case,
                source=self.source,
                subject_type="case_records",
                changes={"added": added, "moved_on": moved_on},
            )
        self.session.flush()

    def episode(self, person: Person, episode: CensusEpisode, held: HeldEpisode | None) -> None:
        is_new = held is None
        if held is None:
            case, referral = self._new_case(person, episode)
            held = HeldEpisode(case, referral)
        else:
            self.report.count("CIN episodes", created=False)
        self._parts(person, episode, held, is_new=is_new)

    def _new_case(self, person: Person, episode: CensusEpisode) -> tuple[Case, Referral]:
        case = Case(
            id=uuid.uuid4(),
            child_id=person.id,
            state=_case_state(episode),
            opened_date=episode.referral_date,
            closed_date=episode.closure_date,
            closure_reason=episode.closure_reason,
            team_id=self.team_id,
            summary=MIGRATED_NOTE,
        )
        self.add(case, "CIN episodes", CASES)
        decision = (
            ReferralDecision.no_further_action
            if episode.is_nfa
            else ReferralDecision.strategy_discussion
            if episode.section47s and not episode.assessments
            else ReferralDecision.assessment
        )
        # DfE re-referral measure: a referral within 12 months of the child's previous one.
        earlier = [
            r
            for r in self.previous_referrals.get(person.id, [])
            if r.referral_date < episode.referral_date
        ]
        previous = max(earlier, key=lambda r: r.referral_date) if earlier else None
        if previous is not None and previous.referral_date < _months_before(
            episode.referral_date, 12
        ):
            previous = None
        referral = Referral(
            id=uuid.uuid4(),
            case_id=case.id,
            child_id=person.id,
            referral_date=episode.referral_date,
            source=episode.source,
            primary_need=episode.primary_need,
            is_re_referral=previous is not None,
            previous_referral_id=previous.id if previous else None,
            state="decided",
            decision=decision,
            decision_reason=MIGRATED_NOTE,
            decided_at=_at_start_of(episode.referral_date),
            decided_by_id=self.actor.user_id,
            recorded_by_id=self.actor.user_id,
        )
        self.pending.setdefault(REFERRALS, []).append(referral)
        self.previous_referrals.setdefault(person.id, []).append(referral)
        changes: dict[str, object] = {
            "referral_date": episode.referral_date,
            "closed_date": episode.closure_date,
            "closure_reason": episode.closure_reason,
        }
        self.new_cases.append((case, changes))
        return case, referral

    def _parts(
        self, person: Person, episode: CensusEpisode, held: HeldEpisode, *, is_new: bool
    ) -> None:
        case = held.case
        added: list[str] = []
        moved_on: list[str] = []
        for a in episode.assessments:
            held_assessment = held.assessments.get(a.start)
            if held_assessment is None:
                self.add(
                    Assessment(
                        case_id=case.id,
                        child_id=person.id,
                        author_id=self.actor.user_id,
                        state="authorised" if a.authorised else "in_progress",
                        start_date=a.start,
                        factors=a.factors if a.authorised else [],
                        # Authorisation follows submission; the census keeps only the former.
                        submitted_date=a.authorised,
                        authorised_date=a.authorised,
                        summary_of_needs=MIGRATED_NOTE,
                    ),
                    "assessments",
                    PARTS,
                )
                added.append(f"assessment {a.start}")
            elif held_assessment.authorised_date is None and a.authorised is not None:
                held_assessment.state = "authorised"
                held_assessment.submitted_date = held_assessment.submitted_date or a.authorised
                held_assessment.authorised_date = a.authorised
                held_assessment.factors = a.factors
                moved_on.append(f"assessment {a.start} authorised {a.authorised}")
            else:
                self.report.count("assessments", created=False)
        for p in episode.cin_plans:
            held_plan = held.cin_plans.get(p.start)
            if held_plan is None:
                self.add(
                    CINPlan(
                        case_id=case.id,
                        child_id=person.id,
                        state="ended" if p.end else "active",
                        start_date=p.start,
                        end_date=p.end,
                        end_reason=MIGRATED_NOTE if p.end else None,
                    ),
                    "CIN plans",
                    PARTS,
                )
                added.append(f"CIN plan {p.start}")
            elif held_plan.end_date is None and p.end is not None:
                held_plan.state, held_plan.end_date = "ended", p.end
                held_plan.end_reason = MIGRATED_NOTE
                moved_on.append(f"CIN plan {p.start} ended {p.end}")
            else:
                self.report.count("CIN plans", created=False)
        plans: dict[date, CPPlan] = {}
        for cp in episode.cp_plans:
            plan = held.cp_plans.get(cp.start)
            if plan is None:
                plan = CPPlan(
                    id=uuid.uuid4(),
                    case_id=case.id,
                    child_id=person.id,
                    state="ended" if cp.end else "active",
                    start_date=cp.start,
                    initial_category=cp.initial_category,
                    latest_category=cp.latest_category,
                    end_date=cp.end,
                    end_reason=MIGRATED_NOTE if cp.end else None,
                )
                self.add(plan, "child protection plans", PARTS)
                added.append(f"child protection plan {cp.start}")
            elif plan.end_date is None and (cp.end is not None or _newer_category(cp, plan, held)):
                if _newer_category(cp, plan, held):
                    moved_on.append(f"child protection plan {cp.start} now {cp.latest_category}")
                    plan.latest_category = cp.latest_category
                if cp.end is not None:
                    plan.state, plan.end_date = "ended", cp.end
                    plan.end_reason = MIGRATED_NOTE
                    moved_on.append(f"child protection plan {cp.start} ended {cp.end}")
            else:
                self.report.count("child protection plans", created=False)
            plans[cp.start] = plan
        for cp in episode.cp_plans:
            plan = plans[cp.start]
            have = held.reviews.get(plan.id, set())
            for review in cp.reviews:
                if review in have:
                    self.report.count("review conferences", created=False)
                    continue
                ended_here = cp.end is not None and review == cp.end
                self.add(
                    _conference(
                        ConferenceKind.review,
                        case,
                        review,
                        outcome=(
                            ConferenceOutcome.end_plan
                            if ended_here
                            else ConferenceOutcome.continue_plan
                        ),
                        cp_plan_id=plan.id,
                    ),
                    "review conferences",
                    CONFERENCES,
                )
                added.append(f"review conference {review}")
        for s in episode.section47s:
            held_enquiry = held.section47s.get(s.start)
            if held_enquiry is None:
                self._section47(case, s, episode, plans)
                added.append(f"section 47 enquiry {s.start}")
            elif held_enquiry.outcome is None and (s.icpc is not None or s.icpc_not_required):
                self._conclude(case, held_enquiry, s, episode, plans)
                moved_on.append(f"section 47 enquiry {s.start} concluded")
            else:
                self.report.count("section 47 enquiries", created=False)
        if not is_new:
            if episode.closure_date is not None and case.closed_date is None:
                case.state = "closed"
                case.closed_date, case.closure_reason = episode.closure_date, episode.closure_reason
                moved_on.append(f"episode closed {episode.closure_date}")
            if added or moved_on:
                self.existing.append((case, added, moved_on))
        for _ in moved_on:
            self.report.count("updated records")

    def _section47(
        self, case: Case, s: CensusSection47, episode: CensusEpisode, plans: dict[date, CPPlan]
    ) -> None:
        # Every enquiry follows a strategy discussion (Working Together ch.1); the census keeps
        # only the enquiry's start, so the discussion is recorded on that day, marked migrated.
        discussion = StrategyDiscussion(
            id=uuid.uuid4(),
            case_id=case.id,
            child_id=case.child_id,
            concern_date=s.start,
            held_date=s.start,
            format=DiscussionFormat.meeting,
            concerns=MIGRATED_NOTE,
            is_s47_decided=True,
            recorded_by_id=self.actor.user_id,
        )
        self.pending.setdefault(PARTS, []).append(discussion)
        enquiry = S47Enquiry(
            id=uuid.uuid4(),
            case_id=case.id,
            child_id=case.child_id,
            strategy_discussion_id=discussion.id,
            state="open",
            start_date=s.start,
            # Checked present by check_episode; the start is never used (kept for the types).
            icpc_target_date=s.icpc_target or s.start,
        )
        self.add(enquiry, "section 47 enquiries", ENQUIRIES)
        self._conclude(case, enquiry, s, episode, plans)

    def _conclude(
        self,
        case: Case,
        enquiry: S47Enquiry,
        s: CensusSection47,
        episode: CensusEpisode,
        plans: dict[date, CPPlan],
    ) -> None:
        if s.icpc is not None:
            enquiry.outcome, enquiry.concluded_date = S47Outcome.icpc_required, s.icpc
        elif s.icpc_not_required:
            # Concluded by the ReferenceDate at the latest; the return does not say when. The
            # enquiry's start, or the census year's start for an older one, keeps it in the
            # census year it was reported in.
            enquiry.outcome = S47Outcome.icpc_not_required
            enquiry.concluded_date = max(s.start, self.year.start)
        else:
            return
        enquiry.state, enquiry.outcome_reason = "concluded", MIGRATED_NOTE
        if s.icpc is None:
            return
        plan = plans.get(s.icpc)
        outcome = (
            ConferenceOutcome.cp_plan
            if plan is not None
            else ConferenceOutcome.cin_plan
            if any(p.start >= s.icpc for p in episode.cin_plans)
            else ConferenceOutcome.no_further_action
        )
        self.add(
            _conference(
                ConferenceKind.initial,
                case,
                s.icpc,
                outcome=outcome,
                s47_enquiry_id=enquiry.id,
                cp_plan_id=plan.id if plan else None,
                category=plan.initial_category if plan else None,
            ),
            "initial conferences",
            CONFERENCES,
        )


def _months_before(day: date, months: int) -> date:
    month = day.month - months
    year = day.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def _conference(
    kind: ConferenceKind,
    case: Case,
    day: date,
    *,
    outcome: ConferenceOutcome,
    s47_enquiry_id: uuid.UUID | None = None,
    cp_plan_id: uuid.UUID | None = None,
    category: CategoryOfAbuse | None = None,
) -> CPConference:
    return CPConference(
        kind=kind,
        case_id=case.id,
        child_id=case.child_id,
        s47_enquiry_id=s47_enquiry_id,
        cp_plan_id=cp_plan_id,
        conference_date=day,
        chair="Not recorded (migrated)",
        agencies_present=[],
        is_quorate=True,
        outcome=outcome,
        category=category,
        notes=MIGRATED_NOTE,
    )


# --------------------------------------------------------------------------------------------------
# The import
# --------------------------------------------------------------------------------------------------


def import_cin_census(session: Session, data: bytes, *, source: str) -> ImportReport:
    """Load a historical CIN census return, all or nothing (see the module docstring).

    Returns the report; when it has rejections nothing has been written (the caller rolls back
    anyway, in case a check after the first write ever fails)."""
    report = ImportReport(source=source)
    year, children = read_cin_census(report, data)
    if year is None:  # the header is wrong: the file's dates cannot be judged against its year
        return report
    # The records that could be read are checked even when others could not: the council gets
    # every fault of the file in one report, not one round trip per fault.
    seen: set[str] = set()
    upns: dict[str, str] = {}
    for child in children:
        if child.upn is not None:
            if child.upn in upns and upns[child.upn] != child.la_child_id:
                report.reject(
                    child.label, f"UPN {child.upn} is also given for child {upns[child.upn]}"
                )
            upns.setdefault(child.upn, child.la_child_id)
        if child.la_child_id in seen:
            report.reject(
                child.label,
                "the child is in the file twice: a return has one <Child> per LAchildID, with "
                "all its episodes",
            )
            continue
        seen.add(child.la_child_id)
        check_child(report, child, year)
    if not report.ok:
        return report
    held = _held(session, children)
    for child in children:
        check_against_held(report, child, held, year)
    if not report.ok:
        return report

    actor = migration_principal(session)
    writer = _Writer(session, actor, source, year, migration_team(session).id, report)
    for child in children:
        person = held.people.get(child.la_child_id)
        if person is None:
            person = migrated_child_create(
                session,
                actor=actor,
                source=source,
                la_child_id=child.la_child_id,
                flush=False,
                **child.person_fields(),
            )
            report.count("children")
        else:
            report.count("children", created=False)
            _record_birth(session, actor=actor, person=person, child=child, source=source)
        writer.previous_referrals[person.id] = list(held.referrals_by_child.get(person.id, []))
        for episode in sorted(child.episodes, key=lambda e: e.referral_date):
            writer.episode(person, episode, held.episodes.get((person.id, episode.referral_date)))
    writer.finish()
    return report
