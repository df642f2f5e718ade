"""What the browser tests share: signing in like a person, screenshots, axe-core."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import Page, expect

from app.config import Settings
from app.demo.generator import DEMO_ACCOUNT_BY_ROLE, DemoAccount
from app.models.org import Role

ARTEFACTS = Path(__file__).parent / "artefacts"
# WCAG 2.2 AA: every level A and AA rule of WCAG 2.0, 2.1 and 2.2 that axe-core checks.
WCAG_22_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    settings: Settings
    # A child of the demo council anyone in children's services may see (not restricted, born),
    # whose full name no other child has: what the find-a-child journeys look for.
    child_first_name: str
    child_last_name: str

    @property
    def child_name(self) -> str:
        return f"{self.child_first_name} {self.child_last_name}"

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"


def account(role: Role) -> DemoAccount:
    return DEMO_ACCOUNT_BY_ROLE[role]


def sign_in_with_form(page: Page, who: DemoAccount) -> None:
    """Sign in through the form, as a person would (with JavaScript on or off)."""
    page.goto("/sign-in")
    page.get_by_label("Username", exact=True).fill(who.username)
    page.get_by_label("Password", exact=True).fill(who.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


@dataclass
class Shots:
    """Screenshots of the pages a test visits, numbered in visiting order, named after the test."""

    prefix: str
    taken: int = 0

    @classmethod
    def for_test(cls, test_name: str) -> Shots:
        prefix = re.sub(r"[^A-Za-z0-9_.-]+", "-", test_name).strip("-")
        for old in ARTEFACTS.glob(f"{prefix}-*.png"):  # a re-run replaces, never mixes
            old.unlink()
        return cls(prefix=prefix)

    def take(self, page: Page, name: str) -> Path:
        ARTEFACTS.mkdir(exist_ok=True)
        self.taken += 1
        path = ARTEFACTS / f"{self.prefix}-{self.taken:02d}-{name}.png"
        page.screenshot(path=path, full_page=True)
        return path


@dataclass(frozen=True)
class AxeResult:
    rules: tuple[str, ...]  # the ids of the rules violated (empty: none)
    report: str  # axe's own report: each rule, the elements and how to fix them


def axe_check(page: Page) -> AxeResult:
    """Run axe-core on the page as it is now, for the rules of WCAG 2.2 AA."""
    results = Axe().run(
        page,
        options={
            "runOnly": {"type": "tag", "values": list(WCAG_22_AA)},
            "resultTypes": ["violations"],
        },
    )
    rules = tuple(str(violation["id"]) for violation in results.response["violations"])
    return AxeResult(rules=rules, report=f"{page.url}\n{results.generate_report()}")
