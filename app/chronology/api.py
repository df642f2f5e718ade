"""JSON (and printable text) API for a child's chronology across all their cases."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse

from app import clock
from app.api.deps import SessionDep, permission
from app.api.pagination import Page
from app.api.responses import problem_responses
from app.chronology import service as chronology_service
from app.chronology.schemas import ChildChronologyEntry, Format, Order
from app.security.principal import Principal

router = APIRouter(tags=["chronology"])

CaseReader = Annotated[Principal, Depends(permission("case:read"))]


@router.get(
    "/children/{person_id}/chronology",
    operation_id="child_chronology",
    response_model=Page[ChildChronologyEntry],
    responses={
        **problem_responses(404),
        200: {
            "description": "The chronology (JSON), or with `format=text` a printable plain text",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
    },
)
def child_chronology(
    person_id: uuid.UUID,
    session: SessionDep,
    principal: CaseReader,
    types: Annotated[list[str] | None, Query(alias="type")] = None,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
    order: Order = Order.asc,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    format: Format = Format.json,  # the query parameter's name
) -> Page[ChildChronologyEntry] | PlainTextResponse:
    """The child's significant events across all their cases (`type` repeatable, `from`/`to`
    London dates inclusive), oldest first unless `order=desc`; `format=text` prints all of them,
    one line per event."""
    printable = format is Format.text
    chronology = chronology_service.child_chronology(
        session,
        actor=principal,
        person_id=person_id,
        types=types or (),
        date_from=date_from,
        date_to=date_to,
        descending=order is Order.desc,
        cursor=None if printable else cursor,
        limit=None if printable else limit,
    )
    if printable:
        return PlainTextResponse(
            chronology_service.chronology_text(chronology, printed_at=clock.now())
        )
    return Page[ChildChronologyEntry](
        items=[
            ChildChronologyEntry(
                case_id=e.event.case_id,
                seq=e.event.seq,
                occurred_at=e.event.occurred_at,
                action=e.event.action,
                label=e.label,
                subject_type=e.event.subject_type,
                subject_id=e.event.subject_id,
                from_state=e.event.from_state,
                to_state=e.event.to_state,
                actor_id=e.event.actor_id,
                actor_name=e.actor_name,
                actor_role=e.event.actor_role,
                reason=e.event.reason,
                details=e.event.changes,
            )
            for e in chronology.entries
        ],
        next_cursor=chronology.next_cursor,
    )
