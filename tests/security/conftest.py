"""Fixtures for the security stories."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.main import create_app


@pytest.fixture
def make_client(
    engine: Engine, session_factory: sessionmaker[Session]
) -> Iterator[Callable[[Settings], TestClient]]:
    """Clients on an app built with adjusted settings (e.g. short session lifetimes)."""
    clients: list[TestClient] = []

    def _make(settings: Settings) -> TestClient:
        app: FastAPI = create_app(settings, engine=engine, session_factory=session_factory)
        test_client = TestClient(app, raise_server_exceptions=False)
        test_client.__enter__()
        clients.append(test_client)
        return test_client

    yield _make
    for test_client in clients:
        test_client.__exit__(None, None, None)
