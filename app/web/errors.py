"""Errors on web pages: the GOV.UK error pages (404, 403, 500, ...) instead of problem+json.

The API's handlers (``app.errors``) stay the answer for ``/api/...``; for a page, each is wrapped so
that the same error renders as HTML. A denied read of a restricted record is still recorded as a
security event (by the API handler's own code path), whichever the answer's format.

A form posted after the session ran out is not lost: before the redirect to the sign-in page, what
was typed is kept as the user's draft of that form (only for a session that timed out, never one
that was ended, and only with that session's own CSRF token, so another site cannot plant one).
"""

from __future__ import annotations

import hmac
import inspect
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response

from app import clock
from app.config import Settings
from app.errors import (
    DomainError,
    _record_security_event,
    database_unavailable,
    retry_after_seconds,
)
from app.models.security import UserSession
from app.request_context import current_request_id
from app.security.authn import SESSION_COOKIE
from app.security.tokens import hash_secret
from app.web.draft_pages import (
    CONTROL_FIELDS,
    DRAFT_SAVE_PATH,
    PATH_FIELD,
    TITLE_FIELD,
    draftable_path,
)
from app.web.drafts import MAX_FIELDS, draft_save
from app.web.security import CSRF_FIELD, SignInRequired, session_ends_at, sign_in_url
from app.web.templating import render

log = logging.getLogger("casework.web")

#: A form posted this long after its session ended is not kept: the person has long gone, and a
#: stolen cookie of an old session should not be able to write anything at all.
KEEP_DRAFT_WITHIN = timedelta(hours=12)
#: Forms that are never kept as drafts: signing in and out, passwords, the drafts themselves.
NOT_DRAFTED = ("/sign-in", "/sign-out", "/account/", "/drafts/", "/session/")
#: The title a timed-out form's draft gets (the page knows no better: nothing was rendered).
TIMEOUT_TITLE = "Form you were filling in when you were signed out"

Handler = Callable[[Request, Any], Response | Awaitable[Response]]

_TITLES = {
    400: "There is a problem with this request",
    401: "You need to sign in",
    403: "You cannot do this",
    404: "Page not found",
    405: "Page not found",
    409: "This could not be done",
    412: "Someone else has changed this record",
    422: "There is a problem with what was sent",
    429: "Too many attempts",
    503: "Sorry, the service is unavailable",
}


def is_page(request: Request) -> bool:
    """Whether the error is answered with a page: the request reached a web page's route, or came
    from a browser (which asks for HTML) for anything but the API and the health check. The rest
    keeps the API's problem+json answers."""
    route = request.scope.get("route")
    endpoint = getattr(route, "endpoint", None)
    if endpoint is not None and getattr(endpoint, "__module__", "").startswith("app.web."):
        return True
    path = request.url.path
    if path.startswith("/api/") or path == "/health":
        return False
    return "text/html" in request.headers.get("accept", "")


def error_page(request: Request, status: int, detail: str = "") -> Response:
    title = _TITLES.get(status, "Sorry, there is a problem with the service")
    return render(
        request,
        "error.html",
        {
            "title": title,
            "status_code": status,
            "detail": detail,
            "request_id": current_request_id(),
        },
        status_code=status,
    )


def _page_answer(request: Request, exc: Exception) -> Response:
    if isinstance(exc, DomainError):
        if exc.status == 401:
            return RedirectResponse(sign_in_url(request), status_code=303)
        if exc.code == "password_change_required" and request.method == "GET":
            # A temporary password: the one thing to do first is to choose one's own.
            here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(
                f"/account/password?next={quote(here, safe='')}", status_code=303
            )
        return error_page(request, exc.status, exc.detail)
    if isinstance(exc, StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else ""
        return error_page(request, exc.status_code, detail)
    if isinstance(exc, RequestValidationError):
        return error_page(request, 400, "The address or form was not as expected.")
    if database_unavailable(exc):
        # The database is restarting or unreachable: the GOV.UK "service unavailable" page,
        # and the same Retry-After as the API's 503 (the request's transaction was rolled back).
        page = error_page(request, 503)
        page.headers["Retry-After"] = str(retry_after_seconds(request))
        return page
    return error_page(request, 500)


async def _call(api_handler: Handler, request: Request, exc: Exception) -> Response:
    result = api_handler(request, exc)
    return await result if inspect.isawaitable(result) else result


def _wrap(api_handler: Handler) -> Handler:
    async def handler(request: Request, exc: Exception) -> Response:
        if not is_page(request):
            return await _call(api_handler, request, exc)
        if isinstance(exc, DomainError) and exc.security_event is not None:
            await run_in_threadpool(_record_security_event, request, exc.security_event)
        if not isinstance(exc, DomainError | StarletteHTTPException | RequestValidationError):
            # Log as the API handler does (with the request id), then answer with a page.
            await _call(api_handler, request, exc)
        return _page_answer(request, exc)

    return handler


def _kept_fields(form: Any) -> dict[str, Any]:
    """The posted fields worth keeping: text only (no files), never a password."""
    data: dict[str, Any] = {}
    for key in list(form.keys())[:MAX_FIELDS]:
        if "password" in key.lower():
            continue
        values = [v for v in form.getlist(key) if not isinstance(v, UploadFile)]
        if not values:
            continue
        data[key] = [str(v) for v in values] if len(values) > 1 else str(values[0])
    return data


def _keep_timed_out_form(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    cookie: str,
    supplied_csrf: str,
    form_path: str,
    title: str,
    data: dict[str, Any],
) -> bool:
    """Keep the form as a draft of the expired session's user, in a transaction of its own.
    Only for a session that ran out (idle or absolute limit) less than ``KEEP_DRAFT_WITHIN``
    ago, not one that was ended (signed out, password changed, account disabled), and only with
    that session's own CSRF token."""
    with factory() as session:
        row = session.scalar(
            select(UserSession).where(UserSession.token_hash == hash_secret(cookie))
        )
        if row is None or row.revoked_at is not None:
            return False
        ended = session_ends_at(row, settings)
        now = clock.now()
        if ended > now or now - ended > KEEP_DRAFT_WITHIN:
            return False
        if not hmac.compare_digest(row.csrf_token.encode(), supplied_csrf.encode()):
            return False
        draft_save(
            session,
            user_id=row.user_id,
            form_path=form_path,
            title=title,
            data=data,
            saved_by="timeout",
        )
        session.commit()
        log.info("kept a timed-out form as a draft for account %s", row.user_id)
        return True


async def _sign_in_required(request: Request, exc: Exception) -> Response:
    if request.method == "POST" and is_page(request):
        back = await _keep_draft(request)
        if back is not None:
            return RedirectResponse(
                f"/sign-in?next={quote(back, safe='')}&draft=kept", status_code=303
            )
    return RedirectResponse(sign_in_url(request), status_code=303)


async def _keep_draft(request: Request) -> str | None:
    """Keep a form posted after its session ended; where to go back to after signing in (the
    form's own page), or ``None`` when nothing was kept."""
    cookie = request.cookies.get(SESSION_COOKIE)
    path = request.url.path
    draft_page = path == DRAFT_SAVE_PATH
    if not cookie or (path.startswith(NOT_DRAFTED) and not draft_page) or len(path) > 300:
        return None
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return None
    try:
        form = await request.form()
    except Exception:  # a body that is not a form: nothing to keep
        return None
    supplied = form.get(CSRF_FIELD)
    data = _kept_fields(form)
    title = TIMEOUT_TITLE
    if draft_page:
        # The draft page's own form: the draft is of the form it names, not of this address.
        form_path = draftable_path(str(form.get(PATH_FIELD) or ""))
        if form_path is None:
            return None
        title = str(form.get(TITLE_FIELD) or "").strip() or TIMEOUT_TITLE
        back = "/drafts/view?" + urlencode({"form_path": form_path})
    else:
        form_path = path
        back = path + (f"?{request.url.query}" if request.url.query else "")
    for name in CONTROL_FIELDS:
        data.pop(name, None)
    if not isinstance(supplied, str) or not supplied or not data:
        return None
    kept = await run_in_threadpool(
        _keep_timed_out_form,
        request.app.state.session_factory,
        request.app.state.settings,
        cookie=cookie,
        supplied_csrf=supplied,
        form_path=form_path,
        title=title,
        data=data,
    )
    return back if kept else None


def install_web_error_handlers(app: FastAPI) -> None:
    """Wrap every handler already installed; call after ``install_error_handlers``."""
    for key, api_handler in list(app.exception_handlers.items()):
        if isinstance(key, type) and issubclass(key, Exception):
            app.exception_handlers[key] = _wrap(api_handler)
    app.exception_handlers[SignInRequired] = _sign_in_required
