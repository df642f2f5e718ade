"""Demo children in care and care leavers, walked through the real services day by day.

Like :mod:`app.demo.cases`, nothing here writes a row itself: a child comes into care through
``period_of_care_start``, is visited, reviewed, assessed for health, moved, taken to court and so
on through the services that own those records, with the clock frozen at each step's day. The
walk is driven by the deadlines the services open: each open clock (a statutory visit, a review, a
health assessment, a plan) is acted on a few working days before it is due — or, now and then,
late — so the demo holds the mix of met, missed, due and overdue a real service shows, by the same
rules as live data.

Proportions are rough, from the DfE's "Children looked after in England" (2023): about 7 in 10
children in care are in foster placements, about 1 in 6 in children's homes or supported
accommodation; about 1 in 10 has 3 or more placements in a year; about 1 in 10 goes missing in a
year; three quarters are under a care order, a sixth accommodated under section 20.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Final, TypeVar

from sqlalchemy import select

from app import clock
from app.calendar import (
    LONDON,
    add_months,
    add_working_days,
    is_working_day,
    previous_working_day,
)
from app.care import service as care_service
from app.care.codes import (
    NO_URN_PLACEMENTS,
    LegalStatus,
    PlacementProvider,
    PlacementType,
    ReasonEpisodeCeased,
)
from app.care.codes import ReasonPlaceChange as Move
from app.care.schemas import (
    LegalStatusChange,
    PeriodOfCareCease,
    PeriodOfCareStart,
    PlacementChange,
    PlacementIn,
)
from app.careplans import service as plan_service
from app.careplans.schemas import PlacementPlanCreate, PlanVersionCreate
from app.config import get_settings
from app.core_types import PrimaryNeed, Sex
from app.health import service as health_service
from app.health.schemas import DentalCheckCreate, HealthAssessmentCreate, SDQCreate
from app.health.service import birthday, year_end_of, year_start_of
from app.iro import reviews as review_service
from app.iro import service as iro_service
from app.leavingcare import service as leaving_service
from app.leavingcare.codes import Accommodation, Activity, InTouch
from app.leavingcare.service import WINDOW_AFTER_MONTHS, WINDOW_BEFORE_MONTHS
from app.legal import service as legal_service
from app.missing import service as missing_service
from app.models import Case, Deadline, DeadlineKind, Person, Role, UserAccount
from app.models.care import CareEntryRoute, PeriodOfCare
from app.models.careplans import CLAPlan, PermanenceOption, PlanKind
from app.models.health import SDQReason
from app.models.iro import (
    CLAReview,
    CLAReviewAction,
    IROContactKind,
    ParticipationCode,
    ReviewActionKind,
)
from app.models.leavingcare import PathwayNeedsAssessment, PathwayPlan
from app.models.legal import (
    ApplicationKind,
    CareProceedings,
    FinalOrder,
    HearingType,
    InterimOrderKind,
)
from app.models.missing import MissingKind, ReturnInterviewResponse
from app.models.permanence import Motherhood
from app.permanence import service as permanence_service
from app.permanence.codes import PreviousPermanence
from app.visits import service as visit_service

if TYPE_CHECKING:
    from app.demo.cases import _Cast, _Story, _Walker

CIC_TEAM: Final = "Children in Care"
LEAVERS_TEAM: Final = "Care Leavers"
IRO_TEAM: Final = "Independent Reviewing Service"
COURT: Final = "Family Court sitting at Birmingham"
#: The share of clocks acted on late (a few working days after the due date).
SHARE_LATE: Final = 0.08
#: The share of clocks falling due in the last two months that nobody has acted on yet.
SHARE_FORGOTTEN: Final = 0.2
#: Placements by age band: (type, provider, weight).
PLACEMENTS: Final[dict[str, tuple[tuple[PlacementType, PlacementProvider, int], ...]]] = {
    "baby": (
        (PlacementType.U6, PlacementProvider.PR1, 60),
        (PlacementType.U3, PlacementProvider.PR1, 25),
        (PlacementType.U5, PlacementProvider.PR1, 10),
        (PlacementType.R3, PlacementProvider.PR4, 5),
    ),
    "child": (
        (PlacementType.U6, PlacementProvider.PR1, 45),
        (PlacementType.U6, PlacementProvider.PR4, 15),
        (PlacementType.U3, PlacementProvider.PR1, 15),
        (PlacementType.U4, PlacementProvider.PR1, 10),
        (PlacementType.U1, PlacementProvider.PR1, 5),
        (PlacementType.K2, PlacementProvider.PR4, 5),
        (PlacementType.P1, PlacementProvider.PR0, 5),
    ),
    "teen": (
        (PlacementType.U6, PlacementProvider.PR4, 30),
        (PlacementType.U6, PlacementProvider.PR1, 15),
        (PlacementType.U4, PlacementProvider.PR1, 10),
        (PlacementType.K2, PlacementProvider.PR4, 30),
        (PlacementType.K2, PlacementProvider.PR1, 10),
        (PlacementType.U3, PlacementProvider.PR1, 5),
    ),
    "older": (
        (PlacementType.K3, PlacementProvider.PR4, 40),
        (PlacementType.U6, PlacementProvider.PR4, 20),
        (PlacementType.K2, PlacementProvider.PR4, 30),
        (PlacementType.U4, PlacementProvider.PR1, 10),
    ),
}
MOVE_REASONS: Final = (
    (Move.CARPL, 30),
    (Move.CREQB, 20),
    (Move.CREQO, 10),
    (Move.CHILD, 10),
    (Move.LAREQ, 10),
    (Move.STAND, 5),
    (Move.CLOSE, 5),
    (Move.OTHER, 10),
)
#: Real Birmingham-area postcodes (Royal Mail), so that placement distances can be measured.
POSTCODES_IN_AREA: Final = ("B15 2TT", "B29 6BD", "B13 8JP", "B23 6SY", "B44 9EX", "B31 2PA")
#: Placements outside the council (3-digit DfE code of the council, a postcode in it).
OUT_OF_AREA: Final = (("335", "WS1 1TP"), ("333", "B70 8LG"), ("336", "WV1 1SH"))
#: The deadlines the walk acts on, and those it leaves to other stories.
ACTED_ON: Final = frozenset(
    {
        DeadlineKind.statutory_visit,
        DeadlineKind.cla_review_first,
        DeadlineKind.cla_review_second,
        DeadlineKind.cla_review,
        DeadlineKind.review_decisions,
        DeadlineKind.review_record,
        DeadlineKind.recommendation,
        DeadlineKind.care_plan,
        DeadlineKind.placement_plan,
        DeadlineKind.permanence_plan,
        DeadlineKind.pep,
        DeadlineKind.pep_review,
        DeadlineKind.health_assessment_initial,
        DeadlineKind.health_assessment_review,
        DeadlineKind.return_interview,
        DeadlineKind.pathway_needs_assessment,
        DeadlineKind.pathway_plan,
        DeadlineKind.pathway_plan_review,
    }
)
REVIEW_KINDS: Final = frozenset(
    {DeadlineKind.cla_review_first, DeadlineKind.cla_review_second, DeadlineKind.cla_review}
)


T = TypeVar("T")


def _weighted(rng: random.Random, pairs: tuple[tuple[T, int], ...]) -> T:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


@dataclass
class _Event:
    """Something that happens on a day of the walk that no deadline asks for."""

    day: date
    kind: str
    payload: dict[str, object] = field(default_factory=dict)


class CareStory:
    """One child's period of care, walked from the day they came into care to today (or to the
    day care ceased)."""

    def __init__(self, walker: _Walker, story: _Story, cast: _Cast, case: Case) -> None:
        self.walker = walker
        self.session = walker.session
        self.rng: random.Random = walker.rng
        self.story = story
        self.cast = cast
        self.case = case
        child = self.session.get(Person, case.child_id)
        assert child is not None
        assert child.date_of_birth is not None
        self.child = child
        self.born: date = child.date_of_birth
        self.acted: dict[uuid.UUID, date] = {}
        # A clock is acted on at most three times (a visit where the child was not seen does not
        # meet it: the worker goes back a few days later); after that it stays open (overdue).
        self.tried: dict[uuid.UUID, int] = {}
        self.sdq_years: set[date] = set()
        self.events: list[_Event] = []
        self.period: PeriodOfCare | None = None
        self.iro: UserAccount | None = None
        self.carer_count = 0
        self.proceedings: CareProceedings | None = None
        #: Where the child lived before care (SSDA903 HOME_POST): the same for every placement.
        self.home_postcode: str | None = None

    # --- who ---------------------------------------------------------------------------------

    def worker(self) -> UserAccount:
        return self.cast.worker or self.cast.manager

    def iro_manager(self) -> UserAccount:
        return self.walker.manager(IRO_TEAM)

    # --- placements --------------------------------------------------------------------------

    def placement(self, on: date, status: LegalStatus | None) -> PlacementIn:
        age = age_on(self.born, on)
        band = "baby" if age < 1 else "child" if age < 12 else "teen" if age < 16 else "older"
        place, provider = _weighted(self.rng, tuple(((p, pr), w) for p, pr, w in PLACEMENTS[band]))
        if place is PlacementType.P1 and status is LegalStatus.SECTION_20:
            # A child accommodated under s20 is not placed with parents (SSDA903 rule 378, which
            # the care service refuses): draw again without that choice. Only such a draw draws
            # again, so every council that loaded before is drawn the same.
            others = tuple(
                ((p, pr), w) for p, pr, w in PLACEMENTS[band] if p is not PlacementType.P1
            )
            place, provider = _weighted(self.rng, others)
        self.carer_count += 1
        if self.home_postcode is None:
            self.home_postcode = self.rng.choice(POSTCODES_IN_AREA)
        home = self.home_postcode
        if place is PlacementType.P1:
            # Placed with parents: at home, the one placement whose postcode is the home's
            # (SSDA903 rule 392d).
            la, postcode = get_settings().la_code, home
        elif provider is not PlacementProvider.PR1 and self.rng.random() < 0.3:
            # The council's own carers live in its area (SSDA903 rule 1015); agencies' may not.
            la, postcode = self.rng.choice(OUT_OF_AREA)
        else:
            # Anywhere in the area but the child's home (rule 392d).
            away = [p for p in POSTCODES_IN_AREA if p != home]
            la, postcode = get_settings().la_code, self.rng.choice(away)
        # Registered provision has an Ofsted URN (SSDA903 rule 218): children's homes "SC" and
        # six digits, fostering agencies seven digits.
        urn = None
        if place not in NO_URN_PLACEMENTS:
            homes = (PlacementType.K1, PlacementType.K2)
            number = self.rng.randint(100000, 999999)
            urn = f"SC{number}" if place in homes else f"{self.rng.randint(1000000, 9999999)}"
        return PlacementIn(
            placement_type=place,
            provider=provider,
            ofsted_urn=urn,
            carer_name="Parents" if place is PlacementType.P1 else "Demo carers (fictional)",
            carer_key=f"demo-carer-{self.child.id.hex[:8]}-{self.carer_count}",
            home_postcode=home,
            placement_postcode=postcode,
            placement_la_code=la,
            intended_until_18=place in (PlacementType.U1, PlacementType.U4),
            child_agrees_six_monthly_visits=False,
            placed_under_reg="reg 19" if place is PlacementType.P1 else None,
        )

    # --- the walk ----------------------------------------------------------------------------

    def at(self, day: date, step: Callable[[], object]) -> None:
        self.story.to(day)
        self.story.at(step)

    def start(self, *, emergency: bool) -> PeriodOfCare:
        rng, day = self.rng, self.story.day
        age = age_on(self.born, day)
        if emergency:
            status, route = LegalStatus.POLICE_PROTECTION, CareEntryRoute.emergency
        elif age >= 16 or rng.random() < 0.35:
            status, route = LegalStatus.SECTION_20, CareEntryRoute.section_20
        else:
            status, route = LegalStatus.INTERIM_CARE_ORDER, CareEntryRoute.court_order
        body = PeriodOfCareStart(
            start_date=day,
            entry_route=route,
            legal_status=status,
            category_of_need=PrimaryNeed.ABUSE_OR_NEGLECT
            if rng.random() < 0.65
            else PrimaryNeed.FAMILY_DYSFUNCTION,
            placement=self.placement(day, status),
        )
        period = self.story.at(
            lambda: care_service.period_of_care_start(
                self.session, actor=self.walker.as_(self.worker()), case_id=self.case.id, body=body
            )
        )
        self.period = period
        self.previous_permanence(period)
        self.motherhood()
        if status is LegalStatus.INTERIM_CARE_ORDER:
            self.issue_proceedings(day)
        if emergency:
            # Police protection lasts at most 72 hours (Children Act 1989 s.46(6)): the council
            # applies for an interim care order, or the parents agree to accommodation.
            follow = add_working_days(day, rng.randint(1, 2))
            court = rng.random() < 0.6
            if (follow - day).days > 3:
                # No court sits within the 72 hours (a bank holiday weekend): the parents agree
                # to accommodation the next day (SSDA903 rule 361: L1 lasts 3 days at most).
                follow, court = day + timedelta(days=1), False
            self.events.append(
                _Event(
                    follow,
                    "legal",
                    {"status": LegalStatus.INTERIM_CARE_ORDER if court else LegalStatus.SECTION_20},
                )
            )
        return period

    def previous_permanence(self, period: PeriodOfCare) -> None:
        """Whether the child had left care before through a permanence order (SSDA903 PrevPerm,
        rule 630: asked of every child starting a period of care). Most had not; in the demo 3 in
        100 come back after a special guardianship order broke down."""
        rng, day = self.rng, period.start_date
        before = (day - self.born).days
        if before > 3 * 365 and rng.random() < 0.03:
            # The order was made a year or more after birth and a year or more before this care.
            order = self.born + timedelta(days=rng.randint(365, before - 365))
            prev, la, when = (
                PreviousPermanence.SPECIAL_GUARDIANSHIP,
                get_settings().la_code,
                order.strftime("%d/%m/%Y"),
            )
        else:
            prev, la, when = PreviousPermanence.NONE, None, None
        self.story.at(
            lambda: permanence_service.prev_perm_set(
                self.session,
                actor=self.walker.as_(self.worker()),
                period_id=period.id,
                expected_version=None,
                prev_perm=prev,
                la_perm=la,
                date_perm=when,
            )
        )

    def motherhood(self) -> None:
        """A looked-after girl is asked whether she is a mother (SSDA903 MOTHER; rule 393 wants
        it for every looked-after girl, and the return says 0 for those under 10 on 31 March):
        asked at the start of care of any girl 10 or over by the end of this year."""
        if self.child.sex is not Sex.FEMALE:
            return
        if age_on(self.born, year_end_of(self.walker.today)) < 10:
            return
        known = self.session.scalar(
            select(Motherhood.id).where(Motherhood.child_id == self.child.id)
        )
        if known is not None:
            return  # asked in an earlier period of care
        self.story.at(
            lambda: permanence_service.motherhood_set(
                self.session,
                actor=self.walker.as_(self.worker()),
                child_id=self.child.id,
                expected_version=None,
                is_mother=False,
                first_child_birth_date=None,
            )
        )

    def issue_proceedings(self, day: date) -> None:
        """An application for a care order, an interim care order the same day, hearings, and a
        final order around week 26 (some need an extension)."""
        proceedings = self.story.at(
            lambda: legal_service.care_proceedings_issue(
                self.session,
                actor=self.walker.as_(self.worker()),
                case_id=self.case.id,
                application_kind=ApplicationKind.care_order,
                application_date=day,
                court=COURT,
            )
        )
        self.proceedings = proceedings
        self.story.at(
            lambda: legal_service.interim_order_add(
                self.session,
                actor=self.walker.as_(self.worker()),
                proceedings_id=proceedings.id,
                order_kind=InterimOrderKind.interim_care_order,
                made_date=day,
            )
        )
        rng = self.rng
        self.events.append(
            _Event(
                add_working_days(day, rng.randint(8, 12)),
                "hearing",
                {"type": HearingType.case_management_hearing},
            )
        )
        self.events.append(
            _Event(
                add_working_days(day, rng.randint(80, 100)),
                "hearing",
                {"type": HearingType.issues_resolution_hearing},
            )
        )
        final = day + timedelta(weeks=rng.choice((20, 23, 24, 25, 25, 26, 29)))
        self.events.append(
            _Event(final if is_working_day(final) else previous_working_day(final), "final_order")
        )

    def plan_events(self, *, ceases_after: int | None) -> None:
        """The moves, missing episodes, IRO contacts and the end of care this child will have."""
        rng, start = self.rng, self.story.day
        horizon = self.walker.today
        if ceases_after is not None:
            horizon = min(horizon, start + timedelta(days=ceases_after))
            day = horizon if is_working_day(horizon) else previous_working_day(horizon)
            self.events.append(_Event(day, "cease"))
        span = (horizon - start).days
        sixteen = add_months(self.born, 16 * 12)
        if start < sixteen <= horizon:
            # An eligible child's needs assessment is due 3 months after the 16th birthday
            # (rule 26): the leaving-care status is refreshed on the birthday.
            self.events.append(_Event(sixteen, "refresh"))
        self.plan_sdqs(start, horizon)
        if span > 40:
            moves = _weighted(rng, ((0, 55), (1, 30), (2, 10), (3, 5)))
            for _ in range(moves):
                self.events.append(_Event(start + timedelta(days=rng.randint(20, span)), "move"))
            if age_on(self.born, start) >= 12 and rng.random() < 0.3:
                for _ in range(rng.randint(1, 3)):
                    self.events.append(
                        _Event(start + timedelta(days=rng.randint(10, span)), "missing")
                    )
            for _ in range(span // 120):
                self.events.append(
                    _Event(start + timedelta(days=rng.randint(10, span)), "iro_contact")
                )

    def plan_sdqs(self, start: date, horizon: date) -> None:
        """The carer's SDQ, once in each year (1 April to 31 March) the child is looked after
        and of SDQ age: 4 by the year's end, not yet 17 at its start (SSDA903 rules 186, 197B,
        188, 189). The council sends them out in the spring round, or soon after the child
        comes into care, so the year's SDQ is in well before 31 March."""
        rng = self.rng
        year_end = year_end_of(start)
        while year_start_of(year_end) <= horizon:
            in_age = birthday(self.born, 4) <= year_end and birthday(
                self.born, 17
            ) >= year_start_of(year_end)
            day = max(
                start + timedelta(days=rng.randint(10, 40)),
                year_start_of(year_end) + timedelta(days=rng.randint(10, 150)),
            )
            if in_age and day < horizon and year_end_of(day) == year_end:
                self.events.append(_Event(day, "sdq"))
            year_end = add_months(year_end, 12)

    def walk(
        self,
        *,
        emergency: bool = False,
        ceases_after: int | None = None,
        handover: Callable[[], None] | None = None,
    ) -> None:
        """Come into care today, then live the period until today or until care ceases;
        ``handover`` moves the case to the children-in-care team after the placement."""
        self.start(emergency=emergency)
        self.plan_events(ceases_after=ceases_after)
        # Police protection ends within its 72 hours (Children Act 1989 s.46(6), SSDA903 rule
        # 361), whatever the handover to the children-in-care team takes.
        for legal in [e for e in self.events if e.kind == "legal"]:
            self.events.remove(legal)
            self.happen(legal)
        if handover is not None:
            handover()
        self.allocate_iro()
        while True:
            deadline_day, deadline = self.next_deadline()
            event = min(self.events, key=lambda e: e.day, default=None)
            if event is not None and (deadline is None or event.day <= deadline_day):
                self.events.remove(event)
                if self.happen(event):
                    return
                continue
            if deadline is None:
                return
            self.act(deadline_day, deadline)

    def allocate_iro(self) -> None:
        """An IRO within 5 working days (rule 28): a looked-after sibling's IRO by default."""
        assert self.period is not None
        iros = [u for u in self.walker.world.staff[IRO_TEAM] if u.role is Role.iro]
        shared = iro_service.sibling_iros(self.session, child_id=self.child.id)
        chosen = next((u for u in iros if any(i == u.id for _c, i in shared)), None)
        self.iro = chosen or self.rng.choice(iros)
        when = add_working_days(self.period.start_date, self.rng.randint(1, 4))
        if self.rng.random() < SHARE_LATE:
            when = add_working_days(when, self.rng.randint(2, 6))
        iro = self.iro
        self.at(
            max(when, self.story.day),
            lambda: iro_service.iro_allocate(
                self.session,
                actor=self.walker.as_(self.iro_manager()),
                child_id=self.child.id,
                iro_id=iro.id,
                start_date=self.story.day,
                reason=None if chosen is None else "Shares the IRO of a looked-after sibling",
            ),
        )

    def next_deadline(self) -> tuple[date, Deadline | None]:
        """The open clock of this child the walk acts on next, and the day it acts."""
        open_ = self.session.scalars(
            select(Deadline)
            .where(
                Deadline.child_id == self.child.id,
                Deadline.met_date.is_(None),
                Deadline.stopped_date.is_(None),
                Deadline.kind.in_(ACTED_ON),
            )
            # A fixed order (never the database's row order, which on PostgreSQL depends on where
            # earlier, rolled-back rows left free space): ``when`` draws from the seeded stream
            # per deadline, so the order decides the council the same seed builds.
            .order_by(
                Deadline.due_date,
                Deadline.kind,
                Deadline.start_date,
                Deadline.subject_type,
                Deadline.created_at,
            )
        ).all()
        best: tuple[date, Deadline | None] = (date.max, None)
        for deadline in open_:
            if self.tried.get(deadline.id, 0) >= 3:
                continue
            if deadline.id not in self.acted:
                self.acted[deadline.id] = self.when(deadline)
            if self.acted[deadline.id] == date.max:
                continue
            day = max(self.acted[deadline.id], self.story.day)
            if day < best[0]:
                best = (day, deadline)
        return best

    def when(self, deadline: Deadline) -> date:
        """Mostly a few working days before it is due; now and then a few after."""
        rng = self.rng
        due = deadline.due_date
        if due > self.walker.today - timedelta(days=60) and rng.random() < SHARE_FORGOTTEN:
            # Left undone: overdue today (worklists and the IRO's view have something to show).
            return date.max
        if rng.random() < SHARE_LATE:
            return add_working_days(due, rng.randint(1, 6))
        lead = (0, 2) if deadline.kind is DeadlineKind.return_interview else (0, 8)
        early = add_working_days(due, -rng.randint(*lead))
        return max(early, deadline.start_date)

    # --- acting on a clock -------------------------------------------------------------------

    def act(self, day: date, deadline: Deadline) -> None:
        self.tried[deadline.id] = self.tried.get(deadline.id, 0) + 1
        self.acted[deadline.id] = add_working_days(day, self.rng.randint(1, 4))
        kind = deadline.kind
        if kind in REVIEW_KINDS:
            self.at(day, self.review)
        elif kind is DeadlineKind.statutory_visit:
            self.at(day, self.visit)
        elif kind in (DeadlineKind.review_decisions, DeadlineKind.review_record):
            self.at(day, lambda: self.review_paperwork(deadline))
        elif kind is DeadlineKind.recommendation:
            self.at(day, lambda: self.complete_action(deadline))
        elif kind in (
            DeadlineKind.health_assessment_initial,
            DeadlineKind.health_assessment_review,
        ):
            self.at(day, self.health_assessment)
        elif kind is DeadlineKind.return_interview:
            self.at(day, lambda: self.return_interview(deadline))
        elif kind in (
            DeadlineKind.pathway_needs_assessment,
            DeadlineKind.pathway_plan,
            DeadlineKind.pathway_plan_review,
        ):
            self.at(day, lambda: self.pathway(deadline))
        else:
            self.at(day, lambda: self.plan(deadline))

    def visit(self) -> None:
        seen = self.rng.random() < 0.95
        old_enough = age_on(self.born, self.story.day) >= 4
        visit_service.visit_record(
            self.session,
            actor=self.walker.as_(self.worker()),
            child_id=self.child.id,
            visit_date=self.story.day,
            child_seen=seen,
            seen_alone=seen and old_enough and self.rng.random() < 0.7,
            bedroom_seen=seen and self.rng.random() < 0.6,
            is_unannounced=self.rng.random() < 0.05,
        )

    def review(self) -> None:
        assert self.period is not None
        assert self.iro is not None
        rng, day = self.rng, self.story.day
        age = age_on(self.born, day)
        participation = (
            ParticipationCode.PN0
            if age < 4
            else _weighted(
                rng,
                (
                    (ParticipationCode.PN1, 55),
                    (ParticipationCode.PN2, 10),
                    (ParticipationCode.PN4, 5),
                    (ParticipationCode.PN5, 10),
                    (ParticipationCode.PN6, 10),
                    (ParticipationCode.PN7, 10),
                ),
            )
        )
        due = review_service.next_review_due(self.session, period_id=self.period.id)
        late = due is not None and day > due.due_date
        actions = [
            review_service.ActionIn(
                kind=ReviewActionKind.recommendation,
                text=text,
                owner_id=self.worker().id,
                due_date=add_working_days(day, rng.randint(10, 40)),
            )
            for text in rng.sample(
                (
                    "Arrange contact with the child's brother at least monthly.",
                    "Refer for a CAMHS assessment.",
                    "Complete the life story work with the child.",
                    "Update the PEP with the designated teacher.",
                    "Make the application for the child's passport.",
                ),
                k=rng.randint(1, 2),
            )
        ]
        review_service.cla_review_record(
            self.session,
            actor=self.walker.as_(self.iro),
            period_id=self.period.id,
            review_date=day,
            chair_id=self.iro.id,
            participation=participation,
            lateness_reason="The review was rearranged when the carer was ill." if late else None,
            notes="The plan continues to meet the child's needs; the child's views were heard.",
            actions=actions,
        )

    def _review_of(self, deadline: Deadline) -> CLAReview:
        review = self.session.get(CLAReview, deadline.subject_id)
        assert review is not None
        return review

    def review_paperwork(self, deadline: Deadline) -> None:
        assert self.iro is not None
        review = self._review_of(deadline)
        steps = []
        if review.state == "held":
            # The decisions go out first (rule 29), late if their own clock was left undone.
            steps.append(review_service.cla_review_decisions_circulated)
        if deadline.kind is DeadlineKind.review_record:
            steps.append(review_service.cla_review_record_completed)
        for step in steps:
            step(
                self.session,
                actor=self.walker.as_(self.iro),
                review_id=review.id,
                expected_version=review.version,
                on_date=self.story.day,
            )

    def complete_action(self, deadline: Deadline) -> None:
        action = self.session.get(CLAReviewAction, deadline.subject_id)
        assert action is not None
        owner = self.session.get(UserAccount, action.owner_id)
        assert owner is not None
        review_service.cla_review_action_complete(
            self.session,
            actor=self.walker.as_(owner),
            action_id=action.id,
            expected_version=action.version,
            completed_date=self.story.day,
            note="Done.",
        )

    def health_assessment(self) -> None:
        assert self.period is not None
        period_id = self.period.id
        health_service.health_assessment_record(
            self.session,
            actor=self.walker.as_(self.worker()),
            period_id=period_id,
            body=HealthAssessmentCreate(
                assessment_date=self.story.day,
                assessed_by="Looked-after children's nurse (demo)",
                is_immunisations_up_to_date=self.rng.random() < 0.85,
            ),
        )
        if self.rng.random() < 0.7:
            health_service.dental_check_record(
                self.session,
                actor=self.walker.as_(self.worker()),
                period_id=period_id,
                body=DentalCheckCreate(check_date=self.story.day),
            )

    def sdq(self) -> None:
        """The year's SDQ: a score (0-40), or why there is none — mostly a carer or, for an
        older child, the young person declining (SDQ2, SDQ5)."""
        assert self.period is not None
        year_end = year_end_of(self.story.day)
        if year_end in self.sdq_years:
            return  # one SDQ a year (the OC2 row of the year to 31 March)
        self.sdq_years.add(year_end)
        rng, period_id = self.rng, self.period.id
        if rng.random() < 0.92:
            body = SDQCreate(completed_date=self.story.day, score=rng.randint(4, 28))
        else:
            older = age_on(self.born, self.story.day) >= 11
            reason = SDQReason.SDQ5 if older else SDQReason.SDQ2
            body = SDQCreate(completed_date=self.story.day, reason=reason)
        health_service.sdq_record(
            self.session,
            actor=self.walker.as_(self.worker()),
            period_id=period_id,
            body=body,
        )

    def plan(self, deadline: Deadline) -> None:
        assert self.period is not None
        kind = {
            DeadlineKind.care_plan: PlanKind.care_plan,
            DeadlineKind.placement_plan: PlanKind.placement_plan,
            DeadlineKind.permanence_plan: PlanKind.permanence_plan,
            DeadlineKind.pep: PlanKind.pep,
            DeadlineKind.pep_review: PlanKind.pep,
        }[deadline.kind]
        age = age_on(self.born, self.story.day)
        option = None
        if kind is PlanKind.permanence_plan:
            option = (
                PermanenceOption.adoption
                if age < 3
                else PermanenceOption.independent_living
                if age >= 16
                else self.rng.choice(
                    (
                        PermanenceOption.long_term_fostering,
                        PermanenceOption.return_home,
                        PermanenceOption.special_guardianship,
                    )
                )
            )
        summary = {
            PlanKind.care_plan: "How the child's needs will be met while looked after.",
            PlanKind.placement_plan: "How the placement will meet the child's needs day to day.",
            PlanKind.permanence_plan: "The long-term plan for the child's upbringing.",
            PlanKind.pep: "Targets agreed with the designated teacher.",
        }[kind]
        body: PlanVersionCreate
        if kind is PlanKind.placement_plan:
            body = PlacementPlanCreate(plan_date=self.story.day, summary=summary)
        else:
            body = PlanVersionCreate(
                plan_date=self.story.day,
                summary=summary,
                permanence_option=option,
                school_name="Demo Primary School" if kind is PlanKind.pep else None,
            )
        existing = self.session.scalar(
            select(CLAPlan)
            .where(CLAPlan.period_id == self.period.id, CLAPlan.kind == kind)
            .order_by(CLAPlan.created_at.desc())
            .limit(1)
        )
        if existing is not None and kind is not PlanKind.placement_plan:
            plan_service.plan_revise(
                self.session,
                actor=self.walker.as_(self.worker()),
                plan_id=existing.id,
                expected_version=existing.version,
                body=body,
            )
            return
        plan_service.plan_record(
            self.session,
            actor=self.walker.as_(self.worker()),
            period_id=self.period.id,
            kind=kind,
            body=body,
        )

    def return_interview(self, deadline: Deadline) -> None:
        episode_id = deadline.subject_id
        episode = missing_service.missing_episode_get(
            self.session, actor=self.walker.as_(self.worker()), episode_id=episode_id
        )
        accepted = self.rng.random() < 0.6
        missing_service.return_interview_record(
            self.session,
            actor=self.walker.as_(self.worker()),
            episode_id=episode.id,
            expected_version=episode.version,
            offered_at=clock.now(),
            response=ReturnInterviewResponse.accepted
            if accepted
            else ReturnInterviewResponse.declined,
            held_on=self.story.day if accepted else None,
            held_by="Return home interview worker (demo)" if accepted else None,
        )

    # --- events ------------------------------------------------------------------------------

    def happen(self, event: _Event) -> bool:
        """Take the event; True when care has ceased (the walk ends)."""
        assert self.period is not None
        day = event.day
        if day < self.story.day:
            day = self.story.day
        # Only a parent's agreement to accommodation (s.20) and going missing happen any day.
        any_day = event.kind == "missing" or (
            event.kind == "legal" and event.payload["status"] is LegalStatus.SECTION_20
        )
        if not is_working_day(day) and not any_day:
            day = add_working_days(day, 1)
        if event.kind == "cease":
            self.at(day, self.cease)
            return True
        if event.kind == "move":
            self.at(day, self.move)
        elif event.kind == "legal":
            status = event.payload["status"]
            assert isinstance(status, LegalStatus)
            self.at(day, lambda: self.legal(status))
            if status is LegalStatus.INTERIM_CARE_ORDER:
                self.issue_proceedings(self.story.day)
        elif event.kind == "hearing":
            hearing = event.payload["type"]
            assert isinstance(hearing, HearingType)
            self.at(day, lambda: self.hearing(hearing))
        elif event.kind == "final_order":
            self.at(day, self.final_order)
        elif event.kind == "missing":
            self.story.to(day)
            self.missing()
        elif event.kind == "iro_contact":
            self.at(day, self.iro_contact)
        elif event.kind == "refresh":
            self.at(day, self.refresh)
        elif event.kind == "leaver_contact":
            self.at(day, self.leaver_contact)
        elif event.kind == "sdq":
            self.at(day, self.sdq)
        return False

    def dispute(self) -> None:
        """The IRO disagrees with the plan (IRO Handbook ch.5): raised, and for some escalated to
        a manager, with the stage's clock running."""
        assert self.iro is not None
        rng = self.rng
        start = max(self.story.day, self.walker.today - timedelta(days=rng.randint(5, 30)))
        self.story.to(start if is_working_day(start) else add_working_days(start, 1))
        concern = rng.choice(
            (
                "The plan for contact with the child's siblings has not been put in place.",
                "The permanence plan has drifted: no decision two reviews running.",
                "The child's placement is not meeting their educational needs.",
            )
        )
        iro = self.iro
        dispute = self.story.at(
            lambda: iro_service.iro_dispute_raise(
                self.session,
                actor=self.walker.as_(iro),
                child_id=self.child.id,
                concern=concern,
                raised_date=self.story.day,
            )
        )
        if rng.random() < 0.5:
            return
        self.story.after(rng, 2, 5)
        self.story.at(
            lambda: iro_service.iro_dispute_transition(
                self.session,
                actor=self.walker.as_(iro),
                dispute_id=dispute.id,
                expected_version=dispute.version,
                event="escalate",
                reason="Informal resolution with the social worker did not resolve it.",
                on_date=self.story.day,
                response=None,
            )
        )

    def refresh(self) -> None:
        leaving_service.leaving_care_refresh(
            self.session, actor=self.walker.as_(self.worker()), child_id=self.child.id
        )

    # --- leaving care ------------------------------------------------------------------------

    def leave_care(self, *, handover: Callable[[], None]) -> None:
        """After care ceased at 18: the care leavers' team, a personal adviser, the pathway plan
        reviewed 6-monthly, and contacts (in touch, activity, accommodation: SSDA903 OC3)."""
        handover()
        # What was planned for the period of care (a move, an IRO's contact) ended with it.
        self.events.clear()
        rng = self.rng
        advisers = [
            u for u in self.walker.world.staff[LEAVERS_TEAM] if u.role is Role.social_worker
        ]
        adviser = rng.choice(advisers)
        self.story.after(rng, 0, 5)
        self.story.at(
            lambda: leaving_service.personal_adviser_allocate(
                self.session,
                actor=self.walker.as_(self.walker.manager(LEAVERS_TEAM)),
                child_id=self.child.id,
                adviser_id=adviser.id,
                start_date=self.story.day,
                reason="Personal adviser from the care leavers' team",
            )
        )
        self.plan_leaver_contacts()
        while True:
            deadline_day, deadline = self.next_deadline()
            event = min(self.events, key=lambda e: e.day, default=None)
            if event is not None and (deadline is None or event.day <= deadline_day):
                self.events.remove(event)
                self.happen(event)
                continue
            if deadline is None:
                return
            self.act(deadline_day, deadline)

    def plan_leaver_contacts(self) -> None:
        """The personal adviser sees the young person within the first weeks, then every two to
        four months; and around each birthday from 17 to 21 — from 3 months before to 1 month
        after it, the window the SSDA903 OC3 row reports (rules 131-133) — whatever the round."""
        rng, today = self.rng, self.walker.today
        first = add_working_days(self.story.day, rng.randint(3, 10))
        self.events.append(_Event(first, "leaver_contact"))
        day = first
        while day <= today:
            day = add_working_days(day, rng.randint(35, 80))
            self.events.append(_Event(day, "leaver_contact"))
        for age in range(17, 22):
            day = birthday(self.born, age)
            opens = max(add_months(day, -WINDOW_BEFORE_MONTHS), self.story.day + timedelta(days=1))
            # A day in the window, five or more before it closes (a weekend moves it on).
            closes = min(previous_working_day(add_months(day, WINDOW_AFTER_MONTHS)), today)
            span = (closes - opens).days
            if span < 5:
                continue  # the window closed before the adviser came, or is yet to open
            self.events.append(
                _Event(opens + timedelta(days=rng.randint(0, span - 5)), "leaver_contact")
            )

    def leaver_contact(self) -> None:
        rng = self.rng
        in_touch = _weighted(rng, ((InTouch.YES, 85), (InTouch.NO, 10), (InTouch.REFU, 5)))
        known = in_touch is InTouch.YES
        leaving_service.contact_record(
            self.session,
            actor=self.walker.as_(self.worker()),
            child_id=self.child.id,
            contact_date=self.story.day,
            in_touch=in_touch,
            activity=rng.choice((Activity.F1, Activity.P1, Activity.F2, Activity.G4))
            if known
            else Activity.NOT_KNOWN,
            accommodation=rng.choice((Accommodation.B1, Accommodation.D1, Accommodation.E1))
            if known
            else Accommodation.NOT_KNOWN,
            notes=None,
        )

    def pathway(self, deadline: Deadline) -> None:
        actor = self.walker.as_(self.worker())
        assessed = self.session.scalar(
            select(PathwayNeedsAssessment.id)
            .where(PathwayNeedsAssessment.child_id == self.child.id)
            .limit(1)
        )
        if deadline.kind is DeadlineKind.pathway_needs_assessment or assessed is None:
            leaving_service.needs_assessment_record(
                self.session,
                actor=actor,
                child_id=self.child.id,
                completed_date=self.story.day,
                summary="Needs for health, education, accommodation and money agreed.",
            )
        elif deadline.kind is DeadlineKind.pathway_plan:
            leaving_service.pathway_plan_create(
                self.session,
                actor=actor,
                child_id=self.child.id,
                plan_date=self.story.day,
                summary="Pathway plan: education, accommodation, finance and support.",
            )
        else:
            plan = self.session.scalar(
                select(PathwayPlan).where(PathwayPlan.child_id == self.child.id)
            )
            assert plan is not None
            leaving_service.pathway_plan_review_add(
                self.session,
                actor=actor,
                plan_id=plan.id,
                review_date=self.story.day,
                notes="Reviewed with the young person; the plan continues.",
            )

    def move(self) -> None:
        assert self.period is not None
        period = self.period
        current = care_service.current_placement(self.session, child_id=self.child.id)
        if current is None or current.start_date >= self.story.day:
            return
        reason = _weighted(self.rng, MOVE_REASONS)
        legal = care_service.current_legal_status(self.session, period_id=period.id)
        care_service.placement_change(
            self.session,
            actor=self.walker.as_(self.worker()),
            period_id=period.id,
            expected_version=period.version,
            body=PlacementChange(
                start_date=self.story.day,
                placement=self.placement(self.story.day, legal.legal_status if legal else None),
                end_reason=reason,
                planned_ending=reason in (Move.CARPL, Move.PLACE),
            ),
        )

    def legal(self, status: LegalStatus) -> None:
        assert self.period is not None
        period = self.period
        current = care_service.current_placement(self.session, child_id=self.child.id)
        at_home = current is not None and current.placement_type is PlacementType.P1
        if status is LegalStatus.SECTION_20 and at_home:
            return  # placed with her parents: not s20 accommodation (SSDA903 rule 378)
        care_service.legal_status_change(
            self.session,
            actor=self.walker.as_(self.worker()),
            period_id=period.id,
            expected_version=period.version,
            body=LegalStatusChange(start_date=self.story.day, legal_status=status),
        )

    def hearing(self, hearing: HearingType) -> None:
        if self.proceedings is None or self.proceedings.state != "issued":
            return
        legal_service.hearing_add(
            self.session,
            actor=self.walker.as_(self.worker()),
            proceedings_id=self.proceedings.id,
            hearing_date=self.story.day,
            hearing_type=hearing,
            outcome="Directions given; the timetable for the child is kept.",
        )

    def final_order(self) -> None:
        proceedings = self.proceedings
        if proceedings is None or proceedings.state != "issued":
            return
        if self.story.day > proceedings.application_date + timedelta(weeks=26):
            legal_service.extension_grant(
                self.session,
                actor=self.walker.as_(self.worker()),
                proceedings_id=proceedings.id,
                expected_version=proceedings.version,
                weeks=8,
                reason="An expert assessment of the mother was needed (s.32(5)).",
                granted_date=proceedings.application_date + timedelta(weeks=25),
            )
        legal_service.final_order_record(
            self.session,
            actor=self.walker.as_(self.worker()),
            proceedings_id=proceedings.id,
            expected_version=proceedings.version,
            final_order=FinalOrder.care_order,
            order_date=self.story.day,
        )
        self.legal(LegalStatus.FULL_CARE_ORDER)

    def missing(self) -> None:
        """Missing (or away) for a few hours to two days; the interview clock starts on return."""
        rng = self.rng
        started = datetime.combine(self.story.day, time(rng.randint(15, 22)), LONDON)
        ended = started + timedelta(hours=rng.randint(3, 48))
        # Recorded the morning after the child came back (the clock of the day is 09:00).
        recorded = ended.astimezone(LONDON).date() + timedelta(days=1)
        if recorded > self.walker.today:
            return
        self.story.to(recorded)
        self.story.at(
            lambda: missing_service.missing_episode_record(
                self.session,
                actor=self.walker.as_(self.worker()),
                child_id=self.child.id,
                kind=MissingKind.M if rng.random() < 0.7 else MissingKind.A,
                started_at=started,
                ended_at=ended,
            )
        )

    def iro_contact(self) -> None:
        assert self.iro is not None
        iro_service.iro_contact_record(
            self.session,
            actor=self.walker.as_(self.iro),
            child_id=self.child.id,
            contact_date=self.story.day,
            kind=self.rng.choice(
                (
                    IROContactKind.visit_child,
                    IROContactKind.call_social_worker,
                    IROContactKind.file_review,
                )
            ),
            notes="Checked progress on the review's recommendations.",
        )

    def cease(self) -> None:
        """Care ends: home as planned (mostly), or to a special guardian or independence."""
        assert self.period is not None
        age = age_on(self.born, self.story.day)
        reason = (
            ReasonEpisodeCeased.INDEPENDENT_SUPPORTED
            if age >= 17
            else _weighted(
                self.rng,
                (
                    (ReasonEpisodeCeased.RETURNED_HOME_PLANNED, 70),
                    (ReasonEpisodeCeased.RETURNED_HOME_UNPLANNED, 10),
                    (ReasonEpisodeCeased.OTHER, 20),
                ),
            )
        )
        period = self.period
        care_service.period_of_care_cease(
            self.session,
            actor=self.walker.as_(self.worker()),
            period_id=period.id,
            expected_version=period.version,
            body=PeriodOfCareCease(end_date=self.story.day, reason_ceased=reason),
        )
