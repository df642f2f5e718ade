"""Every state machine in the product, for the diagrams and the docs.

Imported lazily: the machines' modules import the engine, so the engine cannot import them.
"""

from __future__ import annotations

from app.workflow.engine import StateMachine


def all_machines() -> tuple[StateMachine, ...]:
    """Each declared machine once, in the order the README shows them (add new ones here)."""
    from app.cases.workflow import CASE_MACHINE

    return (CASE_MACHINE,)
