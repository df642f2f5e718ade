"""Stories of audit findings: what two months of case file audits in the North and the South say
about practice (grades by team, area and month, the trend, the theme that keeps coming back weak,
how often moderators agreed), and the export a QA lead takes to peer challenge and inspection —
naming no child."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from app.audits import findings
from app.audits import service as audit_service
from app.audits.schemas import AnswerIn
from app.models import Person, Role
from app.models.audit import AccessLog
from app.models.audits import AuditGrade, AuditTool, CaseAudit
from tests.audits.factories import (
    CODES,
    AuditCast,
    assigned_audit,
    make_audit_cast,
    make_tool,
    on,
    principal,
)
from tests.audits.programme_factories import (
    DRAWN_ON,
    graded_audit,
    moderate,
    open_case,
    programme_body,
)
from tests.factories import auth_headers, make_user

FINDINGS = "/api/v1/audit-findings"
EXPORT = "/api/v1/audit-findings/export"
G = AuditGrade
VOICE = "Child's lived experience and voice"
ASSESSMENT = "Assessment and analysis"
MARCH, APRIL = date(2026, 3, 10), date(2026, 4, 14)


@dataclass
class Story:
    cast: AuditCast
    tool: AuditTool
    audits: dict[str, CaseAudit]


@pytest.fixture
def story(db: Session) -> Story:
    """Five audits submitted in March and April 2026 (three in the North, two in the South), one
    submitted in February, one not yet submitted; two moderated (one agreed, one adjusted down
    to inadequate)."""
    cast = make_audit_cast(db)
    cast.team.name, cast.team.area = f"North CP {cast.team.id}", "North"
    cast.other_team.name, cast.other_team.area = f"South CP {cast.other_team.id}", "South"
    db.flush()
    tool = make_tool(db, cast)
    north, south = cast.team, cast.other_team

    def audit(name: str, team: Any, day: date, grade: AuditGrade, **answers: AuditGrade) -> None:
        case = open_case(db, cast, team=team, opened=date(2026, 1, 5), first_name=f"Zelda{name}")
        audits[name] = graded_audit(db, cast, case, tool, day=day, grade=grade, answers=answers)

    audits: dict[str, CaseAudit] = {}
    audit("march_north", north, MARCH, G.good)
    audit("march_south", south, MARCH, G.inadequate, V1=G.good, V2=G.good)
    audit("april_north_agreed", north, APRIL, G.outstanding)
    audit(
        "april_north_adjusted",
        north,
        APRIL,
        G.requires_improvement,
        V1=G.good,
        V2=G.good,
        A2=G.inadequate,
    )
    audit("april_south", south, APRIL, G.good)
    audit("february", north, date(2026, 2, 20), G.inadequate)
    audits["april_north_agreed"] = moderate(
        db, cast, audits["april_north_agreed"], day=date(2026, 4, 20)
    )
    audits["april_north_adjusted"] = moderate(
        db, cast, audits["april_north_adjusted"], day=date(2026, 4, 20), grade=G.inadequate
    )
    not_submitted = open_case(db, cast, team=north, opened=date(2026, 1, 5), first_name="ZeldaX")
    assigned_audit(db, cast, not_submitted, tool, day=APRIL)
    return Story(cast=cast, tool=tool, audits=audits)


def _get(client: TestClient, url: str, headers: dict[str, str], **params: Any) -> Any:
    with on(DRAWN_ON):
        return client.get(url, params=params, headers=headers)


def _grades(distribution: dict[str, Any]) -> dict[str, tuple[int, float]]:
    return {g["grade"]: (g["count"], g["percent"]) for g in distribution["grades"] if g["count"]}


def test_march_and_aprils_findings_by_team_area_and_month_with_the_trend_and_the_weak_theme(
    client: TestClient, db: Session, story: Story
) -> None:
    headers = auth_headers(db, story.cast.service_manager)

    response = _get(client, FINDINGS, headers, **{"from": "2026-03", "to": "2026-04"})

    assert response.status_code == 200, response.text
    found = response.json()
    # February's audit is outside the period; the one not yet submitted is not a finding.
    assert found["total"] == 5
    assert _grades({"grades": found["overall"]}) == {
        "outstanding": (1, 20.0),
        "good": (2, 40.0),
        "inadequate": (2, 40.0),  # the adjusted audit counts by the moderator's grade
    }
    assert [g["grade"] for g in found["overall"]] == [
        "outstanding",
        "good",
        "requires_improvement",
        "inadequate",
    ]
    assert [(t["key"], t["total"], _grades(t)) for t in found["by_team"]] == [
        (
            str(story.cast.team.id),
            3,
            {"outstanding": (1, 33.3), "good": (1, 33.3), "inadequate": (1, 33.3)},
        ),
        (str(story.cast.other_team.id), 2, {"good": (1, 50.0), "inadequate": (1, 50.0)}),
    ]
    assert [(a["label"], a["total"]) for a in found["by_area"]] == [("North", 3), ("South", 2)]
    assert [(m["key"], m["total"], _grades(m)) for m in found["by_month"]] == [
        ("2026-03", 2, {"good": (1, 50.0), "inadequate": (1, 50.0)}),
        (
            "2026-04",
            3,
            {"outstanding": (1, 33.3), "good": (1, 33.3), "inadequate": (1, 33.3)},
        ),
    ]
    assert found["trend"] == [
        {
            "month": "2026-03",
            "total": 2,
            "percent_good_or_better": 50.0,
            "percent_inadequate": 50.0,
        },
        {
            "month": "2026-04",
            "total": 3,
            "percent_good_or_better": 66.7,
            "percent_inadequate": 33.3,
        },
    ]
    # Assessment keeps coming back weak: 4 of its 10 answers (South's March audit's two, and the
    # adjusted April audit's two).
    assert [(t["theme"], t["answers"], t["percent_weak"]) for t in found["themes"]] == [
        (ASSESSMENT, 10, 40.0),
        (VOICE, 10, 0.0),
    ]
    assert _grades(found["themes"][0]) == {
        "outstanding": (2, 20.0),
        "good": (4, 40.0),
        "requires_improvement": (1, 10.0),
        "inadequate": (3, 30.0),
    }
    assert found["moderation"] == {
        "submitted": 5,
        "moderated": 2,
        "agreed": 1,
        "adjusted": 1,
        "percent_moderated": 40.0,
        "percent_agreed": 50.0,
    }
    assert "Zelda" not in response.text  # no child named


def test_findings_for_one_team_or_one_area_and_for_a_month_with_no_audit(
    client: TestClient, db: Session, story: Story
) -> None:
    headers = auth_headers(db, story.cast.other_manager)
    period = {"from": "2026-03", "to": "2026-05"}

    south = _get(client, FINDINGS, headers, team_id=str(story.cast.other_team.id), **period)
    north = _get(client, FINDINGS, headers, area="North", **period)
    nowhere = _get(client, FINDINGS, headers, area="East", **period)

    assert south.status_code == 200, south.text
    assert (south.json()["total"], [t["label"] for t in south.json()["by_team"]]) == (
        2,
        [story.cast.other_team.name],
    )
    assert north.json()["total"] == 3
    assert north.json()["moderation"]["moderated"] == 2
    assert [(p["month"], p["total"]) for p in north.json()["trend"]] == [
        ("2026-03", 1),
        ("2026-04", 2),
        ("2026-05", 0),
    ]
    assert north.json()["trend"][2]["percent_good_or_better"] is None
    assert nowhere.json()["total"] == 0
    assert nowhere.json()["themes"] == []
    assert nowhere.json()["moderation"]["percent_agreed"] is None


def test_the_findings_take_two_queries_however_many_audits(db: Session, story: Story) -> None:
    statements: list[str] = []

    def seen(*args: Any) -> None:
        statements.append(str(args[2]))

    actor = principal(db, story.cast.auditor)
    connection = db.connection()
    event.listen(connection, "before_cursor_execute", seen)
    try:
        with on(DRAWN_ON):
            result = findings.audit_findings(
                db,
                actor=actor,
                period=findings.period_of(date(2026, 1, 1), date(2026, 12, 1)),
            )
    finally:
        event.remove(connection, "before_cursor_execute", seen)
    assert result.total == 6
    assert len(statements) == 2


def _actions(db: Session, story: Story) -> None:
    """An action on the adjusted audit due by the end of April (overdue by June), and one on
    March's North audit due at the end of the year."""
    actor = principal(db, story.cast.auditor)
    for name, day, due in (
        ("april_north_adjusted", date(2026, 4, 20), date(2026, 4, 30)),
        ("march_north", date(2026, 3, 12), date(2026, 12, 31)),
    ):
        with on(day):
            audit_service.audit_action_create(
                db,
                actor=actor,
                audit_id=story.audits[name].id,
                description="Update the assessment with the school's information.",
                owner_id=story.cast.social_worker.id,
                due_date=due,
            )


def test_the_csv_export_lists_each_audit_with_its_grades_by_question_and_its_actions(
    client: TestClient, db: Session, story: Story
) -> None:
    _actions(db, story)
    headers = auth_headers(db, make_user(db, Role.data_officer))

    response = _get(client, EXPORT, headers, format="csv", **{"from": "2026-03", "to": "2026-04"})

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        'attachment; filename="case-file-audits-2026-03-to-2026-04.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == [
        *findings.EXPORT_LEADING,
        "V1",
        "V2",
        "A1",
        "A2",
        "actions",
        "actions_overdue",
    ]
    audits = story.audits
    five = [audits[n] for n in audits if n != "february"]
    # Oldest first (audits submitted at the same moment, by id).
    assert [r["audit_id"] for r in rows] == [
        str(a.id) for a in sorted(five, key=lambda a: (str(a.submitted_at), a.id))
    ]
    row = {r["audit_id"]: r for r in rows}
    adjusted = row[str(audits["april_north_adjusted"].id)]
    assert adjusted["case_id"] == str(audits["april_north_adjusted"].case_id)
    assert (adjusted["team"], adjusted["area"], adjusted["tool"]) == (
        story.cast.team.name,
        "North",
        story.tool.name,
    )
    assert adjusted["auditor"] == story.cast.auditor.display_name
    assert adjusted["submitted_date"] == "2026-04-14"
    assert (
        adjusted["auditor_grade"],
        adjusted["moderated_grade"],
        adjusted["final_grade"],
        adjusted["moderation_outcome"],
    ) == ("requires_improvement", "inadequate", "inadequate", "adjusted")
    assert [adjusted[c] for c in ("V1", "V2", "A1", "A2")] == [
        "good",
        "good",
        "requires_improvement",
        "inadequate",
    ]
    assert (adjusted["actions"], adjusted["actions_overdue"]) == ("1", "1")
    march_north = row[str(audits["march_north"].id)]
    assert (march_north["actions"], march_north["actions_overdue"]) == ("1", "0")
    agreed = row[str(audits["april_north_agreed"].id)]
    assert (agreed["moderation_outcome"], agreed["moderated_grade"]) == ("agreed", "")
    assert (agreed["programme"], agreed["programme_month"]) == ("", "")  # audited ad hoc
    assert "Zelda" not in response.text
    logged = db.scalars(
        select(AccessLog.case_id).where(AccessLog.resource == findings.EXPORT_RESOURCE)
    ).all()
    assert sorted(map(str, logged)) == sorted(str(a.case_id) for a in five)


def test_the_xlsx_export_has_the_audits_and_a_summary_sheet(
    client: TestClient, db: Session, story: Story
) -> None:
    headers = auth_headers(db, story.cast.auditor)
    period = {"from": "2026-03", "to": "2026-04"}

    xlsx = _get(client, EXPORT, headers, format="xlsx", **period)
    as_csv = _get(client, EXPORT, headers, format="csv", **period)

    assert xlsx.status_code == 200, xlsx.text
    assert xlsx.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert xlsx.headers["content-disposition"].endswith('-2026-04.xlsx"')
    book = load_workbook(io.BytesIO(xlsx.content), read_only=True)
    assert book.sheetnames == ["Audits", "Summary"]
    sheet_rows = [
        ["" if v is None else str(v) for v in row]
        for row in book["Audits"].iter_rows(values_only=True)
    ]
    assert sheet_rows == list(csv.reader(io.StringIO(as_csv.text)))
    summary = list(book["Summary"].iter_rows(values_only=True))
    labels = [row[0] for row in summary]
    for title in ("By team", "By area", "By month", "Trend", "Recurring themes (weakest first)"):
        assert title in labels
    assert ("North", 3) in [tuple(row[:2]) for row in summary]
    assert (ASSESSMENT, 10, 40.0) in [tuple(row[:3]) for row in summary]


def test_a_restricted_childs_audit_is_counted_but_not_exported_to_someone_not_named(
    client: TestClient, db: Session, story: Story
) -> None:
    restricted = story.audits["april_south"]
    db.get_one(Person, restricted.child_id).is_restricted = True
    db.flush()
    headers = auth_headers(db, story.cast.auditor)
    period = {"from": "2026-03", "to": "2026-04"}

    found = _get(client, FINDINGS, headers, **period)
    exported = _get(client, EXPORT, headers, format="csv", **period)

    assert found.json()["total"] == 5
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 4
    assert str(restricted.id) not in exported.text


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        (FINDINGS, {"from": "2026-04", "to": "2026-03"}, "to"),
        (FINDINGS, {"from": "2026-4", "to": "2026-05"}, "from"),
        (FINDINGS, {"to": "2026-05"}, "from"),
        (FINDINGS, {"from": "2026-03", "to": "2026-05", "team_id": "North"}, "team_id"),
        (EXPORT, {"from": "2026-03", "to": "2026-04", "format": "pdf"}, "format"),
        (EXPORT, {"from": "2026-05", "to": "2026-04"}, "to"),
    ],
)
def test_a_findings_request_that_makes_no_sense_is_refused_naming_the_field(
    client: TestClient, db: Session, url: str, params: dict[str, str], field: str
) -> None:
    cast = make_audit_cast(db)
    refused = _get(client, url, auth_headers(db, cast.service_manager), **params)
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == [field]
    assert db.scalar(select(func.count()).select_from(AccessLog)) == 0


def test_only_managers_qa_and_the_data_team_read_findings(
    client: TestClient, db: Session, story: Story
) -> None:
    period = {"from": "2026-03", "to": "2026-04"}
    for url in (FINDINGS, EXPORT):
        worker = _get(client, url, auth_headers(db, story.cast.social_worker), **period)
        nobody = _get(client, url, {}, **period)
        assert (worker.status_code, nobody.status_code) == (403, 401), url
    exported = db.scalar(
        select(func.count())
        .select_from(AccessLog)
        .where(AccessLog.resource == findings.EXPORT_RESOURCE)
    )
    assert exported == 0


def test_an_audit_drawn_by_a_programme_is_exported_with_the_programme_and_its_month(
    client: TestClient, db: Session
) -> None:
    cast = make_audit_cast(db)
    tool = make_tool(db, cast)
    open_case(db, cast, team=cast.team, opened=date(2026, 1, 5))
    headers = auth_headers(db, cast.auditor)
    with on(DRAWN_ON):
        made = client.post(
            "/api/v1/audit-programmes",
            json=programme_body(tool, sample_size=1, auditor_ids=[str(cast.auditor.id)]),
            headers=headers,
        )
    assert made.status_code == 201, made.text
    audit = db.get_one(CaseAudit, uuid.UUID(made.json()["audits"][0]["id"]))
    actor = principal(db, cast.auditor)
    with on(DRAWN_ON):
        audit = audit_service.audit_save(
            db,
            actor=actor,
            audit_id=audit.id,
            expected_version=audit.version,
            answers=[AnswerIn(question_code=c, grade=G.good) for c in CODES],
            findings={"overall_grade": G.good, "child_voice": "Seen alone at home."},
        )
        audit_service.audit_submit(
            db, actor=actor, audit_id=audit.id, expected_version=audit.version
        )

    exported = _get(client, EXPORT, headers, **{"from": "2026-06", "to": "2026-06"})

    (row,) = list(csv.DictReader(io.StringIO(exported.text)))
    assert (row["programme"], row["programme_month"]) == ("May 2026 monthly audit", "2026-05")
    assert (row["final_grade"], row["submitted_date"]) == ("good", DRAWN_ON.isoformat())
