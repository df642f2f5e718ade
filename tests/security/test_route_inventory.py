"""Every API route declares who may call it, and without credentials every one of them says 401.

OWASP API5 (broken function-level authorisation): a route that forgets its permission dependency
is open to anyone. This inventory walks the routes the app really serves, so a new route cannot
slip through unnoticed: it must depend on ``permission(...)`` or, for the few that any signed-in
caller may use, on ``get_principal`` — or be named on the allow-list below.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from app.api.deps import get_principal
from app.config import Environment, Settings
from app.main import create_app

# Reachable without credentials, on purpose.
UNAUTHENTICATED = {
    "/api/v1/auth/login",  # how one gets credentials
    "/api/v1/openapi.json",  # the API's own description
    "/api/v1/docs",
    "/docs/oauth2-redirect",
    "/health",  # liveness; reveals nothing about people
}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


@dataclass(frozen=True)
class Endpoint:
    path: str
    methods: frozenset[str]
    dependant: Dependant | None  # None: not a FastAPI route (the docs pages)

    @property
    def guard(self) -> str | None:
        """The permissions it needs, 'signed-in' for any caller, or None when unguarded."""
        if self.dependant is None:
            return None
        calls = list(_calls(self.dependant))
        named = [str(call.permission) for call in calls if hasattr(call, "permission")]
        if named:
            return ", ".join(named)
        return "signed-in" if get_principal in calls else None


def _served_endpoints() -> list[Endpoint]:
    """Every route the app serves, with routers included (FastAPI keeps included routers as
    nested objects; ``iter_route_contexts`` flattens them with their full paths)."""
    app = create_app(Settings(environment=Environment.test, secret_key="x" * 40))
    return [
        Endpoint(
            path=str(context.path),
            methods=frozenset(context.methods or ()),
            dependant=(context.dependant if isinstance(context.original_route, APIRoute) else None),
        )
        for context in iter_route_contexts(app.routes)
    ]


def _is_api(path: str) -> bool:
    """The API and the health check; the web pages, which redirect to the sign-in page instead of
    answering 401, have their own inventory (tests/web/test_web_routes.py)."""
    return path.startswith(("/api/", "/docs")) or path == "/health"


ENDPOINTS = _served_endpoints()
GUARDED = [e for e in ENDPOINTS if e.path not in UNAUTHENTICATED and _is_api(e.path)]


def test_every_route_is_guarded_or_on_the_allow_list() -> None:
    unguarded = sorted(e.path for e in GUARDED if e.guard is None)
    assert unguarded == [], f"routes without permission(...) or get_principal: {unguarded}"


def test_the_inventory_sees_routes_inside_included_routers() -> None:
    guards = {(e.path, m): e.guard for e in ENDPOINTS for m in e.methods}
    assert guards[("/api/v1/users", "POST")] == "user:write"
    assert guards[("/api/v1/children/{person_id}/access-log", "GET")] == "access_log:read"
    assert guards[("/api/v1/auth/me", "GET")] == "signed-in"
    assert guards[("/api/v1/auth/login", "POST")] is None
    assert len(GUARDED) > 10


def _concrete(path: str) -> str:
    """The path with every ``{parameter}`` filled in (an id works for every parameter we have)."""
    parts = path.split("/")
    return "/".join(str(uuid.uuid4()) if p.startswith("{") else p for p in parts)


@pytest.mark.parametrize(
    ("method", "path"),
    sorted((method, e.path) for e in GUARDED for method in e.methods if method != "HEAD"),
)
def test_without_credentials_every_guarded_route_answers_401(
    client: TestClient, method: str, path: str
) -> None:
    response = client.request(method, _concrete(path))
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "unauthenticated"
