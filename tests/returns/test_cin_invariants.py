"""Valid by construction: what the CIN census validator would flag, the API refuses first.

Each row tries, through the API, the action that would break one invariant rule of the census
(shared/domain/returns.md) and checks it is refused (409/422) with the rule number in the problem
body, so a worker is told which DfE rule it would break. Where the API refuses without naming the
rule, the row still checks the refusal, then is an xfail naming what is missing (and fails once the
service cites the rule, so the xfail is removed).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app import clock
from app.cases.workflow import REFERRAL
from app.core_types import CategoryOfAbuse
from app.models import Role, TeamKind
from app.models.protection import CPPlan
from tests.cases import factories as cases
from tests.factories import auth_headers, make_team, make_user
from tests.people.creators import child_payload
from tests.protection import factories as protection

# Many API stories: one app for the module, each story on its own rolled-back connection.
pytestmark = pytest.mark.shared_app

MAUNDY_THURSDAY = date(2026, 4, 2)
ICPC_DAY = date(2026, 4, 27)  # a Monday, 15 working days after the strategy discussion


def at(day: date) -> Any:
    return clock.frozen_at(datetime(day.year, day.month, day.day, 10, tzinfo=UTC))


def _to_icpc(client: TestClient, db: Session) -> tuple[protection.Cast, Any, dict[str, Any]]:
    """A referred case, a strategy discussion that starts a s47, concluded: ready for an ICPC."""
    cast = protection.make_cast(db)
    headers = cast.headers(db)
    with at(MAUNDY_THURSDAY):
        case = protection.referred_case(db, cast, opened=MAUNDY_THURSDAY)
        discussion = protection.discuss(client, headers, case.id, held=MAUNDY_THURSDAY)
        assert discussion.status_code == 201, discussion.json()
        s47 = protection.start_s47(
            client, headers, case.id, discussion.json()["id"], MAUNDY_THURSDAY
        )
        assert s47.status_code == 201, s47.json()
        concluded = protection.conclude(client, headers, s47.json(), on=MAUNDY_THURSDAY)
        assert concluded.status_code == 200, concluded.json()
    return cast, case, concluded.json()


def _on_a_plan(client: TestClient, db: Session) -> tuple[protection.Cast, Any, dict[str, Any]]:
    cast, case, s47 = _to_icpc(client, db)
    with at(ICPC_DAY):
        held = protection.icpc(client, cast.headers(db), s47["id"], on=ICPC_DAY)
        assert held.status_code == 201, held.json()
        plan = client.get(f"/api/v1/cp-plans/{held.json()['cp_plan_id']}", headers=cast.headers(db))
    return cast, case, plan.json()


# --- the violating actions ---------------------------------------------------------------------


def icpc_on_a_saturday(client: TestClient, db: Session) -> Any:
    cast, _case, s47 = _to_icpc(client, db)
    with at(ICPC_DAY):
        return protection.icpc(client, cast.headers(db), s47["id"], on=date(2026, 4, 25))


def cp_review_before_the_plan_started(client: TestClient, db: Session) -> Any:
    cast, _case, plan = _on_a_plan(client, db)
    with at(date(2026, 5, 1)):
        return protection.review(
            client, cast.headers(db), plan["id"], on=date(2026, 4, 20), version=plan["version"]
        )


def second_open_cp_plan(client: TestClient, db: Session) -> Any:
    cast, case, s47 = _to_icpc(client, db)
    db.add(  # a plan still open in the records migrated from the old system
        CPPlan(
            case_id=case.id,
            child_id=cast.child.id,
            state="active",
            start_date=date(2026, 1, 5),
            initial_category=CategoryOfAbuse.EMO,
            latest_category=CategoryOfAbuse.EMO,
        )
    )
    db.commit()
    with at(ICPC_DAY):
        return protection.icpc(client, cast.headers(db), s47["id"], on=ICPC_DAY)


def cin_plan_while_on_a_cp_plan(client: TestClient, db: Session) -> Any:
    cast, case, _plan = _on_a_plan(client, db)
    with at(date(2026, 5, 4)):
        return client.post(
            f"/api/v1/cases/{case.id}/cin-plans",
            json={"start_date": "2026-05-04"},
            headers=cast.headers(db),
        )


def _assessed_case(client: TestClient, db: Session) -> tuple[cases.Cast, Any, dict[str, str]]:
    cast = cases.make_cast(db)
    with at(date(2025, 11, 3)):
        case = cases.move_to(
            db,
            cases.open_case(db, by=cast.manager, child=cast.child, team=cast.team),
            "assessment",
            by=cast.manager,
        )
    return cast, case, auth_headers(db, cast.manager)


def second_open_cin_plan(client: TestClient, db: Session) -> Any:
    _cast, case, headers = _assessed_case(client, db)
    with at(date(2025, 11, 20)):
        first = client.post(
            f"/api/v1/cases/{case.id}/cin-plans", json={"start_date": "2025-11-20"}, headers=headers
        )
        assert first.status_code == 201, first.json()
        return client.post(f"/api/v1/cases/{case.id}/cin-plans", json={}, headers=headers)


def _transition(client: TestClient, case: Any, headers: dict[str, str], **body: Any) -> Any:
    return client.post(
        f"/api/v1/cases/{case.id}/transitions",
        json=body,
        headers={**headers, "If-Match": f'"{case.version}"'},
    )


def closed_after_assessment_without_one(client: TestClient, db: Session) -> Any:
    cast = cases.make_cast(db)
    with at(date(2025, 11, 3)):
        case = cases.move_to(
            db,
            cases.open_case(db, by=cast.manager, child=cast.child, team=cast.team),
            REFERRAL,
            by=cast.manager,
        )
        return _transition(
            client,
            case,
            auth_headers(db, cast.manager),
            event="close",
            reason="Closing.",
            data={"closure_reason": "RC8"},
        )


def closure_without_a_reason(client: TestClient, db: Session) -> Any:
    _cast, case, headers = _assessed_case(client, db)
    with at(date(2025, 11, 10)):
        return _transition(client, case, headers, event="close", reason="Closing.", data={})


def activity_after_closure(client: TestClient, db: Session) -> Any:
    _cast, case, headers = _assessed_case(client, db)
    with at(date(2025, 11, 10)):
        closed = _transition(
            client,
            case,
            headers,
            event="close",
            reason="Family moved away.",
            data={"closure_reason": "RC5"},
        )
        assert closed.status_code == 200, closed.json()
        return client.post(
            f"/api/v1/cases/{case.id}/cin-plans", json={"start_date": "2025-11-10"}, headers=headers
        )


def activity_on_a_referral_with_no_further_action(client: TestClient, db: Session) -> Any:
    cast = cases.make_cast(db)
    with at(date(2025, 11, 3)):
        case = cases.move_to(
            db,
            cases.open_case(db, by=cast.manager, child=cast.child, team=cast.team),
            REFERRAL,
            by=cast.manager,
        )
        headers = auth_headers(db, cast.manager)
        nfa = _transition(
            client, case, headers, event="referral_nfa", reason="No need for social care."
        )
        assert nfa.status_code == 200, nfa.json()
        return client.post(
            f"/api/v1/cases/{case.id}/cin-plans", json={"start_date": "2025-11-03"}, headers=headers
        )


def closed_after_assessment_with_a_cin_plan(client: TestClient, db: Session) -> Any:
    _cast, case, headers = _assessed_case(client, db)
    with at(date(2025, 11, 20)):
        plan = client.post(
            f"/api/v1/cases/{case.id}/cin-plans", json={"start_date": "2025-11-20"}, headers=headers
        )
        assert plan.status_code == 201, plan.json()
    db.refresh(case)
    with at(date(2026, 1, 12)):
        return _transition(
            client,
            case,
            headers,
            event="close",
            reason="The plan's aims are met.",
            data={"closure_reason": "RC8"},
        )


def second_open_episode(client: TestClient, db: Session) -> Any:
    _cast, case, headers = _assessed_case(client, db)
    with at(date(2025, 11, 12)):
        return client.post(
            "/api/v1/referrals",
            json={
                "child_id": str(case.child_id),
                "team_id": str(case.team_id),
                "referral_date": "2025-11-12",
                "source": "2A",
                "primary_need": "N1",
            },
            headers=headers,
        )


def _officer_headers(db: Session) -> dict[str, str]:
    team = make_team(db, kind=TeamKind.front_door)
    return auth_headers(db, make_user(db, Role.mash_officer, team=team))


def unborn_child_with_sex_f(client: TestClient, db: Session) -> Any:
    expected = clock.today() + timedelta(weeks=10)
    return client.post(
        "/api/v1/people",
        json=child_payload(
            date_of_birth=None, expected_date_of_birth=expected.isoformat(), sex="F"
        ),
        headers=_officer_headers(db),
    )


def expected_more_than_40_weeks_ahead(client: TestClient, db: Session) -> Any:
    expected = clock.today() + timedelta(weeks=41)
    return client.post(
        "/api/v1/people",
        json=child_payload(
            date_of_birth=None, expected_date_of_birth=expected.isoformat(), sex="U"
        ),
        headers=_officer_headers(db),
    )


# --- the table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Invariant:
    rules: tuple[str, ...]  # the problem must cite one of these
    action: Callable[[TestClient, Session], Any]
    missing: str | None = None  # why the refusal does not cite the rule yet (an xfail)
    not_enforced: str | None = None  # the action is accepted today (an xfail naming the fix)


INVARIANTS: dict[str, Invariant] = {
    "4004 one open CIN plan": Invariant(("4004",), second_open_cin_plan),
    "4001/4016/4017 a CIN plan never overlaps a CP plan": Invariant(
        ("4001", "4016", "4017"), cin_plan_while_on_a_cp_plan
    ),
    "8935 one open CP plan": Invariant(("8935",), second_open_cp_plan),
    "8875 no ICPC at a weekend": Invariant(("8875",), icpc_on_a_saturday),
    "8841 a CP review falls after the plan start": Invariant(
        ("8841",), cp_review_before_the_plan_started
    ),
    "8565 nothing happens after closure": Invariant(("8565",), activity_after_closure),
    "8831/8832/4000 nothing happens on a no-further-action referral": Invariant(
        ("8831", "8832", "4000"),
        activity_on_a_referral_with_no_further_action,
    ),
    "8825Q RC8/RC9 only after an assessment": Invariant(
        ("8825Q",), closed_after_assessment_without_one
    ),
    "2990 RC8/RC9 not after a s47, CP plan or CIN plan": Invariant(
        ("2990",),
        closed_after_assessment_with_a_cin_plan,
    ),
    "8815/8816 one open episode": Invariant(
        ("8815", "8816"),
        second_open_episode,
    ),
    "8805/8810 a closure date needs a reason": Invariant(
        ("8805", "8810"),
        closure_without_a_reason,
    ),
    "8606 a referral at most 40 weeks before birth": Invariant(
        ("8606",), expected_more_than_40_weeks_ahead
    ),
    "8750 unborn children are Sex U": Invariant(("8750",), unborn_child_with_sex_f),
}


@pytest.mark.parametrize("invariant", list(INVARIANTS.values()), ids=list(INVARIANTS))
def test_the_api_refuses_what_the_cin_validator_would_flag(
    client: TestClient, db: Session, invariant: Invariant
) -> None:
    response = invariant.action(client, db)
    if invariant.not_enforced is not None:
        if response.status_code in (409, 422):
            pytest.fail(f"now refused: remove `not_enforced` ({invariant.not_enforced})")
        assert response.status_code < 300, response.text  # accepted, not failing otherwise
        pytest.xfail(invariant.not_enforced)

    assert response.status_code in (409, 422), response.text
    problem = json.dumps(response.json())
    cited = any(rule in problem for rule in invariant.rules)
    if invariant.missing is None:
        assert cited, problem
    elif cited:
        pytest.fail(f"the refusal now cites the rule: remove `missing` ({invariant.missing})")
    else:
        pytest.xfail(invariant.missing)


def test_a_cp_plan_starts_on_the_day_of_its_initial_conference(
    client: TestClient, db: Session
) -> None:
    # CIN 2885: the API has no way to give a plan another start date: the ICPC creates it.
    _cast, _case, plan = _on_a_plan(client, db)

    assert plan["start_date"] == ICPC_DAY.isoformat()
