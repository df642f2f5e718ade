"""Permanence records: UASC status, adoption milestones, special guardianship and child
arrangements orders that end care, previous permanence, and motherhood.

Each write checks the SSDA903 validator rules that are invariants of the record (the rule number is
named in every refusal), writes a case event on the child's case in the same transaction, and
versioned rows take the caller's If-Match. The per-child functions at the end give the returns
module its rows (UASC, PlacedAdoption/AD1, PrevPerm, Header MOTHER/MC_DOB).

Ceasing care is the children-in-care module's (``POST /periods-of-care/{id}/cease``); when it
happens :func:`check_care_ceased` (called through :mod:`app.leavingcare.service`) refuses a reason
that disagrees with an order or adoption recorded here, so the two never contradict each other.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import case_event_append, diff
from app.calendar import add_months
from app.care.codes import ADOPTED, ADOPTION_PLACEMENTS, PlacementType, ReasonEpisodeCeased
from app.core_types import Sex
from app.errors import Conflict, Invalid, NotFound, PreconditionRequired
from app.leavingcare.service import Versioned, case_for_child_change, require_version
from app.models.care import PeriodOfCare, Placement
from app.models.people import Person
from app.models.permanence import (
    AdoptionDecision,
    Motherhood,
    OrderCarer,
    PermanenceOrder,
    PermanenceOrderKind,
    PreviousPermanenceRecord,
    UascStatus,
)
from app.permanence.codes import (
    LA_PERM_VALUES,
    SEXES_FOR_LEGAL_STATUS,
    SINGLE_ADOPTER,
    AdopterLegalStatus,
    AdopterSex,
    PreviousPermanence,
    ReasonPlacedCeased,
)
from app.security.access import get_person_for_read
from app.security.principal import Principal

SUBJECT = "permanence"
DECISION_NOT_VISIBLE = "There is no adoption decision with this id that you can see."
PERIOD_NOT_VISIBLE = "There is no period of care with this id that you can see."
#: SSDA903 rule 634: previous permanence is collected for periods starting from 1 April 2016.
PREV_PERM_FROM = date(2016, 4, 1)
_E = ReasonEpisodeCeased


def _age(born: date, day: date) -> int:
    years = day.year - born.year
    return years if add_months(born, 12 * years) <= day else years - 1


def _not_future(field: str, day: date | None) -> None:
    if day is not None and day > clock.today():
        raise Invalid.field(field, "This date cannot be in the future.")


def _version_for_update(record: Versioned, expected_version: int | None) -> None:
    """An existing row changes only with the version the caller read (428 without, 412 stale)."""
    if expected_version is None:
        raise PreconditionRequired(
            "This record exists: send its ETag in an If-Match header so that a concurrent change "
            "is not lost."
        )
    require_version(record, expected_version)


def _event(
    session: Session,
    *,
    actor: Principal,
    case_id: uuid.UUID,
    child_id: uuid.UUID,
    action: str,
    subject_id: uuid.UUID,
    changes: dict[str, Any],
    reason: str | None = None,
) -> None:
    case_event_append(
        session,
        case_id=case_id,
        child_id=child_id,
        actor=actor,
        action=action,
        subject_type=SUBJECT,
        subject_id=subject_id,
        reason=reason,
        changes=changes,
    )


# --- UASC --------------------------------------------------------------------------------------


def uasc_set(
    session: Session,
    *,
    actor: Principal,
    child_id: uuid.UUID,
    expected_version: int | None,
    since_date: date,
    ceased_date: date | None,
    ceased_reason: str | None,
) -> UascStatus:
    """Record that the child is an unaccompanied asylum-seeking child, and when that ceased
    (SSDA903 UASC.DUC): on a decision, or at the latest on the 18th birthday (validator rule
    304)."""
    child, case = case_for_child_change(session, actor=actor, child_id=child_id, resource="uasc")
    _not_future("since_date", since_date)
    _not_future("ceased_date", ceased_date)
    born = child.date_of_birth
    if born is None or since_date < born:
        raise Invalid.field("since_date", "UASC status cannot start before the child's birth.")
    if (ceased_date is None) != (ceased_reason is None):
        raise Invalid.field(
            "ceased_reason",
            "The date UASC status ceased and the reason come together.",
            rule="SSDA903 104",
        )
    if ceased_date is not None:
        if ceased_date < since_date:
            raise Invalid.field(
                "ceased_date", "UASC status cannot cease before it started.", rule="SSDA903 104"
            )
        if ceased_date > add_months(born, 18 * 12):
            raise Invalid.field(
                "ceased_date",
                "The date UASC status ceased must be on or before the 18th birthday (SSDA903 "
                "rule 304).",
                rule="SSDA903 304",
            )
    row = session.scalar(select(UascStatus).where(UascStatus.child_id == child.id))
    after = {"since_date": since_date, "ceased_date": ceased_date, "ceased_reason": ceased_reason}
    if row is None:
        row = UascStatus(id=uuid.uuid4(), child_id=child.id, **after)
        session.add(row)
        changes = diff({}, after)
    else:
        _version_for_update(row, expected_version)
        before = {k: getattr(row, k) for k in after}
        changes = diff(before, after)
        for key, value in after.items():
            setattr(row, key, value)
    session.flush()
    if changes:
        _event(
            session,
            actor=actor,
            case_id=case.id,
            child_id=child.id,
            action="uasc_status_recorded",
            subject_id=row.id,
            changes=changes,
        )
    return row


# --- motherhood --------------------------------------------------------------------------------


def motherhood_set(
    session: Session,
    *,
    actor: Principal,
    child_id: uuid.UUID,
    expected_version: int | None,
    is_mother: bool,
    first_child_birth_date: date | None,
    is_correction: bool = False,
    notes: str | None = None,
) -> Motherhood:
    """Record whether a young woman is a mother, and her first child's date of birth (SSDA903
    Header MOTHER and MC_DOB; validator rules 165, 174, 207, 611, 612, 620, 621, 624, 625)."""
    child, case = case_for_child_change(
        session, actor=actor, child_id=child_id, resource="motherhood"
    )
    if child.sex is Sex.MALE:
        raise Invalid.field(
            "is_mother",
            "Motherhood is not recorded for a male child (SSDA903 rules 165 and 174).",
            rule="SSDA903 165",
        )
    if is_mother and first_child_birth_date is None:
        raise Invalid.field(
            "first_child_birth_date",
            "A mother's record has the date of birth of her first child (SSDA903 rule 611).",
            rule="SSDA903 611",
        )
    if not is_mother and first_child_birth_date is not None:
        raise Invalid.field(
            "first_child_birth_date",
            "Only a mother has a child's date of birth (SSDA903 rule 612).",
            rule="SSDA903 612",
        )
    born = child.date_of_birth
    if first_child_birth_date is not None:
        _not_future("first_child_birth_date", first_child_birth_date)
        if born is None or first_child_birth_date <= born:
            raise Invalid.field(
                "first_child_birth_date",
                "The child's date of birth must be after the mother's (SSDA903 rule 621).",
                rule="SSDA903 621",
            )
    if is_mother and born is not None and _age(born, clock.today()) < 11:
        raise Invalid.field(
            "is_mother",
            "A child under 11 is not recorded as a mother (SSDA903 rule 620).",
            rule="SSDA903 620",
        )
    row = session.scalar(select(Motherhood).where(Motherhood.child_id == child.id))
    after = {
        "is_mother": is_mother,
        "first_child_birth_date": first_child_birth_date,
        "notes": notes,
    }
    if row is None:
        row = Motherhood(id=uuid.uuid4(), child_id=child.id, **after)
        session.add(row)
        changes = diff({}, after)
    else:
        _version_for_update(row, expected_version)
        if row.is_mother and not is_mother and not is_correction:
            raise Conflict(
                "This young woman is recorded as a mother; that does not change back (SSDA903 "
                "rule 207). If it was recorded in error, send it as a correction.",
                code="mother_status_is_permanent",
                rule="SSDA903 207",
            )
        if (
            row.first_child_birth_date is not None
            and first_child_birth_date is not None
            and first_child_birth_date != row.first_child_birth_date
            and not is_correction
        ):
            raise Conflict(
                "The date of birth of the first child is already recorded and does not change "
                "(SSDA903 rule 624). If it was recorded in error, send it as a correction.",
                code="first_child_birth_date_is_permanent",
                rule="SSDA903 624",
            )
        before = {k: getattr(row, k) for k in after}
        changes = diff(before, after)
        for key, value in after.items():
            setattr(row, key, value)
    session.flush()
    if changes:
        _event(
            session,
            actor=actor,
            case_id=case.id,
            child_id=child.id,
            action="motherhood_corrected" if is_correction else "motherhood_recorded",
            subject_id=row.id,
            changes=changes,
        )
    return row


# --- adoption ----------------------------------------------------------------------------------


def _period_on(session: Session, *, child_id: uuid.UUID, day: date) -> PeriodOfCare | None:
    return session.scalar(
        select(PeriodOfCare)
        .where(
            PeriodOfCare.child_id == child_id,
            PeriodOfCare.start_date <= day,
            (PeriodOfCare.end_date.is_(None)) | (PeriodOfCare.end_date >= day),
        )
        .limit(1)
    )


def adoption_decision_record(
    session: Session, *, actor: Principal, child_id: uuid.UUID, decision_date: date
) -> AdoptionDecision:
    """The local authority's decision that the child should be placed for adoption (SSDA903
    PlacedAdoption.DATE_PLACED): made while the child is looked after (rules 334, 1003, 117),
    after birth (184), and not while another decision is open (579, 583)."""
    child, case = case_for_child_change(
        session, actor=actor, child_id=child_id, resource="adoption"
    )
    _not_future("decision_date", decision_date)
    if child.date_of_birth is None or decision_date < child.date_of_birth:
        raise Invalid.field(
            "decision_date",
            "The decision cannot be before the child's birth (SSDA903 rule 184).",
            rule="SSDA903 184",
        )
    period = _period_on(session, child_id=child.id, day=decision_date)
    if period is None:
        raise Conflict(
            "The child was not looked after on this date: the decision that a child should be "
            "placed for adoption is made while they are looked after (SSDA903 rules 334, 1003).",
            code="not_looked_after",
            rule="SSDA903 334",
        )
    decisions = list(
        session.scalars(select(AdoptionDecision).where(AdoptionDecision.child_id == child.id))
    )
    for earlier in decisions:
        if earlier.reversed_date is None and earlier.adoption_order_date is None:
            raise Conflict(
                f"The decision of {earlier.decision_date.isoformat()} is still open: record its "
                "reversal before a new decision (SSDA903 rules 579, 583).",
                code="adoption_decision_open",
                rule="SSDA903 579",
                decision_id=str(earlier.id),
            )
        if earlier.reversed_date is not None and decision_date < earlier.reversed_date:
            raise Invalid.field(
                "decision_date",
                f"A new decision cannot be before the earlier one was reversed "
                f"({earlier.reversed_date.isoformat()}) (SSDA903 rule 579).",
                rule="SSDA903 579",
            )
    decision = AdoptionDecision(
        id=uuid.uuid4(),
        child_id=child.id,
        case_id=case.id,
        period_id=period.id,
        decision_date=decision_date,
    )
    session.add(decision)
    session.flush()
    _event(
        session,
        actor=actor,
        case_id=case.id,
        child_id=child.id,
        action="adoption_decision_recorded",
        subject_id=decision.id,
        changes={"decision_date": decision_date},
    )
    return decision


MILESTONE_FIELDS = (
    "placement_order_date",
    "matched_date",
    "placed_date",
    "adoption_order_date",
    "reversed_date",
    "reversed_reason",
    "adopted_by_foster_carers",
    "number_of_adopters",
    "adopters_sex",
    "adopters_legal_status",
)
_DATES = ("placement_order_date", "matched_date", "placed_date", "adoption_order_date")


def _not_before(values: dict[str, Any], later: str, earlier: str, rule: str, words: str) -> None:
    if (
        values[later] is not None
        and values[earlier] is not None
        and values[later] < values[earlier]
    ):
        raise Invalid.field(later, f"{words} (SSDA903 rule {rule}).", rule=f"SSDA903 {rule}")


def _check_adopters(values: dict[str, Any]) -> None:
    number: int | None = values["number_of_adopters"]
    sex: AdopterSex | None = values["adopters_sex"]
    status: AdopterLegalStatus | None = values["adopters_legal_status"]
    if number is not None and sex is not None and (number == 1) != (sex in SINGLE_ADOPTER):
        raise Invalid.field(
            "adopters_sex",
            "The adopters' sexes must agree with their number: M1/F1 for one adopter, MM/FF/MF for "
            "two (SSDA903 rule 511).",
            rule="SSDA903 511",
        )
    if status is not None and sex is not None:
        allowed, rule = SEXES_FOR_LEGAL_STATUS[status]
        if sex not in allowed:
            codes = "/".join(sorted(a.value for a in allowed))
            raise Invalid.field(
                "adopters_sex",
                f"Adopters whose legal status is {status.value} are coded {codes} (SSDA903 rule "
                f"{rule}).",
                rule=f"SSDA903 {rule}",
            )


def _check_foster_care(session: Session, *, decision: AdoptionDecision, adopted_by: bool) -> None:
    """SSDA903 rule 335: placed for adoption with the current foster carers (A3/A5) means adopted
    by them (FOSTER_CARE 1); with others (A4/A6), not (0)."""
    placement = session.scalar(
        select(Placement)
        .where(
            Placement.period_id == decision.period_id,
            Placement.placement_type.in_(list(ADOPTION_PLACEMENTS)),
        )
        .order_by(Placement.start_date.desc())
        .limit(1)
    )
    if placement is None:
        return
    with_carers = placement.placement_type in (PlacementType.A3, PlacementType.A5)
    if with_carers != adopted_by:
        raise Invalid.field(
            "adopted_by_foster_carers",
            f"The child was placed for adoption as {placement.placement_type.value}, "
            f"{'with' if with_carers else 'not with'} the current foster carers (SSDA903 rule "
            "335).",
            rule="SSDA903 335",
        )


def _check_milestones(
    session: Session, *, decision: AdoptionDecision, values: dict[str, Any]
) -> None:
    for name in (*_DATES, "reversed_date"):
        _not_future(name, values[name])
    values["decision_date"] = decision.decision_date
    _not_before(
        values,
        "placement_order_date",
        "decision_date",
        "554",
        "The placement order cannot be before the decision to place for adoption",
    )
    _not_before(
        values,
        "matched_date",
        "decision_date",
        "333",
        "The match with adopters cannot be before the decision to place for adoption",
    )
    _not_before(
        values,
        "placed_date",
        "decision_date",
        "521",
        "The child cannot be placed for adoption before the decision",
    )
    _not_before(
        values,
        "placed_date",
        "matched_date",
        "331",
        "The child is matched with adopters on or before being placed with them",
    )
    _not_before(
        values,
        "adoption_order_date",
        "placed_date",
        "331",
        "The adoption order cannot be before the child was placed for adoption",
    )
    _not_before(
        values,
        "reversed_date",
        "decision_date",
        "522",
        "A decision cannot be reversed before it was made",
    )
    if (values["reversed_date"] is None) != (values["reversed_reason"] is None):
        raise Invalid.field(
            "reversed_reason",
            "The date the decision was reversed and the reason (RD1-RD4) come together (SSDA903 "
            "rule 119).",
            rule="SSDA903 119",
        )
    if values["reversed_date"] is not None and values["adoption_order_date"] is not None:
        raise Invalid.field(
            "reversed_date",
            "A child whose adoption decision was reversed is not adopted under it (SSDA903 rules "
            "525 and 558).",
            rule="SSDA903 525",
        )
    if values["adoption_order_date"] is not None:
        if values["placed_date"] is None:
            raise Invalid.field(
                "placed_date",
                "An adoption order follows the placement for adoption: record when the child was "
                "placed (SSDA903 rule 331).",
                rule="SSDA903 331",
            )
        missing = [
            name
            for name in (
                "matched_date",
                "adopted_by_foster_carers",
                "number_of_adopters",
                "adopters_sex",
                "adopters_legal_status",
            )
            if values[name] is None
        ]
        if missing:
            raise Invalid.field(
                missing[0],
                "An adopted child's record has every adoption item: the match, whether adopted "
                "by the foster carers, and the adopters' number, sexes and legal status (SSDA903 "
                "rules 151 and 601).",
                rule="SSDA903 151",
            )
        _check_foster_care(
            session, decision=decision, adopted_by=bool(values["adopted_by_foster_carers"])
        )
    _check_adopters(values)
    period = session.get(PeriodOfCare, decision.period_id)
    assert period is not None  # a foreign key
    if period.end_date is not None:
        for name in ("reversed_date", "adoption_order_date"):
            if values[name] is not None and values[name] > period.end_date:
                raise Invalid.field(
                    name,
                    f"This date is after care ceased ({period.end_date.isoformat()}) (SSDA903 rule "
                    "117).",
                    rule="SSDA903 117",
                )
        if values["adoption_order_date"] is not None:
            if period.reason_ceased not in ADOPTED:
                raise Conflict(
                    f"Care ceased for another reason ({period.reason_ceased}); an adoption order "
                    "ends care as E11 or E12 (SSDA903 rule 602).",
                    code="care_ceased_otherwise",
                    rule="SSDA903 602",
                )
            if values["adoption_order_date"] != period.end_date:
                raise Invalid.field(
                    "adoption_order_date",
                    f"Care ceased on adoption on {period.end_date.isoformat()}: the adoption order "
                    "is dated that day (SSDA903 rule 602).",
                    rule="SSDA903 602",
                )
    values.pop("decision_date")


def adoption_decision_update(
    session: Session,
    *,
    actor: Principal,
    decision_id: uuid.UUID,
    expected_version: int,
    changes: dict[str, Any],
) -> AdoptionDecision:
    """Record the milestones after the decision — placement order, match, placement, adoption
    order, adopters — or its reversal. ``changes`` holds the fields the caller sent (a None
    clears one); the whole record is then checked against the validator's rules."""
    decision = session.get(AdoptionDecision, decision_id)
    if decision is None:
        raise NotFound(DECISION_NOT_VISIBLE)
    _child, case = case_for_child_change(
        session, actor=actor, child_id=decision.child_id, resource="adoption"
    )
    require_version(decision, expected_version)
    unknown = set(changes) - set(MILESTONE_FIELDS)
    if unknown:
        raise Invalid.field(sorted(unknown)[0], "This field is not accepted here.")
    before = {name: getattr(decision, name) for name in MILESTONE_FIELDS}
    values = before | changes
    _check_milestones(session, decision=decision, values=values)
    changed = diff(before, values)
    if not changed:
        return decision
    for name in MILESTONE_FIELDS:
        setattr(decision, name, values[name])
    session.flush()
    action = "adoption_milestones_recorded"
    if before["reversed_date"] is None and values["reversed_date"] is not None:
        action = "adoption_decision_reversed"
    elif before["adoption_order_date"] is None and values["adoption_order_date"] is not None:
        action = "adoption_order_recorded"
    _event(
        session,
        actor=actor,
        case_id=case.id,
        child_id=decision.child_id,
        action=action,
        subject_id=decision.id,
        changes=changed,
    )
    return decision


# --- special guardianship and child arrangements orders ----------------------------------------


def reason_for_order(
    kind: PermanenceOrderKind, *, carer: OrderCarer, former_foster_carer: bool
) -> ReasonEpisodeCeased:
    """The SSDA903 REC an order implies: E41 for a child arrangements order; for special
    guardianship, E45/E46 to former foster carers (relatives or friends / others) and E47/E48 to
    other carers (relatives or friends / others)."""
    if kind is PermanenceOrderKind.child_arrangements:
        return _E.CHILD_ARRANGEMENTS_ORDER
    relative = carer is OrderCarer.relative_or_friend
    if former_foster_carer:
        return _E.SGO_FOSTER_CARER_RELATIVE if relative else _E.SGO_FOSTER_CARER_OTHER
    return _E.SGO_CARER_RELATIVE if relative else _E.SGO_CARER_OTHER


def _period_for_change(
    session: Session, *, actor: Principal, period_id: uuid.UUID, resource: str
) -> tuple[PeriodOfCare, Person]:
    period = session.get(PeriodOfCare, period_id)
    if period is None:
        raise NotFound(PERIOD_NOT_VISIBLE)
    child, _case = case_for_child_change(
        session, actor=actor, child_id=period.child_id, resource=resource
    )
    return period, child


def _order_agrees(order: PermanenceOrder, period: PeriodOfCare) -> None:
    if period.reason_ceased is not None and period.reason_ceased != order.reason_ceased:
        raise Conflict(
            f"The {order.kind.value.replace('_', ' ')} order recorded for this period means care "
            f"ceased as {order.reason_ceased.value}, but it ceased as {period.reason_ceased.value} "
            "(SSDA903 REC).",
            code="order_disagrees_with_reason_ceased",
            rule=f"SSDA903 REC {order.reason_ceased.value}",
            expected_reason_ceased=order.reason_ceased.value,
        )
    if period.end_date is not None and period.end_date != order.order_date:
        raise Conflict(
            f"Care ceased on {period.end_date.isoformat()}, not on the day of the order "
            f"({order.order_date.isoformat()}): the order ends care the day it is made (SSDA903 "
            "DEC).",
            code="order_date_disagrees_with_end_date",
            rule="SSDA903 DEC",
        )


def permanence_order_set(
    session: Session,
    *,
    actor: Principal,
    period_id: uuid.UUID,
    expected_version: int | None,
    kind: PermanenceOrderKind,
    order_date: date,
    carer: OrderCarer,
    carer_is_former_foster_carer: bool,
    carer_name: str | None,
) -> PermanenceOrder:
    """Record the special guardianship or child arrangements order that ended (or is to end) the
    period of care, to whom it was made, and so the REC code (E41, E45-E48) care ceases with."""
    period, child = _period_for_change(
        session, actor=actor, period_id=period_id, resource="permanence_order"
    )
    _not_future("order_date", order_date)
    if order_date < period.start_date:
        raise Invalid.field(
            "order_date",
            "The order cannot be before the period of care began "
            f"({period.start_date.isoformat()}).",
            rule="SSDA903 DEC",
        )
    reason = reason_for_order(kind, carer=carer, former_foster_carer=carer_is_former_foster_carer)
    after = {
        "kind": kind,
        "order_date": order_date,
        "carer": carer,
        "carer_is_former_foster_carer": carer_is_former_foster_carer,
        "carer_name": carer_name,
        "reason_ceased": reason,
    }
    row = session.scalar(select(PermanenceOrder).where(PermanenceOrder.period_id == period.id))
    if row is None:
        row = PermanenceOrder(
            id=uuid.uuid4(), period_id=period.id, child_id=child.id, case_id=period.case_id, **after
        )
        changes = diff({}, after)
    else:
        _version_for_update(row, expected_version)
        before = {k: getattr(row, k) for k in after}
        changes = diff(before, after)
        for key, value in after.items():
            setattr(row, key, value)
    _order_agrees(row, period)
    session.add(row)
    session.flush()
    if changes:
        _event(
            session,
            actor=actor,
            case_id=period.case_id,
            child_id=child.id,
            action="permanence_order_recorded",
            subject_id=row.id,
            changes=changes,
        )
    return row


def check_care_ceased(session: Session, *, period: PeriodOfCare) -> None:
    """Care has just ceased: refuse (409, so nothing of the cease is kept) a reason that disagrees
    with what is recorded here — an order's REC code (E41, E45-E48) and date, an adoption order
    (E11/E12, rule 602), or an adoption decision left open when the child leaves care otherwise
    (rule 557: record its reversal first)."""
    order = session.scalar(select(PermanenceOrder).where(PermanenceOrder.period_id == period.id))
    if order is not None:
        _order_agrees(order, period)
    for decision in session.scalars(
        select(AdoptionDecision).where(AdoptionDecision.period_id == period.id)
    ):
        adopted = period.reason_ceased in ADOPTED
        if decision.adoption_order_date is not None:
            if not adopted or decision.adoption_order_date != period.end_date:
                raise Conflict(
                    f"An adoption order of {decision.adoption_order_date.isoformat()} is recorded: "
                    "care ceases that day as E11 or E12 (SSDA903 rule 602).",
                    code="adoption_order_disagrees",
                    rule="SSDA903 602",
                )
        elif decision.reversed_date is None and not adopted:
            raise Conflict(
                f"The decision of {decision.decision_date.isoformat()} that the child should be "
                "placed for adoption is still open: record its reversal (date and reason RD1-RD4) "
                "before care ceases for another reason (SSDA903 rule 557).",
                code="adoption_decision_open",
                rule="SSDA903 557",
                decision_id=str(decision.id),
            )


# --- previous permanence -----------------------------------------------------------------------

_DATE_PERM = re.compile(r"^(\d{2}|ZZ)/(\d{2}|ZZ)/(\d{4}|ZZZZ)$")


def date_perm_latest(value: str) -> date | None:
    """The latest date ``DD/MM/YYYY`` (ZZ for a part not known) can be, as the validator reads it
    (rule 632); None when the year is not known. Raises ValueError when it is no date."""
    match = _DATE_PERM.match(value)
    if match is None:
        raise ValueError(value)
    day, month, year = match.groups()
    if year == "ZZZZ":
        if day != "ZZ" or month != "ZZ":
            raise ValueError(value)
        return None
    if month == "ZZ":
        if day != "ZZ":
            raise ValueError(value)
        return date(int(year), 12, 31)
    first = date(int(year), int(month), 1)
    if day == "ZZ":
        return add_months(first, 1) - timedelta(days=1)
    return date(int(year), int(month), int(day))


def prev_perm_set(
    session: Session,
    *,
    actor: Principal,
    period_id: uuid.UUID,
    expected_version: int | None,
    prev_perm: PreviousPermanence,
    la_perm: str | None,
    date_perm: str | None,
) -> PreviousPermanenceRecord:
    """Whether the child starting this period of care had left care before through adoption,
    special guardianship or a child arrangements order (SSDA903 PrevPerm; validator rules
    630-635)."""
    period, child = _period_for_change(
        session, actor=actor, period_id=period_id, resource="previous_permanence"
    )
    if period.start_date < PREV_PERM_FROM:
        raise Conflict(
            "Previous permanence is recorded for periods of care starting from 1 April 2016 "
            "(SSDA903 rule 634).",
            code="prev_perm_not_collected",
            rule="SSDA903 634",
        )
    if prev_perm is PreviousPermanence.NONE:
        if la_perm is not None or date_perm is not None:
            raise Invalid.field(
                "la_perm" if la_perm is not None else "date_perm",
                "No previous permanence option (Z1) has no local authority or date (SSDA903 rule "
                "635).",
                rule="SSDA903 635",
            )
    else:
        if la_perm is None or date_perm is None:
            raise Invalid.field(
                "la_perm" if la_perm is None else "date_perm",
                f"A previous permanence option ({prev_perm.value}) has the local authority that "
                "arranged it and the date of the order (999 and ZZ/ZZ/ZZZZ where not known) "
                "(SSDA903 rule 630).",
                rule="SSDA903 630",
            )
        if la_perm not in LA_PERM_VALUES:
            raise Invalid.field(
                "la_perm",
                "The local authority is a DfE LA code, 999, WAL, SCO, NIR or NUK (SSDA903 rule "
                "633).",
                rule="SSDA903 633",
            )
        try:
            latest = date_perm_latest(date_perm)
        except ValueError:
            raise Invalid.field(
                "date_perm",
                "The date of the order is DD/MM/YYYY, with ZZ for a day or month not known "
                "(SSDA903 rule 632).",
                rule="SSDA903 632",
            ) from None
        if latest is not None and latest >= period.start_date:
            raise Invalid.field(
                "date_perm",
                f"The previous order must be before this period of care began "
                f"({period.start_date.isoformat()}) (SSDA903 rule 632).",
                rule="SSDA903 632",
            )
        if latest is not None and child.date_of_birth is not None and latest < child.date_of_birth:
            raise Invalid.field(
                "date_perm",
                "The previous order cannot be before the child's birth.",
                rule="SSDA903 632",
            )
    after = {"prev_perm": prev_perm, "la_perm": la_perm, "date_perm": date_perm}
    row = session.scalar(
        select(PreviousPermanenceRecord).where(PreviousPermanenceRecord.period_id == period.id)
    )
    if row is None:
        row = PreviousPermanenceRecord(
            id=uuid.uuid4(), period_id=period.id, child_id=child.id, **after
        )
        session.add(row)
        changes = diff({}, after)
    else:
        _version_for_update(row, expected_version)
        before = {k: getattr(row, k) for k in after}
        changes = diff(before, after)
        for key, value in after.items():
            setattr(row, key, value)
    session.flush()
    if changes:
        _event(
            session,
            actor=actor,
            case_id=period.case_id,
            child_id=child.id,
            action="previous_permanence_recorded",
            subject_id=row.id,
            changes=changes,
        )
    return row


# --- reads -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PermanenceView:
    child: Person
    uasc: UascStatus | None
    motherhood: Motherhood | None
    adoption_decisions: list[AdoptionDecision]
    orders: list[PermanenceOrder]
    previous_permanence: list[PreviousPermanenceRecord]


def permanence_get(session: Session, *, actor: Principal, child_id: uuid.UUID) -> PermanenceView:
    """Every permanence record of the child; the read is written to access_log."""
    child = get_person_for_read(session, principal=actor, person_id=child_id, resource=SUBJECT)
    return PermanenceView(
        child=child,
        uasc=session.scalar(select(UascStatus).where(UascStatus.child_id == child.id)),
        motherhood=session.scalar(select(Motherhood).where(Motherhood.child_id == child.id)),
        adoption_decisions=list(
            session.scalars(
                select(AdoptionDecision)
                .where(AdoptionDecision.child_id == child.id)
                .order_by(AdoptionDecision.decision_date)
            )
        ),
        orders=list(
            session.scalars(
                select(PermanenceOrder)
                .where(PermanenceOrder.child_id == child.id)
                .order_by(PermanenceOrder.order_date)
            )
        ),
        previous_permanence=list(
            session.scalars(
                select(PreviousPermanenceRecord)
                .join(PeriodOfCare, PeriodOfCare.id == PreviousPermanenceRecord.period_id)
                .where(PreviousPermanenceRecord.child_id == child.id)
                .order_by(PeriodOfCare.start_date)
            )
        ),
    )


# --- rows for the returns module (no access check: the returns module has its own) -------------


@dataclass(frozen=True)
class UascRow:
    """SSDA903 UASC: DUC is the date recorded, or the 18th birthday once it has passed (rule 304:
    the status ends then at the latest)."""

    child_id: uuid.UUID
    duc: date | None


def uasc_for_child(session: Session, child_id: uuid.UUID, year_end: date) -> UascRow | None:
    row = session.scalar(select(UascStatus).where(UascStatus.child_id == child_id))
    if row is None:
        return None
    duc = row.ceased_date
    if duc is None:
        born = session.scalar(select(Person.date_of_birth).where(Person.id == child_id))
        if born is not None and add_months(born, 18 * 12) <= year_end:
            duc = add_months(born, 18 * 12)
    return UascRow(child_id, duc)


@dataclass(frozen=True)
class AdoptionRow:
    """One SSDA903 PlacedAdoption row and, for an adopted child, the AD1 items."""

    decision_id: uuid.UUID
    date_placed: date
    date_placed_ceased: date | None
    reason_placed_ceased: ReasonPlacedCeased | None
    adoption_order_date: date | None
    date_match: date | None
    foster_care: int | None
    nb_adoptr: int | None
    sex_adoptr: AdopterSex | None
    ls_adoptr: AdopterLegalStatus | None


def adoption_for_child(session: Session, child_id: uuid.UUID) -> list[AdoptionRow]:
    """The child's decisions to place for adoption, oldest first."""
    return [
        AdoptionRow(
            d.id,
            d.decision_date,
            d.reversed_date,
            d.reversed_reason,
            d.adoption_order_date,
            d.matched_date,
            None if d.adopted_by_foster_carers is None else int(d.adopted_by_foster_carers),
            d.number_of_adopters,
            d.adopters_sex,
            d.adopters_legal_status,
        )
        for d in session.scalars(
            select(AdoptionDecision)
            .where(AdoptionDecision.child_id == child_id)
            .order_by(AdoptionDecision.decision_date)
        )
    ]


@dataclass(frozen=True)
class PrevPermRow:
    """One SSDA903 PrevPerm row, for the period of care that started on ``period_start``."""

    period_id: uuid.UUID
    period_start: date
    prev_perm: PreviousPermanence
    la_perm: str | None
    date_perm: str | None


def prev_perm_for_child(session: Session, child_id: uuid.UUID) -> list[PrevPermRow]:
    """The previous-permanence row of each of the child's periods of care that has one, oldest
    first (rule 630: a row for each child starting care in the year)."""
    return [
        PrevPermRow(r.period_id, start, r.prev_perm, r.la_perm, r.date_perm)
        for r, start in session.execute(
            select(PreviousPermanenceRecord, PeriodOfCare.start_date)
            .join(PeriodOfCare, PeriodOfCare.id == PreviousPermanenceRecord.period_id)
            .where(PreviousPermanenceRecord.child_id == child_id)
            .order_by(PeriodOfCare.start_date)
        )
    ]


@dataclass(frozen=True)
class MotherhoodRow:
    """SSDA903 Header MOTHER (0/1) and MC_DOB."""

    mother: int
    mc_dob: date | None


def motherhood_for_child(session: Session, child_id: uuid.UUID) -> MotherhoodRow | None:
    """The recorded motherhood, or None when nothing is recorded (rule 393: every looked-after
    girl needs MOTHER; the returns module flags a missing one)."""
    row = session.scalar(select(Motherhood).where(Motherhood.child_id == child_id))
    if row is None:
        return None
    return MotherhoodRow(int(row.is_mother), row.first_child_birth_date)
