"""JSON API for sign-in, sessions, users, integration tokens and record-level access."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AwareDatetime
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.api.deps import CurrentPrincipal, SessionDep, SettingsDep, permission
from app.api.pagination import Page
from app.api.responses import problem_responses
from app.config import Settings
from app.errors import DomainError, Forbidden
from app.models.org import Team, UserAccount
from app.models.people import Person
from app.security import access, alerts
from app.security import sessions as session_service
from app.security import tokens as token_service
from app.security import users as user_service
from app.security.authn import SESSION_COOKIE
from app.security.principal import AuthMethod, Principal
from app.security.schemas import (
    AccessLogEntry,
    BreakGlassRequest,
    ChangePasswordRequest,
    LoginRequest,
    LoginResponse,
    Me,
    NamedUser,
    PersonBasic,
    ResetPasswordRequest,
    RestrictedAccessChange,
    RestrictedAccessRead,
    SecurityAlert,
    TeamMembershipRead,
    TokenCreate,
    TokenIssued,
    TokenRead,
    UserCreate,
    UserRead,
)

router = APIRouter(tags=["auth"])

UserWriter = Annotated[Principal, Depends(permission("user:write"))]
UserReader = Annotated[Principal, Depends(permission("user:read"))]
TokenWriter = Annotated[Principal, Depends(permission("token:write"))]
AccessLogReader = Annotated[Principal, Depends(permission("access_log:read"))]
GlassBreaker = Annotated[Principal, Depends(permission("person:break_glass"))]
Restricter = Annotated[Principal, Depends(permission("person:restrict"))]
AlertReader = Annotated[Principal, Depends(permission("security_alert:read"))]
Limit = Annotated[int, Query(ge=1, le=200, description="Rows per page (at most 200).")]
Cursor = Annotated[str | None, Query(description="`next_cursor` of the previous page.")]


def _set_session_cookie(response: Response, value: str, settings: Settings) -> None:
    # HttpOnly: scripts cannot read it; SameSite=Lax: not sent on cross-site POSTs; Secure: only
    # over HTTPS (off only for local development and tests). No Max-Age: the browser forgets it
    # when closed, and the server ends it anyway (idle and absolute timeouts).
    response.set_cookie(
        SESSION_COOKIE,
        value,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )


@router.post(
    "/auth/login",
    operation_id="auth_login",
    response_model=LoginResponse,
    responses=problem_responses(401, 429),
)
def auth_login(
    body: LoginRequest,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
) -> LoginResponse:
    """Sign in with a local account. Sets the `casework_session` cookie; send the returned
    `csrf_token` as `X-CSRF-Token` on every POST, PUT, PATCH and DELETE made with it."""
    try:
        user_session, cookie = session_service.login(
            session,
            username=body.username,
            password=body.password,
            settings=settings,
            ip=request.client.host if request.client else None,
        )
    except DomainError:
        # Keep the failure count and any lock-out although the answer is an error (ASVS 2.2.1).
        session.commit()
        raise
    _set_session_cookie(response, cookie, settings)
    user = session.get_one(UserAccount, user_session.user_id)
    return LoginResponse(
        user=UserRead.of(user),
        csrf_token=user_session.csrf_token,
        expires_at=user_session.expires_at,
        must_change_password=user.must_change_password,
    )


@router.post(
    "/auth/logout",
    operation_id="auth_logout",
    status_code=204,
    responses=problem_responses(),
)
def auth_logout(
    principal: CurrentPrincipal, session: SessionDep, settings: SettingsDep, response: Response
) -> None:
    """End the current session (a bearer token is not affected: revoke it instead)."""
    if principal.session_id is not None:
        session_service.logout(session, session_id=principal.session_id)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=settings.cookie_secure
    )


@router.get("/auth/me", operation_id="auth_me", response_model=Me, responses=problem_responses())
def auth_me(principal: CurrentPrincipal, session: SessionDep) -> Me:
    """Who is signed in, their role and teams, and whether they must change their password."""
    user = session.get_one(UserAccount, principal.user_id)
    teams = session.execute(
        select(Team.id, Team.name).where(Team.id.in_(principal.team_ids)).order_by(Team.name)
    ).all()
    return Me(
        user=UserRead.of(user),
        role=principal.role,
        auth=principal.auth,
        teams=[
            TeamMembershipRead(
                team_id=team_id, name=name, is_manager=team_id in principal.managed_team_ids
            )
            for team_id, name in teams
        ],
        must_change_password=principal.must_change_password,
        csrf_token=principal.csrf_token,
        scopes=sorted(principal.scopes) if principal.scopes is not None else None,
    )


@router.post(
    "/auth/change-password",
    operation_id="auth_change_password",
    status_code=204,
    responses=problem_responses(429),
)
def auth_change_password(
    body: ChangePasswordRequest,
    principal: CurrentPrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> None:
    """Change your own password (this session stays signed in; any others are ended)."""
    if principal.auth is not AuthMethod.session:
        raise Forbidden("Change your password while signed in to Casework, not with a token.")
    try:
        user_service.user_change_password(
            session,
            user_id=principal.user_id,
            current_password=body.current_password,
            new_password=body.new_password,
            settings=settings,
            actor=principal,
            keep_session_id=principal.session_id,
        )
    except DomainError:
        session.commit()  # a wrong current password counts towards the lock-out
        raise


@router.post(
    "/users",
    operation_id="user_create",
    status_code=201,
    response_model=UserRead,
    responses=problem_responses(409),
)
def user_create(body: UserCreate, principal: UserWriter, session: SessionDep) -> UserRead:
    """Create an account. With a password, the user must change it at first sign-in (unless
    `must_change_password` is false)."""
    user = user_service.user_create(session, actor=principal, **body.model_dump())
    return UserRead.of(user)


@router.get(
    "/users", operation_id="user_list", response_model=Page[UserRead], responses=problem_responses()
)
def user_list(
    principal: UserReader, session: SessionDep, cursor: Cursor = None, limit: Limit = 50
) -> Page[UserRead]:
    """Accounts in username order."""
    page = user_service.user_list(session, cursor=cursor, limit=limit)
    return Page(items=[UserRead.of(u) for u in page.items], next_cursor=page.next_cursor)


@router.post(
    "/users/{user_id}/reset-password",
    operation_id="user_reset_password",
    response_model=UserRead,
    responses=problem_responses(404),
)
def user_reset_password(
    user_id: uuid.UUID, body: ResetPasswordRequest, principal: UserWriter, session: SessionDep
) -> UserRead:
    """Set a temporary password: the user must change it at next sign-in, any lock-out is lifted
    and all their sessions end."""
    user = user_service.user_reset_password(
        session, actor=principal, username_or_id=user_id, new_password=body.new_password
    )
    return UserRead.of(user)


@router.post(
    "/tokens",
    operation_id="token_issue",
    status_code=201,
    response_model=TokenIssued,
    responses=problem_responses(),
)
def token_issue(body: TokenCreate, principal: TokenWriter, session: SessionDep) -> TokenIssued:
    """Issue a bearer token to an integration client account. The `secret` is in this response
    only: it is stored hashed and cannot be shown again."""
    token, secret = token_service.integration_token_issue(
        session, actor=principal, **body.model_dump()
    )
    return TokenIssued(**TokenRead.model_validate(token).model_dump(), secret=secret)


@router.delete(
    "/tokens/{token_id}",
    operation_id="token_revoke",
    status_code=204,
    responses=problem_responses(404),
)
def token_revoke(token_id: uuid.UUID, principal: TokenWriter, session: SessionDep) -> None:
    """Revoke a token: it is refused from the next request on."""
    token_service.token_revoke(session, actor=principal, token_id=token_id)


@router.get(
    "/children/{person_id}/access-log",
    operation_id="access_log_list",
    response_model=Page[AccessLogEntry],
    responses=problem_responses(404),
)
def access_log_list(
    person_id: uuid.UUID,
    principal: AccessLogReader,
    session: SessionDep,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[AccessLogEntry]:
    """Who has looked at this child, newest first (subject access requests, snooping checks).
    Reading it is itself logged. A restricted child is 404 unless you are named on it."""
    access.get_person_for_read(
        session, principal=principal, person_id=person_id, resource="access-log"
    )
    page = access.access_log_page(session, person_id=person_id, cursor=cursor, limit=limit)
    return Page(
        items=[
            AccessLogEntry(
                id=row.id,
                occurred_at=row.occurred_at,
                user_id=row.user_id,
                user_display_name=name,
                user_role=row.user_role,
                action=row.action,
                resource=row.resource,
                reason=row.reason,
                case_id=row.case_id,
            )
            for row, name in page.items
        ],
        next_cursor=page.next_cursor,
    )


@router.post(
    "/children/{person_id}/break-glass",
    operation_id="person_break_glass",
    response_model=PersonBasic,
    responses=problem_responses(404),
)
def person_break_glass(
    person_id: uuid.UUID, body: BreakGlassRequest, principal: GlassBreaker, session: SessionDep
) -> PersonBasic:
    """A manager's emergency read of a restricted child they are not named on. Needs a reason;
    recorded as `break_glass` in the access log; grants nothing lasting."""
    person = access.break_glass_read(
        session, principal=principal, person_id=person_id, reason=body.reason, resource="person"
    )
    return PersonBasic.model_validate(person)


@router.get(
    "/security/alerts",
    operation_id="security_alert_list",
    response_model=Page[SecurityAlert],
    responses=problem_responses(422),
)
def security_alert_list(
    principal: AlertReader,
    session: SessionDep,
    kind: Annotated[
        Literal["break_glass", "denied"] | None,
        Query(description="Only break-glass reads, or only denied attempts."),
    ] = None,
    since: Annotated[
        AwareDatetime | None, Query(description="Only alerts at or after this instant.")
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[SecurityAlert]:
    """Every break-glass read and every refused attempt to see a child, newest first: what the
    council's information governance lead reviews. Each child on the page is access-logged."""
    page = alerts.security_alerts(
        session,
        principal=principal,
        kinds=(kind,) if kind else alerts.ALERT_ACTIONS,
        since=since,
        cursor=cursor,
        limit=limit,
    )
    return Page(
        items=[
            SecurityAlert(
                id=row.id,
                occurred_at=row.occurred_at,
                kind="break_glass" if row.action == "break_glass" else "denied",
                user_id=row.user_id,
                user_display_name=name,
                user_role=row.user_role,
                person_id=row.person_id,
                case_id=row.case_id,
                resource=row.resource,
                reason=row.reason,
            )
            for row, name in page.items
        ],
        next_cursor=page.next_cursor,
    )


def _restricted_access_read(session: Session, person_id: uuid.UUID) -> RestrictedAccessRead:
    person = session.get_one(Person, person_id)
    return RestrictedAccessRead(
        person_id=person.id,
        is_restricted=person.is_restricted,
        named_users=[
            NamedUser(
                user_id=grant.user_id,
                display_name=name,
                granted_by_id=grant.granted_by_id,
                granted_at=grant.granted_at,
            )
            for grant, name in access.restricted_access_named(session, person_id=person.id)
        ],
    )


@router.post(
    "/children/{person_id}/restricted-access",
    operation_id="person_restrict",
    response_model=RestrictedAccessRead,
    responses=problem_responses(404),
)
def person_restrict(
    person_id: uuid.UUID, body: RestrictedAccessChange, principal: Restricter, session: SessionDep
) -> RestrictedAccessRead:
    """Restrict the child's record and name who may see it (you are always named). Everyone else
    gets 404 for it from now on."""
    access.person_restrict(
        session, principal=principal, person_id=person_id, user_ids=body.user_ids
    )
    return _restricted_access_read(session, person_id)


@router.delete(
    "/children/{person_id}/restricted-access",
    operation_id="person_restriction_lift",
    response_model=RestrictedAccessRead,
    responses=problem_responses(404, 409),
)
def person_restriction_lift(
    person_id: uuid.UUID,
    principal: Restricter,
    session: SessionDep,
    user_id: Annotated[
        uuid.UUID | None,
        Query(description="Remove only this named user; without it, lift the restriction."),
    ] = None,
) -> RestrictedAccessRead:
    """Remove a named user, or lift the restriction altogether."""
    access.person_restriction_lift(
        session, principal=principal, person_id=person_id, user_id=user_id
    )
    return _restricted_access_read(session, person_id)
