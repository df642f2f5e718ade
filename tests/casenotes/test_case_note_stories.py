"""Stories of case notes: a home visit written over three autosaves that survives a timeout, a
finished note that never changes, corrections, private drafts, and what cannot be recorded."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.calendar import LONDON
from app.cases.workflow import CLOSED
from app.models import AccessLog, Case, CaseEvent
from tests.cases.factories import Cast, grant, move_to, open_case
from tests.factories import auth_headers, make_child, make_user


def at(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


OPENED = at(2026, 3, 2, 9, 30)  # a Monday
VISIT_DAY = at(2026, 3, 5, 10, 0)


def _visit(**changes: Any) -> dict[str, Any]:
    return {
        "kind": "home_visit",
        "occurred_at": at(2026, 3, 5, 9, 0).isoformat(),
        "title": "Home visit to Ava and her mother",
        "body": "",
        "child_seen": True,
        "seen_alone": True,
        "bedroom_seen": True,
        **changes,
    }


def _case(db: Session, cast: Cast) -> Case:
    with clock.frozen_at(OPENED):
        return open_case(
            db, by=cast.manager, child=cast.child, team=cast.team, worker=cast.social_worker
        )


def _create(client: TestClient, case: Case, headers: dict[str, str], **body: Any) -> Any:
    return client.post(f"/api/v1/cases/{case.id}/case-notes", json=_visit(**body), headers=headers)


def _save(
    client: TestClient, note_id: str, headers: dict[str, str], version: int, **body: Any
) -> Any:
    return client.put(
        f"/api/v1/case-notes/{note_id}/draft",
        json=_visit(**body),
        headers={**headers, "If-Match": f'"{version}"'},
    )


def _finalise(client: TestClient, note_id: str, headers: dict[str, str], version: int) -> Any:
    return client.post(
        f"/api/v1/case-notes/{note_id}/finalise", headers={**headers, "If-Match": f'"{version}"'}
    )


def test_a_home_visit_written_over_three_autosaves_survives_a_timeout_and_is_finished(
    client: TestClient, db: Session, cast: Cast
) -> None:
    case = _case(db, cast)
    with clock.frozen_at(VISIT_DAY):
        morning = auth_headers(db, cast.social_worker)
        created = _create(client, case, morning, body="Arrived at 9.")
        assert created.status_code == 201, created.json()
        note = created.json()
        assert (note["state"], note["version"], created.headers["ETag"]) == ("draft", 1, '"1"')
        assert created.headers["Location"] == f"/api/v1/case-notes/{note['id']}"

        text = "Arrived at 9."
        for version, more in enumerate(
            (" Ava showed me her room.", " Mum said the heating is fixed.", " Left at 10."),
            start=1,
        ):
            text += more
            saved = _save(client, note["id"], morning, version, body=text)
            assert saved.status_code == 200, saved.json()
            assert saved.headers["ETag"] == f'"{version + 1}"'

    # The session timed out over lunch; signing in again, the draft is waiting.
    with clock.frozen_at(at(2026, 3, 5, 14, 0)):
        afternoon = auth_headers(db, cast.social_worker)
        drafts = client.get("/api/v1/me/drafts", headers=afternoon)
        assert drafts.status_code == 200
        assert [(d["id"], d["version"], d["title"]) for d in drafts.json()] == [
            (note["id"], 4, "Home visit to Ava and her mother")
        ]
        got = client.get(f"/api/v1/case-notes/{note['id']}", headers=afternoon)
        assert got.json()["body"] == text
        assert got.headers["ETag"] == '"4"'

        finished = _finalise(client, note["id"], afternoon, 4)
        assert finished.status_code == 200, finished.json()
        assert finished.json()["state"] == "final"
        assert finished.json()["finalised_at"] is not None
        assert finished.headers["ETag"] == '"5"'

    recorded = db.scalars(
        select(CaseEvent).where(
            CaseEvent.case_id == case.id, CaseEvent.action == "case_note_recorded"
        )
    ).one()
    assert (recorded.subject_type, str(recorded.subject_id)) == ("case_note", note["id"])
    assert recorded.changes["kind"] == "home_visit"
    assert recorded.changes["occurred_at"].startswith("2026-03-05T09:00")
    assert (recorded.from_state, recorded.to_state) == ("draft", "final")
    assert client.get("/api/v1/me/drafts", headers=afternoon).json() == []
    listed = client.get(
        f"/api/v1/cases/{case.id}/case-notes", headers=auth_headers(db, cast.manager)
    )
    assert [n["id"] for n in listed.json()] == [note["id"]]


def test_a_finished_note_cannot_be_changed_only_corrected(
    client: TestClient, db: Session, cast: Cast
) -> None:
    case = _case(db, cast)
    headers = auth_headers(db, cast.social_worker)
    with clock.frozen_at(VISIT_DAY):
        original = _create(client, case, headers, body="Bedroom was tidy.", finalise=True).json()
        assert (original["state"], original["version"]) == ("final", 2)

        edited = _save(client, original["id"], headers, 2, body="Bedroom was untidy.")
        assert edited.status_code == 409
        assert edited.json()["detail"] == "A finished note cannot be changed; add a correction."
        again = _finalise(client, original["id"], headers, 2)
        assert again.status_code == 409

        corrected = client.post(
            f"/api/v1/case-notes/{original['id']}/corrections",
            json={"title": "Correction: bedroom", "body": "The bedroom was Ava's brother's."},
            headers=headers,
        )
        assert corrected.status_code == 201, corrected.json()
        correction = corrected.json()
        assert correction["corrects_note_id"] == original["id"]
        assert correction["kind"] == "home_visit"
        assert correction["occurred_at"] == original["occurred_at"]
        assert correction["state"] == "draft"
        assert _finalise(client, correction["id"], headers, 1).status_code == 200

    unchanged = client.get(f"/api/v1/case-notes/{original['id']}", headers=headers).json()
    assert (unchanged["body"], unchanged["version"]) == ("Bedroom was tidy.", 2)
    # A draft is changed, not corrected.
    with clock.frozen_at(VISIT_DAY):
        draft = _create(client, case, headers).json()
        refused = client.post(
            f"/api/v1/case-notes/{draft['id']}/corrections", json={"title": "x"}, headers=headers
        )
    assert refused.status_code == 409


def test_nobody_but_the_author_sees_a_draft(client: TestClient, db: Session, cast: Cast) -> None:
    case = _case(db, cast)
    with clock.frozen_at(VISIT_DAY):
        draft = _create(client, case, auth_headers(db, cast.social_worker)).json()
        for someone in (cast.manager, cast.service_manager, cast.other_social_worker):
            headers = auth_headers(db, someone)
            assert (
                client.get(f"/api/v1/case-notes/{draft['id']}", headers=headers).status_code == 404
            )
            assert _save(client, draft["id"], headers, 1, body="mine now").status_code == 404
            assert _finalise(client, draft["id"], headers, 1).status_code == 404
            assert client.get("/api/v1/me/drafts", headers=headers).json() == []
            listed = client.get(f"/api/v1/cases/{case.id}/case-notes", headers=headers)
            assert listed.status_code == 200
            assert listed.json() == []


def test_a_stale_autosave_is_refused_with_the_current_draft_and_nothing_is_lost(
    client: TestClient, db: Session, cast: Cast
) -> None:
    """Two tabs open on one draft: the second's save is not allowed to overwrite the first's."""
    case = _case(db, cast)
    headers = auth_headers(db, cast.social_worker)
    with clock.frozen_at(VISIT_DAY):
        draft = _create(client, case, headers, body="Start.").json()
        first_tab = _save(client, draft["id"], headers, 1, body="Start. Written in tab one.")
        assert first_tab.status_code == 200
        second_tab = _save(client, draft["id"], headers, 1, body="Start. Tab two.")
    assert second_tab.status_code == 412
    problem = second_tab.json()
    assert problem["code"] == "stale_version"
    assert problem["current_version"] == 2
    assert problem["current"]["body"] == "Start. Written in tab one."
    assert problem["current"]["version"] == 2
    got = client.get(f"/api/v1/case-notes/{draft['id']}", headers=headers).json()
    assert (got["body"], got["version"]) == ("Start. Written in tab one.", 2)


def test_without_if_match_an_autosave_is_refused(
    client: TestClient, db: Session, cast: Cast
) -> None:
    case = _case(db, cast)
    headers = auth_headers(db, cast.social_worker)
    with clock.frozen_at(VISIT_DAY):
        draft = _create(client, case, headers).json()
        response = client.put(
            f"/api/v1/case-notes/{draft['id']}/draft", json=_visit(), headers=headers
        )
    assert response.status_code == 428


def test_nothing_is_recorded_on_a_closed_case(client: TestClient, db: Session, cast: Cast) -> None:
    """CIN census rule 8565: nothing happens after closure, not even a draft finished late."""
    case = _case(db, cast)
    headers = auth_headers(db, cast.social_worker)
    with clock.frozen_at(VISIT_DAY):
        draft = _create(client, case, headers).json()
        final = _create(client, case, headers, finalise=True).json()
        move_to(db, case, CLOSED, by=cast.manager)
        events = db.scalar(select(func.count()).where(CaseEvent.case_id == case.id))

        refused = [
            _create(client, case, headers),
            _save(client, draft["id"], headers, 1, body="late"),
            _finalise(client, draft["id"], headers, 1),
            client.post(
                f"/api/v1/case-notes/{final['id']}/corrections",
                json={"title": "Late correction"},
                headers=headers,
            ),
        ]
    for response in refused:
        assert response.status_code == 409, response.json()
        assert response.json()["code"] == "case_closed"
        assert "8565" in response.json()["detail"]
    db.expire_all()
    assert db.scalar(select(func.count()).where(CaseEvent.case_id == case.id)) == events


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"occurred_at": at(2026, 3, 6, 9).isoformat()}, "occurred_at"),  # tomorrow
        ({"occurred_at": at(2026, 2, 27, 9).isoformat()}, "occurred_at"),  # before the case
        ({"kind": "phone"}, "child_seen"),
        ({"child_seen": False}, "seen_alone"),
        ({"title": "   "}, "title"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_note_that_breaks_a_rule_is_refused_naming_the_field(
    client: TestClient, db: Session, cast: Cast, body: dict[str, Any], field: str
) -> None:
    case = _case(db, cast)
    with clock.frozen_at(VISIT_DAY):
        response = _create(client, case, auth_headers(db, cast.social_worker), **body)
    assert response.status_code == 422, response.json()
    assert field in [e["field"] for e in response.json()["errors"]]


def test_nothing_is_dated_after_the_childs_death(
    client: TestClient, db: Session, cast: Cast
) -> None:
    case = _case(db, cast)
    cast.child.date_of_death = date(2026, 3, 4)
    db.flush()
    with clock.frozen_at(VISIT_DAY):
        response = _create(client, case, auth_headers(db, cast.social_worker))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "occurred_at"
    assert "death" in response.json()["detail"]


def test_a_visit_is_finished_only_when_it_says_whether_the_child_was_seen(
    client: TestClient, db: Session, cast: Cast
) -> None:
    case = _case(db, cast)
    headers = auth_headers(db, cast.social_worker)
    with clock.frozen_at(VISIT_DAY):
        draft = _create(
            client, case, headers, child_seen=None, seen_alone=None, bedroom_seen=None
        ).json()
        refused = _finalise(client, draft["id"], headers, 1)
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "child_seen"
        assert _save(client, draft["id"], headers, 1, child_seen=False, seen_alone=None,
                     bedroom_seen=None).status_code == 200  # fmt: skip
        assert _finalise(client, draft["id"], headers, 2).status_code == 200


def test_a_restricted_childs_case_takes_no_notes_from_those_not_named(
    client: TestClient, db: Session, cast: Cast
) -> None:
    child = make_child(db, first_name="Hidden", restricted=True)
    grant(db, child, cast.manager)
    with clock.frozen_at(OPENED):
        case = open_case(db, by=cast.manager, child=child, team=cast.team)
    with clock.frozen_at(VISIT_DAY):
        refused = _create(client, case, auth_headers(db, cast.social_worker))
        listed = client.get(
            f"/api/v1/cases/{case.id}/case-notes", headers=auth_headers(db, cast.social_worker)
        )
        named = _create(client, case, auth_headers(db, cast.manager))
    assert (refused.status_code, listed.status_code, named.status_code) == (404, 404, 201)


def test_another_teams_worker_reads_finished_notes_but_cannot_write_them(
    client: TestClient, db: Session, cast: Cast
) -> None:
    case = _case(db, cast)
    outsider = auth_headers(db, cast.other_social_worker)
    with clock.frozen_at(VISIT_DAY):
        _create(client, case, auth_headers(db, cast.social_worker), finalise=True)
        assert _create(client, case, outsider).status_code == 403
        listed = client.get(f"/api/v1/cases/{case.id}/case-notes", headers=outsider)
    assert len(listed.json()) == 1
    iro = make_user(db, cast.iro.role)
    assert _create(client, case, auth_headers(db, iro)).status_code == 403


def test_reading_a_cases_notes_is_access_logged(
    client: TestClient, db: Session, cast: Cast
) -> None:
    case = _case(db, cast)
    manager = auth_headers(db, cast.manager)
    before = db.scalar(select(func.count()).where(AccessLog.resource == "case_notes"))
    client.get(f"/api/v1/cases/{case.id}/case-notes", headers=manager)
    logged = db.scalars(select(AccessLog).where(AccessLog.resource == "case_notes")).all()
    assert len(logged) == (before or 0) + 1
    assert (logged[-1].person_id, logged[-1].case_id) == (cast.child.id, case.id)
