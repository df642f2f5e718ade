"""A social worker's words survive the session ending, in a real browser: a form autosaves as she
types, a form posted after the session ran out is kept as her draft and is back in the form once
she signs in again, and she is warned two minutes before the end and can stay signed in.
Every page on the way is checked by axe-core against WCAG 2.2 AA."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import clock
from app.db import make_engine, make_session_factory
from app.models.cases import Case
from app.models.org import Role, UserAccount
from app.models.security import UserSession
from app.security.tokens import hash_secret
from tests.browser.support import LiveServer, Shots, account, axe_check

pytestmark = pytest.mark.browser

# The warning comes two minutes before the end; the test's session ends a little after that.
ENDS_IN = timedelta(seconds=130)
WARNING_WAIT_MS = 40_000


@pytest.fixture
def live_db(live_server: LiveServer) -> Iterator[Session]:
    """The live server's own database, to end a session as the clock would."""
    engine = make_engine(live_server.settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def _session_of(page: Page) -> str:
    cookie = next(c for c in page.context.cookies() if c.get("name") == "casework_session")
    return hash_secret(str(cookie.get("value")))


def _set_session(db: Session, page: Page, **values: Any) -> None:
    db.execute(
        update(UserSession).where(UserSession.token_hash == _session_of(page)).values(**values)
    )
    db.commit()


def _last_seen(db: Session, page: Page) -> datetime:
    db.expire_all()
    seen = db.scalar(
        select(UserSession.last_seen_at).where(UserSession.token_hash == _session_of(page))
    )
    db.rollback()
    assert seen is not None
    return seen


def _a_case_of(db: Session, role: Role) -> str:
    user = db.scalar(select(UserAccount).where(UserAccount.username == account(role).username))
    assert user is not None
    case_id = db.scalar(
        select(Case.id).where(Case.allocated_worker_id == user.id).order_by(Case.id).limit(1)
    )
    db.rollback()  # end the read: on SQLite an open one would keep the server from writing
    assert case_id is not None, "the demo social worker has no allocated case"
    return str(case_id)


def _no_axe_violations(page: Page) -> None:
    result = axe_check(page)
    assert result.rules == (), result.report


def test_a_form_posted_after_the_session_ran_out_is_kept_and_back_after_signing_in(
    sign_in: Callable[..., Page], live_db: Session, shots: Shots
) -> None:
    page = sign_in(Role.social_worker)
    form_path = f"/cases/{_a_case_of(live_db, Role.social_worker)}/notes/new"
    csrf = page.locator('form[action="/sign-out"] input[name="csrf_token"]').input_value()
    # What the autosave script sends while a case note is typed.
    saved = page.request.post(
        "/drafts/save",
        form={
            "csrf_token": csrf,
            "draft_form_path": form_path,
            "draft_title": "Case note (browser test)",
            "summary": "Visited at home.",
        },
        headers={"X-Requested-With": "drafts.js"},
    )
    assert saved.status == 204

    page.goto("/")
    expect(page.get_by_role("heading", name="Drafts in progress")).to_be_visible()
    page.get_by_role("link", name="Your drafts").click()
    expect(page.get_by_role("heading", name="Drafts", level=1)).to_be_visible()
    _no_axe_violations(page)
    shots.take(page, "drafts")

    page.get_by_role("link", name="View draft: Case note (browser test)").click()
    summary = page.get_by_label("Summary")
    expect(summary).to_have_value("Visited at home.")
    summary.fill("Visited at home. The kitchen cupboards were empty.")
    # The page keeps it as she types, and says so politely.
    expect(page.locator("[data-draft-status]")).to_have_text(
        re.compile(r"^Draft saved at \d\d:\d\d$")
    )
    _no_axe_violations(page)
    shots.take(page, "draft-autosaved")
    summary.fill("Visited at home. The kitchen cupboards were empty. Ava was hungry.")

    # She leaves it open for too long: the session has run out when she presses the button.
    _set_session(live_db, page, expires_at=clock.now() - timedelta(minutes=1))
    page.get_by_role("button", name="Save draft").click()

    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "What you typed has been kept as a draft."
    )
    _no_axe_violations(page)
    shots.take(page, "signed-out-draft-kept")

    who = account(Role.social_worker)
    page.get_by_label("Username", exact=True).fill(who.username)
    page.get_by_label("Password", exact=True).fill(who.password)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(
        re.compile(re.escape(f"/drafts/view?form_path={quote(form_path, safe='')}"))
    )
    expect(page.get_by_label("Summary")).to_have_value(
        "Visited at home. The kitchen cupboards were empty. Ava was hungry."
    )
    expect(page.get_by_text("when you were signed out")).to_be_visible()
    shots.take(page, "draft-back")

    page.get_by_role("button", name="Discard this draft").click()
    expect(page.get_by_text("The draft has been deleted.")).to_be_visible()


def test_she_is_warned_before_the_session_ends_and_can_stay_signed_in(
    sign_in: Callable[..., Page], live_db: Session, shots: Shots
) -> None:
    page = sign_in(Role.social_worker)
    _set_session(live_db, page, expires_at=clock.now() + ENDS_IN)
    page.goto("/drafts")

    dialog = page.get_by_role("dialog", name="You are about to be signed out")
    expect(dialog).to_be_visible(timeout=WARNING_WAIT_MS)
    expect(dialog).to_contain_text("you will be signed out in 2 minutes")
    stay = dialog.get_by_role("button", name="Stay signed in")
    expect(stay).to_be_focused()
    _no_axe_violations(page)
    shots.take(page, "warning")

    # What is running out now is the idle clock (the absolute limit is put back to hours
    # away): "Stay signed in" must refresh it through the normal session check.
    before = clock.now() - timedelta(minutes=20)
    _set_session(live_db, page, expires_at=clock.now() + timedelta(hours=1), last_seen_at=before)
    stay.click()

    expect(dialog).to_be_hidden()
    assert _last_seen(live_db, page) > before + timedelta(minutes=19)
    expect(page.get_by_role("heading", name="Drafts", level=1)).to_be_visible()
    shots.take(page, "stayed")
