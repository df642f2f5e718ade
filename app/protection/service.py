"""Child protection: strategy discussions, section 47 enquiries, conferences and CP plans.

Working Together to Safeguard Children 2018/2023 (ch.1) and the CIN census rules in
``shared/domain/returns.md``. Each write checks that the caller may change the case (403 for another
team, 404 for a child they may not see), validates its dates against the step it follows (422
naming the field and the rule), changes any state only through ``app.workflow.engine`` and moves
the case as its consequence through ``app.cases.service.case_transition`` in the same transaction.

Deadline choices (timescales.md rules 4-10):
- Rule 4 (strategy discussion, 1 working day from the concern) is opened by
  :func:`strategy_discussion_due` — the service that decides on a strategy discussion calls it with
  the concern's date — and met by :func:`strategy_discussion_record`; a case whose first discussion
  was never asked for that way gets the deadline opened and met at once from the discussion's
  ``concern_date``, so the measure "strategy discussions on time" still counts it.
- Rule 5 (``icpc_held``) is opened when the enquiry starts and met by the initial conference
  (missed when late); it stops when the enquiry concludes without the need for a conference.
- Rules 6-10 hang off the plan (subject ``cp_plan``) and all stop when it ends.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app import clock
from app.audit.service import case_event_append
from app.calendar import is_weekend
from app.cases import service as case_service
from app.cases.workflow import PROTECTION
from app.core_types import CategoryOfAbuse, ReasonForClosure
from app.deadlines import service as deadline_service
from app.deadlines.rules import Rule
from app.errors import Conflict, Invalid, NotFound
from app.models.cases import Case
from app.models.deadlines import Deadline, DeadlineKind
from app.models.people import Person
from app.models.protection import (
    REQUIRED_AGENCIES,
    Agency,
    ConferenceKind,
    ConferenceOutcome,
    CoreGroup,
    CPConference,
    CPPlan,
    CPVisit,
    DiscussionFormat,
    S47Enquiry,
    S47NextStep,
    S47Outcome,
    StrategyDiscussion,
    StrategyParticipant,
)
from app.protection import timescales
from app.protection.schemas import ParticipantIn, PlanEndStep
from app.protection.workflow import ACTIVE, CONCLUDED, CP_PLAN_MACHINE, ENDED, S47_MACHINE
from app.security.principal import Principal
from app.workflow import engine

CASE_NOT_VISIBLE = "There is no case with this id that you can see."
INITIAL_OUTCOMES = (
    ConferenceOutcome.cp_plan,
    ConferenceOutcome.cin_plan,
    ConferenceOutcome.no_further_action,
)
REVIEW_OUTCOMES = (ConferenceOutcome.continue_plan, ConferenceOutcome.end_plan)


# --- loading and checks ------------------------------------------------------------------------


def _not_future(name: str, value: date) -> None:
    if value > clock.today():
        raise Invalid.field(name, f"{name} cannot be in the future.")


def _not_before(name: str, value: date, earliest: date, what: str, rule: str | None = None) -> None:
    if value < earliest:
        cite = f" ({rule})" if rule else ""
        raise Invalid.field(
            name, f"{name} cannot be before {what} ({earliest.isoformat()}){cite}.", rule=rule
        )


def _missing_agencies(present: Sequence[Agency]) -> list[Agency]:
    return [a for a in REQUIRED_AGENCIES if a not in set(present)]


def _named(agencies: Sequence[Agency]) -> str:
    return ", ".join(a.value for a in agencies)


def _start_cin_plan(session: Session, *, actor: Principal, case: Case, start_date: date) -> None:
    """A CIN plan starts; the CIN service moves the case with ``start_cin_plan``."""
    from app.cin import service as cin_service  # the CIN module depends on cases, not on us

    cin_service.cin_plan_start(session, actor=actor, case_id=case.id, start_date=start_date)


def _end_open_cin_plan(
    session: Session, *, actor: Principal, child_id: uuid.UUID, end_date: date
) -> None:
    """A CIN plan and a CP plan never overlap (CIN census 4001/4016/4017): starting a CP plan ends
    an open CIN plan on the same day, as an audited consequence."""
    from app.cin import service as cin_service

    cin_service.cin_plan_end_for_cp_plan(session, actor=actor, child_id=child_id, end_date=end_date)


# --- rule 4: the strategy discussion -----------------------------------------------------------


def strategy_discussion_due(
    session: Session, *, actor: Principal, case_id: uuid.UUID, concern_date: date
) -> Deadline:
    """Start the clock on a strategy discussion (timescales rule 4: 1 working day from the
    concern, council default). Idempotent: an open one is returned as it is."""
    case = case_service.case_for_change(session, refuse_closed=True, actor=actor, case_id=case_id)
    _not_future("concern_date", concern_date)
    return timescales.deadline_open_once(
        session,
        rule=timescales.STRATEGY_DISCUSSION,
        subject_type="case",
        subject_id=case.id,
        case_id=case.id,
        child_id=case.child_id,
        start_date=concern_date,
        due_date=timescales.strategy_discussion_due(concern_date),
    )


def strategy_discussion_record(
    session: Session,
    *,
    actor: Principal,
    case_id: uuid.UUID,
    concern_date: date,
    held_date: date,
    format: DiscussionFormat,
    participants: Sequence[ParticipantIn],
    concerns: str,
    start_s47: bool,
    decision_reason: str | None = None,
) -> StrategyDiscussion:
    """Record a strategy discussion and its decision on a section 47 enquiry.

    The case enters ``protection`` (``start_strategy``) if it is not there yet. A decision to
    start a s47 enquiry needs social care, police and health to have taken part (Working Together
    2018 ch.1): otherwise 422 naming the missing agencies. A decision not to start one needs its
    reason, and the case goes back to assessment (``conclude_enquiry``) unless an enquiry is open.
    """
    case = case_service.case_for_change(session, refuse_closed=True, actor=actor, case_id=case_id)
    _not_future("held_date", held_date)
    case_service.refuse_after_death(session, case=case, field="held_date", when=held_date)
    _not_future("concern_date", concern_date)
    _not_before("held_date", held_date, concern_date, "the concern it discusses")
    _not_before("concern_date", concern_date, case.opened_date, "the contact that opened the case")
    reason = decision_reason.strip() if decision_reason and decision_reason.strip() else None
    if start_s47:
        missing = _missing_agencies([p.agency for p in participants])
        if missing:
            raise Invalid.field(
                "participants",
                f"A section 47 enquiry is decided with social care, police and health; missing: "
                f"{_named(missing)} (Working Together 2018 ch.1).",
            )
    elif reason is None:
        raise Invalid.field("decision_reason", "Say why no section 47 enquiry is started.")

    if case.state != PROTECTION:
        # The rule-4 clock runs from the concern, not from today: open it before the case moves
        # (the case machine opens it from the day of the decision only when none is open).
        timescales.deadline_open_once(
            session,
            rule=timescales.STRATEGY_DISCUSSION,
            subject_type="case",
            subject_id=case.id,
            case_id=case.id,
            child_id=case.child_id,
            start_date=concern_date,
            due_date=timescales.strategy_discussion_due(concern_date),
        )
        case_service.case_transition(
            session,
            actor=actor,
            case_id=case.id,
            event="start_strategy",
            expected_version=case.version,
        )
    discussion = StrategyDiscussion(
        id=uuid.uuid4(),
        case_id=case.id,
        child_id=case.child_id,
        concern_date=concern_date,
        held_date=held_date,
        format=format,
        concerns=concerns,
        is_s47_decided=start_s47,
        decision_reason=reason,
        recorded_by_id=actor.user_id,
    )
    discussion.participants = [
        StrategyParticipant(position=n, agency=p.agency, name=p.name, role=p.role)
        for n, p in enumerate(participants)
    ]
    session.add(discussion)
    session.flush()
    case_event_append(
        session,
        case_id=case.id,
        child_id=case.child_id,
        actor=actor,
        action="strategy_discussion_held",
        subject_type="strategy_discussion",
        subject_id=discussion.id,
        reason=reason,
        changes={
            "held_date": held_date,
            "format": format.value,
            "agencies": sorted({p.agency.value for p in participants}),
            "start_s47": start_s47,
        },
    )
    _meet_strategy_deadline(session, case=case, concern_date=concern_date, held_date=held_date)
    if not start_s47 and not _open_s47(session, case_id=case.id):
        case_service.case_transition(
            session,
            actor=actor,
            case_id=case.id,
            event="conclude_enquiry",
            expected_version=case.version,
            reason=reason,
        )
    return discussion


def _meet_strategy_deadline(
    session: Session, *, case: Case, concern_date: date, held_date: date
) -> None:
    met = deadline_service.deadline_meet(
        session,
        subject_type="case",
        subject_id=case.id,
        kind=DeadlineKind.strategy_discussion,
        met_date=held_date,
    )
    if met:
        return
    earlier = session.scalar(
        select(func.count()).where(
            Deadline.subject_type == "case",
            Deadline.subject_id == case.id,
            Deadline.kind == DeadlineKind.strategy_discussion,
        )
    )
    if not earlier:
        # Nobody started the clock (rule 4): open it from the concern and meet it now.
        deadline = timescales.deadline_open_once(
            session,
            rule=timescales.STRATEGY_DISCUSSION,
            subject_type="case",
            subject_id=case.id,
            case_id=case.id,
            child_id=case.child_id,
            start_date=concern_date,
            due_date=timescales.strategy_discussion_due(concern_date),
        )
        deadline.met_date = held_date


def _open_s47(session: Session, *, case_id: uuid.UUID) -> S47Enquiry | None:
    return session.scalars(
        select(S47Enquiry).where(S47Enquiry.case_id == case_id, S47Enquiry.state != CONCLUDED)
    ).first()


def _discussion_with_participants(
    session: Session, discussion_id: uuid.UUID
) -> StrategyDiscussion | None:
    return session.scalars(
        select(StrategyDiscussion)
        .where(StrategyDiscussion.id == discussion_id)
        .options(selectinload(StrategyDiscussion.participants))
    ).first()


def strategy_discussion_get(
    session: Session, *, actor: Principal, discussion_id: uuid.UUID
) -> StrategyDiscussion:
    """A strategy discussion with its participants (the read is access-logged)."""
    discussion = _discussion_with_participants(session, discussion_id)
    if discussion is None:
        raise NotFound("There is no strategy discussion with this id that you can see.")
    case_service.case_for_read(
        session, actor=actor, case_id=discussion.case_id, resource="strategy_discussion"
    )
    return discussion


# --- rule 5: the section 47 enquiry ------------------------------------------------------------


def s47_start(
    session: Session,
    *,
    actor: Principal,
    case_id: uuid.UUID,
    strategy_discussion_id: uuid.UUID,
    start_date: date,
) -> S47Enquiry:
    """Start the section 47 enquiry a strategy discussion decided on; its initial conference is due
    15 working days after that discussion (rule 5, the CIN census ``InitialCPCtarget``)."""
    case = case_service.case_for_change(session, refuse_closed=True, actor=actor, case_id=case_id)
    discussion = _discussion_with_participants(session, strategy_discussion_id)
    if discussion is None or discussion.case_id != case.id:
        raise Invalid.field(
            "strategy_discussion_id", "There is no strategy discussion with this id on this case."
        )
    missing = _missing_agencies([p.agency for p in discussion.participants])
    if missing:
        raise Conflict(
            f"Social care, police and health must take part in the strategy discussion before a "
            f"section 47 enquiry starts; missing: {_named(missing)} (Working Together 2018 ch.1).",
            code="strategy_discussion_incomplete",
            missing_agencies=[a.value for a in missing],
        )
    if not discussion.is_s47_decided:
        raise Conflict(
            "This strategy discussion decided not to start a section 47 enquiry.",
            code="s47_not_decided",
        )
    if session.scalar(
        select(S47Enquiry.id).where(S47Enquiry.strategy_discussion_id == discussion.id)
    ):
        raise Conflict(
            "This strategy discussion has already started a section 47 enquiry.",
            code="s47_already_started",
        )
    if case.state != PROTECTION:
        raise Conflict(
            f"A section 47 enquiry runs while the case is in '{PROTECTION}'; it is in "
            f"'{case.state}'.",
            code="case_not_in_protection",
        )
    _not_future("start_date", start_date)
    case_service.refuse_after_death(session, case=case, field="start_date", when=start_date)
    _not_before("start_date", start_date, discussion.held_date, "the strategy discussion")
    enquiry = S47Enquiry(
        id=uuid.uuid4(),
        case_id=case.id,
        child_id=case.child_id,
        strategy_discussion_id=discussion.id,
        start_date=start_date,
        icpc_target_date=timescales.icpc_target(discussion.held_date),
    )
    session.add(enquiry)
    engine.start(
        session,
        machine=S47_MACHINE,
        record=enquiry,
        actor=actor,
        case_id=case.id,
        child_id=case.child_id,
        action="s47_started",
        data={"start_date": start_date, "icpc_target_date": enquiry.icpc_target_date},
    )
    deadline_service.deadline_open(
        session,
        rule=timescales.ICPC_HELD,
        subject_type="s47_enquiry",
        subject_id=enquiry.id,
        case_id=case.id,
        child_id=case.child_id,
        start_date=discussion.held_date,
        due_date=enquiry.icpc_target_date,
    )
    child = session.get(Person, case.child_id)
    if child is not None and child.date_of_birth is None and child.expected_date_of_birth:
        # An unborn child: the pre-birth conference clock runs beside rule 5 (rule 12).
        deadline_service.deadline_open(
            session,
            rule=timescales.PRE_BIRTH_CONFERENCE,
            subject_type="s47_enquiry",
            subject_id=enquiry.id,
            case_id=case.id,
            child_id=case.child_id,
            start_date=discussion.held_date,
            due_date=timescales.pre_birth_conference_due(
                child.expected_date_of_birth, not_before=discussion.held_date
            ),
        )
    session.flush()
    return enquiry


def _s47(session: Session, s47_id: uuid.UUID) -> S47Enquiry:
    enquiry = session.get(S47Enquiry, s47_id)
    if enquiry is None:
        raise NotFound("There is no section 47 enquiry with this id that you can see.")
    return enquiry


def s47_get(session: Session, *, actor: Principal, s47_id: uuid.UUID) -> S47Enquiry:
    """A section 47 enquiry (the read is access-logged)."""
    enquiry = _s47(session, s47_id)
    case_service.case_for_read(
        session, actor=actor, case_id=enquiry.case_id, resource="s47_enquiry"
    )
    return enquiry


def s47_conclude(
    session: Session,
    *,
    actor: Principal,
    s47_id: uuid.UUID,
    expected_version: int,
    outcome: S47Outcome,
    reason: str,
    concluded_date: date,
    next_step: S47NextStep | None = None,
) -> S47Enquiry:
    """Conclude the enquiry: an initial conference is needed (recorded next), or not (CIN census
    ``ICPCnotRequired``): then its conference clock stops and the case goes back to assessment
    (``conclude_enquiry``) or on to a CIN plan (``next_step=cin_plan``)."""
    enquiry = _s47(session, s47_id)
    case = case_service.case_for_change(
        session, refuse_closed=True, actor=actor, case_id=enquiry.case_id
    )
    engine.require_version(enquiry, expected_version)
    _not_future("concluded_date", concluded_date)
    _not_before("concluded_date", concluded_date, enquiry.start_date, "the enquiry's start")
    if outcome is S47Outcome.icpc_required and next_step is not None:
        raise Invalid.field("next_step", "A next step is for an enquiry that needs no conference.")
    engine.apply(
        session,
        machine=S47_MACHINE,
        record=enquiry,
        event="conclude",
        actor=actor,
        expected_version=expected_version,
        case_id=case.id,
        child_id=case.child_id,
        reason=reason,
        data={
            "outcome": outcome.value,
            "concluded_date": concluded_date.isoformat(),
            "next_step": next_step.value if next_step else None,
        },
    )
    if outcome is S47Outcome.icpc_not_required:
        timescales.deadlines_stop_for_subject(
            session, subject_type="s47_enquiry", subject_id=enquiry.id, on=concluded_date
        )
        if next_step is S47NextStep.cin_plan:
            _start_cin_plan(session, actor=actor, case=case, start_date=concluded_date)
        else:
            case_service.case_transition(
                session,
                actor=actor,
                case_id=case.id,
                event="conclude_enquiry",
                expected_version=case.version,
                reason=reason,
            )
    return enquiry


# --- the initial conference and the plan -------------------------------------------------------


def _check_quorate(agencies: Sequence[Agency]) -> None:
    missing = _missing_agencies(agencies)
    if missing:
        raise Invalid.field(
            "agencies_present",
            f"A child protection conference is quorate with social care, police and health; "
            f"missing: {_named(missing)}. Reconvene it (Working Together 2018 ch.1).",
        )


def _no_active_plan(session: Session, *, child_id: uuid.UUID) -> None:
    active = session.scalar(
        select(CPPlan.id).where(CPPlan.child_id == child_id, CPPlan.state != ENDED).limit(1)
    )
    if active is not None:
        raise Conflict(
            f"This child already has an open child protection plan ({active}): at most one at a "
            "time (CIN census rule 8935).",
            code="cp_plan_already_open",
            existing_cp_plan_id=str(active),
        )


def icpc_record(
    session: Session,
    *,
    actor: Principal,
    s47_id: uuid.UUID,
    conference_date: date,
    chair: str,
    agencies_present: Sequence[Agency],
    outcome: ConferenceOutcome,
    initial_category: CategoryOfAbuse | None = None,
    notes: str | None = None,
) -> tuple[CPConference, CPPlan | None]:
    """Record the initial child protection conference of a concluded enquiry and its decision.

    Never at a weekend (CIN census 8875), not before the strategy discussion or the enquiry; one per
    enquiry (2884). It meets the ``icpc_held`` clock (missed when after the target). A CP plan
    starts on the conference date (2885), ends an open CIN plan that day (4001/4016/4017) and takes
    the case to ``cp_plan``; a CIN plan takes it to ``cin_plan``; no further action sends it back
    to assessment (``conclude_enquiry``), where a manager closes it with its reason.
    """
    enquiry = _s47(session, s47_id)
    case = case_service.case_for_change(
        session, refuse_closed=True, actor=actor, case_id=enquiry.case_id
    )
    if session.scalar(select(CPConference.id).where(CPConference.s47_enquiry_id == enquiry.id)):
        raise Conflict(
            "This enquiry's initial conference is already recorded; an initial conference is "
            "recorded once (CIN census rule 2884).",
            code="icpc_already_recorded",
        )
    if enquiry.state != CONCLUDED or enquiry.outcome is not S47Outcome.icpc_required:
        raise Conflict(
            "Conclude the section 47 enquiry with the outcome 'icpc_required' before recording "
            "its initial conference.",
            code="s47_not_concluded_for_icpc",
        )
    discussion = session.get(StrategyDiscussion, enquiry.strategy_discussion_id)
    assert discussion is not None  # a foreign key
    if is_weekend(conference_date):
        raise Invalid.field(
            "conference_date",
            "An initial child protection conference is not held at a weekend "
            "(CIN census rule 8875).",
            rule="8875",
        )
    _not_future("conference_date", conference_date)
    case_service.refuse_after_death(
        session, case=case, field="conference_date", when=conference_date
    )
    _not_before("conference_date", conference_date, discussion.held_date, "the strategy discussion")
    _not_before("conference_date", conference_date, enquiry.start_date, "the section 47 enquiry")
    if outcome not in INITIAL_OUTCOMES:
        raise Invalid.field(
            "outcome", "An initial conference decides on cp_plan, cin_plan or no_further_action."
        )
    if outcome is ConferenceOutcome.cp_plan and initial_category is None:
        raise Invalid.field("initial_category", "A CP plan needs its initial category of abuse.")
    if outcome is not ConferenceOutcome.cp_plan and initial_category is not None:
        raise Invalid.field("initial_category", "A category of abuse goes with a CP plan only.")
    _check_quorate(agencies_present)
    if outcome is ConferenceOutcome.cp_plan:
        _no_active_plan(session, child_id=case.child_id)

    conference = CPConference(
        id=uuid.uuid4(),
        kind=ConferenceKind.initial,
        case_id=case.id,
        child_id=case.child_id,
        s47_enquiry_id=enquiry.id,
        conference_date=conference_date,
        chair=chair,
        agencies_present=sorted({a.value for a in agencies_present}),
        is_quorate=True,
        outcome=outcome,
        category=initial_category,
        notes=notes,
    )
    session.add(conference)
    session.flush()
    case_event_append(
        session,
        case_id=case.id,
        child_id=case.child_id,
        actor=actor,
        action="icpc_held",
        subject_type="cp_conference",
        subject_id=conference.id,
        changes={
            "conference_date": conference_date,
            "outcome": outcome.value,
            "category": initial_category.value if initial_category else None,
            "icpc_target_date": enquiry.icpc_target_date,
        },
    )
    for kind in (DeadlineKind.icpc_held, DeadlineKind.pre_birth_conference):
        deadline_service.deadline_meet(
            session,
            subject_type="s47_enquiry",
            subject_id=enquiry.id,
            kind=kind,
            met_date=conference_date,
        )
    plan: CPPlan | None = None
    if outcome is ConferenceOutcome.cp_plan:
        assert initial_category is not None
        plan = _cp_plan_start(
            session,
            actor=actor,
            case=case,
            start_date=conference_date,
            category=initial_category,
            conference_id=conference.id,
        )
        conference.cp_plan_id = plan.id
    elif outcome is ConferenceOutcome.cin_plan:
        _start_cin_plan(session, actor=actor, case=case, start_date=conference_date)
    else:
        case_service.case_transition(
            session,
            actor=actor,
            case_id=case.id,
            event="conclude_enquiry",
            expected_version=case.version,
            reason="The initial child protection conference decided no further action.",
        )
    session.flush()
    return conference, plan


def _cp_plan_start(
    session: Session,
    *,
    actor: Principal,
    case: Case,
    start_date: date,
    category: CategoryOfAbuse,
    conference_id: uuid.UUID,
) -> CPPlan:
    plan = CPPlan(
        id=uuid.uuid4(),
        case_id=case.id,
        child_id=case.child_id,
        start_date=start_date,  # the conference date (CIN census rule 2885)
        initial_category=category,
        latest_category=category,
    )
    session.add(plan)
    engine.start(
        session,
        machine=CP_PLAN_MACHINE,
        record=plan,
        actor=actor,
        case_id=case.id,
        child_id=case.child_id,
        action="cp_plan_started",
        data={"start_date": start_date, "category": category.value, "conference_id": conference_id},
    )
    _end_open_cin_plan(session, actor=actor, child_id=case.child_id, end_date=start_date)
    case_service.case_transition(
        session,
        actor=actor,
        case_id=case.id,
        event="start_cp_plan",
        expected_version=case.version,
    )
    for rule, due in (
        (timescales.CORE_GROUP_FIRST, timescales.core_group_first_due(start_date)),
        (timescales.RCPC_FIRST, timescales.rcpc_first_due(start_date)),
        (timescales.CP_VISIT, timescales.cp_visit_due(start_date)),
    ):
        deadline_service.deadline_open(
            session,
            rule=rule,
            subject_type="cp_plan",
            subject_id=plan.id,
            case_id=case.id,
            child_id=case.child_id,
            start_date=start_date,
            due_date=due,
        )
    return plan


def _plan(session: Session, plan_id: uuid.UUID) -> CPPlan:
    plan = session.get(CPPlan, plan_id)
    if plan is None:
        raise NotFound("There is no child protection plan with this id that you can see.")
    return plan


def _plan_for_write(
    session: Session, *, actor: Principal, plan_id: uuid.UUID
) -> tuple[CPPlan, Case]:
    plan = _plan(session, plan_id)
    case = case_service.case_for_change(
        session, refuse_closed=True, actor=actor, case_id=plan.case_id
    )
    return plan, case


def _require_active(plan: CPPlan) -> None:
    if plan.state != ACTIVE:
        raise Conflict(
            f"This child protection plan ended on {plan.end_date}; nothing more is recorded on it.",
            code="cp_plan_ended",
        )


def _check_plan_date(name: str, value: date, plan: CPPlan) -> None:
    _not_future(name, value)
    _not_before(name, value, plan.start_date, "the plan's start")


def _plan_clock_next(
    session: Session,
    *,
    plan: CPPlan,
    case: Case,
    meets: Sequence[DeadlineKind],
    rule: Rule,
    on: date,
    due: date,
) -> None:
    """A recurring plan clock (core groups, rule 10; visits, rule 9): the meeting or visit on
    ``on`` meets the one that was running and starts the next."""
    for kind in meets:
        deadline_service.deadline_meet(
            session, subject_type="cp_plan", subject_id=plan.id, kind=kind, met_date=on
        )
    deadline_service.deadline_open(
        session,
        rule=rule,
        subject_type="cp_plan",
        subject_id=plan.id,
        case_id=case.id,
        child_id=case.child_id,
        start_date=on,
        due_date=due,
    )


def core_group_record(
    session: Session,
    *,
    actor: Principal,
    plan_id: uuid.UUID,
    meeting_date: date,
    notes: str | None = None,
) -> CoreGroup:
    """A core group met: it meets the first-core-group clock (rule 6) or the core group clock
    (rule 10), and the next core group is due 6 weeks later (council default)."""
    plan, case = _plan_for_write(session, actor=actor, plan_id=plan_id)
    _require_active(plan)
    _check_plan_date("meeting_date", meeting_date, plan)
    case_service.refuse_after_death(session, case=case, field="meeting_date", when=meeting_date)
    meeting = CoreGroup(
        id=uuid.uuid4(),
        cp_plan_id=plan.id,
        meeting_date=meeting_date,
        notes=notes,
        recorded_by_id=actor.user_id,
    )
    session.add(meeting)
    session.flush()
    case_event_append(
        session,
        case_id=case.id,
        child_id=case.child_id,
        actor=actor,
        action="core_group_held",
        subject_type="core_group",
        subject_id=meeting.id,
        changes={"cp_plan_id": plan.id, "meeting_date": meeting_date},
    )
    _plan_clock_next(
        session,
        plan=plan,
        case=case,
        meets=(DeadlineKind.core_group_first, DeadlineKind.core_group),
        rule=timescales.CORE_GROUP,
        on=meeting_date,
        due=timescales.core_group_due(meeting_date),
    )
    session.flush()
    return meeting


def cp_visit_record(
    session: Session,
    *,
    actor: Principal,
    plan_id: uuid.UUID,
    visit_date: date,
    child_seen: bool,
    seen_alone: bool = False,
    visited_by_name: str | None = None,
    notes: str | None = None,
) -> CPVisit:
    """A statutory visit to the child. A visit at which the child was seen meets the CP visit clock
    and starts the next (rule 9, 10 working days, council default); one where the child was not
    seen is recorded but leaves the clock running."""
    plan, case = _plan_for_write(session, actor=actor, plan_id=plan_id)
    _require_active(plan)
    _check_plan_date("visit_date", visit_date, plan)
    case_service.refuse_after_death(session, case=case, field="visit_date", when=visit_date)
    if seen_alone and not child_seen:
        raise Invalid.field("seen_alone", "A child not seen cannot have been seen alone.")
    visit = CPVisit(
        id=uuid.uuid4(),
        cp_plan_id=plan.id,
        visit_date=visit_date,
        child_seen=child_seen,
        seen_alone=seen_alone,
        visited_by_id=actor.user_id,
        visited_by_name=(visited_by_name or actor.display_name).strip(),
        notes=notes,
    )
    session.add(visit)
    session.flush()
    case_event_append(
        session,
        case_id=case.id,
        child_id=case.child_id,
        actor=actor,
        action="cp_visit",
        subject_type="cp_visit",
        subject_id=visit.id,
        changes={
            "cp_plan_id": plan.id,
            "visit_date": visit_date,
            "child_seen": child_seen,
            "seen_alone": seen_alone,
        },
    )
    if child_seen:
        _plan_clock_next(
            session,
            plan=plan,
            case=case,
            meets=(DeadlineKind.cp_visit,),
            rule=timescales.CP_VISIT,
            on=visit_date,
            due=timescales.cp_visit_due(visit_date),
        )
    session.flush()
    return visit


def review_conference_record(
    session: Session,
    *,
    actor: Principal,
    plan_id: uuid.UUID,
    expected_version: int,
    conference_date: date,
    chair: str,
    agencies_present: Sequence[Agency],
    outcome: ConferenceOutcome,
    latest_category: CategoryOfAbuse | None = None,
    end_reason: str | None = None,
    next_step: PlanEndStep | None = None,
    closure_reason: ReasonForClosure | None = None,
    notes: str | None = None,
) -> tuple[CPConference, CPPlan]:
    """A review conference of the plan (after its start: CIN census 8841). It meets the review
    clock (rule 7 or 8) and may change the latest category. It continues the plan (next review in
    6 months, rule 8) or ends it on the conference date with its reason: every clock of the plan
    stops and the case steps down to a CIN plan or, by a team manager, closes."""
    plan, case = _plan_for_write(session, actor=actor, plan_id=plan_id)
    engine.require_version(plan, expected_version)
    _require_active(plan)
    if conference_date <= plan.start_date:
        raise Invalid.field(
            "conference_date",
            f"A review conference falls after the plan's start ({plan.start_date.isoformat()}) "
            "(CIN census rule 8841).",
            rule="8841",
        )
    _not_future("conference_date", conference_date)
    case_service.refuse_after_death(
        session, case=case, field="conference_date", when=conference_date
    )
    last_review = session.scalar(
        select(func.max(CPConference.conference_date)).where(
            CPConference.cp_plan_id == plan.id, CPConference.kind == ConferenceKind.review
        )
    )
    if last_review is not None:
        _not_before("conference_date", conference_date, last_review, "the last review conference")
    if outcome not in REVIEW_OUTCOMES:
        raise Invalid.field("outcome", "A review conference decides continue_plan or end_plan.")
    reason = end_reason.strip() if end_reason and end_reason.strip() else None
    if outcome is ConferenceOutcome.end_plan:
        if reason is None:
            raise Invalid.field("end_reason", "Say why the plan ends.")
        if next_step is None:
            raise Invalid.field("next_step", "Say what follows the plan: cin_plan or close.")
        if (next_step is PlanEndStep.close) != (closure_reason is not None):
            raise Invalid.field(
                "closure_reason", "A closure reason (RC1-RC9) goes with closing the case only."
            )
    elif reason is not None or next_step is not None or closure_reason is not None:
        field_name = "end_reason" if reason else "next_step" if next_step else "closure_reason"
        raise Invalid.field(field_name, "Only a conference that ends the plan says this.")
    _check_quorate(agencies_present)

    conference = CPConference(
        id=uuid.uuid4(),
        kind=ConferenceKind.review,
        case_id=case.id,
        child_id=case.child_id,
        cp_plan_id=plan.id,
        conference_date=conference_date,
        chair=chair,
        agencies_present=sorted({a.value for a in agencies_present}),
        is_quorate=True,
        outcome=outcome,
        category=latest_category,
        notes=notes,
    )
    session.add(conference)
    session.flush()
    changes: dict[str, object] = {
        "cp_plan_id": plan.id,
        "conference_date": conference_date,
        "outcome": outcome.value,
    }
    if latest_category is not None and latest_category is not plan.latest_category:
        changes["latest_category"] = {
            "before": plan.latest_category.value,
            "after": latest_category.value,
        }
        plan.latest_category = latest_category
        session.flush()
    case_event_append(
        session,
        case_id=case.id,
        child_id=case.child_id,
        actor=actor,
        action="review_conference_held",
        subject_type="cp_conference",
        subject_id=conference.id,
        changes=changes,
    )
    for kind in (DeadlineKind.rcpc_first, DeadlineKind.rcpc):
        deadline_service.deadline_meet(
            session,
            subject_type="cp_plan",
            subject_id=plan.id,
            kind=kind,
            met_date=conference_date,
        )
    if outcome is ConferenceOutcome.continue_plan:
        deadline_service.deadline_open(
            session,
            rule=timescales.RCPC,
            subject_type="cp_plan",
            subject_id=plan.id,
            case_id=case.id,
            child_id=case.child_id,
            start_date=conference_date,
            due_date=timescales.rcpc_due(conference_date),
        )
        session.flush()
        return conference, plan

    engine.apply(
        session,
        machine=CP_PLAN_MACHINE,
        record=plan,
        event="end",
        actor=actor,
        expected_version=plan.version,
        case_id=case.id,
        child_id=case.child_id,
        reason=reason,
        data={"end_date": conference_date.isoformat(), "conference_id": str(conference.id)},
    )
    # Timescales.md: an ended CP plan has no next review conference, core group or visit.
    timescales.deadlines_stop_for_subject(
        session, subject_type="cp_plan", subject_id=plan.id, on=conference_date
    )
    if next_step is PlanEndStep.cin_plan:
        _start_cin_plan(session, actor=actor, case=case, start_date=conference_date)
    else:
        assert closure_reason is not None
        case_service.case_transition(
            session,
            actor=actor,
            case_id=case.id,
            event="close",
            expected_version=case.version,
            reason=reason,
            data={"closure_reason": closure_reason.value},
        )
    session.flush()
    return conference, plan


# --- reads -------------------------------------------------------------------------------------


def number_of_previous_cp_plans(session: Session, *, plan: CPPlan) -> int:
    """CIN census ``NumberOfPreviousCPP``: this child's plans that ended before this one started."""
    return (
        session.scalar(
            select(func.count()).where(
                CPPlan.child_id == plan.child_id,
                CPPlan.id != plan.id,
                CPPlan.end_date.is_not(None),
                CPPlan.end_date <= plan.start_date,
            )
        )
        or 0
    )


@dataclass
class CPPlanDetail:
    plan: CPPlan
    number_of_previous_cp_plans: int
    core_groups: list[CoreGroup] = field(default_factory=list)
    visits: list[CPVisit] = field(default_factory=list)
    review_conferences: list[CPConference] = field(default_factory=list)


def _plan_detail(session: Session, plan: CPPlan) -> CPPlanDetail:
    return CPPlanDetail(
        plan=plan,
        number_of_previous_cp_plans=number_of_previous_cp_plans(session, plan=plan),
        core_groups=list(
            session.scalars(
                select(CoreGroup)
                .where(CoreGroup.cp_plan_id == plan.id)
                .order_by(CoreGroup.meeting_date, CoreGroup.created_at)
            )
        ),
        visits=list(
            session.scalars(
                select(CPVisit)
                .where(CPVisit.cp_plan_id == plan.id)
                .order_by(CPVisit.visit_date, CPVisit.created_at)
            )
        ),
        review_conferences=list(
            session.scalars(
                select(CPConference)
                .where(
                    CPConference.cp_plan_id == plan.id,
                    CPConference.kind == ConferenceKind.review,
                )
                .order_by(CPConference.conference_date, CPConference.created_at)
            )
        ),
    )


def cp_plan_get(session: Session, *, actor: Principal, plan_id: uuid.UUID) -> CPPlanDetail:
    """A CP plan with its core groups, visits, review conferences and the number of the child's
    previous plans (the read is access-logged)."""
    plan = _plan(session, plan_id)
    case_service.case_for_read(session, actor=actor, case_id=plan.case_id, resource="cp_plan")
    return _plan_detail(session, plan)


def cp_plan_detail(session: Session, *, plan: CPPlan) -> CPPlanDetail:
    """The detail of a plan the caller has just written (no read to log)."""
    return _plan_detail(session, plan)


@dataclass
class CaseProtection:
    strategy_discussions: list[StrategyDiscussion]
    s47_enquiries: list[S47Enquiry]
    conferences: list[CPConference]
    cp_plans: list[CPPlanDetail]


def case_protection(session: Session, *, actor: Principal, case_id: uuid.UUID) -> CaseProtection:
    """The case's strategy discussions, enquiries, conferences and plans, oldest first (the read is
    access-logged)."""
    case = case_service.case_for_read(
        session, actor=actor, case_id=case_id, resource="case_protection"
    )
    discussions = list(
        session.scalars(
            select(StrategyDiscussion)
            .where(StrategyDiscussion.case_id == case.id)
            .options(selectinload(StrategyDiscussion.participants))
            .order_by(StrategyDiscussion.held_date, StrategyDiscussion.created_at)
        )
    )
    enquiries = list(
        session.scalars(
            select(S47Enquiry)
            .where(S47Enquiry.case_id == case.id)
            .order_by(S47Enquiry.start_date, S47Enquiry.created_at)
        )
    )
    conferences = list(
        session.scalars(
            select(CPConference)
            .where(CPConference.case_id == case.id)
            .order_by(CPConference.conference_date, CPConference.created_at)
        )
    )
    plans = list(
        session.scalars(
            select(CPPlan)
            .where(CPPlan.case_id == case.id)
            .order_by(CPPlan.start_date, CPPlan.created_at)
        )
    )
    return CaseProtection(
        strategy_discussions=discussions,
        s47_enquiries=enquiries,
        conferences=conferences,
        cp_plans=[_plan_detail(session, p) for p in plans],
    )
