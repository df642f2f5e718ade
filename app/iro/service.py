"""The IRO service: allocation (rule 28), monitoring contacts, disputes, caseloads and the IRO's
view of every child. Reviews are in :mod:`app.iro.reviews`.

The care service calls :func:`on_care_started` and :func:`on_care_ceased` (``app.care.hooks``).
Every change to a child's record writes a case event in the same transaction; every read that
shows a child writes the access log; state changes of a dispute go through the workflow engine.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import access_log_append, case_event_append
from app.care.service import open_period
from app.care.workflow import LOOKED_AFTER
from app.cases.service import refuse_after_death
from app.deadlines import service as deadline_service
from app.deadlines.care_rules import IRO_ALLOCATION, IRO_DISPUTE_STAGE
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.iro import timescales
from app.iro.access import (
    allocation_on,
    current_allocation,
    is_manager_for,
    is_team_manager_of,
    require_child_visible,
    require_iro_or_manager,
)
from app.iro.workflow import (
    DISPUTE_OPEN_STATES,
    ESCALATE,
    IRO_DISPUTE_MACHINE,
    RAISED_ACTION,
    REFER_TO_CAFCASS,
    RESOLVE,
    RESPOND,
)
from app.models.care import PeriodOfCare, Placement
from app.models.cases import Case
from app.models.deadlines import Deadline, DeadlineKind
from app.models.iro import (
    CLAReview,
    CLAReviewAction,
    IROAllocation,
    IROContact,
    IROContactKind,
    IRODispute,
)
from app.models.org import Role, UserAccount
from app.models.people import Person, PersonRelationship, RelationshipKind
from app.security.access import get_person_for_read, person_visible
from app.security.principal import Principal
from app.workflow import engine

ALLOCATION_SUBJECT = "iro_allocation"
PERIOD_SUBJECT = "period_of_care"
CONTACT_SUBJECT = "iro_contact"
DISPUTE_SUBJECT = "iro_dispute"
DISPUTE_NOT_VISIBLE = "There is no IRO dispute with this id that you can see."
CARE_CEASED_REASON = "care ceased"
#: Relationship kinds that make two children siblings (siblings share an IRO by default).
SIBLING_KINDS = frozenset({RelationshipKind.sibling})

#: The chronology's words for the changes of this module that are not state transitions.
ALLOCATED_ACTION = "iro_allocated"
REALLOCATED_ACTION = "iro_reallocated"
ALLOCATION_ENDED_ACTION = "iro_allocation_ended"
CONTACT_ACTION = "iro_contact_recorded"


# --- care hooks (app.care.hooks) ------------------------------------------------------------------


def on_care_started(
    session: Session, *, actor: Principal, period: PeriodOfCare, placement: Placement
) -> None:
    """The child became looked after: the IRO allocation clock (rule 28: 5 working days, never
    after the first review) and the first review's (rule 15: 20 working days) start."""
    for rule, due in (
        (IRO_ALLOCATION, timescales.iro_allocation_due(period.start_date)),
        (timescales.first_review_rule(), timescales.first_review_due(period.start_date)),
    ):
        deadline_service.deadline_open(
            session,
            rule=rule,
            subject_type=PERIOD_SUBJECT,
            subject_id=period.id,
            case_id=period.case_id,
            child_id=period.child_id,
            start_date=period.start_date,
            due_date=due,
        )
    session.flush()


def on_care_ceased(session: Session, *, actor: Principal, period: PeriodOfCare) -> None:
    """Care ceased: the child's IRO allocation ends the same day (s.25A: an IRO is appointed for a
    looked-after child; a care leaver's plan is reviewed by the personal adviser, not the IRO).
    The review clocks are stopped by the care service (``LOOKED_AFTER_KINDS``); a review's
    circulation, record and recommendations run on — they are owed for a review already held."""
    allocation = current_allocation(session, child_id=period.child_id)
    if allocation is None or allocation.period_id != period.id:
        return
    ended = max(period.end_date or clock.today(), allocation.start_date)
    reason = CARE_CEASED_REASON
    if period.reason_ceased is not None:
        reason = f"{CARE_CEASED_REASON} ({period.reason_ceased.value})"
    _end_allocation(session, actor=actor, allocation=allocation, end_date=ended, reason=reason)
    case_event_append(
        session,
        case_id=allocation.case_id,
        child_id=allocation.child_id,
        actor=actor,
        action=ALLOCATION_ENDED_ACTION,
        subject_type=ALLOCATION_SUBJECT,
        subject_id=allocation.id,
        reason=reason,
        changes={"iro_id": allocation.iro_id, "end_date": ended},
    )


def _end_allocation(
    session: Session, *, actor: Principal, allocation: IROAllocation, end_date: date, reason: str
) -> None:
    allocation.end_date = end_date
    allocation.end_reason = reason
    allocation.ended_by_id = actor.user_id
    # Flushed now: the partial unique index allows one current allocation per child.
    session.flush()


# --- allocation (rule 28) -------------------------------------------------------------------------


def _period_case(session: Session, period: PeriodOfCare) -> Case:
    case = session.get(Case, period.case_id)
    assert case is not None  # a foreign key
    return case


def sibling_iros(session: Session, *, child_id: uuid.UUID) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(sibling id, IRO id) for each looked-after sibling who has an IRO now, either direction of
    the relationship; the basis of "siblings share an IRO by default" (IRO Handbook 2010)."""
    today = clock.today()
    rel = PersonRelationship
    current = or_(rel.end_date.is_(None), rel.end_date >= today)
    siblings = set(
        session.scalars(
            select(rel.related_person_id).where(
                rel.person_id == child_id, rel.kind.in_(SIBLING_KINDS), current
            )
        )
    ) | set(
        session.scalars(
            select(rel.person_id).where(
                rel.related_person_id == child_id, rel.kind.in_(SIBLING_KINDS), current
            )
        )
    )
    siblings.discard(child_id)
    if not siblings:
        return []
    rows = session.execute(
        select(IROAllocation.child_id, IROAllocation.iro_id)
        .join(PeriodOfCare, PeriodOfCare.id == IROAllocation.period_id)
        .where(
            IROAllocation.child_id.in_(siblings),
            IROAllocation.end_date.is_(None),
            PeriodOfCare.state == LOOKED_AFTER,
        )
        .order_by(IROAllocation.start_date, IROAllocation.child_id)
    )
    return [(sibling, iro) for sibling, iro in rows]


def _check_iro(session: Session, *, iro_id: uuid.UUID, case: Case, field: str) -> UserAccount:
    """An IRO is an active user with the ``iro`` role who does not manage the case (Care Planning
    Regulations 2010 reg 46(2): not involved in the management of the child's case)."""
    user = session.get(UserAccount, iro_id)
    if user is None or not user.is_active or user.role is not Role.iro:
        raise Invalid.field(
            field,
            "This is not an active Independent Reviewing Officer (a user with the iro role).",
            rule="Children Act 1989 s.25A",
        )
    if case.allocated_worker_id == user.id or is_team_manager_of(
        session, user_id=user.id, team_id=case.team_id
    ):
        raise Invalid.field(
            field,
            "An IRO must be independent of the case: this person manages it or works on it "
            "(Care Planning Regulations 2010 reg 46(2)).",
            rule="CPPCR 2010 reg 46(2)",
        )
    return user


def _require_allocator(session: Session, *, actor: Principal, case: Case) -> None:
    if not is_manager_for(session, actor=actor, case=case):
        raise Forbidden(
            "Only a manager of the case's team, an IRO manager or a service manager may "
            "allocate the child's IRO."
        )


def iro_allocate(
    session: Session,
    *,
    actor: Principal,
    child_id: uuid.UUID,
    iro_id: uuid.UUID | None,
    start_date: date | None,
    reason: str | None,
) -> IROAllocation:
    """Appoint the child's IRO (s.25A; rule 28), or change it (the previous allocation ends the
    day before, with the reason, so the history says who was the IRO on any day).

    Siblings share an IRO by default: without ``iro_id`` the IRO of a looked-after sibling is
    taken (422 when there is none); choosing someone else than a sibling's IRO needs a reason.
    The first allocation of a period of care meets its ``iro_allocation`` deadline.
    """
    require_child_visible(session, actor=actor, child_id=child_id, resource=ALLOCATION_SUBJECT)
    period = open_period(session, child_id=child_id)
    if period is None:
        raise Conflict(
            "This child is not looked after: an IRO is appointed for a looked-after child "
            "(Children Act 1989 s.25A).",
            code="not_looked_after",
            rule="Children Act 1989 s.25A",
        )
    case = _period_case(session, period)
    _require_allocator(session, actor=actor, case=case)
    start = start_date or clock.today()
    if start > clock.today():
        raise Invalid.field("start_date", "An allocation cannot start in the future.")
    if start < period.start_date:
        raise Invalid.field(
            "start_date",
            f"The child became looked after on {period.start_date.isoformat()}; an IRO is "
            "allocated from then on (timescales rule 28).",
            rule="timescales rule 28",
        )
    reason = reason.strip() if reason and reason.strip() else None
    shared = sibling_iros(session, child_id=child_id)
    sibling_iro_ids = [iro for _, iro in shared]
    if iro_id is None:
        if not sibling_iro_ids:
            raise Invalid.field(
                "iro_id",
                "Name the IRO: no looked-after brother or sister has one to share (siblings "
                "share an IRO by default).",
                rule="IRO Handbook 2010: siblings share an IRO",
            )
        iro_id = Counter(sibling_iro_ids).most_common(1)[0][0]
    elif sibling_iro_ids and iro_id not in sibling_iro_ids and reason is None:
        raise Invalid.field(
            "reason",
            "A looked-after brother or sister has another IRO; siblings share an IRO unless "
            "there is a reason not to: say why.",
            rule="IRO Handbook 2010: siblings share an IRO",
        )
    _check_iro(session, iro_id=iro_id, case=case, field="iro_id")
    current = current_allocation(session, child_id=child_id)
    if current is not None and current.iro_id == iro_id:
        raise Conflict(
            "This IRO is already the child's IRO.",
            code="already_allocated",
            allocation_id=str(current.id),
        )
    if current is not None:
        if reason is None:
            raise Invalid.field("reason", "Say why the child's IRO changes.")
        if start <= current.start_date:
            raise Invalid.field(
                "start_date",
                f"The current IRO was allocated on {current.start_date.isoformat()}; a new "
                "allocation starts after that.",
            )
        _end_allocation(
            session,
            actor=actor,
            allocation=current,
            end_date=start - timedelta(days=1),
            reason=reason,
        )
    allocation = IROAllocation(
        id=uuid.uuid4(),
        child_id=child_id,
        case_id=case.id,
        period_id=period.id,
        iro_id=iro_id,
        start_date=start,
        reason=reason,
        allocated_by_id=actor.user_id,
    )
    session.add(allocation)
    session.flush()
    deadline_service.deadline_meet(
        session,
        subject_type=PERIOD_SUBJECT,
        subject_id=period.id,
        kind=DeadlineKind.iro_allocation,
        met_date=start,
    )
    case_event_append(
        session,
        case_id=case.id,
        child_id=child_id,
        actor=actor,
        action=REALLOCATED_ACTION if current is not None else ALLOCATED_ACTION,
        subject_type=ALLOCATION_SUBJECT,
        subject_id=allocation.id,
        reason=reason,
        changes={
            "iro_id": iro_id,
            "from_iro_id": current.iro_id if current is not None else None,
            "start_date": start,
            "shared_with_sibling": iro_id in sibling_iro_ids,
        },
    )
    session.flush()
    return allocation


def iro_allocations(
    session: Session, *, actor: Principal, child_id: uuid.UUID
) -> list[IROAllocation]:
    """The child's IRO history, newest first (the read is access-logged)."""
    get_person_for_read(session, principal=actor, person_id=child_id, resource=ALLOCATION_SUBJECT)
    return list(
        session.scalars(
            select(IROAllocation)
            .where(IROAllocation.child_id == child_id)
            .order_by(IROAllocation.start_date.desc())
        )
    )


# --- caseloads and the IRO's children -------------------------------------------------------------


@dataclass
class Caseload:
    iro_id: uuid.UUID
    display_name: str
    children: int


def iro_caseloads(session: Session) -> list[Caseload]:
    """Each active IRO and the number of looked-after children allocated to them now (the IRO
    Handbook suggests 50-70 per full-time IRO). No child is shown, so nothing is access-logged."""
    counts = (
        select(IROAllocation.iro_id, func.count().label("n"))
        .join(PeriodOfCare, PeriodOfCare.id == IROAllocation.period_id)
        .where(IROAllocation.end_date.is_(None), PeriodOfCare.state == LOOKED_AFTER)
        .group_by(IROAllocation.iro_id)
        .subquery()
    )
    rows = session.execute(
        select(UserAccount.id, UserAccount.display_name, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.iro_id == UserAccount.id)
        .where(UserAccount.role == Role.iro, UserAccount.is_active.is_(True))
        .order_by(UserAccount.display_name, UserAccount.id)
    )
    return [Caseload(iro_id=i, display_name=n, children=int(c)) for i, n, c in rows]


@dataclass
class ChildOverview:
    """One line of the IRO's view of a child."""

    child_id: uuid.UUID
    name: str
    iro_id: uuid.UUID
    period_id: uuid.UUID
    looked_after_since: date
    next_review_due: date | None = None
    next_review_kind: str | None = None
    last_review_date: date | None = None
    last_review_on_time: bool | None = None
    last_review_lateness_reason: str | None = None
    outstanding_recommendations: int = 0
    overdue_recommendations: int = 0
    open_disputes: int = 0
    dispute_ids: list[uuid.UUID] = field(default_factory=list)
    #: The case the period of care is on (the web dashboard links to the case's review form).
    case_id: uuid.UUID | None = None


def iro_children(
    session: Session, *, actor: Principal, iro_id: uuid.UUID | None
) -> list[ChildOverview]:
    """Every child allocated now to ``iro_id`` (the caller, for an IRO, when not given; every IRO's
    for others): next review due, whether the last was held on time (and why not),
    outstanding recommendations and open disputes. Each child shown is access-logged."""
    if iro_id is None and actor.role is Role.iro:
        iro_id = actor.user_id
    stmt = (
        select(IROAllocation, Person, PeriodOfCare)
        .join(Person, Person.id == IROAllocation.child_id)
        .join(PeriodOfCare, PeriodOfCare.id == IROAllocation.period_id)
        .where(IROAllocation.end_date.is_(None), person_visible(actor))
        .order_by(Person.last_name, Person.first_name, Person.id)
    )
    if iro_id is not None:
        stmt = stmt.where(IROAllocation.iro_id == iro_id)
    rows = list(session.execute(stmt).all())
    if not rows:
        return []
    today = clock.today()
    period_ids = [p.id for _, _, p in rows]
    child_ids = [c.id for _, c, _ in rows]
    next_due: dict[uuid.UUID, tuple[date, str]] = {}
    for subject, due, kind in session.execute(
        select(Deadline.subject_id, Deadline.due_date, Deadline.kind)
        .where(
            Deadline.subject_type == PERIOD_SUBJECT,
            Deadline.subject_id.in_(period_ids),
            Deadline.kind.in_(timescales.REVIEW_KINDS),
            Deadline.met_date.is_(None),
            Deadline.stopped_date.is_(None),
        )
        .order_by(Deadline.due_date.desc())
    ):
        next_due[subject] = (due, kind.value)
    last: dict[uuid.UUID, CLAReview] = {}
    for held in session.scalars(
        select(CLAReview).where(CLAReview.period_id.in_(period_ids)).order_by(CLAReview.sequence)
    ):
        last[held.period_id] = held
    outstanding: Counter[uuid.UUID] = Counter()
    overdue: Counter[uuid.UUID] = Counter()
    for owner_child, due in session.execute(
        select(CLAReviewAction.child_id, CLAReviewAction.due_date).where(
            CLAReviewAction.child_id.in_(child_ids), CLAReviewAction.completed_date.is_(None)
        )
    ):
        outstanding[owner_child] += 1
        if due < today:
            overdue[owner_child] += 1
    disputes: dict[uuid.UUID, list[uuid.UUID]] = {}
    for disputed_child, dispute in session.execute(
        select(IRODispute.child_id, IRODispute.id)
        .where(IRODispute.child_id.in_(child_ids), IRODispute.state.in_(DISPUTE_OPEN_STATES))
        .order_by(IRODispute.raised_date)
    ):
        disputes.setdefault(disputed_child, []).append(dispute)
    out: list[ChildOverview] = []
    for allocation, child, period in rows:
        line = ChildOverview(
            child_id=child.id,
            name=f"{child.first_name} {child.last_name}",
            iro_id=allocation.iro_id,
            period_id=period.id,
            looked_after_since=period.start_date,
            outstanding_recommendations=outstanding[child.id],
            overdue_recommendations=overdue[child.id],
            open_disputes=len(disputes.get(child.id, [])),
            dispute_ids=disputes.get(child.id, []),
            case_id=period.case_id,
        )
        if period.id in next_due:
            line.next_review_due, line.next_review_kind = next_due[period.id]
        review = last.get(period.id)
        if review is not None:
            line.last_review_date = review.review_date
            line.last_review_on_time = (
                None if review.due_date is None else review.review_date <= review.due_date
            )
            line.last_review_lateness_reason = review.lateness_reason
        out.append(line)
        access_log_append(
            session,
            principal=actor,
            action="list",
            resource="iro_children",
            person_id=child.id,
            case_id=period.case_id,
        )
    return out


# --- monitoring contacts --------------------------------------------------------------------------


def _period_on(session: Session, *, child_id: uuid.UUID, day: date) -> PeriodOfCare | None:
    return session.scalar(
        select(PeriodOfCare)
        .where(
            PeriodOfCare.child_id == child_id,
            PeriodOfCare.start_date <= day,
            or_(PeriodOfCare.end_date.is_(None), PeriodOfCare.end_date >= day),
        )
        .limit(1)
    )


def iro_contact_record(
    session: Session,
    *,
    actor: Principal,
    child_id: uuid.UUID,
    contact_date: date | None,
    kind: IROContactKind,
    notes: str | None,
) -> IROContact:
    """Record the IRO's monitoring of the child's plan between reviews (IRO Handbook 2010 ch.3):
    a visit to the child, a call with the social worker, a file review. It is the IRO allocated
    on that day who made it; the caller is that IRO or a manager."""
    require_child_visible(session, actor=actor, child_id=child_id, resource=CONTACT_SUBJECT)
    day = contact_date or clock.today()
    if day > clock.today():
        raise Invalid.field("contact_date", "A contact cannot be recorded in the future.")
    # An IRO who has never been the child's gets 403 first, not word of whether the child was
    # looked after on that day (OWASP API1: the object check before the state). The child's own
    # IRO (now or before) is told the truth about the date below.
    if actor.role is Role.iro and not session.scalar(
        select(
            exists().where(
                IROAllocation.child_id == child_id, IROAllocation.iro_id == actor.user_id
            )
        )
    ):
        raise Forbidden("You have not been this child's IRO.", code="not_childs_iro")
    period = _period_on(session, child_id=child_id, day=day)
    if period is None:
        raise Invalid.field(
            "contact_date",
            "The child was not looked after on this date: the IRO monitors a looked-after "
            "child's plan (Children Act 1989 s.25B).",
            rule="Children Act 1989 s.25B",
        )
    case = _period_case(session, period)
    refuse_after_death(session, case=case, field="contact_date", when=day)
    allocation = allocation_on(session, child_id=child_id, day=day)
    if allocation is None:
        raise Conflict(
            "The child had no IRO on this date: allocate one first (timescales rule 28).",
            code="no_iro_allocated",
        )
    if actor.role is Role.iro:
        if allocation.iro_id != actor.user_id:
            raise Forbidden("You were not this child's IRO on this date.", code="not_childs_iro")
    elif not is_manager_for(session, actor=actor, case=case):
        raise Forbidden("Only the child's IRO or a manager may record an IRO contact.")
    contact = IROContact(
        id=uuid.uuid4(),
        child_id=child_id,
        case_id=case.id,
        period_id=period.id,
        iro_id=allocation.iro_id,
        contact_date=day,
        kind=kind,
        notes=notes,
        recorded_by_id=actor.user_id,
    )
    session.add(contact)
    session.flush()
    case_event_append(
        session,
        case_id=case.id,
        child_id=child_id,
        actor=actor,
        action=CONTACT_ACTION,
        subject_type=CONTACT_SUBJECT,
        subject_id=contact.id,
        changes={"contact_date": day, "kind": kind.value, "iro_id": allocation.iro_id},
    )
    return contact


def iro_contacts(session: Session, *, actor: Principal, child_id: uuid.UUID) -> list[IROContact]:
    """The IRO's contacts with the child's plan, newest first (access-logged)."""
    get_person_for_read(session, principal=actor, person_id=child_id, resource=CONTACT_SUBJECT)
    return list(
        session.scalars(
            select(IROContact)
            .where(IROContact.child_id == child_id)
            .order_by(IROContact.contact_date.desc(), IROContact.created_at.desc())
        )
    )


# --- disputes (IRO Handbook 2010 ch.5) ------------------------------------------------------------


def iro_dispute_raise(
    session: Session,
    *,
    actor: Principal,
    child_id: uuid.UUID,
    concern: str,
    raised_date: date | None,
) -> IRODispute:
    """The child's IRO raises a concern about the child's plan; it starts in informal resolution
    (IRO Handbook 2010 ch.5). Only the allocated IRO raises a dispute."""
    require_child_visible(session, actor=actor, child_id=child_id, resource=DISPUTE_SUBJECT)
    # Who may raise it first: anyone but the child's IRO gets 403, not word of whether the child
    # is looked after (OWASP API1: the object check before the state).
    allocation = current_allocation(session, child_id=child_id)
    if actor.role is not Role.iro or allocation is None or allocation.iro_id != actor.user_id:
        raise Forbidden(
            "Only the child's allocated IRO raises a dispute about the child's plan.",
            code="not_childs_iro",
        )
    period = open_period(session, child_id=child_id)
    if period is None:
        raise Conflict(
            "This child is not looked after: the dispute resolution process is about a "
            "looked-after child's plan (Children Act 1989 s.25B).",
            code="not_looked_after",
        )
    day = raised_date or clock.today()
    if day > clock.today():
        raise Invalid.field("raised_date", "A dispute cannot be raised in the future.")
    if day < allocation.start_date:
        raise Invalid.field(
            "raised_date",
            f"You became the child's IRO on {allocation.start_date.isoformat()}.",
        )
    dispute = IRODispute(
        id=uuid.uuid4(),
        child_id=child_id,
        case_id=period.case_id,
        period_id=period.id,
        raised_by_id=actor.user_id,
        raised_date=day,
        concern=concern,
        stage=0,
        stage_started_date=day,
    )
    session.add(dispute)
    engine.start(
        session,
        machine=IRO_DISPUTE_MACHINE,
        record=dispute,
        actor=actor,
        case_id=period.case_id,
        child_id=child_id,
        action=RAISED_ACTION,
        data={"raised_date": day},
    )
    return dispute


def _dispute_deadlines(session: Session, dispute: IRODispute) -> list[Deadline]:
    return list(
        session.scalars(
            select(Deadline).where(
                Deadline.subject_type == DISPUTE_SUBJECT,
                Deadline.subject_id == dispute.id,
                Deadline.met_date.is_(None),
                Deadline.stopped_date.is_(None),
            )
        )
    )


def iro_dispute_transition(
    session: Session,
    *,
    actor: Principal,
    dispute_id: uuid.UUID,
    expected_version: int,
    event: str,
    reason: str | None,
    on_date: date | None,
    response: str | None,
) -> IRODispute:
    """Take ``event`` on the dispute (see :data:`app.iro.workflow.IRO_DISPUTE_MACHINE`): the IRO
    escalates or refers to Cafcass, managers respond, either resolves. Each escalation opens the
    stage's ``iro_dispute_stage`` deadline; a response or a resolution meets it; a further
    escalation or a referral stops it."""
    dispute = session.get(IRODispute, dispute_id)
    if dispute is None:
        raise NotFound(DISPUTE_NOT_VISIBLE)
    require_child_visible(session, actor=actor, child_id=dispute.child_id, resource=DISPUTE_SUBJECT)
    case = session.get(Case, dispute.case_id)
    assert case is not None  # a foreign key
    require_iro_or_manager(session, actor=actor, case=case, child_id=dispute.child_id)
    engine.require_version(dispute, expected_version)
    day = on_date or clock.today()
    if day > clock.today():
        raise Invalid.field("on_date", "This cannot be recorded in the future.")
    if day < dispute.stage_started_date:
        raise Invalid.field(
            "on_date",
            f"The dispute's current stage started on {dispute.stage_started_date.isoformat()}.",
        )
    data: dict[str, object] = {"on_date": day}
    if response is not None:
        data["response"] = response
    engine.apply(
        session,
        machine=IRO_DISPUTE_MACHINE,
        record=dispute,
        event=event,
        actor=actor,
        expected_version=expected_version,
        case_id=dispute.case_id,
        child_id=dispute.child_id,
        reason=reason,
        data=data,
    )
    if event in (RESPOND, RESOLVE):
        for deadline in _dispute_deadlines(session, dispute):
            deadline.met_date = day
    elif event in (ESCALATE, REFER_TO_CAFCASS):
        for deadline in _dispute_deadlines(session, dispute):
            deadline.stopped_date = max(day, deadline.start_date)
    if event == ESCALATE:
        deadline_service.deadline_open(
            session,
            rule=IRO_DISPUTE_STAGE,
            subject_type=DISPUTE_SUBJECT,
            subject_id=dispute.id,
            case_id=dispute.case_id,
            child_id=dispute.child_id,
            start_date=day,
            due_date=timescales.dispute_stage_due(day),
        )
    session.flush()
    return dispute


def iro_dispute_get(session: Session, *, actor: Principal, dispute_id: uuid.UUID) -> IRODispute:
    """The dispute, if its child is visible (access-logged)."""
    dispute = session.get(IRODispute, dispute_id)
    if dispute is None:
        raise NotFound(DISPUTE_NOT_VISIBLE)
    get_person_for_read(
        session,
        principal=actor,
        person_id=dispute.child_id,
        resource=DISPUTE_SUBJECT,
        case_id=dispute.case_id,
    )
    return dispute


def iro_dispute_stage_due(session: Session, *, dispute: IRODispute) -> date | None:
    """When the current stage's answer is due (None in informal resolution or once closed)."""
    return session.scalar(
        select(Deadline.due_date)
        .where(
            Deadline.subject_type == DISPUTE_SUBJECT,
            Deadline.subject_id == dispute.id,
            Deadline.met_date.is_(None),
            Deadline.stopped_date.is_(None),
        )
        .limit(1)
    )
