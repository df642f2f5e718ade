"""Real-browser harness: the real app, served by uvicorn, driven by Debian's Chromium.

Once per run of this package: a fresh database of the backend under test (SQLite file, or a
PostgreSQL database of its own when ``CASEWORK_TEST_BACKEND=postgresql``), migrated by Alembic and
loaded with the demo council (fixed seed, a small number of children so it loads in seconds); the
app served by uvicorn on a free port of 127.0.0.1 in a background thread (``cookie_secure=False``:
the session cookie has to travel over plain http there); one headless Chromium.

Each test gets browser contexts of its own (no cookie leaks from one test to the next), signed in
as a demo account through the sign-in form like a person would. Screenshots go to
``tests/browser/artefacts/`` (made on demand, ignored by git), one per page visited, named after the
test.

When Chromium cannot be started the tests skip with the reason (``make chromium`` installs it);
under ``CI=true`` that is a failure instead, as for PostgreSQL.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import migrate
from app.config import Environment, Settings
from app.db import make_engine, make_session_factory, unit_of_work
from app.demo import load_demo_data
from app.main import create_app
from app.models import Person
from app.models.org import Role
from app.models.people import PersonKind
from tests.browser.support import LiveServer, Shots, account, sign_in_with_form
from tests.conftest import IN_CI, fresh_database_url

CHROMIUM = Path(os.environ.get("CASEWORK_CHROMIUM", "/usr/bin/chromium"))
SEED = 2026
# Enough for every demo role to have work on its pages; small enough to load in a few seconds.
CHILDREN = 30
# Explicit waits: generous enough for a loaded CI machine, short enough to fail fast.
TIMEOUT_MS = 15_000
SERVER_START_SECONDS = 20.0


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives the real app in Chromium (tests/browser; `make chromium`)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture(scope="package")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    url = fresh_database_url(tmp_path_factory.mktemp("browser"), "browser")
    settings = Settings(
        environment=Environment.test,
        database_url=url,
        secret_key="browser-test-secret-key-that-is-long-enough-0123456789",
        cookie_secure=False,
    )
    engine = make_engine(url)
    migrate.upgrade(engine)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        load_demo_data(session, seed=SEED, children=CHILDREN, settings=settings)
    with factory() as session:
        first, last = _unambiguous_child(session)

    sock = _free_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, engine=engine), log_level="warning", lifespan="on")
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="browser-test-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + SERVER_START_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the app did not start on 127.0.0.1:{port}")
        time.sleep(0.02)  # waiting for the server thread, not for the page
    try:
        yield LiveServer(
            base_url=f"http://127.0.0.1:{port}",
            settings=settings,
            child_first_name=first,
            child_last_name=last,
        )
    finally:
        server.should_exit = True
        thread.join(timeout=SERVER_START_SECONDS)
        sock.close()
        engine.dispose()


def _unambiguous_child(session: Session) -> tuple[str, str]:
    names = session.execute(
        select(Person.first_name, Person.last_name)
        .where(
            Person.kind == PersonKind.child,
            Person.is_restricted.is_(False),
            Person.date_of_birth.is_not(None),
        )
        .group_by(Person.first_name, Person.last_name)
        .having(func.count() == 1)
        .order_by(Person.last_name, Person.first_name)
    ).first()
    assert names is not None, "the demo council has no child to look for"
    return names[0], names[1]


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    # Chromium's sandbox needs user namespaces that a root process in a container does not get.
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    try:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=args, timeout=TIMEOUT_MS
        )
    except PlaywrightError as exc:
        reason = (
            f"Chromium could not be started from {CHROMIUM} ({exc.message.splitlines()[0]}): "
            "install it with `make chromium`"
        )
        if IN_CI:
            pytest.fail(f"CI=true and {reason}", pytrace=False)
        pytest.skip(reason)
    yield browser
    browser.close()


@pytest.fixture
def new_context(
    request: pytest.FixtureRequest, browser: Browser, live_server: LiveServer
) -> Iterator[Callable[..., BrowserContext]]:
    """Make a fresh browser context (``javascript=False`` for a JavaScript-off run). When the test
    fails, each page still open is screenshotted (``<test>-failed-N.png``) before it closes."""
    contexts: list[BrowserContext] = []

    def make(*, javascript: bool = True) -> BrowserContext:
        context = browser.new_context(
            base_url=live_server.base_url,
            java_script_enabled=javascript,
            viewport={"width": 1280, "height": 900},
            locale="en-GB",
            timezone_id="Europe/London",
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    if request.node.stash.get(FAILED, False):
        shots = Shots.for_test(f"{request.node.name}-failed")
        for context in contexts:
            for page in context.pages:
                shots.take(page, "page")
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context: Callable[..., BrowserContext]) -> Page:
    """A page in a fresh context, signed in as nobody."""
    return new_context().new_page()


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    return Shots.for_test(request.node.name)


@pytest.fixture
def sign_in(new_context: Callable[..., BrowserContext]) -> Callable[..., Page]:
    """``sign_in(Role.social_worker)``: a page in a fresh context, signed in as that demo role."""

    def go(role: Role, *, javascript: bool = True) -> Page:
        page = new_context(javascript=javascript).new_page()
        sign_in_with_form(page, account(role))
        return page

    return go


FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call" and report.failed:
        item.stash[FAILED] = True
    return report
