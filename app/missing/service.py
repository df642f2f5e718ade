"""Missing and absent episodes and return home interviews (timescales rule 30; SSDA903 Missing).

A child goes missing (M: whereabouts unknown) or away from placement without authorisation (A:
whereabouts known, looked-after children only). The invariants are those of the DfE SSDA903
validator for the Missing table: a start (564) and a type M/A (1006), the end not before the start
(567), episodes of one child never overlapping and no new episode while one is open (574), the
start after the date of birth (586); nothing after the child's death. On the return a return home
interview must be offered within ``return_interview_hours`` (72) hours (statutory guidance on
children who run away or go missing from home or care, 2014): a deadline with its instant
(``due_at``), met by the offer.

Episodes may be recorded for any child with an open case, looked after or not: the statutory
guidance covers children missing from home as well as from care. ``while_looked_after`` (and the
period of care) says whether the episode started while the child was looked after, which is what
puts it on the SSDA903 return (rule 581: a missing episode of the return starts within a period of
care).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import case_event_append, diff
from app.calendar import LONDON
from app.cases import service as case_service
from app.cases.workflow import CLOSED
from app.config import Settings, get_settings
from app.deadlines import service as deadline_service
from app.deadlines.care_rules import RETURN_INTERVIEW
from app.errors import Conflict, Invalid, NotFound, PreconditionFailed
from app.models.care import PeriodOfCare
from app.models.cases import Case
from app.models.deadlines import Deadline, DeadlineKind
from app.models.missing import MissingEpisode, MissingKind, ReturnInterviewResponse
from app.models.people import Person
from app.security.access import get_person_for_read, person_denied, readable_people
from app.security.principal import Principal

SUBJECT = "missing_episode"
EPISODE_NOT_VISIBLE = "There is no missing episode with this id that you can see."
RECORDED_ACTION = "missing_episode_recorded"
RETURNED_ACTION = "missing_episode_returned"
INTERVIEW_ACTION = "return_interview_recorded"


def local_date(instant: datetime) -> date:
    """The calendar day in England of an instant (the SSDA903 MIS_START / MIS_END)."""
    return instant.astimezone(LONDON).date()


# --- loading -----------------------------------------------------------------------------------


def _open_case_for_change(session: Session, *, actor: Principal, child_id: uuid.UUID) -> Case:
    child = session.scalar(readable_people(actor).where(Person.id == child_id))
    if child is None:
        raise person_denied(session, principal=actor, person_id=child_id, resource=SUBJECT)
    case_id = session.scalar(
        select(Case.id)
        .where(Case.child_id == child_id, Case.state != CLOSED)
        .order_by(Case.opened_date.desc())
        .limit(1)
    )
    if case_id is None:
        # Whoever may not change the child's last case gets 403, not word that it has closed.
        case_service.require_child_change(session, actor=actor, child_id=child_id)
        raise Conflict(
            "This child has no open case: a missing episode is recorded on the child's open case "
            "(a new contact opens one).",
            code="no_open_case",
        )
    return case_service.case_for_change(session, actor=actor, case_id=case_id, refuse_closed=True)


def _episode_for_change(
    session: Session, *, actor: Principal, episode_id: uuid.UUID, expected_version: int
) -> tuple[MissingEpisode, Case]:
    episode = session.get(MissingEpisode, episode_id)
    if episode is None:
        raise NotFound(EPISODE_NOT_VISIBLE)
    case = case_service.case_for_change(session, actor=actor, case_id=episode.case_id)
    if episode.version != expected_version:
        raise PreconditionFailed(
            f"This episode is at version {episode.version}, not {expected_version}: someone "
            "changed it since you loaded it. Reload it and try again."
        )
    return episode, case


def _period_on(session: Session, *, child_id: uuid.UUID, on: date) -> PeriodOfCare | None:
    """The period of care the child was in on ``on``, if any."""
    return session.scalar(
        select(PeriodOfCare)
        .where(
            PeriodOfCare.child_id == child_id,
            PeriodOfCare.start_date <= on,
            or_(PeriodOfCare.end_date.is_(None), PeriodOfCare.end_date >= on),
        )
        .limit(1)
    )


# --- checks ------------------------------------------------------------------------------------


def _check_not_future(field: str, instant: datetime) -> None:
    if instant > clock.now():
        raise Invalid.field(field, "This time is in the future.")


def _check_start(session: Session, *, case: Case, started_at: datetime) -> None:
    _check_not_future("started_at", started_at)
    child = session.get(Person, case.child_id)
    assert child is not None  # a foreign key
    start = local_date(started_at)
    if child.date_of_birth is not None and start <= child.date_of_birth:
        raise Invalid.field(
            "started_at",
            f"A missing episode starts after the child's date of birth "
            f"({child.date_of_birth.isoformat()}) (SSDA903 rule 586).",
            rule="SSDA903 586",
        )
    case_service.refuse_after_death(session, case=case, field="started_at", when=start)


def _check_end(session: Session, *, case: Case, started_at: datetime, ended_at: datetime) -> None:
    _check_not_future("ended_at", ended_at)
    if ended_at < started_at:
        raise Invalid.field(
            "ended_at",
            "The return is before the child went missing: an episode does not end before it "
            "starts (SSDA903 rule 567).",
            rule="SSDA903 567",
        )
    case_service.refuse_after_death(session, case=case, field="ended_at", when=local_date(ended_at))


def _refuse_overlap(
    session: Session,
    *,
    child_id: uuid.UUID,
    started_at: datetime,
    ended_at: datetime | None,
    exclude: uuid.UUID | None = None,
) -> None:
    """Episodes of one child never overlap, and none starts while another is open (SSDA903 rule
    574). One that starts the moment another ended does not overlap it."""
    clash_stmt = select(MissingEpisode).where(
        MissingEpisode.child_id == child_id,
        or_(MissingEpisode.ended_at.is_(None), MissingEpisode.ended_at > started_at),
    )
    if ended_at is not None:
        clash_stmt = clash_stmt.where(MissingEpisode.started_at < ended_at)
    if exclude is not None:
        clash_stmt = clash_stmt.where(MissingEpisode.id != exclude)
    clash = session.scalar(clash_stmt.order_by(MissingEpisode.started_at).limit(1))
    if clash is None:
        return
    if clash.ended_at is None:
        raise Conflict(
            f"This child is already recorded as missing or away since "
            f"{clash.started_at.isoformat()}: record their return first; episodes never overlap "
            "(SSDA903 rule 574).",
            code="already_missing",
            episode_id=str(clash.id),
            rule="SSDA903 574",
        )
    raise Conflict(
        f"This overlaps the missing episode from {clash.started_at.isoformat()} to "
        f"{clash.ended_at.isoformat()}; a child's episodes never overlap (SSDA903 rule 574).",
        code="missing_episode_overlaps",
        episode_id=str(clash.id),
        rule="SSDA903 574",
    )


# --- writes ------------------------------------------------------------------------------------


def _open_interview_clock(
    session: Session, *, episode: MissingEpisode, ended_at: datetime, settings: Settings
) -> Deadline:
    """Rule 30: a return home interview offered within ``return_interview_hours`` of the return
    (an instant, ``due_at``; its due date is that instant's day in England)."""
    due_at = ended_at + timedelta(hours=settings.return_interview_hours)
    return deadline_service.deadline_open(
        session,
        rule=RETURN_INTERVIEW,
        subject_type=SUBJECT,
        subject_id=episode.id,
        case_id=episode.case_id,
        child_id=episode.child_id,
        start_date=local_date(ended_at),
        due_date=local_date(due_at),
        due_at=due_at,
    )


def missing_episode_record(
    session: Session,
    *,
    actor: Principal,
    child_id: uuid.UUID,
    kind: MissingKind,
    started_at: datetime,
    ended_at: datetime | None = None,
    notes: str | None = None,
    settings: Settings | None = None,
) -> MissingEpisode:
    """A child went missing (M) or away from placement without authorisation (A) at
    ``started_at``, recorded on their open case; with ``ended_at`` the return is recorded too and
    the return home interview clock starts (rule 30)."""
    settings = settings or get_settings()
    case = _open_case_for_change(session, actor=actor, child_id=child_id)
    _check_start(session, case=case, started_at=started_at)
    if ended_at is not None:
        _check_end(session, case=case, started_at=started_at, ended_at=ended_at)
    period = _period_on(session, child_id=child_id, on=local_date(started_at))
    if kind is MissingKind.A and period is None:
        raise Invalid.field(
            "kind",
            "Away from placement without authorisation (A) is for a looked-after child; this "
            "child was not looked after then: record them as missing (M) (SSDA903 rules 581, "
            "1006).",
            rule="SSDA903 581",
        )
    _refuse_overlap(session, child_id=child_id, started_at=started_at, ended_at=ended_at)
    episode = MissingEpisode(
        id=uuid.uuid4(),
        case_id=case.id,
        child_id=child_id,
        period_id=period.id if period is not None else None,
        while_looked_after=period is not None,
        kind=kind,
        started_at=started_at,
        ended_at=ended_at,
        notes=notes,
        recorded_by_id=actor.user_id,
    )
    session.add(episode)
    session.flush()
    case_event_append(
        session,
        case_id=case.id,
        child_id=child_id,
        actor=actor,
        action=RECORDED_ACTION,
        subject_type=SUBJECT,
        subject_id=episode.id,
        changes={
            "kind": kind.value,
            "started_at": started_at,
            "ended_at": ended_at,
            "while_looked_after": episode.while_looked_after,
        },
    )
    if ended_at is not None:
        _open_interview_clock(session, episode=episode, ended_at=ended_at, settings=settings)
    session.flush()
    return episode


def missing_episode_return(
    session: Session,
    *,
    actor: Principal,
    episode_id: uuid.UUID,
    expected_version: int,
    ended_at: datetime,
    notes: str | None = None,
    settings: Settings | None = None,
) -> MissingEpisode:
    """The child returned (or was found) at ``ended_at``: the episode ends (SSDA903 MIS_END) and
    a return home interview is due within 72 hours (rule 30)."""
    settings = settings or get_settings()
    episode, case = _episode_for_change(
        session, actor=actor, episode_id=episode_id, expected_version=expected_version
    )
    if episode.ended_at is not None:
        raise Conflict(
            f"This episode already ended ({episode.ended_at.isoformat()}).",
            code="missing_episode_ended",
        )
    _check_end(session, case=case, started_at=episode.started_at, ended_at=ended_at)
    _refuse_overlap(
        session,
        child_id=episode.child_id,
        started_at=episode.started_at,
        ended_at=ended_at,
        exclude=episode.id,
    )
    episode.ended_at = ended_at
    if notes is not None:
        episode.notes = notes
    session.flush()
    case_event_append(
        session,
        case_id=episode.case_id,
        child_id=episode.child_id,
        actor=actor,
        action=RETURNED_ACTION,
        subject_type=SUBJECT,
        subject_id=episode.id,
        changes={"ended_at": {"before": None, "after": ended_at}},
    )
    _open_interview_clock(session, episode=episode, ended_at=ended_at, settings=settings)
    session.flush()
    return episode


def return_interview_record(
    session: Session,
    *,
    actor: Principal,
    episode_id: uuid.UUID,
    expected_version: int,
    offered_at: datetime | None = None,
    response: ReturnInterviewResponse | None = None,
    held_on: date | None = None,
    held_by: str | None = None,
    notes: str | None = None,
) -> MissingEpisode:
    """Record the return home interview: the offer (which meets the rule 30 deadline, met or
    missed), the child's answer, and when and by whom it was held. The offer, once recorded,
    stands (the deadline was judged on it); the answer and the interview can follow later."""
    episode, _case = _episode_for_change(
        session, actor=actor, episode_id=episode_id, expected_version=expected_version
    )
    if episode.ended_at is None:
        raise Conflict(
            "The child has not returned: a return home interview follows the return (record the "
            "return first).",
            code="child_still_missing",
        )
    if offered_at is None:
        offered_at = episode.interview_offered_at
        if offered_at is None:
            raise Invalid.field("offered_at", "Say when the return home interview was offered.")
    elif episode.interview_offered_at is not None and offered_at != episode.interview_offered_at:
        raise Conflict(
            f"The interview was recorded as offered at {episode.interview_offered_at.isoformat()}; "
            "the offer's time is not changed afterwards (the timescale was judged on it).",
            code="interview_offer_recorded",
        )
    _check_not_future("offered_at", offered_at)
    if offered_at < episode.ended_at:
        raise Invalid.field(
            "offered_at",
            "A return home interview is offered after the child's return (timescales rule 30).",
            rule="timescales rule 30",
        )
    if held_on is not None:
        if response is not ReturnInterviewResponse.accepted:
            raise Invalid.field(
                "held_on",
                "An interview is held only when the child accepted it (response 'accepted').",
                rule="timescales rule 30",
            )
        if held_on > clock.today():
            raise Invalid.field("held_on", "An interview cannot be held in the future.")
        if held_on < local_date(offered_at):
            raise Invalid.field("held_on", "The interview cannot be held before it was offered.")
        if not held_by:
            raise Invalid.field("held_by", "Say who held the interview.")
    elif held_by is not None:
        raise Invalid.field("held_by", "Give the date the interview was held (held_on).")
    before: dict[str, Any] = {
        "interview_offered_at": episode.interview_offered_at,
        "interview_response": episode.interview_response,
        "interview_held_on": episode.interview_held_on,
        "interview_held_by": episode.interview_held_by,
    }
    after: dict[str, Any] = {
        "interview_offered_at": offered_at,
        "interview_response": response,
        "interview_held_on": held_on,
        "interview_held_by": held_by,
    }
    changes = diff(before, after)
    if notes is not None and notes != episode.interview_notes:
        changes["interview_notes"] = {"before": None, "after": "(changed)"}
    if not changes:
        raise Conflict("The interview is already recorded like this.", code="no_change")
    episode.interview_offered_at = offered_at
    episode.interview_response = response
    episode.interview_held_on = held_on
    episode.interview_held_by = held_by
    if notes is not None:
        episode.interview_notes = notes
    session.flush()
    case_event_append(
        session,
        case_id=episode.case_id,
        child_id=episode.child_id,
        actor=actor,
        action=INTERVIEW_ACTION,
        subject_type=SUBJECT,
        subject_id=episode.id,
        changes=changes,
    )
    deadline_service.deadline_meet(
        session,
        subject_type=SUBJECT,
        subject_id=episode.id,
        kind=DeadlineKind.return_interview,
        met_date=local_date(offered_at),
    )
    session.flush()
    return episode


# --- reads -------------------------------------------------------------------------------------


def missing_episodes_for_child(session: Session, child_id: uuid.UUID) -> list[MissingEpisode]:
    """Every episode of the child, oldest first, without access checks: for the returns module
    (SSDA903 Missing: those with ``while_looked_after``), which logs its own export."""
    return list(
        session.scalars(
            select(MissingEpisode)
            .where(MissingEpisode.child_id == child_id)
            .order_by(MissingEpisode.started_at)
        )
    )


def missing_episode_get(
    session: Session, *, actor: Principal, episode_id: uuid.UUID
) -> MissingEpisode:
    """The episode, if its child is visible to the caller; the read is access-logged."""
    episode = session.get(MissingEpisode, episode_id)
    if episode is None:
        raise NotFound(EPISODE_NOT_VISIBLE)
    get_person_for_read(
        session,
        principal=actor,
        person_id=episode.child_id,
        resource=SUBJECT,
        case_id=episode.case_id,
    )
    return episode


def missing_episode_list(
    session: Session, *, actor: Principal, child_id: uuid.UUID
) -> list[MissingEpisode]:
    """The child's missing and absent episodes, oldest first; the read is access-logged."""
    get_person_for_read(session, principal=actor, person_id=child_id, resource="missing_episodes")
    return missing_episodes_for_child(session, child_id)


def interview_deadlines(
    session: Session, *, episode_ids: list[uuid.UUID]
) -> dict[uuid.UUID, Deadline]:
    """The rule 30 deadline of each episode that has one (those that have ended)."""
    if not episode_ids:
        return {}
    rows = session.scalars(
        select(Deadline).where(
            and_(
                Deadline.subject_type == SUBJECT,
                Deadline.subject_id.in_(episode_ids),
                Deadline.kind == DeadlineKind.return_interview,
            )
        )
    )
    return {d.subject_id: d for d in rows}
