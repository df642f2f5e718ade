"""Signing in and out of the web client, and what keeps the pages safe: the session cookie, the
CSRF token on every form, the CSP nonce, no-store, and the redirect to the sign-in page."""

from __future__ import annotations

import re

import httpx2
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.security import UserSession
from app.security.sessions import BAD_CREDENTIALS
from tests.security.helpers import PASSWORD
from tests.web.helpers import WebCast, hidden_csrf, web_sign_in


def _sessions(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(UserSession)) or 0


def _post_sign_in(
    client: TestClient, username: str, password: str, *, next_path: str = "/"
) -> tuple[str, httpx2.Response]:
    form = client.get("/sign-in")
    response = client.post(
        "/sign-in",
        data={
            "username": username,
            "password": password,
            "csrf_token": hidden_csrf(form.text),
            "next": next_path,
        },
        follow_redirects=False,
    )
    return response.text, response


def test_a_worker_signs_in_and_sees_their_name_and_the_navigation(
    client: TestClient, cast: WebCast
) -> None:
    form = client.get("/sign-in")
    assert form.status_code == 200
    assert 'name="username"' in form.text
    assert 'name="password"' in form.text
    assert ">\n  Sign in\n</button>" in form.text or "Sign in</button>" in form.text.replace(
        "\n", ""
    ).replace("  ", "")
    signed_in = client.post(
        "/sign-in",
        data={
            "username": cast.worker.username,
            "password": PASSWORD,
            "csrf_token": hidden_csrf(form.text),
            "next": "/children",
        },
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/children"
    cookie = signed_in.headers["set-cookie"]
    assert "casework_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie
    page = client.get("/children")
    assert page.status_code == 200
    assert cast.worker.display_name in page.text
    for link in ("My work", "Front door", "Find a child", "Sign out"):
        assert link in page.text
    assert "Alpha" in page.text
    assert 'href="#main-content"' in page.text


def test_the_session_cookie_is_secure_when_the_settings_say_so(app: FastAPI, cast: WebCast) -> None:
    """Tests run over plain http with ``cookie_secure`` off; a council's service has it on."""
    app.state.settings = app.state.settings.model_copy(update={"cookie_secure": True})
    with TestClient(app, base_url="https://testserver") as secure_client:
        _text, response = _post_sign_in(secure_client, cast.worker.username, PASSWORD)
    assert response.status_code == 303
    session_cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("casework_session=")
    )
    assert "Secure" in session_cookie
    assert "HttpOnly" in session_cookie


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer_and_no_session(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    before = _sessions(db)
    wrong, wrong_response = _post_sign_in(client, cast.worker.username, "not the password")
    unknown, unknown_response = _post_sign_in(client, "nobody-at-all", "not the password")
    for text, response in ((wrong, wrong_response), (unknown, unknown_response)):
        assert response.status_code == 401
        assert "<title>Error: Sign in" in text
        assert "There is a problem" in text
        assert 'href="#username"' in text
        assert BAD_CREDENTIALS in text
        assert "casework_session=" not in response.headers.get("set-cookie", "")
    assert _sessions(db) == before


def test_empty_fields_are_named_in_the_error_summary(client: TestClient, cast: WebCast) -> None:
    text, response = _post_sign_in(client, "", "")
    assert response.status_code == 422
    assert 'href="#username"' in text
    assert "Enter your username" in text
    assert 'href="#password"' in text
    assert "Enter your password" in text
    assert 'value=""' in text  # the password is never echoed back


def test_after_five_failures_the_account_is_locked_even_with_the_right_password(
    client: TestClient, cast: WebCast
) -> None:
    for _ in range(4):
        _text, response = _post_sign_in(client, cast.worker.username, "wrong")
        assert response.status_code == 401
    for password in ("wrong", PASSWORD):  # the fifth failure locks; then even the right one waits
        text, response = _post_sign_in(client, cast.worker.username, password)
        assert response.status_code == 429
        assert "This account is locked after too many failed sign-in attempts" in text


def test_a_sign_in_post_without_the_forms_token_is_refused_and_signs_no_one_in(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    before = _sessions(db)
    client.get("/sign-in")
    refused = client.post(
        "/sign-in",
        data={"username": cast.worker.username, "password": PASSWORD, "csrf_token": "forged"},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    assert "The sign-in form had expired" in refused.text
    assert _sessions(db) == before


def test_only_a_local_path_is_followed_after_signing_in(client: TestClient, cast: WebCast) -> None:
    for target, expected in (
        ("/children?q=ava", "/children?q=ava"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ):
        client.cookies.clear()
        _text, response = _post_sign_in(client, cast.worker.username, PASSWORD, next_path=target)
        assert response.status_code == 303, target
        assert response.headers["location"] == expected, target


def test_a_page_asked_for_without_signing_in_redirects_to_sign_in_and_back(
    client: TestClient, cast: WebCast
) -> None:
    response = client.get("/children?q=ava", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=%2Fchildren%3Fq%3Dava"
    home = client.get("/", follow_redirects=False)
    assert home.headers["location"] == "/sign-in"
    form = client.get(response.headers["location"])
    assert 'name="next" value="/children?q=ava"' in form.text
    # A bearer token is for integrations, not pages: it does not sign anyone in here.
    assert (
        client.get("/", headers={"Authorization": "Bearer x"}, follow_redirects=False).status_code
        == 303
    )


def test_signing_out_ends_the_session_and_needs_the_forms_token(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    token = web_sign_in(client, cast.worker)
    refused = client.post("/sign-out", data={"csrf_token": "forged"}, follow_redirects=False)
    assert refused.status_code == 403
    assert "You cannot do this" in refused.text
    assert client.get("/children", follow_redirects=False).status_code == 200  # still signed in
    cookie = client.cookies.get("casework_session")
    out = client.post("/sign-out", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert out.headers["location"] == "/sign-in"
    assert db.scalar(select(func.count()).where(UserSession.revoked_at.is_not(None))) == 1
    # The old cookie is refused from now on, even if a copy of it was kept.
    client.cookies.set("casework_session", str(cookie))
    assert client.get("/children", follow_redirects=False).status_code == 303


def test_every_page_has_a_csp_whose_nonce_is_on_the_templates_script_and_is_not_stored(
    client: TestClient, cast: WebCast
) -> None:
    web_sign_in(client, cast.worker)
    nonces = set()
    for path in ("/sign-in", "/", "/children", f"/children/{cast.care.child.id}", "/no-such-page"):
        page = client.get(path, headers={"Accept": "text/html"})
        csp = page.headers["content-security-policy"]
        found = re.search(r"script-src 'self' 'nonce-([A-Za-z0-9_-]+)'", csp)
        assert found is not None, (path, csp)
        assert f'<script nonce="{found.group(1)}">' in page.text, path
        for directive in (
            "default-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ):
            assert directive in csp, (path, directive)
        assert page.headers["cache-control"] == "no-store", path
        nonces.add(found.group(1))
    assert len(nonces) == 5  # a fresh nonce on every response
    assert "'unsafe-inline'" not in csp


def test_a_page_that_does_not_exist_is_the_govuk_page_not_found_but_the_api_stays_json(
    client: TestClient, cast: WebCast
) -> None:
    web_sign_in(client, cast.worker)
    page = client.get("/no-such-page", headers={"Accept": "text/html,*/*;q=0.8"})
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Page not found" in page.text
    api = client.get("/api/v1/no-such-thing", headers={"Accept": "text/html"})
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"


def test_the_pinned_assets_are_served(client: TestClient) -> None:
    for path in (
        "/assets/govuk-frontend.min.css",
        "/assets/govuk-frontend.min.js",
        "/assets/fonts/bold-b542beb274-v2.woff2",
        "/assets/images/favicon.ico",
        "/static/htmx.min.js",
        "/static/casework.css",
        "/static/casework.js",
    ):
        assert client.get(path).status_code == 200, path


def test_an_unexpected_error_is_the_govuk_sorry_page_with_the_request_id(
    app: FastAPI, client: TestClient
) -> None:
    def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/broken-page", broken, include_in_schema=False)
    page = client.get("/broken-page", headers={"X-Request-ID": "req-123", "Accept": "text/html"})
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert "Sorry, there is a problem with the service" in page.text
    assert "req-123" in page.text
    assert "a bug" not in page.text
    assert page.headers["cache-control"] == "no-store"


def test_a_sign_in_page_after_a_timeout_says_why_and_only_in_its_own_words(
    client: TestClient,
) -> None:
    page = client.get("/sign-in", params={"next": "/", "timeout": "1", "draft": "kept"})
    assert "You were signed out because you had not done anything for a while." in page.text
    assert "What you typed has been kept as a draft." in page.text
    plain = client.get("/sign-in", params={"next": "/", "draft": "planted"})
    assert "You were signed out" not in plain.text
    assert hidden_csrf(plain.text)
