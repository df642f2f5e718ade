"""The DfE children's social care data API payload: the nightly child-level JSON feed.

Specification: the ``data-to-insight/dfe-csc-api-data-flows`` repository (DfE spec v0.7-v0.9;
the structure in ``docs/json_payload_structure.md``, the delta and purge rules in
``api_pipeline/payload.py``); our model of it is :mod:`app.returns.csc_api_schema`, and every
payload is checked against it before it leaves this module.

What is sent, and when:

- **Cohort.** As the DfE's early-adopter window: children with a social care episode (a case with
  a referral: the CIN episode) open at any time from the start of the financial year 24 months ago
  until today. A child without an LA child id cannot be keyed by the DfE and is never sent.
- **Delta.** With ``since``, only children whose record changed at or after that instant are
  sent (at-or-after: sending a record twice is harmless, missing a change is not). "Changed" is
  read from ``updated_at`` of every row the payload is built from (the person, address, case,
  referral, assessment, plans, s47 enquiry and conference, period of care, legal status,
  placement, adoption decision, leaving-care contact, UASC status, SDQ), an allocation starting or
  ending, and the person's change log. As the spec's partial payloads do, a changed child carries
  its identifiers and ``child_details`` (required fields) and, of its episodes, only those whose
  own fields or records changed, each with only its changed records. Casework never deletes an
  episode or a record (corrections are edits, re-sent under the same id), so every ``purge`` below
  the child is ``false``.
- **Purge.** A restricted record (a staff member's child; a child whose identity is sealed on
  adoption) is never sent: it appears only as ``{"la_child_id", "mis_child_id", "purge": true}``
  so that the DfE deletes whatever it holds for that child. In a delta, that is every restricted
  child whose record changed since ``since`` (restricting a record changes it); in a full payload,
  every restricted child of the cohort. A purge the DfE has already applied is a no-op. When a
  restriction is lifted, the next delta sends that child whole, as a full payload would, since
  the DfE deleted what it had.

Choices where the spec is silent: ``mis_child_id`` is Casework's person id; the episode id is the
case id; ``child_looked_after_placements`` are the SSDA903 episodes (:mod:`app.care.episodes`), so
that ``start_reason`` (RNE), ``end_reason`` (REC) and ``change_reason`` agree with the SSDA903
return; ``worker_id`` is the Social Work England registration number (workers without one are left
out); ``care_leavers`` is the latest leaving-care contact and ``adoption`` the latest adoption
decision of the episode; ``unique_pupil_number_unknown_reason`` is not recorded by Casework.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import CompoundSelect, Select, and_, or_, select, union
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from app import clock
from app.calendar import add_months
from app.care.episodes import Episode, derive_episodes
from app.config import Settings
from app.models.assessments import Assessment
from app.models.audit import ChangeLog
from app.models.care import LegalStatusRecord, PeriodOfCare, Placement
from app.models.cases import Allocation, Case
from app.models.cin import CINPlan
from app.models.frontdoor import Referral, ReferralDecision
from app.models.health import SDQRecord
from app.models.leavingcare import LeavingCareContact
from app.models.org import UserAccount
from app.models.people import Address, Person, PersonKind
from app.models.permanence import AdoptionDecision, UascStatus
from app.models.protection import ConferenceKind, CPConference, CPPlan, S47Enquiry, S47Outcome
from app.returns.common import CollectionYear
from app.returns.csc_api_schema import validate_csc_api_payload
from app.returns.imports.common import PLACEHOLDER_FIRST_NAME, placeholder_last_name

__all__ = ["COHORT_MONTHS", "build_csc_api_payload", "cohort_window_start"]

#: The DfE early-adopter window: back this many months, to the start of that financial year.
COHORT_MONTHS = 24
#: Ids per IN list: well under SQLite's and PostgreSQL's bound-parameter limits.
_CHUNK = 2000
#: Namespace of the looked-after episode ids (stable: one legal status and one placement).
_CLA_EPISODE_NAMESPACE = uuid.UUID("6f1f7c2e-2f3b-4a0e-9a57-1d1b8f0c5a31")

_T = TypeVar("_T")


def cohort_window_start(today: date) -> date:
    """1 April of the financial year that held the day ``COHORT_MONTHS`` months ago."""
    return CollectionYear.containing(add_months(today, -COHORT_MONTHS)).start


# --- which children ----------------------------------------------------------------------------


def _episodes_in_window(start: date, today: date) -> Select[uuid.UUID]:
    """Children with a CIN episode (a referred case) open at some time in the window."""
    return (
        select(Case.child_id)
        .join(Referral, Referral.case_id == Case.id)
        .where(
            Referral.referral_date <= today,
            or_(Case.closed_date.is_(None), Case.closed_date >= start),
        )
    )


#: The records the payload is built from, each with ``child_id`` and ``updated_at``. Their own
#: ``updated_at`` (set on every insert and update) says the payload changed more exactly than the
#: chronology would: a case event is also written for a visit or a note the DfE never receives.
_CHILD_TABLES: tuple[Any, ...] = (
    Case,
    Referral,
    Assessment,
    CINPlan,
    S47Enquiry,
    CPConference,
    CPPlan,
    PeriodOfCare,
    LegalStatusRecord,
    Placement,
    AdoptionDecision,
    LeavingCareContact,
    UascStatus,
    SDQRecord,
)


def _changed_since(since: datetime) -> CompoundSelect[uuid.UUID]:
    """Ids of the people whose payload may have changed at or after ``since`` (one UNION)."""
    parts: list[Select[uuid.UUID]] = [
        select(Person.id).where(Person.updated_at >= since),
        select(Address.person_id).where(Address.updated_at >= since),
        select(ChangeLog.entity_id).where(
            ChangeLog.entity_type == "person", ChangeLog.occurred_at >= since
        ),
        select(Case.child_id)
        .join(Allocation, Allocation.case_id == Case.id)
        .where(or_(Allocation.started_at >= since, Allocation.ended_at >= since)),
    ]
    parts += [select(t.child_id).where(t.updated_at >= since) for t in _CHILD_TABLES]
    return union(*parts)


def _unrestricted_since(session: Session, since: datetime) -> set[uuid.UUID]:
    """People whose restriction was lifted at or after ``since`` (``person_restriction_lift``)."""
    return set(
        session.scalars(
            select(ChangeLog.entity_id).where(
                ChangeLog.entity_type == "person",
                ChangeLog.action == "unrestrict",
                ChangeLog.occurred_at >= since,
            )
        )
    )


def _children(
    session: Session, *, since: datetime | None, window_start: date, today: date
) -> list[Person]:
    in_cohort = Person.id.in_(_episodes_in_window(window_start, today))
    conditions = [Person.kind == PersonKind.child, Person.la_child_id.is_not(None)]
    if since is None:
        conditions.append(in_cohort)
    else:
        # A restricted child is purged even outside the window: it may have been sent before.
        changed = _changed_since(since).subquery()
        conditions += [Person.id.in_(select(changed.c[0])), or_(in_cohort, Person.is_restricted)]
    return list(session.scalars(select(Person).where(*conditions).order_by(Person.la_child_id)))


# --- loading the records, set-based ------------------------------------------------------------


def _chunked(
    session: Session,
    ids: Sequence[uuid.UUID],
    statement: Callable[[Sequence[uuid.UUID]], Select[_T]],
) -> list[_T]:
    rows: list[_T] = []
    for i in range(0, len(ids), _CHUNK):
        rows.extend(session.scalars(statement(ids[i : i + _CHUNK])))
    return rows


def _chunked_rows(
    session: Session,
    ids: Sequence[uuid.UUID],
    statement: Callable[[Sequence[uuid.UUID]], Executable],
) -> list[Any]:
    rows: list[Any] = []
    for i in range(0, len(ids), _CHUNK):
        rows.extend(session.execute(statement(ids[i : i + _CHUNK])).all())
    return rows


def _by(items: Iterable[_T], key: Callable[[_T], uuid.UUID]) -> dict[uuid.UUID, list[_T]]:
    grouped: dict[uuid.UUID, list[_T]] = defaultdict(list)
    for item in items:
        grouped[key(item)].append(item)
    return grouped


@dataclass(frozen=True)
class _Worker:
    swe_number: str
    start: date
    end: date | None
    changed_at: datetime


@dataclass
class _Records:
    """Everything the payload needs about the children being sent, grouped by child or case."""

    cases: dict[uuid.UUID, list[tuple[Case, Referral]]] = field(default_factory=dict)
    workers: dict[uuid.UUID, list[_Worker]] = field(default_factory=dict)
    assessments: dict[uuid.UUID, list[Assessment]] = field(default_factory=dict)
    cin_plans: dict[uuid.UUID, list[CINPlan]] = field(default_factory=dict)
    s47s: dict[uuid.UUID, list[tuple[S47Enquiry, CPConference | None]]] = field(
        default_factory=dict
    )
    cp_plans: dict[uuid.UUID, list[CPPlan]] = field(default_factory=dict)
    periods: dict[uuid.UUID, list[PeriodOfCare]] = field(default_factory=dict)
    statuses: dict[uuid.UUID, list[LegalStatusRecord]] = field(default_factory=dict)
    placements: dict[uuid.UUID, list[Placement]] = field(default_factory=dict)
    adoptions: dict[uuid.UUID, list[AdoptionDecision]] = field(default_factory=dict)
    leaving_care: dict[uuid.UUID, list[LeavingCareContact]] = field(default_factory=dict)
    uasc: dict[uuid.UUID, UascStatus] = field(default_factory=dict)
    sdqs: dict[uuid.UUID, list[SDQRecord]] = field(default_factory=dict)
    addresses: dict[uuid.UUID, list[Address]] = field(default_factory=dict)


def _load(
    session: Session, child_ids: Sequence[uuid.UUID], *, window_start: date, today: date
) -> _Records:
    """One query per kind of record (chunked by ids), whatever the number of children."""
    records = _Records()
    case_rows = _chunked_rows(
        session,
        child_ids,
        lambda ids: (
            select(Case, Referral)
            .join(Referral, Referral.case_id == Case.id)
            .where(
                Case.child_id.in_(ids),
                Referral.referral_date <= today,
                or_(Case.closed_date.is_(None), Case.closed_date >= window_start),
            )
        ),
    )
    records.cases = _by(((c, r) for c, r in case_rows), lambda row: row[0].child_id)
    case_ids = [case.id for case, _ in case_rows]

    worker_rows = _chunked_rows(
        session,
        case_ids,
        lambda ids: (
            select(Allocation, UserAccount.swe_registration_number)
            .join(UserAccount, UserAccount.id == Allocation.worker_id)
            .where(Allocation.case_id.in_(ids), UserAccount.swe_registration_number.is_not(None))
        ),
    )
    workers: dict[uuid.UUID, list[_Worker]] = defaultdict(list)
    for allocation, swe_number in worker_rows:
        workers[allocation.case_id].append(
            _Worker(
                swe_number=swe_number,
                start=allocation.started_at.date(),
                end=allocation.ended_at.date() if allocation.ended_at else None,
                changed_at=max(filter(None, (allocation.started_at, allocation.ended_at))),
            )
        )
    records.workers = workers

    records.assessments = _by(
        _chunked(
            session, case_ids, lambda ids: select(Assessment).where(Assessment.case_id.in_(ids))
        ),
        lambda a: a.case_id,
    )
    records.cin_plans = _by(
        _chunked(session, case_ids, lambda ids: select(CINPlan).where(CINPlan.case_id.in_(ids))),
        lambda p: p.case_id,
    )
    s47_rows = _chunked_rows(
        session,
        case_ids,
        lambda ids: (
            select(S47Enquiry, CPConference)
            .outerjoin(
                CPConference,
                and_(
                    CPConference.s47_enquiry_id == S47Enquiry.id,
                    CPConference.kind == ConferenceKind.initial,
                ),
            )
            .where(S47Enquiry.case_id.in_(ids))
        ),
    )
    records.s47s = _by(((s, c) for s, c in s47_rows), lambda row: row[0].case_id)
    records.cp_plans = _by(
        _chunked(session, case_ids, lambda ids: select(CPPlan).where(CPPlan.case_id.in_(ids))),
        lambda p: p.case_id,
    )
    periods = _chunked(
        session, case_ids, lambda ids: select(PeriodOfCare).where(PeriodOfCare.case_id.in_(ids))
    )
    records.periods = _by(periods, lambda p: p.case_id)
    period_ids = [p.id for p in periods]
    records.statuses = _by(
        _chunked(
            session,
            period_ids,
            lambda ids: select(LegalStatusRecord).where(LegalStatusRecord.period_id.in_(ids)),
        ),
        lambda s: s.period_id,
    )
    records.placements = _by(
        _chunked(
            session, period_ids, lambda ids: select(Placement).where(Placement.period_id.in_(ids))
        ),
        lambda p: p.period_id,
    )
    records.adoptions = _by(
        _chunked(
            session,
            case_ids,
            lambda ids: select(AdoptionDecision).where(AdoptionDecision.case_id.in_(ids)),
        ),
        lambda a: a.case_id,
    )
    records.leaving_care = _by(
        _chunked(
            session,
            case_ids,
            lambda ids: select(LeavingCareContact).where(LeavingCareContact.case_id.in_(ids)),
        ),
        lambda c: c.case_id,
    )
    records.uasc = {
        u.child_id: u
        for u in _chunked(
            session, child_ids, lambda ids: select(UascStatus).where(UascStatus.child_id.in_(ids))
        )
    }
    records.sdqs = _by(
        _chunked(
            session,
            child_ids,
            lambda ids: select(SDQRecord).where(
                SDQRecord.child_id.in_(ids), SDQRecord.score.is_not(None)
            ),
        ),
        lambda s: s.child_id,
    )
    records.addresses = _by(
        _chunked(
            session,
            child_ids,
            lambda ids: select(Address).where(
                Address.person_id.in_(ids), Address.end_date.is_(None)
            ),
        ),
        lambda a: a.person_id,
    )
    return records


# --- shaping the payload -----------------------------------------------------------------------


def _wire(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list):
        return [_wire(v) for v in value]
    return value


def _compact(**fields: Any) -> dict[str, Any]:
    """The fields in the spec's order, absent ones left out (the feed never sends null or [])."""
    return {k: _wire(v) for k, v in fields.items() if v is not None and v != []}


class _Delta:
    """Whether a record is sent: always in a full payload, in a delta when changed since."""

    def __init__(self, since: datetime | None) -> None:
        self.since = since

    def fresh(self, *stamps: datetime | None) -> bool:
        return self.since is None or any(s is not None and s >= self.since for s in stamps)


def _child_details(person: Person, records: _Records) -> dict[str, Any]:
    la_child_id = person.la_child_id or ""
    current = sorted(
        records.addresses.get(person.id, []), key=lambda a: (a.start_date, a.created_at)
    )
    uasc = records.uasc.get(person.id)
    # Names are part of the DfE spec (fields 6, 7); a migrated child's placeholder name is not.
    first_name = None if person.first_name == PLACEHOLDER_FIRST_NAME else person.first_name
    surname = None if person.last_name == placeholder_last_name(la_child_id) else person.last_name
    return _compact(
        unique_pupil_number=person.upn,
        former_unique_pupil_number=person.former_upn,
        first_name=first_name,
        surname=surname,
        date_of_birth=person.date_of_birth,
        expected_date_of_birth=person.expected_date_of_birth if not person.date_of_birth else None,
        sex=person.sex,
        ethnicity=person.ethnicity,
        disabilities=sorted(str(d) for d in person.disabilities or []),
        postcode=current[-1].postcode if current else None,
        uasc_flag=uasc is not None,
        uasc_end_date=uasc.ceased_date if uasc is not None else None,
        purge=False,
    )


def _health(person: Person, records: _Records, delta: _Delta) -> dict[str, Any] | None:
    sdqs = sorted(records.sdqs.get(person.id, []), key=lambda s: (s.completed_date, str(s.id)))
    if not sdqs or not delta.fresh(*(s.updated_at for s in sdqs)):
        return None
    # The block is sent whole (it has no ids to diff by), as the spec's partial payloads do.
    return _compact(
        sdq_assessments=[{"date": s.completed_date.isoformat(), "score": s.score} for s in sdqs],
        purge=False,
    )


def _cla_episode_id(episode: Episode) -> str:
    return str(
        uuid.uuid5(_CLA_EPISODE_NAMESPACE, f"{episode.legal_status_id}/{episode.placement_id}")
    )


def _looked_after(
    person: Person, case: Case, records: _Records, delta: _Delta
) -> list[dict[str, Any]]:
    placements: list[dict[str, Any]] = []
    for period in sorted(records.periods.get(case.id, []), key=lambda p: (p.start_date, str(p.id))):
        statuses = records.statuses.get(period.id, [])
        moves = records.placements.get(period.id, [])
        if not statuses or not moves:
            continue  # not a period the care service can have written; nothing to derive
        by_status = {s.id: s for s in statuses}
        by_placement = {p.id: p for p in moves}
        episodes = derive_episodes(
            period=period, child=person, legal_statuses=statuses, placements=moves
        )
        for episode in episodes:
            status, placement = (
                by_status[episode.legal_status_id],
                by_placement[episode.placement_id],
            )
            if not delta.fresh(period.updated_at, status.updated_at, placement.updated_at):
                continue
            placements.append(
                _compact(
                    child_looked_after_placement_id=_cla_episode_id(episode),
                    start_date=episode.decom,
                    start_reason=episode.rne,
                    placement_type=episode.place,
                    postcode=episode.pl_post,
                    end_date=episode.dec,
                    end_reason=episode.rec if episode.dec is not None else None,
                    change_reason=episode.reason_place_change,
                    purge=False,
                )
            )
    return placements


def _s47(enquiry: S47Enquiry, conference: CPConference | None) -> dict[str, Any]:
    required = None if enquiry.outcome is None else enquiry.outcome == S47Outcome.icpc_required
    return _compact(
        section_47_assessment_id=enquiry.id,
        start_date=enquiry.start_date,
        icpc_required_flag=required,
        icpc_date=conference.conference_date if conference is not None else None,
        end_date=enquiry.concluded_date,
        purge=False,
    )


def _latest(items: Iterable[_T], key: Callable[[_T], Any]) -> _T | None:
    ordered = sorted(items, key=key)
    return ordered[-1] if ordered else None


def _episode(
    person: Person, case: Case, referral: Referral, records: _Records, delta: _Delta
) -> dict[str, Any] | None:
    """The CIN episode with its records; in a delta, only what changed (None: nothing did)."""
    workers = sorted(records.workers.get(case.id, []), key=lambda w: (w.start, w.swe_number))
    care_workers = (
        [_compact(worker_id=w.swe_number, start_date=w.start, end_date=w.end) for w in workers]
        if delta.fresh(*(w.changed_at for w in workers))
        else []
    )
    assessments = [
        _compact(
            child_and_family_assessment_id=a.id,
            start_date=a.start_date,
            authorisation_date=a.authorised_date,
            factors=sorted(str(f) for f in a.factors or []),
            purge=False,
        )
        for a in sorted(
            records.assessments.get(case.id, []), key=lambda a: (a.start_date, str(a.id))
        )
        if delta.fresh(a.updated_at)
    ]
    cin_plans = [
        _compact(
            child_in_need_plan_id=p.id, start_date=p.start_date, end_date=p.end_date, purge=False
        )
        for p in sorted(records.cin_plans.get(case.id, []), key=lambda p: (p.start_date, str(p.id)))
        if delta.fresh(p.updated_at)
    ]
    s47s = [
        _s47(enquiry, conference)
        for enquiry, conference in sorted(
            records.s47s.get(case.id, []), key=lambda row: (row[0].start_date, str(row[0].id))
        )
        if delta.fresh(enquiry.updated_at, conference.updated_at if conference else None)
    ]
    cp_plans = [
        _compact(
            child_protection_plan_id=p.id, start_date=p.start_date, end_date=p.end_date, purge=False
        )
        for p in sorted(records.cp_plans.get(case.id, []), key=lambda p: (p.start_date, str(p.id)))
        if delta.fresh(p.updated_at)
    ]
    looked_after = _looked_after(person, case, records, delta)
    decision = _latest(
        records.adoptions.get(case.id, []), key=lambda a: (a.decision_date, a.created_at)
    )
    adoption = (
        _compact(
            initial_decision_date=decision.decision_date,
            matched_date=decision.matched_date,
            placed_date=decision.placed_date,
            purge=False,
        )
        if decision is not None and delta.fresh(decision.updated_at)
        else None
    )
    contact = _latest(
        records.leaving_care.get(case.id, []), key=lambda c: (c.contact_date, c.created_at)
    )
    care_leavers = (
        _compact(
            contact_date=contact.contact_date,
            activity=contact.activity,
            accommodation=contact.accommodation,
            purge=False,
        )
        if contact is not None and delta.fresh(contact.updated_at)
        else None
    )
    changed_below = any(
        (care_workers, assessments, cin_plans, s47s, cp_plans, looked_after, adoption, care_leavers)
    )
    if not delta.fresh(case.updated_at, referral.updated_at) and not changed_below:
        return None
    nfa = (
        None
        if referral.decision is None
        else referral.decision == ReferralDecision.no_further_action
    )
    return _compact(
        social_care_episode_id=case.id,
        referral_date=referral.referral_date,
        referral_source=referral.source,
        referral_no_further_action_flag=nfa,
        closure_date=case.closed_date,
        closure_reason=case.closure_reason,
        care_worker_details=care_workers,
        child_and_family_assessments=assessments,
        child_in_need_plans=cin_plans,
        section_47_assessments=s47s,
        child_protection_plans=cp_plans,
        child_looked_after_placements=looked_after,
        adoption=adoption,
        care_leavers=care_leavers,
        purge=False,
    )


def _child(person: Person, records: _Records, delta: _Delta) -> dict[str, Any]:
    episodes = [
        episode
        for case, referral in sorted(
            records.cases.get(person.id, []), key=lambda row: (row[1].referral_date, str(row[0].id))
        )
        if (episode := _episode(person, case, referral, records, delta)) is not None
    ]
    return _compact(
        la_child_id=person.la_child_id,
        mis_child_id=person.id,
        purge=False,
        child_details=_child_details(person, records),
        health_and_wellbeing=_health(person, records, delta),
        social_care_episodes=episodes,
    )


def _purge_marker(person: Person) -> dict[str, Any]:
    """What the spec sends for a child the DfE must delete: identifiers and ``purge: true``."""
    return {"la_child_id": person.la_child_id, "mis_child_id": str(person.id), "purge": True}


def build_csc_api_payload(
    session: Session, *, since: datetime | None, settings: Settings
) -> dict[str, Any]:
    """The child-level payload for the DfE's children's social care data API.

    ``since`` None: every child of the cohort (a full refresh). Otherwise the delta: the children
    whose record changed at or after ``since``, each with only its changed episodes and records,
    and a purge marker for each changed restricted record (module docstring). Deterministic:
    children in LA child id order, episodes and records by date then id. The payload is checked
    against :mod:`app.returns.csc_api_schema`; a record that breaks the spec raises
    ``CscApiPayloadInvalid`` naming where. No access checks and no access log: the caller (the
    ``casework returns csc-api`` command, a data officer's job) is the export.
    """
    if since is not None and since.tzinfo is None:
        raise ValueError("since needs a time zone (an aware datetime), e.g. 2026-11-27T00:00Z.")
    today = clock.today()
    window_start = cohort_window_start(today)
    people = _children(session, since=since, window_start=window_start, today=today)
    sent = [p for p in people if not p.is_restricted]
    records = _load(session, [p.id for p in sent], window_start=window_start, today=today)
    delta, whole = _Delta(since), _Delta(None)
    resend = _unrestricted_since(session, since) if since is not None else set()
    children = [
        _purge_marker(person)
        if person.is_restricted
        else _child(person, records, whole if person.id in resend else delta)
        for person in people
    ]
    payload: dict[str, Any] = {"la_code": int(settings.la_code), "Children": children}
    validate_csc_api_payload(payload)
    return payload
