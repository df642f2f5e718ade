"""The reliability tests' live server: the real app in uvicorn on a database of its own (the
backend under test), for tests that need real concurrent HTTP clients."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn
from sqlalchemy.orm import Session, sessionmaker

from app import migrate
from app.config import Environment, Settings
from app.db import make_engine, make_session_factory
from app.main import create_app
from tests.cases.factories import make_cast
from tests.conftest import fresh_database_url
from tests.factories import auth_headers

START_SECONDS = 20.0


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    factory: sessionmaker[Session]
    headers: dict[str, str]
    team_id: uuid.UUID
    manager_id: uuid.UUID


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    url = fresh_database_url(tmp_path_factory.mktemp("races"), "races")
    engine = make_engine(url)
    migrate.upgrade(engine)
    factory = make_session_factory(engine)
    with factory() as setup:
        cast = make_cast(setup)
        headers = auth_headers(setup, cast.manager)
        team_id, manager_id = cast.team.id, cast.manager.id
        setup.commit()
    settings = Settings(
        environment=Environment.test,
        database_url=url,
        secret_key="race-test-secret-key-that-is-long-enough-0123456789",
        cookie_secure=False,
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    uv = uvicorn.Server(
        uvicorn.Config(create_app(settings, engine=engine), log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_SECONDS
    while not uv.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the app did not start")
        time.sleep(0.02)  # waiting for the server thread to listen
    try:
        yield Server("127.0.0.1", port, factory, headers, team_id, manager_id)
    finally:
        uv.should_exit = True
        thread.join(timeout=START_SECONDS)
        sock.close()
        engine.dispose()
