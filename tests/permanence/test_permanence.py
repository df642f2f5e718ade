"""Stories of permanence: UASC status and when it ceased, motherhood, adoption milestones in the
validator's order, special guardianship exits that must agree with why care ceased, and previous
permanence for a child starting care."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.care.codes import LegalStatus, PlacementType, ReasonEpisodeCeased
from app.core_types import Sex
from app.errors import Conflict, Invalid
from app.models import CaseEvent
from app.models.care import CareEntryRoute, PeriodOfCare
from app.permanence import service as permanence_service
from tests.care.factories import bring_into_care, foster_placement, make_care_cast, noon
from tests.leavingcare.helpers import cease, young_person_cast

TODAY = date(2026, 3, 10)


def _actions(db: Session, child_id: object) -> list[str]:
    return list(
        db.scalars(
            select(CaseEvent.action).where(CaseEvent.child_id == child_id).order_by(CaseEvent.seq)
        )
    )


def test_uasc_status_ceases_by_the_eighteenth_birthday_and_changes_only_with_its_etag(
    client: TestClient, db: Session
) -> None:
    cast = young_person_cast(db)  # 18 on 15 June 2027
    bring_into_care(db, cast, on=date(2025, 1, 6), child=cast.child)
    url = f"/api/v1/children/{cast.child.id}/uasc"
    headers = cast.headers(db)
    with clock.frozen_at(noon(TODAY)):
        made = client.put(url, json={"since_date": "2025-01-06"}, headers=headers)
        assert made.status_code == 200, made.text
        no_etag = client.put(
            url,
            json={
                "since_date": "2025-01-06",
                "ceased_date": "2026-03-01",
                "ceased_reason": "Leave",
            },
            headers=headers,
        )
        no_reason = client.put(
            url,
            json={"since_date": "2025-01-06", "ceased_date": "2026-03-01"},
            headers=headers | {"If-Match": made.headers["ETag"]},
        )
        ceased = client.put(
            url,
            json={
                "since_date": "2025-01-06",
                "ceased_date": "2026-03-01",
                "ceased_reason": "Granted refugee status",
            },
            headers=headers | {"If-Match": made.headers["ETag"]},
        )
        stale = client.put(
            url,
            json={"since_date": "2025-01-06"},
            headers=headers | {"If-Match": made.headers["ETag"]},
        )
    assert no_etag.status_code == 428
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"][0]["rule"] == "SSDA903 104"
    assert ceased.status_code == 200
    assert ceased.headers["ETag"] == '"2"'
    assert stale.status_code == 412
    row = permanence_service.uasc_for_child(db, cast.child.id, date(2026, 3, 31))
    assert row is not None
    assert row.duc == date(2026, 3, 1)
    assert _actions(db, cast.child.id).count("uasc_status_recorded") == 2


def test_uasc_status_cannot_outlast_the_eighteenth_birthday(db: Session) -> None:
    cast = young_person_cast(db, born=date(2008, 1, 20))
    bring_into_care(db, cast, on=date(2025, 1, 6), child=cast.child)
    from tests.care.factories import principal

    with clock.frozen_at(noon(TODAY)):
        with pytest.raises(Invalid) as refused:
            permanence_service.uasc_set(
                db,
                actor=principal(db, cast.social_worker),
                child_id=cast.child.id,
                expected_version=None,
                since_date=date(2025, 1, 6),
                ceased_date=date(2026, 1, 21),
                ceased_reason="Turned 18",
            )
        assert refused.value.extra["errors"][0]["rule"] == "SSDA903 304"
        permanence_service.uasc_set(
            db,
            actor=principal(db, cast.social_worker),
            child_id=cast.child.id,
            expected_version=None,
            since_date=date(2025, 1, 6),
            ceased_date=None,
            ceased_reason=None,
        )
    # Not recorded as ceased: the return carries the 18th birthday (rule 304).
    row = permanence_service.uasc_for_child(db, cast.child.id, date(2026, 3, 31))
    assert row is not None
    assert row.duc == date(2026, 1, 20)


def test_motherhood_follows_the_header_rules(client: TestClient, db: Session) -> None:
    cast = young_person_cast(db)
    bring_into_care(db, cast, on=date(2025, 1, 6), child=cast.child)
    url = f"/api/v1/children/{cast.child.id}/motherhood"
    headers = cast.headers(db)
    with clock.frozen_at(noon(TODAY)):
        no_dob = client.put(url, json={"is_mother": True}, headers=headers)
        before_her = client.put(
            url, json={"is_mother": True, "first_child_birth_date": "2009-01-01"}, headers=headers
        )
        made = client.put(
            url, json={"is_mother": True, "first_child_birth_date": "2026-01-02"}, headers=headers
        )
        back = client.put(
            url, json={"is_mother": False}, headers=headers | {"If-Match": made.headers["ETag"]}
        )
        corrected = client.put(
            url,
            json={"is_mother": False, "is_correction": True},
            headers=headers | {"If-Match": made.headers["ETag"]},
        )
    assert no_dob.status_code == 422
    assert no_dob.json()["errors"][0]["rule"] == "SSDA903 611"
    assert before_her.json()["errors"][0]["rule"] == "SSDA903 621"
    assert made.status_code == 200, made.text
    assert back.status_code == 409
    assert back.json()["rule"] == "SSDA903 207"
    assert corrected.status_code == 200
    assert _actions(db, cast.child.id)[-2:] == ["motherhood_recorded", "motherhood_corrected"]
    boy = young_person_cast(db)
    boy.child.sex = Sex.MALE
    db.flush()
    bring_into_care(db, boy, on=date(2025, 1, 6), child=boy.child)
    with clock.frozen_at(noon(TODAY)):
        refused = client.put(
            f"/api/v1/children/{boy.child.id}/motherhood",
            json={"is_mother": False},
            headers=boy.headers(db),
        )
    assert refused.json()["errors"][0]["rule"] == "SSDA903 165"


def test_adoption_milestones_keep_the_validators_order_and_a_reversal_has_its_reason(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    bring_into_care(
        db,
        cast,
        on=date(2025, 6, 2),
        legal_status=LegalStatus.INTERIM_CARE_ORDER,
        entry_route=CareEntryRoute.court_order,
    )
    headers = cast.headers(db)
    url = f"/api/v1/children/{cast.child.id}/adoption-decisions"
    with clock.frozen_at(noon(TODAY)):
        too_early = client.post(url, json={"decision_date": "2025-05-01"}, headers=headers)
        made = client.post(url, json={"decision_date": "2025-09-01"}, headers=headers)
        second = client.post(url, json={"decision_date": "2025-10-01"}, headers=headers)
        decision_url = f"/api/v1/adoption-decisions/{made.json()['id']}"
        etag = {"If-Match": made.headers["ETag"]}
        matched_early = client.patch(
            decision_url, json={"matched_date": "2025-08-01"}, headers=headers | etag
        )
        adopted_bare = client.patch(
            decision_url,
            json={"placed_date": "2025-12-01", "adoption_order_date": "2026-02-01"},
            headers=headers | etag,
        )
        wrong_sexes = client.patch(
            decision_url,
            json={"adopters_legal_status": "L0", "adopters_sex": "MF"},
            headers=headers | etag,
        )
        no_reason = client.patch(
            decision_url, json={"reversed_date": "2026-01-10"}, headers=headers | etag
        )
        milestones = client.patch(
            decision_url,
            json={"placement_order_date": "2025-10-15", "matched_date": "2025-11-20"},
            headers=headers | etag,
        )
        reversed_ = client.patch(
            decision_url,
            json={"reversed_date": "2026-01-10", "reversed_reason": "RD3"},
            headers=headers | {"If-Match": milestones.headers["ETag"]},
        )
        bad_code = client.patch(
            decision_url,
            json={"reversed_reason": "RD9"},
            headers=headers | {"If-Match": reversed_.headers["ETag"]},
        )
        again = client.post(url, json={"decision_date": "2026-02-01"}, headers=headers)
    assert too_early.status_code == 409
    assert too_early.json()["rule"] == "SSDA903 334"
    assert made.status_code == 201, made.text
    assert second.status_code == 409
    assert second.json()["rule"] == "SSDA903 579"
    assert matched_early.json()["errors"][0]["rule"] == "SSDA903 333"
    assert adopted_bare.json()["errors"][0]["rule"] == "SSDA903 151"
    assert wrong_sexes.json()["errors"][0]["rule"] == "SSDA903 514"
    assert no_reason.json()["errors"][0]["rule"] == "SSDA903 119"
    assert milestones.status_code == 200, milestones.text
    assert reversed_.status_code == 200, reversed_.text
    assert "rule 120" in bad_code.json()["errors"][0]["message"]
    assert again.status_code == 201
    rows = permanence_service.adoption_for_child(db, cast.child.id)
    assert [(r.date_placed, r.date_placed_ceased, r.reason_placed_ceased) for r in rows] == [
        (date(2025, 9, 1), date(2026, 1, 10), "RD3"),
        (date(2026, 2, 1), None, None),
    ]
    assert "adoption_decision_reversed" in _actions(db, cast.child.id)


def test_care_does_not_cease_otherwise_while_a_decision_to_place_for_adoption_is_open(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    period = bring_into_care(db, cast, on=date(2025, 6, 2))
    with clock.frozen_at(noon(date(2025, 9, 2))):
        assert (
            client.post(
                f"/api/v1/children/{cast.child.id}/adoption-decisions",
                json={"decision_date": "2025-09-01"},
                headers=cast.headers(db),
            ).status_code
            == 201
        )
    with pytest.raises(Conflict) as refused:
        cease(
            db, cast, period, on=date(2025, 10, 1), reason=ReasonEpisodeCeased.RETURNED_HOME_PLANNED
        )
    assert refused.value.extra["rule"] == "SSDA903 557"


def test_a_special_guardianship_order_must_agree_with_why_care_ceased(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    period = bring_into_care(
        db, cast, on=date(2025, 6, 2), placement=foster_placement(placement_type=PlacementType.U3)
    )
    url = f"/api/v1/periods-of-care/{period.id}/permanence-order"
    headers = cast.headers(db)
    with clock.frozen_at(noon(date(2026, 1, 12))):
        before_care = client.put(
            url,
            json={
                "kind": "special_guardianship",
                "order_date": "2025-05-01",
                "carer": "relative_or_friend",
                "carer_is_former_foster_carer": True,
            },
            headers=headers,
        )
        made = client.put(
            url,
            json={
                "kind": "special_guardianship",
                "order_date": "2026-01-12",
                "carer": "relative_or_friend",
                "carer_is_former_foster_carer": True,
                "carer_name": "Grandmother",
            },
            headers=headers,
        )
    assert before_care.status_code == 422
    assert made.status_code == 200, made.text
    assert made.json()["reason_ceased"] == "E45"
    with clock.frozen_at(noon(date(2026, 1, 12))):
        refused = client.post(
            f"/api/v1/periods-of-care/{period.id}/cease",
            json={"end_date": "2026-01-12", "reason_ceased": "E4A"},
            headers=headers | {"If-Match": f'"{period.version}"'},
        )
    assert refused.status_code == 409, refused.text
    assert refused.json()["expected_reason_ceased"] == "E45"
    db.expire_all()
    fresh = db.get(PeriodOfCare, period.id)
    assert fresh is not None
    assert fresh.state == "looked_after"  # nothing of the cease is kept
    ceased = cease(
        db, cast, fresh, on=date(2026, 1, 12), reason=ReasonEpisodeCeased.SGO_FOSTER_CARER_RELATIVE
    )
    assert ceased.state == "ceased"


def test_previous_permanence_for_a_child_starting_care(client: TestClient, db: Session) -> None:
    cast = make_care_cast(db)
    period = bring_into_care(db, cast, on=date(2025, 6, 2))
    url = f"/api/v1/periods-of-care/{period.id}/previous-permanence"
    headers = cast.headers(db)
    with clock.frozen_at(noon(TODAY)):
        no_la = client.put(url, json={"prev_perm": "P2"}, headers=headers)
        z1_with_la = client.put(url, json={"prev_perm": "Z1", "la_perm": "330"}, headers=headers)
        bad_la = client.put(
            url,
            json={"prev_perm": "P2", "la_perm": "ABC", "date_perm": "ZZ/05/2019"},
            headers=headers,
        )
        after_start = client.put(
            url,
            json={"prev_perm": "P2", "la_perm": "330", "date_perm": "ZZ/06/2025"},
            headers=headers,
        )
        made = client.put(
            url,
            json={"prev_perm": "P2", "la_perm": "330", "date_perm": "ZZ/05/2019"},
            headers=headers,
        )
        other = client.put(
            url,
            json={"prev_perm": "Z1"},
            headers=cast.headers(db, cast.other_social_worker) | {"If-Match": '"1"'},
        )
    assert no_la.json()["errors"][0]["rule"] == "SSDA903 630"
    assert z1_with_la.json()["errors"][0]["rule"] == "SSDA903 635"
    assert bad_la.json()["errors"][0]["rule"] == "SSDA903 633"
    assert after_start.json()["errors"][0]["rule"] == "SSDA903 632"
    assert made.status_code == 200, made.text
    assert other.status_code == 403
    (row,) = permanence_service.prev_perm_for_child(db, cast.child.id)
    assert (row.prev_perm, row.la_perm, row.date_perm) == ("P2", "330", "ZZ/05/2019")


def test_a_restricted_childs_permanence_is_not_found(client: TestClient, db: Session) -> None:
    cast = young_person_cast(db, restricted=True)
    with clock.frozen_at(noon(TODAY)):
        assert (
            client.get(
                f"/api/v1/children/{cast.child.id}/permanence", headers=cast.headers(db)
            ).status_code
            == 404
        )
        assert (
            client.put(
                f"/api/v1/children/{cast.child.id}/uasc",
                json={"since_date": "2025-01-06"},
                headers=cast.headers(db),
            ).status_code
            == 404
        )


def test_the_permanence_view_is_access_logged(client: TestClient, db: Session) -> None:
    from app.models import AccessLog

    cast = make_care_cast(db)
    bring_into_care(db, cast, on=date(2025, 6, 2))
    with clock.frozen_at(noon(TODAY)):
        seen = client.get(f"/api/v1/children/{cast.child.id}/permanence", headers=cast.headers(db))
    assert seen.status_code == 200
    assert seen.json()["adoption_decisions"] == []
    assert db.scalar(
        select(AccessLog.id).where(
            AccessLog.person_id == cast.child.id, AccessLog.resource == "permanence"
        )
    )
