"""What every migration import shares: who did it, where migrated cases sit, how it is audited.

A council moving to Casework loads its history from the returns it already sent (CIN census,
SSDA903). Those records were made by people in another system, so nobody here "did" them: every
row an import writes is attributed to one inactive ``migration`` account (it holds no password and
cannot sign in), and every migrated case and person says in its audit trail which file it came
from. Imports write rows directly, in the states the workflows would have left them; they open no
statutory deadlines, because every timescale on historical work has already run its course.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.service import case_event_append, change_log_append
from app.models.cases import Case
from app.models.org import Role, Team, TeamKind, UserAccount
from app.models.people import Person, PersonKind
from app.security.principal import AuthMethod, Principal

MIGRATION_USERNAME = "migration"
MIGRATION_DISPLAY_NAME = "Data migration"
MIGRATION_TEAM_NAME = "Migrated records"
# The chronology action on each migrated case and the change-log action on each migrated person.
MIGRATED_ACTION = "migrated"
PLACEHOLDER_FIRST_NAME = "Unknown"


def migration_principal(session: Session) -> Principal:
    """The actor of every migrated record: the ``migration`` account, created on first use.

    The account is inactive and has no password hash, so it can never sign in; it exists so that
    audit rows point at a real account saying "migration", not at nobody (``actor_id`` NULL reads
    as "the system" elsewhere). Its role is ``data_officer``: the council's data team runs imports.
    """
    account = session.scalar(select(UserAccount).where(UserAccount.username == MIGRATION_USERNAME))
    if account is None:
        account = UserAccount(
            username=MIGRATION_USERNAME,
            display_name=MIGRATION_DISPLAY_NAME,
            role=Role.data_officer,
            password_hash=None,
            is_active=False,
        )
        session.add(account)
        session.flush()
    return Principal(
        user_id=account.id,
        role=account.role,
        display_name=account.display_name,
        auth=AuthMethod.token,  # a batch process, not a signed-in person
    )


def migration_team(session: Session) -> Team:
    """The team migrated cases belong to until a manager allocates them (``case.team_id`` is
    required). Inactive, so nobody is offered it for new work; a closed historical case simply
    stays here."""
    team = session.scalar(select(Team).where(Team.name == MIGRATION_TEAM_NAME))
    if team is None:
        team = Team(name=MIGRATION_TEAM_NAME, kind=TeamKind.assessment, is_active=False)
        session.add(team)
        session.flush()
    return team


def placeholder_last_name(la_child_id: str) -> str:
    """Returns carry no names: a migrated child is "Unknown (imported LAchildID 123)" until the
    council adds the real name, and the LA child id in the name makes the record findable."""
    return f"(imported LAchildID {la_child_id})"


def child_by_la_child_id(session: Session, la_child_id: str) -> Person | None:
    return session.scalar(select(Person).where(Person.la_child_id == la_child_id))


def migrated_child_create(
    session: Session,
    *,
    actor: Principal,
    source: str,
    la_child_id: str,
    flush: bool = True,
    **fields: Any,
) -> Person:
    """Create a child a return names who is not yet in Casework, with placeholder names, and write
    the change-log entry saying so. ``fields`` are Person columns (date_of_birth, sex, upn, ...);
    the caller has validated them against the code sets already. The id is set at once, so a
    large import may pass ``flush=False`` and insert its children in one batch."""
    person = Person(
        id=uuid.uuid4(),
        kind=PersonKind.child,
        first_name=PLACEHOLDER_FIRST_NAME,
        last_name=placeholder_last_name(la_child_id),
        search_first_name=PLACEHOLDER_FIRST_NAME.lower(),
        search_last_name=placeholder_last_name(la_child_id).lower(),
        la_child_id=la_child_id,
        **fields,
    )
    session.add(person)
    if flush:
        session.flush()
    change_log_append(
        session,
        actor=actor,
        entity_type="person",
        entity_id=person.id,
        action=MIGRATED_ACTION,
        changes={"source": source, "la_child_id": la_child_id, **fields},
    )
    return person


def migrated_case_event(
    session: Session,
    *,
    actor: Principal,
    case: Case,
    source: str,
    subject_type: str = "case",
    subject_id: uuid.UUID | None = None,
    changes: dict[str, Any] | None = None,
) -> None:
    """The chronology entry saying a record on ``case`` came from ``source`` by migration (not from
    work done here): action ``migrated``, ``to_state`` the state it was loaded in."""
    case_event_append(
        session,
        case_id=case.id,
        child_id=case.child_id,
        actor=actor,
        action=MIGRATED_ACTION,
        subject_type=subject_type,
        subject_id=subject_id or case.id,
        to_state=case.state if subject_type == "case" else None,
        reason=f"Migrated from {source}",
        changes=changes,
    )
