"""The web client's pages. Each route is a few lines: who may see it (``web_permission``), one
call to the domain services (the same ones the API uses), one template. Every form posts back
to its own page (post/redirect/get) and works without JavaScript."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from app import clock
from app.api.deps import SessionDep, SettingsDep
from app.config import Settings
from app.contacts import service as contact_service
from app.contacts.workflow import OPEN as CONTACT_OPEN
from app.errors import RateLimited, Unauthenticated
from app.models.org import UserAccount
from app.people import queries as people_queries
from app.people.service import age_on
from app.security import sessions as session_service
from app.security.authn import SESSION_COOKIE
from app.security.principal import Principal
from app.web import queries as web_queries
from app.web.draft_pages import MY_WORK_DRAFTS
from app.web.drafts import drafts_list
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
    why: str | None = None,
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
            "why": why,
        },
        status_code=status_code,
    )
    sign_in_token_set(response, token, settings)
    return response


# Why the person is asked to sign in again (the page's own words, never text from the address).
DRAFT_KEPT = "You were signed out. What you typed has been kept as a draft."
TIMED_OUT = "You were signed out because you had not done anything for a while."
TIMED_OUT_DRAFT_KEPT = (
    "You were signed out because you had not done anything for a while. "
    "What you typed has been kept as a draft."
)


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_form(
    request: Request,
    settings: SettingsDep,
    next: Annotated[str | None, Query(max_length=2000)] = None,
    draft: Annotated[str | None, Query(max_length=10)] = None,
    timeout: Annotated[str | None, Query(max_length=10)] = None,
) -> HTMLResponse:
    kept = draft == "kept"
    why: str | None = None
    if timeout == "1":
        why = TIMED_OUT_DRAFT_KEPT if kept else TIMED_OUT
    elif kept:
        why = DRAFT_KEPT
    return _sign_in_page(request, settings, next_path=safe_next(next), why=why)


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
        user_session, cookie = session_service.login(
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
    user = session.get(UserAccount, user_session.user_id)
    if user is not None and user.must_change_password:
        # A temporary password (set by an administrator): choose one's own before anything else.
        target = f"/account/password?next={quote(target, safe='')}"
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
    children, for a manager each managed team's deadlines and unallocated cases, and the
    caller's drafts in progress (the newest few)."""
    mine = worklist_service.worklist(session, actor=principal)
    children = web_queries.allocated_children(session, actor=principal)
    teams = [
        (name, worklist_service.worklist(session, actor=principal, team_id=team_id))
        for team_id, name in web_queries.team_names(session, principal.managed_team_ids)
    ]
    # One more than shown, to know whether to link to the full list.
    drafts = drafts_list(session, actor=principal, limit=MY_WORK_DRAFTS + 1)
    return render(
        request,
        "my_work.html",
        {
            "title": "My work",
            "worklist": mine,
            "children": children,
            "teams": teams,
            "drafts": drafts[:MY_WORK_DRAFTS],
            "more_drafts": len(drafts) > MY_WORK_DRAFTS,
        },
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
