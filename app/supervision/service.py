"""Supervision sessions and management oversight on case files (issue 6, part 3).

A **supervision session** is between a worker and their supervisor. Its reflective notes and the
wellbeing discussion are private to the worker, the supervisor and their line: a manager of any
current team of either of them, and service managers (who line-manage the team managers and answer
for the service's supervision). Anyone else is told the session does not exist (404), and never
sees it in a list. The change log records that a session was recorded or its notes edited, and
which fields changed — never their text.

The **decisions** taken in a session about each case are not private: each becomes a management
oversight entry written onto the case file (its chronology), as is oversight a manager records
outside supervision. Timescales rules 36 and 37 (local: ``supervision_months``,
``management_oversight_weeks``): each worker's next supervision is due within the council's
interval of the last; every open case needs oversight on file at least every N weeks from its
referral or its last oversight.

Who records a session: a manager of one of the worker's current teams, or a service manager (the
``supervision:write`` permission is for managers). The supervisor defaults to the recorder and may
be someone else (a deputy or practice supervisor the manager records for); being named supervisor
alone is not enough to record, or any manager could name themselves a worker's supervisor and read
their notes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, true
from sqlalchemy.orm import Session

from app import clock
from app.api.pagination import decode_cursor, encode_cursor
from app.audit.service import access_log_append, case_event_append, change_log_append
from app.calendar import add_months
from app.cases import service as case_service
from app.cases.workflow import CLOSED, CONTACT
from app.config import get_settings
from app.deadlines import practice_rules
from app.deadlines import service as deadline_service
from app.errors import Forbidden, Invalid, NotFound, PreconditionFailed
from app.models.cases import Case
from app.models.deadlines import Deadline, DeadlineKind
from app.models.frontdoor import Referral
from app.models.org import Role, Team, TeamMembership, UserAccount
from app.models.people import Person
from app.models.supervision import ManagementOversight, SupervisionSession
from app.security.access import person_visible
from app.security.principal import Principal

NOT_VISIBLE = "There is no supervision session with this id that you can see."
SESSION_SUBJECT = "supervision_session"
OVERSIGHT_SUBJECT = "management_oversight"
SUPERVISION_RECORDED = "supervision_recorded"
SUPERVISION_NOTES_EDITED = "supervision_notes_edited"
OVERSIGHT_RECORDED = "management_oversight_recorded"
#: Who is supervised (timescales rule 36): the practitioners who hold or manage casework.
SUPERVISED_ROLES = frozenset({Role.social_worker, Role.team_manager, Role.iro, Role.mash_officer})
#: "Due soon" on a manager's lists: the next two weeks.
DUE_SOON_DAYS = 14


# --- the rules' clocks -------------------------------------------------------------------------


def supervision_due(held_on: date) -> date:
    """Rule 36: the next supervision within the council's interval (calendar months, clamped)."""
    return add_months(held_on, get_settings().supervision_months)


def oversight_due(since: date) -> date:
    """Rule 37: oversight again within the council's interval (weeks of 7 calendar days)."""
    return since + timedelta(weeks=get_settings().management_oversight_weeks)


def oversight_clock_open(session: Session, *, case: Case, since: date) -> Deadline:
    """Start the case's management-oversight clock from ``since`` (its referral, or its last
    oversight). Called by the case machine when a referral is accepted."""
    return deadline_service.deadline_open(
        session,
        rule=practice_rules.MANAGEMENT_OVERSIGHT,
        subject_type="case",
        subject_id=case.id,
        case_id=case.id,
        child_id=case.child_id,
        start_date=since,
        due_date=oversight_due(since),
    )


def _open_deadlines(
    session: Session, *, subject_type: str, subject_id: uuid.UUID, kind: DeadlineKind
) -> list[Deadline]:
    return list(
        session.scalars(
            select(Deadline).where(
                Deadline.subject_type == subject_type,
                Deadline.subject_id == subject_id,
                Deadline.kind == kind,
                Deadline.met_date.is_(None),
                Deadline.stopped_date.is_(None),
            )
        )
    )


def _restart(
    session: Session,
    *,
    subject_type: str,
    subject_id: uuid.UUID,
    kind: DeadlineKind,
    on: date,
) -> bool:
    """Whether the clock moves on ``on``: not when the open clock already started later (a session
    or entry recorded late, dated before the one that opened it, changes nothing); otherwise the
    open clock is met on ``on``."""
    current = _open_deadlines(session, subject_type=subject_type, subject_id=subject_id, kind=kind)
    if any(d.start_date > on for d in current):
        return False
    deadline_service.deadline_meet(
        session, subject_type=subject_type, subject_id=subject_id, kind=kind, met_date=on
    )
    return True


def _supervision_clock_move(session: Session, *, worker_id: uuid.UUID, held_on: date) -> None:
    if _restart(
        session,
        subject_type="user_account",
        subject_id=worker_id,
        kind=DeadlineKind.supervision,
        on=held_on,
    ):
        deadline_service.deadline_open(
            session,
            rule=practice_rules.SUPERVISION,
            subject_type="user_account",
            subject_id=worker_id,
            case_id=None,
            child_id=None,
            start_date=held_on,
            due_date=supervision_due(held_on),
        )


def _oversight_clock_move(session: Session, *, case: Case, recorded_on: date) -> None:
    if _restart(
        session,
        subject_type="case",
        subject_id=case.id,
        kind=DeadlineKind.management_oversight,
        on=recorded_on,
    ):
        oversight_clock_open(session, case=case, since=recorded_on)


# --- who sees and who records ------------------------------------------------------------------


def _current(today: date) -> ColumnElement[bool]:
    return and_(
        TeamMembership.start_date <= today,
        or_(TeamMembership.end_date.is_(None), TeamMembership.end_date >= today),
    )


def _current_team_ids(session: Session, user_id: uuid.UUID) -> set[uuid.UUID]:
    return set(
        session.scalars(
            select(TeamMembership.team_id).where(
                TeamMembership.user_id == user_id, _current(clock.today())
            )
        )
    )


def supervision_visible(actor: Principal) -> ColumnElement[bool]:
    """The WHERE clause: sessions the caller may see — their own (as worker or supervisor), those
    of anyone in a team they currently manage, or every one for a service manager."""
    if actor.role is Role.service_manager:
        return true()
    mine = or_(
        SupervisionSession.worker_id == actor.user_id,
        SupervisionSession.supervisor_id == actor.user_id,
    )
    if not actor.managed_team_ids:
        return mine
    in_my_teams = exists().where(
        TeamMembership.user_id.in_(
            [SupervisionSession.worker_id, SupervisionSession.supervisor_id]
        ),
        TeamMembership.team_id.in_(sorted(actor.managed_team_ids)),
        _current(clock.today()),
    )
    return or_(mine, in_my_teams)


def _manages_worker(session: Session, *, actor: Principal, worker_id: uuid.UUID) -> bool:
    """Whether the caller is in the worker's line: a service manager, or a manager of one of the
    worker's current teams (never the worker themselves)."""
    if actor.user_id == worker_id:
        return False
    if actor.role is Role.service_manager:
        return True
    return bool(_current_team_ids(session, worker_id) & actor.managed_team_ids)


def _visible_session(
    session: Session, *, actor: Principal, supervision_id: uuid.UUID
) -> SupervisionSession:
    found = session.scalar(
        select(SupervisionSession).where(
            SupervisionSession.id == supervision_id, supervision_visible(actor)
        )
    )
    if found is None:
        raise NotFound(NOT_VISIBLE)
    return found


def _staff(session: Session, user_id: uuid.UUID) -> UserAccount | None:
    return session.get(UserAccount, user_id)


# --- recording a session -----------------------------------------------------------------------


@dataclass(frozen=True)
class CaseDecision:
    """A decision about one of the worker's cases, taken in supervision."""

    case_id: uuid.UUID
    decision: str
    review_by: date | None = None


def _decision_case(
    session: Session,
    *,
    actor: Principal,
    index: int,
    decision: CaseDecision,
    worker_id: uuid.UUID,
    supervisor_teams: set[uuid.UUID],
    held_on: date,
) -> Case:
    """The case a decision is about: its child visible to the recorder (404, as everywhere), held
    by the worker or the supervisor's team (422 naming the decision), open (409, CIN census rule
    8565), and open on the day of the session (422)."""
    name = f"case_decisions.{index}"
    case = case_service.case_visible(session, actor=actor, case_id=decision.case_id)
    if case.allocated_worker_id != worker_id and case.team_id not in supervisor_teams:
        raise Invalid.field(
            f"{name}.case_id",
            "This case is held neither by the worker nor by the supervisor's team: decisions in "
            "supervision are about the worker's own cases.",
        )
    if case.state == CLOSED:
        raise case_service.case_closed_error(session, case)
    if held_on < case.opened_date:
        raise Invalid.field(
            f"{name}.case_id",
            f"This case opened on {case.opened_date.isoformat()}, after the session.",
        )
    case_service.refuse_after_death(session, case=case, field=f"{name}.case_id", when=held_on)
    if decision.review_by is not None and decision.review_by < held_on:
        raise Invalid.field(f"{name}.review_by", "The review date cannot be before the session.")
    return case


def _oversight_write(
    session: Session,
    *,
    actor: Principal,
    case: Case,
    recorded_on: date,
    decision: str,
    review_by: date | None,
    supervision_id: uuid.UUID | None,
) -> ManagementOversight:
    """Write one oversight entry, its chronology event on the case file, and move the case's
    oversight clock (rule 37)."""
    entry = ManagementOversight(
        id=uuid.uuid4(),
        case_id=case.id,
        child_id=case.child_id,
        supervision_id=supervision_id,
        recorded_on=recorded_on,
        recorded_by_id=actor.user_id,
        decision=decision,
        review_by=review_by,
    )
    session.add(entry)
    session.flush()
    case_event_append(
        session,
        case_id=case.id,
        child_id=case.child_id,
        actor=actor,
        action=OVERSIGHT_RECORDED,
        subject_type=OVERSIGHT_SUBJECT,
        subject_id=entry.id,
        changes={
            "recorded_on": recorded_on,
            "decision": decision,
            "review_by": review_by,
            "in_supervision": supervision_id is not None,
        },
    )
    _oversight_clock_move(session, case=case, recorded_on=recorded_on)
    return entry


def supervision_record(
    session: Session,
    *,
    actor: Principal,
    worker_id: uuid.UUID,
    held_on: date,
    supervisor_id: uuid.UUID | None = None,
    notes: str | None = None,
    wellbeing: str | None = None,
    case_decisions: Sequence[CaseDecision] = (),
) -> tuple[SupervisionSession, list[ManagementOversight]]:
    """Record a supervision session held on ``held_on`` and the decisions taken in it about the
    worker's cases. The session meets the worker's supervision clock and starts the next (rule
    36); each decision is written onto its case file as management oversight and meets the case's
    oversight clock (rule 37). Refused whole when any part is wrong: nothing is written."""
    supervisor_id = supervisor_id or actor.user_id
    if not _manages_worker(session, actor=actor, worker_id=worker_id):
        raise Forbidden(
            "Only a manager of one of the worker's teams, or a service manager, records their "
            "supervision."
        )
    worker = _staff(session, worker_id)
    if worker is None or not worker.is_active or worker.role not in SUPERVISED_ROLES:
        raise Invalid.field(
            "worker_id",
            "The worker must be an active practitioner (social worker, team manager, IRO or MASH "
            "officer).",
        )
    if supervisor_id == worker_id:
        raise Invalid.field("supervisor_id", "A worker cannot supervise themselves.")
    supervisor = _staff(session, supervisor_id)
    if supervisor is None or not supervisor.is_active:
        raise Invalid.field("supervisor_id", "The supervisor must be an active member of staff.")
    if held_on > clock.today():
        raise Invalid.field("held_on", "A supervision session cannot be recorded in the future.")
    seen: set[uuid.UUID] = set()
    for index, decision in enumerate(case_decisions):
        if decision.case_id in seen:
            raise Invalid.field(
                f"case_decisions.{index}.case_id", "This case has a decision already."
            )
        seen.add(decision.case_id)
    supervisor_teams = _current_team_ids(session, supervisor_id)
    cases = [
        _decision_case(
            session,
            actor=actor,
            index=index,
            decision=decision,
            worker_id=worker_id,
            supervisor_teams=supervisor_teams,
            held_on=held_on,
        )
        for index, decision in enumerate(case_decisions)
    ]
    record = SupervisionSession(
        id=uuid.uuid4(),
        worker_id=worker_id,
        supervisor_id=supervisor_id,
        held_on=held_on,
        notes=notes,
        wellbeing=wellbeing,
        recorded_by_id=actor.user_id,
    )
    session.add(record)
    session.flush()
    # The private text stays out of the change log: only that it was written.
    change_log_append(
        session,
        actor=actor,
        entity_type=SESSION_SUBJECT,
        entity_id=record.id,
        action=SUPERVISION_RECORDED,
        changes={
            "worker_id": worker_id,
            "supervisor_id": supervisor_id,
            "held_on": held_on,
            "notes_recorded": notes is not None,
            "wellbeing_recorded": wellbeing is not None,
            "case_decisions": len(cases),
        },
    )
    _supervision_clock_move(session, worker_id=worker_id, held_on=held_on)
    entries = [
        _oversight_write(
            session,
            actor=actor,
            case=case,
            recorded_on=held_on,
            decision=decision.decision,
            review_by=decision.review_by,
            supervision_id=record.id,
        )
        for case, decision in zip(cases, case_decisions, strict=True)
    ]
    return record, entries


def supervision_edit_notes(
    session: Session,
    *,
    actor: Principal,
    supervision_id: uuid.UUID,
    expected_version: int,
    notes: str | None,
    wellbeing: str | None,
    fields_set: frozenset[str],
) -> SupervisionSession:
    """Correct or add to a session's notes (``fields_set``: which of notes and wellbeing the
    caller sent). 404 to anyone who may not see it; among those who may, the supervisor, who
    recorded it, and the worker's line (never the worker) may edit (403 otherwise); 412 when
    someone changed it since the caller read it."""
    record = _visible_session(session, actor=actor, supervision_id=supervision_id)
    may_edit = actor.user_id in (record.supervisor_id, record.recorded_by_id) or _manages_worker(
        session, actor=actor, worker_id=record.worker_id
    )
    if not may_edit or actor.user_id == record.worker_id:
        raise Forbidden("Only the supervisor or the worker's manager edits a session's notes.")
    if record.version != expected_version:
        raise PreconditionFailed(
            f"This session is at version {record.version}, not {expected_version}: someone "
            "changed it since you loaded it. Reload it and try again."
        )
    changed = []
    if "notes" in fields_set and notes != record.notes:
        record.notes = notes
        changed.append("notes")
    if "wellbeing" in fields_set and wellbeing != record.wellbeing:
        record.wellbeing = wellbeing
        changed.append("wellbeing")
    if not changed:
        return record
    # The version column makes a concurrent edit fail at flush (StaleDataError → 412).
    session.flush()
    change_log_append(
        session,
        actor=actor,
        entity_type=SESSION_SUBJECT,
        entity_id=record.id,
        action=SUPERVISION_NOTES_EDITED,
        changes={"fields_changed": changed},
    )
    return record


# --- reading sessions --------------------------------------------------------------------------


def supervision_get(
    session: Session, *, actor: Principal, supervision_id: uuid.UUID
) -> tuple[SupervisionSession, list[ManagementOversight]]:
    """A session the caller may see (404 otherwise) and its case decisions about children the
    caller may see; each child shown is access-logged."""
    record = _visible_session(session, actor=actor, supervision_id=supervision_id)
    entries = list(
        session.scalars(
            select(ManagementOversight)
            .join(Person, Person.id == ManagementOversight.child_id)
            .where(ManagementOversight.supervision_id == record.id, person_visible(actor))
            .order_by(ManagementOversight.created_at, ManagementOversight.id)
        )
    )
    for entry in entries:
        access_log_append(
            session,
            principal=actor,
            action="view",
            resource=OVERSIGHT_SUBJECT,
            person_id=entry.child_id,
            case_id=entry.case_id,
        )
    return record, entries


def supervision_list(
    session: Session,
    *,
    actor: Principal,
    worker_id: uuid.UUID | None = None,
    supervisor_id: uuid.UUID | None = None,
    team_id: uuid.UUID | None = None,
    held_from: date | None = None,
    held_to: date | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[SupervisionSession], str | None]:
    """Sessions the caller may see, latest first (``team_id``: of the team's current members as
    workers; dates inclusive), and the cursor of the next page."""
    if held_from is not None and held_to is not None and held_from > held_to:
        raise Invalid.field("held_from", "held_from must not be later than held_to.")
    stmt = select(SupervisionSession).where(supervision_visible(actor))
    if worker_id is not None:
        stmt = stmt.where(SupervisionSession.worker_id == worker_id)
    if supervisor_id is not None:
        stmt = stmt.where(SupervisionSession.supervisor_id == supervisor_id)
    if team_id is not None:
        stmt = stmt.where(
            exists().where(
                TeamMembership.user_id == SupervisionSession.worker_id,
                TeamMembership.team_id == team_id,
                _current(clock.today()),
            )
        )
    if held_from is not None:
        stmt = stmt.where(SupervisionSession.held_on >= held_from)
    if held_to is not None:
        stmt = stmt.where(SupervisionSession.held_on <= held_to)
    if cursor is not None:
        values = decode_cursor(cursor)
        if (
            len(values) != 2
            or not isinstance(values[0], date)
            or not isinstance(values[1], uuid.UUID)
        ):
            raise Invalid.field("cursor", "This cursor is not one we gave out; start again.")
        after_held, after_id = values[0], values[1]
        stmt = stmt.where(
            or_(
                SupervisionSession.held_on < after_held,
                and_(SupervisionSession.held_on == after_held, SupervisionSession.id < after_id),
            )
        )
    rows = list(
        session.scalars(
            stmt.order_by(SupervisionSession.held_on.desc(), SupervisionSession.id.desc()).limit(
                limit + 1
            )
        )
    )
    page, more = rows[:limit], len(rows) > limit
    next_cursor = encode_cursor((page[-1].held_on, page[-1].id)) if more else None
    return page, next_cursor


def staff_names(session: Session, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    """Display names of staff, in one query."""
    wanted = sorted(i for i in ids if i is not None)
    if not wanted:
        return {}
    rows = session.execute(
        select(UserAccount.id, UserAccount.display_name).where(UserAccount.id.in_(wanted))
    )
    return {row.id: row.display_name for row in rows}


# --- oversight outside supervision -------------------------------------------------------------


def oversight_record(
    session: Session,
    *,
    actor: Principal,
    case_id: uuid.UUID,
    decision: str,
    recorded_on: date,
    review_by: date | None = None,
) -> ManagementOversight:
    """A manager's direction on the case file outside supervision: a manager of the case's team
    or a service manager (403 otherwise), on an open case (409), dated not in the future nor
    before the case opened (422). It meets the case's oversight clock and starts the next."""
    case = case_service.case_visible(session, actor=actor, case_id=case_id)
    if actor.role is not Role.service_manager and case.team_id not in actor.managed_team_ids:
        raise Forbidden(
            "Only a manager of the case's team, or a service manager, records oversight."
        )
    if case.state == CLOSED:
        raise case_service.case_closed_error(session, case)
    if recorded_on > clock.today():
        raise Invalid.field("recorded_on", "Oversight cannot be recorded in the future.")
    if recorded_on < case.opened_date:
        raise Invalid.field(
            "recorded_on", f"The case opened on {case.opened_date.isoformat()}, after this date."
        )
    case_service.refuse_after_death(session, case=case, field="recorded_on", when=recorded_on)
    if review_by is not None and review_by < recorded_on:
        raise Invalid.field("review_by", "The review date cannot be before the oversight.")
    return _oversight_write(
        session,
        actor=actor,
        case=case,
        recorded_on=recorded_on,
        decision=decision,
        review_by=review_by,
        supervision_id=None,
    )


def oversight_for_case(
    session: Session, *, actor: Principal, case_id: uuid.UUID
) -> list[ManagementOversight]:
    """The case's oversight entries, latest first; the read is access-logged."""
    case = case_service.case_for_read(
        session, actor=actor, case_id=case_id, resource=OVERSIGHT_SUBJECT
    )
    return list(
        session.scalars(
            select(ManagementOversight)
            .where(ManagementOversight.case_id == case.id)
            .order_by(
                ManagementOversight.recorded_on.desc(),
                ManagementOversight.created_at.desc(),
                ManagementOversight.id,
            )
        )
    )


# --- a manager's view: who and which cases are overdue -----------------------------------------


@dataclass(frozen=True)
class WorkerDue:
    worker_id: uuid.UUID
    name: str
    role: Role
    last_supervision: date | None
    due_date: date
    days_overdue: int


@dataclass(frozen=True)
class CaseOversightDue:
    case_id: uuid.UUID
    child_id: uuid.UUID
    child_name: str
    allocated_worker_id: uuid.UUID | None
    allocated_worker_name: str | None
    last_oversight: date | None
    due_date: date
    days_overdue: int


@dataclass
class TeamPracticeDue:
    team_id: uuid.UUID
    team_name: str
    today: date
    workers_overdue: list[WorkerDue]
    workers_due_soon: list[WorkerDue]
    cases_overdue: list[CaseOversightDue]
    cases_due_soon: list[CaseOversightDue]


def _open_clock(kind: DeadlineKind) -> ColumnElement[bool]:
    return and_(Deadline.kind == kind, Deadline.met_date.is_(None), Deadline.stopped_date.is_(None))


def _team_for_manager(session: Session, *, actor: Principal, team_id: uuid.UUID | None) -> Team:
    if team_id is None:
        # Without a team the request is incomplete (422) unless the caller manages exactly one;
        # the 403 is for naming a team they do not manage.
        if len(actor.managed_team_ids) != 1:
            raise Invalid.field(
                "team_id",
                "Say which team: you manage more than one."
                if actor.managed_team_ids
                else "Say which team: you manage none (a manager sees the teams they manage).",
            )
        (team_id,) = actor.managed_team_ids
    if actor.role is not Role.service_manager and team_id not in actor.managed_team_ids:
        raise Forbidden("You do not manage this team.")
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound("There is no team with this id.")
    return team


def team_practice_due(
    session: Session, *, actor: Principal, team_id: uuid.UUID | None
) -> TeamPracticeDue:
    """For a team the caller manages (any team for a service manager): the members whose
    supervision is overdue or due in the next 14 days, and the team's open cases whose
    management oversight is. Two queries; each child named is access-logged."""
    team = _team_for_manager(session, actor=actor, team_id=team_id)
    today = clock.today()
    soon = today + timedelta(days=DUE_SOON_DAYS)
    last_session = (
        select(func.max(SupervisionSession.held_on))
        .where(SupervisionSession.worker_id == UserAccount.id)
        .correlate(UserAccount)
        .scalar_subquery()
    )
    members = (
        select(TeamMembership.user_id)
        .where(TeamMembership.team_id == team.id, _current(today))
        .scalar_subquery()
    )
    worker_rows = session.execute(
        select(
            UserAccount.id,
            UserAccount.display_name,
            UserAccount.role,
            last_session,
            func.min(Deadline.due_date),
        )
        .join(
            Deadline,
            and_(
                Deadline.subject_type == "user_account",
                Deadline.subject_id == UserAccount.id,
                _open_clock(DeadlineKind.supervision),
            ),
        )
        .where(
            UserAccount.id.in_(members),
            UserAccount.id != actor.user_id,
            UserAccount.is_active.is_(True),
            Deadline.due_date <= soon,
        )
        .group_by(UserAccount.id, UserAccount.display_name, UserAccount.role)
    ).all()
    workers = sorted(
        (
            WorkerDue(
                worker_id=wid,
                name=name,
                role=role,
                last_supervision=last,
                due_date=due,
                days_overdue=max(0, (today - due).days),
            )
            for wid, name, role, last, due in worker_rows
        ),
        key=lambda w: (w.due_date, w.name),
    )
    last_oversight = (
        select(func.max(ManagementOversight.recorded_on))
        .where(ManagementOversight.case_id == Case.id)
        .correlate(Case)
        .scalar_subquery()
    )
    case_rows = session.execute(
        select(
            Case.id,
            Case.child_id,
            Person.first_name,
            Person.last_name,
            Case.allocated_worker_id,
            UserAccount.display_name,
            last_oversight,
            func.min(Deadline.due_date),
        )
        .join(Person, Person.id == Case.child_id)
        .outerjoin(UserAccount, UserAccount.id == Case.allocated_worker_id)
        .join(
            Deadline,
            and_(
                Deadline.subject_type == "case",
                Deadline.subject_id == Case.id,
                _open_clock(DeadlineKind.management_oversight),
            ),
        )
        .where(
            Case.team_id == team.id,
            Case.state != CLOSED,
            Deadline.due_date <= soon,
            person_visible(actor),
        )
        .group_by(
            Case.id,
            Case.child_id,
            Person.first_name,
            Person.last_name,
            Case.allocated_worker_id,
            UserAccount.display_name,
        )
    ).all()
    cases = sorted(
        (
            CaseOversightDue(
                case_id=cid,
                child_id=child_id,
                child_name=" ".join(p for p in (first, last) if p),
                allocated_worker_id=worker_id,
                allocated_worker_name=worker_name,
                last_oversight=last_on,
                due_date=due,
                days_overdue=max(0, (today - due).days),
            )
            for cid, child_id, first, last, worker_id, worker_name, last_on, due in case_rows
        ),
        key=lambda c: (c.due_date, c.child_name),
    )
    for case in cases:
        access_log_append(
            session,
            principal=actor,
            action="list",
            resource="oversight_due_list",
            person_id=case.child_id,
            case_id=case.case_id,
        )
    return TeamPracticeDue(
        team_id=team.id,
        team_name=team.name,
        today=today,
        workers_overdue=[w for w in workers if w.due_date < today],
        workers_due_soon=[w for w in workers if w.due_date >= today],
        cases_overdue=[c for c in cases if c.due_date < today],
        cases_due_soon=[c for c in cases if c.due_date >= today],
    )


@dataclass(frozen=True)
class MySupervisionDue:
    worker_id: uuid.UUID
    last_supervision: date | None
    due_date: date | None
    is_overdue: bool
    days_overdue: int


def my_supervision_due(session: Session, *, actor: Principal) -> MySupervisionDue:
    """The caller's own supervision: when it was last held and when the next is due (no date when
    no clock runs: not a supervised role, or the daily refresh has not yet run)."""
    today = clock.today()
    last = session.scalar(
        select(func.max(SupervisionSession.held_on)).where(
            SupervisionSession.worker_id == actor.user_id
        )
    )
    due = session.scalar(
        select(func.min(Deadline.due_date)).where(
            Deadline.subject_type == "user_account",
            Deadline.subject_id == actor.user_id,
            _open_clock(DeadlineKind.supervision),
        )
    )
    overdue = due is not None and due < today
    return MySupervisionDue(
        worker_id=actor.user_id,
        last_supervision=last,
        due_date=due,
        is_overdue=overdue,
        days_overdue=(today - due).days if due is not None and overdue else 0,
    )


# --- the daily job -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PracticeRefresh:
    supervision_opened: int
    supervision_stopped: int
    oversight_opened: int


def practice_refresh(session: Session) -> PracticeRefresh:
    """Open every missing clock of rules 36 and 37; idempotent (a second run changes nothing).

    - Each active practitioner without a running supervision clock gets one, from their last
      session, else their first team membership, else the day their account was made.
    - A supervision clock of someone no longer supervised (account disabled, or now in a role that
      is not supervised) stops today.
    - Each open case past the contact stage without a running oversight clock (migrated data,
      cases opened before this feature) gets one, from its last oversight, else its referral,
      else the day it opened.
    """
    today = clock.today()
    has_clock = exists().where(
        Deadline.subject_type == "user_account",
        Deadline.subject_id == UserAccount.id,
        _open_clock(DeadlineKind.supervision),
    )
    last_session = (
        select(func.max(SupervisionSession.held_on))
        .where(SupervisionSession.worker_id == UserAccount.id)
        .correlate(UserAccount)
        .scalar_subquery()
    )
    first_membership = (
        select(func.min(TeamMembership.start_date))
        .where(TeamMembership.user_id == UserAccount.id)
        .correlate(UserAccount)
        .scalar_subquery()
    )
    missing = session.execute(
        select(UserAccount.id, last_session, first_membership, UserAccount.created_at).where(
            UserAccount.is_active.is_(True),
            UserAccount.role.in_(sorted(SUPERVISED_ROLES)),
            ~has_clock,
        )
    ).all()
    for user_id, last, first, created in missing:
        since = last or first or created.date()
        deadline_service.deadline_open(
            session,
            rule=practice_rules.SUPERVISION,
            subject_type="user_account",
            subject_id=user_id,
            case_id=None,
            child_id=None,
            start_date=since,
            due_date=supervision_due(since),
        )
    no_longer = select(UserAccount.id).where(
        or_(UserAccount.is_active.is_(False), UserAccount.role.not_in(sorted(SUPERVISED_ROLES)))
    )
    stopped = list(
        session.scalars(
            select(Deadline).where(
                Deadline.subject_type == "user_account",
                Deadline.subject_id.in_(no_longer),
                _open_clock(DeadlineKind.supervision),
            )
        )
    )
    for deadline in stopped:
        deadline.stopped_date = max(today, deadline.start_date)
    case_has_clock = exists().where(
        Deadline.subject_type == "case",
        Deadline.subject_id == Case.id,
        _open_clock(DeadlineKind.management_oversight),
    )
    last_oversight = (
        select(func.max(ManagementOversight.recorded_on))
        .where(ManagementOversight.case_id == Case.id)
        .correlate(Case)
        .scalar_subquery()
    )
    last_referral = (
        select(func.max(Referral.referral_date))
        .where(Referral.case_id == Case.id)
        .correlate(Case)
        .scalar_subquery()
    )
    open_cases = session.execute(
        select(Case, last_oversight, last_referral).where(
            Case.state.not_in([CLOSED, CONTACT]), ~case_has_clock
        )
    ).all()
    for case, last_on, referred in open_cases:
        oversight_clock_open(session, case=case, since=last_on or referred or case.opened_date)
    session.flush()
    return PracticeRefresh(
        supervision_opened=len(missing),
        supervision_stopped=len(stopped),
        oversight_opened=len(open_cases),
    )
