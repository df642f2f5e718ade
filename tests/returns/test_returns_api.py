"""The council's data officer asks for the returns through the API, follows them, downloads them.

Each story runs the real build (the background task runs before the test client returns) on the
test database; the returns' contents are tested in their own modules.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app import clock
from app.config import Settings
from app.models import Role
from app.models.audit import AccessLog
from app.models.returns import ReturnJob, ReturnJobState, ReturnKind
from app.returns.jobs import run_return_job
from tests.factories import auth_headers, make_user


def _officer(db: Session) -> dict[str, str]:
    return auth_headers(db, make_user(db, Role.data_officer))


def test_the_data_officer_asks_for_the_cin_census_and_downloads_it(
    client: TestClient, db: Session
) -> None:
    headers = _officer(db)
    asked = client.post(
        "/api/v1/returns", json={"kind": "cin_census", "year": 2026}, headers=headers
    )
    assert asked.status_code == 202, asked.text
    job = asked.json()
    assert asked.headers["Location"] == f"/api/v1/returns/{job['id']}"
    assert job["state"] == "queued"

    followed = client.get(asked.headers["Location"], headers=headers).json()
    assert followed["state"] == "succeeded", followed
    assert followed["progress"] == 100
    assert followed["filename"] == "cin-census-330-2026.xml"
    assert followed["download_url"] == f"/api/v1/returns/{job['id']}/file"

    downloaded = client.get(followed["download_url"], headers=headers)
    assert downloaded.status_code == 200
    assert downloaded.headers["content-type"].startswith("application/xml")
    assert downloaded.headers["cache-control"] == "no-store"
    assert 'filename="cin-census-330-2026.xml"' in downloaded.headers["content-disposition"]
    assert b"<Message" in downloaded.content
    assert len(downloaded.content) == followed["size_bytes"]

    # Asking and downloading are both bulk reads of every child's record: each is access-logged.
    logged = db.scalars(
        select(AccessLog.action).where(AccessLog.resource == "return:cin_census:2026")
    ).all()
    assert sorted(logged) == ["download", "export"]


def test_the_ssda903_return_comes_as_a_zip_of_its_csv_tables(
    client: TestClient, db: Session
) -> None:
    headers = _officer(db)
    job = client.post("/api/v1/returns", json={"kind": "ssda903"}, headers=headers).json()
    assert job["year"] == 2027  # the year in progress when none is named
    downloaded = client.get(f"/api/v1/returns/{job['id']}/file", headers=headers)
    assert downloaded.status_code == 200, downloaded.text
    with zipfile.ZipFile(io.BytesIO(downloaded.content)) as archive:
        names = archive.namelist()
        header = archive.read("header.csv").decode()
    assert "episodes.csv" in names
    assert header.splitlines()[0] == "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB"


def test_a_service_manager_produces_annex_a_on_inspection_day(
    client: TestClient, db: Session
) -> None:
    headers = auth_headers(db, make_user(db, Role.service_manager))
    job = client.post(
        "/api/v1/returns", json={"kind": "annex_a", "as_of": "2026-11-27"}, headers=headers
    ).json()
    downloaded = client.get(f"/api/v1/returns/{job['id']}/file", headers=headers)
    assert downloaded.status_code == 200, downloaded.text
    assert downloaded.content[:2] == b"PK"  # an XLSX is a zip
    assert downloaded.headers["content-disposition"].endswith('annex-a-330-2026-11-27.xlsx"')


def test_a_social_worker_may_not_produce_a_return(client: TestClient, db: Session) -> None:
    headers = auth_headers(db, make_user(db, Role.social_worker))
    refused = client.post("/api/v1/returns", json={"kind": "cin_census"}, headers=headers)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert db.scalar(select(ReturnJob.id)) is None


def test_requests_that_cannot_be_met_are_refused_and_nothing_is_queued(
    client: TestClient, db: Session
) -> None:
    headers = _officer(db)
    for body, field in [
        ({"kind": "cin_census", "year": 2030}, "year"),  # the year has not begun
        ({"kind": "cin_census", "as_of": "2026-11-27"}, "as_of"),
        ({"kind": "annex_a", "year": 2026}, "year"),
        ({"kind": "annex_a", "as_of": "2099-01-01"}, "as_of"),
        ({"kind": "annex_b"}, "kind"),
        ({"kind": "cin_census", "state": "succeeded"}, "state"),  # not a field: mass assignment
    ]:
        refused = client.post("/api/v1/returns", json=body, headers=headers)
        assert refused.status_code == 422, (body, refused.text)
        problem = refused.json()
        assert problem["detail"], body
        assert any(error["field"].endswith(field) for error in problem["errors"]), problem
    assert db.scalar(select(ReturnJob.id)) is None


def test_an_unknown_job_is_404_and_an_unfinished_one_cannot_be_downloaded(
    client: TestClient, db: Session
) -> None:
    officer = make_user(db, Role.data_officer)
    headers = auth_headers(db, officer)
    assert client.get(f"/api/v1/returns/{uuid.uuid4()}", headers=headers).status_code == 404
    queued = ReturnJob(
        kind=ReturnKind.cin_census, year=2026, state=ReturnJobState.queued,
        requested_by_id=officer.id,
    )  # fmt: skip
    db.add(queued)
    db.commit()
    early = client.get(f"/api/v1/returns/{queued.id}/file", headers=headers)
    assert early.status_code == 409
    assert early.json()["code"] == "return_not_ready"
    listed = client.get("/api/v1/returns", headers=headers).json()["items"]
    assert [item["id"] for item in listed] == [str(queued.id)]


def test_a_job_that_cannot_be_built_fails_with_a_sentence_not_a_trace(
    db: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    officer = make_user(db, Role.data_officer)
    broken = ReturnJob(  # a census with no year cannot be built
        kind=ReturnKind.cin_census, year=None, as_of=date(2026, 11, 27),
        state=ReturnJobState.queued, requested_by_id=officer.id,
    )  # fmt: skip
    db.add(broken)
    db.commit()
    run_return_job(session_factory, broken.id, settings)
    db.expire_all()
    failed = db.get(ReturnJob, broken.id)
    assert failed is not None
    assert failed.state is ReturnJobState.failed
    assert failed.error is not None
    assert "could not be generated" in failed.error
    assert failed.content is None


def test_a_job_whose_process_died_is_given_up_with_a_sentence_and_can_be_asked_for_again(
    client: TestClient, db: Session
) -> None:
    # A data officer asked for the census at 9:00; the server was redeployed while it was being
    # built, so the job was left "running" with nothing building it.
    officer = make_user(db, Role.data_officer)
    headers = auth_headers(db, officer)
    with clock.frozen_at(datetime(2026, 11, 27, 9, 0, tzinfo=UTC)):
        orphan = ReturnJob(
            kind=ReturnKind.cin_census, year=2026, state=ReturnJobState.running, progress=10,
            requested_by_id=officer.id, requested_at=clock.now(), started_at=clock.now(),
        )  # fmt: skip
        fresh = ReturnJob(
            kind=ReturnKind.cin_census, year=2026, state=ReturnJobState.running, progress=10,
            requested_by_id=officer.id, requested_at=clock.now() + timedelta(minutes=20),
        )  # fmt: skip
        db.add_all([orphan, fresh])
        db.commit()

    # Twenty-nine minutes later it may still be building: nothing is said yet.
    with clock.frozen_at(datetime(2026, 11, 27, 9, 29, tzinfo=UTC)):
        still = client.get(f"/api/v1/returns/{orphan.id}", headers=headers).json()
    assert still["state"] == "running"

    # Past half an hour no process can still be building it: it is failed, with what to do.
    with clock.frozen_at(datetime(2026, 11, 27, 9, 31, tzinfo=UTC)):
        given_up = client.get(f"/api/v1/returns/{orphan.id}", headers=headers).json()
        listed = client.get("/api/v1/returns", headers=headers).json()["items"]
        download = client.get(f"/api/v1/returns/{orphan.id}/file", headers=headers)
    assert given_up["state"] == "failed"
    assert "ask for the return again" in given_up["error"]
    assert {item["id"]: item["state"] for item in listed} == {
        str(orphan.id): "failed",
        str(fresh.id): "running",  # asked for at 9:20: it may still be building
    }
    assert download.status_code == 409
    assert "ask for the return again" in download.json()["detail"]
    db.expire_all()
    stored = db.get(ReturnJob, orphan.id)
    assert stored is not None
    assert stored.state is ReturnJobState.failed

    # Asking again builds it.
    again = client.post(
        "/api/v1/returns", json={"kind": "cin_census", "year": 2026}, headers=headers
    )
    assert again.status_code == 202, again.text
    rebuilt = client.get(again.headers["Location"], headers=headers).json()
    assert rebuilt["state"] == "succeeded"
