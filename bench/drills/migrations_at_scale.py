"""Drill: migrations on a Birmingham-sized database (issue 8, part 2). Run by hand; the last
measured figures are in README.md here.

The council-scale demo (``app.demo.scale``: by default 6,000 children in need and one year of
history, "1x") is loaded at head into a database of its own: ``casework_drill_migrations`` on the
PostgreSQL server (dropped at the end) and a temporary SQLite file. The latest revision is then
taken down to the one before it (whatever head is: the drill reads it from Alembic), put back,
taken down and put back again. After the load and after each step: the row count of every table
(equal to the load's, for every table the revision has), foreign keys that point at no row, and
the case audit chains. Times are reported for the load, each step and each check.
``tests/reliability/test_migrations_populated.py`` runs the same checks on the small demo council
in CI.

    .venv/bin/python bench/drills/migrations_at_scale.py [--children 6000] [--years 1]
        [--backend sqlite|postgresql] [--down-to 0007]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from alembic.script import ScriptDirectory  # noqa: E402
from sqlalchemy import Engine, create_engine, inspect, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app import clock, migrate  # noqa: E402
from app.config import Environment, Settings  # noqa: E402
from app.db import make_engine, make_session_factory, unit_of_work  # noqa: E402
from app.demo.scale import load_scale_data  # noqa: E402
from tests.reliability.drills import (  # noqa: E402
    audit_chains,
    dangling_foreign_keys,
    table_row_counts,
)

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/casework_drill_migrations"
#: The day the council is loaded (as in bench/returns_bench.py), so runs are comparable.
DAY = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def previous_revision() -> tuple[str, str]:
    """Head and the revision before it, read from the migrations (not hard-coded: a new
    revision moves both)."""
    script = ScriptDirectory.from_config(migrate.alembic_config())
    head = script.get_current_head()
    assert head is not None
    down = script.get_revision(head).down_revision
    if not isinstance(down, str):  # a merge point (a tuple) or the first revision (None)
        raise SystemExit(f"head {head} has no single previous revision ({down!r})")
    return head, down


def _pg(create: bool) -> None:
    admin = create_engine(make_url(PG_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            name = make_url(PG_URL).database
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if create:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


class Checks:
    """The invariants after each step, with their times, against the counts after the load."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.loaded: dict[str, int] = {}
        self.events = 0
        self.steps: list[dict[str, Any]] = []
        self.problems: list[str] = []
        #: The tables the newest revision adds: a downgrade drops them with their rows, so after
        #: the upgrade they are expected back empty.
        self.revision_tables: set[str] = set()

    def check(self, step: str, seconds: float) -> None:
        began = time.perf_counter()
        revision = migrate.current_revision(self.engine)
        tables = _tables(self.engine)
        counts = table_row_counts(self.engine, tables)
        counted = time.perf_counter()
        dangling = dangling_foreign_keys(self.engine, tables)
        fk_checked = time.perf_counter()
        events, broken = audit_chains(self.engine)
        chains_checked = time.perf_counter()
        if not self.loaded:
            self.loaded, self.events = counts, events
        gone = sorted(set(self.loaded) - tables)
        self.revision_tables |= set(gone)
        expected = {
            name: 0 if name in self.revision_tables else self.loaded.get(name) for name in counts
        }
        changed = {
            name: {"expected": expected[name], "now": rows}
            for name, rows in counts.items()
            if rows != expected[name]
        }
        problems = [f"{step}: rows changed in {changed}"] if changed else []
        problems += [f"{step}: dangling foreign key {d}" for d in dangling]
        problems += [f"{step}: audit chain broken at {broken}"] if broken else []
        if events != self.events:
            problems.append(f"{step}: {events} audit events, {self.events} after the load")
        self.problems += problems
        self.steps.append(
            {
                "step": step,
                "revision": revision,
                "seconds": round(seconds, 2),
                "tables": len(tables),
                "rows": sum(counts.values()),
                "tables_not_at_this_revision": gone,
                "rows_in_those_tables_after_load": sum(self.loaded[t] for t in gone),
                "audit_events_verified": events,
                "count_s": round(counted - began, 2),
                "foreign_keys_s": round(fk_checked - counted, 2),
                "audit_chains_s": round(chains_checked - fk_checked, 2),
                "ok": not problems,
            }
        )


def run(
    url: str, backend: str, *, children: int, years: int, seed: int, down_to: str | None = None
) -> dict[str, Any]:
    head, previous = previous_revision()
    previous = down_to or previous
    engine = make_engine(url)
    result: dict[str, Any] = {"backend": backend, "head": head, "previous": previous}
    try:
        began = time.perf_counter()
        migrate.upgrade(engine)
        result["migrate_empty_s"] = round(time.perf_counter() - began, 2)
        settings = Settings(
            environment=Environment.development,
            database_url=url,
            secret_key="migrations-drill-secret-key-long-enough-0123456789",  # noqa: S106
        )
        began = time.perf_counter()
        with clock.frozen_at(DAY), unit_of_work(make_session_factory(engine)) as session:
            summary = load_scale_data(
                session, seed=seed, children=children, years=years, settings=settings
            )
        result["load_s"] = round(time.perf_counter() - began, 1)
        result["rows_loaded"] = summary.rows
        if backend == "postgresql":
            with engine.begin() as connection:
                connection.execute(text("ANALYZE"))
        checks = Checks(engine)
        checks.check("loaded at head", 0.0)
        for cycle in (1, 2):
            began = time.perf_counter()
            migrate.downgrade(engine, previous)
            checks.check(f"down to {previous} ({cycle})", time.perf_counter() - began)
            began = time.perf_counter()
            migrate.upgrade(engine)
            checks.check(f"up to {head} ({cycle})", time.perf_counter() - began)
        result["steps"] = checks.steps
        result["problems"] = checks.problems
        result["ok"] = not checks.problems and migrate.is_up_to_date(engine)
        return result
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=6000, help="Children in need (1x: 6000).")
    parser.add_argument("--years", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), action="append")
    parser.add_argument(
        "--down-to", help="Revision to go down to (default: the one before head), e.g. 0007."
    )
    args = parser.parse_args()
    options = {
        "children": args.children,
        "years": args.years,
        "seed": args.seed,
        "down_to": args.down_to,
    }
    results = []
    for backend in args.backend or ["postgresql", "sqlite"]:
        if backend == "postgresql":
            _pg(create=True)
            try:
                results.append(run(PG_URL, backend, **options))
            finally:
                _pg(create=False)
        else:
            with tempfile.TemporaryDirectory(prefix="casework-migrations-") as workdir:
                url = f"sqlite:///{Path(workdir) / 'council.db'}"
                results.append(run(url, backend, **options))
        print(json.dumps(results[-1], indent=2), flush=True)
    if not all(r["ok"] for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
