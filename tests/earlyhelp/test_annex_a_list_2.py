"""Ofsted's Annex A list 2: the early help assessments of the six months before the inspection."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from app import clock
from app.config import Settings
from app.returns.annex_a import HEADINGS, build_annex_a
from tests.earlyhelp.factories import (
    Council,
    make_council,
    noon,
    stepped_down_after_assessment,
    stepped_down_at_the_door,
)
from tests.factories import make_child

AS_OF = date(2026, 9, 30)  # the six months start on 30 March 2026


def _record(
    client: TestClient,
    db: Session,
    council: Council,
    episode_id: Any,
    path: str,
    body: dict[str, Any],
    *,
    version: int,
    on: date,
) -> None:
    with clock.frozen_at(noon(on)):
        done = client.post(
            f"/api/v1/early-help/{episode_id}/{path}",
            json=body,
            headers={**council.headers(db), "If-Match": f'"{version}"'},
        )
    assert done.status_code == 200, done.text


def _list_2(db: Session, settings: Settings) -> list[dict[str, Any]]:
    book = load_workbook(io.BytesIO(build_annex_a(db, as_of=AS_OF, settings=settings)))
    rows = list(book["List 2"].iter_rows(values_only=True))
    headings = [str(h) for h in rows[0]]
    assert tuple(headings) == HEADINGS["List 2"]
    return [dict(zip(headings, row, strict=True)) for row in rows[1:]]


def _day(cell: Any) -> date:
    assert isinstance(cell, datetime)
    return cell.date()


def test_list_2_shows_each_early_help_assessment_of_the_six_months_with_who_completed_it(
    client: TestClient, db: Session, settings: Settings
) -> None:
    council = make_council(db)
    # Ava: a school leads; assessed 1 April (in the window).
    ava = stepped_down_at_the_door(client, db, council, council.ava, on=date(2026, 3, 16))
    _record(
        client,
        db,
        council,
        ava.id,
        "allocation",
        {
            "team_id": str(council.early_help.id),
            "lead_professional_name": "Mrs Amber Cole",
            "lead_professional_agency": "Kestrel Park Primary",
        },
        version=1,
        on=date(2026, 3, 17),
    )
    _record(
        client,
        db,
        council,
        ava.id,
        "assessment",
        {"assessment_date": "2026-04-01", "summary": "Assessed."},
        version=2,
        on=date(2026, 4, 1),
    )
    # Ben: the council's family worker leads; assessed 20 March (before the window).
    ben = stepped_down_after_assessment(
        db, council, council.ben, referral_on=date(2026, 1, 12), authorised_on=date(2026, 3, 2)
    )
    _record(
        client,
        db,
        council,
        ben.id,
        "assessment",
        {"assessment_date": "2026-03-20", "summary": "Assessed."},
        version=1,
        on=date(2026, 3, 20),
    )
    # Cara: assessed on 5 October, after the inspection day.
    cara = make_child(db, first_name="Cara", last_name="Lyle", date_of_birth=date(2019, 1, 5))
    late = stepped_down_at_the_door(client, db, council, cara, on=date(2026, 9, 28))
    _record(
        client,
        db,
        council,
        late.id,
        "assessment",
        {"assessment_date": "2026-10-05", "summary": "Assessed."},
        version=1,
        on=date(2026, 10, 5),
    )
    # Dan: assessed in the window by the council's worker.
    dan = make_child(db, first_name="Dan", last_name="Moss", date_of_birth=date(2014, 2, 2))
    dans = stepped_down_at_the_door(client, db, council, dan, on=date(2026, 6, 1))
    _record(
        client,
        db,
        council,
        dans.id,
        "allocation",
        {
            "team_id": str(council.early_help.id),
            "lead_professional_user_id": str(council.family_worker.id),
        },
        version=1,
        on=date(2026, 6, 2),
    )
    _record(
        client,
        db,
        council,
        dans.id,
        "assessment",
        {"assessment_date": "2026-06-15", "summary": "Assessed."},
        version=2,
        on=date(2026, 6, 15),
    )

    rows = _list_2(db, settings)

    assert [r["Child Unique ID"] for r in rows] == [str(council.ava.id), str(dan.id)]
    first, second = rows
    assert (_day(first["Assessment start date"]), _day(first["Assessment completion date"])) == (
        date(2026, 3, 16),
        date(2026, 4, 1),
    )
    assert first["Organisation completing assessment"] == "Kestrel Park Primary"
    assert (first["Allocated Team"], first["Allocated Worker"]) == (
        council.early_help.name,
        "Mrs Amber Cole",
    )
    assert first["Age of Child (Years)"] == 10
    assert second["Organisation completing assessment"] == settings.la_name
    assert second["Allocated Worker"] == council.family_worker.display_name
