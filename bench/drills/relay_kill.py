"""Drill: the webhook relay killed with -9 many times (issue 8, webhooks). Run by hand with more
events and kills than CI runs; the last measured figures are in README.md here.

The harness is ``tests/reliability/relay_drill.py`` (the CI test, ``test_relay_kill.py``, runs it
with 30 events and 4 kills): a receiver on 127.0.0.1 verifies every signature and counts each
webhook-id; ``casework outbox relay`` runs as a subprocess (two side by side on PostgreSQL) and is
killed at seeded moments, 60% of them the instant the receiver has taken a POST (sent, not yet
marked), the rest after a seeded delay; each killed relay is restarted. At the end every event must
have been received at least once and every delivery marked delivered; duplicates are counted.

PostgreSQL databases are named ``casework_drill_relay*`` and dropped at the end.

    .venv/bin/python bench/drills/relay_kill.py [--events 300] [--kills 25] [--seed 1]
        [--backend sqlite|postgresql|both] [--relays 2] [--batch 20]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from tests.reliability.relay_drill import run_drill  # noqa: E402

PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/casework_drill_relay"


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--kills", type=int, default=25)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--relays", type=int, default=2, help="PostgreSQL only; SQLite runs one")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = []
    with tempfile.TemporaryDirectory(prefix="relay-drill-") as workdir:
        for backend in backends:
            name = f"casework_drill_relay_{args.seed}"
            url = (
                f"sqlite:///{Path(workdir) / 'relay.db'}"
                if backend == "sqlite"
                else _pg(name, create=True)
            )
            try:
                drill = run_drill(
                    url,
                    backend=backend,
                    seed=args.seed,
                    events=args.events,
                    kills=args.kills,
                    relays=args.relays if backend == "postgresql" else 1,
                    batch=args.batch,
                )
            finally:
                if backend == "postgresql":
                    _pg(name, create=False)
            results.append({**asdict(drill), "ok": drill.ok})
            print(json.dumps(results[-1], indent=2), flush=True)
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
