"""Stories of children who go missing or away, their return and the return home interview
(timescales rule 30; SSDA903 Missing, validator rules 567, 574, 581, 586)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.care.schemas import PlacementIn
from app.config import get_settings
from app.deadlines.service import deadline_status
from app.missing import service as missing_service
from app.models import AccessLog, CaseEvent, Deadline, DeadlineKind, DeadlineStatus
from app.models.missing import MissingEpisode
from tests.care.factories import (
    CareCast,
    bring_into_care,
    foster_placement,
    make_care_cast,
    referred_case,
)
from tests.factories import auth_headers


def _utc(y: int, m: int, d: int, h: int, minute: int = 0) -> datetime:
    return datetime(y, m, d, h, minute, tzinfo=UTC)


def _foster() -> PlacementIn:
    return foster_placement(ofsted_urn="SC123456")


def _post(
    client: TestClient, db: Session, cast: CareCast, at: datetime, **body: object
) -> dict[str, Any]:
    with clock.frozen_at(at):
        response = client.post(
            f"/api/v1/children/{cast.child.id}/missing-episodes",
            json=body,
            headers=auth_headers(db, cast.social_worker),
        )
    result: dict[str, Any] = {"status": response.status_code, **response.json()}
    if response.status_code < 300:
        result["etag"] = response.headers["ETag"]
    return result


def _act(
    client: TestClient,
    db: Session,
    cast: CareCast,
    at: datetime,
    method: str,
    path: str,
    etag: str | None,
    body: dict[str, object],
) -> dict[str, Any]:
    headers = auth_headers(db, cast.social_worker)
    if etag is not None:
        headers["If-Match"] = etag
    with clock.frozen_at(at):
        response = client.request(method, f"/api/v1{path}", json=body, headers=headers)
    result: dict[str, Any] = {"status": response.status_code, **response.json()}
    if "ETag" in response.headers:
        result["etag"] = response.headers["ETag"]
    return result


def _interview_deadline(db: Session, episode_id: str) -> Deadline | None:
    return db.scalar(
        select(Deadline).where(
            Deadline.subject_id == uuid.UUID(episode_id),
            Deadline.kind == DeadlineKind.return_interview,
        )
    )


def _events(db: Session, action: str) -> int:
    return db.scalar(select(func.count()).where(CaseEvent.action == action)) or 0


def test_a_looked_after_child_goes_missing_returns_and_is_offered_an_interview_in_72_hours(
    client: TestClient, db: Session
) -> None:
    """Rule 30 counts hours, not working days: a return on the Thursday before Easter is due an
    offer by Sunday at the same time. The SSDA903 dates are the days in England (a return at
    23:30 UTC on 1 April is MIS_END 2 April, BST)."""
    assert get_settings().return_interview_hours == 72
    cast = make_care_cast(db)
    period = bring_into_care(db, cast, on=date(2026, 3, 2), placement=_foster())
    went = _post(
        client, db, cast, _utc(2026, 3, 31, 21), kind="M", started_at="2026-03-31T20:00:00Z"
    )
    assert went["status"] == 201, went
    assert (went["while_looked_after"], went["period_id"]) == (True, str(period.id))
    assert (went["start_date"], went["end_date"], went["interview_due_at"]) == (
        "2026-03-31",
        None,
        None,
    )
    url = f"/missing-episodes/{went['id']}"
    back = _act(
        client,
        db,
        cast,
        _utc(2026, 4, 2, 8),
        "POST",
        f"{url}/return",
        str(went["etag"]),
        {"ended_at": "2026-04-01T23:30:00Z", "notes": "Found by police at a friend's house"},
    )
    assert back["status"] == 200, back
    assert back["end_date"] == "2026-04-02"
    assert back["interview_due_at"] == "2026-04-04T23:30:00Z"
    deadline = _interview_deadline(db, str(went["id"]))
    assert deadline is not None
    assert (deadline.start_date, deadline.due_date, deadline.rule_id) == (
        date(2026, 4, 2),
        date(2026, 4, 5),
        "TS30",
    )
    offered = _act(
        client,
        db,
        cast,
        _utc(2026, 4, 3, 10),
        "PUT",
        f"{url}/return-interview",
        str(back["etag"]),
        {"offered_at": "2026-04-03T09:00:00Z", "response": "accepted"},
    )
    assert offered["status"] == 200, offered
    assert offered["interview_offered_in_time"] is True
    held = _act(
        client,
        db,
        cast,
        _utc(2026, 4, 7, 16),
        "PUT",
        f"{url}/return-interview",
        str(offered["etag"]),
        {"response": "accepted", "held_on": "2026-04-07", "held_by": "Return interview worker"},
    )
    assert held["status"] == 200, held
    assert (held["interview_held_on"], held["interview_offered_at"]) == (
        "2026-04-07",
        "2026-04-03T09:00:00Z",
    )
    db.refresh(deadline)
    assert deadline_status(deadline, date(2026, 4, 7)) is DeadlineStatus.met
    assert [
        _events(db, a)
        for a in (
            "missing_episode_recorded",
            "missing_episode_returned",
            "return_interview_recorded",
        )
    ] == [1, 1, 2]
    listed = _act(
        client,
        db,
        cast,
        _utc(2026, 4, 8, 9),
        "GET",
        f"/children/{cast.child.id}/missing-episodes",
        None,
        {},
    )
    assert [e["id"] for e in listed["items"]] == [went["id"]]
    assert (
        db.scalar(
            select(func.count()).where(
                AccessLog.person_id == cast.child.id, AccessLog.resource == "missing_episodes"
            )
        )
        == 1
    )


def test_an_offer_after_72_hours_misses_the_timescale(client: TestClient, db: Session) -> None:
    cast = make_care_cast(db)
    bring_into_care(db, cast, on=date(2026, 3, 2), placement=_foster())
    went = _post(
        client,
        db,
        cast,
        _utc(2026, 3, 20, 12),
        kind="A",
        started_at="2026-03-19T18:00:00Z",
        ended_at="2026-03-20T10:00:00Z",
    )
    assert went["status"] == 201, went
    offered = _act(
        client,
        db,
        cast,
        _utc(2026, 3, 25, 12),
        "PUT",
        f"/missing-episodes/{went['id']}/return-interview",
        str(went["etag"]),
        {"offered_at": "2026-03-24T09:00:00Z", "response": "declined"},
    )
    assert offered["status"] == 200, offered
    assert offered["interview_offered_in_time"] is False
    deadline = _interview_deadline(db, str(went["id"]))
    assert deadline is not None
    assert deadline_status(deadline, date(2026, 3, 25)) is DeadlineStatus.missed


def test_a_child_missing_from_home_is_recorded_but_not_as_looked_after(
    client: TestClient, db: Session
) -> None:
    """Our choice: episodes are recorded for any child with an open case (the guidance covers
    children missing from home); only looked-after ones are flagged for the SSDA903 (rule 581).
    "Away from placement" needs a placement."""
    cast = make_care_cast(db)
    referred_case(db, cast, opened=date(2026, 3, 2))
    away = _post(
        client, db, cast, _utc(2026, 3, 5, 12), kind="A", started_at="2026-03-04T20:00:00Z"
    )
    assert away["status"] == 422
    assert away["errors"][0]["rule"] == "SSDA903 581"
    went = _post(
        client, db, cast, _utc(2026, 3, 5, 12), kind="M", started_at="2026-03-04T20:00:00Z"
    )
    assert went["status"] == 201, went
    assert (went["while_looked_after"], went["period_id"]) == (False, None)
    episodes = missing_service.missing_episodes_for_child(db, cast.child.id)
    assert [e.while_looked_after for e in episodes] == [False]


def test_a_child_without_an_open_case_cannot_have_an_episode_recorded(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    went = _post(
        client, db, cast, _utc(2026, 3, 5, 12), kind="M", started_at="2026-03-04T20:00:00Z"
    )
    assert (went["status"], went["code"]) == (409, "no_open_case")


def test_episodes_never_overlap_but_may_follow_one_another(client: TestClient, db: Session) -> None:
    """SSDA903 rule 574: no new episode while one is open, and none overlapping another; one
    starting the moment the last ended is fine."""
    cast = make_care_cast(db)
    bring_into_care(db, cast, on=date(2026, 3, 2), placement=_foster())
    now = _utc(2026, 3, 20, 12)
    first = _post(
        client,
        db,
        cast,
        now,
        kind="M",
        started_at="2026-03-10T18:00:00Z",
        ended_at="2026-03-11T09:00:00Z",
    )
    assert first["status"] == 201
    inside = _post(
        client,
        db,
        cast,
        now,
        kind="A",
        started_at="2026-03-11T08:00:00Z",
        ended_at="2026-03-11T20:00:00Z",
    )
    assert (inside["status"], inside["code"], inside["rule"]) == (
        409,
        "missing_episode_overlaps",
        "SSDA903 574",
    )
    around = _post(client, db, cast, now, kind="M", started_at="2026-03-10T12:00:00Z")
    assert around["status"] == 409  # open from before the first: it would overlap it
    follows = _post(client, db, cast, now, kind="A", started_at="2026-03-11T09:00:00Z")
    assert follows["status"] == 201, follows
    again = _post(client, db, cast, now, kind="M", started_at="2026-03-19T22:00:00Z")
    assert (again["status"], again["code"], again["episode_id"]) == (
        409,
        "already_missing",
        follows["id"],
    )
    assert db.scalar(select(func.count()).select_from(MissingEpisode)) == 2


def test_bad_dates_are_refused_naming_the_rule_and_nothing_is_written(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    bring_into_care(db, cast, on=date(2026, 3, 2), placement=_foster())
    now = _utc(2026, 3, 20, 12)
    cases = [
        (
            {"started_at": "2026-03-12T10:00:00Z", "ended_at": "2026-03-12T09:00:00Z"},
            "ended_at",
            "SSDA903 567",
        ),
        ({"started_at": "2026-03-21T10:00:00Z"}, "started_at", None),  # future
        ({"started_at": "2026-03-12T10:00:00"}, "started_at", None),  # no time zone
    ]
    for body, field, rule in cases:
        refused = _post(client, db, cast, now, kind="M", **body)
        assert refused["status"] == 422, refused
        error = refused["errors"][0]
        assert error["field"] == field
        if rule is not None:
            assert error["rule"] == rule
    # The return, likewise: an end before the start changes nothing (no event, no clock).
    went = _post(client, db, cast, now, kind="M", started_at="2026-03-12T10:00:00Z")
    early = _act(
        client,
        db,
        cast,
        now,
        "POST",
        f"/missing-episodes/{went['id']}/return",
        str(went["etag"]),
        {"ended_at": "2026-03-12T09:00:00Z"},
    )
    assert (early["status"], early["errors"][0]["rule"]) == (422, "SSDA903 567")
    episode = db.get(MissingEpisode, uuid.UUID(str(went["id"])))
    assert episode is not None
    db.refresh(episode)
    assert (episode.ended_at, episode.version) == (None, 1)
    assert _interview_deadline(db, str(went["id"])) is None
    assert _events(db, "missing_episode_returned") == 0
    assert db.scalar(select(func.count()).select_from(MissingEpisode)) == 1


def test_no_episode_before_birth_or_after_death(client: TestClient, db: Session) -> None:
    cast = make_care_cast(db)
    referred_case(db, cast, opened=date(2026, 3, 2))
    at_birth = _post(
        client, db, cast, _utc(2026, 3, 5, 12), kind="M", started_at="2015-05-01T10:00:00Z"
    )
    assert (at_birth["status"], at_birth["errors"][0]["rule"]) == (422, "SSDA903 586")
    cast.child.date_of_death = date(2026, 3, 3)
    db.flush()
    after = _post(
        client, db, cast, _utc(2026, 3, 5, 12), kind="M", started_at="2026-03-04T10:00:00Z"
    )
    assert (after["status"], after["errors"][0]["rule"]) == (
        422,
        "no activity after PersonDeathDate",
    )


def test_a_stale_if_match_is_refused_and_the_interview_follows_the_return(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    bring_into_care(db, cast, on=date(2026, 3, 2), placement=_foster())
    now = _utc(2026, 3, 20, 12)
    went = _post(client, db, cast, now, kind="M", started_at="2026-03-12T10:00:00Z")
    url = f"/missing-episodes/{went['id']}"
    too_soon = _act(
        client,
        db,
        cast,
        now,
        "PUT",
        f"{url}/return-interview",
        str(went["etag"]),
        {"offered_at": "2026-03-13T10:00:00Z"},
    )
    assert (too_soon["status"], too_soon["code"]) == (409, "child_still_missing")
    no_header = _act(
        client, db, cast, now, "POST", f"{url}/return", None, {"ended_at": "2026-03-13T10:00:00Z"}
    )
    assert no_header["status"] == 428
    back = _act(
        client,
        db,
        cast,
        now,
        "POST",
        f"{url}/return",
        str(went["etag"]),
        {"ended_at": "2026-03-13T10:00:00Z"},
    )
    assert back["status"] == 200
    stale = _act(
        client,
        db,
        cast,
        now,
        "PUT",
        f"{url}/return-interview",
        str(went["etag"]),
        {"offered_at": "2026-03-14T10:00:00Z"},
    )
    assert stale["status"] == 412
    twice = _act(
        client,
        db,
        cast,
        now,
        "POST",
        f"{url}/return",
        str(back["etag"]),
        {"ended_at": "2026-03-13T11:00:00Z"},
    )
    assert (twice["status"], twice["code"]) == (409, "missing_episode_ended")
    before_return = _act(
        client,
        db,
        cast,
        now,
        "PUT",
        f"{url}/return-interview",
        str(back["etag"]),
        {"offered_at": "2026-03-13T09:00:00Z"},
    )
    assert (before_return["status"], before_return["errors"][0]["rule"]) == (
        422,
        "timescales rule 30",
    )
    held_unaccepted = _act(
        client,
        db,
        cast,
        now,
        "PUT",
        f"{url}/return-interview",
        str(back["etag"]),
        {
            "offered_at": "2026-03-14T09:00:00Z",
            "response": "declined",
            "held_on": "2026-03-15",
            "held_by": "A worker",
        },
    )
    assert (held_unaccepted["status"], held_unaccepted["errors"][0]["field"]) == (422, "held_on")
    offered = _act(
        client,
        db,
        cast,
        now,
        "PUT",
        f"{url}/return-interview",
        str(back["etag"]),
        {"offered_at": "2026-03-14T09:00:00Z"},
    )
    assert offered["status"] == 200
    moved = _act(
        client,
        db,
        cast,
        now,
        "PUT",
        f"{url}/return-interview",
        str(offered["etag"]),
        {"offered_at": "2026-03-14T08:00:00Z"},
    )
    assert (moved["status"], moved["code"]) == (409, "interview_offer_recorded")


def test_another_team_may_not_record_and_a_restricted_child_is_not_found(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    bring_into_care(db, cast, on=date(2026, 3, 2), placement=_foster())
    now = _utc(2026, 3, 20, 12)
    went = _post(client, db, cast, now, kind="M", started_at="2026-03-12T10:00:00Z")
    other_headers = auth_headers(db, cast.other_social_worker)
    with clock.frozen_at(now):
        other_new = client.post(
            f"/api/v1/children/{cast.child.id}/missing-episodes",
            json={"kind": "M", "started_at": "2026-03-01T10:00:00Z"},
            headers=other_headers,
        )
        other_return = client.post(
            f"/api/v1/missing-episodes/{went['id']}/return",
            json={"ended_at": "2026-03-13T10:00:00Z"},
            headers={**other_headers, "If-Match": str(went["etag"])},
        )
        other_read = client.get(f"/api/v1/missing-episodes/{went['id']}", headers=other_headers)
    assert (other_new.status_code, other_return.status_code, other_read.status_code) == (
        403,
        403,
        200,
    )
    cast.child.is_restricted = True
    db.flush()
    headers = auth_headers(db, cast.social_worker)
    with clock.frozen_at(now):
        hidden = [
            client.get(f"/api/v1/missing-episodes/{went['id']}", headers=headers).status_code,
            client.get(
                f"/api/v1/children/{cast.child.id}/missing-episodes", headers=headers
            ).status_code,
            client.post(
                f"/api/v1/missing-episodes/{went['id']}/return",
                json={"ended_at": "2026-03-13T10:00:00Z"},
                headers={**headers, "If-Match": str(went["etag"])},
            ).status_code,
        ]
    assert hidden == [404, 404, 404]
    assert _events(db, "missing_episode_returned") == 0


def test_an_episode_at_midnight_in_summer_takes_the_english_date() -> None:
    assert missing_service.local_date(_utc(2026, 6, 9, 23, 30)) == date(2026, 6, 10)
    assert missing_service.local_date(_utc(2026, 12, 9, 23, 30)) == date(2026, 12, 9)


def test_the_interview_deadline_is_overdue_from_its_instant(db: Session) -> None:
    """A deadline with ``due_at``: overdue once the 72 hours have passed, even on its due day."""
    deadline = Deadline(
        kind=DeadlineKind.return_interview,
        rule_id="TS30",
        source="",
        subject_type="missing_episode",
        subject_id=uuid.uuid4(),
        start_date=date(2026, 3, 20),
        due_date=date(2026, 3, 23),
        due_at=_utc(2026, 3, 23, 10),
    )
    assert (
        deadline_status(deadline, date(2026, 3, 23), now=_utc(2026, 3, 23, 9)) is DeadlineStatus.due
    )
    assert (
        deadline_status(deadline, date(2026, 3, 23), now=_utc(2026, 3, 23, 11))
        is DeadlineStatus.overdue
    )
