"""Demo cases: about half the children have a case, in every state, with dates over recent months.

Cases are not written directly: each step goes through the case service (and so the workflow
engine, the audit chain and the deadlines), acted by the demo workers, with the clock frozen at the
day the step happened. The result is what the service would hold had those workers done the work
on those days: contact decisions due today, referrals overdue, assessments met and missed, closed
cases with a reason, and a chronology that verifies.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.calendar import LONDON, add_working_days, is_working_day, previous_working_day
from app.cases import service as case_service
from app.core_types import ReasonForClosure
from app.demo.generator import DEMO_HOME_TEAM, DemoWorld, ProgressCallback
from app.models import Case, Person, RestrictedAccessGrant, Role, TeamKind, UserAccount
from app.security.authn import principal_for_user
from app.security.principal import AuthMethod, Principal

# Where the cases end up (weights), so every worklist has something in it.
OUTCOMES: Final[tuple[tuple[str, int], ...]] = (
    ("contact", 10),
    ("referral", 8),
    ("assessment", 27),
    ("plan", 25),
    ("nfa_contact", 10),
    ("closed_after_assessment", 12),
    ("closed_from_plan", 8),
)
SHARE_WITH_CASE: Final = 0.5
# Some children with an open case were referred before too (re-referral is a measured outcome).
SHARE_REREFERRED: Final = 0.1
RAGS: Final = (("red", 15), ("amber", 60), ("green", 25))
PRE_BIRTH_WEEKS: Final = 40


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


@dataclass
class _Actors:
    """The principals who do the work: built once per worker (memberships do not change)."""

    session: Session
    cache: dict[uuid.UUID, Principal]

    def of(self, user: UserAccount) -> Principal:
        if user.id not in self.cache:
            self.cache[user.id] = principal_for_user(self.session, user, auth=AuthMethod.session)
        return self.cache[user.id]


class _Story:
    """One case's steps, each taken by its actor with the clock at the step's day."""

    def __init__(self, *, start: date, today: date) -> None:
        self.day = start
        self.today = today
        self.minute = 0

    def after(self, rng: random.Random, low: int, high: int) -> date:
        """Move on ``low..high`` working days (never past today)."""
        self.day = min(add_working_days(self.day, rng.randint(low, high)), self.today)
        return self.day

    def at(self, step: Callable[[], Case]) -> Case:
        # Steps on one day happen in order, a few minutes apart, during the working day.
        self.minute += 7
        instant = datetime.combine(self.day, time(9, 0), LONDON) + timedelta(minutes=self.minute)
        if self.day == self.today:
            instant = min(instant, clock.now())
        with clock.frozen_at(instant):
            return step()


class _CaseMaker:
    def __init__(self, session: Session, *, world: DemoWorld, rng: random.Random) -> None:
        self.service = case_service
        self.session = session
        self.world = world
        self.rng = rng
        self.today = world.today
        self.actors = _Actors(session, {})
        teams = world.teams
        by_kind: dict[TeamKind, list[str]] = {}
        for name, team in teams.items():
            by_kind.setdefault(team.kind, []).append(name)
        self.by_kind = by_kind
        self.front_door = by_kind[TeamKind.front_door][0]
        self.service_manager = world.accounts[Role.service_manager]
        self.demo_worker = world.accounts[Role.social_worker]

    # --- who ---------------------------------------------------------------------------------

    def staff(self, team: str, role: Role) -> list[UserAccount]:
        return [u for u in self.world.staff[team] if u.role is role]

    def manager(self, team: str) -> UserAccount:
        managers = self.staff(team, Role.team_manager)
        return managers[0] if managers else self.service_manager

    def worker(self, team: str) -> UserAccount:
        workers = self.staff(team, Role.social_worker)
        # The demo social worker holds a good share of their team's cases, so their worklist is
        # full when they sign in.
        if self.demo_worker in workers and self.rng.random() < 0.35:
            return self.demo_worker
        return self.rng.choice(workers)

    def as_(self, user: UserAccount) -> Principal:
        return self.actors.of(user)

    # --- steps -------------------------------------------------------------------------------

    def transition(
        self,
        story: _Story,
        actor: UserAccount,
        case: Case,
        event: str,
        *,
        reason: str | None = None,
        data: dict[str, object] | None = None,
    ) -> Case:
        return story.at(
            lambda: self.service.case_transition(
                self.session,
                actor=self.as_(actor),
                case_id=case.id,
                event=event,
                expected_version=case.version,
                reason=reason,
                data=data,
            )
        )

    def allocate(
        self, story: _Story, actor: UserAccount, case: Case, team: str, worker: UserAccount | None
    ) -> Case:
        return story.at(
            lambda: self.service.case_allocate(
                self.session,
                actor=self.as_(actor),
                case_id=case.id,
                expected_version=case.version,
                team_id=self.world.teams[team].id,
                worker_id=worker.id if worker else None,
                reason="Allocated for assessment" if worker else "Transferred",
            )
        )

    def run(self, child: Person, outcome: str, *, days_ago: int) -> None:
        """Take ``child``'s case from contact to ``outcome``, starting ``days_ago`` days back."""
        rng = self.rng
        opened = self.today - timedelta(days=days_ago)
        if not is_working_day(opened):
            opened = previous_working_day(opened)
        if child.date_of_birth is not None:
            opened = max(opened, child.date_of_birth)
        story = _Story(start=opened, today=self.today)

        if child.is_restricted:
            # Only named users see a restricted child: the service manager (always named) does
            # the front door's and the managers' part, and the case stays with the demo team.
            home = door_team = DEMO_HOME_TEAM
            mash = door_manager = self.service_manager
            worker = self.demo_worker if self._granted(child) else None
        else:
            home = rng.choice(self.by_kind[TeamKind.assessment])
            door_team = self.front_door
            mash = rng.choice(self.staff(self.front_door, Role.mash_officer))
            door_manager = self.manager(self.front_door)
            worker = self.worker(home)

        case = story.at(
            lambda: self.service.case_open(
                self.session,
                actor=self.as_(mash),
                child_id=child.id,
                team_id=self.world.teams[door_team].id,
                opened_date=story.day,
                rag=_weighted(rng, RAGS),
                worker_id=None if child.is_restricted else mash.id,
            )
        )
        if outcome == "contact":
            return
        story.after(rng, 0, 1)
        if outcome == "nfa_contact":
            self.transition(
                story, mash, case, "nfa_contact",
                reason="Information and advice given; no further action needed.",
            )  # fmt: skip
            return
        self.transition(
            story, mash, case, "accept_referral", data={"referral_date": story.day.isoformat()}
        )
        if worker is not None:
            self.allocate(story, door_manager, case, home, worker)
        actor = worker if worker is not None and not child.is_restricted else door_manager
        if outcome == "referral":
            return
        story.after(rng, 0, 2)
        self.transition(story, actor, case, "start_assessment")
        if outcome == "assessment":
            return
        if outcome == "closed_after_assessment":
            story.after(rng, 8, 50)
            self.transition(
                story, actor, case, "close",
                reason="Assessment complete: needs can be met by universal services.",
                data={"closure_reason": _weighted(rng, (
                    (ReasonForClosure.CLOSED_AFTER_ASSESSMENT_NFA.value, 2),
                    (ReasonForClosure.CLOSED_AFTER_ASSESSMENT_EARLY_HELP.value, 1),
                ))},
            )  # fmt: skip
            return
        story.after(rng, 20, 55)
        self.transition(story, actor, case, "start_plan")
        closer = self.service_manager
        if not child.is_restricted:
            # The plan is held by a long-term team: child in need / protection, or in care.
            long_term = rng.choice(
                self.by_kind[TeamKind.cin_cp] * 3 + self.by_kind[TeamKind.children_in_care]
            )
            story.after(rng, 0, 3)
            self.allocate(story, self.manager(home), case, long_term, self.worker(long_term))
            closer = self.manager(long_term)
        if outcome == "plan":
            return
        story.after(rng, 30, 120)
        self.transition(
            story, closer, case, "close",
            reason="Plan ended: the child's needs are met.",
            data={"closure_reason": ReasonForClosure.SERVICES_CEASED.value},
        )  # fmt: skip

    def _granted(self, child: Person) -> bool:
        granted = self.session.scalar(
            select(RestrictedAccessGrant.id).where(
                RestrictedAccessGrant.person_id == child.id,
                RestrictedAccessGrant.user_id == self.demo_worker.id,
            )
        )
        return granted is not None


# How far back each outcome's story starts (calendar days), so its deadlines land before, on and
# after today.
STARTS: Final[dict[str, tuple[int, int]]] = {
    "contact": (0, 5),
    "referral": (1, 8),
    "assessment": (4, 100),
    "plan": (90, 200),
    "nfa_contact": (2, 200),
    "closed_after_assessment": (40, 200),
    "closed_from_plan": (200, 300),
}


def load_demo_cases(
    session: Session,
    *,
    world: DemoWorld,
    rng: random.Random,
    progress: ProgressCallback | None = None,
) -> int:
    """Give about half the children a case through the case service; return how many cases."""
    maker = _CaseMaker(session, world=world, rng=rng)
    chosen = [c for c in world.children if rng.random() < SHARE_WITH_CASE]
    # Restricted children are few: give each a case so their 404 can be tried on cases too.
    chosen += [c for c in world.children if c.is_restricted and c not in chosen]
    plans: list[tuple[Person, str, int]] = []
    today = world.today
    for child in chosen:
        outcome = _weighted(rng, OUTCOMES)
        low, high = STARTS[outcome]
        days_ago = rng.randint(low, high)
        if child.expected_date_of_birth is not None:
            # A pre-birth assessment, not yet a plan, and a referral at most 40 weeks before the
            # expected birth (CIN census rule 8606).
            if outcome in ("plan", "closed_from_plan"):
                outcome = "assessment"
            earliest = child.expected_date_of_birth - timedelta(weeks=PRE_BIRTH_WEEKS)
            days_ago = min(days_ago, max((today - earliest).days, 0))
        open_now = outcome in ("contact", "referral", "assessment", "plan")
        old_enough = child.date_of_birth is not None and (today - child.date_of_birth).days > 450
        if open_now and old_enough and not child.is_restricted and rng.random() < SHARE_REREFERRED:
            # An earlier episode, closed before this one began.
            plans.append((child, "closed_after_assessment", rng.randint(320, 420)))
        plans.append((child, outcome, days_ago))
    total = len(plans)
    if progress is not None:
        progress("Cases", 0, total)
    for done, (child, outcome, days_ago) in enumerate(plans, start=1):
        maker.run(child, outcome, days_ago=days_ago)
        if progress is not None:
            progress("Cases", done, total)
    return total
