"""CIN plans: start (directly or as an assessment's outcome), review on rule 11's clock, end.

Invariants of the CIN census kept here (and, where the database can, by constraints): at most one
open CIN plan per child (rule 4004) and no CIN plan overlapping a child protection plan (rules
4001, 4016, 4017) — when a CP plan starts, the protection module calls
:func:`cin_plan_end_for_cp_plan`, which ends the open CIN plan on that date as an audited
consequence. Every state change goes through ``app.workflow.engine``; every read that shows the
child is access-logged.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from app import clock
from app.assessments.timescales import case_referral_date
from app.audit.service import case_event_append
from app.cases import service as case_service
from app.cases.workflow import CIN_PLAN, CLOSED
from app.cin.timescales import CIN_REVIEW, cin_review_due
from app.cin.workflow import ACTIVE, CIN_PLAN_MACHINE, END_EVENT, STARTED_ACTION
from app.deadlines import service as deadline_service
from app.errors import Conflict, Invalid, NotFound
from app.models.base import Base
from app.models.cases import Case
from app.models.cin import CINPlan, CINPlanReview
from app.models.deadlines import Deadline, DeadlineKind
from app.models.people import Person
from app.security.access import (
    get_person_for_read,
    person_denied,
    readable_people,
    require_case_change,
)
from app.security.principal import Principal
from app.workflow import engine

PLAN_NOT_VISIBLE = "There is no CIN plan with this id that you can see."
CASE_NOT_VISIBLE = "There is no case with this id that you can see."
#: The reason written on a CIN plan ended because a child protection plan started.
CP_PLAN_STARTED_REASON = "a child protection plan started (CIN census rules 4001/4016/4017)"
CASE_CLOSED_REASON = "the case closed (CIN census rule 8565: nothing continues after closure)"
SUBJECT = "cin_plan"


# --- loading -----------------------------------------------------------------------------------


def _plan_for_write(session: Session, *, actor: Principal, plan_id: uuid.UUID) -> CINPlan:
    plan = session.get(CINPlan, plan_id)
    if plan is None:
        raise NotFound(PLAN_NOT_VISIBLE)
    if session.scalar(readable_people(actor).where(Person.id == plan.child_id)) is None:
        raise person_denied(session, principal=actor, person_id=plan.child_id, resource=SUBJECT)
    case = session.get(Case, plan.case_id)
    assert case is not None  # a foreign key
    require_case_change(actor, case)
    return plan


def _open_plan(session: Session, *, child_id: uuid.UUID) -> CINPlan | None:
    return session.scalar(
        select(CINPlan).where(CINPlan.child_id == child_id, CINPlan.state == ACTIVE).limit(1)
    )


def _cp_plan_overlaps(session: Session, *, child_id: uuid.UUID, start_date: date) -> bool:
    """Whether an open-ended CIN plan from ``start_date`` would overlap one of the child's CP
    plans (CIN census 4001/4016/4017): a CP plan still open, or ending after that date.

    The CP plan table belongs to the protection module, written in parallel; it is read through
    the shared metadata (table ``cp_plan`` with ``child_id``, ``start_date``, ``end_date``) so that
    this module does not depend on its classes. Until that table exists there is nothing to
    overlap.
    """
    table = Base.metadata.tables.get("cp_plan")
    if table is None or not {"child_id", "start_date", "end_date"} <= set(table.c.keys()):
        return False
    c = table.c
    clash = exists().where(
        c.child_id == child_id, or_(c.end_date.is_(None), c.end_date > start_date)
    )
    return bool(session.scalar(select(clash)))


def _stop_plan_deadlines(session: Session, *, plan: CINPlan, on: date) -> None:
    """Timescales.md: deadlines stop when their plan ends (no review is due of an ended plan)."""
    for deadline in session.scalars(
        select(Deadline).where(
            Deadline.subject_type == SUBJECT,
            Deadline.subject_id == plan.id,
            Deadline.met_date.is_(None),
            Deadline.stopped_date.is_(None),
        )
    ):
        deadline.stopped_date = max(on, deadline.start_date)


# --- writes ------------------------------------------------------------------------------------


def cin_plan_start(
    session: Session, *, actor: Principal, case_id: uuid.UUID, start_date: date
) -> CINPlan:
    """Start a child in need plan on the case: the case moves to ``cin_plan`` (unless it is there
    already) and the first review falls due 3 months later (timescales rule 11).

    Refused when the child already has an open CIN plan (CIN census 4004) or a CP plan that the
    new plan would overlap (4001, 4016, 4017).
    """
    case = case_service.case_for_change(session, actor=actor, case_id=case_id)
    if case.state == CLOSED:
        raise case_service.case_closed_error(session, case)
    if start_date > clock.today():
        raise Invalid.field("start_date", "A CIN plan cannot start in the future.")
    case_service.refuse_after_death(session, case=case, field="start_date", when=start_date)
    referral = case_referral_date(session, case=case)
    if start_date < referral:
        raise Invalid.field(
            "start_date",
            f"A CIN plan cannot start before the referral ({referral.isoformat()}): it belongs "
            "to the CIN episode that the referral started.",
            rule="CIN census: CIN plan dates within the episode",
        )
    existing = _open_plan(session, child_id=case.child_id)
    if existing is not None:
        raise Conflict(
            f"This child already has an open CIN plan ({existing.id}); a child has at most one "
            "(CIN census rule 4004).",
            code="cin_plan_already_open",
            existing_plan_id=str(existing.id),
            rule="4004",
        )
    if _cp_plan_overlaps(session, child_id=case.child_id, start_date=start_date):
        raise Conflict(
            "This child has a child protection plan over these dates; a CIN plan never overlaps "
            "a CP plan (CIN census rules 4001, 4016, 4017).",
            code="cin_plan_overlaps_cp_plan",
            rule="4001",
        )
    if case.state != CIN_PLAN:
        case_service.case_transition(
            session,
            actor=actor,
            case_id=case.id,
            event="start_cin_plan",
            expected_version=case.version,
        )
    plan = CINPlan(id=uuid.uuid4(), case_id=case.id, child_id=case.child_id, start_date=start_date)
    session.add(plan)
    engine.start(
        session,
        machine=CIN_PLAN_MACHINE,
        record=plan,
        actor=actor,
        case_id=case.id,
        child_id=case.child_id,
        action=STARTED_ACTION,
        data={"start_date": start_date},
    )
    deadline_service.deadline_open(
        session,
        rule=CIN_REVIEW,
        subject_type=SUBJECT,
        subject_id=plan.id,
        case_id=case.id,
        child_id=case.child_id,
        start_date=start_date,
        due_date=cin_review_due(start_date),
    )
    session.flush()
    return plan


def cin_plan_review_add(
    session: Session,
    *,
    actor: Principal,
    plan_id: uuid.UUID,
    review_date: date,
    outcome: str | None = None,
    notes: str | None = None,
) -> CINPlanReview:
    """Record a review of an active plan: it meets the review that was due and opens the next,
    3 months after this one (timescales rule 11)."""
    plan = _plan_for_write(session, actor=actor, plan_id=plan_id)
    if plan.state != ACTIVE:
        raise Conflict("This CIN plan has ended; an ended plan is not reviewed.", code="plan_ended")
    if review_date > clock.today():
        raise Invalid.field("review_date", "A review cannot be recorded in the future.")
    if review_date < plan.start_date:
        raise Invalid.field(
            "review_date",
            f"A review cannot be before the plan started ({plan.start_date.isoformat()}).",
            rule="timescales rule 11",
        )
    if plan.last_review_date is not None and review_date < plan.last_review_date:
        raise Invalid.field(
            "review_date",
            f"A review cannot be before the last one ({plan.last_review_date.isoformat()}).",
            rule="timescales rule 11",
        )
    review = CINPlanReview(
        plan_id=plan.id,
        review_date=review_date,
        outcome=outcome,
        notes=notes,
        recorded_by_id=actor.user_id,
    )
    session.add(review)
    # Touching the plan moves its version: two reviews recorded at once cannot both win.
    plan.last_review_date = review_date
    deadline_service.deadline_meet(
        session,
        subject_type=SUBJECT,
        subject_id=plan.id,
        kind=DeadlineKind.cin_review,
        met_date=review_date,
    )
    deadline_service.deadline_open(
        session,
        rule=CIN_REVIEW,
        subject_type=SUBJECT,
        subject_id=plan.id,
        case_id=plan.case_id,
        child_id=plan.child_id,
        start_date=review_date,
        due_date=cin_review_due(review_date),
    )
    session.flush()
    case_event_append(
        session,
        case_id=plan.case_id,
        child_id=plan.child_id,
        actor=actor,
        action="cin_plan_reviewed",
        subject_type=SUBJECT,
        subject_id=plan.id,
        changes={"review_id": review.id, "review_date": review_date, "outcome": outcome},
    )
    return review


def _end(
    session: Session,
    *,
    actor: Principal,
    plan: CINPlan,
    expected_version: int,
    end_date: date,
    reason: str,
) -> CINPlan:
    if end_date < plan.start_date:
        raise Invalid.field(
            "end_date",
            f"A plan cannot end before it started ({plan.start_date.isoformat()}).",
            rule="CIN census: CINPlanEndDate on or after CINPlanStartDate",
        )
    engine.apply(
        session,
        machine=CIN_PLAN_MACHINE,
        record=plan,
        event=END_EVENT,
        actor=actor,
        expected_version=expected_version,
        case_id=plan.case_id,
        child_id=plan.child_id,
        reason=reason,
        data={"end_date": end_date},
    )
    _stop_plan_deadlines(session, plan=plan, on=end_date)
    session.flush()
    return plan


def cin_plan_end(
    session: Session,
    *,
    actor: Principal,
    plan_id: uuid.UUID,
    expected_version: int,
    end_date: date,
    reason: str,
) -> CINPlan:
    """End the plan on ``end_date`` with a reason; its review clock stops. The case stays where
    it is (closing it, or another plan, is a decision of its own)."""
    plan = _plan_for_write(session, actor=actor, plan_id=plan_id)
    engine.require_version(plan, expected_version)
    if end_date > clock.today():
        raise Invalid.field("end_date", "A plan cannot end in the future.")
    return _end(
        session,
        actor=actor,
        plan=plan,
        expected_version=expected_version,
        end_date=end_date,
        reason=reason,
    )


def cin_plan_end_for_cp_plan(
    session: Session, *, actor: Principal, child_id: uuid.UUID, end_date: date
) -> CINPlan | None:
    """A child protection plan starts on ``end_date``: end the child's open CIN plan that day
    (CIN census rules 4001, 4016, 4017: the two never overlap), as an audited consequence.
    Returns the plan ended, or None when there was none. Called by the protection module inside
    its own transaction, after it has checked the caller's access to the case."""
    plan = _open_plan(session, child_id=child_id)
    if plan is None:
        return None
    if end_date < plan.start_date:
        raise Conflict(
            f"The child's CIN plan started on {plan.start_date.isoformat()}, after this child "
            "protection plan would start: the two would overlap (CIN census rules 4001, 4016, "
            "4017). Correct the CIN plan's dates first.",
            code="cin_plan_overlaps_cp_plan",
            rule="4001",
        )
    return _end(
        session,
        actor=actor,
        plan=plan,
        expected_version=plan.version,
        end_date=end_date,
        reason=CP_PLAN_STARTED_REASON,
    )


def cin_plan_end_on_case_closure(
    session: Session, *, actor: Principal, case_id: uuid.UUID, end_date: date
) -> CINPlan | None:
    """The case closes on ``end_date``: its open CIN plan ends that day too, as an audited
    consequence (CIN census: nothing continues after the episode's closure, rule 8565). Called by
    the case machine's closing hook, inside the closing transaction."""
    plan = session.scalar(
        select(CINPlan).where(CINPlan.case_id == case_id, CINPlan.state == ACTIVE).limit(1)
    )
    if plan is None:
        return None
    return _end(
        session,
        actor=actor,
        plan=plan,
        expected_version=plan.version,
        end_date=max(end_date, plan.start_date),
        reason=CASE_CLOSED_REASON,
    )


# --- reads -------------------------------------------------------------------------------------


def cin_plan_get(session: Session, *, actor: Principal, plan_id: uuid.UUID) -> CINPlan:
    """The plan, if its child is visible to the caller; the read is written to access_log."""
    plan = session.get(CINPlan, plan_id)
    if plan is None:
        raise NotFound(PLAN_NOT_VISIBLE)
    get_person_for_read(
        session, principal=actor, person_id=plan.child_id, resource=SUBJECT, case_id=plan.case_id
    )
    return plan


def cin_plan_reviews(session: Session, *, plan: CINPlan) -> list[CINPlanReview]:
    """The plan's reviews, oldest first (the caller has already read the plan)."""
    return list(
        session.scalars(
            select(CINPlanReview)
            .where(CINPlanReview.plan_id == plan.id)
            .order_by(CINPlanReview.review_date, CINPlanReview.created_at)
        )
    )


def cin_plan_next_review_due(session: Session, *, plan: CINPlan) -> date | None:
    """The due date of the plan's open review deadline (None once it has ended)."""
    return session.scalar(
        select(Deadline.due_date)
        .where(
            Deadline.subject_type == SUBJECT,
            Deadline.subject_id == plan.id,
            Deadline.kind == DeadlineKind.cin_review,
            Deadline.met_date.is_(None),
            Deadline.stopped_date.is_(None),
        )
        .order_by(Deadline.due_date)
        .limit(1)
    )
