"""Stories of care leavers: who is eligible (13 weeks since 14, short breaks not counted), the
needs assessment within 3 months of the 16th birthday (rule 26), the pathway plan and its
6-monthly reviews (rule 27), the personal adviser, and the OC3 contacts around the birthdays."""

from __future__ import annotations

import uuid
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.care.codes import LegalStatus, ReasonEpisodeCeased
from app.leavingcare import service as leaving_care_service
from app.leavingcare.codes import Accommodation, Activity, InTouch
from app.leavingcare.eligibility import derive
from app.models import AccessLog, Case, CaseEvent, Deadline, DeadlineKind
from app.models.care import LegalStatusRecord, PeriodOfCare
from app.models.leavingcare import CareLeaverCategory, LeavingCareContact, PathwayPlan
from tests.leavingcare.helpers import (
    BORN,
    SEVENTEEN,
    SIXTEEN,
    cease,
    in_care_since,
    noon,
    principal,
    young_person_cast,
)


def _deadlines(db: Session, child_id: uuid.UUID, kind: DeadlineKind) -> list[Deadline]:
    return list(
        db.scalars(
            select(Deadline)
            .where(Deadline.child_id == child_id, Deadline.kind == kind)
            .order_by(Deadline.start_date)
        )
    )


def _actions(db: Session, child_id: uuid.UUID) -> list[str]:
    return list(
        db.scalars(
            select(CaseEvent.action).where(CaseEvent.child_id == child_id).order_by(CaseEvent.seq)
        )
    )


def test_a_girl_in_care_since_fifteen_is_eligible_at_sixteen_and_assessed_within_three_months(
    client: TestClient, db: Session
) -> None:
    cast = young_person_cast(db)
    in_care_since(db, cast, date(2025, 1, 6))
    headers = cast.headers(db)
    url = f"/api/v1/children/{cast.child.id}/leaving-care"
    with clock.frozen_at(noon(date(2025, 5, 30))):
        before = client.get(url, headers=headers)
    assert before.status_code == 200, before.text
    assert before.json()["category"] == "none"
    assert "Under 16" in before.json()["reason"]
    # The nightly refresh (or any leaving-care write) on her 16th birthday: 160 days since 14.
    with clock.frozen_at(noon(SIXTEEN)):
        leaving_care_service.leaving_care_refresh(db, actor=None, child_id=cast.child.id)
        leaving_care_service.leaving_care_refresh(db, actor=None, child_id=cast.child.id)
        db.commit()
        seen = client.get(url, headers=headers)
    body = seen.json()
    assert body["category"] == "eligible"
    assert body["eligible_since"] == "2025-06-15"
    assert body["days_looked_after_since_14"] == 161
    assert "reg 40" in body["rule"]
    # Rule 26: 3 months from the 16th birthday; opened once however often the refresh runs.
    (needs,) = _deadlines(db, cast.child.id, DeadlineKind.pathway_needs_assessment)
    assert (needs.start_date, needs.due_date, needs.rule_id) == (SIXTEEN, date(2025, 9, 15), "TS26")
    assert [d["kind"] for d in body["deadlines"]] == ["pathway_needs_assessment", "pathway_plan"]
    assert (
        db.scalar(
            select(func.count())
            .select_from(AccessLog)
            .where(AccessLog.person_id == cast.child.id, AccessLog.resource == "leaving_care")
        )
        == 2
    )
    with clock.frozen_at(noon(date(2025, 8, 29))):
        assessed = client.post(
            f"{url}/needs-assessment", json={"summary": "Wants to go to college"}, headers=headers
        )
        assert assessed.status_code == 201, assessed.text
        planned = client.post(
            f"{url}/pathway-plan",
            json={"summary": "College, then supported lodgings"},
            headers=headers,
        )
    assert planned.status_code == 201, planned.text
    db.expire_all()
    assert needs.met_date == date(2025, 8, 29)
    # Rule 27: the first review 6 months after the plan.
    assert planned.json()["next_review_due"] == "2026-02-28"
    assert "pathway_needs_assessment_recorded" in _actions(db, cast.child.id)


def test_a_plan_made_on_31_august_is_reviewed_by_28_february_then_every_six_months(
    client: TestClient, db: Session
) -> None:
    cast = young_person_cast(db)
    in_care_since(db, cast, date(2025, 1, 6))
    headers = cast.headers(db)
    url = f"/api/v1/children/{cast.child.id}/leaving-care"
    with clock.frozen_at(noon(date(2025, 9, 1))):
        assert (
            client.post(
                f"{url}/needs-assessment", json={"completed_date": "2025-08-20"}, headers=headers
            ).status_code
            == 201
        )
        planned = client.post(
            f"{url}/pathway-plan",
            json={"plan_date": "2025-08-31", "summary": "Stay with carers"},
            headers=headers,
        )
    assert planned.json()["next_review_due"] == "2026-02-28"
    plan_url = f"/api/v1/pathway-plans/{planned.json()['id']}"
    with clock.frozen_at(noon(date(2026, 3, 2))):
        reviewed = client.post(f"{plan_url}/reviews", json={"notes": "Late"}, headers=headers)
    assert reviewed.status_code == 201, reviewed.text
    assert reviewed.json()["next_review_due"] == "2026-09-02"
    first, second = _deadlines(db, cast.child.id, DeadlineKind.pathway_plan_review)
    assert (first.due_date, first.met_date) == (date(2026, 2, 28), date(2026, 3, 2))  # missed
    assert second.met_date is None
    # Keeping the plan up to date: the ETag guards against a lost update.
    stale = reviewed.headers["ETag"]
    with clock.frozen_at(noon(date(2026, 3, 3))):
        updated = client.patch(
            plan_url, json={"summary": "Staying put at 18"}, headers=headers | {"If-Match": stale}
        )
        assert updated.status_code == 200, updated.text
        again = client.patch(
            plan_url, json={"summary": "Something else"}, headers=headers | {"If-Match": stale}
        )
    assert again.status_code == 412
    db.expire_all()
    plan = db.get(PathwayPlan, uuid.UUID(planned.json()["id"]))
    assert plan is not None
    assert plan.summary == "Staying put at 18"


def test_a_pathway_plan_waits_for_the_needs_assessment(client: TestClient, db: Session) -> None:
    cast = young_person_cast(db)
    in_care_since(db, cast, date(2025, 1, 6))
    with clock.frozen_at(noon(date(2025, 7, 1))):
        refused = client.post(
            f"/api/v1/children/{cast.child.id}/leaving-care/pathway-plan",
            json={"summary": "Too soon"},
            headers=cast.headers(db),
        )
    assert refused.status_code == 409
    assert refused.json()["code"] == "needs_assessment_first"
    assert refused.json()["rule"] == "CPPCR reg 43"


def test_a_boy_in_care_for_seven_weeks_is_not_eligible_and_gets_no_leaving_care_record(
    client: TestClient, db: Session
) -> None:
    cast = young_person_cast(db)
    in_care_since(db, cast, date(2025, 5, 2))
    with clock.frozen_at(noon(date(2025, 6, 20))):
        refused = client.post(
            f"/api/v1/children/{cast.child.id}/leaving-care/needs-assessment",
            json={},
            headers=cast.headers(db),
        )
        seen = client.get(
            f"/api/v1/children/{cast.child.id}/leaving-care", headers=cast.headers(db)
        )
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "not_a_care_leaver"
    assert "para 19B" in refused.json()["rule"]
    assert "50 of 91 days" in refused.json()["detail"]
    assert seen.json()["category"] == "none"
    assert _deadlines(db, cast.child.id, DeadlineKind.pathway_needs_assessment) == []


def _period(start: date, end: date | None, reason: str | None = None) -> PeriodOfCare:
    return PeriodOfCare(
        id=uuid.uuid4(),
        start_date=start,
        end_date=end,
        reason_ceased=None if reason is None else ReasonEpisodeCeased(reason),
    )


def _status(period: PeriodOfCare, start: date, end: date | None, ls: str) -> LegalStatusRecord:
    return LegalStatusRecord(
        period_id=period.id, start_date=start, end_date=end, legal_status=LegalStatus(ls)
    )


def test_short_breaks_do_not_count_towards_the_thirteen_weeks() -> None:
    """CPPCR reg 40(2) and SSDA903 rule 1001: V3/V4 spells are left out of the 13 weeks."""
    breaks = _period(date(2024, 1, 1), None)
    statuses = [_status(breaks, date(2024, 1, 1), None, "V4")]
    found = derive(
        born=BORN, died=None, periods=[breaks], statuses=statuses, as_of=date(2025, 7, 1)
    )
    assert found.category is CareLeaverCategory.none
    assert found.days_since_14 == 0
    # The same time under section 20 makes her eligible from her 16th birthday.
    statuses = [_status(breaks, date(2024, 1, 1), None, "V2")]
    found = derive(
        born=BORN, died=None, periods=[breaks], statuses=statuses, as_of=date(2025, 7, 1)
    )
    assert found.category is CareLeaverCategory.eligible
    assert found.eligible_since == SIXTEEN


def test_thirteen_weeks_add_up_across_periods_to_a_relevant_then_former_relevant_child() -> None:
    """Para 19B(2)(b): periods amounting in total to 13 weeks, begun after 14, ended after 16."""
    first = _period(date(2023, 9, 1), date(2023, 11, 30), "E4A")  # 90 days at 14
    second = _period(date(2025, 7, 1), date(2025, 7, 3), "E4B")  # 2 days at 16
    statuses = [
        _status(first, date(2023, 9, 1), date(2023, 11, 30), "V2"),
        _status(second, date(2025, 7, 1), date(2025, 7, 3), "V2"),
    ]
    found = derive(
        born=BORN, died=None, periods=[first, second], statuses=statuses, as_of=date(2025, 8, 1)
    )
    assert found.days_since_14 == 92
    assert found.category is CareLeaverCategory.relevant
    assert found.eligible_since == date(2025, 7, 1)
    later = derive(
        born=BORN, died=None, periods=[first, second], statuses=statuses, as_of=date(2027, 8, 1)
    )
    assert later.category is CareLeaverCategory.former_relevant
    # Only the first period: never looked after at 16, so neither eligible nor qualifying.
    alone = derive(
        born=BORN, died=None, periods=[first], statuses=statuses[:1], as_of=date(2025, 8, 1)
    )
    assert alone.category is CareLeaverCategory.none
    # Adopted from care: nobody's care leaver (SSDA903 rule 1001).
    adopted = _period(date(2023, 9, 1), date(2025, 8, 1), "E11")
    found = derive(
        born=BORN,
        died=None,
        periods=[adopted],
        statuses=[_status(adopted, date(2023, 9, 1), date(2025, 8, 1), "E1")],
        as_of=date(2025, 9, 1),
    )
    assert found.category is CareLeaverCategory.none
    assert found.rule == "SSDA903 1001"


def test_a_young_person_looked_after_briefly_at_sixteen_is_qualifying() -> None:
    short = _period(date(2025, 7, 1), date(2025, 7, 20), "E4A")
    found = derive(
        born=BORN,
        died=None,
        periods=[short],
        statuses=[_status(short, date(2025, 7, 1), date(2025, 7, 20), "V2")],
        as_of=date(2025, 9, 1),
    )
    assert found.category is CareLeaverCategory.qualifying
    assert found.rule == "Children Act 1989 s.24"


def test_leaving_care_at_sixteen_makes_a_relevant_child_whose_case_follows_and_whose_oc3_is_built(
    client: TestClient, db: Session
) -> None:
    cast = young_person_cast(db)
    period = in_care_since(db, cast, date(2025, 1, 6))
    cease(db, cast, period, on=date(2025, 10, 1))
    case = db.get(Case, period.case_id)
    assert case is not None
    assert case.state == "care_leaver"
    actions = _actions(db, cast.child.id)
    assert actions.index("care_ceased") < actions.index("leaving_care_category_changed")
    assert actions[-1] == "become_care_leaver"
    headers = cast.headers(db)
    url = f"/api/v1/children/{cast.child.id}/leaving-care"
    with clock.frozen_at(noon(date(2025, 10, 2))):
        seen = client.get(url, headers=headers)
    assert seen.json()["category"] == "relevant"
    assert "s.23A" in seen.json()["rule"]
    # A personal adviser, then another: the history is kept.
    with clock.frozen_at(noon(date(2025, 10, 6))):
        first = client.post(
            f"{url}/personal-adviser",
            json={"adviser_id": str(cast.social_worker.id), "reason": "Allocated on leaving"},
            headers=headers,
        )
        assert first.status_code == 201, first.text
        same = client.post(
            f"{url}/personal-adviser",
            json={"adviser_id": str(cast.social_worker.id)},
            headers=headers,
        )
        iro = client.post(
            f"{url}/personal-adviser", json={"adviser_id": str(cast.iro.id)}, headers=headers
        )
    assert same.status_code == 409
    assert iro.status_code == 422
    with clock.frozen_at(noon(date(2026, 1, 5))):
        second = client.post(
            f"{url}/personal-adviser", json={"adviser_id": str(cast.manager.id)}, headers=headers
        )
        assert second.status_code == 201
        seen = client.get(url, headers=headers).json()
    assert seen["personal_adviser"]["adviser_id"] == str(cast.manager.id)
    assert [(a["start_date"], a["end_date"]) for a in seen["personal_adviser_history"]] == [
        ("2025-10-06", "2026-01-05"),
        ("2026-01-05", None),
    ]
    # Contacts around the 17th birthday (OC3).
    with clock.frozen_at(noon(date(2026, 6, 1))):
        foster = client.post(
            f"{url}/contacts",
            json={"in_touch": "YES", "activity": "F2", "accommodation": "Z1"},
            headers=headers,
        )
        zero = client.post(
            f"{url}/contacts",
            json={"in_touch": "YES", "activity": "0", "accommodation": "D1"},
            headers=headers,
        )
        died = client.post(
            f"{url}/contacts",
            json={"in_touch": "DIED", "activity": "F2", "accommodation": "0"},
            headers=headers,
        )
        bad = client.post(
            f"{url}/contacts",
            json={"in_touch": "MAYBE", "activity": "F2", "accommodation": "D1"},
            headers=headers,
        )
        ok = client.post(
            f"{url}/contacts",
            json={"in_touch": "YES", "activity": "F2", "accommodation": "D1"},
            headers=headers,
        )
    assert foster.status_code == 422
    assert foster.json()["errors"][0]["rule"] == "SSDA903 3001"
    assert zero.status_code == 422
    assert zero.json()["errors"][0]["rule"] == "SSDA903 345"
    assert died.status_code == 422
    assert died.json()["errors"][0]["rule"] == "SSDA903 344"
    assert bad.status_code == 422
    assert "rule 131" in bad.json()["errors"][0]["message"]
    assert ok.status_code == 201, ok.text
    assert db.scalar(select(func.count()).select_from(LeavingCareContact)) == 1
    row = leaving_care_service.oc3_for_child(db, cast.child.id, date(2027, 3, 31))
    assert row is not None
    assert (row.birthday, row.age) == (SEVENTEEN, 17)
    assert (row.in_touch, row.activity, row.accommodation) == (
        InTouch.YES,
        Activity.F2,
        Accommodation.D1,
    )
    # Not in the cohort in a year without a 17th-21st birthday.
    assert leaving_care_service.oc3_for_child(db, cast.child.id, date(2026, 3, 31)) is None
    with clock.frozen_at(noon(date(2026, 7, 1))):
        preview = client.get(f"{url}/oc3?year_end=2027-03-31", headers=headers)
    assert preview.json()["in_touch"] == "YES"


def test_no_contact_is_recorded_while_still_looked_after(client: TestClient, db: Session) -> None:
    cast = young_person_cast(db)
    in_care_since(db, cast, date(2025, 1, 6))
    with clock.frozen_at(noon(date(2025, 9, 1))):
        refused = client.post(
            f"/api/v1/children/{cast.child.id}/leaving-care/contacts",
            json={"in_touch": "YES", "activity": "F2", "accommodation": "D1"},
            headers=cast.headers(db),
        )
    assert refused.status_code == 409
    assert refused.json()["rule"] == "SSDA903 1007"


def test_another_team_may_read_but_not_write_and_a_restricted_child_is_not_found(
    client: TestClient, db: Session
) -> None:
    cast = young_person_cast(db)
    in_care_since(db, cast, date(2025, 1, 6))
    other = cast.headers(db, cast.other_social_worker)
    url = f"/api/v1/children/{cast.child.id}/leaving-care"
    with clock.frozen_at(noon(date(2025, 7, 1))):
        assert client.get(url, headers=other).status_code == 200
        refused = client.post(f"{url}/needs-assessment", json={}, headers=other)
    assert refused.status_code == 403
    hidden = young_person_cast(db, restricted=True)
    with clock.frozen_at(noon(date(2025, 7, 1))):
        assert (
            client.get(
                f"/api/v1/children/{hidden.child.id}/leaving-care", headers=hidden.headers(db)
            ).status_code
            == 404
        )
        assert (
            client.post(
                f"/api/v1/children/{hidden.child.id}/leaving-care/needs-assessment",
                json={},
                headers=hidden.headers(db),
            ).status_code
            == 404
        )


def test_a_refused_write_leaves_nothing_behind(client: TestClient, db: Session) -> None:
    """The refresh a write runs first is rolled back with the write it preceded."""
    cast = young_person_cast(db)
    in_care_since(db, cast, date(2025, 1, 6))
    with clock.frozen_at(noon(date(2025, 7, 1))):
        refused = client.post(
            f"/api/v1/children/{cast.child.id}/leaving-care/needs-assessment",
            json={"completed_date": "2030-01-01"},
            headers=cast.headers(db),
        )
    assert refused.status_code == 422
    db.expire_all()
    assert _deadlines(db, cast.child.id, DeadlineKind.pathway_needs_assessment) == []
    assert "leaving_care_category_changed" not in _actions(db, cast.child.id)


def test_principal_helper_is_a_practitioner(db: Session) -> None:
    cast = young_person_cast(db)
    assert principal(db, cast.social_worker).user_id == cast.social_worker.id


def test_the_daily_refresh_finds_a_girl_who_turned_sixteen_in_care_and_opens_rule_26_once(
    db: Session,
) -> None:
    """No record changes on a 16th birthday: ``casework care refresh`` (daily) is what opens the
    needs-assessment clock of a child who became eligible that day."""
    cast = young_person_cast(db)
    in_care_since(db, cast, date(2025, 1, 6))
    with clock.frozen_at(noon(date(2025, 6, 14))):
        leaving_care_service.leaving_care_refresh_due(db)
    assert _deadlines(db, cast.child.id, DeadlineKind.pathway_needs_assessment) == []
    with clock.frozen_at(noon(SIXTEEN)):
        assert leaving_care_service.leaving_care_refresh_due(db) >= 1
        leaving_care_service.leaving_care_refresh_due(db)
    (needs,) = _deadlines(db, cast.child.id, DeadlineKind.pathway_needs_assessment)
    assert needs.due_date == date(2025, 9, 15)
