"""Ofsted's Annex A: the lists an inspector reads on the first morning, as of the inspection day.

Small stories built on an empty council check each list's rules (windows, counts, the latest
visit, the allocation); the demo council checks the whole workbook at once.
"""

from __future__ import annotations

import io
import time as timer
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.calendar import add_months
from app.care import service as care_service
from app.care.codes import LegalStatus, PlacementType, ReasonPlaceChange
from app.care.schemas import LegalStatusChange, PlacementChange
from app.config import Settings
from app.core_types import (
    CategoryOfAbuse,
    Disability,
    Ethnicity,
    PrimaryNeed,
    ReasonForClosure,
    Sex,
)
from app.core_types import ReferralSource as Source
from app.models import Person, Role, Team, TeamKind, UserAccount
from app.models.cases import Case
from app.models.frontdoor import (
    ConsentToShare,
    Contact,
    ContactChild,
    RagRating,
    Referral,
    ReferralDecision,
)
from app.models.permanence import AdoptionDecision
from app.models.protection import (
    ConferenceKind,
    ConferenceOutcome,
    CPConference,
    CPPlan,
    CPVisit,
)
from app.returns.annex_a import HEADINGS, build_annex_a
from tests.care.factories import bring_into_care, foster_placement, make_care_cast, noon, principal
from tests.factories import make_child, make_team, make_user
from tests.returns.conftest import DemoWorld

#: The inspection day of the stories: the six-month window starts 27 May 2026, twelve 27 Nov 2025.
AS_OF = date(2026, 11, 27)

Sheets = dict[str, list[dict[str, Any]]]

SECOND_PERIOD = next(h for h in HEADINGS["List 8"] if h.startswith("Is this a second"))
MISSING = next(h for h in HEADINGS["List 8"] if "'Missing'" in h)


def read(workbook: bytes) -> Sheets:
    """Each sheet as a list of rows keyed by heading (the first row)."""
    book = load_workbook(io.BytesIO(workbook))
    sheets: Sheets = {}
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        headings = [str(h) for h in rows[0]]
        sheets[sheet.title] = [dict(zip(headings, row, strict=True)) for row in rows[1:]]
    return sheets


def as_day(cell: Any) -> date | None:
    """Excel keeps dates as date-times at midnight."""
    assert cell is None or isinstance(cell, datetime), cell
    return cell.date() if cell is not None else None


def annex_a(db: Session, settings: Settings, as_of: date = AS_OF) -> Sheets:
    return read(build_annex_a(db, as_of=as_of, settings=settings))


# --------------------------------------------------------------------------------------------------
# A small council built directly in the record
# --------------------------------------------------------------------------------------------------


def a_team_and_worker(db: Session, *, team_name: str) -> tuple[Team, UserAccount]:
    team = make_team(db, name=team_name, kind=TeamKind.cin_cp)
    return team, make_user(db, Role.social_worker, team=team)


def la_child(db: Session, la_child_id: str, **fields: Any) -> Person:
    child = make_child(db)  # born 1 May 2015 unless ``fields`` say otherwise
    child.la_child_id = la_child_id
    child.ethnicity = fields.pop("ethnicity", Ethnicity.WBRI)
    child.disabilities = fields.pop("disabilities", [Disability.NONE.value])
    for name, value in fields.items():
        setattr(child, name, value)
    db.flush()
    return child


def a_case(
    db: Session,
    child: Person,
    team: Team,
    worker: UserAccount | None,
    *,
    opened: date,
    closed: date | None = None,
) -> Case:
    case = Case(
        id=uuid.uuid4(),
        child_id=child.id,
        state="closed" if closed else "cin",
        opened_date=opened,
        closed_date=closed,
        closure_reason=ReasonForClosure("RC7") if closed else None,
        team_id=team.id,
        allocated_worker_id=worker.id if worker else None,
    )
    db.add(case)
    db.flush()
    return case


def a_referral(
    db: Session,
    case: Case,
    *,
    on: date,
    source: str = "2A",
    nfa: bool = False,
) -> Referral:
    referral = Referral(
        id=uuid.uuid4(),
        case_id=case.id,
        child_id=case.child_id,
        referral_date=on,
        source=Source(source),
        primary_need=PrimaryNeed("N1"),
        state="decided",
        decision=ReferralDecision.no_further_action if nfa else ReferralDecision.assessment,
        decided_at=noon(on),
    )
    db.add(referral)
    db.flush()
    return referral


# --------------------------------------------------------------------------------------------------
# The workbook itself
# --------------------------------------------------------------------------------------------------


def test_an_empty_council_gets_all_eleven_lists_with_their_headings_and_no_rows(
    db: Session, settings: Settings
) -> None:
    book = load_workbook(io.BytesIO(build_annex_a(db, as_of=AS_OF, settings=settings)))

    assert book.sheetnames == [f"List {n}" for n in range(1, 12)]
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        assert rows == [HEADINGS[sheet.title]], sheet.title
    # The headings are Ofsted's template's, word for word, so the sector's tools read them.
    assert HEADINGS["List 3"][:5] == (
        "Child Unique ID",
        "Gender",
        "Ethnicity",
        "Date of Birth",
        "Age of Child (Years)",
    )
    assert "Number of Referrals in Last 12 Months" in HEADINGS["List 3"]
    assert "Date of the Last Statutory Visit" in HEADINGS["List 7"]
    assert "Number of Placements in the Last 12 months" in HEADINGS["List 8"]
    for name in [f"List {n}" for n in range(1, 11)]:
        assert {"Allocated Team", "Allocated Worker"} <= set(HEADINGS[name]), name
        assert "Does the Child have a Disability" in HEADINGS[name], name


def test_lists_casework_cannot_fill_yet_say_so_on_their_first_heading(
    db: Session, settings: Settings
) -> None:
    book = load_workbook(io.BytesIO(build_annex_a(db, as_of=AS_OF, settings=settings)))

    adopters = book["List 11"]["A1"].comment
    assert adopters is not None
    assert "adopters" in adopters.text
    # Early help is recorded now (issue 6): list 2 is filled, so its heading carries no excuse.
    assert book["List 2"]["A1"].comment is None


# --------------------------------------------------------------------------------------------------
# List 3: referrals
# --------------------------------------------------------------------------------------------------


def test_a_child_referred_two_months_ago_is_on_list_3_with_both_referrals_of_the_year(
    db: Session, settings: Settings
) -> None:
    team, worker = a_team_and_worker(db, team_name="Northfield Child in Need & <Protection>")
    child = la_child(db, "AA1001", disabilities=[Disability.AUT.value])
    earlier = a_case(db, child, team, worker, opened=date(2026, 1, 10), closed=date(2026, 3, 1))
    a_referral(db, earlier, on=date(2026, 1, 10), nfa=True)
    case = a_case(db, child, team, worker, opened=date(2026, 9, 20))
    a_referral(db, case, on=date(2026, 9, 20), source="6")

    rows = annex_a(db, settings)["List 3"]

    assert len(rows) == 1  # the January referral is older than six months
    row = rows[0]
    assert row["Child Unique ID"] == "AA1001"
    assert as_day(row["Date of referral"]) == date(2026, 9, 20)
    assert row["Referral Source"].startswith("6")
    assert row["Referral NFA?"] == "No"
    assert row["Number of Referrals in Last 12 Months"] == 2
    assert row["Gender"] == "Female"
    assert row["Ethnicity"] == "WBRI"
    assert as_day(row["Date of Birth"]) == date(2015, 5, 1)
    assert row["Age of Child (Years)"] == 11
    assert row["Does the Child have a Disability"] == "Yes"
    assert row["Allocated Team"] == "Northfield Child in Need & <Protection>"
    assert row["Allocated Worker"] == worker.display_name


def test_a_child_referred_seven_months_ago_is_not_on_list_3(
    db: Session, settings: Settings
) -> None:
    team, worker = a_team_and_worker(db, team_name="Erdington Assessment")
    child = la_child(db, "AA1002")
    case = a_case(db, child, team, worker, opened=add_months(AS_OF, -7))
    a_referral(db, case, on=add_months(AS_OF, -7))

    sheets = annex_a(db, settings)

    assert sheets["List 3"] == []
    # Still open, the episode is a child in need of the last six months (list 6).
    assert [r["Child Unique ID"] for r in sheets["List 6"]] == ["AA1002"]


def test_an_unallocated_unborn_child_reads_unallocated_and_age_minus_one(
    db: Session, settings: Settings
) -> None:
    team, _worker = a_team_and_worker(db, team_name="Pre-birth")
    child = la_child(
        db,
        "AA1003",
        date_of_birth=None,
        expected_date_of_birth=date(2027, 1, 15),
        sex=Sex.UNKNOWN,
        disabilities=[],
    )
    case = a_case(db, child, team, None, opened=date(2026, 10, 1))
    a_referral(db, case, on=date(2026, 10, 1), source="3B")

    (row,) = annex_a(db, settings)["List 3"]

    assert row["Age of Child (Years)"] == -1
    assert row["Date of Birth"] is None
    assert row["Gender"] == "Not stated/recorded"
    assert row["Does the Child have a Disability"] == "Unknown"
    assert row["Allocated Worker"] == "Unallocated"


def test_a_restricted_child_is_on_the_lists_because_the_inspection_is_statutory(
    db: Session, settings: Settings
) -> None:
    team, worker = a_team_and_worker(db, team_name="Restricted Cases")
    child = la_child(db, "AA1004", is_restricted=True)
    case = a_case(db, child, team, worker, opened=date(2026, 11, 2))
    a_referral(db, case, on=date(2026, 11, 2))

    assert [r["Child Unique ID"] for r in annex_a(db, settings)["List 3"]] == ["AA1004"]


def test_a_referral_after_the_inspection_day_is_not_shown(db: Session, settings: Settings) -> None:
    team, worker = a_team_and_worker(db, team_name="Duty")
    child = la_child(db, "AA1005")
    case = a_case(db, child, team, worker, opened=AS_OF + timedelta(days=1))
    a_referral(db, case, on=AS_OF + timedelta(days=1))

    assert annex_a(db, settings)["List 3"] == []


def test_a_contact_about_two_siblings_is_a_row_for_each_child_on_list_1(
    db: Session, settings: Settings
) -> None:
    team, worker = a_team_and_worker(db, team_name="Front Door")
    older = la_child(db, "FD0001", date_of_birth=date(2012, 3, 3))
    younger = la_child(db, "FD0002", date_of_birth=date(2019, 8, 9))
    contact = Contact(
        id=uuid.uuid4(),
        received_at=datetime(2026, 10, 5, 23, 30, tzinfo=UTC),  # 00:30 on 6 October in England
        source=Source("2A"),
        concern="Both children arrived at school hungry all week.",
        consent=ConsentToShare.given,
        rag=RagRating.amber,
        team_id=team.id,
        state="decided",
        decision_due_date=date(2026, 10, 7),
    )
    db.add(contact)
    db.flush()
    for position, child in enumerate((older, younger)):
        case = a_case(db, child, team, worker, opened=date(2026, 10, 6))
        db.add(
            ContactChild(
                contact_id=contact.id,
                child_id=child.id,
                case_id=case.id,
                position=position,
                has_opened_case=True,
            )
        )
    db.flush()

    rows = annex_a(db, settings)["List 1"]

    assert [r["Child Unique ID"] for r in rows] == ["FD0001", "FD0002"]
    assert {as_day(r["Date of Contact"]) for r in rows} == {date(2026, 10, 6)}
    assert {r["Contact Source"] for r in rows} == {"2A: Schools"}


def test_a_care_leaver_with_an_open_case_is_not_a_child_in_need_on_list_6(
    db: Session, settings: Settings
) -> None:
    team, worker = a_team_and_worker(db, team_name="Leaving Care")
    young_adult = la_child(db, "CL0001", date_of_birth=date(2006, 2, 1))
    case = a_case(db, young_adult, team, worker, opened=date(2019, 4, 2))
    a_referral(db, case, on=date(2019, 4, 2))

    assert annex_a(db, settings)["List 6"] == []


# --------------------------------------------------------------------------------------------------
# List 7: child protection
# --------------------------------------------------------------------------------------------------


def test_a_child_on_a_plan_is_on_list_7_with_the_latest_visit_and_review(
    db: Session, settings: Settings
) -> None:
    team, worker = a_team_and_worker(db, team_name="Child Protection East")
    child = la_child(db, "CP2001")
    case = a_case(db, child, team, worker, opened=date(2025, 12, 1))
    a_referral(db, case, on=date(2025, 12, 1))
    # An earlier plan that ended long ago counts as a previous plan.
    old_case = a_case(db, child, team, worker, opened=date(2022, 1, 4), closed=date(2023, 6, 1))
    db.add(
        CPPlan(
            case_id=old_case.id,
            child_id=child.id,
            state="ended",
            start_date=date(2022, 2, 1),
            initial_category=CategoryOfAbuse("EMO"),
            latest_category=CategoryOfAbuse("EMO"),
            end_date=date(2023, 5, 2),
            end_reason="Plan no longer needed.",
        )
    )
    plan = CPPlan(
        id=uuid.uuid4(),
        case_id=case.id,
        child_id=child.id,
        state="active",
        start_date=date(2026, 1, 14),
        initial_category=CategoryOfAbuse("NEG"),
        latest_category=CategoryOfAbuse("PHY"),
    )
    db.add(plan)
    db.flush()
    for day, alone in ((date(2026, 11, 3), False), (date(2026, 11, 17), True)):
        db.add(
            CPVisit(
                cp_plan_id=plan.id,
                visit_date=day,
                child_seen=True,
                seen_alone=alone,
                visited_by_name="Sam Worker",
            )
        )
    # A visit after the inspection day is not the latest visit "as of" it.
    db.add(
        CPVisit(
            cp_plan_id=plan.id,
            visit_date=date(2026, 12, 1),
            child_seen=True,
            seen_alone=False,
            visited_by_name="Sam Worker",
        )
    )
    db.add(
        CPConference(
            kind=ConferenceKind.review,
            case_id=case.id,
            child_id=child.id,
            cp_plan_id=plan.id,
            conference_date=date(2026, 7, 8),
            chair="Independent Chair",
            agencies_present=["police", "health"],
            is_quorate=True,
            outcome=ConferenceOutcome.continue_plan,
        )
    )
    db.flush()

    (row,) = annex_a(db, settings)["List 7"]

    assert row["Child Unique ID"] == "CP2001"
    assert as_day(row["Child Protection Plan Start Date"]) == date(2026, 1, 14)
    assert row["Initial Category of Abuse"] == "NEG"
    assert row["Latest Category of Abuse"] == "PHY"
    assert as_day(row["Date of the Last Statutory Visit"]) == date(2026, 11, 17)
    assert row["Was the Child Seen Alone?"] == "Yes"
    assert as_day(row["Date of latest review conference"]) == date(2026, 7, 8)
    assert row["Child Protection Plan End Date"] is None
    assert row["Number of Previous Child Protection Plans"] == 1
    assert row["Allocated Team"] == "Child Protection East"
    assert row["Allocated Worker"] == worker.display_name


# --------------------------------------------------------------------------------------------------
# List 8: children in care
# --------------------------------------------------------------------------------------------------


def test_a_looked_after_child_is_on_list_8_with_legal_status_and_placements(
    db: Session, settings: Settings
) -> None:
    cast = make_care_cast(db)
    cast.child.la_child_id = "LA3001"
    db.flush()
    period = bring_into_care(db, cast, on=date(2026, 6, 1), legal_status=LegalStatus.SECTION_20)
    actor = principal(db, cast.manager)
    with clock.frozen_at(noon(date(2026, 8, 3))):
        care_service.legal_status_change(
            db,
            actor=actor,
            period_id=period.id,
            expected_version=period.version,
            body=LegalStatusChange(
                start_date=date(2026, 8, 3), legal_status=LegalStatus.INTERIM_CARE_ORDER
            ),
        )
    with clock.frozen_at(noon(date(2026, 9, 14))):
        care_service.placement_change(
            db,
            actor=actor,
            period_id=period.id,
            expected_version=period.version,
            body=PlacementChange(
                start_date=date(2026, 9, 14),
                placement=foster_placement(placement_type=PlacementType.U4, carer_key="carer-2"),
                end_reason=ReasonPlaceChange("CARPL"),
                planned_ending=True,
            ),
        )

    (row,) = annex_a(db, settings)["List 8"]

    assert row["Child Unique ID"] == "LA3001"
    assert as_day(row["Date Started to be Looked After"]) == date(2026, 6, 1)
    assert row["Child's Legal Status"] == "C1"
    assert as_day(row["Start date of current legal status"]) == date(2026, 8, 3)
    assert row["Number of Placements in the Last 12 months"] == 2
    assert as_day(row["Start Date of Most Recent Placement"]) == date(2026, 9, 14)
    assert row["Placement Type"] == "U4"
    assert row["Date Ceased to be Looked After"] is None
    assert row[SECOND_PERIOD] == "No"
    assert row[MISSING] == 0
    assert row["Allocated Team"] == cast.team.name
    assert row["Allocated Worker"] == cast.social_worker.display_name
    # The same child as a child in need (list 6) is not listed: no referral row was recorded.


# --------------------------------------------------------------------------------------------------
# List 10: adoption
# --------------------------------------------------------------------------------------------------


def test_a_child_with_an_adoption_decision_is_on_list_10_with_the_steps_taken_by_the_day(
    db: Session, settings: Settings
) -> None:
    cast = make_care_cast(db)
    cast.child.la_child_id = "AD4001"
    db.flush()
    period = bring_into_care(db, cast, on=date(2025, 3, 3), legal_status=LegalStatus.SECTION_20)
    db.add(
        AdoptionDecision(
            child_id=cast.child.id,
            case_id=period.case_id,
            period_id=period.id,
            decision_date=date(2026, 2, 2),
            placement_order_date=date(2026, 5, 5),
            matched_date=date(2026, 12, 10),  # after the inspection day: not shown
        )
    )
    db.flush()

    (row,) = annex_a(db, settings)["List 10"]

    assert row["Child Unique ID"] == "AD4001"
    assert as_day(row["Date the Child Entered Care"]) == date(2025, 3, 3)
    assert as_day(row["Date of Decision that Child Should be Placed for Adoption"]) == date(
        2026, 2, 2
    )
    assert as_day(row["Date of Placement Order"]) == date(2026, 5, 5)
    assert row["Date of Matching Child and Prospective Adopters"] is None
    assert row["Family identifier"] is None
    assert row["Allocated Worker"] == cast.social_worker.display_name


# --------------------------------------------------------------------------------------------------
# The demo council
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_annex_a(demo_world: DemoWorld) -> tuple[bytes, float]:
    """The demo council's workbook as of the demo day, and how long it took to build."""
    with demo_world.factory() as session:
        started = timer.perf_counter()
        workbook = build_annex_a(session, as_of=demo_world.today, settings=demo_world.settings)
        return workbook, timer.perf_counter() - started


def test_the_demo_council_fills_the_lists_it_holds_and_dates_are_real_dates(
    demo_annex_a: tuple[bytes, float], demo_world: DemoWorld
) -> None:
    workbook, _seconds = demo_annex_a
    sheets = read(workbook)

    for name in ("List 1", "List 3", "List 4", "List 5", "List 6", "List 7", "List 8", "List 9"):
        assert sheets[name], f"{name} is empty for the demo council"
    book = load_workbook(io.BytesIO(workbook))
    date_cell = book["List 3"]["D2"]
    assert date_cell.is_date
    assert date_cell.number_format == "DD/MM/YYYY"
    six_months_ago = add_months(demo_world.today, -6)
    for row in sheets["List 3"]:
        assert six_months_ago <= as_day(row["Date of referral"]) <= demo_world.today  # type: ignore[operator]
    for row in sheets["List 7"]:
        start = as_day(row["Child Protection Plan Start Date"])
        end = as_day(row["Child Protection Plan End Date"])
        assert start is not None
        assert start <= demo_world.today
        assert end is None or end >= six_months_ago
    for name, rows in sheets.items():
        for row in rows:
            assert row.get("Allocated Team"), f"{name}: a row without its allocated team"


def test_the_demo_workbook_is_the_same_every_time_it_is_built(
    demo_annex_a: tuple[bytes, float], demo_session: Session, demo_world: DemoWorld
) -> None:
    again = build_annex_a(demo_session, as_of=demo_world.today, settings=demo_world.settings)

    assert read(again) == read(demo_annex_a[0])


def test_every_child_on_a_plan_on_the_demo_day_is_on_list_7(
    demo_annex_a: tuple[bytes, float], demo_session: Session, demo_world: DemoWorld
) -> None:
    on_plan = set(
        demo_session.scalars(
            select(Person.la_child_id)
            .join(CPPlan, CPPlan.child_id == Person.id)
            .where(CPPlan.start_date <= demo_world.today, CPPlan.end_date.is_(None))
        )
    )
    listed = {r["Child Unique ID"] for r in read(demo_annex_a[0])["List 7"]}

    assert on_plan
    assert on_plan <= listed
