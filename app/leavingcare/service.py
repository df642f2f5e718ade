"""Care leavers: who is one (derived from the care history), their pathway needs assessment, plan
and reviews, personal adviser, and the contacts behind the SSDA903 OC3 return.

The category is derived, never typed (:mod:`app.leavingcare.eligibility`); ``leaving_care_status``
keeps the last derivation. There is no scheduler yet, so :func:`leaving_care_refresh` — which
records the category and opens the needs-assessment clock (timescales rule 26) once a child is
eligible — runs when care ceases (:func:`on_care_ceased`, called by :mod:`app.care.hooks`), on every
leaving-care write, and from the demo data; a nightly job should call it for each looked-after
child who turns 16 (a child can become eligible on a birthday without any record changing).

Every read that shows a young person writes ``access_log``; every change writes a case event on
the case the leaving-care work is recorded on, in the same transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import case_event_append
from app.calendar import add_months
from app.cases import service as case_service
from app.cases.workflow import CLOSED
from app.cases.workflow import LOOKED_AFTER as CASE_LOOKED_AFTER
from app.deadlines import service as deadline_service
from app.deadlines.care_rules import (
    PATHWAY_NEEDS_ASSESSMENT,
    PATHWAY_PLAN,
    PATHWAY_PLAN_REVIEW,
)
from app.deadlines.rules import Rule
from app.errors import Conflict, Invalid, NotFound, PreconditionFailed
from app.leavingcare import eligibility
from app.leavingcare.codes import WITH_FORMER_FOSTER_CARERS, Accommodation, Activity, InTouch
from app.leavingcare.eligibility import Eligibility, age_on, birthday
from app.models.care import LegalStatusRecord, PeriodOfCare
from app.models.cases import Case
from app.models.deadlines import Deadline, DeadlineKind
from app.models.leavingcare import (
    CareLeaverCategory,
    LeavingCareContact,
    LeavingCareStatus,
    PathwayNeedsAssessment,
    PathwayPlan,
    PathwayPlanReview,
    PersonalAdviserAllocation,
)
from app.models.org import Role, UserAccount
from app.models.people import Person
from app.security.access import get_person_for_read, person_denied, readable_people
from app.security.principal import Principal

SUBJECT = "leaving_care"
PLAN_SUBJECT = "pathway_plan"
PLAN_NOT_VISIBLE = "There is no pathway plan with this id that you can see."
#: Rule 27: the pathway plan is reviewed at least every 6 months.
PATHWAY_REVIEW_MONTHS = 6
#: Rule 26: the needs assessment within 3 months of the 16th birthday or of becoming eligible.
NEEDS_ASSESSMENT_MONTHS = 3
#: Who may be a personal adviser (a practitioner with an account; not an IRO, who must stay
#: independent of the case, nor an administrator or integration).
ADVISER_ROLES = frozenset({Role.social_worker, Role.team_manager, Role.service_manager})
NEVER_ELIGIBLE_RULE = "Children Act 1989 Sch 2 para 19B; Care Planning Regulations 2010 reg 40"


# --- shared helpers (also used by app.permanence) ----------------------------------------------


class Versioned(Protocol):
    version: int


def require_version(record: Versioned, expected_version: int) -> None:
    """412 unless the caller last saw the version the row has now (nothing changes)."""
    version = record.version
    if version != expected_version:
        raise PreconditionFailed(
            f"This record is at version {version}, not {expected_version}: someone changed it "
            "since you loaded it. Reload it and try again."
        )


def visible_child(
    session: Session, *, actor: Principal, child_id: uuid.UUID, resource: str
) -> Person:
    """The child if the caller may see them (404 otherwise, restricted records included), without
    logging a read: for writes, which log a case event instead."""
    child = session.scalar(readable_people(actor).where(Person.id == child_id))
    if child is None:
        raise person_denied(session, principal=actor, person_id=child_id, resource=resource)
    return child


def care_history(
    session: Session, *, child_id: uuid.UUID
) -> tuple[list[PeriodOfCare], list[LegalStatusRecord]]:
    periods = list(
        session.scalars(
            select(PeriodOfCare)
            .where(PeriodOfCare.child_id == child_id)
            .order_by(PeriodOfCare.start_date)
        )
    )
    statuses = list(
        session.scalars(
            select(LegalStatusRecord)
            .where(LegalStatusRecord.child_id == child_id)
            .order_by(LegalStatusRecord.start_date)
        )
    )
    return periods, statuses


def latest_period(session: Session, *, child_id: uuid.UUID) -> PeriodOfCare | None:
    return session.scalar(
        select(PeriodOfCare)
        .where(PeriodOfCare.child_id == child_id)
        .order_by(PeriodOfCare.start_date.desc())
        .limit(1)
    )


def working_case(session: Session, *, child_id: uuid.UUID) -> Case | None:
    """The case a young person's leaving-care and permanence records are written on: the case of
    the latest period of care, or — once that case has closed — the child's open case."""
    period = latest_period(session, child_id=child_id)
    if period is not None:
        case = session.get(Case, period.case_id)
        if case is not None and case.state != CLOSED:
            return case
    return session.scalar(
        select(Case)
        .where(Case.child_id == child_id, Case.state != CLOSED)
        .order_by(Case.opened_date.desc())
        .limit(1)
    )


def case_for_child_change(
    session: Session, *, actor: Principal, child_id: uuid.UUID, resource: str
) -> tuple[Person, Case]:
    """The child (404 if not visible) and the case to record on (403 if the caller may not
    change it; 409 if the child has no open case)."""
    child = visible_child(session, actor=actor, child_id=child_id, resource=resource)
    case = working_case(session, child_id=child_id)
    if case is None:
        # A care leaver's records are changed by the team that held their last case: a caller who
        # may not change them gets 403, not word that the child has no open case (OWASP API1).
        case_service.require_child_change(session, actor=actor, child_id=child_id)
        raise Conflict(
            "This child has no open case to record this on: a new contact opens one.",
            code="no_open_case",
        )
    case = case_service.case_for_change(session, actor=actor, case_id=case.id, refuse_closed=True)
    return child, case


# --- eligibility -------------------------------------------------------------------------------


def _special_guardianship_after_16(session: Session, *, child: Person) -> bool:
    """Children Act 1989 s.24(1A): a special guardianship order after the 16th birthday makes a
    young person qualifying (the order is recorded by :mod:`app.permanence`)."""
    from app.models.permanence import PermanenceOrder, PermanenceOrderKind

    if child.date_of_birth is None:
        return False
    found = session.scalar(
        select(PermanenceOrder.id)
        .where(
            PermanenceOrder.child_id == child.id,
            PermanenceOrder.kind == PermanenceOrderKind.special_guardianship,
            PermanenceOrder.order_date >= birthday(child.date_of_birth, 16),
        )
        .limit(1)
    )
    return found is not None


def child_eligibility(session: Session, *, child: Person, as_of: date | None = None) -> Eligibility:
    """The young person's category on ``as_of`` (default today), from their care history."""
    as_of = as_of or clock.today()
    if child.date_of_birth is None:
        return Eligibility(
            CareLeaverCategory.none, "Not yet born.", NEVER_ELIGIBLE_RULE, None, 0, False
        )
    periods, statuses = care_history(session, child_id=child.id)
    return eligibility.derive(
        born=child.date_of_birth,
        died=child.date_of_death,
        periods=periods,
        statuses=statuses,
        as_of=as_of,
        special_guardianship_after_16=_special_guardianship_after_16(session, child=child),
    )


def _require_care_leaver(found: Eligibility) -> None:
    """A leaving-care record only for an eligible, relevant or former relevant child: 409 naming
    the rule that decides it."""
    if not found.is_care_leaver:
        raise Conflict(
            f"This young person is not an eligible, relevant or former relevant child, so there is "
            f"no leaving-care record to keep: {found.reason} ({found.rule}).",
            code="not_a_care_leaver",
            rule=found.rule,
            category=found.category.value,
        )


def _status_row(session: Session, *, child_id: uuid.UUID) -> LeavingCareStatus | None:
    return session.scalar(
        select(LeavingCareStatus).where(LeavingCareStatus.child_id == child_id).limit(1)
    )


def _open_once(
    session: Session, *, rule: Rule, status: LeavingCareStatus, start_date: date, due_date: date
) -> Deadline | None:
    """Open the rule's deadline for the young person unless one was ever opened (idempotent)."""
    already = session.scalar(
        select(Deadline.id)
        .where(
            Deadline.subject_type == SUBJECT,
            Deadline.subject_id == status.id,
            Deadline.kind == rule.kind,
        )
        .limit(1)
    )
    if already is not None:
        return None
    return deadline_service.deadline_open(
        session,
        rule=rule,
        subject_type=SUBJECT,
        subject_id=status.id,
        case_id=status.case_id,
        child_id=status.child_id,
        start_date=start_date,
        due_date=max(due_date, start_date),
    )


def _refresh(
    session: Session, *, actor: Principal | None, child: Person
) -> tuple[LeavingCareStatus | None, Eligibility]:
    found = child_eligibility(session, child=child)
    status = _status_row(session, child_id=child.id)
    case = working_case(session, child_id=child.id)
    if status is None and (found.category is CareLeaverCategory.none or case is None):
        return None, found
    today = clock.today()
    before = None if status is None else status.category
    if status is None:
        assert case is not None
        status = LeavingCareStatus(
            id=uuid.uuid4(),
            child_id=child.id,
            case_id=case.id,
            category=found.category,
            reason=found.reason,
            eligible_since=found.eligible_since,
            computed_on=today,
        )
        session.add(status)
        session.flush()
    elif (status.category, status.reason, status.eligible_since) != (
        found.category,
        found.reason,
        found.eligible_since,
    ) or (case is not None and status.case_id != case.id):
        status.category = found.category
        status.reason = found.reason
        status.eligible_since = found.eligible_since
        status.computed_on = today
        if case is not None:
            status.case_id = case.id
        session.flush()
    opened: date | None = None
    if found.category in (CareLeaverCategory.eligible, CareLeaverCategory.relevant):
        # Rule 26 (CPPCR reg 42(1)): within 3 months of the 16th birthday, or of becoming an
        # eligible child after it. The pathway plan follows the assessment in the same window.
        assert found.eligible_since is not None
        due = add_months(found.eligible_since, NEEDS_ASSESSMENT_MONTHS)
        if _open_once(
            session,
            rule=PATHWAY_NEEDS_ASSESSMENT,
            status=status,
            start_date=found.eligible_since,
            due_date=due,
        ):
            opened = due
        _open_once(
            session, rule=PATHWAY_PLAN, status=status, start_date=found.eligible_since, due_date=due
        )
    if before != found.category or opened is not None:
        case_event_append(
            session,
            case_id=status.case_id,
            child_id=child.id,
            actor=actor,
            action="leaving_care_category_changed",
            subject_type=SUBJECT,
            subject_id=status.id,
            reason=found.reason,
            changes={
                "category": {"before": before, "after": found.category.value},
                "eligible_since": found.eligible_since,
                "needs_assessment_due": opened,
                "rule": found.rule,
            },
        )
    session.flush()
    return status, found


def leaving_care_refresh(
    session: Session, *, actor: Principal | None, child_id: uuid.UUID
) -> LeavingCareStatus | None:
    """Record the young person's current category and, once they are an eligible (or relevant)
    child, open the needs-assessment and pathway-plan clocks (timescales rule 26) — once: calling
    it again changes nothing. Returns the status row (None for a child who has never been in the
    leaving-care cohort). Called when care ceases, on every leaving-care write, by the demo data,
    and meant for a nightly job (children become eligible on birthdays). Checks no access: the
    callers have."""
    child = session.get(Person, child_id)
    if child is None:
        raise NotFound("There is no person with this id.")
    status, _found = _refresh(session, actor=actor, child=child)
    return status


def leaving_care_refresh_due(session: Session) -> int:
    """The daily job (``casework care refresh``): refresh every young person whose leaving-care
    category can change without any record changing — children looked after now who are 16 or
    over (an eligible child's needs assessment is due 3 months after the 16th birthday, rule 26)
    and young people already in the leaving-care cohort (relevant turns former relevant at 18).
    Idempotent: a second run the same day changes nothing. Returns how many were looked at."""
    sixteen_ago = add_months(clock.today(), -16 * 12)
    in_care_16 = select(PeriodOfCare.child_id).where(
        PeriodOfCare.state == "looked_after",
        PeriodOfCare.child_id == Person.id,
        Person.date_of_birth <= sixteen_ago,
    )
    cohort = select(LeavingCareStatus.child_id)
    child_ids = set(session.scalars(in_care_16)) | set(session.scalars(cohort))
    for child_id in sorted(child_ids):
        leaving_care_refresh(session, actor=None, child_id=child_id)
    return len(child_ids)


def on_care_ceased(session: Session, *, actor: Principal, period: PeriodOfCare) -> None:
    """Care has ceased (called by :mod:`app.care.hooks` inside the ceasing transaction): check the
    permanence records agree with the reason (:mod:`app.permanence`), record the young person's
    leaving-care category, and, for a relevant or former relevant child, move the case to
    ``care_leaver`` (leaving-care support continues on it: Children Act 1989 ss.23A-23C)."""
    from app.permanence.service import check_care_ceased

    check_care_ceased(session, period=period)
    child = session.get(Person, period.child_id)
    assert child is not None  # a foreign key
    _status, found = _refresh(session, actor=actor, child=child)
    case = session.get(Case, period.case_id)
    if (
        case is not None
        and case.state == CASE_LOOKED_AFTER
        and found.category in (CareLeaverCategory.relevant, CareLeaverCategory.former_relevant)
    ):
        case_service.case_transition(
            session,
            actor=actor,
            case_id=case.id,
            event="become_care_leaver",
            expected_version=case.version,
            reason=found.reason,
        )


# --- reads -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeavingCareView:
    child: Person
    found: Eligibility
    status: LeavingCareStatus | None
    advisers: list[PersonalAdviserAllocation]
    assessments: list[PathwayNeedsAssessment]
    plan: PathwayPlan | None
    reviews: list[PathwayPlanReview]
    deadlines: list[Deadline]
    contacts: list[LeavingCareContact]


def leaving_care_get(session: Session, *, actor: Principal, child_id: uuid.UUID) -> LeavingCareView:
    """The young person's leaving-care picture: the category with its reason, computed now from
    the care history, and the records kept. The read is written to access_log."""
    child = get_person_for_read(
        session, principal=actor, person_id=child_id, resource="leaving_care"
    )
    found = child_eligibility(session, child=child)
    status = _status_row(session, child_id=child.id)
    plan = session.scalar(select(PathwayPlan).where(PathwayPlan.child_id == child.id))
    reviews: list[PathwayPlanReview] = []
    if plan is not None:
        reviews = list(
            session.scalars(
                select(PathwayPlanReview)
                .where(PathwayPlanReview.plan_id == plan.id)
                .order_by(PathwayPlanReview.review_date, PathwayPlanReview.created_at)
            )
        )
    subjects = [s.id for s in (status, plan) if s is not None]
    deadlines = (
        list(
            session.scalars(
                select(Deadline)
                .where(Deadline.subject_id.in_(subjects))
                .order_by(Deadline.due_date, Deadline.created_at)
            )
        )
        if subjects
        else []
    )
    return LeavingCareView(
        child=child,
        found=found,
        status=status,
        advisers=list(
            session.scalars(
                select(PersonalAdviserAllocation)
                .where(PersonalAdviserAllocation.child_id == child.id)
                .order_by(
                    PersonalAdviserAllocation.start_date, PersonalAdviserAllocation.created_at
                )
            )
        ),
        assessments=list(
            session.scalars(
                select(PathwayNeedsAssessment)
                .where(PathwayNeedsAssessment.child_id == child.id)
                .order_by(PathwayNeedsAssessment.completed_date)
            )
        ),
        plan=plan,
        reviews=reviews,
        deadlines=deadlines,
        contacts=list(
            session.scalars(
                select(LeavingCareContact)
                .where(LeavingCareContact.child_id == child.id)
                .order_by(LeavingCareContact.contact_date, LeavingCareContact.created_at)
            )
        ),
    )


def next_review_due(session: Session, *, plan: PathwayPlan) -> date | None:
    return session.scalar(
        select(Deadline.due_date)
        .where(
            Deadline.subject_type == PLAN_SUBJECT,
            Deadline.subject_id == plan.id,
            Deadline.kind == DeadlineKind.pathway_plan_review,
            Deadline.met_date.is_(None),
            Deadline.stopped_date.is_(None),
        )
        .order_by(Deadline.due_date)
        .limit(1)
    )


# --- writes ------------------------------------------------------------------------------------


def _for_write(
    session: Session, *, actor: Principal, child_id: uuid.UUID
) -> tuple[Person, Case, LeavingCareStatus, Eligibility]:
    """The young person and case for a leaving-care write: visible (404), the caller's to change
    (403), a care leaver (409), with the status refreshed first."""
    child, case = case_for_child_change(
        session, actor=actor, child_id=child_id, resource="leaving_care"
    )
    status, found = _refresh(session, actor=actor, child=child)
    _require_care_leaver(found)
    assert status is not None  # a care leaver always has a status row
    return child, case, status, found


def _not_future(field: str, day: date) -> None:
    if day > clock.today():
        raise Invalid.field(field, "This date cannot be in the future.")


def needs_assessment_record(
    session: Session,
    *,
    actor: Principal,
    child_id: uuid.UUID,
    completed_date: date,
    summary: str | None,
) -> PathwayNeedsAssessment:
    """Record the needs assessment for the pathway plan (CPPCR reg 42): it meets rule 26."""
    child, case, status, _found = _for_write(session, actor=actor, child_id=child_id)
    _not_future("completed_date", completed_date)
    assert child.date_of_birth is not None
    if completed_date < birthday(child.date_of_birth, 14):
        raise Invalid.field(
            "completed_date",
            "A needs assessment for the pathway plan is not made before the 14th birthday "
            "(Care Planning Regulations 2010 reg 42).",
            rule="CPPCR reg 42",
        )
    assessment = PathwayNeedsAssessment(
        child_id=child.id,
        case_id=case.id,
        completed_date=completed_date,
        summary=summary,
        recorded_by_id=actor.user_id,
    )
    session.add(assessment)
    deadline_service.deadline_meet(
        session,
        subject_type=SUBJECT,
        subject_id=status.id,
        kind=DeadlineKind.pathway_needs_assessment,
        met_date=completed_date,
    )
    session.flush()
    case_event_append(
        session,
        case_id=case.id,
        child_id=child.id,
        actor=actor,
        action="pathway_needs_assessment_recorded",
        subject_type=SUBJECT,
        subject_id=assessment.id,
        changes={"completed_date": completed_date},
    )
    return assessment


def pathway_plan_create(
    session: Session, *, actor: Principal, child_id: uuid.UUID, plan_date: date, summary: str
) -> PathwayPlan:
    """The pathway plan, prepared from the needs assessment (CPPCR reg 43): it meets the plan's
    clock and the first review falls due 6 months later (rule 27)."""
    child, case, status, _found = _for_write(session, actor=actor, child_id=child_id)
    _not_future("plan_date", plan_date)
    assessed = session.scalar(
        select(PathwayNeedsAssessment.completed_date)
        .where(PathwayNeedsAssessment.child_id == child.id)
        .order_by(PathwayNeedsAssessment.completed_date)
        .limit(1)
    )
    if assessed is None:
        raise Conflict(
            "Record the needs assessment first: the pathway plan is prepared from it (Care "
            "Planning Regulations 2010 reg 43).",
            code="needs_assessment_first",
            rule="CPPCR reg 43",
        )
    if plan_date < assessed:
        raise Invalid.field(
            "plan_date",
            f"The pathway plan cannot be before the needs assessment ({assessed.isoformat()}) it "
            "is prepared from (CPPCR reg 43).",
            rule="CPPCR reg 43",
        )
    if session.scalar(select(PathwayPlan.id).where(PathwayPlan.child_id == child.id)) is not None:
        raise Conflict(
            "This young person already has a pathway plan: update it or record a review.",
            code="pathway_plan_exists",
        )
    plan = PathwayPlan(
        id=uuid.uuid4(), child_id=child.id, case_id=case.id, plan_date=plan_date, summary=summary
    )
    session.add(plan)
    deadline_service.deadline_meet(
        session,
        subject_type=SUBJECT,
        subject_id=status.id,
        kind=DeadlineKind.pathway_plan,
        met_date=plan_date,
    )
    deadline_service.deadline_open(
        session,
        rule=PATHWAY_PLAN_REVIEW,
        subject_type=PLAN_SUBJECT,
        subject_id=plan.id,
        case_id=case.id,
        child_id=child.id,
        start_date=plan_date,
        due_date=add_months(plan_date, PATHWAY_REVIEW_MONTHS),
    )
    session.flush()
    case_event_append(
        session,
        case_id=case.id,
        child_id=child.id,
        actor=actor,
        action="pathway_plan_prepared",
        subject_type=PLAN_SUBJECT,
        subject_id=plan.id,
        changes={"plan_date": plan_date},
    )
    return plan


def _plan_for_write(
    session: Session, *, actor: Principal, plan_id: uuid.UUID
) -> tuple[PathwayPlan, Case]:
    plan = session.get(PathwayPlan, plan_id)
    if plan is None:
        raise NotFound(PLAN_NOT_VISIBLE)
    _child, case, _status, _found = _for_write(session, actor=actor, child_id=plan.child_id)
    return plan, case


def pathway_plan_update(
    session: Session, *, actor: Principal, plan_id: uuid.UUID, expected_version: int, summary: str
) -> PathwayPlan:
    """Keep the plan up to date (Care Leavers (England) Regulations 2010 reg 6)."""
    plan, case = _plan_for_write(session, actor=actor, plan_id=plan_id)
    require_version(plan, expected_version)
    if summary == plan.summary:
        return plan
    plan.summary = summary
    session.flush()
    case_event_append(
        session,
        case_id=case.id,
        child_id=plan.child_id,
        actor=actor,
        action="pathway_plan_updated",
        subject_type=PLAN_SUBJECT,
        subject_id=plan.id,
        changes={"summary": "changed"},
    )
    return plan


def pathway_plan_review_add(
    session: Session,
    *,
    actor: Principal,
    plan_id: uuid.UUID,
    review_date: date,
    notes: str | None,
) -> PathwayPlanReview:
    """A review of the pathway plan: it meets the review due and the next falls due 6 months
    later (Care Leavers (England) Regulations 2010 reg 7; timescales rule 27)."""
    plan, case = _plan_for_write(session, actor=actor, plan_id=plan_id)
    _not_future("review_date", review_date)
    earliest = plan.last_review_date or plan.plan_date
    if review_date < earliest:
        raise Invalid.field(
            "review_date",
            f"A review cannot be before the plan or its last review ({earliest.isoformat()}).",
            rule="timescales rule 27",
        )
    review = PathwayPlanReview(
        plan_id=plan.id, review_date=review_date, notes=notes, recorded_by_id=actor.user_id
    )
    session.add(review)
    # Touching the plan moves its version: two reviews recorded at once cannot both win.
    plan.last_review_date = review_date
    deadline_service.deadline_meet(
        session,
        subject_type=PLAN_SUBJECT,
        subject_id=plan.id,
        kind=DeadlineKind.pathway_plan_review,
        met_date=review_date,
    )
    deadline_service.deadline_open(
        session,
        rule=PATHWAY_PLAN_REVIEW,
        subject_type=PLAN_SUBJECT,
        subject_id=plan.id,
        case_id=plan.case_id,
        child_id=plan.child_id,
        start_date=review_date,
        due_date=add_months(review_date, PATHWAY_REVIEW_MONTHS),
    )
    session.flush()
    case_event_append(
        session,
        case_id=case.id,
        child_id=plan.child_id,
        actor=actor,
        action="pathway_plan_reviewed",
        subject_type=PLAN_SUBJECT,
        subject_id=plan.id,
        changes={"review_id": review.id, "review_date": review_date},
    )
    return review


def personal_adviser_allocate(
    session: Session,
    *,
    actor: Principal,
    child_id: uuid.UUID,
    adviser_id: uuid.UUID,
    start_date: date,
    reason: str | None,
) -> PersonalAdviserAllocation:
    """Allocate a personal adviser from ``start_date``; the current one's allocation ends that day
    (Children Act 1989 s.23B(2), s.23C(3)(a); CPPCR reg 44). The history is kept."""
    child, case, _status, _found = _for_write(session, actor=actor, child_id=child_id)
    _not_future("start_date", start_date)
    adviser = session.get(UserAccount, adviser_id)
    if adviser is None or not adviser.is_active:
        raise Invalid.field("adviser_id", "There is no active user with this id.")
    if adviser.role not in ADVISER_ROLES:
        raise Invalid.field(
            "adviser_id",
            "A personal adviser is a practitioner (social worker or manager); an IRO stays "
            "independent of the young person's plan.",
            rule="CPPCR reg 44",
        )
    current = session.scalar(
        select(PersonalAdviserAllocation).where(
            PersonalAdviserAllocation.child_id == child.id,
            PersonalAdviserAllocation.end_date.is_(None),
        )
    )
    if current is not None:
        if current.adviser_id == adviser_id:
            raise Conflict(
                "This personal adviser is already allocated to the young person.",
                code="adviser_already_allocated",
            )
        if start_date < current.start_date:
            raise Invalid.field(
                "start_date",
                f"The new allocation cannot start before the current one "
                f"({current.start_date.isoformat()}).",
            )
        current.end_date = start_date
        session.flush()
    allocation = PersonalAdviserAllocation(
        child_id=child.id,
        case_id=case.id,
        adviser_id=adviser_id,
        start_date=start_date,
        reason=reason,
        allocated_by_id=actor.user_id,
    )
    session.add(allocation)
    session.flush()
    case_event_append(
        session,
        case_id=case.id,
        child_id=child.id,
        actor=actor,
        action="personal_adviser_allocated",
        subject_type=SUBJECT,
        subject_id=allocation.id,
        reason=reason,
        changes={
            "adviser_id": {
                "before": None if current is None else current.adviser_id,
                "after": adviser_id,
            },
            "start_date": start_date,
        },
    )
    return allocation


def _check_contact_codes(
    *, in_touch: InTouch, activity: Activity, accommodation: Accommodation, age: int
) -> None:
    """The OC3 rules a single contact must keep."""
    unknown = (Activity.NOT_KNOWN, Accommodation.NOT_KNOWN)
    if in_touch in (InTouch.DIED, InTouch.RHOM) and (activity, accommodation) != unknown:
        raise Invalid.field(
            "activity",
            "A young person who has died or returned home for 6 months or more has activity and "
            "accommodation 0 (SSDA903 rule 344).",
            rule="SSDA903 344",
        )
    if in_touch is InTouch.YES and activity is Activity.NOT_KNOWN:
        raise Invalid.field(
            "activity",
            "In touch with the young person: record their activity, not 0 (SSDA903 rule 345).",
            rule="SSDA903 345",
        )
    if in_touch is InTouch.YES and accommodation is Accommodation.NOT_KNOWN:
        raise Invalid.field(
            "accommodation",
            "In touch with the young person: record their accommodation, not 0 (SSDA903 rule 345).",
            rule="SSDA903 345",
        )
    if accommodation in WITH_FORMER_FOSTER_CARERS and age < 18:
        raise Invalid.field(
            "accommodation",
            "Living with former foster carers (Z1/Z2) is for young people of 18 or over; a "
            "17-year-old with their carers is still looked after (SSDA903 rule 3001).",
            rule="SSDA903 3001",
        )


def contact_record(
    session: Session,
    *,
    actor: Principal,
    child_id: uuid.UUID,
    contact_date: date,
    in_touch: InTouch,
    activity: Activity,
    accommodation: Accommodation,
    notes: str | None,
) -> LeavingCareContact:
    """A dated contact with a care leaver: in touch, activity and accommodation, the three items of
    SSDA903 OC3 recorded together (rule 153)."""
    child, case, _status, _found = _for_write(session, actor=actor, child_id=child_id)
    _not_future("contact_date", contact_date)
    assert child.date_of_birth is not None
    periods, _statuses = care_history(session, child_id=child.id)
    if any(
        p.start_date <= contact_date and (p.end_date is None or p.end_date > contact_date)
        for p in periods
    ):
        raise Conflict(
            "The young person was still looked after on this date: care-leaver information is "
            "recorded once care has ceased (SSDA903 rules 1007, 1016).",
            code="still_looked_after",
            rule="SSDA903 1007",
        )
    _check_contact_codes(
        in_touch=in_touch,
        activity=activity,
        accommodation=accommodation,
        age=age_on(child.date_of_birth, contact_date),
    )
    died = session.scalar(
        select(LeavingCareContact.contact_date)
        .where(LeavingCareContact.child_id == child.id, LeavingCareContact.in_touch == InTouch.DIED)
        .limit(1)
    )
    if died is not None and in_touch is not InTouch.DIED:
        raise Conflict(
            f"The young person was recorded as having died ({died.isoformat()}); a later contact "
            "cannot say otherwise (SSDA903 rule 348).",
            code="recorded_as_died",
            rule="SSDA903 348",
        )
    contact = LeavingCareContact(
        child_id=child.id,
        case_id=case.id,
        contact_date=contact_date,
        in_touch=in_touch,
        activity=activity,
        accommodation=accommodation,
        notes=notes,
        recorded_by_id=actor.user_id,
    )
    session.add(contact)
    session.flush()
    case_event_append(
        session,
        case_id=case.id,
        child_id=child.id,
        actor=actor,
        action="care_leaver_contact_recorded",
        subject_type=SUBJECT,
        subject_id=contact.id,
        changes={
            "contact_date": contact_date,
            "in_touch": in_touch.value,
            "activity": activity.value,
            "accommodation": accommodation.value,
        },
    )
    return contact


# --- the SSDA903 OC3 row ------------------------------------------------------------------------


@dataclass(frozen=True)
class Oc3Row:
    """One SSDA903 OC3 row: CHILD is the returns module's to fill from the child's identifiers."""

    child_id: uuid.UUID
    date_of_birth: date
    birthday: date
    age: int
    in_touch: InTouch | None
    activity: Activity | None
    accommodation: Accommodation | None
    contact_date: date | None


#: Information is collected "around" the birthday: from 3 months before to 1 month after it
#: (SSDA903 guidance for OC3).
WINDOW_BEFORE_MONTHS, WINDOW_AFTER_MONTHS = 3, 1


def oc3_for_child(session: Session, child_id: uuid.UUID, year_end: date) -> Oc3Row | None:
    """The OC3 row for a care leaver whose 17th to 21st birthday falls in the year ending
    ``year_end`` (31 March), or None when they are not in the OC3 cohort.

    The cohort is the DfE validator's: relevant or former relevant (rule 1001: 13 weeks since 14,
    short breaks not counted, some care after 16, not adopted), not looked after on that birthday
    (rules 1007, 1016), not died in care (1000), not taken over by another council (1011), and a
    birthday of 17-21 in the year (391). The values are those of the latest contact within the
    window around the birthday; a young person who has died is DIED/0/0 (rules 344, 348). Values
    are None when no contact was recorded in the window (the returns module flags it).
    """
    child = session.get(Person, child_id)
    if child is None or child.date_of_birth is None:
        return None
    born = child.date_of_birth
    year_start = add_months(year_end, -12) + eligibility.ONE_DAY
    hits = [(n, birthday(born, n)) for n in range(17, 22)]
    in_year = [(n, day) for n, day in hits if year_start <= day <= year_end]
    if not in_year:
        return None
    age, day = in_year[0]
    periods, statuses = care_history(session, child_id=child.id)
    if not periods:
        return None
    if any(p.start_date <= day and (p.end_date is None or p.end_date >= day) for p in periods):
        return None  # rules 1007/1016: looked after on the birthday
    last = max(periods, key=lambda p: p.start_date)
    if last.reason_ceased is not None and last.reason_ceased.value == "E2":
        return None  # rule 1000: died in care
    # Eligibility as at the birthday the row is about (SSDA903 rules 131-133: a young person who
    # came into care after their 17th birthday is not a care leaver on that birthday).
    found = eligibility.derive(born=born, died=None, periods=periods, statuses=statuses, as_of=day)
    if found.eligible_since is None or found.category is CareLeaverCategory.none:
        return None
    if child.date_of_death is not None and child.date_of_death <= add_months(
        day, WINDOW_AFTER_MONTHS
    ):
        return Oc3Row(
            child.id,
            born,
            day,
            age,
            InTouch.DIED,
            Activity.NOT_KNOWN,
            Accommodation.NOT_KNOWN,
            child.date_of_death,
        )
    contact = session.scalar(
        select(LeavingCareContact)
        .where(
            LeavingCareContact.child_id == child.id,
            LeavingCareContact.contact_date >= add_months(day, -WINDOW_BEFORE_MONTHS),
            LeavingCareContact.contact_date <= add_months(day, WINDOW_AFTER_MONTHS),
        )
        .order_by(LeavingCareContact.contact_date.desc(), LeavingCareContact.created_at.desc())
        .limit(1)
    )
    if contact is None:
        return Oc3Row(child.id, born, day, age, None, None, None, None)
    return Oc3Row(
        child.id,
        born,
        day,
        age,
        contact.in_touch,
        contact.activity,
        contact.accommodation,
        contact.contact_date,
    )


def oc3_preview(
    session: Session, *, actor: Principal, child_id: uuid.UUID, year_end: date
) -> Oc3Row | None:
    """:func:`oc3_for_child` for one young person the caller may see (the read is logged)."""
    if (year_end.month, year_end.day) != (3, 31):
        raise Invalid.field("year_end", "The SSDA903 year ends on 31 March.")
    get_person_for_read(session, principal=actor, person_id=child_id, resource="oc3")
    return oc3_for_child(session, child_id, year_end)
