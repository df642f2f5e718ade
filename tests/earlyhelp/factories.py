"""Creator functions for early help stories: a council with a front door, an assessment team and
one early help team, and children stepped down through the real services (a MASH decision, an
authorised assessment)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.assessments import service as assessment_service
from app.cases import service as case_service
from app.core_types import PrimaryNeed, ReferralSource
from app.models import CaseEvent, Person, Role, Team, TeamKind, UserAccount
from app.models.assessments import AssessmentOutcome
from app.models.cases import Case
from app.models.earlyhelp import EarlyHelpEpisode, EarlyHelpMember
from app.referrals import service as referral_service
from app.security.authn import principal_for_user
from app.security.principal import AuthMethod, Principal
from tests.factories import auth_headers, make_child, make_team, make_user


def noon(day: date) -> datetime:
    """Midday UTC on ``day``: freeze the clock here to act on that date."""
    return datetime.combine(day, time(12), tzinfo=UTC)


def principal(db: Session, user: UserAccount) -> Principal:
    return principal_for_user(db, user, auth=AuthMethod.token)


@dataclass
class Council:
    """The front door (a MASH officer and manager), an assessment team (manager, social worker),
    the early help team (manager, two family support workers), and two children."""

    mash: Team
    assessment: Team
    early_help: Team
    mash_officer: UserAccount
    assessment_manager: UserAccount
    social_worker: UserAccount
    early_help_manager: UserAccount
    family_worker: UserAccount
    other_family_worker: UserAccount
    ava: Person
    ben: Person

    def headers(self, db: Session, user: UserAccount | None = None) -> dict[str, str]:
        return auth_headers(db, user or self.family_worker)


def make_council(db: Session) -> Council:
    mash = make_team(db, kind=TeamKind.front_door)
    assessment = make_team(db, kind=TeamKind.assessment)
    early_help = make_team(db, kind=TeamKind.early_help)
    return Council(
        mash=mash,
        assessment=assessment,
        early_help=early_help,
        mash_officer=make_user(db, Role.mash_officer, team=mash),
        assessment_manager=make_user(db, Role.team_manager, team=assessment, manager=True),
        social_worker=make_user(db, Role.social_worker, team=assessment),
        early_help_manager=make_user(db, Role.team_manager, team=early_help, manager=True),
        family_worker=make_user(db, Role.social_worker, team=early_help),
        other_family_worker=make_user(db, Role.social_worker, team=early_help),
        ava=make_child(db, first_name="Ava", last_name="Thornbury", date_of_birth=date(2016, 3, 1)),
        ben=make_child(db, first_name="Ben", last_name="Oakes", date_of_birth=date(2012, 7, 9)),
    )


def contact_about(
    client: TestClient, db: Session, council: Council, child: Person, **changes: Any
) -> dict[str, Any]:
    """A school's amber contact about ``child``, recorded by the MASH officer now."""
    body: dict[str, Any] = {
        "child_ids": [str(child.id)],
        "team_id": str(council.mash.id),
        "source": "2A",
        "referrer_name": "Ms Teal",
        "referrer_organisation": "Kestrel Park Primary",
        "concern": "Often late, tired and hungry; mother is struggling since the baby arrived.",
        "consent": "given",
        "rag": "green",
        **changes,
    }
    made = client.post(
        "/api/v1/contacts", json=body, headers=council.headers(db, council.mash_officer)
    )
    assert made.status_code == 201, made.text
    result: dict[str, Any] = made.json()
    return result


def decide(
    client: TestClient,
    db: Session,
    council: Council,
    contact: dict[str, Any],
    child: Person,
    decision: str,
    **extra: Any,
) -> Any:
    return client.post(
        f"/api/v1/contacts/{contact['id']}/decisions",
        json={
            "decisions": [
                {
                    "child_id": str(child.id),
                    "decision": decision,
                    "reason": "MASH decision.",
                    **extra,
                }
            ]
        },
        headers={
            **council.headers(db, council.mash_officer),
            "If-Match": f'"{contact["version"]}"',
        },
    )


def stepped_down_at_the_door(
    client: TestClient, db: Session, council: Council, child: Person, *, on: date
) -> EarlyHelpEpisode:
    """A contact about ``child`` on ``on``, decided "early help" by the MASH the same day."""
    with clock.frozen_at(noon(on)):
        contact = contact_about(client, db, council, child)
        decided = decide(client, db, council, contact, child, "early_help")
    assert decided.status_code == 200, decided.text
    return episode_of(db, child)


def stepped_down_after_assessment(
    db: Session, council: Council, child: Person, *, referral_on: date, authorised_on: date
) -> EarlyHelpEpisode:
    """A referral of ``child`` on ``referral_on`` (recorded as a referral, so a later one within
    12 months is a re-referral), assessed, and authorised with outcome early help."""
    worker = principal(db, council.social_worker)
    with clock.frozen_at(noon(referral_on)):
        case = case_service.case_open(
            db,
            actor=worker,
            child_id=child.id,
            team_id=council.assessment.id,
            opened_date=referral_on,
            worker_id=council.social_worker.id,
        )
        case_service.case_transition(
            db,
            actor=worker,
            case_id=case.id,
            event="accept_referral",
            expected_version=case.version,
            data={"referral_date": referral_on.isoformat()},
        )
        referral_service.referral_record(
            db,
            actor=worker,
            case=case,
            referral_date=referral_on,
            source=ReferralSource.SCHOOL,
            primary_need=PrimaryNeed.FAMILY_IN_ACUTE_STRESS,
        )
        case_service.case_transition(
            db,
            actor=worker,
            case_id=case.id,
            event="start_assessment",
            expected_version=case.version,
        )
    with clock.frozen_at(noon(authorised_on)):
        assessment = assessment_service.assessment_start(
            db, actor=worker, case_id=case.id, start_date=referral_on, factors=["21"]
        )
        assessment_service.assessment_child_seen_add(
            db, actor=worker, assessment_id=assessment.id, seen_date=authorised_on, seen_alone=False
        )
        assessment_service.assessment_submit(
            db, actor=worker, assessment_id=assessment.id, expected_version=assessment.version
        )
        assessment_service.assessment_authorise(
            db,
            actor=principal(db, council.assessment_manager),
            assessment_id=assessment.id,
            expected_version=assessment.version,
            outcome=AssessmentOutcome.early_help,
            comments="Needs can be met by early help; the family agree.",
        )
    db.commit()
    return episode_of(db, child)


def episode_of(db: Session, child: Person) -> EarlyHelpEpisode:
    """The child's latest early help episode."""
    db.expire_all()
    found = db.scalars(
        select(EarlyHelpEpisode)
        .where(EarlyHelpEpisode.child_id == child.id)
        .order_by(EarlyHelpEpisode.start_date.desc(), EarlyHelpEpisode.created_at.desc())
    ).first()
    assert found is not None
    return found


def latest_case(db: Session, child: Person) -> Case:
    db.expire_all()
    found = db.scalars(
        select(Case).where(Case.child_id == child.id).order_by(Case.created_at.desc())
    ).first()
    assert found is not None
    return found


@dataclass(frozen=True)
class Written:
    """What an early help refusal must leave as it was: the episode's version, its state, the
    events on its case, its members and the child's cases."""

    version: int
    state: str
    events: int
    members: int
    cases: int


def written(db: Session, episode_id: uuid.UUID | str) -> Written:
    db.expire_all()
    episode = db.get(EarlyHelpEpisode, uuid.UUID(str(episode_id)))
    assert episode is not None
    return Written(
        version=episode.version,
        state=episode.state,
        events=db.scalar(
            select(func.count())
            .select_from(CaseEvent)
            .where(CaseEvent.case_id == episode.origin_case_id)
        )
        or 0,
        members=db.scalar(
            select(func.count())
            .select_from(EarlyHelpMember)
            .where(EarlyHelpMember.episode_id == episode.id)
        )
        or 0,
        cases=db.scalar(
            select(func.count()).select_from(Case).where(Case.child_id == episode.child_id)
        )
        or 0,
    )
