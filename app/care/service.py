"""Periods of care: a child starts to be looked after, and care ceases.

The period of care is the frame every other children-in-care record hangs on: its legal-status
history and placement history (from which :mod:`app.care.episodes` derives the SSDA903 episodes),
and the clocks of rules 13-30 that start with it (:mod:`app.care.hooks` calls their modules).
Every state change goes through ``app.workflow.engine``; every read of a child is access-logged.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from app import clock
from app.audit.service import case_event_append, diff
from app.calendar import add_months
from app.care import hooks
from app.care.codes import (
    ADOPTED,
    ADOPTION_PLACEMENTS,
    FINAL_CEASING_REASONS,
    FOSTER_PLACEMENTS,
    NO_URN_PLACEMENTS,
    OUTSIDE_ENGLAND_LA_CODES,
    PLACEMENT_MINIMUM_AGE,
    PROVIDER_NOT_RECORDED,
    PROVIDER_REFUSED,
    REGIONAL_ADOPTION_AGENCY_URN,
    SHORT_BREAKS,
    SPECIAL_GUARDIANSHIP,
    TEMPORARY_PLACEMENTS,
    URN_XXXXXXX_PLACEMENTS,
    YOUTH_JUSTICE,
    LegalStatus,
    PlacementProvider,
    ReasonEpisodeCeased,
)
from app.care.distance import postcode_distance_km
from app.care.episodes import Episode, episode_problems, episodes_for_child
from app.care.schemas import (
    LegalStatusChange,
    PeriodOfCareCease,
    PeriodOfCareStart,
    PlacementChange,
    PlacementCorrection,
    PlacementIn,
)
from app.care.stability import Stability, stability_for_children
from app.care.workflow import CEASE_EVENT, LOOKED_AFTER, PERIOD_OF_CARE_MACHINE, STARTED_ACTION
from app.cases import service as case_service
from app.cases.workflow import LOOKED_AFTER as CASE_LOOKED_AFTER
from app.config import get_settings
from app.core_types import PrimaryNeed
from app.deadlines.care_rules import LOOKED_AFTER_KINDS
from app.errors import Conflict, Invalid, NotFound, PreconditionFailed
from app.models.care import CareEntryRoute, LegalStatusRecord, PeriodOfCare, Placement
from app.models.cases import Case
from app.models.deadlines import Deadline
from app.models.people import Person
from app.outbox import service as outbox_service
from app.security.access import get_person_for_read
from app.security.principal import Principal
from app.workflow import engine

PERIOD_NOT_VISIBLE = "There is no period of care with this id that you can see."
SUBJECT = "period_of_care"
#: Case-event actions (the chronology's words) for changes that are not state transitions.
LEGAL_STATUS_CHANGED = "legal_status_changed"
PLACEMENT_CHANGED = "placement_changed"
PLACEMENT_CORRECTED = "placement_corrected"
#: SSDA903 CIN (category of need) takes N1-N8 only: N9 "not in need" and N0 are CIN census codes.
CATEGORIES_OF_NEED = frozenset(PrimaryNeed) - {PrimaryNeed("N9"), PrimaryNeed("N0")}


# --- loading -----------------------------------------------------------------------------------


def open_period(session: Session, *, child_id: uuid.UUID) -> PeriodOfCare | None:
    """The child's period of care that has not ceased, if any."""
    return session.scalar(
        select(PeriodOfCare)
        .where(PeriodOfCare.child_id == child_id, PeriodOfCare.state == LOOKED_AFTER)
        .limit(1)
    )


def current_placement(session: Session, *, child_id: uuid.UUID) -> Placement | None:
    """The child's placement that has not ended, if any."""
    return session.scalar(
        select(Placement)
        .where(Placement.child_id == child_id, Placement.end_date.is_(None))
        .limit(1)
    )


def current_legal_status(session: Session, *, period_id: uuid.UUID) -> LegalStatusRecord | None:
    return session.scalar(
        select(LegalStatusRecord)
        .where(LegalStatusRecord.period_id == period_id, LegalStatusRecord.end_date.is_(None))
        .limit(1)
    )


def period_get(session: Session, *, actor: Principal, period_id: uuid.UUID) -> PeriodOfCare:
    """The period, if its child is visible to the caller; the read is access-logged."""
    period = session.get(PeriodOfCare, period_id)
    if period is None:
        raise NotFound(PERIOD_NOT_VISIBLE)
    get_person_for_read(
        session,
        principal=actor,
        person_id=period.child_id,
        resource=SUBJECT,
        case_id=period.case_id,
    )
    return period


# --- checks ------------------------------------------------------------------------------------


def check_placement(placement: PlacementIn, *, field: str = "placement") -> None:
    """The SSDA903 rules a placement keeps on its own (2025-26 validator):

    * provider: none for temporary moves T0-T4 and Z11-Z14 (rules 178, 213), one for every other
      placement (526), and one that can provide this type (527-531; PR0 only with P1, 550);
    * Ofsted URN: none for the types that are never registered (222), required for every other
      placement in England (218; the placement LA says whether it is outside England), and the
      regional adoption agencies' ``XXXXXXX`` only for adoption and foster placements (242).
    """
    kind = placement.placement_type
    if kind in PROVIDER_NOT_RECORDED:
        if placement.provider is not None:
            raise Invalid.field(
                f"{field}.provider",
                f"A {kind.value} placement has no provider (SSDA903 rules 178, 213).",
                rule="SSDA903 213",
            )
    elif placement.provider is None:
        raise Invalid.field(
            f"{field}.provider",
            f"A {kind.value} placement needs its provider, PR0-PR5 (SSDA903 rules 178, 526).",
            rule="SSDA903 526",
        )
    else:
        refused, rule = PROVIDER_REFUSED.get(placement.provider, (frozenset(), ""))
        if kind in refused:
            raise Invalid.field(
                f"{field}.provider",
                f"Provider {placement.provider.value} cannot provide a {kind.value} placement "
                f"(SSDA903 rule {rule}).",
                rule=f"SSDA903 {rule}",
            )
        if placement.provider is PlacementProvider.PR0 and kind.value != "P1":
            raise Invalid.field(
                f"{field}.provider",
                "PR0 (parents or others with parental responsibility) is the provider of a "
                "placement with parents (P1) only (SSDA903 rule 550).",
                rule="SSDA903 550",
            )
    urn = placement.ofsted_urn
    if kind in NO_URN_PLACEMENTS:
        if urn is not None and urn != REGIONAL_ADOPTION_AGENCY_URN:
            raise Invalid.field(
                f"{field}.ofsted_urn",
                f"A {kind.value} placement has no Ofsted URN (SSDA903 rule 222).",
                rule="SSDA903 222",
            )
    elif urn is None and placement.placement_la_code not in OUTSIDE_ENGLAND_LA_CODES:
        raise Invalid.field(
            f"{field}.ofsted_urn",
            f"A {kind.value} placement in England needs the Ofsted URN of its provision "
            "(SSDA903 rule 218).",
            rule="SSDA903 218",
        )
    if urn == REGIONAL_ADOPTION_AGENCY_URN and kind not in URN_XXXXXXX_PLACEMENTS:
        raise Invalid.field(
            f"{field}.ofsted_urn",
            "URN XXXXXXX is for regional adoption agencies: adoption (A3-A6) and foster (U1-U6) "
            "placements only (SSDA903 rule 242).",
            rule="SSDA903 242",
        )


def _eighteenth_birthday(child: Person) -> date | None:
    return add_months(child.date_of_birth, 18 * 12) if child.date_of_birth else None


def _check_under_18(child: Person, *, on: date, field: str) -> None:
    """A young person of 18 is no longer looked after (Children Act 1989 s.105: a child is a
    person under 18; SSDA903 rules 352, 359): nothing starts on or after the 18th birthday."""
    eighteen = _eighteenth_birthday(child)
    if eighteen is not None and on >= eighteen:
        raise Invalid.field(
            field,
            f"The young person was 18 on {eighteen.isoformat()}: a young person of 18 or over is "
            "not looked after (Children Act 1989 s.105; SSDA903 rules 352, 359).",
            rule="SSDA903 352",
        )


def check_legal_status_age(child: Person, *, legal_status: LegalStatus, on: date) -> None:
    """Remand, PACE and youth rehabilitation (J1-J3) are for a child over 10 (SSDA903 rule 358:
    the episode starts after the 10th birthday; the age of criminal responsibility)."""
    born = child.date_of_birth
    if legal_status in YOUTH_JUSTICE and born is not None and on <= add_months(born, 120):
        raise Invalid.field(
            "legal_status",
            f"Legal status {legal_status.value} is not possible for a child under 10 "
            "(SSDA903 rule 358).",
            rule="SSDA903 358",
        )


def check_placement_age(child: Person, *, placement: PlacementIn, on: date, field: str) -> None:
    """Placement types with a minimum age (SSDA903 rules 371 K3 16+, 372 R5 10+, 373 S1 4+,
    374 P3 14+)."""
    minimum = PLACEMENT_MINIMUM_AGE.get(placement.placement_type)
    born = child.date_of_birth
    if minimum is None or born is None:
        return
    years, rule = minimum
    if on < add_months(born, 12 * years):
        raise Invalid.field(
            f"{field}.placement_type",
            f"A {placement.placement_type.value} placement is for a child of {years} or over "
            f"(SSDA903 rule {rule}).",
            rule=f"SSDA903 {rule}",
        )


def check_status_with_placement(
    *, legal_status: LegalStatus, placement: PlacementIn, field: str
) -> None:
    """Legal status and placement combinations the return refuses: a placement with parents is not
    s20 accommodation (378); a child on short breaks is in no temporary placement (382) and in no
    long-term foster placement (384)."""
    kind = placement.placement_type
    refusal: tuple[str, str] | None = None
    if kind.value == "P1" and legal_status is LegalStatus.SECTION_20:
        refusal = ("378", "A child placed with parents (P1) is not accommodated under s20 (V2)")
    elif legal_status in SHORT_BREAKS and kind in TEMPORARY_PLACEMENTS:
        refusal = ("382", "A child on short breaks (V3/V4) is not in a temporary placement")
    elif legal_status in SHORT_BREAKS and kind.value in ("U1", "U4"):
        refusal = ("384", "A child on short breaks (V3/V4) is not in long-term fostering")
    if refusal is not None:
        raise Invalid.field(
            f"{field}.placement_type",
            f"{refusal[1]} (SSDA903 rule {refusal[0]}).",
            rule=f"SSDA903 {refusal[0]}",
        )


def _refuse_overlap(session: Session, *, child_id: uuid.UUID, start_date: date) -> None:
    """Periods of care never overlap (SSDA903 rule 142: a new episode starts only after the
    previous one ended)."""
    existing = session.scalar(
        select(PeriodOfCare)
        .where(
            PeriodOfCare.child_id == child_id,
            or_(PeriodOfCare.end_date.is_(None), PeriodOfCare.end_date > start_date),
        )
        .limit(1)
    )
    if existing is None:
        return
    if existing.end_date is None:
        raise Conflict(
            f"This child is already looked after (since {existing.start_date.isoformat()}); "
            "record a change of legal status or placement instead (SSDA903 rule 142).",
            code="already_looked_after",
            period_id=str(existing.id),
            rule="SSDA903 142",
        )
    raise Conflict(
        f"A period of care from {existing.start_date.isoformat()} to "
        f"{existing.end_date.isoformat()} overlaps this start date; periods of care never overlap "
        "(SSDA903 rule 142).",
        code="period_of_care_overlaps",
        period_id=str(existing.id),
        rule="SSDA903 142",
    )


def _check_child_age(child: Person, *, start_date: date) -> None:
    """A child is looked after until 18 (Children Act 1989 s.105) and from birth."""
    born = child.date_of_birth
    if born is None:
        raise Invalid.field(
            "start_date",
            "An unborn child cannot be looked after: record the birth first.",
            rule="SSDA903: DECOM on or after DOB",
        )
    if start_date < born:
        raise Invalid.field(
            "start_date",
            f"Care cannot start before the child's birth ({born.isoformat()}).",
            rule="SSDA903: DECOM on or after DOB",
        )
    if start_date >= add_months(born, 18 * 12):
        raise Invalid.field(
            "start_date",
            "A young person of 18 or over cannot start to be looked after (Children Act 1989 "
            "s.105: a child is a person under 18).",
            rule="Children Act 1989 s.105",
        )


#: The legal statuses each way into care starts under (the first legal status of the period).
ENTRY_ROUTE_STATUSES: dict[CareEntryRoute, frozenset[LegalStatus]] = {
    CareEntryRoute.emergency: frozenset(
        {LegalStatus.POLICE_PROTECTION, LegalStatus.EMERGENCY_PROTECTION_ORDER}
    ),
    CareEntryRoute.section_20: frozenset({LegalStatus.SECTION_20}),
    CareEntryRoute.remand: frozenset({LegalStatus.REMAND, LegalStatus.PACE}),
    CareEntryRoute.short_breaks: SHORT_BREAKS,
    CareEntryRoute.court_order: frozenset(
        {
            LegalStatus.INTERIM_CARE_ORDER,
            LegalStatus.FULL_CARE_ORDER,
            LegalStatus.FREEING_ORDER,
            LegalStatus.PLACEMENT_ORDER,
            LegalStatus.CHILD_ASSESSMENT_ORDER,
            LegalStatus.YOUTH_REHABILITATION_ORDER,
        }
    ),
    # An assessment concludes in accommodation agreed with the parents or an application to court.
    CareEntryRoute.assessment: frozenset(
        {
            LegalStatus.SECTION_20,
            LegalStatus.INTERIM_CARE_ORDER,
            LegalStatus.FULL_CARE_ORDER,
            LegalStatus.CHILD_ASSESSMENT_ORDER,
        }
    ),
}


def _check_entry_route(body: PeriodOfCareStart) -> None:
    allowed = ENTRY_ROUTE_STATUSES[body.entry_route]
    if body.legal_status not in allowed:
        codes = ", ".join(sorted(s.value for s in allowed))
        raise Invalid.field(
            "legal_status",
            f"Care entered by '{body.entry_route.value}' starts under {codes}, not "
            f"{body.legal_status.value}.",
            rule="entry route and first legal status",
        )


def _refuse_after_final_ceasing(session: Session, *, child_id: uuid.UUID) -> None:
    """No period of care follows one that ceased because the child died (E2) or was assessed to be
    an adult (E15): SSDA903 rule 437."""
    final = session.scalar(
        select(PeriodOfCare.reason_ceased)
        .where(
            PeriodOfCare.child_id == child_id,
            PeriodOfCare.reason_ceased.in_([r.value for r in FINAL_CEASING_REASONS]),
        )
        .limit(1)
    )
    if final is not None:
        raise Conflict(
            f"This child's care ceased with {final.value} (died or assessed as an adult): no "
            "later period of care can follow (SSDA903 rule 437).",
            code="care_ceased_finally",
            rule="SSDA903 437",
        )


def refuse_invalid_episodes(session: Session, *, child: Person) -> list[Episode]:
    """Derive the child's episodes after a change and refuse it (409, naming the SSDA903 rule)
    when they would break a rule that is an invariant of the record (:mod:`app.care.episodes`).
    The request's transaction is rolled back, so nothing of the change remains."""
    session.flush()
    episodes = episodes_for_child(session, child.id)
    problems = episode_problems(
        episodes, date_of_birth=child.date_of_birth, la_code=get_settings().la_code
    )
    if problems:
        first = problems[0]
        raise Conflict(
            f"{first.message} (SSDA903 rule {first.rule}).",
            code="ssda903_rule",
            rule=f"SSDA903 {first.rule}",
            problems=[{"rule": p.rule, "message": p.message} for p in problems],
        )
    return episodes


# --- writes ------------------------------------------------------------------------------------


def _refuse_while_missing(session: Session, *, child_id: uuid.UUID, what: str, rule: str) -> None:
    """A child recorded as missing (or away) has not come back: record the return first
    (SSDA903 rules 575 and 577: a missing episode ends before the placement or the care it
    happened in)."""
    from app.models.missing import MissingEpisode

    open_episode = session.scalar(
        select(MissingEpisode.id)
        .where(MissingEpisode.child_id == child_id, MissingEpisode.ended_at.is_(None))
        .limit(1)
    )
    if open_episode is not None:
        raise Conflict(
            f"{what} while the child is recorded as missing or away: record their return first "
            f"(SSDA903 rule {rule}).",
            code="child_missing",
            missing_episode_id=str(open_episode),
            rule=f"SSDA903 {rule}",
        )


def new_placement(*, period: PeriodOfCare, placement: PlacementIn, start_date: date) -> Placement:
    """A placement row from the form (the caller adds it and ends the previous one)."""
    return Placement(
        id=uuid.uuid4(),
        period_id=period.id,
        case_id=period.case_id,
        child_id=period.child_id,
        placement_type=placement.placement_type,
        provider=placement.provider,
        ofsted_urn=placement.ofsted_urn,
        carer_name=placement.carer_name,
        carer_key=placement.carer_key,
        home_postcode=placement.home_postcode,
        placement_postcode=placement.placement_postcode,
        placement_la_code=placement.placement_la_code,
        intended_until_18=placement.intended_until_18,
        child_agrees_six_monthly_visits=placement.child_agrees_six_monthly_visits,
        placed_under_reg=placement.placed_under_reg,
        distance_km=postcode_distance_km(placement.home_postcode, placement.placement_postcode),
        start_date=start_date,
    )


def period_of_care_start(
    session: Session, *, actor: Principal, case_id: uuid.UUID, body: PeriodOfCareStart
) -> PeriodOfCare:
    """The child starts to be looked after on the case: a period of care with its first legal
    status and first placement (SSDA903: a new episode with RNE S). The case moves to
    ``looked_after`` unless it is there already (the decision may have been recorded first), and
    the clocks of rules 13, 15, 18, 23, 25 and 28 start (:mod:`app.care.hooks`)."""
    case = case_service.case_for_change(session, actor=actor, case_id=case_id, refuse_closed=True)
    start_date = body.start_date or clock.today()
    if start_date > clock.today():
        raise Invalid.field("start_date", "Care cannot start in the future.")
    case_service.refuse_after_death(session, case=case, field="start_date", when=start_date)
    child = session.get(Person, case.child_id)
    assert child is not None  # a foreign key
    _check_child_age(child, start_date=start_date)
    if body.category_of_need not in CATEGORIES_OF_NEED:
        raise Invalid.field(
            "category_of_need",
            "The SSDA903 category of need is N1-N8 (N9 and N0 are not used for a child in care).",
            rule="SSDA903 145",
        )
    _check_entry_route(body)
    check_legal_status_age(child, legal_status=body.legal_status, on=start_date)
    check_placement(body.placement)
    if body.placement.placement_type in TEMPORARY_PLACEMENTS:
        raise Invalid.field(
            "placement.placement_type",
            "A period of care cannot start in a temporary placement (SSDA903 rule 380).",
            rule="SSDA903 380",
        )
    check_placement_age(child, placement=body.placement, on=start_date, field="placement")
    check_status_with_placement(
        legal_status=body.legal_status, placement=body.placement, field="placement"
    )
    _refuse_overlap(session, child_id=case.child_id, start_date=start_date)
    _refuse_after_final_ceasing(session, child_id=case.child_id)
    if case.state != CASE_LOOKED_AFTER:
        case_service.case_transition(
            session,
            actor=actor,
            case_id=case.id,
            event="become_looked_after",
            expected_version=case.version,
            reason=f"Started to be looked after ({body.entry_route.value})",
        )
    period = PeriodOfCare(
        id=uuid.uuid4(),
        case_id=case.id,
        child_id=case.child_id,
        start_date=start_date,
        entry_route=body.entry_route,
        category_of_need=body.category_of_need,
    )
    session.add(period)
    placement = new_placement(period=period, placement=body.placement, start_date=start_date)
    engine.start(
        session,
        machine=PERIOD_OF_CARE_MACHINE,
        record=period,
        actor=actor,
        case_id=case.id,
        child_id=case.child_id,
        action=STARTED_ACTION,
        data={
            "start_date": start_date,
            "entry_route": body.entry_route.value,
            "legal_status": body.legal_status.value,
            "placement_type": body.placement.placement_type.value,
            "placement_id": placement.id,
        },
    )
    session.add(
        LegalStatusRecord(
            period_id=period.id,
            child_id=case.child_id,
            legal_status=body.legal_status,
            start_date=start_date,
        )
    )
    session.add(placement)
    session.flush()
    hooks.care_started(session, actor=actor, period=period, placement=placement)
    hooks.placement_started(session, actor=actor, period=period, placement=placement, previous=None)
    session.flush()
    refuse_invalid_episodes(session, child=child)
    return period


def period_case(session: Session, *, period: PeriodOfCare) -> Case:
    case = session.get(Case, period.case_id)
    assert case is not None  # a foreign key
    return case


# --- changes within a period -------------------------------------------------------------------


def _period_for_change(
    session: Session, *, actor: Principal, period_id: uuid.UUID, expected_version: int
) -> tuple[PeriodOfCare, Case, Person]:
    """The period a change is written on: its child visible (404), the caller one who may change
    the case (403), the case open (409), and the version the caller last saw (412)."""
    period = session.get(PeriodOfCare, period_id)
    if period is None:
        raise NotFound(PERIOD_NOT_VISIBLE)
    case = case_service.case_for_change(
        session, actor=actor, case_id=period.case_id, refuse_closed=True
    )
    engine.require_version(period, expected_version)
    child = session.get(Person, period.child_id)
    assert child is not None  # a foreign key
    return period, case, child


def _touch(period: PeriodOfCare) -> None:
    """Move the period's version: its histories changed (If-Match on the period guards them, so
    two changes made at once cannot both win)."""
    period.updated_at = clock.now()
    flag_modified(period, "updated_at")


def _refuse_if_ceased(period: PeriodOfCare, *, what: str) -> None:
    """A change falls inside its period: none after care ceased (409)."""
    if period.state != LOOKED_AFTER:
        raise Conflict(
            f"This period of care ceased on {period.end_date}: no {what} is recorded after "
            "care ceased (SSDA903 rule 501: episodes fall within "
            "the period). A return to care is a new period.",
            code="period_ceased",
            rule="SSDA903 501",
        )


def _check_change_date(
    session: Session,
    *,
    period: PeriodOfCare,
    case: Case,
    child: Person,
    on: date,
    current_start: date,
    what: str,
) -> None:
    """A change falls inside its period: on or after its start,
    after the current record began (no episode shorter than a day, SSDA903 rule 355), not in the
    future, not after the child's death, and before the 18th birthday."""
    if on > clock.today():
        raise Invalid.field("start_date", f"A {what} cannot be recorded in the future.")
    if on < period.start_date:
        raise Invalid.field(
            "start_date",
            f"This period of care started on {period.start_date.isoformat()}: a {what} cannot "
            "start before it (SSDA903 rule 501).",
            rule="SSDA903 501",
        )
    if on <= current_start:
        raise Conflict(
            f"The current {what} started on {current_start.isoformat()}: a change must start after "
            "it, as an episode lasts at least a day (SSDA903 rule 355). Correct the record "
            "instead if it was wrong.",
            code="change_too_soon",
            rule="SSDA903 355",
        )
    case_service.refuse_after_death(session, case=case, field="start_date", when=on)
    _check_under_18(child, on=on, field="start_date")


def legal_status_change(
    session: Session,
    *,
    actor: Principal,
    period_id: uuid.UUID,
    expected_version: int,
    body: LegalStatusChange,
) -> PeriodOfCare:
    """The child's legal status changes from ``start_date``: the current status ends that day and
    the new one starts (SSDA903: the episode ends with X1 and the next begins with RNE L, or U/B
    with a placement change the same day). Refused when the status is the same (rule 434), a
    single short break (V3) within a period (rule 366), or wrong for the child's age (358)."""
    period, case, child = _period_for_change(
        session, actor=actor, period_id=period_id, expected_version=expected_version
    )
    _refuse_if_ceased(period, what="legal status")
    current = current_legal_status(session, period_id=period.id)
    assert current is not None  # an open period always has one
    on = body.start_date or clock.today()
    _check_change_date(
        session,
        period=period,
        case=case,
        child=child,
        on=on,
        current_start=current.start_date,
        what="legal status",
    )
    if body.legal_status == current.legal_status:
        raise Invalid.field(
            "legal_status",
            f"The child is already under {current.legal_status.value}: a new episode needs a "
            "different legal status (SSDA903 rule 434).",
            rule="SSDA903 434",
        )
    if body.legal_status is LegalStatus.SHORT_BREAK_SINGLE:
        raise Invalid.field(
            "legal_status",
            "Each single short break (V3) is a period of care of its own (SSDA903 rule 366): "
            "cease this period and start one for the break.",
            rule="SSDA903 366",
        )
    check_legal_status_age(child, legal_status=body.legal_status, on=on)
    current.end_date = on
    record = LegalStatusRecord(
        id=uuid.uuid4(),
        period_id=period.id,
        child_id=period.child_id,
        legal_status=body.legal_status,
        start_date=on,
        notes=body.notes,
    )
    session.add(record)
    _touch(period)
    case_event_append(
        session,
        case_id=period.case_id,
        child_id=period.child_id,
        actor=actor,
        action=LEGAL_STATUS_CHANGED,
        subject_type=SUBJECT,
        subject_id=period.id,
        changes={
            "legal_status": {
                "before": current.legal_status.value,
                "after": body.legal_status.value,
            },
            "start_date": on,
            "legal_status_id": record.id,
        },
    )
    refuse_invalid_episodes(session, child=child)
    return period


def _placement_in(placement: Placement) -> PlacementIn:
    return PlacementIn(
        placement_type=placement.placement_type,
        provider=placement.provider,
        ofsted_urn=placement.ofsted_urn,
        carer_name=placement.carer_name,
        carer_key=placement.carer_key,
        home_postcode=placement.home_postcode,
        placement_postcode=placement.placement_postcode,
        placement_la_code=placement.placement_la_code,
        intended_until_18=placement.intended_until_18,
        child_agrees_six_monthly_visits=placement.child_agrees_six_monthly_visits,
        placed_under_reg=placement.placed_under_reg,
    )


def _placement_before(
    session: Session, *, period: PeriodOfCare, before: Placement
) -> Placement | None:
    return session.scalar(
        select(Placement)
        .where(Placement.period_id == period.id, Placement.start_date < before.start_date)
        .order_by(Placement.start_date.desc())
        .limit(1)
    )


def placement_change(
    session: Session,
    *,
    actor: Principal,
    period_id: uuid.UUID,
    expected_version: int,
    body: PlacementChange,
) -> Placement:
    """The child moves: the current placement ends on ``start_date`` (with why, and whether the
    ending was planned) and the new one starts the same day (SSDA903: X1, then RNE P/T, or U/B
    with a legal-status change that day). The placement clocks of rules 14 and 18 start through
    :mod:`app.care.hooks`.

    Temporary placements (T0-T4): the move into or out of one has no reason (rule 226), every
    other move needs one (225); the child comes back to the usual placement (383).
    """
    period, case, child = _period_for_change(
        session, actor=actor, period_id=period_id, expected_version=expected_version
    )
    _refuse_if_ceased(period, what="placement")
    _refuse_while_missing(
        session, child_id=period.child_id, what="The placement cannot end", rule="575"
    )
    current = current_placement(session, child_id=period.child_id)
    assert current is not None  # an open period has one
    assert current.period_id == period.id
    status = current_legal_status(session, period_id=period.id)
    assert status is not None
    on = body.start_date or clock.today()
    _check_change_date(
        session,
        period=period,
        case=case,
        child=child,
        on=on,
        current_start=current.start_date,
        what="placement",
    )
    new = body.placement
    check_placement(new)
    check_placement_age(child, placement=new, on=on, field="placement")
    check_status_with_placement(legal_status=status.legal_status, placement=new, field="placement")
    if status.legal_status is LegalStatus.SHORT_BREAK_SINGLE:
        raise Invalid.field(
            "placement",
            "A child cannot change placement during a single short break (SSDA903 rule 366).",
            rule="SSDA903 366",
        )
    temporary = (
        current.placement_type in TEMPORARY_PLACEMENTS or new.placement_type in TEMPORARY_PLACEMENTS
    )
    if temporary and body.end_reason is not None:
        raise Invalid.field(
            "end_reason",
            "A move into or out of a temporary placement has no reason for placement change "
            "(SSDA903 rule 226).",
            rule="SSDA903 226",
        )
    if not temporary and body.end_reason is None:
        raise Invalid.field(
            "end_reason",
            "Say why the current placement ended (SSDA903 REASON_PLACE_CHANGE, rule 225).",
            rule="SSDA903 225",
        )
    if current.placement_type in TEMPORARY_PLACEMENTS:
        usual = _placement_before(session, period=period, before=current)
        if usual is not None and (usual.placement_type, usual.placement_postcode) != (
            new.placement_type,
            new.placement_postcode,
        ):
            raise Invalid.field(
                "placement",
                f"After a temporary placement the child returns to the usual placement "
                f"({usual.placement_type.value} at {usual.placement_postcode or 'no postcode'}) "
                "(SSDA903 rule 383); record any other move after the return.",
                rule="SSDA903 383",
            )
    current.end_date = on
    current.end_reason = body.end_reason
    current.planned_ending = body.planned_ending
    placement = new_placement(period=period, placement=new, start_date=on)
    session.add(placement)
    _touch(period)
    case_event_append(
        session,
        case_id=period.case_id,
        child_id=period.child_id,
        actor=actor,
        action=PLACEMENT_CHANGED,
        subject_type=SUBJECT,
        subject_id=period.id,
        changes={
            "previous_placement_id": current.id,
            "placement_id": placement.id,
            "placement_type": {
                "before": current.placement_type.value,
                "after": new.placement_type.value,
            },
            "start_date": on,
            "end_reason": body.end_reason.value if body.end_reason else None,
            "planned_ending": body.planned_ending,
        },
    )
    refuse_invalid_episodes(session, child=child)
    hooks.placement_started(
        session, actor=actor, period=period, placement=placement, previous=current
    )
    # A move is not a workflow transition (the period stays looked_after), so the engine does not
    # publish it: integrations hear of it here, in the same transaction. Codes and ids only: the
    # carer, the postcodes and the address stay out.
    outbox_service.publish(
        session,
        event_type=outbox_service.PLACEMENT_CHANGED,
        subject_type="placement",
        subject_id=placement.id,
        case_id=period.case_id,
        child_id=period.child_id,
        data={
            "period_of_care_id": str(period.id),
            "previous_placement_id": str(current.id),
            "placement_id": str(placement.id),
            **outbox_service.safe_fields(
                {
                    "start_date": on,
                    "placement_type": new.placement_type,
                    "end_reason": body.end_reason,
                    "planned_ending": body.planned_ending,
                }
            ),
        },
    )
    session.flush()
    return placement


def placement_correct(
    session: Session,
    *,
    actor: Principal,
    placement_id: uuid.UUID,
    expected_version: int,
    body: PlacementCorrection,
) -> Placement:
    """Correct a placement's details (a wrong URN, postcode, provider, carer) without a move: the
    fields sent change, the SSDA903 rules are checked again on the whole placement and its
    episodes, and the before/after values are written to the case's chronology."""
    placement = session.get(Placement, placement_id)
    if placement is None:
        raise NotFound("There is no placement with this id that you can see.")
    case_service.case_for_change(
        session, actor=actor, case_id=placement.case_id, refuse_closed=True
    )
    if placement.version != expected_version:
        raise PreconditionFailed(
            f"This placement is at version {placement.version}, not {expected_version}: someone "
            "changed it since you loaded it. Reload it and try again."
        )
    child = session.get(Person, placement.child_id)
    assert child is not None
    sent = body.model_fields_set - {"reason"}
    if not sent:
        raise Invalid.field("body", "Send at least one field to correct.")
    merged = _placement_in(placement).model_dump() | body.model_dump(include=sent)
    corrected = PlacementIn.model_validate(merged)
    check_placement(corrected)
    period = session.get(PeriodOfCare, placement.period_id)
    assert period is not None
    status = session.scalar(
        select(LegalStatusRecord)
        .where(
            LegalStatusRecord.period_id == period.id,
            LegalStatusRecord.start_date <= placement.start_date,
        )
        .order_by(LegalStatusRecord.start_date.desc())
        .limit(1)
    )
    if status is not None:
        check_status_with_placement(
            legal_status=status.legal_status, placement=corrected, field="placement"
        )
    before = {name: getattr(placement, name) for name in sent}
    after = {name: getattr(corrected, name) for name in sent}
    for name, value in after.items():
        setattr(placement, name, value)
    if {"home_postcode", "placement_postcode"} & sent:
        placement.distance_km = postcode_distance_km(
            placement.home_postcode, placement.placement_postcode
        )
    changes: dict[str, Any] = diff(before, after)
    case_event_append(
        session,
        case_id=placement.case_id,
        child_id=placement.child_id,
        actor=actor,
        action=PLACEMENT_CORRECTED,
        subject_type="placement",
        subject_id=placement.id,
        reason=body.reason.strip(),
        changes=changes,
    )
    _touch(period)
    refuse_invalid_episodes(session, child=child)
    return placement


# --- ceasing care ------------------------------------------------------------------------------


def _check_reason_ceased(
    *,
    child: Person,
    reason: ReasonEpisodeCeased,
    end_date: date,
    placement: Placement,
) -> None:
    """The reason rules that are invariants of the record (SSDA903 validator): adoption only from
    an adoption placement (390) and before 18 (386); special guardianship before 18 (407), E45/E46
    from a foster placement (516); independent living at 14+ (387); adult social care at 16+
    (389); staying put at 18+ (460); death only on the recorded date of death (Casework: the
    person record says the child died, and nothing happens after it)."""
    born = child.date_of_birth
    eighteen = _eighteenth_birthday(child)
    kind = placement.placement_type

    def refuse(rule: str, sentence: str) -> Invalid:
        return Invalid.field("reason_ceased", f"{sentence} (SSDA903 rule {rule}).", rule=rule)

    if reason is ReasonEpisodeCeased.NEW_EPISODE:
        raise Invalid.field(
            "reason_ceased",
            "X1 is not a reason care ceases: Casework writes it itself between episodes "
            "(SSDA903 rule 149).",
            rule="SSDA903 149",
        )
    if reason in ADOPTED and kind not in ADOPTION_PLACEMENTS:
        raise refuse("390", "An adoption (E11/E12) ends a placement for adoption (A3-A6)")
    if reason in ADOPTED and eighteen is not None and end_date >= eighteen:
        raise refuse("386", "A young person of 18 or over is not adopted from care")
    if reason in SPECIAL_GUARDIANSHIP and eighteen is not None and end_date > eighteen:
        raise refuse("407", "A special guardianship order is made for a child under 18")
    if (
        reason
        in (
            ReasonEpisodeCeased.SGO_FOSTER_CARER_RELATIVE,
            ReasonEpisodeCeased.SGO_FOSTER_CARER_OTHER,
        )
        and kind not in FOSTER_PLACEMENTS
    ):
        raise refuse("516", "E45/E46 (SGO to former foster carers) ends a foster placement")
    if born is not None:
        if reason in (
            ReasonEpisodeCeased.INDEPENDENT_SUPPORTED,
            ReasonEpisodeCeased.INDEPENDENT_UNSUPPORTED,
        ) and end_date < add_months(born, 14 * 12):
            raise refuse("387", "A child under 14 does not move into independent living")
        if reason is ReasonEpisodeCeased.ADULT_SOCIAL_CARE and end_date < add_months(born, 192):
            raise refuse("389", "A child under 16 is not transferred to adult social care")
        if reason is ReasonEpisodeCeased.STAYING_PUT and eighteen and end_date < eighteen:
            raise refuse("460", "Staying put (E17) is for a young person of 18 or over")
    if reason is ReasonEpisodeCeased.DIED:
        if child.date_of_death is None:
            raise Invalid.field(
                "reason_ceased",
                "Record the child's date of death on their person record before recording that "
                "care ceased because they died (E2).",
                rule="E2 needs the date of death",
            )
        if end_date != child.date_of_death:
            raise Invalid.field(
                "end_date",
                f"Care ceased by death (E2) ends on the date of death "
                f"({child.date_of_death.isoformat()}).",
                rule="E2 needs the date of death",
            )


def _stop_looked_after_deadlines(session: Session, *, child_id: uuid.UUID, on: date) -> int:
    """Timescales.md: deadlines stop when their episode ends — every open deadline of a
    looked-after kind for the child stops on the day care ceased."""
    stopped = 0
    for deadline in session.scalars(
        select(Deadline).where(
            Deadline.child_id == child_id,
            Deadline.kind.in_([k.value for k in LOOKED_AFTER_KINDS]),
            Deadline.met_date.is_(None),
            Deadline.stopped_date.is_(None),
        )
    ):
        deadline.stopped_date = max(on, deadline.start_date)
        stopped += 1
    return stopped


def period_of_care_cease(
    session: Session,
    *,
    actor: Principal,
    period_id: uuid.UUID,
    expected_version: int,
    body: PeriodOfCareCease,
) -> PeriodOfCare:
    """Care ceases on ``end_date`` for ``reason_ceased`` (an SSDA903 E-code), through the engine
    (``care_ceased``): the current placement and legal status end that day, every open deadline of
    a looked-after kind stops, and the modules listening (:mod:`app.care.hooks`) are told. The
    case stays where it is: what follows (care leaver, CIN plan, closure) is its own decision."""
    period, _case, child = _period_for_change(
        session, actor=actor, period_id=period_id, expected_version=expected_version
    )
    if period.state != LOOKED_AFTER:
        raise Conflict(
            "This period of care has already ceased.",
            code="period_ceased",
            current_state=period.state,
        )
    on = body.end_date or clock.today()
    if on > clock.today():
        raise Invalid.field("end_date", "Care cannot cease in the future.")
    _refuse_while_missing(session, child_id=period.child_id, what="Care cannot cease", rule="577")
    placement = current_placement(session, child_id=period.child_id)
    status = current_legal_status(session, period_id=period.id)
    assert placement is not None  # an open period has both
    assert status is not None
    last_change = max(placement.start_date, status.start_date)
    if on <= last_change:
        raise Invalid.field(
            "end_date",
            f"The current episode began on {last_change.isoformat()}: care ceases after it, as "
            "an episode lasts at least a day (SSDA903 rules 355, 356).",
            rule="SSDA903 355",
        )
    eighteen = _eighteenth_birthday(child)
    if eighteen is not None and on > eighteen:
        raise Invalid.field(
            "end_date",
            f"The young person was 18 on {eighteen.isoformat()}: care ceased that day at the "
            "latest (Children Act 1989 s.105; SSDA903 rule 359).",
            rule="SSDA903 359",
        )
    died = child.date_of_death
    if died is not None and on > died:
        raise Invalid.field(
            "end_date",
            f"This date is after the child's death ({died.isoformat()}).",
            rule="no activity after PersonDeathDate",
        )
    if placement.placement_type in TEMPORARY_PLACEMENTS:
        raise Conflict(
            f"The child is in a temporary placement ({placement.placement_type.value}): a period "
            "of care does not end in one (SSDA903 rule 381). Record the return to the usual "
            "placement first.",
            code="ends_in_temporary_placement",
            rule="SSDA903 381",
        )
    _check_reason_ceased(child=child, reason=body.reason_ceased, end_date=on, placement=placement)
    engine.apply(
        session,
        machine=PERIOD_OF_CARE_MACHINE,
        record=period,
        event=CEASE_EVENT,
        actor=actor,
        expected_version=expected_version,
        case_id=period.case_id,
        child_id=period.child_id,
        reason=body.notes,
        data={"end_date": on, "reason_ceased": body.reason_ceased},
    )
    placement.end_date = on
    status.end_date = on
    _stop_looked_after_deadlines(session, child_id=period.child_id, on=on)
    refuse_invalid_episodes(session, child=child)
    hooks.care_ceased(session, actor=actor, period=period)
    session.flush()
    return period


# --- reads -------------------------------------------------------------------------------------


def period_histories(
    session: Session, *, period: PeriodOfCare
) -> tuple[list[LegalStatusRecord], list[Placement]]:
    """The period's legal statuses and placements, oldest first (the caller has read the period)."""
    statuses = list(
        session.scalars(
            select(LegalStatusRecord)
            .where(LegalStatusRecord.period_id == period.id)
            .order_by(LegalStatusRecord.start_date, LegalStatusRecord.created_at)
        )
    )
    placements = list(
        session.scalars(
            select(Placement)
            .where(Placement.period_id == period.id)
            .order_by(Placement.start_date, Placement.created_at)
        )
    )
    return statuses, placements


def child_for_read(
    session: Session, *, actor: Principal, child_id: uuid.UUID, resource: str
) -> Person:
    """The child, if visible (404 otherwise); the read is written to access_log."""
    return get_person_for_read(session, principal=actor, person_id=child_id, resource=resource)


def periods_for_child(
    session: Session, *, actor: Principal, child_id: uuid.UUID
) -> list[PeriodOfCare]:
    """Every period of care of the child, oldest first; the read is access-logged."""
    child_for_read(session, actor=actor, child_id=child_id, resource=SUBJECT)
    return list(
        session.scalars(
            select(PeriodOfCare)
            .where(PeriodOfCare.child_id == child_id)
            .order_by(PeriodOfCare.start_date)
        )
    )


def child_episodes(session: Session, *, actor: Principal, child_id: uuid.UUID) -> list[Episode]:
    """The child's SSDA903 episodes over every period, oldest first; the read is access-logged."""
    child_for_read(session, actor=actor, child_id=child_id, resource="cla_episode")
    return episodes_for_child(session, child_id)


def child_placement_stability(
    session: Session, *, actor: Principal, child_id: uuid.UUID, on: date
) -> Stability:
    """The placement-stability measures of one child on ``on`` (:mod:`app.care.stability`)."""
    child = child_for_read(session, actor=actor, child_id=child_id, resource="placement_stability")
    return stability_for_children(session, children=[child], on=on)[0]


def team_placement_stability(
    session: Session, *, actor: Principal, team_id: uuid.UUID, on: date
) -> list[Stability]:
    """The measures for every child looked after on ``on`` whose case the team holds: what a
    team manager's dashboard shows. Each child shown is access-logged; restricted children the
    caller may not see are left out."""
    child_ids = list(
        session.scalars(
            select(PeriodOfCare.child_id)
            .join(Case, Case.id == PeriodOfCare.case_id)
            .where(
                Case.team_id == team_id,
                PeriodOfCare.start_date <= on,
                or_(PeriodOfCare.end_date.is_(None), PeriodOfCare.end_date > on),
            )
            .distinct()
        )
    )
    children: list[Person] = []
    for child_id in child_ids:
        try:
            children.append(
                child_for_read(
                    session, actor=actor, child_id=child_id, resource="placement_stability"
                )
            )
        except NotFound:
            continue
    return stability_for_children(session, children=children, on=on)
