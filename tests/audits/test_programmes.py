"""Stories of audit programmes: a QA lead draws May's random sample per team, shows the draw can be
drawn again from its seed, samples by theme (plans that drift, children moved three times,
re-referrals), shares the audits among auditors who are independent of each case, and is refused
(with nothing written) when the programme cannot be drawn."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.audits import programmes
from app.audits import service as audit_service
from app.audits.programme_schemas import ProgrammeCreate
from app.care import service as care_service
from app.care.codes import ReasonPlaceChange
from app.care.schemas import PlacementChange
from app.models import Case, CaseEvent, Person, Role
from app.models.audit import ChangeLog
from app.models.audits import AuditProgramme, CaseAudit
from app.models.care import PeriodOfCare
from tests.audits.factories import (
    AuditCast,
    cp_case,
    make_audit_cast,
    make_tool,
    noon,
    on,
    principal,
)
from tests.audits.programme_factories import (
    DRAWN_ON,
    close_referral,
    count,
    ids,
    nfa_contact,
    open_case,
    open_cases,
    programme_body,
)
from tests.care.factories import CareCast, bring_into_care, foster_placement, make_care_cast
from tests.factories import auth_headers, make_child, make_user

PROGRAMMES = "/api/v1/audit-programmes"
PREVIEW = "/api/v1/audit-programmes/preview"


@pytest.fixture
def cast(db: Session) -> AuditCast:
    cast = make_audit_cast(db)
    # Name the teams so that the draw lists the cast's team first (it orders by team name).
    cast.team.name = f"Alpha {cast.team.id}"
    cast.other_team.name = f"Bravo {cast.other_team.id}"
    db.flush()
    return cast


def _post(
    client: TestClient, url: str, headers: dict[str, str], body: dict[str, Any], day: date
) -> Any:
    with on(day):
        return client.post(url, json=body, headers=headers)


def _by_team(cases: list[dict[str, Any]]) -> dict[uuid.UUID, list[uuid.UUID]]:
    out: dict[uuid.UUID, list[uuid.UUID]] = {}
    for c in cases:
        out.setdefault(uuid.UUID(c["team_id"]), []).append(uuid.UUID(c["case_id"]))
    return out


def _seeded(seed: int, stream: object, population: list[uuid.UUID], k: int) -> list[uuid.UUID]:
    """The documented draw, done by hand: the population sorted by id, then a seeded sample."""
    eligible = sorted(population)
    return sorted(random.Random(f"{seed}:{stream}").sample(eligible, min(k, len(eligible))))


# --- the random draw -----------------------------------------------------------------------------


def test_mays_random_sample_is_drawn_per_team_from_the_cases_open_in_may_and_drawn_again_alike(
    client: TestClient, db: Session, cast: AuditCast
) -> None:
    tool = make_tool(db, cast)
    alpha = open_cases(db, cast, team=cast.team, count=5)
    bravo = open_cases(db, cast, team=cast.other_team, count=1)
    # Closed during May after a referral: its file is audited like any other.
    closed_in_may = open_case(db, cast, team=cast.team, opened=date(2026, 2, 2))
    close_referral(db, cast, closed_in_may, on_day=date(2026, 5, 20))
    # Not open in May: opened in June, or closed in April.
    open_case(db, cast, team=cast.team, opened=date(2026, 6, 1))
    closed_in_april = open_case(db, cast, team=cast.team, opened=date(2026, 2, 2))
    close_referral(db, cast, closed_in_april, on_day=date(2026, 4, 30))
    # Never past the contact stage: a contact still awaiting its decision, and one closed at the
    # door.
    open_case(db, cast, team=cast.team, opened=date(2026, 5, 4), accept=False)
    at_the_door = open_case(db, cast, team=cast.team, opened=date(2026, 5, 5), accept=False)
    nfa_contact(db, cast, at_the_door, on_day=date(2026, 5, 5))
    headers = cast.headers(db)
    body = programme_body(tool, sample_size=3)

    first = _post(client, PREVIEW, headers, body, DRAWN_ON)
    again = _post(client, PREVIEW, headers, body, DRAWN_ON)

    assert first.status_code == 200, first.text
    assert first.json() == again.json()
    alpha_population = [c.id for c in alpha] + [closed_in_may.id]
    expected = {
        cast.team.id: _seeded(42, cast.team.id, alpha_population, 3),
        cast.other_team.id: [bravo[0].id],
    }
    assert _by_team(first.json()["cases"]) == expected
    assert [(t["team_id"], t["population"], t["drawn"]) for t in first.json()["teams"]] == [
        (str(cast.team.id), 6, 3),
        (str(cast.other_team.id), 1, 1),
    ]
    assert (first.json()["population"], first.json()["seed"]) == (7, 42)
    assert (count(db, AuditProgramme), count(db, CaseAudit)) == (0, 0)  # a preview writes nothing

    made = _post(client, PROGRAMMES, headers, body, DRAWN_ON)

    assert made.status_code == 201, made.text
    programme = made.json()
    assert made.headers["Location"] == f"{PROGRAMMES}/{programme['id']}"
    assert made.headers["ETag"] == '"1"'
    assert (programme["month"], programme["seed"], programme["kind"]) == ("2026-05", 42, "random")
    assert _by_team(programme["audits"]) == expected
    assert {a["state"] for a in programme["audits"]} == {"planned"}
    assert (programme["audit_count"], programme["unassigned"]) == (4, 4)
    assert programme["states"] == {"planned": 4}
    assert "Child" not in made.text  # no child named
    planned = db.scalars(
        select(CaseEvent.case_id).where(CaseEvent.action == "case_audit_planned")
    ).all()
    assert sorted(planned) == sorted(ids(programme["audits"]))
    logged = db.scalars(
        select(ChangeLog).where(ChangeLog.entity_id == uuid.UUID(programme["id"]))
    ).one()
    assert logged.action == "audit_programme_created"
    assert logged.changes["seed"] == 42
    assert sorted(logged.changes["cases"]) == sorted(str(i) for i in ids(programme["audits"]))

    with on(DRAWN_ON):
        read = client.get(made.headers["Location"], headers=headers)
        listed = client.get(PROGRAMMES, headers=auth_headers(db, cast.other_manager))
    assert read.status_code == 200, read.text
    assert read.json() == programme
    assert [(p["id"], p["audit_count"]) for p in listed.json()] == [(programme["id"], 4)]


def test_the_same_seed_draws_the_same_cases_in_fresh_transactions_and_another_seed_does_not(
    db: Session, cast: AuditCast
) -> None:
    tool = make_tool(db, cast)
    open_cases(db, cast, team=cast.team, count=30)
    actor = principal(db, cast.auditor)
    body = ProgrammeCreate.model_validate(
        programme_body(tool, sample_size=8, team_ids=[str(cast.team.id)])
    )
    draws = []
    for _ in range(2):
        transaction = db.begin_nested()
        with on(DRAWN_ON):
            programme = programmes.programme_create(db, actor=actor, body=body)
        draws.append(
            sorted(
                db.scalars(select(CaseAudit.case_id).where(CaseAudit.programme_id == programme.id))
            )
        )
        transaction.rollback()
        assert count(db, CaseAudit) == 0

    assert len(draws[0]) == 8
    assert draws[0] == draws[1]
    with on(DRAWN_ON):
        other = programmes.programme_preview(
            db, actor=actor, body=body.model_copy(update={"seed": 43})
        )
    assert sorted(c.case_id for c in other.cases) != draws[0]
    assert len(other.cases) == 8


def test_a_seed_is_chosen_when_none_is_given_and_a_second_programme_leaves_out_the_cases_taken(
    client: TestClient, db: Session, cast: AuditCast
) -> None:
    tool = make_tool(db, cast)
    cases = [c.id for c in open_cases(db, cast, team=cast.team, count=4)]
    headers = cast.headers(db)
    body = programme_body(tool, team_ids=[str(cast.team.id)])
    del body["seed"]

    made = _post(client, PROGRAMMES, headers, body, DRAWN_ON)

    assert made.status_code == 201, made.text
    seed = made.json()["seed"]
    assert isinstance(seed, int)
    taken = sorted(ids(made.json()["audits"]))
    assert taken == _seeded(seed, cast.team.id, cases, 2)
    # A second programme for May draws from the two cases not yet taken ...
    second = _post(client, PREVIEW, headers, {**body, "name": "May, second look"}, DRAWN_ON)
    assert second.status_code == 200, second.text
    assert (second.json()["population"], second.json()["excluded_already_planned"]) == (2, 2)
    assert sorted(ids(second.json()["cases"])) == sorted(set(cases) - set(taken))
    # ... while April's is drawn from all four.
    april = _post(client, PREVIEW, headers, {**body, "month": "2026-04"}, DRAWN_ON)
    assert (april.json()["population"], april.json()["excluded_already_planned"]) == (4, 0)


def test_a_programme_is_drawn_again_from_its_stored_seed_and_found_to_match_until_records_move(
    client: TestClient, db: Session, cast: AuditCast
) -> None:
    """Months later, peer challenge asks whether May's sample was drawn or picked: the programme is
    drawn again from what it stored and set beside the cases it planned."""
    tool = make_tool(db, cast)
    open_cases(db, cast, team=cast.team, count=5)
    headers = cast.headers(db)
    body = programme_body(tool, team_ids=[str(cast.team.id)])
    made = _post(client, PROGRAMMES, headers, body, DRAWN_ON)
    assert made.status_code == 201, made.text
    # Another programme for May, made an hour later, takes cases left: it must not spoil the
    # first one's check, and its own check counts the first one's cases as taken.
    with clock.frozen_at(noon(DRAWN_ON) + timedelta(hours=1)):
        other = client.post(PROGRAMMES, json={**body, "name": "May, again"}, headers=headers)
    assert other.status_code == 201, other.text
    url = f"{PROGRAMMES}/{made.json()['id']}/redraw"
    events_before = db.scalar(select(func.count()).select_from(CaseEvent))

    with on(DRAWN_ON):
        check = client.get(url, headers=cast.headers(db, cast.manager))

    assert check.status_code == 200, check.text
    body = check.json()
    assert body["reproduced"] is True
    assert body["seed"] == made.json()["seed"]
    assert sorted(ids(body["drawn"])) == sorted(ids(made.json()["audits"]))
    assert (body["drawn_not_planned"], body["planned_not_drawn"]) == ([], [])
    assert db.scalar(select(func.count()).select_from(CaseEvent)) == events_before
    with on(DRAWN_ON):
        other_check = client.get(
            f"{PROGRAMMES}/{other.json()['id']}/redraw", headers=cast.headers(db, cast.manager)
        ).json()
    assert other_check["reproduced"] is True, other_check

    # A drawn case moves to another team: drawn again today, the sample differs, and says how.
    moved = db.get(Case, uuid.UUID(made.json()["audits"][0]["case_id"]))
    assert moved is not None
    moved.team_id = cast.other_team.id
    db.flush()
    with on(DRAWN_ON):
        again = client.get(url, headers=cast.headers(db, cast.manager)).json()
    assert again["reproduced"] is False
    assert str(moved.id) in again["planned_not_drawn"]

    with on(DRAWN_ON):
        missing = client.get(f"{PROGRAMMES}/{uuid.uuid4()}/redraw", headers=headers)
        social_worker = client.get(url, headers=cast.headers(db, cast.social_worker))
    assert missing.status_code == 404, missing.text
    assert social_worker.status_code == 403, social_worker.text


# --- sharing the audits among auditors -----------------------------------------------------------


def test_audits_are_shared_round_robin_skipping_an_auditor_who_manages_the_case(
    client: TestClient, db: Session, cast: AuditCast
) -> None:
    tool = make_tool(db, cast)
    open_cases(db, cast, team=cast.team, count=4)
    open_cases(db, cast, team=cast.other_team, count=2)
    # The two team managers audit each other's cases, never their own team's.
    auditors = [cast.manager, cast.auditor, cast.other_manager]
    body = programme_body(tool, sample_size=4, auditor_ids=[str(u.id) for u in auditors])

    made = _post(client, PROGRAMMES, cast.headers(db), body, DRAWN_ON)

    assert made.status_code == 201, made.text
    audits = made.json()["audits"]
    by_team: dict[str, list[str]] = {}
    for audit in audits:
        assert audit["state"] == "assigned"
        by_team.setdefault(audit["team_id"], []).append(audit["auditor_id"])
    alpha, qa, bravo = (str(u.id) for u in auditors)
    # Alpha's cases first (ordered by id): the manager of Alpha is passed over each time.
    assert by_team[str(cast.team.id)] == [qa, bravo, qa, bravo]
    assert by_team[str(cast.other_team.id)] == [alpha, qa]
    assert made.json()["unassigned"] == 0
    assigned = db.scalars(
        select(CaseEvent.case_id).where(CaseEvent.action == "case_audit_assigned")
    ).all()
    assert len(assigned) == 6


def test_an_audit_nobody_independent_can_take_stays_planned(
    client: TestClient, db: Session, cast: AuditCast
) -> None:
    tool = make_tool(db, cast)
    open_cases(db, cast, team=cast.team, count=2)
    body = programme_body(tool, team_ids=[str(cast.team.id)], auditor_ids=[str(cast.manager.id)])

    made = _post(client, PROGRAMMES, cast.headers(db), body, DRAWN_ON)

    assert made.status_code == 201, made.text
    assert made.json()["states"] == {"planned": 2}
    assert made.json()["unassigned"] == 2
    assert {a["auditor_id"] for a in made.json()["audits"]} == {None}


# --- thematic samples ----------------------------------------------------------------------------


def test_a_thematic_sample_of_child_protection_plans_longer_than_twelve_months(
    client: TestClient, db: Session, cast: AuditCast
) -> None:
    tool = make_tool(db, cast)
    on_a_plan = cp_case(client, db, cast, on_day=date(2025, 3, 3))
    referred = open_case(db, cast, team=cast.team, opened=date(2025, 3, 3))
    headers = cast.headers(db)

    def drawn(criteria: dict[str, Any], **more: Any) -> list[uuid.UUID]:
        body = programme_body(tool, kind="thematic", sample_size=None, criteria=criteria, **more)
        response = _post(client, PREVIEW, headers, body, DRAWN_ON)
        assert response.status_code == 200, response.text
        return ids(response.json()["cases"])

    # The plan started on 3 March 2025: more than 12 months before 31 May 2026, not 15.
    assert drawn({"kind": "cp_plan_longer_than", "months": 12}) == [on_a_plan.id]
    assert drawn({"kind": "cp_plan_longer_than", "months": 15}) == []
    assert drawn({"kind": "case_state", "states": ["cp_plan"]}) == [on_a_plan.id]
    both = drawn({"kind": "case_state", "states": ["referral", "cp_plan"]})
    assert both == sorted([on_a_plan.id, referred.id])
    made = _post(
        client,
        PROGRAMMES,
        headers,
        programme_body(
            tool,
            kind="thematic",
            name="CP plans over a year",
            sample_size=None,
            criteria={"kind": "cp_plan_longer_than", "months": 12},
        ),
        DRAWN_ON,
    )
    assert made.status_code == 201, made.text
    assert made.json()["criteria"] == {"kind": "cp_plan_longer_than", "months": 12}
    assert ids(made.json()["audits"]) == [on_a_plan.id]


def _move(db: Session, care: CareCast, period: PeriodOfCare, *, on_day: date, n: int) -> None:
    """The looked-after child moves to new foster carers on ``on_day``."""
    current = care_service.open_period(db, child_id=period.child_id)
    assert current is not None
    with on(on_day):
        care_service.placement_change(
            db,
            actor=principal(db, care.manager),
            period_id=current.id,
            expected_version=current.version,
            body=PlacementChange(
                start_date=on_day,
                placement=foster_placement(
                    carer_name=f"Carers {n}", carer_key=f"carer-{n}", placement_postcode=f"B{n} 1AA"
                ),
                end_reason=ReasonPlaceChange.CREQO,
                planned_ending=True,
            ),
        )


def test_a_thematic_sample_of_children_in_care_with_three_placements_in_the_year(
    client: TestClient, db: Session, cast: AuditCast
) -> None:
    tool = make_tool(db, cast)
    care = make_care_cast(db)
    # Moved twice this year: three placements in the 12 months to 31 May 2026, two in the 3.
    moved = bring_into_care(db, care, on=date(2025, 9, 1))
    _move(db, care, moved, on_day=date(2026, 1, 10), n=2)
    _move(db, care, moved, on_day=date(2026, 3, 10), n=3)
    # Settled since she came into care.
    bring_into_care(db, care, on=date(2026, 2, 2), child=make_child(db, first_name="Settled"))
    headers = cast.headers(db)

    def drawn(criteria: dict[str, Any]) -> list[uuid.UUID]:
        body = programme_body(tool, kind="thematic", sample_size=None, criteria=criteria)
        response = _post(client, PREVIEW, headers, body, DRAWN_ON)
        assert response.status_code == 200, response.text
        return ids(response.json()["cases"])

    assert drawn({"kind": "placements_at_least", "count": 3, "months": 12}) == [moved.case_id]
    assert drawn({"kind": "placements_at_least", "count": 3}) == [moved.case_id]  # 12: default
    assert drawn({"kind": "placements_at_least", "count": 3, "months": 3}) == []
    assert len(drawn({"kind": "placements_at_least", "count": 1})) == 2


def _refer(
    client: TestClient, headers: dict[str, str], cast: AuditCast, child: Any, day: date
) -> Any:
    with on(day):
        response = client.post(
            "/api/v1/referrals",
            json={
                "child_id": str(child.id),
                "team_id": str(cast.team.id),
                "referral_date": day.isoformat(),
                "source": "6",
                "primary_need": "N1",
                "summary": "Police attended a domestic incident; the children were present.",
            },
            headers=headers,
        )
    assert response.status_code == 201, response.text
    return response.json()


def test_a_thematic_sample_of_mays_re_referrals_drawn_at_most_sample_size(
    client: TestClient, db: Session, cast: AuditCast
) -> None:
    tool = make_tool(db, cast)
    headers = auth_headers(db, cast.manager)
    re_referred = []
    for n in range(3):
        child = make_child(db, first_name=f"Again{n}")
        first = _refer(client, headers, cast, child, date(2026, 1, 12))
        with on(date(2026, 1, 12)):
            closed = client.post(
                f"/api/v1/referrals/{first['id']}/decision",
                json={"decision": "no_further_action", "reason": "Advice given to mother."},
                headers={**headers, "If-Match": f'"{first["version"]}"'},
            )
        assert closed.status_code == 200, closed.text
        again = _refer(client, headers, cast, child, date(2026, 5, 11))
        assert again["is_re_referral"] is True
        re_referred.append(uuid.UUID(again["case_id"]))
    first_time = _refer(client, headers, cast, make_child(db, first_name="New"), date(2026, 5, 12))
    assert first_time["is_re_referral"] is False
    body = programme_body(tool, kind="thematic", sample_size=None, criteria={"kind": "re_referral"})

    every = _post(client, PREVIEW, cast.headers(db), body, DRAWN_ON)
    two = _post(client, PREVIEW, cast.headers(db), {**body, "sample_size": 2}, DRAWN_ON)

    assert sorted(ids(every.json()["cases"])) == sorted(re_referred)
    assert sorted(ids(two.json()["cases"])) == _seeded(42, "thematic", re_referred, 2)
    assert every.json()["population"] == two.json()["population"] == 3


# --- refusals ------------------------------------------------------------------------------------


def _retired_tool(db: Session, cast: AuditCast) -> uuid.UUID:
    tool = make_tool(db, cast)
    audit_service.audit_tool_retire(
        db, actor=principal(db, cast.auditor), tool_id=tool.id, expected_version=tool.version
    )
    return tool.id


REFUSALS: list[tuple[str, dict[str, Any], str]] = [
    ("an unknown tool", {"tool_id": "UNKNOWN"}, "tool_id"),
    ("a retired tool", {"tool_id": "RETIRED"}, "tool_id"),
    ("a month that has not begun", {"month": "2026-07"}, "month"),
    ("a month that is not a month", {"month": "2026-13"}, "month"),
    ("a sample of none", {"sample_size": 0}, "sample_size"),
    ("a random sample of no size", {"sample_size": None}, "sample_size"),
    ("an unknown team", {"team_ids": ["UNKNOWN"]}, "team_ids"),
    ("a random sample with criteria", {"criteria": {"kind": "re_referral"}}, "criteria"),
    ("a thematic sample without criteria", {"kind": "thematic"}, "criteria"),
    (
        "criteria not in the vocabulary",
        {"kind": "thematic", "criteria": {"kind": "open_longest"}},
        "criteria",
    ),
    (
        "criteria with an unknown field",
        {"kind": "thematic", "criteria": {"kind": "re_referral", "since": "2020-01-01"}},
        "criteria.re_referral.since",
    ),
    (
        "criteria with a bad number",
        {"kind": "thematic", "criteria": {"kind": "cp_plan_longer_than", "months": 0}},
        "criteria.cp_plan_longer_than.months",
    ),
    (
        "an unknown case state",
        {"kind": "thematic", "criteria": {"kind": "case_state", "states": ["contact"]}},
        "criteria.case_state.states.0",
    ),
    ("a seed out of range", {"seed": -1}, "seed"),
    ("an auditor who is a social worker", {"auditor_ids": ["WORKER"]}, "auditor_ids"),
    ("an unknown field", {"colour": "red"}, "colour"),
]


@pytest.mark.parametrize("url", [PROGRAMMES, PREVIEW])
@pytest.mark.parametrize(("story", "changes", "field"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_a_programme_that_cannot_be_drawn_is_refused_naming_the_field_and_nothing_is_written(
    client: TestClient,
    db: Session,
    cast: AuditCast,
    url: str,
    story: str,
    changes: dict[str, Any],
    field: str,
) -> None:
    tool = make_tool(db, cast)
    open_cases(db, cast, team=cast.team, count=2)
    stand_ins = {
        "UNKNOWN": str(uuid.uuid4()),
        "RETIRED": str(_retired_tool(db, cast)),
        "WORKER": str(cast.social_worker.id),
    }

    def filled(value: Any) -> Any:
        if isinstance(value, list):
            return [filled(v) for v in value]
        return stand_ins.get(value, value) if isinstance(value, str) else value

    body = programme_body(tool, **{k: filled(v) for k, v in changes.items()})

    refused = _post(client, url, cast.headers(db), body, DRAWN_ON)

    assert refused.status_code == 422, refused.text
    assert field in [e["field"] for e in refused.json()["errors"]], refused.json()
    assert (count(db, AuditProgramme), count(db, CaseAudit)) == (0, 0)


def test_this_months_programme_may_be_drawn_while_it_runs(
    client: TestClient, db: Session, cast: AuditCast
) -> None:
    tool = make_tool(db, cast)
    open_cases(db, cast, team=cast.team, count=1)
    made = _post(
        client, PROGRAMMES, cast.headers(db), programme_body(tool, month="2026-06"), DRAWN_ON
    )
    assert made.status_code == 201, made.text
    assert made.json()["audit_count"] == 1


def test_only_qa_and_service_managers_draw_programmes_and_an_unknown_programme_is_not_found(
    client: TestClient, db: Session, cast: AuditCast
) -> None:
    tool = make_tool(db, cast)
    open_cases(db, cast, team=cast.team, count=1)
    body = programme_body(tool)
    for user in (cast.social_worker, cast.manager, make_user(db, Role.data_officer)):
        for url in (PROGRAMMES, PREVIEW):
            refused = _post(client, url, auth_headers(db, user), body, DRAWN_ON)
            assert refused.status_code == 403, (user.role, url, refused.text)
    assert count(db, AuditProgramme) == 0
    made = _post(client, PROGRAMMES, auth_headers(db, cast.service_manager), body, DRAWN_ON)
    assert made.status_code == 201, made.text
    with on(DRAWN_ON):
        worker_reads = client.get(PROGRAMMES, headers=auth_headers(db, cast.social_worker))
        unknown = client.get(f"{PROGRAMMES}/{uuid.uuid4()}", headers=cast.headers(db))
        anonymous = client.get(PROGRAMMES)
    assert worker_reads.status_code == 403
    assert unknown.status_code == 404
    assert anonymous.status_code == 401


def test_a_restricted_childs_audit_is_planned_but_left_for_someone_named_to_assign(
    client: TestClient, db: Session, cast: AuditCast
) -> None:
    tool = make_tool(db, cast)
    case = open_case(db, cast, team=cast.team, opened=date(2026, 1, 5))
    db.get_one(Person, case.child_id).is_restricted = True
    db.flush()
    body = programme_body(tool, team_ids=[str(cast.team.id)], auditor_ids=[str(cast.auditor.id)])

    made = _post(client, PROGRAMMES, cast.headers(db), body, DRAWN_ON)

    assert made.status_code == 201, made.text
    assert made.json()["states"] == {"planned": 1}
    assert db.scalar(select(func.count()).select_from(CaseAudit)) == 1
