"""``casework retention dispose`` as the council's nightly job runs it: a dry run first, then the
run, then a rerun that finds nothing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.models import Person
from app.models.retention import RecordDisposal
from tests.care.factories import make_care_cast, noon
from tests.retention.stories import looked_after_record
from tests.test_cli import Cli, cli, migrated  # noqa: F401  (fixtures)


def test_the_nightly_job_disposes_once_and_a_dry_run_changes_nothing(migrated: Cli) -> None:  # noqa: F811
    engine = migrated.engine()
    try:
        with Session(engine) as session:
            cast = make_care_cast(session)
            ava = looked_after_record(
                session, cast, born=date(2006, 3, 1), in_care=date(2020, 2, 3),
                ceased=date(2022, 6, 1),
            ).child  # fmt: skip
            session.commit()
            ava_id = ava.id
        with clock.frozen_at(noon(date(2081, 3, 1))):
            dry = migrated("retention", "dispose", "--dry-run")
            future = migrated("retention", "dispose", "--as-of", "2090-01-01", ok=False)
            run = migrated("retention", "dispose")
            rerun = migrated("retention", "dispose", "--as-of", "2081-03-01")
        with Session(engine) as session:
            assert session.get(Person, ava_id) is None
            assert session.scalar(select(func.count()).select_from(RecordDisposal)) == 2
    finally:
        engine.dispose()
    # Ava, and the cast's other child (never known to social care, gone at 25).
    assert "2 records would be disposed of" in dry.output
    assert future.exit_code == 1
    assert "as of today or an earlier day" in future.output
    assert "2 records disposed of, 0 held, 0 failed" in run.output
    assert "0 records disposed of" in rerun.output
