"""Drafts: what a person typed into a form and has not yet saved to the record.

``POST /drafts/save`` is where ``/static/drafts.js`` autosaves a form marked ``data-autosave``
while it is being filled in (and where the draft page's own form saves without JavaScript);
``/drafts`` lists the caller's drafts, ``/drafts/view`` shows one draft's text (to copy from when
its form can no longer be opened) and ``POST /drafts/discard`` throws one away. A draft is only
ever its owner's: anyone else asking for it gets "page not found".

``GET /session/keep-alive`` is what "Stay signed in" calls before the session's idle limit.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData, UploadFile
from starlette.responses import RedirectResponse, Response

from app.api.deps import SessionDep
from app.errors import NotFound
from app.security.principal import Principal
from app.web import notices
from app.web.drafts import (
    MAX_FIELDS,
    MAX_VALUE_CHARS,
    child_visible,
    draft_discard,
    draft_save,
    draft_visible,
    drafts_list,
)
from app.web.forms import see_other
from app.web.security import CSRF_FIELD, WebPrincipal, safe_next, web_form, web_permission
from app.web.templating import render

router = APIRouter(include_in_schema=False)

# Drafts sit beside "My work": whoever may see their own work list may keep drafts.
DraftReader = Annotated[Principal, Depends(web_permission("deadline:read"))]
DraftWriter = Annotated[Principal, Depends(web_form("deadline:read"))]

#: The fields of the save request that say what the draft is; everything else is the form's.
#: Prefixed, so that a form's own field called "title" is kept as typed.
PATH_FIELD, TITLE_FIELD, CHILD_FIELD = "draft_form_path", "draft_title", "draft_child_id"
CONTROL_FIELDS = frozenset({CSRF_FIELD, PATH_FIELD, TITLE_FIELD, CHILD_FIELD})
#: A whole posted draft may be at most this big (a long assessment is well under 1 MB).
MAX_BODY_BYTES = 1_000_000
DRAFT_SAVE_PATH = "/drafts/save"
#: Addresses whose forms are never drafts (signing in, passwords, the drafts pages themselves).
NOT_DRAFTABLE = ("/sign-in", "/sign-out", "/account/", "/drafts", "/session/", "/static/")
DEFAULT_TITLE = "Untitled form"
#: A form's own bookkeeping fields: kept with the draft, never shown as text to edit.
HIDDEN_FIELDS = frozenset({"version", "action"})
MY_WORK_DRAFTS = 10

notices.register(
    draft_discarded="The draft has been deleted.",
    draft_saved="The draft has been saved.",
)


def draftable_path(raw: str | None) -> str | None:
    """A form's own address on this site (a path, no query, no other host) that may have a
    draft; ``None`` if it is not one."""
    if not raw or len(raw) > 300 or "?" in raw or "#" in raw:
        return None
    if safe_next(raw) != raw or raw.startswith(NOT_DRAFTABLE) or raw in ("/drafts", "/"):
        return None
    return raw


def _form_data(form: FormData) -> dict[str, Any] | None:
    """The form's own fields (strings, repeated fields as lists); ``None`` if too many or too
    long to be a form."""
    data: dict[str, Any] = {}
    for key in form:
        if key in CONTROL_FIELDS or "password" in key.lower():
            continue
        values = [str(v) for v in form.getlist(key) if not isinstance(v, UploadFile)]
        if any(len(v) > MAX_VALUE_CHARS for v in values) or len(key) > 100:
            return None
        if values:
            data[key] = values if len(values) > 1 else values[0]
        if len(data) > MAX_FIELDS:
            return None
    return data


def _expires_header(request: Request) -> dict[str, str]:
    seconds = getattr(request.state, "session_expires_in", None)
    return {} if seconds is None else {"X-Session-Expires-In": str(seconds)}


@router.post(DRAFT_SAVE_PATH)
async def draft_save_page(
    request: Request, session: SessionDep, principal: DraftWriter
) -> Response:
    """Keep what is typed in a form. From the autosave script: 204 (with the seconds the session
    has left). From the draft page's own form (no script): back to the draft, saved."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        return Response("This draft is too big to keep.", status_code=413)
    form = await request.form()
    form_path = draftable_path(str(form.get(PATH_FIELD) or ""))
    if form_path is None:
        return Response("This is not a form whose draft can be kept.", status_code=422)
    data = _form_data(form)
    if data is None:
        return Response("This draft is too big to keep.", status_code=413)
    child_id: uuid.UUID | None = None
    raw_child = str(form.get(CHILD_FIELD) or "")
    if raw_child:
        try:
            child_id = uuid.UUID(raw_child)
        except ValueError:
            return Response("The child is not one you can see.", status_code=422)
        if not child_visible(session, actor=principal, child_id=child_id):
            raise NotFound("There is no child with this id that you can see.")
    title = str(form.get(TITLE_FIELD) or "").strip() or DEFAULT_TITLE
    draft_save(
        session,
        user_id=principal.user_id,
        form_path=form_path,
        title=title,
        data=data,
        saved_by="autosave",
        child_id=child_id,
    )
    if request.headers.get("x-requested-with") == "drafts.js":
        return Response(status_code=204, headers=_expires_header(request))
    query = urlencode({"form_path": form_path, "notice": "draft_saved"})
    return RedirectResponse(f"/drafts/view?{query}", status_code=303)


@router.post("/drafts/discard")
async def draft_discard_page(
    request: Request, session: SessionDep, principal: DraftWriter
) -> Response:
    """Throw one of the caller's drafts away. Someone else's (or none): page not found."""
    form = await request.form()
    form_path = str(form.get("form_path") or "")
    if not draft_discard(session, actor=principal, form_path=form_path):
        raise NotFound("You have no draft of this form.")
    back = "/" if form.get("next") == "/" else "/drafts"
    return see_other(back, notice="draft_discarded")


@router.get("/drafts", response_class=HTMLResponse)
def drafts_page(request: Request, session: SessionDep, principal: DraftReader) -> HTMLResponse:
    """All the caller's drafts, newest first."""
    return render(
        request,
        "drafts.html",
        {"title": "Drafts", "drafts": drafts_list(session, actor=principal)},
    )


@router.get("/drafts/view", response_class=HTMLResponse)
def draft_view_page(
    request: Request,
    session: SessionDep,
    principal: DraftReader,
    form_path: Annotated[str, Query(max_length=300)] = "",
) -> HTMLResponse:
    """One draft's text, editable and kept as it is edited: what to copy from when its form can
    no longer be opened (the case was closed, say). Only the owner's; a draft about a child
    they may no longer see is not shown."""
    draft = draft_visible(session, actor=principal, form_path=form_path)
    if draft is None:
        raise NotFound("You have no draft of this form.")
    # Text fields can be edited here; repeated fields (ticked boxes) and the form's own hidden
    # values travel back unchanged, so the draft still fills its form as it did.
    texts = [
        (name, value)
        for name, value in draft.data.items()
        if isinstance(value, str) and name not in HIDDEN_FIELDS
    ]
    kept = [
        (name, value if isinstance(value, list) else [value])
        for name, value in draft.data.items()
        if not isinstance(value, str) or name in HIDDEN_FIELDS
    ]
    return render(
        request,
        "drafts_view.html",
        {"title": draft.title, "draft": draft, "texts": texts, "kept": kept},
    )


@router.get("/session/keep-alive")
def keep_alive(request: Request, principal: WebPrincipal) -> Response:
    """ "Stay signed in": the normal session check has just refreshed the idle clock. Answers
    with the seconds now left (the absolute limit is never extended)."""
    return Response(
        status_code=204, headers={"cache-control": "no-store", **_expires_header(request)}
    )
