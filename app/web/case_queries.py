"""Reads the case pages need that no API answer has in one piece: the names around a case, its
sub-records (assessments, plans, reviews) and its open deadlines, and a conference by its id.

Every function here is called only with a case the caller has already been allowed to see
through the case service (``case_get`` / ``case_for_read``, which log the read), and runs a fixed
number of statements however many records the case has.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cases import service as case_service
from app.deadlines.service import deadlines_list
from app.models.assessments import Assessment
from app.models.cases import Case
from app.models.cin import CINPlan
from app.models.deadlines import Deadline, DeadlineStatus
from app.models.frontdoor import ContactChild
from app.models.iro import CLAReview
from app.models.org import Team, UserAccount
from app.models.people import Person
from app.models.protection import CPConference
from app.security.principal import Principal

#: At most this many open deadlines on the case page (a case rarely has more than five).
DEADLINES_SHOWN = 50


@dataclass
class CaseOverview:
    child: Person
    team_name: str
    worker_name: str | None
    contact_id: uuid.UUID | None
    assessments: list[Assessment] = field(default_factory=list)
    cin_plans: list[CINPlan] = field(default_factory=list)
    reviews: list[CLAReview] = field(default_factory=list)
    deadlines: list[Deadline] = field(default_factory=list)


def case_overview(session: Session, *, actor: Principal, case: Case) -> CaseOverview:
    """What the case page shows besides the case and its protection records (seven statements
    plus the deadline service's access-log lines)."""
    child = session.get(Person, case.child_id)
    assert child is not None  # a foreign key
    team_name = session.scalar(select(Team.name).where(Team.id == case.team_id)) or ""
    worker_name = (
        session.scalar(
            select(UserAccount.display_name).where(UserAccount.id == case.allocated_worker_id)
        )
        if case.allocated_worker_id is not None
        else None
    )
    contact_id = session.scalar(
        select(ContactChild.contact_id)
        .where(ContactChild.case_id == case.id)
        .order_by(ContactChild.created_at)
        .limit(1)
    )
    assessments = list(
        session.scalars(
            select(Assessment)
            .where(Assessment.case_id == case.id)
            .order_by(Assessment.start_date, Assessment.created_at)
        )
    )
    cin_plans = list(
        session.scalars(
            select(CINPlan)
            .where(CINPlan.case_id == case.id)
            .order_by(CINPlan.start_date, CINPlan.created_at)
        )
    )
    reviews = list(
        session.scalars(
            select(CLAReview)
            .where(CLAReview.case_id == case.id)
            .order_by(CLAReview.review_date, CLAReview.sequence)
        )
    )
    # Open deadlines only, through the deadline service (its visibility rule and access log).
    deadlines: list[Deadline] = []
    for status in (DeadlineStatus.overdue, DeadlineStatus.due):
        page, _cursor = deadlines_list(
            session, actor=actor, case_id=case.id, status=status, limit=DEADLINES_SHOWN
        )
        deadlines.extend(page)
    return CaseOverview(
        child=child,
        team_name=team_name,
        worker_name=worker_name,
        contact_id=contact_id,
        assessments=assessments,
        cin_plans=cin_plans,
        reviews=reviews,
        deadlines=deadlines[:DEADLINES_SHOWN],
    )


def conference_get(session: Session, *, actor: Principal, conference_id: uuid.UUID) -> CPConference:
    """A child protection conference, if its case is one the caller may see (404 otherwise); the
    read is access-logged by the case service, as the API's reads of protection records are."""
    from app.errors import NotFound

    conference = session.get(CPConference, conference_id)
    if conference is None:
        raise NotFound("There is no conference with this id that you can see.")
    case_service.case_for_read(
        session, actor=actor, case_id=conference.case_id, resource="cp_conference"
    )
    return conference
