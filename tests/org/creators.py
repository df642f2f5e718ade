"""Creator functions for organisation stories: cases written straight to the table (the case
service has its own stories) and a child to hang them on."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from app.core_types import ReasonForClosure
from app.models import Allocation, Case, Person, Team, UserAccount
from tests.factories import make_child


def make_case(
    db: Session,
    *,
    team: Team,
    worker: UserAccount | None = None,
    child: Person | None = None,
    opened: date = date(2024, 1, 8),
    closed: date | None = None,
    state: str = "contact",
) -> Case:
    """An open case of ``team`` (allocated to ``worker`` if given), or a closed one."""
    child = child or make_child(db)
    case = Case(
        child_id=child.id,
        state="closed" if closed else state,
        opened_date=opened,
        closed_date=closed,
        closure_reason=ReasonForClosure.SERVICES_CEASED if closed else None,
        team_id=team.id,
        allocated_worker_id=worker.id if worker else None,
    )
    db.add(case)
    db.flush()
    db.add(Allocation(case_id=case.id, team_id=team.id, worker_id=case.allocated_worker_id))
    db.flush()
    return case
