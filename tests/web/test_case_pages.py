"""The case page and its everyday forms: what the case is and who holds it, exactly the next
steps the case machine allows the person looking, a visit, a case note kept as a draft while it
is written, and closing the case with its CIN census reason."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, event, func, select
from sqlalchemy.orm import Session

from app import clock
from app.cases.workflow import CASE_MACHINE
from app.models import Case
from app.models.casenotes import CaseNote
from app.models.drafts import FormDraft
from app.models.org import Role
from app.models.protection import CoreGroup, CPConference, CPVisit
from app.protection import service as protection_service
from app.security.access import person_restrict
from app.web.drafts import draft_save
from app.workflow.engine import allowed_events
from tests.care.factories import noon
from tests.protection.factories import principal
from tests.web.helpers import web_sign_in
from tests.web.protection_story import (
    TODAY,
    WebProtectionCast,
    date_fields,
    discussed,
    make_protection_cast,
    offered_events,
    on_a_plan,
    post,
    referred,
)

# Many page stories: one app for the module, each story on its own rolled-back connection.
pytestmark = pytest.mark.shared_app


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    with clock.frozen_at(noon(TODAY)):
        yield


@pytest.fixture
def pc(db: Session) -> WebProtectionCast:
    return make_protection_cast(db)


def _count(db: Session, model: type) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model)) or 0


# --- the case page -------------------------------------------------------------------------------


def test_the_case_page_says_whose_case_it_is_and_what_is_due(
    client: TestClient, db: Session, pc: WebProtectionCast
) -> None:
    case = referred(db, pc)
    web_sign_in(client, pc.worker)
    page = client.get(f"/cases/{case.id}")
    assert page.status_code == 200
    child = pc.cast.child
    assert f'href="/children/{child.id}">{child.first_name} {child.last_name}</a>' in page.text
    assert "Referral" in page.text
    assert pc.cast.team.name in page.text
    assert pc.worker.display_name in page.text
    # Its open deadlines, from the deadline service, in the words of their rules.
    assert "Decision on the type of response within 1 working day" in page.text
    assert "Write a case note" in page.text


@pytest.mark.parametrize("role", [Role.social_worker, Role.team_manager])
def test_the_case_page_offers_exactly_the_steps_the_case_machine_allows(
    client: TestClient, db: Session, pc: WebProtectionCast, role: Role
) -> None:
    user = pc.worker if role is Role.social_worker else pc.manager
    case = referred(db, pc)
    web_sign_in(client, user)
    in_referral = client.get(f"/cases/{case.id}").text
    assert offered_events(in_referral) == {
        t.event for t in allowed_events(CASE_MACHINE, "referral", role)
    }
    assert f'href="/cases/{case.id}/strategy-discussions/new"' in in_referral

    discussed(db, pc, case)  # the case is now in protection
    in_protection = client.get(f"/cases/{case.id}").text
    expected = {t.event for t in allowed_events(CASE_MACHINE, "protection", role)}
    assert offered_events(in_protection) == expected
    assert ("close" in expected) is (role is Role.team_manager)  # a manager authorises closure
    assert f'href="/cases/{case.id}/section-47"' in in_protection
    assert f'href="/cases/{case.id}/cp-plan"' in in_protection


def test_another_teams_worker_is_offered_nothing(
    client: TestClient, db: Session, pc: WebProtectionCast
) -> None:
    case = referred(db, pc)
    web_sign_in(client, pc.outsider)
    page = client.get(f"/cases/{case.id}")
    assert page.status_code == 200
    assert offered_events(page.text) == set()
    assert "held by another team" in page.text
    assert "Write a case note" not in page.text
    for path in ("/notes/new", "/visits/new", "/close"):
        form = client.get(f"/cases/{case.id}{path}")
        assert form.status_code == 200
        assert '<form method="post" action="/cases/' not in form.text, path


def test_a_restricted_childs_case_does_not_exist_for_others(
    client: TestClient, db: Session, pc: WebProtectionCast
) -> None:
    case = referred(db, pc)
    person_restrict(
        db, principal=principal(db, pc.manager), person_id=case.child_id, user_ids=[pc.worker.id]
    )
    db.commit()
    csrf = web_sign_in(client, pc.outsider)
    for path in ("", "/visits/new", "/notes/new", "/close"):
        page = client.get(f"/cases/{case.id}{path}")
        assert page.status_code == 404, path
        assert "Page not found" in page.text
    refused = post(client, f"/cases/{case.id}/notes/new", csrf, {"title": "x"})
    assert refused.status_code == 404
    assert client.get("/cases/not-a-case").status_code == 404


def test_the_plan_and_its_conference_are_linked_from_the_case(
    client: TestClient, db: Session, pc: WebProtectionCast
) -> None:
    case = referred(db, pc)
    on_a_plan(db, pc, case)
    conference = db.scalars(select(CPConference)).one()
    web_sign_in(client, pc.worker)
    page = client.get(f"/cases/{case.id}").text
    assert "Child protection plan" in page
    assert "Neglect" in page
    assert f'href="/conferences/{conference.id}"' in page
    assert "Record a review conference" in page


# --- visits --------------------------------------------------------------------------------------


def test_a_visit_to_a_child_on_a_plan_is_recorded_on_the_plan(
    client: TestClient, db: Session, pc: WebProtectionCast
) -> None:
    case = referred(db, pc)
    plan = on_a_plan(db, pc, case)
    csrf = web_sign_in(client, pc.worker)
    form = client.get(f"/cases/{case.id}/visits/new")
    assert "child protection plan" in form.text
    saved = post(
        client,
        f"/cases/{case.id}/visits/new",
        csrf,
        {**date_fields("visit_date", TODAY), "child_seen": "true", "seen_alone": "true"},
    )
    assert saved.status_code == 303, saved.text
    visit = db.scalars(select(CPVisit)).one()
    assert visit.cp_plan_id == plan.id
    assert visit.seen_alone is True
    assert "The visit has been recorded." in client.get(saved.headers["location"]).text


def test_a_visit_without_saying_whether_the_child_was_seen_is_refused(
    client: TestClient, db: Session, pc: WebProtectionCast
) -> None:
    case = referred(db, pc)
    on_a_plan(db, pc, case)
    csrf = web_sign_in(client, pc.worker)
    refused = post(
        client, f"/cases/{case.id}/visits/new", csrf, {**date_fields("visit_date", TODAY)}
    )
    assert refused.status_code == 422
    assert "Select whether the child was seen" in refused.text
    assert 'href="#child_seen"' in refused.text
    assert _count(db, CPVisit) == 0


def test_a_child_neither_on_a_plan_nor_looked_after_has_no_statutory_visit(
    client: TestClient, db: Session, pc: WebProtectionCast
) -> None:
    case = referred(db, pc)
    csrf = web_sign_in(client, pc.worker)
    form = client.get(f"/cases/{case.id}/visits/new")
    assert "Write a case note about the visit instead" in form.text
    assert "Save the visit" not in form.text
    refused = post(
        client,
        f"/cases/{case.id}/visits/new",
        csrf,
        {**date_fields("visit_date", TODAY), "child_seen": "true"},
    )
    assert refused.status_code == 409  # the visits service: not looked after (reg 28)
    assert "not looked after" in refused.text


# --- case notes ----------------------------------------------------------------------------------


def _note(**overrides: str) -> dict[str, str]:
    return {
        "kind": "home_visit",
        **date_fields("occurred_at", TODAY),
        "occurred_time": "10:30",
        "title": "Home visit after the conference",
        "body": "Saw Ava in her bedroom; she talked about school.",
        "child_seen": "true",
        "seen_alone": "true",
        **overrides,
    }


def test_a_case_note_is_saved_finished_and_its_draft_thrown_away(
    client: TestClient, db: Session, pc: WebProtectionCast
) -> None:
    case = referred(db, pc)
    csrf = web_sign_in(client, pc.worker)
    path = f"/cases/{case.id}/notes/new"
    draft_save(
        db,
        user_id=pc.worker.id,
        form_path=path,
        title="Case note for Ava",
        data={"title": "Half-written title", "body": "Half-written note"},
        saved_by="autosave",
        child_id=case.child_id,
    )
    db.commit()
    form = client.get(path)
    assert "Restored from a draft saved at 2 March 2026" in form.text
    assert "Half-written note" in form.text
    assert "data-autosave" in form.text
    assert f'data-draft-title="Case note for {pc.cast.child.first_name}"' in form.text

    saved = post(client, path, csrf, _note())

    assert saved.status_code == 303, saved.text
    note = db.scalars(select(CaseNote)).one()
    assert note.state == "final"
    assert note.seen_alone is True
    assert note.occurred_at.astimezone(clock.now().tzinfo).hour in (10, 11)  # 10:30 London (GMT)
    assert _count(db, FormDraft) == 0
    assert "The case note has been saved." in client.get(saved.headers["location"]).text


def test_a_case_note_without_a_title_or_time_is_refused_and_nothing_is_written(
    client: TestClient, db: Session, pc: WebProtectionCast
) -> None:
    case = referred(db, pc)
    csrf = web_sign_in(client, pc.worker)
    refused = post(
        client, f"/cases/{case.id}/notes/new", csrf, _note(title="", occurred_time="half ten")
    )
    assert refused.status_code == 422
    assert "Enter a title for the note" in refused.text
    assert "Enter the time of the contact as hours and minutes" in refused.text
    assert "Saw Ava in her bedroom" in refused.text  # kept as typed
    assert _count(db, CaseNote) == 0


def test_a_phone_call_in_the_future_is_refused_by_the_notes_service(
    client: TestClient, db: Session, pc: WebProtectionCast
) -> None:
    case = referred(db, pc)
    csrf = web_sign_in(client, pc.worker)
    refused = post(
        client,
        f"/cases/{case.id}/notes/new",
        csrf,
        _note(kind="phone", occurred_time="23:30"),  # the visit answers are not sent for a call
    )
    assert refused.status_code == 422
    assert "A contact cannot have happened in the future." in refused.text
    assert _count(db, CaseNote) == 0


def test_an_iro_may_not_write_a_case_note(
    client: TestClient, db: Session, pc: WebProtectionCast
) -> None:
    case = referred(db, pc)
    csrf = web_sign_in(client, pc.iro)
    refused = post(client, f"/cases/{case.id}/notes/new", csrf, _note())
    assert refused.status_code == 403
    assert _count(db, CaseNote) == 0


# --- closing -------------------------------------------------------------------------------------


def test_a_referral_is_closed_with_its_reason(
    client: TestClient, db: Session, pc: WebProtectionCast
) -> None:
    case = referred(db, pc)
    csrf = web_sign_in(client, pc.worker)
    form = client.get(f"/cases/{case.id}/close")
    assert "RC7: Services ceased" in form.text
    closed = post(
        client,
        f"/cases/{case.id}/close",
        csrf,
        {"closure_reason": "RC7", "reason": "Family moved away.", "version": str(case.version)},
    )
    assert closed.status_code == 303, closed.text
    db.expire_all()
    after = db.get(Case, case.id)
    assert after is not None
    assert after.state == "closed"
    assert after.closure_reason is not None
    assert after.closure_reason.value == "RC7"
    page = client.get(closed.headers["location"]).text
    assert "The case has been closed." in page
    assert offered_events(page) == set()


def test_closing_without_a_reason_is_refused_and_nothing_changes(
    client: TestClient, db: Session, pc: WebProtectionCast
) -> None:
    case = referred(db, pc)
    csrf = web_sign_in(client, pc.worker)
    refused = post(client, f"/cases/{case.id}/close", csrf, {"version": str(case.version)})
    assert refused.status_code == 422
    assert "There is a problem" in refused.text
    assert 'href="#reason"' in refused.text
    assert 'href="#data-closure_reason"' in refused.text
    db.expire_all()
    assert db.get(Case, case.id).state == "referral"  # type: ignore[union-attr]


def test_closing_from_a_stale_page_is_refused_with_412(
    client: TestClient, db: Session, pc: WebProtectionCast
) -> None:
    case = referred(db, pc)
    csrf = web_sign_in(client, pc.worker)
    stale = post(
        client,
        f"/cases/{case.id}/close",
        csrf,
        {"closure_reason": "RC7", "reason": "Moved away.", "version": str(case.version - 1)},
    )
    assert stale.status_code == 412
    assert "someone changed it since you loaded it" in stale.text
    db.expire_all()
    assert db.get(Case, case.id).state == "referral"  # type: ignore[union-attr]


def test_closing_during_an_enquiry_is_offered_to_the_manager_only(
    client: TestClient, db: Session, pc: WebProtectionCast
) -> None:
    case = referred(db, pc)
    discussed(db, pc, case)
    csrf = web_sign_in(client, pc.worker)
    page = client.get(f"/cases/{case.id}/close")
    assert "You cannot close this case now" in page.text
    assert "Close the case</button>" not in page.text
    refused = post(
        client,
        f"/cases/{case.id}/close",
        csrf,
        {"closure_reason": "RC7", "reason": "No concerns.", "version": "3"},
    )
    assert refused.status_code in (403, 409)
    db.expire_all()
    assert db.get(Case, case.id).state == "protection"  # type: ignore[union-attr]


# --- query counts --------------------------------------------------------------------------------


def _statements(connection: Connection, client: TestClient, path: str) -> Counter[str]:
    seen: Counter[str] = Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        words = statement.split()
        verb = words[0].lower()
        if verb == "insert":
            seen[f"insert {words[2]}"] += 1
        elif verb in ("select", "with"):
            seen["select"] += 1
        else:
            seen[verb] += 1

    event.listen(connection, "before_cursor_execute", count)
    try:
        page = client.get(path)
    finally:
        event.remove(connection, "before_cursor_execute", count)
    assert page.status_code == 200, page.text
    return seen


def _more_work(db: Session, pc: WebProtectionCast, case: Case, plan_id: Any, n: int) -> None:
    """Visits, core groups and case notes on the plan: rows the pages show or count past."""
    actor = principal(db, pc.worker)
    for day in range(n):
        when = date(2026, 3, 2) if day % 2 else date(2026, 2, 27)
        protection_service.cp_visit_record(
            db, actor=actor, plan_id=plan_id, visit_date=when, child_seen=True
        )
        protection_service.core_group_record(db, actor=actor, plan_id=plan_id, meeting_date=when)
    db.commit()


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/visits/new",
        "/notes/new",
        "/close",
        "/strategy-discussions/new",
        "/section-47",
        "/conferences/new",
        "/cp-plan",
    ],
)
def test_the_case_pages_run_the_same_statements_however_much_work_there_is(
    client: TestClient, db: Session, connection: Connection, pc: WebProtectionCast, path: str
) -> None:
    case = referred(db, pc)
    plan = on_a_plan(db, pc, case)
    _more_work(db, pc, case, plan.id, 1)
    web_sign_in(client, pc.worker)
    one = _statements(connection, client, f"/cases/{case.id}{path}")
    _more_work(db, pc, case, plan.id, 6)
    assert _count(db, CPVisit) == 7
    assert _count(db, CoreGroup) == 7
    many = _statements(connection, client, f"/cases/{case.id}{path}")
    assert one["select"] > 0
    assert many == one, (one, many)


def test_the_conference_page_runs_a_fixed_number_of_statements(
    client: TestClient, db: Session, connection: Connection, pc: WebProtectionCast
) -> None:
    case = referred(db, pc)
    plan = on_a_plan(db, pc, case)
    conference = db.scalars(select(CPConference)).one()
    web_sign_in(client, pc.worker)
    one = _statements(connection, client, f"/conferences/{conference.id}")
    _more_work(db, pc, case, plan.id, 5)
    many = _statements(connection, client, f"/conferences/{conference.id}")
    assert many == one, (one, many)
