"""Statutory visits to looked-after children (Care Planning Regulations 2010, regs 28-29;
timescales rules 18-22).

The visit clock runs per placement: each placement opens a first-week visit (rule 18, via
:func:`on_placement_started`, called by the care service), each visit at which the child is seen
meets the open ``statutory_visit`` deadline and opens the next at the interval the rule that now
applies sets (:func:`app.visits.timescales.visit_due`), and :func:`visits_recompute` re-derives the
open deadline when something that decides the rule changes (the first review held, rule 21).
Ceasing care stops the clock (the care service stops every looked-after deadline). Every read that
shows the child is access-logged; every visit writes a case event.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import case_event_append, diff
from app.care import service as care_service
from app.cases import service as case_service
from app.deadlines import service as deadline_service
from app.errors import Conflict, Invalid
from app.models.care import PeriodOfCare, Placement
from app.models.deadlines import Deadline, DeadlineKind
from app.models.org import UserAccount
from app.models.people import Person
from app.models.visits import StatutoryVisit
from app.security.access import get_person_for_read, person_denied, readable_people
from app.security.principal import Principal
from app.visits.timescales import VisitDue, visit_due

#: Visit deadlines hang on the placement (reg 28(2)(a): "the start of any placement").
DEADLINE_SUBJECT = "placement"
SUBJECT = "statutory_visit"
RECORDED_ACTION = "statutory_visit_recorded"
DUE_CHANGED_ACTION = "statutory_visit_due_changed"


# --- clock -------------------------------------------------------------------------------------


def _open_visit_deadline(session: Session, *, placement_id: uuid.UUID) -> Deadline | None:
    return session.scalar(
        select(Deadline)
        .where(
            Deadline.subject_type == DEADLINE_SUBJECT,
            Deadline.subject_id == placement_id,
            Deadline.kind == DeadlineKind.statutory_visit,
            Deadline.met_date.is_(None),
            Deadline.stopped_date.is_(None),
        )
        .order_by(Deadline.start_date.desc())
        .limit(1)
    )


def _last_seen_visit(session: Session, *, placement_id: uuid.UUID) -> date | None:
    """The last visit in the placement at which the child was seen (reg 29)."""
    return session.scalar(
        select(func.max(StatutoryVisit.visit_date)).where(
            StatutoryVisit.placement_id == placement_id, StatutoryVisit.child_seen.is_(True)
        )
    )


def first_review_held(session: Session, *, period: PeriodOfCare) -> bool:
    """Whether the child's first review of this period has been held: the ``cla_review_first``
    deadline opened in the period is met (read from the deadline table, so this module does not
    depend on the reviews module)."""
    met = session.scalar(
        select(Deadline.id)
        .where(
            Deadline.kind == DeadlineKind.cla_review_first,
            Deadline.child_id == period.child_id,
            Deadline.start_date >= period.start_date,
            Deadline.met_date.is_not(None),
            Deadline.met_date <= clock.today(),
        )
        .limit(1)
    )
    return met is not None


def next_visit(session: Session, *, period: PeriodOfCare, placement: Placement) -> VisitDue:
    """The visit due next in ``placement`` by the rule that applies to the child now."""
    return visit_due(
        placement,
        last_visit=_last_seen_visit(session, placement_id=placement.id),
        first_review_held=first_review_held(session, period=period),
    )


def _open_next(
    session: Session, *, period: PeriodOfCare, placement: Placement, start: date
) -> Deadline:
    due = next_visit(session, period=period, placement=placement)
    return deadline_service.deadline_open(
        session,
        rule=due.rule,
        subject_type=DEADLINE_SUBJECT,
        subject_id=placement.id,
        case_id=period.case_id,
        child_id=period.child_id,
        start_date=start,
        due_date=due.due_date,
    )


def on_placement_started(
    session: Session,
    *,
    actor: Principal,
    period: PeriodOfCare,
    placement: Placement,
    previous: Placement | None,
) -> None:
    """A placement started (the care service's listener, :mod:`app.care.hooks`): the previous
    placement's visit clock stops and the new one must be visited within a week (reg 28(2)(a),
    timescales rule 18)."""
    if previous is not None:
        open_previous = _open_visit_deadline(session, placement_id=previous.id)
        if open_previous is not None:
            open_previous.stopped_date = max(placement.start_date, open_previous.start_date)
    _open_next(session, period=period, placement=placement, start=placement.start_date)
    session.flush()


def visits_recompute(session: Session, *, child_id: uuid.UUID) -> Deadline | None:
    """Re-derive the child's open visit deadline from the rule that applies now (e.g. after the
    first review, reg 28(3)/(4): weekly visits become 6- or 4-weekly, rule 21). Returns the open
    deadline (changed or not), or None when the child has no running visit clock. A change of due
    date or rule is written to the chronology."""
    placement = care_service.current_placement(session, child_id=child_id)
    if placement is None:
        return None
    deadline = _open_visit_deadline(session, placement_id=placement.id)
    if deadline is None:
        return None
    period = session.get(PeriodOfCare, placement.period_id)
    assert period is not None  # a foreign key
    due = next_visit(session, period=period, placement=placement)
    before = {"due_date": deadline.due_date, "rule_id": deadline.rule_id}
    after = {"due_date": due.due_date, "rule_id": due.rule.rule_id}
    changes = diff(before, after)
    if not changes:
        return deadline
    deadline.due_date = due.due_date
    deadline.rule_id = due.rule.rule_id
    deadline.source = due.rule.source
    case_event_append(
        session,
        case_id=period.case_id,
        child_id=period.child_id,
        actor=None,
        action=DUE_CHANGED_ACTION,
        subject_type=DEADLINE_SUBJECT,
        subject_id=placement.id,
        reason=f"The visiting rule that applies changed ({due.paragraph})",
        changes=changes,
    )
    session.flush()
    return deadline


# --- writes ------------------------------------------------------------------------------------


def _placement_on(session: Session, *, period: PeriodOfCare, on: date) -> Placement | None:
    """The placement the child was in on ``on`` (on a move day, the one that started)."""
    return session.scalar(
        select(Placement)
        .where(
            Placement.period_id == period.id,
            Placement.start_date <= on,
            or_(Placement.end_date.is_(None), Placement.end_date >= on),
        )
        .order_by(Placement.start_date.desc())
        .limit(1)
    )


def _visitor(
    session: Session, *, actor: Principal, visited_by_id: uuid.UUID | None, name: str | None
) -> tuple[uuid.UUID | None, str]:
    if visited_by_id is None:
        if name:
            return None, name
        user = session.get(UserAccount, actor.user_id)
        return actor.user_id, (user.display_name if user is not None else "Unknown")
    visitor = session.get(UserAccount, visited_by_id)
    if visitor is None:
        raise Invalid.field("visited_by_id", "There is no user with this id.")
    return visitor.id, name or visitor.display_name


def visit_record(
    session: Session,
    *,
    actor: Principal,
    child_id: uuid.UUID,
    visit_date: date,
    child_seen: bool,
    seen_alone: bool = False,
    bedroom_seen: bool | None = None,
    is_unannounced: bool = False,
    visited_by_id: uuid.UUID | None = None,
    visited_by_name: str | None = None,
    notes: str | None = None,
) -> StatutoryVisit:
    """Record a statutory visit to a looked-after child (reg 28). A visit at which the child was
    seen, in the current placement and not older than the visit that started the running clock,
    meets the open visit deadline (met, or missed when late) and opens the next by the rule that
    applies now. A visit at which the child was not seen is recorded but leaves the clock running
    (reg 29: the representative must see the child); so does a visit typed up late for an earlier
    placement."""
    child = session.scalar(readable_people(actor).where(Person.id == child_id))
    if child is None:
        raise person_denied(session, principal=actor, person_id=child_id, resource=SUBJECT)
    period = care_service.open_period(session, child_id=child_id)
    if period is None:
        # Whoever may not change the child's case gets 403, not word that the child is not
        # looked after (OWASP API1: the object check before the state).
        case_service.require_child_change(session, actor=actor, child_id=child_id)
        raise Conflict(
            "This child is not looked after: statutory visits under reg 28 of the Care Planning "
            "Regulations 2010 are to looked-after children.",
            code="not_looked_after",
            rule="reg 28",
        )
    case = case_service.case_for_change(
        session, actor=actor, case_id=period.case_id, refuse_closed=True
    )
    if visit_date > clock.today():
        raise Invalid.field("visit_date", "A visit cannot be recorded in the future.")
    if visit_date < period.start_date:
        raise Invalid.field(
            "visit_date",
            f"This visit is before the child became looked after ({period.start_date}); a "
            "statutory visit is to a looked-after child (reg 28).",
            rule="reg 28",
        )
    case_service.refuse_after_death(session, case=case, field="visit_date", when=visit_date)
    if seen_alone and not child_seen:
        raise Invalid.field(
            "seen_alone", "A child who was not seen cannot have been seen alone.", rule="reg 29"
        )
    placement = _placement_on(session, period=period, on=visit_date)
    if placement is None:
        raise Invalid.field(
            "visit_date",
            "The child had no placement on this date; a statutory visit is to a child in a "
            "placement (reg 28(2)).",
            rule="reg 28(2)",
        )
    visitor_id, visitor_name = _visitor(
        session, actor=actor, visited_by_id=visited_by_id, name=visited_by_name
    )
    visit = StatutoryVisit(
        id=uuid.uuid4(),
        case_id=period.case_id,
        child_id=child_id,
        period_id=period.id,
        placement_id=placement.id,
        visit_date=visit_date,
        visited_by_id=visitor_id,
        visited_by_name=visitor_name.strip(),
        child_seen=child_seen,
        seen_alone=seen_alone,
        bedroom_seen=bedroom_seen,
        is_unannounced=is_unannounced,
        notes=notes,
        recorded_by_id=actor.user_id,
    )
    session.add(visit)
    session.flush()
    case_event_append(
        session,
        case_id=period.case_id,
        child_id=child_id,
        actor=actor,
        action=RECORDED_ACTION,
        subject_type=SUBJECT,
        subject_id=visit.id,
        changes={
            "placement_id": placement.id,
            "visit_date": visit_date,
            "child_seen": child_seen,
            "seen_alone": seen_alone,
            "bedroom_seen": bedroom_seen,
            "is_unannounced": is_unannounced,
        },
    )
    if child_seen and placement.end_date is None:
        running = _open_visit_deadline(session, placement_id=placement.id)
        if running is None or visit_date >= running.start_date:
            deadline_service.deadline_meet(
                session,
                subject_type=DEADLINE_SUBJECT,
                subject_id=placement.id,
                kind=DeadlineKind.statutory_visit,
                met_date=visit_date,
            )
            _open_next(session, period=period, placement=placement, start=visit_date)
    session.flush()
    return visit


# --- reads -------------------------------------------------------------------------------------


def visits_for_child(session: Session, *, child_id: uuid.UUID) -> list[StatutoryVisit]:
    """Every visit to the child, oldest first, without access checks: for the returns module,
    which logs its own export."""
    return list(
        session.scalars(
            select(StatutoryVisit)
            .where(StatutoryVisit.child_id == child_id)
            .order_by(StatutoryVisit.visit_date, StatutoryVisit.created_at)
        )
    )


def visits_list(
    session: Session, *, actor: Principal, child_id: uuid.UUID
) -> tuple[list[StatutoryVisit], Deadline | None]:
    """The child's visits, oldest first, and the visit deadline running now (None when the child
    is not looked after); the read is written to access_log."""
    get_person_for_read(session, principal=actor, person_id=child_id, resource="statutory_visits")
    placement = care_service.current_placement(session, child_id=child_id)
    running = (
        _open_visit_deadline(session, placement_id=placement.id) if placement is not None else None
    )
    return visits_for_child(session, child_id=child_id), running
