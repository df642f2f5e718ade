"""Demo cases: children walked through real journeys, from a contact at the front door to closure.

Nothing here writes a case, a deadline or an audit row itself: every step is a call to the
service that owns it (contacts, referrals, assessments, protection, CIN plans, case notes, the case
machine for allocation and closure), acted by a demo worker of the right role and team, with the
clock frozen at the day (and the minute) the step happened. So the demo holds exactly what the
service would hold had those workers done that work on those days: the chronology tells the story,
the audit chains verify, and every deadline is met, missed, stopped, due or overdue by the same
rules as live data.

Dates are relative to ``clock.today()``: stories start up to two years back, and a story whose
next step would fall after today stops where it is (the case stays open at that step, with its
clock running), so worklists show due, overdue and met deadlines on the day the demo is loaded.

Proportions are rough, from the DfE's "Characteristics of children in need" (England, 2022-23):
about 650,000 referrals a year, of which about 22% were re-referrals within 12 months and about 7%
ended in no further action; about 225,000 section 47 enquiries (roughly one per three referrals),
about 80,000 initial conferences (about a third of enquiries); about 51,000 children on a CP plan
and 400,000 children in need on 31 March; about 3 in 10 episodes close after the assessment with
no further action. A contact at the front door becomes a referral roughly one time in three.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Final, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.assessments import service as assessment_service
from app.calendar import (
    LONDON,
    add_working_days,
    is_working_day,
    next_working_day,
    previous_working_day,
)
from app.casenotes import service as note_service
from app.cases import service as case_service
from app.cases.codes import SWReason
from app.cin import service as cin_service
from app.cin.timescales import cin_review_due
from app.contacts import service as contact_service
from app.contacts.schemas import ContactCreate, ContactDecisionIn
from app.core_types import CategoryOfAbuse, PrimaryNeed, ReasonForClosure, ReferralSource
from app.demo.generator import DEMO_HOME_TEAM, DemoWorld, ProgressCallback
from app.models import (
    Allocation,
    Case,
    Person,
    PersonRelationship,
    RelationshipKind,
    RestrictedAccessGrant,
    Role,
    TeamKind,
    UserAccount,
)
from app.models.assessments import Assessment, AssessmentOutcome
from app.models.casenotes import CaseNoteKind
from app.models.cin import CINPlan
from app.models.frontdoor import ConsentToShare, Contact, ContactOutcome, RagRating, Referral
from app.models.frontdoor import ReferralDecision as Decision
from app.models.protection import (
    Agency,
    ConferenceOutcome,
    CPPlan,
    DiscussionFormat,
    S47Outcome,
)
from app.protection import service as protection_service
from app.protection import timescales as cp_timescales
from app.protection.schemas import ParticipantIn, PlanEndStep
from app.referrals import service as referral_service
from app.security.authn import principal_for_user
from app.security.principal import AuthMethod, Principal

T = TypeVar("T")

# Where each child's current story is heading (weights, per child with a contact). A story may
# stop short of its end when its next step would fall after today: the case then stays open there.
DESTINATIONS: Final[tuple[tuple[str, int], ...]] = (
    ("contact_waiting", 3),  # decision not yet made (rule 1 due today or overdue)
    ("door", 16),  # no further action, information and advice, or early help at the door
    ("referral_waiting", 3),  # the decision on the type of response is due (rule 2)
    ("referral_nfa", 5),  # CIN census ReferralNFA
    ("assessing", 14),  # assessment in progress, some past 45 working days
    ("after_assessment", 16),  # authorised: NFA (RC8) or early help (RC9)
    ("protection", 4),  # strategy discussion and section 47 enquiry; the ICPC is due
    ("s47_no_icpc", 3),  # the enquiry needs no conference: assessment goes on, then closure
    ("cin_plan", 11),  # a CIN plan with reviews, still open
    ("cin_closed", 8),  # a CIN plan that ended; closed by a team manager (RC7)
    ("cp_plan", 8),  # a CP plan with core groups, visits and review conferences
    ("cp_step_down", 5),  # the plan ended at a review conference; a CIN plan followed
    ("cp_closed", 2),  # the plan ended and the team manager closed the case
    ("looked_after", 7),  # in care: placements, visits, reviews, health, court (app.demo.care)
    ("care_ceased", 3),  # in care for a while, then home (or to independence)
)
# How many calendar days back each story starts, so that it has (mostly) reached its end today.
STARTS: Final[dict[str, tuple[int, int]]] = {
    "contact_waiting": (0, 1),
    "door": (1, 700),
    "referral_waiting": (0, 3),
    "referral_nfa": (2, 700),
    "assessing": (4, 95),
    "after_assessment": (60, 700),
    "protection": (8, 25),
    "s47_no_icpc": (90, 600),
    "cin_plan": (80, 420),
    "cin_closed": (250, 720),
    "cp_plan": (45, 420),
    "cp_step_down": (200, 560),
    "cp_closed": (300, 720),
    "pre_birth": (60, 120),
    "looked_after": (30, 700),
    "care_ceased": (150, 700),
}
#: The share of families with a contact, and of those with two or more children, the share whose
#: contact names a sibling pair (decided differently: one referred, one advised or stepped down).
SHARE_OF_FAMILIES: Final = 0.75
SHARE_SIBLING_CONTACTS: Final = 0.5
#: Children with a current referral who were referred 4-11 months before it (re-referrals).
SHARE_REREFERRED: Final = 0.12
RAGS: Final = ((RagRating.red, 15), (RagRating.amber, 60), (RagRating.green, 25))
SOURCES: Final = (
    (ReferralSource.POLICE, 29),
    (ReferralSource.SCHOOL, 20),
    (ReferralSource.GP, 4),
    (ReferralSource.HEALTH_VISITOR, 4),
    (ReferralSource.A_AND_E, 3),
    (ReferralSource.OTHER_HEALTH, 3),
    (ReferralSource.LA_SOCIAL_CARE, 6),
    (ReferralSource.LA_EARLY_HELP, 3),
    (ReferralSource.HOUSING, 2),
    (ReferralSource.FAMILY, 6),
    (ReferralSource.SELF, 2),
    (ReferralSource.ANONYMOUS, 2),
    (ReferralSource.OTHER, 6),
)
NEEDS: Final = (
    (PrimaryNeed.ABUSE_OR_NEGLECT, 57),
    (PrimaryNeed.FAMILY_DYSFUNCTION, 15),
    (PrimaryNeed.CHILD_DISABILITY, 9),
    (PrimaryNeed.FAMILY_IN_ACUTE_STRESS, 6),
    (PrimaryNeed.ABSENT_PARENTING, 4),
    (PrimaryNeed.PARENTAL_ILLNESS_OR_DISABILITY, 3),
    (PrimaryNeed.SOCIALLY_UNACCEPTABLE_BEHAVIOUR, 2),
    (PrimaryNeed.LOW_INCOME, 1),
    (PrimaryNeed.NOT_IN_NEED, 3),
)
# Neglect is the most common initial category, then emotional abuse (DfE CIN census).
CATEGORIES: Final = (
    (CategoryOfAbuse.NEG, 50),
    (CategoryOfAbuse.EMO, 34),
    (CategoryOfAbuse.PHY, 7),
    (CategoryOfAbuse.SAB, 4),
    (CategoryOfAbuse.MUL, 5),
)
FACTORS: Final = ("1B", "2B", "3B", "4B", "6A", "7A", "8B", "14A", "16A", "18B", "19B", "22A")
CONCERNS: Final = (
    "The school reports the child arrives hungry and in the same clothes most days.",
    "Police attended a domestic abuse incident at the home; the children were present.",
    "The health visitor is worried about the home conditions and missed appointments.",
    "The child disclosed to a teacher that a parent hits them when angry.",
    "A neighbour reports the children are left alone at home in the evenings.",
    "A parent's mental health has deteriorated; the family has asked for support.",
    "Repeated A&E attendances with injuries that do not match the explanation given.",
)
PRE_BIRTH_WEEKS: Final = 40
#: A pre-birth story needs about this many days between the contact and its conference.
PRE_BIRTH_DAYS_NEEDED: Final = 60


def _weighted(rng: random.Random, pairs: Sequence[tuple[T, int]]) -> T:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


class _Stop(Exception):
    """The story's next step would fall after today: it ends here, with its clocks running."""


class _Story:
    """One story's calendar: each step runs with the clock frozen at its day, in order."""

    def __init__(self, *, start: date, today: date) -> None:
        self.day = start
        self.today = today
        self.minute = 0

    def to(self, day: date) -> date:
        """Move on to ``day`` (never back); stop the story if that is after today."""
        if day > self.today:
            raise _Stop
        if day > self.day:
            self.day, self.minute = day, 0
        return self.day

    def after(self, rng: random.Random, low: int, high: int) -> date:
        """Move on ``low..high`` working days."""
        return self.to(add_working_days(self.day, rng.randint(low, high)))

    def at(self, step: Callable[[], T]) -> T:
        # Steps on one day happen in order, a few minutes apart, in the working day; today's
        # never after the real instant the demo is loaded.
        self.minute += 4
        instant = datetime.combine(self.day, time(9, 0), LONDON) + timedelta(minutes=self.minute)
        if self.day == self.today:
            instant = min(instant, clock.now())
        with clock.frozen_at(instant):
            return step()


@dataclass
class _Plan:
    """One contact to play: its children (the first carries the story) and where it leads."""

    children: list[Person]
    destination: str
    days_ago: int
    #: For the demo social worker: hold the story in the demo home team with that worker.
    for_demo: bool = False
    #: The earlier, closed episode of a re-referred child (days before this story starts).
    earlier: int | None = None


@dataclass
class _Cast:
    """Who does what on one story."""

    mash: UserAccount
    door_manager: UserAccount
    home: str
    worker: UserAccount | None
    manager: UserAccount
    restricted: bool = False
    long_term: str | None = None
    #: The front door's duty social worker, who holds the case from the contact (a registered
    #: social worker: the SSDA903 social worker episode has their SW_ID, rule SW02).
    duty: UserAccount | None = None


@dataclass
class DemoCaseCounts:
    """What the stories produced (also printed by the tests' failure messages)."""

    contacts: int = 0
    cases: int = 0
    stopped_early: int = 0
    disputes: int = 0
    by_destination: dict[str, int] = field(default_factory=dict)


class _Walker:
    def __init__(self, session: Session, *, world: DemoWorld, rng: random.Random) -> None:
        self.session = session
        self.world = world
        self.rng = rng
        self.today = world.today
        self.principals: dict[uuid.UUID, Principal] = {}
        self.by_kind: dict[TeamKind, list[str]] = {}
        for name, team in world.teams.items():
            self.by_kind.setdefault(team.kind, []).append(name)
        self.front_door = self.by_kind[TeamKind.front_door][0]
        self.service_manager = world.accounts[Role.service_manager]
        self.demo_worker = world.accounts[Role.social_worker]
        self.demo_manager = world.accounts[Role.team_manager]
        self.counts = DemoCaseCounts()
        self.door_decisions = 0
        self.unborn = {c.id for c in world.children if c.date_of_birth is None}

    # --- who ---------------------------------------------------------------------------------

    def as_(self, user: UserAccount) -> Principal:
        # Memberships began years before any story, so one principal per worker serves them all.
        if user.id not in self.principals:
            self.principals[user.id] = principal_for_user(
                self.session, user, auth=AuthMethod.session
            )
        return self.principals[user.id]

    def staff(self, team: str, role: Role) -> list[UserAccount]:
        return [u for u in self.world.staff[team] if u.role is role]

    def manager(self, team: str) -> UserAccount:
        managers = self.staff(team, Role.team_manager)
        return managers[0] if managers else self.service_manager

    def worker(self, team: str) -> UserAccount:
        workers = self.staff(team, Role.social_worker)
        # The demo social worker holds a good share of the home team's cases.
        if self.demo_worker in workers and self.rng.random() < 0.3:
            return self.demo_worker
        return self.rng.choice(workers)

    def cast(self, child: Person, *, for_demo: bool) -> _Cast:
        rng = self.rng
        if child.is_restricted:
            # Only named users see a restricted child: the service manager does the front door's
            # part, and the story stays with the demo team's named worker and manager (if named).
            named = self._granted(child)
            return _Cast(
                mash=self.service_manager,
                door_manager=self.service_manager,
                home=DEMO_HOME_TEAM,
                worker=self.demo_worker if named else None,
                manager=self.demo_manager if named else self.service_manager,
                restricted=True,
            )
        home = DEMO_HOME_TEAM if for_demo else rng.choice(self.by_kind[TeamKind.assessment])
        return _Cast(
            mash=rng.choice(self.staff(self.front_door, Role.mash_officer)),
            door_manager=self.manager(self.front_door),
            home=home,
            worker=self.demo_worker if for_demo else self.worker(home),
            manager=self.manager(home),
            duty=rng.choice(self.staff(self.front_door, Role.social_worker)),
        )

    def _granted(self, child: Person) -> bool:
        granted = self.session.scalar(
            select(RestrictedAccessGrant.id).where(
                RestrictedAccessGrant.person_id == child.id,
                RestrictedAccessGrant.user_id == self.demo_worker.id,
            )
        )
        return granted is not None

    # --- the front door ----------------------------------------------------------------------

    def contact(
        self, story: _Story, cast: _Cast, children: list[Person], rag: RagRating
    ) -> uuid.UUID:
        source = _weighted(self.rng, SOURCES)
        consent = ConsentToShare.given if self.rng.random() < 0.7 else ConsentToShare.not_needed
        data = ContactCreate(
            child_ids=[c.id for c in children],
            team_id=self.world.teams[self.front_door].id,
            source=source,
            referrer_organisation="Demo referrer (fictional)",
            concern=self.rng.choice(CONCERNS),
            consent=consent,
            consent_reason=None
            if consent is ConsentToShare.given
            else "Seeking consent could put the child at risk of significant harm.",
            rag=rag,
            worker_id=None if cast.duty is None else cast.duty.id,
        )
        contact = story.at(
            lambda: contact_service.contact_create(
                self.session, actor=self.as_(cast.mash), data=data
            )
        )
        self.counts.contacts += 1
        self.counts.cases += len(children)
        return contact.id

    def decide(
        self,
        story: _Story,
        cast: _Cast,
        contact_id: uuid.UUID,
        decisions: list[tuple[Person, ContactOutcome]],
    ) -> None:
        reasons = {
            ContactOutcome.referral: "Threshold for social care met: accepted as a referral.",
            ContactOutcome.no_further_action: "Checks found no role for children's services.",
            ContactOutcome.information_and_advice: "Parent given information and advice.",
            ContactOutcome.early_help: "Needs can be met by early help: stepped down with consent.",
        }
        items = [
            ContactDecisionIn(
                child_id=child.id,
                decision=outcome,
                reason=reasons[outcome],
                primary_need=_weighted(self.rng, NEEDS)
                if outcome is ContactOutcome.referral
                else None,
            )
            for child, outcome in decisions
        ]

        def step() -> None:
            contact = self.session.get(Contact, contact_id)
            assert contact is not None
            contact_service.contact_decide(
                self.session,
                actor=self.as_(cast.mash),
                contact_id=contact_id,
                expected_version=contact.version,
                decisions=items,
            )

        story.at(step)

    def case_of(self, child: Person) -> Case:
        case = self.session.scalars(
            select(Case).where(Case.child_id == child.id).order_by(Case.opened_date.desc()).limit(1)
        ).one()
        return case

    def referral_decide(
        self, story: _Story, actor: UserAccount, case: Case, decision: Decision, reason: str
    ) -> None:
        referral = self.session.scalars(select(Referral).where(Referral.case_id == case.id)).one()
        story.at(
            lambda: referral_service.referral_decide(
                self.session,
                actor=self.as_(actor),
                referral_id=referral.id,
                expected_version=referral.version,
                decision=decision,
                reason=reason,
            )
        )

    def allocate(
        self, story: _Story, actor: UserAccount, case: Case, team: str, worker: UserAccount | None
    ) -> None:
        if case.team_id == self.world.teams[team].id and case.allocated_worker_id == (
            worker.id if worker else None
        ):
            return
        story.at(
            lambda: case_service.case_allocate(
                self.session,
                actor=self.as_(actor),
                case_id=case.id,
                expected_version=case.version,
                team_id=self.world.teams[team].id,
                worker_id=worker.id if worker else None,
                reason="Allocated for assessment"
                if worker
                else "Transferred to the team that holds the plan",
                sw_reason=self._sw_reason(case, worker),
            )
        )

    def _sw_reason(self, case: Case, worker: UserAccount | None) -> SWReason | None:
        """Every change of social worker says why (SSDA903 SW_REASON, rule SW13: every episode
        from April 2023 has one): in the demo, the usual transfer from the front door to the
        area team, and on to the child-in-need, children-in-care or care leavers' team. The
        involvement's first worker has none (FCONTA is derived)."""
        if worker is None or worker.id == case.allocated_worker_id:
            return None
        had_worker = self.session.scalar(
            select(Allocation.id)
            .where(Allocation.case_id == case.id, Allocation.worker_id.is_not(None))
            .limit(1)
        )
        return None if had_worker is None else SWReason.TSPROC

    def close(self, story: _Story, actor: UserAccount, case: Case, code: ReasonForClosure) -> None:
        story.at(
            lambda: case_service.case_transition(
                self.session,
                actor=self.as_(actor),
                case_id=case.id,
                event="close",
                expected_version=case.version,
                reason="Management decision: the plan's aims are met and services can end.",
                data={"closure_reason": code.value},
            )
        )

    def note(self, story: _Story, actor: UserAccount, case: Case, *, alone: bool) -> None:
        """A finished home-visit note, as the worker writes it up the same day."""

        def step() -> None:
            note_service.note_create(
                self.session,
                actor=self.as_(actor),
                case_id=case.id,
                content=note_service.NoteContent(
                    kind=CaseNoteKind.home_visit,
                    occurred_at=clock.now() - timedelta(minutes=2),
                    title="Home visit",
                    body="Visited the family at home; the child was seen and spoken with.",
                    child_seen=True,
                    seen_alone=alone,
                    bedroom_seen=self.rng.random() < 0.6,
                ),
                finalise=True,
            )

        story.at(step)

    # --- assessment --------------------------------------------------------------------------

    def assess(
        self,
        story: _Story,
        cast: _Cast,
        case: Case,
        *,
        unborn: bool = False,
        outcome: AssessmentOutcome | None,
        submit: bool = True,
        span: tuple[int, int] = (10, 40),
    ) -> None:
        """Start, see the child, submit; a manager returns some and authorises ``outcome``."""
        rng = self.rng
        author = cast.worker or cast.manager
        # CIN 8873Q: "21" (no factors identified) only on an assessment that closes the episode;
        # one that goes on records "20" (other) instead, drawing nothing more from ``rng`` so the
        # rest of the demo stays the same.
        closes = outcome in (AssessmentOutcome.no_further_action, AssessmentOutcome.early_help)
        factors = (
            (["21"] if closes else ["20"])
            if rng.random() < 0.08
            else sorted(rng.sample(FACTORS, k=rng.randint(1, 3)))
        )
        assessment = story.at(
            lambda: assessment_service.assessment_start(
                self.session,
                actor=self.as_(author),
                case_id=case.id,
                start_date=story.day,
                factors=factors,
            )
        )
        if not unborn:
            story.after(rng, 1, 5)
            alone = rng.random() < 0.6
            story.at(
                lambda: assessment_service.assessment_child_seen_add(
                    self.session,
                    actor=self.as_(author),
                    assessment_id=assessment.id,
                    seen_date=story.day,
                    seen_alone=alone,
                )
            )
            if cast.worker is not None:
                self.note(story, cast.worker, case, alone=alone)
        if not submit:
            return
        # Most are authorised within 45 working days of the referral; some run late.
        low, high = span
        story.after(rng, low, high if rng.random() < 0.85 else high + 15)
        self._submit(story, author, assessment)
        approver = cast.manager if cast.manager.id != author.id else self.service_manager
        if rng.random() < 0.2:
            story.after(rng, 1, 3)
            story.at(
                lambda: assessment_service.assessment_return(
                    self.session,
                    actor=self.as_(approver),
                    assessment_id=assessment.id,
                    expected_version=assessment.version,
                    comments="Please say more about the child's views and the father's role.",
                )
            )
            story.after(rng, 1, 4)
            self._submit(story, author, assessment)
        if outcome is None:
            return
        story.after(rng, 0, 3)
        story.at(
            lambda: assessment_service.assessment_authorise(
                self.session,
                actor=self.as_(approver),
                assessment_id=assessment.id,
                expected_version=assessment.version,
                outcome=outcome,
                comments="Analysis agreed; the plan follows from the needs identified.",
            )
        )

    def _submit(self, story: _Story, author: UserAccount, assessment: Assessment) -> None:
        story.at(
            lambda: assessment_service.assessment_submit(
                self.session,
                actor=self.as_(author),
                assessment_id=assessment.id,
                expected_version=assessment.version,
            )
        )

    # --- protection --------------------------------------------------------------------------

    def participants(self, cast: _Cast) -> list[ParticipantIn]:
        worker = cast.worker or cast.manager
        return [
            ParticipantIn(
                agency=Agency.social_care, name=worker.display_name, role="Social worker"
            ),
            ParticipantIn(agency=Agency.police, name="DC Demo (fictional)", role="Police officer"),
            ParticipantIn(agency=Agency.health, name="Nurse Demo (fictional)", role="Named nurse"),
        ]

    def strategy_and_s47(
        self, story: _Story, cast: _Cast, case: Case, *, concern: date
    ) -> uuid.UUID:
        """Police, health and social care discuss (within a working day, mostly) and start an
        s47 enquiry; returns the enquiry."""
        rng = self.rng
        actor = cast.worker or cast.manager
        story.to(add_working_days(concern, 0 if rng.random() < 0.6 else 1))
        discussion = story.at(
            lambda: protection_service.strategy_discussion_record(
                self.session,
                actor=self.as_(actor),
                case_id=case.id,
                concern_date=concern,
                held_date=story.day,
                format=DiscussionFormat.meeting if rng.random() < 0.6 else DiscussionFormat.calls,
                participants=self.participants(cast),
                concerns="Reasonable cause to suspect the child is suffering significant harm.",
                start_s47=True,
            )
        )
        enquiry = story.at(
            lambda: protection_service.s47_start(
                self.session,
                actor=self.as_(actor),
                case_id=case.id,
                strategy_discussion_id=discussion.id,
                start_date=story.day,
            )
        )
        return enquiry.id

    def icpc(
        self, story: _Story, cast: _Cast, s47_id: uuid.UUID, *, held: date, pre_birth: bool = False
    ) -> CPPlan:
        """The enquiry concludes that a conference is needed, and the ICPC (on a working day,
        within 15 working days of the strategy discussion mostly) starts a CP plan."""
        rng = self.rng
        actor = cast.worker or cast.manager
        on_time = rng.random() < 0.8
        conference = add_working_days(held, rng.randint(9, 15) if on_time else rng.randint(16, 20))
        story.to(add_working_days(conference, -rng.randint(1, 3)))

        def conclude() -> None:
            enquiry = protection_service.s47_get(self.session, actor=self.as_(actor), s47_id=s47_id)
            protection_service.s47_conclude(
                self.session,
                actor=self.as_(actor),
                s47_id=s47_id,
                expected_version=enquiry.version,
                outcome=S47Outcome.icpc_required,
                reason="Concerns substantiated: the child is likely to suffer significant harm.",
                concluded_date=story.day,
            )

        story.at(conclude)
        story.to(conference)
        category = CategoryOfAbuse.NEG if pre_birth else _weighted(rng, CATEGORIES)
        _conference, plan = story.at(
            lambda: protection_service.icpc_record(
                self.session,
                actor=self.as_(actor),
                s47_id=s47_id,
                conference_date=story.day,
                chair="Independent chair (demo)",
                agencies_present=[Agency.social_care, Agency.police, Agency.health],
                outcome=ConferenceOutcome.cp_plan,
                initial_category=category,
                notes="Pre-birth conference." if pre_birth else None,
            )
        )
        assert plan is not None
        return plan

    def cp_plan(
        self, story: _Story, cast: _Cast, case: Case, plan: CPPlan, *, ends: str | None
    ) -> None:
        """Core groups, visits and review conferences while the plan lasts; ``ends``: the review
        conference that ends it steps down to a CIN plan (``cin_plan``), closes (``close``), or
        the plan goes on (None)."""
        rng = self.rng
        if not cast.restricted:
            long_term = rng.choice(self.by_kind[TeamKind.cin_cp])
            cast.long_term = long_term
            story.after(rng, 1, 3)
            worker = self.worker(long_term)
            self.allocate(story, cast.manager, case, long_term, worker)
            cast.worker, cast.manager = worker, self.manager(long_term)
        worker = cast.worker or cast.manager
        start = plan.start_date
        visit = cp_timescales.cp_visit_due(start)
        core_group = cp_timescales.core_group_first_due(start)
        review = cp_timescales.rcpc_first_due(start)
        reviews_before_end = 1 if rng.random() < 0.6 else 2
        reviews = 0

        def early(due: date, low: int, high: int) -> date:
            # Mostly a few working days before it is due; now and then a little late.
            if rng.random() < 0.08:
                return add_working_days(due, rng.randint(1, 3))
            return max(add_working_days(due, -rng.randint(low, high)), story.day)

        def working(due: date) -> date:
            # Conferences are held on working days: the one before a month-based date at a weekend.
            return due if is_working_day(due) else previous_working_day(due)

        unborn = case.child_id in self.unborn
        next_visit, next_core, next_review = (
            early(visit, 0, 3),
            early(core_group, 0, 4),
            working(review),
        )
        while True:
            due = min(next_visit, next_core, next_review)
            day = story.to(due)
            if due == next_review:
                reviews += 1
                ending = ends is not None and reviews >= reviews_before_end
                chair = cast.manager if ending and ends == "close" else worker
                self._review(story, chair, plan, ends=ends if ending else None)
                if ending:
                    if ends == "cin_plan":
                        self.cin_plan(story, cast, case, start=day, close=rng.random() < 0.4)
                    return
                next_review = max(working(cp_timescales.rcpc_due(day)), day)
            elif due == next_core:
                self._core_group(story, worker, plan)
                next_core = early(cp_timescales.core_group_due(day), 0, 5)
            else:
                # Before the birth the visit is to the mother: the child cannot be seen yet.
                seen = not unborn
                alone = seen and rng.random() < 0.7
                self._visit(story, worker, plan, seen=seen, alone=alone)
                if seen and rng.random() < 0.3:
                    self.note(story, worker, case, alone=alone)
                next_visit = early(cp_timescales.cp_visit_due(day), 0, 2)

    def _core_group(self, story: _Story, worker: UserAccount, plan: CPPlan) -> None:
        story.at(
            lambda: protection_service.core_group_record(
                self.session, actor=self.as_(worker), plan_id=plan.id, meeting_date=story.day
            )
        )

    def _visit(
        self, story: _Story, worker: UserAccount, plan: CPPlan, *, seen: bool, alone: bool
    ) -> None:
        story.at(
            lambda: protection_service.cp_visit_record(
                self.session,
                actor=self.as_(worker),
                plan_id=plan.id,
                visit_date=story.day,
                child_seen=seen,
                seen_alone=alone,
            )
        )

    def _review(self, story: _Story, actor: UserAccount, plan: CPPlan, *, ends: str | None) -> None:
        def step() -> None:
            protection_service.review_conference_record(
                self.session,
                actor=self.as_(actor),
                plan_id=plan.id,
                expected_version=plan.version,
                conference_date=story.day,
                chair="Independent chair (demo)",
                agencies_present=[Agency.social_care, Agency.police, Agency.health],
                outcome=ConferenceOutcome.end_plan if ends else ConferenceOutcome.continue_plan,
                end_reason="The child is no longer at risk of significant harm." if ends else None,
                next_step=None
                if ends is None
                else PlanEndStep.cin_plan
                if ends == "cin_plan"
                else PlanEndStep.close,
                closure_reason=ReasonForClosure.SERVICES_CEASED if ends == "close" else None,
            )

        story.at(step)

    # --- child in need -----------------------------------------------------------------------

    def cin_plan(self, story: _Story, cast: _Cast, case: Case, *, start: date, close: bool) -> None:
        """Reviews every 3 months (some late); ``close``: the plan ends and a manager closes."""
        rng = self.rng
        plan = self.session.scalars(
            select(CINPlan).where(CINPlan.case_id == case.id).order_by(CINPlan.start_date.desc())
        ).first()
        assert plan is not None
        if cast.long_term is None and not cast.restricted:
            long_term = rng.choice(self.by_kind[TeamKind.cin_cp])
            cast.long_term = long_term
            story.after(rng, 1, 5)
            worker = self.worker(long_term)
            self.allocate(story, cast.manager, case, long_term, worker)
            cast.worker, cast.manager = worker, self.manager(long_term)
        worker = cast.worker or cast.manager
        reviews = rng.randint(1, 3)
        due = cin_review_due(start)
        for _ in range(reviews):
            late = rng.random() < 0.1
            story.to(add_working_days(due, rng.randint(1, 8) if late else -rng.randint(0, 10)))
            self._cin_review(story, worker, plan)
            due = cin_review_due(story.day)
        if not close:
            return
        story.after(rng, 5, 30)
        self.close(story, cast.manager, case, ReasonForClosure.SERVICES_CEASED)

    def _cin_review(self, story: _Story, worker: UserAccount, plan: CINPlan) -> None:
        story.at(
            lambda: cin_service.cin_plan_review_add(
                self.session,
                actor=self.as_(worker),
                plan_id=plan.id,
                review_date=story.day,
                outcome="Plan continues; progress on school attendance and home conditions.",
            )
        )

    # --- a whole story -----------------------------------------------------------------------

    def play(self, plan: _Plan) -> None:
        child = plan.children[0]
        opened = self.today - timedelta(days=plan.days_ago)
        # Nobody is referred before they are born (an unborn child has a pre-birth story).
        born = [c.date_of_birth for c in plan.children if c.date_of_birth is not None]
        opened = max([opened, *born])
        if not is_working_day(opened):
            opened = next_working_day(opened)
        if opened > self.today:
            return  # a baby born this weekend: no story yet
        earlier = None if plan.earlier is None else opened - timedelta(days=plan.earlier)
        if (
            earlier is not None
            and child.date_of_birth is not None
            and earlier > child.date_of_birth
        ):
            self._earlier_episode(child, earlier)
        story = _Story(start=opened, today=self.today)
        counts = self.counts.by_destination
        counts[plan.destination] = counts.get(plan.destination, 0) + 1
        try:
            self._play(story, plan)
        except _Stop:
            self.counts.stopped_early += 1

    def _earlier_episode(self, child: Person, opened: date) -> None:
        """An earlier referral, closed: so the current one is a re-referral within 12 months."""
        cast = self.cast(child, for_demo=False)
        story = _Story(start=opened if is_working_day(opened) else previous_working_day(opened),
                       today=self.today)  # fmt: skip
        contact = self.contact(story, cast, [child], RagRating.amber)
        story.after(self.rng, 0, 1)
        self.decide(story, cast, contact, [(child, ContactOutcome.referral)])
        story.after(self.rng, 0, 1)
        self.referral_decide(
            story,
            cast.door_manager,
            self.case_of(child),
            Decision.no_further_action,
            "Checks show the family's needs are met by universal services.",
        )

    def _play(self, story: _Story, plan: _Plan) -> None:
        rng = self.rng
        child, siblings = plan.children[0], plan.children[1:]
        unborn = child.date_of_birth is None
        cast = self.cast(child, for_demo=plan.for_demo)
        destination = plan.destination
        rag = RagRating.red if destination in ("protection", "pre_birth") else _weighted(rng, RAGS)
        contact_day = story.day
        contact = self.contact(story, cast, plan.children, rag)
        if destination == "contact_waiting":
            return
        # A red contact is decided within 4 working hours, usually the same day.
        story.after(rng, 0, 0 if rag is RagRating.red else 2)
        door = (ContactOutcome.no_further_action, ContactOutcome.information_and_advice,
                ContactOutcome.early_help)  # fmt: skip
        first = self.at_the_door(door) if destination == "door" else ContactOutcome.referral
        # A sibling on the same contact is decided on their own needs (often differently).
        decisions = [(child, first)] + [(s, self.at_the_door(door)) for s in siblings]
        self.decide(story, cast, contact, decisions)
        if destination == "door":
            return
        case = self.case_of(child)
        if destination == "referral_waiting":
            return
        story.after(rng, 0, 1)
        if destination == "referral_nfa":
            self.referral_decide(
                story, cast.door_manager, case, Decision.no_further_action,
                "Checks show the family's needs are met by universal services.",
            )  # fmt: skip
            return
        # Serious concerns go straight to a strategy discussion; the rest to an assessment.
        straight = destination in ("protection", "cp_plan", "cp_step_down", "cp_closed")
        # (the demo social worker's enquiry always does, so its conference is what is due)
        straight = straight and (rng.random() < 0.5 or plan.for_demo)
        self.referral_decide(
            story,
            cast.door_manager,
            case,
            Decision.strategy_discussion if straight else Decision.assessment,
            "Reasonable cause to suspect significant harm."
            if straight
            else "An assessment of the child's needs is needed.",
        )
        concern = story.day
        if not straight and cast.duty is not None:
            # The duty worker holds the case until the area team's allocation meeting, three days
            # or more after the contact (SSDA903 SW09: a social worker episode lasting less is
            # queried; the validator counts three days).
            held = contact_day + timedelta(days=3)
            story.to(held if is_working_day(held) else next_working_day(held))
        if cast.worker is not None or not cast.restricted:
            self.allocate(story, cast.door_manager, case, cast.home, cast.worker)
        if cast.restricted and cast.worker is None:
            destination = "assessing"  # only the service manager sees this child
        if destination in ("looked_after", "care_ceased", "care_leaver") and not cast.restricted:
            self.looked_after(
                story,
                cast,
                case,
                ceases=destination == "care_ceased",
                leaver=destination == "care_leaver",
            )
            return
        if not straight:
            story.after(rng, 0, 2)
        if destination == "assessing":
            self.assess(story, cast, case, outcome=None, submit=rng.random() < 0.2)
            return
        if destination == "after_assessment":
            outcome = (
                AssessmentOutcome.no_further_action
                if rng.random() < 0.65
                else AssessmentOutcome.early_help
            )
            self.assess(story, cast, case, outcome=outcome)
            return
        if destination in ("cin_plan", "cin_closed"):
            self.assess(story, cast, case, outcome=AssessmentOutcome.cin_plan)
            self.cin_plan(story, cast, case, start=story.day, close=destination == "cin_closed")
            return
        if not straight:
            # A pre-birth assessment is quicker: the conference must come well before the birth.
            span = (5, 12) if unborn else (10, 40)
            self.assess(story, cast, case, unborn=unborn,
                        outcome=AssessmentOutcome.strategy_discussion, span=span)  # fmt: skip
            concern = story.day
        s47 = self.strategy_and_s47(story, cast, case, concern=concern)
        held = story.day
        if straight and destination == "protection":
            # The assessment runs alongside the enquiry (Working Together ch.1).
            self.assess(story, cast, case, outcome=None, submit=False)
            return
        if straight:
            # ... and is authorised before the conference, which moves the case on.
            self.assess(story, cast, case, outcome=AssessmentOutcome.strategy_discussion,
                        span=(3, 6))  # fmt: skip
        if destination == "protection":
            return
        if destination == "s47_no_icpc":
            self._no_icpc(story, cast, case, s47)
            return
        cp = self.icpc(story, cast, s47, held=held, pre_birth=destination == "pre_birth")
        ends = {"cp_step_down": "cin_plan", "cp_closed": "close"}.get(destination)
        self.cp_plan(story, cast, case, cp, ends=ends)

    def at_the_door(self, door: tuple[ContactOutcome, ...]) -> ContactOutcome:
        """A decision at the door; the first few show each outcome once, so that even a small
        demo council has contacts ending in each."""
        outcome = self.rng.choice(door)
        if self.door_decisions < len(door):
            outcome = door[self.door_decisions]
        self.door_decisions += 1
        return outcome

    def looked_after(
        self, story: _Story, cast: _Cast, case: Case, *, ceases: bool, leaver: bool = False
    ) -> None:
        """The child comes into care — in an emergency (police protection) straight from the
        referral, or as the assessment's outcome — and the children-in-care team takes the case
        on; :class:`app.demo.care.CareStory` walks the period of care."""
        from app.demo.care import CIC_TEAM, LEAVERS_TEAM, CareStory

        rng = self.rng
        emergency = not leaver and rng.random() < 0.25
        if not emergency:
            story.after(rng, 0, 2)
            self.assess(story, cast, case, outcome=AssessmentOutcome.looked_after, span=(5, 20))
        walk = CareStory(self, story, cast, case)
        born = walk.born
        eighteen = (
            born.replace(year=born.year + 18)
            if (born.month, born.day) != (2, 29)
            else (date(born.year + 18, 3, 1))
        )
        days_to_18 = (eighteen - story.day).days - 1
        if days_to_18 < 30:
            return  # too close to 18 to come into care in the demo
        stay = rng.randint(120, 400) if ceases else None
        if stay is not None or days_to_18 < (self.today - story.day).days:
            stay = min(stay if stay is not None else days_to_18, days_to_18)

        def on_the_team() -> None:
            # Three working days or more after the area team took the case: its worker's
            # episode is not a day's (SSDA903 SW09).
            story.after(rng, 3, 6)
            worker = self.worker(CIC_TEAM)
            self.allocate(story, cast.manager, case, CIC_TEAM, worker)
            cast.worker, cast.manager = worker, self.manager(CIC_TEAM)

        try:
            walk.walk(emergency=emergency, ceases_after=stay, handover=on_the_team)
        except _Stop:
            # Still in care today: now and then the IRO disputes the plan (IRO Handbook ch.5).
            # The first two children still in care always have one, so the demo shows disputes.
            in_care = walk.period is not None and walk.period.state == "looked_after"
            wanted = self.counts.disputes < 2 or rng.random() < 0.2
            if in_care and walk.iro is not None and wanted:
                self.counts.disputes += 1
                walk.dispute()
            raise
        if walk.period is None or walk.period.state == "looked_after":
            return
        if not leaver:
            # Home from care: a child in need plan supports the return, or the case closes.
            story.after(rng, 0, 5)
            if rng.random() < 0.5:
                story.at(
                    lambda: cin_service.cin_plan_start(
                        self.session,
                        actor=self.as_(cast.worker or cast.manager),
                        case_id=case.id,
                        start_date=story.day,
                    )
                )
                self.cin_plan(story, cast, case, start=story.day, close=rng.random() < 0.3)
            else:
                self.close(story, cast.manager, case, ReasonForClosure.SERVICES_CEASED)
            return

        def to_leavers() -> None:
            story.after(rng, 1, 5)
            worker = self.worker(LEAVERS_TEAM)
            self.allocate(story, cast.manager, case, LEAVERS_TEAM, worker)
            cast.worker, cast.manager = worker, self.manager(LEAVERS_TEAM)

        walk.leave_care(handover=to_leavers)

    def _no_icpc(self, story: _Story, cast: _Cast, case: Case, s47_id: uuid.UUID) -> None:
        actor = cast.worker or cast.manager
        story.after(self.rng, 5, 12)

        def conclude() -> None:
            enquiry = protection_service.s47_get(self.session, actor=self.as_(actor), s47_id=s47_id)
            protection_service.s47_conclude(
                self.session,
                actor=self.as_(actor),
                s47_id=s47_id,
                expected_version=enquiry.version,
                outcome=S47Outcome.icpc_not_required,
                reason="Concerns not substantiated; the family accepts support.",
                concluded_date=story.day,
            )

        story.at(conclude)
        story.after(self.rng, 5, 20)
        # CIN 2990: an episode that had a section 47 enquiry is never closed RC8/RC9.
        self.close(story, cast.manager, case, ReasonForClosure.SERVICES_CEASED)


def _families(session: Session, children: list[Person]) -> list[list[Person]]:
    """The demo's sibling groups, eldest first (siblings are related once per pair)."""
    index = {c.id: i for i, c in enumerate(children)}
    parent = list(range(len(children)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    pairs = session.execute(
        select(PersonRelationship.person_id, PersonRelationship.related_person_id).where(
            PersonRelationship.kind == RelationshipKind.sibling
        )
    ).all()
    for a, b in pairs:
        if a in index and b in index:
            parent[root(index[a])] = root(index[b])
    groups: dict[int, list[Person]] = {}
    for i, child in enumerate(children):
        groups.setdefault(root(i), []).append(child)
    return list(groups.values())


#: Stories kept for the demo social worker, so their worklist has something in every column:
#: assessments overdue (started long enough ago) and due soon, an enquiry whose conference is
#: due, and closed work whose deadlines were met.
DEMO_WORKER_STORIES: Final[tuple[tuple[str, int], ...]] = (
    ("assessing", 80),
    ("assessing", 95),
    ("assessing", 55),
    ("assessing", 58),
    ("protection", 12),
    ("after_assessment", 150),
    ("after_assessment", 300),
)


#: One story of each kind that is still open today, so even a small demo shows every state.
SHOWCASE_STORIES: Final[tuple[tuple[str, int], ...]] = (
    ("contact_waiting", 0),
    ("referral_waiting", 0),
    ("cin_plan", 200),
    ("cp_plan", 150),
    ("cp_step_down", 420),
)


def _plans(world: DemoWorld, families: list[list[Person]], rng: random.Random) -> list[_Plan]:
    today = world.today
    plans: list[_Plan] = []
    reserved = [(d, days, True) for d, days in DEMO_WORKER_STORIES]
    reserved += [(d, days, False) for d, days in SHOWCASE_STORIES]
    for family in families:
        restricted = [c for c in family if c.is_restricted]
        unborn = [c for c in family if c.expected_date_of_birth is not None]
        # Restricted children each get a story of their own (their 404 can then be tried on
        # cases too); so do unborn children, whose story is a pre-birth one where time allows.
        for child in restricted:
            plans.append(_Plan([child], "assessing", rng.randint(5, 40)))
        for child in unborn:
            assert child.expected_date_of_birth is not None
            earliest = child.expected_date_of_birth - timedelta(weeks=PRE_BIRTH_WEEKS)
            room = (today - earliest).days
            if room >= PRE_BIRTH_DAYS_NEEDED:
                low, high = STARTS["pre_birth"]
                days = max(min(rng.randint(low, high), room), PRE_BIRTH_DAYS_NEEDED)
                plans.append(_Plan([child], "pre_birth", days))
            else:
                plans.append(_Plan([child], "assessing", rng.randint(0, max(room, 0))))
        born = [c for c in family if c not in restricted and c not in unborn]
        if not born or rng.random() >= SHARE_OF_FAMILIES:
            continue
        if reserved:
            destination, days, for_demo = reserved.pop(0)
            plans.append(_Plan([born[0]], destination, days, for_demo=for_demo))
            continue
        destination = _weighted(rng, DESTINATIONS)
        low, high = STARTS[destination]
        on_contact = [born[0]]
        if len(born) > 1 and rng.random() < SHARE_SIBLING_CONTACTS:
            on_contact.append(born[1])
        plan = _Plan(on_contact, destination, rng.randint(low, high))
        old_enough = (today - (born[0].date_of_birth or today)).days > 2 * 365
        if (
            destination not in ("contact_waiting", "door")
            and old_enough
            and rng.random() < SHARE_REREFERRED
        ):
            plan.earlier = rng.randint(120, 330)  # a referral 4-11 months before this contact
        plans.append(plan)
    return plans


def load_demo_cases(
    session: Session,
    *,
    world: DemoWorld,
    rng: random.Random,
    progress: ProgressCallback | None = None,
) -> int:
    """Walk children through their journeys by the services; return how many cases opened."""
    before = session.scalar(select(func.count()).select_from(Case)) or 0
    walker = _Walker(session, world=world, rng=rng)
    plans = _plans(world, _families(session, world.children), rng)
    for young in world.young_people:
        # In care from about 14 until 18, then a care leaver (app.demo.care).
        assert young.date_of_birth is not None
        came_in = young.date_of_birth + timedelta(days=14 * 365 + rng.randint(0, 500))
        plans.append(_Plan([young], "care_leaver", (world.today - came_in).days))
    if progress is not None:
        progress("Cases", 0, len(plans))
    for done, plan in enumerate(plans, start=1):
        walker.play(plan)
        if progress is not None:
            progress("Cases", done, len(plans))
    session.flush()
    return (session.scalar(select(func.count()).select_from(Case)) or 0) - before
