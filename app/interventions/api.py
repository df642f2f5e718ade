"""JSON API of services and interventions: refer, start, end, read, and the edge-of-care
outcome."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from app import clock
from app.api.deps import IfMatch, SessionDep, etag, permission
from app.api.responses import problem_responses
from app.interventions import service
from app.interventions.schemas import (
    EdgeOfCareChildRead,
    EdgeOfCareOutcomesRead,
    EdgeOfCarePointRead,
    InterventionCreate,
    InterventionEnd,
    InterventionRead,
    InterventionStart,
)
from app.models.interventions import Intervention
from app.security.principal import Principal

router = APIRouter(tags=["interventions"])

CaseReader = Annotated[Principal, Depends(permission("case:read"))]
CaseWriter = Annotated[Principal, Depends(permission("case:write"))]


def _read(intervention: Intervention, response: Response) -> InterventionRead:
    response.headers["ETag"] = etag(intervention.version)
    return InterventionRead.model_validate(intervention)


@router.post(
    "/cases/{case_id}/interventions",
    operation_id="intervention_record",
    status_code=status.HTTP_201_CREATED,
    response_model=InterventionRead,
    responses=problem_responses(403, 404, 409),
)
def intervention_record(
    case_id: uuid.UUID,
    body: InterventionCreate,
    session: SessionDep,
    principal: CaseWriter,
    response: Response,
) -> InterventionRead:
    """Record a referral to a service for the case's child and family (and its start, when
    ``start_date`` is given)."""
    intervention = service.intervention_record(
        session,
        actor=principal,
        case_id=case_id,
        kind=body.kind,
        description=body.description,
        provider_kind=body.provider_kind,
        provider_name=body.provider_name,
        referred_date=body.referred_date or clock.today(),
        start_date=body.start_date,
    )
    response.headers["Location"] = f"/api/v1/interventions/{intervention.id}"
    return _read(intervention, response)


@router.get(
    "/cases/{case_id}/interventions",
    operation_id="interventions_for_case",
    response_model=list[InterventionRead],
    responses=problem_responses(404),
)
def interventions_for_case(
    case_id: uuid.UUID, session: SessionDep, principal: CaseReader
) -> list[InterventionRead]:
    """The case's services and interventions, oldest referral first."""
    rows = service.interventions_for_case(session, actor=principal, case_id=case_id)
    return [InterventionRead.model_validate(r) for r in rows]


@router.get(
    "/interventions/edge-of-care/outcomes",
    operation_id="edge_of_care_outcomes",
    response_model=EdgeOfCareOutcomesRead,
    responses=problem_responses(),
)
def edge_of_care_outcomes(
    session: SessionDep, principal: CaseReader, ended_from: date, ended_to: date
) -> EdgeOfCareOutcomesRead:
    """For each child whose edge-of-care support ended in [ended_from, ended_to], whether they
    were still living at home (not looked after) 3, 6 and 12 months later — null when that day
    is still to come — and the percentage at home at each point among those known: the measure
    of "preventing family breakdown"."""
    result = service.edge_of_care_outcomes(
        session, actor=principal, ended_from=ended_from, ended_to=ended_to
    )
    return EdgeOfCareOutcomesRead(
        ended_from=result.ended_from,
        ended_to=result.ended_to,
        count=result.count,
        points=[
            EdgeOfCarePointRead(
                months=p.months,
                known=p.known,
                at_home=p.at_home,
                percent_at_home=p.percent_at_home,
            )
            for p in result.points
        ],
        children=[
            EdgeOfCareChildRead(
                intervention_id=c.intervention_id,
                case_id=c.case_id,
                child_id=c.child_id,
                child_name=c.child_name,
                end_date=c.end_date,
                outcome=c.outcome,
                at_home_3_months=c.at_home[3],
                at_home_6_months=c.at_home[6],
                at_home_12_months=c.at_home[12],
            )
            for c in result.children
        ],
    )


@router.get(
    "/interventions/{intervention_id}",
    operation_id="intervention_get",
    response_model=InterventionRead,
    responses=problem_responses(404),
)
def intervention_get(
    intervention_id: uuid.UUID, session: SessionDep, principal: CaseReader, response: Response
) -> InterventionRead:
    """The intervention, its status (read off its dates) and its ETag."""
    intervention = service.intervention_get(
        session, actor=principal, intervention_id=intervention_id
    )
    return _read(intervention, response)


@router.post(
    "/interventions/{intervention_id}/start",
    operation_id="intervention_start",
    response_model=InterventionRead,
    responses=problem_responses(400, 403, 404, 409, 412, 428),
)
def intervention_start(
    intervention_id: uuid.UUID,
    body: InterventionStart,
    session: SessionDep,
    principal: CaseWriter,
    version: IfMatch,
    response: Response,
) -> InterventionRead:
    """Record the day the service started working with the family."""
    intervention = service.intervention_start(
        session,
        actor=principal,
        intervention_id=intervention_id,
        expected_version=version,
        start_date=body.start_date or clock.today(),
    )
    return _read(intervention, response)


@router.post(
    "/interventions/{intervention_id}/end",
    operation_id="intervention_end",
    response_model=InterventionRead,
    responses=problem_responses(400, 403, 404, 409, 412, 428),
)
def intervention_end(
    intervention_id: uuid.UUID,
    body: InterventionEnd,
    session: SessionDep,
    principal: CaseWriter,
    version: IfMatch,
    response: Response,
) -> InterventionRead:
    """Record how the intervention ended: ``declined`` for an offer never taken up, otherwise
    how the work went."""
    intervention = service.intervention_end(
        session,
        actor=principal,
        intervention_id=intervention_id,
        expected_version=version,
        end_date=body.end_date or clock.today(),
        outcome=body.outcome,
        outcome_notes=body.outcome_notes,
    )
    return _read(intervention, response)
