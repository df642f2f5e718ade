"""Creator functions for retention stories: a child looked after and then closed, or adopted, with
the people around them, built through the real services with the clock frozen on each day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Uuid, or_, select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import access_log_append, change_log_append
from app.care.codes import ReasonEpisodeCeased
from app.cases import service as case_service
from app.core_types import Sex
from app.models import Case, Person, PersonKind, PersonRelationship, RelationshipKind
from app.models.base import Base
from app.models.care import PeriodOfCare
from app.models.permanence import AdoptionDecision
from tests.care.factories import CareCast, bring_into_care, cease_care, noon, principal
from tests.factories import make_child


def make_adult(db: Session, first_name: str) -> Person:
    adult = Person(
        kind=PersonKind.adult,
        first_name=first_name,
        last_name="Example",
        search_first_name=first_name.lower(),
        search_last_name="example",
        sex=Sex.FEMALE,
    )
    db.add(adult)
    db.flush()
    return adult


def relate(db: Session, child: Person, other: Person, kind: RelationshipKind) -> None:
    """``other`` is the ``kind`` of ``child``, with its change-log entry as the service writes."""
    row = PersonRelationship(person_id=child.id, related_person_id=other.id, kind=kind)
    db.add(row)
    db.flush()
    change_log_append(
        db,
        actor=None,
        entity_type="relationship",
        entity_id=row.id,
        action="create",
        changes={"kind": kind.value},
    )


def adopted_record(db: Session, cast: CareCast, *, born: date, adoption_order: date) -> Record:
    """A child looked after from 6 January 2020, adopted on ``adoption_order``, the case closed.

    The adoption decision's milestones are written as the permanence service keeps them (its own
    stories check how they are recorded); care is recorded as ceased the day of the order.
    """
    record = looked_after_record(
        db,
        cast,
        born=born,
        in_care=date(2020, 1, 6),
        ceased=adoption_order,
        first_name="Bea",
        closure_code="RC1",
    )
    period = db.scalar(select(PeriodOfCare).where(PeriodOfCare.child_id == record.child.id))
    assert period is not None
    db.add(
        AdoptionDecision(
            child_id=record.child.id,
            case_id=record.cases[0].id,
            period_id=period.id,
            decision_date=date(2020, 3, 2),
            placement_order_date=date(2020, 5, 4),
            matched_date=date(2020, 8, 3),
            placed_date=date(2020, 9, 7),
            adoption_order_date=adoption_order,
        )
    )
    db.flush()
    return record


@dataclass
class Record:
    child: Person
    cases: list[Case]


def close_case(db: Session, cast: CareCast, case: Case, *, on: date, code: str) -> None:
    with clock.frozen_at(noon(on)):
        case_service.case_transition(
            db,
            actor=principal(db, cast.manager),
            case_id=case.id,
            event="close",
            expected_version=case.version,
            reason="The plan is complete.",
            data={"closure_reason": code},
        )


def looked_after_record(
    db: Session,
    cast: CareCast,
    *,
    born: date,
    in_care: date,
    ceased: date,
    reason: ReasonEpisodeCeased = ReasonEpisodeCeased.RETURNED_HOME_PLANNED,
    closure_code: str = "RC8",
    first_name: str = "Ava",
) -> Record:
    """A child looked after from ``in_care`` to ``ceased``, the case closed that day, and the
    record read once by the social worker (an access-log row)."""
    child = make_child(db, first_name=first_name, date_of_birth=born)
    period = bring_into_care(db, cast, on=in_care, child=child)
    cease_care(db, cast, period, on=ceased, reason=reason)
    case = db.get(Case, period.case_id)
    assert case is not None
    db.refresh(case)
    close_case(db, cast, case, on=ceased, code=closure_code)
    with clock.frozen_at(noon(ceased)):
        access_log_append(
            db,
            principal=principal(db, cast.social_worker),
            action="view",
            resource="person",
            person_id=child.id,
            case_id=case.id,
        )
    return Record(child=child, cases=[case])


def rows_naming(db: Session, ids: set[object]) -> dict[str, int]:
    """Every row, in every table of the model, with a UUID column holding one of ``ids`` (the
    record_disposal table, the proof of disposal, excepted): what a disposal must leave empty."""
    found: dict[str, int] = {}
    wanted = list(ids)
    for table in Base.metadata.sorted_tables:
        if table.name == "record_disposal":
            continue
        uuid_columns = [c for c in table.columns if isinstance(c.type, Uuid)]
        if not uuid_columns:
            continue
        count = len(
            db.execute(
                select(table.primary_key.columns[0]).where(
                    or_(*(c.in_(wanted) for c in uuid_columns))
                )
            ).all()
        )
        if count:
            found[table.name] = count
    return found


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
