"""Races over HTTP (issue 8, part 2): sixteen integration clients send the same transition with the
same version at the same moment, thirty times. Each time exactly one wins; the others get 412
(stale version) or 409 (the case has already moved); the case has one new event and its version
went up by exactly one.

The app runs in uvicorn on a database of its own (the backend under test), and each client is a
thread with its own HTTP connection, released together by a barrier. A negative control runs the
same clients and the same checks against a deliberately careless write (read the version, then
update without comparing it): the checks must catch the lost update, or they prove nothing.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select, text, update

from app.models import Case, CaseEvent, Team, UserAccount
from tests.cases.factories import open_case
from tests.factories import make_child
from tests.reliability.conftest import Server

CLIENTS = 16
TRIALS = 30
START_SECONDS = 20.0


def _new_case(server: Server) -> uuid.UUID:
    """A new child's case in ``contact`` (version 1), opened by the team's manager."""
    with server.factory() as setup:
        manager = setup.get(UserAccount, server.manager_id)
        team = setup.get(Team, server.team_id)
        assert manager is not None
        assert team is not None
        case = open_case(setup, by=manager, child=make_child(setup, first_name="Race"), team=team)
        setup.commit()
        return case.id


Press = Callable[[int], int]


def _race(press: Press) -> list[int]:
    """Run ``press`` in CLIENTS threads released at once; their status codes."""
    start = threading.Barrier(CLIENTS)
    codes: list[int] = []
    lock = threading.Lock()

    def run(n: int) -> None:
        start.wait()
        code = press(n)
        with lock:
            codes.append(code)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return codes


def _http_press(server: Server, case_id: uuid.UUID) -> Press:
    body = json.dumps({"event": "accept_referral"})

    def press(_n: int) -> int:
        conn = http.client.HTTPConnection(server.host, server.port, timeout=60)
        try:
            conn.request(
                "POST",
                f"/api/v1/cases/{case_id}/transitions",
                body=body,
                headers={**server.headers, "If-Match": '"1"', "Content-Type": "application/json"},
            )
            return conn.getresponse().status
        finally:
            conn.close()

    return press


@dataclass(frozen=True)
class Outcome:
    codes: list[int]
    version: int
    events: int  # case events of the transition


def _outcome(server: Server, case_id: uuid.UUID, codes: list[int]) -> Outcome:
    with server.factory() as check:
        version = check.scalar(select(Case.version).where(Case.id == case_id))
        events = check.scalar(
            select(func.count()).where(
                CaseEvent.case_id == case_id, CaseEvent.action == "accept_referral"
            )
        )
    return Outcome(codes=sorted(codes), version=int(version or 0), events=int(events or 0))


def _lost_updates(outcome: Outcome) -> list[str]:
    """What is wrong with one trial (empty: exactly one winner, the rest refused, one event,
    version +1)."""
    wrong = []
    winners = outcome.codes.count(200)
    if winners != 1:
        wrong.append(f"{winners} winners")
    if any(code not in (200, 409, 412) for code in outcome.codes):
        wrong.append(f"unexpected statuses {outcome.codes}")
    if outcome.events != 1:
        wrong.append(f"{outcome.events} events")
    if outcome.version != 2:
        wrong.append(f"version {outcome.version}")
    return wrong


def test_sixteen_clients_send_the_same_transition_thirty_times_and_one_wins_each_time(
    server: Server,
) -> None:
    failures: dict[int, list[str]] = {}
    for trial in range(TRIALS):
        case_id = _new_case(server)
        codes = _race(_http_press(server, case_id))
        assert len(codes) == CLIENTS
        wrong = _lost_updates(_outcome(server, case_id, codes))
        if wrong:
            failures[trial] = wrong
    assert failures == {}


def test_negative_control_a_careless_write_loses_updates_and_the_checks_say_so(
    server: Server,
) -> None:
    """Read the version, then write without comparing it, sixteen at once: several "win", each
    writes its event, and the version is not what one move would leave. The same checks as above
    must see it (with a short pause between read and write, as a slow request would have)."""

    def careless(case_id: uuid.UUID) -> Press:
        def press(_n: int) -> int:
            with server.factory() as session:
                version = session.scalar(select(Case.version).where(Case.id == case_id))
                time.sleep(0.05)  # the window a real request has between reading and writing
                session.execute(
                    update(Case)
                    .where(Case.id == case_id)  # no "and version = :read": the bug
                    .values(version=(version or 0) + 1, state="referral")
                    .execution_options(synchronize_session=False)
                )
                session.execute(
                    text(
                        "INSERT INTO case_event_shadow (case_id, action) VALUES (:c, :a)"
                    ).bindparams(c=str(case_id), a="accept_referral")
                )
                session.commit()
            return 200

        return press

    with server.factory() as setup:
        # The careless writer's own event table (case_event is append-only and chained: the
        # control must not forge real audit events).
        setup.execute(
            text("CREATE TABLE IF NOT EXISTS case_event_shadow (case_id VARCHAR(36), action TEXT)")
        )
        setup.commit()
    caught = 0
    for _trial in range(3):
        case_id = _new_case(server)
        codes = _race(careless(case_id))
        with server.factory() as check:
            events = check.scalar(
                text("SELECT count(*) FROM case_event_shadow WHERE case_id = :c").bindparams(
                    c=str(case_id)
                )
            )
            version = check.scalar(select(Case.version).where(Case.id == case_id))
        outcome = Outcome(codes=sorted(codes), version=int(version or 0), events=int(events or 0))
        if _lost_updates(outcome):
            caught += 1
    assert caught == 3
