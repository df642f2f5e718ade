"""Drills: kill -9 during a bulk import, and kill -9 of the server mid-request (issue 8, part 2).
Run by hand with more seeds than CI runs; the last measured figures are in README.md here.

The harness is ``tests/reliability/drills.py`` (the CI tests, ``test_kill_drills.py``, use the
same functions with two or three seeds):

- import: the council-scale demo's CIN census (``casework returns cin-census``) imported into a
  fresh database per seed, killed after a seeded share (5-95%) of a clean run's time, imported
  again; and the SSDA903 fixture for 2025-26 continuing 2024-25 the same way. Each trial must leave
  nothing or everything after the kill, and exactly a clean import's row counts after the re-run.
- server: uvicorn on its own database, four clients opening cases and accepting referrals, killed
  at a seeded moment; after a restart every case is whole or absent and every 201/200 is there.

PostgreSQL databases are named ``casework_drill_*`` and dropped at the end.

    .venv/bin/python bench/drills/kill_drills.py [--seeds 10] [--backend sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app import clock  # noqa: E402
from app.returns.common import CollectionYear  # noqa: E402
from tests.reliability import drills  # noqa: E402

PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/casework_drill"
SSDA903 = ROOT / "tests" / "returns" / "fixtures" / "ssda903"


def _pg(database: str, *, create: bool) -> str:
    parsed = make_url(PG_BASE)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            if create:
                connection.execute(text(f'CREATE DATABASE "{database}"'))
    finally:
        admin.dispose()
    return parsed.set(database=database).render_as_string(hide_password=False)


def _url(backend: str, workdir: Path, name: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{workdir / f'{name}.db'}"
    return _pg(f"casework_drill_{name}", create=True)


def _summary(drill: drills.ImportDrill) -> dict[str, object]:
    return {
        "kind": drill.kind,
        "clean_import_s": round(drill.clean_seconds, 2),
        "clean_rows": sum(drill.clean_counts.values()),
        "trials": len(drill.trials),
        "killed_while_running": sum(t.killed for t in drill.trials),
        "after_kill": {
            state: sum(t.after_kill == state for t in drill.trials)
            for state in ("nothing", "complete", "HALF-APPLIED")
        },
        "all_equal_to_clean_after_rerun": all(t.equal_to_clean for t in drill.trials),
        "ok": drill.ok,
        "failures": [asdict(t) for t in drill.trials if not t.ok],
    }


def _import_drills(
    backend: str, seeds: list[int], children: int, workdir: Path, result: dict[str, object]
) -> list[str]:
    year = CollectionYear.containing(clock.today()).year - 1
    census = drills.demo_cin_census(workdir, children=children, year=year)
    cin = drills.Databases(_url(backend, workdir, "cin_template"), workdir)
    ssda = drills.Databases(
        _url(backend, workdir, "ssda903_template"),
        workdir,
        prepare=(("import", "ssda903", str(SSDA903 / "year_2025")),),
    )
    try:
        started = time.monotonic()
        result["cin_census"] = _summary(drills.import_drill(cin, "cin-census", census, seeds))
        result["ssda903"] = _summary(
            drills.import_drill(ssda, "ssda903", SSDA903 / "year_2026", seeds)
        )
        result["import_drills_s"] = round(time.monotonic() - started, 1)
    finally:
        cin.drop_all()
        ssda.drop_all()
    return [cin.template, ssda.template]


def run(
    backend: str, seeds: list[int], children: int, workdir: Path, only: str | None
) -> dict[str, object]:
    made: list[str] = []
    result: dict[str, object] = {"backend": backend}
    try:
        if only != "server":
            made += _import_drills(backend, seeds, children, workdir, result)
        if only == "import":
            return result
        trials = []
        for seed in seeds:
            url = _url(backend, workdir, f"server_{seed}")
            made.append(url)
            setup = drills.server_setup(url, children=80)
            trials.append(drills.server_drill(setup, seed=seed, kill_window_ms=(50, 1000)))
        result["server"] = {
            "trials": len(trials),
            "acknowledged_opens": [t.acknowledged_opens for t in trials],
            "kill_after_first_ack_ms": [t.kill_after_ms for t in trials],
            "unanswered": [t.unanswered for t in trials],
            "cases_after_kill": [t.cases_after_kill for t in trials],
            "restart_s_max": max(t.restart_seconds for t in trials),
            "ok": all(t.ok for t in trials),
            "failures": [asdict(t) for t in trials if not t.ok],
        }
        return result
    finally:
        if backend == "postgresql":
            for url in made:
                _pg(str(make_url(url).database), create=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="Trials per drill (seeds 1..N).")
    parser.add_argument("--children", type=int, default=60)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), action="append")
    parser.add_argument("--only", choices=("import", "server"), help="Run one of the drills.")
    args = parser.parse_args()
    seeds = list(range(1, args.seeds + 1))
    results = []
    for backend in args.backend or ["sqlite", "postgresql"]:
        with tempfile.TemporaryDirectory(prefix="casework-kill-") as workdir:
            results.append(run(backend, seeds, args.children, Path(workdir), args.only))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
