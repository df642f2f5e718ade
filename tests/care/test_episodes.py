"""The SSDA903 episodes Casework derives from a period's histories, on the tricky sequences: a
placement and a legal-status change on one day, short breaks, a return home and re-entry within
the year, a temporary placement, and a move with the same carers. Where the DfE validator is
installed apart (``.validators``: ``make validators``), the derived episodes are also run through
its own rules."""

from __future__ import annotations

import json
import subprocess
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.care.episodes import episodes_for_child
from app.models.people import Person
from app.returns.validators import DEFAULT_VALIDATORS_PYTHON
from tests.care.factories import CareCast, make_care_cast
from tests.care.stories import placement, post, start

#: The separate environment holding the DfE validator and its old pandas (``make validators``).
VALIDATOR_PYTHON = DEFAULT_VALIDATORS_PYTHON
CHECK_SCRIPT = Path(__file__).with_name("v903_check.py")
DAY_1 = date(2025, 6, 2)


def _dmy(value: str | None) -> str | None:
    return None if value is None else date.fromisoformat(value).strftime("%d/%m/%Y")


def validator_failures(db: Session, child: Person) -> dict[str, Any] | None:
    """The DfE validator's verdict on the child's episodes, or None when it is not installed."""
    if not VALIDATOR_PYTHON.exists():
        return None
    rows = []
    for e in episodes_for_child(db, child.id):
        rows.append(
            {
                "CHILD": e.child or str(child.id),
                "DECOM": e.decom.strftime("%d/%m/%Y"),
                "RNE": e.rne.value,
                "LS": e.ls.value,
                "CIN": e.cin.value,
                "PLACE": e.place.value,
                "PLACE_PROVIDER": e.place_provider.value if e.place_provider else None,
                "DEC": e.dec.strftime("%d/%m/%Y") if e.dec else None,
                "REC": e.rec.value if e.rec else None,
                "REASON_PLACE_CHANGE": e.reason_place_change.value
                if e.reason_place_change
                else None,
                "HOME_POST": e.home_post,
                "PL_POST": e.pl_post,
                "URN": e.urn,
                "PL_LA": e.pl_la,
            }
        )
    assert child.date_of_birth is not None
    payload = {
        "episodes": rows,
        "header": [
            {"CHILD": rows[0]["CHILD"], "SEX": "2", "DOB": child.date_of_birth.strftime("%d/%m/%Y")}
        ],
        "metadata": {
            "collection_start": "01/04/2025",
            "collection_end": "31/03/2026",
            "localAuthority": "330",
        },
    }
    done = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [str(VALIDATOR_PYTHON), str(CHECK_SCRIPT)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    verdict: dict[str, Any] = json.loads(done.stdout)
    return verdict


def assert_validator_clean(db: Session, child: Person) -> None:
    verdict = validator_failures(db, child)
    if verdict is not None:
        assert verdict == {"failures": {}, "errors": {}}


def _change(
    client: TestClient,
    db: Session,
    cast: CareCast,
    period: Any,
    what: str,
    body: dict[str, Any],
    *,
    on: date,
    etag: str,
) -> Any:
    answer = post(
        client,
        db,
        cast,
        f"/api/v1/periods-of-care/{period.json()['id']}/{what}",
        {("end_date" if what == "cease" else "start_date"): on.isoformat(), **body},
        etag=etag,
        today=on,
    )
    assert answer.status_code in (200, 201), answer.text
    return answer


def _rows(answer: Any) -> list[tuple[Any, ...]]:
    return [
        (e["rne"], e["ls"], e["place"], e["decom"], e["dec"], e["rec"], e["reason_place_change"])
        for e in answer.json()["episodes"]
    ]


@pytest.mark.parametrize(("carer_key", "rne"), [("carer-2", "U"), ("carer-1", "B")])
def test_a_legal_status_and_a_placement_changing_on_one_day_make_one_new_episode(
    client: TestClient, db: Session, carer_key: str, rne: str
) -> None:
    cast = make_care_cast(db)
    started = start(client, db, cast, on=DAY_1)
    day = date(2025, 7, 1)
    ico = _change(
        client,
        db,
        cast,
        started,
        "legal-statuses",
        {"legal_status": "C1"},
        on=day,
        etag=started.headers["ETag"],
    )
    moved = _change(
        client,
        db,
        cast,
        started,
        "placements",
        {
            "placement": placement(
                placement_type="U4", carer_key=carer_key, placement_postcode="B15 2TH"
            ),
            "end_reason": "CARPL",
            "planned_ending": True,
        },
        on=day,
        etag=ico.headers["ETag"],
    )
    assert _rows(moved) == [
        ("S", "V2", "U6", "2025-06-02", "2025-07-01", "X1", "CARPL"),
        (rne, "C1", "U4", "2025-07-01", None, None, None),
    ]
    assert_validator_clean(db, cast.child)


def test_a_move_with_the_same_carers_is_rne_t(client: TestClient, db: Session) -> None:
    """The carers moved house: same carer_key, new postcode."""
    cast = make_care_cast(db)
    started = start(client, db, cast, on=DAY_1)
    moved = _change(
        client,
        db,
        cast,
        started,
        "placements",
        {
            "placement": placement(placement_postcode="B15 2TH"),
            "end_reason": "OTHER",
            "planned_ending": True,
        },
        on=date(2025, 8, 4),
        etag=started.headers["ETag"],
    )
    assert [e["rne"] for e in moved.json()["episodes"]] == ["S", "T"]
    assert_validator_clean(db, cast.child)


def test_short_breaks_are_each_a_period_with_rne_s(client: TestClient, db: Session) -> None:
    """A single short break (V3) is a period of its own (rule 366): no change of placement within
    it; the next break is a new period, and both episodes start with RNE S."""
    cast = make_care_cast(db)
    first = start(client, db, cast, on=DAY_1, entry_route="short_breaks", legal_status="V3")
    refused = post(
        client,
        db,
        cast,
        f"/api/v1/periods-of-care/{first.json()['id']}/placements",
        {
            "start_date": "2025-06-03",
            "end_reason": "CARPL",
            "planned_ending": True,
            "placement": placement(placement_postcode="B15 2TH", carer_key="carer-2"),
        },
        etag=first.headers["ETag"],
        today=date(2025, 6, 3),
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["rule"] == "SSDA903 366"
    _change(
        client,
        db,
        cast,
        first,
        "cease",
        {"reason_ceased": "E4A"},
        on=date(2025, 6, 5),
        etag=first.headers["ETag"],
    )
    second = start(
        client,
        db,
        cast,
        on=date(2025, 6, 20),
        entry_route="short_breaks",
        legal_status="V3",
        case_id=first.json()["case_id"],
    )
    assert second.status_code == 201, second.text
    episodes = episodes_for_child(db, cast.child.id)
    assert [(e.rne.value, e.ls.value, e.decom, e.dec) for e in episodes] == [
        ("S", "V3", date(2025, 6, 2), date(2025, 6, 5)),
        ("S", "V3", date(2025, 6, 20), None),
    ]
    assert_validator_clean(db, cast.child)


def test_a_return_home_and_re_entry_within_the_year(client: TestClient, db: Session) -> None:
    cast = make_care_cast(db)
    first = start(client, db, cast, on=DAY_1)
    _change(
        client,
        db,
        cast,
        first,
        "cease",
        {"reason_ceased": "E4B"},
        on=date(2025, 9, 1),
        etag=first.headers["ETag"],
    )
    second = start(
        client,
        db,
        cast,
        on=date(2025, 11, 14),
        entry_route="court_order",
        legal_status="C1",
        case_id=first.json()["case_id"],
        place=placement(carer_key="carer-7", placement_postcode="B15 2TH"),
    )
    assert second.status_code == 201, second.text
    listed = client.get(f"/api/v1/children/{cast.child.id}/episodes", headers=cast.headers(db))
    assert [(e["rne"], e["decom"], e["dec"], e["rec"]) for e in listed.json()] == [
        ("S", "2025-06-02", "2025-09-01", "E4B"),
        ("S", "2025-11-14", None, None),
    ]
    stability = client.get(
        f"/api/v1/children/{cast.child.id}/placement-stability",
        params={"on": "2026-03-31"},
        headers=cast.headers(db),
    )
    assert stability.json()["placements_last_12_months"] == 2
    assert stability.json()["looked_after_since"] == "2025-11-14"
    assert_validator_clean(db, cast.child)


def test_a_stay_in_hospital_is_a_temporary_placement_with_no_reason_for_change(
    client: TestClient, db: Session
) -> None:
    """Rule 226: no REASON_PLACE_CHANGE on the moves into and out of T1; rule 383: the child
    returns to the usual placement (a different one is refused); the stay is not a move in the
    stability count."""
    cast = make_care_cast(db)
    started = start(client, db, cast, on=DAY_1)
    hospital = _change(
        client,
        db,
        cast,
        started,
        "placements",
        {
            "placement": placement(
                placement_type="T1",
                provider=None,
                ofsted_urn=None,
                carer_key="hospital",
                placement_postcode="B15 2TH",
            ),
            "planned_ending": False,
        },
        on=date(2025, 7, 7),
        etag=started.headers["ETag"],
    )
    elsewhere = post(
        client,
        db,
        cast,
        f"/api/v1/periods-of-care/{started.json()['id']}/placements",
        {
            "start_date": "2025-07-10",
            "planned_ending": True,
            "placement": placement(placement_postcode="B1 1BB", carer_key="carer-3"),
        },
        etag=hospital.headers["ETag"],
        today=date(2025, 7, 10),
    )
    assert elsewhere.status_code == 422
    assert elsewhere.json()["errors"][0]["rule"] == "SSDA903 383"
    back = _change(
        client,
        db,
        cast,
        started,
        "placements",
        {
            "placement": placement(),
            "planned_ending": True,
        },
        on=date(2025, 7, 10),
        etag=hospital.headers["ETag"],
    )
    assert _rows(back) == [
        ("S", "V2", "U6", "2025-06-02", "2025-07-07", "X1", None),
        ("P", "V2", "T1", "2025-07-07", "2025-07-10", "X1", None),
        ("P", "V2", "U6", "2025-07-10", None, None, None),
    ]
    stability = client.get(
        f"/api/v1/children/{cast.child.id}/placement-stability",
        params={"on": "2025-12-01"},
        headers=cast.headers(db),
    )
    assert stability.json()["placements_last_12_months"] == 1
    assert stability.json()["current_placement_since"] == "2025-06-02"
    assert_validator_clean(db, cast.child)


def test_the_validator_check_catches_a_broken_episode_when_installed(db: Session) -> None:
    """The cross-check can fail: episodes with a gap (RNE P not on the previous DEC) are refused
    by the validator's rule 433."""
    if not VALIDATOR_PYTHON.exists():
        pytest.skip(f"the DfE validator is not installed in {VALIDATOR_PYTHON}")
    row = {
        "CHILD": "1",
        "CIN": "N1",
        "LS": "V2",
        "PLACE": "U6",
        "PLACE_PROVIDER": "PR1",
        "REASON_PLACE_CHANGE": None,
        "HOME_POST": "B1 1BB",
        "PL_POST": "B15 2TT",
        "URN": "SC123456",
        "PL_LA": "330",
    }
    payload = {
        "episodes": [
            {
                **row,
                "DECOM": "02/06/2025",
                "RNE": "S",
                "DEC": "01/07/2025",
                "REC": "X1",
                "REASON_PLACE_CHANGE": "CARPL",
            },
            {
                **row,
                "DECOM": "03/07/2025",
                "RNE": "P",
                "DEC": None,
                "REC": None,
                "PL_POST": "B15 2TH",
            },
        ],
        "header": [{"CHILD": "1", "SEX": "2", "DOB": "01/05/2015"}],
        "metadata": {
            "collection_start": "01/04/2025",
            "collection_end": "31/03/2026",
            "localAuthority": "330",
        },
    }
    done = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [str(VALIDATOR_PYTHON), str(CHECK_SCRIPT)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    assert "433" in json.loads(done.stdout)["failures"]


def test_episodes_name_the_child_by_la_child_id(client: TestClient, db: Session) -> None:
    cast = make_care_cast(db)
    cast.child.la_child_id = f"LA{uuid.uuid4().hex[:8]}"
    db.commit()
    start(client, db, cast, on=DAY_1)
    [episode] = client.get(
        f"/api/v1/children/{cast.child.id}/episodes", headers=cast.headers(db)
    ).json()
    assert episode["child"] == cast.child.la_child_id
