"""Stories of looked-after children's reviews (rules 15-17, reg 33) chaired by the child's IRO,
with decisions circulated and records completed on rule 29's clocks and recommendations tracked
to completion."""

from __future__ import annotations

import uuid
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.models import CaseEvent, Deadline, DeadlineKind, Role, TeamMembership
from app.models.iro import CLAReview
from tests.care.factories import bring_into_care, make_care_cast, noon
from tests.factories import auth_headers, make_child, make_user
from tests.iro.factories import cease_care, hold_review, in_care_with_iro


def _review_deadlines(db: Session, period_id: uuid.UUID) -> list[tuple[str, date, date | None]]:
    return [
        (d.kind.value, d.due_date, d.met_date)
        for d in db.scalars(
            select(Deadline)
            .where(
                Deadline.subject_id == period_id,
                Deadline.kind.in_(
                    [
                        DeadlineKind.cla_review_first,
                        DeadlineKind.cla_review_second,
                        DeadlineKind.cla_review,
                    ]
                ),
            )
            .order_by(Deadline.due_date)
        )
    ]


def test_reviews_fall_due_in_20_working_days_then_3_months_then_6_months_across_easter(
    client: TestClient, db: Session
) -> None:
    """Rule 15 over Easter 2027 (Good Friday 26 March, Easter Monday 29 March): care from 1 March,
    first review due 31 March. Rule 16: 31 March + 3 months = 30 June. Held late on 31 August
    (saying why); rule 17: 31 August + 6 months = 29 February 2028 (leap year). Held early on 14
    January: the clock resets, the next is due 14 July 2028."""
    cast = make_care_cast(db)
    period = in_care_with_iro(db, cast, on=date(2027, 3, 1))
    headers = auth_headers(db, cast.iro)
    url = f"/api/v1/periods-of-care/{period.id}/reviews"

    def hold(day: date, **body: object) -> dict[str, object]:
        with clock.frozen_at(noon(day)):
            answer = client.post(
                url,
                json={"review_date": day.isoformat(), "participation": "PN1", **body},
                headers=headers,
            )
        assert answer.status_code == 201, answer.text
        result: dict[str, object] = answer.json()
        return result

    first = hold(date(2027, 3, 31))
    assert (first["sequence"], first["due_date"], first["on_time"]) == (1, "2027-03-31", True)
    late_without_reason = None
    with clock.frozen_at(noon(date(2027, 8, 31))):
        late_without_reason = client.post(
            url, json={"review_date": "2027-08-31", "participation": "PN1"}, headers=headers
        )
    assert late_without_reason.status_code == 422
    assert late_without_reason.json()["errors"][0]["field"] == "lateness_reason"
    second = hold(date(2027, 8, 31), lateness_reason="The child was in hospital")
    assert (second["due_date"], second["on_time"]) == ("2027-06-30", False)
    third = hold(date(2028, 1, 14))
    assert third["due_date"] == "2028-02-29"
    assert _review_deadlines(db, period.id) == [
        ("cla_review_first", date(2027, 3, 31), date(2027, 3, 31)),
        ("cla_review_second", date(2027, 6, 30), date(2027, 8, 31)),
        ("cla_review", date(2028, 2, 29), date(2028, 1, 14)),
        ("cla_review", date(2028, 7, 14), None),
    ]
    with clock.frozen_at(noon(date(2028, 1, 15))):
        listed = client.get(url, headers=auth_headers(db, cast.social_worker))
    assert listed.json()["next_review_due"] == "2028-07-14"
    assert listed.json()["next_review_kind"] == "cla_review"
    assert [r["sequence"] for r in listed.json()["reviews"]] == [1, 2, 3]
    assert [r["lateness_reason"] for r in listed.json()["reviews"]] == [
        None,
        "The child was in hospital",
        None,
    ]


def test_a_review_must_be_chaired_by_the_childs_independent_iro_while_the_child_is_in_care(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    period = in_care_with_iro(db, cast, on=date(2026, 3, 2))
    iro_managing_the_team = make_user(db, Role.iro)
    db.add(
        TeamMembership(
            team_id=cast.team.id,
            user_id=iro_managing_the_team.id,
            is_manager=True,
            start_date=date(2020, 1, 1),
        )
    )
    db.flush()
    url = f"/api/v1/periods-of-care/{period.id}/reviews"
    manager = auth_headers(db, cast.iro_manager)

    def post(headers: dict[str, str], **body: object) -> tuple[int, dict[str, object]]:
        with clock.frozen_at(noon(date(2026, 3, 20))):
            answer = client.post(url, json={"participation": "PN1", **body}, headers=headers)
        return answer.status_code, answer.json()

    code, body = post(manager, chair_id=str(cast.social_worker.id))
    assert code == 422
    assert body["errors"][0]["rule"] == "CPPCR 2010 reg 36"  # type: ignore[index]
    code, body = post(manager, chair_id=str(iro_managing_the_team.id))
    assert code == 422
    assert body["errors"][0]["rule"] == "CPPCR 2010 reg 46(2)"  # type: ignore[index]
    code, body = post(manager, chair_id=str(cast.other_iro.id))
    assert code == 409
    assert body["code"] == "chair_not_childs_iro"
    code, body = post(manager)
    assert code == 422  # a manager records for the IRO, naming the chair
    code, body = post(auth_headers(db, cast.other_iro))
    assert code == 403  # an IRO who is not the child's
    code, body = post(auth_headers(db, cast.social_worker))
    assert code == 403  # cla_review:write is for IROs and managers
    iro = auth_headers(db, cast.iro)
    code, body = post(iro, review_date="2026-03-01")
    assert code == 422
    assert body["errors"][0]["rule"] == "CPPCR 2010 reg 33 (timescales rules 15-17)"  # type: ignore[index]
    code, body = post(iro, review_date="2026-03-21")
    assert code == 422  # in the future
    code, body = post(iro, participation="PN0")
    assert code == 422
    assert body["errors"][0]["rule"] == "SSDA903 440"  # type: ignore[index]
    code, body = post(
        iro,
        actions=[
            {
                "text": "Contact with grandparents",
                "owner_id": str(uuid.uuid4()),
                "due_date": "2026-04-30",
            }
        ],
    )
    assert code == 422
    # Nothing partial: no review, the first review still due and untouched.
    assert db.scalars(select(CLAReview)).all() == []
    assert _review_deadlines(db, period.id) == [("cla_review_first", date(2026, 3, 30), None)]
    code, body = post(iro)
    assert code == 201
    assert body["chair_id"] == str(cast.iro.id)


def test_a_toddler_takes_part_as_pn0_and_a_restricted_child_is_not_found(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    toddler = make_child(db, first_name="Tia", date_of_birth=date(2023, 6, 1))
    period = in_care_with_iro(db, cast, on=date(2026, 3, 2), child=toddler)
    url = f"/api/v1/periods-of-care/{period.id}/reviews"
    headers = auth_headers(db, cast.iro)
    with clock.frozen_at(noon(date(2026, 3, 20))):
        spoke = client.post(url, json={"participation": "PN1"}, headers=headers)
        under_four = client.post(url, json={"participation": "PN0"}, headers=headers)
    assert spoke.status_code == 422
    assert spoke.json()["errors"][0]["rule"] == "SSDA903 441"
    assert under_four.status_code == 201, under_four.text
    hidden = make_child(db, first_name="Dana")
    hidden_period = bring_into_care(db, cast, on=date(2026, 3, 2), child=hidden)
    hidden.is_restricted = True  # a restricted record (named users only: nobody here)
    db.flush()
    with clock.frozen_at(noon(date(2026, 3, 20))):
        answer = client.post(
            f"/api/v1/periods-of-care/{hidden_period.id}/reviews",
            json={"participation": "PN1", "chair_id": str(cast.iro.id)},
            headers=auth_headers(db, cast.iro_manager),
        )
    assert answer.status_code == 404


def test_decisions_are_circulated_in_5_working_days_and_the_record_completed_in_20(
    client: TestClient, db: Session
) -> None:
    """Rule 29 from a review on 18 December 2025: decisions by 29 December (25, 26 December are
    bank holidays), the record by 20 January 2026 (1 January too)."""
    cast = make_care_cast(db)
    period = in_care_with_iro(db, cast, on=date(2025, 12, 1))
    review = hold_review(db, cast, period, on=date(2025, 12, 18))
    due = {
        d.kind.value: d.due_date
        for d in db.scalars(select(Deadline).where(Deadline.subject_id == review.id))
    }
    assert due == {"review_decisions": date(2025, 12, 29), "review_record": date(2026, 1, 20)}
    url = f"/api/v1/cla-reviews/{review.id}"
    headers = auth_headers(db, cast.iro)
    with clock.frozen_at(noon(date(2026, 1, 5))):
        etag = client.get(url, headers=headers).headers["ETag"]
        too_early = client.post(
            f"{url}/record-completed", json={}, headers={**headers, "If-Match": etag}
        )
        stale = client.post(
            f"{url}/decisions-circulated", json={}, headers={**headers, "If-Match": '"99"'}
        )
        circulated = client.post(
            f"{url}/decisions-circulated",
            json={"on_date": "2025-12-23"},
            headers={**headers, "If-Match": etag},
        )
        completed = client.post(
            f"{url}/record-completed",
            json={},
            headers={**headers, "If-Match": circulated.headers["ETag"]},
        )
    assert too_early.status_code == 409
    assert too_early.json()["allowed_events"] == ["cla_review_decisions_circulated"]
    assert stale.status_code == 412
    assert circulated.status_code == 200, circulated.text
    assert circulated.json()["state"] == "decisions_circulated"
    assert completed.json()["state"] == "record_completed"
    assert completed.json()["record_completed_date"] == "2026-01-05"
    met = {
        d.kind.value: d.met_date
        for d in db.scalars(select(Deadline).where(Deadline.subject_id == review.id))
    }
    assert met == {"review_decisions": date(2025, 12, 23), "review_record": date(2026, 1, 5)}
    actions = db.scalars(
        select(CaseEvent.action).where(CaseEvent.subject_id == review.id).order_by(CaseEvent.seq)
    ).all()
    assert actions == [
        "cla_review_held",
        "cla_review_decisions_circulated",
        "cla_review_record_completed",
    ]


def test_a_recommendation_has_an_owner_and_a_date_and_is_tracked_to_completion(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    period = in_care_with_iro(db, cast, on=date(2026, 3, 2))
    with clock.frozen_at(noon(date(2026, 3, 25))):
        held = client.post(
            f"/api/v1/periods-of-care/{period.id}/reviews",
            json={
                "participation": "PN2",
                "actions": [
                    {
                        "kind": "recommendation",
                        "text": "Arrange contact with grandparents",
                        "owner_id": str(cast.social_worker.id),
                        "due_date": "2026-04-24",
                    }
                ],
            },
            headers=auth_headers(db, cast.iro),
        )
    assert held.status_code == 201, held.text
    action = held.json()["actions"][0]
    deadline = db.scalars(
        select(Deadline).where(Deadline.subject_id == uuid.UUID(action["id"]))
    ).one()
    assert (deadline.kind, deadline.due_date, deadline.rule_id) == (
        DeadlineKind.recommendation,
        date(2026, 4, 24),
        "TS29A",
    )
    with clock.frozen_at(noon(date(2026, 4, 27))):
        overview = client.get("/api/v1/iro/children", headers=auth_headers(db, cast.iro))
    line = overview.json()[0]
    assert (line["outstanding_recommendations"], line["overdue_recommendations"]) == (1, 1)
    url = f"/api/v1/cla-review-actions/{action['id']}/complete"
    with clock.frozen_at(noon(date(2026, 4, 28))):
        other_team = client.post(
            url,
            json={},
            headers={**auth_headers(db, cast.other_social_worker), "If-Match": '"1"'},
        )
        stale = client.post(
            url, json={}, headers={**auth_headers(db, cast.social_worker), "If-Match": '"7"'}
        )
        done = client.post(
            url,
            json={"note": "Fortnightly contact agreed"},
            headers={**auth_headers(db, cast.social_worker), "If-Match": '"1"'},
        )
        again = client.post(
            url, json={}, headers={**auth_headers(db, cast.social_worker), "If-Match": '"2"'}
        )
    assert other_team.status_code == 403
    assert stale.status_code == 412
    assert done.status_code == 200, done.text
    assert done.json()["completed_date"] == "2026-04-28"
    assert again.status_code == 409
    db.refresh(deadline)
    assert deadline.met_date == date(2026, 4, 28)


def test_reviews_stop_when_care_ceases(client: TestClient, db: Session) -> None:
    cast = make_care_cast(db)
    period = in_care_with_iro(db, cast, on=date(2026, 3, 2))
    hold_review(db, cast, period, on=date(2026, 3, 27))
    cease_care(db, cast, period, on=date(2026, 5, 1))
    assert [
        d.stopped_date
        for d in db.scalars(
            select(Deadline).where(
                Deadline.subject_id == period.id,
                Deadline.kind == DeadlineKind.cla_review_second,
            )
        )
    ] == [date(2026, 5, 1)]
    with clock.frozen_at(noon(date(2026, 5, 5))):
        after = client.post(
            f"/api/v1/periods-of-care/{period.id}/reviews",
            json={"participation": "PN1", "chair_id": str(cast.iro.id)},
            headers=auth_headers(db, cast.iro_manager),
        )
        listed = client.get(
            f"/api/v1/periods-of-care/{period.id}/reviews", headers=auth_headers(db, cast.iro)
        )
    assert after.status_code == 422
    assert "Care ceased" in after.json()["errors"][0]["message"]
    assert listed.json()["next_review_due"] is None


def test_the_chair_finishes_the_reviews_paperwork_after_care_ceases_but_another_iro_may_not(
    client: TestClient, db: Session
) -> None:
    """Rule 29's clocks keep running for a review already held: the IRO who chaired it still
    circulates the decisions after their allocation ended with the care."""
    cast = make_care_cast(db)
    period = in_care_with_iro(db, cast, on=date(2026, 3, 2))
    review = hold_review(db, cast, period, on=date(2026, 3, 27))
    cease_care(db, cast, period, on=date(2026, 3, 30))
    db.commit()
    url = f"/api/v1/cla-reviews/{review.id}/decisions-circulated"
    with clock.frozen_at(noon(date(2026, 3, 31))):
        stranger = client.post(
            url, json={}, headers=auth_headers(db, cast.other_iro) | {"If-Match": '"1"'}
        )
        chair = client.post(url, json={}, headers=auth_headers(db, cast.iro) | {"If-Match": '"1"'})
    assert stranger.status_code == 403
    assert chair.status_code == 200, chair.text
    assert chair.json()["state"] == "decisions_circulated"
