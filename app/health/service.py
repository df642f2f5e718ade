"""Health and wellbeing of a looked-after child: health assessments (timescales rules 23 and 24),
dental checks, the SDQ, substance misuse and convictions — the records the SSDA903 OC2 row is
derived from (:func:`oc2_for_child`).

The initial health assessment is due before the first review, 20 working days after the child
became looked after (:func:`on_care_started`, called by :mod:`app.care.hooks`); each assessment
meets the one due and opens the next: 6 months later when the child was under 5 at the
assessment, 12 months from 5 (reg 7). Ceasing care stops them (the care service stops every
``LOOKED_AFTER_KINDS`` deadline). Health records are sensitive: every read is access-logged,
every write appends a case event.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import case_event_append
from app.calendar import add_months, add_working_days
from app.care.codes import LegalStatus
from app.careplans.service import PERIOD_SUBJECT, period_for_change, require_row_version
from app.cases import service as case_service
from app.deadlines import care_rules
from app.deadlines import service as deadline_service
from app.errors import Conflict, Invalid, NotFound
from app.health.schemas import (
    ConvictionCreate,
    DentalCheckCreate,
    HealthAssessmentCreate,
    SDQCreate,
    SubstanceMisuseCreate,
)
from app.models.care import LegalStatusRecord, PeriodOfCare, Placement
from app.models.cases import Case
from app.models.deadlines import Deadline, DeadlineKind
from app.models.health import (
    Conviction,
    DentalCheck,
    HealthAssessment,
    HealthAssessmentKind,
    SDQReason,
    SDQRecord,
    SubstanceMisuse,
)
from app.models.people import Person
from app.security.access import get_person_for_read
from app.security.principal import Principal

RESOURCE = "health_record"
INITIAL_WORKING_DAYS = 20  # rule 23: before the first review (reg 33(1), 20 working days)
REVIEW_MONTHS_UNDER_5 = 6  # rule 24
REVIEW_MONTHS_FROM_5 = 12  # rule 24
SDQ_NOT_VISIBLE = "There is no SDQ with this id that you can see."
SHORT_BREAKS = (LegalStatus.SHORT_BREAK_SINGLE, LegalStatus.SHORT_BREAK_SERIES)


# --- ages and years ----------------------------------------------------------------------------


def birthday(born: date, years: int) -> date:
    """The ``years``-th birthday (29 February born: 28 February in other years, as the SSDA903
    validator's ``DateOffset(years=n)`` counts it)."""
    return add_months(born, 12 * years)


def age_on(born: date, day: date) -> int:
    """Whole years of age on ``day``."""
    years = day.year - born.year
    return years if birthday(born, years) <= day else years - 1


def year_end_of(day: date) -> date:
    """The 31 March that ends the SSDA903 year (1 April to 31 March) ``day`` falls in."""
    return date(day.year, 3, 31) if day <= date(day.year, 3, 31) else date(day.year + 1, 3, 31)


def year_start_of(year_end: date) -> date:
    return date(year_end.year - 1, 4, 1)


def review_due(assessment_date: date, *, born: date) -> date:
    """Rule 24: 6 months after an assessment held when the child was under 5, else 12 months
    (calendar months clamped to the month's end: 31 August + 6 months = 28/29 February)."""
    under_5 = age_on(born, assessment_date) < 5
    return add_months(assessment_date, REVIEW_MONTHS_UNDER_5 if under_5 else REVIEW_MONTHS_FROM_5)


# --- the clock (called by app.care.hooks) ------------------------------------------------------


def on_care_started(
    session: Session, *, actor: Principal, period: PeriodOfCare, placement: Placement
) -> None:
    """Rule 23: the initial health assessment before the first review, 20 working days after the
    child became looked after."""
    deadline_service.deadline_open(
        session,
        rule=care_rules.HEALTH_ASSESSMENT_INITIAL,
        subject_type=PERIOD_SUBJECT,
        subject_id=period.id,
        case_id=period.case_id,
        child_id=period.child_id,
        start_date=period.start_date,
        due_date=add_working_days(period.start_date, INITIAL_WORKING_DAYS),
    )
    session.flush()


# --- checks ------------------------------------------------------------------------------------


def _check_date(
    session: Session, *, case: Case, period: PeriodOfCare, field: str, when: date, rule: str
) -> None:
    """Nothing in the future, before the child became looked after, or after the child's death."""
    if when > clock.today():
        raise Invalid.field(field, "This date is in the future.", rule=rule)
    if when < period.start_date:
        raise Invalid.field(
            field,
            f"This date is before the child became looked after ({period.start_date.isoformat()})"
            f": a looked-after child's health record starts with the period of care ({rule}).",
            rule=rule,
        )
    case_service.refuse_after_death(session, case=case, field=field, when=when)


def _child(session: Session, child_id: uuid.UUID) -> Person:
    child = session.get(Person, child_id)
    assert child is not None  # a foreign key
    return child


def _event(
    session: Session,
    *,
    actor: Principal,
    period: PeriodOfCare,
    action: str,
    subject_type: str,
    subject_id: uuid.UUID,
    changes: dict[str, Any],
) -> None:
    case_event_append(
        session,
        case_id=period.case_id,
        child_id=period.child_id,
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        changes=changes,
    )


# --- writes ------------------------------------------------------------------------------------


def health_assessment_record(
    session: Session, *, actor: Principal, period_id: uuid.UUID, body: HealthAssessmentCreate
) -> HealthAssessment:
    """Record a health assessment: the period's first is the initial one (meets rule 23), later
    ones are reviews (meet rule 24); each opens the next review, 6 or 12 months on by the child's
    age at this assessment."""
    period, case = period_for_change(session, actor=actor, period_id=period_id)
    when = body.assessment_date or clock.today()
    _check_date(session, case=case, period=period, field="assessment_date", when=when, rule="TS23")
    last = session.scalar(
        select(HealthAssessment.assessment_date)
        .where(HealthAssessment.period_id == period.id)
        .order_by(HealthAssessment.assessment_date.desc())
        .limit(1)
    )
    if last is not None and when < last:
        raise Invalid.field(
            "assessment_date",
            f"A review health assessment cannot be dated before the last one "
            f"({last.isoformat()}): each is counted from the one before (rule TS24).",
            rule="TS24",
        )
    kind = HealthAssessmentKind.initial if last is None else HealthAssessmentKind.review
    born = _child(session, period.child_id).date_of_birth
    assert born is not None  # a looked-after child has been born (app.care checks it)
    assessment = HealthAssessment(
        period_id=period.id,
        case_id=period.case_id,
        child_id=period.child_id,
        recorded_by_id=actor.user_id,
        kind=kind,
        assessment_date=when,
        assessed_by=body.assessed_by,
        is_immunisations_up_to_date=body.is_immunisations_up_to_date,
        is_development_checks_up_to_date=body.is_development_checks_up_to_date,
        notes=body.notes,
    )
    session.add(assessment)
    deadline_service.deadline_meet(
        session,
        subject_type=PERIOD_SUBJECT,
        subject_id=period.id,
        kind=(
            DeadlineKind.health_assessment_initial
            if kind is HealthAssessmentKind.initial
            else DeadlineKind.health_assessment_review
        ),
        met_date=when,
    )
    deadline_service.deadline_open(
        session,
        rule=care_rules.HEALTH_ASSESSMENT_REVIEW,
        subject_type=PERIOD_SUBJECT,
        subject_id=period.id,
        case_id=period.case_id,
        child_id=period.child_id,
        start_date=when,
        due_date=review_due(when, born=born),
    )
    session.flush()
    _event(
        session,
        actor=actor,
        period=period,
        action=f"health_assessment_{kind.value}_recorded",
        subject_type="health_assessment",
        subject_id=assessment.id,
        changes={
            "assessment_date": when,
            "kind": kind.value,
            "is_immunisations_up_to_date": body.is_immunisations_up_to_date,
            "is_development_checks_up_to_date": body.is_development_checks_up_to_date,
        },
    )
    return assessment


def dental_check_record(
    session: Session, *, actor: Principal, period_id: uuid.UUID, body: DentalCheckCreate
) -> DentalCheck:
    """A dental check (OC2 TEETH_CHECK)."""
    period, case = period_for_change(session, actor=actor, period_id=period_id)
    when = body.check_date or clock.today()
    _check_date(
        session,
        case=case,
        period=period,
        field="check_date",
        when=when,
        rule="SSDA903 OC2 TEETH_CHECK",
    )
    check = DentalCheck(
        period_id=period.id,
        case_id=period.case_id,
        child_id=period.child_id,
        recorded_by_id=actor.user_id,
        check_date=when,
        notes=body.notes,
    )
    session.add(check)
    session.flush()
    _event(
        session,
        actor=actor,
        period=period,
        action="dental_check_recorded",
        subject_type="dental_check",
        subject_id=check.id,
        changes={"check_date": when},
    )
    return check


def _check_sdq(session: Session, *, period: PeriodOfCare, body: SDQCreate, when: date) -> date:
    """The SSDA903 rules on the SDQ, at entry; returns the year's 31 March."""
    if body.score is not None and body.reason is not None:
        raise Invalid.field(
            "reason",
            "An SDQ has a score or the reason there is none, never both (SSDA903 rule 197a).",
            rule="SSDA903 197a",
        )
    if body.score is None and body.reason is None:
        raise Invalid.field(
            "score",
            "Give the SDQ score (0-40) or the reason there is none, SDQ1-SDQ5 (SSDA903 rule 186).",
            rule="SSDA903 186",
        )
    if body.score is not None and not 0 <= body.score <= 40:
        raise Invalid.field(
            "score", "An SDQ score is 0 to 40 (SSDA903 rule 180).", rule="SSDA903 180"
        )
    year_end = year_end_of(when)
    born = _child(session, period.child_id).date_of_birth
    assert born is not None
    if birthday(born, 4) > year_end:
        raise Invalid.field(
            "completed_date",
            "The child is under 4 at the end of this year: no SDQ score or reason is recorded "
            "(SSDA903 rule 188).",
            rule="SSDA903 188",
        )
    if birthday(born, 17) < year_start_of(year_end):
        raise Invalid.field(
            "completed_date",
            "The young person was 17 or over at the start of this year: no SDQ score or reason "
            "is recorded (SSDA903 rule 189).",
            rule="SSDA903 189",
        )
    in_band = birthday(born, 4) <= year_start_of(year_end) and birthday(born, 16) >= year_end
    if body.reason is SDQReason.SDQ1 and in_band:
        raise Invalid.field(
            "reason",
            "SDQ1 (child under 4 or over 17) cannot be the reason for a child aged 4 at the start "
            "of the year and 16 or under at its end (SSDA903 rule 157).",
            rule="SSDA903 157",
        )
    return year_end


def sdq_record(
    session: Session, *, actor: Principal, period_id: uuid.UUID, body: SDQCreate
) -> SDQRecord:
    """The SDQ of the SSDA903 year ``completed_date`` falls in (one per child and year: a second
    is a 409 naming the first, to be corrected instead)."""
    period, case = period_for_change(session, actor=actor, period_id=period_id)
    when = body.completed_date or clock.today()
    _check_date(
        session, case=case, period=period, field="completed_date", when=when, rule="SSDA903 OC2 SDQ"
    )
    year_end = _check_sdq(session, period=period, body=body, when=when)
    existing = session.scalar(
        select(SDQRecord.id).where(
            SDQRecord.child_id == period.child_id, SDQRecord.year_end == year_end
        )
    )
    if existing is not None:
        raise Conflict(
            f"The SDQ for the year to {year_end.isoformat()} is already recorded; correct it "
            f"(PUT /api/v1/sdqs/{existing}) rather than add a second (one OC2 row a year).",
            code="sdq_already_recorded",
            sdq_id=str(existing),
        )
    sdq = SDQRecord(
        period_id=period.id,
        case_id=period.case_id,
        child_id=period.child_id,
        recorded_by_id=actor.user_id,
        year_end=year_end,
        completed_date=when,
        score=body.score,
        reason=body.reason,
    )
    session.add(sdq)
    session.flush()
    _event(
        session,
        actor=actor,
        period=period,
        action="sdq_recorded",
        subject_type="sdq_record",
        subject_id=sdq.id,
        changes={
            "year_end": year_end,
            "completed_date": when,
            "score": body.score,
            "reason": body.reason,
        },
    )
    return sdq


def sdq_correct(
    session: Session, *, actor: Principal, sdq_id: uuid.UUID, expected_version: int, body: SDQCreate
) -> SDQRecord:
    """Correct the year's SDQ (a stale ``expected_version`` is a 412 and changes nothing); the
    corrected record stays in the same SSDA903 year."""
    sdq = session.get(SDQRecord, sdq_id)
    if sdq is None:
        raise NotFound(SDQ_NOT_VISIBLE)
    period, case = period_for_change(session, actor=actor, period_id=sdq.period_id)
    require_row_version(sdq.version, expected_version)
    when = body.completed_date or sdq.completed_date
    _check_date(
        session, case=case, period=period, field="completed_date", when=when, rule="SSDA903 OC2 SDQ"
    )
    year_end = _check_sdq(session, period=period, body=body, when=when)
    if year_end != sdq.year_end:
        raise Invalid.field(
            "completed_date",
            f"This SDQ is the one for the year to {sdq.year_end.isoformat()}; record another "
            "year's SDQ on its own.",
            rule="SSDA903 OC2 SDQ",
        )
    before = {"completed_date": sdq.completed_date, "score": sdq.score, "reason": sdq.reason}
    sdq.completed_date, sdq.score, sdq.reason = when, body.score, body.reason
    session.flush()
    _event(
        session,
        actor=actor,
        period=period,
        action="sdq_corrected",
        subject_type="sdq_record",
        subject_id=sdq.id,
        changes={
            "before": before,
            "after": {"completed_date": when, "score": body.score, "reason": body.reason},
        },
    )
    return sdq


def substance_misuse_record(
    session: Session, *, actor: Principal, period_id: uuid.UUID, body: SubstanceMisuseCreate
) -> SubstanceMisuse:
    """A substance misuse problem identified (OC2 SUBSTANCE_MISUSE), with whether an intervention
    was received (INTERVENTION_RECEIVED) and, only when none was, whether one was offered
    (INTERVENTION_OFFERED: SSDA903 rules 158 and 159)."""
    period, case = period_for_change(session, actor=actor, period_id=period_id)
    when = body.identified_date or clock.today()
    _check_date(
        session,
        case=case,
        period=period,
        field="identified_date",
        when=when,
        rule="SSDA903 OC2 SUBSTANCE_MISUSE",
    )
    if body.is_intervention_received and body.is_intervention_offered is not None:
        raise Invalid.field(
            "is_intervention_offered",
            "An intervention was received: whether one was offered is left blank (SSDA903 rule "
            "158).",
            rule="SSDA903 158",
        )
    if not body.is_intervention_received and body.is_intervention_offered is None:
        raise Invalid.field(
            "is_intervention_offered",
            "No intervention was received: say whether one was offered (SSDA903 rule 159).",
            rule="SSDA903 159",
        )
    record = SubstanceMisuse(
        period_id=period.id,
        case_id=period.case_id,
        child_id=period.child_id,
        recorded_by_id=actor.user_id,
        identified_date=when,
        is_intervention_received=body.is_intervention_received,
        is_intervention_offered=body.is_intervention_offered,
        notes=body.notes,
    )
    session.add(record)
    session.flush()
    _event(
        session,
        actor=actor,
        period=period,
        action="substance_misuse_recorded",
        subject_type="substance_misuse",
        subject_id=record.id,
        changes={
            "identified_date": when,
            "is_intervention_received": body.is_intervention_received,
            "is_intervention_offered": body.is_intervention_offered,
        },
    )
    return record


def conviction_record(
    session: Session, *, actor: Principal, period_id: uuid.UUID, body: ConvictionCreate
) -> Conviction:
    """A conviction, final warning or reprimand (OC2 CONVICTED) of a child aged 10 or over (the
    age of criminal responsibility; SSDA903 rule 542)."""
    period, case = period_for_change(session, actor=actor, period_id=period_id)
    when = body.conviction_date or clock.today()
    _check_date(
        session,
        case=case,
        period=period,
        field="conviction_date",
        when=when,
        rule="SSDA903 OC2 CONVICTED",
    )
    born = _child(session, period.child_id).date_of_birth
    assert born is not None
    if age_on(born, when) < 10:
        raise Invalid.field(
            "conviction_date",
            "A child under 10 cannot be convicted (Children and Young Persons Act 1933 s.50; "
            "SSDA903 rule 542).",
            rule="SSDA903 542",
        )
    record = Conviction(
        period_id=period.id,
        case_id=period.case_id,
        child_id=period.child_id,
        recorded_by_id=actor.user_id,
        conviction_date=when,
        offence=body.offence,
    )
    session.add(record)
    session.flush()
    _event(
        session,
        actor=actor,
        period=period,
        action="conviction_recorded",
        subject_type="conviction",
        subject_id=record.id,
        changes={"conviction_date": when},
    )
    return record


# --- reads -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HealthRecord:
    period: PeriodOfCare
    next_assessment_due: date | None
    assessments: list[HealthAssessment]
    dental_checks: list[DentalCheck]
    sdqs: list[SDQRecord]
    substance_misuse: list[SubstanceMisuse]
    convictions: list[Conviction]


def health_record_get(session: Session, *, actor: Principal, period_id: uuid.UUID) -> HealthRecord:
    """The period's health and wellbeing records, newest first; the read is access-logged."""
    period = session.get(PeriodOfCare, period_id)
    if period is None:
        raise NotFound("There is no period of care with this id that you can see.")
    get_person_for_read(
        session,
        principal=actor,
        person_id=period.child_id,
        resource=RESOURCE,
        case_id=period.case_id,
    )
    next_due = session.scalar(
        select(Deadline.due_date)
        .where(
            Deadline.subject_type == PERIOD_SUBJECT,
            Deadline.subject_id == period.id,
            Deadline.kind.in_(
                (DeadlineKind.health_assessment_initial, DeadlineKind.health_assessment_review)
            ),
            Deadline.met_date.is_(None),
            Deadline.stopped_date.is_(None),
        )
        .order_by(Deadline.due_date)
        .limit(1)
    )
    return HealthRecord(
        period=period,
        next_assessment_due=next_due,
        assessments=list(
            session.scalars(
                select(HealthAssessment)
                .where(HealthAssessment.period_id == period.id)
                .order_by(
                    HealthAssessment.assessment_date.desc(), HealthAssessment.created_at.desc()
                )
            )
        ),
        dental_checks=list(
            session.scalars(
                select(DentalCheck)
                .where(DentalCheck.period_id == period.id)
                .order_by(DentalCheck.check_date.desc())
            )
        ),
        sdqs=list(
            session.scalars(
                select(SDQRecord)
                .where(SDQRecord.period_id == period.id)
                .order_by(SDQRecord.year_end.desc())
            )
        ),
        substance_misuse=list(
            session.scalars(
                select(SubstanceMisuse)
                .where(SubstanceMisuse.period_id == period.id)
                .order_by(SubstanceMisuse.identified_date.desc())
            )
        ),
        convictions=list(
            session.scalars(
                select(Conviction)
                .where(Conviction.period_id == period.id)
                .order_by(Conviction.conviction_date.desc())
            )
        ),
    )


# --- the SSDA903 OC2 row -----------------------------------------------------------------------


@dataclass(frozen=True)
class OC2:
    """The OC2 fields of one child for one year (None = left blank)."""

    child_id: uuid.UUID
    dob: date
    sdq_score: int | None
    sdq_reason: SDQReason | None
    convicted: int | None
    health_check: int | None
    immunisations: int | None
    teeth_check: int | None
    health_assessment: int | None
    substance_misuse: int | None
    intervention_received: int | None
    intervention_offered: int | None

    def fields(self) -> dict[str, object]:
        """The row under the SSDA903 column names (values, not yet formatted for the CSV)."""
        return {
            "CHILD": self.child_id,
            "DOB": self.dob,
            "SDQ_SCORE": self.sdq_score,
            "SDQ_REASON": self.sdq_reason,
            "CONVICTED": self.convicted,
            "HEALTH_CHECK": self.health_check,
            "IMMUNISATIONS": self.immunisations,
            "TEETH_CHECK": self.teeth_check,
            "HEALTH_ASSESSMENT": self.health_assessment,
            "SUBSTANCE_MISUSE": self.substance_misuse,
            "INTERVENTION_RECEIVED": self.intervention_received,
            "INTERVENTION_OFFERED": self.intervention_offered,
        }


def continuously_looked_after(session: Session, *, child_id: uuid.UUID, year_end: date) -> bool:
    """Looked after continuously for the 12 months to ``year_end`` (the validator's
    ``add_CLA_column``): one period of care that started on or before 1 April and had not ceased
    before 31 March, with no short-break (V3/V4) legal status during the year."""
    start = year_start_of(year_end)
    period = session.scalar(
        select(PeriodOfCare)
        .where(
            PeriodOfCare.child_id == child_id,
            PeriodOfCare.start_date <= start,
            (PeriodOfCare.end_date.is_(None)) | (PeriodOfCare.end_date >= year_end),
        )
        .limit(1)
    )
    if period is None:
        return False
    short_break = session.scalar(
        select(LegalStatusRecord.id)
        .where(
            LegalStatusRecord.period_id == period.id,
            LegalStatusRecord.legal_status.in_(SHORT_BREAKS),
            LegalStatusRecord.start_date <= year_end,
            (LegalStatusRecord.end_date.is_(None)) | (LegalStatusRecord.end_date >= start),
        )
        .limit(1)
    )
    return short_break is None


def _flag(value: bool) -> int:
    return 1 if value else 0


def oc2_for_child(session: Session, child_id: uuid.UUID, year_end: date) -> OC2 | None:
    """The OC2 row of ``child_id`` for the SSDA903 year ending ``year_end`` (a 31 March), or None
    when the child was not looked after continuously for the 12 months to that day (then every
    OC2 field is blank: validator rules 185, 190, 198). Called by the returns module, which has
    already checked access; it reads no child for display, so it writes no access log.

    Derived from the records (the validator's rules in brackets):

    - SDQ_SCORE / SDQ_REASON: the year's SDQ, for a child 4 or over at 31 March and not yet 17 on
      1 April (188, 189); blank when none was recorded (186 then asks for one).
    - CONVICTED: aged 10 or over at 31 March (542, 543): 1 if convicted during the year.
    - HEALTH_CHECK: under 5 at 31 March only (545, 546): the last assessment of the year found the
      developmental checks up to date.
    - IMMUNISATIONS: the last health assessment on or before 31 March found them up to date.
    - TEETH_CHECK: a dental check during the year.
    - HEALTH_ASSESSMENT: health assessments up to date at 31 March — the last assessment on or
      before it had its next review (6 or 12 months by rule 24) still to come on 31 March.
    - SUBSTANCE_MISUSE: a problem identified during the year; INTERVENTION_RECEIVED only then
      (192, 193); INTERVENTION_OFFERED only when none was received (158, 159).
    """
    if (year_end.month, year_end.day) != (3, 31):
        raise Invalid.field("year_end", "An SSDA903 year ends on 31 March.")
    if not continuously_looked_after(session, child_id=child_id, year_end=year_end):
        return None
    born = _child(session, child_id).date_of_birth
    assert born is not None
    start = year_start_of(year_end)

    assessments = list(
        session.scalars(
            select(HealthAssessment)
            .where(
                HealthAssessment.child_id == child_id,
                HealthAssessment.assessment_date <= year_end,
            )
            .order_by(HealthAssessment.assessment_date.desc(), HealthAssessment.created_at.desc())
        )
    )
    last = assessments[0] if assessments else None
    last_in_year = next((a for a in assessments if a.assessment_date >= start), None)

    sdq_score: int | None = None
    sdq_reason: SDQReason | None = None
    if birthday(born, 4) <= year_end and birthday(born, 17) >= start:
        sdq = session.scalar(
            select(SDQRecord).where(SDQRecord.child_id == child_id, SDQRecord.year_end == year_end)
        )
        if sdq is not None:
            sdq_score, sdq_reason = sdq.score, sdq.reason

    convicted: int | None = None
    if birthday(born, 10) <= year_end:
        convicted = _flag(
            session.scalar(
                select(Conviction.id)
                .where(
                    Conviction.child_id == child_id,
                    Conviction.conviction_date >= start,
                    Conviction.conviction_date <= year_end,
                )
                .limit(1)
            )
            is not None
        )

    health_check: int | None = None
    if birthday(born, 5) > year_end:
        health_check = _flag(
            last_in_year is not None and last_in_year.is_development_checks_up_to_date is True
        )

    teeth = session.scalar(
        select(DentalCheck.id)
        .where(
            DentalCheck.child_id == child_id,
            DentalCheck.check_date >= start,
            DentalCheck.check_date <= year_end,
        )
        .limit(1)
    )
    misuse = list(
        session.scalars(
            select(SubstanceMisuse).where(
                SubstanceMisuse.child_id == child_id,
                SubstanceMisuse.identified_date >= start,
                SubstanceMisuse.identified_date <= year_end,
            )
        )
    )
    received: int | None = None
    offered: int | None = None
    if misuse:
        received = _flag(any(m.is_intervention_received for m in misuse))
        if received == 0:
            offered = _flag(any(m.is_intervention_offered is True for m in misuse))

    return OC2(
        child_id=child_id,
        dob=born,
        sdq_score=sdq_score,
        sdq_reason=sdq_reason,
        convicted=convicted,
        health_check=health_check,
        immunisations=_flag(last is not None and last.is_immunisations_up_to_date),
        teeth_check=_flag(teeth is not None),
        health_assessment=_flag(
            last is not None and review_due(last.assessment_date, born=born) >= year_end
        ),
        substance_misuse=_flag(bool(misuse)),
        intervention_received=received,
        intervention_offered=offered,
    )


def oc2_get(
    session: Session, *, actor: Principal, child_id: uuid.UUID, year_end: date
) -> OC2 | None:
    """:func:`oc2_for_child` for a caller who may see the child; the read is access-logged."""
    get_person_for_read(session, principal=actor, person_id=child_id, resource="oc2")
    return oc2_for_child(session, child_id, year_end)
