"""JSON API of audit programmes, findings and their export (issue 6, part 4)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response, status

from app.api.deps import SessionDep, etag, permission
from app.api.responses import problem_responses
from app.audits import findings as findings_service
from app.audits import programmes as service
from app.audits.programme_schemas import (
    MONTH_PATTERN,
    DrawnCase,
    DrawTeam,
    FindingsRead,
    ProgrammeAuditRead,
    ProgrammeCreate,
    ProgrammePreview,
    ProgrammeRead,
    ProgrammeRedraw,
    ProgrammeSummary,
    month_of,
)
from app.security.principal import Principal

router = APIRouter(tags=["audits"])

ProgrammeWriter = Annotated[Principal, Depends(permission("audit_programme:write"))]
FindingsReader = Annotated[Principal, Depends(permission("audit_findings:read"))]
Month = Annotated[str, Query(pattern=MONTH_PATTERN, description="YYYY-MM")]

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _summary(view: service.ProgrammeView) -> dict[str, object]:
    p = view.programme
    return {
        "id": p.id,
        "name": p.name,
        "kind": p.kind,
        "tool_id": p.tool_id,
        "month": p.month,
        "seed": p.seed,
        "sample_size": p.sample_size,
        "criteria": p.criteria,
        "team_ids": p.team_ids,
        "created_by_id": p.created_by_id,
        "created_at": p.created_at,
        "version": p.version,
        "audit_count": view.audit_count,
        "states": view.states,
    }


def _read(view: service.ProgrammeView, response: Response) -> ProgrammeRead:
    response.headers["ETag"] = etag(view.programme.version)
    return ProgrammeRead.model_validate(
        {
            **_summary(view),
            "audits": [ProgrammeAuditRead.model_validate(a) for a in view.audits],
            "unassigned": view.unassigned,
        }
    )


@router.post(
    "/audit-programmes",
    operation_id="audit_programme_create",
    status_code=status.HTTP_201_CREATED,
    response_model=ProgrammeRead,
    responses=problem_responses(),
)
def audit_programme_create(
    body: ProgrammeCreate, session: SessionDep, principal: ProgrammeWriter, response: Response
) -> ProgrammeRead:
    """Draw the programme's sample (a seed is generated and stored when none is given) and plan
    one audit per case drawn, assigning them round-robin to ``auditor_ids`` when given."""
    programme = service.programme_create(session, actor=principal, body=body)
    response.headers["Location"] = f"/api/v1/audit-programmes/{programme.id}"
    view = service.programme_get(session, actor=principal, programme_id=programme.id)
    return _read(view, response)


@router.post(
    "/audit-programmes/preview",
    operation_id="audit_programme_preview",
    response_model=ProgrammePreview,
    responses=problem_responses(),
)
def audit_programme_preview(
    body: ProgrammeCreate, session: SessionDep, principal: ProgrammeWriter
) -> ProgrammePreview:
    """The cases a programme with this body would draw now, and the seed used; writes nothing.
    The same seed over the same records draws the same cases."""
    draw = service.programme_preview(session, actor=principal, body=body)
    return ProgrammePreview(
        kind=draw.kind,
        month=draw.month.strftime("%Y-%m"),
        seed=draw.seed,
        sample_size=draw.sample_size,
        population=draw.population,
        excluded_already_planned=draw.excluded_already_planned,
        teams=[
            DrawTeam(
                team_id=t.team_id,
                team_name=t.team_name,
                area=t.area,
                population=t.population,
                drawn=t.drawn,
            )
            for t in draw.teams
        ],
        cases=[DrawnCase(case_id=c.case_id, team_id=c.team_id) for c in draw.cases],
    )


@router.get(
    "/audit-programmes",
    operation_id="audit_programmes_list",
    response_model=list[ProgrammeSummary],
    responses=problem_responses(),
)
def audit_programmes_list(session: SessionDep, principal: FindingsReader) -> list[ProgrammeSummary]:
    """Every programme, latest month first, with its audits counted by state."""
    views = service.programmes_list(session, actor=principal)
    return [ProgrammeSummary.model_validate(_summary(v)) for v in views]


@router.get(
    "/audit-programmes/{programme_id}",
    operation_id="audit_programme_get",
    response_model=ProgrammeRead,
    responses=problem_responses(404),
)
def audit_programme_get(
    programme_id: uuid.UUID, session: SessionDep, principal: FindingsReader, response: Response
) -> ProgrammeRead:
    """The programme and its audits: states and grades, cases by id (no child named)."""
    view = service.programme_get(session, actor=principal, programme_id=programme_id)
    return _read(view, response)


@router.get(
    "/audit-programmes/{programme_id}/redraw",
    operation_id="audit_programme_redraw",
    response_model=ProgrammeRedraw,
    responses=problem_responses(404),
)
def audit_programme_redraw(
    programme_id: uuid.UUID, session: SessionDep, principal: FindingsReader
) -> ProgrammeRedraw:
    """Draw the programme again from its stored seed and inputs and compare with the cases it
    planned: the check that its sample was drawn, not picked. Writes nothing."""
    check = service.programme_redraw(session, actor=principal, programme_id=programme_id)
    drawn = {c.case_id for c in check.draw.cases}
    planned = set(check.planned)
    return ProgrammeRedraw(
        programme_id=check.programme_id,
        seed=check.draw.seed,
        reproduced=check.reproduced,
        drawn=[DrawnCase(case_id=c.case_id, team_id=c.team_id) for c in check.draw.cases],
        planned_case_ids=check.planned,
        drawn_not_planned=sorted(drawn - planned),
        planned_not_drawn=sorted(planned - drawn),
    )


@router.get(
    "/audit-findings",
    operation_id="audit_findings",
    response_model=FindingsRead,
    responses=problem_responses(),
)
def audit_findings(
    session: SessionDep,
    principal: FindingsReader,
    from_: Annotated[str, Query(alias="from", pattern=MONTH_PATTERN, description="YYYY-MM")],
    to: Month,
    team_id: uuid.UUID | None = None,
    area: Annotated[str | None, Query(max_length=120)] = None,
) -> FindingsRead:
    """Grade distributions by team, area and month, the trend, the recurring weak themes and the
    moderation figures of the audits submitted in [from, to] (whole months)."""
    period = findings_service.period_of(month_of(from_), month_of(to))
    return findings_service.audit_findings(
        session, actor=principal, period=period, team_id=team_id, area=area
    )


@router.get(
    "/audit-findings/export",
    operation_id="audit_findings_export",
    response_class=Response,
    responses={
        **problem_responses(),
        200: {
            "description": "One row per audit (CSV), or an Audits and a Summary sheet (XLSX)",
            "content": {t: {} for t in CONTENT_TYPES.values()},
        },
    },
)
def audit_findings_export(
    session: SessionDep,
    principal: FindingsReader,
    from_: Annotated[str, Query(alias="from", pattern=MONTH_PATTERN, description="YYYY-MM")],
    to: Month,
    format: Literal["csv", "xlsx"] = "csv",
) -> Response:
    """The audits submitted in [from, to], one a row (case id as the reference, no child named),
    with a column per question code; each case exported is written to the access log."""
    period = findings_service.period_of(month_of(from_), month_of(to))
    export = findings_service.audit_findings_export(session, actor=principal, period=period)
    if format == "csv":
        content: bytes = findings_service.export_csv(export).encode("utf-8")
    else:
        content = findings_service.export_xlsx(export)
    filename = f"case-file-audits-{from_}-to-{to}.{format}"
    return Response(
        content=content,
        media_type=CONTENT_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
