"""Every state machine in the product, for the diagrams and the docs.

Imported lazily: the machines' modules import the engine, so the engine cannot import them.
"""

from __future__ import annotations

from app.workflow.engine import StateMachine


def all_machines() -> tuple[StateMachine, ...]:
    """Each declared machine once, in the order the README shows them (add new ones here)."""
    from app.assessments.workflow import ASSESSMENT_MACHINE
    from app.audits.workflow import CASE_AUDIT_MACHINE
    from app.care.workflow import PERIOD_OF_CARE_MACHINE
    from app.casenotes.workflow import NOTE_MACHINE
    from app.cases.workflow import CASE_MACHINE
    from app.cin.workflow import CIN_PLAN_MACHINE
    from app.contacts.workflow import CONTACT_MACHINE
    from app.earlyhelp.workflow import EARLY_HELP_MACHINE
    from app.iro.workflow import CLA_REVIEW_MACHINE, IRO_DISPUTE_MACHINE
    from app.legal.workflow import CARE_PROCEEDINGS_MACHINE, PRE_PROCEEDINGS_MACHINE
    from app.protection.workflow import CP_PLAN_MACHINE, S47_MACHINE
    from app.referrals.workflow import REFERRAL_MACHINE

    return (
        CASE_MACHINE,
        CONTACT_MACHINE,
        REFERRAL_MACHINE,
        ASSESSMENT_MACHINE,
        S47_MACHINE,
        CP_PLAN_MACHINE,
        CIN_PLAN_MACHINE,
        PERIOD_OF_CARE_MACHINE,
        CLA_REVIEW_MACHINE,
        IRO_DISPUTE_MACHINE,
        PRE_PROCEEDINGS_MACHINE,
        CARE_PROCEEDINGS_MACHINE,
        NOTE_MACHINE,
        EARLY_HELP_MACHINE,
        CASE_AUDIT_MACHINE,
    )
