"""Reads the pages need that no API answer has in one piece: the caller's allocated children and
a child's status tags. Each is a fixed number of statements however many rows there are, starts
from ``person_visible`` and access-logs every child it shows (the API's rule)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import access_log_append
from app.care import workflow as care_workflow
from app.care.codes import LegalStatus
from app.cases.workflow import CLOSED
from app.cin import workflow as cin_workflow
from app.core_types import CategoryOfAbuse
from app.deadlines.service import deadline_status_clause, deadlines_visible
from app.models.care import LegalStatusRecord, PeriodOfCare
from app.models.cases import Case
from app.models.cin import CINPlan
from app.models.deadlines import Deadline, DeadlineStatus
from app.models.leavingcare import CareLeaverCategory, LeavingCareStatus
from app.models.missing import MissingEpisode
from app.models.org import Team
from app.models.people import Person
from app.models.protection import CPPlan
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


def child_status(session: Session, *, actor: Principal, child: Person) -> ChildStatus:
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
