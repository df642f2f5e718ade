"""Drill: back up, keep working, restore, and check that the council's records are exactly the
backup's (issue 8, part 2). Run by hand; the last measured figures are in README.md here.

For each backend (SQLite file; PostgreSQL database ``casework_drill`` on 127.0.0.1:5432, user
postgres, dropped at the end), as an operator would, through ``casework``:

1. migrate an empty database and load the demo council (``casework demo-data``, small);
2. ``casework backup --out FILE`` (timed) and ``casework backup verify FILE`` (timed);
3. more work after the backup: a legacy CIN census imported (children, cases, events);
4. ``casework restore --from FILE`` must refuse (the database holds records), then
   ``casework restore --from FILE --force`` (timed);
5. the row count of every table equals the manifest's, the migration revision too, and
   ``casework audit verify`` passes.

    .venv/bin/python bench/drills/backup_restore.py [--children 30] [--backend sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app.backup import Manifest  # noqa: E402
from tests.reliability.drills import casework, counts  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/casework_drill"
LEGACY_CENSUS = ROOT / "tests" / "returns" / "fixtures" / "cin" / "round_trip_2026.xml"


def _pg_database(url: str, *, create: bool) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
            if create:
                connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        admin.dispose()


def _step(url: str, *args: str, ok: bool = True) -> tuple[float, str]:
    started = time.monotonic()
    done = casework(url, *args)
    seconds = time.monotonic() - started
    output = (done.stdout + done.stderr).strip()
    if (done.returncode == 0) != ok:
        raise SystemExit(f"casework {' '.join(args)} exited {done.returncode}:\n{output}")
    return seconds, output


def drill(backend: str, children: int, workdir: Path) -> dict[str, object]:
    url = f"sqlite:///{workdir / 'drill.db'}" if backend == "sqlite" else PG_URL
    if backend == "postgresql":
        _pg_database(url, create=True)
    try:
        _step(url, "db", "upgrade")
        load, _ = _step(url, "demo-data", "--children", str(children))
        file = workdir / ("drill.db.backup" if backend == "sqlite" else "drill.dump")
        backup_s, _ = _step(url, "backup", "--out", str(file))
        verify_s, _ = _step(url, "backup", "verify", str(file))
        manifest = Manifest.read(file)
        _step(url, "import", "cin-census", str(LEGACY_CENSUS))
        after_work = counts(url)
        assert after_work != manifest.counts, "the work after the backup wrote nothing"
        _, refused = _step(url, "restore", "--from", str(file), ok=False)
        assert "already holds records" in refused, refused
        restore_s, restored = _step(url, "restore", "--from", str(file), "--force")
        final = counts(url)
        _, audit = _step(url, "audit", "verify")
        return {
            "backend": backend,
            "demo_children": children,
            "rows": manifest.rows,
            "tables": len(manifest.counts),
            "backup_bytes": file.stat().st_size,
            "demo_load_s": round(load, 1),
            "backup_s": round(backup_s, 2),
            "verify_s": round(verify_s, 2),
            "restore_s": round(restore_s, 2),
            "rows_added_after_backup": sum(after_work.values()) - manifest.rows,
            "counts_equal_manifest": final == manifest.counts,
            "restore_said": restored,
            "audit_verify": audit,
        }
    finally:
        if backend == "postgresql":
            _pg_database(url, create=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=30)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), action="append")
    args = parser.parse_args()
    results = []
    for backend in args.backend or ["sqlite", "postgresql"]:
        with tempfile.TemporaryDirectory(prefix="casework-drill-") as workdir:
            results.append(drill(backend, args.children, Path(workdir)))
    print(json.dumps(results, indent=2))
    if not all(r["counts_equal_manifest"] for r in results):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
