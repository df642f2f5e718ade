"""Drill: the database restarted under load (issue 8, part 2). Run by hand; the last measured
figures are in README.md here.

A private PostgreSQL cluster (``initdb`` in a temporary directory, a free port; the shared server
on 5432 is never touched) holds the demo council. The service runs under uvicorn in a process of
its own; several closed-loop clients read a child's record, change their own child's details with
``If-Match``, record children and open cases for them. Half way through, the database gets a fast
shutdown (``pg_ctl stop -m fast``) and is started again. The drill reports every request's
outcome, the share that failed (bar: at most 2%, all 503 with Retry-After), the time from the
database being back to the first success and to every request succeeding (bar: 2 s), and the
invariants afterwards (no half-done case or change, the audit chains verify). The harness is
``tests/reliability/restart_drill.py``; ``test_db_restart_drill.py`` runs a short version in CI.

    .venv/bin/python bench/drills/db_restart.py [--seconds 20] [--clients 6] [--careless]
        [--no-checkpoint]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.reliability.private_cluster import private_cluster, unavailable_reason  # noqa: E402
from tests.reliability.restart_drill import council_on, restart_drill  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="Length of the run.")
    parser.add_argument("--clients", type=int, default=6, help="Closed-loop HTTP clients.")
    parser.add_argument("--demo-children", type=int, default=40, help="Size of the demo council.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--no-checkpoint",
        action="store_true",
        help="Shut down without a CHECKPOINT first (the shutdown then writes every dirty page).",
    )
    parser.add_argument(
        "--careless",
        action="store_true",
        help="Clients ignore Retry-After and ask again at once (also run: both are reported).",
    )
    args = parser.parse_args()
    reason = unavailable_reason()
    if reason is not None:
        sys.exit(f"cannot run the drill here: {reason}")
    results = []
    for honour in (True, False) if args.careless else (True,):
        started = time.monotonic()
        with private_cluster(durable=True) as cluster:
            council = council_on(cluster, demo_children=args.demo_children, clients=args.clients)
            setup_s = time.monotonic() - started
            result = restart_drill(
                cluster,
                council,
                seconds=args.seconds,
                restart_at=args.seconds / 2,
                clients=args.clients,
                seed=args.seed,
                honour_retry_after=honour,
                checkpoint_first=not args.no_checkpoint,
            )
        summary = result.summary()
        summary["setup_s"] = round(setup_s, 1)
        summary["demo_cases"] = council.demo_cases
        summary["failures"] = [
            {"op": c.op, "sent_s": c.started, "status": c.status, "retry_after": c.retry_after}
            for c in result.failures[:40]
        ]
        results.append(summary)
    print(json.dumps(results, indent=2))
    if not all(r["ok"] for r in results if r["clients_honour_retry_after"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
