"""Stories of a child's chronology: two episodes years apart read as one story, filtered, paged,
printed, and hidden from anyone not named on a restricted record."""

from __future__ import annotations

from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.calendar import LONDON
from app.casenotes import service as note_service
from app.models import AccessLog, Case
from app.models.casenotes import CaseNoteKind
from tests.cases.factories import Cast, grant, open_case, principal, take
from tests.factories import auth_headers, make_child


def at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=LONDON)


@pytest.fixture
def two_episodes(db: Session, cast: Cast) -> tuple[Case, Case]:
    """Ava's first episode (2025: assessed, closed) and her current one (2026: a CP plan)."""
    with clock.frozen_at(at(2025, 6, 2)):
        old = open_case(db, by=cast.manager, child=cast.child, team=cast.team)
        take(db, old, "accept_referral", by=cast.manager)
    with clock.frozen_at(at(2025, 6, 3)):
        take(db, old, "start_assessment", by=cast.manager)
    with clock.frozen_at(at(2025, 7, 15)):
        take(db, old, "close", by=cast.manager, data={"closure_reason": "RC8"},
             reason="Needs met by universal services.")  # fmt: skip
    with clock.frozen_at(at(2026, 2, 2)):
        new = open_case(db, by=cast.manager, child=cast.child, team=cast.team, rag="red")
        take(db, new, "accept_referral", by=cast.manager)
    with clock.frozen_at(at(2026, 2, 3)):
        take(db, new, "start_strategy", by=cast.manager)
    with clock.frozen_at(at(2026, 2, 4)):
        # A draft started (not in the story) and a visit recorded (in it).
        note_service.note_create(
            db,
            actor=principal(db, cast.social_worker),
            case_id=new.id,
            content=note_service.NoteContent(
                kind=CaseNoteKind.phone, occurred_at=at(2026, 2, 4, 9), title="Call to school"
            ),
        )
        note_service.note_create(
            db,
            actor=principal(db, cast.social_worker),
            case_id=new.id,
            content=note_service.NoteContent(
                kind=CaseNoteKind.home_visit,
                occurred_at=at(2026, 2, 4, 9),
                title="Visit after the strategy discussion",
                child_seen=True,
                seen_alone=True,
            ),
            finalise=True,
        )
    with clock.frozen_at(at(2026, 2, 17)):
        take(db, new, "start_cp_plan", by=cast.manager)
    return old, new


OLD_STORY = [
    ("case_opened", "Contact received"),
    ("accept_referral", "Referral accepted"),
    ("start_assessment", "Child and family assessment started"),
    ("close", "Case closed"),
]
NEW_STORY = [
    ("case_opened", "Contact received"),
    ("accept_referral", "Referral accepted"),
    ("start_strategy", "Strategy discussion: section 47 enquiry considered"),
    ("case_note_recorded", "Case note recorded"),
    ("start_cp_plan", "Child protection plan started"),
]


def _url(cast: Cast) -> str:
    return f"/api/v1/children/{cast.child.id}/chronology"


def test_both_episodes_read_as_one_story_in_order(
    client: TestClient, db: Session, cast: Cast, two_episodes: tuple[Case, Case]
) -> None:
    old, new = two_episodes
    headers = auth_headers(db, cast.other_social_worker)
    before = db.scalar(select(func.count()).select_from(AccessLog))

    response = client.get(_url(cast), headers=headers)

    assert response.status_code == 200, response.json()
    items = response.json()["items"]
    assert [(i["action"], i["label"]) for i in items] == OLD_STORY + NEW_STORY
    assert [i["case_id"] for i in items] == [str(old.id)] * 4 + [str(new.id)] * 5
    assert items[3]["reason"] == "Needs met by universal services."
    assert items[3]["details"]["closure_reason"] == {"before": None, "after": "RC8"}
    assert items[-1]["to_state"] == "cp_plan"
    assert items[-1]["actor_name"] == cast.manager.display_name
    visit = items[7]
    assert (visit["subject_type"], visit["details"]["kind"]) == ("case_note", "home_visit")
    # One access_log row for the request.
    assert db.scalar(select(func.count()).select_from(AccessLog)) == (before or 0) + 1
    logged = db.scalars(select(AccessLog).order_by(AccessLog.occurred_at.desc())).first()
    assert logged is not None
    assert (logged.resource, logged.person_id) == ("child_chronology", cast.child.id)

    newest = client.get(_url(cast), params={"order": "desc"}, headers=headers).json()["items"]
    assert [i["action"] for i in newest] == [a for a, _ in reversed(OLD_STORY + NEW_STORY)]


def test_filtered_by_type_and_by_date(
    client: TestClient, db: Session, cast: Cast, two_episodes: tuple[Case, Case]
) -> None:
    headers = auth_headers(db, cast.manager)
    referrals = client.get(_url(cast), params={"type": "accept_referral"}, headers=headers)
    assert [i["occurred_at"][:10] for i in referrals.json()["items"]] == [
        "2025-06-02",
        "2026-02-02",
    ]
    two_types = client.get(
        _url(cast), params=[("type", "close"), ("type", "start_cp_plan")], headers=headers
    )
    assert [i["action"] for i in two_types.json()["items"]] == ["close", "start_cp_plan"]
    this_year = client.get(
        _url(cast), params={"from": "2026-02-03", "to": "2026-02-04"}, headers=headers
    )
    assert [i["action"] for i in this_year.json()["items"]] == [
        "start_strategy",
        "case_note_recorded",
    ]
    backwards = client.get(_url(cast), params={"from": "2026-02-04", "to": "2026-02-03"},
                           headers=headers)  # fmt: skip
    assert backwards.status_code == 422


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_paged_with_a_cursor_without_losing_or_repeating_an_event(
    client: TestClient, db: Session, cast: Cast, two_episodes: tuple[Case, Case], order: str
) -> None:
    headers = auth_headers(db, cast.manager)
    whole = client.get(_url(cast), params={"order": order}, headers=headers).json()["items"]
    seen: list[tuple[str, int]] = []
    cursor: str | None = None
    while True:
        params = {"order": order, "limit": "2", **({"cursor": cursor} if cursor else {})}
        page = client.get(_url(cast), params=params, headers=headers).json()
        seen += [(i["case_id"], i["seq"]) for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [(i["case_id"], i["seq"]) for i in whole]
    garbage = client.get(_url(cast), params={"cursor": "nonsense"}, headers=headers)
    assert garbage.status_code == 422


def test_the_printable_chronology_is_plain_text_one_line_per_event(
    client: TestClient, db: Session, cast: Cast, two_episodes: tuple[Case, Case]
) -> None:
    with clock.frozen_at(at(2026, 3, 2, 12)):
        response = client.get(
            _url(cast), params={"format": "text"}, headers=auth_headers(db, cast.manager)
        )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert lines[0] == "Chronology: Ava Example (born 2015-05-01)"
    assert lines[1] == "Printed 2026-03-02 12:00; 9 events"
    events = lines[3:]
    assert len(events) == 9
    assert events[0].startswith("2025-06-02 10:00 | Contact received | (new -> contact) | by ")
    assert "Case closed | (assessment -> closed)" in events[3]
    assert events[3].endswith("reason: Needs met by universal services.")
    assert events[-1].startswith("2026-02-17 10:00 | Child protection plan started")


def test_a_restricted_childs_chronology_is_not_found_to_those_not_named(
    client: TestClient, db: Session, cast: Cast
) -> None:
    child = make_child(db, first_name="Hidden", restricted=True)
    grant(db, child, cast.manager)
    with clock.frozen_at(at(2026, 2, 2)):
        open_case(db, by=cast.manager, child=child, team=cast.team)
    url = f"/api/v1/children/{child.id}/chronology"
    assert client.get(url, headers=auth_headers(db, cast.social_worker)).status_code == 404
    text = client.get(url, params={"format": "text"}, headers=auth_headers(db, cast.social_worker))
    assert text.status_code == 404
    named = client.get(url, headers=auth_headers(db, cast.manager))
    assert [i["action"] for i in named.json()["items"]] == ["case_opened"]
