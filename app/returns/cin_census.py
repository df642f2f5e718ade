"""The Children in Need census (DfE CIN census XML), generated from the live record.

One ``<Child>`` per child with a CIN episode open at any point in the collection year; one
``<CINdetails>`` per episode. A CIN episode is a case that has a referral (``Referral.case_id``
is unique): ``CINreferralDate`` is the referral date, ``CINclosureDate``/``ReasonForClosure`` the
case's closure (shared/domain/returns.md; the element-by-element mapping is in the module's notes
for the importer, ``cin_mapping.md``).

The return is **as at the ReferenceDate** (31 March): anything the record dates after it (a
closure, an authorisation, a conference, an end date) is not written, so generating a past year
today gives the return the council would have sent then.

Element order follows the DfE schema's sequences; the validator's ingress reads the XML without a
namespace. The whole year is loaded in a handful of set-based queries (one per table, restricted
to the year's episodes by a sub-select), grouped by case in memory, so a Birmingham-sized year
(~6k children in need) takes seconds, not one query per child. Children are written in LA child id
order, so a re-run is byte-identical apart from the header ``DateTime``.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from app import clock
from app.config import Settings
from app.core_types import UPNUnknown
from app.models.assessments import Assessment
from app.models.cases import Case
from app.models.cin import CINPlan
from app.models.frontdoor import Referral, ReferralDecision
from app.models.people import Person
from app.models.protection import ConferenceKind, CPConference, CPPlan, S47Enquiry, S47Outcome
from app.returns.common import CollectionYear, iso

#: Ethnicity when the record has none: "Information not yet obtained" (DfE CS005).
ETHNICITY_NOT_OBTAINED = "NOBT"
#: Disability when the child has none recorded (CIN census: every child has at least one code).
NO_DISABILITY = "NONE"


@dataclass
class _Episode:
    """One CIN episode (a case with its referral) and what happened in it during the year."""

    case_id: uuid.UUID
    child_id: uuid.UUID
    referral_date: date
    source: str
    primary_need: str
    is_nfa: bool
    closed_date: date | None
    closure_reason: str | None
    assessments: list[tuple[date, date | None, list[Any]]] = field(default_factory=list)
    cin_plans: list[tuple[date, date | None]] = field(default_factory=list)
    s47s: list[tuple[date, date, date | None, bool]] = field(default_factory=list)
    episode_icpc: date | None = None
    cp_plans: list[_CPPlan] = field(default_factory=list)


@dataclass
class _CPPlan:
    plan_id: uuid.UUID
    start_date: date
    end_date: date | None
    initial_category: str
    latest_category: str
    previous: int = 0
    reviews: list[date] = field(default_factory=list)


def _within(day: date | None, year: CollectionYear) -> date | None:
    """A date as the census sees it on the ReferenceDate: one after 31 March has not happened."""
    return day if day is not None and day <= year.end else None


def _episode_cases(year: CollectionYear) -> Select[uuid.UUID]:
    """The cases that are CIN episodes open at some point in the year (a sub-select)."""
    return (
        select(Case.id)
        .join(Referral, Referral.case_id == Case.id)
        .where(
            Referral.referral_date <= year.end,
            or_(Case.closed_date.is_(None), Case.closed_date >= year.start),
        )
    )


def _load_episodes(session: Session, year: CollectionYear) -> dict[uuid.UUID, _Episode]:
    rows = session.execute(
        select(
            Case.id,
            Case.child_id,
            Referral.referral_date,
            Referral.source,
            Referral.primary_need,
            Referral.decision,
            Case.closed_date,
            Case.closure_reason,
        )
        .join(Referral, Referral.case_id == Case.id)
        .where(Case.id.in_(_episode_cases(year)))
    ).all()
    episodes: dict[uuid.UUID, _Episode] = {}
    for case_id, child_id, referred, source, need, decision, closed, reason in rows:
        closed = _within(closed, year)
        episodes[case_id] = _Episode(
            case_id=case_id,
            child_id=child_id,
            referral_date=referred,
            source=str(source),
            primary_need=str(need),
            is_nfa=decision == ReferralDecision.no_further_action,
            closed_date=closed,
            # CIN 8805/8810: a reason only with a date (a closure after 31 March is not written).
            closure_reason=str(reason) if closed is not None and reason is not None else None,
        )
    return episodes


def _add_assessments(
    session: Session, year: CollectionYear, episodes: dict[uuid.UUID, _Episode]
) -> None:
    """Assessments open at any point in the year; factors only once authorised (CIN 8614)."""
    rows = session.execute(
        select(
            Assessment.case_id,
            Assessment.start_date,
            Assessment.authorised_date,
            Assessment.factors,
        )
        .where(
            Assessment.case_id.in_(_episode_cases(year)),
            Assessment.start_date <= year.end,
            or_(Assessment.authorised_date.is_(None), Assessment.authorised_date >= year.start),
        )
        .order_by(Assessment.case_id, Assessment.start_date)
    ).all()
    for case_id, started, authorised, factors in rows:
        authorised = _within(authorised, year)
        episodes[case_id].assessments.append(
            (started, authorised, list(factors or []) if authorised else [])
        )


def _add_cin_plans(
    session: Session, year: CollectionYear, episodes: dict[uuid.UUID, _Episode]
) -> None:
    rows = session.execute(
        select(CINPlan.case_id, CINPlan.start_date, CINPlan.end_date)
        .where(
            CINPlan.case_id.in_(_episode_cases(year)),
            CINPlan.start_date <= year.end,
            or_(CINPlan.end_date.is_(None), CINPlan.end_date >= year.start),
        )
        .order_by(CINPlan.case_id, CINPlan.start_date)
    ).all()
    for case_id, started, ended in rows:
        episodes[case_id].cin_plans.append((started, _within(ended, year)))


def _add_section47s(
    session: Session, year: CollectionYear, episodes: dict[uuid.UUID, _Episode]
) -> None:
    """Section 47 enquiries of the year, each with its initial conference (CIN 2884: an ICPC is
    written at s47 level; at episode level only when its enquiry is not in this year's list)."""
    icpc_rows = session.execute(
        select(
            CPConference.case_id, CPConference.s47_enquiry_id, CPConference.conference_date
        ).where(
            CPConference.case_id.in_(_episode_cases(year)),
            CPConference.kind == ConferenceKind.initial,
            CPConference.conference_date <= year.end,
        )
    ).all()
    icpc_of: dict[uuid.UUID, tuple[uuid.UUID, date]] = {
        s47_id: (case_id, held) for case_id, s47_id, held in icpc_rows if s47_id is not None
    }
    rows = session.execute(
        select(
            S47Enquiry.id,
            S47Enquiry.case_id,
            S47Enquiry.start_date,
            S47Enquiry.icpc_target_date,
            S47Enquiry.outcome,
            S47Enquiry.concluded_date,
        )
        .where(S47Enquiry.case_id.in_(_episode_cases(year)), S47Enquiry.start_date <= year.end)
        .order_by(S47Enquiry.case_id, S47Enquiry.start_date)
    ).all()
    written: set[uuid.UUID] = set()
    for s47_id, case_id, started, target, outcome, concluded in rows:
        icpc = icpc_of.get(s47_id, (case_id, None))[1]
        concluded_by_end = concluded is not None and concluded <= year.end
        not_required = concluded_by_end and outcome == S47Outcome.icpc_not_required
        # The module ends with its ICPC, or with the conclusion that none is needed; one that
        # ended before 1 April belongs to an earlier census (CIN 8715: an ICPC in the year).
        ended = icpc if icpc is not None else (concluded if not_required else None)
        if started < year.start and ended is not None and ended < year.start:
            continue
        episodes[case_id].s47s.append((started, target, icpc, not_required))
        written.add(s47_id)
    for s47_id, (case_id, held) in icpc_of.items():
        if s47_id not in written and held >= year.start:
            episodes[case_id].episode_icpc = held


def _add_cp_plans(
    session: Session, year: CollectionYear, episodes: dict[uuid.UUID, _Episode]
) -> None:
    """CP plans of the year, with their reviews in the year and the child's earlier plans
    (NumberOfPreviousCPP counts every earlier plan of the child, in any episode)."""
    children = select(Case.child_id).where(Case.id.in_(_episode_cases(year)))
    rows = session.execute(
        select(
            CPPlan.id,
            CPPlan.case_id,
            CPPlan.child_id,
            CPPlan.start_date,
            CPPlan.end_date,
            CPPlan.initial_category,
            CPPlan.latest_category,
        )
        .where(CPPlan.child_id.in_(children), CPPlan.start_date <= year.end)
        .order_by(CPPlan.child_id, CPPlan.start_date)
    ).all()
    starts_of: dict[uuid.UUID, list[date]] = defaultdict(list)
    for _, _, child_id, started, *_ in rows:
        starts_of[child_id].append(started)
    plans: dict[uuid.UUID, _CPPlan] = {}
    for plan_id, case_id, child_id, started, ended, initial, latest in rows:
        in_year = ended is None or ended >= year.start
        if case_id not in episodes or not in_year:
            continue
        plan = _CPPlan(
            plan_id=plan_id,
            start_date=started,
            end_date=_within(ended, year),
            initial_category=str(initial),
            latest_category=str(latest),
            previous=sum(1 for other in starts_of[child_id] if other < started),
        )
        plans[plan_id] = plan
        episodes[case_id].cp_plans.append(plan)
    reviews = session.execute(
        select(CPConference.cp_plan_id, CPConference.conference_date)
        .where(
            CPConference.case_id.in_(_episode_cases(year)),
            CPConference.kind == ConferenceKind.review,
            CPConference.conference_date.between(year.start, year.end),
        )
        .order_by(CPConference.conference_date)
    ).all()
    for reviewed_plan, held in reviews:
        if reviewed_plan is not None and reviewed_plan in plans:
            plans[reviewed_plan].reviews.append(held)
    _latest_category_as_at_year_end(session, year, plans)


def _latest_category_as_at_year_end(
    session: Session, year: CollectionYear, plans: dict[uuid.UUID, _CPPlan]
) -> None:
    """LatestCategoryOfAbuse is the category in force on 31 March (the census is as at its
    ReferenceDate): a plan whose category a review changed after the year's end reports the one
    before that change, so last year's census generated today is the one that would have been sent.
    A category changes only at a conference (``CPConference.category``); a plan with no later change
    keeps the category it holds, which is also right for plans migrated with no review history."""
    changes = session.execute(
        select(CPConference.cp_plan_id, CPConference.conference_date, CPConference.category)
        .where(
            CPConference.case_id.in_(_episode_cases(year)),
            CPConference.cp_plan_id.is_not(None),
            CPConference.category.is_not(None),
        )
        .order_by(CPConference.cp_plan_id, CPConference.conference_date)
    ).all()
    dated: dict[uuid.UUID, list[tuple[date, str]]] = defaultdict(list)
    for plan_id, held, category in changes:
        if plan_id in plans:
            dated[plan_id].append((held, str(category)))
    for plan_id, plan in plans.items():
        history = dated.get(plan_id, [])
        if not any(held > year.end for held, _ in history):
            continue
        before = [category for held, category in history if held <= year.end]
        plan.latest_category = before[-1] if before else plan.initial_category


def _school_age(birth: date, year: CollectionYear) -> bool:
    """Born on or before 31 August six years before the ReferenceDate's year: of school age
    (the cut-off CIN 8770Q uses, after which UN1 "under school age" no longer applies)."""
    return birth <= date(year.end.year - 6, 8, 31)


def _upn_unknown(
    birth: date | None, episodes: Sequence[_Episode], year: CollectionYear
) -> UPNUnknown:
    """Why a child without a UPN has none. Casework does not store the reason: it follows from
    the record. UN1 for a child under school age or unborn; UN7 when every episode is a referral
    with no further action (CIN 8772); otherwise UN4, the UPN not yet obtained."""
    if birth is None or not _school_age(birth, year):
        return UPNUnknown.UNDER_SIX
    if all(e.is_nfa for e in episodes):
        return UPNUnknown.REFERRAL_NO_FURTHER_ACTION
    return UPNUnknown.NEWLY_IN_NEED


def _text(parent: ET.Element, tag: str, value: object | None) -> None:
    """Add ``<tag>value</tag>``; an absent value is an absent element (never an empty one)."""
    if value is None or value == "":
        return
    ET.SubElement(parent, tag).text = str(value)


def _flag(value: bool) -> str:
    """ReferralNFA as ``true``/``false`` (the schema's yesnotype; CIN 4000 reads only "true")."""
    return "true" if value else "false"


def _digit_flag(value: bool) -> str:
    """ICPCnotRequired as ``1``/``0``, also a yesnotype value: the rules that read it (2885, 8740)
    compare with "1" and "0" only, so a "false" would slip past them unchecked."""
    return "1" if value else "0"


def _header(root: ET.Element, year: CollectionYear, settings: Settings) -> None:
    header = ET.SubElement(root, "Header")
    details = ET.SubElement(header, "CollectionDetails")
    _text(details, "Collection", "CIN")
    _text(details, "Year", year.year)
    _text(details, "ReferenceDate", iso(year.end))
    source = ET.SubElement(header, "Source")
    _text(source, "SourceLevel", "L")
    _text(source, "LEA", settings.la_code)
    _text(source, "SoftwareCode", settings.software_code)
    _text(source, "Release", settings.software_release)
    _text(source, "SerialNo", 1)
    _text(source, "DateTime", clock.now().replace(tzinfo=None, microsecond=0).isoformat())


def _child(
    children: ET.Element, person: Person, episodes: Sequence[_Episode], year: CollectionYear
) -> None:
    child = ET.SubElement(children, "Child")
    ids = ET.SubElement(child, "ChildIdentifiers")
    _text(ids, "LAchildID", person.la_child_id or str(person.id)[:20])
    born = _within(person.date_of_birth, year)
    _text(ids, "UPN", person.upn)
    _text(ids, "FormerUPN", person.former_upn)
    if not person.upn:
        _text(ids, "UPNunknown", _upn_unknown(born, episodes, year).value)
    if born is not None:
        _text(ids, "PersonBirthDate", iso(born))
    else:
        # Not born by the ReferenceDate: an unborn child, Sex U (CIN 8750).
        _text(
            ids,
            "ExpectedPersonBirthDate",
            iso(person.expected_date_of_birth or person.date_of_birth),
        )
    _text(ids, "Sex", str(person.sex) if born is not None else "U")
    _text(ids, "PersonDeathDate", iso(_within(person.date_of_death, year)))

    characteristics = ET.SubElement(child, "ChildCharacteristics")
    _text(characteristics, "Ethnicity", str(person.ethnicity or ETHNICITY_NOT_OBTAINED))
    disabilities = ET.SubElement(characteristics, "Disabilities")
    for code in person.disabilities or [NO_DISABILITY]:
        _text(disabilities, "Disability", code)

    for episode in episodes:
        _cin_details(child, episode)


def _cin_details(child: ET.Element, episode: _Episode) -> None:
    details = ET.SubElement(child, "CINdetails")
    _text(details, "CINreferralDate", iso(episode.referral_date))
    _text(details, "ReferralSource", episode.source)
    _text(details, "PrimaryNeedCode", episode.primary_need)
    _text(details, "CINclosureDate", iso(episode.closed_date))
    _text(details, "ReasonForClosure", episode.closure_reason)
    _text(details, "DateOfInitialCPC", iso(episode.episode_icpc))
    for started, authorised, factors in episode.assessments:
        assessment = ET.SubElement(details, "Assessments")
        _text(assessment, "AssessmentActualStartDate", iso(started))
        _text(assessment, "AssessmentAuthorisationDate", iso(authorised))
        if factors:
            listed = ET.SubElement(assessment, "FactorsIdentifiedAtAssessment")
            for factor in factors:
                _text(listed, "AssessmentFactors", factor)
    for started, ended in episode.cin_plans:
        plan = ET.SubElement(details, "CINPlanDates")
        _text(plan, "CINPlanStartDate", iso(started))
        _text(plan, "CINPlanEndDate", iso(ended))
    for started, target, icpc, not_required in episode.s47s:
        s47 = ET.SubElement(details, "Section47")
        _text(s47, "S47ActualStartDate", iso(started))
        _text(s47, "InitialCPCtarget", iso(target))
        _text(s47, "DateOfInitialCPC", iso(icpc))
        _text(s47, "ICPCnotRequired", _digit_flag(not_required))
    _text(details, "ReferralNFA", _flag(episode.is_nfa))
    for cp in episode.cp_plans:
        plan = ET.SubElement(details, "ChildProtectionPlans")
        _text(plan, "CPPstartDate", iso(cp.start_date))
        _text(plan, "CPPendDate", iso(cp.end_date))
        _text(plan, "InitialCategoryOfAbuse", cp.initial_category)
        _text(plan, "LatestCategoryOfAbuse", cp.latest_category)
        _text(plan, "NumberOfPreviousCPP", cp.previous)
        if cp.reviews:
            reviews = ET.SubElement(plan, "Reviews")
            for held in cp.reviews:
                _text(reviews, "CPPreviewDate", iso(held))


def _people(session: Session, year: CollectionYear) -> list[Person]:
    """The children of the year's episodes, restricted records included (the return is
    statutory), in LA child id order. Sorted here, not by the database, so that SQLite and a
    PostgreSQL collation that skips punctuation give the same order and the same bytes."""
    children = select(Case.child_id).where(Case.id.in_(_episode_cases(year)))
    people = session.scalars(select(Person).where(Person.id.in_(children))).all()
    return sorted(people, key=lambda p: (p.la_child_id or "", str(p.id)))


def build_cin_census(session: Session, *, year: int, settings: Settings) -> bytes:
    """The CIN census XML for the collection year ending 31 March ``year``."""
    collection = CollectionYear(year)
    episodes = _load_episodes(session, collection)
    _add_assessments(session, collection, episodes)
    _add_cin_plans(session, collection, episodes)
    _add_section47s(session, collection, episodes)
    _add_cp_plans(session, collection, episodes)

    by_child: dict[uuid.UUID, list[_Episode]] = defaultdict(list)
    for episode in episodes.values():
        by_child[episode.child_id].append(episode)
    for child_episodes in by_child.values():
        child_episodes.sort(key=lambda e: (e.referral_date, e.closed_date or date.max))
        for episode in child_episodes:
            episode.cp_plans.sort(key=lambda p: p.start_date)

    root = ET.Element("Message")
    _header(root, collection, settings)
    children = ET.SubElement(root, "Children")
    for person in _people(session, collection):
        _child(children, person, by_child[person.id], collection)
    ET.indent(root)
    xml: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return xml + b"\n"


__all__ = ["build_cin_census"]
