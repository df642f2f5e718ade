"""Object-level authorisation: every route with an id, by method, caller and record (issue 8,
part 3: OWASP API1, broken object-level authorisation).

The routes are discovered from the app, not listed by hand; each must have its line in the one
policy table, tests/security/object_matrix_data.py, which says what kind of record its id names and
who may read or write it. Seven callers (a social worker in the case's team and one in another
team, the team's manager, the child's allocated IRO and another IRO, an administrator, an
integration client) try every route on five children's records (an open child-in-need case, a
child on a CP plan, a looked-after child, a restricted child, a closed case).

- A read answers exactly what the table says: 200; 403 where the role may not use the route at
  all; 404 where the record is hidden (existence is not disclosed). An allowed read of a child's
  record writes one access-log row; a refused read of a restricted child writes one ``denied`` row.
- A write by a caller who may not write is 403 or 404, never 2xx, 409 or 412 (either would show
  the record's state). A caller who may write gets past the checks: its request carries a stale
  ETag and a minimal body built from the OpenAPI document, so it ends in 412, 409, 422 or 2xx —
  and every write runs in a savepoint rolled back at once, so nothing changes.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine

from app.config import Environment, Settings
from app.main import create_app
from app.models import Role
from app.security.policy import PERMISSIONS
from tests.security.object_matrix_data import (
    ALL_USERS,
    CHILD_RECORDS,
    GLOBAL,
    KNOWN_LEAKS,
    MISSING,
    OPEN,
    POLICY,
    RESTRICTED,
    USERS,
    Rule,
)
from tests.security.object_matrix_world import World, build_world
from tests.security.test_route_inventory import ENDPOINTS

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
ID_ROUTES = sorted(
    (method, e.path)
    for e in ENDPOINTS
    if e.path.startswith("/api/v1/") and "{" in e.path
    for method in e.methods & (WRITE_METHODS | {"GET"})
)
OPENAPI = create_app(Settings(environment=Environment.test, secret_key="x" * 40)).openapi()


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = OPENAPI["components"]["schemas"][name]
    return schema


def minimal(schema: dict[str, Any]) -> Any:
    """The smallest value the schema accepts (required fields only)."""
    schema = _resolve(schema)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [s for s in schema[key] if _resolve(s).get("type") != "null"]
            return minimal(options[0]) if options else None
    if "allOf" in schema:
        return minimal(schema["allOf"][0])
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {name: minimal(props[name]) for name in schema.get("required", [])}
    if kind == "array":
        return [minimal(schema.get("items", {})) for _ in range(schema.get("minItems", 0))]
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return max(float(schema.get("minimum", 1)), 1.0)
    if kind == "boolean":
        return False
    fmt = schema.get("format")
    if fmt == "date":
        return date.today().isoformat()
    if fmt == "date-time":
        return date.today().isoformat() + "T10:00:00Z"
    if fmt == "uuid":
        return str(uuid.UUID(int=1))
    if fmt == "email":
        return "matrix@example.org"
    return "x" * max(int(schema.get("minLength", 1)), 12)


def body_for(method: str, path: str) -> Any | None:
    operation = OPENAPI["paths"][path][method.lower()]
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    return None if content is None else minimal(content["schema"])


def query_for(method: str, path: str) -> str:
    operation = OPENAPI["paths"][path][method.lower()]
    parts = []
    for param in operation.get("parameters", []):
        if param["in"] == "query" and param.get("required"):
            value = minimal(param["schema"])
            if param["name"] == "year_end":
                value = "2026-03-31"
            parts.append(f"{param['name']}={value}")
    return "?" + "&".join(parts) if parts else ""


@pytest.fixture(scope="module")
def world(engine: Engine) -> Iterator[World]:
    with engine.connect() as connection:
        outer = connection.begin()
        try:
            yield from build_world(connection)
        finally:
            outer.rollback()


PREFIX_KIND = {
    "adoption-decisions": "adoption decision",
    "assessments": "assessment",
    "audit-actions": "audit action",
    "audit-programmes": "audit programme",
    "audit-tools": "audit tool",
    "care-proceedings": "care proceedings",
    "case-audits": "case audit",
    "case-notes": "case note",
    "cases": "case",
    "children": "child",
    "people": "child",
    "cin-plans": "cin plan",
    "cla-review-actions": "cla review action",
    "cla-reviews": "cla review",
    "contacts": "contact",
    "cp-plans": "cp plan",
    "early-help": "early help",
    "interventions": "intervention",
    "iro-disputes": "iro dispute",
    "missing-episodes": "missing episode",
    "pathway-plans": "pathway plan",
    "periods-of-care": "period of care",
    "placements": "placement",
    "plans": "care plan",
    "pre-proceedings": "pre-proceedings",
    "referrals": "referral",
    "returns": "return job",
    "sdqs": "sdq",
    "strategy-discussions": "strategy discussion",
    "supervision": "supervision",
    "teams": "team",
    "tokens": "token",
    "users": "user",
    "workers": "user",
    "s47-enquiries": "s47 enquiry",
    "webhooks": "webhook",
    "legal-holds": "legal hold",
}
GLOBAL_KINDS = {
    "legal hold",
    "audit programme",
    "audit tool",
    "return job",
    "supervision",
    "team",
    "token",
    "user",
    "webhook",
}


ROLE_OF = {
    USERS.SW_IN: Role.social_worker,
    USERS.SW_OUT: Role.social_worker,
    USERS.MANAGER: Role.team_manager,
    USERS.IRO_ALLOCATED: Role.iro,
    USERS.IRO_OTHER: Role.iro,
    USERS.ADMIN: Role.administrator,
    USERS.CLIENT: Role.integration_client,
}
GUARD = {(method, e.path): str(e.guard) for e in ENDPOINTS for method in e.methods if e.guard}
SUB_KIND = {
    "relationship_id": "relationship",
    "member_id": "early help member",
    "membership_id": "team membership",
}
#: Where the minimal body would fail on something other than authorisation (a person that does not
#: exist, a postcode), the values that let an authorised caller reach the checks.
BODY_OVERRIDES: dict[str, dict[str, str]] = {
    "POST /api/v1/people/{person_id}/relationships": {"related_person_id": "<another child>"},
    "POST /api/v1/people/{person_id}/addresses": {"postcode": "SW1A 1AA"},
}
PASSED_WRITE = {200, 201, 202, 204, 400, 409, 412, 422, 428}


def role_may(user: str, method: str, path: str) -> bool:
    """The function-level check (tests/security/test_role_matrix.py covers it on its own)."""
    names = [n.strip() for n in GUARD[(method, path)].split(",")]
    return all(n == "signed-in" or ROLE_OF[user] in PERMISSIONS[n] for n in names)


def _url(world: World, path: str, kind: str, record: str) -> tuple[str, str]:
    """The route's URL for ``record`` and the record actually used (MISSING when the dataset has
    none of that kind for that child)."""
    rid = world.ids.get((kind, record))
    used = record if rid is not None else MISSING
    url = re.sub(r"\{[a-z0-9_]+\}", str(rid or uuid.uuid4()), path, count=1)
    for name in re.findall(r"\{([a-z0-9_]+)\}", url):
        sub = world.sub_ids.get((SUB_KIND.get(name, ""), record))
        if sub is None:  # the dataset has no such sub-record: the id names nothing
            used = MISSING
        url = url.replace("{" + name + "}", str(sub or uuid.uuid4()))
    return url, used


def expected(rule: Rule, method: str, path: str, user: str, record: str) -> int | str:
    """The status the table says, or "passed" for a write that gets past every check."""
    if not role_may(user, method, path):
        return 403
    hidden = record == RESTRICTED and rule.kind not in GLOBAL_KINDS and rule.hides_restricted
    if record == MISSING or hidden:
        return 404
    if user in rule.who:
        return 200 if method == "GET" else "passed"
    return rule.refusal


def test_every_route_with_an_id_is_discovered() -> None:
    assert len(ID_ROUTES) >= 170
    assert ("GET", "/api/v1/children/{person_id}") in ID_ROUTES


def test_every_route_with_an_id_is_in_the_policy_table() -> None:
    missing = [f"{method} {path}" for method, path in ID_ROUTES if f"{method} {path}" not in POLICY]
    assert not missing, (
        "These routes are not in the object-level policy table. Add a line for each to POLICY in "
        "tests/security/object_matrix_data.py, e.g.\n"
        + "\n".join(
            f'    "{m}": Rule("<kind of record its id names>", <who: READERS, CASE_TEAM, ...>),'
            for m in missing
        )
        + "\n(and, for a new kind, say in tests/security/object_matrix_world.py where to find "
        "one per child, in CHILD_TABLES, or a global one in build_world)."
    )
    stale = sorted(set(POLICY) - {f"{m} {p}" for m, p in ID_ROUTES})
    assert not stale, f"The policy table names routes the app does not serve: {stale}"


def _kind(path: str) -> str:
    return PREFIX_KIND.get(path.split("/")[3], "?")


@pytest.mark.parametrize(("method", "path"), ID_ROUTES, ids=[f"{m} {p}" for m, p in ID_ROUTES])
def test_the_route_answers_each_caller_as_the_policy_table_says(
    world: World, method: str, path: str
) -> None:
    key = f"{method} {path}"
    if key not in POLICY:
        pytest.fail(f"{key} is not in POLICY (tests/security/object_matrix_data.py): add it")
    rule = POLICY[key]
    write = method in WRITE_METHODS
    records = [GLOBAL] if rule.kind in GLOBAL_KINDS else list(CHILD_RECORDS)
    body = body_for(method, path) if write else None
    if isinstance(body, dict):
        body |= {
            k: (str(world.children[OPEN]) if v == "<another child>" else v)
            for k, v in BODY_OVERRIDES.get(key, {}).items()
        }
    query = query_for(method, path)
    wrong: list[str] = []
    # Access-log rows so far (a write's are rolled back with it, so only reads move them).
    before = world.access_rows() if not write else (0, 0)
    for record in records:
        url, used = _url(world, path, rule.kind, record)
        for user in ALL_USERS:
            # A child who has never been looked after has no IRO: the matrix's "allocated IRO" is
            # then any other IRO (IRO writes are refused before "not looked after" is said).
            as_user = (
                USERS.IRO_OTHER
                if user == USERS.IRO_ALLOCATED and used not in world.iro_records
                else user
            )
            want = expected(rule, method, path, as_user, used)
            status, text = world.send(method, url + query, user, body, write=write)
            cell = f"{user} on {used}: expected {want}, got {status} {text[:160]}"
            if status >= 500:
                wrong.append(cell)
                continue
            if not write:
                after = world.access_rows()
                denied, viewed = (a - b for a, b in zip(after, before, strict=True))
                before = after
                if status != want:
                    wrong.append(cell)
                elif status == 200 and (
                    denied or (viewed != rule.logs if rule.logs is not None else viewed < 1)
                ):
                    # One row per read of a child's record (per child shown, for a list); none
                    # for a read that names no child.
                    wrong.append(f"{cell}: {viewed} access-log rows, {denied} denied")
                elif status == 404 and used == RESTRICTED and (denied, viewed) != (1, 0):
                    wrong.append(
                        f"{cell}: a refused read of a restricted child wrote {denied} "
                        f"denied rows and {viewed} others (1 and 0 expected)"
                    )
                elif (status == 403 or (status == 404 and used != RESTRICTED)) and (
                    denied,
                    viewed,
                ) != (0, 0):
                    wrong.append(f"{cell}: a refused read wrote access-log rows")
                continue
            if want == "passed":
                # A 403 from the workflow's table of who may take which event is decided after
                # the object check (the caller may change the case, not take that event).
                if status not in PASSED_WRITE and "may not take" not in text:
                    wrong.append(cell)
            elif status != want and not (
                want == 403 and status in (409, 412, 422) and user in KNOWN_LEAKS.get(key, ())
            ):
                wrong.append(cell)
    assert not wrong, f"{key} ({rule.kind}):\n" + "\n".join(wrong)
