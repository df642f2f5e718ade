"""Stories of services and interventions on a case: a family referred to a parenting programme,
the programme starting and ending, and the ways a record can be refused (stale, repeated, badly
dated, on a closed case, about a child the worker may not see)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app import clock
from app.cases import service as case_service
from app.errors import PreconditionFailed
from app.interventions import service as intervention_service
from app.models import CaseEvent
from app.models.audit import AccessLog, ChangeLog
from app.models.cases import Case
from app.models.interventions import Intervention, InterventionKind, ProviderKind
from app.models.security import RestrictedAccessGrant
from tests.care.factories import CareCast, make_care_cast, noon, principal, referred_case

REFERRAL = date(2026, 3, 2)


@pytest.fixture
def cast(db: Session) -> CareCast:
    return make_care_cast(db)


def _programme(**overrides: Any) -> dict[str, Any]:
    return {
        "kind": "parenting_programme",
        "description": "Twelve-week group programme for both parents.",
        "provider_kind": "commissioned",
        "provider_name": "Family Steps CIC",
        "referred_date": "2026-03-05",
        **overrides,
    }


def _refer(
    client: TestClient,
    db: Session,
    cast: CareCast,
    case: Case,
    *,
    on: date = date(2026, 3, 5),
    **body: Any,
) -> Any:
    with clock.frozen_at(noon(on)):
        made = client.post(
            f"/api/v1/cases/{case.id}/interventions",
            json=_programme(**body),
            headers=cast.headers(db),
        )
    assert made.status_code == 201, made.text
    return made


def _events(db: Session, case: Case) -> list[str]:
    return list(
        db.scalars(
            select(CaseEvent.action)
            .where(CaseEvent.case_id == case.id, CaseEvent.subject_type == "intervention")
            .order_by(CaseEvent.seq)
        )
    )


def test_a_parenting_programme_is_referred_started_and_ended_and_the_chronology_tells_it(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    case = referred_case(db, cast, opened=REFERRAL)
    headers = cast.headers(db)
    made = _refer(client, db, cast, case)
    assert made.json()["status"] == "referred"
    assert made.headers["ETag"] == '"1"'
    url = made.headers["Location"]
    with clock.frozen_at(noon(date(2026, 3, 16))):
        started = client.post(
            f"{url}/start",
            json={"start_date": "2026-03-16"},
            headers={**headers, "If-Match": made.headers["ETag"]},
        )
    assert started.status_code == 200, started.text
    assert (started.json()["status"], started.headers["ETag"]) == ("active", '"2"')
    with clock.frozen_at(noon(date(2026, 6, 8))):
        ended = client.post(
            f"{url}/end",
            json={
                "end_date": "2026-06-05",
                "outcome": "goals_met",
                "outcome_notes": "Both parents completed all twelve sessions.",
            },
            headers={**headers, "If-Match": started.headers["ETag"]},
        )
        assert ended.status_code == 200, ended.text
        assert ended.json()["status"] == "ended"
        assert ended.json()["outcome"] == "goals_met"
        read = client.get(url, headers=headers)
        listed = client.get(f"/api/v1/cases/{case.id}/interventions", headers=headers)
        chronology = client.get(
            f"/api/v1/children/{case.child_id}/chronology",
            params={
                "type": ["intervention_referred", "intervention_started", "intervention_ended"]
            },
            headers=headers,
        )
    assert read.headers["ETag"] == '"3"'
    assert read.json()["end_date"] == "2026-06-05"
    assert [i["id"] for i in listed.json()] == [made.json()["id"]]
    assert chronology.status_code == 200, chronology.text
    assert [e["label"] for e in chronology.json()["items"]] == [
        "Referred to a service or intervention",
        "Service or intervention started",
        "Service or intervention ended",
    ]
    assert [e["to_state"] for e in chronology.json()["items"]] == ["referred", "active", "ended"]
    changes = db.scalars(
        select(ChangeLog.action)
        .where(ChangeLog.entity_id == uuid.UUID(made.json()["id"]))
        .order_by(ChangeLog.occurred_at)
    )
    assert list(changes) == ["intervention_referred", "intervention_started", "intervention_ended"]
    reads = db.scalar(
        select(func.count())
        .select_from(AccessLog)
        .where(AccessLog.resource == "intervention", AccessLog.case_id == case.id)
    )
    assert reads == 2  # the GET of the intervention and the case's list


def test_a_referral_with_a_start_date_is_active_at_once(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    case = referred_case(db, cast, opened=REFERRAL)
    made = _refer(client, db, cast, case, kind="edge_of_care", start_date="2026-03-05")
    assert made.json()["status"] == "active"
    assert _events(db, case) == ["intervention_referred", "intervention_started"]


def test_a_stale_if_match_is_refused_and_nothing_is_written(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    case = referred_case(db, cast, opened=REFERRAL)
    made = _refer(client, db, cast, case)
    url = made.headers["Location"]
    headers = cast.headers(db)
    with clock.frozen_at(noon(date(2026, 3, 16))):
        first = client.post(
            f"{url}/start", json={}, headers={**headers, "If-Match": made.headers["ETag"]}
        )
        assert first.status_code == 200
        stale = client.post(
            f"{url}/end",
            json={"outcome": "disengaged"},
            headers={**headers, "If-Match": made.headers["ETag"]},
        )
    assert stale.status_code == 412, stale.text
    db.expire_all()
    intervention = db.get(Intervention, uuid.UUID(made.json()["id"]))
    assert intervention is not None
    assert (intervention.end_date, intervention.outcome, intervention.version) == (None, None, 2)
    assert _events(db, case) == ["intervention_referred", "intervention_started"]


def test_ending_twice_or_starting_again_is_a_conflict(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    case = referred_case(db, cast, opened=REFERRAL)
    made = _refer(client, db, cast, case)
    url = made.headers["Location"]
    headers = cast.headers(db)
    with clock.frozen_at(noon(date(2026, 3, 20))):
        declined = client.post(
            f"{url}/end",
            json={"outcome": "declined", "outcome_notes": "The family said no."},
            headers={**headers, "If-Match": '"1"'},
        )
        assert declined.status_code == 200, declined.text
        again = client.post(
            f"{url}/end", json={"outcome": "declined"}, headers={**headers, "If-Match": '"2"'}
        )
        start = client.post(f"{url}/start", json={}, headers={**headers, "If-Match": '"2"'})
    assert again.status_code == 409, again.text
    assert "already ended" in again.json()["detail"]
    assert start.status_code == 409, start.text
    assert _events(db, case) == ["intervention_referred", "intervention_ended"]


@pytest.mark.parametrize(
    ("step", "body", "field"),
    [
        ("start", {"start_date": "2026-03-04"}, "start_date"),  # before the referral
        ("start", {"start_date": "2026-04-01"}, "start_date"),  # in the future
        ("end", {"end_date": "2026-03-04", "outcome": "declined"}, "end_date"),
        ("end", {"end_date": "2026-03-10", "outcome": "goals_met"}, "outcome"),  # never started
    ],
)
def test_bad_dates_and_outcomes_are_refused_with_the_field_named(
    client: TestClient, db: Session, cast: CareCast, step: str, body: dict[str, Any], field: str
) -> None:
    case = referred_case(db, cast, opened=REFERRAL)
    made = _refer(client, db, cast, case)
    with clock.frozen_at(noon(date(2026, 3, 20))):
        refused = client.post(
            f"{made.headers['Location']}/{step}",
            json=body,
            headers={**cast.headers(db), "If-Match": '"1"'},
        )
    assert refused.status_code == 422, refused.text
    assert field in refused.text
    assert _events(db, case) == ["intervention_referred"]


def test_a_started_intervention_is_not_declined_and_does_not_end_before_it_started(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    case = referred_case(db, cast, opened=REFERRAL)
    made = _refer(client, db, cast, case, on=date(2026, 3, 12), start_date="2026-03-12")
    url = made.headers["Location"]
    headers = {**cast.headers(db), "If-Match": '"1"'}
    with clock.frozen_at(noon(date(2026, 3, 20))):
        declined = client.post(f"{url}/end", json={"outcome": "declined"}, headers=headers)
        early = client.post(
            f"{url}/end", json={"end_date": "2026-03-10", "outcome": "not_met"}, headers=headers
        )
    assert declined.status_code == 422
    assert "was not declined" in declined.text
    assert early.status_code == 422
    assert "before it started" in early.text


def test_a_referral_in_the_future_or_before_the_case_opened_is_refused(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    case = referred_case(db, cast, opened=REFERRAL)
    with clock.frozen_at(noon(date(2026, 3, 5))):
        future = client.post(
            f"/api/v1/cases/{case.id}/interventions",
            json=_programme(referred_date="2026-03-06"),
            headers=cast.headers(db),
        )
        before = client.post(
            f"/api/v1/cases/{case.id}/interventions",
            json=_programme(referred_date="2026-03-01"),
            headers=cast.headers(db),
        )
    assert future.status_code == 422
    assert before.status_code == 422
    assert "before its case opened" in before.text


def test_an_unknown_field_is_refused_not_quietly_stored(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    case = referred_case(db, cast, opened=REFERRAL)
    with clock.frozen_at(noon(date(2026, 3, 5))):
        sneaky = client.post(
            f"/api/v1/cases/{case.id}/interventions",
            json=_programme(version=7, outcome="goals_met"),
            headers=cast.headers(db),
        )
    assert sneaky.status_code == 422, sneaky.text
    assert db.scalar(select(func.count()).select_from(Intervention)) == 0


def test_nothing_is_recorded_on_a_closed_case(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    case = referred_case(db, cast, opened=REFERRAL)
    made = _refer(client, db, cast, case)
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
        new = client.post(
            f"/api/v1/cases/{case.id}/interventions", json=_programme(), headers=cast.headers(db)
        )
        start = client.post(
            f"{made.headers['Location']}/start",
            json={},
            headers={**cast.headers(db), "If-Match": '"1"'},
        )
    assert new.status_code == 409, new.text
    assert start.status_code == 409, start.text
    assert "8565" in start.json()["detail"]


def test_closing_the_case_ends_its_services_on_the_day_and_says_so_on_the_chronology(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    case = referred_case(db, cast, opened=REFERRAL)
    offered = _refer(client, db, cast, case)
    running = _refer(client, db, cast, case, kind="family_support", provider_kind="in_house")
    with clock.frozen_at(noon(date(2026, 3, 6))):
        started = client.post(
            f"{running.headers['Location']}/start",
            json={"start_date": "2026-03-06"},
            headers={**cast.headers(db), "If-Match": '"1"'},
        )
    assert started.status_code == 200, started.text
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
        read = {
            kind: client.get(made.headers["Location"], headers=cast.headers(db)).json()
            for kind, made in (("offered", offered), ("running", running))
        }
    assert (read["offered"]["status"], read["offered"]["outcome"]) == ("ended", "declined")
    assert (read["running"]["status"], read["running"]["outcome"]) == ("ended", "ended_other")
    assert {r["end_date"] for r in read.values()} == {"2026-03-09"}
    assert _events(db, case).count("intervention_ended") == 2


def test_a_worker_who_may_not_see_a_restricted_child_gets_404(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    case = referred_case(db, cast, opened=REFERRAL)
    made = _refer(client, db, cast, case)
    cast.child.is_restricted = True
    db.add(
        RestrictedAccessGrant(
            person_id=cast.child.id, user_id=cast.social_worker.id, granted_by_id=cast.manager.id
        )
    )
    db.flush()
    outsider = cast.headers(db, cast.other_social_worker)
    url = made.headers["Location"]
    with clock.frozen_at(noon(date(2026, 3, 20))):
        assert client.get(url, headers=outsider).status_code == 404
        assert (
            client.get(f"/api/v1/cases/{case.id}/interventions", headers=outsider).status_code
            == 404
        )
        refused = client.post(f"{url}/start", json={}, headers={**outsider, "If-Match": '"1"'})
        named = client.get(url, headers=cast.headers(db))
    assert refused.status_code == 404
    assert named.status_code == 200


def test_of_two_workers_starting_it_at_once_only_the_first_wins(
    db: Session, cast: CareCast
) -> None:
    """The second writer loaded version 1 before the first committed version 2: its guarded
    update finds no row at version 1, so it is refused (412) rather than overwriting."""
    case = referred_case(db, cast, opened=REFERRAL)
    actor = principal(db, cast.social_worker)
    with clock.frozen_at(noon(date(2026, 3, 5))):
        made = intervention_service.intervention_record(
            db,
            actor=actor,
            case_id=case.id,
            kind=InterventionKind.family_group_conference,
            provider_kind=ProviderKind.in_house,
            provider_name="FGC service",
            referred_date=date(2026, 3, 5),
        )
    # The other worker's start lands underneath this session's copy (still at version 1).
    db.execute(
        update(Intervention)
        .where(Intervention.id == made.id)
        .values(version=2, start_date=date(2026, 3, 9))
        .execution_options(synchronize_session=False)
    )
    assert made.version == 1
    with clock.frozen_at(noon(date(2026, 3, 10))), pytest.raises(PreconditionFailed):
        intervention_service.intervention_start(
            db,
            actor=actor,
            intervention_id=made.id,
            expected_version=1,
            start_date=date(2026, 3, 10),
        )
