"""The web client's pages. Each route is a few lines: who may see it (``web_permission``), one
call to the domain services (the same ones the API uses), one template. Every form posts back
to its own page (post/redirect/get) and works without JavaScript."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from app import clock
from app.api.deps import SessionDep, SettingsDep
from app.chronology import service as chronology_service
from app.config import Settings
from app.contacts import service as contact_service
from app.contacts.workflow import OPEN as CONTACT_OPEN
from app.errors import NotFound, RateLimited, Unauthenticated
from app.people import queries as people_queries
from app.people.service import age_on
from app.security import sessions as session_service
from app.security.authn import SESSION_COOKIE
from app.security.principal import Principal
from app.web import queries as web_queries
from app.web.search import understand
from app.web.security import (
    SIGN_IN_CSRF_COOKIE,
    CsrfChecked,
    safe_next,
    sign_in_token,
    sign_in_token_matches,
    sign_in_token_set,
    web_permission,
)
from app.web.templating import render
from app.worklist import service as worklist_service

router = APIRouter(include_in_schema=False)

DeadlineReader = Annotated[Principal, Depends(web_permission("deadline:read"))]
PersonReader = Annotated[Principal, Depends(web_permission("person:read"))]
CaseReader = Annotated[Principal, Depends(web_permission("case:read"))]

SEARCH_PAGE_SIZE = 25
QUEUE_PAGE_SIZE = 50
CHRONOLOGY_PAGE_SIZE = 100


# --------------------------------------------------------------------------------------------------
# Signing in and out
# --------------------------------------------------------------------------------------------------


def _sign_in_page(
    request: Request,
    settings: Settings,
    *,
    next_path: str,
    username: str = "",
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    token = sign_in_token(request)
    errors = errors or {}
    response = render(
        request,
        "sign_in.html",
        {
            "title": "Sign in",
            "sign_in_token": token,
            "next": next_path,
            "username": username,
            "field_errors": errors,
            "errors": [{"text": text, "href": f"#{field}"} for field, text in errors.items()],
            "notice": notice,
        },
        status_code=status_code,
    )
    sign_in_token_set(response, token, settings)
    return response


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_form(
    request: Request,
    settings: SettingsDep,
    next: Annotated[str | None, Query(max_length=2000)] = None,
) -> HTMLResponse:
    return _sign_in_page(request, settings, next_path=safe_next(next))


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next_path: Annotated[str, Form(alias="next", max_length=2000)] = "/",
    csrf_token: Annotated[str | None, Form()] = None,
) -> Response:
    """Check the password with the service (same answer for an unknown user and a wrong password;
    the lock-out after repeated failures is the service's), open a session, go where the user
    was going."""
    target = safe_next(next_path)
    if not sign_in_token_matches(request, csrf_token):
        return _sign_in_page(
            request,
            settings,
            next_path=target,
            username=username,
            notice="The sign-in form had expired. Sign in again.",
            status_code=403,
        )
    errors = {}
    if not username.strip():
        errors["username"] = "Enter your username"
    if not password:
        errors["password"] = "Enter your password"  # noqa: S105 - the message, not a password
    if errors:
        return _sign_in_page(
            request, settings, next_path=target, username=username, errors=errors, status_code=422
        )
    try:
        _user_session, cookie = session_service.login(
            session,
            username=username.strip(),
            password=password,
            settings=settings,
            ip=request.client.host if request.client else None,
        )
    except (Unauthenticated, RateLimited) as exc:
        # Keep the failure count and any lock-out although the answer is an error (ASVS 2.2.1).
        session.commit()
        return _sign_in_page(
            request,
            settings,
            next_path=target,
            username=username,
            errors={"username": exc.detail},
            status_code=exc.status,
        )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )
    response.delete_cookie(SIGN_IN_CSRF_COOKIE, path="/sign-in")
    return response


@router.post("/sign-out")
def sign_out(principal: CsrfChecked, session: SessionDep, settings: SettingsDep) -> Response:
    """End the session now (not just forget the cookie), then show the sign-in page."""
    if principal.session_id is not None:
        session_service.logout(session, session_id=principal.session_id)
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=settings.cookie_secure
    )
    return response


# --------------------------------------------------------------------------------------------------
# My work
# --------------------------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def my_work(request: Request, session: SessionDep, principal: DeadlineReader) -> HTMLResponse:
    """The caller's overdue and due-soon deadlines with the rule behind each, their allocated
    children, and for a manager each managed team's deadlines and unallocated cases."""
    mine = worklist_service.worklist(session, actor=principal)
    children = web_queries.allocated_children(session, actor=principal)
    teams = [
        (name, worklist_service.worklist(session, actor=principal, team_id=team_id))
        for team_id, name in web_queries.team_names(session, principal.managed_team_ids)
    ]
    return render(
        request,
        "my_work.html",
        {"title": "My work", "worklist": mine, "children": children, "teams": teams},
    )


# --------------------------------------------------------------------------------------------------
# Front door (the MASH queue, read only in this first version)
# --------------------------------------------------------------------------------------------------


@router.get("/front-door", response_class=HTMLResponse)
def front_door(
    request: Request,
    session: SessionDep,
    principal: CaseReader,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> HTMLResponse:
    """Open contacts, red first then soonest due, with the working time left to decide (the
    contacts service's queue: a contact about a child the caller may not see is left out)."""
    views, next_cursor = contact_service.contact_list(
        session, actor=principal, state=CONTACT_OPEN, cursor=cursor, limit=QUEUE_PAGE_SIZE
    )
    now, today = clock.now(), clock.today()
    return render(
        request,
        "front_door.html",
        {
            "title": "Front door",
            "contacts": [(view, view.time_left(now=now, today=today)) for view in views],
            "next_cursor": next_cursor,
        },
    )


# --------------------------------------------------------------------------------------------------
# Find a child
# --------------------------------------------------------------------------------------------------


@router.get("/children", response_class=HTMLResponse)
def find_a_child(
    request: Request,
    session: SessionDep,
    principal: PersonReader,
    q: Annotated[str, Query(max_length=200)] = "",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> HTMLResponse:
    """Search by name, date of birth, NHS number, UPN or postcode through the people service:
    restricted records never appear to those who may not see them."""
    understood = understand(q) if q.strip() else None
    people: list[Any] = []
    next_cursor = None
    if understood is not None and understood.criteria is not None:
        people, next_cursor = people_queries.person_search(
            session,
            principal=principal,
            criteria=understood.criteria,
            cursor=cursor,
            limit=SEARCH_PAGE_SIZE,
            resource="web:find_a_child",
        )
    error = understood.error if understood is not None else None
    return render(
        request,
        "children_search.html",
        {
            "title": "Find a child",
            "q": q,
            "understood": understood,
            "people": people,
            "next_cursor": next_cursor,
            "errors": [{"text": error, "href": "#q"}] if error else [],
            "error": error,
            "today": clock.today(),
            "age_on": age_on,
        },
        status_code=422 if error else 200,
    )


# --------------------------------------------------------------------------------------------------
# A child's record
# --------------------------------------------------------------------------------------------------


@router.get("/children/{child_id}", response_class=HTMLResponse)
def child_record(
    request: Request,
    session: SessionDep,
    principal: CaseReader,
    child_id: str,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> HTMLResponse:
    """The summary banner and the chronology, newest first. A child the caller may not see is
    "page not found" (the record's existence is not disclosed)."""
    try:
        person_id = uuid.UUID(child_id)
    except ValueError:
        raise NotFound("There is no child with this id that you can see.") from None
    record, _version = people_queries.child_record(
        session, principal=principal, child_id=person_id, resource="web:child_record"
    )
    person = record.person
    chronology = chronology_service.child_chronology(
        session,
        actor=principal,
        person_id=person_id,
        descending=True,
        cursor=cursor,
        limit=CHRONOLOGY_PAGE_SIZE,
    )
    status = web_queries.child_status(session, actor=principal, child=chronology.child)
    today = clock.today()
    open_cases = [c for c in record.cases or [] if c.closed_date is None]
    return render(
        request,
        "child_record.html",
        {
            "title": f"{person.first_name} {person.last_name}",
            "record": record,
            "person": person,
            "age": age_on(person.date_of_birth, today) if person.date_of_birth else None,
            "status": status,
            "open_cases": open_cases,
            "workers": sorted(
                {c.allocated_worker_name for c in open_cases if c.allocated_worker_name}
            ),
            "chronology": chronology,
        },
    )
