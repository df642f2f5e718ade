"""Demo practice: services and interventions on the demo's cases, and case file audits of them.

Like :mod:`app.demo.cases`, nothing here writes a row itself: each step is a call to the service
that owns the record (``app.interventions.service``, ``app.audits.service``), acted by a demo
worker of the right role, with the clock frozen at the day the step happened. So the demo holds
what those services would hold had the work been done on those days — the chronology tells it,
the audit chains verify, and the measures count it by the same rules as live data.

Services can only be recorded on an open case (nothing is recorded after closure, CIN census rule
8565; the service refuses with 409), so the interventions are on the cases still open after the
demo walk — among them the teenagers the walk brought into care, whose intensive edge-of-care
support is recorded on the case they were on, in the months before care began.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from typing import Final, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.audits import default_tool
from app.audits import programmes as programme_service
from app.audits import service as audit_service
from app.audits.programme_schemas import (
    CPPlanLongerThan,
    Criteria,
    PlacementsAtLeast,
    ProgrammeCreate,
)
from app.audits.schemas import AnswerIn
from app.audits.workflow import ASSIGNED
from app.calendar import LONDON, add_months, is_working_day, next_working_day
from app.cases.workflow import CLOSED
from app.demo.generator import DemoWorld
from app.interventions import service as intervention_service
from app.models import Case, Person, Role, TeamKind, UserAccount
from app.models.audits import (
    AuditGrade,
    AuditProgramme,
    CaseAudit,
    ModerationOutcome,
    ProgrammeKind,
)
from app.models.care import PeriodOfCare
from app.models.interventions import Intervention, InterventionKind, InterventionOutcome
from app.models.interventions import ProviderKind as P
from app.security.authn import principal_for_user
from app.security.principal import AuthMethod, Principal

T = TypeVar("T")

#: Who provides each kind of service in the demo council (fictional providers).
PROVIDERS: Final[dict[InterventionKind, tuple[tuple[P, str], ...]]] = {
    InterventionKind.edge_of_care: ((P.in_house, "Edge of Care Team"),),
    InterventionKind.family_support: (
        (P.in_house, "Family Support Service"),
        (P.commissioned, "Northgate Family Partnership"),
    ),
    InterventionKind.parenting_programme: (
        (P.commissioned, "Oakfield Parenting Trust"),
        (P.in_house, "Family Support Service"),
    ),
    InterventionKind.family_group_conference: ((P.in_house, "Family Group Conference Service"),),
    InterventionKind.domestic_abuse: ((P.commissioned, "Riverside Domestic Abuse Service"),),
    InterventionKind.mental_health: ((P.commissioned, "Harbour Young Minds"),),
    InterventionKind.substance_misuse: ((P.commissioned, "Clearwater Recovery"),),
    InterventionKind.advocacy: ((P.commissioned, "Children's Voice Advocacy"),),
    InterventionKind.independent_visitor: ((P.commissioned, "Children's Voice Advocacy"),),
}
#: Kinds offered on an open case (weights); edge of care is given to teenagers only, below.
KINDS: Final[tuple[tuple[InterventionKind, int], ...]] = (
    (InterventionKind.family_support, 30),
    (InterventionKind.parenting_programme, 18),
    (InterventionKind.family_group_conference, 12),
    (InterventionKind.domestic_abuse, 14),
    (InterventionKind.mental_health, 10),
    (InterventionKind.substance_misuse, 8),
    (InterventionKind.advocacy, 8),
)
ENDINGS: Final[tuple[tuple[InterventionOutcome, int], ...]] = (
    (InterventionOutcome.goals_met, 45),
    (InterventionOutcome.partly_met, 30),
    (InterventionOutcome.not_met, 10),
    (InterventionOutcome.disengaged, 15),
)
#: The share of open cases given one or two services.
SHARE_WITH_SERVICES: Final = 0.4
#: Teenagers for edge-of-care support: who later came into care, and who stayed at home.
EDGE_OF_CARE_INTO_CARE: Final = 4
EDGE_OF_CARE_AT_HOME: Final = 5
TEENAGE: Final = (13, 17)


def _weighted(rng: random.Random, pairs: tuple[tuple[T, int], ...]) -> T:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _age_on(person: Person, day: date) -> int | None:
    born = person.date_of_birth
    if born is None:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class _Actors:
    """Principals of the demo's workers, and who acts on a case: its allocated worker, else its
    team's manager, else the head of service (who manages every team)."""

    def __init__(self, session: Session, world: DemoWorld) -> None:
        self.session = session
        self.world = world
        self.users: dict[uuid.UUID, UserAccount] = {
            u.id: u for staff in world.staff.values() for u in staff
        }
        self.users.update({u.id: u for u in world.accounts.values()})
        self.managers: dict[uuid.UUID, UserAccount] = {}
        for name, team in world.teams.items():
            managers = [u for u in world.staff[name] if u.role is Role.team_manager]
            if managers:
                self.managers[team.id] = managers[0]
        self.principals: dict[uuid.UUID, Principal] = {}

    def of(self, user: UserAccount) -> Principal:
        # Memberships began years before any story, so one principal per worker serves them all.
        if user.id not in self.principals:
            self.principals[user.id] = principal_for_user(
                self.session, user, auth=AuthMethod.session
            )
        return self.principals[user.id]

    def on_case(self, case: Case) -> Principal:
        worker = self.users.get(case.allocated_worker_id) if case.allocated_worker_id else None
        if worker is None or worker.role is not Role.social_worker:
            worker = self.managers.get(case.team_id, self.world.accounts[Role.service_manager])
        return self.of(worker)


def _on(day: date, now: datetime, step: Callable[[], T]) -> T:
    """Run ``step`` with the clock frozen mid-morning on ``day`` (never after the real now)."""
    instant = datetime.combine(day, time(10, 30), LONDON)
    with clock.frozen_at(min(instant, now)):
        return step()


def _record(
    session: Session,
    *,
    actor: Principal,
    case: Case,
    kind: InterventionKind,
    provider: tuple[P, str],
    referred: date,
    started: date | None,
    ended: date | None,
    outcome: InterventionOutcome | None,
    now: datetime,
    description: str | None = None,
) -> Intervention:
    """One intervention, each step on its own day: referred, started, ended."""
    made = _on(
        referred,
        now,
        lambda: intervention_service.intervention_record(
            session,
            actor=actor,
            case_id=case.id,
            kind=kind,
            provider_kind=provider[0],
            provider_name=provider[1],
            referred_date=referred,
            description=description,
        ),
    )
    if started is not None:
        made = _on(
            started,
            now,
            lambda: intervention_service.intervention_start(
                session,
                actor=actor,
                intervention_id=made.id,
                expected_version=made.version,
                start_date=started,
            ),
        )
    if ended is not None and outcome is not None:
        made = _on(
            ended,
            now,
            lambda: intervention_service.intervention_end(
                session,
                actor=actor,
                intervention_id=made.id,
                expected_version=made.version,
                end_date=ended,
                outcome=outcome,
            ),
        )
    return made


def load_demo_interventions(session: Session, *, world: DemoWorld, rng: random.Random) -> int:
    """Services and interventions on the demo's open cases (a mix of kinds, providers and
    endings, some still under way), and edge-of-care support for teenagers: some who stayed at
    home and some who came into care months later. Returns how many were recorded."""
    today = world.today
    now = clock.now()
    actors = _Actors(session, world)
    open_cases = list(
        session.execute(
            select(Case, Person)
            .join(Person, Person.id == Case.child_id)
            .where(Case.state != CLOSED, Person.is_restricted.is_(False))
            # Children's ids are the demo's own (seeded); cases' are the services' (random).
            .order_by(Case.opened_date, Person.id)
        ).all()
    )
    in_care: dict[uuid.UUID, list[PeriodOfCare]] = {}
    for period in session.scalars(select(PeriodOfCare).order_by(PeriodOfCare.start_date)):
        in_care.setdefault(period.child_id, []).append(period)
    recorded = 0
    edge_of_care: set[uuid.UUID] = set()

    # Teenagers who came into care: intensive support in the weeks before, which did not hold.
    into_care: list[tuple[Case, PeriodOfCare]] = []
    for case, child in open_cases:
        for period in in_care.get(child.id, []):
            age = _age_on(child, period.start_date)
            if (
                period.case_id == case.id
                and age is not None
                and TEENAGE[0] <= age <= TEENAGE[1]
                and (period.start_date - case.opened_date).days >= 21
            ):
                into_care.append((case, period))
                break
    # Those whose 3-month outcome is known first, the most recent first (so a year's window of
    # the edge-of-care outcome shows them).
    into_care.sort(
        key=lambda pair: ((today - pair[1].start_date).days < 92, -pair[1].start_date.toordinal())
    )
    for case, period in into_care[:EDGE_OF_CARE_INTO_CARE]:
        referred = case.opened_date + timedelta(days=rng.randint(2, 6))
        started = referred + timedelta(days=rng.randint(1, 4))
        room = (period.start_date - timedelta(days=1) - started).days
        if room < 7:
            continue
        ended = started + timedelta(days=rng.randint(min(room, 28), room))
        _record(
            session,
            actor=actors.on_case(case),
            case=case,
            kind=InterventionKind.edge_of_care,
            provider=PROVIDERS[InterventionKind.edge_of_care][0],
            referred=referred,
            started=started,
            ended=ended,
            outcome=rng.choice((InterventionOutcome.not_met, InterventionOutcome.disengaged)),
            now=now,
            description="Intensive support at home to prevent family breakdown.",
        )
        edge_of_care.add(case.id)
        recorded += 1

    # Teenagers who stayed at home: support that ended at least three months ago, where the case
    # allows (so the 3-month outcome is known), else more recently.
    at_home = [
        case
        for case, child in open_cases
        if child.id not in in_care
        and case.id not in edge_of_care
        and (age := _age_on(child, today)) is not None
        and TEENAGE[0] <= age <= TEENAGE[1]
        and (today - case.opened_date).days >= 30
    ]
    for case in at_home[:EDGE_OF_CARE_AT_HOME]:
        span = (today - case.opened_date).days
        referred = case.opened_date + timedelta(days=rng.randint(1, 7))
        started = referred + timedelta(days=rng.randint(1, 5))
        latest_end = today - timedelta(days=95) if span > 140 else today - timedelta(days=1)
        if latest_end <= started:
            continue
        ended = min(started + timedelta(days=rng.randint(42, 84)), latest_end)
        _record(
            session,
            actor=actors.on_case(case),
            case=case,
            kind=InterventionKind.edge_of_care,
            provider=PROVIDERS[InterventionKind.edge_of_care][0],
            referred=referred,
            started=started,
            ended=ended,
            outcome=rng.choice((InterventionOutcome.goals_met, InterventionOutcome.partly_met)),
            now=now,
            description="Intensive support at home to prevent family breakdown.",
        )
        edge_of_care.add(case.id)
        recorded += 1

    # Everyone else: a share of open cases get one or two services; about one in ten offers is
    # declined (at least one in nine, so a small demo shows it too).
    others = 0
    for case, _child in open_cases:
        if case.id in edge_of_care or rng.random() >= SHARE_WITH_SERVICES:
            continue
        for _ in range(rng.choice((1, 1, 2))):
            span = (today - case.opened_date).days
            if span < 2:
                break
            kind = _weighted(rng, KINDS)
            provider = rng.choice(PROVIDERS[kind])
            referred = case.opened_date + timedelta(days=rng.randint(1, span - 1))
            start_day: date | None = None
            end_day: date | None = None
            outcome: InterventionOutcome | None = None
            roll = rng.random()
            others += 1
            if roll < 0.1 or others % 9 == 2:
                # Offered, never taken up.
                end_day = min(referred + timedelta(days=rng.randint(7, 21)), today)
                outcome = InterventionOutcome.declined
            elif roll < 0.85 and (today - referred).days >= 3:
                start_day = referred + timedelta(
                    days=rng.randint(1, min(14, (today - referred).days))
                )
                length = rng.randint(28, 120)
                if start_day + timedelta(days=length) <= today and rng.random() < 0.6:
                    end_day = start_day + timedelta(days=length)
                    outcome = _weighted(rng, ENDINGS)
            _record(
                session,
                actor=actors.on_case(case),
                case=case,
                kind=kind,
                provider=provider,
                referred=referred,
                started=start_day,
                ended=end_day,
                outcome=outcome,
                now=now,
            )
            recorded += 1
    session.flush()
    return recorded


# --- case file audits --------------------------------------------------------------------------

GRADES: Final[tuple[tuple[AuditGrade, int], ...]] = (
    (AuditGrade.outstanding, 8),
    (AuditGrade.good, 42),
    (AuditGrade.requires_improvement, 37),
    (AuditGrade.inadequate, 13),
)
#: Cases drawn per team for last month's random programme; the thematic one takes at most this.
RANDOM_PER_TEAM: Final = 2
THEMATIC_AT_MOST: Final = 6
THEMATIC_ENOUGH: Final = 3
#: Of the audits assigned: the share submitted, of those the share moderated (and of those, the
#: share adjusted), and the share with actions arising.
SHARE_SUBMITTED: Final = 0.85
SHARE_MODERATED: Final = 0.45
SHARE_ADJUSTED: Final = 0.35
SHARE_WITH_ACTIONS: Final = 0.6
#: Of the actions whose date has passed, the share not done (overdue).
SHARE_OVERDUE: Final = 0.35
CHILD_VOICE: Final = (
    "The child's wishes are recorded in their own words at most visits; direct work is on file.",
    "The child is seen alone at each visit; what they said is recorded but not always used.",
    "Little of the child's daily experience is recorded; visits describe the parents' views.",
)
SUMMARIES: Final = (
    "A clear, up-to-date plan with the family's strengths and risks well analysed.",
    "Purposeful work, but the plan's outcomes are not measurable and reviews drift.",
    "Drift and delay: actions from the last review are not followed up.",
)
ACTIONS: Final = (
    "Update the chronology and complete the case summary.",
    "Hold a review of the plan within the date agreed, with the family present.",
    "Record direct work with the child and their wishes and feelings.",
    "Record management oversight of the decision to continue the plan.",
    "Complete the outstanding health and education referrals on the plan.",
)


def _near(rng: random.Random, grade: AuditGrade) -> AuditGrade:
    """A question's grade, near the overall one."""
    scale = list(AuditGrade)
    i = scale.index(grade) + rng.choice((-1, 0, 0, 0, 1))
    return scale[max(0, min(i, len(scale) - 1))]


def _working_day(day: date) -> date:
    return day if is_working_day(day) else next_working_day(day)


class _Audits:
    """The QA team's year: a tool, two programmes, audits done, moderated and acted on."""

    def __init__(self, session: Session, *, world: DemoWorld, rng: random.Random) -> None:
        self.session = session
        self.world = world
        self.rng = rng
        self.today = world.today
        self.now = clock.now()
        self.actors = _Actors(session, world)
        qa_team = next(n for n, t in world.teams.items() if t.kind is TeamKind.quality_assurance)
        self.qa = [u for u in world.staff[qa_team] if u.role is Role.qa_auditor]
        self.lead = world.accounts.get(Role.qa_auditor, self.qa[0])
        # Auditors: the QA team, and the managers of the social work teams (who audit other
        # teams' cases: the service refuses a manager of the case's own team).
        self.auditors = [*self.qa, *self.actors.managers.values()]
        self.count = 0
        # So that even a small demo shows each: an agreed and an adjusted moderation, an action
        # overdue and one completed.
        self.moderations: set[ModerationOutcome] = set()
        self.overdue = 0

    @contextmanager
    def at(self, day: date) -> Iterator[None]:
        """The clock frozen mid-morning on ``day`` (never after today, nor the real now)."""
        instant = datetime.combine(min(day, self.today), time(10, 30), LONDON)
        with clock.frozen_at(min(instant, self.now)):
            yield

    def between(self, first: date, last: date) -> date:
        """A working day in [first, last] (last when there is none), never after today."""
        last = min(last, self.today)
        if last <= first:
            return last
        return _working_day(first + timedelta(days=self.rng.randint(0, (last - first).days)))

    def tool(self) -> uuid.UUID:
        with self.at(add_months(self.today, -13)):
            created = audit_service.audit_tool_create(
                self.session,
                actor=self.actors.of(self.lead),
                name=default_tool.NAME,
                description=default_tool.DESCRIPTION,
                questions=default_tool.QUESTIONS,
            )
        return created.id

    def programme(
        self,
        *,
        name: str,
        kind: ProgrammeKind,
        tool_id: uuid.UUID,
        month: date,
        sample_size: int,
        criteria: Criteria | None = None,
    ) -> AuditProgramme:
        """Drawn on the month's last day (or today), assigned round-robin to the auditors."""
        body = ProgrammeCreate(
            name=name,
            kind=kind,
            tool_id=tool_id,
            month=month.strftime("%Y-%m"),
            seed=self.rng.randint(1, 999_999),
            sample_size=sample_size,
            criteria=criteria,
            auditor_ids=[u.id for u in self.auditors],
        )
        drawn = add_months(month, 1) - timedelta(days=1)
        with self.at(drawn):
            return programme_service.programme_create(
                self.session, actor=self.actors.of(self.lead), body=body
            )

    def thematic_criteria(self, month: date) -> Criteria:
        """Child protection plans that have lasted over a year at the month's end, or children
        with three or more placements in the year — or, in a young demo, the nearest theme with
        a few cases to audit (previewed with the programme's own draw)."""
        themes: list[Criteria] = [
            CPPlanLongerThan(kind="cp_plan_longer_than", months=12),
            PlacementsAtLeast(kind="placements_at_least", count=3, months=12),
            CPPlanLongerThan(kind="cp_plan_longer_than", months=9),
            CPPlanLongerThan(kind="cp_plan_longer_than", months=6),
            PlacementsAtLeast(kind="placements_at_least", count=2, months=12),
            CPPlanLongerThan(kind="cp_plan_longer_than", months=3),
        ]
        found: list[tuple[int, int, Criteria]] = []
        for order, criteria in enumerate(themes):
            draw = programme_service.programme_draw(
                self.session,
                kind=ProgrammeKind.thematic,
                month=month,
                seed=1,
                sample_size=THEMATIC_AT_MOST,
                criteria=criteria,
            )
            if len(draw.cases) >= THEMATIC_ENOUGH:
                return criteria
            found.append((len(draw.cases), -order, criteria))
        return max(found, key=lambda f: f[:2])[2]

    def work(self, programme: AuditProgramme, *, until: date) -> None:
        """The auditors' work on the programme's audits, from the day after it was drawn to
        ``until``: most submitted, some moderated, actions set and some completed, a few left in
        progress (and any nobody could be assigned left planned)."""
        drawn = add_months(programme.month, 1) - timedelta(days=1)
        audits = list(
            self.session.scalars(
                select(CaseAudit)
                .join(Person, Person.id == CaseAudit.child_id)
                .where(CaseAudit.programme_id == programme.id)
                # Children's ids are the demo's own (seeded); cases' are the services' (random).
                .order_by(CaseAudit.team_id, Person.id)
            )
        )
        cases = {
            c.id: c
            for c in self.session.scalars(
                select(Case).where(Case.id.in_([a.case_id for a in audits]))
            )
        }
        for audit in audits:
            self.count += 1
            if audit.state != ASSIGNED or audit.auditor_id is None:
                continue
            auditor = self.actors.of(self.actors.users[audit.auditor_id])
            case = cases[audit.case_id]
            grade = _weighted(self.rng, GRADES)
            answers = [
                AnswerIn(
                    question_code=q.code,
                    grade=_near(self.rng, grade),
                    comment="Evidence found on the file.",
                )
                for q in default_tool.QUESTIONS
            ]
            started = self.between(drawn + timedelta(days=1), until)
            submit = self.rng.random() < SHARE_SUBMITTED
            if not submit and self.rng.random() < 0.5:
                continue  # assigned, not begun
            with self.at(started):
                saved = audit_service.audit_save(
                    self.session,
                    actor=auditor,
                    audit_id=audit.id,
                    expected_version=audit.version,
                    answers=answers if submit else answers[:5],
                    findings={
                        "overall_grade": grade,
                        "child_voice": self.rng.choice(CHILD_VOICE),
                        "summary": self.rng.choice(SUMMARIES),
                    }
                    if submit
                    else {},
                )
            if not submit:
                continue  # begun, in progress
            submitted_on = self.between(started, started + timedelta(days=10))
            with self.at(submitted_on):
                audit_service.audit_submit(
                    self.session,
                    actor=auditor,
                    audit_id=audit.id,
                    expected_version=saved.version,
                )
            if self.rng.random() < SHARE_MODERATED or len(self.moderations) < 2:
                self.moderate(audit, case, grade, submitted_on)
            if self.rng.random() < SHARE_WITH_ACTIONS:
                self.actions(audit, case, auditor, submitted_on)

    def moderate(self, audit: CaseAudit, case: Case, grade: AuditGrade, submitted: date) -> None:
        pool = [*self.qa, *self.auditors]
        moderator = next(
            (
                u
                for u in self.rng.sample(pool, len(pool))
                if u.id != audit.auditor_id
                and audit_service.auditor_conflict(self.session, case=case, user_id=u.id) is None
            ),
            None,
        )
        if moderator is None:
            return
        adjusted = self.rng.random() < SHARE_ADJUSTED or self.moderations == {
            ModerationOutcome.agreed
        }
        self.moderations.add(ModerationOutcome.adjusted if adjusted else ModerationOutcome.agreed)
        other = [g for g in AuditGrade if g is not grade]
        new_grade = _near(self.rng, grade)
        if new_grade is grade:
            new_grade = self.rng.choice(other)
        with self.at(self.between(submitted, submitted + timedelta(days=14))):
            audit_service.audit_moderate(
                self.session,
                actor=self.actors.of(moderator),
                audit_id=audit.id,
                expected_version=audit.version,
                outcome=ModerationOutcome.adjusted if adjusted else ModerationOutcome.agreed,
                moderated_grade=new_grade if adjusted else None,
                reason=(
                    "The evidence on the file supports a different grade: see the themes."
                    if adjusted
                    else None
                ),
            )

    def actions(self, audit: CaseAudit, case: Case, auditor: Principal, set_on: date) -> None:
        owner = (
            self.actors.users.get(case.allocated_worker_id) if case.allocated_worker_id else None
        )
        if owner is None or owner.role is not Role.social_worker:
            owner = self.actors.managers.get(case.team_id)
        if owner is None:
            return
        for _ in range(self.rng.choice((1, 1, 2))):
            due = set_on + timedelta(days=self.rng.randint(10, 35))
            with self.at(set_on):
                action = audit_service.audit_action_create(
                    self.session,
                    actor=auditor,
                    audit_id=audit.id,
                    description=self.rng.choice(ACTIONS),
                    owner_id=owner.id,
                    due_date=due,
                )
            if due >= self.today:
                continue  # still open, not yet due
            if self.rng.random() < SHARE_OVERDUE or not self.overdue:
                self.overdue += 1
                continue  # not done: overdue
            # Completed on time (a few days before it was due) or late (a few days after).
            done = due + timedelta(days=self.rng.choice((-5, -2, -1, 3, 8)))
            done = max(set_on + timedelta(days=1), min(done, self.today))
            with self.at(done):
                audit_service.audit_action_complete(
                    self.session,
                    actor=self.actors.of(owner),
                    action_id=action.id,
                    expected_version=action.version,
                    completion_note="Done and recorded on the case file.",
                )


def load_demo_audits(session: Session, *, world: DemoWorld, rng: random.Random) -> int:
    """The QA team's case file audits: the default tool; last month's random sample per team and
    a thematic programme (long-running CP plans, or many placements) three months back; assigned
    to the QA auditors and the managers of other teams; most graded and submitted, some
    moderated (agreed and adjusted), actions set (some completed, on time or late, some
    overdue), a few left in progress. Returns how many audits were planned."""
    audits = _Audits(session, world=world, rng=rng)
    tool_id = audits.tool()
    this_month = world.today.replace(day=1)
    thematic_month = add_months(this_month, -3)
    theme = audits.thematic_criteria(thematic_month)
    about = (
        f"Child protection plans over {theme.months} months"
        if isinstance(theme, CPPlanLongerThan)
        else f"Children with {getattr(theme, 'count', 3)} or more placements in a year"
    )
    thematic = audits.programme(
        name=f"{about} ({thematic_month:%B %Y})",
        kind=ProgrammeKind.thematic,
        tool_id=tool_id,
        month=thematic_month,
        sample_size=THEMATIC_AT_MOST,
        criteria=theme,
    )
    audits.work(thematic, until=add_months(thematic_month, 2))
    last_month = add_months(this_month, -1)
    monthly = audits.programme(
        name=f"Monthly case file audit ({last_month:%B %Y})",
        kind=ProgrammeKind.random,
        tool_id=tool_id,
        month=last_month,
        sample_size=RANDOM_PER_TEAM,
    )
    audits.work(monthly, until=world.today)
    session.flush()
    return audits.count
