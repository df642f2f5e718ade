"""Services and interventions on a case (issue 6 part 1): referred, started, ended with an outcome,
and the edge-of-care outcome — whether a teenager was still living at home 3, 6 and 12 months
after the support ended.

An intervention's status is read off its dates (``Intervention.status``), so each write here is
one step: record the referral, record the start, record the end. Every step is written to the
change log and to the case's chronology in the same transaction; a step on a record someone else
changed since the caller read it is refused (412), and a step already taken is a 409.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import access_log_append, case_event_append, change_log_append
from app.calendar import add_months
from app.cases import service as case_service
from app.errors import Conflict, Invalid, NotFound, PreconditionFailed
from app.models.care import PeriodOfCare
from app.models.interventions import (
    Intervention,
    InterventionKind,
    InterventionOutcome,
    InterventionStatus,
    ProviderKind,
)
from app.models.people import Person
from app.security.access import get_person_for_read, person_visible
from app.security.principal import Principal

NOT_VISIBLE = "There is no intervention with this id that you can see."
SUBJECT = "intervention"
REFERRED = "intervention_referred"
STARTED = "intervention_started"
ENDED = "intervention_ended"
#: The points after an edge-of-care intervention ends at which the child's living situation is
#: measured (the council's improvement plan: "preventing family breakdown").
EDGE_OF_CARE_POINTS = (3, 6, 12)


# --- loading -----------------------------------------------------------------------------------


def _for_change(session: Session, *, actor: Principal, intervention_id: uuid.UUID) -> Intervention:
    """The intervention about to change: its child visible (404), the caller one who may change
    its case (403), and the case still open (409: nothing is recorded after closure, CIN census
    rule 8565)."""
    intervention = session.get(Intervention, intervention_id)
    if intervention is None:
        raise NotFound(NOT_VISIBLE)
    case_service.case_for_change(
        session, actor=actor, case_id=intervention.case_id, refuse_closed=True
    )
    return intervention


def _not_in_future(name: str, when: date, what: str) -> None:
    if when > clock.today():
        raise Invalid.field(name, f"An intervention cannot be {what} in the future.")


def _not_before_referral(intervention: Intervention, name: str, when: date, what: str) -> None:
    if when < intervention.referred_date:
        raise Invalid.field(
            name,
            f"An intervention cannot be {what} before it was referred "
            f"({intervention.referred_date.isoformat()}).",
        )


def require_version(intervention: Intervention, expected_version: int) -> None:
    """412 unless the caller last saw the version the record has now (nothing changes)."""
    if intervention.version != expected_version:
        raise PreconditionFailed(
            f"This intervention is at version {intervention.version}, not {expected_version}: "
            "someone changed it since you loaded it. Reload it and try again."
        )


def _bump_version(session: Session, intervention: Intervention, expected_version: int) -> None:
    """412 unless the caller last saw the version the record has now; the guarded UPDATE makes
    two concurrent steps unable to both win (only one finds the version it expected)."""
    require_version(intervention, expected_version)
    bumped = session.execute(
        update(Intervention)
        .where(Intervention.id == intervention.id, Intervention.version == expected_version)
        .values(version=expected_version + 1)
        .execution_options(synchronize_session="fetch")
    )
    if bumped.rowcount != 1:  # type: ignore[attr-defined]
        raise PreconditionFailed(
            "Someone changed this intervention since you loaded it. Reload it and try again."
        )
    intervention.version = expected_version + 1


def _audit(
    session: Session,
    *,
    actor: Principal,
    intervention: Intervention,
    action: str,
    changes: dict[str, object],
) -> None:
    change_log_append(
        session,
        actor=actor,
        entity_type=SUBJECT,
        entity_id=intervention.id,
        action=action,
        changes=changes,
    )
    case_event_append(
        session,
        case_id=intervention.case_id,
        child_id=intervention.child_id,
        actor=actor,
        action=action,
        subject_type=SUBJECT,
        subject_id=intervention.id,
        to_state=intervention.status.value,
        changes=changes,
    )


# --- writes ------------------------------------------------------------------------------------


def intervention_record(
    session: Session,
    *,
    actor: Principal,
    case_id: uuid.UUID,
    kind: InterventionKind,
    provider_kind: ProviderKind,
    provider_name: str,
    referred_date: date,
    description: str | None = None,
    start_date: date | None = None,
) -> Intervention:
    """Record that the child was referred to a service (and, when ``start_date`` is given, that
    it has started). The referral belongs to the case: not before the case opened, not in the
    future, not after the child's death, and never on a closed case (CIN census rule 8565)."""
    case = case_service.case_for_change(session, actor=actor, case_id=case_id, refuse_closed=True)
    _not_in_future("referred_date", referred_date, "referred")
    if referred_date < case.opened_date:
        raise Invalid.field(
            "referred_date",
            f"An intervention cannot be referred before its case opened "
            f"({case.opened_date.isoformat()}).",
        )
    case_service.refuse_after_death(session, case=case, field="referred_date", when=referred_date)
    intervention = Intervention(
        id=uuid.uuid4(),
        case_id=case.id,
        child_id=case.child_id,
        kind=kind,
        description=description,
        provider_kind=provider_kind,
        provider_name=provider_name,
        referred_date=referred_date,
        recorded_by_id=actor.user_id,
    )
    if start_date is not None:
        _not_in_future("start_date", start_date, "started")
        _not_before_referral(intervention, "start_date", start_date, "started")
        intervention.start_date = start_date
    session.add(intervention)
    session.flush()
    changes: dict[str, object] = {
        "kind": kind,
        "provider_kind": provider_kind,
        "provider_name": provider_name,
        "referred_date": referred_date,
    }
    _audit(session, actor=actor, intervention=intervention, action=REFERRED, changes=changes)
    if start_date is not None:
        _audit(
            session,
            actor=actor,
            intervention=intervention,
            action=STARTED,
            changes={"start_date": start_date},
        )
    return intervention


def intervention_start(
    session: Session,
    *,
    actor: Principal,
    intervention_id: uuid.UUID,
    expected_version: int,
    start_date: date,
) -> Intervention:
    """Record the day the service started working with the family (409 once started or ended)."""
    intervention = _for_change(session, actor=actor, intervention_id=intervention_id)
    require_version(intervention, expected_version)
    if intervention.status is not InterventionStatus.referred:
        raise Conflict(
            f"This intervention has already {'ended' if intervention.end_date else 'started'}.",
            code=f"intervention_{intervention.status.value}",
        )
    _not_in_future("start_date", start_date, "started")
    _not_before_referral(intervention, "start_date", start_date, "started")
    _bump_version(session, intervention, expected_version)
    intervention.start_date = start_date
    session.flush()
    _audit(
        session,
        actor=actor,
        intervention=intervention,
        action=STARTED,
        changes={"start_date": start_date},
    )
    return intervention


def intervention_end(
    session: Session,
    *,
    actor: Principal,
    intervention_id: uuid.UUID,
    expected_version: int,
    end_date: date,
    outcome: InterventionOutcome,
    outcome_notes: str | None = None,
) -> Intervention:
    """Record how the intervention ended. ``declined`` is the outcome of an offer never taken up,
    so only an intervention that never started may end that way, and it is the only way such an
    one ends; any other outcome is of work that took place (422 otherwise; 409 once ended)."""
    intervention = _for_change(session, actor=actor, intervention_id=intervention_id)
    require_version(intervention, expected_version)
    if intervention.status is InterventionStatus.ended:
        raise Conflict("This intervention has already ended.", code="intervention_ended")
    started = intervention.start_date is not None
    if outcome is InterventionOutcome.declined and started:
        raise Invalid.field(
            "outcome",
            "This intervention started, so it was not declined: say how the work ended.",
        )
    if outcome is not InterventionOutcome.declined and not started:
        raise Invalid.field(
            "outcome",
            "This intervention never started: record it as declined, or record its start first.",
        )
    _not_in_future("end_date", end_date, "ended")
    _not_before_referral(intervention, "end_date", end_date, "ended")
    if intervention.start_date is not None and end_date < intervention.start_date:
        raise Invalid.field(
            "end_date",
            f"An intervention cannot end before it started "
            f"({intervention.start_date.isoformat()}).",
        )
    _bump_version(session, intervention, expected_version)
    intervention.end_date = end_date
    intervention.outcome = outcome
    intervention.outcome_notes = outcome_notes
    session.flush()
    _audit(
        session,
        actor=actor,
        intervention=intervention,
        action=ENDED,
        changes={"end_date": end_date, "outcome": outcome},
    )
    return intervention


CASE_CLOSED_NOTE = "The case closed: services recorded on it end with it."


def interventions_end_on_case_closure(
    session: Session, *, actor: Principal, case_id: uuid.UUID, end_date: date
) -> list[Intervention]:
    """The case closes on ``end_date``: each intervention still referred or active on it ends that
    day, as an audited consequence in the closing transaction (nothing continues on a closed case,
    CIN census rule 8565; support that goes on is recorded on the early help episode that follows).
    One that never started ends ``declined``; one under way ends ``ended_other``."""
    still_open = list(
        session.scalars(
            select(Intervention)
            .where(Intervention.case_id == case_id, Intervention.end_date.is_(None))
            .order_by(Intervention.referred_date, Intervention.id)
        )
    )
    for intervention in still_open:
        started = intervention.start_date is not None
        _bump_version(session, intervention, intervention.version)
        intervention.end_date = max(end_date, intervention.start_date or intervention.referred_date)
        intervention.outcome = (
            InterventionOutcome.ended_other if started else InterventionOutcome.declined
        )
        intervention.outcome_notes = CASE_CLOSED_NOTE
        session.flush()
        _audit(
            session,
            actor=actor,
            intervention=intervention,
            action=ENDED,
            changes={
                "end_date": intervention.end_date,
                "outcome": intervention.outcome,
                "reason": "case_closed",
            },
        )
    return still_open


# --- reads -------------------------------------------------------------------------------------


def intervention_get(
    session: Session, *, actor: Principal, intervention_id: uuid.UUID
) -> Intervention:
    """The intervention, if its child is visible to the caller; the read is access-logged."""
    intervention = session.get(Intervention, intervention_id)
    if intervention is None:
        raise NotFound(NOT_VISIBLE)
    get_person_for_read(
        session,
        principal=actor,
        person_id=intervention.child_id,
        resource=SUBJECT,
        case_id=intervention.case_id,
    )
    return intervention


def interventions_for_case(
    session: Session, *, actor: Principal, case_id: uuid.UUID
) -> list[Intervention]:
    """The case's interventions, oldest referral first; the read is access-logged."""
    case = case_service.case_for_read(session, actor=actor, case_id=case_id, resource=SUBJECT)
    return list(
        session.scalars(
            select(Intervention)
            .where(Intervention.case_id == case.id)
            .order_by(Intervention.referred_date, Intervention.created_at, Intervention.id)
        )
    )


# --- the edge-of-care outcome ------------------------------------------------------------------


@dataclass
class EdgeOfCareChild:
    """One edge-of-care intervention's child and where they were living after it ended: True at
    home, False looked after, None not yet known (that day is still to come)."""

    intervention_id: uuid.UUID
    case_id: uuid.UUID
    child_id: uuid.UUID
    child_name: str
    end_date: date
    outcome: InterventionOutcome
    at_home: dict[int, bool | None]


@dataclass
class EdgeOfCarePoint:
    """At one point after the end: how many children's situation is known, how many were at
    home, and that as a percentage of those known (None when none is known yet)."""

    months: int
    known: int = 0
    at_home: int = 0

    @property
    def percent_at_home(self) -> float | None:
        return round(100 * self.at_home / self.known, 1) if self.known else None


@dataclass
class EdgeOfCareOutcomes:
    ended_from: date
    ended_to: date
    children: list[EdgeOfCareChild] = field(default_factory=list)
    points: list[EdgeOfCarePoint] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.children)


def looked_after_on(periods: list[PeriodOfCare], day: date) -> bool:
    """Whether a period of care covers ``day``. Care that ceased on a day means the child left
    care that day (SSDA903 DEC is the day the episode ceased), so that day is at home."""
    return any(p.start_date <= day and (p.end_date is None or p.end_date > day) for p in periods)


def edge_of_care_outcomes(
    session: Session, *, actor: Principal, ended_from: date, ended_to: date
) -> EdgeOfCareOutcomes:
    """The edge-of-care measure of the council's improvement plan, "preventing family breakdown":
    for each child whose ``edge_of_care`` intervention ended in [ended_from, ended_to]
    (inclusive), whether they were still living at home 3, 6 and 12 months after it ended.

    "At home" on a day means not looked after that day: no period of care (``PeriodOfCare``, the
    children-in-care record) covers it. A point later than today is not yet known (None) and is
    left out of that point's percentage, which is at home / known. The months are calendar months
    (an end on 31 August is measured on 30 November, 28 or 29 February and 31 August). An
    intervention declined before it started is not support received, so it is not counted. Only
    children the caller may see are counted, and each child listed is written to the access log.
    """
    if ended_to < ended_from:
        raise Invalid.field("ended_to", "The window ends before it starts.")
    today = clock.today()
    rows = list(
        session.execute(
            select(Intervention, Person)
            .join(Person, Person.id == Intervention.child_id)
            .where(
                Intervention.kind == InterventionKind.edge_of_care,
                Intervention.end_date >= ended_from,
                Intervention.end_date <= ended_to,
                Intervention.outcome != InterventionOutcome.declined,
                person_visible(actor),
            )
            .order_by(Intervention.end_date, Person.last_name, Person.first_name, Intervention.id)
        ).all()
    )
    periods: dict[uuid.UUID, list[PeriodOfCare]] = {}
    child_ids = {person.id for _, person in rows}
    if child_ids:
        for period in session.scalars(
            select(PeriodOfCare).where(PeriodOfCare.child_id.in_(child_ids))
        ):
            periods.setdefault(period.child_id, []).append(period)
    out = EdgeOfCareOutcomes(
        ended_from=ended_from,
        ended_to=ended_to,
        points=[EdgeOfCarePoint(months=m) for m in EDGE_OF_CARE_POINTS],
    )
    shown: dict[uuid.UUID, uuid.UUID] = {}
    for intervention, person in rows:
        assert intervention.end_date is not None
        assert intervention.outcome is not None
        at_home: dict[int, bool | None] = {}
        for point in out.points:
            day = add_months(intervention.end_date, point.months)
            if day > today:
                at_home[point.months] = None
                continue
            home = not looked_after_on(periods.get(person.id, []), day)
            at_home[point.months] = home
            point.known += 1
            point.at_home += int(home)
        out.children.append(
            EdgeOfCareChild(
                intervention_id=intervention.id,
                case_id=intervention.case_id,
                child_id=person.id,
                child_name=f"{person.first_name} {person.last_name}",
                end_date=intervention.end_date,
                outcome=intervention.outcome,
                at_home=at_home,
            )
        )
        shown.setdefault(person.id, intervention.case_id)
    for child, case_id in shown.items():
        access_log_append(
            session,
            principal=actor,
            action="list",
            resource="edge_of_care_outcomes",
            person_id=child,
            case_id=case_id,
        )
    return out
