"""Every role against every guarded route: the policy table decides, and the app agrees.

For each route that declares ``permission(...)`` and each role, a caller with that role gets 403
when the policy table (app/security/policy.py) does not grant the permission, and never 401/403 when
it does (they then meet the route's own answers: 404 for an unknown id, 422 for an empty body, …).
Record-level checks (own team, other team, restricted) are tested with each module's stories.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.models import Role, TeamKind
from app.security.policy import PERMISSIONS
from tests.factories import auth_headers, make_team, make_user
from tests.security.test_route_inventory import GUARDED, _concrete

ROUTES = sorted(
    (method, endpoint.path, endpoint.guard or "")
    for endpoint in GUARDED
    if endpoint.guard in PERMISSIONS
    for method in endpoint.methods
    if method != "HEAD"
)


def test_the_matrix_covers_every_permission_guarded_route() -> None:
    guarded_paths = {e.path for e in GUARDED if e.guard in PERMISSIONS}
    assert len(guarded_paths) >= 30
    assert {path for _, path, _ in ROUTES} == guarded_paths


@pytest.mark.parametrize(("method", "path", "needed"), ROUTES)
def test_each_role_is_let_through_exactly_where_the_policy_says(
    client: TestClient, db: Session, method: str, path: str, needed: str
) -> None:
    """One route, every role (one parametrised case per route keeps ~1,300 checks quick)."""
    team = make_team(db, kind=TeamKind.assessment)
    body: dict[str, object] | None = {} if method in ("POST", "PATCH", "PUT") else None
    wrong: list[tuple[Role, int, str]] = []
    for role in Role:
        user = make_user(db, role, team=team, manager=role is Role.team_manager)
        headers = auth_headers(db, user) | {"If-Match": '"1"'}
        response = client.request(method, _concrete(path), headers=headers, json=body)
        if role in PERMISSIONS[needed]:
            if response.status_code in (401, 403):
                wrong.append((role, response.status_code, response.text))
        elif response.status_code != 403 or response.json()["code"] != "forbidden":
            wrong.append((role, response.status_code, response.text))
    assert not wrong, (needed, wrong)
