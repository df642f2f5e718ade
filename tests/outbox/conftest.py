"""The outbox stories' cast: the front-door team (``tests.cases``), a system administrator, and a
real HTTP receiver on 127.0.0.1 standing in for an integration."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy.orm import Session

from app.models import Role, UserAccount
from tests.cases.factories import Cast, make_cast
from tests.factories import make_user


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An integration's endpoint: records every POST and answers with the next scripted status
    (200 once the script runs out)."""

    url: str
    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if self.statuses else 200


def start_receiver() -> tuple[Receiver, ThreadingHTTPServer, threading.Thread]:
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            with receiver.lock:
                receiver.received.append(
                    Received({k.lower(): v for k, v in self.headers.items()}, body)
                )
            self.send_response(receiver.answer())
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return  # keep the test output quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hooks/casework")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return receiver, server, thread


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver, server, thread = start_receiver()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def cast(db: Session) -> Cast:
    return make_cast(db)


@pytest.fixture
def admin(db: Session) -> UserAccount:
    return make_user(db, Role.administrator)
