"""Test harness: the schema is built by Alembic, each test runs in a rolled-back transaction, and
the
whole suite runs on SQLite or PostgreSQL (``CASEWORK_TEST_BACKEND=sqlite|postgresql``).

On PostgreSQL a fresh database is created for the run. When no PostgreSQL server answers, the tests
skip with a loud message locally; under ``CI=true`` that is a failure.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from app import migrate
from app.config import Environment, Settings
from app.db import make_engine
from app.main import create_app

BACKEND = os.environ.get("CASEWORK_TEST_BACKEND", "sqlite")
# A database of its own per run (several runs may share one server), dropped when the run ends.
PG_URL = os.environ.get(
    "CASEWORK_TEST_DATABASE_URL",
    f"postgresql+psycopg://postgres@127.0.0.1:5432/casework_test_{os.getpid()}",
)
IN_CI = os.environ.get("CI", "").lower() == "true"
_pg_unavailable: str | None = None


_created_pg_databases: list[str] = []


def _drop_pg_database(url: str, *, create: bool) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": parsed.database},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}"'))
            if create:
                conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        admin.dispose()


def _create_pg_database(url: str) -> None:
    _drop_pg_database(url, create=True)
    _created_pg_databases.append(url)


def pytest_unconfigure(config: pytest.Config) -> None:
    for url in _created_pg_databases:
        try:
            _drop_pg_database(url, create=False)
        except Exception as exc:  # cleaning up must not hide the run's result
            print(f"could not drop test database {make_url(url).database}: {exc}")


def fresh_database_url(tmp_dir: Path, name: str) -> str:
    """A new, empty database of the backend under test (used by migration and race tests)."""
    if BACKEND == "postgresql":
        url = make_url(PG_URL).set(database=f"{make_url(PG_URL).database}_{name}")
        rendered = url.render_as_string(hide_password=False)
        _create_pg_database(rendered)
        return rendered
    return f"sqlite:///{tmp_dir / f'{name}.db'}"


def pytest_configure(config: pytest.Config) -> None:
    global _pg_unavailable
    config.addinivalue_line(
        "markers",
        "shared_app: the module's tests share one app, each on its own rolled-back connection",
    )
    if BACKEND != "postgresql":
        return
    try:
        _create_pg_database(PG_URL)
    except Exception as exc:  # the server is not there: say so loudly
        _pg_unavailable = (
            f"PostgreSQL at {make_url(PG_URL).render_as_string()} is not answering: {exc}"
        )
        if IN_CI:
            pytest.exit(f"CI=true and {_pg_unavailable}", returncode=1)
        warnings.warn(f"\n\n*** SKIPPING POSTGRESQL TESTS: {_pg_unavailable} ***\n", stacklevel=1)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _pg_unavailable is not None:
            item.add_marker(pytest.mark.skip(reason=f"*** {_pg_unavailable} ***"))
        elif item.get_closest_marker("postgres_only") and BACKEND != "postgresql":
            item.add_marker(pytest.mark.skip(reason="runs in the PostgreSQL pass"))


def pytest_report_header(config: pytest.Config) -> str:
    return f"casework test backend: {BACKEND}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if BACKEND == "postgresql":
        return PG_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'casework-test.db'}"


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection with an outer transaction that is rolled back after the test."""
    with engine.connect() as conn:
        outer = conn.begin()
        try:
            yield conn
        finally:
            outer.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    # Each request's commit becomes a savepoint release inside the test's outer transaction.
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


def _test_settings(database_url: str) -> Settings:
    return Settings(
        environment=Environment.test,
        database_url=database_url,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        cookie_secure=False,
    )


@pytest.fixture
def settings(database_url: str) -> Settings:
    return _test_settings(database_url)


@pytest.fixture(scope="module")
def module_app(database_url: str, engine: Engine) -> tuple[FastAPI, sessionmaker[Session]]:
    """One app for a ``shared_app`` module, and its session factory (re-bound per test).

    An app's first request builds its route table (about 0.2-0.5 s with ~900 routes); a module
    of hundreds of cases paid that once per case."""
    factory = sessionmaker(
        bind=engine, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    app = create_app(_test_settings(database_url), engine=engine, session_factory=factory)
    return app, factory


@pytest.fixture
def app(
    request: pytest.FixtureRequest,
    settings: Settings,
    engine: Engine,
    connection: Connection,
    session_factory: sessionmaker[Session],
) -> FastAPI:
    if request.node.get_closest_marker("shared_app") is None:
        return create_app(settings, engine=engine, session_factory=session_factory)
    shared: FastAPI
    factory: sessionmaker[Session]
    shared, factory = request.getfixturevalue("module_app")
    # A module that adjusts its settings needs an app of its own: sharing would ignore them.
    assert shared.state.settings == settings, "a shared_app module cannot override settings"
    # The shared app's sessions join this test's connection, so its writes are rolled back too.
    factory.configure(bind=connection)
    return shared


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
