"""Stories of events written with the change: one event, one delivery per matching subscription,
nothing for a refused or rolled-back change, and never a name or a date of birth."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.care import service as care_service
from app.care.codes import PlacementType, ReasonEpisodeCeased, ReasonPlaceChange
from app.care.schemas import PlacementChange
from app.models import CaseEvent, UserAccount
from app.models.outbox import OutboxEvent, WebhookDelivery
from app.outbox import service as outbox_service
from tests.care.factories import (
    bring_into_care,
    cease_care,
    foster_placement,
    make_care_cast,
    noon,
)
from tests.care.factories import principal as care_principal
from tests.cases.factories import Cast, open_case, take
from tests.factories import auth_headers, make_child


def subscribe(
    client: TestClient,
    db: Session,
    admin: UserAccount,
    event_types: list[str],
    *,
    url: str = "https://police.example.org/hooks",
    active: bool = True,
) -> dict[str, Any]:
    response = client.post(
        "/api/v1/webhooks/subscriptions",
        json={"name": "Police", "url": url, "event_types": event_types, "active": active},
        headers=auth_headers(db, admin),
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def events_of(db: Session, event_type: str) -> list[OutboxEvent]:
    db.expire_all()
    return list(db.scalars(select(OutboxEvent).where(OutboxEvent.event_type == event_type)))


def deliveries_of(db: Session, event: OutboxEvent) -> set[uuid.UUID]:
    return set(
        db.scalars(
            select(WebhookDelivery.subscription_id).where(WebhookDelivery.event_id == event.id)
        )
    )


def test_a_case_opened_through_the_api_writes_one_event_and_a_delivery_per_subscriber(
    client: TestClient, db: Session, cast: Cast, admin: UserAccount
) -> None:
    police = subscribe(client, db, admin, ["case.opened"])
    health = subscribe(client, db, admin, ["case.opened", "case.closed"])
    schools = subscribe(client, db, admin, ["case.closed"])
    paused = subscribe(client, db, admin, ["case.opened"], active=False)

    response = client.post(
        "/api/v1/cases",
        json={
            "child_id": str(cast.child.id),
            "team_id": str(cast.team.id),
            "rag": "amber",
            "summary": "Neighbour heard shouting at 14 Acacia Avenue.",
        },
        headers=auth_headers(db, cast.mash_officer),
    )
    assert response.status_code == 201, response.text
    case_id = uuid.UUID(response.json()["id"])

    [event] = events_of(db, "case.opened")
    assert (event.case_id, event.child_id, event.subject_id) == (case_id, cast.child.id, case_id)
    subscribers = deliveries_of(db, event)
    assert subscribers == {uuid.UUID(police["id"]), uuid.UUID(health["id"])}
    assert uuid.UUID(schools["id"]) not in subscribers
    assert uuid.UUID(paused["id"]) not in subscribers
    # The same request (and so the same transaction) as the case's own opening event.
    opened = db.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)).one()
    assert event.request_id is not None
    assert event.request_id == opened.request_id
    data = event.payload["data"]
    assert event.payload["type"] == "case.opened"
    assert event.payload["id"] == str(event.id)
    assert (data["case_id"], data["child_id"], data["to_state"]) == (
        str(case_id),
        str(cast.child.id),
        "contact",
    )
    assert data["rag"] == "amber"
    # Identifiers and codes only: no name, no date of birth, no words from the summary.
    text = json.dumps(event.payload)
    for personal in ("Ava", "Example", "2015-05-01", "Acacia", "shouting"):
        assert personal not in text, personal


def test_no_subscriber_means_no_event_at_all(client: TestClient, db: Session, cast: Cast) -> None:
    open_case(db, by=cast.mash_officer, child=cast.child, team=cast.team)
    assert db.scalar(select(func.count()).select_from(OutboxEvent)) == 0


def test_a_refused_transition_writes_no_event(
    client: TestClient, db: Session, cast: Cast, admin: UserAccount
) -> None:
    subscribe(client, db, admin, ["referral.accepted", "case.closed", "cp_plan.started"])
    case = open_case(db, by=cast.manager, child=cast.child, team=cast.team)
    db.commit()
    headers = auth_headers(db, cast.manager)
    stale = client.post(
        f"/api/v1/cases/{case.id}/transitions",
        json={"event": "accept_referral"},
        headers={**headers, "If-Match": '"7"'},
    )
    assert stale.status_code == 412, stale.text
    illegal = client.post(
        f"/api/v1/cases/{case.id}/transitions",
        json={"event": "start_cp_plan"},
        headers={**headers, "If-Match": '"1"'},
    )
    assert illegal.status_code == 409, illegal.text
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(OutboxEvent)) == 0

    accepted = client.post(
        f"/api/v1/cases/{case.id}/transitions",
        json={"event": "accept_referral"},
        headers={**headers, "If-Match": '"1"'},
    )
    assert accepted.status_code == 200, accepted.text
    [event] = events_of(db, "referral.accepted")
    assert event.payload["data"]["from_state"] == "contact"
    assert event.payload["data"]["to_state"] == "referral"


def test_a_rolled_back_transaction_leaves_no_event_and_no_delivery(
    client: TestClient,
    db: Session,
    cast: Cast,
    admin: UserAccount,
    session_factory: sessionmaker[Session],
) -> None:
    subscribe(client, db, admin, ["case.opened"])
    with session_factory() as work:
        child = make_child(work, first_name="Rollback")
        open_case(work, by=cast.manager, child=child, team=cast.team)
        work.flush()
        assert work.scalar(select(func.count()).select_from(OutboxEvent)) == 1
        assert work.scalar(select(func.count()).select_from(WebhookDelivery)) == 1
        work.rollback()
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(OutboxEvent)) == 0
    assert db.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


def test_a_case_closing_from_any_stage_is_case_closed_with_its_reason_code(
    client: TestClient, db: Session, cast: Cast, admin: UserAccount
) -> None:
    subscribe(client, db, admin, ["case.closed"])
    case = open_case(db, by=cast.manager, child=cast.child, team=cast.team)
    take(db, case, "accept_referral", by=cast.manager)
    take(db, case, "close", by=cast.manager)
    [event] = events_of(db, "case.closed")
    data = event.payload["data"]
    assert (data["action"], data["from_state"], data["to_state"]) == ("close", "referral", "closed")
    assert data["closure_reason"] == "RC5"
    # The reason in words ("Family moved away.") is free text: it stays in the case record.
    assert "moved" not in json.dumps(event.payload)


def test_a_child_in_care_moves_and_comes_home_and_integrations_hear_each_step(
    client: TestClient, db: Session, admin: UserAccount
) -> None:
    subscribe(
        client,
        db,
        admin,
        ["child.became_looked_after", "placement.changed", "child.ceased_looked_after"],
    )
    cast = make_care_cast(db)
    period = bring_into_care(db, cast, on=date(2026, 2, 2))
    [started] = events_of(db, "child.became_looked_after")
    assert started.subject_id == period.id
    assert started.payload["data"]["start_date"] == "2026-02-02"
    assert started.payload["data"]["legal_status"] == "V2"

    from app import clock

    with clock.frozen_at(noon(date(2026, 3, 2))):
        care_service.placement_change(
            db,
            actor=care_principal(db, cast.manager),
            period_id=period.id,
            expected_version=period.version,
            body=PlacementChange(
                start_date=date(2026, 3, 2),
                placement=foster_placement(
                    carer_key="carer-2", carer_name="Ms Newcarer", placement_postcode="B15 2TH"
                ),
                end_reason=ReasonPlaceChange("CARPL"),
                planned_ending=True,
            ),
        )
    [moved] = events_of(db, "placement.changed")
    data = moved.payload["data"]
    assert (data["start_date"], data["placement_type"], data["end_reason"]) == (
        "2026-03-02",
        PlacementType.U6.value,
        "CARPL",
    )
    assert data["period_of_care_id"] == str(period.id)
    text = json.dumps(moved.payload)
    for personal in ("Newcarer", "B15 2TH", "B1 1AA", "Ava"):
        assert personal not in text, personal

    cease_care(db, cast, period, on=date(2026, 4, 1))
    [ceased] = events_of(db, "child.ceased_looked_after")
    assert ceased.payload["data"]["to_state"] == "ceased"
    assert ceased.payload["data"]["end_date"] == "2026-04-01"
    assert (
        ceased.payload["data"]["reason_ceased"] == ReasonEpisodeCeased.RETURNED_HOME_PLANNED.value
    )


def test_the_mapping_names_only_declared_event_types_and_real_transitions() -> None:
    from app.workflow.registry import all_machines

    declared = {(m.subject_type, t.event) for m in all_machines() for t in m.transitions}
    declared |= {(m.subject_type, "start") for m in all_machines()}
    targets = {(m.subject_type, s) for m in all_machines() for s in m.states}
    for key, event_type in outbox_service.TRANSITION_EVENTS.items():
        assert key in declared, key
        assert event_type in outbox_service.EVENT_TYPES
    for key, event_type in outbox_service.TARGET_EVENTS.items():
        assert key in targets, key
        assert event_type in outbox_service.EVENT_TYPES
