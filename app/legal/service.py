"""Legal planning: the legal gateway, pre-proceedings under the Public Law Outline (timescales
rule 35) and care proceedings with the 26-week limit and its extensions (rule 34: Children Act
1989 s.32(1)(a), (5)-(7), as amended by the Children and Families Act 2014 s.14).

Every write loads its case through :func:`app.cases.service.case_for_change` (404 for a child the
caller may not see, 403 for another team's case, 409 on a closed case); every state change goes
through ``app.workflow.engine``; every other change writes a case event in the same transaction;
every read that shows a child is access-logged.

Interim and final orders are recorded here only: the SSDA903 legal status (C1 for an interim care
order, C2 for a care order, E1 for a placement order) is the care module's record, changed there.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import access_log_append, case_event_append, diff
from app.calendar import add_months
from app.cases import service as case_service
from app.deadlines import service as deadline_service
from app.deadlines.care_rules import CARE_PROCEEDINGS, PRE_PROCEEDINGS_REVIEW
from app.errors import Conflict, Invalid, NotFound
from app.legal import timescales
from app.legal.workflow import (
    CARE_PROCEEDINGS_ISSUED,
    CARE_PROCEEDINGS_MACHINE,
    CARE_PROCEEDINGS_WITHDRAWN,
    FINAL_ORDER_MADE,
    ISSUED,
    OPEN,
    OUTCOME_EVENTS,
    PRE_PROCEEDINGS_CONTINUED,
    PRE_PROCEEDINGS_MACHINE,
    PRE_PROCEEDINGS_STARTED,
)
from app.models.cases import Case
from app.models.deadlines import Deadline, DeadlineKind
from app.models.legal import (
    TIME_LIMITED_KINDS,
    ApplicationKind,
    CareProceedings,
    CourtHearing,
    FinalOrder,
    GatewayDecision,
    HearingType,
    InterimOrder,
    InterimOrderKind,
    LegalGatewayMeeting,
    PreProceedings,
    PreProceedingsMeeting,
    PreProceedingsOutcome,
    ProceedingsExtension,
)
from app.models.people import Person
from app.security.access import get_person_for_read, person_visible
from app.security.principal import Principal
from app.workflow import engine

PRE_NOT_VISIBLE = "There are no pre-proceedings with this id that you can see."
PROCEEDINGS_NOT_VISIBLE = "There are no care proceedings with this id that you can see."
PRE_SUBJECT = "pre_proceedings"
PROCEEDINGS_SUBJECT = "care_proceedings"
GATEWAY_SUBJECT = "legal_gateway_meeting"
PLO = "Public Law Outline 2014 (practice guidance): timescales rule 35"
S31 = "Children Act 1989 s.31/s.32: timescales rule 34"


# --- shared checks -----------------------------------------------------------------------------


def _not_future(field: str, value: date, what: str) -> None:
    if value > clock.today():
        raise Invalid.field(field, f"{what} cannot be in the future.")


def _not_before(field: str, value: date, earliest: date, what: str, *, rule: str) -> None:
    if value < earliest:
        raise Invalid.field(field, f"This is before {what} ({earliest.isoformat()}).", rule=rule)


def _pre_for_write(session: Session, *, actor: Principal, pre_id: uuid.UUID) -> PreProceedings:
    pre = session.get(PreProceedings, pre_id)
    if pre is None:
        raise NotFound(PRE_NOT_VISIBLE)
    case_service.case_for_change(session, actor=actor, case_id=pre.case_id, refuse_closed=True)
    return pre


def _proceedings_for_write(
    session: Session, *, actor: Principal, proceedings_id: uuid.UUID
) -> tuple[CareProceedings, Case]:
    proceedings = session.get(CareProceedings, proceedings_id)
    if proceedings is None:
        raise NotFound(PROCEEDINGS_NOT_VISIBLE)
    case = case_service.case_for_change(
        session, actor=actor, case_id=proceedings.case_id, refuse_closed=True
    )
    return proceedings, case


def _require_open_proceedings(proceedings: CareProceedings) -> None:
    if proceedings.state != ISSUED:
        raise Conflict(
            f"These proceedings have ended ({proceedings.state}); nothing more is recorded on "
            "them.",
            code="proceedings_ended",
            current_state=proceedings.state,
        )


# --- the legal gateway and pre-proceedings -----------------------------------------------------


def gateway_meeting_record(
    session: Session,
    *,
    actor: Principal,
    case_id: uuid.UUID,
    meeting_date: date,
    decision: GatewayDecision,
    reasons: str,
    attendees: Sequence[str],
) -> tuple[LegalGatewayMeeting, PreProceedings | None]:
    """Record the legal gateway / legal planning meeting's decision. ``enter_pre_proceedings``
    opens pre-proceedings on the case (one open per child) and starts rule 35's review clock:
    the council's ``pre_proceedings_review_weeks`` (default 12) from the decision."""
    case = case_service.case_for_change(session, actor=actor, case_id=case_id, refuse_closed=True)
    _not_future("meeting_date", meeting_date, "A legal planning meeting")
    case_service.refuse_after_death(session, case=case, field="meeting_date", when=meeting_date)
    existing = None
    if decision is GatewayDecision.enter_pre_proceedings:
        existing = session.scalar(
            select(PreProceedings.id)
            .where(PreProceedings.child_id == case.child_id, PreProceedings.state == OPEN)
            .limit(1)
        )
        if existing is not None:
            raise Conflict(
                f"This child is already in pre-proceedings ({existing}); review them to an "
                "outcome before entering again (PLO: one pre-proceedings process at a time).",
                code="pre_proceedings_already_open",
                existing_pre_proceedings_id=str(existing),
                rule=PLO,
            )
    meeting = LegalGatewayMeeting(
        id=uuid.uuid4(),
        case_id=case.id,
        child_id=case.child_id,
        meeting_date=meeting_date,
        decision=decision,
        reasons=reasons.strip(),
        attendees=[a.strip() for a in attendees if a.strip()],
        recorded_by_id=actor.user_id,
    )
    session.add(meeting)
    session.flush()
    case_event_append(
        session,
        case_id=case.id,
        child_id=case.child_id,
        actor=actor,
        action="legal_gateway_decision",
        subject_type=GATEWAY_SUBJECT,
        subject_id=meeting.id,
        reason=meeting.reasons,
        changes={
            "meeting_date": meeting_date,
            "decision": decision.value,
            "attendees": meeting.attendees,
        },
    )
    if decision is not GatewayDecision.enter_pre_proceedings:
        return meeting, None
    pre = PreProceedings(
        id=uuid.uuid4(),
        case_id=case.id,
        child_id=case.child_id,
        gateway_meeting_id=meeting.id,
        decision_date=meeting_date,
    )
    session.add(pre)
    engine.start(
        session,
        machine=PRE_PROCEEDINGS_MACHINE,
        record=pre,
        actor=actor,
        case_id=case.id,
        child_id=case.child_id,
        action=PRE_PROCEEDINGS_STARTED,
        data={"decision_date": meeting_date, "gateway_meeting_id": meeting.id},
    )
    deadline_service.deadline_open(
        session,
        rule=PRE_PROCEEDINGS_REVIEW,
        subject_type=PRE_SUBJECT,
        subject_id=pre.id,
        case_id=case.id,
        child_id=case.child_id,
        start_date=meeting_date,
        due_date=timescales.pre_proceedings_review_due(meeting_date),
    )
    session.flush()
    return meeting, pre


def pre_proceedings_update(
    session: Session,
    *,
    actor: Principal,
    pre_id: uuid.UUID,
    expected_version: int,
    changes: Mapping[str, date | None],
) -> PreProceedings:
    """Record the letter before proceedings and the family group conference (offered, held).
    Only the fields in ``changes`` change; none may be before the decision or in the future, and
    a conference is held only once offered."""
    pre = _pre_for_write(session, actor=actor, pre_id=pre_id)
    engine.require_version(pre, expected_version)
    if pre.state != OPEN:
        raise Conflict("These pre-proceedings have concluded.", code="pre_proceedings_concluded")
    allowed = ("letter_sent_date", "fgc_offered_date", "fgc_held_date")
    after = {name: getattr(pre, name) for name in allowed}
    after.update({k: v for k, v in changes.items() if k in allowed})
    for name in allowed:
        value = after[name]
        if value is not None and name in changes:
            _not_future(name, value, "This date")
            _not_before(
                name, value, pre.decision_date, "the decision to enter pre-proceedings", rule=PLO
            )
    held, offered = after["fgc_held_date"], after["fgc_offered_date"]
    if held is not None and (offered is None or held < offered):
        raise Invalid.field(
            "fgc_held_date",
            "A family group conference is held after it is offered: record the offer first.",
            rule=PLO,
        )
    before = {name: getattr(pre, name) for name in allowed}
    changed = diff(before, after)
    if not changed:
        return pre
    for name, value in after.items():
        setattr(pre, name, value)
    case_event_append(
        session,
        case_id=pre.case_id,
        child_id=pre.child_id,
        actor=actor,
        action="pre_proceedings_updated",
        subject_type=PRE_SUBJECT,
        subject_id=pre.id,
        changes=changed,
    )
    session.flush()
    return pre


def pre_proceedings_meeting_add(
    session: Session,
    *,
    actor: Principal,
    pre_id: uuid.UUID,
    meeting_date: date,
    attendees: Sequence[str],
    notes: str | None = None,
) -> PreProceedingsMeeting:
    """Record a pre-proceedings meeting (the parents, their lawyers, the council)."""
    pre = _pre_for_write(session, actor=actor, pre_id=pre_id)
    if pre.state != OPEN:
        raise Conflict("These pre-proceedings have concluded.", code="pre_proceedings_concluded")
    _not_future("meeting_date", meeting_date, "A meeting")
    _not_before(
        "meeting_date",
        meeting_date,
        pre.decision_date,
        "the decision to enter pre-proceedings",
        rule=PLO,
    )
    meeting = PreProceedingsMeeting(
        pre_proceedings_id=pre.id,
        meeting_date=meeting_date,
        attendees=[a.strip() for a in attendees if a.strip()],
        notes=notes,
        recorded_by_id=actor.user_id,
    )
    session.add(meeting)
    session.flush()
    case_event_append(
        session,
        case_id=pre.case_id,
        child_id=pre.child_id,
        actor=actor,
        action="pre_proceedings_meeting_held",
        subject_type=PRE_SUBJECT,
        subject_id=pre.id,
        changes={
            "meeting_id": meeting.id,
            "meeting_date": meeting_date,
            "attendees": meeting.attendees,
        },
    )
    return meeting


def pre_proceedings_outcome(
    session: Session,
    *,
    actor: Principal,
    pre_id: uuid.UUID,
    expected_version: int,
    outcome: PreProceedingsOutcome,
    outcome_date: date,
    reason: str,
) -> PreProceedings:
    """Review the pre-proceedings (rule 35): the review that was due is met; ``continued`` opens
    the next review from this date, the other outcomes conclude them."""
    pre = _pre_for_write(session, actor=actor, pre_id=pre_id)
    engine.require_version(pre, expected_version)
    _not_future("outcome_date", outcome_date, "An outcome")
    _not_before(
        "outcome_date",
        outcome_date,
        pre.last_review_date or pre.decision_date,
        "the decision or the last review",
        rule=PLO,
    )
    event = OUTCOME_EVENTS[outcome.value]
    engine.apply(
        session,
        machine=PRE_PROCEEDINGS_MACHINE,
        record=pre,
        event=event,
        actor=actor,
        expected_version=expected_version,
        case_id=pre.case_id,
        child_id=pre.child_id,
        reason=reason,
        data={"outcome_date": outcome_date},
    )
    deadline_service.deadline_meet(
        session,
        subject_type=PRE_SUBJECT,
        subject_id=pre.id,
        kind=DeadlineKind.pre_proceedings_review,
        met_date=outcome_date,
    )
    if event == PRE_PROCEEDINGS_CONTINUED:
        deadline_service.deadline_open(
            session,
            rule=PRE_PROCEEDINGS_REVIEW,
            subject_type=PRE_SUBJECT,
            subject_id=pre.id,
            case_id=pre.case_id,
            child_id=pre.child_id,
            start_date=outcome_date,
            due_date=timescales.pre_proceedings_review_due(outcome_date),
        )
    session.flush()
    return pre


# --- care proceedings --------------------------------------------------------------------------


def care_proceedings_issue(
    session: Session,
    *,
    actor: Principal,
    case_id: uuid.UUID,
    application_kind: ApplicationKind,
    application_date: date,
    court: str,
    court_case_number: str | None = None,
    pre_proceedings_id: uuid.UUID | None = None,
) -> CareProceedings:
    """Record an application issued by the court. For a care or supervision order the 26-week
    clock starts (s.32(1)(a), rule 34). Open pre-proceedings named here conclude the same day as
    ``proceedings_issued``. A second open application of the same kind for the child is a 409."""
    case = case_service.case_for_change(session, actor=actor, case_id=case_id, refuse_closed=True)
    _not_future("application_date", application_date, "An application")
    case_service.refuse_after_death(
        session, case=case, field="application_date", when=application_date
    )
    existing = session.scalar(
        select(CareProceedings.id)
        .where(
            CareProceedings.child_id == case.child_id,
            CareProceedings.application_kind == application_kind,
            CareProceedings.state == ISSUED,
        )
        .limit(1)
    )
    if existing is not None:
        raise Conflict(
            f"This child already has open proceedings on an application for a "
            f"{application_kind.value.replace('_', ' ')} ({existing}); one application of a kind "
            "at a time (Children Act 1989 s.31: proceedings are disposed of before another).",
            code="proceedings_already_open",
            existing_proceedings_id=str(existing),
            rule=S31,
        )
    pre: PreProceedings | None = None
    if pre_proceedings_id is not None:
        pre = session.get(PreProceedings, pre_proceedings_id)
        if pre is None or pre.child_id != case.child_id:
            raise Invalid.field(
                "pre_proceedings_id", "There are no pre-proceedings with this id for this child."
            )
    limited = application_kind in TIME_LIMITED_KINDS
    proceedings = CareProceedings(
        id=uuid.uuid4(),
        case_id=case.id,
        child_id=case.child_id,
        team_id=case.team_id,
        pre_proceedings_id=pre_proceedings_id,
        application_kind=application_kind,
        application_date=application_date,
        court=court.strip(),
        court_case_number=court_case_number,
        time_limit_date=timescales.proceedings_time_limit(application_date) if limited else None,
    )
    session.add(proceedings)
    engine.start(
        session,
        machine=CARE_PROCEEDINGS_MACHINE,
        record=proceedings,
        actor=actor,
        case_id=case.id,
        child_id=case.child_id,
        action=CARE_PROCEEDINGS_ISSUED,
        data={
            "application_kind": application_kind.value,
            "application_date": application_date,
            "court": proceedings.court,
            "court_case_number": court_case_number,
            "time_limit_date": proceedings.time_limit_date,
        },
    )
    if proceedings.time_limit_date is not None:
        deadline_service.deadline_open(
            session,
            rule=CARE_PROCEEDINGS,
            subject_type=PROCEEDINGS_SUBJECT,
            subject_id=proceedings.id,
            case_id=case.id,
            child_id=case.child_id,
            start_date=application_date,
            due_date=proceedings.time_limit_date,
        )
    if pre is not None and pre.state == OPEN:
        pre_proceedings_outcome(
            session,
            actor=actor,
            pre_id=pre.id,
            expected_version=pre.version,
            outcome=PreProceedingsOutcome.proceedings_issued,
            outcome_date=max(application_date, pre.last_review_date or pre.decision_date),
            reason=f"Care proceedings issued ({proceedings.court}).",
        )
    session.flush()
    return proceedings


def hearing_add(
    session: Session,
    *,
    actor: Principal,
    proceedings_id: uuid.UUID,
    hearing_date: date,
    hearing_type: HearingType,
    outcome: str | None = None,
) -> CourtHearing:
    """Record a hearing that has taken place (on or after the application, not in the future)."""
    proceedings, case = _proceedings_for_write(session, actor=actor, proceedings_id=proceedings_id)
    _require_open_proceedings(proceedings)
    _not_future("hearing_date", hearing_date, "A hearing is recorded once held; it")
    _not_before(
        "hearing_date", hearing_date, proceedings.application_date, "the application", rule=S31
    )
    hearing = CourtHearing(
        proceedings_id=proceedings.id,
        hearing_date=hearing_date,
        hearing_type=hearing_type,
        outcome=outcome,
        recorded_by_id=actor.user_id,
    )
    session.add(hearing)
    session.flush()
    case_event_append(
        session,
        case_id=case.id,
        child_id=case.child_id,
        actor=actor,
        action="court_hearing_recorded",
        subject_type=PROCEEDINGS_SUBJECT,
        subject_id=proceedings.id,
        changes={
            "hearing_id": hearing.id,
            "hearing_date": hearing_date,
            "hearing_type": hearing_type.value,
            "outcome": outcome,
        },
    )
    return hearing


def interim_order_add(
    session: Session,
    *,
    actor: Principal,
    proceedings_id: uuid.UUID,
    order_kind: InterimOrderKind,
    made_date: date,
    notes: str | None = None,
) -> InterimOrder:
    """Record an interim order (s.38). An interim care order is SSDA903 legal status C1: the
    care module records the legal status; this is the court's order behind it."""
    proceedings, case = _proceedings_for_write(session, actor=actor, proceedings_id=proceedings_id)
    _require_open_proceedings(proceedings)
    _not_future("made_date", made_date, "An order")
    _not_before("made_date", made_date, proceedings.application_date, "the application", rule=S31)
    order = InterimOrder(
        proceedings_id=proceedings.id,
        order_kind=order_kind,
        made_date=made_date,
        notes=notes,
        recorded_by_id=actor.user_id,
    )
    session.add(order)
    session.flush()
    case_event_append(
        session,
        case_id=case.id,
        child_id=case.child_id,
        actor=actor,
        action="interim_order_made",
        subject_type=PROCEEDINGS_SUBJECT,
        subject_id=proceedings.id,
        changes={"order_id": order.id, "order_kind": order_kind.value, "made_date": made_date},
    )
    return order


def extension_grant(
    session: Session,
    *,
    actor: Principal,
    proceedings_id: uuid.UUID,
    expected_version: int,
    granted_date: date,
    weeks: int,
    reason: str,
) -> ProceedingsExtension:
    """Record an extension of the time limit granted by the court (s.32(5)), at most 8 weeks
    (s.32(7)), with its reason. The deadline that was running stops on the day of the grant and a
    new one opens at the extended limit, so the history shows every limit the case has had."""
    proceedings, case = _proceedings_for_write(session, actor=actor, proceedings_id=proceedings_id)
    engine.require_version(proceedings, expected_version)
    _require_open_proceedings(proceedings)
    if weeks > timescales.MAX_EXTENSION_WEEKS:
        raise Invalid.field(
            "weeks",
            f"An extension may not exceed {timescales.MAX_EXTENSION_WEEKS} weeks at a time "
            "(Children Act 1989 s.32(7)); a longer one is granted as further extensions.",
            rule=timescales.S32_7,
        )
    if proceedings.time_limit_date is None:
        raise Conflict(
            "These proceedings have no 26-week limit to extend (s.32(1)(a) applies to "
            "applications for a care or supervision order).",
            code="no_time_limit",
        )
    _not_future("granted_date", granted_date, "An extension")
    _not_before(
        "granted_date", granted_date, proceedings.application_date, "the application", rule=S31
    )
    previous = proceedings.time_limit_date
    new_limit = timescales.extended_time_limit(previous, weeks)
    extension = ProceedingsExtension(
        proceedings_id=proceedings.id,
        granted_date=granted_date,
        weeks=weeks,
        reason=reason.strip(),
        previous_time_limit_date=previous,
        new_time_limit_date=new_limit,
        recorded_by_id=actor.user_id,
    )
    session.add(extension)
    # Moving the limit moves the version: two clerks recording one extension cannot both win.
    proceedings.time_limit_date = new_limit
    for deadline in session.scalars(
        select(Deadline).where(
            Deadline.subject_type == PROCEEDINGS_SUBJECT,
            Deadline.subject_id == proceedings.id,
            Deadline.kind == DeadlineKind.care_proceedings_26_weeks,
            Deadline.met_date.is_(None),
            Deadline.stopped_date.is_(None),
        )
    ):
        deadline.stopped_date = max(granted_date, deadline.start_date)
    deadline_service.deadline_open(
        session,
        rule=CARE_PROCEEDINGS,
        subject_type=PROCEEDINGS_SUBJECT,
        subject_id=proceedings.id,
        case_id=case.id,
        child_id=case.child_id,
        start_date=proceedings.application_date,
        due_date=new_limit,
    )
    session.flush()
    case_event_append(
        session,
        case_id=case.id,
        child_id=case.child_id,
        actor=actor,
        action="proceedings_extended",
        subject_type=PROCEEDINGS_SUBJECT,
        subject_id=proceedings.id,
        reason=extension.reason,
        changes={
            "extension_id": extension.id,
            "granted_date": granted_date,
            "weeks": weeks,
            "time_limit_date": {"before": previous, "after": new_limit},
        },
    )
    session.flush()
    return extension


def final_order_record(
    session: Session,
    *,
    actor: Principal,
    proceedings_id: uuid.UUID,
    expected_version: int,
    final_order: FinalOrder,
    order_date: date,
    reason: str | None = None,
) -> CareProceedings:
    """The final order (or no order, or leave to withdraw) ends the proceedings and meets their
    26-week clock on the order's date (missed when after the limit as extended)."""
    proceedings, case = _proceedings_for_write(session, actor=actor, proceedings_id=proceedings_id)
    engine.require_version(proceedings, expected_version)
    _not_future("order_date", order_date, "An order")
    _not_before("order_date", order_date, proceedings.application_date, "the application", rule=S31)
    event = CARE_PROCEEDINGS_WITHDRAWN if final_order is FinalOrder.withdrawn else FINAL_ORDER_MADE
    engine.apply(
        session,
        machine=CARE_PROCEEDINGS_MACHINE,
        record=proceedings,
        event=event,
        actor=actor,
        expected_version=expected_version,
        case_id=case.id,
        child_id=case.child_id,
        reason=reason,
        data={"final_order": final_order, "order_date": order_date},
    )
    deadline_service.deadline_meet(
        session,
        subject_type=PROCEEDINGS_SUBJECT,
        subject_id=proceedings.id,
        kind=DeadlineKind.care_proceedings_26_weeks,
        met_date=order_date,
    )
    session.flush()
    return proceedings


# --- reads -------------------------------------------------------------------------------------


def pre_proceedings_get(session: Session, *, actor: Principal, pre_id: uuid.UUID) -> PreProceedings:
    """The pre-proceedings, if the child is visible; the read is access-logged."""
    pre = session.get(PreProceedings, pre_id)
    if pre is None:
        raise NotFound(PRE_NOT_VISIBLE)
    get_person_for_read(
        session, principal=actor, person_id=pre.child_id, resource=PRE_SUBJECT, case_id=pre.case_id
    )
    return pre


def care_proceedings_get(
    session: Session, *, actor: Principal, proceedings_id: uuid.UUID
) -> CareProceedings:
    """The proceedings, if the child is visible; the read is access-logged."""
    proceedings = session.get(CareProceedings, proceedings_id)
    if proceedings is None:
        raise NotFound(PROCEEDINGS_NOT_VISIBLE)
    get_person_for_read(
        session,
        principal=actor,
        person_id=proceedings.child_id,
        resource=PROCEEDINGS_SUBJECT,
        case_id=proceedings.case_id,
    )
    return proceedings


def pre_proceedings_meetings(
    session: Session, *, pre: PreProceedings
) -> list[PreProceedingsMeeting]:
    return list(
        session.scalars(
            select(PreProceedingsMeeting)
            .where(PreProceedingsMeeting.pre_proceedings_id == pre.id)
            .order_by(PreProceedingsMeeting.meeting_date, PreProceedingsMeeting.created_at)
        )
    )


def pre_proceedings_review_due(session: Session, *, pre: PreProceedings) -> date | None:
    """The due date of the open review (rule 35), None once concluded."""
    return session.scalar(
        select(Deadline.due_date)
        .where(
            Deadline.subject_type == PRE_SUBJECT,
            Deadline.subject_id == pre.id,
            Deadline.kind == DeadlineKind.pre_proceedings_review,
            Deadline.met_date.is_(None),
            Deadline.stopped_date.is_(None),
        )
        .limit(1)
    )


@dataclass(frozen=True)
class ProceedingsDetail:
    hearings: list[CourtHearing]
    interim_orders: list[InterimOrder]
    extensions: list[ProceedingsExtension]


def proceedings_detail(session: Session, *, proceedings: CareProceedings) -> ProceedingsDetail:
    """Hearings, interim orders and extensions, oldest first (the caller has read the record)."""
    return ProceedingsDetail(
        hearings=list(
            session.scalars(
                select(CourtHearing)
                .where(CourtHearing.proceedings_id == proceedings.id)
                .order_by(CourtHearing.hearing_date, CourtHearing.created_at)
            )
        ),
        interim_orders=list(
            session.scalars(
                select(InterimOrder)
                .where(InterimOrder.proceedings_id == proceedings.id)
                .order_by(InterimOrder.made_date, InterimOrder.created_at)
            )
        ),
        extensions=list(
            session.scalars(
                select(ProceedingsExtension)
                .where(ProceedingsExtension.proceedings_id == proceedings.id)
                .order_by(ProceedingsExtension.granted_date, ProceedingsExtension.created_at)
            )
        ),
    )


def proceedings_week(proceedings: CareProceedings) -> int | None:
    """The week the open proceedings are in today (week 1 begins with the issue date)."""
    if proceedings.state != ISSUED:
        return None
    return timescales.proceedings_week(proceedings.application_date, clock.today())


@dataclass(frozen=True)
class ChildLegal:
    gateway_meetings: list[LegalGatewayMeeting]
    pre_proceedings: list[PreProceedings]
    care_proceedings: list[CareProceedings]


def child_legal(session: Session, *, actor: Principal, child_id: uuid.UUID) -> ChildLegal:
    """Every legal gateway decision, pre-proceedings and proceedings of the child, oldest first.
    A restricted child is a 404 to those not named; the read is access-logged."""
    get_person_for_read(session, principal=actor, person_id=child_id, resource="legal")
    return ChildLegal(
        gateway_meetings=list(
            session.scalars(
                select(LegalGatewayMeeting)
                .where(LegalGatewayMeeting.child_id == child_id)
                .order_by(LegalGatewayMeeting.meeting_date, LegalGatewayMeeting.created_at)
            )
        ),
        pre_proceedings=list(
            session.scalars(
                select(PreProceedings)
                .where(PreProceedings.child_id == child_id)
                .order_by(PreProceedings.decision_date, PreProceedings.created_at)
            )
        ),
        care_proceedings=list(
            session.scalars(
                select(CareProceedings)
                .where(CareProceedings.child_id == child_id)
                .order_by(CareProceedings.application_date, CareProceedings.created_at)
            )
        ),
    )


def gateway_pre_proceedings(
    session: Session, *, meeting_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """meeting id → the pre-proceedings it opened."""
    if not meeting_ids:
        return {}
    rows = session.execute(
        select(PreProceedings.gateway_meeting_id, PreProceedings.id).where(
            PreProceedings.gateway_meeting_id.in_(meeting_ids)
        )
    )
    return dict(rows.all())


# --- figures -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DurationRow:
    proceedings: CareProceedings
    duration_weeks: float | None
    within_26_weeks: bool | None
    week: int | None
    extensions: int


@dataclass(frozen=True)
class Figures:
    concluded: int
    within_26_weeks: int
    percent_within_26_weeks: float | None
    average_weeks: float | None
    open: int


@dataclass(frozen=True)
class Durations:
    date_from: date
    date_to: date
    overall: Figures
    teams: dict[uuid.UUID, Figures]
    concluded: list[DurationRow]
    open: list[DurationRow]


def _figures(concluded: list[DurationRow], open_rows: list[DurationRow]) -> Figures:
    within = sum(1 for r in concluded if r.within_26_weeks)
    weeks = [r.duration_weeks for r in concluded if r.duration_weeks is not None]
    return Figures(
        concluded=len(concluded),
        within_26_weeks=within,
        percent_within_26_weeks=round(100 * within / len(concluded), 1) if concluded else None,
        average_weeks=round(sum(weeks) / len(weeks), 1) if weeks else None,
        open=len(open_rows),
    )


def proceedings_durations(
    session: Session,
    *,
    actor: Principal,
    team_id: uuid.UUID | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> Durations:
    """How long care and supervision proceedings take (rule 34), per team and overall.

    *Concluded in the period*: proceedings on an application for a care or supervision order (the
    kinds s.32(1)(a) limits) whose final order, no order or withdrawal is dated from ``date_from``
    to ``date_to`` inclusive (default: the 12 months to today). Duration counts the issue date
    and the order's date; *within 26 weeks* means by the unextended limit (extensions granted do
    not make a case "within"). *Open*: still issued today, issued on or before ``date_to``, with
    the week they are in today. Teams are the team that held the case when the application was
    issued. Only children the caller may see are counted, and each child listed is
    access-logged."""
    today = clock.today()
    date_to = date_to or today
    date_from = date_from or add_months(date_to, -12) + timedelta(days=1)
    if date_from > date_to:
        raise Invalid.field("from", "from must not be later than to.")
    stmt = (
        select(CareProceedings)
        .join(Person, Person.id == CareProceedings.child_id)
        .where(
            person_visible(actor),
            CareProceedings.application_kind.in_(sorted(TIME_LIMITED_KINDS)),
            or_(
                and_(
                    CareProceedings.state != ISSUED,
                    CareProceedings.final_order_date >= date_from,
                    CareProceedings.final_order_date <= date_to,
                ),
                and_(
                    CareProceedings.state == ISSUED,
                    CareProceedings.application_date <= date_to,
                ),
            ),
        )
        .order_by(CareProceedings.application_date, CareProceedings.id)
    )
    if team_id is not None:
        stmt = stmt.where(CareProceedings.team_id == team_id)
    proceedings = list(session.scalars(stmt))
    extension_counts: dict[uuid.UUID, int] = {}
    if proceedings:
        for pid in session.scalars(
            select(ProceedingsExtension.proceedings_id).where(
                ProceedingsExtension.proceedings_id.in_([p.id for p in proceedings])
            )
        ):
            extension_counts[pid] = extension_counts.get(pid, 0) + 1
    concluded: list[DurationRow] = []
    open_rows: list[DurationRow] = []
    for p in proceedings:
        extensions = extension_counts.get(p.id, 0)
        if p.state == ISSUED:
            week = timescales.proceedings_week(p.application_date, today)
            open_rows.append(DurationRow(p, None, None, week, extensions))
        else:
            assert p.final_order_date is not None  # a CHECK constraint
            limit = timescales.proceedings_time_limit(p.application_date)
            concluded.append(
                DurationRow(
                    p,
                    timescales.duration_weeks(p.application_date, p.final_order_date),
                    p.final_order_date <= limit,
                    None,
                    extensions,
                )
            )
    for child in dict.fromkeys(p.child_id for p in proceedings):
        access_log_append(
            session,
            principal=actor,
            action="list",
            resource="proceedings_durations",
            person_id=child,
        )
    teams = sorted({p.team_id for p in proceedings}, key=str)
    return Durations(
        date_from=date_from,
        date_to=date_to,
        overall=_figures(concluded, open_rows),
        teams={
            t: _figures(
                [r for r in concluded if r.proceedings.team_id == t],
                [r for r in open_rows if r.proceedings.team_id == t],
            )
            for t in teams
        },
        concluded=concluded,
        open=open_rows,
    )
