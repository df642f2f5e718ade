"""Stories of the CIN census: what a child's year in children's social care looks like in the XML.

The records are written straight into the tables here (a small council's year in a few lines);
the demo-council test (``test_cin_validator``) covers records the real services wrote. The census
year is 2026: 1 April 2025 to 31 March 2026.
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from app import clock
from app.config import Settings
from app.core_types import (
    CategoryOfAbuse,
    Ethnicity,
    PrimaryNeed,
    ReasonForClosure,
    ReferralSource,
    Sex,
)
from app.models import Person, PersonKind, Team, UserAccount
from app.models.assessments import Assessment, AssessmentOutcome
from app.models.cases import Case
from app.models.cin import CINPlan
from app.models.frontdoor import Referral, ReferralDecision
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
from app.returns.cin_census import build_cin_census
from tests.factories import make_team, make_user

YEAR = 2026
GENERATED_AT = datetime(2026, 4, 20, 9, 30, tzinfo=UTC)
_ids = itertools.count(1)


@dataclass
class Council:
    db: Session
    team: Team
    worker: UserAccount

    def child(
        self,
        *,
        la_id: str | None = None,
        born: date | None = date(2015, 5, 1),
        expected: date | None = None,
        sex: Sex = Sex.FEMALE,
        upn: str | None = None,
        disabilities: list[str] | None = None,
        restricted: bool = False,
    ) -> Person:
        person = Person(
            kind=PersonKind.child,
            first_name="Child",
            last_name=f"Story{next(_ids)}",
            search_first_name="child",
            search_last_name="story",
            date_of_birth=born,
            expected_date_of_birth=expected,
            sex=sex,
            ethnicity=Ethnicity.WBRI,
            disabilities=disabilities or [],
            upn=upn,
            la_child_id=la_id or f"STORY{next(_ids):05d}",
            is_restricted=restricted,
        )
        self.db.add(person)
        self.db.flush()
        return person

    def episode(
        self,
        child: Person,
        *,
        referred: date,
        closed: date | None = None,
        reason: ReasonForClosure | None = None,
        nfa: bool = False,
        source: ReferralSource = ReferralSource.POLICE,
        need: PrimaryNeed = PrimaryNeed.ABUSE_OR_NEGLECT,
    ) -> Case:
        case = Case(
            child_id=child.id,
            state="closed" if closed else "assessment",
            opened_date=referred,
            closed_date=closed,
            closure_reason=reason,
            team_id=self.team.id,
        )
        self.db.add(case)
        self.db.flush()
        decided = datetime(referred.year, referred.month, referred.day, 15, tzinfo=UTC)
        self.db.add(
            Referral(
                case_id=case.id,
                child_id=child.id,
                referral_date=referred,
                source=source,
                primary_need=need,
                state="decided",
                decision=ReferralDecision.no_further_action if nfa else ReferralDecision.assessment,
                decided_at=decided,
            )
        )
        self.db.flush()
        return case

    def assessment(
        self, case: Case, *, started: date, authorised: date | None, factors: list[str]
    ) -> None:
        self.db.add(
            Assessment(
                case_id=case.id,
                child_id=case.child_id,
                author_id=self.worker.id,
                state="authorised" if authorised else "in_progress",
                start_date=started,
                factors=factors,
                submitted_date=authorised,
                authorised_date=authorised,
                outcome=AssessmentOutcome.strategy_discussion if authorised else None,
            )
        )
        self.db.flush()

    def s47(self, case: Case, *, started: date, target: date, concluded: date) -> S47Enquiry:
        discussion = StrategyDiscussion(
            case_id=case.id,
            child_id=case.child_id,
            concern_date=started,
            held_date=started,
            format=DiscussionFormat.meeting,
            concerns="Bruising seen at school.",
            is_s47_decided=True,
        )
        self.db.add(discussion)
        self.db.flush()
        enquiry = S47Enquiry(
            case_id=case.id,
            child_id=case.child_id,
            strategy_discussion_id=discussion.id,
            state="concluded",
            start_date=started,
            icpc_target_date=target,
            outcome=S47Outcome.icpc_required,
            concluded_date=concluded,
        )
        self.db.add(enquiry)
        self.db.flush()
        return enquiry

    def cp_plan(
        self,
        case: Case,
        *,
        start: date,
        end: date | None = None,
        enquiry: S47Enquiry | None = None,
        latest: CategoryOfAbuse = CategoryOfAbuse.NEG,
    ) -> CPPlan:
        plan = CPPlan(
            case_id=case.id,
            child_id=case.child_id,
            state="ended" if end else "active",
            start_date=start,
            initial_category=CategoryOfAbuse.NEG,
            latest_category=latest,
            end_date=end,
            end_reason="Plan ended at review." if end else None,
        )
        self.db.add(plan)
        self.db.flush()
        if enquiry is not None:
            self.conference(case, ConferenceKind.initial, start, s47=enquiry, plan=plan)
        return plan

    def conference(
        self,
        case: Case,
        kind: ConferenceKind,
        held: date,
        *,
        plan: CPPlan,
        s47: S47Enquiry | None = None,
        category: CategoryOfAbuse | None = None,
    ) -> None:
        self.db.add(
            CPConference(
                kind=kind,
                case_id=case.id,
                child_id=case.child_id,
                s47_enquiry_id=s47.id if s47 else None,
                cp_plan_id=plan.id,
                conference_date=held,
                chair="Independent Chair",
                agencies_present=["social_care", "police", "health"],
                is_quorate=True,
                outcome=(
                    ConferenceOutcome.cp_plan
                    if kind is ConferenceKind.initial
                    else ConferenceOutcome.continue_plan
                ),
                category=CategoryOfAbuse.NEG if kind is ConferenceKind.initial else category,
            )
        )
        self.db.flush()


@pytest.fixture
def council(db: Session) -> Council:
    team = make_team(db)
    return Council(db=db, team=team, worker=make_user(db, team=team))


def census(db: Session, settings: Settings, year: int = YEAR) -> ET.Element:
    with clock.frozen_at(GENERATED_AT):
        xml = build_cin_census(db, year=year, settings=settings)
    assert xml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    return ET.fromstring(xml)  # noqa: S314 - our own output


def child_in(root: ET.Element, person: Person) -> ET.Element | None:
    for child in root.iterfind("Children/Child"):
        if child.findtext("ChildIdentifiers/LAchildID") == person.la_child_id:
            return child
    return None


def tags(element: ET.Element) -> list[str]:
    return [item.tag for item in element]


def test_a_child_protection_year_is_written_in_the_schema_order(
    council: Council, db: Session, settings: Settings
) -> None:
    # Mia had a CP plan in 2022 (an earlier episode, closed long ago). Police refer her again on
    # 1 May 2025; the assessment finds domestic abuse and a parent's mental health; a strategy
    # discussion starts a s47 on 12 June, the ICPC on 1 July puts her on a plan, reviewed in
    # September and March. The case closes on 1 May 2026, after the census date.
    mia = council.child(upn="A330123456789", disabilities=["MOB", "LD"])
    earlier = council.episode(
        mia,
        referred=date(2022, 1, 10),
        closed=date(2023, 1, 31),
        reason=ReasonForClosure.SERVICES_CEASED,
    )
    council.cp_plan(earlier, start=date(2022, 2, 1), end=date(2023, 1, 20))
    case = council.episode(
        mia,
        referred=date(2025, 5, 1),
        closed=date(2026, 5, 1),
        reason=ReasonForClosure.SERVICES_CEASED,
        source=ReferralSource.POLICE,
    )
    council.assessment(
        case, started=date(2025, 5, 2), authorised=date(2025, 6, 10), factors=["3A", "4B"]
    )
    enquiry = council.s47(
        case, started=date(2025, 6, 12), target=date(2025, 7, 3), concluded=date(2025, 6, 26)
    )
    plan = council.cp_plan(
        case, start=date(2025, 7, 1), enquiry=enquiry, latest=CategoryOfAbuse.EMO
    )
    for held in (date(2025, 9, 30), date(2026, 3, 20), date(2026, 4, 10)):
        council.conference(case, ConferenceKind.review, held, plan=plan)

    root = census(db, settings)

    child = child_in(root, mia)
    assert child is not None
    assert tags(child) == ["ChildIdentifiers", "ChildCharacteristics", "CINdetails"]
    ids = child.find("ChildIdentifiers")
    assert ids is not None
    assert [(e.tag, e.text) for e in ids] == [
        ("LAchildID", mia.la_child_id),
        ("UPN", "A330123456789"),
        ("PersonBirthDate", "2015-05-01"),
        ("Sex", "F"),
    ]
    assert [e.text for e in child.iterfind("ChildCharacteristics/Disabilities/Disability")] == [
        "MOB",
        "LD",
    ]
    details = child.find("CINdetails")
    assert details is not None
    # The closure on 1 May 2026 had not happened on 31 March: the episode is open in this census.
    assert tags(details) == [
        "CINreferralDate",
        "ReferralSource",
        "PrimaryNeedCode",
        "Assessments",
        "Section47",
        "ReferralNFA",
        "ChildProtectionPlans",
    ]
    assert (details.findtext("CINreferralDate"), details.findtext("ReferralSource")) == (
        "2025-05-01",
        "6",
    )
    assessment = details.find("Assessments")
    assert assessment is not None
    assert tags(assessment) == [
        "AssessmentActualStartDate",
        "AssessmentAuthorisationDate",
        "FactorsIdentifiedAtAssessment",
    ]
    assert [e.text for e in assessment.iterfind("FactorsIdentifiedAtAssessment/*")] == ["3A", "4B"]
    s47 = details.find("Section47")
    assert s47 is not None
    # CIN 2884: the ICPC is at s47 level, so not at episode level too.
    assert [(e.tag, e.text) for e in s47] == [
        ("S47ActualStartDate", "2025-06-12"),
        ("InitialCPCtarget", "2025-07-03"),
        ("DateOfInitialCPC", "2025-07-01"),
        ("ICPCnotRequired", "0"),
    ]
    assert details.findtext("DateOfInitialCPC") is None
    assert details.findtext("ReferralNFA") == "false"
    cpp = details.find("ChildProtectionPlans")
    assert cpp is not None
    assert [(e.tag, e.text) for e in cpp][:4] == [
        ("CPPstartDate", "2025-07-01"),
        ("InitialCategoryOfAbuse", "NEG"),
        ("LatestCategoryOfAbuse", "EMO"),
        ("NumberOfPreviousCPP", "1"),  # the 2022 plan, in an earlier episode
    ]
    assert tags(cpp) == [
        "CPPstartDate",
        "InitialCategoryOfAbuse",
        "LatestCategoryOfAbuse",
        "NumberOfPreviousCPP",
        "Reviews",
    ]
    # The April 2026 review belongs to next year's census.
    assert [e.text for e in cpp.iterfind("Reviews/CPPreviewDate")] == ["2025-09-30", "2026-03-20"]


def test_the_latest_category_of_abuse_is_the_one_in_force_on_31_march(
    council: Council, db: Session, settings: Settings
) -> None:
    # Noah's plan starts for neglect in July 2025; the September review changes the category to
    # emotional abuse. The review on 10 April 2026, after the census date, changes it again to
    # physical abuse: the census for 2025-26 reports what was in force on 31 March.
    # Zara's plan changed category only in the year: her latest category is today's.
    noah, zara = council.child(), council.child()
    plans = {}
    for child, changes in (
        (
            noah,
            [(date(2025, 9, 30), CategoryOfAbuse.EMO), (date(2026, 4, 10), CategoryOfAbuse.PHY)],
        ),
        (zara, [(date(2025, 10, 1), CategoryOfAbuse.SAB)]),
    ):
        case = council.episode(child, referred=date(2025, 6, 1))
        plan = council.cp_plan(case, start=date(2025, 7, 1), latest=changes[-1][1])
        for held, category in changes:
            council.conference(case, ConferenceKind.review, held, plan=plan, category=category)
        plans[child.id] = plan

    root = census(db, settings)

    def latest(child: Person) -> str | None:
        element = child_in(root, child)
        assert element is not None
        return element.findtext("CINdetails/ChildProtectionPlans/LatestCategoryOfAbuse")

    assert latest(noah) == "EMO"  # not PHY: that came in April
    assert latest(zara) == "SAB"
    assert plans[noah.id].latest_category is CategoryOfAbuse.PHY  # the record itself is current


def test_an_unborn_child_has_an_expected_date_of_birth_and_sex_u(
    council: Council, db: Session, settings: Settings
) -> None:
    # A midwife refers Noah before he is born, due 1 June 2026 (CIN 8750, 8606).
    noah = council.child(born=None, expected=date(2026, 6, 1), sex=Sex.UNKNOWN)
    council.episode(noah, referred=date(2026, 2, 2), need=PrimaryNeed.FAMILY_IN_ACUTE_STRESS)

    child = child_in(census(db, settings), noah)

    assert child is not None
    ids = child.find("ChildIdentifiers")
    assert ids is not None
    assert [(e.tag, e.text) for e in ids] == [
        ("LAchildID", noah.la_child_id),
        ("UPNunknown", "UN1"),  # under school age
        ("ExpectedPersonBirthDate", "2026-06-01"),
        ("Sex", "U"),
    ]


def test_a_child_born_after_the_census_date_is_still_unborn_in_that_census(
    council: Council, db: Session, settings: Settings
) -> None:
    # Lily was referred unborn in February 2026 and born on 2 April: as at 31 March 2026 she was
    # unborn, so the 2026 census (generated later) still shows her expected date and Sex U.
    lily = council.child(born=date(2026, 4, 2), expected=date(2026, 4, 10))
    council.episode(lily, referred=date(2026, 2, 2))

    child = child_in(census(db, settings), lily)

    assert child is not None
    assert child.findtext("ChildIdentifiers/PersonBirthDate") is None
    assert child.findtext("ChildIdentifiers/ExpectedPersonBirthDate") == "2026-04-10"
    assert child.findtext("ChildIdentifiers/Sex") == "U"


def test_a_referral_with_no_further_action_is_flagged_and_closed(
    council: Council, db: Session, settings: Settings
) -> None:
    # A school refers Theo (aged 10, no UPN on record); the referral is closed the same day with
    # no further action: CIN ReferralNFA true, closed RC7, and UPN unknown UN7 (CIN 8772).
    theo = council.child(born=date(2015, 9, 1))
    council.episode(
        theo,
        referred=date(2025, 11, 3),
        closed=date(2025, 11, 3),
        reason=ReasonForClosure.SERVICES_CEASED,
        nfa=True,
        source=ReferralSource.SCHOOL,
    )

    child = child_in(census(db, settings), theo)

    assert child is not None
    assert child.findtext("ChildIdentifiers/UPNunknown") == "UN7"
    details = child.find("CINdetails")
    assert details is not None
    assert [(e.tag, e.text) for e in details] == [
        ("CINreferralDate", "2025-11-03"),
        ("ReferralSource", "2A"),
        ("PrimaryNeedCode", "N1"),
        ("CINclosureDate", "2025-11-03"),
        ("ReasonForClosure", "RC7"),
        ("ReferralNFA", "true"),
    ]


def test_a_cin_plan_and_its_closure_are_written_after_the_assessment(
    council: Council, db: Session, settings: Settings
) -> None:
    # Omar's assessment (authorised 15 September 2025) leads to a CIN plan from that day; the
    # plan ends and the case closes on 2 February 2026 (RC7, services ceased). An assessment
    # still open at the census date has no authorisation date and no factors yet.
    omar = council.child(upn="A330123456789")
    case = council.episode(
        omar,
        referred=date(2025, 8, 1),
        closed=date(2026, 2, 2),
        reason=ReasonForClosure.SERVICES_CEASED,
    )
    council.assessment(case, started=date(2025, 8, 4), authorised=date(2025, 9, 15), factors=["1B"])
    db.add(
        CINPlan(
            case_id=case.id,
            child_id=omar.id,
            state="ended",
            start_date=date(2025, 9, 15),
            end_date=date(2026, 2, 2),
        )
    )
    sister = council.child()
    open_case = council.episode(sister, referred=date(2026, 3, 2))
    council.assessment(open_case, started=date(2026, 3, 3), authorised=None, factors=["1B"])
    db.flush()

    root = census(db, settings)

    details = child_in(root, omar).find("CINdetails")  # type: ignore[union-attr]
    assert details is not None
    assert tags(details) == [
        "CINreferralDate",
        "ReferralSource",
        "PrimaryNeedCode",
        "CINclosureDate",
        "ReasonForClosure",
        "Assessments",
        "CINPlanDates",
        "ReferralNFA",
    ]
    assert [(e.tag, e.text) for e in details.find("CINPlanDates")] == [  # type: ignore[union-attr]
        ("CINPlanStartDate", "2025-09-15"),
        ("CINPlanEndDate", "2026-02-02"),
    ]
    assessment = child_in(root, sister).find("CINdetails/Assessments")  # type: ignore[union-attr]
    assert assessment is not None
    assert [(e.tag, e.text) for e in assessment] == [
        ("AssessmentActualStartDate", "2026-03-03"),
    ]


def test_episodes_outside_the_year_are_left_out(
    council: Council, db: Session, settings: Settings
) -> None:
    # Ella's episode closed on 31 March 2025, the day before the year began; Finn was referred on
    # 1 April 2026, the day after it ended. Grace's episode closed on 1 April 2025: in the year.
    ella = council.child()
    council.episode(
        ella,
        referred=date(2024, 6, 1),
        closed=date(2025, 3, 31),
        reason=ReasonForClosure.SERVICES_CEASED,
    )
    finn = council.child()
    council.episode(finn, referred=date(2026, 4, 1))
    grace = council.child()
    council.episode(
        grace,
        referred=date(2024, 6, 1),
        closed=date(2025, 4, 1),
        reason=ReasonForClosure.SERVICES_CEASED,
    )

    root = census(db, settings)

    assert child_in(root, ella) is None
    assert child_in(root, finn) is None
    grace_child = child_in(root, grace)
    assert grace_child is not None
    assert grace_child.findtext("CINdetails/CINclosureDate") == "2025-04-01"


def test_a_year_with_no_children_in_need_is_a_valid_empty_return(
    db: Session, settings: Settings
) -> None:
    root = census(db, settings, year=2001)

    assert tags(root) == ["Header", "Children"]
    assert tags(root.find("Children")) == []  # type: ignore[arg-type]
    header = root.find("Header")
    assert header is not None
    assert [(e.tag, e.text) for e in header.iter() if e.text and e.text.strip()] == [
        ("Collection", "CIN"),
        ("Year", "2001"),
        ("ReferenceDate", "2001-03-31"),
        ("SourceLevel", "L"),
        ("LEA", settings.la_code),
        ("SoftwareCode", settings.software_code),
        ("Release", settings.software_release),
        ("SerialNo", "1"),
        ("DateTime", "2026-04-20T09:30:00"),
    ]


def test_restricted_children_are_returned_in_la_child_id_order_and_a_rerun_is_identical(
    council: Council, db: Session, settings: Settings
) -> None:
    # The census is statutory: a restricted record (a staff member's child) is returned too.
    second = council.child(la_id="ZZ-ORDER-2", restricted=True)
    first = council.child(la_id="ZZ-ORDER-1")
    for person in (second, first):
        council.episode(person, referred=date(2025, 8, 1))

    with clock.frozen_at(GENERATED_AT):
        once = build_cin_census(db, year=YEAR, settings=settings)
        again = build_cin_census(db, year=YEAR, settings=settings)

    assert once == again
    order = [
        e.text
        for e in ET.fromstring(once).iterfind("Children/Child/ChildIdentifiers/LAchildID")  # noqa: S314
    ]
    assert [x for x in order if x and x.startswith("ZZ-ORDER")] == ["ZZ-ORDER-1", "ZZ-ORDER-2"]
    assert order == sorted(order, key=lambda x: x or "")
