"""JSON API for legal planning: the legal gateway, pre-proceedings (PLO) and care proceedings
with the 26-week limit, and the figures on how long proceedings take."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from sqlalchemy.orm import Session

from app import clock
from app.api.deps import IfMatch, SessionDep, etag, permission
from app.api.responses import problem_responses
from app.legal import service as legal_service
from app.legal.schemas import (
    CareProceedingsCreate,
    CareProceedingsRead,
    ChildLegalRead,
    DurationFigures,
    ExtensionCreate,
    ExtensionRead,
    FinalOrderCreate,
    GatewayMeetingCreate,
    GatewayMeetingRead,
    HearingCreate,
    HearingRead,
    InterimOrderCreate,
    InterimOrderRead,
    PreProceedingsMeetingCreate,
    PreProceedingsMeetingRead,
    PreProceedingsOutcomeCreate,
    PreProceedingsRead,
    PreProceedingsUpdate,
    ProceedingsDuration,
    ProceedingsDurationsRead,
    TeamDurationFigures,
)
from app.models.legal import CareProceedings, LegalGatewayMeeting, PreProceedings
from app.security.principal import Principal

router = APIRouter(tags=["legal"])

CaseReader = Annotated[Principal, Depends(permission("case:read"))]
CaseWriter = Annotated[Principal, Depends(permission("case:write"))]


def _pre_read(
    session: Session, pre: PreProceedings, response: Response | None
) -> PreProceedingsRead:
    if response is not None:
        response.headers["ETag"] = etag(pre.version)
    read = PreProceedingsRead.model_validate(pre)
    read.review_due = legal_service.pre_proceedings_review_due(session, pre=pre)
    read.meetings = [
        PreProceedingsMeetingRead.model_validate(m)
        for m in legal_service.pre_proceedings_meetings(session, pre=pre)
    ]
    return read


def _proceedings_read(
    session: Session, proceedings: CareProceedings, response: Response | None
) -> CareProceedingsRead:
    if response is not None:
        response.headers["ETag"] = etag(proceedings.version)
    read = CareProceedingsRead.model_validate(proceedings)
    read.week = legal_service.proceedings_week(proceedings)
    detail = legal_service.proceedings_detail(session, proceedings=proceedings)
    read.hearings = [HearingRead.model_validate(h) for h in detail.hearings]
    read.interim_orders = [InterimOrderRead.model_validate(o) for o in detail.interim_orders]
    read.extensions = [ExtensionRead.model_validate(e) for e in detail.extensions]
    return read


def _gateway_read(meeting: LegalGatewayMeeting, pre_id: uuid.UUID | None) -> GatewayMeetingRead:
    read = GatewayMeetingRead.model_validate(meeting)
    read.pre_proceedings_id = pre_id
    return read


# --- the legal gateway and pre-proceedings -----------------------------------------------------


@router.post(
    "/cases/{case_id}/legal-gateway-meetings",
    operation_id="legal_gateway_meeting_record",
    status_code=status.HTTP_201_CREATED,
    response_model=GatewayMeetingRead,
    responses=problem_responses(403, 404, 409),
)
def legal_gateway_meeting_record(
    case_id: uuid.UUID, body: GatewayMeetingCreate, session: SessionDep, principal: CaseWriter
) -> GatewayMeetingRead:
    """Record the legal gateway / planning meeting's decision; entering pre-proceedings opens
    them with their review clock (timescales rule 35)."""
    meeting, pre = legal_service.gateway_meeting_record(
        session,
        actor=principal,
        case_id=case_id,
        meeting_date=body.meeting_date or clock.today(),
        decision=body.decision,
        reasons=body.reasons,
        attendees=body.attendees,
    )
    return _gateway_read(meeting, pre.id if pre else None)


@router.get(
    "/pre-proceedings/{pre_id}",
    operation_id="pre_proceedings_get",
    response_model=PreProceedingsRead,
    responses=problem_responses(404),
)
def pre_proceedings_get(
    pre_id: uuid.UUID, session: SessionDep, principal: CaseReader, response: Response
) -> PreProceedingsRead:
    """The pre-proceedings, their meetings, the next review due, and the ETag."""
    pre = legal_service.pre_proceedings_get(session, actor=principal, pre_id=pre_id)
    return _pre_read(session, pre, response)


@router.patch(
    "/pre-proceedings/{pre_id}",
    operation_id="pre_proceedings_update",
    response_model=PreProceedingsRead,
    responses=problem_responses(400, 403, 404, 409, 412, 428),
)
def pre_proceedings_update(
    pre_id: uuid.UUID,
    body: PreProceedingsUpdate,
    session: SessionDep,
    principal: CaseWriter,
    version: IfMatch,
    response: Response,
) -> PreProceedingsRead:
    """Record the letter before proceedings and the family group conference offered / held."""
    pre = legal_service.pre_proceedings_update(
        session,
        actor=principal,
        pre_id=pre_id,
        expected_version=version,
        changes={name: getattr(body, name) for name in body.model_fields_set},
    )
    return _pre_read(session, pre, response)


@router.post(
    "/pre-proceedings/{pre_id}/meetings",
    operation_id="pre_proceedings_meeting_add",
    status_code=status.HTTP_201_CREATED,
    response_model=PreProceedingsRead,
    responses=problem_responses(403, 404, 409),
)
def pre_proceedings_meeting_add(
    pre_id: uuid.UUID,
    body: PreProceedingsMeetingCreate,
    session: SessionDep,
    principal: CaseWriter,
    response: Response,
) -> PreProceedingsRead:
    """Record a pre-proceedings meeting and who attended."""
    meeting = legal_service.pre_proceedings_meeting_add(
        session,
        actor=principal,
        pre_id=pre_id,
        meeting_date=body.meeting_date or clock.today(),
        attendees=body.attendees,
        notes=body.notes,
    )
    pre = session.get(PreProceedings, meeting.pre_proceedings_id)
    assert pre is not None
    return _pre_read(session, pre, response)


@router.post(
    "/pre-proceedings/{pre_id}/outcome",
    operation_id="pre_proceedings_outcome",
    response_model=PreProceedingsRead,
    responses=problem_responses(400, 403, 404, 409, 412, 428),
)
def pre_proceedings_outcome(
    pre_id: uuid.UUID,
    body: PreProceedingsOutcomeCreate,
    session: SessionDep,
    principal: CaseWriter,
    version: IfMatch,
    response: Response,
) -> PreProceedingsRead:
    """Review them to an outcome: continued (next review due), stepped down or proceedings."""
    pre = legal_service.pre_proceedings_outcome(
        session,
        actor=principal,
        pre_id=pre_id,
        expected_version=version,
        outcome=body.outcome,
        outcome_date=body.outcome_date or clock.today(),
        reason=body.reason,
    )
    return _pre_read(session, pre, response)


# --- care proceedings --------------------------------------------------------------------------


@router.post(
    "/cases/{case_id}/care-proceedings",
    operation_id="care_proceedings_issue",
    status_code=status.HTTP_201_CREATED,
    response_model=CareProceedingsRead,
    responses=problem_responses(403, 404, 409),
)
def care_proceedings_issue(
    case_id: uuid.UUID,
    body: CareProceedingsCreate,
    session: SessionDep,
    principal: CaseWriter,
    response: Response,
) -> CareProceedingsRead:
    """Record an application issued by the court; the 26-week clock starts (s.32(1)(a))."""
    proceedings = legal_service.care_proceedings_issue(
        session,
        actor=principal,
        case_id=case_id,
        application_kind=body.application_kind,
        application_date=body.application_date,
        court=body.court,
        court_case_number=body.court_case_number,
        pre_proceedings_id=body.pre_proceedings_id,
    )
    response.headers["Location"] = f"/api/v1/care-proceedings/{proceedings.id}"
    return _proceedings_read(session, proceedings, response)


@router.get(
    "/care-proceedings/{proceedings_id}",
    operation_id="care_proceedings_get",
    response_model=CareProceedingsRead,
    responses=problem_responses(404),
)
def care_proceedings_get(
    proceedings_id: uuid.UUID, session: SessionDep, principal: CaseReader, response: Response
) -> CareProceedingsRead:
    """The proceedings with hearings, interim orders, extensions, the limit and the week."""
    proceedings = legal_service.care_proceedings_get(
        session, actor=principal, proceedings_id=proceedings_id
    )
    return _proceedings_read(session, proceedings, response)


@router.post(
    "/care-proceedings/{proceedings_id}/hearings",
    operation_id="care_proceedings_hearing_add",
    status_code=status.HTTP_201_CREATED,
    response_model=CareProceedingsRead,
    responses=problem_responses(403, 404, 409),
)
def care_proceedings_hearing_add(
    proceedings_id: uuid.UUID,
    body: HearingCreate,
    session: SessionDep,
    principal: CaseWriter,
    response: Response,
) -> CareProceedingsRead:
    """Record a hearing held in the proceedings and its outcome."""
    hearing = legal_service.hearing_add(
        session,
        actor=principal,
        proceedings_id=proceedings_id,
        hearing_date=body.hearing_date,
        hearing_type=body.hearing_type,
        outcome=body.outcome,
    )
    proceedings = session.get(CareProceedings, hearing.proceedings_id)
    assert proceedings is not None
    return _proceedings_read(session, proceedings, response)


@router.post(
    "/care-proceedings/{proceedings_id}/interim-orders",
    operation_id="care_proceedings_interim_order_add",
    status_code=status.HTTP_201_CREATED,
    response_model=CareProceedingsRead,
    responses=problem_responses(403, 404, 409),
)
def care_proceedings_interim_order_add(
    proceedings_id: uuid.UUID,
    body: InterimOrderCreate,
    session: SessionDep,
    principal: CaseWriter,
    response: Response,
) -> CareProceedingsRead:
    """Record an interim order (an interim care order is SSDA903 legal status C1)."""
    order = legal_service.interim_order_add(
        session,
        actor=principal,
        proceedings_id=proceedings_id,
        order_kind=body.order_kind,
        made_date=body.made_date,
        notes=body.notes,
    )
    proceedings = session.get(CareProceedings, order.proceedings_id)
    assert proceedings is not None
    return _proceedings_read(session, proceedings, response)


@router.post(
    "/care-proceedings/{proceedings_id}/extensions",
    operation_id="care_proceedings_extension_grant",
    status_code=status.HTTP_201_CREATED,
    response_model=CareProceedingsRead,
    responses=problem_responses(400, 403, 404, 409, 412, 428),
)
def care_proceedings_extension_grant(
    proceedings_id: uuid.UUID,
    body: ExtensionCreate,
    session: SessionDep,
    principal: CaseWriter,
    version: IfMatch,
    response: Response,
) -> CareProceedingsRead:
    """Record an extension granted by the court: at most 8 weeks (s.32(7)), with its reason."""
    extension = legal_service.extension_grant(
        session,
        actor=principal,
        proceedings_id=proceedings_id,
        expected_version=version,
        granted_date=body.granted_date,
        weeks=body.weeks,
        reason=body.reason,
    )
    proceedings = session.get(CareProceedings, extension.proceedings_id)
    assert proceedings is not None
    return _proceedings_read(session, proceedings, response)


@router.post(
    "/care-proceedings/{proceedings_id}/final-order",
    operation_id="care_proceedings_final_order",
    response_model=CareProceedingsRead,
    responses=problem_responses(400, 403, 404, 409, 412, 428),
)
def care_proceedings_final_order(
    proceedings_id: uuid.UUID,
    body: FinalOrderCreate,
    session: SessionDep,
    principal: CaseWriter,
    version: IfMatch,
    response: Response,
) -> CareProceedingsRead:
    """The final order (or no order, or withdrawal) ends the proceedings and their clock."""
    proceedings = legal_service.final_order_record(
        session,
        actor=principal,
        proceedings_id=proceedings_id,
        expected_version=version,
        final_order=body.final_order,
        order_date=body.order_date,
        reason=body.reason,
    )
    return _proceedings_read(session, proceedings, response)


# --- reads across records ----------------------------------------------------------------------


@router.get(
    "/children/{child_id}/legal",
    operation_id="child_legal_get",
    response_model=ChildLegalRead,
    responses=problem_responses(404),
)
def child_legal_get(
    child_id: uuid.UUID, session: SessionDep, principal: CaseReader
) -> ChildLegalRead:
    """The child's legal gateway decisions, pre-proceedings and care proceedings."""
    legal = legal_service.child_legal(session, actor=principal, child_id=child_id)
    opened = legal_service.gateway_pre_proceedings(
        session, meeting_ids=[m.id for m in legal.gateway_meetings]
    )
    return ChildLegalRead(
        child_id=child_id,
        gateway_meetings=[_gateway_read(m, opened.get(m.id)) for m in legal.gateway_meetings],
        pre_proceedings=[_pre_read(session, p, None) for p in legal.pre_proceedings],
        care_proceedings=[_proceedings_read(session, p, None) for p in legal.care_proceedings],
    )


@router.get(
    "/legal/proceedings-durations",
    operation_id="proceedings_durations",
    response_model=ProceedingsDurationsRead,
    responses=problem_responses(),
)
def proceedings_durations(
    session: SessionDep,
    principal: CaseReader,
    team: uuid.UUID | None = None,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
) -> ProceedingsDurationsRead:
    """How long care and supervision proceedings took (concluded in the period) and how far the
    open ones are, per team and overall (timescales rule 34)."""
    result = legal_service.proceedings_durations(
        session, actor=principal, team_id=team, date_from=date_from, date_to=date_to
    )

    def row(r: legal_service.DurationRow) -> ProceedingsDuration:
        p = r.proceedings
        return ProceedingsDuration(
            proceedings_id=p.id,
            case_id=p.case_id,
            child_id=p.child_id,
            team_id=p.team_id,
            application_kind=p.application_kind,
            application_date=p.application_date,
            final_order=p.final_order,
            final_order_date=p.final_order_date,
            duration_weeks=r.duration_weeks,
            within_26_weeks=r.within_26_weeks,
            week=r.week,
            extensions=r.extensions,
        )

    return ProceedingsDurationsRead(
        date_from=result.date_from,
        date_to=result.date_to,
        overall=DurationFigures(**vars(result.overall)),
        teams=[TeamDurationFigures(team_id=t, **vars(f)) for t, f in result.teams.items()],
        concluded=[row(r) for r in result.concluded],
        open=[row(r) for r in result.open],
    )
