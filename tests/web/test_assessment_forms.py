"""From referral to plan on the web pages: the worker decides the referral and starts an
assessment, records the child seen and submits it; the manager (never the author) authorises it
with a child in need outcome and the plan starts. Each form refuses what the services refuse
with the GOV.UK error summary and writes nothing; a stale form gets "someone else has changed
this record"; another team's worker is offered nothing and refused if they post anyway."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from app import clock
from app.assessments import service as assessment_service
from app.cases import service as case_service
from app.core_types import PrimaryNeed, ReferralSource
from app.models import Case
from app.models.assessments import Assessment, AssessmentChildSeen
from app.models.cin import CINPlan
from app.models.drafts import FormDraft
from app.models.frontdoor import Referral, ReferralDecision
from app.referrals import service as referral_service
from app.referrals.schemas import ReferralCreate
from app.web.drafts import draft_save
from tests.care.factories import noon, principal
from tests.factories import make_child
from tests.web.helpers import TODAY, WebCast, hidden_csrf, web_sign_in
from tests.web.test_query_counts import _others, _statements

# Many page stories: one app for the module, each story on its own rolled-back connection.
pytestmark = pytest.mark.shared_app

REFERRED = date(2026, 2, 23)


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    with clock.frozen_at(noon(TODAY)):
        yield


@dataclass
class Story:
    case: Case
    referral: Referral


def _referred(db: Session, cast: WebCast, *, first_name: str = "Ava") -> Story:
    """A referral made directly to the worker's team a week ago (the case at referral)."""
    child = (
        cast.care.child
        if first_name == "Ava"
        else make_child(db, first_name=first_name, last_name="Example")
    )
    with clock.frozen_at(noon(REFERRED)):
        referral = referral_service.referral_create(
            db,
            actor=principal(db, cast.manager),
            data=ReferralCreate(
                child_id=child.id,
                team_id=cast.care.team.id,
                referral_date=REFERRED,
                source=ReferralSource("2A"),
                primary_need=PrimaryNeed("N1"),
                worker_id=cast.worker.id,
            ),
        )
    db.commit()
    case = db.get(Case, referral.case_id)
    assert case is not None
    return Story(case=case, referral=referral)


def _assessing(db: Session, cast: WebCast, *, first_name: str = "Ava") -> Story:
    story = _referred(db, cast, first_name=first_name)
    referral_service.referral_decide(
        db,
        actor=principal(db, cast.worker),
        referral_id=story.referral.id,
        expected_version=story.referral.version,
        decision=ReferralDecision.assessment,
        reason="Bruising and hunger reported by the school.",
    )
    db.commit()
    return story


def _assessment(db: Session, cast: WebCast, story: Story, *, seen: int = 0) -> Assessment:
    actor = principal(db, cast.worker)
    assessment = assessment_service.assessment_start(
        db, actor=actor, case_id=story.case.id, start_date=REFERRED, factors=["16A"]
    )
    for n in range(seen):
        assessment_service.assessment_child_seen_add(
            db,
            actor=actor,
            assessment_id=assessment.id,
            seen_date=date(2026, 2, 24 + n % 4),
            seen_alone=False,
        )
    db.commit()
    return assessment


def _count(db: Session, model: type) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model)) or 0


# --- the referral decision ---------------------------------------------------------------------


def test_the_worker_decides_on_an_assessment_and_the_case_moves(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    story = _referred(db, cast)
    web_sign_in(client, cast.worker)
    page = client.get(f"/cases/{story.case.id}/referral")
    assert page.status_code == 200
    assert "Ava Example" in page.text
    assert f'href="/children/{cast.care.child.id}"' in page.text  # the back link
    assert "Child and family assessment" in page.text
    decided = client.post(
        f"/cases/{story.case.id}/referral",
        data={
            "csrf_token": hidden_csrf(page.text),
            "version": str(story.referral.version),
            "decision": "assessment",
            "reason": "The school's account meets the threshold for an assessment.",
        },
    )
    assert decided.status_code == 200, decided.text
    assert "The referral decision has been saved." in decided.text
    assert f'href="/cases/{story.case.id}/assessments/new"' in decided.text
    db.expire_all()
    assert db.get(Case, story.case.id).state == "assessment"  # type: ignore[union-attr]


def test_a_referral_decision_without_a_reason_or_from_a_stale_form_is_refused(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    story = _referred(db, cast)
    csrf = web_sign_in(client, cast.worker)
    form = {"csrf_token": csrf, "version": str(story.referral.version), "decision": "assessment"}
    refused = client.post(f"/cases/{story.case.id}/referral", data=form)
    assert refused.status_code == 422
    assert 'href="#reason"' in refused.text
    stale = client.post(
        f"/cases/{story.case.id}/referral",
        data=form | {"reason": "Threshold met.", "version": str(story.referral.version + 5)},
    )
    assert stale.status_code == 412
    assert "someone changed it since you loaded it" in stale.text
    db.expire_all()
    assert db.get(Case, story.case.id).state == "referral"  # type: ignore[union-attr]
    assert db.get(Referral, story.referral.id).decision is None  # type: ignore[union-attr]


def test_another_teams_worker_is_offered_no_decision_and_refused(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    story = _referred(db, cast)
    csrf = web_sign_in(client, cast.care.other_social_worker)
    page = client.get(f"/cases/{story.case.id}/referral")
    assert page.status_code == 200
    assert "Save decision" not in page.text
    refused = client.post(
        f"/cases/{story.case.id}/referral",
        data={
            "csrf_token": csrf,
            "version": str(story.referral.version),
            "decision": "no_further_action",
            "reason": "Not ours to decide.",
        },
    )
    assert refused.status_code == 403
    db.expire_all()
    assert db.get(Referral, story.referral.id).decision is None  # type: ignore[union-attr]
    assert client.get(f"/cases/{uuid.uuid4()}/referral").status_code == 404


# --- starting and writing the assessment -------------------------------------------------------


def test_the_worker_starts_an_assessment_with_factors_from_a_restored_draft(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    story = _assessing(db, cast)
    path = f"/cases/{story.case.id}/assessments/new"
    draft_save(
        db,
        user_id=cast.worker.id,
        form_path=path,
        title="Assessment for Ava",
        data={"summary_of_needs": "Ava needs a settled routine.", "factors": ["16A", "3B"]},
        saved_by="autosave",
    )
    db.commit()
    csrf = web_sign_in(client, cast.worker)
    page = client.get(path)
    assert page.status_code == 200
    assert "Restored from a draft saved at" in page.text
    assert "Ava needs a settled routine." in page.text
    assert 'data-autosave data-draft-title="Assessment for Ava"' in page.text
    assert 'value="16A" checked' in page.text
    started = client.post(
        path,
        data={
            "csrf_token": csrf,
            "start_date-day": "24",
            "start_date-month": "2",
            "start_date-year": "2026",
            "summary_of_needs": "Ava needs a settled routine.",
            "factors": ["16A", "3B"],
        },
    )
    assert started.status_code == 200, started.text
    assert "The assessment has been started." in started.text
    assessment = db.scalars(select(Assessment)).one()
    assert assessment.factors == ["16A", "3B"]
    assert assessment.start_date == date(2026, 2, 24)
    assert _count(db, FormDraft) == 0  # saved: the draft is thrown away


def test_an_assessment_with_factor_21_and_others_is_refused_and_nothing_is_written(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    story = _assessing(db, cast)
    csrf = web_sign_in(client, cast.worker)
    refused = client.post(
        f"/cases/{story.case.id}/assessments/new",
        data={"csrf_token": csrf, "factors": ["21", "16A"], "analysis": "Typed words"},
    )
    assert refused.status_code == 422
    assert 'href="#factors"' in refused.text
    assert "Typed words" in refused.text
    assert _count(db, Assessment) == 0
    # Someone outside the team may not start one at all.
    csrf = web_sign_in(client, cast.care.other_social_worker)
    outside = client.post(
        f"/cases/{story.case.id}/assessments/new", data={"csrf_token": csrf, "factors": ["16A"]}
    )
    assert outside.status_code == 403
    assert _count(db, Assessment) == 0


def test_the_worker_saves_records_the_child_seen_and_submits(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    story = _assessing(db, cast)
    assessment = _assessment(db, cast, story)
    csrf = web_sign_in(client, cast.worker)
    page = client.get(f"/assessments/{assessment.id}")
    assert "Save draft" in page.text
    assert "Submit for authorisation" in page.text
    assert "Authorise" not in page.text.replace("authorisation", "")
    form = {
        "csrf_token": csrf,
        "version": str(assessment.version),
        "start_date-day": "23",
        "start_date-month": "2",
        "start_date-year": "2026",
        "analysis": "Neglect is the main concern.",
        "factors": ["16A"],
    }
    # Submitting before the child is seen: the machine's guard, and nothing is saved either.
    early = client.post(f"/assessments/{assessment.id}", data=form | {"action": "submit"})
    assert early.status_code == 409
    assert "record at least one date the child was seen" in early.text
    db.expire_all()
    assert db.get(Assessment, assessment.id).analysis is None  # type: ignore[union-attr]
    seen = client.post(
        f"/assessments/{assessment.id}/seen",
        data={
            "csrf_token": csrf,
            "seen_date-day": "25",
            "seen_date-month": "2",
            "seen_date-year": "2026",
            "seen_alone": "true",
        },
    )
    assert "The date the child was seen has been added." in seen.text
    assert "25 February 2026 (seen alone)" in seen.text
    submitted = client.post(f"/assessments/{assessment.id}", data=form | {"action": "submit"})
    assert "The assessment has been submitted for authorisation." in submitted.text
    db.expire_all()
    row = db.get(Assessment, assessment.id)
    assert row is not None
    assert row.state == "submitted"
    assert row.analysis == "Neglect is the main concern."


def test_a_stale_draft_save_and_a_seen_date_before_the_start_are_refused(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    story = _assessing(db, cast)
    assessment = _assessment(db, cast, story)
    csrf = web_sign_in(client, cast.worker)
    form = {
        "csrf_token": csrf,
        "version": str(assessment.version),
        "start_date-day": "23",
        "start_date-month": "2",
        "start_date-year": "2026",
        "analysis": "First words.",
        "factors": ["16A"],
        "action": "save",
    }
    saved = client.post(f"/assessments/{assessment.id}", data=form)
    assert "The assessment draft has been saved." in saved.text
    stale = client.post(f"/assessments/{assessment.id}", data=form | {"analysis": "Lost?"})
    assert stale.status_code == 412
    assert "Lost?" in stale.text  # kept on the page to merge
    db.expire_all()
    assert db.get(Assessment, assessment.id).analysis == "First words."  # type: ignore[union-attr]
    early = client.post(
        f"/assessments/{assessment.id}/seen",
        data={
            "csrf_token": csrf,
            "seen_date-day": "1",
            "seen_date-month": "2",
            "seen_date-year": "2026",
        },
    )
    assert early.status_code == 422
    assert 'href="#seen_date"' in early.text
    assert _count(db, AssessmentChildSeen) == 0


def test_the_manager_authorises_with_a_cin_outcome_and_the_plan_starts(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    story = _assessing(db, cast)
    assessment = _assessment(db, cast, story, seen=1)
    assessment_service.assessment_submit(
        db,
        actor=principal(db, cast.worker),
        assessment_id=assessment.id,
        expected_version=assessment.version,
    )
    db.commit()
    # The author's own page offers no authorisation.
    web_sign_in(client, cast.worker)
    mine = client.get(f"/assessments/{assessment.id}").text
    assert "Waiting for a manager to authorise it." in mine
    csrf = web_sign_in(client, cast.manager)
    page = client.get(f"/assessments/{assessment.id}")
    assert "Return to worker" in page.text
    form = {"csrf_token": csrf, "version": str(assessment.version), "action": "authorise"}
    refused = client.post(f"/assessments/{assessment.id}/authorisation", data=form)
    assert refused.status_code == 422
    assert 'href="#outcome"' in refused.text
    assert 'href="#comments"' in refused.text
    authorised = client.post(
        f"/assessments/{assessment.id}/authorisation",
        data=form | {"outcome": "cin_plan", "comments": "Agreed: a plan for Ava's needs."},
    )
    assert authorised.status_code == 200, authorised.text
    assert "The assessment has been authorised." in authorised.text
    assert "Child in need plan" in authorised.text
    assert "Next review due" in authorised.text
    db.expire_all()
    plan = db.scalars(select(CINPlan).where(CINPlan.case_id == story.case.id)).one()
    assert plan.state == "active"
    # A worker may not authorise at all: the permission, before anything is looked up.
    csrf = web_sign_in(client, cast.care.other_social_worker)
    outside = client.post(
        f"/assessments/{assessment.id}/authorisation",
        data={"csrf_token": csrf, "version": "1", "action": "return", "comments": "No"},
    )
    assert outside.status_code == 403


def test_the_manager_returns_it_to_the_worker_with_comments(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    story = _assessing(db, cast)
    assessment = _assessment(db, cast, story, seen=1)
    assessment_service.assessment_submit(
        db,
        actor=principal(db, cast.worker),
        assessment_id=assessment.id,
        expected_version=assessment.version,
    )
    db.commit()
    csrf = web_sign_in(client, cast.manager)
    returned = client.post(
        f"/assessments/{assessment.id}/authorisation",
        data={
            "csrf_token": csrf,
            "version": str(assessment.version),
            "action": "return",
            "outcome": "cin_plan",
            "comments": "Say more about the father's role.",
        },
    )
    assert "The assessment has been returned to its author." in returned.text
    db.expire_all()
    assert db.get(Assessment, assessment.id).state == "in_progress"  # type: ignore[union-attr]


# --- the CIN plan ------------------------------------------------------------------------------


def test_the_worker_starts_a_cin_plan_and_a_future_start_is_refused(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    story = _assessing(db, cast)
    csrf = web_sign_in(client, cast.worker)
    page = client.get(f"/cases/{story.case.id}/cin-plan")
    assert "Start the plan" in page.text
    future = client.post(
        f"/cases/{story.case.id}/cin-plan",
        data={
            "csrf_token": csrf,
            "start_date-day": "1",
            "start_date-month": "4",
            "start_date-year": "2026",
        },
    )
    assert future.status_code == 422
    assert 'href="#start_date"' in future.text
    assert _count(db, CINPlan) == 0
    started = client.post(
        f"/cases/{story.case.id}/cin-plan",
        data={
            "csrf_token": csrf,
            "start_date-day": "2",
            "start_date-month": "3",
            "start_date-year": "2026",
        },
    )
    assert "The child in need plan has started." in started.text
    assert "2 June 2026" in started.text  # the first review, 3 months on
    assert "Start the plan" not in started.text
    db.expire_all()
    assert db.get(Case, story.case.id).state == "cin_plan"  # type: ignore[union-attr]


def test_another_teams_worker_cannot_start_a_plan(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    story = _assessing(db, cast)
    csrf = web_sign_in(client, cast.care.other_social_worker)
    assert "Start the plan" not in client.get(f"/cases/{story.case.id}/cin-plan").text
    refused = client.post(f"/cases/{story.case.id}/cin-plan", data={"csrf_token": csrf})
    assert refused.status_code == 403
    assert _count(db, CINPlan) == 0


# --- no N+1 ------------------------------------------------------------------------------------


def test_the_pages_run_the_same_selects_however_much_history(
    client: TestClient, db: Session, connection: Connection, cast: WebCast
) -> None:
    small = _assessing(db, cast)
    large = _assessing(db, cast, first_name="Bea")
    few = _assessment(db, cast, small, seen=1)
    many = _assessment(db, cast, large, seen=6)
    actor = principal(db, cast.worker)
    for story in (small, large):
        case = db.get(Case, story.case.id)
        assert case is not None
        case_service.case_transition(
            db, actor=actor, case_id=case.id, event="start_strategy", expected_version=case.version
        )
    db.commit()
    web_sign_in(client, cast.worker)
    for one, other in (
        (f"/assessments/{few.id}", f"/assessments/{many.id}"),
        (f"/cases/{small.case.id}/referral", f"/cases/{large.case.id}/referral"),
        (f"/cases/{small.case.id}/cin-plan", f"/cases/{large.case.id}/cin-plan"),
        (f"/cases/{small.case.id}/assessments/new", f"/cases/{large.case.id}/assessments/new"),
    ):
        a = _statements(connection, client, one)
        b = _statements(connection, client, other)
        assert _others(a) == _others(b), (one, a, b)


def test_the_edit_form_is_restored_from_the_draft_and_saving_discards_it(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    story = _assessing(db, cast)
    assessment = _assessment(db, cast, story)
    path = f"/assessments/{assessment.id}"
    draft_save(
        db,
        user_id=cast.worker.id,
        form_path=path,
        title="Assessment for Ava",
        data={
            "start_date-day": "24",
            "start_date-month": "2",
            "start_date-year": "2026",
            "analysis": "Words typed before the browser closed.",
            "factors": "17A",
        },
        saved_by="autosave",
    )
    db.commit()
    csrf = web_sign_in(client, cast.worker)
    page = client.get(path)
    assert "Restored from a draft saved at" in page.text
    assert "Words typed before the browser closed." in page.text
    assert 'value="17A" checked' in page.text
    assert 'name="start_date-day" type="text" value="24"' in page.text
    saved = client.post(
        path,
        data={
            "csrf_token": csrf,
            "version": str(assessment.version),
            "start_date-day": "24",
            "start_date-month": "2",
            "start_date-year": "2026",
            "analysis": "Words typed before the browser closed.",
            "factors": ["17A"],
            "action": "save",
        },
    )
    assert "The assessment draft has been saved." in saved.text
    assert "Restored from a draft" not in saved.text
    assert _count(db, FormDraft) == 0
    db.expire_all()
    row = db.get(Assessment, assessment.id)
    assert row is not None
    assert row.factors == ["17A"]
