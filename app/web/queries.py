"""Reads the pages need that no API answer has in one piece: the caller's allocated children and
a child's status tags. Each is a fixed number of statements however many rows there are, starts
from ``person_visible`` and access-logs every child it shows (the API's rule)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import access_log_append
from app.care import workflow as care_workflow
from app.care.codes import LegalStatus
from app.casenotes.workflow import FINAL as NOTE_FINAL
from app.cases.workflow import CLOSED
from app.cin import workflow as cin_workflow
from app.core_types import CategoryOfAbuse
from app.deadlines.service import deadline_status_clause, deadlines_visible
from app.models.assessments import Assessment
from app.models.care import LegalStatusRecord, PeriodOfCare, Placement
from app.models.casenotes import CaseNote
from app.models.cases import Case
from app.models.cin import CINPlan
from app.models.deadlines import Deadline, DeadlineStatus
from app.models.iro import CLAReview
from app.models.leavingcare import CareLeaverCategory, LeavingCareStatus
from app.models.missing import MissingEpisode
from app.models.org import Team, UserAccount
from app.models.people import Person
from app.models.protection import CPConference, CPPlan
from app.protection import workflow as protection_workflow
from app.security.access import person_visible
from app.security.principal import Principal


@dataclass(frozen=True)
class AllocatedChild:
    child_id: uuid.UUID
    name: str
    date_of_birth: date | None
    case_id: uuid.UUID
    case_state: str
    opened_date: date


def allocated_children(session: Session, *, actor: Principal) -> list[AllocatedChild]:
    """The children whose open cases are allocated to ``actor``, by surname (one statement)."""
    rows = session.execute(
        select(
            Person.id,
            Person.first_name,
            Person.last_name,
            Person.date_of_birth,
            Case.id,
            Case.state,
            Case.opened_date,
        )
        .join(Case, Case.child_id == Person.id)
        .where(
            Case.allocated_worker_id == actor.user_id,
            Case.state != CLOSED,
            person_visible(actor),
        )
        .order_by(Person.search_last_name, Person.search_first_name, Person.id, Case.opened_date)
    ).all()
    children = [
        AllocatedChild(
            child_id=child_id,
            name=f"{first} {last}",
            date_of_birth=born,
            case_id=case_id,
            case_state=state,
            opened_date=opened,
        )
        for child_id, first, last, born, case_id, state, opened in rows
    ]
    for child_id in dict.fromkeys(c.child_id for c in children):
        access_log_append(
            session, principal=actor, action="list", resource="my_work", person_id=child_id
        )
    return children


@dataclass(frozen=True)
class Tag:
    text: str
    colour: str  # a GOV.UK tag modifier: blue, red, purple, ...


@dataclass
class ChildStatus:
    tags: list[Tag] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)


class ChildLike(Protocol):
    """What the banner needs of a child: the ORM row or the API's ``PersonRead``."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def is_restricted(self) -> bool: ...


def child_status(session: Session, *, actor: Principal, child: ChildLike) -> ChildStatus:
    """What the banner says about a child the caller has already been allowed to see: child in
    need, child protection (with the latest category), looked after (with the legal status),
    care leaver; and the alerts (restricted record, missing now, overdue deadlines).
    Six statements whatever the history."""
    status = ChildStatus()
    today, now = clock.today(), clock.now()
    if session.scalar(
        select(CINPlan.id)
        .where(CINPlan.child_id == child.id, CINPlan.state == cin_workflow.ACTIVE)
        .limit(1)
    ):
        status.tags.append(Tag("Child in need", "blue"))
    category = session.scalar(
        select(CPPlan.latest_category)
        .where(CPPlan.child_id == child.id, CPPlan.state == protection_workflow.ACTIVE)
        .limit(1)
    )
    if category is not None:
        status.tags.append(Tag(f"Child protection: {CategoryOfAbuse(category).label}", "red"))
    legal = session.execute(
        select(PeriodOfCare.id, LegalStatusRecord.legal_status)
        .outerjoin(
            LegalStatusRecord,
            (LegalStatusRecord.period_id == PeriodOfCare.id) & LegalStatusRecord.end_date.is_(None),
        )
        .where(PeriodOfCare.child_id == child.id, PeriodOfCare.state == care_workflow.LOOKED_AFTER)
        .limit(1)
    ).first()
    if legal is not None:
        text = "Looked after"
        if legal[1] is not None:
            text += f": {LegalStatus(legal[1]).label}"
        status.tags.append(Tag(text, "purple"))
    leaver = session.scalar(
        select(LeavingCareStatus.category).where(LeavingCareStatus.child_id == child.id)
    )
    if leaver is not None and leaver is not CareLeaverCategory.none:
        label = CareLeaverCategory(leaver).value.replace("_", " ")
        status.tags.append(Tag(f"Care leaver ({label})", "green"))
    if child.is_restricted:
        status.alerts.append("Restricted record: only the people named on it can see it.")
    if session.scalar(
        select(MissingEpisode.id)
        .where(MissingEpisode.child_id == child.id, MissingEpisode.ended_at.is_(None))
        .limit(1)
    ):
        status.alerts.append("Missing now: an episode is open and has no return recorded.")
    overdue = len(
        session.scalars(
            select(Deadline.id).where(
                Deadline.child_id == child.id,
                deadlines_visible(actor),
                deadline_status_clause(DeadlineStatus.overdue, today, now=now),
            )
        ).all()
    )
    if overdue:
        status.alerts.append(
            f"{overdue} overdue deadline{'s' if overdue != 1 else ''} on this child's cases."
        )
    return status


def team_names(session: Session, team_ids: frozenset[uuid.UUID]) -> list[tuple[uuid.UUID, str]]:
    """The teams ``team_ids`` by name (one statement; none when there are no ids)."""
    if not team_ids:
        return []
    rows = session.execute(
        select(Team.id, Team.name).where(Team.id.in_(team_ids)).order_by(Team.name)
    ).all()
    return [(team_id, name) for team_id, name in rows]


# --------------------------------------------------------------------------------------------------
# The child record's tabs. Each read runs after ``people_queries.child_record`` has checked (and
# access-logged) that the caller may see the child: access is per child, so every row below is
# selected by the child's id. One statement each, however many rows there are.
# --------------------------------------------------------------------------------------------------

#: The most rows a tab lists of one kind (a long history is in the chronology, paged).
TAB_ROWS = 200


@dataclass(frozen=True)
class PlanRow:
    id: uuid.UUID
    case_id: uuid.UUID
    kind: str  # "Child in need plan" | "Child protection plan"
    state: str
    start_date: date
    end_date: date | None
    category: str | None


def child_plans(session: Session, *, child_id: uuid.UUID) -> list[PlanRow]:
    """The child's CIN and CP plans, newest first (two statements)."""
    cin = session.execute(
        select(
            CINPlan.id,
            CINPlan.case_id,
            CINPlan.state,
            CINPlan.start_date,
            CINPlan.end_date,
        )
        .where(CINPlan.child_id == child_id)
        .order_by(CINPlan.start_date.desc(), CINPlan.id)
        .limit(TAB_ROWS)
    ).all()
    cp = session.execute(
        select(
            CPPlan.id,
            CPPlan.case_id,
            CPPlan.state,
            CPPlan.start_date,
            CPPlan.end_date,
            CPPlan.latest_category,
        )
        .where(CPPlan.child_id == child_id)
        .order_by(CPPlan.start_date.desc(), CPPlan.id)
        .limit(TAB_ROWS)
    ).all()
    plans = [
        PlanRow(plan_id, case_id, "Child in need plan", state, start, end, None)
        for plan_id, case_id, state, start, end in cin
    ] + [
        PlanRow(
            plan_id,
            case_id,
            "Child protection plan",
            state,
            start,
            end,
            CategoryOfAbuse(category).label if category is not None else None,
        )
        for plan_id, case_id, state, start, end, category in cp
    ]
    return sorted(plans, key=lambda p: p.start_date, reverse=True)


@dataclass(frozen=True)
class AssessmentRow:
    id: uuid.UUID
    case_id: uuid.UUID
    state: str
    start_date: date
    due_date: date | None
    authorised_date: date | None
    outcome: str | None
    author_name: str | None


def child_assessments(session: Session, *, child_id: uuid.UUID) -> list[AssessmentRow]:
    """The child's assessments, newest first, with who wrote each (one statement)."""
    rows = session.execute(
        select(
            Assessment.id,
            Assessment.case_id,
            Assessment.state,
            Assessment.start_date,
            Assessment.due_date,
            Assessment.authorised_date,
            Assessment.outcome,
            UserAccount.display_name,
        )
        .outerjoin(UserAccount, UserAccount.id == Assessment.author_id)
        .where(Assessment.child_id == child_id)
        .order_by(Assessment.start_date.desc(), Assessment.id)
        .limit(TAB_ROWS)
    ).all()
    return [
        AssessmentRow(
            id=row[0],
            case_id=row[1],
            state=row[2],
            start_date=row[3],
            due_date=row[4],
            authorised_date=row[5],
            outcome=row[6].value.replace("_", " ") if row[6] is not None else None,
            author_name=row[7],
        )
        for row in rows
    ]


@dataclass(frozen=True)
class MeetingRow:
    id: uuid.UUID
    href: str
    held: date
    what: str
    outcome: str
    chair: str | None


def child_meetings(session: Session, *, child_id: uuid.UUID) -> list[MeetingRow]:
    """The child's child protection conferences and looked-after reviews, newest first (two
    statements)."""
    conferences = session.execute(
        select(
            CPConference.id,
            CPConference.conference_date,
            CPConference.kind,
            CPConference.outcome,
            CPConference.category,
            CPConference.chair,
        )
        .where(CPConference.child_id == child_id)
        .order_by(CPConference.conference_date.desc(), CPConference.id)
        .limit(TAB_ROWS)
    ).all()
    reviews = session.execute(
        select(
            CLAReview.id,
            CLAReview.review_date,
            CLAReview.sequence,
            CLAReview.state,
            UserAccount.display_name,
        )
        .outerjoin(UserAccount, UserAccount.id == CLAReview.chair_id)
        .where(CLAReview.child_id == child_id)
        .order_by(CLAReview.review_date.desc(), CLAReview.id)
        .limit(TAB_ROWS)
    ).all()
    meetings = [
        MeetingRow(
            id=conference_id,
            href=f"/conferences/{conference_id}",
            held=held,
            what=f"{'Initial' if kind.value == 'initial' else 'Review'} child protection "
            "conference",
            outcome=outcome.value.replace("_", " ").replace("cp ", "CP ").replace("cin ", "CIN ")
            + (f" ({CategoryOfAbuse(category).label})" if category is not None else ""),
            chair=chair,
        )
        for conference_id, held, kind, outcome, category, chair in conferences
    ] + [
        MeetingRow(
            id=review_id,
            href=f"/reviews/{review_id}",
            held=held,
            what=f"Looked-after review {sequence}",
            outcome=state.replace("_", " "),
            chair=chair,
        )
        for review_id, held, sequence, state, chair in reviews
    ]
    return sorted(meetings, key=lambda m: m.held, reverse=True)


@dataclass(frozen=True)
class NoteRow:
    id: uuid.UUID
    case_id: uuid.UUID
    occurred_at: datetime
    kind: str
    title: str
    state: str
    author_name: str | None
    child_seen: bool | None


def child_case_notes(session: Session, *, actor: Principal, child_id: uuid.UUID) -> list[NoteRow]:
    """The child's finished case notes and the caller's own drafts, newest first: the rule of
    ``casenotes.service.notes_for_case`` (a draft is its author's until it is finalised) over
    every case of the child, in one statement."""
    rows = session.execute(
        select(
            CaseNote.id,
            CaseNote.case_id,
            CaseNote.occurred_at,
            CaseNote.kind,
            CaseNote.title,
            CaseNote.state,
            UserAccount.display_name,
            CaseNote.child_seen,
        )
        .outerjoin(UserAccount, UserAccount.id == CaseNote.author_id)
        .where(
            CaseNote.child_id == child_id,
            or_(CaseNote.state == NOTE_FINAL, CaseNote.author_id == actor.user_id),
        )
        .order_by(CaseNote.occurred_at.desc(), CaseNote.id)
        .limit(TAB_ROWS)
    ).all()
    return [
        NoteRow(
            id=row[0],
            case_id=row[1],
            occurred_at=row[2],
            kind=row[3].value.replace("_", " ").capitalize(),
            title=row[4],
            state=row[5],
            author_name=row[6],
            child_seen=row[7],
        )
        for row in rows
    ]


@dataclass(frozen=True)
class CareHistory:
    legal_statuses: list[LegalStatusRecord]
    placements: list[Placement]


def child_care_history(session: Session, *, child_id: uuid.UUID) -> CareHistory:
    """The child's legal statuses and placements over every period of care, newest first (two
    statements)."""
    legal = list(
        session.scalars(
            select(LegalStatusRecord)
            .where(LegalStatusRecord.child_id == child_id)
            .order_by(LegalStatusRecord.start_date.desc(), LegalStatusRecord.id)
            .limit(TAB_ROWS)
        )
    )
    placements = list(
        session.scalars(
            select(Placement)
            .where(Placement.child_id == child_id)
            .order_by(Placement.start_date.desc(), Placement.id)
            .limit(TAB_ROWS)
        )
    )
    return CareHistory(legal_statuses=legal, placements=placements)
