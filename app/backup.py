"""Backup and restore of the whole database, each checked against a manifest written beside it.

A children's social care record has to outlive the server it sits on (councils keep case records
until the child's 75th birthday), so a backup is only trusted once it has been restored and
checked. Every backup gets a side file ``FILE.manifest.json`` saying what it holds: the row count
of every table, the Alembic revision, when it was taken and by which version of Casework. A
restore (and ``casework backup verify``) checks the restored database against it: the same counts,
the same revision, and every case's audit hash chain still verifying.

- SQLite: the online backup API (``sqlite3.Connection.backup``) copies a consistent snapshot while
  the service runs; the manifest is counted from the copy itself. A restore builds the database in
  a temporary file beside the live one, checks it, then swaps it in with ``os.replace`` (atomic on
  one filesystem) and removes the old ``-wal``/``-shm`` files, which belong to the old database.
- PostgreSQL: ``pg_dump --format=custom``, taken on a snapshot exported from the same transaction
  that counted the rows (so manifest and dump agree even while the service writes), and
  ``pg_restore --clean --if-exists --no-owner --single-transaction`` (all or nothing). The password
  goes to the tools through ``PGPASSWORD``, never on a command line or in a message.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from sqlalchemy import Connection, Engine, column, create_engine, func, inspect, select, table, text
from sqlalchemy.engine import URL, make_url

from app import migrate
from app.db import make_engine, make_session_factory

MANIFEST_SUFFIX = ".manifest.json"
MANIFEST_FORMAT = 1
SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"
# Alembic's own bookkeeping: its revision is checked on its own, not as a row count.
ALEMBIC_TABLE = "alembic_version"
PG_TOOLS_DIRS = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin")


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message is one sentence for an operator."""


@dataclass(frozen=True)
class Manifest:
    backend: str
    created_at: str
    app_version: str
    alembic_revision: str | None
    counts: dict[str, int]
    format: int = MANIFEST_FORMAT

    def write(self, backup: Path) -> Path:
        path = manifest_path(backup)
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n", "utf-8")
        return path

    @classmethod
    def read(cls, backup: Path) -> Manifest:
        path = manifest_path(backup)
        if not path.is_file():
            raise BackupError(
                f"{path} is missing: every backup needs its manifest beside it to be checked."
            )
        try:
            raw = json.loads(path.read_text("utf-8"))
            return cls(
                backend=str(raw["backend"]),
                created_at=str(raw["created_at"]),
                app_version=str(raw["app_version"]),
                alembic_revision=raw["alembic_revision"],
                counts={str(k): int(v) for k, v in raw["counts"].items()},
                format=int(raw["format"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BackupError(f"{path} is not a Casework backup manifest ({exc}).") from None

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


@dataclass
class CheckReport:
    """What a restored database was checked for, and every way it differs from its manifest."""

    tables: int = 0
    rows: int = 0
    events_checked: int = 0
    chains_checked: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def describe(self) -> str:
        if not self.ok:
            return "The restored database does not match its backup: " + "; ".join(self.problems)
        chains = (
            f"{self.events_checked} case events verify"
            if self.chains_checked
            else "audit chains not checked (older revision: run `casework db upgrade`, then "
            "`casework audit verify`)"
        )
        return f"{self.rows} rows in {self.tables} tables match the manifest; {chains}."


def manifest_path(backup: Path) -> Path:
    return backup.with_name(backup.name + MANIFEST_SUFFIX)


def app_version() -> str:
    try:
        return metadata.version("casework")
    except metadata.PackageNotFoundError:  # running from a checkout that was never installed
        return "unknown"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def table_counts(connection: Connection) -> dict[str, int]:
    """Rows per table, every table but Alembic's (the names come from the catalogue)."""
    names = sorted(n for n in inspect(connection).get_table_names() if n != ALEMBIC_TABLE)
    return {
        name: int(connection.execute(select(func.count()).select_from(table(name))).scalar_one())
        for name in names
    }


def _revision(connection: Connection) -> str | None:
    if ALEMBIC_TABLE not in inspect(connection).get_table_names():
        return None
    value = connection.execute(
        select(column("version_num")).select_from(table(ALEMBIC_TABLE))
    ).scalar()
    return str(value) if value is not None else None


def backup_kind(path: Path) -> str:
    """``sqlite`` or ``postgresql``, read from the file's first bytes (not from its name)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError(f"{path} cannot be read ({exc.strerror}).") from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_CUSTOM_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is not a Casework backup (neither SQLite nor a pg_dump archive).")


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up or restored.")
    return Path(database)


def has_data(engine: Engine) -> bool:
    """Whether any table but Alembic's holds a row (a migrated, empty database holds none)."""
    with engine.connect() as connection:
        return any(table_counts(connection).values())


# --------------------------------------------------------------------------------------------------
# Checks on a restored database
# --------------------------------------------------------------------------------------------------


def check_database(engine: Engine, manifest: Manifest) -> CheckReport:
    """Counts and revision equal to the manifest, and every audit chain verifying."""
    from app.audit.service import verify_chains_report

    report = CheckReport()
    with engine.connect() as connection:
        counts = table_counts(connection)
        revision = _revision(connection)
    report.tables, report.rows = len(counts), sum(counts.values())
    if revision != manifest.alembic_revision:
        report.problems.append(
            f"migration revision {revision} where the backup has {manifest.alembic_revision}"
        )
    for name in sorted(set(counts) | set(manifest.counts)):
        have, want = counts.get(name), manifest.counts.get(name)
        if have != want:
            report.problems.append(f"table {name} has {have} rows where the backup has {want}")
    # The ORM reads case_event as this version's models describe it: only at this version's head.
    if revision is not None and revision == migrate.head_revision():
        with make_session_factory(engine)() as session:
            chains = verify_chains_report(session)
            session.rollback()
        report.chains_checked, report.events_checked = True, chains.checked_events
        if chains.first_broken is not None:
            broken = chains.first_broken
            report.problems.append(
                f"audit chain broken at case {broken.case_id}, event {broken.seq}: {broken.problem}"
            )
    return report


# --------------------------------------------------------------------------------------------------
# SQLite
# --------------------------------------------------------------------------------------------------


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy through the online backup API (readers and writers may carry on)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{source} could not be copied: {exc}.") from None
    finally:
        src.close()


@contextmanager
def _sqlite_engine(path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{path}")
    try:
        yield engine
    finally:
        engine.dispose()


def _sqlite_manifest(path: Path) -> Manifest:
    with _sqlite_engine(path) as engine, engine.connect() as connection:
        return Manifest(
            backend="sqlite",
            created_at=_now(),
            app_version=app_version(),
            alembic_revision=_revision(connection),
            counts=table_counts(connection),
        )


def _remove_sidecars(path: Path) -> None:
    for suffix in ("-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def sqlite_backup(url: str, out: Path) -> Manifest:
    source = _sqlite_path(url)
    if not source.is_file():
        raise BackupError(f"There is no database file at {source} to back up.")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.{uuid.uuid4().hex}.partial")
    try:
        _sqlite_copy(source, partial)
        # Counted from the copy, so the manifest describes exactly what the file holds.
        manifest = _sqlite_manifest(partial)
        _remove_sidecars(partial)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
        _remove_sidecars(partial)
    manifest.write(out)
    return manifest


def sqlite_restore(url: str, backup: Path, *, force: bool) -> CheckReport:
    target = _sqlite_path(url)
    manifest = Manifest.read(backup)
    if target.is_file() and not force:
        with _sqlite_engine(target) as engine:
            if has_data(engine):
                raise BackupError(
                    f"The database at {target} already holds records: restoring would replace "
                    "them. Stop Casework, then run the restore again with --force."
                )
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.{uuid.uuid4().hex}.restoring")
    try:
        _sqlite_copy(backup, staged)
        # Checked before the swap: a backup that does not match its manifest never replaces the
        # live database.
        with _sqlite_engine(staged) as engine:
            report = check_database(engine, manifest)
        if not report.ok:
            raise BackupError(report.describe())
        _remove_sidecars(staged)
        os.replace(staged, target)
        # The old database's write-ahead log must not be replayed into the restored file.
        _remove_sidecars(target)
    finally:
        staged.unlink(missing_ok=True)
        _remove_sidecars(staged)
    with _sqlite_engine(target) as engine:
        return check_database(engine, manifest)


def sqlite_verify(backup: Path) -> CheckReport:
    manifest = Manifest.read(backup)
    with tempfile.TemporaryDirectory(prefix="casework-verify-") as scratch:
        copy = Path(scratch) / "verify.db"
        _sqlite_copy(backup, copy)
        with _sqlite_engine(copy) as engine:
            return check_database(engine, manifest)


# --------------------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------------------


def pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for directory in PG_TOOLS_DIRS:
        candidate = Path(directory) / name
        if candidate.is_file():
            return str(candidate)
    raise BackupError(
        f"{name} was not found: install the PostgreSQL client tools (e.g. the postgresql-client "
        "package, the same major version as the server) and put them on PATH."
    )


def _libpq(url: str | URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password, and the environment carrying it."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        # libpq's messages name the host and database, never the password (it is not on argv).
        raise BackupError(f"{what} failed: {lines[-1] if lines else f'exit {done.returncode}'}.")


def pg_backup(url: str, out: Path) -> Manifest:
    pg_dump = pg_tool("pg_dump")
    conninfo, env = _libpq(url)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.{uuid.uuid4().hex}.partial")
    engine = create_engine(make_url(url), isolation_level="REPEATABLE READ")
    try:
        with engine.connect() as connection, connection.begin():
            # pg_dump reads the very snapshot the rows were counted in: the manifest and the dump
            # agree even while the service goes on writing.
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            manifest = Manifest(
                backend="postgresql",
                created_at=_now(),
                app_version=app_version(),
                alembic_revision=_revision(connection),
                counts=table_counts(connection),
            )
            _run(
                [
                    pg_dump,
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    f"--file={partial}",
                    f"--dbname={conninfo}",
                ],
                env,
                "pg_dump",
            )
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
        engine.dispose()
    manifest.write(out)
    return manifest


def _pg_restore_into(url: str | URL, backup: Path) -> None:
    conninfo, env = _libpq(url)
    _run(
        [
            pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            # All or nothing: a restore that fails half-way leaves the database as it was.
            "--single-transaction",
            f"--dbname={conninfo}",
            str(backup),
        ],
        env,
        "pg_restore",
    )


def pg_restore(url: str, backup: Path, *, force: bool) -> CheckReport:
    manifest = Manifest.read(backup)
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        if not force and has_data(engine):
            raise BackupError(
                f"The database {make_url(url).database} already holds records: restoring would "
                "replace them. Stop Casework, then run the restore again with --force."
            )
        engine.dispose()  # pg_restore --clean drops tables: hold no connection of our own
        _pg_restore_into(url, backup)
        return check_database(engine, manifest)
    finally:
        engine.dispose()


def pg_verify(url: str, backup: Path) -> CheckReport:
    """Restore into a scratch database on the same server, check it, drop it."""
    manifest = Manifest.read(backup)
    parsed = make_url(url)
    scratch = f"{parsed.database}_verify_{uuid.uuid4().hex[:8]}"
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{scratch}"'))
        target = parsed.set(database=scratch)
        try:
            _pg_restore_into(target, backup)
            engine = make_engine(target.render_as_string(hide_password=False), pool_size=1)
            try:
                return check_database(engine, manifest)
            finally:
                engine.dispose()
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch}"'))
    finally:
        admin.dispose()


# --------------------------------------------------------------------------------------------------
# Entry points (the CLI calls these)
# --------------------------------------------------------------------------------------------------


def backup(url: str, out: Path) -> Manifest:
    if out.exists() and out.is_dir():
        raise BackupError(f"{out} is a directory: give the backup a file name.")
    return sqlite_backup(url, out) if is_sqlite(url) else pg_backup(url, out)


def _matching(url: str, backup_file: Path) -> str:
    if not backup_file.is_file():
        raise BackupError(f"{backup_file} is not a file.")
    kind = backup_kind(backup_file)
    wanted = "sqlite" if is_sqlite(url) else "postgresql"
    if kind != wanted:
        raise BackupError(
            f"{backup_file} is a {kind} backup but the configured database is {wanted}: restore "
            "it into a database of the same kind."
        )
    return kind


def restore(url: str, backup_file: Path, *, force: bool = False) -> CheckReport:
    kind = _matching(url, backup_file)
    if kind == "sqlite":
        return sqlite_restore(url, backup_file, force=force)
    return pg_restore(url, backup_file, force=force)


def verify(url: str, backup_file: Path) -> CheckReport:
    if not backup_file.is_file():
        raise BackupError(f"{backup_file} is not a file.")
    if backup_kind(backup_file) == "sqlite":
        return sqlite_verify(backup_file)
    if is_sqlite(url):
        raise BackupError(
            f"{backup_file} is a PostgreSQL backup: checking it needs a PostgreSQL server, so set "
            "CASEWORK_DATABASE_URL to one (a scratch database is created there and dropped)."
        )
    return pg_verify(url, backup_file)


def describe_manifest(manifest: Manifest) -> str:
    return (
        f"{manifest.rows} rows in {len(manifest.counts)} tables at migration "
        f"{manifest.alembic_revision}"
    )
