"""The team scorecard, as a team manager reads it on a Monday morning: each worker's caseload and
the team's average, the cases waiting for a worker, and how often each statutory timescale was
met this month and over the year — every figure the services' own, and every figure opening on
exactly the children it counts."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, event, func, select
from sqlalchemy.orm import Session

from app import clock
from app.cases import service as case_service
from app.models import Case, Person
from app.models.audit import AccessLog
from app.org import service as org_service
from app.practice import measures
from app.practice import reads as practice_reads
from app.security.passwords import hash_password
from tests.audits.factories import AuditCast, make_audit_cast, noon, on, principal, referred_case
from tests.factories import make_child
from tests.security.helpers import PASSWORD
from tests.web.helpers import TODAY, web_sign_in

# Many page stories: one app for the module, each story on its own rolled-back connection.
pytestmark = pytest.mark.shared_app

FEBRUARY = date(2026, 2, 1)


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    with clock.frozen_at(noon(TODAY)):
        yield


@dataclass
class Team:
    cast: AuditCast
    cases: list[Case]
    waiting: Case


@pytest.fixture
def team(db: Session) -> Team:
    cast = make_audit_cast(db)
    for user in (cast.manager, cast.social_worker, cast.other_manager):
        user.password_hash = hash_password(PASSWORD)
    cases = [referred_case(db, cast, opened=date(2026, 2, 3))]
    with on(date(2026, 2, 20)):
        waiting = case_service.case_open(
            db,
            actor=principal(db, cast.manager),
            child_id=make_child(db, first_name="Wynn", last_name="Waiting").id,
            team_id=cast.team.id,
            opened_date=date(2026, 2, 20),
        )
    db.commit()
    return Team(cast=cast, cases=cases, waiting=waiting)


def _more(db: Session, team: Team, how_many: int) -> None:
    for n in range(how_many):
        child = make_child(db, first_name=f"Child{n}", last_name="Scorecard")
        team.cases.append(referred_case(db, team.cast, opened=date(2026, 2, 4 + n), child=child))
    db.commit()


def _ratio_text(ratio: measures.Ratio) -> str:
    if ratio.denominator == 0:
        return "Nothing counted"
    return f"{ratio.numerator} of {ratio.denominator} ({ratio.percent}%)"


def test_the_scorecard_shows_the_services_figures_and_each_opens_on_its_children(
    client: TestClient, db: Session, team: Team
) -> None:
    _more(db, team, 2)
    web_sign_in(client, team.cast.manager)
    page = client.get("/team?month=2026-02")  # the team they manage, by default
    assert page.status_code == 200, page.text
    text = page.text
    cast = team.cast

    # Caseloads: the org service's figures.
    loads = org_service.team_caseloads(db, team_id=cast.team.id)
    assert loads.open_cases == 4
    assert loads.unallocated_cases == 1
    assert f"<strong>{loads.open_cases}</strong> open cases" in text
    assert f"<strong>{loads.unallocated_cases}</strong> unallocated" in text
    assert f"<strong>{loads.average_caseload}</strong>" in text
    worker = next(w for w in loads.workers if w.worker_id == cast.social_worker.id)
    assert worker.caseload == 3
    caseload = f"/team/measures/caseload?team_id={cast.team.id}&amp;worker_id={worker.worker_id}"
    assert f'href="{caseload}">3<' in text

    # Statutory timescales: the reads' figures, each linking to its children.
    timeliness = practice_reads.statutory_timeliness(db, month=FEBRUARY, team_id=cast.team.id)
    assert timeliness, "February's referrals have deadlines"
    counted = [t for t in timeliness if t.ratio.denominator]
    assert counted
    for item in timeliness:
        assert _ratio_text(item.ratio) in text
    # Practice measures: the measures service's own.
    found = measures.practice_measures(db, month=FEBRUARY, team_id=cast.team.id).teams[0].measures
    assert _ratio_text(found.oversight_today.ratio) in text
    # Charts: inline SVG with an accessible name, no inline style.
    assert text.count('role="img"') == 2
    assert 'aria-labelledby="statutory-chart-title statutory-chart-desc"' in text
    assert "style=" not in text

    # Each statutory figure drills down to exactly the children it counts.
    for item in counted:
        drill = client.get(f"/team/measures/{item.kind.value}?team_id={cast.team.id}&month=2026-02")
        assert drill.status_code == 200, drill.text
        rows = practice_reads.timeliness_rows(
            db,
            actor=principal(db, cast.manager),
            kind=item.kind,
            month=FEBRUARY,
            team_id=cast.team.id,
        )
        assert len(rows.rows) == item.ratio.denominator
        assert rows.counted == item.ratio.numerator
        listed = set(re.findall(r'href="/children/([0-9a-f-]{36})"', drill.text))
        assert listed == {str(r.child_id) for r in rows.rows}
        assert drill.text.count("Met in time") == item.ratio.numerator

    # The open cases behind "oversight not overdue today": every open case past the contact.
    oversight = client.get(f"/team/measures/oversight_today?team_id={cast.team.id}&month=2026-02")
    listed = set(re.findall(r'href="/children/([0-9a-f-]{36})"', oversight.text))
    assert len(listed) == found.oversight_today.ratio.denominator == 3

    # The unallocated case, and the worker's caseload.
    waiting = client.get(f"/team/measures/unallocated?team_id={cast.team.id}")
    assert "Wynn Waiting" in waiting.text
    held = client.get(caseload.replace("&amp;", "&"))
    held_ids = set(re.findall(r'href="/children/([0-9a-f-]{36})"', held.text))
    assert held_ids == {str(c.child_id) for c in team.cases}


def test_a_restricted_child_is_counted_but_not_listed(
    client: TestClient, db: Session, team: Team
) -> None:
    hidden: Person = db.get(Person, team.cases[0].child_id)  # type: ignore[assignment]
    hidden.is_restricted = True
    db.commit()
    web_sign_in(client, team.cast.other_manager)
    page = client.get(
        f"/team/measures/caseload?team_id={team.cast.team.id}&worker_id={team.cast.social_worker.id}"
    )
    assert page.status_code == 200
    assert f"/children/{hidden.id}" not in page.text
    assert "1 more is counted but not shown" in page.text


def test_reading_the_children_behind_a_figure_is_access_logged(
    client: TestClient, db: Session, team: Team
) -> None:
    web_sign_in(client, team.cast.manager)
    before = int(db.scalar(select(func.count()).select_from(AccessLog)) or 0)
    page = client.get(f"/team/measures/oversight_today?team_id={team.cast.team.id}")
    assert page.status_code == 200
    db.expire_all()
    logged = db.scalars(
        select(AccessLog.person_id).where(AccessLog.resource == practice_reads.RESOURCE)
    ).all()
    assert set(logged) == {team.cases[0].child_id}
    assert int(db.scalar(select(func.count()).select_from(AccessLog)) or 0) > before


def test_an_unknown_figure_or_team_is_not_found(
    client: TestClient, db: Session, team: Team
) -> None:
    web_sign_in(client, team.cast.manager)
    assert client.get(f"/team/measures/nonsense?team_id={team.cast.team.id}").status_code == 404
    assert client.get("/team?team_id=not-a-team").status_code == 404
    assert client.get("/team?month=2099-01").status_code == 422


def _selects(connection: Connection, client: TestClient, path: str) -> int:
    seen: Counter[str] = Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.split()[0].lower() in ("select", "with"):
            seen["select"] += 1

    event.listen(connection, "before_cursor_execute", count)
    try:
        page = client.get(path)
    finally:
        event.remove(connection, "before_cursor_execute", count)
    assert page.status_code == 200, page.text
    return seen["select"]


def test_the_scorecard_and_its_drill_downs_run_the_same_selects_with_one_child_as_with_six(
    client: TestClient, db: Session, connection: Connection, team: Team
) -> None:
    web_sign_in(client, team.cast.manager)
    tid = team.cast.team.id
    paths = [
        f"/team?team_id={tid}&month=2026-02",
        f"/team/measures/referral_decision?team_id={tid}&month=2026-02",
        f"/team/measures/oversight_today?team_id={tid}",
        f"/team/measures/unallocated?team_id={tid}",
        f"/team/measures/caseload?team_id={tid}&worker_id={team.cast.social_worker.id}",
    ]
    before = [_selects(connection, client, p) for p in paths]
    _more(db, team, 5)
    assert [_selects(connection, client, p) for p in paths] == before
