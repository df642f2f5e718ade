"""JSON API for the audit trail: verify the case chains, read the change log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict

from app.api.deps import SessionDep, permission
from app.api.pagination import Page, decode_cursor, encode_cursor
from app.api.responses import problem_responses
from app.audit import service as audit_service
from app.errors import Invalid
from app.security.principal import Principal

router = APIRouter(tags=["audit"])

Auditor = Annotated[Principal, Depends(permission("audit:verify"))]


class BrokenLinkRead(BaseModel):
    case_id: uuid.UUID
    seq: int
    problem: str


class VerifyResult(BaseModel):
    """Whether every case's chain of events verifies, and if not the first broken link."""

    ok: bool
    first_broken: BrokenLinkRead | None
    checked_events: int


class ChangeLogRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    occurred_at: datetime
    actor_id: uuid.UUID | None
    actor_role: str | None
    entity_type: str
    entity_id: uuid.UUID
    action: str
    changes: dict[str, Any]
    request_id: str | None


@router.get(
    "/audit/verify",
    operation_id="audit_verify",
    response_model=VerifyResult,
    responses=problem_responses(),
)
def audit_verify(session: SessionDep, principal: Auditor) -> VerifyResult:
    """Walk every case's hash chain and name the first broken link (ok: all verify)."""
    report = audit_service.verify_chains_report(session)
    broken = report.first_broken
    return VerifyResult(
        ok=report.ok,
        first_broken=(
            BrokenLinkRead(case_id=broken.case_id, seq=broken.seq, problem=broken.problem)
            if broken
            else None
        ),
        checked_events=report.checked_events,
    )


@router.get(
    "/change-log",
    operation_id="change_log_list",
    response_model=Page[ChangeLogRead],
    responses=problem_responses(),
)
def change_log_list(
    session: SessionDep,
    principal: Auditor,
    entity_type: str | None = None,
    entity_id: uuid.UUID | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[ChangeLogRead]:
    """Field-level before/after of plain edits (people, teams, users), oldest first."""
    after: tuple[datetime, uuid.UUID] | None = None
    if cursor is not None:
        values = decode_cursor(cursor)
        if (
            len(values) != 2
            or not isinstance(values[0], datetime)
            or not isinstance(values[1], uuid.UUID)
        ):
            raise Invalid.field("cursor", "This cursor is not one we gave out.")
        after = (values[0], values[1])
    rows, last = audit_service.change_log_list(
        session,
        actor=principal,
        entity_type=entity_type,
        entity_id=entity_id,
        cursor=after,
        limit=limit,
    )
    return Page[ChangeLogRead](
        items=[ChangeLogRead.model_validate(r) for r in rows],
        next_cursor=encode_cursor(last) if last else None,
    )
