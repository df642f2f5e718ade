"""Creator functions for case stories: a principal for a user, a case opened and moved along."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.cases import service as case_service
from app.cases.workflow import (
    ASSESSMENT,
    CARE_LEAVER,
    CIN_PLAN,
    CLOSED,
    CONTACT,
    CP_PLAN,
    LOOKED_AFTER,
    PROTECTION,
    REFERRAL,
)
from app.config import Settings
from app.models import Case, CaseEvent, Deadline, Person, Role, Team, TeamKind, UserAccount
from app.models.security import RestrictedAccessGrant
from app.security.authn import principal_for_user
from app.security.principal import AuthMethod, Principal
from tests.factories import make_child, make_team, make_user

#: The events that take a new case (in ``contact``) to each state, and what each event needs.
PATH_TO: dict[str, tuple[str, ...]] = {
    CONTACT: (),
    REFERRAL: ("accept_referral",),
    ASSESSMENT: ("accept_referral", "start_assessment"),
    PROTECTION: ("accept_referral", "start_strategy"),
    CIN_PLAN: ("accept_referral", "start_assessment", "start_cin_plan"),
    CP_PLAN: ("accept_referral", "start_strategy", "start_cp_plan"),
    LOOKED_AFTER: ("accept_referral", "start_assessment", "become_looked_after"),
    CARE_LEAVER: (
        "accept_referral",
        "start_assessment",
        "become_looked_after",
        "become_care_leaver",
    ),
    CLOSED: ("nfa_contact",),
}
PAYLOAD: dict[str, dict[str, Any]] = {
    "accept_referral": {},
    "start_assessment": {},
    "start_strategy": {},
    "start_cin_plan": {},
    "start_cp_plan": {},
    "become_looked_after": {},
    "become_care_leaver": {},
    "nfa_contact": {"reason": "Universal services are meeting the child's needs."},
    "referral_nfa": {"reason": "The referral shows no need for social care services."},
    "conclude_enquiry": {"reason": "The section 47 enquiry found no continuing risk of harm."},
    "close": {"reason": "Family moved away.", "data": {"closure_reason": "RC5"}},
}


def principal(db: Session, user: UserAccount) -> Principal:
    return principal_for_user(db, user, auth=AuthMethod.token)


def grant(db: Session, child: Person, user: UserAccount) -> None:
    """Name ``user`` on a restricted child's record."""
    db.add(RestrictedAccessGrant(person_id=child.id, user_id=user.id, granted_by_id=user.id))
    db.flush()


def open_case(
    db: Session,
    *,
    by: UserAccount,
    child: Person,
    team: Team,
    rag: str = "amber",
    opened_date: date | None = None,
    worker: UserAccount | None = None,
    settings: Settings | None = None,
) -> Case:
    return case_service.case_open(
        db,
        actor=principal(db, by),
        child_id=child.id,
        team_id=team.id,
        opened_date=opened_date or clock.today(),
        rag=rag,
        worker_id=worker.id if worker else None,
        settings=settings,
    )


def take(db: Session, case: Case, event: str, *, by: UserAccount, **payload: Any) -> Case:
    """Take ``event`` on ``case`` as ``by`` at its current version (payload defaults per event)."""
    args = {**PAYLOAD.get(event, {}), **payload}
    return case_service.case_transition(
        db,
        actor=principal(db, by),
        case_id=case.id,
        event=event,
        expected_version=case.version,
        reason=args.get("reason"),
        data=args.get("data"),
    )


def move_to(db: Session, case: Case, state: str, *, by: UserAccount) -> Case:
    for event in PATH_TO[state]:
        take(db, case, event, by=by)
    assert case.state == state
    return case


def event_count(db: Session, case: Case) -> int:
    return db.scalar(select(func.count()).where(CaseEvent.case_id == case.id)) or 0


def deadlines_of(db: Session, case: Case) -> dict[str, Deadline]:
    rows = db.scalars(select(Deadline).where(Deadline.case_id == case.id).order_by(Deadline.kind))
    return {d.kind.value: d for d in rows}


@dataclass
class Cast:
    """A front-door team and its people, another team's social worker, an IRO, a child."""

    team: Team
    other_team: Team
    manager: UserAccount
    social_worker: UserAccount
    mash_officer: UserAccount
    other_social_worker: UserAccount
    iro: UserAccount
    service_manager: UserAccount
    child: Person


def make_cast(db: Session) -> Cast:
    team = make_team(db, kind=TeamKind.front_door)
    other = make_team(db, kind=TeamKind.cin_cp)
    return Cast(
        team=team,
        other_team=other,
        manager=make_user(db, Role.team_manager, team=team, manager=True),
        social_worker=make_user(db, Role.social_worker, team=team),
        mash_officer=make_user(db, Role.mash_officer, team=team),
        other_social_worker=make_user(db, Role.social_worker, team=other),
        iro=make_user(db, Role.iro),
        service_manager=make_user(db, Role.service_manager),
        child=make_child(db),
    )
