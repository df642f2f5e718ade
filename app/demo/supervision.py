"""Demo supervision and management oversight: six months of it, through the real services.

Each practitioner is supervised by their team's manager roughly monthly (now and then late), and
each team manager by the service manager; in each session the manager takes a decision on the
worker's cases whose oversight falls due before the next one, and between sessions a manager
looks at the team's cases that are about to lapse. A few workers' supervision has now lapsed, and
some cases' oversight, so a manager's overdue lists have something on them — by the same rules as
live data. Nothing here writes a row itself: sessions go through ``supervision_record`` and
entries through ``oversight_record``, with the clock frozen at each day, in date order so that
the deadlines chain. The daily refresh runs first, so every clock exists.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Final

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from app import clock
from app.calendar import is_working_day, previous_working_day
from app.cases.workflow import CLOSED, CONTACT
from app.models.cases import Case
from app.models.deadlines import Deadline, DeadlineKind
from app.models.org import Role, UserAccount
from app.models.people import Person
from app.models.supervision import SupervisionSession
from app.security.access import person_visible
from app.security.authn import principal_for_user
from app.security.principal import AuthMethod, Principal
from app.supervision import service as supervision_service

if TYPE_CHECKING:
    from app.demo.generator import DemoWorld

#: How far back the demo's supervision goes.
HISTORY_DAYS: Final = 183
#: How many workers' supervision has lapsed today.
OVERDUE_WORKERS: Final = 3
#: The share of open cases whose oversight drifts in the last weeks (so is overdue today).
DRIFTING_PERCENT: Final = 12
DRIFT_DAYS: Final = 56

DECISIONS: Final = (
    "Plan remains appropriate; continue visits at the agreed frequency.",
    "Chase the school and health visitor for updated information before the review.",
    "Arrange a family network meeting within the next four weeks.",
    "Threshold for step-down to early help to be considered at the next review.",
    "Update the chronology and the risk analysis; discuss again next supervision.",
    "Request a legal planning meeting: concerns continue despite the plan.",
    "Complete the assessment within timescale; manager to countersign.",
    "Direct work with the child to capture their wishes and feelings before the review.",
    "Father to be contacted and invited to contribute to the plan.",
    "Case to be considered for closure at the next review if progress is sustained.",
)
NOTES: Final = (
    "Reflected on the impact of recent home visits; discussed analysis of risk and strengths.",
    "Talked through a difficult conversation with a parent; agreed a joint visit.",
    "Discussed learning from a recent audit and how to evidence the child's voice.",
    "Reviewed caseload priorities for the month; agreed what can wait.",
)
WELLBEING: Final = (
    "Manageable caseload; no concerns raised.",
    "Feeling stretched by court work; agreed protected time to write statements.",
    "Annual leave booked; cover arranged for visits.",
    "Would like to attend the neglect training; agreed.",
)


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def _working(day: date, today: date) -> date:
    while not is_working_day(day):
        day += timedelta(days=1)
    return day if day <= today else previous_working_day(today + timedelta(days=1))


@dataclass(order=True)
class _Step:
    day: date
    order: int
    kind: str = field(compare=False)
    worker: UserAccount | None = field(compare=False, default=None)
    manager: UserAccount | None = field(compare=False, default=None)
    team_id: uuid.UUID | None = field(compare=False, default=None)


class _Demo:
    def __init__(self, session: Session, *, world: DemoWorld, rng: random.Random) -> None:
        self.session = session
        self.world = world
        self.rng = rng
        self.today = world.today
        self.principals: dict[uuid.UUID, Principal] = {}
        self.sessions = 0
        self.entries = 0
        # Some open cases drift: nobody records oversight on them in the last weeks, so their
        # clocks lapse (the manager's overdue list has something real on it).
        open_cases = list(
            session.scalars(
                # Case ids are random; a child's cases in date order are the same for a seed.
                select(Case.id)
                .where(Case.state.not_in([CLOSED, CONTACT]))
                .order_by(Case.child_id, Case.opened_date)
            )
        )
        self.drifting = set(rng.sample(open_cases, len(open_cases) * DRIFTING_PERCENT // 100))
        self.drift_from = self.today - timedelta(days=DRIFT_DAYS)

    def as_(self, user: UserAccount) -> Principal:
        # Memberships began years before any of this, so one principal per manager serves.
        if user.id not in self.principals:
            self.principals[user.id] = principal_for_user(
                self.session, user, auth=AuthMethod.session
            )
        return self.principals[user.id]

    def pairs(self) -> list[tuple[UserAccount, UserAccount]]:
        """(worker, supervisor): practitioners by their team's manager, managers by the service
        manager; each worker once (by their first team)."""
        service_manager = self.world.accounts[Role.service_manager]
        pairs: list[tuple[UserAccount, UserAccount]] = []
        seen: set[uuid.UUID] = set()
        for staff in self.world.staff.values():
            managers = [u for u in staff if u.role is Role.team_manager]
            for user in staff:
                if user.id in seen or user.role not in supervision_service.SUPERVISED_ROLES:
                    continue
                seen.add(user.id)
                if user.role is Role.team_manager or not managers:
                    pairs.append((user, service_manager))
                else:
                    pairs.append((user, managers[0]))
        return pairs

    def plan(self) -> list[_Step]:
        start = self.today - timedelta(days=HISTORY_DAYS)
        pairs = self.pairs()
        home = self.world.staff.get("Assessment North", [])
        demo_worker = self.world.accounts.get(Role.social_worker)
        # One of the demo manager's own team, and a couple elsewhere, have lapsed.
        candidates = [w for w, _ in pairs if w.role is Role.social_worker and w is not demo_worker]
        in_home = [w for w in candidates if w in home]
        lapsed = set(self.rng.sample(in_home, 1) if in_home else [])
        others = [w for w in candidates if w not in lapsed]
        lapsed |= set(self.rng.sample(others, min(OVERDUE_WORKERS - len(lapsed), len(others))))
        steps: list[_Step] = []
        order = 0
        for worker, supervisor in pairs:
            day = start + timedelta(days=self.rng.randint(0, 27))
            stop = (
                self.today - timedelta(days=self.rng.randint(40, 70)) if worker in lapsed else None
            )
            last: date | None = None
            while day <= self.today and (stop is None or day <= stop):
                held = _working(day, self.today)
                if last is None or held > last:
                    steps.append(_Step(held, order, "session", worker, supervisor))
                    order += 1
                    last = held
                late = self.rng.random() < 0.15
                day = held + timedelta(
                    days=self.rng.randint(36, 48) if late else self.rng.randint(26, 31)
                )
            if worker not in lapsed and (last is None or last < self.today - timedelta(days=26)):
                extra = _working(self.today - timedelta(days=self.rng.randint(1, 12)), self.today)
                if last is None or extra > last:
                    steps.append(_Step(extra, order, "session", worker, supervisor))
                    order += 1
        # Between sessions, each team's manager looks at the cases about to lapse (fortnightly).
        for name, staff in self.world.staff.items():
            managers = [u for u in staff if u.role is Role.team_manager]
            if not managers:
                continue
            day = start + timedelta(days=self.rng.randint(0, 13))
            while day <= self.today:
                held = _working(day, self.today)
                steps.append(
                    _Step(
                        held,
                        order,
                        "ad_hoc",
                        manager=managers[0],
                        team_id=self.world.teams[name].id,
                    )
                )
                order += 1
                day = held + timedelta(days=14)
        return sorted(steps)

    def _due_cases(
        self,
        actor: Principal,
        day: date,
        horizon: date,
        *,
        worker_id: uuid.UUID | None = None,
        team_id: uuid.UUID | None = None,
    ) -> list[uuid.UUID]:
        """Open cases (of the worker, or the team) whose oversight clock is due by ``horizon``,
        started by ``day``, about children ``actor`` may see."""
        stmt = (
            select(Case.id)
            .join(Person, Person.id == Case.child_id)
            .join(
                Deadline,
                and_(
                    Deadline.subject_type == "case",
                    Deadline.subject_id == Case.id,
                    Deadline.kind == DeadlineKind.management_oversight,
                    Deadline.met_date.is_(None),
                    Deadline.stopped_date.is_(None),
                ),
            )
            .where(
                Case.state.not_in([CLOSED, CONTACT]),
                Case.opened_date <= day,
                Deadline.start_date <= day,
                Deadline.due_date <= horizon,
                person_visible(actor),
                func.coalesce(Person.date_of_death, day) >= day,
            )
            .order_by(Deadline.due_date, Case.child_id, Case.opened_date)
        )
        if worker_id is not None:
            stmt = stmt.where(Case.allocated_worker_id == worker_id)
        if team_id is not None:
            stmt = stmt.where(Case.team_id == team_id)
        found = list(self.session.scalars(stmt))
        if day >= self.drift_from:
            found = [c for c in found if c not in self.drifting]
        return found

    def session_step(self, step: _Step) -> None:
        assert step.worker is not None
        assert step.manager is not None
        actor = self.as_(step.manager)
        cases = self._due_cases(
            actor, step.day, step.day + timedelta(days=35), worker_id=step.worker.id
        )
        if step.manager.role is not Role.service_manager:
            # The team manager records decisions on cases of the teams they supervise for.
            cases = [c for c in cases if self.rng.random() < 0.8]
        else:
            cases = []
        decisions = [
            supervision_service.CaseDecision(
                case_id=case_id,
                decision=self.rng.choice(DECISIONS),
                review_by=step.day + timedelta(days=28) if self.rng.random() < 0.3 else None,
            )
            for case_id in cases[:8]
        ]
        supervision_service.supervision_record(
            self.session,
            actor=actor,
            worker_id=step.worker.id,
            supervisor_id=step.manager.id,
            held_on=step.day,
            notes=self.rng.choice(NOTES),
            wellbeing=self.rng.choice(WELLBEING),
            case_decisions=decisions,
        )
        self.sessions += 1
        self.entries += len(decisions)

    def ad_hoc_step(self, step: _Step) -> None:
        assert step.manager is not None
        assert step.team_id is not None
        actor = self.as_(step.manager)
        for case_id in self._due_cases(
            actor, step.day, step.day + timedelta(days=7), team_id=step.team_id
        ):
            if self.rng.random() < 0.6:
                supervision_service.oversight_record(
                    self.session,
                    actor=actor,
                    case_id=case_id,
                    decision=self.rng.choice(DECISIONS),
                    recorded_on=step.day,
                )
                self.entries += 1


def load_demo_supervision(session: Session, *, world: DemoWorld, rng: random.Random) -> int:
    """Six months of supervision and oversight for the demo council; returns how many sessions
    were recorded (after the daily refresh has opened every missing clock)."""
    demo = _Demo(session, world=world, rng=rng)
    start = world.today - timedelta(days=HISTORY_DAYS)
    with clock.frozen_at(_noon(start)):
        supervision_service.practice_refresh(session)
    for step in demo.plan():
        with clock.frozen_at(_noon(step.day)):
            if step.kind == "session":
                demo.session_step(step)
            else:
                demo.ad_hoc_step(step)
    with clock.frozen_at(_noon(world.today)):
        supervision_service.practice_refresh(session)
    session.flush()
    return session.scalar(select(func.count()).select_from(SupervisionSession)) or 0
