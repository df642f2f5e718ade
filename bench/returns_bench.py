"""The returns benchmark: a Birmingham-sized council on PostgreSQL, and how long each return takes.

Creates a fresh PostgreSQL database, loads the council-scale demo (``app.demo.scale``) with the
clock frozen on one day, then builds the CIN census, the SSDA903 tables and the Ofsted Annex A
workbook, each in a fresh Python process of its own, so that each return's time and peak memory
(``ru_maxrss`` of that process) are its own and not the generator's. Targets (issue 5): each return
under 30 s, peak memory under 1 GB. Never run by the test suite: see ``bench/README.md``.

    .venv/bin/python bench/returns_bench.py                # 6000 children in need, 2 years
    .venv/bin/python bench/returns_bench.py --children 600 --keep   # a tenth, keep the database
    .venv/bin/python bench/returns_bench.py --reuse        # time the returns on the kept database
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app import clock  # noqa: E402
from app.config import Environment, Settings  # noqa: E402

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
#: The day the council is loaded and the returns are built: mid-way through 2026-27, so that the
#: collection year 2026 (1 April 2025 to 31 March 2026) is complete and the current one is not.
DAY = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
RETURNS = ("cin_census", "ssda903", "annex_a")


def _settings(url: str) -> Settings:
    return Settings(
        environment=Environment.development,
        database_url=url,
        secret_key="bench-secret-key-that-is-long-enough-0123456789",  # noqa: S106 - bench only
        cookie_secure=False,
    )


def _peak_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries ru_maxrss over
    execve, so a child started by a large parent would report the parent's peak."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def create_database(url: str) -> None:
    name = make_url(url).database
    server = create_engine(SERVER, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()


def load(url: str, *, children: int, years: int, seed: int) -> dict[str, Any]:
    """Migrate and load the council; the time includes the commit."""
    from app import migrate
    from app.db import make_engine, make_session_factory, unit_of_work
    from app.demo.scale import load_scale_data

    engine = make_engine(url)
    migrate.upgrade(engine)
    factory = make_session_factory(engine)
    last = [0.0]

    def progress(step: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 5 or done == total:
            last[0] = now
            print(f"  {step:<28} {done:>8}/{total}", flush=True)

    began = time.perf_counter()
    with clock.frozen_at(DAY), unit_of_work(factory) as session:
        summary = load_scale_data(
            session,
            seed=seed,
            children=children,
            years=years,
            progress=progress,
            settings=_settings(url),
        )
    seconds = time.perf_counter() - began
    # Committed: SQLAlchemy rolls back what a connection did not commit, and ANALYZE's planner
    # statistics (pg_statistic) are transactional, so an uncommitted ANALYZE leaves none.
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    engine.dispose()
    print(summary.describe())
    return {"seconds": round(seconds, 1), "peak_mb": round(_peak_mb()), "rows": summary.rows}


def measure(url: str, which: str, year: int) -> dict[str, Any]:
    """Build one return in this process and report its time, size and this process's peak."""
    from app.db import make_engine, make_session_factory

    engine = make_engine(url)
    factory = make_session_factory(engine)
    settings = _settings(url)
    with clock.frozen_at(DAY), factory() as session:
        began = time.perf_counter()
        if which == "cin_census":
            from app.returns.cin_census import build_cin_census

            size = len(build_cin_census(session, year=year, settings=settings))
        elif which == "ssda903":
            from app.returns.ssda903 import build_ssda903

            tables = build_ssda903(session, year=year, settings=settings)
            size = sum(len(csv.encode()) for csv in tables.values())
        else:
            from app.returns.annex_a import build_annex_a

            size = len(build_annex_a(session, as_of=DAY.date(), settings=settings))
        seconds = time.perf_counter() - began
        session.rollback()
    engine.dispose()
    return {"seconds": round(seconds, 2), "peak_mb": round(_peak_mb()), "bytes": size}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="casework_bench")
    parser.add_argument("--children", type=int, default=6000, help="children in need today")
    parser.add_argument("--years", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--year", type=int, default=2026, help="collection year of the returns")
    parser.add_argument("--reuse", action="store_true", help="skip creating and loading")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--measure", choices=RETURNS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help="a database URL instead of --database (with --measure)")
    args = parser.parse_args()
    url = make_url(SERVER).set(database=args.database).render_as_string(hide_password=False)
    if args.url:
        url = args.url

    if args.measure:
        print(json.dumps(measure(url, args.measure, args.year)))
        return 0

    results: dict[str, Any] = {"day": DAY.date().isoformat(), "year": args.year}
    if not args.reuse:
        create_database(url)
        print(f"Loading {args.children} children in need, {args.years} years, into {url}")
        results["load"] = load(url, children=args.children, years=args.years, seed=args.seed)
        print(f"load: {results['load']}")
    for which in RETURNS:
        done = subprocess.run(  # noqa: S603 - this script itself, our own arguments
            [sys.executable, __file__, "--database", args.database, "--year", str(args.year),
             "--measure", which],
            capture_output=True,
            text=True,
            check=False,
        )  # fmt: skip
        if done.returncode != 0:
            # A return not written yet, or failing: say which and why, and time the others.
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            results[which] = {"error": last}
        else:
            results[which] = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{which}: {results[which]}", flush=True)
    print(json.dumps(results, indent=2))
    if not args.keep and not args.reuse:
        server = create_engine(SERVER, isolation_level="AUTOCOMMIT")
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)'))
        server.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
