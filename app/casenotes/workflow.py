"""The case note's state machine: a private ``draft`` that the author finishes into a ``final``.

Finishing is the note's one transition; its ``case_event`` (action ``case_note_recorded``, with the
note's kind and when the contact happened) puts the note in the child's chronology. A final note
is never changed again (issue 3 item 10): a correction is a new note linked to the old one.
"""

from __future__ import annotations

from typing import Any

from app import clock
from app.models.org import Role
from app.workflow.engine import GuardContext, StateMachine, Transition, roles

DRAFT = "draft"
FINAL = "final"

#: The action of the event that starts a draft: the author's private work, not the child's story
#: (the chronology leaves it out).
DRAFT_STARTED = "case_note_drafted"
#: The event that finishes a note; also the ``case_event.action`` the chronology shows.
RECORD = "case_note_recorded"

NOTE_WRITERS = roles(Role.social_worker, Role.team_manager, Role.mash_officer, Role.service_manager)


def _finished_now(ctx: GuardContext) -> dict[str, Any]:
    return {"finalised_at": clock.now()}


NOTE_MACHINE = StateMachine(
    name="case_note",
    subject_type="case_note",
    initial=DRAFT,
    states=(DRAFT, FINAL),
    transitions=(
        Transition(
            DRAFT,
            RECORD,
            FINAL,
            NOTE_WRITERS,
            "Case note recorded: the author finishes the note, which can no longer be changed "
            "(a correction is a new note linked to it).",
            optional_fields=("kind", "occurred_at", "title", "corrects_note_id"),
            effect=_finished_now,
        ),
    ),
)
