"""Dependencies every router uses: the unit of work, the caller, and the permission it needs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import BadRequest, Forbidden, PreconditionRequired
from app.idempotency import mark_committed
from app.security.authn import authenticate_request
from app.security.policy import PERMISSIONS
from app.security.principal import Principal


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """One unit of work per request, committed before the response is sent.

    Used with ``scope="function"`` so the commit runs when the route returns, before FastAPI sends
    the response: a client never sees a 2xx for a write that then failed to commit.
    """
    factory = request.app.state.session_factory
    with factory() as session:
        try:
            yield session
            key_id = getattr(request.state, "idempotency_key_id", None)
            if key_id is not None:
                # The Idempotency-Key's request is done, in the same transaction as its change.
                mark_committed(session, key_id)
            session.commit()
        except BaseException:
            session.rollback()
            raise


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def get_principal(request: Request, session: SessionDep) -> Principal:
    principal = authenticate_request(request, session)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def permission(name: str) -> Callable[..., Principal]:
    """A dependency that lets through only callers whose role (and token scopes) grant ``name``."""
    if name not in PERMISSIONS:
        raise KeyError(f"unknown permission {name!r}")
    allowed = PERMISSIONS[name]

    def _check(principal: CurrentPrincipal) -> Principal:
        if principal.must_change_password:
            raise Forbidden(
                "Change your temporary password before you carry on.",
                code="password_change_required",
            )
        if principal.role not in allowed:
            raise Forbidden(f"Your role ({principal.role.value}) may not do this ({name}).")
        if principal.scopes is not None and name not in principal.scopes:
            raise Forbidden(f"This token does not carry the scope {name!r}.")
        return principal

    _check.__name__ = f"permission_{name.replace(':', '_')}"
    _check.permission = name  # type: ignore[attr-defined]  # read by the route-inventory tests
    return _check


def if_match_version(request: Request, _caller: CurrentPrincipal) -> int:
    """The version the client last read, from ``If-Match: "<version>"`` (the ETag we sent).

    Depends on the caller so that, whatever order a route lists its parameters in, a request
    without credentials gets 401 before anything is said about its headers (the principal is
    resolved once per request and shared with the route's permission check).
    """
    raw = request.headers.get("if-match")
    if raw is None:
        raise PreconditionRequired(
            "Send the record's ETag in an If-Match header so that a concurrent change is not lost."
        )
    value = raw.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise BadRequest('If-Match must be the ETag of the record, e.g. "3".')
    return int(value)


IfMatch = Annotated[int, Depends(if_match_version)]


def etag(version: int) -> str:
    return f'"{version}"'
