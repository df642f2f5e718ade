"""The whole API fuzzed against its own OpenAPI document with schemathesis (issue 8, part 3).

For every operation, schemathesis generates requests from the document — valid ones, and invalid
ones (negative mode: wrong types, missing fields, values out of range) — and sends them through
the app as a service manager (the role that may call the most routes). Its checks:

- no 5xx, ever (``not_a_server_error``);
- every response's status code, content type, headers and body conform to the document;
- invalid data is rejected (``negative_data_rejection``: a 4xx, never a 2xx);
- authentication is not ignored (``ignored_auth``: the same request without credentials is 401).

Left out: ``positive_data_acceptance`` (a request valid by the document must be accepted). Many
rules a service enforces are not expressible in OpenAPI (a date after the child's birth, a reason
of at least ten characters, an event the state allows), so a schema-valid request is often,
rightly, a 422 with a sentence.

The budget is bounded (``EXAMPLES`` requests per operation and mode), and the generation is
derandomised, so CI runs the same requests every time.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy.orm import Session

from app.config import Environment, Settings
from app.main import create_app
from app.models import Role
from tests.factories import auth_headers, make_team, make_user

# Hundreds of cases: one app for the module, each case on its own rolled-back connection.
pytestmark = pytest.mark.shared_app

#: Requests per operation: valid ones, then invalid ones (the checks that matter most for those).
EXAMPLES = {"positive": 1, "negative": 2}
SCHEMA = schemathesis.openapi.from_dict(
    create_app(Settings(environment=Environment.test, secret_key="x" * 40)).openapi()
)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]  # type: ignore[union-attr]


def _takes_input(operation: Any) -> bool:
    """Whether there is anything to send wrong (an operation without parameters or a body has
    no invalid request but a missing credential, which ``ignored_auth`` covers)."""
    raw = operation.definition.raw
    return bool(raw.get("parameters") or raw.get("requestBody"))


CASES = [
    pytest.param(operation, mode, id=f"{mode.value} {operation.label}")
    for operation in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or _takes_input(operation)
]


def test_every_operation_is_fuzzed() -> None:
    assert len(OPERATIONS) > 200


@pytest.mark.parametrize(("operation", "mode"), CASES)
def test_the_api_keeps_to_its_document_whatever_it_is_sent(
    operation: Any, mode: GenerationMode, app: FastAPI, db: Session
) -> None:
    user = make_user(db, Role.service_manager, team=make_team(db))
    headers = auth_headers(db, user)

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES[mode.value],
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        case.call_and_validate(headers=headers, app=app, excluded_checks=[positive_data_acceptance])

    check()
