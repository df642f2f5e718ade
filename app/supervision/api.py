"""JSON API of supervision and management oversight (issue 6): record and read supervision
sessions (private to the worker, the supervisor and their line), oversight on case files, and a
manager's lists of what is overdue."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from app import clock
from app.api.deps import IfMatch, SessionDep, etag, permission
from app.api.pagination import Page
from app.api.responses import problem_responses
from app.models.supervision import ManagementOversight, SupervisionSession
from app.security.principal import Principal
from app.supervision import service
from app.supervision.schemas import (
    CaseOversightDueRead,
    MySupervisionDueRead,
    OversightCreate,
    OversightRead,
    SupervisionCreate,
    SupervisionRead,
    SupervisionSummary,
    SupervisionUpdate,
    TeamPracticeDueRead,
    WorkerDueRead,
)

router = APIRouter(tags=["supervision"])

SupervisionReader = Annotated[Principal, Depends(permission("supervision:read"))]
SupervisionWriter = Annotated[Principal, Depends(permission("supervision:write"))]
OversightWriter = Annotated[Principal, Depends(permission("oversight:write"))]
CaseReader = Annotated[Principal, Depends(permission("case:read"))]


def _read(
    session: SessionDep,
    record: SupervisionSession,
    entries: list[ManagementOversight],
    response: Response,
) -> SupervisionRead:
    response.headers["ETag"] = etag(record.version)
    names = service.staff_names(session, {record.worker_id, record.supervisor_id})
    return SupervisionRead(
        id=record.id,
        worker_id=record.worker_id,
        worker_name=names.get(record.worker_id, ""),
        supervisor_id=record.supervisor_id,
        supervisor_name=names.get(record.supervisor_id, ""),
        held_on=record.held_on,
        version=record.version,
        notes=record.notes,
        wellbeing=record.wellbeing,
        recorded_by_id=record.recorded_by_id,
        created_at=record.created_at,
        case_decisions=[OversightRead.model_validate(e) for e in entries],
    )


@router.post(
    "/supervision",
    operation_id="supervision_record",
    status_code=status.HTTP_201_CREATED,
    response_model=SupervisionRead,
    responses=problem_responses(403, 404, 409),
)
def supervision_record(
    body: SupervisionCreate, session: SessionDep, principal: SupervisionWriter, response: Response
) -> SupervisionRead:
    """Record a supervision session and the decisions taken in it about the worker's cases (each
    written onto its case file as management oversight)."""
    record, entries = service.supervision_record(
        session,
        actor=principal,
        worker_id=body.worker_id,
        supervisor_id=body.supervisor_id,
        held_on=body.held_on or clock.today(),
        notes=body.notes,
        wellbeing=body.wellbeing,
        case_decisions=[
            service.CaseDecision(case_id=d.case_id, decision=d.decision, review_by=d.review_by)
            for d in body.case_decisions
        ],
    )
    response.headers["Location"] = f"/api/v1/supervision/{record.id}"
    return _read(session, record, entries, response)


@router.get(
    "/supervision",
    operation_id="supervision_list",
    response_model=Page[SupervisionSummary],
    responses=problem_responses(),
)
def supervision_list(
    session: SessionDep,
    principal: SupervisionReader,
    worker_id: uuid.UUID | None = None,
    supervisor_id: uuid.UUID | None = None,
    team_id: Annotated[
        uuid.UUID | None, Query(description="Sessions of the team's current members")
    ] = None,
    held_from: Annotated[date | None, Query(description="Held on or after this date")] = None,
    held_to: Annotated[date | None, Query(description="Held on or before this date")] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[SupervisionSummary]:
    """Supervision sessions you may see (your own, your teams', or all for a service manager),
    latest first (cursor-paginated)."""
    rows, next_cursor = service.supervision_list(
        session,
        actor=principal,
        worker_id=worker_id,
        supervisor_id=supervisor_id,
        team_id=team_id,
        held_from=held_from,
        held_to=held_to,
        cursor=cursor,
        limit=limit,
    )
    names = service.staff_names(
        session, {r.worker_id for r in rows} | {r.supervisor_id for r in rows}
    )
    items = [
        SupervisionSummary(
            id=r.id,
            worker_id=r.worker_id,
            worker_name=names.get(r.worker_id, ""),
            supervisor_id=r.supervisor_id,
            supervisor_name=names.get(r.supervisor_id, ""),
            held_on=r.held_on,
            version=r.version,
        )
        for r in rows
    ]
    return Page[SupervisionSummary](items=items, next_cursor=next_cursor)


@router.get(
    "/supervision/overdue",
    operation_id="supervision_overdue",
    response_model=TeamPracticeDueRead,
    responses=problem_responses(404),
)
def supervision_overdue(
    session: SessionDep,
    principal: SupervisionReader,
    team_id: Annotated[
        uuid.UUID | None, Query(description="Default: the one team you manage")
    ] = None,
) -> TeamPracticeDueRead:
    """For a team you manage (any team for a service manager): the members whose supervision,
    and the open cases whose management oversight, is overdue or due in the next 14 days."""
    due = service.team_practice_due(session, actor=principal, team_id=team_id)
    return TeamPracticeDueRead(
        team_id=due.team_id,
        team_name=due.team_name,
        today=due.today,
        workers_overdue=[
            WorkerDueRead.model_validate(w, from_attributes=True) for w in due.workers_overdue
        ],
        workers_due_soon=[
            WorkerDueRead.model_validate(w, from_attributes=True) for w in due.workers_due_soon
        ],
        cases_overdue=[
            CaseOversightDueRead.model_validate(c, from_attributes=True) for c in due.cases_overdue
        ],
        cases_due_soon=[
            CaseOversightDueRead.model_validate(c, from_attributes=True) for c in due.cases_due_soon
        ],
    )


@router.get(
    "/supervision/due",
    operation_id="supervision_due",
    response_model=MySupervisionDueRead,
    responses=problem_responses(),
)
def supervision_due(session: SessionDep, principal: SupervisionReader) -> MySupervisionDueRead:
    """Your own supervision: when it was last held and when the next is due."""
    mine = service.my_supervision_due(session, actor=principal)
    return MySupervisionDueRead.model_validate(mine, from_attributes=True)


@router.get(
    "/supervision/{supervision_id}",
    operation_id="supervision_get",
    response_model=SupervisionRead,
    responses=problem_responses(404),
)
def supervision_get(
    supervision_id: uuid.UUID, session: SessionDep, principal: SupervisionReader, response: Response
) -> SupervisionRead:
    """A session with its notes and case decisions, and its ETag: only for the worker, the
    supervisor and their managers (404 for anyone else)."""
    record, entries = service.supervision_get(
        session, actor=principal, supervision_id=supervision_id
    )
    return _read(session, record, entries, response)


@router.patch(
    "/supervision/{supervision_id}",
    operation_id="supervision_edit_notes",
    response_model=SupervisionRead,
    responses=problem_responses(400, 404, 412, 428),
)
def supervision_edit_notes(
    supervision_id: uuid.UUID,
    body: SupervisionUpdate,
    session: SessionDep,
    principal: SupervisionWriter,
    version: IfMatch,
    response: Response,
) -> SupervisionRead:
    """Correct or add to a session's notes or wellbeing record (send the ETag in If-Match)."""
    service.supervision_edit_notes(
        session,
        actor=principal,
        supervision_id=supervision_id,
        expected_version=version,
        notes=body.notes,
        wellbeing=body.wellbeing,
        fields_set=frozenset(body.model_fields_set),
    )
    record, entries = service.supervision_get(
        session, actor=principal, supervision_id=supervision_id
    )
    return _read(session, record, entries, response)


@router.post(
    "/cases/{case_id}/oversight",
    operation_id="oversight_record",
    status_code=status.HTTP_201_CREATED,
    response_model=OversightRead,
    responses=problem_responses(403, 404, 409),
)
def oversight_record(
    case_id: uuid.UUID, body: OversightCreate, session: SessionDep, principal: OversightWriter
) -> OversightRead:
    """Record a manager's oversight on the case file, outside supervision."""
    entry = service.oversight_record(
        session,
        actor=principal,
        case_id=case_id,
        decision=body.decision,
        recorded_on=body.recorded_on or clock.today(),
        review_by=body.review_by,
    )
    return OversightRead.model_validate(entry)


@router.get(
    "/cases/{case_id}/oversight",
    operation_id="oversight_for_case",
    response_model=list[OversightRead],
    responses=problem_responses(404),
)
def oversight_for_case(
    case_id: uuid.UUID, session: SessionDep, principal: CaseReader
) -> list[OversightRead]:
    """The case's management oversight entries (in supervision or not), latest first."""
    rows = service.oversight_for_case(session, actor=principal, case_id=case_id)
    return [OversightRead.model_validate(r) for r in rows]
