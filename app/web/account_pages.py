"""The signed-in person's own account: changing a password.

The same service as the API's ``POST /auth/change-password`` (``user_change_password``): the
current password asked for again (ASVS 2.1.5), the password rules of ``app.security.passwords``,
a wrong current password counted towards the sign-in lock-out (so a stolen session cannot be used
to guess it) and every other session of the account ended (ASVS 3.3.3). Someone signed in with a
temporary password is sent here before anything else, and this page is the one they may use.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from app.api.deps import SessionDep, SettingsDep
from app.errors import DomainError
from app.security import users as user_service
from app.security.principal import AuthMethod, Principal
from app.security.schemas import ChangePasswordRequest
from app.web import notices
from app.web.forms import FormErrors, parse_form, see_other
from app.web.security import CsrfChecked, WebPrincipal, safe_next
from app.web.templating import render

router = APIRouter(include_in_schema=False)

LABELS = {
    "current_password": "your current password",
    "new_password": "a new password",
    "confirm_password": "the new password again",
}

notices.register(password_changed="Your password has been changed.")  # noqa: S106 - a notice key


def _page(
    request: Request,
    principal: Principal,
    *,
    next_path: str,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "account_password.html",
        {
            "title": "Change your password",
            "next": next_path,
            "forced": principal.must_change_password,
            "errors": errors.summary if errors else [],
            "form_errors": errors or FormErrors(),
        },
        status_code=status_code,
    )


@router.get("/account/password", response_class=HTMLResponse)
def change_password_form(
    request: Request,
    principal: WebPrincipal,
    next: Annotated[str | None, Query(max_length=2000)] = None,
) -> HTMLResponse:
    """Anyone signed in may change their own password (and someone with a temporary one must)."""
    return _page(request, principal, next_path=safe_next(next))


@router.post("/account/password", response_class=HTMLResponse)
async def change_password(
    request: Request,
    principal: CsrfChecked,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    form = await request.form()
    next_path = safe_next(str(form.get("next") or "/"))
    current = str(form.get("current_password") or "")
    new = str(form.get("new_password") or "")
    confirm = str(form.get("confirm_password") or "")
    errors = FormErrors()
    if not current:
        errors.add("current_password", "Enter your current password")
    if not new:
        errors.add("new_password", "Enter a new password")
    elif not confirm:
        errors.add("confirm_password", "Enter the new password again")
    elif new != confirm:
        errors.add("confirm_password", "The new passwords do not match")
    body, schema_errors = parse_form(
        ChangePasswordRequest, {"current_password": current, "new_password": new}, LABELS
    )
    if errors or body is None:
        if not errors:
            errors = schema_errors
        return _page(request, principal, next_path=next_path, errors=errors, status_code=422)
    if principal.auth is not AuthMethod.session:  # pragma: no cover - pages are session-only
        return _page(request, principal, next_path=next_path, status_code=403)
    try:
        _change(session, principal, body, settings)
    except DomainError as exc:
        # Nothing of the change is kept, but a wrong current password still counts towards the
        # lock-out (the service wrote the count with its own UPDATE): the same rule as signing in.
        session.commit()
        errors = FormErrors.from_domain(exc)
        return _page(
            request, principal, next_path=next_path, errors=errors, status_code=errors.status
        )
    if "?" in next_path:  # the notice cannot be added to an address that has a query already
        return RedirectResponse(next_path, status_code=303)
    return see_other(next_path, notice="password_changed")


def _change(
    session: Session, principal: Principal, body: ChangePasswordRequest, settings: SettingsDep
) -> None:
    user_service.user_change_password(
        session,
        user_id=principal.user_id,
        current_password=body.current_password,
        new_password=body.new_password,
        settings=settings,
        actor=principal,
        keep_session_id=principal.session_id,
    )
