"""A council migrating to Casework loads its past CIN census returns.

Stories: the 2025-26 return of a legacy system is imported and the census Casework then produces
for that year is the same return; importing it again changes nothing; a file with any bad record
writes nothing and says, record by record, what is wrong.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app import clock
from app.cli import app as cli_app
from app.config import Settings, get_settings
from app.db import make_engine
from app.models import Case, CaseEvent, Person, UserAccount
from app.models.assessments import Assessment
from app.models.audit import ChangeLog
from app.models.cin import CINPlan
from app.models.deadlines import Deadline
from app.models.frontdoor import Referral, ReferralDecision
from app.models.protection import CPConference, CPPlan, S47Enquiry, StrategyDiscussion
from app.returns.cin_census import build_cin_census
from app.returns.imports.cin_census import import_cin_census
from app.returns.imports.common import MIGRATED_ACTION, MIGRATION_USERNAME
from app.returns.validators import DEFAULT_VALIDATORS_PYTHON
from app.returns.validators.cin import check_cin_census
from tests.conftest import fresh_database_url
from tests.factories import make_child, make_team
from tests.returns.conftest import CURRENT_YEAR, PREVIOUS_YEAR, DemoWorld

FIXTURES = Path(__file__).parent / "fixtures" / "cin"
ROUND_TRIP = FIXTURES / "round_trip_2026.xml"
NEXT_YEAR = FIXTURES / "round_trip_2027.xml"
# The 2026-27 return is sent in May 2027.
AFTER_2027 = datetime(2027, 5, 3, 9, 0, tzinfo=UTC)
BAD_RECORDS = FIXTURES / "bad_records_2026.xml"

COUNTED = (
    Person,
    Case,
    Referral,
    Assessment,
    CINPlan,
    StrategyDiscussion,
    S47Enquiry,
    CPPlan,
    CPConference,
    CaseEvent,
    ChangeLog,
    Deadline,
    UserAccount,
)


def row_counts(db: Session) -> dict[str, int]:
    return {
        model.__tablename__: db.scalar(select(func.count()).select_from(model)) or 0
        for model in COUNTED
    }


# --- comparing returns as structures (the header's DateTime and the software differ) -----------

FLAGS = {"1": "true", "0": "false"}


def _tree(element: Element) -> Any:
    if len(element) == 0:
        text = (element.text or "").strip()
        return FLAGS.get(text, text) if element.tag in ("ReferralNFA", "ICPCnotRequired") else text
    fields: dict[str, list[Any]] = {}
    for child in element:
        if child.tag == "Reviews":  # one <Reviews> of many dates, or one per date: the same
            fields.setdefault("CPPreviewDate", []).extend((d.text or "").strip() for d in child)
        elif child.tag != "AssessmentInternalReviewDate":  # Casework holds none
            fields.setdefault(child.tag, []).append(_tree(child))
    return fields


def census_structure(xml: bytes) -> dict[str, Any]:
    """What a return says: its year and each child, by LAchildID, as nested fields."""
    root = SafeET.fromstring(xml)
    details = root.find("Header/CollectionDetails")
    assert details is not None
    children: dict[str, Any] = {}
    for child in root.iterfind("Children/Child"):
        children[child.findtext("ChildIdentifiers/LAchildID") or ""] = _tree(child)
    return {"header": _tree(details), "children": children}


def census_xml(*children: str, year: int = 2026) -> bytes:
    return (
        "<Message><Header><CollectionDetails><Collection>CIN</Collection>"
        f"<Year>{year}</Year><ReferenceDate>{year}-03-31</ReferenceDate></CollectionDetails>"
        "<Source><SourceLevel>L</SourceLevel><LEA>330</LEA></Source></Header>"
        f"<Children>{''.join(children)}</Children></Message>"
    ).encode()


def child_xml(la_child_id: str, *episodes: str, born: str = "2014-02-02", sex: str = "F") -> str:
    return (
        f"<Child><ChildIdentifiers><LAchildID>{la_child_id}</LAchildID>"
        f"<UPNunknown>UN4</UPNunknown><PersonBirthDate>{born}</PersonBirthDate><Sex>{sex}</Sex>"
        "</ChildIdentifiers><ChildCharacteristics><Ethnicity>WBRI</Ethnicity>"
        "<Disabilities><Disability>NONE</Disability></Disabilities></ChildCharacteristics>"
        f"{''.join(episodes)}</Child>"
    )


def episode_xml(
    referral: str, closure: str | None = None, reason: str = "RC7", **parts: str
) -> str:
    closed = (
        f"<CINclosureDate>{closure}</CINclosureDate><ReasonForClosure>{reason}</ReasonForClosure>"
        if closure
        else ""
    )
    return (
        f"<CINdetails><CINreferralDate>{referral}</CINreferralDate>"
        f"<ReferralSource>{parts.get('source', '1A')}</ReferralSource>"
        f"<PrimaryNeedCode>{parts.get('need', 'N1')}</PrimaryNeedCode>{closed}"
        f"{parts.get('inner', '')}<ReferralNFA>{parts.get('nfa', 'false')}</ReferralNFA>"
        f"{parts.get('plans', '')}</CINdetails>"
    )


# --- the round trip ---------------------------------------------------------------------------


def test_a_legacy_return_imported_comes_back_out_of_casework_unchanged(
    db: Session, settings: Settings
) -> None:
    data = ROUND_TRIP.read_bytes()

    report = import_cin_census(db, data, source="round_trip_2026.xml")

    assert report.ok, report.describe()
    assert report.created["children"] == 5
    assert report.created["CIN episodes"] == 6
    assert report.created["child protection plans"] == 3
    assert report.created["review conferences"] == 3
    assert report.created["initial conferences"] == 2
    exported = build_cin_census(db, year=2026, settings=settings)
    assert census_structure(exported) == census_structure(data)


def test_the_demo_councils_census_years_migrate_into_an_empty_casework_and_back(
    db: Session, demo_session: Session, demo_world: DemoWorld
) -> None:
    """The demo council's returns stand in for a real council's: hundreds of real episodes
    made through the services, imported year after year as a migration would, each year's export
    then the same as what was sent."""
    settings = demo_world.settings
    sent = {
        year: build_cin_census(demo_session, year=year, settings=settings)
        for year in (PREVIOUS_YEAR, CURRENT_YEAR)
    }
    for year, xml in sent.items():
        report = import_cin_census(db, xml, source=f"demo-{year}.xml")
        assert report.ok, report.describe()

    for year, xml in sent.items():
        exported = census_structure(build_cin_census(db, year=year, settings=settings))
        assert exported == census_structure(xml), year
    assert len(census_structure(sent[CURRENT_YEAR])["children"]) > 50


def test_importing_the_same_return_again_changes_nothing(db: Session) -> None:
    data = ROUND_TRIP.read_bytes()
    import_cin_census(db, data, source="round_trip_2026.xml")
    before = row_counts(db)

    again = import_cin_census(db, data, source="round_trip_2026.xml")

    assert again.ok, again.describe()
    assert again.created == {}
    assert again.unchanged["children"] == 5
    assert again.unchanged["CIN episodes"] == 6
    assert row_counts(db) == before
    assert "nothing new" in again.describe()


def test_migrated_records_are_historical_and_say_where_they_came_from(db: Session) -> None:
    deadlines_before = row_counts(db)["deadline"]

    import_cin_census(db, ROUND_TRIP.read_bytes(), source="round_trip_2026.xml")

    migration = db.scalars(
        select(UserAccount).where(UserAccount.username == MIGRATION_USERNAME)
    ).one()
    assert not migration.is_active
    assert migration.password_hash is None
    people = {
        p.la_child_id: p for p in db.scalars(select(Person).where(Person.la_child_id.like("RT%")))
    }
    assert people["RT002"].first_name == "Unknown"
    assert people["RT002"].last_name == "(imported LAchildID RT002)"
    assert people["RT002"].date_of_birth is None
    assert people["RT002"].expected_date_of_birth == date(2026, 6, 15)
    assert people["RT003"].disabilities == ["MOB", "LD"]
    assert people["RT001"].upn == "Y330251001234"
    for person in people.values():
        logged = db.scalars(select(ChangeLog).where(ChangeLog.entity_id == person.id)).one()
        assert logged.action == MIGRATED_ACTION
        assert logged.actor_id == migration.id
        assert logged.changes["source"] == "round_trip_2026.xml"
    cases = db.scalars(select(Case).where(Case.child_id.in_([p.id for p in people.values()]))).all()
    for case in cases:
        event = db.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).one()
        assert (event.action, event.actor_id) == (MIGRATED_ACTION, migration.id)
        assert event.reason == "Migrated from round_trip_2026.xml"
    # No statutory deadline opens for work that happened years ago.
    assert row_counts(db)["deadline"] == deadlines_before


def test_records_are_left_in_the_states_the_workflows_would_have_left_them(db: Session) -> None:
    import_cin_census(db, ROUND_TRIP.read_bytes(), source="round_trip_2026.xml")

    def case_of(la_child_id: str) -> list[Case]:
        person = db.scalars(select(Person).where(Person.la_child_id == la_child_id)).one()
        return list(
            db.scalars(select(Case).where(Case.child_id == person.id).order_by(Case.opened_date))
        )

    first, second = case_of("RT001")
    assert (first.state, first.closed_date, first.closure_reason) == (
        "closed",
        date(2025, 7, 1),
        "RC8",
    )
    assert second.state == "cin_plan"
    (nfa,) = case_of("RT004")
    referral = db.scalars(select(Referral).where(Referral.case_id == nfa.id)).one()
    assert nfa.state == "closed"
    assert referral.decision == ReferralDecision.no_further_action
    (unborn,) = case_of("RT002")
    assert unborn.state == "cp_plan"
    plan = db.scalars(select(CPPlan).where(CPPlan.case_id == unborn.id)).one()
    assert (plan.state, plan.end_date) == ("active", None)
    icpc = db.scalars(select(CPConference).where(CPConference.case_id == unborn.id)).one()
    assert (icpc.kind, icpc.outcome, icpc.cp_plan_id) == ("initial", "cp_plan", plan.id)
    enquiry = db.scalars(select(S47Enquiry).where(S47Enquiry.case_id == unborn.id)).one()
    assert (enquiry.state, enquiry.outcome) == ("concluded", "icpc_required")
    open_assessment = db.scalars(select(Assessment).where(Assessment.case_id == unborn.id)).one()
    assert (open_assessment.state, open_assessment.authorised_date) == ("in_progress", None)
    (spanning,) = case_of("RT003")
    ended = db.scalars(select(CPPlan).where(CPPlan.case_id == spanning.id)).one()
    assert (ended.state, ended.end_date) == ("ended", date(2025, 12, 15))
    assert spanning.state == "cin_plan"


def test_the_next_years_return_moves_the_migrated_history_on(
    db: Session, settings: Settings
) -> None:
    import_cin_census(db, ROUND_TRIP.read_bytes(), source="round_trip_2026.xml")
    data = NEXT_YEAR.read_bytes()

    with clock.frozen_at(AFTER_2027):
        report = import_cin_census(db, data, source="round_trip_2027.xml")

        assert report.ok, report.describe()
        assert report.created["children"] == 1  # RT006; the other four are known
        assert report.unchanged["children"] == 4
        assert census_structure(build_cin_census(db, year=2027, settings=settings)) == (
            census_structure(data)
        )
        # ... and the earlier year, as at its own reference date, is still what was sent, but
        # for one thing: Casework keeps a plan's latest category, not its history, so RT002's
        # 2025-26 plan now shows the category given at its 2026 review.
        sent = census_structure(ROUND_TRIP.read_bytes())
        (plan,) = sent["children"]["RT002"]["CINdetails"][0]["ChildProtectionPlans"]
        plan["LatestCategoryOfAbuse"] = ["MUL"]
        assert census_structure(build_cin_census(db, year=2026, settings=settings)) == sent
        before = row_counts(db)
        for again, name in ((data, "round_trip_2027.xml"), (ROUND_TRIP.read_bytes(), "2026")):
            repeat = import_cin_census(db, again, source=name)
            assert repeat.ok, repeat.describe()
            assert repeat.created == {}
        assert row_counts(db) == before

    born = db.scalars(select(Person).where(Person.la_child_id == "RT002")).one()
    assert (born.date_of_birth, born.sex) == (date(2026, 6, 14), "F")
    rt005 = db.scalars(select(Person).where(Person.la_child_id == "RT005")).one()
    case = db.scalars(select(Case).where(Case.child_id == rt005.id)).one()
    assert case.state == "cin_plan"  # the CP plan ended at its review, a CIN plan followed
    events = db.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
    ).all()
    assert [e.reason for e in events] == [
        "Migrated from round_trip_2026.xml",
        "Migrated from round_trip_2027.xml",
    ]
    assert "child protection plan 2025-11-12 ended 2026-11-16" in events[1].changes["moved_on"]


def test_what_casework_exports_for_migrated_years_passes_the_dfe_validator(
    db: Session, settings: Settings, validators_installed: None
) -> None:
    checked = settings.model_copy(update={"validators_python": str(DEFAULT_VALIDATORS_PYTHON)})
    import_cin_census(db, ROUND_TRIP.read_bytes(), source="round_trip_2026.xml")
    with clock.frozen_at(AFTER_2027):
        import_cin_census(db, NEXT_YEAR.read_bytes(), source="round_trip_2027.xml")
        for year in (2026, 2027):
            xml = build_cin_census(db, year=year, settings=checked)
            failures = check_cin_census(xml, year=year, settings=checked)
            # 2887Q asks a council why it used fewer than 8 disability codes in the whole
            # return: a question about a council's caseload that five children cannot answer.
            found = [(f.rule, f.child, f.message) for f in failures if f.rule != "2887Q"]
            assert found == [], year


def test_a_child_already_in_casework_is_matched_and_not_changed(
    db: Session, settings: Settings
) -> None:
    known = make_child(db, first_name="Sam", last_name="Known", date_of_birth=date(2015, 5, 1))
    known.la_child_id = "RT001"
    db.flush()

    report = import_cin_census(db, ROUND_TRIP.read_bytes(), source="round_trip_2026.xml")

    assert report.ok, report.describe()
    assert report.created["children"] == 4
    assert report.unchanged["children"] == 1
    db.refresh(known)
    assert (known.first_name, known.last_name, known.upn) == ("Sam", "Known", None)
    cases = db.scalars(select(Case).where(Case.child_id == known.id)).all()
    assert len(cases) == 2


def test_a_later_change_to_an_imported_episode_is_refused_not_overwritten(db: Session) -> None:
    data = ROUND_TRIP.read_bytes()
    import_cin_census(db, data, source="round_trip_2026.xml")
    before = row_counts(db)
    changed = data.replace(
        b"<ReferralSource>6</ReferralSource>", b"<ReferralSource>3A</ReferralSource>"
    )

    report = import_cin_census(db, changed, source="changed.xml")

    assert not report.ok
    assert [(r.record, r.reason) for r in report.rejections] == [
        (
            "Child RT005 / CINdetails 1",
            "already in Casework with ReferralSource 6, the file says 3A: an import does not "
            "change existing records",
        )
    ]
    assert row_counts(db) == before


# --- bad input: a clear report, nothing written -------------------------------------------------


def test_a_file_that_is_not_xml_is_refused(db: Session) -> None:
    before = row_counts(db)
    report = import_cin_census(db, b"CHILD,SEX,DOB\n1,M,01/01/2015\n", source="header.csv")
    assert [r.record for r in report.rejections] == ["file"]
    assert "not well-formed XML" in report.rejections[0].reason
    assert row_counts(db) == before


def test_xml_that_is_not_a_cin_census_is_refused(db: Session) -> None:
    report = import_cin_census(db, b"<Return><Children/></Return>", source="other.xml")
    assert (
        report.rejections[0].reason == "the root element is <Return>, not the CIN census <Message>"
    )
    wrong = census_xml(child_xml("A1", episode_xml("2025-05-01")), year=2026).replace(
        b"<Collection>CIN</Collection>", b"<Collection>SSDA903</Collection>"
    )
    report = import_cin_census(db, wrong, source="wrong.xml")
    assert [r.reason for r in report.rejections] == [
        "Collection is 'SSDA903': this is not a CIN census return"
    ]


def test_an_xml_entity_bomb_is_refused_without_expanding_it(db: Session) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><Message>&b;</Message>'
    )
    report = import_cin_census(db, bomb, source="bomb.xml")
    assert not report.ok
    assert "refused for safety" in report.rejections[0].reason


def test_every_bad_record_is_reported_and_nothing_is_imported(db: Session) -> None:
    before = row_counts(db)

    report = import_cin_census(db, BAD_RECORDS.read_bytes(), source="bad_records_2026.xml")

    assert not report.ok
    assert row_counts(db) == before
    assert sorted((r.record, r.reason) for r in report.rejections) == sorted(
        [
            ("Child BAD01", "Sex 'X' is not a DfE code (M, F, U)"),
            (
                "Child BAD01",
                "Ethnicity 'WXYZ' is not a DfE code (WBRI … NOBT)",
            ),
            (
                "Child BAD01 / CINdetails 1",
                "ReferralSource '11' is not a DfE code (1A … 10)",
            ),
            (
                "Child BAD01 / CINdetails 1",
                "ReasonForClosure 'RC0' is not a DfE code (RC1, RC2, RC3, RC4, RC5, RC6, RC7, "
                "RC8, RC9)",
            ),
            (
                "Child BAD01 / CINdetails 1 / Assessments 1",
                "AssessmentFactors '99Z' is not a DfE assessment factor code (1A-24A)",
            ),
            (
                "Child BAD02 / CINdetails 1",
                "CINreferralDate '2025-02-30' is not a date (the census writes YYYY-MM-DD)",
            ),
            (
                "Child BAD03 / CINdetails 1",
                "CINclosureDate 2025-05-01 is before CINreferralDate 2025-06-01",
            ),
            (
                "Child BAD06 / CINdetails 1 / ChildProtectionPlans 1",
                "CPPstartDate 2025-05-20 is before the referral on 2025-06-01",
            ),
            (
                "Child BAD04 / CINdetails 1",
                "<CINreferalDate> is not an element of <CINdetails> in the CIN census (expected "
                "CINreferralDate, ReferralSource, PrimaryNeedCode, CINclosureDate, "
                "ReasonForClosure, DateOfInitialCPC, Assessments, CINPlanDates, Section47, "
                "ReferralNFA, ChildProtectionPlans)",
            ),
            ("Child BAD04 / CINdetails 1", "CINreferralDate is missing"),
            (
                "Child BAD05",
                "the child is in the file twice: a return has one <Child> per LAchildID, with "
                "all its episodes",
            ),
        ]
    )


@pytest.mark.parametrize(
    ("episodes", "record", "reason"),
    [
        pytest.param(
            [episode_xml("2025-05-01", "2025-09-01", "RC8"), episode_xml("2025-08-01")],
            "Child C1 / CINdetails 2",
            "the referral on 2025-08-01 falls inside the episode of 2025-05-01 to 2025-09-01 "
            "(CIN rule 8820)",
            id="overlapping episodes",
        ),
        pytest.param(
            [episode_xml("2025-05-01"), episode_xml("2025-08-01")],
            "Child C1 / CINdetails 1",
            "the episode is open but a later one starts 2025-08-01: only the latest CIN episode "
            "may be open (CIN rules 8815, 8816)",
            id="two open episodes",
        ),
        pytest.param(
            [
                episode_xml(
                    "2025-05-01",
                    nfa="true",
                    inner="<CINPlanDates><CINPlanStartDate>2025-05-02</CINPlanStartDate>"
                    "</CINPlanDates>",
                )
            ],
            "Child C1 / CINdetails 1",
            "ReferralNFA is true but the episode has assessments, plans or section 47 enquiries "
            "(CIN rules 8831, 8832, 4000)",
            id="activity on a no further action referral",
        ),
        pytest.param(
            [episode_xml("2025-05-01", "2025-08-01", reason="")],
            "Child C1 / CINdetails 1",
            "CINclosureDate and ReasonForClosure go together: one is given without the other "
            "(CIN rules 8805, 8810)",
            id="closure without a reason",
        ),
        pytest.param(
            [
                episode_xml(
                    "2025-05-01",
                    inner="<CINPlanDates><CINPlanStartDate>2025-06-01</CINPlanStartDate>"
                    "</CINPlanDates>",
                    plans="<ChildProtectionPlans><CPPstartDate>2025-07-01</CPPstartDate>"
                    "<InitialCategoryOfAbuse>NEG</InitialCategoryOfAbuse>"
                    "<LatestCategoryOfAbuse>NEG</LatestCategoryOfAbuse></ChildProtectionPlans>",
                )
            ],
            "Child C1 / CINdetails 1 / CINPlanDates 1",
            "the CIN plan from 2025-06-01 overlaps the child protection plan from 2025-07-01 "
            "(CIN rules 4001, 4016, 4017)",
            id="CIN plan overlapping a CP plan",
        ),
        pytest.param(
            [episode_xml("2026-04-02")],
            "Child C1 / CINdetails 1",
            "CINreferralDate 2026-04-02 is after the census ReferenceDate 2026-03-31",
            id="a referral after the census year",
        ),
        pytest.param(
            [
                episode_xml(
                    "2025-05-01",
                    inner="<DateOfInitialCPC>2025-05-20</DateOfInitialCPC>",
                )
            ],
            "Child C1 / CINdetails 1",
            "DateOfInitialCPC is given at episode level: Casework records an initial conference "
            "with its section 47 enquiry, so give it in the <Section47> block (CIN rule 2884 "
            "allows either place, never both)",
            id="initial conference at episode level",
        ),
    ],
)
def test_an_impossible_history_is_refused_with_its_rule(
    db: Session, episodes: list[str], record: str, reason: str
) -> None:
    before = row_counts(db)
    report = import_cin_census(db, census_xml(child_xml("C1", *episodes)), source="t.xml")
    assert (record, reason) in [(r.record, r.reason) for r in report.rejections], report.describe()
    assert row_counts(db) == before


def test_an_episode_overlapping_a_case_casework_already_has_is_refused(db: Session) -> None:
    child = make_child(db, date_of_birth=date(2014, 2, 2))
    child.la_child_id = "C9"
    db.add(
        Case(
            child_id=child.id,
            state="looked_after",
            opened_date=date(2025, 6, 1),
            team_id=make_team(db).id,
        )
    )
    db.flush()
    before = row_counts(db)

    report = import_cin_census(
        db, census_xml(child_xml("C9", episode_xml("2025-05-01"))), source="t.xml"
    )

    assert [(r.record, r.reason) for r in report.rejections] == [
        (
            "Child C9 / CINdetails 1",
            "the episode overlaps the child's case in Casework opened 2025-06-01, which has no "
            "referral (a migrated period of care?): import a council's CIN census returns "
            "before its SSDA903 returns (CIN rules 8820, 8815)",
        )
    ]
    assert row_counts(db) == before


def test_an_unborn_child_must_be_sex_u(db: Session) -> None:
    unborn = (
        "<Child><ChildIdentifiers><LAchildID>U1</LAchildID><UPNunknown>UN1</UPNunknown>"
        "<ExpectedPersonBirthDate>2026-05-01</ExpectedPersonBirthDate><Sex>F</Sex>"
        "</ChildIdentifiers><ChildCharacteristics><Ethnicity>WBRI</Ethnicity>"
        f"</ChildCharacteristics>{episode_xml('2026-01-05')}</Child>"
    )
    report = import_cin_census(db, census_xml(unborn), source="t.xml")
    assert [(r.record, r.reason) for r in report.rejections] == [
        ("Child U1", "An unborn child's sex must be U (not known) (CIN rule 8750)")
    ]


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        pytest.param(
            "<UPNunknown>UN4</UPNunknown>",
            "<UPN>A330251001234</UPN>",
            "UPN 'A330251001234': UPN check letter should be Y, not A (DfE rule 1510)",
            id="a UPN with the wrong check letter",
        ),
        pytest.param(
            "<UPNunknown>UN4</UPNunknown>",
            "<UPNunknown>UN9</UPNunknown>",
            "UPNunknown 'UN9' is not a DfE code (UN1, UN2, UN3, UN4, UN5, UN6, UN7)",
            id="an unknown UPNunknown code",
        ),
        pytest.param(
            "<Sex>F</Sex>",
            "<Sex>F</Sex><Sex>M</Sex>",
            "<Sex> is given twice in <ChildIdentifiers>",
            id="an element given twice",
        ),
        pytest.param(
            "<Disability>NONE</Disability>",
            "<Disability>NONE</Disability><Disability>AUT</Disability>",
            "Disability NONE cannot be given together with a disability",
            id="NONE with a disability",
        ),
    ],
)
def test_a_child_with_bad_identifiers_is_refused(
    db: Session, old: str, new: str, reason: str
) -> None:
    xml = census_xml(child_xml("C7", episode_xml("2025-05-01")).replace(old, new))
    report = import_cin_census(db, xml, source="t.xml")
    assert [(r.record, r.reason) for r in report.rejections] == [("Child C7", reason)]


def test_one_upn_for_two_children_is_refused(db: Session) -> None:
    def with_upn(la_child_id: str) -> str:
        return child_xml(la_child_id, episode_xml("2025-05-01")).replace(
            "<UPNunknown>UN4</UPNunknown>", "<UPN>Y330251001234</UPN>"
        )

    report = import_cin_census(db, census_xml(with_upn("D1"), with_upn("D2")), source="t.xml")
    assert [(r.record, r.reason) for r in report.rejections] == [
        ("Child D2", "UPN Y330251001234 is also given for child D1")
    ]


def test_an_la_child_id_longer_than_the_census_allows_is_refused(db: Session) -> None:
    report = import_cin_census(
        db, census_xml(child_xml("X" * 21, episode_xml("2025-05-01"))), source="t.xml"
    )
    assert [r.reason for r in report.rejections] == [
        "LA child ID must be 20 characters or fewer (CIN census)"
    ]


# --- the command an operator runs ---------------------------------------------------------------


@pytest.fixture
def cli_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = fresh_database_url(tmp_path, "cin_import_cli")
    monkeypatch.setenv("CASEWORK_DATABASE_URL", url)
    monkeypatch.setenv("CASEWORK_ENVIRONMENT", "development")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli_app, ["db", "upgrade"])
        assert result.exit_code == 0, result.output
        yield url
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_casework_import_cin_census_loads_a_file_once(cli_database: str, tmp_path: Path) -> None:
    runner = CliRunner()

    first = runner.invoke(cli_app, ["import", "cin-census", str(ROUND_TRIP)])
    second = runner.invoke(cli_app, ["import", "cin-census", str(ROUND_TRIP)])

    assert first.exit_code == 0, first.output
    assert "round_trip_2026.xml: imported" in first.output
    assert "5 children" in first.output
    assert second.exit_code == 0, second.output
    assert "nothing new" in second.output
    engine = make_engine(cli_database)
    try:
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(Case)) == 6
    finally:
        engine.dispose()


def test_casework_import_cin_census_reports_bad_records_and_exits_1(cli_database: str) -> None:
    result = CliRunner().invoke(cli_app, ["import", "cin-census", str(BAD_RECORDS)])

    assert result.exit_code == 1
    assert "nothing imported" in result.output
    assert "Child BAD03 / CINdetails 1: CINclosureDate 2025-05-01 is before" in result.output
    engine = make_engine(cli_database)
    try:
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(Person)) == 0
    finally:
        engine.dispose()
