"""Referrals: accepted from a MASH contact or made directly, flagged when they are re-referrals,
and decided (timescales rule 2) with the child's case moving as the consequence.

A referral starts a CIN episode, and the case is the episode: one referral per case (a unique
constraint). Its decision on the type of response goes through the referral's machine
(``REFERRAL_MACHINE``) and then moves the case (``start_assessment``, ``start_strategy`` or
``referral_nfa``), whose machine meets the rule-2 deadline. Every query starts from the children
the caller may see; every read that shows a child is written to ``access_log``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app import clock
from app.api.pagination import decode_cursor, encode_cursor
from app.audit.service import access_log_append
from app.calendar import add_months
from app.cases import service as case_service
from app.cases.workflow import CASE_MACHINE, REFERRAL
from app.config import Settings
from app.core_types import PrimaryNeed, ReferralSource
from app.deadlines import service as deadline_service
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.models.cases import Case
from app.models.deadlines import Deadline, DeadlineKind
from app.models.frontdoor import Referral, ReferralDecision
from app.models.people import Person
from app.referrals.schemas import ReferralCreate
from app.referrals.workflow import AWAITING_DECISION, CASE_EVENT_FOR, REFERRAL_MACHINE
from app.security.access import (
    get_person_for_read,
    person_denied,
    person_visible,
    readable_people,
    require_case_change,
)
from app.security.principal import Principal
from app.workflow import engine

REFERRAL_NOT_VISIBLE = "There is no referral with this id that you can see."
#: DfE measure: "re-referrals within 12 months of a previous referral" (calendar months).
RE_REFERRAL_MONTHS = 12


@dataclass(frozen=True)
class ReferralView:
    """A referral with its rule-2 deadline (None once the case has no such deadline)."""

    referral: Referral
    decision_deadline: Deadline | None


# --- rules -------------------------------------------------------------------------------------


def referral_date_errors(
    referral_date: date, *, child: Person, not_before: date | None, field: str
) -> list[dict[str, Any]]:
    """What is wrong with a referral date: in the future, before the contact it came from
    (``not_before``), or after the child's death. Empty when it is acceptable."""
    errors: list[dict[str, Any]] = []
    if referral_date > clock.today():
        errors.append({"field": field, "message": "A referral cannot be dated in the future."})
    elif not_before is not None and referral_date < not_before:
        errors.append(
            {
                "field": field,
                "message": f"A referral cannot be dated before the contact it came from "
                f"({not_before.isoformat()}).",
            }
        )
    if child.date_of_death is not None and referral_date > child.date_of_death:
        errors.append(
            {
                "field": field,
                "message": "A referral cannot be dated after the child's death "
                "(CIN census: nothing happens after death).",
            }
        )
    return errors


def previous_referral(
    session: Session, *, child_id: uuid.UUID, referral_date: date, exclude_case_id: uuid.UUID
) -> Referral | None:
    """The child's latest other referral dated within the 12 calendar months up to and including
    ``referral_date`` (``app.calendar.add_months``; the DfE re-referral measure), if any."""
    since = add_months(referral_date, -RE_REFERRAL_MONTHS)
    return session.scalar(
        select(Referral)
        .where(
            Referral.child_id == child_id,
            Referral.case_id != exclude_case_id,
            Referral.referral_date >= since,
            Referral.referral_date <= referral_date,
        )
        .order_by(Referral.referral_date.desc(), Referral.created_at.desc())
        .limit(1)
    )


# --- writes ------------------------------------------------------------------------------------


def referral_record(
    session: Session,
    *,
    actor: Principal,
    case: Case,
    referral_date: date,
    source: ReferralSource,
    primary_need: PrimaryNeed,
    contact_id: uuid.UUID | None = None,
) -> Referral:
    """Record the referral of a case that has just taken ``accept_referral``, flagged as a
    re-referral when the child had another referral in the 12 months before it."""
    previous = previous_referral(
        session, child_id=case.child_id, referral_date=referral_date, exclude_case_id=case.id
    )
    referral = Referral(
        id=uuid.uuid4(),
        case_id=case.id,
        child_id=case.child_id,
        contact_id=contact_id,
        referral_date=referral_date,
        source=source,
        primary_need=primary_need,
        is_re_referral=previous is not None,
        previous_referral_id=previous.id if previous else None,
        recorded_by_id=actor.user_id,
    )
    session.add(referral)
    engine.start(
        session,
        machine=REFERRAL_MACHINE,
        record=referral,
        actor=actor,
        case_id=case.id,
        child_id=case.child_id,
        action="referral_recorded",
        data={
            "referral_date": referral_date,
            "source": source,
            "primary_need": primary_need,
            "contact_id": contact_id,
            "is_re_referral": referral.is_re_referral,
            "previous_referral_id": referral.previous_referral_id,
        },
    )
    return referral


def referral_create(
    session: Session, *, actor: Principal, data: ReferralCreate, settings: Settings | None = None
) -> Referral:
    """A referral made directly to children's social care: open the child's case and accept it
    as a referral at once.

    It never passed the front door, so the contact-decision clock that opening a case starts
    (rule 1) is stopped rather than met: it counts neither as on time nor as late.
    """
    child = get_person_for_read(
        session, principal=actor, person_id=data.child_id, resource="referral"
    )
    errors = referral_date_errors(
        data.referral_date, child=child, not_before=None, field="referral_date"
    )
    if errors:
        raise Invalid("Please correct: referral_date.", errors=errors)
    try:
        case = case_service.case_open(
            session,
            actor=actor,
            child_id=child.id,
            team_id=data.team_id,
            opened_date=data.referral_date,
            worker_id=data.worker_id,
            summary=data.summary,
            settings=settings,
        )
    except Conflict as exc:
        if exc.code != "case_already_open":
            raise
        existing = exc.extra["existing_case_id"]
        raise Conflict(
            f"This child already has an open case ({existing}): a new referral starts a new "
            "episode only once that one has closed (CIN census rules 8815/8816). Record a contact "
            "on the open case instead.",
            code="case_already_open",
            existing_case_id=existing,
        ) from None
    deadline_service.deadlines_stop(session, case_id=case.id, on=data.referral_date)
    case_service.case_transition(
        session,
        actor=actor,
        case_id=case.id,
        event="accept_referral",
        expected_version=case.version,
        data={"referral_date": data.referral_date.isoformat()},
    )
    return referral_record(
        session,
        actor=actor,
        case=case,
        referral_date=data.referral_date,
        source=data.source,
        primary_need=data.primary_need,
    )


def referral_decide(
    session: Session,
    *,
    actor: Principal,
    referral_id: uuid.UUID,
    expected_version: int,
    decision: ReferralDecision,
    reason: str | None,
) -> Referral:
    """Decide the type of response (rule 2) and move the case: an assessment
    (``start_assessment``), a strategy discussion (``start_strategy``), or no further action
    (``referral_nfa``: the episode closes, CIN census ReferralNFA)."""
    referral = _referral_for_write(session, actor=actor, referral_id=referral_id)
    case = session.get(Case, referral.case_id)
    if case is None:  # pragma: no cover - the foreign key makes this impossible
        raise NotFound(REFERRAL_NOT_VISIBLE)
    # Who may change the case first: a 412 to another team would disclose the referral's version.
    require_case_change(actor, case)
    engine.require_version(referral, expected_version)
    case_event = CASE_EVENT_FOR[decision]
    if referral.state == AWAITING_DECISION:
        # Checked before anything is written, so the referral and its case move together or not
        # at all (the engine checks the referral itself as it applies the decision).
        transition = CASE_MACHINE.transition(case.state, case_event)
        if case.state != REFERRAL or transition is None:
            raise Conflict(
                f"The case is in '{case.state}', not at referral: the decision can no longer move "
                "it.",
                code="case_not_at_referral",
                current_state=case.state,
            )
        if actor.role not in transition.roles:
            raise Forbidden(f"Your role ({actor.role.value}) may not take '{case_event}'.")
    engine.apply(
        session,
        machine=REFERRAL_MACHINE,
        record=referral,
        event="decide",
        actor=actor,
        expected_version=expected_version,
        reason=reason,
        data={"decision": decision.value},
        case_id=case.id,
        child_id=case.child_id,
    )
    case_service.case_transition(
        session,
        actor=actor,
        case_id=case.id,
        event=case_event,
        expected_version=case.version,
        reason=reason,
    )
    return referral


# --- reads -------------------------------------------------------------------------------------


def _referral_for_write(session: Session, *, actor: Principal, referral_id: uuid.UUID) -> Referral:
    referral = session.get(Referral, referral_id)
    if referral is None:
        raise NotFound(REFERRAL_NOT_VISIBLE)
    if session.scalar(readable_people(actor).where(Person.id == referral.child_id)) is None:
        raise person_denied(
            session, principal=actor, person_id=referral.child_id, resource="referral"
        )
    return referral


def _decision_deadlines(
    session: Session, case_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Deadline]:
    ids = list(dict.fromkeys(case_ids))
    if not ids:
        return {}
    rows = session.scalars(
        select(Deadline)
        .where(
            Deadline.subject_type == "case",
            Deadline.subject_id.in_(ids),
            Deadline.kind == DeadlineKind.referral_decision,
        )
        .order_by(Deadline.start_date)
    )
    return {d.subject_id: d for d in rows}


def _views(session: Session, referrals: Sequence[Referral]) -> list[ReferralView]:
    deadlines = _decision_deadlines(session, (r.case_id for r in referrals))
    return [ReferralView(r, deadlines.get(r.case_id)) for r in referrals]


def referral_get(session: Session, *, actor: Principal, referral_id: uuid.UUID) -> ReferralView:
    """The referral and its rule-2 deadline, if its child is visible (the read is access-logged)."""
    referral = session.get(Referral, referral_id)
    if referral is None:
        raise NotFound(REFERRAL_NOT_VISIBLE)
    get_person_for_read(
        session,
        principal=actor,
        person_id=referral.child_id,
        resource="referral",
        case_id=referral.case_id,
    )
    return _views(session, [referral])[0]


def referral_list(
    session: Session,
    *,
    actor: Principal,
    child_id: uuid.UUID | None = None,
    team_id: uuid.UUID | None = None,
    state: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[ReferralView], str | None]:
    """Referrals of the children the caller may see, newest first, each with its re-referral
    flag; one access_log row per child shown."""
    if state is not None and state not in REFERRAL_MACHINE.states:
        raise Invalid.field("state", f"state must be one of: {', '.join(REFERRAL_MACHINE.states)}.")
    stmt = (
        select(Referral).join(Person, Person.id == Referral.child_id).where(person_visible(actor))
    )
    if child_id is not None:
        stmt = stmt.where(Referral.child_id == child_id)
    if team_id is not None:
        stmt = stmt.join(Case, Case.id == Referral.case_id).where(Case.team_id == team_id)
    if state is not None:
        stmt = stmt.where(Referral.state == state)
    if cursor is not None:
        values = decode_cursor(cursor)
        if (
            len(values) != 2
            or not isinstance(values[0], date)
            or not isinstance(values[1], uuid.UUID)
        ):
            raise Invalid.field("cursor", "This cursor is not one we gave out.")
        after_date, after_id = values
        stmt = stmt.where(
            or_(
                Referral.referral_date < after_date,
                and_(Referral.referral_date == after_date, Referral.id < after_id),
            )
        )
    rows = list(
        session.scalars(
            stmt.order_by(Referral.referral_date.desc(), Referral.id.desc()).limit(limit + 1)
        )
    )
    page, more = rows[:limit], len(rows) > limit
    for child in dict.fromkeys(r.child_id for r in page):
        access_log_append(
            session, principal=actor, action="list", resource="referral_list", person_id=child
        )
    next_cursor = encode_cursor((page[-1].referral_date, page[-1].id)) if more else None
    return _views(session, page), next_cursor
