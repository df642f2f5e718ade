"""The assessment's clock: timescales rule 3 (45 working days from the referral).

The case opens the deadline when it accepts the referral (``app.cases.workflow``, rule TS3 in
``app.deadlines.rules``); the assessment reads it (its due date) and meets it when a manager
authorises the assessment. Met on or before the due date, missed after it.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.deadlines.rules import ASSESSMENT_AUTHORISED, ASSESSMENT_WORKING_DAYS
from app.models.cases import Case
from app.models.deadlines import Deadline, DeadlineKind

__all__ = [
    "ASSESSMENT_AUTHORISED",
    "ASSESSMENT_WORKING_DAYS",
    "case_assessment_due",
    "case_referral_date",
]


def case_referral_date(session: Session, *, case: Case) -> date:
    """The date the case's referral was received: the start of its rule 3 clock (opened by the
    case machine on ``accept_referral``), else the date the case opened."""
    start = session.scalar(
        select(Deadline.start_date)
        .where(
            Deadline.subject_type == "case",
            Deadline.subject_id == case.id,
            Deadline.kind == DeadlineKind.assessment_authorised,
        )
        .order_by(Deadline.start_date.desc())
        .limit(1)
    )
    return start or case.opened_date


def case_assessment_due(session: Session, *, case: Case) -> date | None:
    """The due date of the case's rule 3 deadline (45 working days from the referral)."""
    return session.scalar(
        select(Deadline.due_date)
        .where(
            Deadline.subject_type == "case",
            Deadline.subject_id == case.id,
            Deadline.kind == DeadlineKind.assessment_authorised,
        )
        .order_by(Deadline.start_date.desc())
        .limit(1)
    )
