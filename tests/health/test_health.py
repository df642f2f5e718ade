"""Stories of a looked-after child's health and wellbeing: the initial health assessment before the
first review (rule 23), reviews 6 or 12 months on by age (rule 24), and the SDQ, dental checks,
substance misuse and convictions that the SSDA903 OC2 row is derived from."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.care.codes import ReasonEpisodeCeased
from app.deadlines.service import deadline_status
from app.health import service as health_service
from app.health.schemas import (
    ConvictionCreate,
    DentalCheckCreate,
    HealthAssessmentCreate,
    SDQCreate,
    SubstanceMisuseCreate,
)
from app.models import AccessLog, CaseEvent, Deadline, DeadlineKind, DeadlineStatus
from app.models.care import PeriodOfCare
from app.models.health import HealthAssessment, SDQRecord
from tests.care.factories import (
    CareCast,
    bring_into_care,
    cease_care,
    make_care_cast,
    noon,
    principal,
)
from tests.factories import make_child

EASTER_THURSDAY = date(2026, 4, 2)


def _deadlines(db: Session, period: PeriodOfCare, kind: DeadlineKind) -> list[Deadline]:
    db.expire_all()
    return list(
        db.scalars(
            select(Deadline)
            .where(Deadline.subject_id == period.id, Deadline.kind == kind)
            .order_by(Deadline.start_date)
        )
    )


def _assess(
    client: TestClient, cast: CareCast, db: Session, period: PeriodOfCare, on: date, **extra: object
) -> dict[str, object]:
    with clock.frozen_at(noon(on)):
        response = client.post(
            f"/api/v1/periods-of-care/{period.id}/health-assessments",
            json={"is_immunisations_up_to_date": True, **extra},
            headers=cast.headers(db),
        )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_the_initial_health_assessment_is_due_before_the_first_review(
    client: TestClient, db: Session
) -> None:
    """Rule 23: 20 working days after becoming looked after, across Easter and the May bank
    holiday; the assessment meets it and, the child being 10, the review falls 12 months on."""
    cast = make_care_cast(db)
    period = bring_into_care(db, cast, on=EASTER_THURSDAY)
    (initial,) = _deadlines(db, period, DeadlineKind.health_assessment_initial)
    assert (initial.rule_id, initial.due_date) == ("TS23", date(2026, 5, 5))

    assessed = _assess(client, cast, db, period, date(2026, 5, 6), assessed_by="Dr Patel")
    assert assessed["kind"] == "initial"
    (initial,) = _deadlines(db, period, DeadlineKind.health_assessment_initial)
    assert initial.met_date == date(2026, 5, 6)
    assert deadline_status(initial, date(2026, 5, 6)) is DeadlineStatus.missed
    (review,) = _deadlines(db, period, DeadlineKind.health_assessment_review)
    assert (review.rule_id, review.due_date) == ("TS24", date(2027, 5, 6))

    with clock.frozen_at(noon(date(2026, 5, 7))):
        read = client.get(f"/api/v1/periods-of-care/{period.id}/health", headers=cast.headers(db))
    assert read.status_code == 200, read.text
    assert read.json()["next_assessment_due"] == "2027-05-06"
    assert [a["kind"] for a in read.json()["assessments"]] == ["initial"]
    logged = db.scalar(
        select(func.count())
        .select_from(AccessLog)
        .where(AccessLog.person_id == cast.child.id, AccessLog.resource == "health_record")
    )
    assert logged == 1
    actions = list(db.scalars(select(CaseEvent.action).where(CaseEvent.case_id == period.case_id)))
    assert "health_assessment_initial_recorded" in actions


def test_a_toddlers_reviews_are_six_monthly_until_five_then_yearly(
    client: TestClient, db: Session
) -> None:
    """Rule 24, by the age at the last assessment: 31 August + 6 months = 29 February (2028 is a
    leap year); an assessment after the 5th birthday puts the next 12 months on."""
    cast = make_care_cast(db)
    toddler = make_child(db, first_name="Tia", date_of_birth=date(2024, 1, 10))
    period = bring_into_care(db, cast, on=date(2027, 8, 2), child=toddler)
    first = _assess(
        client, cast, db, period, date(2027, 8, 31), is_development_checks_up_to_date=True
    )
    assert first["kind"] == "initial"
    second = _assess(client, cast, db, period, date(2028, 2, 29))
    assert second["kind"] == "review"
    third = _assess(client, cast, db, period, date(2029, 2, 28))  # aged 5 since 10 January
    assert third["kind"] == "review"
    reviews = _deadlines(db, period, DeadlineKind.health_assessment_review)
    assert [(r.start_date, r.due_date, r.met_date) for r in reviews] == [
        (date(2027, 8, 31), date(2028, 2, 29), date(2028, 2, 29)),
        (date(2028, 2, 29), date(2028, 8, 29), date(2029, 2, 28)),
        (date(2029, 2, 28), date(2030, 2, 28), None),
    ]
    assert deadline_status(reviews[1], date(2029, 2, 28)) is DeadlineStatus.missed


def test_health_records_refuse_bad_dates_naming_the_rule(client: TestClient, db: Session) -> None:
    cast = make_care_cast(db)
    period = bring_into_care(db, cast, on=EASTER_THURSDAY)
    url = f"/api/v1/periods-of-care/{period.id}"
    headers = cast.headers(db)
    with clock.frozen_at(noon(date(2026, 5, 1))):
        future = client.post(
            f"{url}/health-assessments",
            json={"is_immunisations_up_to_date": True, "assessment_date": "2026-05-02"},
            headers=headers,
        )
        before_care = client.post(
            f"{url}/health-assessments",
            json={"is_immunisations_up_to_date": True, "assessment_date": "2026-03-31"},
            headers=headers,
        )
        dental_before_care = client.post(
            f"{url}/dental-checks", json={"check_date": "2026-03-01"}, headers=headers
        )
    assert future.status_code == 422
    assert future.json()["errors"][0]["field"] == "assessment_date"
    assert before_care.status_code == 422
    assert before_care.json()["errors"][0]["rule"] == "TS23"
    assert dental_before_care.status_code == 422
    assert db.scalar(select(func.count()).select_from(HealthAssessment)) == 0

    _assess(client, cast, db, period, date(2026, 4, 20))
    with clock.frozen_at(noon(date(2026, 5, 1))):
        out_of_order = client.post(
            f"{url}/health-assessments",
            json={"is_immunisations_up_to_date": True, "assessment_date": "2026-04-10"},
            headers=headers,
        )
    assert out_of_order.status_code == 422
    assert out_of_order.json()["errors"][0]["rule"] == "TS24"

    cast.child.date_of_death = date(2026, 4, 25)
    db.commit()
    with clock.frozen_at(noon(date(2026, 5, 1))):
        after_death = client.post(
            f"{url}/dental-checks", json={"check_date": "2026-04-28"}, headers=headers
        )
    assert after_death.status_code == 422
    assert after_death.json()["errors"][0]["rule"] == "no activity after PersonDeathDate"


def test_the_sdq_follows_the_ssda903_rules(client: TestClient, db: Session) -> None:
    cast = make_care_cast(db)  # a child born 1 May 2015: 10 in the year to 31 March 2027
    period = bring_into_care(db, cast, on=EASTER_THURSDAY)
    url = f"/api/v1/periods-of-care/{period.id}/sdqs"
    headers = cast.headers(db)

    def post(body: dict[str, object]) -> tuple[int, str | None]:
        with clock.frozen_at(noon(date(2026, 6, 1))):
            response = client.post(url, json=body, headers=headers)
        errors = response.json().get("errors") or [{}]
        return response.status_code, errors[0].get("rule")

    assert post({"score": 41}) == (422, "SSDA903 180")
    assert post({"score": -1}) == (422, "SSDA903 180")
    assert post({"score": 12, "reason": "SDQ2"}) == (422, "SSDA903 197a")
    assert post({}) == (422, "SSDA903 186")
    assert post({"reason": "SDQ1"}) == (422, "SSDA903 157")
    assert post({"reason": "SDQ9"})[0] == 422  # not a code (rule 196)
    assert db.scalar(select(func.count()).select_from(SDQRecord)) == 0

    with clock.frozen_at(noon(date(2026, 6, 1))):
        recorded = client.post(url, json={"score": 40}, headers=headers)
        again = client.post(url, json={"score": 12}, headers=headers)
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["year_end"] == "2027-03-31"
    assert again.status_code == 409
    assert again.json()["sdq_id"] == recorded.json()["id"]

    sdq_url = f"/api/v1/sdqs/{recorded.json()['id']}"
    with clock.frozen_at(noon(date(2026, 6, 2))):
        corrected = client.put(
            sdq_url,
            json={"reason": "SDQ5", "completed_date": "2026-06-02"},
            headers={**headers, "If-Match": recorded.headers["ETag"]},
        )
        stale = client.put(
            sdq_url, json={"score": 3}, headers={**headers, "If-Match": recorded.headers["ETag"]}
        )
    assert corrected.status_code == 200, corrected.text
    assert (corrected.json()["score"], corrected.json()["reason"]) == (None, "SDQ5")
    assert stale.status_code == 412
    with clock.frozen_at(noon(date(2027, 4, 10))):
        other_year = client.put(
            sdq_url,
            json={"score": 3, "completed_date": "2027-04-05"},  # in the year to 31 March 2028
            headers={**headers, "If-Match": corrected.headers["ETag"]},
        )
    assert other_year.status_code == 422
    assert other_year.json()["errors"][0]["field"] == "completed_date"
    actions = list(db.scalars(select(CaseEvent.action).where(CaseEvent.case_id == period.case_id)))
    assert actions.count("sdq_corrected") == 1


def test_no_sdq_for_a_child_under_four_at_the_end_of_the_year(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    toddler = make_child(db, first_name="Tia", date_of_birth=date(2023, 4, 1))  # 4 on 1 April 2027
    period = bring_into_care(db, cast, on=EASTER_THURSDAY, child=toddler)
    with clock.frozen_at(noon(date(2026, 6, 1))):
        response = client.post(
            f"/api/v1/periods-of-care/{period.id}/sdqs",
            json={"score": 10},
            headers=cast.headers(db),
        )
    assert response.status_code == 422
    assert response.json()["errors"][0]["rule"] == "SSDA903 188"


def test_substance_misuse_and_convictions_follow_the_ssda903_rules(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    period = bring_into_care(db, cast, on=EASTER_THURSDAY)
    url = f"/api/v1/periods-of-care/{period.id}"
    headers = cast.headers(db)
    with clock.frozen_at(noon(date(2026, 6, 1))):
        both = client.post(
            f"{url}/substance-misuse",
            json={"is_intervention_received": True, "is_intervention_offered": False},
            headers=headers,
        )
        neither = client.post(
            f"{url}/substance-misuse", json={"is_intervention_received": False}, headers=headers
        )
        fine = client.post(
            f"{url}/substance-misuse",
            json={"is_intervention_received": False, "is_intervention_offered": True},
            headers=headers,
        )
        convicted = client.post(
            f"{url}/convictions", json={"conviction_date": "2026-05-20"}, headers=headers
        )
    assert both.status_code == 422
    assert both.json()["errors"][0]["rule"] == "SSDA903 158"
    assert neither.status_code == 422
    assert neither.json()["errors"][0]["rule"] == "SSDA903 159"
    assert fine.status_code == 201, fine.text
    assert convicted.status_code == 201, convicted.text

    young = make_child(db, first_name="Sam", date_of_birth=date(2016, 9, 1))
    young_period = bring_into_care(db, cast, on=EASTER_THURSDAY, child=young)
    with clock.frozen_at(noon(date(2026, 6, 1))):
        too_young = client.post(
            f"/api/v1/periods-of-care/{young_period.id}/convictions",
            json={"conviction_date": "2026-05-20"},
            headers=headers,
        )
    assert too_young.status_code == 422
    assert too_young.json()["errors"][0]["rule"] == "SSDA903 542"


def test_health_records_are_refused_on_a_ceased_period_another_team_and_a_restricted_child(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    period = bring_into_care(db, cast, on=EASTER_THURSDAY)
    url = f"/api/v1/periods-of-care/{period.id}/dental-checks"
    with clock.frozen_at(noon(date(2026, 5, 1))):
        other_team = client.post(url, json={}, headers=cast.headers(db, cast.other_social_worker))
    assert other_team.status_code == 403

    cease_care(
        db, cast, period, on=date(2026, 4, 30), reason=ReasonEpisodeCeased.LIVING_WITH_PARENTS_NO_PR
    )
    db.commit()
    with clock.frozen_at(noon(date(2026, 5, 1))):
        ceased = client.post(url, json={"check_date": "2026-04-29"}, headers=cast.headers(db))
    assert ceased.status_code == 409
    assert ceased.json()["code"] == "period_of_care_ceased"

    cast.child.is_restricted = True
    db.commit()
    with clock.frozen_at(noon(date(2026, 5, 1))):
        hidden = client.get(f"/api/v1/periods-of-care/{period.id}/health", headers=cast.headers(db))
        hidden_oc2 = client.get(
            f"/api/v1/children/{cast.child.id}/oc2",
            params={"year_end": "2026-03-31"},
            headers=cast.headers(db),
        )
    assert hidden.status_code == 404
    assert hidden_oc2.status_code == 404


def _year_of_records(db: Session, cast: CareCast, period: PeriodOfCare) -> None:
    """A year of a 10-year-old's records, through the services, each on its own day."""
    actor = principal(db, cast.social_worker)

    with clock.frozen_at(noon(date(2025, 3, 20))):
        health_service.health_assessment_record(
            db,
            actor=actor,
            period_id=period.id,
            body=HealthAssessmentCreate(is_immunisations_up_to_date=False),
        )
    with clock.frozen_at(noon(date(2025, 6, 10))):
        health_service.dental_check_record(
            db, actor=actor, period_id=period.id, body=DentalCheckCreate()
        )
    with clock.frozen_at(noon(date(2025, 9, 1))):
        health_service.sdq_record(db, actor=actor, period_id=period.id, body=SDQCreate(score=14))
    with clock.frozen_at(noon(date(2025, 11, 1))):
        health_service.substance_misuse_record(
            db,
            actor=actor,
            period_id=period.id,
            body=SubstanceMisuseCreate(
                is_intervention_received=False, is_intervention_offered=True
            ),
        )
    with clock.frozen_at(noon(date(2026, 1, 15))):
        health_service.health_assessment_record(
            db,
            actor=actor,
            period_id=period.id,
            body=HealthAssessmentCreate(is_immunisations_up_to_date=True),
        )
    with clock.frozen_at(noon(date(2026, 2, 2))):
        health_service.conviction_record(
            db, actor=actor, period_id=period.id, body=ConvictionCreate()
        )


def test_the_oc2_row_of_a_child_looked_after_all_year_is_derived_from_the_records(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    period = bring_into_care(db, cast, on=date(2025, 3, 3))
    _year_of_records(db, cast, period)
    row = health_service.oc2_for_child(db, cast.child.id, date(2026, 3, 31))
    assert row is not None
    assert row.fields() == {
        "CHILD": cast.child.id,
        "DOB": date(2015, 5, 1),
        "SDQ_SCORE": 14,
        "SDQ_REASON": None,
        "CONVICTED": 1,  # aged 10 at 31 March (rule 543)
        "HEALTH_CHECK": None,  # aged 5 or over (rule 546)
        "IMMUNISATIONS": 1,  # the last assessment found them up to date
        "TEETH_CHECK": 1,
        "HEALTH_ASSESSMENT": 1,  # the review of 15 January 2026 is next due in 2027
        "SUBSTANCE_MISUSE": 1,
        "INTERVENTION_RECEIVED": 0,
        "INTERVENTION_OFFERED": 1,  # asked only when none was received (rules 158, 159)
    }
    db.commit()
    with clock.frozen_at(noon(date(2026, 4, 10))):
        api = client.get(
            f"/api/v1/children/{cast.child.id}/oc2",
            params={"year_end": "2026-03-31"},
            headers=cast.headers(db),
        )
        not_a_year_end = client.get(
            f"/api/v1/children/{cast.child.id}/oc2",
            params={"year_end": "2026-03-30"},
            headers=cast.headers(db),
        )
    assert api.status_code == 200, api.text
    assert api.json()["SDQ_SCORE"] == 14
    assert api.json()["INTERVENTION_RECEIVED"] == 0
    assert not_a_year_end.status_code == 422
    # The next year, nothing recorded: no dental check, no SDQ, the assessment overdue by then.
    later = health_service.oc2_for_child(db, cast.child.id, date(2027, 3, 31))
    assert later is not None
    assert (later.teeth_check, later.health_assessment, later.sdq_score) == (0, 0, None)
    assert (later.convicted, later.substance_misuse, later.intervention_received) == (0, 0, None)


def test_no_oc2_row_for_a_child_who_came_into_care_during_the_year(db: Session) -> None:
    cast = make_care_cast(db)
    bring_into_care(db, cast, on=date(2025, 4, 2))
    assert health_service.oc2_for_child(db, cast.child.id, date(2026, 3, 31)) is None
    # Looked after from 1 April counts as the whole year (the validator's add_CLA_column).
    other = make_child(db, first_name="Lee", date_of_birth=date(2022, 6, 1))
    bring_into_care(db, cast, on=date(2025, 4, 1), child=other)
    row = health_service.oc2_for_child(db, other.id, date(2026, 3, 31))
    assert row is not None
    # Under 4 at 31 March: no SDQ (rule 188); under 5: health check asked (545); under 10: no
    # conviction item (542).
    assert (row.sdq_score, row.sdq_reason, row.convicted) == (None, None, None)
    assert row.health_check == 0
    assert (row.immunisations, row.health_assessment) == (0, 0)
