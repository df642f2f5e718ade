"""Stories of actions arising from an audit: the moderator sets the worker an action with a date
agreed (timescales rule 38), it shows on the worker's list and the case's deadlines, and the
worker completes it; and the refusals — an action on an audit not yet submitted, set by someone
who did not audit or moderate it, owned by someone who is not a practitioner, due today; completed
by someone unconnected, twice, or from a stale copy."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Case, CaseEvent, Deadline
from app.models.audits import AuditAction, AuditTool
from app.models.org import Role, UserAccount
from tests.audits.factories import (
    AuditCast,
    assigned_audit,
    complete_findings,
    if_match,
    make_audit_cast,
    make_tool,
    on,
    referred_case,
)
from tests.factories import auth_headers, make_user

OPENED = date(2026, 3, 2)
AUDIT_DAY = date(2026, 6, 1)
DUE = date(2026, 6, 29)
DONE = date(2026, 6, 22)


@dataclass
class World:
    cast: AuditCast
    tool: AuditTool
    case: Case


@pytest.fixture
def world(db: Session) -> World:
    cast = make_audit_cast(db)
    tool = make_tool(db, cast)
    return World(cast=cast, tool=tool, case=referred_case(db, cast, opened=OPENED))


def _submitted(client: TestClient, db: Session, w: World, *, moderate: bool) -> dict[str, Any]:
    audit = assigned_audit(db, w.cast, w.case, w.tool, day=AUDIT_DAY)
    db.commit()
    headers = w.cast.headers(db)
    with on(AUDIT_DAY):
        saved = client.put(
            f"/api/v1/case-audits/{audit.id}",
            json=complete_findings("requires_improvement"),
            headers=if_match(headers, audit.version),
        )
        body: dict[str, Any] = client.post(
            f"/api/v1/case-audits/{audit.id}/submit",
            headers=if_match(headers, saved.json()["version"]),
        ).json()
        assert body["state"] == "submitted", body
        if moderate:
            body = client.post(
                f"/api/v1/case-audits/{audit.id}/moderate",
                json={"outcome": "agreed"},
                headers=if_match(auth_headers(db, w.cast.moderator), body["version"]),
            ).json()
            assert body["state"] == "moderated", body
    return body


def _set(
    client: TestClient,
    db: Session,
    audit: dict[str, Any],
    by: UserAccount,
    *,
    day: date = AUDIT_DAY,
    **overrides: Any,
) -> Any:
    body = {
        "description": "Record the GP's view in the assessment and share it at core group.",
        "owner_id": str(overrides.pop("owner", None) or audit["_owner"]),
        "due_date": DUE.isoformat(),
        **overrides,
    }
    with on(day):
        return client.post(
            f"/api/v1/case-audits/{audit['id']}/actions",
            json=body,
            headers=auth_headers(db, by),
        )


def _counts(db: Session) -> tuple[int, int, int]:
    db.expire_all()
    return (
        int(db.scalar(select(func.count()).select_from(AuditAction)) or 0),
        int(db.scalar(select(func.count()).select_from(Deadline)) or 0),
        int(db.scalar(select(func.count()).select_from(CaseEvent)) or 0),
    )


def test_an_action_is_set_by_the_moderator_and_completed_by_the_worker_on_the_case(
    client: TestClient, db: Session, world: World
) -> None:
    cast = world.cast
    audit = _submitted(client, db, world, moderate=True) | {"_owner": cast.social_worker.id}
    made = _set(client, db, audit, cast.moderator)
    assert made.status_code == 201, made.text
    action = made.json()
    assert made.headers["Location"] == f"/api/v1/audit-actions/{action['id']}"
    assert (action["owner_id"], action["agreed_date"], action["due_date"], action["status"]) == (
        str(cast.social_worker.id),
        AUDIT_DAY.isoformat(),
        DUE.isoformat(),
        "open",
    )
    # Rule 38: the action's deadline is on the case.
    deadline = db.scalar(select(Deadline).where(Deadline.subject_id == uuid.UUID(action["id"])))
    assert deadline is not None
    assert (deadline.rule_id, deadline.kind, deadline.case_id, deadline.due_date) == (
        "TS38",
        "audit_action",
        world.case.id,
        DUE,
    )
    assert deadline.met_date is None

    # The worker finds it on her list and the case's.
    worker = auth_headers(db, cast.social_worker)
    with on(DONE):
        mine = client.get("/api/v1/audit-actions?owner=me&status=open", headers=worker)
        on_case = client.get(f"/api/v1/cases/{world.case.id}/audit-actions", headers=worker)
    assert [a["id"] for a in mine.json()] == [action["id"]]
    assert [a["id"] for a in on_case.json()] == [action["id"]]

    with on(DONE):
        done = client.post(
            f"/api/v1/audit-actions/{action['id']}/complete",
            json={"completion_note": "GP's view added; shared at the core group on 19 June."},
            headers=if_match(worker, made.headers["ETag"].strip('"')),
        )
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["completed_date"]) == (
        "completed",
        DONE.isoformat(),
    )
    db.expire_all()
    assert db.get(Deadline, deadline.id).met_date == DONE  # type: ignore[union-attr]
    with on(DONE):
        completed = client.get("/api/v1/audit-actions?owner=me&status=completed", headers=worker)
        still_open = client.get("/api/v1/audit-actions?owner=me&status=open", headers=worker)
    assert [a["id"] for a in completed.json()] == [action["id"]]
    assert still_open.json() == []
    steps = db.scalars(
        select(CaseEvent.action)
        .where(CaseEvent.subject_id == uuid.UUID(action["id"]))
        .order_by(CaseEvent.seq)
    ).all()
    assert steps == ["audit_action_set", "audit_action_completed"]


def test_the_auditor_sets_an_action_on_a_submitted_audit_and_it_falls_overdue(
    client: TestClient, db: Session, world: World
) -> None:
    cast = world.cast
    audit = _submitted(client, db, world, moderate=False) | {"_owner": cast.manager.id}
    made = _set(client, db, audit, cast.auditor)
    assert made.status_code == 201, made.text
    manager = auth_headers(db, cast.manager)
    with on(date(2026, 6, 30)):
        overdue = client.get("/api/v1/audit-actions?owner=me&status=overdue", headers=manager)
        read = client.get(f"/api/v1/audit-actions/{made.json()['id']}", headers=manager)
    assert [a["id"] for a in overdue.json()] == [made.json()["id"]]
    assert read.json()["status"] == "overdue"


def test_an_action_that_cannot_be_set_is_refused_and_nothing_is_written(
    client: TestClient, db: Session, world: World
) -> None:
    cast = world.cast
    draft = assigned_audit(db, cast, world.case, world.tool, day=AUDIT_DAY)
    db.commit()
    audit = _submitted(client, db, world, moderate=False) | {"_owner": cast.social_worker.id}
    data_officer = make_user(db, Role.data_officer)
    db.commit()
    before = _counts(db)

    not_submitted = _set(
        client, db, {"id": str(draft.id), "_owner": cast.social_worker.id}, cast.auditor
    )
    stranger = _set(client, db, audit, cast.service_manager)
    not_practitioner = _set(client, db, audit, cast.auditor, owner=data_officer.id)
    today = _set(client, db, audit, cast.auditor, due_date=AUDIT_DAY.isoformat())
    nobody = _set(client, db, audit, cast.auditor, owner=uuid.uuid4())
    blank = _set(client, db, audit, cast.auditor, description="")
    worker = _set(client, db, audit, cast.social_worker)

    assert not_submitted.status_code == 409, not_submitted.text
    assert stranger.status_code == 403, stranger.text
    assert not_practitioner.status_code == 422
    assert not_practitioner.json()["errors"][0]["field"] == "owner_id"
    assert today.status_code == 422
    assert today.json()["errors"][0]["field"] == "due_date"
    assert nobody.status_code == 422
    assert nobody.json()["errors"][0]["field"] == "owner_id"
    assert blank.status_code == 422
    assert blank.json()["errors"][0]["field"] == "description"
    assert worker.status_code == 403  # a social worker does not write audits at all
    assert _counts(db) == before


def test_completing_an_action_is_for_its_owner_the_teams_manager_or_qa(
    client: TestClient, db: Session, world: World
) -> None:
    cast = world.cast
    audit = _submitted(client, db, world, moderate=False) | {"_owner": cast.social_worker.id}
    action = _set(client, db, audit, cast.auditor).json()
    before = _counts(db)
    url = f"/api/v1/audit-actions/{action['id']}/complete"
    note = {"completion_note": "Done."}
    with on(DONE):
        other_worker = client.post(
            url, json=note, headers=if_match(auth_headers(db, cast.other_social_worker), 1)
        )
        other_manager = client.post(
            url, json=note, headers=if_match(auth_headers(db, cast.other_manager), 1)
        )
        stale = client.post(url, json=note, headers=if_match(auth_headers(db, cast.manager), 9))
        blank = client.post(
            url, json={"completion_note": " "}, headers=if_match(auth_headers(db, cast.manager), 1)
        )
    assert other_worker.status_code == 403, other_worker.text
    assert other_manager.status_code == 403, other_manager.text
    assert stale.status_code == 412, stale.text
    assert blank.status_code == 422
    assert blank.json()["errors"][0]["field"] == "completion_note"
    assert _counts(db) == before

    with on(DONE):
        by_manager = client.post(
            url, json=note, headers=if_match(auth_headers(db, cast.manager), 1)
        )
        twice = client.post(
            url,
            json=note,
            headers=if_match(auth_headers(db, cast.auditor), by_manager.json()["version"]),
        )
    assert by_manager.status_code == 200, by_manager.text
    assert twice.status_code == 409, twice.text
    db.expire_all()
    stored = db.get(AuditAction, uuid.UUID(action["id"]))
    assert stored is not None
    assert (stored.completed_date, stored.completion_note) == (DONE, "Done.")
