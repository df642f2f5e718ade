"""The kill -9 drills (issue 8, part 2), shared by ``test_kill_drills.py`` (a few seeded kills, in
CI) and ``bench/drills/`` (more kills, timings for the drills README).

A ``kill -9`` gives a process no chance to clean up: whatever it had not committed must vanish,
whatever it had committed (and acknowledged) must survive, and nothing may be left half done.

- ``import_drill``: ``casework import cin-census|ssda903`` killed at a seeded point of its run,
  then run again to completion; the database must end exactly as after one clean import.
- ``server_drill``: the API under uvicorn, several clients opening cases and taking them on to
  ``referral``; the server is killed at a seeded point, restarted, and every case is checked to be
  whole (its events, its version, its deadlines) or absent, every acknowledged write present.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app import migrate
from app.audit.service import verify_chains_report
from app.backup import table_counts
from app.config import ROOT
from app.db import make_engine
from app.models import Case, CaseEvent, Deadline, Person

# The child prints a line once Python and the app are loaded, so the kill lands in the import
# itself rather than in interpreter start-up.
CLI_DRIVER = (
    "import sys\n"
    "from app.cli import app\n"
    "print('started', flush=True)\n"
    "app(args=sys.argv[1:], prog_name='casework')\n"
)
SECRET_KEY = "kill-drill-secret-key-that-is-long-enough-0123456789"
START_SECONDS = 60.0
REQUEST_SECONDS = 30.0


def cli_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEWORK_")}
    env.update(
        CASEWORK_DATABASE_URL=url,
        CASEWORK_ENVIRONMENT="development",
        CASEWORK_SECRET_KEY=SECRET_KEY,
        CASEWORK_COOKIE_SECURE="false",
        PYTHONPATH=str(ROOT),
    )
    return env


def casework(url: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run ``casework ARGS`` as an operator would, on the database at ``url``."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-c", CLI_DRIVER, *args],
        env=cli_env(url),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    done.stdout = done.stdout.removeprefix("started\n")  # the driver's line, not the command's
    return done


@contextmanager
def engine_for(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def counts(url: str) -> dict[str, int]:
    with engine_for(url) as engine, engine.connect() as connection:
        return table_counts(connection)


def integrity_problems(url: str) -> list[str]:
    """SQLite's own check of the file after a kill, and the audit chains on either backend."""
    problems: list[str] = []
    with engine_for(url) as engine:
        if engine.dialect.name == "sqlite":
            with engine.connect() as connection:
                result = connection.execute(text("PRAGMA integrity_check")).scalar()
                if result != "ok":
                    problems.append(f"SQLite integrity_check: {result}")
        with Session(engine) as session:
            report = verify_chains_report(session)
            if report.first_broken is not None:
                problems.append(f"audit chain broken: {report.first_broken}")
    return problems


# --------------------------------------------------------------------------------------------------
# Fresh databases, cloned from one migrated template (a migration per trial would dominate)
# --------------------------------------------------------------------------------------------------


class Databases:
    """Empty migrated databases of one backend, each a copy of a template migrated once."""

    def __init__(
        self, template_url: str, workdir: Path, *, prepare: tuple[tuple[str, ...], ...] = ()
    ) -> None:
        """``prepare``: ``casework`` commands run on the template after migrating it (e.g. the
        earlier year's return, which a later SSDA903 continues)."""
        self.template = template_url
        self.workdir = workdir
        self.made: list[str] = []
        with engine_for(template_url) as engine:
            migrate.upgrade(engine)
        for args in prepare:
            done = casework(template_url, *args)
            assert done.returncode == 0, f"casework {' '.join(args)}: {done.stdout}{done.stderr}"
        self.sqlite = make_url(template_url).get_backend_name() == "sqlite"

    def fresh(self, name: str) -> str:
        if self.sqlite:
            path = self.workdir / f"{name}.db"
            source = make_url(self.template).database
            assert source is not None
            shutil.copyfile(source, path)
            url = f"sqlite:///{path}"
        else:
            parsed = make_url(self.template)
            database = f"{parsed.database}_{name}"
            with self._admin() as admin, admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{database}"'))
                connection.execute(
                    text(f'CREATE DATABASE "{database}" TEMPLATE "{parsed.database}"')
                )
            url = parsed.set(database=database).render_as_string(hide_password=False)
        self.made.append(url)
        return url

    @contextmanager
    def _admin(self) -> Iterator[Engine]:
        admin = create_engine(
            make_url(self.template).set(database="postgres"), isolation_level="AUTOCOMMIT"
        )
        try:
            yield admin
        finally:
            admin.dispose()

    def drop_all(self) -> None:
        if self.sqlite:
            return
        with self._admin() as admin, admin.connect() as connection:
            for url in self.made:
                connection.execute(
                    text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
                )
        self.made.clear()


# --------------------------------------------------------------------------------------------------
# The returns to import: generated from the demo council with the returns commands
# --------------------------------------------------------------------------------------------------


def demo_cin_census(workdir: Path, *, children: int, year: int) -> Path:
    """The council-scale demo (SQLite, ``children`` children in need today) and its CIN census
    for ``year``, written by ``casework returns cin-census``: a legacy system's return to
    migrate."""
    url = f"sqlite:///{workdir / 'demo-council.db'}"
    out = workdir / f"cin_census_{year}.xml"
    for args in (
        ("db", "upgrade"),
        ("demo-data", "--scale", "--children", str(children)),
        ("returns", "cin-census", "--year", str(year), "--out", str(out)),
    ):
        done = casework(url, *args)
        assert done.returncode == 0, f"casework {' '.join(args)}: {done.stdout}{done.stderr}"
    return out


# --------------------------------------------------------------------------------------------------
# kill -9 during a bulk import
# --------------------------------------------------------------------------------------------------


@dataclass
class ImportTrial:
    seed: int
    kill_after_ms: int
    killed: bool  # False: the import finished before the kill came
    after_kill: str  # "nothing", "complete" or "HALF-APPLIED"
    rerun_exit: int
    equal_to_clean: bool
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.after_kill != "HALF-APPLIED"
            and self.rerun_exit == 0
            and self.equal_to_clean
            and not self.problems
        )


@dataclass
class ImportDrill:
    kind: str
    clean_seconds: float
    clean_counts: dict[str, int]
    trials: list[ImportTrial]

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.trials)


def _start(url: str, *args: str) -> tuple[subprocess.Popen[str], float]:
    """Start ``casework ARGS``; return it once it says it has started, and the time it did."""
    child = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-c", CLI_DRIVER, *args],
        env=cli_env(url),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    assert line.strip() == "started", f"the import did not start: {line!r}"
    return child, time.monotonic()


def import_drill(databases: Databases, kind: str, source: Path, seeds: list[int]) -> ImportDrill:
    """Clean import once (the reference), then for each seed: a fresh database, the import killed
    after a seeded share of the clean run's time, the import again to completion."""
    args = ("import", kind, str(source))
    reference = databases.fresh(f"{kind.replace('-', '_')}_clean")
    baseline = counts(reference)
    child, started = _start(reference, *args)
    out, err = child.communicate(timeout=600)
    clean_seconds = time.monotonic() - started
    assert child.returncode == 0, f"the clean import failed: {out}{err}"
    clean = counts(reference)
    assert clean != baseline, "the clean import wrote nothing: the drill would prove nothing"
    trials = []
    for seed in seeds:
        url = databases.fresh(f"{kind.replace('-', '_')}_{seed}")
        # Seeded: a failing trial can be run again exactly (same seed, same point of the run).
        kill_after = random.Random(seed).uniform(0.05, 0.95) * clean_seconds
        child, started = _start(url, *args)
        time.sleep(max(0.0, kill_after - (time.monotonic() - started)))
        killed = child.poll() is None
        if killed:
            child.send_signal(signal.SIGKILL)
        child.communicate(timeout=60)
        after = counts(url)
        state = "nothing" if after == baseline else "complete" if after == clean else "HALF-APPLIED"
        problems = integrity_problems(url)
        rerun = casework(url, *args)
        final = counts(url)
        problems += integrity_problems(url)
        problems += duplicate_children(url)
        trials.append(
            ImportTrial(
                seed=seed,
                kill_after_ms=round(kill_after * 1000),
                killed=killed,
                after_kill=state,
                rerun_exit=rerun.returncode,
                equal_to_clean=final == clean,
                problems=problems,
            )
        )
    return ImportDrill(kind, clean_seconds, clean, trials)


def duplicate_children(url: str) -> list[str]:
    with engine_for(url) as engine, Session(engine) as session:
        twice = session.execute(
            select(Person.la_child_id, func.count())
            .where(Person.la_child_id.is_not(None))
            .group_by(Person.la_child_id)
            .having(func.count() > 1)
        ).all()
    return [f"LAchildID {row[0]} imported {row[1]} times" for row in twice]


# --------------------------------------------------------------------------------------------------
# kill -9 of the server mid-request
# --------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def uvicorn_server(url: str, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """The app under uvicorn in a process of its own (so that it can be killed with -9)."""
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env={**cli_env(url), "CASEWORK_ENVIRONMENT": "test"},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {server.returncode} before serving")
            try:
                if _request(port, "GET", "/health", {}, None)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)  # waiting for the server to listen
        yield server
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _request(
    port: int, method: str, path: str, headers: dict[str, str], body: object
) -> tuple[int, dict[str, object]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_SECONDS)
    try:
        payload = None if body is None else json.dumps(body)
        conn.request(
            method, path, body=payload, headers={**headers, "Content-Type": "application/json"}
        )
        response = conn.getresponse()
        raw = response.read()
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = {}
        return response.status, data if isinstance(data, dict) else {}
    finally:
        conn.close()


@dataclass
class ServerSetup:
    url: str
    headers: dict[str, str]
    team_id: uuid.UUID
    children: list[uuid.UUID]


@dataclass
class ServerTrial:
    seed: int
    kill_after_ms: int
    acknowledged_opens: int
    acknowledged_referrals: int
    unanswered: int
    cases_after_kill: int
    restart_seconds: float
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def server_drill(
    setup: ServerSetup, *, seed: int, clients: int = 4, kill_window_ms: tuple[int, int]
) -> ServerTrial:
    """Clients open a case for each child and take it on to referral; the server dies a seeded
    time after the first case is acknowledged; after a restart every case is whole or absent and
    every reply kept its word."""
    rng = random.Random(seed)
    kill_after = rng.uniform(*kill_window_ms) / 1000
    port = free_port()
    queue = list(setup.children)
    lock = threading.Lock()
    opened: dict[uuid.UUID, uuid.UUID] = {}  # child -> case, answered 201
    referred: set[uuid.UUID] = set()  # cases answered 200 to accept_referral
    unanswered: list[uuid.UUID] = []  # children whose request got no answer
    first_answer = threading.Event()

    def client() -> None:
        while True:
            with lock:
                if not queue:
                    return
                child_id = queue.pop()
            try:
                status, body = _request(
                    port,
                    "POST",
                    "/api/v1/cases",
                    setup.headers,
                    {"child_id": str(child_id), "team_id": str(setup.team_id)},
                )
                if status != 201:
                    raise OSError(f"open answered {status}")
                case_id = uuid.UUID(str(body["id"]))
                with lock:
                    opened[child_id] = case_id
                first_answer.set()
                status, _ = _request(
                    port,
                    "POST",
                    f"/api/v1/cases/{case_id}/transitions",
                    {**setup.headers, "If-Match": '"1"'},
                    {"event": "accept_referral"},
                )
                if status == 200:
                    with lock:
                        referred.add(case_id)
            except (OSError, http.client.HTTPException):
                # The server is gone (or the reply was lost): whether it wrote is for the checks.
                with lock:
                    unanswered.append(child_id)

    with uvicorn_server(setup.url, port) as server:
        threads = [threading.Thread(target=client) for _ in range(clients)]
        for thread in threads:
            thread.start()
        # The clock starts at the first acknowledged case, so the kill falls among the writes
        # (not in the warm-up of a freshly started server).
        first_answer.wait(timeout=REQUEST_SECONDS)
        time.sleep(kill_after)
        server.send_signal(signal.SIGKILL)
        server.wait()
        for thread in threads:
            thread.join(timeout=REQUEST_SECONDS * 2)
    problems = case_problems(setup.url, opened, referred)
    problems += integrity_problems(setup.url)
    after_kill = case_count(setup.url)
    # Restart and finish the work: every child ends with exactly one case.
    started = time.monotonic()
    port_now = free_port()
    with uvicorn_server(setup.url, port_now):
        restart_seconds = time.monotonic() - started
        for child_id in setup.children:
            if child_id in opened:
                continue
            status, _ = _request(
                port_now,
                "POST",
                "/api/v1/cases",
                setup.headers,
                {"child_id": str(child_id), "team_id": str(setup.team_id)},
            )
            if status not in (201, 409):
                problems.append(f"reopening after the restart answered {status}")
    problems += one_case_per_child(setup.url, setup.children)
    problems += integrity_problems(setup.url)
    return ServerTrial(
        seed=seed,
        kill_after_ms=round(kill_after * 1000),
        acknowledged_opens=len(opened),
        acknowledged_referrals=len(referred),
        unanswered=len(unanswered),
        cases_after_kill=after_kill,
        restart_seconds=round(restart_seconds, 2),
        problems=problems,
    )


def case_count(url: str) -> int:
    with engine_for(url) as engine, Session(engine) as session:
        return session.scalar(select(func.count()).select_from(Case)) or 0


def case_problems(
    url: str,
    opened: dict[uuid.UUID, uuid.UUID],
    referred: set[uuid.UUID],
    *,
    only_children: set[uuid.UUID] | None = None,
) -> list[str]:
    """Every case whole: its events are 1..version, the first is the opening, it has its
    deadlines; every acknowledged open and referral is there. ``only_children``: check only
    these children's cases (the drill's own, among others that hold more than state changes)."""
    problems: list[str] = []
    with engine_for(url) as engine, Session(engine) as session:
        cases = {
            c.id: c
            for c in session.scalars(select(Case))
            if only_children is None or c.child_id in only_children
        }
        events: dict[uuid.UUID, list[CaseEvent]] = {}
        for event in session.scalars(select(CaseEvent).order_by(CaseEvent.case_id, CaseEvent.seq)):
            if only_children is None or event.child_id in only_children:
                events.setdefault(event.case_id, []).append(event)
        deadlines: dict[uuid.UUID | None, int] = {
            row[0]: row[1]
            for row in session.execute(
                select(Deadline.case_id, func.count()).group_by(Deadline.case_id)
            )
        }
    for case_id, case in cases.items():
        story = events.get(case_id, [])
        if not story:
            problems.append(f"case {case_id} has no events")
            continue
        if [e.seq for e in story] != list(range(1, len(story) + 1)) or len(story) != case.version:
            problems.append(
                f"case {case_id} at version {case.version} has events {[e.seq for e in story]}"
            )
        if story[-1].to_state not in (None, case.state):
            problems.append(f"case {case_id} is {case.state} but its last event says otherwise")
        if not deadlines.get(case_id):
            problems.append(f"case {case_id} has no deadline")
    orphans = set(events) - set(cases)
    problems += [f"events without a case: {sorted(map(str, orphans))}"] if orphans else []
    for case_id in opened.values():
        if case_id not in cases:
            problems.append(f"case {case_id} was acknowledged (201) but is not there")
    for case_id in referred:
        if case_id not in cases or cases[case_id].version < 2:
            problems.append(f"case {case_id}'s referral was acknowledged but is not there")
    return problems


def one_case_per_child(url: str, children: list[uuid.UUID]) -> list[str]:
    with engine_for(url) as engine, Session(engine) as session:
        per_child: dict[uuid.UUID, int] = {
            row[0]: row[1]
            for row in session.execute(
                select(Case.child_id, func.count())
                .where(Case.child_id.in_(children))
                .group_by(Case.child_id)
            )
        }
    return [
        f"child {child} has {per_child.get(child, 0)} cases"
        for child in children
        if per_child.get(child, 0) != 1
    ]


def server_setup(url: str, *, children: int) -> ServerSetup:
    """A migrated database with a front-door team, its manager's bearer token and ``children``
    children without a case."""
    from tests.cases.factories import make_cast
    from tests.factories import auth_headers, make_child

    with engine_for(url) as engine:
        migrate.upgrade(engine)
        with Session(engine) as session:
            cast = make_cast(session)
            kids = [make_child(session, first_name=f"Drill{n}") for n in range(children)]
            session.commit()
            headers = auth_headers(session, cast.manager)
            return ServerSetup(url, headers, cast.team.id, [k.id for k in kids])


# --------------------------------------------------------------------------------------------------
# Migrations on a populated database: the invariants checked after each step (the small demo
# council in ``test_migrations_populated.py``, a Birmingham-sized one in
# ``bench/drills/migrations_at_scale.py``)
# --------------------------------------------------------------------------------------------------


def table_row_counts(engine: Engine, tables: set[str]) -> dict[str, int]:
    """Rows in each of ``tables``."""
    with engine.connect() as conn:
        return {
            name: int(
                conn.execute(select(func.count()).select_from(text(f'"{name}"'))).scalar_one()
            )
            for name in sorted(tables)
        }


def dangling_foreign_keys(engine: Engine, tables: set[str]) -> list[str]:
    """Each foreign key whose value names no row (NULLs are fine)."""
    from sqlalchemy import inspect

    broken = []
    with engine.connect() as conn:
        inspector = inspect(conn)  # the same connection (SQLite: one writer at a time)
        for table in sorted(tables):
            for fk in inspector.get_foreign_keys(table):
                if len(fk["constrained_columns"]) != 1:
                    continue
                column, target = fk["constrained_columns"][0], fk["referred_table"]
                referred = fk["referred_columns"][0]
                orphans = conn.execute(
                    text(
                        f'SELECT count(*) FROM "{table}" t WHERE t."{column}" IS NOT NULL AND NOT '
                        f'EXISTS (SELECT 1 FROM "{target}" r WHERE r."{referred}" = t."{column}")'
                    )
                ).scalar_one()
                if orphans:
                    broken.append(f"{table}.{column} -> {target}: {orphans}")
    return broken


def audit_chains(engine: Engine) -> tuple[int, str | None]:
    """Events checked, and the first broken link of the case audit chains (None: all verify)."""
    with Session(engine) as session:
        report = verify_chains_report(session)
    broken = None if report.first_broken is None else str(report.first_broken)
    return report.checked_events, broken
