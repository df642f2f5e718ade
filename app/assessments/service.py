"""Child and family assessments: start, save the draft, record the child seen, submit, return,
authorise — and the outcome's consequence for the case, in the same transaction.

Rules: the assessment belongs to the CIN episode (it starts no earlier than the referral, while the
case is in ``assessment`` or ``protection``; one not yet authorised per case, CIN census 8896); the
draft is saved with If-Match so an autosave never overwrites newer work (412 carries the current
draft to merge); the authoriser is a manager who is not the author (403); authorising meets the
case's rule 3 deadline (45 working days from the referral), on time or late.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.assessments.factors import factors_parse
from app.assessments.timescales import case_assessment_due, case_referral_date
from app.assessments.workflow import ASSESSMENT_MACHINE, AUTHORISED, IN_PROGRESS
from app.audit.service import case_event_append, change_log_append, diff, to_jsonable
from app.cases import service as case_service
from app.cases.workflow import ASSESSMENT, PROTECTION, episode_went_beyond_assessment
from app.cin import service as cin_service
from app.core_types import ReasonForClosure
from app.deadlines import service as deadline_service
from app.errors import Conflict, Forbidden, Invalid, NotFound, PreconditionFailed
from app.models.assessments import Assessment, AssessmentChildSeen, AssessmentOutcome
from app.models.cases import Case
from app.models.deadlines import DeadlineKind
from app.models.people import Person
from app.security.access import (
    get_person_for_read,
    may_change_case,
    person_denied,
    readable_people,
    require_case_change,
)
from app.security.principal import Principal
from app.workflow import engine
from app.workflow.engine import Transition

ASSESSMENT_NOT_VISIBLE = "There is no assessment with this id that you can see."
CASE_NOT_VISIBLE = "There is no case with this id that you can see."
SUBJECT = "assessment"
#: The case states in which an assessment may start: an s47 enquiry and the assessment run
#: together (Working Together ch.1).
STARTABLE_IN = (ASSESSMENT, PROTECTION)
#: The draft's free-text fields (saved as often as the user likes).
TEXT_FIELDS = ("summary_of_needs", "analysis", "child_views")


# --- loading -----------------------------------------------------------------------------------


def _visible_or_404(session: Session, *, actor: Principal, child_id: uuid.UUID) -> None:
    if session.scalar(readable_people(actor).where(Person.id == child_id)) is None:
        raise person_denied(session, principal=actor, person_id=child_id, resource=SUBJECT)


def _for_write(
    session: Session, *, actor: Principal, assessment_id: uuid.UUID
) -> tuple[Assessment, Case]:
    """The assessment and its case, if the child is visible (404) and the case is one the caller
    may change (403)."""
    assessment = session.get(Assessment, assessment_id)
    if assessment is None:
        raise NotFound(ASSESSMENT_NOT_VISIBLE)
    _visible_or_404(session, actor=actor, child_id=assessment.child_id)
    case = session.get(Case, assessment.case_id)
    assert case is not None  # a foreign key
    require_case_change(actor, case)
    return assessment, case


def _require_in_progress(assessment: Assessment, what: str) -> None:
    if assessment.state != IN_PROGRESS:
        raise Conflict(
            f"The assessment is {assessment.state.replace('_', ' ')}: {what} only while it is in "
            "progress (a manager returns a submitted assessment to reopen it).",
            code="assessment_not_in_progress",
            current_state=assessment.state,
        )


def _check_start_date(session: Session, *, case: Case, start_date: date) -> None:
    if start_date > clock.today():
        raise Invalid.field("start_date", "An assessment cannot start in the future.")
    referral = case_referral_date(session, case=case)
    if start_date < referral:
        raise Invalid.field(
            "start_date",
            f"The assessment cannot start before the referral ({referral.isoformat()}) "
            "(CIN census: AssessmentActualStartDate on or after CINreferralDate).",
            rule="CIN census AssessmentActualStartDate",
        )
    case_service.refuse_after_death(session, case=case, field="start_date", when=start_date)


# --- writes ------------------------------------------------------------------------------------


def assessment_start(
    session: Session,
    *,
    actor: Principal,
    case_id: uuid.UUID,
    start_date: date,
    summary_of_needs: str | None = None,
    analysis: str | None = None,
    child_views: str | None = None,
    factors: Iterable[str] = (),
) -> Assessment:
    """Start a child and family assessment on the case, written by ``actor`` (its author), due
    on the case's rule 3 date (45 working days from the referral)."""
    case = case_service.case_for_change(session, actor=actor, case_id=case_id)
    codes = factors_parse(factors)
    _check_start_date(session, case=case, start_date=start_date)
    if case.state not in STARTABLE_IN:
        raise Conflict(
            f"An assessment starts while the case is in assessment or protection; this case is in "
            f"'{case.state}'.",
            code="case_not_assessing",
            current_state=case.state,
        )
    open_one = session.scalar(
        select(Assessment.id)
        .where(Assessment.case_id == case.id, Assessment.state != AUTHORISED)
        .limit(1)
    )
    if open_one is not None:
        raise Conflict(
            f"This case already has an assessment in progress ({open_one}); carry on with that "
            "one (CIN census rule 8896: one open assessment per episode).",
            code="assessment_already_open",
            existing_assessment_id=str(open_one),
        )
    assessment = Assessment(
        id=uuid.uuid4(),
        case_id=case.id,
        child_id=case.child_id,
        author_id=actor.user_id,
        start_date=start_date,
        due_date=case_assessment_due(session, case=case),
        summary_of_needs=summary_of_needs,
        analysis=analysis,
        child_views=child_views,
        factors=[c.value for c in codes],
    )
    session.add(assessment)
    engine.start(
        session,
        machine=ASSESSMENT_MACHINE,
        record=assessment,
        actor=actor,
        case_id=case.id,
        child_id=case.child_id,
        action="assessment_started",
        data={"start_date": start_date, "factors": assessment.factors},
    )
    return assessment


def _draft(assessment: Assessment) -> dict[str, Any]:
    """The draft as stored: sent back with a 412 so the client can merge its unsaved work."""
    draft: dict[str, Any] = to_jsonable(
        {
            "start_date": assessment.start_date,
            "factors": list(assessment.factors),
            **{name: getattr(assessment, name) for name in TEXT_FIELDS},
        }
    )
    return draft


def assessment_save(
    session: Session,
    *,
    actor: Principal,
    assessment_id: uuid.UUID,
    expected_version: int,
    changes: dict[str, Any],
) -> Assessment:
    """Save the draft (an autosave or a save button): only the fields given change.

    A save made against an older version changes nothing and answers 412 with the current version
    and draft, so the client can merge rather than lose either side's work. The change log names
    the free-text fields changed (not their words) and the before/after of dates and factors.
    """
    assessment, case = _for_write(session, actor=actor, assessment_id=assessment_id)
    if assessment.version != expected_version:
        raise PreconditionFailed(
            f"This assessment is at version {assessment.version}, not {expected_version}: it was "
            "saved since you loaded it. Merge your changes with the current draft and save again.",
            current_version=assessment.version,
            current=_draft(assessment),
        )
    _require_in_progress(assessment, "the draft can be changed")
    after: dict[str, Any] = {}
    if "factors" in changes:
        after["factors"] = [c.value for c in factors_parse(changes["factors"] or [])]
    if "start_date" in changes:
        start_date = changes["start_date"]
        if start_date is None:
            raise Invalid.field("start_date", "The assessment needs a start date.")
        _check_start_date(session, case=case, start_date=start_date)
        seen_before = session.scalar(
            select(AssessmentChildSeen.seen_date)
            .where(
                AssessmentChildSeen.assessment_id == assessment.id,
                AssessmentChildSeen.seen_date < start_date,
            )
            .limit(1)
        )
        if seen_before is not None:
            raise Invalid.field(
                "start_date",
                f"The child was seen for this assessment on {seen_before.isoformat()}; the "
                "assessment cannot start after that.",
            )
        after["start_date"] = start_date
    for name in TEXT_FIELDS:
        if name in changes:
            after[name] = changes[name]
    before = {name: getattr(assessment, name) for name in after}
    changed = diff(before, after)
    if not changed:
        return assessment
    for name, value in after.items():
        setattr(assessment, name, value)
    session.flush()
    change_log_append(
        session,
        actor=actor,
        entity_type=SUBJECT,
        entity_id=assessment.id,
        action="draft_saved",
        changes={
            name: ({"changed": True} if name in TEXT_FIELDS else value)
            for name, value in changed.items()
        },
    )
    return assessment


def assessment_child_seen_add(
    session: Session,
    *,
    actor: Principal,
    assessment_id: uuid.UUID,
    seen_date: date,
    seen_alone: bool,
    seen_by_id: uuid.UUID | None = None,
) -> AssessmentChildSeen:
    """Record a date the child was seen for the assessment (by ``seen_by_id``, default the
    caller), and whether alone: not before the assessment started, not in the future."""
    assessment, case = _for_write(session, actor=actor, assessment_id=assessment_id)
    _require_in_progress(assessment, "dates seen can be added")
    if seen_date > clock.today():
        raise Invalid.field("seen_date", "The child cannot be seen in the future.")
    case_service.refuse_after_death(session, case=case, field="seen_date", when=seen_date)
    if seen_date < assessment.start_date:
        raise Invalid.field(
            "seen_date",
            f"A date seen for this assessment cannot be before it started "
            f"({assessment.start_date.isoformat()}).",
            rule="seen on or after AssessmentActualStartDate",
        )
    seen = AssessmentChildSeen(
        assessment_id=assessment.id,
        seen_date=seen_date,
        is_seen_alone=seen_alone,
        seen_by_id=seen_by_id or actor.user_id,
    )
    session.add(seen)
    session.flush()
    case_event_append(
        session,
        case_id=case.id,
        child_id=case.child_id,
        actor=actor,
        action="child_seen",
        subject_type=SUBJECT,
        subject_id=assessment.id,
        changes={"seen_date": seen_date, "seen_alone": seen_alone, "seen_by_id": seen.seen_by_id},
    )
    return seen


def assessment_submit(
    session: Session, *, actor: Principal, assessment_id: uuid.UUID, expected_version: int
) -> Assessment:
    """Submit the assessment for a manager's authorisation (the guard checks it is ready)."""
    assessment, case = _for_write(session, actor=actor, assessment_id=assessment_id)
    engine.require_version(assessment, expected_version)
    engine.apply(
        session,
        machine=ASSESSMENT_MACHINE,
        record=assessment,
        event="submit",
        actor=actor,
        expected_version=expected_version,
        case_id=case.id,
        child_id=case.child_id,
    )
    return assessment


def assessment_return(
    session: Session,
    *,
    actor: Principal,
    assessment_id: uuid.UUID,
    expected_version: int,
    comments: str,
) -> Assessment:
    """A manager returns the submitted assessment to its author, with comments."""
    assessment, case = _for_write(session, actor=actor, assessment_id=assessment_id)
    engine.require_version(assessment, expected_version)
    engine.apply(
        session,
        machine=ASSESSMENT_MACHINE,
        record=assessment,
        event="return",
        actor=actor,
        expected_version=expected_version,
        case_id=case.id,
        child_id=case.child_id,
        reason=comments,
    )
    return assessment


def assessment_authorise(
    session: Session,
    *,
    actor: Principal,
    assessment_id: uuid.UUID,
    expected_version: int,
    outcome: AssessmentOutcome,
    comments: str,
    authorised_date: date | None = None,
) -> Assessment:
    """A manager who is not the author authorises the assessment with comments and its outcome.

    It meets the case's rule 3 deadline on the authorisation date (met, or missed when late), then
    takes the outcome's consequence for the case: NFA closes it with RC8, early help with RC9
    (CIN census 8825Q: both only after an assessment), a CIN plan starts, a strategy discussion
    starts, or the child becomes looked after.
    """
    assessment, case = _for_write(session, actor=actor, assessment_id=assessment_id)
    engine.require_version(assessment, expected_version)
    if actor.user_id == assessment.author_id:
        raise Forbidden(
            "You cannot authorise your own assessment: another manager must authorise it.",
            code="own_assessment",
        )
    when = authorised_date or clock.today()
    if when > clock.today():
        raise Invalid.field("authorised_date", "An assessment cannot be authorised in the future.")
    if assessment.submitted_date is not None and when < assessment.submitted_date:
        raise Invalid.field(
            "authorised_date",
            f"The assessment cannot be authorised before it was submitted "
            f"({assessment.submitted_date.isoformat()}) "
            "(CIN census: AssessmentAuthorisationDate after the start).",
            rule="authorised on or after submission",
        )
    engine.apply(
        session,
        machine=ASSESSMENT_MACHINE,
        record=assessment,
        event="authorise",
        actor=actor,
        expected_version=expected_version,
        case_id=case.id,
        child_id=case.child_id,
        reason=comments,
        data={"outcome": outcome.value, "authorised_date": when},
    )
    # Rule 3 is met by the authorisation (before any closure below stops the case's clocks).
    deadline_service.deadline_meet(
        session,
        subject_type="case",
        subject_id=case.id,
        kind=DeadlineKind.assessment_authorised,
        met_date=when,
    )
    session.flush()
    _take_outcome(session, actor=actor, case=case, outcome=outcome, comments=comments, on=when)
    return assessment


def _take_outcome(
    session: Session,
    *,
    actor: Principal,
    case: Case,
    outcome: AssessmentOutcome,
    comments: str,
    on: date,
) -> None:
    """Move the case as the authorised assessment decided, in the same transaction."""
    reason = f"Assessment authorised: {comments.strip()}"
    if outcome in (AssessmentOutcome.no_further_action, AssessmentOutcome.early_help):
        code = (
            ReasonForClosure.CLOSED_AFTER_ASSESSMENT_NFA
            if outcome is AssessmentOutcome.no_further_action
            else ReasonForClosure.CLOSED_AFTER_ASSESSMENT_EARLY_HELP
        )
        if episode_went_beyond_assessment(session, case.id):
            # CIN 2990: an episode that had a s47 enquiry or a plan did not close "after
            # assessment"; services ceased (RC7).
            code = ReasonForClosure.SERVICES_CEASED
        case_service.case_transition(
            session,
            actor=actor,
            case_id=case.id,
            event="close",
            expected_version=case.version,
            reason=reason,
            data={"closure_reason": code.value},
        )
        if outcome is AssessmentOutcome.early_help:
            # Imported here, as in the contacts hook: early help imports the front door services.
            from app.earlyhelp import service as early_help_service
            from app.models.earlyhelp import EarlyHelpOrigin

            early_help_service.early_help_step_down(
                session, actor=actor, case=case, origin=EarlyHelpOrigin.assessment, on=on
            )
    elif outcome is AssessmentOutcome.cin_plan:
        cin_service.cin_plan_start(session, actor=actor, case_id=case.id, start_date=on)
    elif outcome is AssessmentOutcome.strategy_discussion:
        # An s47 may already be running alongside the assessment: the case is then in protection.
        if case.state != PROTECTION:
            case_service.case_transition(
                session,
                actor=actor,
                case_id=case.id,
                event="start_strategy",
                expected_version=case.version,
                reason=reason,
            )
    elif outcome is AssessmentOutcome.looked_after:
        # Recorded on the case until the children-in-care module takes it on.
        case_service.case_transition(
            session,
            actor=actor,
            case_id=case.id,
            event="become_looked_after",
            expected_version=case.version,
            reason=reason,
        )


# --- reads -------------------------------------------------------------------------------------


def assessment_get(session: Session, *, actor: Principal, assessment_id: uuid.UUID) -> Assessment:
    """The assessment, if its child is visible to the caller; the read is access-logged."""
    assessment = session.get(Assessment, assessment_id)
    if assessment is None:
        raise NotFound(ASSESSMENT_NOT_VISIBLE)
    get_person_for_read(
        session,
        principal=actor,
        person_id=assessment.child_id,
        resource=SUBJECT,
        case_id=assessment.case_id,
    )
    return assessment


def assessment_seen_dates(session: Session, *, assessment: Assessment) -> list[AssessmentChildSeen]:
    """The dates the child was seen, oldest first (the caller has already read the assessment)."""
    return list(
        session.scalars(
            select(AssessmentChildSeen)
            .where(AssessmentChildSeen.assessment_id == assessment.id)
            .order_by(AssessmentChildSeen.seen_date, AssessmentChildSeen.created_at)
        )
    )


def assessment_allowed_events(
    session: Session, *, actor: Principal, assessment: Assessment
) -> list[Transition]:
    """What the caller may do next: nothing on another team's case; never authorise their own."""
    case = session.get(Case, assessment.case_id)
    if case is None or not may_change_case(actor, case):
        return []
    return [
        t
        for t in engine.allowed_events(ASSESSMENT_MACHINE, assessment.state, actor.role)
        if not (t.event == "authorise" and actor.user_id == assessment.author_id)
    ]
