"""Creator functions for IRO stories: a child brought into care with an IRO, reviews recorded
through the real services, siblings, and care ceasing."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from app import clock
from app.iro import reviews as review_service
from app.iro import service as iro_service
from app.models import Person, PersonRelationship, RelationshipKind, UserAccount
from app.models.care import PeriodOfCare
from app.models.iro import CLAReview, IROAllocation, ParticipationCode
from tests.care import factories as care_factories
from tests.care.factories import CareCast, bring_into_care, noon, principal
from tests.factories import make_child


def allocate(
    db: Session, cast: CareCast, *, child: Person, on: date, iro: UserAccount | None = None
) -> IROAllocation:
    """The IRO manager allocates ``iro`` (default the cast's IRO) to the child on ``on``."""
    with clock.frozen_at(noon(on)):
        return iro_service.iro_allocate(
            db,
            actor=principal(db, cast.iro_manager),
            child_id=child.id,
            iro_id=(iro or cast.iro).id,
            start_date=on,
            reason=None,
        )


def in_care_with_iro(
    db: Session, cast: CareCast, *, on: date, child: Person | None = None
) -> PeriodOfCare:
    """The child comes into care on ``on`` and the cast's IRO is allocated that day."""
    child = child or cast.child
    period = bring_into_care(db, cast, on=on, child=child)
    allocate(db, cast, child=child, on=on)
    return period


def hold_review(
    db: Session,
    cast: CareCast,
    period: PeriodOfCare,
    *,
    on: date,
    lateness_reason: str | None = None,
    **extra: Any,
) -> CLAReview:
    """The child's IRO records a review held on ``on`` (PN1: the child spoke for themself)."""
    with clock.frozen_at(noon(on)):
        return review_service.cla_review_record(
            db,
            actor=principal(db, cast.iro),
            period_id=period.id,
            review_date=on,
            chair_id=None,
            participation=ParticipationCode.PN1,
            lateness_reason=lateness_reason,
            **extra,
        )


def sibling_of(db: Session, child: Person, *, first_name: str = "Ben") -> Person:
    """A brother of ``child`` (the relationship recorded from the brother's side)."""
    brother = make_child(db, first_name=first_name, date_of_birth=date(2013, 2, 1))
    db.add(
        PersonRelationship(
            person_id=brother.id, related_person_id=child.id, kind=RelationshipKind.sibling
        )
    )
    db.flush()
    return brother


def cease_care(db: Session, cast: CareCast, period: PeriodOfCare, *, on: date) -> None:
    """Care ceases on ``on`` through the care service (its listeners end the IRO allocation)."""
    care_factories.cease_care(db, cast, period, on=on)
