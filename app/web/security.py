"""How the web client knows who is there, and what it sends to keep pages safe.

The pages use the same server-side session as the API (``app.security.sessions``): an HttpOnly,
SameSite=Lax cookie holding 256 random bits. Forms cannot set headers without JavaScript, so
every form carries the session's CSRF token in a hidden field instead of ``X-CSRF-Token``, and
every POST checks it. The sign-in form, posted before there is a session, is protected by a
double-submit token (a random cookie repeated in the form), so another site cannot sign someone
in as the attacker (login CSRF).

Every page carries a Content-Security-Policy with a fresh nonce: only our own files and the one
inline script of the GOV.UK page template (which carries the nonce) may run.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Form, Request
from starlette.responses import Response

from app import clock
from app.api.deps import SessionDep
from app.config import Settings
from app.errors import Forbidden, Unauthenticated
from app.models.security import UserSession
from app.security.authn import SESSION_COOKIE
from app.security.policy import PERMISSIONS
from app.security.principal import Principal
from app.security.sessions import CSRF_FAILED, authenticate_session_cookie, csrf_matches

SIGN_IN_CSRF_COOKIE = "casework_sign_in"
CSRF_FIELD = "csrf_token"


class SignInRequired(Exception):
    """No live session: the page answers with a redirect to the sign-in page."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or "")
        self.message = message


def csp_nonce(request: Request) -> str:
    """The request's nonce (one per request, made on first use)."""
    nonce: str | None = getattr(request.state, "csp_nonce", None)
    if nonce is None:
        nonce = secrets.token_urlsafe(16)
        request.state.csp_nonce = nonce
    return nonce


def content_security_policy(nonce: str) -> str:
    return (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self'; "
        "img-src 'self' data:; "
        "font-src 'self'; "
        "object-src 'none'; "
        "base-uri 'none'; "
        "frame-ancestors 'none'; "
        "form-action 'self'"
    )


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only, never another host (an open
    redirect would let a phishing link land a signed-in user on a look-alike site)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target or any(ord(c) < 32 for c in target):
        return "/"
    return target


def sign_in_url(request: Request) -> str:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/sign-in" if here == "/" else f"/sign-in?next={quote(here, safe='')}"


def web_principal(request: Request, session: SessionDep) -> Principal:
    """The signed-in member of staff, from the session cookie only (a bearer token is for
    integrations, not for the browser). No live session: :class:`SignInRequired`."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise SignInRequired()
    settings: Settings = request.app.state.settings
    try:
        principal = authenticate_session_cookie(
            session, request, cookie, settings, check_csrf=False
        )
    except Unauthenticated as exc:
        raise SignInRequired(exc.detail) from exc
    request.state.principal = principal
    if principal.session_id is not None:
        # Already in the unit of work's identity map (the check above loaded it): no query.
        row = session.get(UserSession, principal.session_id)
        if row is not None:
            request.state.session_expires_in = session_expires_in(row, settings)
    return principal


def session_ends_at(row: UserSession, settings: Settings) -> datetime:
    """When the session ends if nothing more happens: the idle limit or the absolute limit,
    whichever comes first (ASVS 3.3.1, 3.3.2)."""
    return min(row.expires_at, row.last_seen_at + timedelta(minutes=settings.session_idle_minutes))


def session_expires_in(row: UserSession, settings: Settings) -> int:
    """Whole seconds left before the session ends (what the page's timeout warning counts
    down from; rounded down, so the warning is never late)."""
    return max(0, int((session_ends_at(row, settings) - clock.now()).total_seconds()))


WebPrincipal = Annotated[Principal, Depends(web_principal)]


def web_permission(name: str) -> Callable[..., Principal]:
    """The web twin of ``app.api.deps.permission``: the same policy table, the same refusals
    (a 403 page here), for a caller signed in with the session cookie."""
    if name not in PERMISSIONS:
        raise KeyError(f"unknown permission {name!r}")
    allowed = PERMISSIONS[name]

    def _check(principal: WebPrincipal) -> Principal:
        if principal.must_change_password:
            raise Forbidden(
                "Change your temporary password before you carry on.",
                code="password_change_required",
            )
        if principal.role not in allowed:
            raise Forbidden(f"Your role ({principal.role.value}) may not do this ({name}).")
        return principal

    _check.__name__ = f"web_permission_{name.replace(':', '_')}"
    _check.permission = name  # type: ignore[attr-defined]  # read by the route-inventory tests
    return _check


def csrf_checked(
    principal: WebPrincipal, csrf_token: Annotated[str | None, Form()] = None
) -> Principal:
    """A form post from a signed-in user, carrying the session's CSRF token (403 otherwise)."""
    if not csrf_matches(principal, csrf_token):
        raise Forbidden(CSRF_FAILED, code="csrf_failed")
    return principal


CsrfChecked = Annotated[Principal, Depends(csrf_checked)]


def web_form(name: str) -> Callable[..., Principal]:
    """A form post that needs permission ``name``: the session's CSRF token checked first, then
    the same policy table as :func:`web_permission`. Every page's POST uses this (or
    :data:`CsrfChecked` where no permission applies, as for signing out)."""
    allowed_check = web_permission(name)

    def _check(principal: Annotated[Principal, Depends(csrf_checked)]) -> Principal:
        return allowed_check(principal)

    _check.__name__ = f"web_form_{name.replace(':', '_')}"
    _check.permission = name  # type: ignore[attr-defined]  # read by the route-inventory tests
    return _check


def sign_in_token(request: Request) -> str:
    """The double-submit token of the sign-in form: the cookie's, or a new one."""
    existing = request.cookies.get(SIGN_IN_CSRF_COOKIE)
    if existing and 20 <= len(existing) <= 100:
        return existing
    token = getattr(request.state, "sign_in_token", None) or secrets.token_urlsafe(32)
    request.state.sign_in_token = token
    return str(token)


def sign_in_token_set(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(
        SIGN_IN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/sign-in",
    )


def sign_in_token_matches(request: Request, supplied: str | None) -> bool:
    cookie = request.cookies.get(SIGN_IN_CSRF_COOKIE)
    return (
        cookie is not None
        and supplied is not None
        and hmac.compare_digest(cookie.encode(), supplied.encode())
    )
