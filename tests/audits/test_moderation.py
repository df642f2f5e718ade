"""Stories of moderation: a second auditor reads a submitted audit and agrees its grade, or
adjusts it with reasons (the grade that counts is then the moderator's); and the refusals — the
auditor moderating her own audit, someone who works on or manages the case, an adjustment without
a reason or to the same grade, an audit not yet submitted or already moderated, a stale copy."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Case, CaseEvent
from app.models.audits import AuditTool, CaseAudit
from app.models.org import UserAccount
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
from tests.factories import auth_headers

OPENED = date(2026, 3, 2)
AUDIT_DAY = date(2026, 6, 1)
MODERATION_DAY = date(2026, 6, 8)


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


def _submitted(client: TestClient, db: Session, w: World, grade: str = "good") -> dict[str, Any]:
    """An audit the cast's auditor has completed and submitted, graded ``grade`` throughout."""
    audit = assigned_audit(db, w.cast, w.case, w.tool, day=AUDIT_DAY)
    db.commit()
    headers = w.cast.headers(db)
    with on(AUDIT_DAY):
        saved = client.put(
            f"/api/v1/case-audits/{audit.id}",
            json=complete_findings(grade),
            headers=if_match(headers, audit.version),
        )
        assert saved.status_code == 200, saved.text
        submitted = client.post(
            f"/api/v1/case-audits/{audit.id}/submit",
            headers=if_match(headers, saved.json()["version"]),
        )
    assert submitted.status_code == 200, submitted.text
    body: dict[str, Any] = submitted.json()
    return body


def _moderate(
    client: TestClient,
    db: Session,
    audit: dict[str, Any],
    by: UserAccount,
    *,
    version: int | None = None,
    **body: Any,
) -> Any:
    with on(MODERATION_DAY):
        return client.post(
            f"/api/v1/case-audits/{audit['id']}/moderate",
            json=body,
            headers=if_match(auth_headers(db, by), version or audit["version"]),
        )


def _stored(db: Session, audit: dict[str, Any]) -> CaseAudit:
    db.expire_all()
    stored = db.get(CaseAudit, uuid.UUID(str(audit["id"])))
    assert stored is not None
    return stored


def test_a_second_auditor_adjusts_the_grade_with_reasons_and_hers_is_the_grade_that_counts(
    client: TestClient, db: Session, world: World
) -> None:
    audit = _submitted(client, db, world, "good")
    moderated = _moderate(
        client,
        db,
        audit,
        world.cast.moderator,
        outcome="adjusted",
        moderated_grade="requires_improvement",
        reason="No health input to the plan; the GP was never contacted (A2).",
    )
    assert moderated.status_code == 200, moderated.text
    body = moderated.json()
    assert (body["state"], body["moderation_outcome"]) == ("moderated", "adjusted")
    assert (body["overall_grade"], body["moderated_grade"], body["final_grade"]) == (
        "good",
        "requires_improvement",
        "requires_improvement",
    )
    assert body["moderator_id"] == str(world.cast.moderator.id)
    assert body["moderation_reason"].startswith("No health input")
    assert body["moderated_at"].startswith(MODERATION_DAY.isoformat())
    event = db.scalars(
        select(CaseEvent)
        .where(CaseEvent.subject_id == _stored(db, audit).id)
        .order_by(CaseEvent.seq.desc())
    ).first()
    assert event is not None
    assert (event.action, event.from_state, event.to_state, event.reason) == (
        "case_audit_moderated",
        "submitted",
        "moderated",
        body["moderation_reason"],
    )
    assert event.changes["moderated_grade"] == {"before": None, "after": "requires_improvement"}


def test_a_moderator_who_agrees_leaves_the_auditors_grade_standing(
    client: TestClient, db: Session, world: World
) -> None:
    audit = _submitted(client, db, world, "outstanding")
    # Another team's manager may moderate: she neither works on nor manages this case.
    agreed = _moderate(client, db, audit, world.cast.other_manager, outcome="agreed")
    assert agreed.status_code == 200, agreed.text
    body = agreed.json()
    assert (body["moderation_outcome"], body["moderated_grade"], body["final_grade"]) == (
        "agreed",
        None,
        "outstanding",
    )
    # Moderated once: a second look is refused.
    again = _moderate(
        client,
        db,
        audit,
        world.cast.service_manager,
        version=body["version"],
        outcome="adjusted",
        moderated_grade="good",
        reason="Second thoughts.",
    )
    assert again.status_code == 409, again.text
    assert again.json()["current_state"] == "moderated"
    assert _stored(db, audit).moderator_id == world.cast.other_manager.id


def test_the_auditor_and_the_cases_own_manager_may_not_moderate_and_nothing_is_written(
    client: TestClient, db: Session, world: World
) -> None:
    audit = _submitted(client, db, world)
    own = _moderate(client, db, audit, world.cast.auditor, outcome="agreed")
    manager = _moderate(client, db, audit, world.cast.manager, outcome="agreed")
    assert own.status_code == 403, own.text
    assert "second auditor" in own.json()["detail"]
    assert manager.status_code == 403, manager.text
    assert "manages the team" in manager.json()["detail"]
    stored = _stored(db, audit)
    assert (stored.state, stored.moderator_id, stored.version) == (
        "submitted",
        None,
        audit["version"],
    )


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"outcome": "adjusted", "moderated_grade": "inadequate"}, ["reason"]),
        (
            {"outcome": "adjusted", "moderated_grade": "inadequate", "reason": "   "},
            ["reason"],
        ),
        ({"outcome": "adjusted", "reason": "Too generous."}, ["moderated_grade"]),
        (
            {"outcome": "adjusted", "moderated_grade": "good", "reason": "Same."},
            ["moderated_grade"],
        ),
        ({"outcome": "agreed", "moderated_grade": "inadequate"}, ["moderated_grade"]),
        ({"outcome": "adjusted", "moderated_grade": "poor", "reason": "x"}, ["moderated_grade"]),
        ({"outcome": "overruled"}, ["outcome"]),
        ({"outcome": "agreed", "note": "x"}, ["note"]),
    ],
)
def test_a_moderation_that_does_not_add_up_is_refused_naming_the_field(
    client: TestClient, db: Session, world: World, body: dict[str, Any], fields: list[str]
) -> None:
    audit = _submitted(client, db, world, "good")
    refused = _moderate(client, db, audit, world.cast.moderator, **body)
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == fields
    assert _stored(db, audit).state == "submitted"


def test_only_a_submitted_audit_is_moderated_and_a_stale_copy_is_refused(
    client: TestClient, db: Session, world: World
) -> None:
    draft = assigned_audit(db, world.cast, world.case, world.tool, day=AUDIT_DAY)
    db.commit()
    early = _moderate(
        client,
        db,
        {"id": str(draft.id), "version": draft.version},
        world.cast.moderator,
        outcome="agreed",
    )
    assert early.status_code == 409, early.text
    assert early.json()["current_state"] == "assigned"

    audit = _submitted(client, db, world)
    stale = _moderate(
        client, db, audit, world.cast.moderator, version=audit["version"] - 1, outcome="agreed"
    )
    assert stale.status_code == 412, stale.text
    assert _stored(db, audit).state == "submitted"
