"""Legal holds and the list of records due for disposal (issue 8 part 3, rules 39 and 40).

A hold is placed and lifted by the council's records manager or the system administrator
(``retention:manage``), with a reason, and written to the change log in the same transaction. While
a person has a hold that is not lifted, the disposal job leaves their record whole.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, func, select, true, update
from sqlalchemy import case as sql_case
from sqlalchemy.orm import InstrumentedAttribute, Session

from app import clock
from app.audit.service import change_log_append
from app.care.codes import ADOPTED
from app.config import Settings
from app.errors import Conflict, Invalid, NotFound, PreconditionFailed
from app.models.care import PeriodOfCare
from app.models.cases import Case
from app.models.people import Person, PersonKind
from app.models.permanence import AdoptionDecision
from app.models.retention import LegalHold
from app.retention.rules import RetentionDecision, RetentionFacts, decide
from app.security.access import get_person_for_read
from app.security.principal import Principal

HOLD = "legal_hold"
HOLD_NOT_FOUND = "There is no legal hold with this id."


# --- the rules' facts, read in bulk ------------------------------------------------------------


def retention_facts(
    session: Session, *, person_ids: Iterable[uuid.UUID] | None = None
) -> list[RetentionFacts]:
    """The facts the rules need for every child (or those in ``person_ids``), a few grouped
    queries whatever the number of children."""
    ids = None if person_ids is None else list(person_ids)
    people_q = select(
        Person.id, Person.date_of_birth, Person.expected_date_of_birth, Person.date_of_death
    ).where(Person.kind == PersonKind.child)
    if ids is not None:
        people_q = people_q.where(Person.id.in_(ids))
    people = session.execute(people_q.order_by(Person.id)).all()
    if not people:
        return []

    def within(column: InstrumentedAttribute[uuid.UUID]) -> ColumnElement[bool]:
        return true() if ids is None else column.in_(ids)

    looked_after = set(
        session.scalars(
            select(PeriodOfCare.child_id).distinct().where(within(PeriodOfCare.child_id))
        ).all()
    )
    adoption: dict[uuid.UUID, date] = {}
    decided = (
        select(AdoptionDecision.child_id, func.max(AdoptionDecision.adoption_order_date))
        .where(AdoptionDecision.adoption_order_date.is_not(None))
        .where(within(AdoptionDecision.child_id))
        .group_by(AdoptionDecision.child_id)
    )
    # Care that ceased on adoption (E11/E12) ends on the adoption order's date (SSDA903 rule 602).
    ceased = (
        select(PeriodOfCare.child_id, func.max(PeriodOfCare.end_date))
        .where(PeriodOfCare.reason_ceased.in_(sorted(ADOPTED)))
        .where(within(PeriodOfCare.child_id))
        .group_by(PeriodOfCare.child_id)
    )
    for stmt in (decided, ceased):
        for child_id, order_date in session.execute(stmt):
            if order_date is not None:
                adoption[child_id] = max(order_date, adoption.get(child_id, order_date))
    cases: dict[uuid.UUID, tuple[int, date | None]] = {
        child_id: (int(open_count or 0), last_closed)
        for child_id, open_count, last_closed in session.execute(
            select(
                Case.child_id,
                func.sum(sql_case((Case.closed_date.is_(None), 1), else_=0)),
                func.max(Case.closed_date),
            )
            .where(within(Case.child_id))
            .group_by(Case.child_id)
        )
    }
    return [
        RetentionFacts(
            person_id=pid,
            born=dob or expected,
            died=died,
            looked_after=pid in looked_after,
            adoption_order=adoption.get(pid),
            open_cases=cases.get(pid, (0, None))[0],
            last_closed=cases.get(pid, (0, None))[1],
        )
        for pid, dob, expected, died in people
    ]


def held_person_ids(
    session: Session, person_ids: Iterable[uuid.UUID] | None = None
) -> set[uuid.UUID]:
    stmt = select(LegalHold.person_id).where(LegalHold.lifted_at.is_(None))
    if person_ids is not None:
        stmt = stmt.where(LegalHold.person_id.in_(list(person_ids)))
    return set(session.scalars(stmt))


@dataclass(frozen=True)
class DueRecord:
    person_id: uuid.UUID
    rule: str
    disposal_due: date
    held: bool


def records_due(session: Session, *, settings: Settings, as_of: date) -> list[DueRecord]:
    """Every child's record whose disposal date is on or before ``as_of``, held or not (ids, the
    rule and the date: no names), earliest first."""
    decisions: list[RetentionDecision] = [
        d
        for d in (decide(f, settings) for f in retention_facts(session))
        if d.disposal_due is not None and d.disposal_due <= as_of
    ]
    held = held_person_ids(session)
    due = [
        DueRecord(d.person_id, d.rule.value, d.disposal_due, d.person_id in held)
        for d in decisions
        if d.disposal_due is not None
    ]
    return sorted(due, key=lambda r: (r.disposal_due, str(r.person_id)))


# --- legal holds -------------------------------------------------------------------------------


def _reason(field: str, value: str) -> str:
    text = value.strip()
    if not text:
        raise Invalid.field(field, "Say why (a legal hold is evidence of a decision).")
    return text


def _person_locked(session: Session, *, actor: Principal, person_id: uuid.UUID) -> Person:
    """The person (visible to the caller, the read access-logged), locked against a disposal
    running at the same moment: whichever commits first wins, the other sees it (404 here, or the
    job finds the hold)."""
    person = get_person_for_read(
        session, principal=actor, person_id=person_id, resource="legal_holds"
    )
    session.execute(select(Person.id).where(Person.id == person.id).with_for_update())
    return person


def hold_place(
    session: Session,
    *,
    actor: Principal,
    person_id: uuid.UUID,
    reason: str,
    reference: str | None,
) -> LegalHold:
    person = _person_locked(session, actor=actor, person_id=person_id)
    hold = LegalHold(
        id=uuid.uuid4(),
        person_id=person.id,
        reason=_reason("reason", reason),
        reference=(reference or "").strip() or None,
        placed_at=clock.now(),
        placed_by_id=actor.user_id,
    )
    session.add(hold)
    session.flush()
    change_log_append(
        session,
        actor=actor,
        entity_type=HOLD,
        entity_id=hold.id,
        action="place",
        changes={"person_id": person.id, "reason": hold.reason, "reference": hold.reference},
    )
    return hold


def holds_for_person(
    session: Session, *, actor: Principal, person_id: uuid.UUID
) -> list[LegalHold]:
    get_person_for_read(session, principal=actor, person_id=person_id, resource="legal_holds")
    return list(
        session.scalars(
            select(LegalHold)
            .where(LegalHold.person_id == person_id)
            .order_by(LegalHold.placed_at, LegalHold.id)
        )
    )


def hold_lift(
    session: Session,
    *,
    actor: Principal,
    hold_id: uuid.UUID,
    expected_version: int,
    reason: str,
) -> LegalHold:
    hold = session.get(LegalHold, hold_id)
    if hold is None:
        raise NotFound(HOLD_NOT_FOUND)
    get_person_for_read(session, principal=actor, person_id=hold.person_id, resource="legal_holds")
    if hold.version != expected_version:
        raise PreconditionFailed(
            f"This legal hold is at version {hold.version}, not {expected_version}: someone "
            "changed it since you loaded it. Reload it and try again."
        )
    if hold.lifted_at is not None:
        raise Conflict("This legal hold has already been lifted.", code="hold_lifted")
    text = _reason("reason", reason)
    now = clock.now()
    # The guarded UPDATE: of two lifts at once only one finds the version it expected.
    bumped = session.execute(
        update(LegalHold)
        .where(LegalHold.id == hold.id, LegalHold.version == expected_version)
        .values(
            version=expected_version + 1,
            lifted_at=now,
            lifted_by_id=actor.user_id,
            lift_reason=text,
        )
        .execution_options(synchronize_session=False)
    )
    if bumped.rowcount != 1:  # type: ignore[attr-defined]
        raise PreconditionFailed(
            "Someone changed this legal hold since you loaded it. Reload it and try again."
        )
    session.refresh(hold)
    change_log_append(
        session,
        actor=actor,
        entity_type=HOLD,
        entity_id=hold.id,
        action="lift",
        changes={"person_id": hold.person_id, "lift_reason": text},
    )
    return hold
