"""A child's record, tab by tab: a worker reads Ava's cases and plans, her assessment, her
visits and case notes, her placements; her team manager also sees who has looked at her record.
Each tab is read through the services after the record's own access check, in a fixed number of
statements however long Ava's history grows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from app import clock
from app.assessments import service as assessment_service
from app.care.codes import LegalStatus
from app.casenotes import service as note_service
from app.cases import service as case_service
from app.cin import service as cin_service
from app.models.casenotes import CaseNoteKind
from app.models.cases import Case
from app.models.people import PersonRelationship, RelationshipKind
from app.security.policy import role_may
from tests.care.factories import bring_into_care, noon, principal, referred_case
from tests.factories import make_child
from tests.web.helpers import TODAY, WebCast, web_sign_in
from tests.web.test_query_counts import _others, _statements

# Many page stories: one app for the module, each story on its own rolled-back connection.
pytestmark = pytest.mark.shared_app

TABS = ("chronology", "cases", "assessments", "meetings", "visits", "placements", "family")


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    with clock.frozen_at(noon(TODAY)):
        yield


def _assessed_case(db: Session, cast: WebCast) -> Case:
    """Ava's case: referred on 2 February, assessed from 20 February, on a CIN plan from 27th."""
    case = referred_case(db, cast.care, opened=date(2026, 2, 2))
    worker = principal(db, cast.worker)
    with clock.frozen_at(noon(date(2026, 2, 20))):
        case = case_service.case_transition(
            db,
            actor=worker,
            case_id=case.id,
            event="start_assessment",
            expected_version=case.version,
        )
        assessment_service.assessment_start(
            db, actor=worker, case_id=case.id, start_date=date(2026, 2, 20)
        )
    with clock.frozen_at(noon(date(2026, 2, 27))):
        cin_service.cin_plan_start(db, actor=worker, case_id=case.id, start_date=date(2026, 2, 27))
    db.commit()
    return case


def _note(db: Session, cast: WebCast, case: Case, title: str, *, finalise: bool = True) -> None:
    with clock.frozen_at(noon(date(2026, 2, 25))):
        note_service.note_create(
            db,
            actor=principal(db, cast.worker),
            case_id=case.id,
            content=note_service.NoteContent(
                kind=CaseNoteKind.phone,
                occurred_at=datetime(2026, 2, 25, 10, 0),
                title=title,
            ),
            finalise=finalise,
        )
    db.commit()


def test_a_worker_reads_each_tab_of_the_record(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    case = _assessed_case(db, cast)
    _note(db, cast, case, "Phoned the school")
    _note(db, cast, case, "Half-written thoughts", finalise=False)
    web_sign_in(client, cast.worker)
    pages = {tab: client.get(f"/children/{cast.care.child.id}?tab={tab}") for tab in TABS}
    for tab, page in pages.items():
        assert page.status_code == 200, (tab, page.text)
        assert f'id="{tab}"' in page.text
        assert 'aria-current="page"' in page.text
        # The worker's role may not read the access log: the tab is not offered.
        assert "Who has viewed this record" not in page.text
    cases = pages["cases"].text
    assert f'href="/cases/{case.id}"' in cases
    assert "Child in need plan" in cases
    assert f'href="/cases/{case.id}/cin-plan"' in cases
    assessments = pages["assessments"].text
    assert "/assessments/" in assessments
    assert "20 February 2026" in assessments
    assert cast.worker.display_name in assessments
    visits = pages["visits"].text
    assert "Phoned the school" in visits
    assert "Half-written thoughts" in visits  # the author sees her own draft
    assert "No statutory visits are recorded." in visits
    assert "has not been looked after" in pages["placements"].text
    assert "No child protection conferences" in pages["meetings"].text


@pytest.mark.parametrize("who", ["worker", "manager", "iro", "other_social_worker"])
def test_every_tab_opens_for_each_role_that_may_read_cases(
    client: TestClient, db: Session, cast: WebCast, who: str
) -> None:
    _assessed_case(db, cast)
    user = getattr(cast.care, "social_worker" if who == "worker" else who)
    web_sign_in(client, user)
    allowed = role_may(user.role, "access_log:read")
    for tab in (*TABS, "viewed"):
        page = client.get(f"/children/{cast.care.child.id}?tab={tab}")
        expected = 403 if tab == "viewed" and not allowed else 200
        assert page.status_code == expected, (who, tab)
    assert who != "manager" or allowed


def test_a_colleague_does_not_see_another_workers_draft_note(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    case = _assessed_case(db, cast)
    _note(db, cast, case, "Half-written thoughts", finalise=False)
    web_sign_in(client, cast.manager)
    visits = client.get(f"/children/{cast.care.child.id}?tab=visits").text
    assert "Half-written thoughts" not in visits
    assert "No case notes are recorded." in visits


def test_the_placements_tab_shows_the_period_of_care_legal_status_and_placement(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    bring_into_care(db, cast.care, on=date(2026, 2, 2), legal_status=LegalStatus.INTERIM_CARE_ORDER)
    db.commit()
    web_sign_in(client, cast.worker)
    page = client.get(f"/children/{cast.care.child.id}?tab=placements").text
    assert "Looked after now" in page
    assert LegalStatus.INTERIM_CARE_ORDER.label in page
    assert "Placements" in page
    assert "2 February 2026" in page


def test_the_manager_sees_who_has_viewed_the_record_and_a_worker_is_refused(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    child = cast.care.child
    web_sign_in(client, cast.worker)
    assert client.get(f"/children/{child.id}").status_code == 200  # the worker opens it
    refused = client.get(f"/children/{child.id}?tab=viewed")
    assert refused.status_code == 403
    assert "You cannot do this" in refused.text

    web_sign_in(client, cast.manager)
    first = client.get(f"/children/{child.id}")
    assert "Who has viewed this record" in first.text
    viewed = client.get(f"/children/{child.id}?tab=viewed")
    assert viewed.status_code == 200
    assert cast.worker.display_name in viewed.text
    assert "web:child_record" in viewed.text
    assert cast.manager.display_name in viewed.text


def test_a_restricted_child_is_not_found_on_every_tab_and_an_unknown_tab_is_not_found(
    client: TestClient, cast: WebCast
) -> None:
    web_sign_in(client, cast.worker)
    for tab in TABS:
        page = client.get(f"/children/{cast.restricted_child.id}?tab={tab}")
        assert page.status_code == 404, tab
        assert "Hidden" not in page.text
    assert client.get(f"/children/{cast.care.child.id}?tab=secrets").status_code == 404
    # The manager is named on the restricted child and reads its tabs, the access log included.
    web_sign_in(client, cast.manager)
    for tab in (*TABS, "viewed"):
        assert client.get(f"/children/{cast.restricted_child.id}?tab={tab}").status_code == 200


def _sibling(db: Session, cast: WebCast, n: int) -> None:
    sibling = make_child(db, first_name=f"Sibling{n}", last_name="Example")
    db.add(
        PersonRelationship(
            person_id=cast.care.child.id,
            related_person_id=sibling.id,
            kind=RelationshipKind.sibling,
        )
    )
    db.commit()


@pytest.mark.parametrize("tab", [*TABS, "viewed"])
def test_each_tab_runs_the_same_statements_for_a_long_history_as_for_a_short_one(
    client: TestClient, db: Session, connection: Connection, cast: WebCast, tab: str
) -> None:
    case = _assessed_case(db, cast)
    _note(db, cast, case, "Note 0")
    _sibling(db, cast, 0)
    # In care from the start: a looked-after child's visits tab also reads the visit deadline.
    bring_into_care(db, cast.care, on=date(2026, 2, 28), case=case)
    db.commit()
    web_sign_in(client, cast.manager)
    path = f"/children/{cast.care.child.id}?tab={tab}"
    one = _statements(connection, client, path)
    # More of everything: case notes, relatives, views of the record.
    for n in range(1, 6):
        _note(db, cast, case, f"Note {n}")
        _sibling(db, cast, n)
    for _ in range(3):
        client.get(f"/children/{cast.care.child.id}")
    ten = _statements(connection, client, path)
    assert _others(ten) == _others(one), (tab, one, ten)
    assert {k for k in ten if k.startswith("insert")} <= {"insert access_log"}
