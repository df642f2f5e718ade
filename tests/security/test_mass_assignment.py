"""Mass assignment (OWASP API3, broken object property level authorisation): a body may set only
the fields its schema declares, and no edit may reach the fields the services own.

Discovered from the app's own OpenAPI document, not from a hand list, so a new route is covered
the day it is added:

- every request body (and every object nested in one) refuses unknown fields
  (``additionalProperties: false``);
- no edit (PATCH or PUT) schema declares a record's state, version, team or restriction: those move
  only through transitions (the state machine, with If-Match), allocation and the restriction
  routes, each audited;
- sending such a field to every route that takes a body is answered 422 naming the field, for a
  caller who may use the route — and nothing is written.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Environment, Settings
from app.main import create_app
from app.models import ChangeLog
from app.models.org import Role
from app.security.policy import PERMISSIONS
from tests.factories import auth_headers, make_team, make_user
from tests.security.test_route_inventory import ENDPOINTS

# Hundreds of cases: one app for the module, each case on its own rolled-back connection.
pytestmark = pytest.mark.shared_app

OWNED_BY_THE_SERVICES = {"state", "version", "team_id", "restricted", "is_restricted"}
SMUGGLED = {"state": "closed", "version": 99, "restricted": True, "zz_not_a_field": 1}


def _openapi() -> dict[str, Any]:
    app = create_app(Settings(environment=Environment.test, secret_key="x" * 40))
    return app.openapi()


OPENAPI = _openapi()
SCHEMAS: dict[str, Any] = OPENAPI["components"]["schemas"]


def _ref(schema: dict[str, Any]) -> list[str]:
    """The component names a (sub)schema refers to."""
    found: list[str] = []
    if "$ref" in schema:
        found.append(schema["$ref"].rsplit("/", 1)[-1])
    for key in ("anyOf", "oneOf", "allOf"):
        for part in schema.get(key, []):
            found += _ref(part)
    if "items" in schema:
        found += _ref(schema["items"])
    for sub in schema.get("properties", {}).values():
        found += _ref(sub)
    if isinstance(schema.get("additionalProperties"), dict):
        found += _ref(schema["additionalProperties"])
    return found


def _bodies() -> list[tuple[str, str, str]]:
    """(method, path, component) for every route's JSON request body."""
    out = []
    for path, operations in OPENAPI["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            if schema is None:
                continue
            for name in _ref(schema):
                out.append((method.upper(), path, name))
    return sorted(out)


BODIES = _bodies()


def _reachable(name: str, seen: set[str] | None = None) -> set[str]:
    seen = seen if seen is not None else set()
    if name in seen:
        return seen
    seen.add(name)
    for child in _ref(SCHEMAS[name]):
        _reachable(child, seen)
    return seen


def test_there_are_bodies_to_check() -> None:
    assert len(BODIES) > 100


@pytest.mark.parametrize(("method", "path", "name"), BODIES)
def test_every_request_body_refuses_fields_it_does_not_declare(
    method: str, path: str, name: str
) -> None:
    open_objects = sorted(
        component
        for component in _reachable(name)
        if SCHEMAS[component].get("type") == "object"
        and SCHEMAS[component].get("additionalProperties") is not False
        and "properties" in SCHEMAS[component]
    )
    assert open_objects == []


def test_no_edit_can_set_a_state_a_version_a_team_or_a_restriction() -> None:
    offenders = sorted(
        (method, path, name, field)
        for method, path, name in BODIES
        if method in ("PATCH", "PUT")
        for field in SCHEMAS[name].get("properties", {})
        if field in OWNED_BY_THE_SERVICES
    )
    assert offenders == []


def _permission_of(method: str, path: str) -> str | None:
    for endpoint in ENDPOINTS:
        if endpoint.path == path and method in endpoint.methods:
            guard = endpoint.guard
            if guard and guard != "signed-in":
                return guard.split(", ")[0]
    return None


ROUTES_WITH_BODIES = sorted({(method, path) for method, path, _name in BODIES})


@pytest.mark.parametrize(("method", "path"), ROUTES_WITH_BODIES)
def test_smuggled_fields_are_refused_with_422_naming_them_and_nothing_is_written(
    client: TestClient, db: Session, method: str, path: str
) -> None:
    """A caller who may use the route (its permission's first role) sends the service-owned fields
    and an unknown one: 422, each undeclared one named, no change recorded."""
    permission = _permission_of(method, path)
    roles = (
        sorted(PERMISSIONS[permission], key=lambda r: r.value)
        if permission
        else [Role.administrator]
    )
    team = make_team(db)
    user = make_user(db, roles[0], team=team, manager=roles[0] is Role.team_manager)
    headers = auth_headers(db, user)
    concrete = re.sub(r"\{[a-z_]+\}", str(uuid.uuid4()), path)
    name = next(n for m, p, n in BODIES if (m, p) == (method, path))
    declared = set(SCHEMAS[name].get("properties", {}))
    changes_before = db.scalar(select(func.count()).select_from(ChangeLog))

    response = client.request(
        method, concrete, json=SMUGGLED, headers={**headers, "If-Match": '"1"'}
    )

    assert response.status_code == 422, response.text
    named = {error["field"] for error in response.json().get("errors", [])}
    assert {field for field in SMUGGLED if field not in declared} <= named, response.text
    assert db.scalar(select(func.count()).select_from(ChangeLog)) == changes_before
