"""Looked-after children's reviews (Care Planning, Placement and Case Review (England)
Regulations 2010, regs 32-38; timescales rules 15-17 and 29) and their timeliness.

The review clock is scheduled automatically: the first review within 20 working days of becoming
looked after (rule 15, opened by :func:`app.iro.service.on_care_started`), the second within 3
months of the first (rule 16), then every 6 months (rule 17). Each review is due from the date the
previous one was actually held, so an early review brings the next one forward. When care ceases
the care service stops the clock (``LOOKED_AFTER_KINDS``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import access_log_append, case_event_append
from app.calendar import add_months
from app.care.service import period_get
from app.care.workflow import LOOKED_AFTER
from app.cases.service import refuse_after_death
from app.deadlines import service as deadline_service
from app.deadlines.care_rules import RECOMMENDATION, REVIEW_DECISIONS, REVIEW_RECORD
from app.errors import Conflict, Invalid, NotFound, PreconditionFailed
from app.iro import timescales
from app.iro.access import (
    allocation_on,
    is_team_manager_of,
    require_child_visible,
    require_iro_or_manager,
)
from app.iro.workflow import (
    CIRCULATE_EVENT,
    CLA_REVIEW_MACHINE,
    COMPLETE_RECORD_EVENT,
    REVIEW_HELD_ACTION,
)
from app.models.care import PeriodOfCare
from app.models.cases import Case
from app.models.deadlines import Deadline, DeadlineKind
from app.models.iro import (
    CLAReview,
    CLAReviewAction,
    IROAllocation,
    ParticipationCode,
    ReviewActionKind,
)
from app.models.org import Role, UserAccount
from app.models.people import Person
from app.security.access import get_person_for_read, may_change_case, person_visible
from app.security.principal import Principal
from app.visits import service as visit_service
from app.workflow import engine

REVIEW_SUBJECT = "cla_review"
ACTION_SUBJECT = "cla_review_action"
PERIOD_SUBJECT = "period_of_care"
REVIEW_NOT_VISIBLE = "There is no review with this id that you can see."
ACTION_NOT_VISIBLE = "There is no review decision or recommendation with this id that you can see."
PERIOD_NOT_VISIBLE = "There is no period of care with this id that you can see."
REVIEW_RULE = "CPPCR 2010 reg 33 (timescales rules 15-17)"
#: The chronology's word for a decision or recommendation completed.
ACTION_COMPLETED_ACTION = "cla_review_action_completed"


@dataclass(frozen=True)
class ActionIn:
    """A decision or recommendation made at the review, with its owner and date (rule 29)."""

    kind: ReviewActionKind
    text: str
    owner_id: uuid.UUID
    due_date: date


# --- loading --------------------------------------------------------------------------------------


def _case(session: Session, case_id: uuid.UUID) -> Case:
    case = session.get(Case, case_id)
    assert case is not None  # a foreign key
    return case


def _open_review_deadline(session: Session, *, period_id: uuid.UUID) -> Deadline | None:
    return session.scalar(
        select(Deadline)
        .where(
            Deadline.subject_type == PERIOD_SUBJECT,
            Deadline.subject_id == period_id,
            Deadline.kind.in_(timescales.REVIEW_KINDS),
            Deadline.met_date.is_(None),
            Deadline.stopped_date.is_(None),
        )
        .order_by(Deadline.due_date)
        .limit(1)
    )


def _review_for_write(session: Session, *, actor: Principal, review_id: uuid.UUID) -> CLAReview:
    review = session.get(CLAReview, review_id)
    if review is None:
        raise NotFound(REVIEW_NOT_VISIBLE)
    require_child_visible(session, actor=actor, child_id=review.child_id, resource=REVIEW_SUBJECT)
    # The IRO who chaired the review finishes its paperwork (rule 29) even after their
    # allocation ended with the care (or passed to another IRO).
    if review.chair_id != actor.user_id:
        require_iro_or_manager(
            session, actor=actor, case=_case(session, review.case_id), child_id=review.child_id
        )
    return review


# --- checks ---------------------------------------------------------------------------------------


def _check_review_date(
    session: Session, *, period: PeriodOfCare, case: Case, review_date: date
) -> None:
    if review_date > clock.today():
        raise Invalid.field("review_date", "A review cannot be recorded in the future.")
    if review_date < period.start_date:
        raise Invalid.field(
            "review_date",
            f"The child became looked after on {period.start_date.isoformat()}: a review of a "
            "looked-after child is held while the child is looked after (Care Planning "
            "Regulations 2010 reg 33).",
            rule=REVIEW_RULE,
        )
    if period.end_date is not None and review_date > period.end_date:
        raise Invalid.field(
            "review_date",
            f"Care ceased on {period.end_date.isoformat()}: there is no looked-after child's "
            "review after care ceases (Care Planning Regulations 2010 reg 33).",
            rule=REVIEW_RULE,
        )
    refuse_after_death(session, case=case, field="review_date", when=review_date)


def _check_chair(
    session: Session, *, case: Case, chair_id: uuid.UUID, child_id: uuid.UUID, review_date: date
) -> IROAllocation:
    """The review is chaired by the child's IRO (reg 36; s.25B Children Act 1989): an active user
    with the iro role (422), not managing the case (reg 46(2), 422), allocated to the child on
    the day of the review (409: allocate or reallocate first)."""
    chair = session.get(UserAccount, chair_id)
    if chair is None or not chair.is_active or chair.role is not Role.iro:
        raise Invalid.field(
            "chair_id",
            "A looked-after child's review is chaired by an Independent Reviewing Officer: this "
            "is not an active user with the iro role (Care Planning Regulations 2010 reg 36).",
            rule="CPPCR 2010 reg 36",
        )
    if case.allocated_worker_id == chair.id or is_team_manager_of(
        session, user_id=chair.id, team_id=case.team_id
    ):
        raise Invalid.field(
            "chair_id",
            "The chair manages this case or works on it; an IRO is independent of the case "
            "(Care Planning Regulations 2010 reg 46(2)).",
            rule="CPPCR 2010 reg 46(2)",
        )
    allocation = allocation_on(session, child_id=child_id, day=review_date)
    if allocation is None or allocation.iro_id != chair.id:
        raise Conflict(
            "The chair was not this child's IRO on the day of the review: the review is chaired "
            "by the child's IRO (Children Act 1989 s.25B); allocate the IRO first.",
            code="chair_not_childs_iro",
            rule="Children Act 1989 s.25B",
        )
    return allocation


def _check_participation(child: Person, *, code: ParticipationCode, review_date: date) -> None:
    """SSDA903 rules 440/441: PN0 is for a child under 4 at the review, PN1-PN7 for 4 and over
    (on the 4th birthday itself both are accepted, as the validator does)."""
    born = child.date_of_birth
    if born is None:
        return
    fourth = add_months(born, 48)
    if code is ParticipationCode.PN0 and review_date > fourth:
        raise Invalid.field(
            "participation",
            "PN0 is for a child under 4 at the review; this child was 4 or over (SSDA903 rule "
            "440).",
            rule="SSDA903 440",
        )
    if code is not ParticipationCode.PN0 and review_date < fourth:
        raise Invalid.field(
            "participation",
            "This child was under 4 at the review: the participation code is PN0 (SSDA903 rule "
            "441).",
            rule="SSDA903 441",
        )


def _check_actions(session: Session, *, actions: Sequence[ActionIn], review_date: date) -> None:
    for i, action in enumerate(actions):
        owner = session.get(UserAccount, action.owner_id)
        if owner is None or not owner.is_active:
            raise Invalid.field(
                f"actions.{i}.owner_id", "Each decision has an owner: an active user."
            )
        if action.due_date < review_date:
            raise Invalid.field(
                f"actions.{i}.due_date",
                "A decision cannot be due before the review that made it.",
                rule="timescales rule 29",
            )


# --- writes ---------------------------------------------------------------------------------------


def cla_review_record(
    session: Session,
    *,
    actor: Principal,
    period_id: uuid.UUID,
    review_date: date | None,
    chair_id: uuid.UUID | None,
    participation: ParticipationCode,
    lateness_reason: str | None = None,
    notes: str | None = None,
    actions: Sequence[ActionIn] = (),
) -> CLAReview:
    """Record a review held: it meets the review that was due and schedules the next (rule 16:
    3 months after the first; rule 17: 6 months after each later one, from the date held), opens
    the rule 29 clocks for circulating its decisions and completing its record, and a
    ``recommendation`` deadline for each decision. A late review must say why (the IRO's
    timeliness report shows it). Nothing is written when any check fails."""
    period = session.get(PeriodOfCare, period_id)
    if period is None:
        raise NotFound(PERIOD_NOT_VISIBLE)
    child = require_child_visible(
        session, actor=actor, child_id=period.child_id, resource=REVIEW_SUBJECT
    )
    case = _case(session, period.case_id)
    require_iro_or_manager(session, actor=actor, case=case, child_id=period.child_id)
    day = review_date or clock.today()
    _check_review_date(session, period=period, case=case, review_date=day)
    previous = session.scalar(
        select(CLAReview)
        .where(CLAReview.period_id == period.id)
        .order_by(CLAReview.sequence.desc())
        .limit(1)
    )
    if previous is not None and day <= previous.review_date:
        raise Invalid.field(
            "review_date",
            f"The last review was held on {previous.review_date.isoformat()}; a new review is "
            "held after it.",
            rule=REVIEW_RULE,
        )
    if chair_id is None:
        if actor.role is not Role.iro:
            raise Invalid.field("chair_id", "Name the IRO who chaired the review.")
        chair_id = actor.user_id
    _check_chair(session, case=case, chair_id=chair_id, child_id=child.id, review_date=day)
    _check_participation(child, code=participation, review_date=day)
    due = _open_review_deadline(session, period_id=period.id)
    reason = lateness_reason.strip() if lateness_reason and lateness_reason.strip() else None
    late = due is not None and day > due.due_date
    if late and reason is None:
        assert due is not None
        raise Invalid.field(
            "lateness_reason",
            f"This review was due by {due.due_date.isoformat()}: say why it was held late (the "
            "IRO's timeliness report shows it).",
            rule=REVIEW_RULE,
        )
    if not late and reason is not None:
        raise Invalid.field("lateness_reason", "This review was not late.")
    _check_actions(session, actions=actions, review_date=day)

    sequence = (previous.sequence + 1) if previous is not None else 1
    review = CLAReview(
        id=uuid.uuid4(),
        period_id=period.id,
        case_id=period.case_id,
        child_id=period.child_id,
        sequence=sequence,
        review_date=day,
        due_date=due.due_date if due is not None else None,
        deadline_id=due.id if due is not None else None,
        chair_id=chair_id,
        participation=participation,
        lateness_reason=reason,
        notes=notes,
        recorded_by_id=actor.user_id,
    )
    session.add(review)
    engine.start(
        session,
        machine=CLA_REVIEW_MACHINE,
        record=review,
        actor=actor,
        case_id=period.case_id,
        child_id=period.child_id,
        action=REVIEW_HELD_ACTION,
        data={
            "review_date": day,
            "sequence": sequence,
            "chair_id": chair_id,
            "participation": participation.value,
            "due_date": review.due_date,
            "lateness_reason": reason,
            "actions": len(actions),
        },
    )
    if due is not None:
        due.met_date = day
    if period.state == LOOKED_AFTER:
        rule, next_due = timescales.next_review(day, sequence=sequence)
        deadline_service.deadline_open(
            session,
            rule=rule,
            subject_type=PERIOD_SUBJECT,
            subject_id=period.id,
            case_id=period.case_id,
            child_id=period.child_id,
            start_date=day,
            due_date=next_due,
        )
        if sequence == 1:
            # Rule 21: visits to a child placed with parents (reg 19) or with a temporarily
            # approved connected person (reg 24) are weekly only until the first review.
            visit_service.visits_recompute(session, child_id=period.child_id)
    for rule, when in (
        (REVIEW_DECISIONS, timescales.review_decisions_due(day)),
        (REVIEW_RECORD, timescales.review_record_due(day)),
    ):
        deadline_service.deadline_open(
            session,
            rule=rule,
            subject_type=REVIEW_SUBJECT,
            subject_id=review.id,
            case_id=period.case_id,
            child_id=period.child_id,
            start_date=day,
            due_date=when,
        )
    for item in actions:
        row = CLAReviewAction(
            id=uuid.uuid4(),
            review_id=review.id,
            child_id=period.child_id,
            kind=item.kind,
            text=item.text,
            owner_id=item.owner_id,
            due_date=item.due_date,
        )
        session.add(row)
        deadline_service.deadline_open(
            session,
            rule=RECOMMENDATION,
            subject_type=ACTION_SUBJECT,
            subject_id=row.id,
            case_id=period.case_id,
            child_id=period.child_id,
            start_date=day,
            due_date=item.due_date,
        )
    session.flush()
    return review


def _review_step(
    session: Session,
    *,
    actor: Principal,
    review_id: uuid.UUID,
    expected_version: int,
    on_date: date | None,
    event: str,
    kind: DeadlineKind,
) -> CLAReview:
    review = _review_for_write(session, actor=actor, review_id=review_id)
    engine.require_version(review, expected_version)
    day = on_date or clock.today()
    if day > clock.today():
        raise Invalid.field("on_date", "This cannot be recorded in the future.")
    earliest = review.decisions_circulated_date or review.review_date
    if day < earliest:
        raise Invalid.field(
            "on_date",
            f"This cannot be before {earliest.isoformat()} (the review, then the circulation "
            "of its decisions: timescales rule 29).",
            rule="timescales rule 29",
        )
    engine.apply(
        session,
        machine=CLA_REVIEW_MACHINE,
        record=review,
        event=event,
        actor=actor,
        expected_version=expected_version,
        case_id=review.case_id,
        child_id=review.child_id,
        data={"on_date": day},
    )
    deadline_service.deadline_meet(
        session, subject_type=REVIEW_SUBJECT, subject_id=review.id, kind=kind, met_date=day
    )
    session.flush()
    return review


def cla_review_decisions_circulated(
    session: Session,
    *,
    actor: Principal,
    review_id: uuid.UUID,
    expected_version: int,
    on_date: date | None,
) -> CLAReview:
    """The review's decisions were circulated (rule 29: within 5 working days)."""
    return _review_step(
        session,
        actor=actor,
        review_id=review_id,
        expected_version=expected_version,
        on_date=on_date,
        event=CIRCULATE_EVENT,
        kind=DeadlineKind.review_decisions,
    )


def cla_review_record_completed(
    session: Session,
    *,
    actor: Principal,
    review_id: uuid.UUID,
    expected_version: int,
    on_date: date | None,
) -> CLAReview:
    """The review's full record was completed (rule 29: within 20 working days), after its
    decisions were circulated."""
    return _review_step(
        session,
        actor=actor,
        review_id=review_id,
        expected_version=expected_version,
        on_date=on_date,
        event=COMPLETE_RECORD_EVENT,
        kind=DeadlineKind.review_record,
    )


def cla_review_action_complete(
    session: Session,
    *,
    actor: Principal,
    action_id: uuid.UUID,
    expected_version: int,
    completed_date: date | None,
    note: str | None,
) -> CLAReviewAction:
    """A decision or recommendation was done: by its owner, the case's team, the child's IRO or a
    manager. It meets its ``recommendation`` deadline (late when after its due date)."""
    action = session.get(CLAReviewAction, action_id)
    if action is None:
        raise NotFound(ACTION_NOT_VISIBLE)
    require_child_visible(session, actor=actor, child_id=action.child_id, resource=ACTION_SUBJECT)
    review = session.get(CLAReview, action.review_id)
    assert review is not None  # a foreign key
    case = _case(session, review.case_id)
    if action.owner_id != actor.user_id and not may_change_case(actor, case):
        require_iro_or_manager(session, actor=actor, case=case, child_id=action.child_id)
    if action.version != expected_version:
        raise PreconditionFailed(
            f"This record is at version {action.version}, not {expected_version}: someone "
            "changed it since you loaded it. Reload it and try again."
        )
    if action.completed_date is not None:
        raise Conflict(
            f"This was completed on {action.completed_date.isoformat()}.", code="already_completed"
        )
    day = completed_date or clock.today()
    if day > clock.today():
        raise Invalid.field("completed_date", "This cannot be completed in the future.")
    if day < review.review_date:
        raise Invalid.field(
            "completed_date",
            f"The review that made this decision was held on {review.review_date.isoformat()}.",
        )
    action.completed_date = day
    action.completed_by_id = actor.user_id
    action.completion_note = note
    deadline_service.deadline_meet(
        session,
        subject_type=ACTION_SUBJECT,
        subject_id=action.id,
        kind=DeadlineKind.recommendation,
        met_date=day,
    )
    session.flush()
    case_event_append(
        session,
        case_id=review.case_id,
        child_id=action.child_id,
        actor=actor,
        action=ACTION_COMPLETED_ACTION,
        subject_type=ACTION_SUBJECT,
        subject_id=action.id,
        changes={
            "review_id": review.id,
            "kind": action.kind.value,
            "completed_date": day,
            "due_date": action.due_date,
        },
    )
    return action


# --- reads ----------------------------------------------------------------------------------------


def cla_reviews_for_period(
    session: Session, *, actor: Principal, period_id: uuid.UUID
) -> tuple[PeriodOfCare, list[CLAReview]]:
    """The period's reviews, oldest first (the read is access-logged)."""
    period = period_get(session, actor=actor, period_id=period_id)
    reviews = list(
        session.scalars(
            select(CLAReview).where(CLAReview.period_id == period.id).order_by(CLAReview.sequence)
        )
    )
    return period, reviews


def next_review_due(session: Session, *, period_id: uuid.UUID) -> Deadline | None:
    """The period's open review deadline (None once care has ceased)."""
    return _open_review_deadline(session, period_id=period_id)


def cla_review_get(session: Session, *, actor: Principal, review_id: uuid.UUID) -> CLAReview:
    review = session.get(CLAReview, review_id)
    if review is None:
        raise NotFound(REVIEW_NOT_VISIBLE)
    get_person_for_read(
        session,
        principal=actor,
        person_id=review.child_id,
        resource=REVIEW_SUBJECT,
        case_id=review.case_id,
    )
    return review


def cla_review_actions(
    session: Session, *, review_ids: Sequence[uuid.UUID]
) -> list[CLAReviewAction]:
    """The decisions and recommendations of reviews the caller has already read."""
    if not review_ids:
        return []
    return list(
        session.scalars(
            select(CLAReviewAction)
            .where(CLAReviewAction.review_id.in_(review_ids))
            .order_by(CLAReviewAction.due_date, CLAReviewAction.id)
        )
    )


def cla_review_action_get(
    session: Session, *, actor: Principal, action_id: uuid.UUID
) -> CLAReviewAction:
    action = session.get(CLAReviewAction, action_id)
    if action is None:
        raise NotFound(ACTION_NOT_VISIBLE)
    get_person_for_read(
        session, principal=actor, person_id=action.child_id, resource=ACTION_SUBJECT
    )
    return action


# --- timeliness (rules 15-17) ---------------------------------------------------------------------

ON_TIME, LATE, OVERDUE, NOT_YET_DUE = "on_time", "late", "overdue", "not_yet_due"


@dataclass
class ReviewDue:
    """One review that fell due in the period, and what became of it."""

    child_id: uuid.UUID
    child_name: str
    period_id: uuid.UUID
    kind: str
    due_date: date
    status: str
    held_date: date | None
    review_id: uuid.UUID | None
    iro_id: uuid.UUID | None
    team_id: uuid.UUID
    lateness_reason: str | None


@dataclass
class Tally:
    due: int = 0
    on_time: int = 0
    late: int = 0
    overdue: int = 0
    not_yet_due: int = 0

    def add(self, status: str) -> None:
        self.due += 1
        setattr(self, status, getattr(self, status) + 1)

    @property
    def percent_on_time(self) -> float | None:
        """On time as a percentage of the reviews whose outcome is known (held, or overdue)."""
        counted = self.on_time + self.late + self.overdue
        return round(100 * self.on_time / counted, 1) if counted else None


@dataclass
class Timeliness:
    from_date: date
    to_date: date
    reviews: list[ReviewDue] = field(default_factory=list)
    overall: Tally = field(default_factory=Tally)
    by_iro: dict[uuid.UUID | None, Tally] = field(default_factory=dict)
    by_team: dict[uuid.UUID, Tally] = field(default_factory=dict)


def review_timeliness(
    session: Session,
    *,
    actor: Principal,
    from_date: date,
    to_date: date,
    iro_id: uuid.UUID | None = None,
    team_id: uuid.UUID | None = None,
) -> Timeliness:
    """Reviews of looked-after children due in a period, and the percentage held within timescale.

    Which reviews count: every review deadline (rules 15, 16, 17: ``cla_review_first``,
    ``cla_review_second``, ``cla_review``) whose **due date falls in [from_date, to_date]**
    (inclusive), except one whose clock stopped (care ceased) on or before its due date. Each is:

    - **on_time**: held on or before its due date (an early review counts here);
    - **late**: held after its due date — with the reason recorded when it was held;
    - **overdue**: not held and its due date has passed (today), or care ceased after it was due
      without it being held;
    - **not_yet_due**: not held and its due date is today or later (not counted in the percentage).

    The percentage held within timescale = on_time / (on_time + late + overdue), to one decimal
    place; None when nothing counts. A review is attributed to the IRO who chaired it, or, when
    not held, to the IRO allocated to the child on its due date (None: nobody was); and to the
    case's team. ``iro_id`` and ``team_id`` filter on that attribution. Only children the caller
    may see are counted, and each child shown is written to the access log.
    """
    if to_date < from_date:
        raise Invalid.field("to", "The period ends before it starts.")
    today = clock.today()
    stmt = (
        select(Deadline, Person, Case.team_id, CLAReview)
        .join(Person, Person.id == Deadline.child_id)
        .join(Case, Case.id == Deadline.case_id)
        .outerjoin(CLAReview, CLAReview.deadline_id == Deadline.id)
        .where(
            Deadline.subject_type == PERIOD_SUBJECT,
            Deadline.kind.in_(timescales.REVIEW_KINDS),
            Deadline.due_date >= from_date,
            Deadline.due_date <= to_date,
            or_(
                Deadline.stopped_date.is_(None),
                and_(Deadline.stopped_date > Deadline.due_date),
            ),
            person_visible(actor),
        )
        .order_by(Deadline.due_date, Person.last_name, Person.first_name, Person.id)
    )
    if team_id is not None:
        stmt = stmt.where(Case.team_id == team_id)
    rows = list(session.execute(stmt).all())
    child_ids = {person.id for _, person, _, _ in rows}
    allocations: dict[uuid.UUID, list[IROAllocation]] = {}
    if child_ids:
        for allocation in session.scalars(
            select(IROAllocation).where(IROAllocation.child_id.in_(child_ids))
        ):
            allocations.setdefault(allocation.child_id, []).append(allocation)

    def iro_on(child: uuid.UUID, day: date) -> uuid.UUID | None:
        for allocation in allocations.get(child, []):
            if allocation.start_date <= day and (
                allocation.end_date is None or allocation.end_date >= day
            ):
                return allocation.iro_id
        return None

    out = Timeliness(from_date=from_date, to_date=to_date)
    shown: dict[uuid.UUID, uuid.UUID | None] = {}
    for deadline, person, team, review in rows:
        if deadline.met_date is not None:
            status = ON_TIME if deadline.met_date <= deadline.due_date else LATE
        elif deadline.stopped_date is not None or deadline.due_date < today:
            status = OVERDUE
        else:
            status = NOT_YET_DUE
        attributed = review.chair_id if review is not None else iro_on(person.id, deadline.due_date)
        if iro_id is not None and attributed != iro_id:
            continue
        line = ReviewDue(
            child_id=person.id,
            child_name=f"{person.first_name} {person.last_name}",
            period_id=deadline.subject_id,
            kind=deadline.kind.value,
            due_date=deadline.due_date,
            status=status,
            held_date=deadline.met_date,
            review_id=review.id if review is not None else None,
            iro_id=attributed,
            team_id=team,
            lateness_reason=review.lateness_reason if review is not None else None,
        )
        out.reviews.append(line)
        out.overall.add(status)
        out.by_iro.setdefault(attributed, Tally()).add(status)
        out.by_team.setdefault(team, Tally()).add(status)
        shown.setdefault(person.id, deadline.case_id)
    for child, case_id in shown.items():
        access_log_append(
            session,
            principal=actor,
            action="list",
            resource="iro_timeliness",
            person_id=child,
            case_id=case_id,
        )
    return out
