"""The webhook relay killed with -9 again and again (issue 8, webhooks): every event is received at
least once, every delivery ends marked delivered, signatures verify; duplicates are allowed (and
expected when a kill falls between a send and its mark), losses are not.

The harness is ``tests/reliability/relay_drill.py``; ``bench/drills/relay_kill.py`` runs it with
more events and kills. On a failure, the seed in the message replays the same kills.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import BACKEND, fresh_database_url
from tests.reliability.relay_drill import run_drill

SEED = 3


def test_a_relay_killed_between_sending_and_marking_sends_again_and_loses_nothing(
    tmp_path: Path,
) -> None:
    url = fresh_database_url(tmp_path, "relay_kill")
    drill = run_drill(
        url,
        backend=BACKEND,
        seed=SEED,
        events=30,
        kills=4,
        # PostgreSQL: two relays share the work (FOR UPDATE SKIP LOCKED); SQLite runs one.
        relays=2 if BACKEND == "postgresql" else 1,
        batch=5,
    )
    assert drill.ok, (SEED, drill)
    assert drill.kills >= 2, drill
    assert drill.kills_after_a_post >= 1, drill
    assert drill.lost == 0
    assert drill.received_events == 30
    assert drill.bad_signatures == 0
