"""Stories of supervision: a team manager supervises a social worker, the decisions about her cases
go onto the case files, the notes stay between the two of them and their line, and the ways a
session can be refused (stale, self-supervised, in the future, about someone else's case, on a
closed case, about a child the manager may not see, recorded by someone outside the line)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.cases import service as case_service
from app.models import CaseEvent, Role
from app.models.audit import ChangeLog
from app.models.deadlines import Deadline, DeadlineKind
from app.models.security import RestrictedAccessGrant
from app.models.supervision import ManagementOversight, SupervisionSession
from tests.care.factories import CareCast, make_care_cast, noon, principal, referred_case
from tests.factories import make_child, make_user

REFERRAL = date(2026, 3, 2)
SESSION_DAY = date(2026, 3, 20)
NOTES = "Talked through the pressure of court work; J. feels stretched but supported."
WELLBEING = "Caseload 18; some sleep trouble; agreed a reflective session with the PSW."


@pytest.fixture
def cast(db: Session) -> CareCast:
    return make_care_cast(db)


def _body(cast: CareCast, **overrides: Any) -> dict[str, Any]:
    return {
        "worker_id": str(cast.social_worker.id),
        "held_on": SESSION_DAY.isoformat(),
        "notes": NOTES,
        "wellbeing": WELLBEING,
        **overrides,
    }


def _record(
    client: TestClient,
    db: Session,
    cast: CareCast,
    *,
    on: date = SESSION_DAY,
    by: Any = None,
    expect: int = 201,
    **body: Any,
) -> Any:
    with clock.frozen_at(noon(on)):
        made = client.post(
            "/api/v1/supervision",
            json=_body(cast, **body),
            headers=cast.headers(db, by or cast.manager),
        )
    assert made.status_code == expect, made.text
    return made


def _clocks(db: Session, subject_id: uuid.UUID, kind: DeadlineKind) -> list[tuple[Any, ...]]:
    return [
        (d.start_date, d.due_date, d.met_date, d.stopped_date)
        for d in db.scalars(
            select(Deadline)
            .where(Deadline.subject_id == subject_id, Deadline.kind == kind)
            .order_by(Deadline.start_date, Deadline.due_date)
        )
    ]


def _written(db: Session) -> tuple[int, int, int]:
    return (
        db.scalar(select(func.count()).select_from(SupervisionSession)) or 0,
        db.scalar(select(func.count()).select_from(ManagementOversight)) or 0,
        db.scalar(
            select(func.count())
            .select_from(CaseEvent)
            .where(CaseEvent.action == "management_oversight_recorded")
        )
        or 0,
    )


def test_a_session_is_recorded_and_its_decisions_go_onto_the_case_files(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    case = referred_case(db, cast, opened=REFERRAL)
    second = referred_case(db, cast, opened=REFERRAL, child=make_child(db, first_name="Ben"))
    # The referral starts the case's oversight clock (rule 37): 6 weeks.
    assert _clocks(db, case.id, DeadlineKind.management_oversight) == [
        (REFERRAL, date(2026, 4, 13), None, None)
    ]
    made = _record(
        client,
        db,
        cast,
        case_decisions=[
            {
                "case_id": str(case.id),
                "decision": "Hold the CIN plan; visit fortnightly.",
                "review_by": "2026-04-17",
            },
            {"case_id": str(second.id), "decision": "Complete the assessment by 10 April."},
        ],
    )
    assert made.headers["ETag"] == '"1"'
    session_json = made.json()
    assert session_json["notes"] == NOTES
    assert session_json["supervisor_id"] == str(cast.manager.id)
    assert [d["case_id"] for d in session_json["case_decisions"]] == [str(case.id), str(second.id)]
    # The worker's supervision clock starts from the session (monthly by default).
    assert _clocks(db, cast.social_worker.id, DeadlineKind.supervision) == [
        (SESSION_DAY, date(2026, 4, 20), None, None)
    ]
    # Each case's oversight clock is met and starts again from the session.
    assert _clocks(db, case.id, DeadlineKind.management_oversight) == [
        (REFERRAL, date(2026, 4, 13), SESSION_DAY, None),
        (SESSION_DAY, date(2026, 5, 1), None, None),
    ]
    with clock.frozen_at(noon(SESSION_DAY)):
        on_file = client.get(f"/api/v1/cases/{case.id}/oversight", headers=cast.headers(db))
        chronology = client.get(
            f"/api/v1/children/{case.child_id}/chronology",
            params={"type": ["management_oversight_recorded"]},
            headers=cast.headers(db),
        )
        read = client.get(made.headers["Location"], headers=cast.headers(db))
    assert on_file.status_code == 200, on_file.text
    assert [(e["decision"], e["supervision_id"]) for e in on_file.json()] == [
        ("Hold the CIN plan; visit fortnightly.", session_json["id"])
    ]
    assert [e["label"] for e in chronology.json()["items"]] == ["Management oversight recorded"]
    assert read.status_code == 200, read.text
    assert read.json()["worker_name"] == cast.social_worker.display_name
    # The change log says a session was recorded, never what was said in it.
    logged = db.scalars(
        select(ChangeLog).where(ChangeLog.entity_id == uuid.UUID(session_json["id"]))
    ).all()
    assert [entry.action for entry in logged] == ["supervision_recorded"]
    assert logged[0].changes["notes_recorded"] is True
    assert NOTES not in str(logged[0].changes)
    assert WELLBEING not in str(logged[0].changes)


def test_the_notes_are_private_to_the_pair_and_their_line(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    made = _record(client, db, cast)
    url = made.headers["Location"]
    other_manager = make_user(db, Role.team_manager, team=cast.other_team, manager=True)
    # Another manager of the worker's team (not the supervisor) is in her line too.
    deputy = make_user(db, Role.team_manager, team=cast.team, manager=True)
    with clock.frozen_at(noon(SESSION_DAY)):
        # cast.iro_manager is a service manager.
        for who in (cast.social_worker, cast.manager, deputy, cast.iro_manager):
            seen = client.get(url, headers=cast.headers(db, who))
            assert seen.status_code == 200, (who.role, seen.text)
            listed = client.get("/api/v1/supervision", headers=cast.headers(db, who))
            assert [s["id"] for s in listed.json()["items"]] == [made.json()["id"]]
            assert "notes" not in listed.json()["items"][0]
        for who in (cast.other_social_worker, other_manager, cast.iro):
            hidden = client.get(url, headers=cast.headers(db, who))
            assert hidden.status_code == 404, (who.role, hidden.text)
            assert NOTES not in hidden.text
            listed = client.get(
                "/api/v1/supervision",
                params={"worker_id": str(cast.social_worker.id)},
                headers=cast.headers(db, who),
            )
            assert listed.json()["items"] == []
        edit = client.patch(
            url,
            json={"notes": "Overwritten."},
            headers={**cast.headers(db, other_manager), "If-Match": '"1"'},
        )
    assert edit.status_code == 404, edit.text
    db.expire_all()
    session = db.get(SupervisionSession, uuid.UUID(made.json()["id"]))
    assert session is not None
    assert session.notes == NOTES


def test_the_supervisor_corrects_the_notes_and_a_stale_edit_is_refused(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    made = _record(client, db, cast)
    url = made.headers["Location"]
    headers = cast.headers(db, cast.manager)
    with clock.frozen_at(noon(SESSION_DAY)):
        edited = client.patch(
            url, json={"notes": "Corrected notes."}, headers={**headers, "If-Match": '"1"'}
        )
        stale = client.patch(
            url, json={"wellbeing": "Stale."}, headers={**headers, "If-Match": '"1"'}
        )
        by_worker = client.patch(
            url,
            json={"notes": "Mine now."},
            headers={**cast.headers(db, cast.social_worker), "If-Match": '"2"'},
        )
    assert edited.status_code == 200, edited.text
    assert (edited.json()["notes"], edited.json()["wellbeing"]) == ("Corrected notes.", WELLBEING)
    assert edited.headers["ETag"] == '"2"'
    assert stale.status_code == 412, stale.text
    assert by_worker.status_code == 403, by_worker.text  # the worker does not edit the record
    db.expire_all()
    session = db.get(SupervisionSession, uuid.UUID(made.json()["id"]))
    assert session is not None
    assert (session.notes, session.wellbeing, session.version) == (
        "Corrected notes.",
        WELLBEING,
        2,
    )
    edits = db.scalars(
        select(ChangeLog.changes).where(
            ChangeLog.entity_id == session.id, ChangeLog.action == "supervision_notes_edited"
        )
    ).all()
    assert edits == [{"fields_changed": ["notes"]}]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"held_on": "2026-03-21"}, "held_on"),  # the future
        ({"supervisor_id": "worker"}, "supervisor_id"),  # supervising herself
        ({"worker_id": "data_officer"}, "worker_id"),  # not a practitioner
        ({"worker_id": "left"}, "worker_id"),  # an account disabled when they left
        ({"unexpected": 1}, "unexpected"),
        ({"case_decisions": [{"case_id": "case", "decision": ""}]}, "case_decisions.0.decision"),
        (
            {"case_decisions": [{"case_id": "case", "decision": "x", "review_by": "2026-03-01"}]},
            "case_decisions.0.review_by",
        ),
        (
            {
                "case_decisions": [
                    {"case_id": "case", "decision": "x"},
                    {"case_id": "case", "decision": "y"},
                ]
            },
            "case_decisions.1.case_id",
        ),
        (
            {"case_decisions": [{"case_id": "other_case", "decision": "x"}]},
            "case_decisions.0.case_id",
        ),
    ],
)
def test_a_bad_session_is_refused_naming_the_field_and_nothing_is_written(
    client: TestClient, db: Session, cast: CareCast, body: dict[str, Any], field: str
) -> None:
    case = referred_case(db, cast, opened=REFERRAL)
    # A case of another team, allocated to another team's worker.
    with clock.frozen_at(noon(REFERRAL)):
        other_case = case_service.case_open(
            db,
            actor=principal(db, cast.iro_manager),
            child_id=make_child(db, first_name="Cal").id,
            team_id=cast.other_team.id,
            opened_date=REFERRAL,
            worker_id=cast.other_social_worker.id,
        )
    left = make_user(db, Role.social_worker, team=cast.team)
    left.is_active = False
    ids = {
        "worker": str(cast.social_worker.id),
        "data_officer": str(make_user(db, Role.data_officer, team=cast.team).id),
        "left": str(left.id),
        "case": str(case.id),
        "other_case": str(other_case.id),
    }

    def resolve(value: Any) -> Any:
        if isinstance(value, str):
            return ids.get(value, value)
        if isinstance(value, list):
            return [resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        return value

    before = _written(db)
    refused = _record(client, db, cast, expect=422, **resolve(body))
    assert field in [e["field"] for e in refused.json()["errors"]], refused.text
    assert _written(db) == before
    assert _clocks(db, cast.social_worker.id, DeadlineKind.supervision) == []


def test_a_decision_on_a_closed_case_is_a_conflict(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    case = referred_case(db, cast, opened=REFERRAL)
    with clock.frozen_at(noon(date(2026, 3, 9))):
        case_service.case_transition(
            db,
            actor=principal(db, cast.manager),
            case_id=case.id,
            event="referral_nfa",
            expected_version=case.version,
            reason="The referral shows no need for social care services.",
        )
        db.flush()
    before = _written(db)
    refused = _record(
        client,
        db,
        cast,
        expect=409,
        case_decisions=[{"case_id": str(case.id), "decision": "Keep open."}],
    )
    assert "8565" in refused.json()["detail"]
    with clock.frozen_at(noon(SESSION_DAY)):
        alone = client.post(
            f"/api/v1/cases/{case.id}/oversight",
            json={"decision": "Reopen?"},
            headers=cast.headers(db, cast.manager),
        )
    assert alone.status_code == 409, alone.text
    assert "8565" in alone.json()["detail"]
    assert _written(db) == before


def test_a_decision_about_a_child_the_manager_may_not_see_is_404(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    case = referred_case(db, cast, opened=REFERRAL)
    cast.child.is_restricted = True
    db.add(
        RestrictedAccessGrant(
            person_id=cast.child.id, user_id=cast.social_worker.id, granted_by_id=cast.manager.id
        )
    )
    db.flush()
    before = _written(db)
    for case_id in (case.id, uuid.uuid4()):
        _record(
            client,
            db,
            cast,
            expect=404,
            case_decisions=[{"case_id": str(case_id), "decision": "Hold."}],
        )
    assert _written(db) == before


def test_only_the_workers_line_records_their_supervision(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    other_manager = make_user(db, Role.team_manager, team=cast.other_team, manager=True)
    before = _written(db)
    # Naming oneself supervisor is not enough: otherwise any manager could read anyone's notes.
    _record(client, db, cast, by=other_manager, expect=403)
    # A social worker does not record supervision at all (the permission is for managers).
    _record(client, db, cast, by=cast.other_social_worker, expect=403)
    assert _written(db) == before
    # A service manager may, and the supervisor may be someone else the manager records for.
    made = _record(client, db, cast, by=cast.iro_manager, supervisor_id=str(cast.manager.id))
    assert made.json()["supervisor_id"] == str(cast.manager.id)
    assert made.json()["recorded_by_id"] == str(cast.iro_manager.id)


def test_a_late_recorded_earlier_session_does_not_move_the_clock_back(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    _record(client, db, cast)
    _record(client, db, cast, on=date(2026, 3, 25), held_on="2026-02-20")
    assert _clocks(db, cast.social_worker.id, DeadlineKind.supervision) == [
        (SESSION_DAY, date(2026, 4, 20), None, None)
    ]


def test_the_supervision_list_filters_by_worker_team_and_dates(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    colleague = make_user(db, Role.social_worker, team=cast.team)
    first = _record(client, db, cast, held_on="2026-02-10", on=date(2026, 2, 10))
    second = _record(client, db, cast, held_on="2026-03-10", on=date(2026, 3, 10))
    theirs = _record(client, db, cast, worker_id=str(colleague.id))
    headers = cast.headers(db, cast.manager)
    with clock.frozen_at(noon(SESSION_DAY)):

        def ids(**params: Any) -> list[str]:
            got = client.get("/api/v1/supervision", params=params, headers=headers)
            assert got.status_code == 200, got.text
            return [s["id"] for s in got.json()["items"]]

        assert ids() == [theirs.json()["id"], second.json()["id"], first.json()["id"]]
        assert ids(worker_id=str(colleague.id)) == [theirs.json()["id"]]
        assert ids(held_from="2026-03-01", held_to="2026-03-15") == [second.json()["id"]]
        assert len(ids(team_id=str(cast.team.id))) == 3
        assert ids(team_id=str(cast.other_team.id)) == []
        assert ids(supervisor_id=str(cast.iro.id)) == []
        page = client.get("/api/v1/supervision", params={"limit": 2}, headers=headers).json()
        rest = client.get(
            "/api/v1/supervision", params={"cursor": page["next_cursor"]}, headers=headers
        ).json()
        backwards = client.get(
            "/api/v1/supervision",
            params={"held_from": "2026-03-15", "held_to": "2026-03-01"},
            headers=headers,
        )
    assert [s["id"] for s in rest["items"]] == [first.json()["id"]]
    assert backwards.status_code == 422
    assert backwards.json()["errors"][0]["field"] == "held_from"


def test_unknown_session_is_404(client: TestClient, db: Session, cast: CareCast) -> None:
    got = client.get(f"/api/v1/supervision/{uuid.uuid4()}", headers=cast.headers(db))
    assert got.status_code == 404
