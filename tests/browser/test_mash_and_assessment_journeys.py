"""The front door and the assessment, in a real browser: a MASH officer records one contact about
two siblings and decides each differently (with the mouse, with JavaScript off, and with the
keyboard alone); a social worker decides the referral, writes and submits the assessment, the
team manager authorises it and a child in need plan starts. Every page is checked by axe-core
against WCAG 2.2 AA and screenshotted.

Each journey makes its own children with the people service (names no demo child has), so it
depends on no other test's data."""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from app import clock
from app.core_types import PrimaryNeed, ReferralSource, Sex
from app.db import make_engine, make_session_factory, unit_of_work
from app.demo.generator import DEMO_HOME_TEAM
from app.models import Team, UserAccount
from app.models.org import Role
from app.models.people import PersonKind
from app.people import service as people_service
from app.people.schemas import PersonCreate
from app.referrals import service as referral_service
from app.referrals.schemas import ReferralCreate
from app.security.authn import principal_for_user
from app.security.principal import AuthMethod
from tests.browser.support import LiveServer, Shots, account, axe_check

pytestmark = pytest.mark.browser

MAX_TABS = 80
# GOV.UK Frontend marks <body> once its JavaScript has run.
JS_RAN = re.compile(r"\bgovuk-frontend-supported\b")
_surnames = itertools.count(1)
# Surnames no demo child has (the demo draws from its own list of real surnames).
SURNAME_STEMS = ("Quillbarrow", "Fennimarch", "Ashtreble", "Lorrimont", "Wexcombe", "Tallowby")


def checked(page: Page, shots: Shots, name: str) -> None:
    """Screenshot the page, then check it against WCAG 2.2 AA with axe-core (which runs as
    JavaScript in the page: with JavaScript off, the same pages are checked by the journey run
    with it on)."""
    shots.take(page, name)
    if not _javascript_on(page):
        return
    result = axe_check(page)
    assert result.rules == (), result.report


def _javascript_on(page: Page) -> bool:
    return bool(JS_RAN.search(page.locator("body").get_attribute("class") or ""))


def tab_to(page: Page, target: Locator) -> None:
    """Press Tab until ``target`` has the focus, as a keyboard user would."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    pytest.fail(f"{target} never took the focus in {MAX_TABS} presses of Tab")


@dataclass(frozen=True)
class Family:
    surname: str
    elder: str  # first names
    younger: str


def _make_children(live_server: LiveServer, *first_names: str) -> tuple[str, list[uuid.UUID]]:
    """Children of one family, made with the people service as the data officer would."""
    surname = f"{SURNAME_STEMS[next(_surnames) % len(SURNAME_STEMS)]}{uuid.uuid4().hex[:4]}"
    engine = make_engine(live_server.settings.database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            ids = [
                people_service.person_create(
                    session,
                    actor=None,
                    data=PersonCreate(
                        kind=PersonKind.child,
                        first_name=first,
                        last_name=surname,
                        date_of_birth=date(2014 + n * 3, 4, 9),
                        sex=Sex("F" if n % 2 == 0 else "M"),
                    ),
                ).id
                for n, first in enumerate(first_names)
            ]
    finally:
        engine.dispose()
    return surname, ids


def _family(live_server: LiveServer) -> Family:
    surname, _ids = _make_children(live_server, "Maisie", "Theo")
    return Family(surname=surname, elder="Maisie", younger="Theo")


def _referred_case(live_server: LiveServer) -> tuple[str, uuid.UUID]:
    """A child referred directly to the demo social worker's team today, its case at referral
    (what a MASH referral hands on); returns the child's first name and the case id."""
    surname, (child_id,) = _make_children(live_server, "Orla")
    engine = make_engine(live_server.settings.database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            worker = session.scalars(
                select(UserAccount).where(
                    UserAccount.username == account(Role.social_worker).username
                )
            ).one()
            manager = session.scalars(
                select(UserAccount).where(
                    UserAccount.username == account(Role.team_manager).username
                )
            ).one()
            team = session.scalars(select(Team).where(Team.name == DEMO_HOME_TEAM)).one()
            referral = referral_service.referral_create(
                session,
                actor=principal_for_user(session, manager, auth=AuthMethod.token),
                data=ReferralCreate(
                    child_id=child_id,
                    team_id=team.id,
                    referral_date=clock.today(),
                    source=ReferralSource("6"),
                    primary_need=PrimaryNeed("N1"),
                    worker_id=worker.id,
                ),
            )
            case_id = referral.case_id
    finally:
        engine.dispose()
    assert surname
    return "Orla", case_id


def account_username(role_value: str) -> str:
    return account(Role(role_value)).username


# --------------------------------------------------------------------------------------------------
# (a) and (c): one contact about two siblings, decided differently
# --------------------------------------------------------------------------------------------------


def _record_contact_about(page: Page, shots: Shots, family: Family) -> None:
    page.get_by_role("link", name="Front door").first.click()
    expect(page.get_by_role("heading", name="Front door", level=1)).to_be_visible()
    page.get_by_role("button", name="Record a contact").click()
    expect(page.get_by_role("heading", name="Record a contact", level=1)).to_be_visible()
    checked(page, shots, "record-a-contact")

    page.get_by_role("textbox", name=re.compile(r"^Name, date of birth")).fill(family.surname)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("button", name=f"Add {family.elder} {family.surname}").click()
    page.get_by_role("button", name=f"Add {family.younger} {family.surname}").click()
    children = page.get_by_role("group", name="Children on this contact")
    expect(children.get_by_role("checkbox")).to_have_count(2)
    checked(page, shots, "two-children-added")

    page.get_by_label("Who made the contact").select_option(label="Schools")
    page.get_by_label("Organisation (optional)").fill("Kestrel Park Primary")
    page.get_by_label("What is the referrer worried about?").fill(
        f"{family.elder} arrived with a bruise; {family.younger} is often hungry."
    )
    page.get_by_role("group", name="Consent to share information").get_by_label("Given").check()
    page.get_by_role("group", name="Rating").get_by_label("Amber").check()
    page.get_by_role("button", name="Record contact").click()

    expect(page.get_by_text("The contact has been recorded.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text(family.surname)
    checked(page, shots, "contact-recorded")


def _decide_siblings(page: Page, shots: Shots, family: Family) -> None:
    elder = page.get_by_role("group", name=f"Decision for {family.elder} {family.surname}")
    elder.get_by_label("Refer to children's social care").check()
    page.get_by_label(f"Primary need for {family.elder} {family.surname}").select_option("N1")
    page.get_by_label(f"Reason for the decision for {family.elder} {family.surname}").fill(
        "A bruise with no explanation: the threshold for a referral is met."
    )
    younger = page.get_by_role("group", name=f"Decision for {family.younger} {family.surname}")
    younger.get_by_label("Early help").check()
    page.get_by_label(f"Reason for the decision for {family.younger} {family.surname}").fill(
        "The family agreed to early help support."
    )
    checked(page, shots, "decisions-chosen")
    page.get_by_role("button", name="Save decisions").click()

    expect(page.get_by_text("The decisions have been saved.")).to_be_visible()
    table = page.get_by_role("table")
    expect(table).to_contain_text("Refer to children's social care")
    expect(table).to_contain_text("Early help")
    expect(page.get_by_role("button", name="Save decisions")).to_have_count(0)
    checked(page, shots, "siblings-decided")

    page.get_by_role("link", name=re.compile(f"^Referral decision for {family.elder}")).click()
    expect(page.get_by_role("heading", name="Referral decision", level=1)).to_be_visible()
    expect(page.get_by_role("radio", name="Child and family assessment")).to_be_visible()
    checked(page, shots, "referral-decision")


def test_a_mash_officer_records_one_contact_about_two_siblings_and_decides_each(
    sign_in: Callable[..., Page], live_server: LiveServer, shots: Shots
) -> None:
    family = _family(live_server)
    page = sign_in(Role.mash_officer)
    expect(page.locator("body")).to_have_class(JS_RAN)  # so axe runs on every page
    _record_contact_about(page, shots, family)
    _decide_siblings(page, shots, family)


def test_with_javascript_off_the_mash_officer_records_and_decides_the_same_way(
    sign_in: Callable[..., Page], live_server: LiveServer, shots: Shots
) -> None:
    family = _family(live_server)
    page = sign_in(Role.mash_officer, javascript=False)
    expect(page.locator("body")).not_to_have_class(JS_RAN)
    _record_contact_about(page, shots, family)
    _decide_siblings(page, shots, family)


# --------------------------------------------------------------------------------------------------
# (d) the contact form with the keyboard alone
# --------------------------------------------------------------------------------------------------


def test_the_contact_form_works_with_the_keyboard_alone(
    sign_in: Callable[..., Page], live_server: LiveServer, shots: Shots
) -> None:
    family = _family(live_server)
    page = sign_in(Role.mash_officer)
    page.goto("/front-door/contacts/new")

    tab_to(page, page.get_by_role("textbox", name=re.compile(r"^Name, date of birth")))
    page.keyboard.type(family.surname)
    page.keyboard.press("Enter")
    for first in (family.elder, family.younger):
        add = page.get_by_role("button", name=f"Add {first} {family.surname}")
        expect(add).to_be_visible()
        tab_to(page, add)
        page.keyboard.press("Enter")
    expect(
        page.get_by_role("group", name="Children on this contact").get_by_role("checkbox")
    ).to_have_count(2)

    tab_to(page, page.get_by_label("Who made the contact"))
    page.keyboard.type("Schools")
    tab_to(page, page.get_by_label("What is the referrer worried about?"))
    page.keyboard.type("Both children were seen hungry at school this week.")
    consent = page.get_by_role("group", name="Consent to share information")
    tab_to(page, consent.get_by_label("Given"))
    page.keyboard.press("Space")
    rating = page.get_by_role("group", name="Rating")
    tab_to(page, rating.get_by_role("radio").first)
    page.keyboard.press("Space")
    submit = page.get_by_role("button", name="Record contact")
    tab_to(page, submit)
    shots.take(page, "record-contact-focused")
    page.keyboard.press("Enter")

    expect(page.get_by_text("The contact has been recorded.")).to_be_visible()
    expect(
        page.get_by_role("link", name=f"{family.elder} {family.surname}", exact=True)
    ).to_be_visible()
    expect(
        page.get_by_role("link", name=f"{family.younger} {family.surname}", exact=True)
    ).to_be_visible()
    checked(page, shots, "contact-recorded")


# --------------------------------------------------------------------------------------------------
# (b) the assessment, from the referral decision to the child in need plan
# --------------------------------------------------------------------------------------------------


def test_a_worker_submits_an_assessment_the_manager_authorises_and_a_cin_plan_starts(
    sign_in: Callable[..., Page], live_server: LiveServer, shots: Shots
) -> None:
    first_name, case_id = _referred_case(live_server)
    worker = sign_in(Role.social_worker)
    worker.goto(f"/cases/{case_id}/referral")
    expect(worker.get_by_role("heading", name="Referral decision", level=1)).to_be_visible()
    checked(worker, shots, "referral")
    worker.get_by_role("radio", name="Child and family assessment").check()
    worker.get_by_label("Reason for the decision").fill("Police report of a domestic incident.")
    worker.get_by_role("button", name="Save decision").click()
    expect(worker.get_by_text("The referral decision has been saved.")).to_be_visible()

    worker.get_by_role("link", name="Start the assessment").click()
    form = worker.locator("form[data-autosave]")
    expect(form).to_have_attribute("data-draft-title", f"Assessment for {first_name}")
    checked(worker, shots, "start-assessment")
    worker.get_by_label("Summary of needs").fill("Orla has witnessed violence at home.")
    worker.get_by_role("group", name="Parents, carers and the household").get_by_label(
        "Domestic abuse: concerns about the parent or carer"
    ).check()
    worker.get_by_role("button", name="Start assessment").click()
    expect(worker.get_by_text("The assessment has been started.")).to_be_visible()
    checked(worker, shots, "assessment-in-progress")

    today = clock.today()
    seen = worker.get_by_role("group", name="Add a date the child was seen")
    seen.get_by_label("Day").fill(str(today.day))
    seen.get_by_label("Month").fill(str(today.month))
    seen.get_by_label("Year").fill(str(today.year))
    worker.get_by_label("The child was seen alone").check()
    worker.get_by_role("button", name="Add date seen").click()
    expect(worker.get_by_text("The date the child was seen has been added.")).to_be_visible()

    worker.get_by_label("Analysis").fill("Risk is reduced while the father lives elsewhere.")
    worker.get_by_role("button", name="Submit for authorisation").click()
    expect(
        worker.get_by_text("The assessment has been submitted for authorisation.")
    ).to_be_visible()
    expect(worker.get_by_role("button", name="Authorise")).to_have_count(0)
    checked(worker, shots, "assessment-submitted")
    assessment_path = worker.url.split("?")[0].removeprefix(live_server.base_url)

    manager = sign_in(Role.team_manager)
    manager.goto(assessment_path)
    expect(manager.get_by_role("button", name="Return to worker")).to_be_visible()
    checked(manager, shots, "manager-view")
    manager.get_by_role("radio", name="Child in need plan").check()
    manager.get_by_label("Your comments").fill("Agreed: a plan with the family's support.")
    manager.get_by_role("button", name="Authorise").click()

    expect(manager.get_by_text("The assessment has been authorised.")).to_be_visible()
    expect(manager.get_by_role("heading", name="Child in need plan", level=1)).to_be_visible()
    expect(manager.get_by_text("Active")).to_be_visible()
    expect(manager.get_by_text("Next review due")).to_be_visible()
    checked(manager, shots, "cin-plan")
    manager.get_by_role("link", name=re.compile(f"^Back to {first_name}")).click()
    expect(manager.get_by_text("Child in need", exact=True)).to_be_visible()
    shots.take(manager, "child-record")
