"""Migrations on a council's real data, not an empty schema (issue 8, part 2).

A council upgrades a database full of records. Here the demo council is loaded at the previous
revisions, the migrations since are applied, and nothing may be lost or broken: every table keeps
its rows, every foreign key still points at a row, and every case's audit chain verifies. Then the
new revisions are taken down again and put back (the way out of a bad release), with the same
checks each way.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect

from app import migrate
from app.config import Environment, Settings
from app.db import make_engine, make_session_factory, unit_of_work
from app.demo import load_demo_data
from app.models import Base
from tests.conftest import fresh_database_url
from tests.reliability.drills import audit_chains, dangling_foreign_keys, table_row_counts

#: The revision the council's database is at before the upgrade: the one before this session's
#: migrations (form drafts, idempotency keys), whose tables the demo council does not fill.
PREVIOUS = "0007"
NEW_TABLES = {"form_draft", "idempotency_key"}


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(fresh_database_url(tmp_path, "populated_migrations"))
    try:
        yield engine
    finally:
        engine.dispose()


_counts = table_row_counts
_dangling_foreign_keys = dangling_foreign_keys


def _chains_verify(engine: Engine) -> int:
    checked, broken = audit_chains(engine)
    assert broken is None, broken
    return checked


def test_the_demo_council_survives_the_upgrade_and_a_downgrade_and_upgrade_again(
    engine: Engine,
) -> None:
    # The council as it stands: migrated to the previous revision and filled. (The demo is
    # written by today's model, so it is loaded at head and the new revisions taken off first;
    # their tables are empty in a council that has never run them.)
    migrate.upgrade(engine)
    settings = Settings(
        environment=Environment.test,
        database_url=str(engine.url),
        secret_key="migration-test-secret-key-that-is-long-enough-0123456789",
    )
    with unit_of_work(make_session_factory(engine)) as session:
        load_demo_data(session, seed=7, children=20, settings=settings)
    migrate.downgrade(engine, PREVIOUS)
    assert migrate.current_revision(engine) == PREVIOUS
    old_tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert not (old_tables & NEW_TABLES)
    before = _counts(engine, old_tables)
    assert before["case"] > 0
    assert before["case_event"] > 0
    events = _chains_verify(engine)

    migrate.upgrade(engine)

    assert migrate.is_up_to_date(engine)
    model_tables = set(Base.metadata.tables)
    assert set(inspect(engine).get_table_names()) - {"alembic_version"} == model_tables
    assert _counts(engine, old_tables) == before
    assert _counts(engine, NEW_TABLES) == dict.fromkeys(sorted(NEW_TABLES), 0)
    assert _dangling_foreign_keys(engine, model_tables) == []
    assert _chains_verify(engine) == events

    # The way back out of a release, and in again: the same records each time.
    migrate.downgrade(engine, PREVIOUS)
    assert _counts(engine, old_tables) == before
    migrate.upgrade(engine)
    assert _counts(engine, old_tables) == before
    assert _dangling_foreign_keys(engine, model_tables) == []
    assert _chains_verify(engine) == events
