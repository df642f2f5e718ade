"""The demo council's supervision: six months of sessions and oversight through the real services,
with a few workers and some cases now overdue — and most in time."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.cases.workflow import CLOSED, CONTACT
from app.config import Settings
from app.demo.cases import load_demo_cases
from app.demo.generator import _Builder, seeded
from app.demo.supervision import load_demo_supervision
from app.models import Case, Role, UserAccount
from app.models.deadlines import Deadline, DeadlineKind
from app.models.supervision import ManagementOversight, SupervisionSession
from app.security.authn import principal_for_user
from app.security.principal import AuthMethod
from app.supervision import service as supervision_service

LOAD_AT = datetime(2026, 3, 11, 11, 30, tzinfo=UTC)


def _overdue(db: Session, kind: DeadlineKind) -> set[object]:
    today = LOAD_AT.date()
    return set(
        db.scalars(
            select(Deadline.subject_id).where(
                Deadline.kind == kind,
                Deadline.met_date.is_(None),
                Deadline.stopped_date.is_(None),
                Deadline.due_date < today,
            )
        )
    )


def test_the_demo_has_supervision_with_a_few_workers_and_some_cases_overdue(
    db: Session, settings: Settings
) -> None:
    demo_settings = settings.model_copy(update={"la_code": "330"})
    with clock.frozen_at(LOAD_AT):
        builder = _Builder(db, seed=7, settings=demo_settings, progress=None)
        builder.organisation()
        builder.people(60)
        builder.young_people(2)
        load_demo_cases(db, world=builder.world, rng=seeded(7, "cases"))
        sessions = load_demo_supervision(db, world=builder.world, rng=seeded(7, "supervision"))
        again = supervision_service.practice_refresh(db)
    assert sessions == db.scalar(select(func.count()).select_from(SupervisionSession))
    workers = (
        db.scalar(
            select(func.count())
            .select_from(UserAccount)
            .where(UserAccount.role.in_(sorted(supervision_service.SUPERVISED_ROLES)))
        )
        or 0
    )
    assert sessions >= 4 * workers  # roughly monthly over six months
    assert 2 <= len(_overdue(db, DeadlineKind.supervision)) <= 4
    open_cases = set(db.scalars(select(Case.id).where(Case.state.not_in([CLOSED, CONTACT]))))
    overdue_cases = _overdue(db, DeadlineKind.management_oversight)
    assert overdue_cases, "some cases' oversight has lapsed"
    assert len(overdue_cases & open_cases) * 3 < len(open_cases), "most open cases are in time"
    entries = db.scalar(select(func.count()).select_from(ManagementOversight)) or 0
    assert entries > len(open_cases)
    # Ad hoc entries as well as decisions in supervision.
    assert db.scalar(
        select(func.count())
        .select_from(ManagementOversight)
        .where(ManagementOversight.supervision_id.is_(None))
    )
    # The demo manager sees overdue work in their own team.
    manager = builder.world.accounts[Role.team_manager]
    with clock.frozen_at(LOAD_AT):
        due = supervision_service.team_practice_due(
            db, actor=principal_for_user(db, manager, auth=AuthMethod.session), team_id=None
        )
    assert due.workers_overdue
    # Every clock already existed: the refresh after the load opens nothing.
    assert (again.supervision_opened, again.oversight_opened) == (0, 0)
