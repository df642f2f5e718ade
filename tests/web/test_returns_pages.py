"""The council's data officer generates the statutory returns from the pages, downloads them, and
works through the data-quality list; a social worker may do none of it. The returns are built by
the same job service as ``POST /api/v1/returns`` (its background task runs before the test
client returns), so the file the page serves is the file the API serves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from app import clock
from app.models import Role, UserAccount
from app.models.audit import AccessLog
from app.models.returns import ReturnJob, ReturnJobState
from app.returns.validators import DEFAULT_VALIDATORS_PYTHON
from tests.care.factories import bring_into_care, noon, referred_case
from tests.factories import auth_headers
from tests.security.helpers import make_local_user
from tests.web.helpers import TODAY, WebCast, hidden_csrf, web_sign_in
from tests.web.test_query_counts import _others, _statements

# Many page stories: one app for the module, each story on its own rolled-back connection.
pytestmark = pytest.mark.shared_app

YEAR = 2026  # the collection year in progress on 2 March 2026 (2025-26)


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    with clock.frozen_at(noon(TODAY)):
        yield


def _sign_in(client: TestClient, user: UserAccount) -> str:
    """Sign in someone who may not open Find a child (the shared helper checks it): the session's
    CSRF token, from the returns page or, when that is refused, the sign-out form of any page."""
    form = client.get("/sign-in")
    signed_in = client.post(
        "/sign-in",
        data={
            "username": user.username,
            "password": "correct horse battery staple",
            "csrf_token": hidden_csrf(form.text),
            "next": "/",
        },
        follow_redirects=False,
    )
    assert signed_in.status_code == 303, signed_in.text
    return hidden_csrf(client.get("/returns").text)


def _officer(db: Session) -> UserAccount:
    return make_local_user(db, Role.data_officer)


def _jobs(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(ReturnJob)) or 0


def test_the_data_officer_generates_the_cin_census_and_downloads_the_same_file_as_the_api(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    referred_case(db, cast.care, opened=date(2026, 2, 2))
    db.commit()
    officer = _officer(db)
    csrf = _sign_in(client, officer)
    page = client.get("/returns")
    assert page.status_code == 200
    assert "Generate the return" in page.text
    assert "No returns have been asked for yet." in page.text

    asked = client.post(
        "/returns",
        data={"csrf_token": csrf, "kind": "cin_census", "year": str(YEAR)},
        follow_redirects=False,
    )
    assert asked.status_code == 303, asked.text
    job_path = asked.headers["location"].split("?")[0]
    job_id = job_path.rsplit("/", 1)[-1]

    followed = client.get(asked.headers["location"])
    assert followed.status_code == 200
    assert "The return has been asked for" in followed.text
    assert "Ready" in followed.text
    assert 'http-equiv="refresh"' not in followed.text  # done: the page stops reloading
    assert f'href="/returns/{job_id}/file"' in followed.text
    assert "cin-census-330-2026.xml" in followed.text

    downloaded = client.get(f"/returns/{job_id}/file")
    assert downloaded.status_code == 200
    assert downloaded.headers["cache-control"] == "no-store"
    assert downloaded.headers["content-type"].startswith("application/xml")
    assert 'filename="cin-census-330-2026.xml"' in downloaded.headers["content-disposition"]
    assert b"<Message" in downloaded.content
    from_api = client.get(f"/api/v1/returns/{job_id}/file", headers=auth_headers(db, officer))
    assert from_api.status_code == 200, from_api.text
    assert downloaded.content == from_api.content

    # Asking and each download are bulk reads of every child's record: each is access-logged.
    logged = db.scalars(
        select(AccessLog.action).where(AccessLog.resource == f"return:cin_census:{YEAR}")
    ).all()
    assert sorted(logged) == ["download", "download", "export"]
    listed = client.get("/returns").text
    assert f'href="/returns/{job_id}"' in listed
    assert "Children in need census" in listed


def test_a_return_not_chosen_or_for_a_year_not_begun_is_pointed_out_and_nothing_is_asked_for(
    client: TestClient, db: Session
) -> None:
    csrf = _sign_in(client, _officer(db))
    unchosen = client.post("/returns", data={"csrf_token": csrf, "year": str(YEAR)})
    assert unchosen.status_code == 422
    assert "There is a problem" in unchosen.text
    assert "Select which return to generate" in unchosen.text
    assert 'href="#kind"' in unchosen.text

    future = client.post(
        "/returns", data={"csrf_token": csrf, "kind": "ssda903", "year": str(YEAR + 1)}
    )
    assert future.status_code == 422
    assert "has not begun yet" in future.text
    assert f'value="{YEAR + 1}"' in future.text  # what was typed is kept

    assert _jobs(db) == 0
    assert db.scalar(select(func.count()).where(AccessLog.resource.like("return:%"))) == 0


def test_annex_a_is_asked_for_as_of_the_inspection_day(client: TestClient, db: Session) -> None:
    csrf = _sign_in(client, _officer(db))
    asked = client.post(
        "/returns",
        data={
            "csrf_token": csrf,
            "kind": "annex_a",
            "year": str(YEAR),  # left in the year box: Annex A ignores it
            "as_of-day": "27",
            "as_of-month": "2",
            "as_of-year": "2026",
        },
        follow_redirects=False,
    )
    assert asked.status_code == 303, asked.text
    job = db.scalars(select(ReturnJob)).one()
    assert job.as_of == date(2026, 2, 27)
    assert job.year is None
    db.refresh(job)
    assert job.state is ReturnJobState.succeeded
    assert "annex-a-330-2026-02-27.xlsx" in client.get(asked.headers["location"]).text


def test_a_social_worker_may_not_generate_returns_or_see_data_quality(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    csrf = web_sign_in(client, cast.worker)
    for path in ("/returns", "/data-quality", f"/returns/{cast.care.child.id}"):
        refused = client.get(path)
        assert refused.status_code == 403, path
        assert "You cannot do this" in refused.text
    posted = client.post("/returns", data={"csrf_token": csrf, "kind": "cin_census"})
    assert posted.status_code == 403
    assert client.post("/data-quality", data={"csrf_token": csrf}).status_code == 403
    assert _jobs(db) == 0
    assert "Returns" not in client.get("/").text.split("<main")[0]


def test_a_form_without_the_csrf_token_is_refused(client: TestClient, db: Session) -> None:
    _sign_in(client, _officer(db))
    assert client.post("/returns", data={"kind": "cin_census"}).status_code == 403
    assert _jobs(db) == 0


def test_an_unknown_job_is_not_found(client: TestClient, db: Session) -> None:
    _sign_in(client, _officer(db))
    for path in ("/returns/not-an-id", "/returns/00000000-0000-0000-0000-000000000000"):
        assert client.get(path).status_code == 404
    assert client.get("/returns/00000000-0000-0000-0000-000000000000/file").status_code == 404


def test_the_returns_pages_run_the_same_statements_for_five_jobs_as_for_one(
    client: TestClient, db: Session, connection: Connection
) -> None:
    csrf = _sign_in(client, _officer(db))
    client.post("/returns", data={"csrf_token": csrf, "kind": "ssda903", "year": str(YEAR)})
    job_id = db.scalars(select(ReturnJob.id)).one()
    one = {p: _statements(connection, client, p) for p in ("/returns", f"/returns/{job_id}")}
    for _ in range(4):
        client.post("/returns", data={"csrf_token": csrf, "kind": "ssda903", "year": str(YEAR)})
    five = {p: _statements(connection, client, p) for p in ("/returns", f"/returns/{job_id}")}
    for path, counts in five.items():
        assert _others(counts) == _others(one[path]), path
        assert not [k for k in counts if k.startswith("insert")], path


# --------------------------------------------------------------------------------------------------
# Data quality
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def validators_installed() -> None:
    """The DfE validators' environment (``make validators``), as the returns tests require."""
    if not DEFAULT_VALIDATORS_PYTHON.exists():
        pytest.fail(f"the DfE validators are not installed at {DEFAULT_VALIDATORS_PYTHON}")


@pytest.mark.usefixtures("validators_installed")
def test_a_broken_record_is_on_the_data_quality_list_with_a_link_to_the_child(
    client: TestClient, db: Session, connection: Connection, cast: WebCast
) -> None:
    child = cast.care.child
    child.la_child_id = "AVA0001"
    bring_into_care(db, cast.care, on=date(2026, 2, 2))
    # Deliberately broken: Ava is recorded as born after she came into care.
    child.date_of_birth = date(2026, 2, 20)
    db.commit()
    csrf = _sign_in(client, _officer(db))
    empty = client.get(f"/data-quality?year={YEAR}")
    assert empty.status_code == 200
    assert "have not been checked yet" in empty.text

    checked = client.post(
        "/data-quality", data={"csrf_token": csrf, "year": str(YEAR)}, follow_redirects=False
    )
    assert checked.status_code == 303, checked.text
    assert checked.headers["location"].startswith(f"/data-quality?year={YEAR}")
    page = client.get(checked.headers["location"])
    assert page.status_code == 200
    assert 'http-equiv="refresh"' not in page.text, page.text
    assert "Rules broken, errors first" in page.text
    assert "AVA0001" in page.text
    assert "Error" in page.text
    # The data officer may not open case records: the child is named, not linked.
    assert f'href="/children/{child.id}"' not in page.text
    # A service manager (who may) follows the row to Ava's record.
    _sign_in(client, make_local_user(db, Role.service_manager))
    linked = client.get(f"/data-quality?year={YEAR}").text
    assert f'<a class="govuk-link" href="/children/{child.id}">AVA0001</a>' in linked
    assert client.get(f"/children/{child.id}").status_code == 200
    # The check generated both returns through the job service.
    kinds = sorted(k.value for k in db.scalars(select(ReturnJob.kind)))
    assert kinds == ["cin_census", "ssda903"]
    # Showing the list again reads the stored verdict: a fixed number of statements.
    again = _statements(connection, client, f"/data-quality?year={YEAR}")
    assert _others(again)["select"] <= 5, again
