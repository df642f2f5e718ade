"""Stories of legal planning: the legal gateway, pre-proceedings under the PLO (rule 35) and care
proceedings held to 26 weeks with extensions of up to 8 weeks at a time (rule 34, s.32)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.deadlines.service import deadline_status
from app.legal.timescales import duration_weeks, proceedings_time_limit, proceedings_week
from app.models import AccessLog, Case, CaseEvent, Deadline, DeadlineKind, DeadlineStatus
from app.models.security import RestrictedAccessGrant
from tests.care.factories import CareCast, make_care_cast, noon, referred_case
from tests.factories import auth_headers, make_child

OPENED = date(2025, 1, 6)  # a Monday


@pytest.fixture
def cast(db: Session) -> CareCast:
    return make_care_cast(db)


def _case(db: Session, cast: CareCast, **kwargs: Any) -> Case:
    return referred_case(db, cast, opened=OPENED, **kwargs)


def _deadlines(db: Session, subject_id: uuid.UUID, kind: DeadlineKind) -> list[Deadline]:
    return list(
        db.scalars(
            select(Deadline)
            .where(Deadline.subject_id == subject_id, Deadline.kind == kind)
            .order_by(Deadline.due_date)
        )
    )


def _actions(db: Session, case_id: uuid.UUID) -> list[str]:
    return list(
        db.scalars(
            select(CaseEvent.action).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)
        )
    )


def _enter_pre_proceedings(
    client: TestClient, headers: dict[str, str], case_id: uuid.UUID, on: date
) -> dict[str, Any]:
    with clock.frozen_at(noon(on)):
        response = client.post(
            f"/api/v1/cases/{case_id}/legal-gateway-meetings",
            json={
                "meeting_date": on.isoformat(),
                "decision": "enter_pre_proceedings",
                "reasons": "Neglect persists despite the CP plan; threshold under s.31 met.",
                "attendees": ["Team manager", "Local authority solicitor", "Social worker"],
            },
            headers=headers,
        )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _issue(
    client: TestClient,
    headers: dict[str, str],
    case_id: uuid.UUID,
    on: date,
    kind: str = "care_order",
    **extra: Any,
) -> Any:
    with clock.frozen_at(noon(on)):
        return client.post(
            f"/api/v1/cases/{case_id}/care-proceedings",
            json={
                "application_kind": kind,
                "application_date": on.isoformat(),
                "court": "Birmingham Family Court",
                "court_case_number": "BM25C00123",
                **extra,
            },
            headers=headers,
        )


# --- pre-proceedings ---------------------------------------------------------------------------


def test_entering_pre_proceedings_starts_a_12_week_review_that_the_outcome_meets(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    case = _case(db, cast)
    headers = cast.headers(db)
    decided = date(2025, 2, 3)
    gateway = _enter_pre_proceedings(client, headers, case.id, decided)
    pre_url = f"/api/v1/pre-proceedings/{gateway['pre_proceedings_id']}"
    with clock.frozen_at(noon(date(2025, 2, 20))):
        pre = client.get(pre_url, headers=headers)
        assert pre.json()["review_due"] == "2025-04-28"  # 12 weeks (rule 35, council default)
        patched = client.patch(
            pre_url,
            json={"letter_sent_date": "2025-02-05", "fgc_offered_date": "2025-02-06"},
            headers={**headers, "If-Match": pre.headers["ETag"]},
        )
        assert patched.status_code == 200, patched.text
        held = client.patch(
            pre_url,
            json={"fgc_held_date": "2025-02-19"},
            headers={**headers, "If-Match": patched.headers["ETag"]},
        )
        met = client.post(
            f"{pre_url}/meetings",
            json={"meeting_date": "2025-02-12", "attendees": ["Mother", "Mother's solicitor"]},
            headers=headers,
        )
    assert held.status_code == 200, held.text
    assert (held.json()["letter_sent_date"], held.json()["fgc_held_date"]) == (
        "2025-02-05",
        "2025-02-19",
    )
    assert met.status_code == 201, met.text
    assert met.json()["meetings"][0]["attendees"] == ["Mother", "Mother's solicitor"]
    # The review on 28 April keeps them open for another 12 weeks; a later one steps them down.
    with clock.frozen_at(noon(date(2025, 4, 28))):
        current = client.get(pre_url, headers=headers)
        continued = client.post(
            f"{pre_url}/outcome",
            json={"outcome": "continued", "reason": "Progress; keep under review."},
            headers={**headers, "If-Match": current.headers["ETag"]},
        )
    assert continued.status_code == 200, continued.text
    assert (continued.json()["state"], continued.json()["review_due"]) == ("open", "2025-07-21")
    with clock.frozen_at(noon(date(2025, 6, 2))):
        stepped = client.post(
            f"{pre_url}/outcome",
            json={"outcome": "stepped_down", "reason": "Home conditions sustained."},
            headers={**headers, "If-Match": continued.headers["ETag"]},
        )
    assert stepped.status_code == 200, stepped.text
    body = stepped.json()
    assert (body["state"], body["outcome"], body["outcome_date"], body["review_due"]) == (
        "concluded",
        "stepped_down",
        "2025-06-02",
        None,
    )
    first, second = _deadlines(
        db, uuid.UUID(gateway["pre_proceedings_id"]), DeadlineKind.pre_proceedings_review
    )
    assert (first.rule_id, first.met_date) == ("TS35", date(2025, 4, 28))
    assert deadline_status(first, date(2025, 6, 2)) is DeadlineStatus.met
    assert second.met_date == date(2025, 6, 2)
    assert _actions(db, case.id)[-7:] == [
        "legal_gateway_decision",
        "pre_proceedings_started",
        "pre_proceedings_updated",
        "pre_proceedings_updated",
        "pre_proceedings_meeting_held",
        "pre_proceedings_continued",
        "pre_proceedings_stepped_down",
    ]


def test_a_gateway_decision_not_to_act_opens_nothing(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    case = _case(db, cast)
    with clock.frozen_at(noon(date(2025, 2, 3))):
        response = client.post(
            f"/api/v1/cases/{case.id}/legal-gateway-meetings",
            json={"decision": "no_legal_action", "reasons": "Threshold not met."},
            headers=cast.headers(db),
        )
    assert response.status_code == 201, response.text
    assert (response.json()["pre_proceedings_id"], response.json()["meeting_date"]) == (
        None,
        "2025-02-03",
    )
    assert (
        db.scalar(
            select(Deadline).where(
                Deadline.case_id == case.id, Deadline.kind == DeadlineKind.pre_proceedings_review
            )
        )
        is None
    )


def test_pre_proceedings_refuse_bad_dates_a_second_entry_and_a_stale_version(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    case = _case(db, cast)
    headers = cast.headers(db)
    gateway = _enter_pre_proceedings(client, headers, case.id, date(2025, 2, 3))
    pre_url = f"/api/v1/pre-proceedings/{gateway['pre_proceedings_id']}"
    with clock.frozen_at(noon(date(2025, 2, 10))):
        again = client.post(
            f"/api/v1/cases/{case.id}/legal-gateway-meetings",
            json={"decision": "enter_pre_proceedings", "reasons": "Again"},
            headers=headers,
        )
        future = client.post(
            f"/api/v1/cases/{case.id}/legal-gateway-meetings",
            json={"decision": "continue_to_plan", "reasons": "x", "meeting_date": "2025-02-11"},
            headers=headers,
        )
        etag = client.get(pre_url, headers=headers).headers["ETag"]
        early_letter = client.patch(
            pre_url, json={"letter_sent_date": "2025-02-01"}, headers={**headers, "If-Match": etag}
        )
        held_unoffered = client.patch(
            pre_url, json={"fgc_held_date": "2025-02-07"}, headers={**headers, "If-Match": etag}
        )
        stale = client.patch(
            pre_url, json={"letter_sent_date": "2025-02-04"}, headers={**headers, "If-Match": '"9"'}
        )
        early_meeting = client.post(
            f"{pre_url}/meetings",
            json={"meeting_date": "2025-02-01", "attendees": ["Father"]},
            headers=headers,
        )
    assert again.status_code == 409
    assert again.json()["existing_pre_proceedings_id"] == gateway["pre_proceedings_id"]
    assert "Public Law Outline" in again.json()["rule"]
    assert future.status_code == 422
    assert early_letter.status_code == 422
    assert early_letter.json()["errors"][0]["field"] == "letter_sent_date"
    assert "rule 35" in early_letter.json()["errors"][0]["rule"]
    assert held_unoffered.status_code == 422
    assert held_unoffered.json()["errors"][0]["field"] == "fgc_held_date"
    assert stale.status_code == 412
    assert early_meeting.status_code == 422
    with clock.frozen_at(noon(date(2025, 2, 10))):
        unchanged = client.get(pre_url, headers=headers).json()
    assert (unchanged["letter_sent_date"], unchanged["version"]) == (None, 1)


# --- care proceedings --------------------------------------------------------------------------


def test_the_26_weeks_begin_with_the_day_of_issue() -> None:
    """s.32(1)(a): "within twenty-six weeks beginning with the day on which the application was
    issued" — issued Monday 6 January 2025, the last day is Sunday 6 July 2025."""
    assert proceedings_time_limit(date(2025, 1, 6)) == date(2025, 7, 6)
    assert proceedings_week(date(2025, 1, 6), date(2025, 1, 12)) == 1
    assert proceedings_week(date(2025, 1, 6), date(2025, 7, 6)) == 26
    assert proceedings_week(date(2025, 1, 6), date(2025, 7, 7)) == 27
    assert duration_weeks(date(2025, 1, 6), date(2025, 7, 6)) == 26.0


def test_proceedings_run_to_a_final_order_with_extensions_moving_the_limit(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    case = _case(db, cast)
    headers = cast.headers(db)
    issued = _issue(client, headers, case.id, date(2025, 1, 13))
    assert issued.status_code == 201, issued.text
    body = issued.json()
    assert (body["state"], body["time_limit_date"], body["week"]) == ("issued", "2025-07-13", 1)
    url = f"/api/v1/care-proceedings/{body['id']}"
    with clock.frozen_at(noon(date(2025, 1, 24))):
        icmh = client.post(
            f"{url}/hearings",
            json={
                "hearing_date": "2025-01-24",
                "hearing_type": "case_management_hearing",
                "outcome": "Directions given; ICO renewed to final hearing.",
            },
            headers=headers,
        )
        ico = client.post(
            f"{url}/interim-orders",
            json={"order_kind": "interim_care_order", "made_date": "2025-01-14"},
            headers=headers,
        )
    assert icmh.status_code == 201, icmh.text
    assert ico.status_code == 201, ico.text
    assert ico.json()["interim_orders"][0]["order_kind"] == "interim_care_order"
    # The court extends by 8 weeks on 1 July (an expert's report is late), then refuses nothing
    # but we try 9 weeks: s.32(7) caps each extension at 8.
    with clock.frozen_at(noon(date(2025, 7, 1))):
        etag = client.get(url, headers=headers).headers["ETag"]
        too_long = client.post(
            f"{url}/extensions",
            json={"granted_date": "2025-07-01", "weeks": 9, "reason": "Expert report late"},
            headers={**headers, "If-Match": etag},
        )
        extended = client.post(
            f"{url}/extensions",
            json={"granted_date": "2025-07-01", "weeks": 8, "reason": "Expert report late"},
            headers={**headers, "If-Match": etag},
        )
        stale = client.post(
            f"{url}/extensions",
            json={"granted_date": "2025-07-01", "weeks": 8, "reason": "Twice?"},
            headers={**headers, "If-Match": etag},
        )
    assert too_long.status_code == 422
    assert "s.32(7)" in too_long.json()["errors"][0]["rule"]
    assert extended.status_code == 201, extended.text
    assert extended.json()["time_limit_date"] == "2025-09-07"
    assert extended.json()["extensions"][0]["previous_time_limit_date"] == "2025-07-13"
    assert stale.status_code == 412
    old, new = _deadlines(db, uuid.UUID(body["id"]), DeadlineKind.care_proceedings_26_weeks)
    assert (old.due_date, old.stopped_date, old.rule_id) == (
        date(2025, 7, 13),
        date(2025, 7, 1),
        "TS34",
    )
    assert (new.due_date, new.met_date, new.stopped_date) == (date(2025, 9, 7), None, None)
    with clock.frozen_at(noon(date(2025, 9, 1))):
        final = client.post(
            f"{url}/final-order",
            json={"final_order": "care_order", "order_date": "2025-09-01"},
            headers={**headers, "If-Match": extended.headers["ETag"]},
        )
        after = client.post(
            f"{url}/hearings",
            json={"hearing_date": "2025-09-01", "hearing_type": "other"},
            headers=headers,
        )
    assert final.status_code == 200, final.text
    assert (final.json()["state"], final.json()["final_order"], final.json()["week"]) == (
        "concluded",
        "care_order",
        None,
    )
    db.refresh(new)
    assert deadline_status(new, date(2025, 9, 1)) is DeadlineStatus.met
    assert after.status_code == 409
    assert _actions(db, case.id)[-5:] == [
        "care_proceedings_issued",
        "court_hearing_recorded",
        "interim_order_made",
        "proceedings_extended",
        "final_order_made",
    ]


def test_proceedings_refuse_dates_out_of_order_and_a_second_open_application_of_a_kind(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    case = _case(db, cast)
    headers = cast.headers(db)
    future = _issue(client, headers, case.id, date(2025, 2, 3), application_date="2025-02-04")
    issued = _issue(client, headers, case.id, date(2025, 2, 3))
    again = _issue(client, headers, case.id, date(2025, 2, 4))
    placement = _issue(client, headers, case.id, date(2025, 2, 4), kind="placement_order")
    url = f"/api/v1/care-proceedings/{issued.json()['id']}"
    with clock.frozen_at(noon(date(2025, 2, 10))):
        early_hearing = client.post(
            f"{url}/hearings",
            json={"hearing_date": "2025-02-02", "hearing_type": "case_management_hearing"},
            headers=headers,
        )
        early_order = client.post(
            f"{url}/final-order",
            json={"final_order": "supervision_order", "order_date": "2025-02-01"},
            headers={**headers, "If-Match": issued.headers["ETag"]},
        )
        no_limit = client.post(
            f"/api/v1/care-proceedings/{placement.json()['id']}/extensions",
            json={"granted_date": "2025-02-10", "weeks": 4, "reason": "x"},
            headers={**headers, "If-Match": placement.headers["ETag"]},
        )
        withdrawn_without_reason = client.post(
            f"{url}/final-order",
            json={"final_order": "withdrawn", "order_date": "2025-02-10"},
            headers={**headers, "If-Match": issued.headers["ETag"]},
        )
    assert future.status_code == 422
    assert future.json()["errors"][0]["field"] == "application_date"
    assert issued.status_code == 201
    assert again.status_code == 409
    assert again.json()["existing_proceedings_id"] == issued.json()["id"]
    assert "s.31" in again.json()["rule"]
    assert placement.status_code == 201  # another kind; and no 26-week limit (s.32 is Part IV)
    assert placement.json()["time_limit_date"] is None
    assert early_hearing.status_code == 422
    assert "s.31/s.32" in early_hearing.json()["errors"][0]["rule"]
    assert early_order.status_code == 422
    assert early_order.json()["errors"][0]["field"] == "order_date"
    assert no_limit.status_code == 409
    assert withdrawn_without_reason.status_code == 422
    # Nothing partial: the refused order left the proceedings open at version 1.
    with clock.frozen_at(noon(date(2025, 2, 10))):
        still = client.get(url, headers=headers).json()
    assert (still["state"], still["version"], still["hearings"]) == ("issued", 1, [])


def test_issuing_proceedings_from_pre_proceedings_concludes_them(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    case = _case(db, cast)
    headers = cast.headers(db)
    gateway = _enter_pre_proceedings(client, headers, case.id, date(2025, 2, 3))
    issued = _issue(
        client,
        headers,
        case.id,
        date(2025, 3, 17),
        pre_proceedings_id=gateway["pre_proceedings_id"],
    )
    assert issued.status_code == 201, issued.text
    with clock.frozen_at(noon(date(2025, 3, 17))):
        pre = client.get(
            f"/api/v1/pre-proceedings/{gateway['pre_proceedings_id']}", headers=headers
        )
    assert (pre.json()["state"], pre.json()["outcome"], pre.json()["outcome_date"]) == (
        "concluded",
        "proceedings_issued",
        "2025-03-17",
    )


def test_another_team_cannot_record_and_a_restricted_child_does_not_exist(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    case = _case(db, cast)
    issued = _issue(client, cast.headers(db), case.id, date(2025, 2, 3))
    outsider = auth_headers(db, cast.other_social_worker)
    with clock.frozen_at(noon(date(2025, 2, 10))):
        hearing = client.post(
            f"/api/v1/care-proceedings/{issued.json()['id']}/hearings",
            json={"hearing_date": "2025-02-10", "hearing_type": "case_management_hearing"},
            headers=outsider,
        )
        gateway = client.post(
            f"/api/v1/cases/{case.id}/legal-gateway-meetings",
            json={"decision": "no_legal_action", "reasons": "x"},
            headers=outsider,
        )
    assert (hearing.status_code, gateway.status_code) == (403, 403)
    assert "court_hearing_recorded" not in _actions(db, case.id)

    hidden = make_child(db, first_name="Rae", restricted=True)
    for user in (cast.manager, cast.social_worker):
        db.add(RestrictedAccessGrant(person_id=hidden.id, user_id=user.id, granted_by_id=user.id))
    db.flush()
    hidden_case = referred_case(db, cast, opened=OPENED, child=hidden)
    proceedings = _issue(client, cast.headers(db), hidden_case.id, date(2025, 2, 3))
    with clock.frozen_at(noon(date(2025, 2, 10))):
        responses = [
            client.get(f"/api/v1/children/{hidden.id}/legal", headers=outsider),
            client.get(f"/api/v1/care-proceedings/{proceedings.json()['id']}", headers=outsider),
            client.post(
                f"/api/v1/cases/{hidden_case.id}/care-proceedings",
                json={
                    "application_kind": "supervision_order",
                    "application_date": "2025-02-10",
                    "court": "x",
                },
                headers=outsider,
            ),
        ]
        named = client.get(f"/api/v1/children/{hidden.id}/legal", headers=cast.headers(db))
    assert [r.status_code for r in responses] == [404, 404, 404]
    assert named.status_code == 200
    assert named.json()["care_proceedings"][0]["court_case_number"] == "BM25C00123"
    logged = db.scalars(
        select(AccessLog).where(
            AccessLog.person_id == hidden.id,
            AccessLog.resource == "legal",
            AccessLog.user_id == cast.social_worker.id,
        )
    ).all()
    assert len(logged) == 1


# --- figures -----------------------------------------------------------------------------------


def _conclude(
    client: TestClient, headers: dict[str, str], proceedings: Any, order: str, on: date
) -> None:
    with clock.frozen_at(noon(on)):
        response = client.post(
            f"/api/v1/care-proceedings/{proceedings.json()['id']}/final-order",
            json={"final_order": order, "order_date": on.isoformat(), "reason": "Leave given"},
            headers={**headers, "If-Match": proceedings.headers["ETag"]},
        )
    assert response.status_code == 200, response.text


def test_durations_count_proceedings_concluded_in_the_period_per_team(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    headers = cast.headers(db)
    other_headers = auth_headers(db, cast.other_social_worker)
    children = [make_child(db, first_name=n) for n in ("Ann", "Bea", "Cai", "Dov", "Eve")]
    cases = [referred_case(db, cast, opened=OPENED, child=c) for c in children[:4]]
    # One of the other team's cases.
    other_case = referred_case(db, cast, opened=OPENED, child=children[4])
    other_case.team_id = cast.other_team.id
    db.flush()
    quick = _issue(client, headers, cases[0].id, date(2025, 1, 6))
    _conclude(client, headers, quick, "supervision_order", date(2025, 5, 5))  # 17.1 weeks
    slow = _issue(client, headers, cases[1].id, date(2025, 1, 6))
    _conclude(client, headers, slow, "care_order", date(2025, 7, 7))  # the day after week 26
    early = _issue(client, headers, cases[2].id, date(2024, 1, 8))
    _conclude(client, headers, early, "no_order", date(2024, 6, 3))  # before the period
    running = _issue(client, headers, cases[3].id, date(2025, 6, 2))
    _issue(client, headers, cases[3].id, date(2025, 6, 2), kind="placement_order")  # not s.32
    elsewhere = _issue(client, other_headers, other_case.id, date(2025, 2, 3))
    _conclude(client, other_headers, elsewhere, "withdrawn", date(2025, 3, 3))
    with clock.frozen_at(noon(date(2025, 8, 1))):
        figures = client.get(
            "/api/v1/legal/proceedings-durations?from=2025-04-01&to=2025-07-31", headers=headers
        )
        team_only = client.get(
            f"/api/v1/legal/proceedings-durations?from=2025-04-01&to=2025-07-31&team={cast.team.id}",
            headers=headers,
        )
        backwards = client.get(
            "/api/v1/legal/proceedings-durations?from=2025-08-01&to=2025-07-31", headers=headers
        )
    assert figures.status_code == 200, figures.text
    body = figures.json()
    assert body["overall"] == {
        "concluded": 2,
        "within_26_weeks": 1,
        "percent_within_26_weeks": 50.0,
        "average_weeks": round((17.1 + 26.1) / 2, 1),
        "open": 1,
    }
    assert {
        (r["proceedings_id"], r["duration_weeks"], r["within_26_weeks"]) for r in body["concluded"]
    } == {
        (quick.json()["id"], 17.1, True),
        (slow.json()["id"], 26.1, False),
    }
    assert [(r["proceedings_id"], r["week"]) for r in body["open"]] == [(running.json()["id"], 9)]
    # The withdrawal (3 March) is outside the period; the other team still shows no figures.
    assert [t["team_id"] for t in body["teams"]] == [str(cast.team.id)]
    assert team_only.json()["overall"] == body["overall"]
    assert backwards.status_code == 422
    with clock.frozen_at(noon(date(2025, 8, 1))):
        march = client.get(
            f"/api/v1/legal/proceedings-durations?from=2025-03-01&to=2025-03-31&team={cast.other_team.id}",
            headers=headers,
        ).json()
    assert (march["overall"]["concluded"], march["concluded"][0]["final_order"]) == (1, "withdrawn")
    assert march["overall"]["average_weeks"] == 4.1
    listed = db.scalars(
        select(AccessLog.person_id).where(AccessLog.resource == "proceedings_durations")
    ).all()
    assert set(listed) >= {children[0].id, children[1].id, children[3].id}
