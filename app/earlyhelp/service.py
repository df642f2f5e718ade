"""Early help (issue 6, part 2): the step-down from social care, the work with the family (a lead
professional, a team around the family, an early help assessment and plan), and the way back up.

- **Step-down.** An episode opens by itself when the MASH decides "early help" for a child at a
  contact, when an authorised assessment ends with outcome early help (RC9), or — through
  :func:`early_help_step_down_at_closure` — when a closed CIN or CP case steps down. Each is in the
  same transaction as the decision that caused it. The episode goes to the one active early help
  team when the council has exactly one; otherwise it waits for the early help hub to allocate it
  (``team_id`` None). A child already in an open episode keeps it: a second step-down joins it.
- **The work.** Allocation (team and lead professional: a council worker, or a named person in a
  partner agency such as a school), the early help assessment, the plan, the team around the
  family, and the end (needs met, declined — early help is voluntary —, disengaged, moved away,
  other). Each change takes the version the caller last read (412 when stale) and is written to
  the chronology of the case that stepped down.
- **Step-up.** A step-up goes through the front door like any other concern: a new contact (source
  5D, "LA services: early help") is recorded for the child through the contacts service, the
  episode ends ``stepped_up`` and names the case the contact sits on. When the MASH accepts that
  contact as a referral, it is a re-referral by the DfE rule (another referral of the child in the
  12 months before it), like any other; :func:`step_up_figures` counts them.
"""

from __future__ import annotations

import statistics
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, select, tuple_
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from app import clock
from app.api.pagination import decode_cursor, encode_cursor
from app.audit.service import access_log_append, case_event_append
from app.calendar import LONDON
from app.cases import service as case_service
from app.cases.workflow import CLOSED as CASE_CLOSED
from app.contacts import service as contact_service
from app.contacts.schemas import ContactCreate
from app.core_types import ReferralSource
from app.earlyhelp.workflow import (
    ASSESS_EVENT,
    CLOSE_EVENT,
    EARLY_HELP_MACHINE,
    OPENED_ACTION,
    PLAN_EVENT,
    STEP_UP_EVENT,
)
from app.errors import Conflict, Forbidden, IllegalTransition, Invalid, NotFound
from app.models.cases import Case
from app.models.earlyhelp import (
    EarlyHelpEpisode,
    EarlyHelpMember,
    EarlyHelpOrigin,
    EarlyHelpOutcome,
)
from app.models.frontdoor import ConsentToShare, Contact, ContactChild, RagRating, Referral
from app.models.org import Role, Team, TeamKind, UserAccount
from app.models.people import Person
from app.security.access import get_person_for_read, person_denied, person_visible
from app.security.principal import Principal
from app.workflow import engine

NOT_VISIBLE = "There is no early help episode with this id that you can see."
MEMBER_NOT_FOUND = "There is no member with this id in this episode's team around the family."
SUBJECT = EARLY_HELP_MACHINE.subject_type
RESOURCE = "early_help"
ALLOCATED = "early_help_allocated"
MEMBER_JOINED = "early_help_member_joined"
MEMBER_LEFT = "early_help_member_left"
FINAL_STATES = EARLY_HELP_MACHINE.final_states
#: The states a step-up may be made from.
STEPPABLE = tuple(t.source for t in EARLY_HELP_MACHINE.transitions if t.event == STEP_UP_EVENT)


# --- who and what ------------------------------------------------------------------------------


def early_help_team(session: Session) -> Team | None:
    """The council's early help team when it has exactly one active team of that kind; None when
    it has none or several (the episode then waits for the early help hub to allocate it)."""
    teams = list(
        session.scalars(
            select(Team).where(Team.kind == TeamKind.early_help, Team.is_active.is_(True)).limit(2)
        )
    )
    return teams[0] if len(teams) == 1 else None


def _early_help_team_ids(session: Session) -> set[uuid.UUID]:
    return set(
        session.scalars(
            select(Team.id).where(Team.kind == TeamKind.early_help, Team.is_active.is_(True))
        )
    )


def may_change_episode(session: Session, principal: Principal, episode: EarlyHelpEpisode) -> bool:
    """The episode's team (or its lead professional) and service managers; an episode awaiting
    allocation, any member of an early help team (the hub that allocates it). Early help workers
    hold the social worker role; MASH officers decide at the door but do not work episodes."""
    if principal.role is Role.service_manager:
        return True
    if principal.role not in (Role.social_worker, Role.team_manager):
        return False
    if episode.lead_professional_user_id == principal.user_id:
        return True
    if episode.team_id is not None:
        return episode.team_id in principal.team_ids
    return bool(_early_help_team_ids(session) & principal.team_ids)


def _visible_episode(
    session: Session, *, actor: Principal, episode_id: uuid.UUID
) -> EarlyHelpEpisode:
    episode = session.get(EarlyHelpEpisode, episode_id)
    if episode is None:
        raise NotFound(NOT_VISIBLE)
    visible = session.scalar(
        select(Person.id).where(Person.id == episode.child_id, person_visible(actor))
    )
    if visible is None:
        raise person_denied(session, principal=actor, person_id=episode.child_id, resource=RESOURCE)
    return episode


def _for_step(
    session: Session,
    *,
    actor: Principal,
    episode_id: uuid.UUID,
    expected_version: int,
    event: str | None,
) -> EarlyHelpEpisode:
    """The episode about to change, checked in this order: its child visible (404), the caller
    one who may change it (403), the version the caller read (412), the step allowed from its
    state (409; ``event`` None: any change while the episode is open). Who may change it comes
    before its version and state, which a 412 or 409 would otherwise disclose to another team
    (OWASP API1)."""
    episode = _visible_episode(session, actor=actor, episode_id=episode_id)
    if not may_change_episode(session, actor, episode):
        raise Forbidden(
            "You can see this early help episode but not change it: it is held by another team."
        )
    engine.require_version(episode, expected_version)
    if event is not None:
        if EARLY_HELP_MACHINE.transition(episode.state, event) is None:
            allowed = [
                t.event
                for t in engine.allowed_events(EARLY_HELP_MACHINE, episode.state, actor.role)
            ]
            offer = ", ".join(allowed) if allowed else "none that you may take"
            raise IllegalTransition(
                f"'{event}' is not possible while the early help episode is '{episode.state}'; "
                f"from here: {offer}.",
                current_state=episode.state,
                allowed_events=allowed,
            )
    elif episode.state in FINAL_STATES:
        raise Conflict(
            f"This early help episode has ended ({episode.state}): nothing more is recorded on "
            "it. A new step-down opens a new episode.",
            code="early_help_ended",
            current_state=episode.state,
        )
    return episode


def _not_in_future(name: str, when: date) -> None:
    if when > clock.today():
        raise Invalid.field(name, "This cannot be in the future.")


def _not_before(name: str, when: date, earlier: date | None, what: str) -> None:
    if earlier is not None and when < earlier:
        raise Invalid.field(name, f"This cannot be before {what} ({earlier.isoformat()}).")


def _touch(session: Session, episode: EarlyHelpEpisode) -> None:
    """A change beside the episode's own columns (the team around the family) still moves its
    version, so a colleague working from a stale screen gets 412 rather than a surprise."""
    episode.updated_at = clock.now()
    flag_modified(episode, "updated_at")  # an UPDATE even when the clock has not moved
    session.flush()


def _event(
    session: Session,
    *,
    actor: Principal,
    episode: EarlyHelpEpisode,
    action: str,
    subject_type: str = SUBJECT,
    subject_id: uuid.UUID | None = None,
    reason: str | None = None,
    changes: dict[str, Any],
) -> None:
    case_event_append(
        session,
        case_id=episode.origin_case_id,
        child_id=episode.child_id,
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id or episode.id,
        to_state=episode.state,
        reason=reason,
        changes=changes,
    )


# --- step-down ---------------------------------------------------------------------------------


def _open_episode(session: Session, child_id: uuid.UUID) -> EarlyHelpEpisode | None:
    return session.scalar(
        select(EarlyHelpEpisode)
        .where(
            EarlyHelpEpisode.child_id == child_id,
            EarlyHelpEpisode.state.not_in(FINAL_STATES),
        )
        .limit(1)
    )


def early_help_step_down(
    session: Session,
    *,
    actor: Principal,
    case: Case,
    origin: EarlyHelpOrigin,
    on: date,
    reason: str | None = None,
) -> EarlyHelpEpisode:
    """Open the child's early help episode on ``on``, stepped down from ``case`` (a contact the
    MASH decided for early help, an assessment that ended with early help, or a case that closed
    to it), in the caller's transaction.

    The team is the council's one active early help team when there is exactly one (see
    :func:`early_help_team`); otherwise None, awaiting allocation by the early help hub. A child
    already in an open episode keeps it: that episode is returned and nothing new is opened (the
    step-down is still on the case's chronology, as the decision that caused it)."""
    existing = _open_episode(session, case.child_id)
    if existing is not None:
        return existing
    team = early_help_team(session)
    episode = EarlyHelpEpisode(
        id=uuid.uuid4(),
        child_id=case.child_id,
        origin=origin,
        origin_case_id=case.id,
        team_id=team.id if team else None,
        start_date=on,
        recorded_by_id=actor.user_id,
    )
    session.add(episode)
    engine.start(
        session,
        machine=EARLY_HELP_MACHINE,
        record=episode,
        actor=actor,
        case_id=case.id,
        child_id=case.child_id,
        action=OPENED_ACTION,
        reason=reason,
        data={"origin": origin, "start_date": on, "team_id": episode.team_id},
    )
    return episode


def early_help_step_down_at_closure(
    session: Session,
    *,
    actor: Principal,
    case_id: uuid.UUID,
    start_date: date,
    reason: str | None = None,
) -> EarlyHelpEpisode:
    """A child in need or child protection case that has closed steps down to early help (the
    family agreed to it). The case must be closed (409 otherwise: early help follows social care,
    it does not run beside it), the start not before the closure and not in the future (422), and
    the child not already in an open episode (409)."""
    case = case_service.case_for_change(session, actor=actor, case_id=case_id)
    if case.state != CASE_CLOSED:
        raise Conflict(
            "This case is still open: a case steps down to early help when it closes. Close it "
            "first (or, at a contact or an assessment, decide early help there).",
            code="case_open",
            current_state=case.state,
        )
    _not_in_future("start_date", start_date)
    _not_before("start_date", start_date, case.closed_date, "the case closed")
    existing = _open_episode(session, case.child_id)
    if existing is not None:
        raise Conflict(
            "This child is already receiving early help: record the work on that episode.",
            code="early_help_already_open",
            existing_episode_id=str(existing.id),
        )
    return early_help_step_down(
        session,
        actor=actor,
        case=case,
        origin=EarlyHelpOrigin.case_closure,
        on=start_date,
        reason=reason,
    )


# --- the work ----------------------------------------------------------------------------------


def early_help_allocate(
    session: Session,
    *,
    actor: Principal,
    episode_id: uuid.UUID,
    expected_version: int,
    team_id: uuid.UUID,
    lead_professional_user_id: uuid.UUID | None = None,
    lead_professional_name: str | None = None,
    lead_professional_agency: str | None = None,
) -> EarlyHelpEpisode:
    """Allocate (or reallocate) the episode to an early help team and a lead professional: a
    council worker, or a named person in a partner agency (a school, a health visitor). One or
    the other, never both; an agency goes with a name."""
    episode = _for_step(
        session, actor=actor, episode_id=episode_id, expected_version=expected_version, event=None
    )
    errors: list[dict[str, str]] = []
    team = session.get(Team, team_id)
    if team is None or not team.is_active or team.kind is not TeamKind.early_help:
        errors.append(
            {"field": "team_id", "message": "There is no active early help team with this id."}
        )
    if lead_professional_user_id is not None:
        if lead_professional_name is not None or lead_professional_agency is not None:
            errors.append(
                {
                    "field": "lead_professional_name",
                    "message": "Name a council worker or a partner agency's professional, "
                    "not both.",
                }
            )
        user = session.get(UserAccount, lead_professional_user_id)
        if user is None or not user.is_active:
            errors.append(
                {
                    "field": "lead_professional_user_id",
                    "message": "There is no active member of staff with this id.",
                }
            )
    elif lead_professional_name is None:
        errors.append(
            {
                "field": "lead_professional_name",
                "message": "Name the lead professional (or give a council worker's id).",
            }
        )
    elif lead_professional_agency is None:
        errors.append(
            {
                "field": "lead_professional_agency",
                "message": "Say which agency the lead professional works for.",
            }
        )
    if errors:
        raise Invalid(
            "Please correct: " + ", ".join(dict.fromkeys(e["field"] for e in errors)) + ".",
            errors=errors,
        )
    changes: dict[str, Any] = {
        "team_id": {"before": episode.team_id, "after": team_id},
        "lead_professional_user_id": {
            "before": episode.lead_professional_user_id,
            "after": lead_professional_user_id,
        },
        "lead_professional_name": {
            "before": episode.lead_professional_name,
            "after": lead_professional_name,
        },
        "lead_professional_agency": {
            "before": episode.lead_professional_agency,
            "after": lead_professional_agency,
        },
    }
    episode.team_id = team_id
    episode.lead_professional_user_id = lead_professional_user_id
    episode.lead_professional_name = lead_professional_name
    episode.lead_professional_agency = lead_professional_agency
    session.flush()
    _event(session, actor=actor, episode=episode, action=ALLOCATED, changes=changes)
    return episode


def early_help_record_assessment(
    session: Session,
    *,
    actor: Principal,
    episode_id: uuid.UUID,
    expected_version: int,
    assessment_date: date,
    summary: str,
) -> EarlyHelpEpisode:
    """Record the early help assessment (Annex A list 2 lists these): not in the future, not
    before the episode started."""
    episode = _for_step(
        session,
        actor=actor,
        episode_id=episode_id,
        expected_version=expected_version,
        event=ASSESS_EVENT,
    )
    _not_in_future("assessment_date", assessment_date)
    _not_before("assessment_date", assessment_date, episode.start_date, "early help started")
    engine.apply(
        session,
        machine=EARLY_HELP_MACHINE,
        record=episode,
        event=ASSESS_EVENT,
        actor=actor,
        expected_version=expected_version,
        case_id=episode.origin_case_id,
        child_id=episode.child_id,
        data={"assessment_date": assessment_date, "assessment_summary": summary},
    )
    return episode


def early_help_record_plan(
    session: Session,
    *,
    actor: Principal,
    episode_id: uuid.UUID,
    expected_version: int,
    plan_date: date,
    summary: str,
) -> EarlyHelpEpisode:
    """Record the family's early help plan: not in the future, not before the assessment."""
    episode = _for_step(
        session,
        actor=actor,
        episode_id=episode_id,
        expected_version=expected_version,
        event=PLAN_EVENT,
    )
    _not_in_future("plan_date", plan_date)
    _not_before("plan_date", plan_date, episode.assessment_date, "the assessment")
    engine.apply(
        session,
        machine=EARLY_HELP_MACHINE,
        record=episode,
        event=PLAN_EVENT,
        actor=actor,
        expected_version=expected_version,
        case_id=episode.origin_case_id,
        child_id=episode.child_id,
        data={"plan_date": plan_date, "plan_summary": summary},
    )
    return episode


def _latest_step(episode: EarlyHelpEpisode) -> tuple[date, str]:
    if episode.plan_date is not None:
        return episode.plan_date, "the plan"
    if episode.assessment_date is not None:
        return episode.assessment_date, "the assessment"
    return episode.start_date, "early help started"


def early_help_close(
    session: Session,
    *,
    actor: Principal,
    episode_id: uuid.UUID,
    expected_version: int,
    end_date: date,
    outcome: EarlyHelpOutcome,
    outcome_notes: str | None = None,
) -> EarlyHelpEpisode:
    """End the episode with its outcome, from any open state (early help is voluntary: a family
    may decline before any assessment). ``stepped_up`` is not an outcome to choose here: a
    step-up is :func:`early_help_step_up`, which sends the new contact. The end is not in the
    future and not before the latest of the start, the assessment and the plan; members of the
    team around the family still in it leave on that day."""
    episode = _for_step(
        session,
        actor=actor,
        episode_id=episode_id,
        expected_version=expected_version,
        event=CLOSE_EVENT,
    )
    if outcome is EarlyHelpOutcome.stepped_up:
        raise Invalid.field(
            "outcome",
            "A step-up is made with the step-up, which sends the new contact to the front door.",
        )
    _not_in_future("end_date", end_date)
    latest, what = _latest_step(episode)
    _not_before("end_date", end_date, latest, what)
    _members_leave(session, episode, end_date)
    engine.apply(
        session,
        machine=EARLY_HELP_MACHINE,
        record=episode,
        event=CLOSE_EVENT,
        actor=actor,
        expected_version=expected_version,
        case_id=episode.origin_case_id,
        child_id=episode.child_id,
        data={"end_date": end_date, "outcome": outcome, "outcome_notes": outcome_notes},
    )
    return episode


def _members_leave(session: Session, episode: EarlyHelpEpisode, on: date) -> None:
    for member in session.scalars(
        select(EarlyHelpMember).where(
            EarlyHelpMember.episode_id == episode.id, EarlyHelpMember.left_date.is_(None)
        )
    ):
        member.left_date = max(on, member.joined_date)


def _front_door(session: Session, team_id: uuid.UUID | None) -> Team:
    if team_id is not None:
        team = session.get(Team, team_id)
        if team is None or not team.is_active or team.kind is not TeamKind.front_door:
            raise Invalid.field(
                "team_id", "There is no active front door (MASH) team with this id."
            )
        return team
    teams = list(
        session.scalars(
            select(Team).where(Team.kind == TeamKind.front_door, Team.is_active.is_(True)).limit(2)
        )
    )
    if len(teams) != 1:
        raise Invalid.field(
            "team_id",
            "Say which front door (MASH) team takes the step-up: the council has "
            f"{'none' if not teams else 'more than one'}.",
        )
    return teams[0]


def early_help_step_up(
    session: Session,
    *,
    actor: Principal,
    episode_id: uuid.UUID,
    expected_version: int,
    reason: str,
    rag: RagRating,
    consent: ConsentToShare = ConsentToShare.given,
    consent_reason: str | None = None,
    team_id: uuid.UUID | None = None,
) -> EarlyHelpEpisode:
    """Step the child up to children's social care: record a new contact to the front door
    through the contacts service (source 5D, "LA services: early help"; the lead professional's
    concern is its concern; consent as for any contact), end the episode ``stepped_up`` today and
    name the case the contact sits on (a new case, or the child's open one it joins).

    The contact joins the MASH queue like any other; the step-up does not decide it. The early
    help worker is not a member of the front door team; the front door takes step-ups from early
    help as it takes contacts from any agency (``step_up_from_early_help``)."""
    episode = _for_step(
        session,
        actor=actor,
        episode_id=episode_id,
        expected_version=expected_version,
        event=STEP_UP_EVENT,
    )
    front_door = _front_door(session, team_id)
    lead = _lead_professional_name(session, episode)
    team_name = session.scalar(select(Team.name).where(Team.id == episode.team_id))
    contact = contact_service.contact_create(
        session,
        actor=actor,
        step_up_from_early_help=True,
        data=ContactCreate(
            child_ids=[episode.child_id],
            team_id=front_door.id,
            source=ReferralSource.LA_EARLY_HELP,
            referrer_name=lead or actor.display_name,
            referrer_role="Early help lead professional" if lead else None,
            referrer_organisation=(episode.lead_professional_agency or team_name or "Early help")[
                :200
            ],
            concern=reason,
            consent=consent,
            consent_reason=consent_reason,
            rag=rag,
        ),
    )
    step_up_case_id = session.scalar(
        select(ContactChild.case_id).where(ContactChild.contact_id == contact.id)
    )
    assert step_up_case_id is not None  # contact_create named the child
    end_date = contact.received_at.astimezone(LONDON).date()
    _members_leave(session, episode, end_date)
    engine.apply(
        session,
        machine=EARLY_HELP_MACHINE,
        record=episode,
        event=STEP_UP_EVENT,
        actor=actor,
        expected_version=expected_version,
        case_id=episode.origin_case_id,
        child_id=episode.child_id,
        reason=reason,
        data={"end_date": end_date, "step_up_case_id": step_up_case_id, "contact_id": contact.id},
    )
    return episode


def _lead_professional_name(session: Session, episode: EarlyHelpEpisode) -> str | None:
    if episode.lead_professional_user_id is not None:
        return session.scalar(
            select(UserAccount.display_name).where(
                UserAccount.id == episode.lead_professional_user_id
            )
        )
    return episode.lead_professional_name


def early_help_member_add(
    session: Session,
    *,
    actor: Principal,
    episode_id: uuid.UUID,
    expected_version: int,
    name: str,
    agency: str,
    joined_date: date,
    role: str | None = None,
    user_id: uuid.UUID | None = None,
) -> EarlyHelpMember:
    """Someone joins the team around the family (not before early help started, not in the
    future; only while the episode is open)."""
    episode = _for_step(
        session, actor=actor, episode_id=episode_id, expected_version=expected_version, event=None
    )
    _not_in_future("joined_date", joined_date)
    _not_before("joined_date", joined_date, episode.start_date, "early help started")
    if user_id is not None:
        user = session.get(UserAccount, user_id)
        if user is None or not user.is_active:
            raise Invalid.field("user_id", "There is no active member of staff with this id.")
    member = EarlyHelpMember(
        id=uuid.uuid4(),
        episode_id=episode.id,
        name=name,
        agency=agency,
        role=role,
        user_id=user_id,
        joined_date=joined_date,
    )
    session.add(member)
    _touch(session, episode)
    _event(
        session,
        actor=actor,
        episode=episode,
        action=MEMBER_JOINED,
        subject_type="early_help_member",
        subject_id=member.id,
        changes={
            "episode_id": episode.id,
            "name": name,
            "agency": agency,
            "role": role,
            "joined_date": joined_date,
        },
    )
    return member


def early_help_member_end(
    session: Session,
    *,
    actor: Principal,
    episode_id: uuid.UUID,
    member_id: uuid.UUID,
    expected_version: int,
    left_date: date,
) -> EarlyHelpMember:
    """Someone leaves the team around the family (once; not before they joined, not in the
    future)."""
    episode = _for_step(
        session, actor=actor, episode_id=episode_id, expected_version=expected_version, event=None
    )
    member = session.get(EarlyHelpMember, member_id)
    if member is None or member.episode_id != episode.id:
        raise NotFound(MEMBER_NOT_FOUND)
    if member.left_date is not None:
        raise Conflict(
            f"{member.name} already left the team around the family "
            f"({member.left_date.isoformat()}).",
            code="member_left",
        )
    _not_in_future("left_date", left_date)
    _not_before("left_date", left_date, member.joined_date, "they joined")
    member.left_date = left_date
    _touch(session, episode)
    _event(
        session,
        actor=actor,
        episode=episode,
        action=MEMBER_LEFT,
        subject_type="early_help_member",
        subject_id=member.id,
        changes={"episode_id": episode.id, "name": member.name, "left_date": left_date},
    )
    return member


# --- reads -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepUpReferral:
    id: uuid.UUID
    referral_date: date
    is_re_referral: bool


@dataclass(frozen=True)
class EpisodeView:
    """An episode with its team around the family and, after a step-up, the referral its
    contact became (None until the MASH accepts it)."""

    episode: EarlyHelpEpisode
    members: list[EarlyHelpMember]
    step_up_referral: StepUpReferral | None


def _step_up_referrals(
    session: Session, episodes: Sequence[EarlyHelpEpisode]
) -> dict[uuid.UUID, StepUpReferral]:
    """For each stepped-up episode, the referral of its step-up case that came from an early
    help contact on or after the step-up (a contact that joined a case already open does not
    make that case's earlier referral the step-up's)."""
    wanted = {
        e.step_up_case_id: e
        for e in episodes
        if e.step_up_case_id is not None and e.end_date is not None
    }
    if not wanted:
        return {}
    out: dict[uuid.UUID, StepUpReferral] = {}
    rows = session.execute(
        select(Referral.id, Referral.case_id, Referral.referral_date, Referral.is_re_referral)
        .join(Contact, Contact.id == Referral.contact_id)
        .where(
            Referral.case_id.in_(list(wanted)),
            Contact.source == ReferralSource.LA_EARLY_HELP,
        )
    )
    for referral_id, case_id, referral_date, is_re_referral in rows:
        episode = wanted[case_id]
        assert episode.end_date is not None
        if referral_date >= episode.end_date:
            out[episode.id] = StepUpReferral(referral_id, referral_date, is_re_referral)
    return out


def early_help_get(session: Session, *, actor: Principal, episode_id: uuid.UUID) -> EpisodeView:
    """The episode, its team around the family and its step-up referral, if the child is
    visible to the caller (404 otherwise); the read is access-logged."""
    episode = session.get(EarlyHelpEpisode, episode_id)
    if episode is None:
        raise NotFound(NOT_VISIBLE)
    get_person_for_read(
        session,
        principal=actor,
        person_id=episode.child_id,
        resource=RESOURCE,
        case_id=episode.origin_case_id,
    )
    return episode_view(session, episode)


def episode_view(session: Session, episode: EarlyHelpEpisode) -> EpisodeView:
    """The episode as :func:`early_help_get` shows it, without writing access_log: only for the
    answer to a write that has just checked the child is visible."""
    members = list(
        session.scalars(
            select(EarlyHelpMember)
            .where(EarlyHelpMember.episode_id == episode.id)
            .order_by(EarlyHelpMember.joined_date, EarlyHelpMember.name, EarlyHelpMember.id)
        )
    )
    return EpisodeView(episode, members, _step_up_referrals(session, [episode]).get(episode.id))


def early_help_list(
    session: Session,
    *,
    actor: Principal,
    team_id: uuid.UUID | None = None,
    state: str | None = None,
    child_id: uuid.UUID | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[EarlyHelpEpisode], str | None]:
    """Episodes of children the caller may see, latest start first, filtered by team, state and
    child; one access_log row per child shown."""
    if state is not None and state not in EARLY_HELP_MACHINE.states:
        raise Invalid.field(
            "state", f"state must be one of: {', '.join(EARLY_HELP_MACHINE.states)}."
        )
    stmt: Select[EarlyHelpEpisode] = (
        select(EarlyHelpEpisode)
        .join(Person, Person.id == EarlyHelpEpisode.child_id)
        .where(person_visible(actor))
    )
    if team_id is not None:
        stmt = stmt.where(EarlyHelpEpisode.team_id == team_id)
    if state is not None:
        stmt = stmt.where(EarlyHelpEpisode.state == state)
    if child_id is not None:
        stmt = stmt.where(EarlyHelpEpisode.child_id == child_id)
    if cursor is not None:
        values = decode_cursor(cursor)
        if (
            len(values) != 2
            or not isinstance(values[0], date)
            or not isinstance(values[1], uuid.UUID)
        ):
            raise Invalid.field("cursor", "This cursor is not one we gave out.")
        # Latest start first: "after" the cursor is an earlier start, or the same with a lower id.
        stmt = stmt.where(
            tuple_(EarlyHelpEpisode.start_date, EarlyHelpEpisode.id) < tuple_(*values)
        )
    episodes = list(
        session.scalars(
            stmt.order_by(EarlyHelpEpisode.start_date.desc(), EarlyHelpEpisode.id.desc()).limit(
                limit + 1
            )
        )
    )
    page, more = episodes[:limit], len(episodes) > limit
    for child in dict.fromkeys(e.child_id for e in page):
        access_log_append(
            session, principal=actor, action="list", resource="early_help_list", person_id=child
        )
    next_cursor = encode_cursor((page[-1].start_date, page[-1].id)) if more and page else None
    return page, next_cursor


# --- re-referral figures: step-ups -------------------------------------------------------------


@dataclass(frozen=True)
class StepUp:
    episode_id: uuid.UUID
    child_id: uuid.UUID
    step_down_date: date
    step_up_date: date
    step_up_case_id: uuid.UUID
    referral: StepUpReferral | None

    @property
    def days_in_early_help(self) -> int:
        return (self.step_up_date - self.step_down_date).days


@dataclass
class StepUpFigures:
    period_from: date
    period_to: date
    episodes: list[StepUp] = field(default_factory=list)

    @property
    def step_ups(self) -> int:
        return len(self.episodes)

    @property
    def became_referrals(self) -> int:
        return sum(1 for s in self.episodes if s.referral is not None)

    @property
    def re_referrals(self) -> int:
        return sum(1 for s in self.episodes if s.referral is not None and s.referral.is_re_referral)

    @property
    def median_days_to_step_up(self) -> float | None:
        days = [s.days_in_early_help for s in self.episodes]
        return float(statistics.median(days)) if days else None


def step_up_figures(
    session: Session, *, actor: Principal, period_from: date, period_to: date
) -> StepUpFigures:
    """The step-ups made in [period_from, period_to] (both inclusive, by the day the episode ended
    ``stepped_up``, i.e. the day the contact went to the front door), and what became of them:

    - **step-ups**: episodes that ended stepped up in the period;
    - **became referrals**: those whose contact the MASH accepted as a referral (the referral of
      the step-up case that came from an early help contact, dated on or after the step-up), by
      the day the figures are asked for;
    - **re-referrals**: those referrals flagged as re-referrals by the DfE rule (the child had
      another referral in the 12 months before it, ``app.referrals.service.previous_referral``)
      — so a child who stepped down at a contact, with no referral, and steps up within a year
      is not a re-referral, while one who stepped down after an assessment is;
    - **median days to step-up**: the median of the days from the step-down (the episode's
      start) to the step-up, over the step-ups in the period (None when there are none).

    Only children the caller may see are counted, and each child listed is access-logged.
    """
    if period_to < period_from:
        raise Invalid.field("to", "The period ends before it starts.")
    episodes = list(
        session.scalars(
            select(EarlyHelpEpisode)
            .join(Person, Person.id == EarlyHelpEpisode.child_id)
            .where(
                EarlyHelpEpisode.outcome == EarlyHelpOutcome.stepped_up,
                and_(
                    EarlyHelpEpisode.end_date >= period_from, EarlyHelpEpisode.end_date <= period_to
                ),
                person_visible(actor),
            )
            .order_by(EarlyHelpEpisode.end_date, EarlyHelpEpisode.id)
        )
    )
    referrals = _step_up_referrals(session, episodes)
    out = StepUpFigures(period_from=period_from, period_to=period_to)
    for episode in episodes:
        assert episode.end_date is not None
        assert episode.step_up_case_id is not None
        out.episodes.append(
            StepUp(
                episode_id=episode.id,
                child_id=episode.child_id,
                step_down_date=episode.start_date,
                step_up_date=episode.end_date,
                step_up_case_id=episode.step_up_case_id,
                referral=referrals.get(episode.id),
            )
        )
    for child in dict.fromkeys(e.child_id for e in episodes):
        access_log_append(
            session, principal=actor, action="list", resource="early_help_step_ups", person_id=child
        )
    return out
