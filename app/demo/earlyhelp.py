"""Demo early help: the episodes the demo walk opened (children stepped down at the front door or
after an assessment) carried on through the early help services.

Like :mod:`app.demo.cases`, nothing here writes a row itself: each step is a call to
``app.earlyhelp.service``, acted by the early help team's manager or the lead professional, with
the clock frozen on the day the step happened. Each episode is allocated within a few working
days, assessed two to four weeks after the step-down, planned a week or two later, and — when
its time has come — closed, mostly with needs met. A few families decline before any assessment.
A handful of children are stepped up in the last working days: their contacts (source 5D) wait in
the MASH queue, inside their green timescale, for the MASH to decide.

Restricted children's episodes are left as the walk opened them: the early help workers are not
named on those records (they would be refused, as in live use).
"""

from __future__ import annotations

import random
import uuid
from contextlib import AbstractContextManager
from datetime import date, datetime, time
from typing import Final, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.calendar import LONDON, add_working_days
from app.cases.workflow import CLOSED
from app.demo.generator import DemoWorld
from app.earlyhelp import service as early_help_service
from app.earlyhelp.workflow import OPEN
from app.models import Case, Person, Role, TeamKind, UserAccount
from app.models.earlyhelp import EarlyHelpEpisode, EarlyHelpOutcome
from app.models.frontdoor import RagRating
from app.security.authn import principal_for_user
from app.security.principal import AuthMethod, Principal

T = TypeVar("T")

#: Partners who lead early help for a family (fictional people, real kinds of agency).
PARTNER_LEADS: Final = (
    ("Mrs Amber Cole", "Kestrel Park Primary School"),
    ("Mr Dev Mistry", "Hollins Academy"),
    ("Ms Jo Pike", "Health visiting (Eastfield)"),
    ("Mrs Lena Ward", "Brookside Children's Centre"),
    ("Mr Tom Oduya", "Eastfield School Nursing"),
)
#: Others who join the team around the family.
MEMBERS: Final = (
    ("Sam Reed", "Health visiting (Eastfield)", "Health visitor"),
    ("Priya Shah", "Kestrel Park Primary School", "Family liaison officer"),
    ("Carl Jones", "Eastfield Housing", "Tenancy support officer"),
    ("Nadia Hussain", "Riverside Domestic Abuse Service", "Outreach worker"),
    ("Beth Lowe", "Hollins Academy", "Attendance officer"),
)
ASSESSMENTS: Final = (
    "Parents struggling with routines since the new baby; school attendance 84%.",
    "Mother isolated after a move; debts and rent arrears; children well cared for.",
    "Conflict at home between the young person and step-parent; not attending school.",
    "Father's low mood; children late to school and often hungry.",
)
PLANS: Final = (
    "Breakfast club; parenting group (8 weeks); health visitor monthly; review in 12 weeks.",
    "Debt advice; housing support; family worker weekly; attendance monitored by school.",
    "Family mediation; mentoring; school attendance plan; GP for low mood.",
)
ENDINGS: Final = (
    (EarlyHelpOutcome.needs_met, 70),
    (EarlyHelpOutcome.disengaged, 15),
    (EarlyHelpOutcome.moved_away, 7),
    (EarlyHelpOutcome.other, 8),
)
STEP_UP_REASONS: Final = (
    "Disclosed at school that her mother's partner hits her mother; police called twice.",
    "Not in school for three weeks; found alone at home at night by a neighbour.",
    "New concerns from the health visitor: baby's weight falling, missed appointments.",
    "Young person missing overnight twice this month; older associates seen with him.",
    "Father's drinking has returned; children describe arguments and no food at home.",
)
#: How many episodes the demo steps up (each a new contact in the MASH queue).
STEP_UPS: Final = (3, 5)
#: The share of families who decline early help before any assessment.
DECLINE: Final = 0.1


def _weighted(rng: random.Random, pairs: tuple[tuple[T, int], ...]) -> T:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


class _Loader:
    def __init__(self, session: Session, *, world: DemoWorld, rng: random.Random) -> None:
        self.session = session
        self.rng = rng
        self.today = world.today
        self.now = clock.now()
        teams = [(n, t) for n, t in world.teams.items() if t.kind is TeamKind.early_help]
        name, self.team = teams[0]
        staff = world.staff[name]
        self.manager = next(u for u in staff if u.role is Role.team_manager)
        self.workers = [u for u in staff if u.role is Role.social_worker]
        self.principals: dict[uuid.UUID, Principal] = {}

    def as_(self, user: UserAccount) -> Principal:
        if user.id not in self.principals:
            self.principals[user.id] = principal_for_user(
                self.session, user, auth=AuthMethod.session
            )
        return self.principals[user.id]

    def at(self, day: date) -> AbstractContextManager[None]:
        """The clock frozen mid-morning on ``day`` (never after the real now)."""
        return clock.frozen_at(min(datetime.combine(day, time(10, 30), LONDON), self.now))

    def due(self, start: date, low: int, high: int) -> date | None:
        day = add_working_days(start, self.rng.randint(low, high))
        return day if day < self.today else None

    def walk(self, episode: EarlyHelpEpisode, *, keep_open: bool = False) -> None:
        """Allocate, assess, plan and close one episode, each step on its own day, stopping at
        the first step whose day has not come (``keep_open``: never closing it, for a step-up)."""
        s, rng = self.session, self.rng
        allocated = self.due(episode.start_date, 1, 3)
        if allocated is None:
            return
        partner = rng.random() < 0.4
        lead = rng.choice(self.workers)
        name, agency = rng.choice(PARTNER_LEADS)
        with self.at(allocated):
            early_help_service.early_help_allocate(
                s,
                actor=self.as_(self.manager),
                episode_id=episode.id,
                expected_version=episode.version,
                team_id=self.team.id,
                lead_professional_user_id=None if partner else lead.id,
                lead_professional_name=name if partner else None,
                lead_professional_agency=agency if partner else None,
            )
        actor = self.as_(lead)
        if rng.random() < DECLINE and not keep_open:
            declined = self.due(allocated, 1, 5)
            if declined is not None:
                with self.at(declined):
                    early_help_service.early_help_close(
                        s,
                        actor=actor,
                        episode_id=episode.id,
                        expected_version=episode.version,
                        end_date=declined,
                        outcome=EarlyHelpOutcome.declined,
                        outcome_notes="The family did not want early help (it is voluntary).",
                    )
            return
        assessed = self.due(episode.start_date, 10, 20)
        if assessed is None or assessed <= allocated:
            return
        with self.at(assessed):
            early_help_service.early_help_record_assessment(
                s,
                actor=actor,
                episode_id=episode.id,
                expected_version=episode.version,
                assessment_date=assessed,
                summary=rng.choice(ASSESSMENTS),
            )
        for member_name, member_agency, member_role in rng.sample(MEMBERS, rng.randint(1, 2)):
            with self.at(assessed):
                early_help_service.early_help_member_add(
                    s,
                    actor=actor,
                    episode_id=episode.id,
                    expected_version=episode.version,
                    name=member_name,
                    agency=member_agency,
                    role=member_role,
                    joined_date=assessed,
                )
        planned = self.due(assessed, 5, 10)
        if planned is None:
            return
        with self.at(planned):
            early_help_service.early_help_record_plan(
                s,
                actor=actor,
                episode_id=episode.id,
                expected_version=episode.version,
                plan_date=planned,
                summary=rng.choice(PLANS),
            )
        ended = self.due(planned, 40, 80)
        if ended is None or keep_open:
            return
        with self.at(ended):
            early_help_service.early_help_close(
                s,
                actor=actor,
                episode_id=episode.id,
                expected_version=episode.version,
                end_date=ended,
                outcome=_weighted(rng, ENDINGS),
            )

    def step_up(self, episode: EarlyHelpEpisode, reason: str) -> None:
        """A step-up in the last working days: the contact waits in the MASH queue."""
        day = max(
            add_working_days(self.today, -self.rng.randint(0, 1)),
            add_working_days(episode.start_date, 1),
        )
        if day > self.today:
            return
        actor = self.as_(self.workers[0])
        if episode.lead_professional_user_id is not None:
            lead = next(
                (u for u in self.workers if u.id == episode.lead_professional_user_id), None
            )
            actor = self.as_(lead) if lead is not None else actor
        with self.at(day):
            early_help_service.early_help_step_up(
                self.session,
                actor=actor,
                episode_id=episode.id,
                expected_version=episode.version,
                reason=reason,
                rag=RagRating.green,
            )


def load_demo_early_help(session: Session, *, world: DemoWorld, rng: random.Random) -> int:
    """Carry the walk's early help episodes on through the early help services (allocation,
    assessment, team around the family, plan, closure) and step a few children up; return how
    many episodes were touched."""
    loader = _Loader(session, world=world, rng=rng)
    rows = list(
        session.execute(
            select(EarlyHelpEpisode, Person.is_restricted)
            .join(Person, Person.id == EarlyHelpEpisode.child_id)
            .where(EarlyHelpEpisode.state == OPEN)
            # Ids are random; the children's are seeded, so this order is the same for a seed.
            .order_by(EarlyHelpEpisode.start_date, EarlyHelpEpisode.child_id)
        ).all()
    )
    episodes = [episode for episode, restricted in rows if not restricted]
    # Step-ups: the most recent step-downs at least two weeks old whose child has no open social
    # care case (the contact then opens a new one) and is alive. They are walked without closing
    # and stepped up in the last working days.
    open_cases = set(session.scalars(select(Case.child_id).where(Case.state != CLOSED)))
    dead = set(session.scalars(select(Person.id).where(Person.date_of_death.is_not(None))))
    eligible = sorted(
        (
            e
            for e in episodes
            if e.child_id not in open_cases
            and e.child_id not in dead
            and e.start_date <= add_working_days(world.today, -10)
        ),
        key=lambda e: (e.start_date, e.child_id),
        reverse=True,
    )
    # A few, and no more than a quarter of the episodes (a small demo council has few), but at
    # least one, so the step-up is there to show.
    chosen = eligible[: min(rng.randint(*STEP_UPS), max(1, len(episodes) // 4))]
    for episode in episodes:
        loader.walk(episode, keep_open=episode in chosen)
    for episode, reason in zip(chosen, STEP_UP_REASONS, strict=False):
        loader.step_up(episode, reason)
    session.flush()
    return len(episodes)
