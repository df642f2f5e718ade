"""Fixtures for the statutory returns: one demo council per test run, loaded once, read by many.

The demo is loaded with the clock frozen on a fixed day so every run sees the same council, in a
database of its own (the backend under test), and never written to by the tests that read it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app import clock, migrate
from app.config import Environment, Settings
from app.db import make_engine, make_session_factory, unit_of_work
from app.demo import load_demo_data
from app.returns.validators import DEFAULT_VALIDATORS_PYTHON
from tests.conftest import IN_CI, fresh_database_url
from tests.test_cli import cli, migrated  # noqa: F401 - the command-line fixtures, shared here

#: The day the demo council is loaded on: the current collection year is 2027 (2026-27, in
#: progress) and the previous one 2026 (2025-26, complete).
DEMO_DAY = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
DEMO_SEED = 2026
CURRENT_YEAR = 2027
PREVIOUS_YEAR = 2026


@dataclass(frozen=True)
class DemoWorld:
    engine: Engine
    factory: sessionmaker[Session]
    settings: Settings
    today: date


def returns_settings(database_url: str) -> Settings:
    return Settings(
        environment=Environment.test,
        database_url=database_url,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        cookie_secure=False,
        validators_python=str(DEFAULT_VALIDATORS_PYTHON),
    )


@pytest.fixture(scope="session")
def demo_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWorld]:
    """The demo council (300 children, two years of casework) in its own database."""
    url = fresh_database_url(tmp_path_factory.mktemp("returns-demo"), "returns_demo")
    engine = make_engine(url)
    migrate.upgrade(engine)
    factory = make_session_factory(engine)
    settings = returns_settings(url)
    with clock.frozen_at(DEMO_DAY), unit_of_work(factory) as session:
        load_demo_data(session, seed=DEMO_SEED, settings=settings)
    try:
        yield DemoWorld(engine, factory, settings, DEMO_DAY.date())
    finally:
        engine.dispose()


@pytest.fixture
def demo_session(demo_world: DemoWorld) -> Iterator[Session]:
    """A session on the demo council that is rolled back afterwards (the demo stays as loaded)."""
    with demo_world.factory() as session, clock.frozen_at(DEMO_DAY):
        try:
            yield session
        finally:
            session.rollback()


@pytest.fixture(scope="session")
def validators_installed() -> None:
    """The DfE validators' environment (``make validators``): required in CI, else skipped."""
    if DEFAULT_VALIDATORS_PYTHON.exists():
        return
    message = (
        f"the DfE validators are not installed at {DEFAULT_VALIDATORS_PYTHON}: make validators"
    )
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)
