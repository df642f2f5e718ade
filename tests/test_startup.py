"""The service will not start on a database it cannot use, and says why in a sentence.

Whoever reads the message is often not who set the URL: it names the database (password masked)
and the fix, and there is never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from app import migrate
from app.cli import app as cli_app
from app.cli import check_database, masked_url
from app.config import Environment, Settings, get_settings
from app.db import make_engine
from tests.conftest import fresh_database_url

SECRET = "test-secret-key-that-is-long-enough-0123456789"
UNREACHABLE = "postgresql+psycopg://casework:hunter2-password@127.0.0.1:1/casework"


def _settings(url: str) -> Settings:
    return Settings(environment=Environment.test, database_url=url, secret_key=SECRET)


@pytest.fixture
def fresh_url(tmp_path: Path) -> str:
    return fresh_database_url(tmp_path, "startup")


@pytest.fixture
def env_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """The CLI reads Settings from the environment; start and end with a fresh cache."""
    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()


def test_an_unreachable_postgresql_is_named_with_its_password_masked() -> None:
    problem = check_database(_settings(UNREACHABLE))
    assert problem is not None
    assert "cannot reach its database" in problem
    assert "127.0.0.1:1" in problem
    assert "hunter2" not in problem
    assert "***" in problem
    assert "Start PostgreSQL" in problem
    assert "CASEWORK_DATABASE_URL" in problem
    assert "\n" not in problem, "one paragraph"


def test_an_empty_sqlite_file_needs_db_upgrade(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    problem = check_database(_settings(f"sqlite:///{empty}"))
    assert problem is not None
    assert "has not been migrated" in problem
    assert "run `casework db upgrade`" in problem


def test_a_database_behind_head_needs_db_upgrade(fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    try:
        migrate.upgrade(engine, "0001")
    finally:
        engine.dispose()
    problem = check_database(_settings(fresh_url))
    assert problem is not None
    assert "migration 0001" in problem
    assert f"needs {migrate.head_revision()}" in problem
    assert "run `casework db upgrade`" in problem


def test_a_database_from_a_newer_version_says_so(fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    try:
        migrate.upgrade(engine)
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    finally:
        engine.dispose()
    problem = check_database(_settings(fresh_url))
    assert problem is not None
    assert "newer version" in problem


def test_a_migrated_database_is_fine(fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    assert check_database(_settings(fresh_url)) is None


def test_a_malformed_url_is_explained() -> None:
    problem = check_database(_settings("not a url"))
    assert problem is not None
    assert "CASEWORK_DATABASE_URL" in problem


def test_masked_url_hides_only_the_password() -> None:
    assert masked_url(UNREACHABLE) == "postgresql+psycopg://casework:***@127.0.0.1:1/casework"


def test_serve_refuses_an_unreachable_database_without_a_traceback(
    env_settings: pytest.MonkeyPatch,
) -> None:
    env_settings.setenv("CASEWORK_DATABASE_URL", UNREACHABLE)
    result = CliRunner().invoke(cli_app, ["serve", "--port", "8999"])
    assert result.exit_code == 1
    assert "cannot reach its database" in result.output
    assert "hunter2" not in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_serve_refuses_an_unmigrated_database(
    env_settings: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env_settings.setenv("CASEWORK_DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    result = CliRunner().invoke(cli_app, ["serve", "--port", "8999"])
    assert result.exit_code == 1
    assert "casework db upgrade" in result.output


def test_a_refused_setting_is_a_sentence_not_a_traceback(
    env_settings: pytest.MonkeyPatch,
) -> None:
    env_settings.setenv("CASEWORK_ENVIRONMENT", "production")
    env_settings.setenv("CASEWORK_SECRET_KEY", "short")
    result = CliRunner().invoke(cli_app, ["db", "current"])
    assert result.exit_code == 1
    assert "CASEWORK_SECRET_KEY" in result.output
    assert "Traceback" not in result.output
