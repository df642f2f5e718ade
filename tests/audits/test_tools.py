"""Stories of audit tools: QA sets up the council's tool of themes and questions, revises it
before anyone has used it, and retires it for a new one once audits have (a changed tool is a new
tool, so findings compare like with like); and the refusals — no questions, a code used twice, a
name taken, a role that does not write tools, a stale copy."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audits import default_tool
from app.audits import service as audit_service
from app.models.audit import ChangeLog
from app.models.audits import AuditQuestion, AuditTool
from tests.audits.factories import (
    AuditCast,
    if_match,
    make_audit_cast,
    make_tool,
    on,
    planned_audit,
    principal,
    referred_case,
    tool_body,
)
from tests.factories import auth_headers


@pytest.fixture
def cast(db: Session) -> AuditCast:
    return make_audit_cast(db)


def _counts(db: Session) -> tuple[int, int, int]:
    db.expire_all()
    return tuple(  # type: ignore[return-value]
        int(db.scalar(select(func.count()).select_from(model)) or 0)
        for model in (AuditTool, AuditQuestion, ChangeLog)
    )


def test_qa_sets_up_a_tool_of_themes_and_questions_and_everyone_can_read_it(
    client: TestClient, db: Session, cast: AuditCast
) -> None:
    made = client.post("/api/v1/audit-tools", json=tool_body(), headers=cast.headers(db))
    assert made.status_code == 201, made.text
    tool = made.json()
    assert made.headers["ETag"] == '"1"'
    assert made.headers["Location"] == f"/api/v1/audit-tools/{tool['id']}"
    assert (tool["name"], tool["is_active"], tool["in_use"]) == ("Practice audit tool", True, False)
    assert [(q["theme"], q["code"], q["position"]) for q in tool["questions"]] == [
        ("Child's lived experience and voice", "V1", 1),
        ("Child's lived experience and voice", "V2", 2),
        ("Assessment and analysis", "A1", 3),
        ("Assessment and analysis", "A2", 4),
    ]
    worker = auth_headers(db, cast.social_worker)
    listed = client.get("/api/v1/audit-tools?active=true", headers=worker)
    assert [t["id"] for t in listed.json()] == [tool["id"]]
    read = client.get(f"/api/v1/audit-tools/{tool['id']}", headers=worker)
    assert read.json()["questions"] == tool["questions"]
    logged = db.scalar(select(ChangeLog).where(ChangeLog.entity_id == uuid.UUID(tool["id"])))
    assert logged is not None
    assert logged.action == "audit_tool_created"
    assert [q["code"] for q in logged.changes["questions"]] == ["V1", "V2", "A1", "A2"]
    missing = client.get(f"/api/v1/audit-tools/{uuid.uuid4()}", headers=worker)
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"questions": []}, "questions"),
        (
            {
                "questions": [
                    {"theme": "Voice", "code": "V1", "text": "Seen?"},
                    {"theme": "Voice", "code": "V2", "text": "Heard?"},
                    {"theme": "Risk", "code": "v1", "text": "Safe?"},
                ]
            },
            "questions.2.code",
        ),
        ({"questions": [{"theme": "Voice", "code": "V 1", "text": "Seen?"}]}, "questions.0.code"),
        ({"questions": [{"theme": "", "code": "V1", "text": "Seen?"}]}, "questions.0.theme"),
        ({"name": ""}, "name"),
        ({"grading": "ofsted"}, "grading"),
    ],
)
def test_a_tool_that_does_not_hold_together_is_refused_and_nothing_is_written(
    client: TestClient, db: Session, cast: AuditCast, body: dict[str, Any], field: str
) -> None:
    before = _counts(db)
    refused = client.post("/api/v1/audit-tools", json=tool_body(**body), headers=cast.headers(db))
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == field
    assert _counts(db) == before


def test_a_name_already_taken_or_a_role_that_does_not_write_tools_is_refused(
    client: TestClient, db: Session, cast: AuditCast
) -> None:
    assert client.post("/api/v1/audit-tools", json=tool_body(), headers=cast.headers(db)).is_success
    before = _counts(db)
    taken = client.post("/api/v1/audit-tools", json=tool_body(), headers=cast.headers(db))
    manager = client.post(
        "/api/v1/audit-tools",
        json=tool_body("Another"),
        headers=auth_headers(db, cast.manager),
    )
    assert taken.status_code == 409, taken.text
    assert manager.status_code == 403, manager.text
    assert _counts(db) == before


def test_a_tool_is_revised_until_an_audit_uses_it_then_it_is_fixed_and_retired(
    client: TestClient, db: Session, cast: AuditCast
) -> None:
    headers = cast.headers(db)
    tool = client.post("/api/v1/audit-tools", json=tool_body(), headers=headers).json()
    url = f"/api/v1/audit-tools/{tool['id']}"
    revised_body = tool_body(
        "Practice audit tool (v2)",
        questions=[
            {"theme": "Voice", "code": "V1", "text": "Is the child seen alone?"},
            {"theme": "Risk", "code": "R1", "text": "Is risk analysed?"},
        ],
    )
    stale = client.put(url, json=revised_body, headers=if_match(headers, 5))
    assert stale.status_code == 412, stale.text
    revised = client.put(url, json=revised_body, headers=if_match(headers, 1))
    assert revised.status_code == 200, revised.text
    assert revised.headers["ETag"] == '"2"'
    assert [q["code"] for q in revised.json()["questions"]] == ["V1", "R1"]
    # Only the questions change: the version still moves (a stale copy cannot overwrite them).
    same_name = client.put(
        url,
        json={**revised_body, "questions": revised_body["questions"][:1]},
        headers=if_match(headers, 2),
    )
    assert same_name.status_code == 200, same_name.text
    assert same_name.json()["version"] == 3

    # An audit uses the tool: its questions are fixed from now on.
    stored = db.get(AuditTool, uuid.UUID(tool["id"]))
    assert stored is not None
    case = referred_case(db, cast, opened=date(2026, 3, 2))
    planned_audit(db, cast, case, stored, day=date(2026, 6, 1))
    db.commit()
    before = _counts(db)
    fixed = client.put(url, json=tool_body(), headers=if_match(headers, 3))
    assert fixed.status_code == 409, fixed.text
    assert "create a new tool" in fixed.json()["detail"]
    assert _counts(db) == before
    assert client.get(url, headers=headers).json()["in_use"] is True

    retired = client.post(f"{url}/retire", headers=if_match(headers, 3))
    assert retired.status_code == 200, retired.text
    assert retired.json()["is_active"] is False
    again = client.post(f"{url}/retire", headers=if_match(headers, retired.json()["version"]))
    assert again.status_code == 409
    assert client.get("/api/v1/audit-tools?active=true", headers=headers).json() == []
    # A retired tool is not used for new audits.
    with on(date(2026, 6, 2)):
        refused = client.post(
            f"/api/v1/cases/{case.id}/audits",
            json={"tool_id": tool["id"], "auditor_id": str(cast.auditor.id)},
            headers=headers,
        )
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "tool_id"


def test_the_default_tool_covers_the_five_themes_of_practice(db: Session, cast: AuditCast) -> None:
    tool = audit_service.audit_tool_create(
        db,
        actor=principal(db, cast.auditor),
        name=default_tool.NAME,
        description=default_tool.DESCRIPTION,
        questions=default_tool.QUESTIONS,
    )
    questions = audit_service.tool_questions(db, tool_id=tool.id)
    themes = list(dict.fromkeys(q.theme for q in questions))
    assert themes == [
        "Child's lived experience and voice",
        "Assessment and analysis",
        "Planning and review",
        "Management oversight and supervision",
        "Management of risk",
    ]
    per_theme = [sum(q.theme == theme for q in questions) for theme in themes]
    assert all(2 <= n <= 3 for n in per_theme)
    assert make_tool(db, cast).name != tool.name
