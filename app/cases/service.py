"""Cases: open one when a contact arrives, move it through its states, allocate it, read its story.

Every state change goes through :func:`app.workflow.engine.apply` with the case's machine
(``app.cases.workflow.CASE_MACHINE``); every read of a case writes ``access_log``; every query
starts from the children the caller may see, so a restricted child's cases are a 404 to anyone not
named on the record.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from app import clock
from app.api.pagination import decode_cursor, encode_cursor
from app.audit.service import access_log_append, case_event_append, diff
from app.calendar import LONDON
from app.care.workflow import LOOKED_AFTER as PERIOD_LOOKED_AFTER
from app.cases.codes import FIRST_CONTACT, SWReason
from app.cases.workflow import CASE_MACHINE, CLOSED
from app.config import Settings, get_settings
from app.deadlines import rules
from app.deadlines import service as deadline_service
from app.errors import Conflict, Invalid, NotFound
from app.models.audit import CaseEvent
from app.models.care import PeriodOfCare
from app.models.cases import Allocation, Case
from app.models.org import Team, TeamMembership, UserAccount
from app.models.people import Person, PersonKind
from app.security.access import (
    get_person_for_read,
    may_change_case,
    person_denied,
    person_visible,
    readable_people,
    require_case_change,
)
from app.security.principal import Principal
from app.workflow import engine
from app.workflow.engine import Transition

CASE_NOT_VISIBLE = "There is no case with this id that you can see."
RAG_VALUES = ("red", "amber", "green")


# --- loading -----------------------------------------------------------------------------------


def case_visible(session: Session, *, actor: Principal, case_id: uuid.UUID) -> Case:
    """The case, if its child is visible to the caller (404 otherwise), without logging a read."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(CASE_NOT_VISIBLE)
    if session.scalar(readable_people(actor).where(Person.id == case.child_id)) is None:
        raise person_denied(session, principal=actor, person_id=case.child_id, resource="case")
    return case


def refuse_after_death(session: Session, *, case: Case, field: str, when: date) -> None:
    """Nothing is recorded as happening to a child after their death (CIN census: no activity
    after PersonDeathDate): 422 on ``field``."""
    died = session.scalar(select(Person.date_of_death).where(Person.id == case.child_id))
    if died is not None and when > died:
        raise Invalid.field(
            field,
            f"This date is after the child's death ({died.isoformat()}).",
            rule="no activity after PersonDeathDate",
        )


def case_closed_error(session: Session, case: Case) -> Conflict:
    """The 409 for writing on a closed case (CIN census rule 8565); when the episode ended at a
    referral with no further action, the rules that say so too (8831/8832: no assessment, plan or
    enquiry on an NFA referral; 4000)."""
    # The case's closing event says how the episode ended (the case machine's referral_nfa).
    closed_by = session.scalar(
        select(CaseEvent.action)
        .where(CaseEvent.case_id == case.id, CaseEvent.to_state == CLOSED)
        .order_by(CaseEvent.seq.desc())
        .limit(1)
    )
    rules = (
        "CIN census rules 8565, 8831/8832 and 4000: nothing follows a referral closed with no "
        "further action"
        if closed_by == "referral_nfa"
        else "CIN census rule 8565"
    )
    return Conflict(
        f"This case is closed: nothing is recorded after closure ({rules}); a new contact opens "
        "a new case.",
        code="case_closed",
    )


def case_for_change(
    session: Session, *, actor: Principal, case_id: uuid.UUID, refuse_closed: bool = False
) -> Case:
    """The case a record is about to be written on: its child visible (404), the caller one who
    may change it (403), and — with ``refuse_closed`` — still open (409: nothing is recorded
    after closure, CIN census rule 8565). Every module that writes on a case loads it here."""
    case = case_visible(session, actor=actor, case_id=case_id)
    require_case_change(actor, case)
    if refuse_closed and case.state == CLOSED:
        raise case_closed_error(session, case)
    return case


def require_child_change(session: Session, *, actor: Principal, child_id: uuid.UUID) -> None:
    """403 unless the caller may change the child's records: decided on the child's open case
    (the latest opened), or — with none open, e.g. a care leaver — the case that closed last.
    Called before a 409 about the child ("no open case", "not looked after"), which would
    otherwise tell a caller who may not write what state the child is in (OWASP API1). A child
    with no case at all is refused by nothing here: the caller's 409 follows."""
    case = session.scalar(
        select(Case)
        .where(Case.child_id == child_id)
        .order_by((Case.state == CLOSED).asc(), Case.opened_date.desc(), Case.created_at.desc())
        .limit(1)
    )
    if case is not None:
        require_case_change(actor, case)


def case_for_read(session: Session, *, actor: Principal, case_id: uuid.UUID, resource: str) -> Case:
    """The case, if its child is visible (404 otherwise), recording the read in access_log."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(CASE_NOT_VISIBLE)
    get_person_for_read(
        session, principal=actor, person_id=case.child_id, resource=resource, case_id=case.id
    )
    return case


def _current_member(session: Session, *, team_id: uuid.UUID, worker_id: uuid.UUID) -> bool:
    today = clock.today()
    return (
        session.scalar(
            select(
                exists().where(
                    TeamMembership.team_id == team_id,
                    TeamMembership.user_id == worker_id,
                    TeamMembership.start_date <= today,
                    or_(TeamMembership.end_date.is_(None), TeamMembership.end_date >= today),
                    UserAccount.id == TeamMembership.user_id,
                    UserAccount.is_active.is_(True),
                )
            )
        )
        is True
    )


def _check_team_and_worker(
    session: Session, *, team_id: uuid.UUID, worker_id: uuid.UUID | None
) -> None:
    team = session.get(Team, team_id)
    if team is None or not team.is_active:
        raise Invalid.field("team_id", "There is no active team with this id.")
    if worker_id is not None and not _current_member(session, team_id=team_id, worker_id=worker_id):
        raise Invalid.field("worker_id", "The worker must be a current member of the team.")


def _looked_after(session: Session, *, child_id: uuid.UUID) -> bool:
    """Whether the child has a period of care that has not ceased."""
    return (
        session.scalar(
            select(
                exists().where(
                    PeriodOfCare.child_id == child_id, PeriodOfCare.state == PERIOD_LOOKED_AFTER
                )
            )
        )
        is True
    )


def _previous_worker(session: Session, *, case: Case) -> uuid.UUID | None:
    """The last worker who held the case (the current one, or the last before it went
    unallocated), None if it never had one."""
    if case.allocated_worker_id is not None:
        return case.allocated_worker_id
    return session.scalar(
        select(Allocation.worker_id)
        .where(Allocation.case_id == case.id, Allocation.worker_id.is_not(None))
        .order_by(Allocation.started_at.desc(), Allocation.id.desc())
        .limit(1)
    )


def _check_sw_reason(
    session: Session, *, case: Case, worker_id: uuid.UUID | None, sw_reason: SWReason | None
) -> None:
    """SSDA903 SWEpisodes: a reason belongs to a new worker's episode (SW13/SW15), FCONTA only to
    an involvement's first worker (SW10a/SW10b)."""
    new_worker = worker_id is not None and worker_id != case.allocated_worker_id
    if sw_reason is not None and not new_worker:
        raise Invalid.field(
            "sw_reason",
            "A reason for a change of social worker is given only when a new worker is "
            "allocated: it says why that worker's episode started.",
            rule="SSDA903 SW_REASON (SW13)",
        )
    if not new_worker:
        return
    previous = _previous_worker(session, case=case)
    if previous is None:
        return  # the case's first worker: FCONTA is derived
    if sw_reason is FIRST_CONTACT:
        raise Invalid.field(
            "sw_reason",
            "FCONTA (first contact) is the reason of an involvement's first worker; a change of "
            "worker gives the reason for the change (SSDA903 SW10a/SW10b).",
            rule="SSDA903 SW10b",
        )
    if sw_reason is None and _looked_after(session, child_id=case.child_id):
        raise Invalid.field(
            "sw_reason",
            "This child is looked after: say why the social worker is changing (SSDA903 "
            "SW_REASON; validator rules SW03 and SW15 need it on every episode).",
            rule="SSDA903 SW15",
        )


# --- writes ------------------------------------------------------------------------------------


def case_open(
    session: Session,
    *,
    actor: Principal,
    child_id: uuid.UUID,
    team_id: uuid.UUID,
    opened_date: date,
    rag: str = "amber",
    worker_id: uuid.UUID | None = None,
    summary: str | None = None,
    settings: Settings | None = None,
    received_at: datetime | None = None,
) -> Case:
    """A contact about a child: open a case in ``contact``, allocate it, and start the clock on
    the contact decision (timescales rule 1, by RAG rating) from ``received_at`` — when the
    contact came in, which may be earlier than when it is typed up.

    One open case per child (CIN census rules 8815/8816: one open episode): a contact about a
    child whose case is open belongs on that case, so a second one is a 409 naming it.
    """
    settings = settings or get_settings()
    if rag not in RAG_VALUES:
        raise Invalid.field("rag", "The RAG rating must be red, amber or green.")
    today = clock.today()
    if opened_date > today:
        raise Invalid.field("opened_date", "A contact cannot be received in the future.")
    child = session.scalar(readable_people(actor).where(Person.id == child_id))
    if child is None:
        raise person_denied(session, principal=actor, person_id=child_id, resource="case_open")
    if child.kind is not PersonKind.child:
        raise Invalid.field("child_id", "A case is about a child; this person is an adult.")
    _check_team_and_worker(session, team_id=team_id, worker_id=worker_id)
    case = Case(
        id=uuid.uuid4(),
        child_id=child.id,
        opened_date=opened_date,
        team_id=team_id,
        allocated_worker_id=worker_id,
        summary=summary,
    )
    require_case_change(actor, case)
    already_open = session.scalar(
        select(Case.id).where(Case.child_id == child.id, Case.state != CLOSED).limit(1)
    )
    if already_open is not None:
        raise Conflict(
            f"This child already has an open case ({already_open}); record the contact there "
            "(CIN census rules 8815/8816: one open episode at a time).",
            code="case_already_open",
            existing_case_id=str(already_open),
        )
    session.add(case)
    engine.start(
        session,
        machine=CASE_MACHINE,
        record=case,
        actor=actor,
        case_id=case.id,
        child_id=child.id,
        action="case_opened",
        data={
            "team_id": team_id,
            "worker_id": worker_id,
            "opened_date": opened_date,
            "rag": rag,
            "summary": summary,
        },
    )
    session.add(
        Allocation(
            case_id=case.id,
            team_id=team_id,
            worker_id=worker_id,
            reason="case opened",
            allocated_by_id=actor.user_id,
        )
    )
    # Rule 1 counts from when the contact came in: as given; else now, for a contact recorded the
    # day it arrives, or the start of that working day for one recorded late.
    if received_at is None:
        received_at = (
            clock.now()
            if opened_date == today
            else datetime.combine(opened_date, rules.WORKDAY_START, LONDON)
        )
    elif received_at.astimezone(LONDON).date() != opened_date:
        raise Invalid.field("received_at", "The contact was received on another day.")
    due = rules.contact_decision_due(
        received_at,
        rag,
        red_hours=settings.contact_decision_red_hours,
        amber_days=settings.contact_decision_amber_days,
        green_days=settings.contact_decision_green_days,
    )
    deadline_service.deadline_open(
        session,
        rule=rules.CONTACT_DECISION,
        subject_type="case",
        subject_id=case.id,
        case_id=case.id,
        child_id=child.id,
        start_date=opened_date,
        due_date=due.due_date,
        due_at=due.due_at,
    )
    session.flush()
    return case


def case_transition(
    session: Session,
    *,
    actor: Principal,
    case_id: uuid.UUID,
    event: str,
    expected_version: int,
    reason: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> Case:
    """Take ``event`` on the case through the workflow engine (see ``app.cases.workflow``)."""
    case = case_visible(session, actor=actor, case_id=case_id)
    # Who may change the case first: a 412 to another team would disclose its version (OWASP API1).
    require_case_change(actor, case)
    engine.require_version(case, expected_version)
    engine.apply(
        session,
        machine=CASE_MACHINE,
        record=case,
        event=event,
        actor=actor,
        expected_version=expected_version,
        reason=reason,
        data=data,
        case_id=case.id,
        child_id=case.child_id,
    )
    return case


def case_allocate(
    session: Session,
    *,
    actor: Principal,
    case_id: uuid.UUID,
    expected_version: int,
    team_id: uuid.UUID,
    worker_id: uuid.UUID | None = None,
    reason: str | None = None,
    sw_reason: SWReason | None = None,
) -> Case:
    """Allocate the case to a team (a transfer, when it is another team) and optionally a worker:
    the current allocation ends and a new one starts; the chronology records who and why.

    ``sw_reason`` is the SSDA903 reason for a change of social worker (SW_REASON), kept on the
    allocation that starts the new worker's episode: required when a looked-after child gets a
    new worker (validator rules SW03/SW15), refused when the worker does not change, and never
    FCONTA for a change (SW10b: first contact starts after the last episode ended). A worker with
    no Social Work England number is allocated all the same: their episodes carry the flag
    ``sw_id_missing`` until the number is on their account (see
    :func:`social_worker_episodes_for_child`)."""
    case = case_visible(session, actor=actor, case_id=case_id)
    engine.require_version(case, expected_version)
    require_case_change(actor, case)
    if case.state == CLOSED:
        raise Conflict("This case is closed; a new contact opens a new case.", code="case_closed")
    _check_team_and_worker(session, team_id=team_id, worker_id=worker_id)
    before = {"team_id": case.team_id, "allocated_worker_id": case.allocated_worker_id}
    after = {"team_id": team_id, "allocated_worker_id": worker_id}
    changes = diff(before, after)
    if not changes:
        raise Conflict("The case is already allocated to this team and worker.")
    _check_sw_reason(session, case=case, worker_id=worker_id, sw_reason=sw_reason)
    if sw_reason is not None:
        changes["sw_reason"] = sw_reason.value
    now = clock.now()
    for current in session.scalars(
        select(Allocation).where(Allocation.case_id == case.id, Allocation.ended_at.is_(None))
    ):
        current.ended_at = now
    allocation = Allocation(
        id=uuid.uuid4(),
        case_id=case.id,
        team_id=team_id,
        worker_id=worker_id,
        started_at=now,
        reason=reason,
        allocated_by_id=actor.user_id,
        sw_reason=sw_reason,
    )
    session.add(allocation)
    case.team_id = team_id
    case.allocated_worker_id = worker_id
    case_event_append(
        session,
        case_id=case.id,
        child_id=case.child_id,
        actor=actor,
        action="allocated",
        subject_type="case",
        subject_id=case.id,
        reason=reason,
        changes=changes,
        occurred_at=now,
    )
    session.flush()
    return case


# --- reads -------------------------------------------------------------------------------------


def case_get(session: Session, *, actor: Principal, case_id: uuid.UUID) -> Case:
    """The case, if its child is visible to the caller; the read is written to access_log."""
    return case_for_read(session, actor=actor, case_id=case_id, resource="case")


def case_allowed_events(actor: Principal, case: Case) -> list[Transition]:
    """What the caller may do next: nothing on another team's case, else their role's events."""
    if not may_change_case(actor, case):
        return []
    return engine.allowed_events(CASE_MACHINE, case.state, actor.role)


def case_allocations(session: Session, *, actor: Principal, case_id: uuid.UUID) -> list[Allocation]:
    """Who held the case when, oldest first (the read is access-logged)."""
    case = case_for_read(session, actor=actor, case_id=case_id, resource="case_allocations")
    return list(
        session.scalars(
            select(Allocation)
            .where(Allocation.case_id == case.id)
            # An allocation ended at the instant its successor started sorts first.
            .order_by(Allocation.started_at, Allocation.ended_at.is_(None), Allocation.id)
        )
    )


def case_list(
    session: Session,
    *,
    actor: Principal,
    child_id: uuid.UUID | None = None,
    team_id: uuid.UUID | None = None,
    worker_id: uuid.UUID | None = None,
    state: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[Case], str | None]:
    """Cases of the children the caller may see, newest first, and the next page's cursor.

    One access_log row (action ``list``) per child shown.
    """
    if state is not None and state not in CASE_MACHINE.states:
        raise Invalid.field("state", f"state must be one of: {', '.join(CASE_MACHINE.states)}.")
    stmt = select(Case).join(Person, Person.id == Case.child_id).where(person_visible(actor))
    if child_id is not None:
        stmt = stmt.where(Case.child_id == child_id)
    if team_id is not None:
        stmt = stmt.where(Case.team_id == team_id)
    if worker_id is not None:
        stmt = stmt.where(Case.allocated_worker_id == worker_id)
    if state is not None:
        stmt = stmt.where(Case.state == state)
    if cursor is not None:
        values = decode_cursor(cursor)
        if (
            len(values) != 2
            or not isinstance(values[0], date)
            or not isinstance(values[1], uuid.UUID)
        ):
            raise Invalid.field("cursor", "This cursor is not one we gave out.")
        opened, last_id = values
        stmt = stmt.where(
            or_(Case.opened_date < opened, and_(Case.opened_date == opened, Case.id < last_id))
        )
    rows = list(
        session.scalars(stmt.order_by(Case.opened_date.desc(), Case.id.desc()).limit(limit + 1))
    )
    page, more = rows[:limit], len(rows) > limit
    for child in dict.fromkeys(c.child_id for c in page):
        access_log_append(
            session, principal=actor, action="list", resource="case_list", person_id=child
        )
    next_cursor = encode_cursor((page[-1].opened_date, page[-1].id)) if more else None
    return page, next_cursor


def case_chronology(
    session: Session,
    *,
    actor: Principal,
    case_id: uuid.UUID,
    action: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[CaseEvent], str | None]:
    """The case's events in order (its chronology), optionally one action or a span of London
    calendar days (inclusive); the read is access-logged."""
    if date_from is not None and date_to is not None and date_from > date_to:
        raise Invalid.field("from", "from must not be later than to.")
    case = case_for_read(session, actor=actor, case_id=case_id, resource="case_chronology")
    stmt = select(CaseEvent).where(CaseEvent.case_id == case.id)
    if action is not None:
        stmt = stmt.where(CaseEvent.action == action)
    if date_from is not None:
        stmt = stmt.where(CaseEvent.occurred_at >= datetime.combine(date_from, time(0), LONDON))
    if date_to is not None:
        next_day = datetime.combine(date_to + timedelta(days=1), time(0), LONDON)
        stmt = stmt.where(CaseEvent.occurred_at < next_day)
    if cursor is not None:
        values = decode_cursor(cursor)
        if len(values) != 1 or not isinstance(values[0], int) or isinstance(values[0], bool):
            raise Invalid.field("cursor", "This cursor is not one we gave out.")
        stmt = stmt.where(CaseEvent.seq > values[0])
    rows = list(session.scalars(stmt.order_by(CaseEvent.seq).limit(limit + 1)))
    page, more = rows[:limit], len(rows) > limit
    return page, (encode_cursor((page[-1].seq,)) if more else None)


# --- social worker episodes (SSDA903 SWEpisodes) -----------------------------------------------


@dataclass(frozen=True)
class SocialWorkerEpisode:
    """One SSDA903 SWEpisodes row, derived from the allocation history.

    ``sw_reason`` says why this episode started (FCONTA for an involvement's first worker);
    ``flags`` name what would fail validation: ``sw_id_missing`` (SW02/SW03: the worker has no
    Social Work England number on their account), ``sw_reason_missing`` (SW03/SW15).
    """

    case_id: uuid.UUID
    worker_id: uuid.UUID
    worker_name: str
    sw_id: str | None
    sw_decom: date
    sw_dec: date | None
    sw_reason: SWReason | None
    flags: tuple[str, ...]


def _london_date(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()


def social_worker_episodes_for_child(
    session: Session, *, child_id: uuid.UUID
) -> list[SocialWorkerEpisode]:
    """The child's social worker episodes, oldest first, derived from every case's allocations.

    An episode runs while one worker holds the case: a transfer to another team with the same
    worker continues it; a new worker, an unallocated spell or the case's closure ends it
    (SW_DEC = the London date of the change, or the closure date). A worker who held the case
    only within one day is left out (SW19: two episodes never start the same day; SW09), and the
    episodes either side of it join when they are the same worker's. No
    access check: callers that show a child use :func:`child_social_worker_episodes`.
    """
    cases = list(
        session.scalars(
            select(Case).where(Case.child_id == child_id).order_by(Case.opened_date, Case.id)
        )
    )
    if not cases:
        return []
    allocations = list(
        session.scalars(
            select(Allocation)
            .where(Allocation.case_id.in_([c.id for c in cases]))
            .order_by(Allocation.started_at, Allocation.ended_at.is_(None), Allocation.id)
        )
    )
    reasons = {a.id: a.sw_reason for a in allocations if a.sw_reason is not None}
    worker_ids = {a.worker_id for a in allocations if a.worker_id is not None}
    workers = {
        u.id: u for u in session.scalars(select(UserAccount).where(UserAccount.id.in_(worker_ids)))
    }
    raw: list[tuple[uuid.UUID, uuid.UUID, date, date | None, SWReason | None]] = []
    for case in cases:
        current: tuple[uuid.UUID, date, SWReason | None] | None = None
        had_worker = False
        last_end: date | None = None
        for a in (a for a in allocations if a.case_id == case.id):
            started = _london_date(a.started_at)
            last_end = _london_date(a.ended_at) if a.ended_at is not None else None
            if current is not None and current[0] == a.worker_id:
                continue
            if current is not None:
                raw.append((case.id, current[0], current[1], started, current[2]))
                current = None
            if a.worker_id is None:
                continue
            reason = reasons.get(a.id) or (None if had_worker else FIRST_CONTACT)
            current = (a.worker_id, started, reason)
            had_worker = True
        if current is not None:
            end = last_end if last_end is not None else case.closed_date
            raw.append((case.id, current[0], current[1], end, current[2]))
    kept: list[tuple[uuid.UUID, uuid.UUID, date, date | None, SWReason | None]] = []
    for row in raw:
        if row[3] is not None and row[3] <= row[2]:
            continue  # held within one day only
        last = kept[-1] if kept else None
        if last is not None and last[:2] == row[:2] and last[3] == row[2]:
            kept[-1] = (last[0], last[1], last[2], row[3], last[4])  # the same worker runs on
        else:
            kept.append(row)
    episodes: list[SocialWorkerEpisode] = []
    for case_id, worker_id, decom, dec, reason in kept:
        worker = workers[worker_id]
        flags = tuple(
            flag
            for flag, missing in (
                ("sw_id_missing", not worker.swe_registration_number),
                ("sw_reason_missing", reason is None),
            )
            if missing
        )
        episodes.append(
            SocialWorkerEpisode(
                case_id=case_id,
                worker_id=worker_id,
                worker_name=worker.display_name,
                sw_id=worker.swe_registration_number or None,
                sw_decom=decom,
                sw_dec=dec,
                sw_reason=reason,
                flags=flags,
            )
        )
    return episodes


def child_social_worker_episodes(
    session: Session, *, actor: Principal, child_id: uuid.UUID
) -> list[SocialWorkerEpisode]:
    """The child's social worker episodes, if the child is visible (404 otherwise); the read is
    access-logged."""
    get_person_for_read(
        session, principal=actor, person_id=child_id, resource="social_worker_episodes"
    )
    return social_worker_episodes_for_child(session, child_id=child_id)
