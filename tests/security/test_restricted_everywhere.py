"""A restricted child is invisible on every route that reads a child's record, and every read that
succeeds is written to the access log, once (issue 8, part 3: OWASP API1, broken object-level
authorisation; the access-log completeness rule).

The routes are discovered from the app (every GET whose path names a child, a person or a case),
not listed by hand, so a new route is checked the day it is added. For each:

- a social worker of the child's own team, not named on the restriction, gets 404 — as if the
  record did not exist — and the attempt is written to the access log as ``denied``;
- a manager named on the restriction reads it (200), and exactly one access-log row says so.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import AccessLog, Role, TeamKind
from app.security.access import person_restrict
from app.security.authn import principal_for_user
from app.security.policy import PERMISSIONS
from app.security.principal import AuthMethod
from tests.cases.factories import open_case
from tests.factories import auth_headers, make_child, make_team, make_user
from tests.security.test_route_inventory import ENDPOINTS

RECORD_PARAMS = {"child_id", "person_id", "case_id"}

CHILD_ROUTES = sorted(
    e.path
    for e in ENDPOINTS
    if e.path.startswith("/api/")
    and "GET" in e.methods
    and (params := set(re.findall(r"\{([a-z_]+)\}", e.path)))
    and params <= RECORD_PARAMS
)

#: Query parameters a route requires (the outcome indicators are for a year ending 31 March).
QUERY = {
    "/api/v1/children/{child_id}/oc2": "?year_end=2026-03-31",
    "/api/v1/children/{child_id}/leaving-care/oc3": "?year_end=2026-03-31",
}


def _denied_and_viewed(db: Session, child_id: object) -> tuple[int, int]:
    db.expire_all()
    rows = dict(
        db.execute(
            select(AccessLog.action, func.count())
            .where(AccessLog.person_id == child_id)
            .group_by(AccessLog.action)
        ).all()
    )
    return int(rows.get("denied", 0)), sum(int(n) for a, n in rows.items() if a != "denied")


def test_the_routes_are_discovered() -> None:
    assert len(CHILD_ROUTES) >= 25
    assert "/api/v1/children/{person_id}" in CHILD_ROUTES


@pytest.mark.parametrize("path", CHILD_ROUTES)
def test_a_restricted_child_is_not_found_on_every_route_except_for_those_named(
    client: TestClient, db: Session, path: str
) -> None:
    team = make_team(db, kind=TeamKind.cin_cp)
    manager = make_user(db, Role.team_manager, team=team, manager=True)
    worker = make_user(db, Role.social_worker, team=team)
    iro = make_user(db, Role.iro)
    records_manager = make_user(db, Role.administrator)
    child = make_child(db, first_name="Restricted")
    case = open_case(db, by=manager, child=child, team=team, worker=worker)
    person_restrict(
        db,
        principal=principal_for_user(db, manager, auth=AuthMethod.token),
        person_id=child.id,
        user_ids=[iro.id, records_manager.id],
    )
    db.commit()
    url = (
        path.replace("{child_id}", str(child.id))
        .replace("{person_id}", str(child.id))
        .replace("{case_id}", str(case.id))
    ) + QUERY.get(path, "")
    endpoint = next(e for e in ENDPOINTS if e.path == path and "GET" in e.methods)
    needed = str(endpoint.guard)
    # The named reader: the manager, or the IRO named beside them where a manager may not use the
    # route at all, or the administrator (the records manager) named too, for retention's routes.
    reader = (
        manager
        if Role.team_manager in PERMISSIONS[needed]
        else iro
        if Role.iro in PERMISSIONS[needed]
        else records_manager
    )

    denied_before, viewed_before = _denied_and_viewed(db, child.id)
    refused = client.get(url, headers=auth_headers(db, worker))
    denied_after, viewed_after = _denied_and_viewed(db, child.id)

    if Role.social_worker not in PERMISSIONS[needed]:
        # The worker's role may not use the route at all: refused before any record is read.
        assert refused.status_code == 403, refused.text
        assert (denied_after, viewed_after) == (denied_before, viewed_before)
    else:
        assert refused.status_code == 404, refused.text
        assert "restricted" not in refused.text.lower()
        assert (denied_after, viewed_after) == (denied_before + 1, viewed_before)

    allowed = client.get(url, headers=auth_headers(db, reader))
    denied_final, viewed_final = _denied_and_viewed(db, child.id)

    assert allowed.status_code == 200, allowed.text
    assert (denied_final, viewed_final) == (denied_after, viewed_after + 1)
