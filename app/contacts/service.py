"""Contacts at the front door (MASH): receive one about a child or siblings, check with other
agencies, decide child by child, and tell the referrer.

Each child on a contact sits on a case: ``case_open`` opens one (and starts the rule-1 decision
clock from the RAG rating), or, when the child's case is already open, the contact joins that case
and goes to its worker (a ``contact_received`` event on it). Deciding moves each child's case
through the case machine — ``accept_referral`` with a ``Referral`` row, or ``nfa_contact`` with the
outcome — and, once every child is decided, the contact itself through ``CONTACT_MACHINE``.

Rules decided here:

- **Consent to share** (Working Together 2023 ch.1; DfE "Information sharing advice for
  practitioners"): consent is recorded as ``given``, ``not_needed`` or ``refused``. When it was not
  needed, the reason is required (e.g. seeking it would put the child at risk of significant harm,
  or prejudice the investigation of a crime). A refusal may be overridden only when the child is at
  risk of significant harm: the override reason is required, and a green rating — which says the
  child is not at such risk — cannot go with a refused consent.
- **Visibility**: a contact shows every child on it, so it is visible only to a caller who may see
  all of them; anyone else gets 404 (a restricted child's existence is not disclosed).
- **Who may act**: the contact's team (its MASH officers, social workers and managers), service
  managers, and for the children's cases the case machine's own checks.
- **Decisions are all or nothing**: every decision in a request is checked before anything is
  written, and the request's transaction rolls back if a later step still fails.
- A child whose case had already moved beyond ``contact`` (the contact joined it) keeps that case
  where it is: the decision is recorded on the contact and in the case's chronology, and a
  ``referral`` is refused (409) because the child's episode is already open. A child whose case
  waits on another open contact is not closed by an NFA on this one; the last contact decides.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, case, exists, func, not_, select, tuple_
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from app import clock
from app.api.pagination import decode_cursor, encode_cursor
from app.audit.service import access_log_append, case_event_append
from app.calendar import LONDON
from app.cases import service as case_service
from app.cases.workflow import CLOSED, CONTACT
from app.config import Settings, get_settings
from app.contacts import timescales
from app.contacts.schemas import (
    ContactCreate,
    ContactDecisionIn,
    ContactFeedback,
    InformationReply,
    InformationRequestCreate,
)
from app.contacts.workflow import CONTACT_MACHINE, OPEN, WITHDRAWN
from app.core_types import ReasonForClosure
from app.errors import Conflict, Forbidden, Invalid, NotFound, PreconditionFailed
from app.models.cases import Case
from app.models.frontdoor import (
    ConsentToShare,
    Contact,
    ContactChild,
    ContactInformationRequest,
    ContactOutcome,
    RagRating,
    Referral,
)
from app.models.org import Role, Team, TeamKind
from app.models.people import Person, PersonKind
from app.referrals import service as referral_service
from app.security.access import (
    get_person_for_read,
    may_change_case,
    person_denied,
    person_visible,
)
from app.security.principal import Principal
from app.workflow import engine

CONTACT_NOT_VISIBLE = "There is no contact with this id that you can see."
REQUEST_NOT_FOUND = "There is no information request with this id on this contact."
#: A withdrawn contact's case never became a referral: RC7, like a contact closed at the door.
WITHDRAWN_CASE_CLOSURE = ReasonForClosure.SERVICES_CEASED


@dataclass(frozen=True)
class ContactChildView:
    row: ContactChild
    child: Person
    referral_id: uuid.UUID | None


@dataclass(frozen=True)
class ContactView:
    """A contact with its children (in the order named), their referrals and its agency checks."""

    contact: Contact
    children: list[ContactChildView]
    information_requests: list[ContactInformationRequest]

    def time_left(self, *, now: datetime, today: date) -> timescales.TimeLeft | None:
        """Working time left for the decision while the contact is open (rule 1)."""
        if self.contact.state != OPEN:
            return None
        return timescales.time_left(
            due_date=self.contact.decision_due_date,
            due_at=self.contact.decision_due_at,
            now=now,
            today=today,
        )


# --- access ------------------------------------------------------------------------------------


def may_change_contact(principal: Principal, contact: Contact) -> bool:
    """The contact's own team (its MASH officers, social workers and manager), service managers
    and integrations may record work on it."""
    return _may_work_for_team(principal, contact.team_id)


def _may_work_for_team(principal: Principal, team_id: uuid.UUID) -> bool:
    if principal.role in (Role.service_manager, Role.integration_client):
        return True
    if principal.role in (Role.social_worker, Role.mash_officer, Role.team_manager):
        return team_id in principal.team_ids
    return False


def _require_contact_change(principal: Principal, contact: Contact) -> None:
    if not may_change_contact(principal, contact):
        raise Forbidden(
            "You can see this contact but not change it: it belongs to another team's front door."
        )


def _rows(session: Session, contact_id: uuid.UUID) -> list[ContactChild]:
    return list(
        session.scalars(
            select(ContactChild)
            .where(ContactChild.contact_id == contact_id)
            .order_by(ContactChild.position)
        )
    )


def _contact_for_write(
    session: Session, *, actor: Principal, contact_id: uuid.UUID
) -> tuple[Contact, list[ContactChild]]:
    """The contact and its children's rows, if the caller may see every child (404 otherwise),
    without logging a read."""
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(CONTACT_NOT_VISIBLE)
    rows = _rows(session, contact.id)
    ids = [r.child_id for r in rows]
    visible = set(
        session.scalars(select(Person.id).where(Person.id.in_(ids), person_visible(actor)))
    )
    for child_id in ids:
        if child_id not in visible:
            raise person_denied(session, principal=actor, person_id=child_id, resource="contact")
    return contact, rows


def _view(session: Session, contact: Contact, rows: Sequence[ContactChild]) -> ContactView:
    people = {
        p.id: p
        for p in session.scalars(select(Person).where(Person.id.in_([r.child_id for r in rows])))
    }
    referrals = {
        child_id: referral_id
        for referral_id, child_id in session.execute(
            select(Referral.id, Referral.child_id).where(Referral.contact_id == contact.id)
        )
    }
    requests = list(
        session.scalars(
            select(ContactInformationRequest)
            .where(ContactInformationRequest.contact_id == contact.id)
            .order_by(ContactInformationRequest.requested_at, ContactInformationRequest.id)
        )
    )
    children = [ContactChildView(r, people[r.child_id], referrals.get(r.child_id)) for r in rows]
    return ContactView(contact, children, requests)


# --- receiving a contact -----------------------------------------------------------------------


def _consent_errors(data: ContactCreate) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    if data.consent is ConsentToShare.not_needed and not data.consent_reason:
        errors.append(
            {
                "field": "consent_reason",
                "message": "Say why consent was not needed (e.g. seeking it would put the child "
                "at risk of significant harm).",
            }
        )
    if data.consent is ConsentToShare.refused:
        if not data.consent_reason:
            errors.append(
                {
                    "field": "consent_reason",
                    "message": "Consent was refused: record why it is overridden (the child is at "
                    "risk of significant harm).",
                }
            )
        if data.rag is RagRating.green:
            errors.append(
                {
                    "field": "rag",
                    "message": "A refusal of consent is overridden only when the child is at risk "
                    "of significant harm, which a green rating says they are not.",
                }
            )
    return errors


def contact_create(
    session: Session,
    *,
    actor: Principal,
    data: ContactCreate,
    settings: Settings | None = None,
    step_up_from_early_help: bool = False,
) -> Contact:
    """Receive a contact about one or more children: each child's case opens (starting the
    rule-1 clock from the RAG rating) or, if the child's case is already open, the contact joins
    it; every child's chronology records the contact.

    ``step_up_from_early_help``: the early help service (``app.earlyhelp``, already checked as
    the episode's team) sends the contact to a **front door** team it is not a member of, as any
    partner agency may; only that one check is relaxed, and only for a front door team."""
    settings = settings or get_settings()
    now = clock.now()
    received_at = data.received_at or now
    errors = _consent_errors(data)
    if received_at > now:
        errors.append({"field": "received_at", "message": "A contact cannot arrive in the future."})
    if len(set(data.child_ids)) != len(data.child_ids):
        errors.append({"field": "child_ids", "message": "A child is named twice."})
    team = session.get(Team, data.team_id)
    if team is None or not team.is_active:
        errors.append({"field": "team_id", "message": "There is no active team with this id."})
    if errors:
        raise Invalid(
            "Please correct: " + ", ".join(dict.fromkeys(e["field"] for e in errors)) + ".",
            errors=errors,
        )
    children = [
        get_person_for_read(session, principal=actor, person_id=child_id, resource="contact")
        for child_id in data.child_ids
    ]
    adults = [
        {
            "field": f"child_ids.{i}",
            "message": "This person is an adult; a contact is about a child.",
        }
        for i, child in enumerate(children)
        if child.kind is not PersonKind.child
    ]
    if adults:
        raise Invalid("Please correct: child_ids.", errors=adults)
    sent_to_front_door = (
        step_up_from_early_help and team is not None and team.kind is TeamKind.front_door
    )
    if sent_to_front_door:
        # The contact and the case it opens are the front door's from the start: the sender acts
        # for that team in this one call only (as any partner agency's contact does).
        actor = dataclasses.replace(actor, team_ids=actor.team_ids | {data.team_id})
    elif not _may_work_for_team(actor, data.team_id):
        raise Forbidden("You may record contacts only for your own team.")

    received_on = received_at.astimezone(LONDON).date()
    due = timescales.contact_decision_due(received_at, data.rag, settings)
    cases: list[tuple[Case, bool]] = []
    for child in children:
        try:
            opened = case_service.case_open(
                session,
                actor=actor,
                child_id=child.id,
                team_id=data.team_id,
                opened_date=received_on,
                rag=data.rag.value,
                worker_id=data.worker_id,
                settings=settings,
                received_at=received_at,
            )
        except Conflict as exc:
            if exc.code != "case_already_open":
                raise
            existing = session.get(Case, uuid.UUID(str(exc.extra["existing_case_id"])))
            if existing is None:  # pragma: no cover - case_open named it a moment ago
                raise
            cases.append((existing, False))
            continue
        cases.append((opened, True))

    contact = Contact(
        id=uuid.uuid4(),
        received_at=received_at,
        source=data.source,
        referrer_name=data.referrer_name,
        referrer_role=data.referrer_role,
        referrer_organisation=data.referrer_organisation,
        referrer_phone=data.referrer_phone,
        referrer_email=data.referrer_email,
        concern=data.concern,
        consent=data.consent,
        consent_reason=data.consent_reason,
        rag=data.rag,
        team_id=data.team_id,
        decision_due_date=due.due_date,
        decision_due_at=due.due_at,
        recorded_by_id=actor.user_id,
    )
    session.add(contact)
    event_data = {
        "contact_id": contact.id,
        "received_at": received_at,
        "source": data.source,
        "referrer_organisation": data.referrer_organisation,
        "rag": data.rag,
        "consent": data.consent,
        "decision_due_date": due.due_date,
        "decision_due_at": due.due_at,
        "children": [child.id for child in children],
    }
    lead_case, _ = cases[0]
    engine.start(
        session,
        machine=CONTACT_MACHINE,
        record=contact,
        actor=actor,
        case_id=lead_case.id,
        child_id=lead_case.child_id,
        action="contact_received",
        data=event_data,
    )
    for position, (child_case, opened_here) in enumerate(cases):
        session.add(
            ContactChild(
                contact_id=contact.id,
                child_id=child_case.child_id,
                case_id=child_case.id,
                position=position,
                has_opened_case=opened_here,
            )
        )
        if position > 0:
            case_event_append(
                session,
                case_id=child_case.id,
                child_id=child_case.child_id,
                actor=actor,
                action="contact_received",
                subject_type=CONTACT_MACHINE.subject_type,
                subject_id=contact.id,
                to_state=OPEN,
                changes=event_data,
            )
    session.flush()
    return contact


# --- deciding ----------------------------------------------------------------------------------


def _other_open_contact_waits(
    session: Session, *, case_id: uuid.UUID, contact_id: uuid.UUID
) -> bool:
    """Whether another open contact on the same case still waits for its decision."""
    return (
        session.scalar(
            select(
                exists().where(
                    ContactChild.case_id == case_id,
                    ContactChild.contact_id != contact_id,
                    ContactChild.decision.is_(None),
                    Contact.id == ContactChild.contact_id,
                    Contact.state == OPEN,
                )
            )
        )
        is True
    )


def _decision_errors(
    contact: Contact,
    decisions: Sequence[ContactDecisionIn],
    rows: dict[uuid.UUID, ContactChild],
    people: dict[uuid.UUID, Person],
) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    seen: set[uuid.UUID] = set()
    today = clock.today()
    received_on = contact.received_at.astimezone(LONDON).date()
    for i, item in enumerate(decisions):
        at = f"decisions.{i}"
        if item.child_id not in rows:
            errors.append(
                {"field": f"{at}.child_id", "message": "This child is not on the contact."}
            )
            continue
        if item.child_id in seen:
            errors.append(
                {
                    "field": f"{at}.child_id",
                    "message": "This child is decided twice in one request.",
                }
            )
        seen.add(item.child_id)
        if item.decision is ContactOutcome.referral:
            if item.primary_need is None:
                errors.append(
                    {
                        "field": f"{at}.primary_need",
                        "message": "A referral needs the child's primary need (N0-N9).",
                    }
                )
            errors += referral_service.referral_date_errors(
                item.referral_date or today,
                child=people[item.child_id],
                not_before=received_on,
                field=f"{at}.referral_date",
            )
        else:
            for name in ("primary_need", "referral_date"):
                if getattr(item, name) is not None:
                    errors.append(
                        {"field": f"{at}.{name}", "message": "This applies only to a referral."}
                    )
    return errors


def contact_decide(
    session: Session,
    *,
    actor: Principal,
    contact_id: uuid.UUID,
    expected_version: int,
    decisions: Sequence[ContactDecisionIn],
) -> Contact:
    """Decide some or all of the contact's children, all or nothing.

    ``referral`` takes the child's case to ``referral`` (``accept_referral``) and records the
    referral (flagged when it is a re-referral); the other outcomes close the case at the door
    (``nfa_contact`` with ``data.outcome``). When every child is decided, the contact is
    ``decided``.
    """
    contact, all_rows = _contact_for_write(session, actor=actor, contact_id=contact_id)
    engine.require_version(contact, expected_version)
    if contact.state != OPEN:
        raise Conflict(
            f"This contact is {contact.state}: its children can no longer be decided.",
            code="contact_not_open",
            current_state=contact.state,
        )
    decide = CONTACT_MACHINE.transition(OPEN, "decide")
    if decide is None or actor.role not in decide.roles:
        raise Forbidden(f"Your role ({actor.role.value}) may not decide contacts.")
    _require_contact_change(actor, contact)
    rows = {r.child_id: r for r in all_rows}
    people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(list(rows))))}
    errors = _decision_errors(contact, decisions, rows, people)
    if errors:
        raise Invalid(
            "Please correct: " + ", ".join(dict.fromkeys(e["field"] for e in errors)) + ".",
            errors=errors,
        )
    cases = {
        c.id: c
        for c in session.scalars(select(Case).where(Case.id.in_([r.case_id for r in all_rows])))
    }
    # Everything that could refuse is checked before the first write.
    for item in decisions:
        row, child_case = rows[item.child_id], cases[rows[item.child_id].case_id]
        if row.decision is not None:
            raise Conflict(
                "This child has already been decided on this contact.",
                code="already_decided",
                child_id=str(item.child_id),
            )
        if child_case.state == CLOSED:
            raise Conflict(
                "This child's case has closed since the contact arrived; record a new contact.",
                code="case_closed",
                child_id=str(item.child_id),
            )
        if item.decision is ContactOutcome.referral and child_case.state != CONTACT:
            raise Conflict(
                f"This child's case is already open (in '{child_case.state}'): the contact has "
                "gone to its worker, and a new referral cannot start while the episode is open.",
                code="case_already_open",
                child_id=str(item.child_id),
                existing_case_id=str(child_case.id),
            )
        if child_case.state == CONTACT and not may_change_case(actor, child_case):
            raise Forbidden(
                "A child's case on this contact is held by another team; ask its team manager."
            )

    now, today = clock.now(), clock.today()
    for item in decisions:
        row, child_case = rows[item.child_id], cases[rows[item.child_id].case_id]
        referral_date = item.referral_date or today
        row.decision = item.decision
        row.decision_reason = item.reason
        row.decided_at = now
        row.decided_by_id = actor.user_id
        changes: dict[str, Any] = {"contact_id": contact.id, "decision": item.decision}
        if item.decision is ContactOutcome.referral:
            changes |= {"primary_need": item.primary_need, "referral_date": referral_date}
        case_event_append(
            session,
            case_id=child_case.id,
            child_id=child_case.child_id,
            actor=actor,
            action="contact_child_decided",
            subject_type="contact",
            subject_id=contact.id,
            reason=item.reason,
            changes=changes,
            occurred_at=now,
        )
        if child_case.state != CONTACT:
            continue  # the child's open episode goes on; the decision is on record
        if item.decision is ContactOutcome.referral:
            assert item.primary_need is not None  # checked above
            case_service.case_transition(
                session,
                actor=actor,
                case_id=child_case.id,
                event="accept_referral",
                expected_version=child_case.version,
                data={"referral_date": referral_date.isoformat()},
            )
            referral_service.referral_record(
                session,
                actor=actor,
                case=child_case,
                referral_date=referral_date,
                source=contact.source,
                primary_need=item.primary_need,
                contact_id=contact.id,
            )
        elif not _other_open_contact_waits(session, case_id=child_case.id, contact_id=contact.id):
            case_service.case_transition(
                session,
                actor=actor,
                case_id=child_case.id,
                event="nfa_contact",
                expected_version=child_case.version,
                reason=item.reason,
                data={"outcome": item.decision.value},
            )
            if item.decision is ContactOutcome.early_help:
                # Imported here: a step-up records a contact through this module (an import cycle).
                from app.earlyhelp import service as early_help_service
                from app.models.earlyhelp import EarlyHelpOrigin

                early_help_service.early_help_step_down(
                    session, actor=actor, case=child_case, origin=EarlyHelpOrigin.contact, on=today
                )
    session.flush()
    if all(r.decision is not None for r in all_rows):
        lead = all_rows[0]
        engine.apply(
            session,
            machine=CONTACT_MACHINE,
            record=contact,
            event="decide",
            actor=actor,
            expected_version=contact.version,
            case_id=lead.case_id,
            child_id=lead.child_id,
        )
    else:
        # A partial decision still changes the contact: its version moves, so a colleague
        # deciding from a stale screen gets 412 rather than a surprise.
        contact.updated_at = now
        flag_modified(contact, "updated_at")  # an UPDATE even when the clock has not moved
        session.flush()
    return contact


def contact_withdraw(
    session: Session, *, actor: Principal, contact_id: uuid.UUID, expected_version: int, reason: str
) -> Contact:
    """Withdraw a contact recorded in error (before any child is decided): a case it opened that
    nothing else is waiting on is closed (RC7), and every child's chronology says why."""
    contact, rows = _contact_for_write(session, actor=actor, contact_id=contact_id)
    engine.require_version(contact, expected_version)
    _require_contact_change(actor, contact)
    lead = rows[0]
    engine.apply(
        session,
        machine=CONTACT_MACHINE,
        record=contact,
        event="withdraw",
        actor=actor,
        expected_version=expected_version,
        reason=reason,
        case_id=lead.case_id,
        child_id=lead.child_id,
    )
    for row in rows:
        if row is not lead:
            case_event_append(
                session,
                case_id=row.case_id,
                child_id=row.child_id,
                actor=actor,
                action="withdraw",
                subject_type=CONTACT_MACHINE.subject_type,
                subject_id=contact.id,
                from_state=OPEN,
                to_state=WITHDRAWN,
                reason=contact.withdrawn_reason,
            )
        child_case = session.get(Case, row.case_id)
        if (
            row.has_opened_case
            and child_case is not None
            and child_case.state == CONTACT
            and not _other_open_contact_waits(session, case_id=child_case.id, contact_id=contact.id)
        ):
            case_service.case_transition(
                session,
                actor=actor,
                case_id=child_case.id,
                event="close",
                expected_version=child_case.version,
                reason=f"The contact was recorded in error: {contact.withdrawn_reason}",
                data={"closure_reason": WITHDRAWN_CASE_CLOSURE.value},
            )
    return contact


# --- the referrer and other agencies -----------------------------------------------------------


def _chronicle(
    session: Session,
    rows: Sequence[ContactChild],
    *,
    actor: Principal,
    action: str,
    subject_type: str,
    subject_id: uuid.UUID,
    changes: dict[str, Any],
    occurred_at: datetime,
) -> None:
    """Write the same event to every child's case on the contact."""
    for row in rows:
        case_event_append(
            session,
            case_id=row.case_id,
            child_id=row.child_id,
            actor=actor,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            changes=changes,
            occurred_at=occurred_at,
        )


def _when(value: datetime | None, *, field: str, now: datetime, not_before: datetime) -> datetime:
    when = value or now
    if when > now:
        raise Invalid.field(field, "This cannot be in the future.")
    if when < not_before:
        raise Invalid.field(field, f"This cannot be before {not_before.isoformat()}.")
    return when


def contact_feedback_record(
    session: Session,
    *,
    actor: Principal,
    contact_id: uuid.UUID,
    expected_version: int,
    data: ContactFeedback,
) -> Contact:
    """Record that the referrer was told what happened to their contact (when, how, by whom)."""
    contact, rows = _contact_for_write(session, actor=actor, contact_id=contact_id)
    engine.require_version(contact, expected_version)
    _require_contact_change(actor, contact)
    if contact.state == WITHDRAWN:
        raise Conflict("This contact was withdrawn (recorded in error).", code="contact_withdrawn")
    if contact.feedback_at is not None:
        raise Conflict("Feedback to the referrer is already recorded.", code="feedback_recorded")
    now = clock.now()
    given_at = _when(data.given_at, field="given_at", now=now, not_before=contact.received_at)
    contact.feedback_at = given_at
    contact.feedback_method = data.method
    contact.feedback_by_id = actor.user_id
    contact.feedback_note = data.note
    session.flush()
    _chronicle(
        session,
        rows,
        actor=actor,
        action="referrer_feedback",
        subject_type="contact",
        subject_id=contact.id,
        changes={"given_at": given_at, "method": data.method, "note": data.note},
        occurred_at=now,
    )
    return contact


def information_request_create(
    session: Session, *, actor: Principal, contact_id: uuid.UUID, data: InformationRequestCreate
) -> ContactInformationRequest:
    """Ask another agency (police, health, education, …) what it knows, while the contact is
    open; every child's chronology records the check."""
    contact, rows = _contact_for_write(session, actor=actor, contact_id=contact_id)
    _require_contact_change(actor, contact)
    if contact.state != OPEN:
        raise Conflict(
            f"This contact is {contact.state}: agency checks are made while it is open.",
            code="contact_not_open",
            current_state=contact.state,
        )
    now = clock.now()
    requested_at = _when(
        data.requested_at, field="requested_at", now=now, not_before=contact.received_at
    )
    request = ContactInformationRequest(
        id=uuid.uuid4(),
        contact_id=contact.id,
        agency=data.agency,
        agency_name=data.agency_name,
        requested_at=requested_at,
        requested_by_id=actor.user_id,
        question=data.question,
    )
    session.add(request)
    session.flush()
    _chronicle(
        session,
        rows,
        actor=actor,
        action="information_requested",
        subject_type="contact_information_request",
        subject_id=request.id,
        changes={
            "contact_id": contact.id,
            "agency": data.agency,
            "agency_name": data.agency_name,
            "requested_at": requested_at,
            "question": data.question,
        },
        occurred_at=now,
    )
    return request


def information_reply_record(
    session: Session,
    *,
    actor: Principal,
    contact_id: uuid.UUID,
    request_id: uuid.UUID,
    expected_version: int,
    data: InformationReply,
) -> ContactInformationRequest:
    """Record the agency's reply (once) and summarise it in every child's chronology."""
    contact, rows = _contact_for_write(session, actor=actor, contact_id=contact_id)
    request = session.get(ContactInformationRequest, request_id)
    if request is None or request.contact_id != contact.id:
        raise NotFound(REQUEST_NOT_FOUND)
    if request.version != expected_version:
        raise PreconditionFailed(
            f"This request is at version {request.version}, not {expected_version}: someone "
            "changed it since you loaded it. Reload it and try again."
        )
    _require_contact_change(actor, contact)
    if request.reply_received_at is not None:
        raise Conflict("This request's reply is already recorded.", code="reply_recorded")
    now = clock.now()
    received_at = _when(
        data.received_at, field="received_at", now=now, not_before=request.requested_at
    )
    request.reply_received_at = received_at
    request.reply_summary = data.summary
    request.reply_recorded_by_id = actor.user_id
    session.flush()
    _chronicle(
        session,
        rows,
        actor=actor,
        action="information_received",
        subject_type="contact_information_request",
        subject_id=request.id,
        changes={
            "contact_id": contact.id,
            "agency": request.agency,
            "received_at": received_at,
            "summary": data.summary,
        },
        occurred_at=now,
    )
    return request


# --- reads -------------------------------------------------------------------------------------


def contact_view(session: Session, *, contact: Contact) -> ContactView:
    """The contact as :func:`contact_get` shows it, without writing access_log: only for the
    answer to a write that has just logged its reads (``contact_create``)."""
    return _view(session, contact, _rows(session, contact.id))


def contact_get(session: Session, *, actor: Principal, contact_id: uuid.UUID) -> ContactView:
    """The contact, its children, decisions and agency checks, if the caller may see every child
    on it (404 otherwise); each child shown is written to access_log."""
    contact, rows = _contact_for_write(session, actor=actor, contact_id=contact_id)
    for row in rows:
        access_log_append(
            session,
            principal=actor,
            action="view",
            resource="contact",
            person_id=row.child_id,
            case_id=row.case_id,
        )
    return _view(session, contact, rows)


def _rag_rank() -> ColumnElement[int]:
    return case((Contact.rag == RagRating.red, 0), (Contact.rag == RagRating.amber, 1), else_=2)


def _queue_instant() -> ColumnElement[datetime]:
    # Red contacts are due at an instant; amber and green on a day, where the earliest received
    # comes first.
    return func.coalesce(Contact.decision_due_at, Contact.received_at)


def contact_list(
    session: Session,
    *,
    actor: Principal,
    state: str | None = None,
    rag: RagRating | None = None,
    team_id: uuid.UUID | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[ContactView], str | None]:
    """The MASH queue: contacts whose children the caller may all see, red first, then by when
    the decision is due; one access_log row per child shown."""
    if state is not None and state not in CONTACT_MACHINE.states:
        raise Invalid.field("state", f"state must be one of: {', '.join(CONTACT_MACHINE.states)}.")
    hidden_child = exists().where(
        ContactChild.contact_id == Contact.id,
        Person.id == ContactChild.child_id,
        not_(person_visible(actor)),
    )
    stmt = select(Contact).where(not_(hidden_child))
    if state is not None:
        stmt = stmt.where(Contact.state == state)
    if rag is not None:
        stmt = stmt.where(Contact.rag == rag)
    if team_id is not None:
        stmt = stmt.where(Contact.team_id == team_id)
    key = (_rag_rank(), Contact.decision_due_date, _queue_instant(), Contact.id)
    if cursor is not None:
        values = decode_cursor(cursor)
        if (
            len(values) != 4
            or not isinstance(values[0], int)
            or not isinstance(values[1], date)
            or not isinstance(values[2], datetime)
            or not isinstance(values[3], uuid.UUID)
        ):
            raise Invalid.field("cursor", "This cursor is not one we gave out.")
        stmt = stmt.where(tuple_(*key) > tuple_(*values))
    contacts = list(session.scalars(stmt.order_by(*key).limit(limit + 1)))
    page, more = contacts[:limit], len(contacts) > limit
    rows_by_contact: dict[uuid.UUID, list[ContactChild]] = {c.id: [] for c in page}
    people: dict[uuid.UUID, Person] = {}
    if page:
        for row, person in session.execute(
            select(ContactChild, Person)
            .join(Person, Person.id == ContactChild.child_id)
            .where(ContactChild.contact_id.in_(list(rows_by_contact)))
            .order_by(ContactChild.contact_id, ContactChild.position)
        ):
            rows_by_contact[row.contact_id].append(row)
            people[person.id] = person
    referrals: dict[tuple[uuid.UUID, uuid.UUID], uuid.UUID] = {}
    if page:
        for referral_id, contact_id, child_id in session.execute(
            select(Referral.id, Referral.contact_id, Referral.child_id).where(
                Referral.contact_id.in_(list(rows_by_contact))
            )
        ):
            if contact_id is not None:
                referrals[(contact_id, child_id)] = referral_id
    views = [
        ContactView(
            contact,
            [
                ContactChildView(r, people[r.child_id], referrals.get((contact.id, r.child_id)))
                for r in rows_by_contact[contact.id]
            ],
            [],
        )
        for contact in page
    ]
    for child_id in dict.fromkeys(c.row.child_id for v in views for c in v.children):
        access_log_append(
            session, principal=actor, action="list", resource="contact_list", person_id=child_id
        )
    next_cursor = None
    if more and page:
        last = page[-1]
        rank = {RagRating.red: 0, RagRating.amber: 1}.get(last.rag, 2)
        instant = last.decision_due_at or last.received_at
        next_cursor = encode_cursor((rank, last.decision_due_date, instant, last.id))
    return views, next_cursor
