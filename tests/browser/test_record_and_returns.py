"""In a real browser: the council's data officer generates the children in need census, downloads
it and opens the data-quality list; a social worker opens every tab of a child's record and
prints it; a team manager sees who has viewed the record. Every page is checked by axe-core
against WCAG 2.2 AA and photographed."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from app.models.org import Role
from tests.browser.support import LiveServer, Shots, axe_check

pytestmark = pytest.mark.browser

TABS = (
    ("chronology", "Chronology"),
    ("cases", "Cases and plans"),
    ("assessments", "Assessments"),
    ("meetings", "Conferences and reviews"),
    ("visits", "Visits and case notes"),
    ("placements", "Placements"),
    ("family", "Family and relationships"),
)
# Building a return and running the DfE validators on the demo council takes seconds; the pages
# reload themselves (a meta refresh) until it is done.
SLOW_MS = 120_000


def accessible(page: Page, shots: Shots, name: str) -> None:
    shots.take(page, name)
    result = axe_check(page)
    assert result.rules == (), result.report


def open_record(page: Page, live_server: LiveServer) -> None:
    page.get_by_role("link", name="Find a child").first.click()
    page.get_by_role("textbox", name=re.compile(r"^Name\b")).fill(live_server.child_name)
    page.get_by_role("button", name=re.compile("^Search")).click()
    page.get_by_role("link", name=live_server.child_name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(live_server.child_last_name)


def test_a_data_officer_generates_the_cin_census_downloads_it_and_checks_the_data(
    sign_in: Callable[..., Page], shots: Shots
) -> None:
    page = sign_in(Role.data_officer)
    page.goto("/returns")
    expect(page.get_by_role("heading", name="Statutory returns", level=1)).to_be_visible()
    accessible(page, shots, "returns")

    page.get_by_role("button", name="Generate the return").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select which return to generate")
    accessible(page, shots, "returns-error")

    page.get_by_role("radio", name="Children in need census").check()
    page.get_by_role("button", name="Generate the return").click()
    expect(page.get_by_text("The return has been asked for")).to_be_visible()
    download_link = page.get_by_role("link", name=re.compile(r"^Download cin-census-"))
    expect(download_link).to_be_visible(timeout=SLOW_MS)
    accessible(page, shots, "return-ready")
    with page.expect_download() as downloading:
        download_link.click()
    download = downloading.value
    assert re.fullmatch(r"cin-census-\d{3}-\d{4}\.xml", download.suggested_filename)
    path = download.path()
    content = path.read_bytes()
    assert content.startswith(b"<?xml")
    assert b"<LAchildID>" in content

    page.goto("/data-quality")
    expect(page.get_by_role("heading", name="Data quality", level=1)).to_be_visible()
    page.get_by_role("button", name="Check the data now").click()
    expect(page.get_by_text("the DfE will not accept")).to_be_visible(timeout=SLOW_MS)
    expect(page.get_by_role("table")).to_contain_text("CIN census")
    # A data officer cannot open case records: the children are named by their LA child id.
    expect(page.get_by_role("table").get_by_role("link")).to_have_count(0)
    accessible(page, shots, "data-quality")


def test_a_social_worker_opens_each_tab_of_a_childs_record_and_prints_it(
    sign_in: Callable[..., Page], live_server: LiveServer, shots: Shots
) -> None:
    page = sign_in(Role.social_worker)
    open_record(page, live_server)
    tabs = page.get_by_role("navigation", name="Parts of the record")
    expect(tabs.get_by_role("link", name="Who has viewed this record")).to_have_count(0)
    for tab, label in TABS:
        tabs.get_by_role("link", name=label, exact=True).click()
        expect(page).to_have_url(re.compile(rf"\?tab={tab}$"))
        expect(page.get_by_role("heading", name=label, level=2)).to_be_visible()
        expect(tabs.get_by_role("link", name=label, exact=True)).to_have_attribute(
            "aria-current", "page"
        )
        accessible(page, shots, f"tab-{tab}")

    tabs.get_by_role("link", name="Chronology", exact=True).click()
    expect(page.get_by_role("button", name="Print this page")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Casework")).to_be_hidden()
    expect(tabs).to_be_hidden()
    expect(page.get_by_role("button", name="Print this page")).to_be_hidden()
    expect(page.get_by_role("heading", name="Chronology", level=2)).to_be_visible()
    shots.take(page, "printed-chronology")
    # A printed list of cases: no link prints its address after it (GOV.UK Frontend's print
    # style would, by default).
    page.goto(page.url.replace("tab=chronology", "tab=cases"))
    case_link = page.locator("main table").first.get_by_role("link").first
    expect(case_link).to_be_visible()
    after = case_link.evaluate("element => getComputedStyle(element, '::after').content")
    assert after in ("none", "normal"), after
    shots.take(page, "printed-cases")


def test_a_team_manager_sees_who_has_viewed_the_record(
    sign_in: Callable[..., Page], live_server: LiveServer, shots: Shots
) -> None:
    page = sign_in(Role.team_manager)
    open_record(page, live_server)
    page.get_by_role("link", name="Who has viewed this record").click()
    expect(page.get_by_role("heading", name="Who has viewed this record", level=2)).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("web:child_record")
    accessible(page, shots, "tab-viewed")
