"""Creator functions for care-leaver stories: a young person born 15 June 2009 (16 on 15 June
2025, 17 on 15 June 2026), brought into care and ceased through the real services."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from app import clock
from app.care import service as care_service
from app.care.codes import ReasonEpisodeCeased
from app.care.schemas import PeriodOfCareCease
from app.models import Person
from app.models.care import PeriodOfCare
from tests.care.factories import CareCast, bring_into_care, make_care_cast, noon, principal
from tests.factories import make_child

BORN = date(2009, 6, 15)
SIXTEEN = date(2025, 6, 15)
SEVENTEEN = date(2026, 6, 15)


def young_person_cast(db: Session, *, born: date = BORN, restricted: bool = False) -> CareCast:
    cast = make_care_cast(db)
    cast.child = make_child(
        db, first_name="Jay", last_name="Leaver", date_of_birth=born, restricted=restricted
    )
    return cast


def cease(
    db: Session,
    cast: CareCast,
    period: PeriodOfCare,
    *,
    on: date,
    reason: ReasonEpisodeCeased = ReasonEpisodeCeased.INDEPENDENT_SUPPORTED,
) -> PeriodOfCare:
    with clock.frozen_at(noon(on)):
        return care_service.period_of_care_cease(
            db,
            actor=principal(db, cast.manager),
            period_id=period.id,
            expected_version=period.version,
            body=PeriodOfCareCease(end_date=on, reason_ceased=reason),
        )


def in_care_since(
    db: Session, cast: CareCast, on: date, child: Person | None = None
) -> PeriodOfCare:
    return bring_into_care(db, cast, on=on, child=child or cast.child)


__all__ = [
    "BORN",
    "SEVENTEEN",
    "SIXTEEN",
    "cease",
    "in_care_since",
    "make_care_cast",
    "noon",
    "principal",
    "young_person_cast",
]
