"""The database restarted under load, a short run (issue 8, part 2; the 20 s run with its figures
is ``bench/drills/db_restart.py``).

Four clients work through the real server while its PostgreSQL (a private cluster, never the
shared one) is shut down and started again: every failure is a 503 with Retry-After, from 2 s
after the database is back everything succeeds, and nothing is half done. (The bench adds the
demo council; here it is left out, as its accounts' password hashing alone takes 20 s.)
"""

from __future__ import annotations

import pytest

from tests.reliability.private_cluster import private_cluster, unavailable_reason
from tests.reliability.restart_drill import ALL_SUCCEED_WITHIN_S, council_on, restart_drill


@pytest.mark.postgres_only
def test_a_database_restart_under_load_fails_only_with_503s_and_leaves_nothing_half_done() -> None:
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(f"no private PostgreSQL cluster can be made here: {reason}")
    with private_cluster(durable=False) as cluster:
        council = council_on(cluster, demo_children=0, clients=4)
        result = restart_drill(cluster, council, seconds=9.0, restart_at=3.0, clients=4)

    summary = result.summary()
    assert result.problems == [], summary
    assert result.failures, "the restart fell between requests: the drill proved nothing"
    assert result.bad_failures == [], summary
    assert result.first_success_after_back_s is not None, summary
    assert result.all_succeed_after_back_s <= ALL_SUCCEED_WITHIN_S, summary
    # The 2% bar is the bench's (20 s of load); a 9 s run on a busy CI machine has too few
    # requests for a share to mean much: here the failures must only be a small minority.
    assert result.failed_share <= 0.10, summary
