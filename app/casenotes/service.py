"""Case notes: write a draft as you type, finish it into an immutable note, correct it anew.

A draft belongs to its author: nobody else sees it (404, its existence not disclosed) and it is
saved server-side on every autosave, so a session timeout loses nothing. Autosaves carry the
version the client last saw; a stale one is refused with the note as it now stands (412), never
silently overwritten. Finishing goes through the workflow engine (``NOTE_MACHINE``) and writes the
``case_note_recorded`` event that puts the note in the child's chronology. Nothing is recorded on
a closed case (CIN census rule 8565) or dated after the child's death.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import access_log_append, to_jsonable
from app.calendar import LONDON
from app.casenotes.workflow import DRAFT, DRAFT_STARTED, FINAL, NOTE_MACHINE, RECORD
from app.cases.workflow import CLOSED
from app.errors import Conflict, Invalid, NotFound, PreconditionFailed
from app.models.casenotes import VISIT_KINDS, CaseNote, CaseNoteKind
from app.models.cases import Case
from app.models.people import Person
from app.security.access import (
    get_person_for_read,
    person_denied,
    person_visible,
    readable_people,
    require_case_change,
)
from app.security.principal import Principal
from app.workflow import engine

NOTE_NOT_VISIBLE = "There is no case note with this id that you can see."
CASE_NOT_VISIBLE = "There is no case with this id that you can see."
NOTE_IS_FINAL = "A finished note cannot be changed; add a correction."


@dataclass(frozen=True)
class NoteContent:
    """What the author writes (validated against the case and the child before it is saved)."""

    kind: CaseNoteKind
    occurred_at: datetime
    title: str
    body: str = ""
    child_seen: bool | None = None
    seen_alone: bool | None = None
    bedroom_seen: bool | None = None

    def fields(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "occurred_at": _aware(self.occurred_at),
            "title": self.title.strip(),
            "body": self.body,
            "child_seen": self.child_seen,
            "seen_alone": self.seen_alone,
            "bedroom_seen": self.bedroom_seen,
        }


def _aware(when: datetime) -> datetime:
    """A time given without an offset is London wall-clock time (what the worker typed)."""
    return when.replace(tzinfo=LONDON) if when.tzinfo is None else when


# --- checks ------------------------------------------------------------------------------------


def _case_for_note(session: Session, *, actor: Principal, case_id: uuid.UUID) -> Case:
    """The case, if its child is visible (404) and the caller may record work on it (403)."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(CASE_NOT_VISIBLE)
    if session.scalar(readable_people(actor).where(Person.id == case.child_id)) is None:
        raise person_denied(session, principal=actor, person_id=case.child_id, resource="case_note")
    require_case_change(actor, case)
    return case


def _require_open(case: Case) -> None:
    if case.state == CLOSED:
        raise Conflict(
            "This case is closed: nothing can be recorded on it (CIN census rule 8565). "
            "A new contact opens a new case.",
            code="case_closed",
            rule="8565",
        )


def _check_content(
    session: Session, *, case: Case, content: NoteContent, finishing: bool = False
) -> None:
    """422 naming the field: a contact in the future, before the case opened or after the child
    died; visit details on a note that is not a visit; seen alone without being seen."""
    when = _aware(content.occurred_at)
    if when > clock.now():
        raise Invalid.field("occurred_at", "A contact cannot have happened in the future.")
    on = when.astimezone(LONDON).date()
    if on < case.opened_date:
        raise Invalid.field(
            "occurred_at", "The contact cannot be dated before the case opened.", rule="chronology"
        )
    child = session.get(Person, case.child_id)
    if child is not None and child.date_of_death is not None and on > child.date_of_death:
        raise Invalid.field(
            "occurred_at",
            "Nothing can be recorded as happening after the child's death.",
            rule="date_of_death",
        )
    if not content.title.strip():
        raise Invalid.field("title", "Give the note a title.")
    visit_fields = {
        "child_seen": content.child_seen,
        "seen_alone": content.seen_alone,
        "bedroom_seen": content.bedroom_seen,
    }
    if content.kind not in VISIT_KINDS:
        for name, value in visit_fields.items():
            if value is not None:
                raise Invalid.field(name, "Only a visit records whether the child was seen.")
        return
    if content.child_seen is not True:
        for name in ("seen_alone", "bedroom_seen"):
            if visit_fields[name] is True:
                raise Invalid.field(name, "The child was not recorded as seen.")
    if finishing and content.child_seen is None:
        # Statutory visits record whether the child was seen (timescales rule 9).
        raise Invalid.field("child_seen", "Say whether the child was seen on this visit.")


def _content_of(note: CaseNote) -> NoteContent:
    return NoteContent(
        kind=note.kind,
        occurred_at=note.occurred_at,
        title=note.title,
        body=note.body,
        child_seen=note.child_seen,
        seen_alone=note.seen_alone,
        bedroom_seen=note.bedroom_seen,
    )


def _note_for(session: Session, *, actor: Principal, note_id: uuid.UUID) -> CaseNote:
    """The note if the caller may see it: a draft only by its author, a final note by anyone who
    may see the child (404 otherwise, existence not disclosed). Not access-logged."""
    note = session.get(CaseNote, note_id)
    if note is None or (note.state == DRAFT and note.author_id != actor.user_id):
        raise NotFound(NOTE_NOT_VISIBLE)
    if session.scalar(readable_people(actor).where(Person.id == note.child_id)) is None:
        raise person_denied(session, principal=actor, person_id=note.child_id, resource="case_note")
    return note


def _snapshot(note: CaseNote) -> dict[str, Any]:
    """The note as it now stands, for a client to merge a stale autosave into."""
    return {
        "version": note.version,
        **to_jsonable(_content_of(note).fields()),
        "updated_at": to_jsonable(note.updated_at),
    }


# --- writes ------------------------------------------------------------------------------------


def _write_note(
    session: Session,
    *,
    actor: Principal,
    case: Case,
    content: NoteContent,
    finalise: bool,
    corrects: CaseNote | None = None,
) -> CaseNote:
    _require_open(case)
    _check_content(session, case=case, content=content, finishing=finalise)
    note = CaseNote(
        id=uuid.uuid4(),
        case_id=case.id,
        child_id=case.child_id,
        author_id=actor.user_id,
        corrects_note_id=corrects.id if corrects else None,
        **content.fields(),
    )
    session.add(note)
    engine.start(
        session,
        machine=NOTE_MACHINE,
        record=note,
        actor=actor,
        case_id=case.id,
        child_id=case.child_id,
        action=DRAFT_STARTED,
        data={"kind": note.kind, "corrects_note_id": note.corrects_note_id},
    )
    if finalise:
        _record(session, actor=actor, note=note)
    return note


def _record(session: Session, *, actor: Principal, note: CaseNote) -> None:
    engine.apply(
        session,
        machine=NOTE_MACHINE,
        record=note,
        event=RECORD,
        actor=actor,
        expected_version=note.version,
        case_id=note.case_id,
        child_id=note.child_id,
        data={
            "kind": note.kind,
            "occurred_at": note.occurred_at,
            "title": note.title,
            "corrects_note_id": note.corrects_note_id,
        },
    )


def note_create(
    session: Session,
    *,
    actor: Principal,
    case_id: uuid.UUID,
    content: NoteContent,
    finalise: bool = False,
) -> CaseNote:
    """Start a note on a case: a draft only its author sees, or (``finalise``) a finished note."""
    case = _case_for_note(session, actor=actor, case_id=case_id)
    return _write_note(session, actor=actor, case=case, content=content, finalise=finalise)


def note_save_draft(
    session: Session,
    *,
    actor: Principal,
    note_id: uuid.UUID,
    expected_version: int,
    content: NoteContent,
) -> CaseNote:
    """Autosave: replace the draft's content. A finished note → 409 (add a correction); a stale
    version → 412 carrying the draft as it now stands (``current``), so nothing is overwritten."""
    note = _note_for(session, actor=actor, note_id=note_id)
    case = session.get(Case, note.case_id)
    assert case is not None  # a foreign key
    # Who may change the case first: a 409 or 412 to another team would disclose the note's
    # state (OWASP API1).
    require_case_change(actor, case)
    if note.state == FINAL:
        raise Conflict(NOTE_IS_FINAL, code="note_final")
    if note.version != expected_version:
        raise PreconditionFailed(
            f"This draft is at version {note.version}, not {expected_version}: it was saved from "
            "elsewhere since (another tab or device). Merge your text into the current draft and "
            "save again.",
            current_version=note.version,
            current=_snapshot(note),
        )
    _require_open(case)
    _check_content(session, case=case, content=content)
    for name, value in content.fields().items():
        setattr(note, name, value)
    session.flush()
    return note


def note_finalise(
    session: Session, *, actor: Principal, note_id: uuid.UUID, expected_version: int
) -> CaseNote:
    """Finish the author's draft: from now on it never changes, and it is in the chronology."""
    note = _note_for(session, actor=actor, note_id=note_id)
    case = session.get(Case, note.case_id)
    assert case is not None  # a foreign key
    # Who may change the case is decided before anything about the note's state or version is
    # said: a 409 or 412 to another team would disclose it (OWASP API1).
    require_case_change(actor, case)
    if note.state == FINAL:
        raise Conflict(NOTE_IS_FINAL, code="note_final")
    engine.require_version(note, expected_version)
    _require_open(case)
    _check_content(session, case=case, content=_content_of(note), finishing=True)
    _record(session, actor=actor, note=note)
    return note


def note_correct(
    session: Session,
    *,
    actor: Principal,
    note_id: uuid.UUID,
    title: str,
    body: str = "",
    kind: CaseNoteKind | None = None,
    occurred_at: datetime | None = None,
    child_seen: bool | None = None,
    seen_alone: bool | None = None,
    bedroom_seen: bool | None = None,
    finalise: bool = False,
) -> CaseNote:
    """Correct a finished note with a new note linked to it; the original is never changed. The
    kind, when the contact happened and (same kind) the visit details default to the original's."""
    original = _note_for(session, actor=actor, note_id=note_id)
    if original.state != FINAL:
        raise Conflict(
            "This note is still a draft: change the draft itself; only a finished note is "
            "corrected.",
            code="note_draft",
        )
    case = _case_for_note(session, actor=actor, case_id=original.case_id)
    kind = kind or original.kind
    # A correction of the same kind keeps the visit details it does not restate.
    same = kind == original.kind
    content = NoteContent(
        kind=kind,
        occurred_at=occurred_at or original.occurred_at,
        title=title,
        body=body,
        child_seen=original.child_seen if same and child_seen is None else child_seen,
        seen_alone=original.seen_alone if same and seen_alone is None else seen_alone,
        bedroom_seen=original.bedroom_seen if same and bedroom_seen is None else bedroom_seen,
    )
    return _write_note(
        session, actor=actor, case=case, content=content, finalise=finalise, corrects=original
    )


# --- reads -------------------------------------------------------------------------------------


def note_get(session: Session, *, actor: Principal, note_id: uuid.UUID) -> CaseNote:
    """One note (a draft only for its author); the read is access-logged."""
    note = _note_for(session, actor=actor, note_id=note_id)
    access_log_append(
        session,
        principal=actor,
        action="view",
        resource="case_note",
        person_id=note.child_id,
        case_id=note.case_id,
    )
    return note


def notes_for_case(session: Session, *, actor: Principal, case_id: uuid.UUID) -> list[CaseNote]:
    """The case's finished notes and the caller's own drafts, in the order the contacts happened;
    the read is access-logged."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(CASE_NOT_VISIBLE)
    get_person_for_read(
        session, principal=actor, person_id=case.child_id, resource="case_notes", case_id=case.id
    )
    return list(
        session.scalars(
            select(CaseNote)
            .where(
                CaseNote.case_id == case.id,
                or_(CaseNote.state == FINAL, CaseNote.author_id == actor.user_id),
            )
            .order_by(CaseNote.occurred_at, CaseNote.created_at, CaseNote.id)
        )
    )


def my_drafts(session: Session, *, actor: Principal) -> list[CaseNote]:
    """The caller's drafts in progress, the most recently saved first (one access_log row per
    child shown)."""
    drafts = list(
        session.scalars(
            select(CaseNote)
            .join(Person, Person.id == CaseNote.child_id)
            .where(
                CaseNote.author_id == actor.user_id,
                CaseNote.state == DRAFT,
                person_visible(actor),
            )
            .order_by(CaseNote.updated_at.desc(), CaseNote.id)
        )
    )
    for child in dict.fromkeys(d.child_id for d in drafts):
        access_log_append(
            session, principal=actor, action="list", resource="my_drafts", person_id=child
        )
    return drafts
