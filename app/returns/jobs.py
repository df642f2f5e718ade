"""Returns generated in the background: ask, follow the progress, download.

A council's data officer asks for the CIN census through the API; the request is answered at once
(202 with the job), the return is built after the response in a unit of work of its own, and the
file is stored on the job row so that any API process can serve it. Generating a return is a bulk
read of every child's record: it writes one access-log entry naming the return (who, when, which
return), and so does each download.
"""

from __future__ import annotations

import io
import logging
import uuid
import zipfile
from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker, undefer

from app import clock
from app.audit.service import access_log_append
from app.config import Settings
from app.db import read_only
from app.errors import Conflict, Invalid, NotFound
from app.models.returns import ReturnJob, ReturnJobState, ReturnKind
from app.returns.common import CollectionYear
from app.security.principal import Principal

log = logging.getLogger("casework.returns")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: The earliest collection year a return can be asked for (the validators' oldest rulesets).
FIRST_YEAR = 2015
#: A job still queued or running this long after it was asked for was being built by a process that
#: stopped (a deploy, a restart, kill -9): the largest return at ten Birmingham years builds in
#: under two minutes (bench/README.md), so half an hour is generous and never cuts a live build.
ABANDONED_AFTER = timedelta(minutes=30)
ABANDONED = (
    "The process building this return stopped before it finished (the service was restarted). "
    "Nothing was lost: ask for the return again."
)


def request_return(
    session: Session,
    *,
    principal: Principal,
    kind: ReturnKind,
    year: int | None = None,
    as_of: date | None = None,
) -> ReturnJob:
    """Queue a return. A year that has not begun yet, or an inspection day in the future, is
    refused: there is nothing to report (a year in progress is allowed: the data-quality view
    of it)."""
    today = clock.today()
    current = CollectionYear.containing(today).year
    if kind is ReturnKind.annex_a:
        if year is not None:
            raise Invalid.field("year", "Annex A is as of a day: send as_of, not year.")
        as_of = as_of or today
        if as_of > today:
            raise Invalid.field("as_of", f"The inspection day {as_of} is in the future.")
    else:
        if as_of is not None:
            raise Invalid.field("as_of", "A statutory return is for a year: send year, not as_of.")
        year = year or current
        if year > current:
            raise Invalid.field(
                "year",
                f"The collection year {year} ({CollectionYear(year).label}) has not begun yet; "
                f"the year in progress is {current}.",
            )
        if year < FIRST_YEAR:
            raise Invalid.field("year", f"Returns start from the {FIRST_YEAR} collection year.")
    job = ReturnJob(
        id=uuid.uuid4(),
        kind=kind,
        year=year,
        as_of=as_of,
        state=ReturnJobState.queued,
        progress=0,
        requested_by_id=principal.user_id,
        requested_at=clock.now(),
    )
    session.add(job)
    access_log_append(
        session,
        principal=principal,
        action="export",
        resource=f"return:{kind.value}:{year or as_of}",
    )
    session.flush()
    return job


def get_job(session: Session, job_id: uuid.UUID, *, with_content: bool = False) -> ReturnJob:
    query = select(ReturnJob).where(ReturnJob.id == job_id)
    if with_content:
        query = query.options(undefer(ReturnJob.content))
    job = session.scalar(query)
    if job is None:
        raise NotFound("There is no return job with this id.")
    _give_up_abandoned(session, [job])
    return job


def list_jobs(session: Session, *, limit: int = 50) -> list[ReturnJob]:
    query = select(ReturnJob).order_by(ReturnJob.requested_at.desc(), ReturnJob.id).limit(limit)
    found = list(session.scalars(query))
    _give_up_abandoned(session, found)
    return found


def _give_up_abandoned(session: Session, found: Iterable[ReturnJob]) -> None:
    """Mark as failed, with a sentence that says what to do, each job whose building process
    died: otherwise it would show "running" for ever and its requester would wait for nothing.
    Done when the job is looked at, so any stateless API process can do it; a build that does
    finish after all still stores its file (succeeded overwrites failed)."""
    cutoff = clock.now() - ABANDONED_AFTER
    for job in found:
        if job.state in (ReturnJobState.queued, ReturnJobState.running) and (
            job.requested_at < cutoff
        ):
            log.warning("return job %s abandoned in state %s", job.id, job.state.value)
            job.state = ReturnJobState.failed
            job.finished_at = clock.now()
            job.error = ABANDONED
    session.flush()


def download(session: Session, *, principal: Principal, job_id: uuid.UUID) -> ReturnJob:
    """The finished file; each download is access-logged (the file holds every child's record)."""
    job = get_job(session, job_id, with_content=True)
    if job.state is not ReturnJobState.succeeded or job.content is None:
        raise Conflict(
            f"This return is {job.state.value}, not ready to download"
            + (f": {job.error}" if job.error else "."),
            code="return_not_ready",
            state=job.state.value,
        )
    access_log_append(
        session,
        principal=principal,
        action="download",
        resource=f"return:{job.kind.value}:{job.year or job.as_of}",
    )
    return job


def build_file(session: Session, job: ReturnJob, settings: Settings) -> tuple[str, str, bytes]:
    """(file name, media type, content) of the return the job asks for."""
    if job.kind is ReturnKind.cin_census:
        from app.returns.cin_census import build_cin_census

        assert job.year is not None
        xml = build_cin_census(session, year=job.year, settings=settings)
        return f"cin-census-{settings.la_code}-{job.year}.xml", "application/xml", xml
    if job.kind is ReturnKind.ssda903:
        from app.returns.ssda903 import build_ssda903

        assert job.year is not None
        tables = build_ssda903(session, year=job.year, settings=settings)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, text in sorted(tables.items()):
                archive.writestr(name, text)
        return f"ssda903-{settings.la_code}-{job.year}.zip", "application/zip", buffer.getvalue()
    from app.returns.annex_a import build_annex_a

    assert job.as_of is not None
    workbook = build_annex_a(session, as_of=job.as_of, settings=settings)
    return f"annex-a-{settings.la_code}-{job.as_of.isoformat()}.xlsx", XLSX, workbook


def _set_state(
    factory: sessionmaker[Session], job_id: uuid.UUID, state: ReturnJobState, **values: object
) -> None:
    with factory() as session:
        job = get_job(session, job_id)
        job.state = state
        for name, value in values.items():
            setattr(job, name, value)
        session.commit()


def run_return_job(factory: sessionmaker[Session], job_id: uuid.UUID, settings: Settings) -> None:
    """Build the return in units of work of its own: mark it running (so progress shows), build it
    in a read-only session, store the file. A failure is recorded on the job as a sentence; the log
    names the job and the kind of error only (never data from the return)."""
    _set_state(factory, job_id, ReturnJobState.running, started_at=clock.now(), progress=10)
    try:
        with factory() as session:
            read_only(session)  # a long read: on SQLite, no write lock held while it builds
            job = get_job(session, job_id)
            filename, media_type, content = build_file(session, job, settings)
            session.rollback()  # building reads only
    except Exception as exc:
        log.exception("return job %s failed (%s)", job_id, type(exc).__name__)
        _set_state(
            factory,
            job_id,
            ReturnJobState.failed,
            finished_at=clock.now(),
            error="The return could not be generated; the error is in the service log under "
            f"job {job_id}.",
        )
        return
    _set_state(
        factory,
        job_id,
        ReturnJobState.succeeded,
        finished_at=clock.now(),
        progress=100,
        filename=filename,
        media_type=media_type,
        size_bytes=len(content),
        content=content,
    )
