"""Drafts: a social worker's half-written form is kept while she types (autosave), when her
session runs out before she presses the button (kept for her, and only for her), and shown on
"My work" until she saves or discards it."""

from __future__ import annotations

import secrets
from collections import Counter
from datetime import timedelta
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient
from sqlalchemy import Connection, delete, event, func, select, update
from sqlalchemy.orm import Session

from app import clock
from app.models.drafts import FormDraft
from app.models.org import UserAccount
from app.models.security import UserSession
from app.security.access import person_restrict
from app.security.authn import principal_for_user
from app.security.principal import AuthMethod, Principal
from app.security.tokens import hash_secret
from app.web.security import web_form
from tests.factories import make_child
from tests.web.helpers import WebCast, web_sign_in

NOTE_PATH = "/test-cases/1/notes/new"
AUTOSAVE = {"X-Requested-With": "drafts.js"}


def _drafts(db: Session, user: UserAccount) -> list[FormDraft]:
    db.expire_all()
    return list(db.scalars(select(FormDraft).where(FormDraft.user_id == user.id)))


def _autosave(client: TestClient, token: str, **fields: str) -> Any:
    data = {
        "csrf_token": token,
        "draft_form_path": NOTE_PATH,
        "draft_title": "Case note for Ava",
    } | fields
    return client.post("/drafts/save", data=data, headers=AUTOSAVE, follow_redirects=False)


@pytest.fixture
def note_form(app: FastAPI) -> str:
    """A page's form as the case pages make them: it posts back to its own address, needs a
    permission (through ``web_form``) and answers only when the session is live."""

    def save_note(
        request: Request, principal: Annotated[Principal, Depends(web_form("deadline:read"))]
    ) -> PlainTextResponse:
        return PlainTextResponse("saved")

    app.add_api_route(NOTE_PATH, save_note, methods=["POST"], include_in_schema=False)
    return NOTE_PATH


def _session_row(db: Session, client: TestClient) -> UserSession:
    cookie = client.cookies.get("casework_session")
    assert cookie is not None
    db.expire_all()
    row = db.scalar(select(UserSession).where(UserSession.token_hash == hash_secret(cookie)))
    assert row is not None
    return row


def _end_session(db: Session, client: TestClient, **values: Any) -> None:
    row = _session_row(db, client)
    db.execute(update(UserSession).where(UserSession.id == row.id).values(**values))
    db.commit()


# --------------------------------------------------------------------------------------------------
# Autosave
# --------------------------------------------------------------------------------------------------


def test_a_note_is_kept_as_she_types_replaced_as_she_goes_on_and_gone_when_discarded(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    token = web_sign_in(client, cast.worker)

    first = _autosave(client, token, summary="Visited Ava at home.", kind="visit")
    assert first.status_code == 204, first.text
    assert 0 < int(first.headers["X-Session-Expires-In"]) <= 30 * 60
    second = _autosave(client, token, summary="Visited Ava at home. She showed me her room.")
    assert second.status_code == 204

    (draft,) = _drafts(db, cast.worker)
    assert draft.form_path == NOTE_PATH
    assert draft.title == "Case note for Ava"
    assert draft.saved_by == "autosave"
    assert draft.data == {"summary": "Visited Ava at home. She showed me her room."}
    assert "csrf_token" not in draft.data

    home = client.get("/")
    assert "Drafts in progress" in home.text
    assert f'<a class="govuk-link" href="{NOTE_PATH}">Case note for Ava</a>' in home.text
    listed = client.get("/drafts")
    assert listed.status_code == 200
    assert "Case note for Ava" in listed.text
    shown = client.get("/drafts/view", params={"form_path": NOTE_PATH})
    assert shown.status_code == 200
    assert "She showed me her room." in shown.text
    assert "data-autosave" in shown.text

    gone = client.post(
        "/drafts/discard",
        data={"csrf_token": token, "form_path": NOTE_PATH, "next": "/"},
        follow_redirects=False,
    )
    assert gone.status_code == 303
    assert gone.headers["location"] == "/?notice=draft_discarded"
    assert _drafts(db, cast.worker) == []
    assert "Drafts in progress" not in client.get("/").text
    assert "You have no drafts." in client.get("/drafts").text


def test_without_javascript_the_draft_page_saves_its_own_form_and_says_so(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    token = web_sign_in(client, cast.worker)
    _autosave(client, token, summary="First words.")
    saved = client.post(
        "/drafts/save",
        data={
            "csrf_token": token,
            "draft_form_path": NOTE_PATH,
            "draft_title": "Case note for Ava",
            "summary": "First words, and more.",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    page = client.get(saved.headers["location"])
    assert "The draft has been saved." in page.text
    assert "First words, and more." in page.text
    assert _drafts(db, cast.worker)[0].data == {"summary": "First words, and more."}


def test_no_one_else_can_read_or_discard_her_draft(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    token = web_sign_in(client, cast.worker)
    assert _autosave(client, token, summary="Private words.").status_code == 204
    client.cookies.clear()

    manager_token = web_sign_in(client, cast.manager)
    shown = client.get("/drafts/view", params={"form_path": NOTE_PATH})
    assert shown.status_code == 404
    assert "Private words." not in shown.text
    assert "Private words." not in client.get("/drafts").text
    assert "Case note for Ava" not in client.get("/").text
    refused = client.post(
        "/drafts/discard",
        data={"csrf_token": manager_token, "form_path": NOTE_PATH},
        follow_redirects=False,
    )
    assert refused.status_code == 404
    assert len(_drafts(db, cast.worker)) == 1


def test_a_draft_needs_the_sessions_token(client: TestClient, db: Session, cast: WebCast) -> None:
    web_sign_in(client, cast.worker)
    refused = _autosave(client, "forged", summary="Planted words.")
    assert refused.status_code == 403
    assert _drafts(db, cast.worker) == []


@pytest.mark.parametrize(
    "form_path",
    [
        "https://evil.example/notes",
        "//evil.example/notes",
        "/\\evil.example",
        "notes/new",
        "/cases/1/notes/new?x=1",
        "/sign-in",
        "/account/password",
        "/drafts",
        "",
        "/" + "a" * 300,
    ],
)
def test_a_draft_is_only_of_a_form_on_this_site(
    client: TestClient, db: Session, cast: WebCast, form_path: str
) -> None:
    token = web_sign_in(client, cast.worker)
    refused = _autosave(client, token, draft_form_path=form_path, summary="Words.")
    assert refused.status_code == 422
    assert _drafts(db, cast.worker) == []


def test_a_draft_too_big_to_be_a_form_is_refused(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    token = web_sign_in(client, cast.worker)
    too_long = _autosave(client, token, summary="x" * 100_001)
    assert too_long.status_code == 413
    many = {f"field{n}": "x" for n in range(250)}
    too_many = _autosave(client, token, **many)
    assert too_many.status_code == 413
    huge = _autosave(
        client,
        token,
        summary="x" * 99_000,
        other="y" * 99_000,
        **{f"f{n}": "z" * 90_000 for n in range(10)},
    )
    assert huge.status_code == 413
    assert _drafts(db, cast.worker) == []


def test_a_draft_about_a_child_she_may_not_see_is_refused_and_one_restricted_later_is_hidden(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    token = web_sign_in(client, cast.worker)
    hidden = _autosave(client, token, draft_child_id=str(cast.restricted_child.id), summary="x")
    assert hidden.status_code == 404
    assert _autosave(client, token, draft_child_id="not-an-id", summary="x").status_code == 422

    child = make_child(db, first_name="Later", last_name="Restricted")
    db.commit()
    kept = _autosave(client, token, draft_child_id=str(child.id), summary="About Later.")
    assert kept.status_code == 204
    assert "Case note for Ava" in client.get("/drafts").text

    # The manager restricts the record; the worker is not named on it.
    person_restrict(
        db,
        principal=principal_for_user(db, cast.manager, auth=AuthMethod.session),
        person_id=child.id,
        user_ids=[],
    )
    db.commit()
    assert "Case note for Ava" not in client.get("/drafts").text
    assert "Case note for Ava" not in client.get("/").text
    assert client.get("/drafts/view", params={"form_path": NOTE_PATH}).status_code == 404


def test_my_work_runs_the_same_statements_with_ten_drafts_as_with_one(
    client: TestClient, db: Session, connection: Connection, cast: WebCast
) -> None:
    token = web_sign_in(client, cast.worker)

    def statements() -> Counter[str]:
        seen: Counter[str] = Counter()

        def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            seen[statement.split()[0].lower()] += 1

        event.listen(connection, "before_cursor_execute", count)
        try:
            for path in ("/", "/drafts"):
                assert client.get(path).status_code == 200
        finally:
            event.remove(connection, "before_cursor_execute", count)
        return seen

    _autosave(client, token, summary="One.")
    one = statements()
    for n in range(2, 14):
        _autosave(client, token, draft_form_path=f"/test-cases/{n}/notes/new", summary=str(n))
    ten = statements()
    assert ten == one, (one, ten)
    home = client.get("/")
    assert home.text.count("/drafts/view?form_path=") == 10
    assert "See all your drafts" in home.text
    assert client.get("/drafts").text.count("/drafts/view?form_path=") == 13


# --------------------------------------------------------------------------------------------------
# The session runs out while the form is open
# --------------------------------------------------------------------------------------------------


def test_a_note_posted_after_the_session_timed_out_is_kept_and_the_sign_in_page_says_so(
    client: TestClient, db: Session, cast: WebCast, note_form: str
) -> None:
    token = web_sign_in(client, cast.worker)
    assert client.post(note_form, data={"csrf_token": token}).text == "saved"  # live: saved
    # Thirty-one minutes without doing anything (the idle limit is thirty).
    _end_session(db, client, last_seen_at=clock.now() - timedelta(minutes=31))

    posted = client.post(
        note_form,
        data={"csrf_token": token, "summary": "Ava said she was hungry.", "version": "3"},
        headers={"Accept": "text/html"},
        follow_redirects=False,
    )
    assert posted.status_code == 303
    assert posted.headers["location"] == "/sign-in?next=%2Ftest-cases%2F1%2Fnotes%2Fnew&draft=kept"
    (draft,) = _drafts(db, cast.worker)
    assert draft.saved_by == "timeout"
    assert draft.form_path == note_form
    assert draft.data == {"summary": "Ava said she was hungry.", "version": "3"}
    page = client.get(posted.headers["location"])
    assert "You were signed out. What you typed has been kept as a draft." in page.text
    assert f'name="next" value="{note_form}"' in page.text

    # Signing in again: the draft is hers, on My work.
    client.cookies.clear()
    web_sign_in(client, cast.worker)
    assert "Form you were filling in when you were signed out" in client.get("/").text


def test_a_form_posted_after_the_absolute_limit_is_kept_too_but_not_half_a_day_later(
    client: TestClient, db: Session, cast: WebCast, note_form: str
) -> None:
    token = web_sign_in(client, cast.worker)
    _end_session(db, client, expires_at=clock.now() - timedelta(minutes=1))
    posted = client.post(
        note_form,
        data={"csrf_token": token, "summary": "Kept."},
        headers={"Accept": "text/html"},
        follow_redirects=False,
    )
    assert posted.headers["location"].endswith("&draft=kept")
    assert len(_drafts(db, cast.worker)) == 1

    db.execute(delete(FormDraft).where(FormDraft.user_id == cast.worker.id))
    db.commit()
    _end_session(db, client, expires_at=clock.now() - timedelta(hours=13))
    stale = client.post(
        note_form,
        data={"csrf_token": token, "summary": "Too late."},
        headers={"Accept": "text/html"},
        follow_redirects=False,
    )
    assert stale.status_code == 303
    assert stale.headers["location"] == "/sign-in?next=%2Ftest-cases%2F1%2Fnotes%2Fnew"
    assert _drafts(db, cast.worker) == []


def test_nothing_is_kept_with_another_token_or_for_a_session_that_was_ended(
    client: TestClient, db: Session, cast: WebCast, note_form: str
) -> None:
    token = web_sign_in(client, cast.worker)
    _end_session(db, client, last_seen_at=clock.now() - timedelta(minutes=31))
    # Another site's form posting with the expired cookie cannot know the session's token.
    planted = client.post(
        note_form,
        data={"csrf_token": secrets.token_urlsafe(32), "summary": "Planted."},
        headers={"Accept": "text/html"},
        follow_redirects=False,
    )
    assert planted.status_code == 303
    assert "draft=kept" not in planted.headers["location"]
    no_token = client.post(
        note_form,
        data={"summary": "Planted."},
        headers={"Accept": "text/html"},
        follow_redirects=False,
    )
    assert "draft=kept" not in no_token.headers["location"]
    assert _drafts(db, cast.worker) == []

    # A session that was ended (signed out elsewhere, password changed) keeps nothing, even with
    # its own token: whoever holds the cookie now is not to write as her.
    _end_session(db, client, revoked_at=clock.now() - timedelta(minutes=1))
    revoked = client.post(
        note_form,
        data={"csrf_token": token, "summary": "After sign-out."},
        headers={"Accept": "text/html"},
        follow_redirects=False,
    )
    assert "draft=kept" not in revoked.headers["location"]
    assert _drafts(db, cast.worker) == []
    assert db.scalar(select(func.count()).select_from(FormDraft)) == 0


def test_a_password_is_never_kept_and_the_account_pages_keep_nothing(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    token = web_sign_in(client, cast.worker)
    _end_session(db, client, last_seen_at=clock.now() - timedelta(minutes=31))
    posted = client.post(
        "/account/password",
        data={"csrf_token": token, "current_password": "x", "new_password": "y"},
        follow_redirects=False,
    )
    assert posted.status_code == 303
    assert "draft=kept" not in posted.headers["location"]
    assert _drafts(db, cast.worker) == []


def test_the_draft_page_posted_after_the_session_ended_keeps_its_form_and_goes_back_to_it(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    token = web_sign_in(client, cast.worker)
    _autosave(client, token, summary="Before.")
    _end_session(db, client, last_seen_at=clock.now() - timedelta(minutes=40))
    posted = client.post(
        "/drafts/save",
        data={
            "csrf_token": token,
            "draft_form_path": NOTE_PATH,
            "draft_title": "Case note for Ava",
            "summary": "Before, and after.",
        },
        follow_redirects=False,
    )
    assert posted.status_code == 303
    assert posted.headers["location"] == (
        "/sign-in?next=%2Fdrafts%2Fview%3Fform_path%3D%252Ftest-cases%252F1%252Fnotes%252Fnew"
        "&draft=kept"
    )
    (draft,) = _drafts(db, cast.worker)
    assert draft.data == {"summary": "Before, and after."}
    assert draft.saved_by == "timeout"
    assert draft.title == "Case note for Ava"


def test_the_page_says_how_long_the_session_has_left_and_keep_alive_extends_it(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    web_sign_in(client, cast.worker)
    _end_session(db, client, last_seen_at=clock.now() - timedelta(minutes=28))
    page = client.get("/drafts")
    found = page.text.split('name="casework-session-idle" content="')[1].split('"')[0]
    # The page itself counts as activity: the idle clock starts again.
    assert 29 * 60 <= int(found) <= 30 * 60
    _end_session(db, client, last_seen_at=clock.now() - timedelta(minutes=28))
    alive = client.get("/session/keep-alive", follow_redirects=False)
    assert alive.status_code == 204
    assert int(alive.headers["X-Session-Expires-In"]) >= 29 * 60
    assert _session_row(db, client).last_seen_at >= clock.now() - timedelta(seconds=30)

    _end_session(db, client, last_seen_at=clock.now() - timedelta(minutes=31))
    ended = client.get("/session/keep-alive", follow_redirects=False)
    assert ended.status_code == 303
    assert ended.headers["location"].startswith("/sign-in")
