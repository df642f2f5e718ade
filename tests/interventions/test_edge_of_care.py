"""The edge-of-care measure ("preventing family breakdown", the council's improvement plan): for
each teenager whose intensive support ended, were they still living at home 3, 6 and 12 months
later? Derived from the children-in-care record, never typed in."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.interventions import service
from app.models.audit import AccessLog
from app.models.cases import Case
from app.models.interventions import (
    Intervention,
    InterventionKind,
    InterventionOutcome,
    ProviderKind,
)
from app.models.people import Person
from tests.care.factories import (
    CareCast,
    bring_into_care,
    cease_care,
    make_care_cast,
    noon,
    principal,
    referred_case,
)
from tests.factories import make_child

TODAY = date(2026, 6, 1)


def _edge_of_care(
    db: Session, cast: CareCast, case: Case, *, started: date, ended: date
) -> Intervention:
    """Intensive edge-of-care support from ``started`` to ``ended``, recorded on those days."""
    actor = principal(db, cast.social_worker)
    with clock.frozen_at(noon(started)):
        made = service.intervention_record(
            db,
            actor=actor,
            case_id=case.id,
            kind=InterventionKind.edge_of_care,
            provider_kind=ProviderKind.in_house,
            provider_name="Edge of Care Team",
            referred_date=started,
            start_date=started,
        )
    with clock.frozen_at(noon(ended)):
        return service.intervention_end(
            db,
            actor=actor,
            intervention_id=made.id,
            expected_version=made.version,
            end_date=ended,
            outcome=InterventionOutcome.goals_met,
        )


def _teenager(db: Session, first_name: str, *, restricted: bool = False) -> Person:
    return make_child(
        db, first_name=first_name, date_of_birth=date(2010, 9, 14), restricted=restricted
    )


def test_who_stayed_home_who_came_into_care_and_what_is_not_yet_known(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    # Jay's support ended on 30 April 2025 and Jay stayed at home.
    jay = _teenager(db, "Jay")
    _edge_of_care(
        db,
        cast,
        referred_case(db, cast, opened=date(2025, 1, 6), child=jay),
        started=date(2025, 1, 13),
        ended=date(2025, 4, 30),
    )
    # Kai's ended the same day; four months later (1 September 2025) Kai came into care.
    kai = _teenager(db, "Kai")
    kai_case = referred_case(db, cast, opened=date(2025, 1, 6), child=kai)
    _edge_of_care(db, cast, kai_case, started=date(2025, 1, 13), ended=date(2025, 4, 30))
    bring_into_care(db, cast, on=date(2025, 9, 1), case=kai_case)
    # Lou's ended on 15 January 2026: at 1 June 2026 only the 3-month point has come.
    lou = _teenager(db, "Lou")
    _edge_of_care(
        db,
        cast,
        referred_case(db, cast, opened=date(2025, 10, 6), child=lou),
        started=date(2025, 10, 8),
        ended=date(2026, 1, 15),
    )
    # A family support worker for Jay is not edge-of-care support: not counted.
    with clock.frozen_at(noon(date(2025, 5, 2))):
        service.intervention_record(
            db,
            actor=principal(db, cast.social_worker),
            case_id=db.scalars(select(Case.id).where(Case.child_id == jay.id)).one(),
            kind=InterventionKind.family_support,
            provider_kind=ProviderKind.in_house,
            provider_name="Key workers",
            referred_date=date(2025, 5, 2),
        )
    with clock.frozen_at(noon(TODAY)):
        outcome = client.get(
            "/api/v1/interventions/edge-of-care/outcomes",
            params={"ended_from": "2025-01-01", "ended_to": "2026-03-31"},
            headers=cast.headers(db, cast.manager),
        )
    assert outcome.status_code == 200, outcome.text
    body = outcome.json()
    children = {c["child_name"].split()[0]: c for c in body["children"]}
    at_home = {
        name: (c["at_home_3_months"], c["at_home_6_months"], c["at_home_12_months"])
        for name, c in children.items()
    }
    assert at_home == {
        "Jay": (True, True, True),
        "Kai": (True, False, False),
        "Lou": (True, None, None),
    }
    assert body["count"] == 3
    assert [
        (p["months"], p["known"], p["at_home"], p["percent_at_home"]) for p in body["points"]
    ] == [(3, 3, 3, 100.0), (6, 2, 1, 50.0), (12, 2, 1, 50.0)]
    listed = db.scalar(
        select(func.count(func.distinct(AccessLog.person_id))).where(
            AccessLog.resource == "edge_of_care_outcomes"
        )
    )
    assert listed == 3


def test_a_child_who_went_home_after_care_counts_as_home_again(db: Session) -> None:
    """At home means not looked after on that day: care that has ceased does not count, and the
    day care ceased is the day the child went home (SSDA903 DEC)."""
    cast = make_care_cast(db)
    mo = _teenager(db, "Mo")
    case = referred_case(db, cast, opened=date(2025, 1, 6), child=mo)
    _edge_of_care(db, cast, case, started=date(2025, 1, 13), ended=date(2025, 2, 28))
    period = bring_into_care(db, cast, on=date(2025, 7, 1), case=case)
    cease_care(db, cast, period, on=date(2025, 8, 28))
    with clock.frozen_at(noon(TODAY)):
        result = service.edge_of_care_outcomes(
            db,
            actor=principal(db, cast.manager),
            ended_from=date(2025, 2, 1),
            ended_to=date(2025, 2, 28),
        )
    # 28 May 2025 home; 28 August 2025 the day care ceased: home; 28 February 2026 home.
    assert [c.at_home for c in result.children] == [{3: True, 6: True, 12: True}]


def test_a_restricted_child_is_not_counted_for_someone_not_named_on_the_record(
    db: Session,
) -> None:
    cast = make_care_cast(db)
    hidden = _teenager(db, "Noor")
    _edge_of_care(
        db,
        cast,
        referred_case(db, cast, opened=date(2025, 1, 6), child=hidden),
        started=date(2025, 1, 13),
        ended=date(2025, 4, 30),
    )
    hidden.is_restricted = True
    db.flush()
    with clock.frozen_at(noon(TODAY)):
        result = service.edge_of_care_outcomes(
            db,
            actor=principal(db, cast.manager),
            ended_from=date(2025, 1, 1),
            ended_to=date(2025, 12, 31),
        )
    assert result.count == 0
    assert [p.percent_at_home for p in result.points] == [None, None, None]


def test_a_window_that_ends_before_it_starts_is_refused(client: TestClient, db: Session) -> None:
    cast = make_care_cast(db)
    refused = client.get(
        "/api/v1/interventions/edge-of-care/outcomes",
        params={"ended_from": "2026-01-01", "ended_to": "2025-01-01"},
        headers=cast.headers(db),
    )
    assert refused.status_code == 422
    assert "ended_to" in refused.text
