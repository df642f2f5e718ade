"""The OpenAPI document is the API's contract: committed, stable, and complete about errors.

Integrators generate clients from ``openapi/openapi.json``; the served document must not drift
from it unnoticed, operationIds (the generated method names) must be unique, and every operation
must say that it can answer 401.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.cli import DEFAULT_OPENAPI_PATH, render_openapi

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
STALE = "openapi/openapi.json is stale: run `casework openapi` (or `make openapi`) and commit it"


@pytest.fixture
def served(client: TestClient) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def test_the_served_document_equals_the_committed_copy(served: dict[str, Any]) -> None:
    assert DEFAULT_OPENAPI_PATH.exists(), STALE
    committed = json.loads(DEFAULT_OPENAPI_PATH.read_text(encoding="utf-8"))
    assert served == committed, STALE


def test_the_committed_copy_is_in_canonical_form() -> None:
    """Sorted keys, two-space indent, final newline: regenerating it gives a minimal diff."""
    text = DEFAULT_OPENAPI_PATH.read_text(encoding="utf-8")
    assert text == render_openapi(json.loads(text)), STALE


def test_every_operation_has_a_unique_operation_id(served: dict[str, Any]) -> None:
    ids = [str(op.get("operationId")) for _path, _method, op in _operations(served)]
    missing = [f"{m.upper()} {p}" for p, m, op in _operations(served) if not op.get("operationId")]
    assert not missing, f"operations without an operationId: {missing}"
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"operationIds used more than once: {duplicates}"


def test_every_api_operation_documents_401(served: dict[str, Any]) -> None:
    undocumented = [
        f"{method.upper()} {path}"
        for path, method, operation in _operations(served)
        if path.startswith("/api/v1/") and "401" not in operation.get("responses", {})
    ]
    assert not undocumented, f"operations that do not document 401: {undocumented}"


def test_errors_are_documented_as_problem_json(served: dict[str, Any]) -> None:
    for path, method, operation in _operations(served):
        for status, response in operation.get("responses", {}).items():
            if status.startswith(("4", "5")) and status != "422":
                content = response.get("content", {})
                assert "application/problem+json" in content, (
                    f"{method.upper()} {path} documents {status} without application/problem+json"
                )
