"""The DfE children's social care data API payload: what a council sends the DfE each night.

Stories: a child in need, protected and then looked after is sent as recorded; a delta carries the
children (and only the records) that changed; a restricted record is purged; an empty council sends
a valid empty payload; and the whole demo council validates against our model of the DfE spec.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app import clock
from app.care.codes import LegalStatus, PlacementType, ReasonEpisodeCeased
from app.config import Settings
from app.core_types import CategoryOfAbuse, Ethnicity, PrimaryNeed, ReasonForClosure, ReferralSource
from app.leavingcare.codes import Accommodation, Activity, InTouch
from app.models import Case, Person
from app.models.assessments import Assessment, AssessmentOutcome
from app.models.cin import CINPlan
from app.models.frontdoor import Referral
from app.models.health import SDQRecord
from app.models.leavingcare import LeavingCareContact
from app.models.people import Address
from app.models.permanence import AdoptionDecision, UascStatus
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
from app.referrals import service as referral_service
from app.referrals.schemas import ReferralCreate
from app.returns.csc_api import build_csc_api_payload, cohort_window_start
from app.returns.csc_api_schema import CscApiPayloadInvalid, validate_csc_api_payload
from app.security import access
from tests.care.factories import (
    CareCast,
    bring_into_care,
    cease_care,
    foster_placement,
    make_care_cast,
    noon,
    principal,
)
from tests.factories import make_child
from tests.returns.conftest import DEMO_DAY, DemoWorld

# --- story helpers -----------------------------------------------------------------------------


def _child(db: Session, la_child_id: str, *, first_name: str = "Ava") -> Person:
    """A child known to the council since the end of May 2026, with a UPN and an address."""
    with clock.frozen_at(noon(date(2026, 5, 31))):
        child = make_child(db, first_name=first_name, date_of_birth=date(2015, 5, 1))
        child.la_child_id = la_child_id
        child.upn = "A330123456789"
        child.ethnicity = Ethnicity("WBRI")
        child.disabilities = ["LD", "AUT"]
        db.add(
            Address(
                person_id=child.id,
                line_1="1 Example Road",
                postcode="B15 2TT",
                start_date=date(2015, 5, 1),
            )
        )
        db.flush()
    return child


def _referred(db: Session, cast: CareCast, child: Person, *, on: date) -> Case:
    """A referral straight to children's social care, through the real service, on ``on``."""
    with clock.frozen_at(noon(on)):
        referral = referral_service.referral_create(
            db,
            actor=principal(db, cast.manager),
            data=ReferralCreate(
                child_id=child.id,
                team_id=cast.team.id,
                referral_date=on,
                source=ReferralSource("2A"),
                primary_need=PrimaryNeed("N1"),
                worker_id=cast.social_worker.id,
            ),
        )
    case = db.get(Case, referral.case_id)
    assert case is not None
    return case


def _protected(db: Session, cast: CareCast, child: Person, case: Case) -> dict[str, Any]:
    """An assessment, a s47 enquiry with its initial conference, a CP plan and then a CIN plan,
    recorded as rows with the clock on each day (the read side needs only the record)."""
    with clock.frozen_at(noon(date(2026, 6, 2))):
        assessment = Assessment(
            case_id=case.id,
            child_id=child.id,
            author_id=cast.social_worker.id,
            state="authorised",
            start_date=date(2026, 6, 2),
            factors=["3A", "16A"],
            submitted_date=date(2026, 6, 20),
            authorised_date=date(2026, 6, 22),
            authorised_by_id=cast.manager.id,
            outcome=AssessmentOutcome.strategy_discussion,
        )
        discussion = StrategyDiscussion(
            case_id=case.id,
            child_id=child.id,
            concern_date=date(2026, 6, 22),
            held_date=date(2026, 6, 23),
            format=DiscussionFormat.meeting,
            concerns="Bruising seen at school.",
            is_s47_decided=True,
        )
        db.add_all([assessment, discussion])
        db.flush()
        enquiry = S47Enquiry(
            case_id=case.id,
            child_id=child.id,
            strategy_discussion_id=discussion.id,
            state="concluded",
            start_date=date(2026, 6, 23),
            icpc_target_date=date(2026, 7, 14),
            outcome=S47Outcome.icpc_required,
            concluded_date=date(2026, 7, 1),
        )
        db.add(enquiry)
        db.flush()
        plan = CPPlan(
            case_id=case.id,
            child_id=child.id,
            state="ended",
            start_date=date(2026, 7, 8),
            initial_category=CategoryOfAbuse("PHY"),
            latest_category=CategoryOfAbuse("PHY"),
            end_date=date(2026, 9, 30),
            end_reason="Risk reduced",
        )
        db.add(plan)
        db.flush()
        db.add(
            CPConference(
                kind=ConferenceKind.initial,
                case_id=case.id,
                child_id=child.id,
                s47_enquiry_id=enquiry.id,
                cp_plan_id=plan.id,
                conference_date=date(2026, 7, 8),
                chair="Chair",
                agencies_present=["social_care", "police", "health"],
                is_quorate=True,
                outcome=ConferenceOutcome.cp_plan,
                category=CategoryOfAbuse("PHY"),
            )
        )
        cin_plan = CINPlan(
            case_id=case.id,
            child_id=child.id,
            state="active",
            start_date=date(2026, 9, 30),
        )
        db.add(cin_plan)
        db.flush()
    return {"assessment": assessment, "enquiry": enquiry, "cp_plan": plan, "cin_plan": cin_plan}


def _sent(payload: dict[str, Any], la_child_id: str) -> dict[str, Any] | None:
    return next((c for c in payload["Children"] if c["la_child_id"] == la_child_id), None)


@pytest.fixture
def cast(db: Session) -> CareCast:
    cast = make_care_cast(db)
    # The worker id the DfE receives is the Social Work England registration number.
    cast.social_worker.swe_registration_number = "SW900001"
    db.flush()
    return cast


@pytest.fixture(autouse=True)
def _late_november() -> Iterator[None]:
    with clock.frozen_at(noon(date(2026, 11, 27))):
        yield


# --- an empty council --------------------------------------------------------------------------


def test_a_council_with_no_children_sends_a_valid_empty_payload(
    db: Session, settings: Settings
) -> None:
    payload = build_csc_api_payload(db, since=None, settings=settings)
    assert payload == {"la_code": 330, "Children": []}
    validate_csc_api_payload(payload)


# --- the record as sent ------------------------------------------------------------------------


def test_a_protected_child_is_sent_with_every_record_as_recorded(
    db: Session, cast: CareCast, settings: Settings
) -> None:
    child = _child(db, "CW0001")
    case = _referred(db, cast, child, on=date(2026, 6, 1))
    records = _protected(db, cast, child, case)

    payload = build_csc_api_payload(db, since=None, settings=settings)

    sent = _sent(payload, "CW0001")
    assert sent is not None
    assert sent["mis_child_id"] == str(child.id)
    assert sent["purge"] is False
    assert sent["child_details"] == {
        "unique_pupil_number": "A330123456789",
        "first_name": "Ava",
        "surname": "Example",
        "date_of_birth": "2015-05-01",
        "sex": "F",
        "ethnicity": "WBRI",
        "disabilities": ["AUT", "LD"],
        "postcode": "B15 2TT",
        "uasc_flag": False,
        "purge": False,
    }
    assert "health_and_wellbeing" not in sent  # no SDQ recorded
    [episode] = sent["social_care_episodes"]
    assert episode["social_care_episode_id"] == str(case.id)
    assert episode["referral_date"] == "2026-06-01"
    assert episode["referral_source"] == "2A"
    assert "closure_date" not in episode
    assert "closure_reason" not in episode
    assert (
        episode["care_worker_details"][0]["worker_id"] == cast.social_worker.swe_registration_number
    )
    assert episode["child_and_family_assessments"] == [
        {
            "child_and_family_assessment_id": str(records["assessment"].id),
            "start_date": "2026-06-02",
            "authorisation_date": "2026-06-22",
            "factors": ["16A", "3A"],
            "purge": False,
        }
    ]
    assert episode["section_47_assessments"] == [
        {
            "section_47_assessment_id": str(records["enquiry"].id),
            "start_date": "2026-06-23",
            "icpc_required_flag": True,
            "icpc_date": "2026-07-08",
            "end_date": "2026-07-01",
            "purge": False,
        }
    ]
    assert episode["child_protection_plans"] == [
        {
            "child_protection_plan_id": str(records["cp_plan"].id),
            "start_date": "2026-07-08",
            "end_date": "2026-09-30",
            "purge": False,
        }
    ]
    assert episode["child_in_need_plans"] == [
        {
            "child_in_need_plan_id": str(records["cin_plan"].id),
            "start_date": "2026-09-30",
            "purge": False,
        }
    ]
    assert "child_looked_after_placements" not in episode
    assert episode["purge"] is False


def test_a_looked_after_child_is_sent_with_the_ssda903_episodes_of_the_case(
    db: Session, cast: CareCast, settings: Settings
) -> None:
    child = _child(db, "CW0002")
    case = _referred(db, cast, child, on=date(2026, 3, 2))
    period = bring_into_care(
        db, cast, on=date(2026, 3, 2), case=case, legal_status=LegalStatus.SECTION_20
    )
    cease_care(
        db, cast, period, on=date(2026, 8, 14), reason=ReasonEpisodeCeased.RETURNED_HOME_PLANNED
    )

    sent = _sent(build_csc_api_payload(db, since=None, settings=settings), "CW0002")

    assert sent is not None
    [episode] = sent["social_care_episodes"]
    [placement] = episode["child_looked_after_placements"]
    assert placement["start_date"] == "2026-03-02"
    assert placement["start_reason"] == "S"  # started to be looked after (RNE)
    assert placement["placement_type"] == PlacementType.U6.value
    assert placement["postcode"] == foster_placement().placement_postcode
    assert placement["end_date"] == "2026-08-14"
    assert placement["end_reason"] == ReasonEpisodeCeased.RETURNED_HOME_PLANNED.value
    assert placement["purge"] is False


def test_health_uasc_adoption_and_leaving_care_are_sent_as_recorded(
    db: Session, cast: CareCast, settings: Settings
) -> None:
    child = _child(db, "CW0006")
    case = _referred(db, cast, child, on=date(2025, 9, 1))
    period = bring_into_care(db, cast, on=date(2025, 9, 1), case=case)
    with clock.frozen_at(noon(date(2026, 5, 1))):
        db.add_all(
            [
                UascStatus(
                    child_id=child.id,
                    since_date=date(2025, 9, 1),
                    ceased_date=date(2026, 4, 30),
                    ceased_reason="Granted refugee status",
                ),
                SDQRecord(
                    period_id=period.id,
                    case_id=case.id,
                    child_id=child.id,
                    recorded_by_id=cast.social_worker.id,
                    year_end=date(2026, 3, 31),
                    completed_date=date(2026, 3, 10),
                    score=17,
                ),
                AdoptionDecision(
                    child_id=child.id,
                    case_id=case.id,
                    period_id=period.id,
                    decision_date=date(2026, 2, 1),
                    matched_date=date(2026, 4, 1),
                ),
                LeavingCareContact(
                    child_id=child.id,
                    case_id=case.id,
                    contact_date=date(2026, 4, 20),
                    in_touch=InTouch("YES"),
                    activity=Activity("F1"),
                    accommodation=Accommodation("B1"),
                    recorded_by_id=cast.social_worker.id,
                ),
            ]
        )
        db.flush()

    sent = _sent(build_csc_api_payload(db, since=None, settings=settings), "CW0006")

    assert sent is not None
    assert sent["child_details"]["uasc_flag"] is True
    assert sent["child_details"]["uasc_end_date"] == "2026-04-30"
    assert sent["health_and_wellbeing"] == {
        "sdq_assessments": [{"date": "2026-03-10", "score": 17}],
        "purge": False,
    }
    [episode] = sent["social_care_episodes"]
    assert episode["adoption"] == {
        "initial_decision_date": "2026-02-01",
        "matched_date": "2026-04-01",
        "purge": False,
    }
    assert episode["care_leavers"] == {
        "contact_date": "2026-04-20",
        "activity": "F1",
        "accommodation": "B1",
        "purge": False,
    }
    [placement] = episode["child_looked_after_placements"]
    assert "end_date" not in placement  # still looked after


def test_a_closed_episode_carries_its_closure_and_an_old_one_falls_out_of_the_window(
    db: Session, cast: CareCast, settings: Settings
) -> None:
    recent, old = _child(db, "CW0003"), _child(db, "CW0004", first_name="Bea")
    for child, opened, closed in (
        (recent, date(2026, 5, 1), date(2026, 6, 30)),
        (old, date(2023, 5, 1), date(2023, 6, 30)),
    ):
        case = _referred(db, cast, child, on=opened)
        case.closed_date, case.closure_reason = closed, ReasonForClosure("RC7")
        case.state = "closed"
    db.flush()
    # The DfE window: back 24 months, to 1 April of that financial year.
    assert cohort_window_start(date(2026, 11, 27)) == date(2024, 4, 1)

    payload = build_csc_api_payload(db, since=None, settings=settings)

    sent = _sent(payload, "CW0003")
    assert sent is not None
    [episode] = sent["social_care_episodes"]
    assert (episode["closure_date"], episode["closure_reason"]) == ("2026-06-30", "RC7")
    assert _sent(payload, "CW0004") is None


def test_a_child_without_an_la_child_id_cannot_be_keyed_and_is_not_sent(
    db: Session, cast: CareCast, settings: Settings
) -> None:
    child = _child(db, "CW0005")
    _referred(db, cast, child, on=date(2026, 6, 1))
    child.la_child_id = None
    db.flush()
    assert build_csc_api_payload(db, since=None, settings=settings)["Children"] == []


# --- delta and purge ---------------------------------------------------------------------------


def test_a_delta_carries_the_children_and_the_records_that_changed_since(
    db: Session, cast: CareCast, settings: Settings
) -> None:
    changed, quiet = _child(db, "CW0010"), _child(db, "CW0011", first_name="Bea")
    changed_case = _referred(db, cast, changed, on=date(2026, 6, 1))
    records = _protected(db, cast, changed, changed_case)
    _protected(db, cast, quiet, _referred(db, cast, quiet, on=date(2026, 6, 1)))
    last_night = datetime(2026, 11, 26, 23, 0, tzinfo=UTC)

    # Today the CIN plan of one child ends; nothing else changes.
    with clock.frozen_at(noon(date(2026, 11, 27))):
        plan = records["cin_plan"]
        plan.state, plan.end_date = "ended", date(2026, 11, 27)
        db.flush()

    payload = build_csc_api_payload(db, since=last_night, settings=settings)

    assert [c["la_child_id"] for c in payload["Children"]] == ["CW0010"]
    [sent] = payload["Children"]
    assert sent["child_details"]["date_of_birth"] == "2015-05-01"  # required: always sent
    [episode] = sent["social_care_episodes"]
    assert episode["social_care_episode_id"] == str(changed_case.id)
    assert episode["child_in_need_plans"] == [
        {
            "child_in_need_plan_id": str(plan.id),
            "start_date": "2026-09-30",
            "end_date": "2026-11-27",
            "purge": False,
        }
    ]
    for unchanged in (
        "child_and_family_assessments",
        "section_47_assessments",
        "child_protection_plans",
        "care_worker_details",
    ):
        assert unchanged not in episode
    # A delta from before anything was recorded is the full payload.
    assert build_csc_api_payload(
        db, since=datetime(2020, 1, 1, tzinfo=UTC), settings=settings
    ) == build_csc_api_payload(db, since=None, settings=settings)


def test_a_delta_from_after_the_last_change_is_empty(
    db: Session, cast: CareCast, settings: Settings
) -> None:
    child = _child(db, "CW0012")
    _protected(db, cast, child, _referred(db, cast, child, on=date(2026, 6, 1)))
    after = clock.now() + timedelta(seconds=1)
    assert build_csc_api_payload(db, since=after, settings=settings)["Children"] == []


def test_restricting_a_record_purges_the_child_downstream(
    db: Session, cast: CareCast, settings: Settings
) -> None:
    child = _child(db, "CW0020")
    _protected(db, cast, child, _referred(db, cast, child, on=date(2026, 6, 1)))
    last_night = datetime(2026, 11, 26, 23, 0, tzinfo=UTC)
    assert build_csc_api_payload(db, since=last_night, settings=settings)["Children"] == []

    with clock.frozen_at(noon(date(2026, 11, 27))):
        access.person_restrict(
            db,
            principal=principal(db, cast.iro_manager),
            person_id=child.id,
            user_ids=[cast.social_worker.id],
        )

    marker = {"la_child_id": "CW0020", "mis_child_id": str(child.id), "purge": True}
    assert build_csc_api_payload(db, since=last_night, settings=settings)["Children"] == [marker]
    # A full refresh never sends the restricted record either: only the purge.
    assert build_csc_api_payload(db, since=None, settings=settings)["Children"] == [marker]

    # The next day the restriction is lifted: the DfE deleted the child, so it is sent whole.
    with clock.frozen_at(noon(date(2026, 11, 28))):
        access.person_restriction_lift(
            db, principal=principal(db, cast.iro_manager), person_id=child.id, user_id=None
        )
        payload = build_csc_api_payload(
            db, since=datetime(2026, 11, 27, 23, 0, tzinfo=UTC), settings=settings
        )
        assert payload == build_csc_api_payload(db, since=None, settings=settings)
    [sent] = payload["Children"]
    assert sent["purge"] is False
    [episode] = sent["social_care_episodes"]
    assert episode["child_protection_plans"]  # unchanged since June, sent again all the same


def test_a_since_without_a_time_zone_is_refused(db: Session, settings: Settings) -> None:
    with pytest.raises(ValueError, match="time zone"):
        build_csc_api_payload(db, since=datetime(2026, 11, 26), settings=settings)


# --- the model of the DfE specification ----------------------------------------------------------


def _valid_example() -> dict[str, Any]:
    """A child as the spec's documentation shows one (docs/json_payload_structure.md)."""
    return {
        "la_code": 330,
        "Children": [
            {
                "la_child_id": "Child1234",
                "mis_child_id": "MIS-1234",
                "purge": False,
                "child_details": {
                    "unique_pupil_number": "A123456789012",
                    "date_of_birth": "2015-05-01",
                    "sex": "M",
                    "ethnicity": "WBRI",
                    "disabilities": ["NONE"],
                    "postcode": "B1 1AA",
                    "uasc_flag": False,
                    "purge": False,
                },
                "health_and_wellbeing": {
                    "sdq_assessments": [{"date": "2026-04-01", "score": 17}],
                    "purge": False,
                },
                "social_care_episodes": [
                    {
                        "social_care_episode_id": "Ep-1",
                        "referral_date": "2026-04-01",
                        "referral_source": "1A",
                        "referral_no_further_action_flag": False,
                        "closure_date": "2026-10-01",
                        "closure_reason": "RC4",
                        "care_worker_details": [
                            {"worker_id": "SW123456", "start_date": "2026-04-01"}
                        ],
                        "child_and_family_assessments": [
                            {
                                "child_and_family_assessment_id": "A-1",
                                "start_date": "2026-04-02",
                                "authorisation_date": "2026-05-01",
                                "factors": ["1A", "21"],
                                "purge": False,
                            }
                        ],
                        "child_looked_after_placements": [
                            {
                                "child_looked_after_placement_id": "P-1",
                                "start_date": "2026-05-02",
                                "start_reason": "S",
                                "placement_type": "U1",
                                "postcode": "B2 2BB",
                                "end_date": "2026-10-01",
                                "end_reason": "E41",
                                "change_reason": "CARPL",
                                "purge": False,
                            }
                        ],
                        "adoption": {"initial_decision_date": "2026-06-01", "purge": False},
                        "care_leavers": {
                            "contact_date": "2026-09-01",
                            "activity": "F1",
                            "accommodation": "B1",
                            "purge": False,
                        },
                        "purge": False,
                    }
                ],
            },
            {"la_child_id": "Child5678", "mis_child_id": "MIS-5678", "purge": True},
        ],
    }


def test_the_spec_example_is_valid() -> None:
    model = validate_csc_api_payload(_valid_example())
    assert model.la_code == 330
    assert [c.purge for c in model.children] == [False, True]


def _child0(payload: dict[str, Any]) -> dict[str, Any]:
    child: dict[str, Any] = payload["Children"][0]
    return child


def _episode0(payload: dict[str, Any]) -> dict[str, Any]:
    episode: dict[str, Any] = _child0(payload)["social_care_episodes"][0]
    return episode


BREAKAGES: list[tuple[str, Any, str]] = [
    ("la_code has four digits", lambda p: p.update(la_code=3301), "la_code"),
    ("an id with a space", lambda p: _child0(p).update(la_child_id="Child 1"), "la_child_id"),
    (
        "an id over 36 characters",
        lambda p: _child0(p).update(mis_child_id="x" * 37),
        "mis_child_id",
    ),
    (
        "a purged child still carrying its details",
        lambda p: p["Children"][1].update(child_details=_child0(p)["child_details"]),
        "carries only its identifiers",
    ),
    (
        "a child without details",
        lambda p: _child0(p).pop("child_details"),
        "needs its child_details",
    ),
    (
        "neither a birth date nor an expected one",
        lambda p: _child0(p)["child_details"].pop("date_of_birth"),
        "date of birth",
    ),
    (
        "an impossible date",
        lambda p: _episode0(p).update(referral_date="2026-02-30"),
        "referral_date",
    ),
    (
        "a date written dd/mm/YYYY",
        lambda p: _episode0(p).update(referral_date="01/04/2026"),
        "referral_date",
    ),
    (
        "an unknown referral source",
        lambda p: _episode0(p).update(referral_source="11"),
        "referral_source",
    ),
    (
        "a closure date without its reason (CIN 8805)",
        lambda p: _episode0(p).pop("closure_reason"),
        "closure date and closure reason",
    ),
    ("an unknown field", lambda p: _episode0(p).update(colour="blue"), "colour"),
    (
        "a worker id over 12 characters",
        lambda p: _episode0(p)["care_worker_details"][0].update(worker_id="SW1234567890123"),
        "worker_id",
    ),
    (
        "an SDQ score over 40",
        lambda p: _child0(p)["health_and_wellbeing"]["sdq_assessments"][0].update(score=41),
        "score",
    ),
    (
        "a placement ending before it starts",
        lambda p: _episode0(p)["child_looked_after_placements"][0].update(end_date="2026-05-01"),
        "ends (2026-05-01) before it starts",
    ),
    (
        "the same child twice",
        lambda p: p["Children"][1].update(la_child_id="Child1234"),
        "appears once",
    ),
]


@pytest.mark.parametrize(
    ("breakage", "where"),
    [(b, w) for _, b, w in BREAKAGES],
    ids=[name for name, _, _ in BREAKAGES],
)
def test_a_payload_that_breaks_the_spec_is_refused_saying_where(breakage: Any, where: str) -> None:
    payload = copy.deepcopy(_valid_example())
    breakage(payload)
    with pytest.raises(CscApiPayloadInvalid) as refused:
        validate_csc_api_payload(payload)
    assert where in str(refused.value)


# --- the demo council --------------------------------------------------------------------------


@contextmanager
def _counting(session: Session) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = session.get_bind()

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_the_demo_council_payload_validates_and_matches_the_record(
    demo_session: Session, demo_world: DemoWorld
) -> None:
    with _counting(demo_session) as statements:
        payload = build_csc_api_payload(demo_session, since=None, settings=demo_world.settings)
    # Set-based: one query per kind of record, however many children.
    assert len(statements) <= 20
    validate_csc_api_payload(payload)
    assert payload == build_csc_api_payload(
        demo_session, since=None, settings=demo_world.settings
    )  # deterministic

    children = payload["Children"]
    # The cohort, worked out the long way: children with a referred case open in the window.
    window_start = cohort_window_start(demo_world.today)
    expected = {
        person.la_child_id
        for case, referral, person in demo_session.execute(
            select(Case, Referral, Person)
            .join(Referral, Referral.case_id == Case.id)
            .join(Person, Person.id == Case.child_id)
        )
        if person.la_child_id is not None
        and referral.referral_date <= demo_world.today
        and (case.closed_date is None or case.closed_date >= window_start)
    }
    assert len(expected) > 50
    assert {c["la_child_id"] for c in children} == expected
    ids = [c["la_child_id"] for c in children]
    assert ids == sorted(ids)
    restricted = set(
        demo_session.scalars(select(Person.la_child_id).where(Person.is_restricted.is_(True)))
    )
    for child in children:
        if child["la_child_id"] in restricted:
            assert child == {
                "la_child_id": child["la_child_id"],
                "mis_child_id": child["mis_child_id"],
                "purge": True,
            }
    sent = [c for c in children if not c["purge"]]
    assert any(e.get("child_protection_plans") for c in sent for e in c["social_care_episodes"])
    assert any(
        e.get("child_looked_after_placements") for c in sent for e in c["social_care_episodes"]
    )

    # Every CP plan sent is the plan as recorded.
    plans = {str(p.id): p for p in demo_session.scalars(select(CPPlan))}
    sent_plans = [
        p
        for c in sent
        for e in c["social_care_episodes"]
        for p in e.get("child_protection_plans", [])
    ]
    assert sent_plans
    for item in sent_plans:
        plan = plans[item["child_protection_plan_id"]]
        assert item["start_date"] == plan.start_date.isoformat()
        assert item.get("end_date") == (plan.end_date.isoformat() if plan.end_date else None)
    # Every child sent is the person as recorded.
    people = {str(p.id): p for p in demo_session.scalars(select(Person))}
    for child in sent:
        person = people[child["mis_child_id"]]
        assert child["la_child_id"] == person.la_child_id
        assert child["child_details"]["sex"] == person.sex.value
        assert child["child_details"].get("date_of_birth") == (
            person.date_of_birth.isoformat() if person.date_of_birth else None
        )


def test_the_demo_council_delta_after_loading_is_empty_until_a_child_changes(
    demo_session: Session, demo_world: DemoWorld
) -> None:
    settings = demo_world.settings
    since = DEMO_DAY + timedelta(seconds=1)
    assert build_csc_api_payload(demo_session, since=since, settings=settings)["Children"] == []

    plan = demo_session.scalars(
        select(CPPlan).where(CPPlan.end_date.is_(None)).order_by(CPPlan.start_date, CPPlan.id)
    ).first()
    assert plan is not None
    person = demo_session.get(Person, plan.child_id)
    assert person is not None
    assert not person.is_restricted
    # Two hours later a review conference changes the plan's latest category.
    with clock.frozen_at(DEMO_DAY + timedelta(hours=2)):
        plan.latest_category = next(c for c in CategoryOfAbuse if c != plan.latest_category)
        demo_session.flush()

    payload = build_csc_api_payload(demo_session, since=since, settings=settings)
    [child] = payload["Children"]
    assert child["la_child_id"] == person.la_child_id
    [episode] = child["social_care_episodes"]
    assert [p["child_protection_plan_id"] for p in episode["child_protection_plans"]] == [
        str(plan.id)
    ]
    assert uuid.UUID(child["mis_child_id"]) == person.id
