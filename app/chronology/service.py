"""The child's chronology (issue 3 item 11): the significant events of every case the child has
had, generated from ``case_event``, labelled for a person, filterable and printable.

One access_log row per request (the child is read once). A restricted child is a 404 to anyone not
named on the record. A note's draft being started is the author's private work, not an event in the
child's life, so it is left out.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.api.pagination import decode_cursor, encode_cursor
from app.calendar import LONDON
from app.casenotes.workflow import DRAFT_STARTED, NOTE_MACHINE
from app.errors import Invalid
from app.models.audit import CaseEvent
from app.models.org import UserAccount
from app.models.people import Person
from app.security.access import get_person_for_read
from app.security.principal import Principal
from app.workflow.engine import StateMachine

#: Labels for the events people look for in a chronology; any other event is labelled from its
#: transition's description in the machines that declare it (``app.workflow.registry``).
LABELS: dict[tuple[str, str], str] = {
    ("case", "case_opened"): "Contact received",
    ("case", "accept_referral"): "Referral accepted",
    ("case", "nfa_contact"): "Contact closed: no further action",
    ("case", "referral_nfa"): "Referral closed: no further action",
    ("case", "start_assessment"): "Child and family assessment started",
    ("case", "start_strategy"): "Strategy discussion: section 47 enquiry considered",
    ("case", "conclude_enquiry"): "Enquiry concluded without a conference",
    ("case", "start_cin_plan"): "Child in need plan started",
    ("case", "start_cp_plan"): "Child protection plan started",
    ("case", "become_looked_after"): "Child became looked after",
    ("case", "close"): "Case closed",
    ("case", "allocated"): "Case allocated",
    ("case_note", "case_note_recorded"): "Case note recorded",
    ("case", "become_care_leaver"): "Left care: leaving-care support continues",
    ("iro_dispute", "escalate"): "IRO dispute escalated to the next stage",
    ("iro_dispute", "respond"): "Manager responded to the IRO's dispute",
    ("iro_dispute", "resolve"): "IRO dispute resolved",
    ("iro_dispute", "refer_to_cafcass"): "IRO dispute referred to Cafcass",
}
#: Events of children in care, care leavers, the IRO service and the courts, by action (each of
#: these names is written by one kind of record only).
ACTION_LABELS: dict[str, str] = {
    # statutory visits and missing episodes
    "statutory_visit_recorded": "Statutory visit",
    "statutory_visit_due_changed": "Statutory visit timescale changed",
    "missing_episode_recorded": "Went missing or away from placement",
    "missing_episode_returned": "Returned from missing or away",
    "return_interview_recorded": "Return home interview recorded",
    # plans, health and wellbeing
    "care_plan_recorded": "Care plan recorded",
    "care_plan_revised": "Care plan revised",
    "placement_plan_recorded": "Placement plan recorded",
    "placement_plan_revised": "Placement plan revised",
    "permanence_plan_recorded": "Permanence plan recorded",
    "permanence_plan_revised": "Permanence plan revised",
    "pep_recorded": "Personal education plan recorded",
    "pep_revised": "Personal education plan reviewed",
    "health_assessment_initial_recorded": "Initial health assessment recorded",
    "health_assessment_review_recorded": "Review health assessment recorded",
    "dental_check_recorded": "Dental check recorded",
    "sdq_recorded": "SDQ recorded",
    "sdq_corrected": "SDQ corrected",
    "substance_misuse_recorded": "Substance misuse recorded",
    "conviction_recorded": "Conviction recorded",
    # the IRO service
    "iro_allocated": "IRO allocated",
    "iro_reallocated": "IRO changed",
    "iro_allocation_ended": "IRO allocation ended (care ceased)",
    "iro_contact_recorded": "IRO monitoring contact recorded",
    "cla_review_held": "Looked-after child's review held",
    "cla_review_decisions_circulated": "Review decisions circulated",
    "cla_review_record_completed": "Review record completed",
    "cla_review_action_completed": "Review decision or recommendation completed",
    "iro_dispute_raised": "IRO raised a dispute (informal resolution)",
    # care leavers and permanence
    "leaving_care_category_changed": "Leaving-care status changed",
    "pathway_needs_assessment_recorded": "Pathway needs assessment recorded",
    "pathway_plan_prepared": "Pathway plan prepared",
    "pathway_plan_updated": "Pathway plan updated",
    "pathway_plan_reviewed": "Pathway plan reviewed",
    "personal_adviser_allocated": "Personal adviser allocated",
    "care_leaver_contact_recorded": "Care leaver contact (in touch, activity, accommodation)",
    "uasc_status_recorded": "UASC status recorded",
    "motherhood_recorded": "Motherhood recorded",
    "motherhood_corrected": "Motherhood corrected",
    "adoption_decision_recorded": "Decision to place for adoption",
    "adoption_milestones_recorded": "Adoption milestones recorded",
    "adoption_order_recorded": "Adoption order made",
    "adoption_decision_reversed": "Adoption decision reversed",
    "permanence_order_recorded": "Special guardianship or child arrangements order recorded",
    "previous_permanence_recorded": "Previous permanence recorded",
    # legal planning and the courts
    "legal_gateway_decision": "Legal gateway / planning meeting decision recorded",
    "pre_proceedings_updated": "Letter before proceedings or family group conference recorded",
    "pre_proceedings_meeting_held": "Pre-proceedings meeting held",
    "court_hearing_recorded": "Court hearing recorded",
    "interim_order_made": "Interim order made",
    "proceedings_extended": "Court extended the 26-week time limit",
    # services and interventions
    "intervention_referred": "Referred to a service or intervention",
    "intervention_started": "Service or intervention started",
    "intervention_ended": "Service or intervention ended",
    # early help (issue 6: the early help helper adds its labels under this line)
    "early_help_opened": "Stepped down to early help",
    "early_help_allocated": "Early help allocated (team and lead professional)",
    "early_help_assessed": "Early help assessment recorded",
    "early_help_plan_recorded": "Early help plan recorded",
    "early_help_member_joined": "Joined the team around the family",
    "early_help_member_left": "Left the team around the family",
    "early_help_closed": "Early help ended",
    "early_help_stepped_up": "Stepped up from early help to social care",
    # management oversight (issue 6: the supervision helper adds its labels under this line)
    "management_oversight_recorded": "Management oversight recorded",
    # case file audits (issue 6: the audits helper adds its labels under this line)
    "case_audit_planned": "Case file audit planned",
    "case_audit_assigned": "Case file audit assigned to an auditor",
    "case_audit_reassigned": "Case file audit given to another auditor",
    "case_audit_submitted": "Case file audit submitted",
    "case_audit_moderated": "Case file audit moderated",
    "case_audit_cancelled": "Case file audit cancelled",
    "audit_action_set": "Action arising from a case file audit set",
    "audit_action_completed": "Action arising from a case file audit completed",
}
#: Not events in the child's life.
LEFT_OUT = (DRAFT_STARTED,)


def _machines() -> tuple[StateMachine, ...]:
    from app.workflow.registry import all_machines

    machines = all_machines()
    return machines if NOTE_MACHINE in machines else (*machines, NOTE_MACHINE)


@cache
def _described() -> dict[tuple[str, str], str]:
    """Each (record type, event)'s first clause of description, from the machines."""
    out: dict[tuple[str, str], str] = {}
    for machine in _machines():
        for t in machine.transitions:
            clause = t.description.split(": ")[0].split(". ")[0].split(" (")[0].rstrip(".")
            out.setdefault((machine.subject_type, t.event), clause)
    return out


def label(subject_type: str, action: str) -> str:
    """A person's words for an event: ours, else its transition's, else the action itself."""
    key = (subject_type, action)
    if key in LABELS:
        return LABELS[key]
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    return _described().get(key) or action.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Entry:
    event: CaseEvent
    actor_name: str | None

    @property
    def label(self) -> str:
        return label(self.event.subject_type, self.event.action)


@dataclass(frozen=True)
class Chronology:
    child: Person
    entries: list[Entry]
    next_cursor: str | None


def _cursor(cursor: str) -> tuple[datetime, uuid.UUID, int]:
    values = decode_cursor(cursor)
    if (
        len(values) != 3
        or not isinstance(values[0], datetime)
        or values[0].tzinfo is None
        or not isinstance(values[1], uuid.UUID)
        or not isinstance(values[2], int)
        or isinstance(values[2], bool)
    ):
        raise Invalid.field("cursor", "This cursor is not one we gave out; start again without it.")
    return values[0], values[1], values[2]


def child_chronology(
    session: Session,
    *,
    actor: Principal,
    person_id: uuid.UUID,
    types: Sequence[str] = (),
    date_from: date | None = None,
    date_to: date | None = None,
    descending: bool = False,
    cursor: str | None = None,
    limit: int | None = 50,
) -> Chronology:
    """The child's events across all their cases, oldest first (or newest, ``descending``),
    optionally only some actions (``types``) and London calendar days (inclusive); ``limit=None``
    gives every one (the printable chronology). One access_log row per call."""
    if date_from is not None and date_to is not None and date_from > date_to:
        raise Invalid.field("from", "from must not be later than to.")
    child = get_person_for_read(
        session, principal=actor, person_id=person_id, resource="child_chronology"
    )
    stmt = (
        select(CaseEvent, UserAccount.display_name)
        .outerjoin(UserAccount, UserAccount.id == CaseEvent.actor_id)
        .where(CaseEvent.child_id == child.id, CaseEvent.action.not_in(LEFT_OUT))
    )
    if types:
        stmt = stmt.where(CaseEvent.action.in_(list(types)))
    if date_from is not None:
        stmt = stmt.where(CaseEvent.occurred_at >= datetime.combine(date_from, time(0), LONDON))
    if date_to is not None:
        next_day = datetime.combine(date_to + timedelta(days=1), time(0), LONDON)
        stmt = stmt.where(CaseEvent.occurred_at < next_day)
    keys = (CaseEvent.occurred_at, CaseEvent.case_id, CaseEvent.seq)
    if cursor is not None:
        at, case_id, seq = _cursor(cursor)
        if descending:
            after = or_(
                keys[0] < at,
                and_(
                    keys[0] == at, or_(keys[1] < case_id, and_(keys[1] == case_id, keys[2] < seq))
                ),
            )
        else:
            after = or_(
                keys[0] > at,
                and_(
                    keys[0] == at, or_(keys[1] > case_id, and_(keys[1] == case_id, keys[2] > seq))
                ),
            )
        stmt = stmt.where(after)
    stmt = stmt.order_by(*(k.desc() for k in keys) if descending else keys)
    if limit is not None:
        stmt = stmt.limit(limit + 1)
    rows = [Entry(event, name) for event, name in session.execute(stmt)]
    more = limit is not None and len(rows) > limit
    page = rows[:limit] if limit is not None else rows
    last = page[-1].event if more and page else None
    next_cursor = encode_cursor((last.occurred_at, last.case_id, last.seq)) if last else None
    return Chronology(child=child, entries=page, next_cursor=next_cursor)


def chronology_text(chronology: Chronology, *, printed_at: datetime) -> str:
    """The printable chronology: a heading, then one line per event (London time)."""
    child = chronology.child
    born = (
        f"born {child.date_of_birth.isoformat()}"
        if child.date_of_birth
        else f"expected {child.expected_date_of_birth.isoformat()}"
        if child.expected_date_of_birth
        else "date of birth not known"
    )
    lines = [
        f"Chronology: {child.first_name} {child.last_name} ({born})",
        f"Printed {printed_at.astimezone(LONDON):%Y-%m-%d %H:%M}; {len(chronology.entries)} events",
        "",
    ]
    for entry in chronology.entries:
        event = entry.event
        parts = [f"{event.occurred_at.astimezone(LONDON):%Y-%m-%d %H:%M}", entry.label]
        if event.to_state and event.from_state != event.to_state:
            parts.append(f"({event.from_state or 'new'} -> {event.to_state})")
        if entry.actor_name:
            role = f", {event.actor_role}" if event.actor_role else ""
            parts.append(f"by {entry.actor_name}{role}")
        if event.reason:
            parts.append(f"reason: {' '.join(event.reason.split())}")
        lines.append(" | ".join(parts))
    return "\n".join(lines) + "\n"
