"""Every failure is a problem+json document with a stable code and a sentence, never a traceback."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import Environment, Settings
from app.main import create_app
from tests.factories import auth_headers, make_user

PROBLEM = "application/problem+json"
UNREACHABLE = "postgresql+psycopg://casework@127.0.0.1:1/casework?connect_timeout=1"


def test_an_unknown_address_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == "not_found"
    assert body["status"] == 404
    assert body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]


def test_malformed_json_is_a_422_naming_the_body(client: TestClient, db: Session) -> None:
    headers = auth_headers(db, make_user(db)) | {"content-type": "application/json"}
    response = client.post("/api/v1/people", content=b'{"first_name": ', headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"][0]["message"] == "The request body is not valid JSON."


def test_an_unexpected_error_is_a_500_without_a_trace(app: FastAPI) -> None:
    @app.get("/api/v1/test-explodes", include_in_schema=False)
    def explodes() -> None:
        raise RuntimeError("secret internals: Ava Example, 2015-05-01")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/test-explodes")
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "internal_error"
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text


def test_health_says_503_with_retry_after_when_the_database_is_down() -> None:
    app = create_app(
        Settings(environment=Environment.test, database_url=UNREACHABLE, secret_key="x" * 40)
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/health")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable"}
    assert response.headers["retry-after"]


def test_an_api_request_while_the_database_is_down_is_a_503_problem() -> None:
    app = create_app(
        Settings(environment=Environment.test, database_url=UNREACHABLE, secret_key="x" * 40)
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get(
            "/api/v1/auth/me", headers={"Authorization": "Bearer cw_not-a-real-token"}
        )
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["retry-after"]
    assert response.json()["code"] == "service_unavailable"
    assert "Traceback" not in response.text


def test_every_response_carries_the_security_headers(client: TestClient) -> None:
    response = client.get("/api/v1/no-such-thing")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
