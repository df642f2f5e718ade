"""The ``casework`` command, run as an operator would, on a fresh database of the backend tested.

Settings come from the environment (``CASEWORK_DATABASE_URL``), as in production; the cached
Settings are cleared before and after so no other test sees this database.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from app import migrate
from app.cli import app as cli_app
from app.cli import openapi_document, render_openapi
from app.config import get_settings
from app.db import make_engine
from app.demo import DEMO_ACCOUNTS
from app.models import Case, CaseEvent, Person, UserAccount
from app.security.passwords import verify_password
from app.workflow.diagram import render_all
from tests.conftest import fresh_database_url

NEW_PASSWORD = "a-long-enough-password-42"


@dataclass
class Cli:
    url: str
    runner: CliRunner

    def __call__(self, *args: str, input: str | None = None, ok: bool = True) -> Result:
        result = self.runner.invoke(cli_app, list(args), input=input)
        if ok:
            assert result.exit_code == 0, f"casework {' '.join(args)} failed:\n{result.output}"
        assert "Traceback" not in result.output
        return result

    def count(self, model: type[UserAccount | Person | Case | CaseEvent]) -> int:
        engine = make_engine(self.url)
        try:
            with Session(engine) as session:
                return session.scalar(select(func.count()).select_from(model)) or 0
        finally:
            engine.dispose()

    def engine(self) -> Engine:
        return make_engine(self.url)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    url = fresh_database_url(tmp_path, "cli")
    monkeypatch.setenv("CASEWORK_DATABASE_URL", url)
    monkeypatch.setenv("CASEWORK_ENVIRONMENT", "development")
    get_settings.cache_clear()
    try:
        yield Cli(url, CliRunner())
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


@pytest.fixture
def migrated(cli: Cli) -> Cli:
    cli("db", "upgrade")
    return cli


def test_db_upgrade_migrates_an_empty_database_to_head(cli: Cli) -> None:
    result = cli("db", "upgrade")
    assert f"migrated from empty to {migrate.head_revision()}" in result.output
    assert "already at" in cli("db", "upgrade").output
    assert "up to date" in cli("db", "current").output


def test_db_downgrade_and_upgrade_again(migrated: Cli) -> None:
    assert "down to base" in migrated("db", "downgrade", "base").output
    assert "behind" in migrated("db", "current").output
    migrated("db", "upgrade")
    assert "up to date" in migrated("db", "current").output


def test_db_upgrade_to_an_unknown_revision_is_refused(cli: Cli) -> None:
    result = cli("db", "upgrade", "--revision", "nonesuch", ok=False)
    assert result.exit_code == 1
    assert "nonesuch" in result.output


def test_demo_data_twice_with_if_empty_does_not_duplicate(migrated: Cli) -> None:
    first = migrated("demo-data", "--children", "24", "--if-empty")
    assert "Demo data loaded" in first.output
    for account in DEMO_ACCOUNTS:
        assert account.username in first.output
        assert account.password in first.output
    counts = {m: migrated.count(m) for m in (UserAccount, Person, Case, CaseEvent)}
    assert counts[UserAccount] > len(DEMO_ACCOUNTS)
    assert counts[Person] > 24  # children and the adults around them
    assert counts[Case] > 0

    second = migrated("demo-data", "--children", "24", "--if-empty")
    assert "already loaded: nothing to do" in second.output
    assert "demo.socialworker" in second.output  # the accounts are still shown
    assert {m: migrated.count(m) for m in counts} == counts


def test_demo_data_without_if_empty_refuses_a_second_load(migrated: Cli) -> None:
    migrated("demo-data", "--children", "12")
    result = migrated("demo-data", "--children", "12", ok=False)
    assert result.exit_code == 1
    assert "already loaded" in result.output


def test_demo_data_is_refused_in_production(migrated: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEWORK_ENVIRONMENT", "production")
    monkeypatch.setenv("CASEWORK_SECRET_KEY", "x" * 48)
    get_settings.cache_clear()
    result = migrated("demo-data", "--children", "12", ok=False)
    assert result.exit_code == 1
    assert "refused in production" in result.output
    assert migrated.count(UserAccount) == 0


def test_demo_data_needs_a_migrated_database(cli: Cli) -> None:
    result = cli("demo-data", "--children", "12", ok=False)
    assert result.exit_code == 1
    assert "casework db upgrade" in result.output


def test_audit_verify_is_ok_on_demo_data(migrated: Cli) -> None:
    migrated("demo-data", "--children", "24")
    events = migrated.count(CaseEvent)
    assert events > 0
    result = migrated("audit", "verify")
    assert result.output.startswith(f"OK: {events} case events")


def test_audit_verify_names_the_first_broken_link(migrated: Cli) -> None:
    migrated("demo-data", "--children", "24")
    engine = migrated.engine()
    try:
        with engine.begin() as conn:
            case_id = conn.execute(
                select(CaseEvent.case_id).order_by(CaseEvent.case_id).limit(1)
            ).scalar_one()
            # Tamper as an attacker with the database's owner rights would: around the trigger.
            if engine.dialect.name == "sqlite":
                conn.execute(text("DROP TRIGGER case_event_no_update"))
            else:
                conn.execute(text("ALTER TABLE case_event DISABLE TRIGGER case_event_append_only"))
            conn.execute(
                update(CaseEvent)
                .where(CaseEvent.case_id == case_id, CaseEvent.seq == 1)
                .values(reason="rewritten")
            )
    finally:
        engine.dispose()
    result = migrated("audit", "verify", ok=False)
    assert result.exit_code == 1
    assert f"case {case_id}, event 1" in result.output
    assert "does not match its hash" in result.output


def test_users_create_and_reset_password(migrated: Cli) -> None:
    migrated(
        "users",
        "create",
        "jo.admin",
        "--role",
        "administrator",
        "--name",
        "Jo Admin",
        "--password-stdin",
        input=f"{NEW_PASSWORD}\n",
    )
    migrated(
        "users", "reset-password", "jo.admin", "--password-stdin", input="another-password-7\n"
    )
    engine = migrated.engine()
    try:
        with Session(engine) as session:
            user = session.scalars(
                select(UserAccount).where(UserAccount.username == "jo.admin")
            ).one()
            assert user.password_hash is not None
            assert verify_password(user.password_hash, "another-password-7")
            assert user.must_change_password
    finally:
        engine.dispose()


def test_users_create_prompts_for_the_password(migrated: Cli) -> None:
    migrated(
        "users",
        "create",
        "sam.worker",
        "--role",
        "social_worker",
        "--name",
        "Sam Worker",
        "--swe-number",
        "SW123456",
        input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n",
    )
    assert migrated.count(UserAccount) == 1


def test_users_create_refuses_a_short_password_with_a_sentence(migrated: Cli) -> None:
    result = migrated(
        "users",
        "create",
        "kim",
        "--role",
        "iro",
        "--name",
        "Kim",
        "--password-stdin",
        input="short\n",
        ok=False,
    )
    assert result.exit_code == 1
    assert "at least 12 characters" in result.output
    assert migrated.count(UserAccount) == 0


def test_users_reset_password_of_nobody_is_refused(migrated: Cli) -> None:
    result = migrated(
        "users", "reset-password", "nobody", "--password-stdin", input=f"{NEW_PASSWORD}\n", ok=False
    )
    assert result.exit_code == 1


def test_workflow_diagram_prints_the_tables(cli: Cli) -> None:
    assert cli("workflow", "diagram").output == render_all()


def test_openapi_writes_the_document(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "nested" / "openapi.json"
    cli("openapi", "--out", str(out))
    written = out.read_text(encoding="utf-8")
    assert written.endswith("}\n")
    assert written == render_openapi(openapi_document())
    document = json.loads(written)
    assert document["openapi"].startswith("3.")
    assert "/health" in document["paths"]


def test_care_refresh_runs_the_daily_leaving_care_job(migrated: Cli) -> None:
    migrated("demo-data", "--children", "24")
    first = migrated("care", "refresh")
    assert first.output.startswith("OK: leaving-care status refreshed for ")
    events = migrated.count(CaseEvent)
    migrated("care", "refresh")
    assert migrated.count(CaseEvent) == events, "a second run the same day changes nothing"
