"""Creator functions for assessment and CIN plan stories: a cast, and a case referred on a date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.calendar import LONDON
from app.cases import service as case_service
from app.core_types import Sex
from app.models import (
    Case,
    Deadline,
    DeadlineKind,
    Person,
    PersonKind,
    Role,
    Team,
    TeamKind,
    UserAccount,
)
from app.security.authn import principal_for_user
from app.security.principal import AuthMethod, Principal
from tests.factories import make_child, make_team, make_user


def at(day: date, hour: int = 10) -> datetime:
    """A London wall-clock instant on ``day``."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=LONDON)


def principal(db: Session, user: UserAccount) -> Principal:
    return principal_for_user(db, user, auth=AuthMethod.token)


@dataclass
class Cast:
    """An assessment team with its manager and two social workers; another team's worker."""

    team: Team
    other_team: Team
    manager: UserAccount
    social_worker: UserAccount
    colleague: UserAccount
    other_social_worker: UserAccount
    child: Person


def make_cast(db: Session) -> Cast:
    team = make_team(db, kind=TeamKind.assessment)
    other = make_team(db, kind=TeamKind.cin_cp)
    return Cast(
        team=team,
        other_team=other,
        manager=make_user(db, Role.team_manager, team=team, manager=True),
        social_worker=make_user(db, Role.social_worker, team=team),
        colleague=make_user(db, Role.social_worker, team=team),
        other_social_worker=make_user(db, Role.social_worker, team=other),
        child=make_child(db),
    )


def referred_case(
    db: Session,
    cast: Cast,
    *,
    referral_on: date,
    child: Person | None = None,
    state: str = "assessment",
) -> Case:
    """A contact received and accepted as a referral on ``referral_on``, then (by default) the
    decision to assess taken the same day."""
    with clock.frozen_at(at(referral_on, 9)):
        worker = principal(db, cast.social_worker)
        case = case_service.case_open(
            db,
            actor=worker,
            child_id=(child or cast.child).id,
            team_id=cast.team.id,
            opened_date=referral_on,
            worker_id=cast.social_worker.id,
        )
        case_service.case_transition(
            db, actor=worker, case_id=case.id, event="accept_referral", expected_version=1
        )
        if state == "assessment":
            case_service.case_transition(
                db,
                actor=worker,
                case_id=case.id,
                event="start_assessment",
                expected_version=case.version,
            )
    return case


def assessment_deadline(db: Session, case: Case) -> Deadline:
    deadline = db.scalar(
        select(Deadline).where(
            Deadline.case_id == case.id, Deadline.kind == DeadlineKind.assessment_authorised
        )
    )
    assert deadline is not None
    return deadline


def make_unborn(db: Session, *, expected: date) -> Person:
    """An unborn child: an expected date of birth, Sex U (CIN census rule 8750)."""
    child = Person(
        kind=PersonKind.child,
        first_name="Baby",
        last_name="Example",
        search_first_name="baby",
        search_last_name="example",
        expected_date_of_birth=expected,
        sex=Sex.UNKNOWN,
    )
    db.add(child)
    db.flush()
    return child
