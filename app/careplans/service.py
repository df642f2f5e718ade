"""The looked-after child's plans: care plan (rule 13), placement plan (rule 14), permanence plan
(rule 16P) and personal education plan (rule 25), each a series of dated versions.

The clocks start when care starts and when each placement starts (:mod:`app.care.hooks` calls
:func:`on_care_started` and :func:`on_placement_started`); recording a plan meets its deadline
(met, or missed when late); ceasing care stops them (the care service stops every
``LOOKED_AFTER_KINDS`` deadline). A plan is never edited: a new version supersedes the current
one and the history stays readable. Every write appends a case event; every read is access-logged.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import case_event_append
from app.careplans import timescales
from app.careplans.schemas import PlacementPlanCreate, PlanVersionCreate
from app.cases import service as case_service
from app.deadlines import care_rules
from app.deadlines import service as deadline_service
from app.errors import Conflict, Invalid, NotFound, PreconditionFailed
from app.models.care import PeriodOfCare, Placement
from app.models.careplans import CLAPlan, CLAPlanVersion, PlanKind
from app.models.cases import Case
from app.models.deadlines import Deadline, DeadlineKind
from app.security.access import get_person_for_read
from app.security.principal import Principal

PERIOD_SUBJECT = "period_of_care"  # the subject of the period's deadlines (as app.care names it)
PLACEMENT_SUBJECT = "placement"
SUBJECT = "cla_plan"
PERIOD_NOT_VISIBLE = "There is no period of care with this id that you can see."
PLAN_NOT_VISIBLE = "There is no plan with this id that you can see."
LOOKED_AFTER = "looked_after"  # app.care.workflow.LOOKED_AFTER

#: The rule each kind of plan answers to, for the messages and the ``rule`` of a 422.
RULE_OF_KIND: dict[PlanKind, str] = {
    PlanKind.care_plan: "TS13 (Care Planning Regulations 2010 reg 4)",
    PlanKind.placement_plan: "TS14 (Care Planning Regulations 2010 reg 9)",
    PlanKind.permanence_plan: "TS16P (care planning guidance vol 2 ch.2)",
    PlanKind.pep: "TS25 (statutory guidance on the PEP)",
}
#: Chronology words for a kind's first version and its later versions.
WORDS: dict[PlanKind, str] = {
    PlanKind.care_plan: "care plan",
    PlanKind.placement_plan: "placement plan",
    PlanKind.permanence_plan: "permanence plan",
    PlanKind.pep: "personal education plan",
}


# --- the clocks (called by app.care.hooks) -----------------------------------------------------


def on_care_started(
    session: Session, *, actor: Principal, period: PeriodOfCare, placement: Placement
) -> None:
    """Care started with ``placement``: open the care plan (rule 13: 10 working days after the
    first placement), the PEP (rule 25: by the first review, 20 working days) and the permanence
    plan (rule 16P: by the second review, 20 working days + 3 months) deadlines."""
    start = period.start_date
    for rule, due in (
        (care_rules.CARE_PLAN, timescales.care_plan_due(placement.start_date)),
        (care_rules.PEP, timescales.pep_due(start)),
        (care_rules.PERMANENCE_PLAN, timescales.permanence_plan_due(start)),
    ):
        deadline_service.deadline_open(
            session,
            rule=rule,
            subject_type=PERIOD_SUBJECT,
            subject_id=period.id,
            case_id=period.case_id,
            child_id=period.child_id,
            start_date=min(start, placement.start_date),
            due_date=due,
        )
    session.flush()


def on_placement_started(
    session: Session,
    *,
    actor: Principal,
    period: PeriodOfCare,
    placement: Placement,
    previous: Placement | None,
) -> None:
    """A placement started: its placement plan is due within ``placement_plan_working_days``
    working days (rule 14). A placement plan never recorded for the placement that ended is no
    longer due (timescales.md: deadlines stop when their episode ends)."""
    if previous is not None:
        _stop_open(
            session,
            subject_type=PLACEMENT_SUBJECT,
            subject_id=previous.id,
            kind=DeadlineKind.placement_plan,
            on=placement.start_date,
        )
    deadline_service.deadline_open(
        session,
        rule=care_rules.PLACEMENT_PLAN,
        subject_type=PLACEMENT_SUBJECT,
        subject_id=placement.id,
        case_id=period.case_id,
        child_id=period.child_id,
        start_date=placement.start_date,
        due_date=timescales.placement_plan_due(placement.start_date),
    )
    session.flush()


def _stop_open(
    session: Session, *, subject_type: str, subject_id: uuid.UUID, kind: DeadlineKind, on: date
) -> None:
    for deadline in session.scalars(
        select(Deadline).where(
            Deadline.subject_type == subject_type,
            Deadline.subject_id == subject_id,
            Deadline.kind == kind,
            Deadline.met_date.is_(None),
            Deadline.stopped_date.is_(None),
        )
    ):
        deadline.stopped_date = max(on, deadline.start_date)


def require_row_version(current: int, expected: int) -> None:
    """412 unless the caller last saw the version the row has now (as
    ``app.workflow.engine.require_version`` for rows without a state); nothing changes."""
    if current != expected:
        raise PreconditionFailed(
            f"This record is at version {current}, not {expected}: someone changed it since you "
            "loaded it. Reload it and try again."
        )


# --- loading -----------------------------------------------------------------------------------


def period_for_change(
    session: Session, *, actor: Principal, period_id: uuid.UUID
) -> tuple[PeriodOfCare, Case]:
    """The period a record is written on: its child visible (404), its case one the caller may
    change (403), and still looked after (409: nothing is recorded on a period that ended).
    The health module writes through it too."""
    period = session.get(PeriodOfCare, period_id)
    if period is None:
        raise NotFound(PERIOD_NOT_VISIBLE)
    case = case_service.case_for_change(
        session, actor=actor, case_id=period.case_id, refuse_closed=True
    )
    if period.state != LOOKED_AFTER:
        end = period.end_date.isoformat() if period.end_date else "?"
        raise Conflict(
            f"This period of care ceased on {end}: plans and health records are recorded only "
            "while the child is looked after.",
            code="period_of_care_ceased",
            period_id=str(period.id),
        )
    return period, case


def _check_date(
    session: Session,
    *,
    case: Case,
    period: PeriodOfCare,
    kind: PlanKind,
    plan_date: date,
    earliest: date,
) -> None:
    rule = RULE_OF_KIND[kind]
    if plan_date > clock.today():
        raise Invalid.field("plan_date", "A plan cannot be dated in the future.", rule=rule)
    case_service.refuse_after_death(session, case=case, field="plan_date", when=plan_date)
    if plan_date < earliest:
        raise Invalid.field(
            "plan_date",
            f"A {WORDS[kind]} of this period cannot be dated before {earliest.isoformat()} "
            f"(care started on {period.start_date.isoformat()}): {rule}.",
            rule=rule,
        )


def _check_fields(kind: PlanKind, body: PlanVersionCreate) -> None:
    if kind is PlanKind.permanence_plan and body.permanence_option is None:
        raise Invalid.field(
            "permanence_option",
            "A permanence plan names its option (e.g. return home, adoption, special "
            "guardianship).",
            rule=RULE_OF_KIND[kind],
        )
    if kind is not PlanKind.permanence_plan and body.permanence_option is not None:
        raise Invalid.field(
            "permanence_option",
            f"A {WORDS[kind]} has no permanence option; only a permanence plan does.",
        )
    if kind is not PlanKind.pep and body.school_name is not None:
        raise Invalid.field("school_name", f"A {WORDS[kind]} has no school; only a PEP does.")


def _earliest(
    session: Session,
    *,
    case: Case,
    period: PeriodOfCare,
    kind: PlanKind,
    placement: Placement | None,
) -> date:
    """The earliest date a plan may carry. A care plan may be prepared before the first placement
    (reg 4(2)), and a placement plan before its placement (reg 9(1)(a)) — but not before the case
    was opened; a later placement's plan not before care started; a PEP or permanence plan not
    before the child became looked after."""
    if kind is PlanKind.care_plan:
        return case.opened_date
    if kind is PlanKind.placement_plan:
        assert placement is not None
        return case.opened_date if placement.start_date == period.start_date else period.start_date
    return period.start_date


# --- writes ------------------------------------------------------------------------------------


def _meet(session: Session, *, plan: CLAPlan, plan_date: date, first: bool) -> None:
    """Recording a plan meets its deadline (met, or missed when after the due date); each PEP,
    the first and every later version, meets the PEP review due and opens the next (rule 25)."""
    if plan.kind is PlanKind.placement_plan:
        assert plan.placement_id is not None
        deadline_service.deadline_meet(
            session,
            subject_type=PLACEMENT_SUBJECT,
            subject_id=plan.placement_id,
            kind=DeadlineKind.placement_plan,
            met_date=plan_date,
        )
        return
    if first:
        deadline_service.deadline_meet(
            session,
            subject_type=PERIOD_SUBJECT,
            subject_id=plan.period_id,
            kind=DeadlineKind(plan.kind.value),
            met_date=plan_date,
        )
    if plan.kind is PlanKind.pep:
        deadline_service.deadline_meet(
            session,
            subject_type=PERIOD_SUBJECT,
            subject_id=plan.period_id,
            kind=DeadlineKind.pep_review,
            met_date=plan_date,
        )
        deadline_service.deadline_open(
            session,
            rule=care_rules.PEP_REVIEW,
            subject_type=PERIOD_SUBJECT,
            subject_id=plan.period_id,
            case_id=plan.case_id,
            child_id=plan.child_id,
            start_date=plan_date,
            due_date=timescales.pep_review_due(plan_date),
        )


def _add_version(
    session: Session,
    *,
    actor: Principal,
    plan: CLAPlan,
    number: int,
    plan_date: date,
    body: PlanVersionCreate,
) -> CLAPlanVersion:
    version = CLAPlanVersion(
        plan_id=plan.id,
        number=number,
        plan_date=plan_date,
        author_id=actor.user_id,
        summary=body.summary,
        permanence_option=body.permanence_option,
        school_name=body.school_name,
    )
    session.add(version)
    _meet(session, plan=plan, plan_date=plan_date, first=number == 1)
    session.flush()
    case_event_append(
        session,
        case_id=plan.case_id,
        child_id=plan.child_id,
        actor=actor,
        action=f"{plan.kind.value}_{'recorded' if number == 1 else 'revised'}",
        subject_type=SUBJECT,
        subject_id=plan.id,
        changes={
            "kind": plan.kind.value,
            "number": number,
            "plan_date": plan_date,
            "placement_id": plan.placement_id,
            "permanence_option": body.permanence_option,
            "school_name": body.school_name,
            "summary": body.summary,
        },
    )
    return version


def plan_record(
    session: Session,
    *,
    actor: Principal,
    period_id: uuid.UUID,
    kind: PlanKind,
    body: PlanVersionCreate,
) -> CLAPlan:
    """Record the first version of a plan of the period (a placement plan: of one placement).

    It meets the plan's deadline. A second plan of the same kind (a placement's second placement
    plan) is a 409 naming the existing one: add a version to it instead.
    """
    period, case = period_for_change(session, actor=actor, period_id=period_id)
    _check_fields(kind, body)
    placement: Placement | None = None
    if kind is PlanKind.placement_plan:
        placement = _placement_of(session, period=period, body=body)
    plan_date = body.plan_date or clock.today()
    earliest = _earliest(session, case=case, period=period, kind=kind, placement=placement)
    _check_date(
        session, case=case, period=period, kind=kind, plan_date=plan_date, earliest=earliest
    )
    same = select(CLAPlan.id).where(CLAPlan.period_id == period.id, CLAPlan.kind == kind)
    if placement is not None:
        same = same.where(CLAPlan.placement_id == placement.id)
    existing = session.scalar(same.limit(1))
    if existing is not None:
        raise Conflict(
            f"This {WORDS[kind]} is already recorded; add a new version to it "
            f"(POST /api/v1/plans/{existing}/versions) rather than a second plan.",
            code="plan_already_recorded",
            plan_id=str(existing),
        )
    plan = CLAPlan(
        id=uuid.uuid4(),
        period_id=period.id,
        case_id=period.case_id,
        child_id=period.child_id,
        kind=kind,
        placement_id=placement.id if placement is not None else None,
        current_number=1,
        current_plan_date=plan_date,
    )
    session.add(plan)
    session.flush()
    _add_version(session, actor=actor, plan=plan, number=1, plan_date=plan_date, body=body)
    return plan


def _placement_of(session: Session, *, period: PeriodOfCare, body: PlanVersionCreate) -> Placement:
    placement_id = body.placement_id if isinstance(body, PlacementPlanCreate) else None
    if placement_id is None:
        placement = session.scalar(
            select(Placement)
            .where(Placement.period_id == period.id, Placement.end_date.is_(None))
            .limit(1)
        )
        if placement is None:
            raise Invalid.field(
                "placement_id", "The child has no current placement: name the placement."
            )
        return placement
    placement = session.get(Placement, placement_id)
    if placement is None or placement.period_id != period.id:
        raise Invalid.field(
            "placement_id",
            "This is not a placement of this period of care (reg 9: a placement plan is for a "
            "placement of the child).",
            rule=RULE_OF_KIND[PlanKind.placement_plan],
        )
    return placement


def plan_revise(
    session: Session,
    *,
    actor: Principal,
    plan_id: uuid.UUID,
    expected_version: int,
    body: PlanVersionCreate,
) -> CLAPlan:
    """Add a version that supersedes the current one (a stale ``expected_version`` is a 412 and
    changes nothing). The new version cannot predate the one it supersedes."""
    plan = session.get(CLAPlan, plan_id)
    if plan is None:
        raise NotFound(PLAN_NOT_VISIBLE)
    period, case = period_for_change(session, actor=actor, period_id=plan.period_id)
    require_row_version(plan.version, expected_version)
    _check_fields(plan.kind, body)
    plan_date = body.plan_date or clock.today()
    placement = session.get(Placement, plan.placement_id) if plan.placement_id else None
    earliest = max(
        plan.current_plan_date,
        _earliest(session, case=case, period=period, kind=plan.kind, placement=placement),
    )
    _check_date(
        session, case=case, period=period, kind=plan.kind, plan_date=plan_date, earliest=earliest
    )
    number = plan.current_number + 1
    # Changing the plan row moves its version: of two revisions sent at once only one wins.
    plan.current_number = number
    plan.current_plan_date = plan_date
    session.flush()
    _add_version(session, actor=actor, plan=plan, number=number, plan_date=plan_date, body=body)
    return plan


# --- reads -------------------------------------------------------------------------------------


def plan_get(session: Session, *, actor: Principal, plan_id: uuid.UUID) -> CLAPlan:
    """The plan, if its child is visible to the caller (404 otherwise); the read is logged."""
    plan = session.get(CLAPlan, plan_id)
    if plan is None:
        raise NotFound(PLAN_NOT_VISIBLE)
    get_person_for_read(
        session, principal=actor, person_id=plan.child_id, resource=SUBJECT, case_id=plan.case_id
    )
    return plan


def plans_of_period(session: Session, *, actor: Principal, period_id: uuid.UUID) -> list[CLAPlan]:
    """Every plan of the period, the latest dated first; the read is logged."""
    period = session.get(PeriodOfCare, period_id)
    if period is None:
        raise NotFound(PERIOD_NOT_VISIBLE)
    get_person_for_read(
        session,
        principal=actor,
        person_id=period.child_id,
        resource="cla_plans",
        case_id=period.case_id,
    )
    return list(
        session.scalars(
            select(CLAPlan)
            .where(CLAPlan.period_id == period.id)
            .order_by(CLAPlan.current_plan_date.desc(), CLAPlan.created_at.desc(), CLAPlan.kind)
        )
    )


def plan_versions(
    session: Session, *, plan_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[CLAPlanVersion]]:
    """The versions of the plans (already read by the caller), newest first, in one query."""
    history: dict[uuid.UUID, list[CLAPlanVersion]] = {plan_id: [] for plan_id in plan_ids}
    if not plan_ids:
        return history
    for version in session.scalars(
        select(CLAPlanVersion)
        .where(CLAPlanVersion.plan_id.in_(plan_ids))
        .order_by(CLAPlanVersion.number.desc())
    ):
        history[version.plan_id].append(version)
    return history
