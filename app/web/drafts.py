"""Form drafts: the service every page with a long form uses (case notes, assessments, ...).

A draft is one user's unsaved copy of one form, keyed by the form's path. Pages call
:func:`draft_for` when they render a form (to fill it from the draft, with a line saying when it
was kept), :func:`draft_discard` when the form is saved or the person throws the draft away, and
the autosave endpoint and the timeout handler (``app/web/draft_pages.py``) call
:func:`draft_save`. Only the draft's owner ever reads it; a draft about a child the owner may no
longer see is not offered (the page that renders it checks access through its own service call
first, and :func:`drafts_list` hides such drafts).

Autosave contract for templates: a form with ``data-autosave`` and ``data-draft-title="…"``
attributes is saved by ``/static/drafts.js`` to ``POST /drafts/save`` while it is edited.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from app import clock
from app.models.drafts import FormDraft
from app.models.people import Person
from app.security.access import person_visible
from app.security.principal import Principal

#: At most this many fields, each at most this long: a draft is a form, not a file store.
MAX_FIELDS = 200
MAX_VALUE_CHARS = 100_000


@dataclass(frozen=True)
class DraftView:
    form_path: str
    title: str
    child_id: uuid.UUID | None
    data: dict[str, Any]
    saved_by: str
    last_saved_at: datetime


def _view(row: FormDraft) -> DraftView:
    return DraftView(
        form_path=row.form_path,
        title=row.title,
        child_id=row.child_id,
        data=dict(row.data),
        saved_by=row.saved_by,
        last_saved_at=row.last_saved_at,
    )


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    """Strings and lists of strings only, bounded; the CSRF token is never stored."""
    out: dict[str, Any] = {}
    for key, value in list(data.items())[:MAX_FIELDS]:
        if key in ("csrf_token",):
            continue
        if isinstance(value, list):
            out[str(key)[:100]] = [str(v)[:MAX_VALUE_CHARS] for v in value[:MAX_FIELDS]]
        else:
            out[str(key)[:100]] = str(value)[:MAX_VALUE_CHARS]
    return out


def draft_save(
    session: Session,
    *,
    user_id: uuid.UUID,
    form_path: str,
    title: str,
    data: dict[str, Any],
    saved_by: str,
    child_id: uuid.UUID | None = None,
) -> DraftView:
    """Keep (or replace) the user's draft of the form at ``form_path``."""
    row = session.scalar(
        select(FormDraft).where(FormDraft.user_id == user_id, FormDraft.form_path == form_path)
    )
    now = clock.now()
    if row is None:
        row = FormDraft(user_id=user_id, form_path=form_path[:300])
        session.add(row)
    row.title = title[:200]
    row.data = _clean(data)
    row.saved_by = saved_by
    row.child_id = child_id
    row.last_saved_at = now
    session.flush()
    return _view(row)


def draft_for(session: Session, *, actor: Principal, form_path: str) -> DraftView | None:
    """The caller's own draft of this form, if any."""
    row = session.scalar(
        select(FormDraft).where(
            FormDraft.user_id == actor.user_id, FormDraft.form_path == form_path
        )
    )
    return None if row is None else _view(row)


def draft_discard(session: Session, *, actor: Principal, form_path: str) -> bool:
    """Throw the caller's draft of this form away (it was saved, or they chose to). Whether
    there was one: only the caller's own draft is ever touched."""
    result = session.execute(
        delete(FormDraft).where(
            FormDraft.user_id == actor.user_id, FormDraft.form_path == form_path
        )
    )
    return bool(getattr(result, "rowcount", 0))


def _visible_to(actor: Principal) -> Any:
    """A draft about no child, or about a child the caller may still see: a record restricted
    after the draft was kept must not show up again through its draft (the child's name is
    often in the title)."""
    return or_(
        FormDraft.child_id.is_(None),
        FormDraft.child_id.in_(select(Person.id).where(person_visible(actor))),
    )


def drafts_list(session: Session, *, actor: Principal, limit: int | None = None) -> list[DraftView]:
    """The caller's drafts, newest first (for "My work"), without those about a child they may
    no longer see. One statement however many drafts there are."""
    query = (
        select(FormDraft)
        .where(FormDraft.user_id == actor.user_id, _visible_to(actor))
        .order_by(FormDraft.last_saved_at.desc(), FormDraft.form_path)
    )
    if limit is not None:
        query = query.limit(limit)
    return [_view(row) for row in session.scalars(query)]


def draft_visible(session: Session, *, actor: Principal, form_path: str) -> DraftView | None:
    """The caller's own draft of this form, if any and if it is not about a child they may no
    longer see (the drafts pages show a draft's text only through this)."""
    row = session.scalar(
        select(FormDraft).where(
            FormDraft.user_id == actor.user_id,
            FormDraft.form_path == form_path,
            _visible_to(actor),
        )
    )
    return None if row is None else _view(row)


def child_visible(session: Session, *, actor: Principal, child_id: uuid.UUID) -> bool:
    """Whether a draft may be tied to this child: one the caller may see (a draft must not
    become a way to learn that a restricted record exists)."""
    found = session.scalar(select(Person.id).where(Person.id == child_id, person_visible(actor)))
    return found is not None
