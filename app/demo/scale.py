"""A council-scale demo: a Birmingham-sized caseload, generated in minutes, valid for the returns.

``load_demo_data`` walks each of a few hundred cases through the real services with a frozen clock
(about 25 s for 300 children): right for a demo, far too slow for the ~45,000 contacts of a large
council's year. This module builds the same rows in Python from one seeded ``random.Random`` and
writes them with SQLAlchemy Core ``insert()`` executemany, in batches, in the caller's transaction.
The staff and the families come from the ordinary demo builder (``app.demo.generator``), so the
people are the same kind of people and pass the same identifier validators.

Scale: ``children`` (N) is the number of children in need on the day of loading ("year end"):
6,000 is one Birmingham (DESIGN.md, "Scale"). Every volume scales with ``f = N / 6000``:

- ~45,000 f contacts and ~12,000 f referrals a year, ~11,000 f assessments, ~1,000 f children on a
  CP plan and ~2,000 f in care at any time; ``years`` (Y) years of history end on ``clock.today()``.
- The children open on the first day of the history (in care, on a CP plan, on a CIN plan) are
  created with their history before it, so the stock is right from the first day; durations are
  exponential (memoryless), so the stock stays level over the years while the flows run.

Mixes follow the published DfE statistics (explore-education-statistics.service.gov.uk):

- "Characteristics of children in need: 2024 to 2025" and "Children in need: a focus on
  re-referrals" (2024): 22% of referrals are re-referrals within 12 months; referral sources
  (police ~29%, schools ~21%, health ~15%, the local authority ~11%, individuals ~7%, other ~17%);
  around a third of referrals lead to a section 47 enquiry, one in eight to an initial conference,
  one in ten to a CP plan; CP plans by initial category: neglect about half, emotional abuse about
  a third, physical ~7%, sexual ~3%, multiple the rest; abuse or neglect (N1) the commonest need.
- "Children looked after in England including adoptions: 2024 to 2025" (81,770 children, 56% boys):
  care orders ~77% (C1/C2), section 20 ~17% (V2), placement orders ~6% (E1, not made here);
  seven in ten placed with foster carers, children's homes and supported accommodation most of the
  rest.

What is written is exactly what the services write for the same story: the case and its state,
contact and contact child, referral (re-referral linked to the previous one), assessment,
strategy discussion with its three agencies, section 47 enquiry, initial and review conferences,
CP plan, CIN plan, period of care with its legal statuses and placements, previous permanence,
motherhood of girls in care, yearly SDQs, CLA reviews and the IRO, allocations (with SW_REASON),
and one ``case_event`` per state change hash-chained like ``app.audit.service.case_event_append``
(``casework audit verify`` passes). Not written: deadlines, visits, health checks other than the
SDQ, missing episodes, case notes, care leavers, placement orders and adoptions (they need the
permanence records: the decision to place, PlacedAdoption). Each contact names one child. Each
invariant of the returns is kept by construction and cited where it is.
"""

from __future__ import annotations

import math
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any, Final, TypeVar, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import GENESIS_HASH, event_hash, to_jsonable
from app.calendar import add_months, add_working_days, is_working_day, next_working_day
from app.care.codes import (
    NO_URN_PLACEMENTS,
    LegalStatus,
    PlacementProvider,
    PlacementType,
    ReasonEpisodeCeased,
    ReasonPlaceChange,
)
from app.cases.codes import SWReason
from app.config import Environment, Settings, get_settings
from app.core_types import CategoryOfAbuse, PrimaryNeed, ReasonForClosure, ReferralSource, Sex
from app.demo.care import MOVE_REASONS, OUT_OF_AREA, PLACEMENTS, POSTCODES_IN_AREA
from app.demo.generator import (
    DemoDataRefused,
    ProgressCallback,
    _Builder,
    demo_data_loaded,
    seeded,
)
from app.models import Role, UserAccount
from app.models.assessments import Assessment, AssessmentOutcome
from app.models.audit import CaseEvent
from app.models.base import Base
from app.models.care import CareEntryRoute, LegalStatusRecord, PeriodOfCare, Placement
from app.models.cases import Allocation, Case
from app.models.cin import CINPlan
from app.models.frontdoor import (
    ConsentToShare,
    Contact,
    ContactChild,
    ContactOutcome,
    RagRating,
    Referral,
    ReferralDecision,
)
from app.models.health import SDQRecord
from app.models.iro import CLAReview, IROAllocation, ParticipationCode
from app.models.permanence import Motherhood, PreviousPermanenceRecord
from app.models.protection import (
    REQUIRED_AGENCIES,
    ConferenceKind,
    ConferenceOutcome,
    CPConference,
    CPPlan,
    DiscussionFormat,
    S47Enquiry,
    S47NextStep,
    S47Outcome,
    StrategyDiscussion,
    StrategyParticipant,
)
from app.permanence.codes import PreviousPermanence

T = TypeVar("T")

#: One Birmingham: children in need at year end (DESIGN.md "Scale").
BIRMINGHAM_CHILDREN_IN_NEED: Final = 6000
#: A year's front door at f = 1 (DESIGN.md "Scale": 40-50k contacts, 12k referrals).
CONTACTS_A_YEAR: Final = 45_000
REFERRAL_SHARE: Final = 12_000 / 45_000
#: Stock on the first day of the history, at f = 1.
STOCK_IN_CARE: Final = 2000
STOCK_CP: Final = 1000
STOCK_CIN: Final = 2300
#: Mean durations in days (exponential). Stock = starts a year x mean duration: ~800 care starts
#: x 2.5 years, ~1,200 CP plans x 10 months (a plan ends at the review conference after the
#: drawn length, ~3 months later on average), ~4,500 CIN plans x 6 months.
MEAN_CARE_DAYS: Final = 900
MEAN_CP_DAYS: Final = 220
MEAN_CIN_DAYS: Final = 180
MEAN_PLACEMENT_DAYS: Final = 420
#: "Children in need: a focus on re-referrals" (2024): 22% of referrals are re-referrals.
RE_REFERRAL_SHARE: Final = 0.22
#: Children in the pool per child in need, per year of history plus the stock.
POOL_PER_CHILD_IN_NEED: Final = 5.0
BATCH: Final = 2000
FLUSH_ROWS: Final = 60_000

#: Referral sources, "Characteristics of children in need 2024 to 2025" (percent, rounded).
SOURCES: Final[tuple[tuple[ReferralSource, int], ...]] = (
    (ReferralSource.POLICE, 29), (ReferralSource.SCHOOL, 19), (ReferralSource.OTHER_EDUCATION, 2),
    (ReferralSource.GP, 2), (ReferralSource.HEALTH_VISITOR, 3), (ReferralSource.SCHOOL_NURSE, 1),
    (ReferralSource.A_AND_E, 2), (ReferralSource.OTHER_HEALTH, 7),
    (ReferralSource.LA_SOCIAL_CARE, 5), (ReferralSource.LA_OTHER_INTERNAL, 3),
    (ReferralSource.LA_EXTERNAL, 1), (ReferralSource.LA_EARLY_HELP, 2),
    (ReferralSource.FAMILY, 3), (ReferralSource.SELF, 2), (ReferralSource.ACQUAINTANCE, 1),
    (ReferralSource.OTHER_INDIVIDUAL, 1), (ReferralSource.HOUSING, 2),
    (ReferralSource.OTHER_LEGAL_AGENCY, 5), (ReferralSource.OTHER, 5),
    (ReferralSource.ANONYMOUS, 4), (ReferralSource.UNKNOWN, 1),
)  # fmt: skip
#: Primary need at assessment (same release): abuse or neglect over half.
NEEDS: Final[tuple[tuple[PrimaryNeed, int], ...]] = (
    (PrimaryNeed.ABUSE_OR_NEGLECT, 57), (PrimaryNeed.CHILD_DISABILITY, 8),
    (PrimaryNeed.PARENTAL_ILLNESS_OR_DISABILITY, 3), (PrimaryNeed.FAMILY_IN_ACUTE_STRESS, 7),
    (PrimaryNeed.FAMILY_DYSFUNCTION, 14), (PrimaryNeed.SOCIALLY_UNACCEPTABLE_BEHAVIOUR, 3),
    (PrimaryNeed.LOW_INCOME, 1), (PrimaryNeed.ABSENT_PARENTING, 6), (PrimaryNeed.NOT_STATED, 1),
)  # fmt: skip
#: CP plans by initial category, "Children in need: a focus on sexual abuse and exploitation"
#: (2025): neglect about half, emotional abuse about a third, sexual abuse 3%.
CATEGORIES: Final[tuple[tuple[CategoryOfAbuse, int], ...]] = (
    (CategoryOfAbuse.NEG, 50), (CategoryOfAbuse.EMO, 35), (CategoryOfAbuse.PHY, 7),
    (CategoryOfAbuse.SAB, 3), (CategoryOfAbuse.MUL, 5),
)  # fmt: skip
#: The MASH decision on a contact that is not a referral.
CONTACT_NOT_REFERRED: Final = (
    (ContactOutcome.no_further_action, 45),
    (ContactOutcome.information_and_advice, 35),
    (ContactOutcome.early_help, 20),
)
#: The decision on a referral: ~6% no further action, a strategy discussion at once for one in
#: eight, an assessment for the rest (CIN census: ~1 in 3 referrals reach section 47 in all).
REFERRAL_DECISIONS: Final = (
    (ReferralDecision.no_further_action, 6),
    (ReferralDecision.strategy_discussion, 12),
    (ReferralDecision.assessment, 82),
)
#: What an authorised assessment leads to (the assessment-outcome mix of the CIN census: a
#: third "no further action", a quarter to a strategy discussion).
ASSESSMENT_OUTCOMES: Final[tuple[tuple[AssessmentOutcome, int], ...]] = (
    (AssessmentOutcome.no_further_action, 30),
    (AssessmentOutcome.early_help, 17),
    (AssessmentOutcome.cin_plan, 22),
    (AssessmentOutcome.strategy_discussion, 24),
    (AssessmentOutcome.looked_after, 7),
)
#: After an enquiry without a conference, the assessment does not go back to strategy.
AFTER_ENQUIRY_OUTCOMES: Final = tuple(
    o for o in ASSESSMENT_OUTCOMES if o[0] is not AssessmentOutcome.strategy_discussion
)
#: Assessment factors (CIN census AssessmentFactors): the common ones, most frequent first.
FACTORS: Final = (
    "3A", "3B", "3C", "4A", "4B", "2A", "2B", "2C", "5A", "5B", "5C", "6A", "6B", "8B", "9A",
    "10A", "11A", "12A", "14A", "16A", "18B", "19B", "20", "22A", "23A", "24A",
)  # fmt: skip
# Not "21" (no factors identified): CIN 8873Q expects it only on cases closed RC8/RC9.
#: Legal status on entry to care (CLA 2025: care orders ~77%, section 20 ~17%, rest short).
ENTRY_STATUSES: Final = (
    ((CareEntryRoute.court_order, LegalStatus.INTERIM_CARE_ORDER), 45),
    ((CareEntryRoute.section_20, LegalStatus.SECTION_20), 40),
    ((CareEntryRoute.emergency, LegalStatus.POLICE_PROTECTION), 10),
    ((CareEntryRoute.emergency, LegalStatus.EMERGENCY_PROTECTION_ORDER), 5),
)
#: The case's reason for closure when care ceases (CIN census RC codes from SSDA903 REC).
CLOSURE_AFTER_CARE: Final[dict[ReasonEpisodeCeased | None, ReasonForClosure]] = {
    ReasonEpisodeCeased.ADOPTED_UNOPPOSED: ReasonForClosure.ADOPTED,
    ReasonEpisodeCeased.CHILD_ARRANGEMENTS_ORDER: ReasonForClosure.CHILD_ARRANGEMENTS_ORDER,
    ReasonEpisodeCeased.SGO_CARER_RELATIVE: ReasonForClosure.SPECIAL_GUARDIANSHIP_ORDER,
    ReasonEpisodeCeased.SGO_FOSTER_CARER_RELATIVE: ReasonForClosure.SPECIAL_GUARDIANSHIP_ORDER,
}
CASE_TEAMS_FRONT: Final = "Front Door (MASH)"
CASE_TEAMS: Final = {
    "front": "Front Door (MASH)",
    "assess": ("Assessment North", "Assessment South"),
    "cincp": ("Child in Need and Protection North", "Child in Need and Protection South"),
    "cic": "Children in Care",
    "iro": "Independent Reviewing Service",
}


def _weighted(rng: random.Random, pairs: Sequence[tuple[T, int]]) -> T:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, dtime(hour, minute), tzinfo=UTC)


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


@dataclass
class ScaleSummary:
    """What was made, and the measures the mixes are meant to match."""

    council: str = ""
    children: int = 0
    contacts: int = 0
    referrals: int = 0
    re_referrals: int = 0
    # The last 12 months, as the CIN census measures re-referrals.
    year_referrals: int = 0
    year_re_referrals: int = 0
    assessments: int = 0
    s47_enquiries: int = 0
    icpcs: int = 0
    cp_plans: int = 0
    cin_plans: int = 0
    periods_of_care: int = 0
    case_events: int = 0
    open_cases: int = 0
    on_cp_plan: int = 0
    on_cin_plan: int = 0
    in_care: int = 0
    rows: int = 0
    seconds: float = 0.0

    def describe(self) -> str:
        share = self.year_re_referrals / self.year_referrals if self.year_referrals else 0.0
        return (
            f"Council-scale demo loaded for {self.council} in {self.seconds:.0f} s: "
            f"{self.children} children, {self.contacts} contacts, {self.referrals} referrals "
            f"({share:.0%} re-referrals in the last 12 months), {self.assessments} assessments, "
            f"{self.s47_enquiries} section 47 enquiries, {self.icpcs} initial conferences, "
            f"{self.cp_plans} CP plans, {self.cin_plans} CIN plans, "
            f"{self.periods_of_care} periods of care, {self.case_events} case events "
            f"({self.rows} rows). Open today: {self.open_cases} children in need, "
            f"{self.on_cp_plan} on a CP plan, {self.on_cin_plan} on a CIN plan, "
            f"{self.in_care} looked after."
        )


@dataclass
class _Child:
    id: uuid.UUID
    born: date
    sex: Sex
    free_from: date  # the day after the child's last case closed (one open case: CIN 8815)
    last_referral: tuple[date, uuid.UUID] | None = None


@dataclass
class _Case:
    id: uuid.UUID
    child: _Child
    opened: date
    state: str
    team: str
    worker: UserAccount
    allocation: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)
    # A section 47 enquiry was held: RC8/RC9 are then wrong (CIN 2990).
    had_s47: bool = False
    closed: date | None = None
    reason: ReasonForClosure | None = None


class _Stop(Exception):
    """The story reached today: what is left stays open."""


class _Generator:
    def __init__(
        self,
        session: Session,
        builder: _Builder,
        *,
        seed: int,
        children_in_need: int,
        years: int,
        progress: ProgressCallback | None,
    ) -> None:
        self.session = session
        self.builder = builder
        self.world = builder.world
        self.rng = seeded(seed, "scale")
        self.ids = seeded(seed, "scale-ids")
        self.f = children_in_need / BIRMINGHAM_CHILDREN_IN_NEED
        self.years = years
        self.progress = progress
        self.today = clock.today()
        self.start = self.today - timedelta(days=365 * years)
        # Rows to insert, by model (the order of insertion is in ``write``).
        self.rows: dict[type[Base], list[dict[str, Any]]] = {}
        self.summary = ScaleSummary()
        self.children: list[_Child] = []
        self.recently_referred: list[_Child] = []
        staff = self.world.staff
        self.managers = {team: staff[team][0] for team in staff}
        # Cases are held by registered social workers (SSDA903 SW_ID is the Social Work England
        # number, rule SW02); the MASH officers record contacts.
        self.workers = {
            team: [u for u in staff[team][1:] if u.swe_registration_number] or staff[team]
            for team in staff
        }
        self.mash = [u for u in staff[CASE_TEAMS_FRONT] if u.role is Role.mash_officer]
        self.la_code = builder.settings.la_code
        # Girls whose motherhood is recorded (one row per child).
        self.mothers: set[uuid.UUID] = set()
        # (child, 31 March) of each SDQ written (one per child and year).
        self.sdq_years: set[tuple[uuid.UUID, date]] = set()

    # --------------------------------------------------------------------------------------------
    # plumbing

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.ids.getrandbits(128), version=4)

    def row(self, model: type[Base], **values: Any) -> dict[str, Any]:
        self.rows.setdefault(model, []).append(values)
        return values

    def report(self, step: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(step, done, total)

    def event(
        self,
        case: _Case,
        day: date,
        action: str,
        *,
        subject_type: str = "case",
        subject_id: uuid.UUID | None = None,
        from_state: str | None = None,
        to_state: str | None = None,
        actor: UserAccount | None = None,
        reason: str | None = None,
        changes: dict[str, Any] | None = None,
    ) -> None:
        who = actor or case.worker
        case.events.append(
            {
                "occurred_at": _at(day, 9 + len(case.events) % 8, len(case.events) % 60),
                "actor_id": who.id,
                "actor_role": who.role.value,
                "action": action,
                "subject_type": subject_type,
                "subject_id": subject_id or case.id,
                "from_state": from_state,
                "to_state": to_state,
                "reason": reason,
                "changes": to_jsonable(changes or {}),
            }
        )

    def move(self, case: _Case, day: date, event: str, to_state: str, **kw: Any) -> None:
        """A transition of the case machine (``app.cases.workflow.CASE_MACHINE``)."""
        self.event(case, day, event, from_state=case.state, to_state=to_state, **kw)
        case.state = to_state

    def allocate(self, case: _Case, day: date, team: str, *, reason: SWReason | None) -> None:
        """Hand the case to a worker of ``team`` (the allocation history: SSDA903 SWEpisodes)."""
        case.team = team
        case.worker = self.rng.choice(self.workers[team])
        if (day - case.allocation["started_at"].date()).days <= 1:
            # Handed on within a day of being allocated: one allocation, not a worker for a day
            # (SSDA903 SW09: a social worker episode lasts more than 24 hours).
            case.allocation.update(
                team_id=self.world.teams[team].id,
                worker_id=case.worker.id,
                reason=f"Allocated to {team}",
                allocated_by_id=self.managers[team].id,
                # SSDA903 SW13: every social worker episode since April 2023 gives a reason.
                sw_reason=SWReason.MANAGE,
            )
            self.event(case, day, "allocated", changes={"team": team, "worker": case.worker.id})
            return
        when = max(_at(day, 12), case.allocation["started_at"] + timedelta(minutes=1))
        case.allocation["ended_at"] = when
        case.allocation = self.row(
            Allocation,
            id=self.new_id(),
            case_id=case.id,
            team_id=self.world.teams[team].id,
            worker_id=case.worker.id,
            started_at=when,
            ended_at=None,
            reason=f"Allocated to {team}",
            allocated_by_id=self.managers[team].id,
            sw_reason=reason,
        )
        self.event(case, day, "allocated", changes={"team": team, "worker": case.worker.id})

    def until(self, day: date) -> date:
        """Stop the story here when ``day`` has not come yet (what is open stays open)."""
        if day > self.today:
            raise _Stop
        return day

    # --------------------------------------------------------------------------------------------
    # children

    def pool(self) -> None:
        """The children the council will meet: families from the ordinary demo builder."""
        per_year = BIRMINGHAM_CHILDREN_IN_NEED * self.f * POOL_PER_CHILD_IN_NEED
        wanted = max(20, math.ceil(per_year * (1 + self.years) / 2))
        self.builder.people(wanted)
        for person in self.world.children:
            if person.date_of_birth is None:
                continue  # unborn: not given a front-door story here
            self.children.append(
                _Child(person.id, person.date_of_birth, person.sex, person.date_of_birth)
            )
        self.summary.children = len(self.world.children)

    def pick(self, day: date, *, re_referral: bool | None) -> _Child | None:
        """A child free on ``day`` (no open case), born by then, re-referred or not as asked."""
        rng = self.rng
        source = self.recently_referred if re_referral else self.children
        for _ in range(200 if re_referral else 60):
            if not source:
                break
            if re_referral:
                # The most recently referred first: a re-referral is within 12 months.
                back = int(rng.expovariate(1 / (800 * self.f + 20)))
                child = source[max(0, len(source) - 1 - back)]
            else:
                child = source[rng.randrange(len(source))]
            if child.free_from > day or child.born > day - timedelta(days=30):
                continue
            recent = child.last_referral is not None and (day - child.last_referral[0]).days < 365
            if re_referral is None or recent == re_referral:
                return child
        return None

    # --------------------------------------------------------------------------------------------
    # the front door

    def contact(
        self,
        child: _Child,
        day: date,
        *,
        refer: bool,
        force: str | None = None,
        hold_until: date | None = None,
    ) -> None:
        """One contact about one child, and all that follows on the case it opens."""
        rng = self.rng
        front = CASE_TEAMS["front"]
        assert isinstance(front, str)
        mash = self.rng.choice(self.mash or self.workers[front])
        duty = self.rng.choice(self.workers[front])
        case_id = self.new_id()
        allocation: dict[str, Any] = {}
        case = _Case(case_id, child, day, "contact", front, duty, allocation)
        received = _at(day, rng.randint(8, 17), rng.randint(0, 59))
        rag = _weighted(rng, ((RagRating.red, 15), (RagRating.amber, 45), (RagRating.green, 40)))
        due = (
            day
            if rag is RagRating.red
            else add_working_days(day, 1 if rag is RagRating.amber else 3)
        )
        decided_day = day if rag is RagRating.red else add_working_days(day, rng.randint(0, 1))
        source = _weighted(rng, SOURCES)
        contact_id = self.new_id()
        decided = decided_day <= self.today
        case.allocation = self.row(
            Allocation,
            id=self.new_id(),
            case_id=case_id,
            team_id=self.world.teams[front].id,
            # The front door holds a contact as a team, no named worker: a social worker episode
            # starts when the referral is allocated (SSDA903 SW09: no episodes of a day).
            worker_id=None,
            started_at=received,
            ended_at=None,
            reason="Contact received at the front door",
            allocated_by_id=None,
            sw_reason=None,
        )
        self.row(
            Contact,
            id=contact_id,
            received_at=received,
            source=source,
            referrer_name=None,
            referrer_role=None,
            referrer_organisation=None,
            concern="Concerns about the child's care at home (fictional).",
            consent=ConsentToShare.given,
            consent_reason=None,
            rag=rag,
            team_id=self.world.teams[front].id,
            state="decided" if decided else "open",
            decision_due_date=due,
            decision_due_at=_at(day, 18) if rag is RagRating.red else None,
            decided_at=_at(decided_day, 17) if decided else None,
            recorded_by_id=mash.id,
        )
        outcome = ContactOutcome.referral if refer else _weighted(rng, CONTACT_NOT_REFERRED)
        self.row(
            ContactChild,
            id=self.new_id(),
            contact_id=contact_id,
            child_id=child.id,
            case_id=case_id,
            position=0,
            has_opened_case=True,
            decision=outcome if decided else None,
            decision_reason=None,
            decided_at=_at(decided_day, 17) if decided else None,
            decided_by_id=self.managers[front].id if decided else None,
        )
        self.summary.contacts += 1
        self.event(case, day, "case_opened", to_state="contact")
        self.event(case, day, "contact_received", subject_type="contact", subject_id=contact_id)
        try:
            self.until(decided_day)
            if not refer:
                self.event(
                    case,
                    decided_day,
                    "contact_child_decided",
                    subject_type="contact",
                    subject_id=contact_id,
                    changes={"decision": outcome},
                )
                self.close(case, decided_day, ReasonForClosure.SERVICES_CEASED, "nfa_contact")
            else:
                self.referral(case, decided_day, source, contact_id, force, hold_until)
        except _Stop:
            pass
        self.finish(case)

    def referral(
        self,
        case: _Case,
        day: date,
        source: ReferralSource,
        contact_id: uuid.UUID,
        force: str | None,
        hold_until: date | None,
    ) -> None:
        rng = self.rng
        child = case.child
        previous = child.last_referral
        is_re = previous is not None and (day - previous[0]).days < 365
        referral_id = self.new_id()
        decision = ReferralDecision.assessment if force else _weighted(rng, REFERRAL_DECISIONS)
        decided_day = add_working_days(day, rng.randint(0, 1))
        decided = decided_day <= self.today
        self.row(
            Referral,
            id=referral_id,
            case_id=case.id,
            child_id=child.id,
            contact_id=contact_id,
            referral_date=day,
            source=source,
            primary_need=_weighted(rng, NEEDS),
            is_re_referral=is_re,
            previous_referral_id=previous[1] if is_re and previous else None,
            state="decided" if decided else "awaiting_decision",
            decision=decision if decided else None,
            decision_reason=None,
            decided_at=_at(decided_day, 15) if decided else None,
            decided_by_id=self.managers[case.team].id if decided else None,
            recorded_by_id=case.worker.id,
        )
        child.last_referral = (day, referral_id)
        self.summary.referrals += 1
        self.summary.re_referrals += int(is_re)
        if (self.today - day).days < 365:
            self.summary.year_referrals += 1
            self.summary.year_re_referrals += int(is_re)
        self.move(case, day, "accept_referral", "referral", changes={"referral_date": day})
        self.until(decided_day)
        if decision is ReferralDecision.no_further_action:
            # CIN 8831/8832: nothing happens on a no-further-action referral; the episode closes.
            self.close(case, decided_day, ReasonForClosure.SERVICES_CEASED, "referral_nfa")
            return
        team = rng.choice(CASE_TEAMS["assess"])
        self.allocate(case, decided_day, team, reason=SWReason.MANAGE)
        if decision is ReferralDecision.strategy_discussion:
            self.protection(case, decided_day, after_assessment=False, force=None, hold=None)
            return
        self.move(case, decided_day, "start_assessment", "assessment")
        self.assessment(case, decided_day, force, hold_until)

    def assessment(
        self,
        case: _Case,
        day: date,
        force: str | None,
        hold_until: date | None,
        *,
        allowed: Sequence[tuple[AssessmentOutcome, int]] = ASSESSMENT_OUTCOMES,
    ) -> None:
        """A child and family assessment, authorised within 45 working days (mostly)."""
        rng = self.rng
        limit = 45 if rng.random() < 0.85 else rng.randint(46, 70)
        authorised = add_working_days(day, rng.randint(min(8, limit), limit))
        submitted = max(day, authorised - timedelta(days=rng.randint(0, 3)))
        outcome = (
            {
                "looked_after": AssessmentOutcome.looked_after,
                "cp_plan": AssessmentOutcome.strategy_discussion,
                "cin_plan": AssessmentOutcome.cin_plan,
            }[force]
            if force
            else _weighted(rng, allowed)
        )
        manager = self.managers[case.team]
        assessment_id = self.new_id()
        done = authorised <= self.today
        self.row(
            Assessment,
            id=assessment_id,
            case_id=case.id,
            child_id=case.child.id,
            author_id=case.worker.id,
            state="authorised"
            if done
            else "submitted"
            if submitted <= self.today
            else "in_progress",
            start_date=day,
            due_date=add_working_days(day, 45),
            summary_of_needs=None,
            analysis=None,
            child_views=None,
            factors=sorted(rng.sample(FACTORS, k=rng.randint(1, 4))),
            submitted_date=submitted if submitted <= self.today else None,
            authorised_date=authorised if done else None,
            authorised_by_id=manager.id if done else None,
            outcome=outcome if done else None,
            manager_comments=None,
        )
        self.summary.assessments += 1
        self.until(authorised)
        self.event(
            case,
            authorised,
            "assessment_authorised",
            subject_type="assessment",
            subject_id=assessment_id,
            actor=manager,
            changes={"outcome": outcome},
        )
        if outcome is AssessmentOutcome.no_further_action:
            self.close(case, authorised, self.after_assessment(case, early_help=False))
        elif outcome is AssessmentOutcome.early_help:
            self.close(case, authorised, self.after_assessment(case, early_help=True))
        elif outcome is AssessmentOutcome.cin_plan:
            self.cin_plan(case, authorised, hold_until if force == "cin_plan" else None)
        elif outcome is AssessmentOutcome.strategy_discussion:
            self.protection(
                case,
                authorised,
                after_assessment=True,
                force=force,
                hold=hold_until if force == "cp_plan" else None,
            )
        else:
            self.care(case, authorised + timedelta(days=rng.randint(0, 5)), hold_until)

    # --------------------------------------------------------------------------------------------
    # protection

    def protection(
        self,
        case: _Case,
        day: date,
        *,
        after_assessment: bool,
        force: str | None,
        hold: date | None,
    ) -> None:
        """Strategy discussion, section 47 enquiry and (for some) the initial conference."""
        rng = self.rng
        self.move(case, day, "start_strategy", "protection")
        held = day if is_working_day(day) else next_working_day(day)
        held = self.until(held)
        s47 = force == "cp_plan" or rng.random() < 0.95
        discussion_id = self.new_id()
        self.row(
            StrategyDiscussion,
            id=discussion_id,
            case_id=case.id,
            child_id=case.child.id,
            concern_date=day,
            held_date=held,
            format=_weighted(rng, ((DiscussionFormat.meeting, 60), (DiscussionFormat.calls, 40))),
            concerns="Reasonable cause to suspect significant harm (fictional).",
            is_s47_decided=s47,
            decision_reason=None if s47 else "Threshold for section 47 not met.",
            recorded_by_id=case.worker.id,
        )
        for position, agency in enumerate(REQUIRED_AGENCIES):
            self.row(
                StrategyParticipant,
                id=self.new_id(),
                strategy_discussion_id=discussion_id,
                position=position,
                agency=agency,
                name=f"{agency.value.replace('_', ' ').title()} representative",
                role=None,
            )
        self.event(
            case, held, "strategy_discussion_held", subject_type="strategy_discussion",
            subject_id=discussion_id,
        )  # fmt: skip
        with_plan = self.rng.random() < 0.5
        if not s47:
            self.after_enquiry(case, held, after_assessment, with_plan)
            return
        # Timescales rule 5: the initial conference within 15 working days of the discussion.
        target = add_working_days(held, 15)
        icpc = force == "cp_plan" or rng.random() < 0.40
        concluded = add_working_days(held, rng.randint(5, 14) if icpc else rng.randint(3, 20))
        enquiry_id = self.new_id()
        case.had_s47 = True
        done = concluded <= self.today
        self.row(
            S47Enquiry,
            id=enquiry_id,
            case_id=case.id,
            child_id=case.child.id,
            strategy_discussion_id=discussion_id,
            state="concluded" if done else "open",
            start_date=held,
            icpc_target_date=target,
            outcome=(S47Outcome.icpc_required if icpc else S47Outcome.icpc_not_required)
            if done
            else None,
            outcome_reason=None,
            next_step=None
            if icpc or not done
            else S47NextStep.assessment
            if not after_assessment
            else S47NextStep.cin_plan
            if with_plan
            else None,
            concluded_date=concluded if done else None,
        )
        self.summary.s47_enquiries += 1
        self.until(concluded)
        if not icpc:
            self.after_enquiry(case, concluded, after_assessment, with_plan)
            return
        # CIN 8875: never at a weekend (a working day, bank holidays too); mostly within target.
        conference = add_working_days(held, rng.randint(8, 15) if rng.random() < 0.85 else 18)
        conference = max(conference, concluded)
        conference = self.until(conference)
        plan = force == "cp_plan" or rng.random() < 0.80
        outcome = ConferenceOutcome.cp_plan if plan else ConferenceOutcome.cin_plan
        category = _weighted(rng, CATEGORIES) if plan else None
        plan_id = self.new_id() if plan else None
        self.summary.icpcs += 1
        # CIN 2884: the initial conference is recorded once, at section 47 level.
        self.rows.setdefault(CPConference, []).append(
            {
                "id": self.new_id(),
                "kind": ConferenceKind.initial,
                "case_id": case.id,
                "child_id": case.child.id,
                "s47_enquiry_id": enquiry_id,
                "cp_plan_id": plan_id,
                "conference_date": conference,
                "chair": "Child protection chair (fictional)",
                "agencies_present": [a.value for a in REQUIRED_AGENCIES],
                "is_quorate": True,
                "outcome": outcome,
                "category": category,
                "notes": None,
            }
        )
        if plan_id is None:
            self.cin_plan(case, conference, None)
        else:
            assert category is not None
            self.cp_plan(case, conference, plan_id, category, hold)

    @staticmethod
    def after_assessment(case: _Case, *, early_help: bool) -> ReasonForClosure:
        """RC8/RC9 close a case after its assessment (CIN 8825Q), but not one with a section 47
        enquiry (CIN 2990: no activity on an RC8/RC9 case): that one closes RC7."""
        if case.had_s47:
            return ReasonForClosure.SERVICES_CEASED
        if early_help:
            return ReasonForClosure.CLOSED_AFTER_ASSESSMENT_EARLY_HELP
        return ReasonForClosure.CLOSED_AFTER_ASSESSMENT_NFA

    def after_enquiry(
        self, case: _Case, day: date, after_assessment: bool, with_plan: bool
    ) -> None:
        """No conference: the assessment goes on (or starts), or a CIN plan, or closure."""
        if not after_assessment:
            self.move(case, day, "conclude_enquiry", "assessment", reason="No conference needed.")
            self.assessment(case, day, None, None, allowed=AFTER_ENQUIRY_OUTCOMES)
        elif with_plan:
            self.cin_plan(case, day, None)
        else:
            self.close(case, day, self.after_assessment(case, early_help=False))

    def cp_plan(
        self,
        case: _Case,
        start: date,
        plan_id: uuid.UUID,
        category: CategoryOfAbuse,
        hold: date | None,
    ) -> None:
        """A CP plan from the day of the initial conference (CIN 2885), reviewed at 3 months then
        every 6 (Working Together), ended by a review conference."""
        rng = self.rng
        self.move(case, start, "start_cp_plan", "cp_plan", changes={"category": category})
        cincp = rng.choice(CASE_TEAMS["cincp"])
        self.allocate(case, start, cincp, reason=SWReason.MANAGE)
        wanted = start + timedelta(days=max(60, int(rng.expovariate(1 / MEAN_CP_DAYS))))
        if hold is not None and wanted < hold:
            wanted = hold + timedelta(days=int(rng.expovariate(1 / MEAN_CP_DAYS)))
        reviews: list[date] = []
        months = 3
        while True:
            # CIN 8841: every review falls after the plan start; conferences on working days.
            review = next_working_day(add_months(start, months))
            if review > self.today:
                break
            reviews.append(review)
            if review >= wanted:
                break
            months += 6
        ended = reviews[-1] if reviews and reviews[-1] >= wanted else None
        end_to = _weighted(rng, (("cin_plan", 75), ("close", 10), ("care", 15)))
        self.row(
            CPPlan,
            id=plan_id,
            case_id=case.id,
            child_id=case.child.id,
            state="ended" if ended else "active",
            start_date=start,
            initial_category=category,
            latest_category=category,
            end_date=ended,
            end_reason=("Plan ended at review conference." if ended else None),
        )
        self.summary.cp_plans += 1
        for review in reviews:
            last = review == ended
            self.row(
                CPConference,
                id=self.new_id(),
                kind=ConferenceKind.review,
                case_id=case.id,
                child_id=case.child.id,
                s47_enquiry_id=None,
                cp_plan_id=plan_id,
                conference_date=review,
                chair="Child protection chair (fictional)",
                agencies_present=[a.value for a in REQUIRED_AGENCIES],
                is_quorate=True,
                outcome=ConferenceOutcome.end_plan if last else ConferenceOutcome.continue_plan,
                category=category,
                notes=None,
            )
        if ended is None:
            raise _Stop
        self.event(case, ended, "cp_plan_ended", subject_type="cp_plan", subject_id=plan_id)
        if end_to == "cin_plan":
            # CIN 4001/4016: the CIN plan starts the day after the CP plan ends: no overlap.
            self.cin_plan(case, self.until(ended + timedelta(days=1)), None)
        elif end_to == "care":
            self.care(case, ended, None)
        else:
            self.close(case, ended, ReasonForClosure.SERVICES_CEASED)

    def cin_plan(self, case: _Case, start: date, hold: date | None) -> None:
        rng = self.rng
        self.move(case, start, "start_cin_plan", "cin_plan")
        if case.team not in CASE_TEAMS["cincp"]:
            self.allocate(case, start, rng.choice(CASE_TEAMS["cincp"]), reason=SWReason.MANAGE)
        end = start + timedelta(days=max(28, int(rng.expovariate(1 / MEAN_CIN_DAYS))))
        if hold is not None and end < hold:
            end = hold + timedelta(days=int(rng.expovariate(1 / MEAN_CIN_DAYS)))
        ended = end <= self.today
        plan_id = self.new_id()
        self.row(
            CINPlan,
            id=plan_id,
            case_id=case.id,
            child_id=case.child.id,
            state="ended" if ended else "active",
            start_date=start,
            end_date=end if ended else None,
            end_reason="Child no longer in need." if ended else None,
            last_review_date=None,
        )
        self.summary.cin_plans += 1
        self.until(end)
        self.event(case, end, "cin_plan_ended", subject_type="cin_plan", subject_id=plan_id)
        self.close(case, end, ReasonForClosure.SERVICES_CEASED)

    # --------------------------------------------------------------------------------------------
    # care

    def care(self, case: _Case, start: date, hold: date | None) -> None:
        """A period of care: legal statuses and placements without gaps, reviews, the IRO."""
        rng = self.rng
        child = case.child
        start = self.until(start)
        # The child is still under 18 on the last day of care (Children Act s.105).
        eighteen = date(child.born.year + 18, child.born.month, min(child.born.day, 28))
        mean = MEAN_CARE_DAYS
        length = max(14, int(rng.expovariate(1 / mean)))
        end = start + timedelta(days=length)
        if hold is not None and end < hold:
            end = hold + timedelta(days=int(rng.expovariate(1 / mean)))
        end = min(end, eighteen - timedelta(days=1))
        if end <= start:
            end = start + timedelta(days=1)
        ceased = end <= self.today
        last_day = end if ceased else self.today
        route, first_status = _weighted(rng, ENTRY_STATUSES)
        self.move(case, start, "become_looked_after", "looked_after")
        cic = CASE_TEAMS["cic"]
        assert isinstance(cic, str)
        self.allocate(case, start, cic, reason=SWReason.MANAGE)
        period_id = self.new_id()
        self.summary.periods_of_care += 1
        # Legal statuses: C1 -> C2 at the final hearing (~26 weeks), sometimes E1 for the young;
        # police protection or an EPO lasts days, then an interim order or section 20.
        statuses: list[tuple[date, LegalStatus]] = [(start, first_status)]
        day = start
        if first_status in (LegalStatus.POLICE_PROTECTION, LegalStatus.EMERGENCY_PROTECTION_ORDER):
            # SSDA903 rule 361: police protection lasts at most 72 hours; an EPO at most 8 days.
            police = first_status is LegalStatus.POLICE_PROTECTION
            day = start + timedelta(days=rng.randint(1, 2) if police else rng.randint(2, 7))
            follow = (
                LegalStatus.INTERIM_CARE_ORDER if rng.random() < 0.6 else LegalStatus.SECTION_20
            )
            statuses.append((day, follow))
        if statuses[-1][1] is LegalStatus.SECTION_20 and rng.random() < 0.25:
            day = day + timedelta(days=rng.randint(40, 200))
            statuses.append((day, LegalStatus.INTERIM_CARE_ORDER))
        if statuses[-1][1] is LegalStatus.INTERIM_CARE_ORDER:
            day = day + timedelta(days=rng.randint(150, 260))
            statuses.append((day, LegalStatus.FULL_CARE_ORDER))
        statuses = [s for s in statuses if s[0] < last_day or s[0] == start]
        # SSDA903 rule 378: never placed with parents while accommodated under section 20.
        with_parents = all(s is not LegalStatus.SECTION_20 for _, s in statuses)
        # Placements: a first home on the day care starts, then moves every ~14 months, never on
        # the day the legal status changes (one change at a time: RNE L or P).
        changes = {d for d, _ in statuses}
        placements: list[
            tuple[date, PlacementType, PlacementProvider, ReasonPlaceChange | None]
        ] = []
        day = start
        while True:
            place, provider = self.place(child, day, with_parents=with_parents)
            placements.append((day, place, provider, None))
            nxt = day + timedelta(days=max(30, int(rng.expovariate(1 / MEAN_PLACEMENT_DAYS))))
            while nxt in changes:
                nxt += timedelta(days=1)
            if nxt >= last_day:
                break
            placements[-1] = (*placements[-1][:3], _weighted(rng, MOVE_REASONS))
            day = nxt
        reason = self.ceased_reason(statuses[-1][1], placements[-1][1]) if ceased else None
        for i, (since, status) in enumerate(statuses):
            until = statuses[i + 1][0] if i + 1 < len(statuses) else (end if ceased else None)
            self.row(
                LegalStatusRecord,
                id=self.new_id(),
                period_id=period_id,
                child_id=child.id,
                legal_status=status,
                start_date=since,
                end_date=until,
                notes=None,
            )
        home = rng.choice(POSTCODES_IN_AREA)
        for i, (since, place, provider, move) in enumerate(placements):
            until = placements[i + 1][0] if i + 1 < len(placements) else (end if ceased else None)
            self.placement_row(period_id, case, since, until, place, provider, move, home, i)
        self.row(
            PeriodOfCare,
            id=period_id,
            case_id=case.id,
            child_id=child.id,
            state="ceased" if ceased else "looked_after",
            start_date=start,
            end_date=end if ceased else None,
            entry_route=route,
            category_of_need=_weighted(rng, NEEDS[:-1]),
            reason_ceased=reason if ceased else None,
        )
        # SSDA903 rule 630: every child starting care has a previous-permanence row.
        self.row(
            PreviousPermanenceRecord,
            id=self.new_id(),
            period_id=period_id,
            child_id=child.id,
            prev_perm=PreviousPermanence.NONE,
            la_perm=None,
            date_perm=None,
        )
        if child.sex is Sex.FEMALE and child.id not in self.mothers:
            # SSDA903 rule 393: every looked-after girl has MOTHER recorded.
            self.mothers.add(child.id)
            self.row(
                Motherhood,
                id=self.new_id(),
                child_id=child.id,
                is_mother=False,
                first_child_birth_date=None,
                notes=None,
            )
        self.reviews(case, period_id, start, last_day)
        self.sdqs(case, period_id, start, last_day)
        self.until(end)
        self.event(case, end, "care_ceased", subject_type="period_of_care", subject_id=period_id)
        closure = CLOSURE_AFTER_CARE.get(reason, ReasonForClosure.SERVICES_CEASED)
        if reason is ReasonEpisodeCeased.RETURNED_HOME_PLANNED and rng.random() < 0.5:
            # A return home with a CIN plan (the case machine's start_cin_plan from care).
            self.cin_plan(case, self.until(end + timedelta(days=1)), None)
        else:
            self.close(case, end, closure)

    def place(
        self, child: _Child, day: date, *, with_parents: bool
    ) -> tuple[PlacementType, PlacementProvider]:
        """A placement of the kind children of that age get (app.demo.care's mix by age)."""
        age = _age(child.born, day)
        band = "baby" if age < 1 else "child" if age < 12 else "teen" if age < 16 else "older"
        choices = tuple(
            ((p, pr), w)
            for p, pr, w in PLACEMENTS[band]
            if with_parents or p is not PlacementType.P1
        )
        return _weighted(self.rng, choices)

    def placement_row(
        self,
        period_id: uuid.UUID,
        case: _Case,
        since: date,
        until: date | None,
        place: PlacementType,
        provider: PlacementProvider,
        move: ReasonPlaceChange | None,
        home: str,
        index: int,
    ) -> None:
        rng = self.rng
        # The council's own carers live in its area (SSDA903 rule 1015); agencies' may not.
        out_of_area = provider is not PlacementProvider.PR1 and rng.random() < 0.3
        # SSDA903 rule 392d: the home and placement postcodes differ unless placed with parents.
        elsewhere = [p for p in POSTCODES_IN_AREA if p != home]
        la, postcode = (
            rng.choice(OUT_OF_AREA) if out_of_area else (self.la_code, rng.choice(elsewhere))
        )
        if place is PlacementType.P1:
            la, postcode = self.la_code, home
        urn = None
        if place not in NO_URN_PLACEMENTS:
            # Registered provision has an Ofsted URN (SSDA903 rule 218).
            homes = (PlacementType.K1, PlacementType.K2)
            urn = (
                f"SC{rng.randint(100000, 999999)}"
                if place in homes
                else str(rng.randint(1000000, 9999999))
            )
        self.row(
            Placement,
            id=self.new_id(),
            period_id=period_id,
            case_id=case.id,
            child_id=case.child.id,
            placement_type=place,
            provider=provider,
            ofsted_urn=urn,
            carer_name="Parents" if place is PlacementType.P1 else "Demo carers (fictional)",
            carer_key=f"scale-carer-{case.child.id.hex[:8]}-{index}",
            home_postcode=home,
            placement_postcode=postcode,
            placement_la_code=la,
            distance_km=None,
            intended_until_18=place in (PlacementType.U1, PlacementType.U4),
            child_agrees_six_monthly_visits=False,
            placed_under_reg="reg 19" if place is PlacementType.P1 else None,
            start_date=since,
            end_date=until,
            end_reason=move if until is not None and move is not None else None,
            planned_ending=(move is ReasonPlaceChange.CARPL) if move is not None else None,
        )

    def ceased_reason(self, status: LegalStatus, place: PlacementType) -> ReasonEpisodeCeased:
        """How care ends (CLA 2025: a return home most often, then special guardianship and
        child arrangements orders; no adoptions here, see the module docstring)."""
        rng = self.rng
        if status is LegalStatus.SECTION_20:
            return _weighted(
                rng,
                (
                    (ReasonEpisodeCeased.RETURNED_HOME_PLANNED, 60),
                    (ReasonEpisodeCeased.RETURNED_HOME_UNPLANNED, 15),
                    (ReasonEpisodeCeased.OTHER, 25),
                ),
            )
        # SSDA903 rule 516: an SGO to the former foster carers (E45) ends a foster placement.
        fostered = place.value.startswith("U")
        return _weighted(
            rng,
            (
                (ReasonEpisodeCeased.RETURNED_HOME_PLANNED, 30),
                (ReasonEpisodeCeased.CHILD_ARRANGEMENTS_ORDER, 15),
                (ReasonEpisodeCeased.SGO_CARER_RELATIVE, 25),
                (ReasonEpisodeCeased.SGO_FOSTER_CARER_RELATIVE, 10 if fostered else 0),
                (ReasonEpisodeCeased.OTHER, 20),
            ),
        )

    def sdqs(self, case: _Case, period_id: uuid.UUID, start: date, last_day: date) -> None:
        """A Strengths and Difficulties Questionnaire each year for a child looked after for 12
        months at 31 March and aged 4 to 17 then (SSDA903 OC2, rules 186 and 197B)."""
        year_end = date(start.year + 1, 3, 31)
        while year_end <= last_day:
            age = _age(case.child.born, year_end)
            if (
                (year_end - start).days >= 365
                and 4 <= age <= 17
                and (
                    case.child.id,
                    year_end,
                )
                not in self.sdq_years
            ):
                self.sdq_years.add((case.child.id, year_end))
                self.row(
                    SDQRecord,
                    id=self.new_id(),
                    period_id=period_id,
                    case_id=case.id,
                    child_id=case.child.id,
                    recorded_by_id=case.worker.id,
                    year_end=year_end,
                    completed_date=year_end - timedelta(days=self.rng.randint(10, 120)),
                    score=self.rng.randint(0, 40),
                    reason=None,
                )
            year_end = date(year_end.year + 1, 3, 31)

    def reviews(self, case: _Case, period_id: uuid.UUID, start: date, last_day: date) -> None:
        """CLA reviews (Care Planning Regulations 2010 reg 33): within 20 working days, then
        3 months later, then every 6 months, chaired by the child's IRO."""
        rng = self.rng
        iro_team = CASE_TEAMS["iro"]
        assert isinstance(iro_team, str)
        iro = rng.choice(self.workers[iro_team])
        self.row(
            IROAllocation,
            id=self.new_id(),
            child_id=case.child.id,
            case_id=case.id,
            period_id=period_id,
            iro_id=iro.id,
            start_date=start,
            end_date=None if last_day == self.today else last_day,
            reason="IRO allocated when care started",
            end_reason=None if last_day == self.today else "Care ceased",
            allocated_by_id=self.managers[iro_team].id,
            ended_by_id=None if last_day == self.today else self.managers[iro_team].id,
        )
        due = add_working_days(start, 20)
        sequence = 0
        while True:
            held = due - timedelta(days=rng.randint(0, 5))
            held = max(held, start + timedelta(days=1))
            if held >= last_day or held > self.today:
                break
            sequence += 1
            circulated = held + timedelta(days=rng.randint(1, 5))
            completed = held + timedelta(days=rng.randint(6, 20))
            state = (
                "record_completed"
                if completed <= self.today
                else "decisions_circulated"
                if circulated <= self.today
                else "held"
            )
            age = _age(case.child.born, held)
            self.row(
                CLAReview,
                id=self.new_id(),
                period_id=period_id,
                case_id=case.id,
                child_id=case.child.id,
                sequence=sequence,
                state=state,
                review_date=held,
                due_date=due,
                deadline_id=None,
                chair_id=iro.id,
                # SSDA903 rules 440/441: PN0 for a child under 4, never for an older one.
                participation=ParticipationCode.PN0
                if age < 4
                else _weighted(
                    rng,
                    (
                        (ParticipationCode.PN1, 55),
                        (ParticipationCode.PN4, 10),
                        (ParticipationCode.PN5, 15),
                        (ParticipationCode.PN6, 10),
                        (ParticipationCode.PN7, 10),
                    ),
                ),
                lateness_reason=None,
                notes=None,
                decisions_circulated_date=circulated if state != "held" else None,
                record_completed_date=completed if state == "record_completed" else None,
                recorded_by_id=iro.id,
            )
            self.event(
                case, held, "cla_review_held", subject_type="period_of_care", subject_id=period_id,
                actor=iro,
            )  # fmt: skip
            due = add_months(held, 3 if sequence == 1 else 6)

    # --------------------------------------------------------------------------------------------
    # closure and the record of the case

    def close(self, case: _Case, day: date, reason: ReasonForClosure, event: str = "close") -> None:
        """Close the case (CIN 8805/8810: a date and a reason together); nothing after it."""
        case.closed, case.reason = day, reason
        self.move(case, day, event, "closed", changes={"closure_reason": reason}, reason="Closed.")
        case.allocation["ended_at"] = max(
            _at(day, 18), case.allocation["started_at"] + timedelta(minutes=1)
        )
        raise _Stop

    def finish(self, case: _Case) -> None:
        """Write the case row and its hash-chained events (``case_event_append``'s chain)."""
        child = case.child
        self.row(
            Case,
            id=case.id,
            child_id=child.id,
            state=case.state,
            opened_date=case.opened,
            closed_date=case.closed,
            closure_reason=case.reason,
            team_id=self.world.teams[case.team].id,
            allocated_worker_id=None if case.closed or case.state == "contact" else case.worker.id,
            summary=None,
        )
        # The child is free again the day after closure (CIN 8820: episodes never overlap).
        child.free_from = (
            case.closed + timedelta(days=1) if case.closed else date.max - timedelta(days=1)
        )
        if case.closed is not None and child.last_referral is not None:
            # Free again and referred within the year: who a re-referral is about.
            self.recently_referred.append(child)
        prev = GENESIS_HASH
        events = self.rows.setdefault(CaseEvent, [])
        for seq, values in enumerate(case.events, start=1):
            values.update(
                id=self.new_id(),
                case_id=case.id,
                child_id=child.id,
                seq=seq,
                request_id=None,
                prev_hash=prev,
            )
            values["hash"] = prev = event_hash(CaseEvent(**values))
            events.append(values)
        self.summary.case_events += len(case.events)
        if case.closed is None:
            self.summary.open_cases += 1
            self.summary.on_cp_plan += int(case.state == "cp_plan")
            self.summary.on_cin_plan += int(case.state == "cin_plan")
            self.summary.in_care += int(case.state == "looked_after")

    # --------------------------------------------------------------------------------------------
    # the years

    def stock(self) -> None:
        """The children open on the first day of the history, each with the story that led there
        (elapsed time exponential, like the durations, so the stock is the steady state)."""
        rng = self.rng
        wanted = (
            [("looked_after", MEAN_CARE_DAYS)] * round(STOCK_IN_CARE * self.f)
            + [("cp_plan", MEAN_CP_DAYS)] * round(STOCK_CP * self.f)
            + [("cin_plan", MEAN_CIN_DAYS)] * round(STOCK_CIN * self.f)
        )
        rng.shuffle(wanted)
        for done, (force, mean) in enumerate(wanted, start=1):
            elapsed = int(rng.expovariate(1 / mean)) + 40
            child = self.pick(self.start - timedelta(days=elapsed), re_referral=False)
            if child is None:
                continue
            elapsed = min(elapsed, (self.start - child.born).days - 30)
            self.contact(
                child,
                self.start - timedelta(days=elapsed),
                refer=True,
                force=force,
                hold_until=self.start + timedelta(days=1),
            )
            self.written_when_full()
            if done % 200 == 0 or done == len(wanted):
                self.report("Children open on day one", done, len(wanted))

    def flows(self) -> None:
        """The front door, day by day: contacts, ~27% of them referrals, 22% of those
        re-referrals within 12 months."""
        rng = self.rng
        warm_up = self.start - timedelta(days=60)
        per_day = CONTACTS_A_YEAR * self.f / 365
        days = (self.today - warm_up).days + 1
        for n in range(days):
            day = warm_up + timedelta(days=n)
            # Fewer contacts at weekends (police mostly); more in term time is left out.
            mean = per_day * (1.15 if day.weekday() < 5 else 0.6)
            count = int(mean) + (rng.random() < mean - int(mean))
            for _ in range(count):
                refer = rng.random() < REFERRAL_SHARE
                child = self.pick(
                    day, re_referral=(rng.random() < RE_REFERRAL_SHARE) if refer else None
                )
                if child is None:
                    child = self.pick(day, re_referral=None if not refer else False)
                if child is None:
                    continue
                self.contact(child, day, refer=refer)
                self.written_when_full()
            if n % 7 == 0 or n == days - 1:
                self.report("Contacts, day by day", n + 1, days)

    def write(self) -> None:
        """Insert every row with Core executemany, parents before children (foreign keys)."""
        order: list[type[Base]] = [
            Case, Contact, ContactChild, Referral, Allocation, Assessment, StrategyDiscussion,
            StrategyParticipant, S47Enquiry, CPPlan, CPConference, CINPlan, PeriodOfCare,
            LegalStatusRecord, Placement, PreviousPermanenceRecord, Motherhood, IROAllocation,
            CLAReview, SDQRecord, CaseEvent,
        ]  # fmt: skip
        now = clock.now()
        referrals = self.rows.get(Referral, [])
        # A re-referral names an earlier referral: insert oldest first.
        referrals.sort(key=lambda r: r["referral_date"])
        for model in order:
            table = cast(Table, model.__table__)
            rows = self.rows.get(model, [])
            stamps = {"created_at": now, "updated_at": now} if "created_at" in table.c else {}
            versioned = "version" in table.c
            for i in range(0, len(rows), BATCH):
                batch = rows[i : i + BATCH]
                for values in batch:
                    values.update(stamps)
                    if versioned:
                        values["version"] = 1
                self.session.execute(insert(table), batch)
            self.summary.rows += len(rows)
        self.rows.clear()

    def written_when_full(self) -> None:
        """Write what is buffered once it is large (between two cases, so every row a row refers
        to is in this batch or an earlier one): memory stays flat however many years."""
        if sum(len(rows) for rows in self.rows.values()) >= FLUSH_ROWS:
            self.write()


def load_scale_data(
    session: Session,
    *,
    seed: int,
    children: int = BIRMINGHAM_CHILDREN_IN_NEED,
    years: int = 1,
    progress: ProgressCallback | None = None,
    settings: Settings | None = None,
) -> ScaleSummary:
    """Load a council-scale demo into ``session`` (the caller commits): ``children`` children in
    need on the day of loading, ``years`` years of history before it. Refused where the ordinary
    demo is refused (production, or demo data already loaded)."""

    began = time.perf_counter()
    settings = settings or get_settings()
    if settings.environment is Environment.production:
        raise DemoDataRefused(
            "Demo data is refused in production: its accounts have published passwords. "
            "Use `casework users create` to create real accounts."
        )
    if demo_data_loaded(session):
        raise DemoDataRefused(
            "Demo data is already loaded in this database (the demo accounts exist)."
        )
    if years < 1:
        raise DemoDataRefused("The history needs at least one year (--years 1 or more).")
    builder = _Builder(session, seed=seed, settings=settings, progress=progress)
    builder.organisation()
    generator = _Generator(
        session, builder, seed=seed, children_in_need=children, years=years, progress=progress
    )
    generator.summary.council = builder.summary.council
    generator.pool()
    generator.stock()
    generator.flows()
    generator.write()
    generator.summary.seconds = time.perf_counter() - began
    return generator.summary
