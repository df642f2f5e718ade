"""Helpers for children-in-care API stories: start care, change status or placement, cease."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.models import CaseEvent
from tests.care.factories import CareCast, noon, referred_case

FOSTER: dict[str, Any] = {
    "placement_type": "U6",
    "provider": "PR1",
    "ofsted_urn": "SC123456",
    "carer_name": "Mr and Mrs Carer",
    "carer_key": "carer-1",
    "home_postcode": "B1 1BB",
    "placement_postcode": "B15 2TT",
    "placement_la_code": "330",
}


def placement(**overrides: Any) -> dict[str, Any]:
    """The foster placement above with ``overrides`` (None removes a field)."""
    fields = {**FOSTER, **overrides}
    return {k: v for k, v in fields.items() if v is not None}


def start(
    client: TestClient,
    db: Session,
    cast: CareCast,
    *,
    on: date,
    legal_status: str = "V2",
    entry_route: str = "section_20",
    place: dict[str, Any] | None = None,
    case_id: Any = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """POST a period of care on a new referred case (or ``case_id``), the clock frozen on ``on``."""
    if case_id is None:
        case_id = referred_case(db, cast, opened=on).id
    with clock.frozen_at(noon(on)):
        return client.post(
            f"/api/v1/cases/{case_id}/periods-of-care",
            json={
                "start_date": on.isoformat(),
                "entry_route": entry_route,
                "legal_status": legal_status,
                "category_of_need": "N1",
                "placement": place or placement(),
            },
            headers=headers or cast.headers(db),
        )


def post(
    client: TestClient,
    db: Session,
    cast: CareCast,
    url: str,
    body: dict[str, Any],
    *,
    etag: str,
    today: date,
    headers: dict[str, str] | None = None,
) -> Response:
    with clock.frozen_at(noon(today)):
        return client.post(
            url, json=body, headers={**(headers or cast.headers(db)), "If-Match": etag}
        )


def events(db: Session, action: str) -> int:
    return (
        db.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.action == action))
        or 0
    )
