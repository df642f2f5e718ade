"""Errors on web pages: the GOV.UK error pages (404, 403, 500, ...) instead of problem+json.

The API's handlers (``app.errors``) stay the answer for ``/api/...``; for a page, each is wrapped so
that the same error renders as HTML. A denied read of a restricted record is still recorded as a
security event (by the API handler's own code path), whichever the answer's format.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response

from app.errors import DomainError, _record_security_event
from app.request_context import current_request_id
from app.web.security import SignInRequired, sign_in_url
from app.web.templating import render

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
        return error_page(request, exc.status, exc.detail)
    if isinstance(exc, StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else ""
        return error_page(request, exc.status_code, detail)
    if isinstance(exc, RequestValidationError):
        return error_page(request, 400, "The address or form was not as expected.")
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


async def _sign_in_required(request: Request, exc: Exception) -> Response:
    return RedirectResponse(sign_in_url(request), status_code=303)


def install_web_error_handlers(app: FastAPI) -> None:
    """Wrap every handler already installed; call after ``install_error_handlers``."""
    for key, api_handler in list(app.exception_handlers.items()):
        if isinstance(key, type) and issubclass(key, Exception):
            app.exception_handlers[key] = _wrap(api_handler)
    app.exception_handlers[SignInRequired] = _sign_in_required
