"""Drill: PostgreSQL point-in-time recovery (issue 8, "Backup and restore"). Run by hand; the
last measured figures are in README.md here.

A private PostgreSQL cluster (``initdb`` in a temporary directory, a free port; the shared server
on 5432 is never touched) archives its write-ahead log. The drill migrates a database
(``casework db upgrade``), loads the demo council (``casework demo-data``) and opens some cases,
takes a base backup (``pg_basebackup -X none``, checked with ``pg_verifybackup``), does batch A,
records the moment T, then does batch B (more cases, and a bad script that overwrites every
surname). It stops the cluster,
restores the base backup into a new data directory with ``recovery_target_time = T``, and checks
that batch A is there and batch B is not, that every table's row count equals the count at T,
that no foreign key dangles, that ``casework audit verify`` passes and that the service answers
``/health``. The harness is ``tests/reliability/pitr_drill.py``; ``test_pitr_drill.py`` runs it
in CI without the demo council.

    .venv/bin/python bench/drills/pitr.py [--demo-children 20] [--batch 5]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.reliability.pitr_drill import ArchivingCluster, pitr_drill  # noqa: E402
from tests.reliability.private_cluster import unavailable_reason  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo-children", type=int, default=20, help="Size of the demo council.")
    parser.add_argument("--batch", type=int, default=5, help="Children (one case each) per batch.")
    args = parser.parse_args()
    reason = unavailable_reason()
    if reason is not None:
        sys.exit(f"cannot run the drill here: {reason}")
    started = time.monotonic()
    # Durable (fsync on), as a council's server runs.
    cluster = ArchivingCluster(durable=True)
    try:
        cluster.start()
        result = pitr_drill(
            cluster, demo_children=args.demo_children, batch=args.batch, check_health=True
        )
    finally:
        cluster.remove()
    summary = result.summary()
    summary["total_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(summary, indent=2))
    if not result.ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
