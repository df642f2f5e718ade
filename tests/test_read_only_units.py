"""A long read (a statutory return being built, the DfE validators running) must not keep every
other request waiting on SQLite's one write lock."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app.db import make_engine, make_session_factory, read_only


def test_a_long_read_on_sqlite_holds_no_write_lock_and_sees_one_snapshot(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'council.db'}", sqlite_busy_timeout_ms=200)
    factory = make_session_factory(engine)
    with factory() as setup:
        setup.execute(text("CREATE TABLE child (id INTEGER PRIMARY KEY)"))
        setup.execute(text("INSERT INTO child (id) VALUES (1)"))
        setup.commit()

    with factory() as census:
        read_only(census)
        # The census has read: its snapshot has one child.
        assert census.execute(text("SELECT count(*) FROM child")).scalar_one() == 1
        # Meanwhile a social worker records a new child: not kept waiting (the busy timeout is
        # 200 ms; an IMMEDIATE transaction held by the census would make this fail).
        with factory() as worker:
            worker.execute(text("INSERT INTO child (id) VALUES (2)"))
            worker.commit()
        # The census still reads the council as it was when it began.
        assert census.execute(text("SELECT count(*) FROM child")).scalar_one() == 1
        census.rollback()

    # An ordinary unit of work takes the write lock at once, as before: a second writer waits
    # for it and, past the busy timeout, is refused.
    with factory() as first, factory() as second:
        first.execute(text("SELECT 1"))
        with pytest.raises(OperationalError, match="locked"):
            second.execute(text("SELECT 1"))
    engine.dispose()
