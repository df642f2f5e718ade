"""A case file audit, in a real browser: the demo QA auditor completes an audit from the tool's own
form (saving part of it first) and submits it; a team manager of another team moderates it,
adjusting the grade with a reason; the findings page counts it. Then the team scorecard and the
children behind a figure. Every page on the way is checked by axe-core against WCAG 2.2 AA."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audits import findings as findings_service
from app.audits import service as audit_service
from app.cases.workflow import CLOSED
from app.db import make_engine, make_session_factory, unit_of_work
from app.models import Case, Person, UserAccount
from app.models.audits import AuditGrade
from app.models.org import Role, Team, TeamMembership
from app.practice import measures
from app.security.authn import principal_for_user
from app.security.principal import AuthMethod
from tests.browser.support import LiveServer, Shots, account, axe_check

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Planned:
    audit_id: uuid.UUID
    child_name: str
    team_name: str
    codes: tuple[str, ...]


def _demo(session: Session, role: Role) -> UserAccount:
    user = session.scalar(select(UserAccount).where(UserAccount.username == account(role).username))
    assert user is not None, f"the demo council has no {role.value} account"
    return user


@pytest.fixture
def planned(live_server: LiveServer) -> Iterator[Planned]:
    """An ad hoc audit, through the audits service, of an open case that neither the demo QA
    auditor nor the demo team manager (the moderator) has held or manages: this journey's own."""
    engine = make_engine(live_server.settings.database_url)
    factory = make_session_factory(engine)
    try:
        with unit_of_work(factory) as session:
            auditor = _demo(session, Role.qa_auditor)
            moderator = _demo(session, Role.team_manager)
            candidates = session.execute(
                select(Case, Person, Team.name)
                .join(Person, Person.id == Case.child_id)
                .join(Team, Team.id == Case.team_id)
                .where(Case.state != CLOSED, Person.is_restricted.is_(False))
                .order_by(Case.opened_date, Case.id)
            ).all()
            # Independence is the audits service's rule: ask it, for both auditors.
            row = next(
                (
                    found
                    for found in candidates
                    if all(
                        audit_service.auditor_conflict(session, case=found[0], user_id=user.id)
                        is None
                        for user in (auditor, moderator)
                    )
                ),
                None,
            )
            assert row is not None, "the demo council has no case this journey may audit"
            case, child, team_name = row
            tool = next(t for t in audit_service.audit_tools_list(session, active=True))
            actor = principal_for_user(session, auditor, auth=AuthMethod.token)
            audit = audit_service.audit_ad_hoc(
                session, actor=actor, case_id=case.id, tool_id=tool.id, auditor_id=auditor.id
            )
            codes = tuple(q.code for q in audit_service.tool_questions(session, tool_id=tool.id))
            result = Planned(
                audit_id=audit.id,
                child_name=f"{child.first_name} {child.last_name}",
                team_name=team_name,
                codes=codes,
            )
        yield result
    finally:
        engine.dispose()


def _checked(page: Page, shots: Shots, name: str) -> None:
    result = axe_check(page)
    assert result.rules == (), result.report
    shots.take(page, name)


def test_an_auditor_completes_an_audit_a_second_auditor_moderates_it_and_findings_count_it(
    sign_in: Callable[..., Page], shots: Shots, planned: Planned, live_server: LiveServer
) -> None:
    page = sign_in(Role.qa_auditor)
    page.get_by_role("link", name="Quality").click()
    expect(page.get_by_role("heading", name="Practice and quality", level=1)).to_be_visible()
    _checked(page, shots, "hub")

    page.get_by_role("link", name="Case file audits").click()
    expect(page.get_by_role("heading", name="Case file audits", level=1)).to_be_visible()
    _checked(page, shots, "my-audits")
    page.locator(f'a[href="/practice/audits/{planned.audit_id}"]').click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(planned.child_name)
    _checked(page, shots, "audit-form")

    # Part of it first: one question graded, saved, and still there when the page comes back.
    first = planned.codes[0]
    page.locator(f'input[name="answers.{first}"][value="good"]').check()
    page.get_by_label(f"Evidence for {first} (optional)").fill("Seen alone at school twice.")
    page.get_by_role("button", name="Save and come back later").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Your audit has been saved")
    expect(page.locator(f'input[name="answers.{first}"][value="good"]')).to_be_checked()

    # Submitting too soon: the error summary names what is missing, and links to it.
    page.get_by_role("button", name="Submit audit").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("There is a problem")
    expect(summary).to_contain_text("Give the audit's overall grade.")
    _checked(page, shots, "audit-refused")

    for code in planned.codes:
        page.locator(f'input[name="answers.{code}"][value="good"]').check()
    page.get_by_label("The child's lived experience and voice").fill(
        "Says she likes her foster carer's dog; wants more time with her brother."
    )
    page.locator('input[name="overall_grade"][value="good"]').check()
    page.get_by_role("button", name="Submit audit").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("submitted for moderation")
    _checked(page, shots, "audit-submitted")

    # A second auditor (a team manager of another team) adjusts the grade, saying why.
    moderator = sign_in(Role.team_manager)
    moderator.goto(f"/practice/audits/{planned.audit_id}")
    expect(moderator.get_by_role("heading", name="Moderate this audit")).to_be_visible()
    _checked(moderator, shots, "moderation-form")
    moderator.get_by_label("No, adjust the grade").check()
    moderator.locator('input[name="moderated_grade"][value="requires_improvement"]').check()
    moderator.get_by_label("Reason").fill("Visits were late in two of the last three months.")
    moderator.get_by_role("button", name="Record moderation").click()
    expect(moderator.locator(".govuk-notification-banner")).to_contain_text(
        "moderation has been recorded"
    )
    expect(moderator.get_by_text("Grade adjusted to Requires improvement")).to_be_visible()
    _checked(moderator, shots, "moderated")

    # The findings page counts it in the team's row, as the findings service does.
    moderator.goto("/practice/findings")
    expect(
        moderator.get_by_role("heading", name="Case file audit findings", level=1)
    ).to_be_visible()
    engine = make_engine(live_server.settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            month = measures.month_parse(None)
            found = findings_service.audit_findings(
                session,
                actor=principal_for_user(
                    session, _demo(session, Role.team_manager), auth=AuthMethod.token
                ),
                period=findings_service.period_of(month, month),
            )
    finally:
        engine.dispose()
    row = next(r for r in found.by_team if r.label == planned.team_name)
    weak = next(g for g in row.grades if g.grade is AuditGrade.requires_improvement)
    assert weak.count >= 1
    team_row = moderator.get_by_role("row", name=re.compile(re.escape(planned.team_name)))
    expect(team_row.first).to_contain_text(f"{weak.count} ({weak.percent}%)")
    expect(moderator.locator('svg[role="img"]')).to_have_count(1)
    _checked(moderator, shots, "findings")


def test_a_team_manager_reads_the_scorecard_and_the_children_behind_a_figure(
    sign_in: Callable[..., Page], shots: Shots
) -> None:
    page = sign_in(Role.team_manager)
    page.get_by_role("link", name="Team").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_text("Caseloads today")).to_be_visible()
    _checked(page, shots, "scorecard")
    page.locator('a[href*="/team/measures/oversight_today"]').first.click()
    expect(
        page.get_by_role("heading", name="Open cases whose oversight is not overdue today")
    ).to_be_visible()
    _checked(page, shots, "drill-down")
    page.goto("/practice/supervision")
    expect(page.get_by_role("heading", name="Supervision", level=1)).to_be_visible()
    _checked(page, shots, "supervision")
    page.get_by_role("link", name="Record a supervision session").click()
    page.get_by_label("Who was supervised?").select_option(index=1)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Record a supervision session")).to_be_visible()
    _checked(page, shots, "supervision-form")


@pytest.fixture
def open_case(live_server: LiveServer) -> Iterator[uuid.UUID]:
    """An open case of a team the demo team manager manages (they may write to it)."""
    engine = make_engine(live_server.settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            manager = _demo(session, Role.team_manager)
            managed = select(TeamMembership.team_id).where(
                TeamMembership.user_id == manager.id, TeamMembership.is_manager.is_(True)
            )
            case_id = session.scalar(
                select(Case.id)
                .join(Person, Person.id == Case.child_id)
                .where(
                    Case.state != CLOSED,
                    Case.team_id.in_(managed),
                    Person.is_restricted.is_(False),
                )
                .order_by(Case.opened_date, Case.id)
            )
            assert case_id is not None, "the demo team manager's teams hold no open case"
        yield case_id
    finally:
        engine.dispose()


def test_a_team_manager_records_a_service_for_a_family(
    sign_in: Callable[..., Page], shots: Shots, open_case: uuid.UUID
) -> None:
    page = sign_in(Role.team_manager)
    page.goto(f"/practice/interventions?case_id={open_case}")
    expect(page.get_by_role("heading", name="Services and interventions", level=1)).to_be_visible()
    _checked(page, shots, "services")
    page.get_by_role("link", name="Record a service or intervention").click()
    _checked(page, shots, "service-form")
    page.get_by_label("Which service?").select_option("parenting_programme")
    page.get_by_label("The council's own service").check()
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter the name of the service or provider"
    )
    _checked(page, shots, "service-refused")
    page.get_by_label("Name of the service or provider").fill("Incredible Years, Family Hub")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "The service has been recorded."
    )
    expect(
        page.get_by_role("heading", name="Parenting programme: Incredible Years, Family Hub")
    ).to_be_visible()
    _checked(page, shots, "service-recorded")
