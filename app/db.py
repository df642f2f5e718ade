"""Engine, session factory and the unit of work.

SQLite is the embedded default and PostgreSQL is production; everything here makes the two behave
alike:
foreign keys on, WAL, a busy timeout, and SQLAlchemy's documented fix for the sqlite3 driver's own
transaction handling (the driver would otherwise BEGIN late and COMMIT around DDL on its own).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 10_000
#: Execution option of a unit of work that never writes (see ``read_only``).
READ_ONLY_OPTION = "casework_read_only"
POSTGRES_CONNECT_TIMEOUT_S = 5


def _install_sqlite_fixes(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Stop pysqlite from issuing its own BEGIN/COMMIT; SQLAlchemy emits BEGIN below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock at the start: almost every request writes (reads of a
        # child's record append to access_log), and a deferred transaction that upgrades to a
        # writer can fail with SQLITE_BUSY at once instead of waiting on busy_timeout.
        # A unit of work that only reads for a long time (building a return, running the DfE
        # validators) asks for READ_ONLY: a deferred transaction, which in WAL mode reads one
        # consistent snapshot without holding the write lock, so requests are not kept waiting.
        if connection.get_execution_options().get(READ_ONLY_OPTION):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(
    url: str,
    *,
    echo: bool = False,
    sqlite_busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
    **kwargs: Any,
) -> Engine:
    """Create the engine for ``url`` with the per-dialect settings Casework relies on.

    ``sqlite_busy_timeout_ms``: how long a SQLite writer waits for another's lock before "database
    is locked" (answered 503); shorter only in tests that hold the lock on purpose."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        connect_args = {"check_same_thread": False, "timeout": sqlite_busy_timeout_ms / 1000}
        engine = create_engine(url, echo=echo, connect_args=connect_args, **kwargs)
        _install_sqlite_fixes(engine, sqlite_busy_timeout_ms)
        return engine
    # pool_pre_ping: after the database restarts, every pooled connection is dead; each is tested
    # on checkout and replaced, so the first requests after the restart succeed instead of failing.
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        # A database host that does not answer at all (not merely refusing) must give a 503 in
        # seconds, not hold the request until the operating system gives up on the connection.
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("connect_timeout", POSTGRES_CONNECT_TIMEOUT_S)
        kwargs["connect_args"] = connect_args
    return create_engine(url, echo=echo, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: the request commits before the response is shaped, and the response
    # still
    # reads the objects it changed.
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit if the block finishes, roll back on any error (CLI and jobs use
    this)."""
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def database_is_up(factory: sessionmaker[Session]) -> bool:
    try:
        with factory() as session:
            session.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


def read_only(session: Session) -> Session:
    """Mark ``session``'s next transaction as reading only, before its first statement: on SQLite
    it then takes no write lock (see ``_on_begin``); on PostgreSQL it is an ordinary transaction.
    For long reads such as building a statutory return."""
    session.connection(execution_options={READ_ONLY_OPTION: True})
    return session
