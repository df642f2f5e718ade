"""A child-protection journey in a real browser: a social worker records a strategy discussion
with the police and health, starts and concludes the section 47 enquiry, records the initial
child protection conference that decides a plan for neglect, finds the plan on the case and on
the child's record, and writes a case note. Every page of the journey is checked by axe-core."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.cases import service as case_service
from app.db import make_engine, make_session_factory, unit_of_work
from app.models import TeamMembership, UserAccount
from app.models.org import Role
from app.security.authn import principal_for_user
from app.security.principal import AuthMethod
from tests.browser.support import LiveServer, Shots, account, axe_check
from tests.factories import make_child

pytestmark = pytest.mark.browser


def _last_weekday_before(day: date) -> date:
    """Conferences are never at a weekend (CIN census rule 8875) and nothing is in the future."""
    day -= timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


@pytest.fixture
def referred_case(live_server: LiveServer) -> Iterator[tuple[uuid.UUID, uuid.UUID, str]]:
    """A child of its own, referred to the demo social worker's team (the journey creates what it
    needs, whatever the other browser tests do with the demo council)."""
    engine = make_engine(live_server.settings.database_url)
    factory = make_session_factory(engine)
    opened = _last_weekday_before(date.today()) - timedelta(days=7)
    try:
        with unit_of_work(factory) as session:
            worker = session.scalars(
                select(UserAccount).where(
                    UserAccount.username == account(Role.social_worker).username
                )
            ).one()
            team_id = session.scalars(
                select(TeamMembership.team_id).where(TeamMembership.user_id == worker.id)
            ).first()
            assert team_id is not None, "the demo social worker has no team"
            child = make_child(
                session, first_name="Tamsin", last_name=f"Prot{uuid.uuid4().hex[:6]}"
            )
            actor = principal_for_user(session, worker, auth=AuthMethod.token)
            case = case_service.case_open(
                session,
                actor=actor,
                child_id=child.id,
                team_id=team_id,
                opened_date=opened,
                worker_id=worker.id,
                settings=live_server.settings,
            )
            case_service.case_transition(
                session,
                actor=actor,
                case_id=case.id,
                event="accept_referral",
                expected_version=case.version,
                data={"referral_date": opened.isoformat()},
            )
            ids = (case.id, child.id, f"{child.first_name} {child.last_name}")
        yield ids
    finally:
        engine.dispose()


def _no_axe_violations(page: Page) -> None:
    result = axe_check(page)
    assert result.rules == (), result.report


def _fill_date(page: Page, name: str, day: date) -> None:
    page.locator(f"#{name}-day").fill(str(day.day))
    page.locator(f"#{name}-month").fill(str(day.month))
    page.locator(f"#{name}-year").fill(str(day.year))


def test_a_strategy_discussion_leads_to_a_plan_for_neglect(
    sign_in: Callable[..., Page],
    shots: Shots,
    referred_case: tuple[uuid.UUID, uuid.UUID, str],
) -> None:
    case_id, child_id, child_name = referred_case
    held = _last_weekday_before(date.today())
    page = sign_in(Role.social_worker)

    page.goto(f"/cases/{case_id}")
    expect(page.get_by_role("heading", name=child_name, level=1)).to_be_visible()
    _no_axe_violations(page)
    shots.take(page, "case-referral")

    page.get_by_role("link", name="Record a strategy discussion").first.click()
    expect(page.get_by_role("heading", name="Record a strategy discussion")).to_be_visible()
    _fill_date(page, "concern_date", held)
    _fill_date(page, "held_date", held)
    page.get_by_label("A meeting").check()
    page.locator("#participants-0-name").fill("Sam Okoro")
    page.locator("#participants-1-name").fill("DC Patel")
    page.locator("#participants-2-name").fill("Dr Okafor")
    page.get_by_label("What are the concerns?").fill("Bruising seen at school.")
    page.locator("#start_s47").check()
    _no_axe_violations(page)
    shots.take(page, "strategy-discussion")
    page.get_by_role("button", name="Save the strategy discussion").click()

    expect(page.get_by_text("The strategy discussion has been recorded.")).to_be_visible()
    expect(page.get_by_role("heading", name="Section 47 enquiry", level=1)).to_be_visible()
    _fill_date(page, "start_date", held)
    _no_axe_violations(page)
    shots.take(page, "s47-start")
    page.get_by_role("button", name="Start the section 47 enquiry").click()

    expect(page.get_by_text("The section 47 enquiry has started.")).to_be_visible()
    _fill_date(page, "concluded_date", held)
    page.get_by_label("An initial child protection conference is needed").check()
    page.get_by_label("Why?").fill("Concerns substantiated.")
    _no_axe_violations(page)
    shots.take(page, "s47-conclude")
    page.get_by_role("button", name="Conclude the enquiry").click()

    expect(
        page.get_by_role("heading", name="Record the initial child protection conference")
    ).to_be_visible()
    _fill_date(page, "conference_date", held)
    page.get_by_label("Chair").fill("Independent Chair")
    for agency in ("Children's social care", "Police", "Health"):
        page.get_by_label(agency, exact=True).check()
    page.get_by_label("A child protection plan").check()
    page.get_by_label("Neglect").check()
    _no_axe_violations(page)
    shots.take(page, "icpc")
    page.get_by_role("button", name="Save the conference").click()

    expect(page.get_by_text("The conference and its decision have been recorded.")).to_be_visible()
    expect(page.get_by_role("heading", name="Initial child protection conference")).to_be_visible()
    _no_axe_violations(page)
    shots.take(page, "conference")

    page.get_by_role("link", name="View the child protection plan").click()
    expect(page.get_by_role("heading", name="Child protection plan", level=1)).to_be_visible()
    expect(page.locator(".govuk-summary-list")).to_contain_text("Neglect")
    _no_axe_violations(page)
    shots.take(page, "cp-plan")

    page.get_by_role("link", name="Back to the case").click()
    expect(page.locator("#next-steps")).to_be_visible()
    expect(page.get_by_text("Child protection plan", exact=False).first).to_be_visible()
    expect(page.locator("main")).to_contain_text("Neglect")
    _no_axe_violations(page)
    shots.take(page, "case-on-a-plan")

    page.goto(f"/children/{child_id}")
    expect(page.locator("#status-tags")).to_contain_text("Child protection: Neglect")
    shots.take(page, "child-record")

    page.goto(f"/cases/{case_id}")
    page.get_by_role("link", name="Write a case note").click()
    expect(page.get_by_role("heading", name="Write a case note")).to_be_visible()
    page.get_by_label("Phone call").check()
    _fill_date(page, "occurred_at", held)
    page.get_by_label("Time of the contact").fill("10:00")
    page.get_by_label("Title").fill("Call with the school")
    page.get_by_label("Note", exact=True).fill("The head teacher reports better attendance.")
    _no_axe_violations(page)
    shots.take(page, "case-note")
    page.get_by_role("button", name="Save the note").click()

    expect(page.get_by_text("The case note has been saved.")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/cases/{case_id}\?notice="))
    shots.take(page, "case-after-note")


def test_a_case_note_is_written_with_javascript_off(
    sign_in: Callable[..., Page],
    shots: Shots,
    referred_case: tuple[uuid.UUID, uuid.UUID, str],
) -> None:
    case_id, _child_id, _child_name = referred_case
    page = sign_in(Role.social_worker, javascript=False)
    page.goto(f"/cases/{case_id}/notes/new")
    expect(page.locator("body")).not_to_have_class(re.compile(r"\bgovuk-frontend-supported\b"))

    page.get_by_role("button", name="Save the note").click()  # nothing filled in

    expect(page.locator(".govuk-error-summary")).to_contain_text("Select what kind of contact")
    expect(page).to_have_title(re.compile(r"^Error: "))
    # axe-core runs as JavaScript in the page: the same page with JavaScript on was checked above.
    shots.take(page, "case-note-errors")
    page.get_by_label("Office visit").check()
    _fill_date(page, "occurred_at", _last_weekday_before(date.today()))
    page.get_by_label("Time of the contact").fill("14:30")
    page.get_by_label("Title").fill("Seen at the office")
    page.locator("#child_seen").check()
    page.get_by_role("button", name="Save the note").click()

    expect(page.get_by_text("The case note has been saved.")).to_be_visible()
    shots.take(page, "case-after-note")
