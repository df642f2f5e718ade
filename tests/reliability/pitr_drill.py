"""PostgreSQL point-in-time recovery, drilled on a private cluster (issue 8, "Backup and restore").

The README's procedure, run end to end: a cluster that archives its write-ahead log
(``archive_command`` copies each finished segment to an archive directory), a base backup taken
with ``pg_basebackup -X none`` (so that recovery must come from the archive) and checked with
``pg_verifybackup``, work before a chosen moment T (batch A) and after it (batch B: more cases, and
a bad script that overwrites every child's surname). The cluster is then stopped, the base backup
copied into a new data directory and started with ``restore_command`` and ``recovery_target_time =
T``. Afterwards batch A must be there, batch B must not, every table's row count must equal the
count taken at T, no foreign key may dangle and the case audit chains must verify. The shared
server on 5432 is never touched.

Used by ``bench/drills/pitr.py`` (by hand, with the demo council) and
``tests/reliability/test_pitr_drill.py`` (CI, PostgreSQL pass).
"""

from __future__ import annotations

import os
import pwd
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.orm import Session

from app.models import Case, Person
from tests.reliability.drills import (
    audit_chains,
    casework,
    dangling_foreign_keys,
    engine_for,
    table_row_counts,
)
from tests.reliability.private_cluster import COMMAND_SECONDS, PrivateCluster

DATABASE = "casework"
RECOVERY_SECONDS = 120.0
BAD_SURNAME = "OVERWRITTEN"


class ArchivingCluster(PrivateCluster):
    """A private cluster that archives every finished WAL segment to ``root/archive``."""

    def __init__(self, *, durable: bool = True) -> None:
        super().__init__(durable=durable)
        self.archive = self.root / "archive"
        self.base = self.root / "base"
        self.archive.mkdir()
        self._own(self.archive)
        # The README's settings, with this cluster's archive directory (PostgreSQL 15 docs,
        # 26.3.1 "Setting Up WAL Archiving": the command must refuse to overwrite a file).
        self._append_conf(
            self.data,
            "wal_level = replica",
            "archive_mode = on",
            f"archive_command = 'test ! -f {self.archive}/%f && cp %p {self.archive}/%f'",
        )

    def _own(self, path: Path) -> None:
        if self._as_root:
            account = pwd.getpwnam("postgres")
            os.chown(path, account.pw_uid, account.pw_gid)

    def _append_conf(self, data: Path, *lines: str) -> None:
        with (data / "postgresql.conf").open("a") as conf:
            conf.write("\n# point-in-time recovery drill\n" + "\n".join(lines) + "\n")

    def _as_postgres(self, *command: str) -> None:
        argv = list(command)
        if self._as_root:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        done = subprocess.run(  # noqa: S603 - cp of our own directories
            argv, capture_output=True, text=True, timeout=COMMAND_SECONDS, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {done.stdout}{done.stderr}")

    def base_backup(self) -> float:
        """``pg_basebackup -D BASE -X none`` (the WAL comes from the archive); seconds taken."""
        started = time.monotonic()
        self._run(
            "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-D",
            str(self.base),
            "-X",
            "none",
            "-c",
            "fast",
        )
        return time.monotonic() - started

    def verify_backup(self) -> float:
        """``pg_verifybackup -n BASE``: every file against the backup manifest (``-n``: the WAL is
        in the archive, not in the backup, so it is not parsed here); seconds taken."""
        started = time.monotonic()
        self._run("pg_verifybackup", "-n", str(self.base))
        return time.monotonic() - started

    def restore_to(self, target: str) -> float:
        """Copy the base backup into a new data directory, point recovery at ``target`` (a
        timestamp with time zone), start it and wait until it has promoted; seconds taken."""
        restored = self.root / "restored"
        self._as_postgres("cp", "-a", str(self.base), str(restored))
        # PostgreSQL 15 docs, 26.3.4 "Recovering Using a Continuous Archive Backup".
        self._append_conf(
            restored,
            f"restore_command = 'cp {self.archive}/%f %p'",
            f"recovery_target_time = '{target}'",
            "recovery_target_action = 'promote'",
        )
        signal = restored / "recovery.signal"
        signal.touch()
        self._own(signal)
        self.data = restored
        started = time.monotonic()
        self.start()
        # pg_ctl -w returns once connections are accepted, which with hot_standby can be before
        # the target is reached: recovery is over when the server has promoted.
        admin = create_engine(self.url, isolation_level="AUTOCOMMIT")
        try:
            deadline = started + RECOVERY_SECONDS
            while True:
                with admin.connect() as connection:
                    if not connection.execute(text("SELECT pg_is_in_recovery()")).scalar_one():
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError("recovery did not finish")
                time.sleep(0.05)  # waiting for the startup process to promote
        finally:
            admin.dispose()
        return time.monotonic() - started


@dataclass
class PitrResult:
    base_backup_s: float = 0.0
    base_backup_bytes: int = 0
    verify_backup_s: float = 0.0
    archive_wait_s: float = 0.0
    wal_segments_archived: int = 0
    recovery_s: float = 0.0
    health_status: int | None = None
    target_time: str = ""
    rows_at_t: int = 0
    rows_before_recovery: int = 0
    rows_after_recovery: int = 0
    batch_a_children: int = 0
    batch_b_children: int = 0
    audit_events: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> dict[str, object]:
        return {
            "base_backup_s": round(self.base_backup_s, 2),
            "base_backup_mb": round(self.base_backup_bytes / 1e6, 1),
            "verify_backup_s": round(self.verify_backup_s, 2),
            "archive_wait_s": round(self.archive_wait_s, 2),
            "wal_segments_archived": self.wal_segments_archived,
            "recovery_s": round(self.recovery_s, 2),
            "target_time": self.target_time,
            "rows_at_t": self.rows_at_t,
            "rows_before_recovery": self.rows_before_recovery,
            "rows_after_recovery": self.rows_after_recovery,
            "batch_a_children": self.batch_a_children,
            "batch_b_children": self.batch_b_children,
            "audit_events_verified": self.audit_events,
            "health_status": self.health_status,
            "problems": self.problems,
            "ok": self.ok,
        }


def _work(url: str, batch: str, children: int) -> None:
    """Children recorded and a case opened for each, through the case service (as the API does:
    events, deadlines and the audit chain written with it)."""
    from tests.cases.factories import make_cast, open_case
    from tests.factories import make_child

    with engine_for(url) as engine, Session(engine) as session:
        cast = make_cast(session)
        for n in range(children):
            child = make_child(session, first_name=f"{batch}-{n}", last_name=f"Batch{batch}")
            open_case(session, by=cast.manager, child=child, team=cast.team)
        session.commit()


def _switch_and_wait_archived(url: str) -> float:
    """Close the current WAL segment and wait until the archiver has copied it; seconds."""
    started = time.monotonic()
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            segment = connection.execute(
                text("SELECT pg_walfile_name(pg_switch_wal())")
            ).scalar_one()
            while True:
                last = connection.execute(
                    text("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
                ).scalar_one()
                if last >= segment:
                    break
                if time.monotonic() - started > COMMAND_SECONDS:
                    raise RuntimeError(f"WAL segment {segment} was not archived")
                time.sleep(0.05)  # waiting for the archiver
    finally:
        admin.dispose()
    return time.monotonic() - started


def _children(url: str, batch: str) -> int:
    with engine_for(url) as engine, Session(engine) as session:
        return len(
            session.scalars(
                select(Person.id).where(Person.first_name.startswith(f"{batch}-"))
            ).all()
        )


def _health(url: str) -> int:
    from tests.reliability.drills import _request, free_port, uvicorn_server

    port = free_port()
    with uvicorn_server(url, port):
        return _request(port, "GET", "/health", {}, None)[0]


def pitr_drill(
    cluster: ArchivingCluster, *, demo_children: int, batch: int, check_health: bool
) -> PitrResult:
    """The drill on a started ``cluster``; the cluster is left running on the restored copy."""
    result = PitrResult()
    admin = create_engine(cluster.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {DATABASE}"))
    admin.dispose()
    url = cluster.database_url(DATABASE)

    # 1. Migrated, with the council's work in it (the operator's commands).
    done = casework(url, "db", "upgrade")
    assert done.returncode == 0, done.stdout + done.stderr
    if demo_children:
        done = casework(url, "demo-data", "--children", str(demo_children))
        assert done.returncode == 0, done.stdout + done.stderr
    _work(url, "Base", batch)

    # 2. The base backup, then batch A, then the moment T.
    result.base_backup_s = cluster.base_backup()
    result.verify_backup_s = cluster.verify_backup()
    result.base_backup_bytes = sum(f.stat().st_size for f in cluster.base.rglob("*") if f.is_file())
    _work(url, "A", batch)
    with engine_for(url) as engine:
        tables = set(inspect(engine).get_table_names())
        at_t = table_row_counts(engine, tables)
        with engine.connect() as connection:
            result.target_time = str(connection.execute(text("SELECT now()")).scalar_one())
    result.rows_at_t = sum(at_t.values())
    result.archive_wait_s = _switch_and_wait_archived(cluster.url)

    # 3. After T: more cases, and someone runs a bad script over every child's surname.
    time.sleep(0.01)  # T must be strictly before batch B's first commit
    _work(url, "B", batch)
    with engine_for(url) as engine, engine.begin() as connection:
        connection.execute(text("UPDATE person SET last_name = :bad"), {"bad": BAD_SURNAME})
    with engine_for(url) as engine:
        result.rows_before_recovery = sum(table_row_counts(engine, tables).values())
    result.archive_wait_s += _switch_and_wait_archived(cluster.url)
    result.wal_segments_archived = sum(1 for f in cluster.archive.iterdir() if len(f.name) == 24)

    # 4. Stop, restore the base backup into a new directory, recover to T.
    cluster.stop("fast")
    result.recovery_s = cluster.restore_to(result.target_time)

    # 5. The server's log says it replayed archived WAL and stopped at T, not at the end.
    log = cluster.log.read_text()
    for said in (
        "restored log file",
        "recovery stopping before commit",
        "archive recovery complete",
    ):
        if said not in log:
            result.problems.append(f"the server log does not say '{said}'")

    # 6. Batch A is there, batch B and the bad script are not, counts equal those at T.
    result.batch_a_children = _children(url, "A")
    result.batch_b_children = _children(url, "B")
    if result.batch_a_children != batch:
        result.problems.append(f"batch A: {result.batch_a_children} of {batch} children")
    if result.batch_b_children:
        result.problems.append(f"batch B (after T) survived: {result.batch_b_children} children")
    with engine_for(url) as engine:
        after = table_row_counts(engine, tables)
        result.rows_after_recovery = sum(after.values())
        differ = {t: (at_t[t], after[t]) for t in tables if at_t[t] != after[t]}
        if differ:
            result.problems.append(f"row counts differ from T (at T, after): {differ}")
        with Session(engine) as session:
            overwritten = session.scalar(
                select(Person.id).where(Person.last_name == BAD_SURNAME).limit(1)
            )
            if overwritten is not None:
                result.problems.append("the bad script's surnames survived recovery")
            if not session.scalar(select(Case.id).limit(1)):
                result.problems.append("no cases after recovery")
        result.problems += [f"dangling {fk}" for fk in dangling_foreign_keys(engine, tables)]
        result.audit_events, broken = audit_chains(engine)
        if broken is not None:
            result.problems.append(f"audit chain broken: {broken}")
    verify = casework(url, "audit", "verify")
    if verify.returncode != 0:
        result.problems.append(f"casework audit verify: {verify.stdout}{verify.stderr}")
    if check_health:
        result.health_status = _health(url)
        if result.health_status != 200:
            result.problems.append(f"/health answered {result.health_status}")
    return result
