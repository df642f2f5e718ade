"""A social worker's first minutes, in a real browser: signing in (with the mouse, with the keyboard
alone, with JavaScript off), finding a child, opening the child's record, signing out; and every
page on the way checked by axe-core against WCAG 2.2 AA."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from app.models.org import Role
from app.security.policy import role_may
from tests.browser.support import LiveServer, Shots, account, axe_check

# GOV.UK Frontend marks <body> once its JavaScript has run: how a test tells JavaScript was off.
JS_RAN = re.compile(r"\bgovuk-frontend-supported\b")
MAX_TABS = 40


def my_work_heading(page: Page) -> Locator:
    return page.get_by_role("heading", name="My work", level=1)


def find_a_child(page: Page, name: str) -> None:
    page.get_by_role("link", name="Find a child").first.click()
    expect(page.get_by_role("heading", name="Find a child", level=1)).to_be_visible()
    page.get_by_role("textbox", name=re.compile(r"^Name\b")).fill(name)
    page.get_by_role("button", name=re.compile("^Search")).click()


def tab_to(page: Page, target: Locator) -> None:
    """Press Tab until ``target`` has the focus, as a keyboard user would."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    pytest.fail(f"{target} never took the focus in {MAX_TABS} presses of Tab")


def test_a_social_worker_signs_in_and_sees_their_work(
    sign_in: Callable[..., Page], shots: Shots
) -> None:
    page = sign_in(Role.social_worker)

    expect(my_work_heading(page)).to_be_visible()
    expect(page.locator("body")).to_have_class(JS_RAN)
    shots.take(page, "my-work")


def test_signing_out_ends_the_session(sign_in: Callable[..., Page], shots: Shots) -> None:
    page = sign_in(Role.social_worker)
    expect(my_work_heading(page)).to_be_visible()
    cookies = page.context.cookies()

    page.get_by_role("button", name="Sign out").click()

    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    shots.take(page, "signed-out")
    # The session is ended on the server, not just forgotten by the browser: with the old cookie
    # put back, My work still asks for sign-in.
    page.context.add_cookies(cookies)  # type: ignore[arg-type]
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/sign-in"))
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def test_a_wrong_password_is_refused_with_an_error_summary(page: Page, shots: Shots) -> None:
    page.goto("/sign-in")
    page.get_by_label("Username", exact=True).fill(account(Role.social_worker).username)
    page.get_by_label("Password", exact=True).fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.locator(".govuk-error-summary")).to_contain_text("There is a problem")
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    shots.take(page, "refused")


def test_with_javascript_off_a_social_worker_finds_a_child_and_opens_the_record(
    sign_in: Callable[..., Page], live_server: LiveServer, shots: Shots
) -> None:
    page = sign_in(Role.social_worker, javascript=False)
    expect(my_work_heading(page)).to_be_visible()
    expect(page.locator("body")).not_to_have_class(JS_RAN)
    shots.take(page, "my-work")

    find_a_child(page, live_server.child_name)
    result = page.get_by_role("link", name=live_server.child_name, exact=True)
    expect(result).to_have_count(1)
    shots.take(page, "search-results")

    result.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(live_server.child_last_name)
    expect(page).to_have_url(re.compile(r"/children/[0-9a-f-]{36}$"))
    shots.take(page, "child-record")


def test_a_social_worker_signs_in_with_the_keyboard_alone(page: Page, shots: Shots) -> None:
    who = account(Role.social_worker)
    page.goto("/sign-in")

    tab_to(page, page.get_by_label("Username", exact=True))
    page.keyboard.type(who.username)
    tab_to(page, page.get_by_label("Password", exact=True))
    page.keyboard.type(who.password)
    tab_to(page, page.get_by_role("button", name="Sign in"))
    shots.take(page, "sign-in-button-focused")
    page.keyboard.press("Enter")

    expect(my_work_heading(page)).to_be_visible()
    shots.take(page, "my-work")
    # The first Tab stop skips the navigation straight to the page's content.
    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Skip to main content")
    expect(skip_link).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


# Every page of the web client so far, reached as a person would, checked by axe-core at WCAG 2.2
# AA (and screenshotted).
def _sign_in_page(page: Page, live_server: LiveServer) -> None:
    page.goto("/sign-in")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def _sign_in_page_with_errors(page: Page, live_server: LiveServer) -> None:
    page.goto("/sign-in")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()


def _my_work(page: Page, live_server: LiveServer) -> None:
    page.goto("/")
    expect(my_work_heading(page)).to_be_visible()


def _find_a_child(page: Page, live_server: LiveServer) -> None:
    page.goto("/children")
    expect(page.get_by_role("heading", name="Find a child", level=1)).to_be_visible()


def _search_results(page: Page, live_server: LiveServer) -> None:
    page.goto("/")
    find_a_child(page, live_server.child_last_name)
    expect(page.get_by_role("link", name=live_server.child_name, exact=True)).to_be_visible()


def _child_record(page: Page, live_server: LiveServer) -> None:
    _search_results(page, live_server)
    page.get_by_role("link", name=live_server.child_name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(live_server.child_last_name)


def _child_record_family_tab(page: Page, live_server: LiveServer) -> None:
    _child_record(page, live_server)
    # The record's parts are links (they work without JavaScript and can be bookmarked).
    page.get_by_role("link", name="Family and relationships").click()
    expect(page.get_by_role("heading", level=2, name="Family and relationships")).to_be_visible()


def _front_door(page: Page, live_server: LiveServer) -> None:
    page.goto("/")
    page.get_by_role("link", name="Front door").click()
    expect(page.get_by_role("heading", name="Front door", level=1)).to_be_visible()


PAGES_SIGNED_OUT = {"sign-in": _sign_in_page, "sign-in-errors": _sign_in_page_with_errors}
# Each page, and whose eyes it is seen through.
PAGES_SIGNED_IN: dict[str, tuple[Role, Callable[[Page, LiveServer], None]]] = {
    "my-work": (Role.social_worker, _my_work),
    "find-a-child": (Role.social_worker, _find_a_child),
    "search-results": (Role.social_worker, _search_results),
    "child-record": (Role.social_worker, _child_record),
    "child-record-family": (Role.social_worker, _child_record_family_tab),
    "front-door": (Role.mash_officer, _front_door),
}


@pytest.mark.parametrize("name", PAGES_SIGNED_OUT)
def test_signed_out_pages_meet_wcag_2_2_aa(
    name: str, page: Page, live_server: LiveServer, shots: Shots
) -> None:
    PAGES_SIGNED_OUT[name](page, live_server)
    shots.take(page, name)
    result = axe_check(page)
    assert result.rules == (), result.report


@pytest.mark.parametrize("name", PAGES_SIGNED_IN)
def test_signed_in_pages_meet_wcag_2_2_aa(
    name: str, sign_in: Callable[..., Page], live_server: LiveServer, shots: Shots
) -> None:
    role, visit = PAGES_SIGNED_IN[name]
    page = sign_in(role)
    visit(page, live_server)
    shots.take(page, name)
    result = axe_check(page)
    assert result.rules == (), result.report


# Everyone who signs in to the web client lands on My work (the integration client uses the API).
PRACTITIONERS = [
    role for role in Role if role_may(role, "deadline:read") and role is not Role.integration_client
]


@pytest.mark.parametrize("role", PRACTITIONERS, ids=[role.value for role in PRACTITIONERS])
def test_each_roles_my_work_meets_wcag_2_2_aa(
    role: Role, sign_in: Callable[..., Page], shots: Shots
) -> None:
    page = sign_in(role)

    expect(my_work_heading(page)).to_be_visible()
    shots.take(page, "my-work")
    result = axe_check(page)
    assert result.rules == (), result.report


def test_axe_reports_a_field_without_a_label(page: Page) -> None:
    """The checks above can fail: on a real page, under its Content-Security-Policy, a field that
    loses its label is reported."""
    page.goto("/sign-in")
    page.locator("label[for=username]").evaluate("label => label.remove()")

    result = axe_check(page)

    assert "label" in result.rules, result.report
    assert "#username" in result.report
