"""Stories of a worker and a manager looking at what is due: filters, pages, and what is hidden."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.calendar import LONDON
from app.models import AccessLog, Case, Role
from tests.cases.factories import Cast, grant, open_case, take
from tests.factories import auth_headers, make_child, make_user


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A London wall-clock instant (GMT or BST as the date has it)."""
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def _world(db: Session, cast: Cast) -> dict[str, Case]:
    """Three children's cases over a week of November 2025 (amber: due the next working day)."""
    cases: dict[str, Case] = {}
    with clock.frozen_at(at(2025, 11, 24, 10, 0)):  # Monday
        cases["ava"] = open_case(
            db, by=cast.manager, child=cast.child, team=cast.team, worker=cast.social_worker
        )
    with clock.frozen_at(at(2025, 11, 25, 10, 0)):
        cases["ben"] = open_case(
            db, by=cast.manager, child=make_child(db, first_name="Ben"), team=cast.team
        )
        take(db, cases["ava"], "accept_referral", by=cast.manager)  # meets Ava's contact decision
    with clock.frozen_at(at(2025, 11, 26, 10, 0)):
        cases["cal"] = open_case(
            db,
            by=cast.service_manager,
            child=make_child(db, first_name="Cal"),
            team=cast.other_team,
            worker=cast.other_social_worker,
        )
    return cases


def _get(client: TestClient, headers: dict[str, str], **params: Any) -> Any:
    response = client.get("/api/v1/deadlines", params=params, headers=headers)
    assert response.status_code == 200, response.json()
    return response.json()


def test_the_deadline_list_names_each_rule_its_source_and_status(
    client: TestClient, db: Session, cast: Cast
) -> None:
    cases = _world(db, cast)
    headers = auth_headers(db, cast.social_worker)
    with clock.frozen_at(at(2025, 11, 26, 12, 0)):
        items = _get(client, headers, case_id=str(cases["ava"].id))["items"]
    assert [(i["kind"], i["rule_id"], i["status"], i["due_date"]) for i in items] == [
        ("contact_decision", "TS1", "met", "2025-11-25"),
        ("referral_decision", "TS2", "due", "2025-11-26"),
        # Rule 37: management oversight within 6 weeks of the referral.
        ("management_oversight", "TS37", "due", "2026-01-06"),
        ("assessment_authorised", "TS3", "due", "2026-01-30"),
    ]
    assert items[0]["met_date"] == "2025-11-25"
    assert items[0]["start_date"] == "2025-11-24"
    assert "Working Together" in items[1]["source"]


def test_the_deadline_list_filters_by_child_case_worker_team_kind_status_and_dates(
    client: TestClient, db: Session, cast: Cast
) -> None:
    cases = _world(db, cast)
    headers = auth_headers(db, cast.manager)

    def kinds_of(**params: Any) -> list[tuple[str, str]]:
        with clock.frozen_at(at(2025, 11, 27, 9, 0)):
            items = _get(client, headers, **params)["items"]
        by_case = {str(c.id): name for name, c in cases.items()}
        return [(by_case[i["case_id"]], i["kind"]) for i in items]

    assert kinds_of(child_id=str(cases["ben"].child_id)) == [("ben", "contact_decision")]
    assert kinds_of(worker_id=str(cast.other_social_worker.id)) == [("cal", "contact_decision")]
    assert kinds_of(team_id=str(cast.other_team.id)) == [("cal", "contact_decision")]
    assert kinds_of(kind="referral_decision") == [("ava", "referral_decision")]
    assert kinds_of(kind=["referral_decision", "assessment_authorised"]) == [
        ("ava", "referral_decision"),
        ("ava", "assessment_authorised"),
    ]
    # On Thursday 27th: Ben's decision (due Wed) and Ava's referral decision (due Wed) are overdue.
    assert sorted(kinds_of(status="overdue")) == [
        ("ava", "referral_decision"),
        ("ben", "contact_decision"),
    ]
    assert kinds_of(status="met") == [("ava", "contact_decision")]
    assert sorted(kinds_of(status="due")) == [
        ("ava", "assessment_authorised"),
        ("ava", "management_oversight"),
        ("cal", "contact_decision"),
    ]
    assert kinds_of(due_after="2025-11-27", due_before="2025-11-27") == [
        ("cal", "contact_decision")
    ]
    assert kinds_of(due_before="2025-11-25") == [("ava", "contact_decision")]
    bad = client.get(
        "/api/v1/deadlines",
        params={"due_after": "2025-12-01", "due_before": "2025-11-01"},
        headers=headers,
    )
    assert bad.status_code == 422
    assert (
        client.get("/api/v1/deadlines", params={"kind": "tea_break"}, headers=headers).status_code
        == 422
    )
    assert (
        client.get("/api/v1/deadlines", params={"status": "late"}, headers=headers).status_code
        == 422
    )


def test_the_deadline_list_pages_by_due_date_without_gaps_or_repeats(
    client: TestClient, db: Session, cast: Cast
) -> None:
    _world(db, cast)
    headers = auth_headers(db, cast.manager)
    everything = _get(client, headers, limit=200)["items"]
    assert len(everything) == 6  # with Ava's management oversight (rule 37)
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = _get(client, headers, **params)
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [i["id"] for i in seen] == [i["id"] for i in everything]
    assert [i["due_date"] for i in seen] == sorted(i["due_date"] for i in seen)
    garbage = client.get("/api/v1/deadlines", params={"cursor": "%%%"}, headers=headers)
    assert garbage.status_code == 422
    assert garbage.json()["errors"][0]["field"] == "cursor"


def test_a_restricted_childs_deadlines_are_invisible_to_those_not_named(
    client: TestClient, db: Session, cast: Cast
) -> None:
    secret = make_child(db, first_name="Rae", restricted=True)
    grant(db, secret, cast.manager)
    case = open_case(db, by=cast.manager, child=secret, team=cast.team)
    unnamed = _get(client, auth_headers(db, cast.social_worker))["items"]
    assert str(case.id) not in {i["case_id"] for i in unnamed}
    assert (
        _get(client, auth_headers(db, cast.social_worker), child_id=str(secret.id))["items"] == []
    )
    named = _get(client, auth_headers(db, cast.manager), child_id=str(secret.id))["items"]
    assert [i["case_id"] for i in named] == [str(case.id)]


def test_each_child_on_the_deadline_list_is_written_to_the_access_log(
    client: TestClient, db: Session, cast: Cast
) -> None:
    cases = _world(db, cast)
    _get(client, auth_headers(db, cast.iro))
    rows = db.scalars(
        select(AccessLog).where(AccessLog.resource == "deadline_list", AccessLog.action == "list")
    ).all()
    assert sorted(str(r.person_id) for r in rows) == sorted(str(c.child_id) for c in cases.values())


def test_the_deadline_list_needs_deadline_read(client: TestClient, db: Session, cast: Cast) -> None:
    admin = make_user(db, Role.administrator)
    assert client.get("/api/v1/deadlines", headers=auth_headers(db, admin)).status_code == 403
    assert client.get("/api/v1/deadlines").status_code == 401


def test_the_openapi_document_lists_the_deadline_kinds_as_an_enum(client: TestClient) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    kind = schema["components"]["schemas"]["DeadlineKind"]
    assert "contact_decision" in kind["enum"]
    assert "assessment_authorised" in kind["enum"]
    assert schema["components"]["schemas"]["DeadlineRead"]["properties"]["kind"] == {
        "$ref": "#/components/schemas/DeadlineKind"
    }
