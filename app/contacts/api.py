"""JSON API for the front door: contacts, the MASH queue, decisions per child, agency checks and
feedback to the referrer."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from app import clock
from app.api.deps import IfMatch, SessionDep, SettingsDep, etag, permission
from app.api.pagination import Page
from app.api.responses import problem_responses
from app.contacts import service as contact_service
from app.contacts.schemas import (
    ContactChildRead,
    ContactCreate,
    ContactDecisions,
    ContactFeedback,
    ContactRead,
    ContactSummary,
    ContactWithdrawal,
    InformationReply,
    InformationRequestCreate,
    InformationRequestRead,
    TimeLeftRead,
)
from app.contacts.service import ContactView
from app.models.frontdoor import RagRating
from app.security.principal import Principal

router = APIRouter(tags=["contacts"])

# Contacts are the front of a case: the case permissions govern them (a contact opens or joins a
# case, and its decisions move cases).
ContactReader = Annotated[Principal, Depends(permission("case:read"))]
ContactWriter = Annotated[Principal, Depends(permission("case:write"))]
Limit = Annotated[int, Query(ge=1, le=200)]


def _children(view: ContactView) -> list[ContactChildRead]:
    return [
        ContactChildRead(
            child_id=c.row.child_id,
            first_name=c.child.first_name,
            last_name=c.child.last_name,
            case_id=c.row.case_id,
            has_opened_case=c.row.has_opened_case,
            decision=c.row.decision,
            decision_reason=c.row.decision_reason,
            decided_at=c.row.decided_at,
            decided_by_id=c.row.decided_by_id,
            referral_id=c.referral_id,
        )
        for c in view.children
    ]


def _summary_fields(view: ContactView) -> dict[str, object]:
    contact = view.contact
    left = view.time_left(now=clock.now(), today=clock.today())
    return {
        "id": contact.id,
        "received_at": contact.received_at,
        "source": contact.source,
        "referrer_organisation": contact.referrer_organisation,
        "rag": contact.rag,
        "consent": contact.consent,
        "team_id": contact.team_id,
        "state": contact.state,
        "due_date": contact.decision_due_date,
        "due_at": contact.decision_due_at,
        "time_left": TimeLeftRead(unit=left.unit, amount=left.amount, is_overdue=left.is_overdue)
        if left
        else None,
        "children": _children(view),
        "version": contact.version,
    }


def _read(view: ContactView, response: Response) -> ContactRead:
    contact = view.contact
    response.headers["ETag"] = etag(contact.version)
    return ContactRead.model_validate(
        {
            **_summary_fields(view),
            **{
                name: getattr(contact, name)
                for name in (
                    "referrer_name",
                    "referrer_role",
                    "referrer_phone",
                    "referrer_email",
                    "concern",
                    "consent_reason",
                    "decided_at",
                    "withdrawn_reason",
                    "recorded_by_id",
                    "feedback_at",
                    "feedback_method",
                    "feedback_by_id",
                    "feedback_note",
                )
            },
            "information_requests": [
                InformationRequestRead.model_validate(r) for r in view.information_requests
            ],
        }
    )


@router.post(
    "/contacts",
    operation_id="contact_create",
    status_code=status.HTTP_201_CREATED,
    response_model=ContactRead,
    responses=problem_responses(404),
)
def contact_create(
    body: ContactCreate,
    session: SessionDep,
    settings: SettingsDep,
    principal: ContactWriter,
    response: Response,
) -> ContactRead:
    """Receive a contact about one or more children: each child's case opens (or the contact
    joins the child's open case) and the decision clock starts from the RAG rating."""
    contact = contact_service.contact_create(session, actor=principal, data=body, settings=settings)
    response.headers["Location"] = f"/api/v1/contacts/{contact.id}"
    # Creating it logged the read of each child (``get_person_for_read``).
    return _read(contact_service.contact_view(session, contact=contact), response)


@router.get(
    "/contacts",
    operation_id="contact_list",
    response_model=Page[ContactSummary],
    responses=problem_responses(),
)
def contact_list(
    session: SessionDep,
    principal: ContactReader,
    state: str | None = None,
    rag: RagRating | None = None,
    team_id: uuid.UUID | None = None,
    cursor: str | None = None,
    limit: Limit = 50,
) -> Page[ContactSummary]:
    """The MASH queue: red first, then soonest due, with the working time left to decide."""
    views, next_cursor = contact_service.contact_list(
        session,
        actor=principal,
        state=state,
        rag=rag,
        team_id=team_id,
        cursor=cursor,
        limit=limit,
    )
    return Page[ContactSummary](
        items=[ContactSummary.model_validate(_summary_fields(v)) for v in views],
        next_cursor=next_cursor,
    )


@router.get(
    "/contacts/{contact_id}",
    operation_id="contact_get",
    response_model=ContactRead,
    responses=problem_responses(404),
)
def contact_get(
    contact_id: uuid.UUID, session: SessionDep, principal: ContactReader, response: Response
) -> ContactRead:
    """The contact, its children and their decisions, and its agency checks (with its ETag)."""
    view = contact_service.contact_get(session, actor=principal, contact_id=contact_id)
    return _read(view, response)


@router.post(
    "/contacts/{contact_id}/decisions",
    operation_id="contact_decide",
    response_model=ContactRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def contact_decide(
    contact_id: uuid.UUID,
    body: ContactDecisions,
    session: SessionDep,
    principal: ContactWriter,
    version: IfMatch,
    response: Response,
) -> ContactRead:
    """Decide children on the contact (all or nothing): a referral moves the child's case to
    `referral`; the other outcomes close it at the door. Deciding the last child decides the
    contact."""
    contact_service.contact_decide(
        session,
        actor=principal,
        contact_id=contact_id,
        expected_version=version,
        decisions=body.decisions,
    )
    view = contact_service.contact_get(session, actor=principal, contact_id=contact_id)
    return _read(view, response)


@router.post(
    "/contacts/{contact_id}/withdrawal",
    operation_id="contact_withdraw",
    response_model=ContactRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def contact_withdraw(
    contact_id: uuid.UUID,
    body: ContactWithdrawal,
    session: SessionDep,
    principal: ContactWriter,
    version: IfMatch,
    response: Response,
) -> ContactRead:
    """Withdraw a contact recorded in error (before any child is decided)."""
    contact_service.contact_withdraw(
        session,
        actor=principal,
        contact_id=contact_id,
        expected_version=version,
        reason=body.reason,
    )
    view = contact_service.contact_get(session, actor=principal, contact_id=contact_id)
    return _read(view, response)


@router.post(
    "/contacts/{contact_id}/feedback",
    operation_id="contact_feedback_record",
    response_model=ContactRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def contact_feedback_record(
    contact_id: uuid.UUID,
    body: ContactFeedback,
    session: SessionDep,
    principal: ContactWriter,
    version: IfMatch,
    response: Response,
) -> ContactRead:
    """Record that the referrer was told the outcome: when, how, and by whom."""
    contact_service.contact_feedback_record(
        session, actor=principal, contact_id=contact_id, expected_version=version, data=body
    )
    view = contact_service.contact_get(session, actor=principal, contact_id=contact_id)
    return _read(view, response)


@router.post(
    "/contacts/{contact_id}/information-requests",
    operation_id="contact_information_request_create",
    status_code=status.HTTP_201_CREATED,
    response_model=InformationRequestRead,
    responses=problem_responses(404, 409),
)
def information_request_create(
    contact_id: uuid.UUID,
    body: InformationRequestCreate,
    session: SessionDep,
    principal: ContactWriter,
    response: Response,
) -> InformationRequestRead:
    """Ask another agency (police, health, education, other) what it knows."""
    request = contact_service.information_request_create(
        session, actor=principal, contact_id=contact_id, data=body
    )
    response.headers["ETag"] = etag(request.version)
    return InformationRequestRead.model_validate(request)


@router.post(
    "/contacts/{contact_id}/information-requests/{request_id}/reply",
    operation_id="contact_information_reply_record",
    response_model=InformationRequestRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def information_reply_record(
    contact_id: uuid.UUID,
    request_id: uuid.UUID,
    body: InformationReply,
    session: SessionDep,
    principal: ContactWriter,
    version: IfMatch,
    response: Response,
) -> InformationRequestRead:
    """Record the agency's reply to an information request (send the request's ETag)."""
    request = contact_service.information_reply_record(
        session,
        actor=principal,
        contact_id=contact_id,
        request_id=request_id,
        expected_version=version,
        data=body,
    )
    response.headers["ETag"] = etag(request.version)
    return InformationRequestRead.model_validate(request)
