"""JSON API for a looked-after child's health and wellbeing (the SSDA903 OC2 records)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from app.api.deps import IfMatch, SessionDep, etag, permission
from app.api.responses import problem_responses
from app.health import service as health_service
from app.health.schemas import (
    ConvictionCreate,
    ConvictionRead,
    DentalCheckCreate,
    DentalCheckRead,
    HealthAssessmentCreate,
    HealthAssessmentRead,
    HealthRecordRead,
    OC2Read,
    SDQCreate,
    SDQRead,
    SubstanceMisuseCreate,
    SubstanceMisuseRead,
)
from app.security.principal import Principal

router = APIRouter(tags=["health"])

CaseReader = Annotated[Principal, Depends(permission("case:read"))]
CaseWriter = Annotated[Principal, Depends(permission("case:write"))]


@router.post(
    "/periods-of-care/{period_id}/health-assessments",
    operation_id="health_assessment_record",
    status_code=status.HTTP_201_CREATED,
    response_model=HealthAssessmentRead,
    responses=problem_responses(404, 409),
)
def health_assessment_record(
    period_id: uuid.UUID, body: HealthAssessmentCreate, session: SessionDep, principal: CaseWriter
) -> HealthAssessmentRead:
    """Record a health assessment: the first meets rule 23, the others rule 24; each opens the
    next review (6 months under 5, 12 months from 5)."""
    assessment = health_service.health_assessment_record(
        session, actor=principal, period_id=period_id, body=body
    )
    return HealthAssessmentRead.model_validate(assessment)


@router.post(
    "/periods-of-care/{period_id}/dental-checks",
    operation_id="dental_check_record",
    status_code=status.HTTP_201_CREATED,
    response_model=DentalCheckRead,
    responses=problem_responses(404, 409),
)
def dental_check_record(
    period_id: uuid.UUID, body: DentalCheckCreate, session: SessionDep, principal: CaseWriter
) -> DentalCheckRead:
    """Record a dental check (OC2 TEETH_CHECK)."""
    check = health_service.dental_check_record(
        session, actor=principal, period_id=period_id, body=body
    )
    return DentalCheckRead.model_validate(check)


@router.post(
    "/periods-of-care/{period_id}/sdqs",
    operation_id="sdq_record",
    status_code=status.HTTP_201_CREATED,
    response_model=SDQRead,
    responses=problem_responses(404, 409),
)
def sdq_record(
    period_id: uuid.UUID,
    body: SDQCreate,
    session: SessionDep,
    principal: CaseWriter,
    response: Response,
) -> SDQRead:
    """Record the year's SDQ: a score 0-40 or the reason there is none (OC2)."""
    sdq = health_service.sdq_record(session, actor=principal, period_id=period_id, body=body)
    response.headers["ETag"] = etag(sdq.version)
    return SDQRead.model_validate(sdq)


@router.put(
    "/sdqs/{sdq_id}",
    operation_id="sdq_correct",
    response_model=SDQRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def sdq_correct(
    sdq_id: uuid.UUID,
    body: SDQCreate,
    session: SessionDep,
    principal: CaseWriter,
    version: IfMatch,
    response: Response,
) -> SDQRead:
    """Correct the year's SDQ (send its ETag in If-Match)."""
    sdq = health_service.sdq_correct(
        session, actor=principal, sdq_id=sdq_id, expected_version=version, body=body
    )
    response.headers["ETag"] = etag(sdq.version)
    return SDQRead.model_validate(sdq)


@router.post(
    "/periods-of-care/{period_id}/substance-misuse",
    operation_id="substance_misuse_record",
    status_code=status.HTTP_201_CREATED,
    response_model=SubstanceMisuseRead,
    responses=problem_responses(404, 409),
)
def substance_misuse_record(
    period_id: uuid.UUID, body: SubstanceMisuseCreate, session: SessionDep, principal: CaseWriter
) -> SubstanceMisuseRead:
    """Record a substance misuse problem and the intervention (SSDA903 rules 158, 159)."""
    record = health_service.substance_misuse_record(
        session, actor=principal, period_id=period_id, body=body
    )
    return SubstanceMisuseRead.model_validate(record)


@router.post(
    "/periods-of-care/{period_id}/convictions",
    operation_id="conviction_record",
    status_code=status.HTTP_201_CREATED,
    response_model=ConvictionRead,
    responses=problem_responses(404, 409),
)
def conviction_record(
    period_id: uuid.UUID, body: ConvictionCreate, session: SessionDep, principal: CaseWriter
) -> ConvictionRead:
    """Record a conviction, final warning or reprimand (OC2 CONVICTED, aged 10 or over)."""
    record = health_service.conviction_record(
        session, actor=principal, period_id=period_id, body=body
    )
    return ConvictionRead.model_validate(record)


@router.get(
    "/periods-of-care/{period_id}/health",
    operation_id="health_record_get",
    response_model=HealthRecordRead,
    responses=problem_responses(404),
)
def health_record_get(
    period_id: uuid.UUID, session: SessionDep, principal: CaseReader
) -> HealthRecordRead:
    """The period's health and wellbeing records and the next health assessment due."""
    record = health_service.health_record_get(session, actor=principal, period_id=period_id)
    return HealthRecordRead(
        period_id=record.period.id,
        child_id=record.period.child_id,
        next_assessment_due=record.next_assessment_due,
        assessments=[HealthAssessmentRead.model_validate(a) for a in record.assessments],
        dental_checks=[DentalCheckRead.model_validate(d) for d in record.dental_checks],
        sdqs=[SDQRead.model_validate(s) for s in record.sdqs],
        substance_misuse=[SubstanceMisuseRead.model_validate(m) for m in record.substance_misuse],
        convictions=[ConvictionRead.model_validate(c) for c in record.convictions],
    )


@router.get(
    "/children/{child_id}/oc2",
    operation_id="oc2_get",
    response_model=OC2Read | None,
    responses=problem_responses(404),
)
def oc2_get(
    child_id: uuid.UUID,
    session: SessionDep,
    principal: CaseReader,
    year_end: Annotated[date, Query(description="The 31 March that ends the SSDA903 year")],
) -> OC2Read | None:
    """The child's SSDA903 OC2 fields for the year, or null when the child was not looked after
    continuously for the 12 months to 31 March."""
    row = health_service.oc2_get(session, actor=principal, child_id=child_id, year_end=year_end)
    return None if row is None else OC2Read.model_validate(row.fields())
