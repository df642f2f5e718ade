"""Point-in-time recovery, drilled (issue 8, "Backup and restore"; the run with the demo council
and its figures is ``bench/drills/pitr.py``).

A council's PostgreSQL archives its write-ahead log and took a base backup this morning. Work
went on (batch A); then, after a moment T, more cases were opened and someone ran a bad script
that overwrote every child's surname (batch B). The council recovers to T: batch A is there,
batch B and the bad script are not, every table holds the rows it held at T, nothing dangles, the
audit chains verify and the service answers ``/health``. The cluster is a private one, never the
shared server; the demo council is left out (its accounts' password hashing alone takes 20 s).
"""

from __future__ import annotations

import pytest

from tests.reliability.pitr_drill import ArchivingCluster, pitr_drill
from tests.reliability.private_cluster import unavailable_reason


@pytest.mark.postgres_only
def test_recovery_to_a_moment_keeps_the_work_before_it_and_undoes_the_bad_script_after() -> None:
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(f"no private PostgreSQL cluster can be made here: {reason}")
    cluster = ArchivingCluster(durable=False)
    try:
        cluster.start()
        result = pitr_drill(cluster, demo_children=0, batch=3, check_health=True)
    finally:
        cluster.remove()

    summary = result.summary()
    assert result.problems == [], summary
    assert result.batch_a_children == 3, summary
    assert result.batch_b_children == 0, summary
    # Batch B and the bad script wrote rows after T; recovery undid exactly those.
    assert result.rows_before_recovery > result.rows_at_t == result.rows_after_recovery, summary
    assert result.audit_events > 0, summary
    assert result.health_status == 200, summary
