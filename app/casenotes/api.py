"""JSON API for case notes: drafts saved as you type, finished notes, corrections, your drafts."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from app.api.deps import IfMatch, SessionDep, etag, permission
from app.api.responses import problem_responses
from app.casenotes import service as note_service
from app.casenotes.schemas import (
    CaseNoteContent,
    CaseNoteCorrection,
    CaseNoteCreate,
    CaseNoteRead,
    DraftSummary,
)
from app.models.casenotes import CaseNote
from app.security.principal import Principal

router = APIRouter(tags=["case notes"])

CaseReader = Annotated[Principal, Depends(permission("case:read"))]
CaseWriter = Annotated[Principal, Depends(permission("case:write"))]


def _content(body: CaseNoteContent) -> note_service.NoteContent:
    return note_service.NoteContent(
        kind=body.kind,
        occurred_at=body.occurred_at,
        title=body.title,
        body=body.body,
        child_seen=body.child_seen,
        seen_alone=body.seen_alone,
        bedroom_seen=body.bedroom_seen,
    )


def _read(note: CaseNote, response: Response) -> CaseNoteRead:
    response.headers["ETag"] = etag(note.version)
    return CaseNoteRead.model_validate(note)


@router.post(
    "/cases/{case_id}/case-notes",
    operation_id="case_note_create",
    status_code=status.HTTP_201_CREATED,
    response_model=CaseNoteRead,
    responses=problem_responses(404, 409),
)
def case_note_create(
    case_id: uuid.UUID,
    body: CaseNoteCreate,
    session: SessionDep,
    principal: CaseWriter,
    response: Response,
) -> CaseNoteRead:
    """Start a note on the case: a draft only you see (or, with `finalise`, a finished note)."""
    note = note_service.note_create(
        session, actor=principal, case_id=case_id, content=_content(body), finalise=body.finalise
    )
    response.headers["Location"] = f"/api/v1/case-notes/{note.id}"
    return _read(note, response)


@router.get(
    "/cases/{case_id}/case-notes",
    operation_id="case_note_list",
    response_model=list[CaseNoteRead],
    responses=problem_responses(404),
)
def case_note_list(
    case_id: uuid.UUID, session: SessionDep, principal: CaseReader
) -> list[CaseNoteRead]:
    """The case's finished notes and your own drafts, in the order the contacts happened."""
    notes = note_service.notes_for_case(session, actor=principal, case_id=case_id)
    return [CaseNoteRead.model_validate(n) for n in notes]


@router.get(
    "/case-notes/{note_id}",
    operation_id="case_note_get",
    response_model=CaseNoteRead,
    responses=problem_responses(404),
)
def case_note_get(
    note_id: uuid.UUID, session: SessionDep, principal: CaseReader, response: Response
) -> CaseNoteRead:
    """One note and its ETag (a draft is visible to its author only)."""
    return _read(note_service.note_get(session, actor=principal, note_id=note_id), response)


@router.put(
    "/case-notes/{note_id}/draft",
    operation_id="case_note_draft_save",
    response_model=CaseNoteRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def case_note_draft_save(
    note_id: uuid.UUID,
    body: CaseNoteContent,
    session: SessionDep,
    principal: CaseWriter,
    version: IfMatch,
    response: Response,
) -> CaseNoteRead:
    """Autosave your draft. A stale If-Match → 412 with the draft as it now stands (`current`)
    to merge into; a finished note → 409 (add a correction)."""
    note = note_service.note_save_draft(
        session,
        actor=principal,
        note_id=note_id,
        expected_version=version,
        content=_content(body),
    )
    return _read(note, response)


@router.post(
    "/case-notes/{note_id}/finalise",
    operation_id="case_note_finalise",
    response_model=CaseNoteRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def case_note_finalise(
    note_id: uuid.UUID,
    session: SessionDep,
    principal: CaseWriter,
    version: IfMatch,
    response: Response,
) -> CaseNoteRead:
    """Finish your draft: it can no longer be changed, and it joins the child's chronology."""
    note = note_service.note_finalise(
        session, actor=principal, note_id=note_id, expected_version=version
    )
    return _read(note, response)


@router.post(
    "/case-notes/{note_id}/corrections",
    operation_id="case_note_correct",
    status_code=status.HTTP_201_CREATED,
    response_model=CaseNoteRead,
    responses=problem_responses(404, 409),
)
def case_note_correct(
    note_id: uuid.UUID,
    body: CaseNoteCorrection,
    session: SessionDep,
    principal: CaseWriter,
    response: Response,
) -> CaseNoteRead:
    """Correct a finished note: a new note linked to it (the original never changes)."""
    note = note_service.note_correct(
        session,
        actor=principal,
        note_id=note_id,
        title=body.title,
        body=body.body,
        kind=body.kind,
        occurred_at=body.occurred_at,
        child_seen=body.child_seen,
        seen_alone=body.seen_alone,
        bedroom_seen=body.bedroom_seen,
        finalise=body.finalise,
    )
    response.headers["Location"] = f"/api/v1/case-notes/{note.id}"
    return _read(note, response)


@router.get(
    "/me/drafts",
    operation_id="my_drafts",
    response_model=list[DraftSummary],
    responses=problem_responses(),
)
def my_drafts(session: SessionDep, principal: CaseWriter) -> list[DraftSummary]:
    """Your drafts in progress, the most recently saved first (pick up where you left off)."""
    return [
        DraftSummary.model_validate(n) for n in note_service.my_drafts(session, actor=principal)
    ]
