"""Stories of child and family assessments: drafted, the child seen, submitted, returned,
authorised by a manager who is not the author, and what each outcome does to the case."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.assessments import service as assessment_service
from app.calendar import add_working_days
from app.deadlines.service import deadline_status
from app.models import AccessLog, Case, CaseEvent, DeadlineStatus, Role
from app.models.assessments import Assessment, AssessmentOutcome
from app.models.cin import CINPlan
from app.models.security import RestrictedAccessGrant
from tests.assessments.factories import (
    Cast,
    assessment_deadline,
    at,
    make_unborn,
    principal,
    referred_case,
)
from tests.factories import auth_headers, make_child

REFERRAL = date(2025, 11, 3)  # a Monday


def _start(client: TestClient, headers: dict[str, str], case: Case, **body: Any) -> Any:
    response = client.post(f"/api/v1/cases/{case.id}/assessments", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response


def _with(headers: dict[str, str], response: Any) -> dict[str, str]:
    return {**headers, "If-Match": response.headers["ETag"]}


def test_an_assessment_is_written_returned_resubmitted_and_authorised_into_a_cin_plan(
    client: TestClient, db: Session, cast: Cast
) -> None:
    """The worker sees the child twice (once alone), records domestic abuse and a parent's mental
    health, submits; the manager returns it for more analysis, then authorises a CIN plan."""
    case = referred_case(db, cast, referral_on=REFERRAL)
    worker = auth_headers(db, cast.social_worker)
    manager = auth_headers(db, cast.manager)
    with clock.frozen_at(at(date(2025, 11, 5))):
        started = _start(client, worker, case, start_date="2025-11-04", summary_of_needs="Draft")
        assessment_id = started.json()["id"]
        assert started.json()["due_date"] == "2026-01-08"  # 45 working days from 3 November
        assert started.json()["state"] == "in_progress"
    url = f"/api/v1/assessments/{assessment_id}"
    with clock.frozen_at(at(date(2025, 11, 12))):
        for seen_date, alone in (("2025-11-06", False), ("2025-11-12", True)):
            seen = client.post(
                f"{url}/seen", json={"seen_date": seen_date, "seen_alone": alone}, headers=worker
            )
            assert seen.status_code == 201, seen.text
        saved = client.patch(
            url,
            json={"factors": ["3A", "4B"], "analysis": "Mother's depression; DA incidents."},
            headers=_with(worker, seen),
        )
        assert saved.status_code == 200, saved.text
        body = saved.json()
        assert [f["code"] for f in body["factors"]] == ["3A", "4B"]
        assert body["factors"][0]["label"].startswith("Domestic abuse")
        assert [s["seen_alone"] for s in body["seen"]] == [False, True]
        submitted = client.post(f"{url}/submit", headers=_with(worker, saved))
        assert submitted.status_code == 200, submitted.text
        assert submitted.json()["submitted_date"] == "2025-11-12"
    with clock.frozen_at(at(date(2025, 11, 14))):
        returned = client.post(
            f"{url}/return",
            json={"comments": "Say more about the father's role."},
            headers=_with(manager, submitted),
        )
        assert returned.status_code == 200, returned.text
        assert returned.json()["state"] == "in_progress"
        assert returned.json()["manager_comments"] == "Say more about the father's role."
    with clock.frozen_at(at(date(2025, 11, 17))):
        resaved = client.patch(
            url, json={"analysis": "Father now engaged."}, headers=_with(worker, returned)
        )
        resubmitted = client.post(f"{url}/submit", headers=_with(worker, resaved))
        assert resubmitted.json()["state"] == "submitted"
    with clock.frozen_at(at(date(2025, 11, 19))):
        got = client.get(url, headers=manager)
        assert [e["event"] for e in got.json()["allowed_events"]] == ["authorise", "return"]
        authorised = client.post(
            f"{url}/authorise",
            json={"outcome": "cin_plan", "comments": "Agreed: a CIN plan."},
            headers=_with(manager, got),
        )
    assert authorised.status_code == 200, authorised.text
    assert authorised.json()["state"] == "authorised"
    assert authorised.json()["outcome"] == "cin_plan"
    assert authorised.json()["authorised_by_id"] == str(cast.manager.id)
    assert authorised.json()["allowed_events"] == []
    db.refresh(case)
    assert case.state == "cin_plan"
    plan = db.scalar(select(CINPlan).where(CINPlan.case_id == case.id))
    assert plan is not None
    assert (plan.state, plan.start_date) == ("active", date(2025, 11, 19))
    deadline = assessment_deadline(db, case)
    assert deadline.met_date == date(2025, 11, 19)
    assert deadline_status(deadline, date(2025, 11, 19)) is DeadlineStatus.met
    actions = list(
        db.scalars(
            select(CaseEvent.action)
            .where(CaseEvent.case_id == case.id, CaseEvent.subject_type == "assessment")
            .order_by(CaseEvent.seq)
        )
    )
    assert actions == [
        "assessment_started",
        "child_seen",
        "child_seen",
        "submit",
        "return",
        "submit",
        "authorise",
    ]


def test_a_manager_cannot_authorise_their_own_assessment(
    client: TestClient, db: Session, cast: Cast
) -> None:
    case = referred_case(db, cast, referral_on=REFERRAL)
    with clock.frozen_at(at(date(2025, 11, 10))):
        actor = principal(db, cast.manager)
        assessment = assessment_service.assessment_start(
            db, actor=actor, case_id=case.id, start_date=REFERRAL, factors=["16A"]
        )
        assessment_service.assessment_child_seen_add(
            db, actor=actor, assessment_id=assessment.id, seen_date=REFERRAL, seen_alone=True
        )
        assessment_service.assessment_submit(
            db, actor=actor, assessment_id=assessment.id, expected_version=assessment.version
        )
        headers = auth_headers(db, cast.manager)
        got = client.get(f"/api/v1/assessments/{assessment.id}", headers=headers)
        assert "authorise" not in [e["event"] for e in got.json()["allowed_events"]]
        refused = client.post(
            f"/api/v1/assessments/{assessment.id}/authorise",
            json={"outcome": "no_further_action", "comments": "Fine."},
            headers=_with(headers, got),
        )
    assert refused.status_code == 403
    assert "you cannot authorise your own assessment" in refused.json()["detail"].lower()
    db.refresh(assessment)
    assert assessment.state == "submitted"


def test_a_social_worker_may_not_authorise_at_all(
    client: TestClient, db: Session, cast: Cast
) -> None:
    refused = client.post(
        f"/api/v1/assessments/{uuid.uuid4()}/authorise",
        json={"outcome": "cin_plan", "comments": "Me"},
        headers={**auth_headers(db, cast.colleague), "If-Match": '"1"'},
    )
    assert refused.status_code == 403
    assert "assessment:authorise" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("factors", "named"),
    [
        (["21", "3A"], "21"),
        (["3A", "99Z"], "99Z"),
        (["18A"], "18A"),  # the DfE retired 18A: 18B or 18C
    ],
)
def test_factors_are_dfe_codes_and_no_factors_stands_alone(
    client: TestClient, db: Session, cast: Cast, factors: list[str], named: str
) -> None:
    case = referred_case(db, cast, referral_on=REFERRAL)
    with clock.frozen_at(at(date(2025, 11, 5))):
        response = client.post(
            f"/api/v1/cases/{case.id}/assessments",
            json={"start_date": "2025-11-04", "factors": factors},
            headers=auth_headers(db, cast.social_worker),
        )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "factors"
    assert named in response.json()["detail"]


def _authorise_on(
    db: Session, cast: Cast, case: Case, day: date, outcome: AssessmentOutcome
) -> Assessment:
    with clock.frozen_at(at(day)):
        worker = principal(db, cast.social_worker)
        assessment = assessment_service.assessment_start(
            db, actor=worker, case_id=case.id, start_date=REFERRAL, factors=["21"]
        )
        assessment_service.assessment_child_seen_add(
            db, actor=worker, assessment_id=assessment.id, seen_date=day, seen_alone=False
        )
        assessment_service.assessment_submit(
            db, actor=worker, assessment_id=assessment.id, expected_version=assessment.version
        )
        return assessment_service.assessment_authorise(
            db,
            actor=principal(db, cast.manager),
            assessment_id=assessment.id,
            expected_version=assessment.version,
            outcome=outcome,
            comments="Agreed.",
        )


def test_an_assessment_authorised_46_working_days_after_the_referral_missed_its_deadline(
    db: Session, cast: Cast
) -> None:
    case = referred_case(db, cast, referral_on=REFERRAL)
    late = add_working_days(REFERRAL, 46)
    _authorise_on(db, cast, case, late, AssessmentOutcome.strategy_discussion)
    deadline = assessment_deadline(db, case)
    assert deadline.met_date == late
    assert deadline_status(deadline, late) is DeadlineStatus.missed
    db.refresh(case)
    assert case.state == "protection"


def test_a_referral_on_1_december_2025_is_due_on_5_february_2026(db: Session, cast: Cast) -> None:
    """45 working days across Christmas Day, Boxing Day and New Year's Day (three weekday bank
    holidays) from Monday 1 December 2025 (day 0) is Thursday 5 February 2026."""
    case = referred_case(db, cast, referral_on=date(2025, 12, 1))
    deadline = assessment_deadline(db, case)
    assert (deadline.start_date, deadline.due_date) == (date(2025, 12, 1), date(2026, 2, 5))
    with clock.frozen_at(at(date(2025, 12, 2))):
        assessment = assessment_service.assessment_start(
            db,
            actor=principal(db, cast.social_worker),
            case_id=case.id,
            start_date=date(2025, 12, 2),
        )
    assert assessment.due_date == date(2026, 2, 5)
    assert add_working_days(date(2025, 12, 1), 45) == date(2026, 2, 5)


def test_authorised_on_the_due_date_is_on_time_and_a_looked_after_outcome_moves_the_case(
    db: Session, cast: Cast
) -> None:
    case = referred_case(db, cast, referral_on=REFERRAL)
    due = assessment_deadline(db, case).due_date
    assessment = _authorise_on(db, cast, case, due, AssessmentOutcome.looked_after)
    assert assessment.outcome is AssessmentOutcome.looked_after
    assert deadline_status(assessment_deadline(db, case), due) is DeadlineStatus.met
    db.refresh(case)
    assert case.state == "looked_after"


@pytest.mark.parametrize(
    ("outcome", "reason"),
    [(AssessmentOutcome.no_further_action, "RC8"), (AssessmentOutcome.early_help, "RC9")],
)
def test_no_further_action_and_early_help_close_the_case_after_assessment(
    db: Session, cast: Cast, outcome: AssessmentOutcome, reason: str
) -> None:
    case = referred_case(db, cast, referral_on=REFERRAL)
    _authorise_on(db, cast, case, date(2025, 12, 1), outcome)
    db.refresh(case)
    assert (case.state, case.closed_date) == ("closed", date(2025, 12, 1))
    assert case.closure_reason is not None
    assert case.closure_reason.value == reason
    # Authorised on time before the closure stopped the case's clocks.
    assert deadline_status(assessment_deadline(db, case), date(2025, 12, 1)) is DeadlineStatus.met


def test_a_stale_autosave_gets_412_with_the_current_draft_and_changes_nothing(
    client: TestClient, db: Session, cast: Cast
) -> None:
    """Two tabs: the first saves, the second (still on the old version) autosaves."""
    case = referred_case(db, cast, referral_on=REFERRAL)
    headers = auth_headers(db, cast.social_worker)
    with clock.frozen_at(at(date(2025, 11, 5))):
        started = _start(client, headers, case, start_date="2025-11-04")
        url = f"/api/v1/assessments/{started.json()['id']}"
        first = client.patch(
            url, json={"child_views": "I like school."}, headers=_with(headers, started)
        )
        assert first.status_code == 200
        stale = client.patch(
            url, json={"child_views": "Older words."}, headers=_with(headers, started)
        )
    assert stale.status_code == 412
    assert stale.json()["current_version"] == int(first.headers["ETag"].strip('"'))
    assert stale.json()["current"]["child_views"] == "I like school."
    now = client.get(url, headers=headers).json()
    assert now["child_views"] == "I like school."
    assert now["version"] == stale.json()["current_version"]


def test_dates_out_of_order_are_refused_naming_the_field(
    client: TestClient, db: Session, cast: Cast
) -> None:
    case = referred_case(db, cast, referral_on=REFERRAL)
    worker = auth_headers(db, cast.social_worker)
    with clock.frozen_at(at(date(2025, 11, 10))):
        early = client.post(
            f"/api/v1/cases/{case.id}/assessments",
            json={"start_date": "2025-10-31"},
            headers=worker,
        )
        assert early.status_code == 422
        assert early.json()["errors"][0]["field"] == "start_date"
        assert "referral" in early.json()["detail"]
        started = _start(client, worker, case, start_date="2025-11-05", factors=["3A"])
        url = f"/api/v1/assessments/{started.json()['id']}"
        for seen_date in ("2025-11-04", "2025-11-11"):
            seen = client.post(f"{url}/seen", json={"seen_date": seen_date}, headers=worker)
            assert seen.status_code == 422
            assert seen.json()["errors"][0]["field"] == "seen_date"
        not_ready = client.post(f"{url}/submit", headers=_with(worker, started))
        assert not_ready.status_code == 409
        assert "seen" in not_ready.json()["detail"]
        client.post(f"{url}/seen", json={"seen_date": "2025-11-06"}, headers=worker)
        submitted = client.post(
            f"{url}/submit",
            headers={**worker, "If-Match": client.get(url, headers=worker).headers["ETag"]},
        )
        assert submitted.status_code == 200
        backdated = client.post(
            f"{url}/authorise",
            json={"outcome": "cin_plan", "comments": "Ok", "authorised_date": "2025-11-07"},
            headers=_with(auth_headers(db, cast.manager), submitted),
        )
    assert backdated.status_code == 422
    assert backdated.json()["errors"][0]["field"] == "authorised_date"
    assert "submitted" in backdated.json()["detail"]


def test_one_assessment_in_progress_per_case(client: TestClient, db: Session, cast: Cast) -> None:
    case = referred_case(db, cast, referral_on=REFERRAL)
    headers = auth_headers(db, cast.social_worker)
    with clock.frozen_at(at(date(2025, 11, 5))):
        _start(client, headers, case)
        second = client.post(f"/api/v1/cases/{case.id}/assessments", json={}, headers=headers)
    assert second.status_code == 409
    assert "8896" in second.json()["detail"]


def test_an_assessment_starts_only_while_the_case_is_assessing(
    client: TestClient, db: Session, cast: Cast
) -> None:
    case = referred_case(db, cast, referral_on=REFERRAL, state="referral")
    with clock.frozen_at(at(date(2025, 11, 5))):
        response = client.post(
            f"/api/v1/cases/{case.id}/assessments",
            json={},
            headers=auth_headers(db, cast.social_worker),
        )
    assert response.status_code == 409


def test_another_teams_worker_cannot_start_or_change_the_assessment(
    client: TestClient, db: Session, cast: Cast
) -> None:
    case = referred_case(db, cast, referral_on=REFERRAL)
    with clock.frozen_at(at(date(2025, 11, 5))):
        started = _start(client, auth_headers(db, cast.social_worker), case)
        outsider = auth_headers(db, cast.other_social_worker)
        start = client.post(f"/api/v1/cases/{case.id}/assessments", json={}, headers=outsider)
        save = client.patch(
            f"/api/v1/assessments/{started.json()['id']}",
            json={"analysis": "x"},
            headers=_with(outsider, started),
        )
        read = client.get(f"/api/v1/assessments/{started.json()['id']}", headers=outsider)
    assert (start.status_code, save.status_code) == (403, 403)
    assert read.status_code == 200
    assert read.json()["allowed_events"] == []


def test_a_restricted_childs_assessment_is_not_found_and_reads_are_logged(
    client: TestClient, db: Session, cast: Cast
) -> None:
    child = make_child(db, first_name="Rae", restricted=True)
    for user in (cast.social_worker, cast.manager):
        db.add(RestrictedAccessGrant(person_id=child.id, user_id=user.id, granted_by_id=user.id))
    db.flush()
    case = referred_case(db, cast, referral_on=REFERRAL, child=child)
    with clock.frozen_at(at(date(2025, 11, 5))):
        started = _start(client, auth_headers(db, cast.social_worker), case)
    url = f"/api/v1/assessments/{started.json()['id']}"
    assert client.get(url, headers=auth_headers(db, cast.colleague)).status_code == 404
    named = client.get(url, headers=auth_headers(db, cast.manager))
    assert named.status_code == 200
    logged = db.scalars(
        select(AccessLog.resource).where(
            AccessLog.person_id == child.id, AccessLog.user_id == cast.manager.id
        )
    )
    assert "assessment" in list(logged)


def test_an_unborn_childs_assessment_is_submitted_without_a_date_seen(
    db: Session, cast: Cast
) -> None:
    unborn = make_unborn(db, expected=date(2026, 2, 1))
    case = referred_case(db, cast, referral_on=REFERRAL, child=unborn)
    with clock.frozen_at(at(date(2025, 11, 10))):
        worker = principal(db, cast.social_worker)
        assessment = assessment_service.assessment_start(
            db, actor=worker, case_id=case.id, start_date=REFERRAL, factors=["1B"]
        )
        assessment_service.assessment_submit(
            db, actor=worker, assessment_id=assessment.id, expected_version=assessment.version
        )
    assert assessment.state == "submitted"


def test_the_authorise_permission_belongs_to_managers() -> None:
    from app.security.policy import PERMISSIONS

    assert PERMISSIONS["assessment:authorise"] == {Role.team_manager, Role.service_manager}
