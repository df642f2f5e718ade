"""kill -9 drills (issue 8, part 2): a process killed without warning loses what it had not
committed, keeps what it had committed and acknowledged, and leaves nothing half done.

1. A council migrating its history: ``casework import cin-census`` (the demo council's own
   return) and ``casework import ssda903`` (a second year continuing the first) are killed at a
   seeded point of their run, then run again; the database ends exactly as after one clean import.
2. The API under uvicorn, clients opening cases and accepting referrals: the server is killed at a
   seeded moment and restarted; every case is whole (its events 1..version, its deadlines) or
   absent, every 201/200 the clients were given is there, the audit chains verify.

The harness is ``tests/reliability/drills.py``; ``bench/drills/`` runs the same drills with more
seeds and records the timings. On a failure, the seed in the message replays the same trial.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app import clock
from app.models import Deadline, Person, Role, Team, UserAccount
from app.returns.common import CollectionYear
from tests.cases.factories import open_case
from tests.conftest import fresh_database_url
from tests.reliability import drills

SSDA903 = Path(__file__).parent.parent / "returns" / "fixtures" / "ssda903"
# Seeds whose kill falls near the middle of the import (46% and 52% of a clean run's time), so
# that the import is still running when the signal comes, not already finished.
CIN_SEEDS = [11, 17]
SSDA903_SEEDS = [12]
SERVER_SEED = 7


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kill-drills")


@pytest.fixture(scope="module")
def census(workdir: Path) -> Path:
    """Last year's CIN census of the council-scale demo, as a legacy system would have sent it."""
    year = CollectionYear.containing(clock.today()).year - 1
    return drills.demo_cin_census(workdir, children=40, year=year)


@pytest.fixture
def databases() -> Iterator[list[drills.Databases]]:
    made: list[drills.Databases] = []
    yield made
    for databases in made:
        databases.drop_all()


def _explain(drill: drills.ImportDrill) -> str:
    return "\n".join(f"{drill.kind}: {trial}" for trial in drill.trials)


def test_a_cin_census_import_killed_part_way_runs_again_to_exactly_one_clean_import(
    census: Path, workdir: Path, databases: list[drills.Databases]
) -> None:
    template = fresh_database_url(workdir, "cin_template")
    databases.append(drills.Databases(template, workdir))

    drill = drills.import_drill(databases[0], "cin-census", census, CIN_SEEDS)

    assert drill.clean_counts["person"] > 0
    assert drill.clean_counts["case_event"] > 0
    assert drill.ok, _explain(drill)
    assert any(trial.killed for trial in drill.trials), _explain(drill)
    for trial in drill.trials:
        assert trial.after_kill in ("nothing", "complete"), _explain(drill)
        assert trial.equal_to_clean, _explain(drill)


def test_an_ssda903_import_continuing_last_year_killed_part_way_runs_again_cleanly(
    workdir: Path, databases: list[drills.Databases]
) -> None:
    template = fresh_database_url(workdir, "ssda903_template")
    databases.append(
        drills.Databases(
            template, workdir, prepare=(("import", "ssda903", str(SSDA903 / "year_2025")),)
        )
    )

    drill = drills.import_drill(databases[0], "ssda903", SSDA903 / "year_2026", SSDA903_SEEDS)

    assert drill.ok, _explain(drill)
    assert all(trial.after_kill in ("nothing", "complete") for trial in drill.trials)


def test_the_server_killed_mid_request_leaves_every_case_whole_or_absent(
    workdir: Path,
) -> None:
    url = fresh_database_url(workdir, "kill_server")
    setup = drills.server_setup(url, children=80)

    trial = drills.server_drill(setup, seed=SERVER_SEED, kill_window_ms=(50, 400))

    assert trial.ok, f"seed {trial.seed}: {trial.problems}"
    # The kill came in the middle of the batch: some cases were acknowledged, some never were.
    assert trial.acknowledged_opens > 0, trial
    assert trial.acknowledged_opens < len(setup.children), trial
    assert trial.unanswered > 0, trial


def test_the_checks_catch_a_case_left_half_written_and_a_lost_acknowledgement(
    workdir: Path,
) -> None:
    """Negative control: the drill's checks must see the damage a torn write would leave."""
    url = fresh_database_url(workdir, "kill_checks")
    setup = drills.server_setup(url, children=1)
    with drills.engine_for(url) as engine, Session(engine) as session:
        manager = session.scalars(select(UserAccount).where(UserAccount.role == Role.team_manager))
        team = session.get(Team, setup.team_id)
        child = session.get(Person, setup.children[0])
        assert team is not None
        assert child is not None
        case_id = open_case(session, by=manager.one(), child=child, team=team).id
        session.commit()
    assert drills.case_problems(url, {setup.children[0]: case_id}, set()) == []
    with drills.engine_for(url) as engine, Session(engine) as session:
        # As if the transaction had stopped after the case and its event, before its deadline.
        session.execute(delete(Deadline).where(Deadline.case_id == case_id))
        session.commit()
    lost = uuid.uuid4()

    problems = drills.case_problems(url, {setup.children[0]: lost}, {case_id})

    assert f"case {case_id} has no deadline" in problems
    assert f"case {lost} was acknowledged (201) but is not there" in problems
    assert f"case {case_id}'s referral was acknowledged but is not there" in problems
