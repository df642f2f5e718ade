"""An Independent Reviewing Officer's morning, in a real browser: the IRO opens the dashboard,
notes how many reviews were held on time, records the review of a child whose review is overdue,
comes back and sees that review move from overdue to held late; then raises a dispute about a
child's plan after a review. A social worker opens the looked-after and placement forms. Every
page is checked by axe-core (WCAG 2.2 AA) and screenshotted.

The demo council is shared by every browser test, so each journey brings its own child into care
through the services (a child of the demo social worker's team, with the demo IRO allocated)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.calendar import add_working_days
from app.care import service as care_service
from app.care.codes import LegalStatus
from app.care.schemas import PeriodOfCareStart
from app.cases import service as case_service
from app.core_types import PrimaryNeed
from app.db import make_engine, make_session_factory, unit_of_work
from app.iro import reviews as review_service
from app.iro import service as iro_service
from app.models import UserAccount
from app.models.care import CareEntryRoute
from app.models.iro import ParticipationCode
from app.models.org import Role, TeamMembership
from app.security.authn import principal_for_user
from app.security.principal import AuthMethod
from tests.browser.support import LiveServer, Shots, account, axe_check
from tests.care.factories import foster_placement
from tests.factories import make_child

pytestmark = pytest.mark.browser

COUNTS = re.compile(r"(\d+) held late, (\d+) overdue, (\d+) not yet due\.")


@dataclass(frozen=True)
class InCare:
    name: str
    case_id: uuid.UUID
    child_id: uuid.UUID
    review_id: uuid.UUID | None


def _user(session: Session, role: Role) -> UserAccount:
    user = session.scalar(select(UserAccount).where(UserAccount.username == account(role).username))
    assert user is not None, f"the demo council has no {role.value} account"
    return user


def _in_care(
    live_server: LiveServer,
    *,
    first_name: str,
    last_name: str,
    looked_after: bool = True,
    review_held: bool = False,
) -> InCare:
    """A child of the demo social worker's team, referred 40 working days ago and (unless
    ``looked_after`` is False) looked after since then with the demo IRO allocated: the first
    review (rule 15: 20 working days) is overdue unless ``review_held``, when the IRO held it on
    time."""
    engine = make_engine(live_server.settings.database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            worker = _user(session, Role.social_worker)
            iro = _user(session, Role.iro)
            team_id = session.scalar(
                select(TeamMembership.team_id).where(
                    TeamMembership.user_id == worker.id, TeamMembership.end_date.is_(None)
                )
            )
            manager = session.scalar(
                select(UserAccount)
                .join(TeamMembership, TeamMembership.user_id == UserAccount.id)
                .where(
                    TeamMembership.team_id == team_id,
                    TeamMembership.is_manager.is_(True),
                    TeamMembership.end_date.is_(None),
                    UserAccount.role == Role.team_manager,
                )
                .limit(1)
            )
            assert team_id is not None
            assert manager is not None
            actor = principal_for_user(session, manager, auth=AuthMethod.token)
            child = make_child(
                session, first_name=first_name, last_name=last_name, date_of_birth=date(2015, 5, 1)
            )
            # A looked-after child carries the council's LA child id, as the demo's do: the
            # shared demo council must still produce its SSDA903 for the returns journey.
            child.la_child_id = f"IRO{child.id.hex[:12].upper()}"
            start = add_working_days(clock.today(), -40)
            case = case_service.case_open(
                session,
                actor=actor,
                child_id=child.id,
                team_id=team_id,
                opened_date=start,
                worker_id=worker.id,
            )
            case = case_service.case_transition(
                session,
                actor=actor,
                case_id=case.id,
                event="accept_referral",
                expected_version=case.version,
            )
            review_id = None
            if looked_after:
                period = care_service.period_of_care_start(
                    session,
                    actor=actor,
                    case_id=case.id,
                    body=PeriodOfCareStart(
                        start_date=start,
                        entry_route=CareEntryRoute.section_20,
                        legal_status=LegalStatus.SECTION_20,
                        category_of_need=PrimaryNeed("N1"),
                        placement=foster_placement(),
                    ),
                )
                iro_service.iro_allocate(
                    session,
                    actor=actor,
                    child_id=child.id,
                    iro_id=iro.id,
                    start_date=start,
                    reason=None,
                )
                if review_held:
                    review = review_service.cla_review_record(
                        session,
                        actor=principal_for_user(session, iro, auth=AuthMethod.token),
                        period_id=period.id,
                        review_date=add_working_days(start, 15),
                        chair_id=None,
                        participation=ParticipationCode.PN1,
                    )
                    review_id = review.id
            return InCare(
                name=f"{first_name} {last_name}",
                case_id=case.id,
                child_id=child.id,
                review_id=review_id,
            )
    finally:
        engine.dispose()


def _check(page: Page, shots: Shots, name: str) -> None:
    shots.take(page, name)
    result = axe_check(page)
    assert result.rules == (), result.report


def _timeliness(page: Page) -> tuple[str, tuple[int, int, int]]:
    headline = page.locator("#timeliness-headline").inner_text()
    counts = COUNTS.search(page.locator("main").inner_text())
    assert counts is not None
    late, overdue, not_yet_due = (int(n) for n in counts.groups())
    return " ".join(headline.split()), (late, overdue, not_yet_due)


def test_an_iro_records_an_overdue_review_and_sees_it_counted_as_held_late(
    sign_in: Callable[..., Page], live_server: LiveServer, shots: Shots
) -> None:
    child = _in_care(live_server, first_name="Iris", last_name="Overduereview")
    page = sign_in(Role.iro)

    page.get_by_role("link", name="IRO", exact=True).click()
    expect(page.get_by_role("heading", name="IRO dashboard", level=1)).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("reviews held on time"))).to_be_visible()
    _check(page, shots, "iro-dashboard")
    headline_before, (late, overdue, not_yet_due) = _timeliness(page)
    assert overdue >= 1  # Iris's first review at least

    page.get_by_role("link", name=f"Record a review for {child.name}").click()
    expect(page.get_by_role("heading", name="Record a looked-after review")).to_be_visible()
    _check(page, shots, "review-form")
    page.get_by_label("PN1: Attended and spoke for themselves").check()
    page.get_by_label("If the review was held late, why?").fill("The carers were moving house")
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", name="Looked-after review 1")).to_be_visible()
    expect(page.get_by_text("The review has been recorded.")).to_be_visible()
    expect(page.get_by_text("Late", exact=True)).to_be_visible()
    _check(page, shots, "review-recorded")

    page.get_by_role("link", name="IRO", exact=True).click()
    expect(page.get_by_role("heading", name="IRO dashboard", level=1)).to_be_visible()
    headline_after, counts_after = _timeliness(page)
    # The overdue review is now one held late: the same share held on time, one more late.
    assert counts_after == (late + 1, overdue - 1, not_yet_due)
    assert headline_after == headline_before
    _check(page, shots, "iro-dashboard-after")


def test_an_iro_raises_a_dispute_after_a_review_and_escalates_it(
    sign_in: Callable[..., Page], live_server: LiveServer, shots: Shots
) -> None:
    child = _in_care(live_server, first_name="Dara", last_name="Disputeplan", review_held=True)
    page = sign_in(Role.iro)

    page.goto(f"/reviews/{child.review_id}")
    expect(page.get_by_role("heading", name="Looked-after review 1")).to_be_visible()
    expect(page.get_by_text("On time", exact=True)).to_be_visible()
    _check(page, shots, "review")
    page.get_by_role("link", name="Raise a dispute about the child's plan").click()
    expect(
        page.get_by_role("heading", name="Raise a dispute about the child's plan")
    ).to_be_visible()
    _check(page, shots, "dispute-form")

    page.get_by_role("button", name="Raise the dispute").click()  # nothing typed
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter what the concern")
    _check(page, shots, "dispute-form-errors")
    page.get_by_label("What is your concern about the child's plan?").fill(
        "The plan does not say when Dara will see her sister."
    )
    page.get_by_role("button", name="Raise the dispute").click()

    expect(page.get_by_role("heading", name="Dispute about the child's plan")).to_be_visible()
    expect(page.get_by_text("The dispute has been raised.")).to_be_visible()
    _check(page, shots, "dispute")
    escalate = page.locator("form", has=page.get_by_role("button", name="Escalate"))
    escalate.get_by_label("Why").fill("No answer from the team manager in two weeks")
    escalate.get_by_role("button", name="Escalate to the next stage").click()
    expect(page.get_by_text("The dispute has been updated.")).to_be_visible()
    expect(page.get_by_text("Stage 1", exact=True)).to_be_visible()
    _check(page, shots, "dispute-escalated")

    page.goto("/iro")
    expect(page.get_by_role("link", name=f"Dispute about {child.name}'s plan")).to_be_visible()


def test_a_social_worker_opens_the_looked_after_and_placement_forms(
    sign_in: Callable[..., Page], live_server: LiveServer, shots: Shots
) -> None:
    referred = _in_care(live_server, first_name="Lena", last_name="Newincare", looked_after=False)
    placed = _in_care(live_server, first_name="Milo", last_name="Movingon")
    page = sign_in(Role.social_worker)

    page.goto(f"/cases/{referred.case_id}/looked-after/new")
    expect(page.get_by_role("heading", name="The child becomes looked after")).to_be_visible()
    _check(page, shots, "looked-after-form")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("There is a problem")
    _check(page, shots, "looked-after-form-errors")

    page.goto(f"/cases/{placed.case_id}/placements/change")
    expect(page.get_by_role("heading", name="Change the placement")).to_be_visible()
    _check(page, shots, "placement-form")
    page.get_by_label("Why did the current placement end?").select_option("CARPL")
    page.get_by_role("group", name="Was the ending planned?").get_by_label("Yes").check()
    page.get_by_label("Placement type").select_option("U4")
    page.get_by_label("Placement provider").select_option("PR1")
    page.get_by_label("Carer or provider name").fill("Ms Long-Term")
    page.get_by_label("Ofsted unique reference number (URN)").fill("SC123456")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_text("The placement change has been recorded.")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/children/{placed.child_id}\?notice="))
