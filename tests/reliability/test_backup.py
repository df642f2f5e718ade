"""Backup and restore (issue 8, part 2), run as an operator would: ``casework backup --out FILE``,
more work recorded, ``casework restore --from FILE --force``, and the council's records are back
exactly as they were when the backup was taken — every table's row count, the migration revision,
every case's audit chain.

Each story runs on a fresh database of the backend under test (SQLite: the online backup API;
PostgreSQL: pg_dump/pg_restore). The PostgreSQL-only stories skip on the SQLite pass.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from app import backup as backups
from app import migrate
from app.cli import app as cli_app
from app.config import get_settings
from app.db import make_engine
from app.models import Case, CaseEvent, Team, UserAccount
from tests.cases.factories import make_cast, move_to, open_case
from tests.conftest import BACKEND, fresh_database_url
from tests.factories import make_child

postgres_only = pytest.mark.skipif(BACKEND != "postgresql", reason="runs in the PostgreSQL pass")
PASSWORD = "never-shown-3141"


@dataclass
class Council:
    url: str
    engine: Engine
    runner: CliRunner
    team_id: object
    manager_id: object

    def cli(self, *args: str, ok: bool = True) -> Result:
        result = self.runner.invoke(cli_app, list(args))
        if ok:
            assert result.exit_code == 0, f"casework {' '.join(args)} failed:\n{result.output}"
        assert "Traceback" not in result.output
        return result

    def open_cases(self, *names: str) -> None:
        with Session(self.engine) as session:
            manager = session.get(UserAccount, self.manager_id)
            team = session.get(Team, self.team_id)
            assert manager is not None
            assert team is not None
            for name in names:
                case = open_case(
                    session, by=manager, child=make_child(session, first_name=name), team=team
                )
                move_to(session, case, "assessment", by=manager)
            session.commit()

    def cases(self) -> int:
        with Session(self.engine) as session:
            return session.scalar(select(func.count()).select_from(Case)) or 0

    def events(self) -> int:
        with Session(self.engine) as session:
            return session.scalar(select(func.count()).select_from(CaseEvent)) or 0


@pytest.fixture
def council(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Council]:
    """A migrated database with a team, its people and three children's cases in assessment."""
    url = fresh_database_url(tmp_path, "backup")
    if BACKEND == "postgresql":
        # A password in the URL (trust auth ignores it): it must never be printed.
        url = make_url(url).set(password=PASSWORD).render_as_string(hide_password=False)
    engine = make_engine(url)
    migrate.upgrade(engine)
    with Session(engine) as session:
        cast = make_cast(session)
        team_id, manager_id = cast.team.id, cast.manager.id
        session.commit()
    monkeypatch.setenv("CASEWORK_DATABASE_URL", url)
    monkeypatch.setenv("CASEWORK_ENVIRONMENT", "development")
    get_settings.cache_clear()
    council = Council(url, engine, CliRunner(), team_id, manager_id)
    council.open_cases("Amara", "Billy", "Chen")
    try:
        yield council
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        engine.dispose()


def test_a_restore_brings_back_exactly_what_the_backup_held(
    council: Council, tmp_path: Path
) -> None:
    file = tmp_path / "council.backup"
    taken = council.cli("backup", "--out", str(file))
    manifest = backups.Manifest.read(file)
    assert manifest.counts["case"] == 3
    assert manifest.alembic_revision == migrate.head_revision()
    assert f"{manifest.rows} rows" in taken.output
    assert PASSWORD not in taken.output

    # Work goes on after the backup: two more children's cases.
    council.open_cases("Dara", "Eli")
    assert council.cases() == 5

    refused = council.cli("restore", "--from", str(file), ok=False)
    assert refused.exit_code == 1
    assert "already holds records" in refused.output
    assert "--force" in refused.output
    assert council.cases() == 5  # nothing was touched

    council.engine.dispose()
    restored = council.cli("restore", "--from", str(file), "--force")
    assert "match the manifest" in restored.output
    assert PASSWORD not in restored.output
    assert council.cases() == 3
    assert council.events() == manifest.counts["case_event"]
    with council.engine.connect() as connection:
        assert backups.table_counts(connection) == manifest.counts
    assert "verify" in council.cli("audit", "verify").output


def test_a_backup_is_checked_by_restoring_it_somewhere_else(
    council: Council, tmp_path: Path
) -> None:
    file = tmp_path / "council.backup"
    council.cli("backup", "--out", str(file))
    council.open_cases("Dara")

    checked = council.cli("backup", "verify", str(file))

    events = backups.Manifest.read(file).counts["case_event"]
    assert "restores and checks" in checked.output
    assert f"{events} case events verify" in checked.output
    assert council.cases() == 4  # the configured database is not touched


def test_a_backup_that_does_not_match_its_manifest_never_replaces_the_database(
    council: Council, tmp_path: Path
) -> None:
    file = tmp_path / "council.backup"
    council.cli("backup", "--out", str(file))
    manifest_file = backups.manifest_path(file)
    raw = json.loads(manifest_file.read_text("utf-8"))
    raw["counts"]["case"] = 4  # as if a case were lost between the backup and its manifest
    manifest_file.write_text(json.dumps(raw), "utf-8")
    council.open_cases("Dara")

    checked = council.cli("backup", "verify", str(file), ok=False)
    assert checked.exit_code == 1
    assert "table case has 3 rows where the backup has 4" in checked.output

    council.engine.dispose()
    refused = council.cli("restore", "--from", str(file), "--force", ok=False)
    assert refused.exit_code == 1
    assert "table case has 3 rows where the backup has 4" in refused.output
    if BACKEND == "sqlite":
        # The check runs on a staged copy before the swap: the live database is untouched.
        assert council.cases() == 4


@pytest.mark.skipif(BACKEND != "sqlite", reason="edits the SQLite backup file itself")
def test_an_audit_event_altered_inside_a_backup_is_caught(council: Council, tmp_path: Path) -> None:
    file = tmp_path / "council.backup"
    council.cli("backup", "--out", str(file))
    # Someone with the file (not the app) drops the append-only guard and rewrites history.
    with sqlite3.connect(file) as raw:
        guards = raw.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'case_event'"
        ).fetchall()
        for (guard,) in guards:
            raw.execute(f'DROP TRIGGER "{guard}"')
        raw.execute("UPDATE case_event SET reason = 'rewritten' WHERE seq = 2")
    raw.close()

    checked = council.cli("backup", "verify", str(file), ok=False)

    assert checked.exit_code == 1
    assert "audit chain broken" in checked.output
    assert "content does not match its hash" in checked.output


def test_a_backup_taken_while_cases_are_being_opened_is_consistent(
    council: Council, tmp_path: Path
) -> None:
    file = tmp_path / "busy.backup"
    stop = threading.Event()
    opened: list[int] = []

    def keep_working() -> None:
        n = 0
        while not stop.is_set() and n < 40:
            council.open_cases(f"Busy{n}")
            n += 1
        opened.append(n)

    worker = threading.Thread(target=keep_working)
    worker.start()
    try:
        manifest = backups.backup(council.url, file)
    finally:
        stop.set()
        worker.join(timeout=60)
    report = backups.verify(council.url, file)
    assert report.ok, report.describe()
    assert report.chains_checked
    assert report.events_checked == manifest.counts["case_event"]
    # Every case in the backup carries its whole opening story (a snapshot, not a torn copy).
    assert manifest.counts["case_event"] == 3 * manifest.counts["case"]


def test_a_file_that_is_not_a_backup_is_refused(council: Council, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database", "utf-8")

    result = council.cli("restore", "--from", str(notes), "--force", ok=False)

    assert result.exit_code == 1
    assert "is not a Casework backup" in result.output
    assert council.cases() == 3


def test_a_backup_without_its_manifest_is_refused(council: Council, tmp_path: Path) -> None:
    file = tmp_path / "council.backup"
    council.cli("backup", "--out", str(file))
    backups.manifest_path(file).unlink()

    result = council.cli("restore", "--from", str(file), "--force", ok=False)

    assert result.exit_code == 1
    assert "manifest" in result.output
    assert council.cases() == 3


def test_missing_postgresql_tools_are_named_in_a_sentence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    monkeypatch.setattr(backups, "PG_TOOLS_DIRS", ())

    with pytest.raises(backups.BackupError, match="pg_dump was not found: install the PostgreSQL"):
        backups.pg_tool("pg_dump")


@postgres_only
def test_a_postgresql_backup_is_a_pg_dump_custom_archive(council: Council, tmp_path: Path) -> None:
    file = tmp_path / "council.dump"
    council.cli("backup", "--out", str(file))

    assert backups.backup_kind(file) == "postgresql"
    assert file.read_bytes().startswith(b"PGDMP")
    assert backups.Manifest.read(file).backend == "postgresql"
