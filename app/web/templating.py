"""The Jinja2 environment: our templates, then the GOV.UK Frontend macros and page template
(``govuk_frontend_jinja/...``), autoescaped, and the one way a page is rendered."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, PackageLoader, PrefixLoader

from app.security.policy import PERMISSIONS
from app.security.principal import Principal
from app.web.notices import notice_for
from app.web.security import content_security_policy, csp_nonce

SERVICE_NAME = "Casework"
LONDON = ZoneInfo("Europe/London")


def _date(value: date | None) -> str:
    """A date as GOV.UK writes it: 5 January 2026."""
    return "" if value is None else f"{value.day} {value:%B %Y}"


def _datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    local = value.astimezone(LONDON)
    return f"{local.day} {local:%B %Y} {local:%H:%M}"


@cache
def environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader(
            [
                PackageLoader("app.web", "templates"),
                PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
            ]
        ),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["govuk_date"] = _date
    env.filters["govuk_datetime"] = _datetime
    return env


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    principal: Principal | None = None,
) -> HTMLResponse:
    """Render a page with its CSP nonce; pages are about people (or signing in), so none of them
    is stored by the browser or a proxy."""
    nonce = csp_nonce(request)
    who = principal or getattr(request.state, "principal", None)
    values: dict[str, Any] = {
        "request": request,
        "cspNonce": nonce,
        "principal": who,
        "csrf_token": who.csrf_token if who is not None else None,
        "serviceName": SERVICE_NAME,
        "current_path": request.url.path,
        # Whether the signed-in person holds a permission: pages offer only what will be allowed.
        "can": lambda name: who is not None and who.role in PERMISSIONS[name],
        "notice": notice_for(request.query_params.get("notice")),
    }
    values.update(context or {})
    html = environment().get_template(template).render(values)
    return HTMLResponse(
        html,
        status_code=status_code,
        headers={
            "content-security-policy": content_security_policy(nonce),
            "cache-control": "no-store",
        },
    )
