"""``Idempotency-Key`` on the API's POSTs: an integration's retry does the work once.

Stripe's semantics, which integrators already know:

- The first POST with a key runs as usual; its response (status, body, ``Location``/``ETag``) is
  stored against the key for ``IDEMPOTENCY_HOURS``.
- The same key again, with the same method, path and body: the stored response is replayed
  (``Idempotent-Replayed: true``), and nothing is done a second time.
- The same key with a different request: 422 (a key names one request, never two).
- The same key while the first is still running: 409 (try again in a moment).

A request that wrote nothing (refused with a 4xx, or failed) does not use its key up: the key is
released, so the client can correct the request and send it again with the same key.

Exactly once, even across a crash: the key is reserved in a transaction of its own before the
request runs, and marked ``committed`` *in the request's own transaction* (``get_session``). So
if the process dies after the change committed but before the response was stored, a retry finds
``committed`` and is told (409) that the first request was done — never a second contact. (Within
``IN_FLIGHT_SECONDS`` of the reservation, ``committed`` means the response is being stored: the
retry is told to wait.) If it dies before the commit, the change and the mark were rolled back
together, and a retry after ``IN_FLIGHT_SECONDS`` runs again.

Keys are private to the caller that sent them: the owner is a hash of the caller's credential
(the bearer token or the session cookie), so one client can neither replay nor block another's.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import clock
from app.errors import PROBLEM_JSON
from app.models.idempotency import IdempotencyKey

HEADER = b"idempotency-key"
IDEMPOTENCY_HOURS = 24
#: A reservation older than this whose request never committed belonged to a process that died:
#: the key may be used again (nothing was written under it).
IN_FLIGHT_SECONDS = 60
MAX_KEY_LENGTH = 255
#: Response headers kept with the response and replayed.
KEPT_HEADERS = ("content-type", "location", "etag")
#: Where keys apply: the API's POSTs, except signing in (which creates nothing of the record).
EXCLUDED_PATHS = ("/api/v1/auth/",)

IN_FLIGHT, COMMITTED, DONE = "in_flight", "committed", "done"


def mark_committed(session: Session, key_id: Any) -> None:
    """Called by the request's unit of work just before it commits: the key's request is done."""
    session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.id == key_id, IdempotencyKey.progress == IN_FLIGHT)
        .values(progress=COMMITTED)
    )


def _owner(scope: Scope) -> str | None:
    """A hash of the caller's credential, or None when there is none (the route will say 401)."""
    credential = None
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            credential = b"bearer:" + value
            break
        if name == b"cookie" and b"casework_session=" in value:
            credential = b"cookie:" + value.split(b"casework_session=", 1)[1].split(b";", 1)[0]
    return hashlib.sha256(credential).hexdigest() if credential else None


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope.get("headers", []):
        if name == wanted:
            return str(value.decode("latin-1"))
    return None


async def _problem(send: Send, status: int, code: str, title: str, detail: str) -> None:
    body = json.dumps(
        {
            "type": f"/problems/{code}",
            "title": title,
            "status": status,
            "detail": detail,
            "code": code,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class IdempotencyMiddleware:
    """Pure ASGI middleware around the API (installed inside the request-id middleware, so
    problems it answers carry the security headers too)."""

    def __init__(self, app: ASGIApp, factory: sessionmaker[Session]) -> None:
        self.app = app
        self.factory = factory

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        key = _header(scope, HEADER) if scope["type"] == "http" else None
        if (
            key is None
            or scope.get("method") != "POST"
            or not path.startswith("/api/")
            or path.startswith(EXCLUDED_PATHS)
        ):
            await self.app(scope, receive, send)
            return
        owner = _owner(scope)
        if owner is None:
            await self.app(scope, receive, send)
            return
        if not key.strip() or len(key) > MAX_KEY_LENGTH:
            await _problem(
                send,
                422,
                "invalid",
                "Invalid input",
                f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters.",
            )
            return

        # The whole body, to fingerprint the request, then handed on unchanged.
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = bool(message.get("more_body"))
        body = b"".join(chunks)
        fingerprint = hashlib.sha256(
            scope["method"].encode() + b" " + path.encode() + b"\n" + body
        ).hexdigest()

        from starlette.concurrency import run_in_threadpool

        verdict = await run_in_threadpool(self._reserve, owner, key, path, fingerprint)
        if isinstance(verdict, IdempotencyKey):
            await self._replay(send, verdict)
            return
        if isinstance(verdict, tuple):
            await _problem(send, *verdict)
            return
        key_id = verdict

        sent_body = False

        async def replay_body() -> Message:
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        scope.setdefault("state", {})["idempotency_key_id"] = key_id
        status = 500
        headers: dict[str, str] = {}
        parts: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                for name, value in message.get("headers", []):
                    lowered = name.decode("latin-1").lower()
                    if lowered in KEPT_HEADERS:
                        headers[lowered] = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_body, capture)
        finally:
            await run_in_threadpool(self._finish, key_id, status, headers, b"".join(parts))

    def _reserve(self, owner: str, key: str, path: str, fingerprint: str) -> Any:
        """The new reservation's id; a stored response to replay; or a problem to answer."""
        now = clock.now()
        with self.factory() as session:
            # Expired keys, and reservations of a process that died before committing, free up.
            session.execute(
                delete(IdempotencyKey).where(
                    IdempotencyKey.owner == owner,
                    IdempotencyKey.key == key,
                    (IdempotencyKey.expires_at < now)
                    | (
                        (IdempotencyKey.progress == IN_FLIGHT)
                        & (IdempotencyKey.created_at < now - timedelta(seconds=IN_FLIGHT_SECONDS))
                    ),
                )
            )
            row = IdempotencyKey(
                owner=owner,
                key=key,
                method="POST",
                path=path[:500],
                request_hash=fingerprint,
                progress=IN_FLIGHT,
                created_at=now,
                expires_at=now + timedelta(hours=IDEMPOTENCY_HOURS),
            )
            session.add(row)
            try:
                session.commit()
                return row.id
            except IntegrityError:
                session.rollback()
            existing = session.scalar(
                select(IdempotencyKey).where(
                    IdempotencyKey.owner == owner, IdempotencyKey.key == key
                )
            )
        if existing is None:  # released between our insert and our read: the client may retry
            return (
                409,
                "idempotency_in_flight",
                "Conflict",
                "A request with this Idempotency-Key has just finished; send it again.",
            )
        if existing.request_hash != fingerprint:
            return (
                422,
                "idempotency_key_reused",
                "Invalid input",
                "This Idempotency-Key was used for a different request; use a new key for a "
                "new request.",
            )
        finishing = existing.progress == COMMITTED and existing.created_at > now - timedelta(
            seconds=IN_FLIGHT_SECONDS
        )
        if existing.progress == IN_FLIGHT or finishing:
            # Running, or committed a moment ago and its response being stored: wait.
            return (
                409,
                "idempotency_in_flight",
                "Conflict",
                "A request with this Idempotency-Key is still being processed; try again in a "
                "moment.",
            )
        if existing.progress == COMMITTED:
            return (
                409,
                "idempotency_response_lost",
                "Conflict",
                "The request with this Idempotency-Key was completed, but its response was not "
                "kept (the server stopped); look the record up rather than sending it again.",
            )
        return existing

    def _finish(self, key_id: Any, status: int, headers: dict[str, str], body: bytes) -> None:
        """Store the response of a request that committed; release the key of one that did not."""
        with self.factory() as session:
            row = session.get(IdempotencyKey, key_id)
            if row is None:
                return
            if row.progress == IN_FLIGHT:
                session.delete(row)  # nothing was written under it: the key may be used again
            else:
                row.progress = DONE
                row.response_status = status
                row.response_headers = headers
                row.response_body = body
            session.commit()

    async def _replay(self, send: Send, row: IdempotencyKey) -> None:
        body = row.response_body or b""
        headers = [
            (name.encode("latin-1"), value.encode("latin-1"))
            for name, value in (row.response_headers or {}).items()
        ]
        headers += [
            (b"content-length", str(len(body)).encode()),
            (b"idempotent-replayed", b"true"),
        ]
        await send(
            {
                "type": "http.response.start",
                "status": row.response_status or 200,
                "headers": headers,
            }
        )
        await send({"type": "http.response.body", "body": body})
