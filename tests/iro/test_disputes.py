"""Stories of the IRO's dispute resolution (IRO Handbook 2010 ch.5): informal resolution, the
protocol's escalation stages each answered within its working days, resolution, or a referral to
Cafcass after the last stage — an audited state machine."""

from __future__ import annotations

import uuid
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.config import get_settings
from app.models import CaseEvent, Deadline, DeadlineKind
from tests.care.factories import CareCast, make_care_cast, noon
from tests.factories import auth_headers
from tests.iro.factories import in_care_with_iro


def _raise(client: TestClient, db: Session, cast: CareCast, on: date) -> dict[str, object]:
    with clock.frozen_at(noon(on)):
        answer = client.post(
            f"/api/v1/children/{cast.child.id}/iro-disputes",
            json={"concern": "The plan for permanence has drifted for 6 months"},
            headers=auth_headers(db, cast.iro),
        )
    assert answer.status_code == 201, answer.text
    result: dict[str, object] = answer.json()
    return result


def _take(
    client: TestClient,
    headers: dict[str, str],
    dispute: dict[str, object],
    on: date,
    **body: object,
) -> tuple[int, dict[str, object]]:
    with clock.frozen_at(noon(on)):
        answer = client.post(
            f"/api/v1/iro-disputes/{dispute['id']}/transitions",
            json={"on_date": on.isoformat(), **body},
            headers={**headers, "If-Match": f'"{dispute["version"]}"'},
        )
    return answer.status_code, answer.json()


def test_an_iro_escalates_through_every_stage_then_refers_the_child_to_cafcass(
    client: TestClient, db: Session
) -> None:
    """Four stages (the council default), 5 working days each: stage 1 from Thursday 2 April 2026
    is due Monday 13 April (Good Friday 3 April and Easter Monday 6 April skipped)."""
    assert get_settings().iro_dispute_stages == 4
    cast = make_care_cast(db)
    in_care_with_iro(db, cast, on=date(2026, 3, 2))
    iro, manager = auth_headers(db, cast.iro), auth_headers(db, cast.iro_manager)
    dispute = _raise(client, db, cast, date(2026, 3, 30))
    assert (dispute["state"], dispute["stage"]) == ("informal", 0)

    code, body = _take(
        client, iro, dispute, date(2026, 4, 1), event="refer_to_cafcass", reason="No progress"
    )
    assert code == 409  # a referral follows the last stage
    code, body = _take(client, manager, dispute, date(2026, 4, 1), event="escalate", reason="x")
    assert code == 403  # the IRO escalates, not a manager
    code, dispute = _take(
        client,
        iro,
        dispute,
        date(2026, 4, 2),
        event="escalate",
        reason="Informal resolution failed",
    )
    assert code == 200, dispute
    assert (dispute["state"], dispute["stage"], dispute["stage_response_due"]) == (
        "escalated",
        1,
        "2026-04-13",
    )
    code, dispute = _take(
        client,
        manager,
        dispute,
        date(2026, 4, 9),
        event="respond",
        response="A permanence planning meeting is booked",
    )
    assert code == 200, dispute
    assert dispute["stage_response_due"] is None
    for stage, day in ((2, date(2026, 4, 20)), (3, date(2026, 5, 4)), (4, date(2026, 5, 18))):
        code, dispute = _take(client, iro, dispute, day, event="escalate", reason="Not enough")
        assert (code, dispute["stage"]) == (200, stage)
    code, body = _take(client, iro, dispute, date(2026, 5, 19), event="escalate", reason="More")
    assert code == 409  # no stage beyond the last
    code, dispute = _take(
        client,
        iro,
        dispute,
        date(2026, 6, 1),
        event="refer_to_cafcass",
        reason="The plan still does not meet the child's needs",
    )
    assert code == 200, dispute
    assert (dispute["state"], dispute["closed_date"]) == ("referred_to_cafcass", "2026-06-01")
    code, body = _take(client, iro, dispute, date(2026, 6, 2), event="resolve", reason="x")
    assert code == 409
    assert body["allowed_events"] == []

    stages = db.scalars(
        select(Deadline)
        .where(
            Deadline.subject_id == uuid.UUID(str(dispute["id"])),
            Deadline.kind == DeadlineKind.iro_dispute_stage,
        )
        .order_by(Deadline.start_date)
    ).all()
    assert [(d.met_date, d.stopped_date) for d in stages] == [
        (date(2026, 4, 9), None),
        (None, date(2026, 5, 4)),
        (None, date(2026, 5, 18)),
        (None, date(2026, 6, 1)),
    ]
    events = db.scalars(
        select(CaseEvent.action)
        .where(CaseEvent.subject_id == uuid.UUID(str(dispute["id"])))
        .order_by(CaseEvent.seq)
    ).all()
    assert events == [
        "iro_dispute_raised",
        "escalate",
        "respond",
        "escalate",
        "escalate",
        "escalate",
        "refer_to_cafcass",
    ]


def test_a_dispute_resolved_informally_and_who_may_raise_one(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    in_care_with_iro(db, cast, on=date(2026, 3, 2))
    url = f"/api/v1/children/{cast.child.id}/iro-disputes"
    with clock.frozen_at(noon(date(2026, 3, 30))):
        other_iro = client.post(
            url, json={"concern": "x"}, headers=auth_headers(db, cast.other_iro)
        )
        worker = client.post(
            url, json={"concern": "x"}, headers=auth_headers(db, cast.social_worker)
        )
    assert other_iro.status_code == 403
    assert worker.status_code == 403
    dispute = _raise(client, db, cast, date(2026, 3, 30))
    code, body = _take(
        client,
        auth_headers(db, cast.iro),
        {**dispute, "version": 9},
        date(2026, 3, 31),
        event="resolve",
        reason="Agreed",
    )
    assert code == 412
    code, body = _take(
        client, auth_headers(db, cast.manager), dispute, date(2026, 3, 31), event="resolve"
    )
    assert code == 422  # say how it was resolved
    code, body = _take(
        client,
        auth_headers(db, cast.manager),
        dispute,
        date(2026, 3, 31),
        event="resolve",
        reason="The plan was updated at a meeting",
    )
    assert code == 200, body
    assert (body["state"], body["outcome"]) == ("resolved", "The plan was updated at a meeting")
    with clock.frozen_at(noon(date(2026, 4, 1))):
        read = client.get(
            f"/api/v1/iro-disputes/{dispute['id']}", headers=auth_headers(db, cast.iro)
        )
    assert read.json()["state"] == "resolved"
