"""The child-protection journey through the web forms: a strategy discussion with the police and
health decides on a section 47 enquiry, the enquiry concludes that a conference is needed, the
initial conference decides a plan for neglect, and a review conference ends it. Each refusal is
the service's, shown as a GOV.UK error summary with nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.models import Case
from app.models.protection import (
    CPConference,
    CPPlan,
    S47Enquiry,
    StrategyDiscussion,
    StrategyParticipant,
)
from app.security.access import person_restrict
from tests.care.factories import noon
from tests.protection.factories import principal
from tests.web.helpers import web_sign_in
from tests.web.protection_story import (
    CONCLUDED,
    HELD,
    ICPC,
    TODAY,
    WebProtectionCast,
    date_fields,
    discussed,
    enquiry_concluded,
    enquiry_started,
    make_protection_cast,
    on_a_plan,
    post,
    referred,
)

# Many page stories: one app for the module, each story on its own rolled-back connection.
pytestmark = pytest.mark.shared_app


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    with clock.frozen_at(noon(TODAY)):
        yield


@pytest.fixture
def pc(db: Session) -> WebProtectionCast:
    return make_protection_cast(db)


def _count(db: Session, model: type) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model)) or 0


def _discussion_form(**overrides: str) -> dict[str, str]:
    return {
        **date_fields("concern_date", HELD),
        **date_fields("held_date", HELD),
        "format": "meeting",
        "participants-0-agency": "social_care",
        "participants-0-name": "Sam Social Worker",
        "participants-1-agency": "police",
        "participants-1-name": "DC Patel",
        "participants-2-agency": "health",
        "participants-2-name": "Dr Okafor",
        "concerns": "Bruising seen at school; the explanation was inconsistent.",
        "start_s47": "true",
        **overrides,
    }


# --- strategy discussion -------------------------------------------------------------------------


def test_a_strategy_discussion_with_police_and_health_decides_on_an_enquiry(
    client: TestClient, db: Session, pc: WebProtectionCast
) -> None:
    case = referred(db, pc)
    csrf = web_sign_in(client, pc.worker)
    form = client.get(f"/cases/{case.id}/strategy-discussions/new")
    assert form.status_code == 200
    assert 'value="police" selected' in form.text  # the three agencies are there to start with

    saved = post(client, f"/cases/{case.id}/strategy-discussions/new", csrf, _discussion_form())

    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == (
        f"/cases/{case.id}/section-47?notice=strategy_discussion_recorded"
    )
    db.expire_all()
    assert db.get(Case, case.id).state == "protection"  # type: ignore[union-attr]
    discussion = db.scalars(select(StrategyDiscussion)).one()
    agencies = db.scalars(
        select(StrategyParticipant.agency)
        .where(StrategyParticipant.strategy_discussion_id == discussion.id)
        .order_by(StrategyParticipant.position)
    ).all()
    assert [a.value for a in agencies] == ["social_care", "police", "health"]
    page = client.get(saved.headers["location"])
    assert "The strategy discussion has been recorded." in page.text
    assert "Start the section 47 enquiry" in page.text


def test_an_enquiry_decided_without_the_police_is_refused_and_nothing_is_written(
    client: TestClient, db: Session, pc: WebProtectionCast
) -> None:
    case = referred(db, pc)
    csrf = web_sign_in(client, pc.worker)
    refused = post(
        client,
        f"/cases/{case.id}/strategy-discussions/new",
        csrf,
        _discussion_form(**{"participants-1-name": "", "participants-1-agency": ""}),
    )
    assert refused.status_code == 422
    assert "There is a problem" in refused.text
    assert "missing: police" in refused.text
    assert 'href="#participants"' in refused.text
    assert "Dr Okafor" in refused.text  # what was typed is kept
    assert _count(db, StrategyDiscussion) == 0
    assert db.get(Case, case.id).state == "referral"  # type: ignore[union-attr]


def test_an_empty_strategy_discussion_names_each_missing_answer(
    client: TestClient, db: Session, pc: WebProtectionCast
) -> None:
    case = referred(db, pc)
    csrf = web_sign_in(client, pc.worker)
    refused = post(client, f"/cases/{case.id}/strategy-discussions/new", csrf, {})
    assert refused.status_code == 422
    assert "Enter the date the discussion was held" in refused.text
    assert "Select how the discussion was held" in refused.text
    assert "Enter who took part" in refused.text
    assert 'href="#held_date"' in refused.text
    assert _count(db, StrategyDiscussion) == 0


def test_a_participant_without_a_name_is_pointed_at_on_its_own_row(
    client: TestClient, db: Session, pc: WebProtectionCast
) -> None:
    case = referred(db, pc)
    csrf = web_sign_in(client, pc.worker)
    refused = post(
        client,
        f"/cases/{case.id}/strategy-discussions/new",
        csrf,
        _discussion_form(**{"participants-4-role": "Head teacher"}),  # row 5: a role, no name
    )
    assert refused.status_code == 422
    assert 'href="#participants-4-name"' in refused.text
    assert _count(db, StrategyDiscussion) == 0


# --- section 47 ----------------------------------------------------------------------------------


def test_the_enquiry_starts_and_concludes_that_a_conference_is_needed(
    client: TestClient, db: Session, pc: WebProtectionCast
) -> None:
    case = referred(db, pc)
    discussed(db, pc, case)
    csrf = web_sign_in(client, pc.worker)
    discussion = db.scalars(select(StrategyDiscussion)).one()
    started = post(
        client,
        f"/cases/{case.id}/section-47",
        csrf,
        {
            "action": "start",
            "strategy_discussion_id": str(discussion.id),
            **date_fields("start_date", HELD),
        },
    )
    assert started.status_code == 303, started.text
    enquiry = db.scalars(select(S47Enquiry)).one()
    enquiry_started_id = enquiry.id
    page = client.get(f"/cases/{case.id}/section-47")
    assert "Initial conference due by" in page.text
    assert enquiry.icpc_target_date == date(2026, 3, 10)  # 15 working days after 17 February
    assert "10 March 2026" in page.text

    concluded = post(
        client,
        f"/cases/{case.id}/section-47",
        csrf,
        {
            "action": "conclude",
            "s47_id": str(enquiry_started_id),
            "version": "1",
            "outcome": "icpc_required",
            "reason": "Concerns substantiated.",
            **date_fields("concluded_date", CONCLUDED),
        },
    )
    assert concluded.status_code == 303, concluded.text
    assert concluded.headers["location"].startswith(f"/cases/{case.id}/conferences/new")
    db.expire_all()
    assert db.get(S47Enquiry, enquiry_started_id).state == "concluded"  # type: ignore[union-attr]


def test_concluding_from_a_stale_page_is_refused_with_412(
    client: TestClient, db: Session, pc: WebProtectionCast
) -> None:
    case = referred(db, pc)
    s47_id = enquiry_started(db, pc, case)
    csrf = web_sign_in(client, pc.worker)
    stale = post(
        client,
        f"/cases/{case.id}/section-47",
        csrf,
        {
            "action": "conclude",
            "s47_id": str(s47_id),
            "version": "7",
            "outcome": "icpc_required",
            "reason": "Concerns substantiated.",
            **date_fields("concluded_date", CONCLUDED),
        },
    )
    assert stale.status_code == 412
    assert "There is a problem" in stale.text
    assert "someone changed it since you loaded it" in stale.text
    db.expire_all()
    assert db.get(S47Enquiry, s47_id).state == "open"  # type: ignore[union-attr]


def test_concluding_without_an_outcome_or_reason_is_refused(
    client: TestClient, db: Session, pc: WebProtectionCast
) -> None:
    case = referred(db, pc)
    s47_id = enquiry_started(db, pc, case)
    csrf = web_sign_in(client, pc.worker)
    refused = post(
        client,
        f"/cases/{case.id}/section-47",
        csrf,
        {"action": "conclude", "s47_id": str(s47_id), "version": "1"},
    )
    assert refused.status_code == 422
    assert "Select the outcome of the enquiry" in refused.text
    assert "Enter the reason for the outcome" in refused.text
    db.expire_all()
    assert db.get(S47Enquiry, s47_id).state == "open"  # type: ignore[union-attr]


# --- conferences and the plan --------------------------------------------------------------------


def _icpc_form(**overrides: str | list[str]) -> dict[str, str | list[str]]:
    return {
        **date_fields("conference_date", ICPC),
        "chair": "Independent Chair",
        "agencies_present": ["social_care", "police", "health", "education"],
        "outcome": "cp_plan",
        "initial_category": "NEG",
        **overrides,
    }


def test_the_initial_conference_decides_a_plan_for_neglect(
    client: TestClient, db: Session, pc: WebProtectionCast
) -> None:
    case = referred(db, pc)
    enquiry_concluded(db, pc, case)
    csrf = web_sign_in(client, pc.worker)
    form = client.get(f"/cases/{case.id}/conferences/new")
    assert "Record the initial child protection conference" in form.text

    saved = post(client, f"/cases/{case.id}/conferences/new", csrf, _icpc_form())

    assert saved.status_code == 303, saved.text
    conference = db.scalars(select(CPConference)).one()
    assert saved.headers["location"] == f"/conferences/{conference.id}?notice=conference_recorded"
    shown = client.get(saved.headers["location"])
    assert "The conference and its decision have been recorded." in shown.text
    assert "A child protection plan" in shown.text
    assert "Neglect" in shown.text
    plan_page = client.get(f"/cases/{case.id}/cp-plan")
    assert "Active" in plan_page.text
    assert "Neglect" in plan_page.text
    assert "27 February 2026" in plan_page.text
    record = client.get(f"/children/{case.child_id}")
    assert "Child protection: Neglect" in record.text


def test_a_plan_without_a_category_is_refused_and_nothing_is_written(
    client: TestClient, db: Session, pc: WebProtectionCast
) -> None:
    case = referred(db, pc)
    enquiry_concluded(db, pc, case)
    csrf = web_sign_in(client, pc.worker)
    refused = post(
        client,
        f"/cases/{case.id}/conferences/new",
        csrf,
        _icpc_form(initial_category=""),
    )
    assert refused.status_code == 422
    assert "A CP plan needs its initial category of abuse." in refused.text
    assert 'href="#initial_category"' in refused.text
    assert _count(db, CPConference) == 0
    assert _count(db, CPPlan) == 0


def test_a_conference_without_the_police_is_not_quorate(
    client: TestClient, db: Session, pc: WebProtectionCast
) -> None:
    case = referred(db, pc)
    enquiry_concluded(db, pc, case)
    csrf = web_sign_in(client, pc.worker)
    refused = post(
        client,
        f"/cases/{case.id}/conferences/new",
        csrf,
        _icpc_form(agencies_present=["social_care", "health"]),
    )
    assert refused.status_code == 422
    assert "missing: police" in refused.text
    assert _count(db, CPConference) == 0


def _end_form(version: int, **overrides: str) -> dict[str, str | list[str]]:
    return {
        **date_fields("conference_date", TODAY),
        "chair": "Independent Chair",
        "agencies_present": ["social_care", "police", "health"],
        "end_reason": "The risks have reduced; the family engages with support.",
        "next_step": "cin_plan",
        "version": str(version),
        **overrides,
    }


def test_a_review_conference_ends_the_plan_and_a_cin_plan_follows(
    client: TestClient, db: Session, pc: WebProtectionCast
) -> None:
    case = referred(db, pc)
    plan = on_a_plan(db, pc, case)
    csrf = web_sign_in(client, pc.worker)
    page = client.get(f"/cases/{case.id}/cp-plan")
    assert "End the plan" in page.text

    ended = post(client, f"/cases/{case.id}/cp-plan", csrf, _end_form(plan.version))

    assert ended.status_code == 303, ended.text
    db.expire_all()
    assert db.get(CPPlan, plan.id).state == "ended"  # type: ignore[union-attr]
    assert db.get(Case, case.id).state == "cin_plan"  # type: ignore[union-attr]
    assert "The child protection plan has ended." in client.get(ended.headers["location"]).text


def test_ending_the_plan_from_a_stale_page_is_refused_with_412(
    client: TestClient, db: Session, pc: WebProtectionCast
) -> None:
    case = referred(db, pc)
    plan = on_a_plan(db, pc, case)
    csrf = web_sign_in(client, pc.worker)
    stale = post(client, f"/cases/{case.id}/cp-plan", csrf, _end_form(plan.version + 3))
    assert stale.status_code == 412
    assert "There is a problem" in stale.text
    assert _count(db, CPConference) == 1  # the initial conference only
    db.expire_all()
    assert db.get(CPPlan, plan.id).state == "active"  # type: ignore[union-attr]


def test_a_worker_who_closes_the_case_with_the_plan_is_refused_and_nothing_stays_written(
    client: TestClient, db: Session, pc: WebProtectionCast
) -> None:
    """The service writes the review conference and ends the plan before the case machine refuses
    a social worker the closure (a team manager authorises it): the page rolls all of it back."""
    case = referred(db, pc)
    plan = on_a_plan(db, pc, case)
    csrf = web_sign_in(client, pc.worker)
    refused = post(
        client,
        f"/cases/{case.id}/cp-plan",
        csrf,
        _end_form(plan.version, next_step="close", closure_reason="RC7"),
    )
    assert refused.status_code in (403, 409), refused.text
    assert "There is a problem" in refused.text
    assert _count(db, CPConference) == 1
    db.expire_all()
    assert db.get(CPPlan, plan.id).state == "active"  # type: ignore[union-attr]
    assert db.get(Case, case.id).state == "cp_plan"  # type: ignore[union-attr]


def test_a_review_conference_that_continues_the_plan_changes_its_category(
    client: TestClient, db: Session, pc: WebProtectionCast
) -> None:
    case = referred(db, pc)
    plan = on_a_plan(db, pc, case)
    csrf = web_sign_in(client, pc.worker)
    form = client.get(f"/cases/{case.id}/conferences/new")
    assert "Record a review conference" in form.text
    saved = post(
        client,
        f"/cases/{case.id}/conferences/new",
        csrf,
        {
            **date_fields("conference_date", TODAY),
            "chair": "Independent Chair",
            "agencies_present": ["social_care", "police", "health"],
            "outcome": "continue_plan",
            "latest_category": "EMO",
            "end_reason": "left over from changing my mind",
            "version": str(plan.version),
        },
    )
    assert saved.status_code == 303, saved.text
    db.expire_all()
    assert db.get(CPPlan, plan.id).latest_category.value == "EMO"  # type: ignore[union-attr]


# --- who may -------------------------------------------------------------------------------------


def test_another_teams_worker_may_read_but_not_record(
    client: TestClient, db: Session, pc: WebProtectionCast
) -> None:
    case = referred(db, pc)
    csrf = web_sign_in(client, pc.outsider)
    form = client.get(f"/cases/{case.id}/strategy-discussions/new")
    assert form.status_code == 200
    assert "Save the strategy discussion" not in form.text  # not offered: the service refuses
    refused = post(client, f"/cases/{case.id}/strategy-discussions/new", csrf, _discussion_form())
    assert refused.status_code == 403
    assert "held by another team" in refused.text
    assert _count(db, StrategyDiscussion) == 0


def test_an_iro_may_not_record_protection_work(
    client: TestClient, db: Session, pc: WebProtectionCast
) -> None:
    case = referred(db, pc)
    csrf = web_sign_in(client, pc.iro)
    refused = post(client, f"/cases/{case.id}/strategy-discussions/new", csrf, _discussion_form())
    assert refused.status_code == 403
    assert "You cannot do this" in refused.text
    assert _count(db, StrategyDiscussion) == 0


def test_a_restricted_childs_protection_pages_do_not_exist_for_others(
    client: TestClient, db: Session, pc: WebProtectionCast
) -> None:
    case = referred(db, pc)
    plan = on_a_plan(db, pc, case)
    conference = db.scalars(select(CPConference)).one()
    person_restrict(
        db, principal=principal(db, pc.manager), person_id=case.child_id, user_ids=[pc.worker.id]
    )
    db.commit()
    csrf = web_sign_in(client, pc.outsider)
    for path in (
        f"/cases/{case.id}/strategy-discussions/new",
        f"/cases/{case.id}/section-47",
        f"/cases/{case.id}/conferences/new",
        f"/cases/{case.id}/cp-plan",
        f"/conferences/{conference.id}",
    ):
        page = client.get(path)
        assert page.status_code == 404, path
        assert "Page not found" in page.text
    refused = post(client, f"/cases/{case.id}/cp-plan", csrf, _end_form(plan.version))
    assert refused.status_code == 404
    assert client.get("/conferences/not-a-uuid").status_code == 404


def test_no_strategy_discussion_is_offered_where_the_case_machine_starts_none(
    client: TestClient, db: Session, pc: WebProtectionCast
) -> None:
    case = referred(db, pc)
    on_a_plan(db, pc, case)  # a CP plan: start_strategy is not an event from cp_plan
    csrf = web_sign_in(client, pc.worker)
    form = client.get(f"/cases/{case.id}/strategy-discussions/new")
    assert form.status_code == 200
    assert "Save the strategy discussion" not in form.text
    refused = post(client, f"/cases/{case.id}/strategy-discussions/new", csrf, _discussion_form())
    assert refused.status_code == 409  # the case machine's refusal, shown as the summary
    assert "There is a problem" in refused.text
    assert _count(db, StrategyDiscussion) == 1  # the one that led to the plan
