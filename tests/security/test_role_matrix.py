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

CASES = sorted(
    (method, endpoint.path, endpoint.guard or "", role)
    for endpoint in GUARDED
    if endpoint.guard in PERMISSIONS
    for method in endpoint.methods
    if method != "HEAD"
    for role in Role
)


def test_the_matrix_covers_every_permission_guarded_route() -> None:
    guarded_paths = {e.path for e in GUARDED if e.guard in PERMISSIONS}
    assert len(guarded_paths) >= 30
    assert {path for _, path, _, _ in CASES} == guarded_paths


@pytest.mark.parametrize(("method", "path", "needed", "role"), CASES)
def test_each_role_is_let_through_exactly_where_the_policy_says(
    client: TestClient, db: Session, method: str, path: str, needed: str, role: Role
) -> None:
    team = make_team(db, kind=TeamKind.assessment)
    user = make_user(db, role, team=team, manager=role is Role.team_manager)
    body: dict[str, object] | None = {} if method in ("POST", "PATCH", "PUT") else None
    headers = auth_headers(db, user) | {"If-Match": '"1"'}
    response = client.request(method, _concrete(path), headers=headers, json=body)
    if role in PERMISSIONS[needed]:
        assert response.status_code not in (401, 403), (role, needed, response.text)
    else:
        assert response.status_code == 403, (role, needed, response.text)
        assert response.json()["code"] == "forbidden"
