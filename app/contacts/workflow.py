"""The contact's state machine: ``open`` until every child on it is decided, then ``decided``;
``withdrawn`` when it was recorded in error.

A contact concerns one or more children, each on their own case, but the engine writes a record's
transition to one case's chronology: the contact's own transitions go on the case of the first child
named (``ContactChild.position == 0``). Every child's case also gets the contact's arrival
(``contact_received``) and the decision for that child (``contact_child_decided``), written by
``app.contacts.service``, so each child's chronology tells their part of the story.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, select

from app import clock
from app.cases.workflow import FRONT_DOOR
from app.models.frontdoor import ContactChild
from app.workflow.engine import GuardContext, StateMachine, Transition

OPEN = "open"
DECIDED = "decided"
WITHDRAWN = "withdrawn"


def _every_child_decided(ctx: GuardContext) -> str | None:
    undecided = ctx.session.scalar(
        select(
            exists().where(
                ContactChild.contact_id == ctx.record.id, ContactChild.decision.is_(None)
            )
        )
    )
    return "Decide every child on the contact first." if undecided else None


def _no_child_decided(ctx: GuardContext) -> str | None:
    decided = ctx.session.scalar(
        select(
            exists().where(
                ContactChild.contact_id == ctx.record.id, ContactChild.decision.is_not(None)
            )
        )
    )
    if decided:
        return (
            "A child on this contact has already been decided, so it was not recorded in error; "
            "decide the other children instead."
        )
    return None


def _decided(ctx: GuardContext) -> dict[str, Any]:
    return {"decided_at": clock.now()}


def _withdrawn(ctx: GuardContext) -> dict[str, Any]:
    return {"withdrawn_reason": ctx.reason}


CONTACT_MACHINE = StateMachine(
    name="contact",
    subject_type="contact",
    initial=OPEN,
    states=(OPEN, DECIDED, WITHDRAWN),
    transitions=(
        Transition(
            OPEN,
            "decide",
            DECIDED,
            FRONT_DOOR,
            "Every child on the contact has a decision (no further action, information and "
            "advice, early help, or a referral): the contact is decided (timescales rule 1).",
            guard=_every_child_decided,
            effect=_decided,
        ),
        Transition(
            OPEN,
            "withdraw",
            WITHDRAWN,
            FRONT_DOOR,
            "The contact was recorded in error (wrong child, duplicate): it is withdrawn with a "
            "reason, and a case it opened is closed.",
            requires_reason=True,
            guard=_no_child_decided,
            effect=_withdrawn,
        ),
    ),
)
