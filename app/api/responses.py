"""OpenAPI documentation of the problem+json error responses a route can give."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Problem(BaseModel):
    """An RFC 9457 problem document. ``code`` is stable; ``detail`` is a sentence for a person."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    request_id: str | None = None


_DESCRIPTIONS = {
    400: "Malformed request (e.g. a bad If-Match header)",
    401: "Not signed in, or the token is not valid",
    403: "Signed in, but not allowed to do this",
    404: "No such record, or one you may not see",
    409: "Conflicts with the current state (e.g. an event not allowed from this state)",
    412: "The record changed since you read it (stale If-Match)",
    422: "Invalid input; `errors` names each field",
    428: "If-Match header required",
    429: "Too many requests; see Retry-After",
    503: "Database unavailable; see Retry-After",
}


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: 401, 403 and 422 are always possible on an authorised route."""
    wanted = sorted({401, 403, 422, *codes})
    return {
        code: {
            "model": Problem,
            "description": _DESCRIPTIONS[code],
            "content": {"application/problem+json": {}},
        }
        for code in wanted
    }
