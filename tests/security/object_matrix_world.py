"""The object-level authorisation matrix's world: one fictional council (the demo builders), seven
callers and five children in five situations, and the requests the matrix sends.

Everything is loaded inside one outer transaction on one connection, which is rolled back when the
module ends (nothing is committed to the test database); every write request runs inside a
savepoint of its own that is rolled back straight after, so an authorised write never changes what
the next request sees.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Connection, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from app.config import Environment, Settings
from app.demo.generator import load_demo_data
from app.main import create_app
from app.models import AccessLog, ApiToken, Person, Role, TeamKind, TeamMembership
from app.models.security import RestrictedAccessGrant
from tests.factories import auth_headers, make_team, make_user
from tests.security.object_matrix_data import (
    CLOSED,
    CP,
    GLOBAL,
    LOOKED_AFTER,
    OPEN,
    RESTRICTED,
    USERS,
)

DEMO_CHILDREN = 150

#: Kinds whose records hang off a child: (table, column naming the child).
CHILD_TABLES: dict[str, tuple[str, str]] = {
    "adoption decision": ("adoption_decision", "child_id"),
    "assessment": ("assessment", "child_id"),
    "audit action": ("audit_action", "child_id"),
    "care proceedings": ("care_proceedings", "child_id"),
    "case audit": ("case_audit", "child_id"),
    "case note": ("case_note", "child_id"),
    "case": ("case", "child_id"),
    "cin plan": ("cin_plan", "child_id"),
    "cla review action": ("cla_review_action", "child_id"),
    "cla review": ("cla_review", "child_id"),
    "contact": ("contact_child", "child_id"),
    "cp plan": ("cp_plan", "child_id"),
    "early help": ("early_help_episode", "child_id"),
    "intervention": ("intervention", "child_id"),
    "iro dispute": ("iro_dispute", "child_id"),
    "missing episode": ("missing_episode", "child_id"),
    "pathway plan": ("pathway_plan", "child_id"),
    "period of care": ("period_of_care", "child_id"),
    "placement": ("placement", "child_id"),
    "care plan": ("cla_plan", "child_id"),
    "pre-proceedings": ("pre_proceedings", "child_id"),
    "referral": ("referral", "child_id"),
    "sdq": ("sdq_record", "child_id"),
    "strategy discussion": ("strategy_discussion", "child_id"),
    "s47 enquiry": ("s47_enquiry", "child_id"),
}


@dataclass
class World:
    client: TestClient
    connection: Connection
    factory: sessionmaker[Session]
    headers: dict[str, dict[str, str]]
    user_ids: dict[str, uuid.UUID]
    children: dict[str, uuid.UUID]
    team_a: uuid.UUID
    #: (kind, record) -> the id of the record of that kind for that child (absent: none exists).
    ids: dict[tuple[str, str], uuid.UUID] = field(default_factory=dict)
    #: second path parameters: (kind, record) -> id
    sub_ids: dict[tuple[str, str], uuid.UUID] = field(default_factory=dict)
    #: The records whose child has had an IRO: elsewhere "the child's allocated IRO" is not.
    iro_records: frozenset[str] = frozenset()

    def access_rows(self) -> tuple[int, int]:
        """(denied, other) access-log rows so far."""
        with self.factory() as session:
            denied, other = session.execute(
                select(
                    func.count().filter(AccessLog.action == "denied"),
                    func.count().filter(AccessLog.action != "denied"),
                )
            ).one()
        return int(denied), int(other)

    def send(
        self, method: str, url: str, user: str, body: Any | None, *, write: bool
    ) -> tuple[int, str]:
        headers = dict(self.headers[user])
        if not write:
            response = self.client.request(method, url, headers=headers)
            return response.status_code, response.text
        # A stale ETag: a caller who passes the checks on a versioned record gets 412 and changes
        # nothing; the savepoint undoes whatever else an authorised write did.
        headers["If-Match"] = '"987654"'
        nested = self.connection.begin_nested()
        try:
            response = self.client.request(
                method, url, headers=headers, json=body if body is not None else None
            )
        finally:
            nested.rollback()
        return response.status_code, response.text


def _first(session: Session, sql: str, **params: Any) -> uuid.UUID | None:
    value = session.execute(text(sql), params).scalar()
    if value is None:
        return None
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _pick_children(session: Session) -> dict[str, uuid.UUID]:
    """One child per situation, the one with the most records where there is a choice."""
    richness = (
        "(SELECT count(*) FROM assessment a WHERE a.child_id = c.child_id)"
        " + (SELECT count(*) FROM case_note n WHERE n.child_id = c.child_id)"
        " + (SELECT count(*) FROM intervention i WHERE i.child_id = c.child_id)"
        " + (SELECT count(*) FROM case_audit u WHERE u.child_id = c.child_id)"
        " + (SELECT count(*) FROM strategy_discussion s WHERE s.child_id = c.child_id)"
    )
    plain = (
        "c.child_id NOT IN (SELECT child_id FROM period_of_care)"
        " AND c.child_id NOT IN (SELECT child_id FROM cp_plan)"
        " AND c.child_id NOT IN (SELECT person_id FROM restricted_access_grant)"
    )
    queries = {
        LOOKED_AFTER: "c.state = 'looked_after'",
        CP: "c.state = 'cp_plan'",
        OPEN: f"c.state = 'cin_plan' AND {plain}",
        CLOSED: f"c.state = 'closed' AND {plain} AND c.child_id NOT IN "
        "(SELECT child_id FROM \"case\" WHERE state <> 'closed')",
    }
    chosen: dict[str, uuid.UUID] = {}
    for record, where in queries.items():
        taken = list(chosen.values())
        child = None
        for candidate in session.execute(
            text(f'SELECT c.child_id FROM "case" c WHERE {where} ORDER BY {richness} DESC, c.id')
        ).scalars():
            candidate_id = candidate if isinstance(candidate, uuid.UUID) else uuid.UUID(candidate)
            if candidate_id not in taken:
                child = candidate_id
                break
        assert child is not None, f"the demo data has no child for {record}"
        chosen[record] = child
    # The restricted child: another looked-after child (the richest record after the first).
    for candidate in session.execute(
        text(
            "SELECT c.child_id FROM \"case\" c WHERE c.state = 'looked_after'"
            f" ORDER BY {richness} DESC, c.id"
        )
    ).scalars():
        candidate_id = candidate if isinstance(candidate, uuid.UUID) else uuid.UUID(candidate)
        if candidate_id not in chosen.values():
            chosen[RESTRICTED] = candidate_id
            break
    assert RESTRICTED in chosen
    return chosen


def build_world(connection: Connection) -> Iterator[World]:
    factory = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    settings = Settings(
        environment=Environment.test,
        secret_key="object-matrix-secret-key-that-is-long-enough-0123",
        cookie_secure=False,
    )
    with factory() as session:
        load_demo_data(session, seed=8, children=DEMO_CHILDREN, settings=settings)
        session.commit()
        children = _pick_children(session)
        team_a = make_team(session, name="Matrix team A", kind=TeamKind.cin_cp)
        team_b = make_team(session, name="Matrix team B", kind=TeamKind.cin_cp)
        iro_team = make_team(session, name="Matrix IROs", kind=TeamKind.iro)
        users = {
            USERS.SW_IN: make_user(session, Role.social_worker, team=team_a),
            USERS.SW_OUT: make_user(session, Role.social_worker, team=team_b),
            USERS.MANAGER: make_user(session, Role.team_manager, team=team_a, manager=True),
            USERS.IRO_ALLOCATED: make_user(session, Role.iro, team=iro_team),
            USERS.IRO_OTHER: make_user(session, Role.iro, team=iro_team),
            USERS.ADMIN: make_user(session, Role.administrator),
            USERS.CLIENT: make_user(session, Role.integration_client),
        }
        child_ids = list(children.values())
        # The five children's cases and everything on them belong to team A, worked by SW_IN.
        for table in ("case", "care_proceedings", "case_audit", "early_help_episode"):
            _set_team(session, table, team_a.id, child_ids)
        _set_column(session, "case", "allocated_worker_id", users[USERS.SW_IN].id, child_ids)
        # Audit actions are completed by their owner (or the team's manager, or QA): SW_IN owns
        # those on the five children, as the worker holding their cases.
        _set_column(session, "audit_action", "owner_id", users[USERS.SW_IN].id, child_ids)
        _set_column(session, "iro_allocation", "iro_id", users[USERS.IRO_ALLOCATED].id, child_ids)
        # The restricted child is named for a service manager outside the matrix only.
        session.execute(
            update(Person).where(Person.id == children[RESTRICTED]).values(is_restricted=True)
        )
        outsider = make_user(session, Role.service_manager)
        session.add(
            RestrictedAccessGrant(
                person_id=children[RESTRICTED], user_id=outsider.id, granted_by_id=outsider.id
            )
        )
        # A supervision session of SW_IN's, recorded by their manager, with case decisions in it
        # (each child it shows is access-logged).
        session.execute(
            text(
                "UPDATE supervision_session SET worker_id = :w, supervisor_id = :m,"
                " recorded_by_id = :m WHERE id = (SELECT m.supervision_id"
                " FROM management_oversight m JOIN person p ON p.id = m.child_id"
                " WHERE m.supervision_id IS NOT NULL"
                " AND p.is_restricted = :no ORDER BY m.supervision_id LIMIT 1)"
            ),
            {
                "w": _db(session, users[USERS.SW_IN].id),
                "m": _db(session, users[USERS.MANAGER].id),
                "no": False,
            },
        )
        session.flush()
        headers = {name: auth_headers(session, user) for name, user in users.items()}
        world_ids: dict[tuple[str, str], uuid.UUID] = {}
        for kind, (table, column) in CHILD_TABLES.items():
            key_column = "contact_id" if table == "contact_child" else "id"
            for record, child in children.items():
                found = _first(
                    session,
                    f'SELECT {key_column} FROM "{table}" WHERE {column} = :c ORDER BY id',
                    c=_db(session, child),
                )
                if found is not None:
                    world_ids[(kind, record)] = found
        for record, child in children.items():
            world_ids[("child", record)] = child
        supervision = _first(
            session,
            "SELECT id FROM supervision_session WHERE worker_id = :w",
            w=_db(session, users[USERS.SW_IN].id),
        )
        assert supervision is not None
        sw_in_token = session.scalar(
            select(ApiToken.id).where(ApiToken.user_id == users[USERS.SW_IN].id)
        )
        assert sw_in_token is not None
        membership = session.scalar(
            select(TeamMembership.id).where(TeamMembership.user_id == users[USERS.SW_IN].id)
        )
        assert membership is not None
        globals_: dict[str, uuid.UUID | None] = {
            "team": team_a.id,
            "user": users[USERS.SW_IN].id,
            "token": sw_in_token,
            "supervision": supervision,
            "audit tool": _first(session, "SELECT id FROM audit_tool ORDER BY id"),
            "audit programme": _first(session, "SELECT id FROM audit_programme ORDER BY id"),
            "return job": _first(session, "SELECT id FROM return_job ORDER BY id"),
        }
        for kind, value in globals_.items():
            if value is not None:
                world_ids[(kind, GLOBAL)] = value
        sub_ids: dict[tuple[str, str], uuid.UUID] = {("team membership", GLOBAL): membership}
        for record, child in children.items():
            relationship = _first(
                session,
                "SELECT id FROM relationship WHERE person_id = :c ORDER BY id",
                c=_db(session, child),
            )
            if relationship is not None:
                sub_ids[("relationship", record)] = relationship
            member = _first(
                session,
                "SELECT m.id FROM early_help_member m JOIN early_help_episode e"
                " ON e.id = m.episode_id WHERE e.child_id = :c ORDER BY m.id",
                c=_db(session, child),
            )
            if member is not None:
                sub_ids[("early help member", record)] = member
        user_ids = {name: user.id for name, user in users.items()}
        iro_records = frozenset(
            record
            for record, child in children.items()
            if _first(
                session,
                "SELECT id FROM iro_allocation WHERE child_id = :c",
                c=_db(session, child),
            )
            is not None
        )
        session.commit()
    app = create_app(settings, engine=connection.engine, session_factory=factory)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield World(
            client=client,
            connection=connection,
            factory=factory,
            headers=headers,
            user_ids=user_ids,
            children=children,
            team_a=team_a.id,
            ids=world_ids,
            iro_records=iro_records,
            sub_ids=sub_ids,
        )


def _db(session: Session, value: uuid.UUID) -> uuid.UUID | str:
    """A uuid as the backend stores it (PostgreSQL: uuid; SQLite: 32 hex digits)."""
    return value if session.get_bind().dialect.name == "postgresql" else value.hex


def _set_column(
    session: Session, table: str, column: str, value: uuid.UUID, children: list[uuid.UUID]
) -> None:
    for child in children:
        session.execute(
            text(f'UPDATE "{table}" SET {column} = :v WHERE child_id = :c'),
            {"v": _db(session, value), "c": _db(session, child)},
        )


def _set_team(session: Session, table: str, team: uuid.UUID, children: list[uuid.UUID]) -> None:
    _set_column(session, table, "team_id", team, children)
