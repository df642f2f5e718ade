"""The first pages, for a children-in-care team: My work, Find a child and the child's record,
each read through the same services as the API (restricted records included)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.care.codes import LegalStatus
from app.cases import service as case_service
from app.cin import service as cin_service
from app.models import Role
from app.models.audit import AccessLog
from app.models.people import Address
from app.security.access import person_restrict
from tests.care.factories import bring_into_care, noon, principal, referred_case
from tests.factories import make_child
from tests.security.helpers import make_local_user
from tests.web.helpers import TODAY, WebCast, web_sign_in

# Many page stories: one app for the module, each story on its own rolled-back connection.
pytestmark = pytest.mark.shared_app


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    with clock.frozen_at(noon(TODAY)):
        yield


def _access_logged(db: Session, person_id: object) -> int:
    return db.scalar(select(func.count()).where(AccessLog.person_id == person_id)) or 0


# --------------------------------------------------------------------------------------------------
# My work
# --------------------------------------------------------------------------------------------------


def test_a_worker_sees_the_overdue_decision_and_the_due_oversight_with_the_rule_behind_each(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    referred_case(db, cast.care, opened=date(2026, 2, 2))
    db.commit()
    web_sign_in(client, cast.worker)
    page = client.get("/")
    assert page.status_code == 200
    text = page.text
    assert '<h1 class="govuk-heading-l">My work</h1>' in text
    assert "Overdue (1)" in text
    assert "Decision on the type of response within 1 working day of the referral" in text
    assert "Overdue by 27 days" in text  # due 3 February, today 2 March
    assert "Management oversight recorded on every open case" in text
    assert "10 working days left" in text  # due 16 March
    assert text.index("Decision on the type of response") < text.index("Management oversight")
    # Their allocated child, linked to the record.
    assert f'href="/children/{cast.care.child.id}">Ava Example</a>' in text
    # Every child shown is access-logged (the worklist and the allocated list each say so).
    assert _access_logged(db, cast.care.child.id) >= 1


def test_a_worker_with_nothing_due_is_told_so(client: TestClient, cast: WebCast) -> None:
    web_sign_in(client, cast.worker)
    text = client.get("/").text
    assert "Nothing of yours is overdue or due by 16 March 2026." in text
    assert "No open cases are allocated to you." in text


def test_a_manager_also_sees_the_teams_deadlines_and_its_unallocated_cases(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    referred_case(db, cast.care, opened=date(2026, 2, 2))
    waiting = make_child(db, first_name="Waiting", last_name="Child")
    with clock.frozen_at(noon(date(2026, 2, 23))):
        case_service.case_open(
            db,
            actor=principal(db, cast.manager),
            child_id=waiting.id,
            team_id=cast.care.team.id,
            opened_date=date(2026, 2, 23),
        )
    db.commit()
    web_sign_in(client, cast.manager)
    text = client.get("/").text
    team = cast.care.team.name
    assert f"{team}: overdue" in text
    assert f"{team}: unallocated cases (1)" in text
    assert f'href="/children/{waiting.id}">Waiting Child</a>' in text
    # The worker's own page has no team section.
    client.cookies.clear()
    web_sign_in(client, cast.worker)
    assert "unallocated cases" not in client.get("/").text


def test_a_role_that_may_not_read_deadlines_gets_the_403_page(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    admin = make_local_user(db, Role.administrator)
    web_sign_in_any(client, admin.username)
    for path in ("/", "/children?q=ava", f"/children/{cast.care.child.id}"):
        page = client.get(path)
        assert page.status_code == 403, path
        assert "You cannot do this" in page.text
        assert "administrator" in page.text
    assert _access_logged(db, cast.care.child.id) == 0


def web_sign_in_any(client: TestClient, username: str) -> None:
    """Sign in a user whose pages may all be refused (the helper checks /children)."""
    from tests.web.helpers import hidden_csrf

    form = client.get("/sign-in")
    response = client.post(
        "/sign-in",
        data={
            "username": username,
            "password": "correct horse battery staple",
            "csrf_token": hidden_csrf(form.text),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


# --------------------------------------------------------------------------------------------------
# Find a child
# --------------------------------------------------------------------------------------------------


def _identified(db: Session, cast: WebCast) -> None:
    child = cast.care.child
    child.nhs_number = "9434765919"
    child.upn = "Q330400024001"
    db.add(
        Address(
            person_id=child.id,
            line_1="1 High Street",
            town="Birmingham",
            postcode="B1 1AA",
            start_date=date(2020, 1, 1),
        )
    )
    db.commit()


@pytest.mark.parametrize(
    ("query", "described"),
    [
        ("ava", "name"),
        ("Ava Exa", "name"),
        ("01/05/2015", "date of birth"),
        ("2015-05-01", "date of birth"),
        ("943 476 5919", "NHS number"),
        ("q330400024001", "UPN"),
        ("b11aa", "postcode"),
    ],
)
def test_a_child_is_found_by_name_date_of_birth_nhs_number_upn_or_postcode(
    client: TestClient, db: Session, cast: WebCast, query: str, described: str
) -> None:
    _identified(db, cast)
    web_sign_in(client, cast.worker)
    page = client.get("/children", params={"q": query})
    assert page.status_code == 200
    assert f"for {described}" in page.text
    assert f'href="/children/{cast.care.child.id}">Ava Example</a>' in page.text
    assert "1 May 2015 (age 10)" in page.text


def test_a_restricted_child_never_appears_to_those_not_named_on_it(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    web_sign_in(client, cast.worker)
    found = client.get("/children", params={"q": "example"})
    assert "Ava Example" in found.text
    assert "Hidden" not in found.text
    assert str(cast.restricted_child.id) not in found.text
    assert _access_logged(db, cast.restricted_child.id) == 0
    # Named on it, the worker sees it, marked as restricted.
    person_restrict(
        db,
        principal=principal(db, cast.manager),
        person_id=cast.restricted_child.id,
        user_ids=[cast.worker.id],
    )
    db.commit()
    named = client.get("/children", params={"q": "hidden"})
    assert f'href="/children/{cast.restricted_child.id}">Hidden Example</a>' in named.text
    assert "Restricted" in named.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("9434765918", "This is not a valid NHS number"),
        ("Q330400024002", "This is not a valid UPN"),
        ("31/02/2015", "Date of birth must be a real date"),
        ("x" * 101, "Name must be 100 characters or fewer"),
    ],
)
def test_a_mistyped_identifier_is_pointed_out_not_searched_for(
    client: TestClient, db: Session, cast: WebCast, query: str, message: str
) -> None:
    web_sign_in(client, cast.worker)
    before = db.scalar(select(func.count()).select_from(AccessLog))
    page = client.get("/children", params={"q": query})
    assert page.status_code == 422
    assert "There is a problem" in page.text
    assert 'href="#q"' in page.text
    assert message in page.text
    assert "<title>Error: Find a child" in page.text
    assert db.scalar(select(func.count()).select_from(AccessLog)) == before


def test_no_match_says_so_and_an_empty_search_just_shows_the_form(
    client: TestClient, cast: WebCast
) -> None:
    web_sign_in(client, cast.worker)
    assert "No results for name “zebedee”" in client.get("/children?q=zebedee").text
    empty = client.get("/children")
    assert empty.status_code == 200
    assert "No results" not in empty.text


# --------------------------------------------------------------------------------------------------
# The child's record
# --------------------------------------------------------------------------------------------------


def test_the_record_of_a_looked_after_child_shows_age_status_worker_and_chronology(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    bring_into_care(db, cast.care, on=date(2026, 2, 2), legal_status=LegalStatus.INTERIM_CARE_ORDER)
    db.commit()
    web_sign_in(client, cast.worker)
    before = _access_logged(db, cast.care.child.id)
    page = client.get(f"/children/{cast.care.child.id}")
    assert page.status_code == 200
    text = page.text
    assert "Ava Example" in text
    assert "Born 1 May 2015 (age 10)" in text
    assert "Looked after: " + LegalStatus.INTERIM_CARE_ORDER.label in text
    assert f"<strong>{cast.worker.display_name}</strong>" in text
    assert 'id="chronology"' in text
    assert "Chronology" in text
    assert "Care started" in text or "care started" in text.lower()
    assert _access_logged(db, cast.care.child.id) > before
    assert page.headers["cache-control"] == "no-store"


def test_a_child_in_need_plan_shows_as_a_tag(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    case = referred_case(db, cast.care, opened=date(2026, 2, 2))
    with clock.frozen_at(noon(date(2026, 2, 20))):
        case_service.case_transition(
            db,
            actor=principal(db, cast.worker),
            case_id=case.id,
            event="start_assessment",
            expected_version=case.version,
        )
        cin_service.cin_plan_start(
            db, actor=principal(db, cast.worker), case_id=case.id, start_date=date(2026, 2, 20)
        )
    db.commit()
    web_sign_in(client, cast.worker)
    text = client.get(f"/children/{cast.care.child.id}").text
    assert "Child in need" in text
    assert "Looked after" not in text
    assert "overdue deadline" not in text
    # Four weeks on, the six-weekly management oversight (due 16 March) has not been recorded.
    with clock.frozen_at(noon(date(2026, 3, 30))):
        web_sign_in(client, cast.worker)
        later = client.get(f"/children/{cast.care.child.id}").text
    assert "1 overdue deadline on this child&#39;s cases." in later


def test_a_restricted_child_is_page_not_found_and_the_attempt_is_recorded(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    web_sign_in(client, cast.worker)
    page = client.get(f"/children/{cast.restricted_child.id}")
    assert page.status_code == 404
    assert "Page not found" in page.text
    assert "Hidden" not in page.text
    # The attempt is a security event, recorded (the record's existence is still not disclosed).
    denied = db.scalars(
        select(AccessLog.action).where(AccessLog.person_id == cast.restricted_child.id)
    ).all()
    assert denied == ["denied"]
    for path in ("/children/not-an-id", "/children/00000000-0000-0000-0000-000000000000"):
        missing = client.get(path)
        assert missing.status_code == 404
        assert "Page not found" in missing.text


def test_the_record_prints_without_navigation(client: TestClient, cast: WebCast) -> None:
    css = client.get("/static/casework.css").text
    media = css[css.index("@media print") :]
    for hidden in (".govuk-service-navigation", ".govuk-header", ".govuk-footer", "form"):
        assert hidden in media
    assert ".govuk-tabs__panel--hidden" in media  # every tab prints, not only the open one
    web_sign_in(client, cast.worker)
    page = client.get(f"/children/{cast.care.child.id}").text
    assert '<link rel="stylesheet" href="/static/casework.css">' in page
