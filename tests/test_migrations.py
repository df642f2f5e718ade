"""The migrations build exactly the model, can be undone, and install the append-only triggers.

Each test migrates a fresh, empty database of the backend under test (SQLite or PostgreSQL), so
what runs here is what ``casework db upgrade`` runs on a council's server.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app import migrate
from app.db import make_engine
from app.models import Base, ChangeLog
from tests.conftest import fresh_database_url

AUDIT_TABLES = ("case_event", "change_log", "access_log")
# The trigger names migration 0002 creates on each dialect.
EXPECTED_TRIGGERS = {
    "sqlite": {f"{t}_no_{verb}" for t in AUDIT_TABLES for verb in ("update", "delete")},
    "postgresql": {f"{t}_{kind}" for t in AUDIT_TABLES for kind in ("append_only", "no_truncate")},
}


@pytest.fixture
def fresh_engine(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Engine]:
    url = fresh_database_url(tmp_path, f"migrations_{request.node.name[5:30]}")
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def _triggers(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
        else:
            rows = conn.execute(
                text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE :p"),
                {"p": "%\\_%"},
            )
        return {row[0] for row in rows}


def _schema_differences(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_upgrade_then_downgrade_to_base_then_upgrade_again(fresh_engine: Engine) -> None:
    migrate.upgrade(fresh_engine, "head")
    assert migrate.is_up_to_date(fresh_engine)

    migrate.downgrade(fresh_engine, "base")
    assert migrate.current_revision(fresh_engine) is None
    left = set(inspect(fresh_engine).get_table_names()) - {"alembic_version"}
    assert left == set(), f"downgrade to base left tables behind: {sorted(left)}"
    assert _triggers(fresh_engine) == set()

    migrate.upgrade(fresh_engine, "head")
    assert migrate.current_revision(fresh_engine) == migrate.head_revision()
    assert _schema_differences(fresh_engine) == []


def test_models_and_migrations_agree(fresh_engine: Engine) -> None:
    """Autogenerate finds nothing to do: a model change without its migration fails here."""
    migrate.upgrade(fresh_engine, "head")
    differences = _schema_differences(fresh_engine)
    assert differences == [], (
        "the models and the migrations disagree; write a migration for: "
        + "; ".join(str(d) for d in differences)
    )


def test_every_table_of_the_model_is_created(fresh_engine: Engine) -> None:
    migrate.upgrade(fresh_engine, "head")
    created = set(inspect(fresh_engine).get_table_names())
    assert set(Base.metadata.tables) <= created


def test_the_append_only_triggers_exist_after_upgrade(fresh_engine: Engine) -> None:
    migrate.upgrade(fresh_engine, "head")
    assert EXPECTED_TRIGGERS[fresh_engine.dialect.name] <= _triggers(fresh_engine)


def test_the_triggers_refuse_to_change_an_audit_row(fresh_engine: Engine) -> None:
    """The database itself, not only the application, refuses to rewrite the audit trail."""
    migrate.upgrade(fresh_engine, "head")
    with Session(fresh_engine) as session, session.begin():
        session.add(
            ChangeLog(
                occurred_at=datetime(2026, 1, 5, 9, tzinfo=UTC),
                entity_type="team",
                entity_id=uuid.uuid4(),
                action="create",
                changes={},
            )
        )
    for statement in ("UPDATE change_log SET action = 'edited'", "DELETE FROM change_log"):
        with pytest.raises(DBAPIError, match="append-only"), fresh_engine.begin() as conn:
            conn.execute(text(statement))
    with fresh_engine.connect() as conn:
        assert conn.execute(text("SELECT action FROM change_log")).scalar_one() == "create"
