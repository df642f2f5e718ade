"""Stories of management oversight and a manager's overdue lists: a manager's direction on a case
file outside supervision, the daily job that starts the clocks of rules 36 and 37 for staff and
cases that have none, who may see a worker's supervision clock, and the team manager's Monday
morning list of who and which cases are overdue."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app import clock
from app.cases import service as case_service
from app.cli import app as cli_app
from app.config import get_settings
from app.models import CaseEvent, Role
from app.models.audit import AccessLog
from app.models.deadlines import Deadline, DeadlineKind
from app.models.org import TeamMembership, UserAccount
from app.models.supervision import ManagementOversight
from app.supervision import service as supervision_service
from tests.care.factories import CareCast, make_care_cast, noon, principal, referred_case
from tests.conftest import fresh_database_url
from tests.factories import make_child, make_team, make_user

REFERRAL = date(2026, 3, 2)


@pytest.fixture
def cast(db: Session) -> CareCast:
    return make_care_cast(db)


def _open_clocks(db: Session, kind: DeadlineKind) -> dict[uuid.UUID, tuple[date, date]]:
    return {
        d.subject_id: (d.start_date, d.due_date)
        for d in db.scalars(
            select(Deadline).where(
                Deadline.kind == kind, Deadline.met_date.is_(None), Deadline.stopped_date.is_(None)
            )
        )
    }


def _oversee(
    client: TestClient,
    db: Session,
    cast: CareCast,
    case_id: uuid.UUID,
    *,
    on: date,
    by: Any = None,
    **body: Any,
) -> Any:
    with clock.frozen_at(noon(on)):
        return client.post(
            f"/api/v1/cases/{case_id}/oversight",
            json={"decision": "Escalate to legal gateway.", **body},
            headers=cast.headers(db, by or cast.manager),
        )


def test_a_manager_records_oversight_on_a_case_file_and_the_clock_starts_again(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    case = referred_case(db, cast, opened=REFERRAL)
    made = _oversee(client, db, cast, case.id, on=date(2026, 4, 1), review_by="2026-04-15")
    assert made.status_code == 201, made.text
    assert made.json()["supervision_id"] is None
    assert _open_clocks(db, DeadlineKind.management_oversight)[case.id] == (
        date(2026, 4, 1),
        date(2026, 5, 13),
    )
    met = db.scalar(
        select(Deadline.met_date).where(
            Deadline.subject_id == case.id,
            Deadline.kind == DeadlineKind.management_oversight,
            Deadline.start_date == REFERRAL,
        )
    )
    assert met == date(2026, 4, 1)
    with clock.frozen_at(noon(date(2026, 4, 2))):
        listed = client.get(f"/api/v1/cases/{case.id}/oversight", headers=cast.headers(db))
    assert [e["review_by"] for e in listed.json()] == ["2026-04-15"]
    reads = db.scalar(
        select(func.count())
        .select_from(AccessLog)
        .where(AccessLog.resource == "management_oversight", AccessLog.case_id == case.id)
    )
    assert reads == 1
    events = db.scalars(
        select(CaseEvent.changes).where(
            CaseEvent.case_id == case.id, CaseEvent.action == "management_oversight_recorded"
        )
    ).all()
    assert [e["decision"] for e in events] == ["Escalate to legal gateway."]


def test_oversight_is_a_manager_of_the_cases_team_or_a_service_manager(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    case = referred_case(db, cast, opened=REFERRAL)
    other_manager = make_user(db, Role.team_manager, team=cast.other_team, manager=True)
    refused = _oversee(client, db, cast, case.id, on=date(2026, 4, 1), by=other_manager)
    worker = _oversee(client, db, cast, case.id, on=date(2026, 4, 1), by=cast.social_worker)
    assert (refused.status_code, worker.status_code) == (403, 403)
    assert db.scalar(select(func.count()).select_from(ManagementOversight)) == 0
    service = _oversee(client, db, cast, case.id, on=date(2026, 4, 1), by=cast.iro_manager)
    assert service.status_code == 201, service.text
    unknown = _oversee(client, db, cast, uuid.uuid4(), on=date(2026, 4, 1))
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"recorded_on": "2026-04-02"}, "recorded_on"),  # the future
        ({"recorded_on": "2026-03-01"}, "recorded_on"),  # before the case opened
        ({"review_by": "2026-03-31"}, "review_by"),
        ({"decision": ""}, "decision"),
        ({"supervision_id": str(uuid.uuid4())}, "supervision_id"),  # unknown field
    ],
)
def test_bad_oversight_is_refused_naming_the_field(
    client: TestClient, db: Session, cast: CareCast, body: dict[str, Any], field: str
) -> None:
    case = referred_case(db, cast, opened=REFERRAL)
    refused = _oversee(client, db, cast, case.id, on=date(2026, 4, 1), **body)
    assert refused.status_code == 422, refused.text
    assert field in [e["field"] for e in refused.json()["errors"]]
    assert db.scalar(select(func.count()).select_from(ManagementOversight)) == 0


def test_a_workers_supervision_clock_is_theirs_and_their_managers_only(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    with clock.frozen_at(noon(date(2026, 3, 10))):
        supervision_service.practice_refresh(db)
        db.commit()

        def supervision_clocks(user: UserAccount) -> set[str]:
            got = client.get(
                "/api/v1/deadlines",
                params={"kind": "supervision", "limit": 200},
                headers=cast.headers(db, user),
            )
            assert got.status_code == 200, got.text
            return {d["subject_id"] for d in got.json()["items"]}

        worker = str(cast.social_worker.id)
        assert supervision_clocks(cast.social_worker) == {worker}
        assert worker not in supervision_clocks(cast.other_social_worker)
        assert worker not in supervision_clocks(cast.iro)
        assert worker in supervision_clocks(cast.manager)
        assert worker in supervision_clocks(cast.iro_manager)  # a service manager
        mine = client.get("/api/v1/supervision/due", headers=cast.headers(db))
    assert mine.status_code == 200, mine.text
    # Their clock started at their first team membership (2020): long overdue.
    assert mine.json()["due_date"] == "2020-02-01"
    assert mine.json()["is_overdue"] is True
    assert mine.json()["last_supervision"] is None


def test_the_daily_job_opens_missing_clocks_once_and_stops_those_of_leavers(
    db: Session, cast: CareCast
) -> None:
    case = referred_case(db, cast, opened=REFERRAL)
    # A case from before this feature (or migrated): no oversight clock.
    db.execute(
        delete(Deadline).where(
            Deadline.subject_id == case.id, Deadline.kind == DeadlineKind.management_oversight
        )
    )
    contact_only = case_service.case_open(
        db,
        actor=principal(db, cast.manager),
        child_id=make_child(db, first_name="Dot").id,
        team_id=cast.team.id,
        opened_date=REFERRAL,
        worker_id=cast.social_worker.id,
    )
    admin = make_user(db, Role.administrator)
    with clock.frozen_at(noon(date(2026, 4, 1))):
        first = supervision_service.practice_refresh(db)
        supervision = _open_clocks(db, DeadlineKind.supervision)
        oversight = _open_clocks(db, DeadlineKind.management_oversight)
        again = supervision_service.practice_refresh(db)
    practitioners = {
        cast.manager.id,
        cast.social_worker.id,
        cast.other_social_worker.id,
        cast.iro.id,
        cast.other_iro.id,
    }
    assert practitioners <= set(supervision)
    assert cast.iro_manager.id not in supervision  # a service manager: not on this rule
    assert admin.id not in supervision
    assert supervision[cast.social_worker.id] == (date(2020, 1, 1), date(2020, 2, 1))
    assert oversight[case.id] == (REFERRAL, date(2026, 4, 13))
    assert contact_only.id not in oversight  # a contact is not yet a case that needs oversight
    assert first.oversight_opened == 1
    assert first.supervision_opened >= len(practitioners)
    assert (again.supervision_opened, again.supervision_stopped, again.oversight_opened) == (
        0,
        0,
        0,
    )
    assert _open_clocks(db, DeadlineKind.supervision) == supervision
    # A worker who leaves: their clock stops.
    cast.other_social_worker.is_active = False
    db.flush()
    with clock.frozen_at(noon(date(2026, 4, 2))):
        leaver = supervision_service.practice_refresh(db)
    assert leaver.supervision_stopped == 1
    assert cast.other_social_worker.id not in _open_clocks(db, DeadlineKind.supervision)


def test_a_manager_sees_who_and_which_cases_are_overdue_in_their_team(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    late = referred_case(db, cast, opened=REFERRAL)
    soon = referred_case(db, cast, opened=REFERRAL, child=make_child(db, first_name="Eve"))
    fine = referred_case(db, cast, opened=REFERRAL, child=make_child(db, first_name="Fay"))
    elsewhere = make_team(db)
    two_teams = make_user(db, Role.team_manager, team=elsewhere, manager=True)
    db.add(
        TeamMembership(
            team_id=cast.other_team.id,
            user_id=two_teams.id,
            is_manager=True,
            start_date=date(2020, 1, 1),
        )
    )
    # The colleague is supervised; the social worker never has been.
    colleague = make_user(db, Role.social_worker, team=cast.team)
    with clock.frozen_at(noon(date(2026, 3, 10))):
        supervision_service.practice_refresh(db)
    with clock.frozen_at(noon(date(2026, 4, 25))):
        supervision_service.supervision_record(
            db,
            actor=principal(db, cast.manager),
            worker_id=colleague.id,
            held_on=date(2026, 4, 25),
            case_decisions=[
                supervision_service.CaseDecision(case_id=fine.id, decision="All in hand.")
            ],
        )
    with clock.frozen_at(noon(date(2026, 3, 25))):
        supervision_service.oversight_record(
            db,
            actor=principal(db, cast.manager),
            case_id=soon.id,
            decision="Plan the review.",
            recorded_on=date(2026, 3, 25),
        )
    db.commit()
    today = date(2026, 5, 1)  # late: due 13 April; soon: due 6 May; fine: due 6 June
    with clock.frozen_at(noon(today)):
        listed = client.get("/api/v1/supervision/overdue", headers=cast.headers(db, cast.manager))
        by_service = client.get(
            "/api/v1/supervision/overdue",
            params={"team_id": str(cast.team.id)},
            headers=cast.headers(db, cast.iro_manager),
        )
        not_mine = client.get(
            "/api/v1/supervision/overdue",
            params={"team_id": str(elsewhere.id)},
            headers=cast.headers(db, cast.manager),
        )
        no_team = client.get(
            "/api/v1/supervision/overdue", headers=cast.headers(db, cast.social_worker)
        )
        worker_names_team = client.get(
            "/api/v1/supervision/overdue",
            params={"team_id": str(cast.team.id)},
            headers=cast.headers(db, cast.social_worker),
        )
        unknown = client.get(
            "/api/v1/supervision/overdue",
            params={"team_id": str(uuid.uuid4())},
            headers=cast.headers(db, cast.iro_manager),
        )
        which = client.get(
            "/api/v1/supervision/overdue", headers=cast.headers(db, cast.iro_manager)
        )
        two = client.get("/api/v1/supervision/overdue", headers=cast.headers(db, two_teams))
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["team_id"] == str(cast.team.id)
    assert [
        (w["worker_id"], w["last_supervision"], w["due_date"], w["days_overdue"])
        for w in body["workers_overdue"]
    ] == [(str(cast.social_worker.id), None, "2020-02-01", 2281)]
    assert body["workers_due_soon"] == []  # the colleague is due on 25 May
    assert [
        (
            c["case_id"],
            c["child_name"],
            c["allocated_worker_name"],
            c["last_oversight"],
            c["due_date"],
            c["days_overdue"],
        )
        for c in body["cases_overdue"]
    ] == [(str(late.id), "Ava Example", cast.social_worker.display_name, None, "2026-04-13", 18)]
    assert [
        (c["case_id"], c["last_oversight"], c["due_date"], c["days_overdue"])
        for c in body["cases_due_soon"]
    ] == [(str(soon.id), "2026-03-25", "2026-05-06", 0)]
    # A service manager sees the same, and the team manager's own supervision too.
    assert by_service.json()["cases_overdue"] == body["cases_overdue"]
    assert {w["worker_id"] for w in by_service.json()["workers_overdue"]} == {
        str(cast.social_worker.id),
        str(cast.manager.id),
    }
    assert not_mine.status_code == 403
    # A social worker manages no team: without team_id the request is incomplete; with one, 403.
    assert no_team.status_code == 422
    assert no_team.json()["errors"][0]["field"] == "team_id"
    assert worker_names_team.status_code == 403
    assert unknown.status_code == 404
    # Without team_id: the one team the caller manages; a manager of two must say which.
    assert which.json()["team_id"] == str(cast.iro_team.id)
    assert two.status_code == 422
    assert two.json()["errors"][0]["field"] == "team_id"
    # Every child named on the list is access-logged.
    logged = set(
        db.scalars(select(AccessLog.person_id).where(AccessLog.resource == "oversight_due_list"))
    )
    assert logged == {late.child_id, soon.child_id}


def test_the_overdue_lists_take_a_fixed_number_of_queries(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    """No query per worker or per case: the lists cost the same for 2 cases as for 6."""
    from sqlalchemy import event

    def count_queries(n_cases: int) -> int:
        for i in range(n_cases):
            referred_case(db, cast, opened=REFERRAL, child=make_child(db, first_name=f"K{i}"))
        db.commit()
        statements: list[str] = []
        engine = db.get_bind()

        def before(*args: Any) -> None:
            statements.append(str(args[2]))

        event.listen(engine, "before_cursor_execute", before)
        try:
            with clock.frozen_at(noon(date(2026, 5, 1))):
                got = client.get(
                    "/api/v1/supervision/overdue", headers=cast.headers(db, cast.manager)
                )
        finally:
            event.remove(engine, "before_cursor_execute", before)
        assert got.status_code == 200
        selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        return len(selects)

    assert count_queries(2) == count_queries(4)


@dataclass
class _Cli:
    url: str
    runner: CliRunner


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[_Cli]:
    url = fresh_database_url(tmp_path, "practice")
    monkeypatch.setenv("CASEWORK_DATABASE_URL", url)
    monkeypatch.setenv("CASEWORK_ENVIRONMENT", "development")
    get_settings.cache_clear()
    try:
        yield _Cli(url, CliRunner())
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_casework_practice_refresh_runs_the_daily_job(cli: _Cli) -> None:
    def run(*args: str) -> str:
        result = cli.runner.invoke(cli_app, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    run("db", "upgrade")
    run(
        "users", "create", "sw1", "--role", "social_worker", "--name", "Sam Worker", "--no-password"
    )
    first = run("practice", "refresh")
    assert first.startswith("OK: 1 supervision clocks opened, 0 stopped; 0 oversight clocks"), first
    second = run("practice", "refresh")
    assert second.startswith("OK: 0 supervision clocks opened, 0 stopped; 0 oversight"), second
