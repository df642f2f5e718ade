"""One error class per HTTP meaning, rendered as RFC 9457 ``application/problem+json``.

Services raise ``DomainError`` subclasses and never import FastAPI; the handlers below turn them
(and
validation, routing, concurrency and integrity failures) into problem documents with a stable
``code``
and a human sentence. Nothing else reaches the client: an unexpected error is a 500 with the
request id,
never a stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import InterfaceError as SAInterfaceError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm.exc import StaleDataError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.request_context import current_request_id

log = logging.getLogger("casework.errors")

PROBLEM_JSON = "application/problem+json"


class DomainError(Exception):
    """Base of every error a service may raise on purpose."""

    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"

    def __init__(self, detail: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        # A denied attempt to reach a child's record: logged by the handler in its own transaction.
        self.security_event: dict[str, Any] | None = None
        if code is not None:
            self.code = code
        self.extra = extra


class BadRequest(DomainError):
    status, code, title = 400, "bad_request", "Bad request"


class Unauthenticated(DomainError):
    status, code, title = 401, "unauthenticated", "Sign-in required"


class Forbidden(DomainError):
    status, code, title = 403, "forbidden", "Not allowed"


class NotFound(DomainError):
    """Also raised for records the caller may not see: existence is not disclosed."""

    status, code, title = 404, "not_found", "Not found"


class Conflict(DomainError):
    status, code, title = 409, "conflict", "Conflict"


class IllegalTransition(Conflict):
    code, title = "illegal_transition", "Not allowed from the current state"

    def __init__(self, detail: str, *, current_state: str, allowed_events: Sequence[str]) -> None:
        super().__init__(detail, current_state=current_state, allowed_events=list(allowed_events))


class PreconditionFailed(DomainError):
    status, code, title = 412, "stale_version", "The record has changed"


class PreconditionRequired(DomainError):
    status, code, title = 428, "precondition_required", "If-Match header required"


class Invalid(DomainError):
    """Input that is well-formed but breaks a rule; ``errors`` names each field."""

    status, code, title = 422, "invalid", "Invalid input"

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[dict[str, Any]] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(detail, code=code, errors=list(errors or []))

    @classmethod
    def field(cls, field: str, message: str, *, rule: str | None = None) -> Invalid:
        error: dict[str, Any] = {"field": field, "message": message}
        if rule:
            error["rule"] = rule
        return cls(message, errors=[error])


class RateLimited(DomainError):
    status, code, title = 429, "rate_limited", "Too many requests"


class ServiceUnavailable(DomainError):
    status, code, title = 503, "service_unavailable", "Service unavailable"


def problem(
    status: int,
    *,
    code: str,
    title: str,
    detail: str,
    request: Request | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if request is not None:
        body["instance"] = request.url.path
    request_id = current_request_id()
    if request_id:
        body["request_id"] = request_id
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


#: What a client is told while the database cannot be reached (the issue 8 restart drill).
DATABASE_UNAVAILABLE_DETAIL = (
    "The records database is not answering at the moment (it may be restarting); nothing was "
    "saved. Try again in a few seconds."
)


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database cannot be reached or dropped the connection, so the
    request may simply be sent again: SQLAlchemy's ``OperationalError`` (psycopg's connection
    refused, "terminating connection due to administrator command", the server starting up or
    shutting down; SQLite's "database is locked" after its busy timeout), ``InterfaceError`` (a
    connection already closed), any DBAPI error SQLAlchemy recognised as a disconnect, and no
    pooled connection free in time."""
    if isinstance(exc, OperationalError | SAInterfaceError | PoolTimeoutError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def retry_after_seconds(request: Request) -> int:
    settings = getattr(request.app.state, "settings", None)
    return int(getattr(settings, "database_retry_after_seconds", 2))


def database_unavailable_problem(request: Request, exc: BaseException) -> JSONResponse:
    """503 with Retry-After. The request's transaction was rolled back (``get_session``), so
    nothing of it was written: sending it again is safe."""
    # The driver's class and SQLSTATE only: its message may quote the statement's values.
    orig = getattr(exc, "orig", None)
    log.error(
        "database unavailable: %s (%s, sqlstate %s)",
        type(exc).__name__,
        type(orig).__name__ if orig is not None else "-",
        getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None) or "-",
    )
    return problem(
        503,
        code="service_unavailable",
        title="Service unavailable",
        detail=DATABASE_UNAVAILABLE_DETAIL,
        request=request,
        headers={"Retry-After": str(retry_after_seconds(request))},
    )


def _field_name(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for err in exc.errors():
        message = str(err.get("msg", "is invalid"))
        if err.get("type") == "json_invalid":
            message = "The request body is not valid JSON."
        elif err.get("type") == "extra_forbidden":
            message = "This field is not accepted here."
        errors.append({"field": _field_name(err.get("loc", ())), "message": message})
    return errors


#: FastAPI's detail when it cannot decode a request body at all.
BODY_UNREADABLE = "There was an error parsing the body"

_STATUS_TITLES = {
    400: ("bad_request", "Bad request"),
    401: ("unauthenticated", "Sign-in required"),
    403: ("forbidden", "Not allowed"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    406: ("not_acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    412: ("stale_version", "The record has changed"),
    415: ("unsupported_media_type", "Unsupported media type"),
    422: ("invalid", "Invalid input"),
    429: ("rate_limited", "Too many requests"),
}


def _record_security_event(request: Request, event: dict[str, Any]) -> None:
    """Write the denied attempt after the request's transaction was rolled back, so it survives."""
    from app.audit.service import access_log_append

    principal = getattr(request.state, "principal", None)
    with request.app.state.session_factory() as session:
        access_log_append(
            session,
            principal=principal,
            action="denied",
            resource=str(event.get("resource", request.url.path)),
            person_id=event.get("person_id"),
            case_id=event.get("case_id"),
        )
        session.commit()


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        if exc.security_event is not None:
            await run_in_threadpool(_record_security_event, request, exc.security_event)
        # A DomainError may say how long to wait (``retry_after=`` seconds, e.g. a locked account).
        retry_after = exc.extra.get("retry_after", 2)
        headers = {"Retry-After": str(retry_after)} if exc.status in (429, 503) else None
        return problem(
            exc.status,
            code=exc.code,
            title=exc.title,
            detail=exc.detail,
            request=request,
            headers=headers,
            **exc.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        fields = ", ".join(e["field"] for e in errors)
        return problem(
            422,
            code="invalid",
            title="Invalid input",
            detail=f"Please correct: {fields}." if fields else "The request is invalid.",
            request=request,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == BODY_UNREADABLE:
            # FastAPI's answer to a body that is not even text (bytes that are not UTF-8): the
            # same 422 as any other body that is not JSON, as the OpenAPI document says.
            return problem(
                422,
                code="invalid",
                title="Invalid input",
                detail="Please correct: body.",
                request=request,
                errors=[{"field": "body", "message": "The request body is not valid JSON."}],
            )
        code, title = _STATUS_TITLES.get(exc.status_code, ("error", "Error"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        if exc.status_code == 404 and detail == "Not Found":
            detail = "There is nothing at this address."
        return problem(
            exc.status_code,
            code=code,
            title=title,
            detail=detail,
            request=request,
            headers=dict(exc.headers) if exc.headers else None,
        )

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError) -> JSONResponse:
        return problem(
            412,
            code="stale_version",
            title="The record has changed",
            detail="Someone else changed this record since you loaded it; reload and try again.",
            request=request,
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        # The constraint name is safe to log; the values (which may be personal data) are not.
        log.warning("integrity error: %s", type(exc.orig).__name__)
        return problem(
            409,
            code="conflict",
            title="Conflict",
            detail="This change conflicts with the records as they are now; nothing was saved.",
            request=request,
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(SAInterfaceError)
    @app.exception_handler(PoolTimeoutError)
    async def _db_down(request: Request, exc: Exception) -> JSONResponse:
        return database_unavailable_problem(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if database_unavailable(exc):
            # A disconnect reported as another DBAPI error, or the database failing in a
            # middleware (the Idempotency-Key reservation), which Starlette sends here.
            return database_unavailable_problem(request, exc)
        log.exception("unexpected error (request %s)", current_request_id())
        return problem(
            500,
            code="internal_error",
            title="Something went wrong",
            detail="Something unexpected happened; nothing was saved. Quote the request id.",
            request=request,
        )
