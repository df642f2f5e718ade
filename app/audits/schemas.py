"""Schemas of case file audits for the JSON API: tools, audits, moderation and actions."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.models.audits import AuditGrade, ModerationOutcome


class QuestionIn(BaseModel):
    """One question of a tool, in its theme; ``code`` is short and stable (e.g. "V1") and unique
    within the tool. Questions are shown in the order given."""

    model_config = ConfigDict(extra="forbid")

    theme: str = Field(min_length=1, max_length=120)
    code: str = Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9._-]+$")
    text: str = Field(min_length=1, max_length=4000)


class AuditToolCreate(BaseModel):
    """A new audit tool: at least one question, codes unique within the tool."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=4000)
    questions: list[QuestionIn] = Field(min_length=1, max_length=200)


class AuditToolUpdate(AuditToolCreate):
    """The tool's name, description and questions, replaced as a whole (send the ETag in
    If-Match). Refused (409) once an audit has used the tool: a changed tool is a new tool."""


class AuditQuestionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    theme: str
    code: str
    text: str
    position: int


class AuditToolRead(BaseModel):
    id: uuid.UUID
    name: str
    description: str | None
    is_active: bool
    in_use: bool = Field(description="Whether an audit has used it (its questions are then fixed)")
    version: int
    created_at: datetime
    questions: list[AuditQuestionRead]


class AuditToolSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    description: str | None
    is_active: bool
    version: int


class CaseAuditCreate(BaseModel):
    """An ad hoc audit of the case (outside a programme), planned and assigned in one step."""

    model_config = ConfigDict(extra="forbid")

    tool_id: uuid.UUID
    auditor_id: uuid.UUID


class CaseAuditAssign(BaseModel):
    """Give the audit to an auditor (send the ETag in If-Match)."""

    model_config = ConfigDict(extra="forbid")

    auditor_id: uuid.UUID


class AnswerIn(BaseModel):
    """A question's grade and comment; name the question by its code or its id."""

    model_config = ConfigDict(extra="forbid")

    question_code: str | None = Field(default=None, min_length=1, max_length=20)
    question_id: uuid.UUID | None = None
    grade: AuditGrade
    comment: str | None = Field(default=None, max_length=20000)

    @model_validator(mode="after")
    def _one_question(self) -> AnswerIn:
        if (self.question_code is None) == (self.question_id is None):
            raise ValueError("Name the question by question_code or question_id (one of them).")
        return self


class CaseAuditUpdate(BaseModel):
    """What the auditor has found so far (send the ETag in If-Match). Fields left out are left as
    they are; answers are merged by question (a question answered again is replaced)."""

    model_config = ConfigDict(extra="forbid")

    answers: list[AnswerIn] = Field(default_factory=list, max_length=200)
    overall_grade: AuditGrade | None = None
    child_voice: str | None = Field(default=None, max_length=20000)
    family_voice: str | None = Field(default=None, max_length=20000)
    summary: str | None = Field(default=None, max_length=20000)


class CaseAuditCancel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


class CaseAuditModerate(BaseModel):
    """A second auditor's view: ``agreed`` (the grade stands) or ``adjusted`` to
    ``moderated_grade``, with the ``reason`` (required when adjusted)."""

    model_config = ConfigDict(extra="forbid")

    outcome: ModerationOutcome
    moderated_grade: AuditGrade | None = None
    reason: str | None = Field(default=None, max_length=20000)


class CaseAuditAnswerRead(BaseModel):
    question_id: uuid.UUID
    question_code: str
    theme: str
    grade: AuditGrade
    comment: str | None


class CaseAuditRead(BaseModel):
    id: uuid.UUID
    programme_id: uuid.UUID | None
    tool_id: uuid.UUID
    case_id: uuid.UUID
    child_id: uuid.UUID
    team_id: uuid.UUID
    state: str
    auditor_id: uuid.UUID | None
    overall_grade: AuditGrade | None
    child_voice: str | None
    family_voice: str | None
    summary: str | None
    submitted_at: datetime | None
    moderator_id: uuid.UUID | None
    moderation_outcome: ModerationOutcome | None
    moderated_grade: AuditGrade | None
    moderation_reason: str | None
    moderated_at: datetime | None
    cancel_reason: str | None
    final_grade: AuditGrade | None
    version: int
    created_at: datetime
    answers: list[CaseAuditAnswerRead]


class CaseAuditSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    programme_id: uuid.UUID | None
    tool_id: uuid.UUID
    case_id: uuid.UUID
    child_id: uuid.UUID
    team_id: uuid.UUID
    state: str
    auditor_id: uuid.UUID | None
    overall_grade: AuditGrade | None
    final_grade: AuditGrade | None
    submitted_at: datetime | None
    version: int


class AuditActionStatus(StrEnum):
    open = "open"
    overdue = "overdue"
    completed = "completed"


class AuditActionCreate(BaseModel):
    """An action arising from the audit: what is to be done, by whom (a practitioner), by when
    (after today; timescales rule 38)."""

    model_config = ConfigDict(extra="forbid")

    description: str = Field(min_length=1, max_length=4000)
    owner_id: uuid.UUID
    due_date: date


class AuditActionComplete(BaseModel):
    """What was done (send the ETag in If-Match); completed today."""

    model_config = ConfigDict(extra="forbid")

    completion_note: str = Field(min_length=1, max_length=20000)


class AuditActionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    audit_id: uuid.UUID
    case_id: uuid.UUID
    child_id: uuid.UUID
    description: str
    owner_id: uuid.UUID
    agreed_date: date
    due_date: date
    completed_date: date | None
    completion_note: str | None
    recorded_by_id: uuid.UUID | None
    status: AuditActionStatus
    version: int
    created_at: datetime
