"""P1's baseline: the child record read with raw psycopg, served the same way as the real API.

``GET /children/{id}`` here does what ``GET /api/v1/children/{id}`` does in the database, one
statement for each of the real endpoint's (``bench/run.py`` counts those and checks that the numbers
match): the session cookie's lookup, the user and their current team memberships, the child read
through the record-level check (not restricted, or the caller named on it), the ``access_log``
insert, the aliases, the current address, the cases with their team and worker, the relationships
and the visible people at their far ends; then the commit and a JSON body. No framework: a bare
ASGI callable, no ORM, no validation models, no middleware.

"The same process style": it is served by uvicorn with the same options as the API, one worker,
and, as FastAPI does for a ``def`` route, the database work runs in a worker thread
(``anyio.to_thread``). So the ratio P1 reports is Casework's framework, ORM, models and middleware
against the bare minimum, with the network, the server and the database the same on both sides.

PostgreSQL only (psycopg). ``BENCH_RAW_DSN`` names the database (a libpq connection string).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, date, datetime
from typing import Any

import anyio.to_thread
import psycopg
from psycopg.rows import dict_row

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_PATH = re.compile(r"^/children/([0-9a-f-]{36})$")
_VISIBLE = (
    "(NOT p.is_restricted OR EXISTS (SELECT 1 FROM restricted_access_grant g "
    "WHERE g.person_id = p.id AND g.user_id = %(user)s))"
)
_local = threading.local()


def _connection() -> psycopg.Connection[dict[str, Any]]:
    # One connection per worker thread, kept open (the API's SQLAlchemy pool keeps its own).
    conn: psycopg.Connection[dict[str, Any]] | None = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = psycopg.connect(os.environ["BENCH_RAW_DSN"], row_factory=dict_row)
        _local.conn = conn
    return conn


def child_record(cookie: str, child_id: uuid.UUID, resource: str) -> tuple[int, dict[str, Any]]:
    """The child record for the session ``cookie``: (status, body). Counted statements: 11."""
    conn = _connection()
    today = date.today()
    now = datetime.now(UTC)
    with conn.transaction(), conn.cursor() as cur:
        token = hashlib.sha256(cookie.encode()).hexdigest()
        cur.execute("SELECT * FROM user_session WHERE token_hash = %s", (token,))
        user_session = cur.fetchone()
        if user_session is None or user_session["revoked_at"] is not None:
            return 401, {"title": "Unauthenticated"}
        cur.execute("SELECT * FROM user_account WHERE id = %s", (user_session["user_id"],))
        user = cur.fetchone()
        assert user is not None
        cur.execute(
            "SELECT * FROM team_membership WHERE user_id = %(u)s AND start_date <= %(d)s "
            "AND (end_date IS NULL OR end_date >= %(d)s)",
            {"u": user["id"], "d": today},
        )
        teams = [row["team_id"] for row in cur.fetchall()]
        cur.execute(
            f"SELECT p.* FROM person p WHERE p.id = %(id)s AND {_VISIBLE}",  # noqa: S608 - constant
            {"id": child_id, "user": user["id"]},
        )
        person = cur.fetchone()
        if person is None or person["kind"] != "child":
            return 404, {"title": "Not found"}
        cur.execute(
            "INSERT INTO access_log (id, occurred_at, user_id, user_role, person_id, case_id, "
            "action, resource, reason, request_id) VALUES (%s, %s, %s, %s, %s, NULL, 'view', %s, "
            "NULL, NULL)",
            (uuid.uuid4(), now, user["id"], user["role"], child_id, resource),
        )
        cur.execute(
            "SELECT * FROM person_alias WHERE person_id = %s ORDER BY last_name, first_name, id",
            (child_id,),
        )
        aliases = cur.fetchall()
        cur.execute(
            "SELECT * FROM address WHERE person_id = %(id)s AND start_date <= %(d)s "
            "AND (end_date IS NULL OR end_date >= %(d)s) ORDER BY start_date DESC LIMIT 1",
            {"id": child_id, "d": today},
        )
        address = cur.fetchone()
        cur.execute(
            "SELECT c.id, c.state, c.opened_date, c.closed_date, c.team_id, t.name AS team_name, "
            "c.allocated_worker_id, u.display_name AS allocated_worker_name "
            'FROM "case" c JOIN team t ON t.id = c.team_id '
            "LEFT JOIN user_account u ON u.id = c.allocated_worker_id "
            "WHERE c.child_id = %s ORDER BY c.opened_date DESC, c.id LIMIT 50",
            (child_id,),
        )
        cases = cur.fetchall()
        cur.execute(
            "SELECT * FROM relationship WHERE person_id = %(id)s OR related_person_id = %(id)s",
            {"id": child_id},
        )
        links = cur.fetchall()
        others: dict[Any, dict[str, Any]] = {}
        if links:
            ids = [
                link["related_person_id"] if link["person_id"] == child_id else link["person_id"]
                for link in links
            ]
            cur.execute(
                f"SELECT p.* FROM person p WHERE p.id = ANY(%(ids)s) AND {_VISIBLE}",  # noqa: S608
                {"ids": ids, "user": user["id"]},
            )
            others = {row["id"]: row for row in cur.fetchall()}
    relationships = [
        {
            **link,
            "related_person": others.get(link["related_person_id"])
            or others.get(link["person_id"]),
        }
        for link in links
    ]
    body = {
        "person": {**person, "aliases": aliases},
        "current_address": address,
        "relationships": relationships,
        "cases": cases,
        "teams": teams,
    }
    return 200, body


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    match = _PATH.match(scope["path"])
    cookie = ""
    for name, value in scope["headers"]:
        if name == b"cookie":
            for part in value.decode().split(";"):
                key, _, val = part.strip().partition("=")
                if key == "casework_session":
                    cookie = val
    if match is None:
        status, body = 404, {"title": "Not found"}
    else:
        status, body = await anyio.to_thread.run_sync(
            child_record, cookie, uuid.UUID(match.group(1)), scope["path"]
        )
    payload = json.dumps(body, default=str).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"etag", b'"1"')],
        }
    )
    await send({"type": "http.response.body", "body": payload})
