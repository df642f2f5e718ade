"""Statutory returns and data quality, for the council's data officers and service managers.

``/returns`` asks the returns job service for a CIN census, an SSDA903 return or Ofsted's Annex A
(the same ``jobs.request_return`` and ``jobs.run_return_job`` as ``POST /api/v1/returns``): the
return is built after the answer, ``/returns/{id}`` follows it, and the file is served with
``no-store`` and access-logged, as the API's download is.

``/data-quality`` is the worklist ``casework returns check`` prints: the DfE's own validators run
on the year's CIN census and SSDA903 as they stand, each failure naming the rule, its severity and
message, and linking to the child's record. The validators run as a subprocess and take seconds,
so the check is a job: it generates both returns through the returns job service, then runs the
validators on the stored files in the background; the page shows the result of the newest pair
of returns for the year.
"""

from __future__ import annotations

import io
import logging
import threading
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.responses import Response

from app import clock
from app.api.deps import SessionDep, SettingsDep
from app.audit.service import access_log_append
from app.config import Settings
from app.db import read_only
from app.errors import DomainError
from app.models.people import Person
from app.models.returns import ReturnJob, ReturnJobState, ReturnKind
from app.returns import jobs
from app.returns.common import CollectionYear, ValidationFailure
from app.returns.schemas import ReturnJobCreate
from app.returns.validators import ValidatorsMissing
from app.returns.validators.cin import check_cin_census
from app.returns.validators.ssda903 import check_ssda903
from app.security.principal import Principal
from app.web import notices
from app.web.forms import FormErrors, form_values, parse_form, path_id, refused_form, see_other
from app.web.security import web_form, web_permission
from app.web.templating import render

log = logging.getLogger("casework.web.returns")

router = APIRouter(include_in_schema=False)

ReturnsOfficer = Annotated[Principal, Depends(web_permission("returns:generate"))]
ReturnsForm = Annotated[Principal, Depends(web_form("returns:generate"))]

notices.register(
    return_requested="The return has been asked for. It is being generated.",
    data_quality_requested="The returns are being generated and checked against the DfE's rules.",
)

KIND_LABELS = {
    ReturnKind.cin_census: "Children in need census",
    ReturnKind.ssda903: "SSDA903 (children looked after)",
    ReturnKind.annex_a: "Ofsted Annex A",
}
STATE_LABELS = {
    ReturnJobState.queued: ("Waiting", "grey"),
    ReturnJobState.running: ("Being generated", "blue"),
    ReturnJobState.succeeded: ("Ready", "green"),
    ReturnJobState.failed: ("Failed", "red"),
}
LABELS = {
    "kind": "which return to generate",
    "year": "the collection year",
    "as_of": "the inspection day",
}
#: How often a page waiting for a job reloads itself (a meta refresh: no script needed).
REFRESH_SECONDS = 3
#: The most failures listed on the page (the demo council has a few hundred).
DATA_QUALITY_ROWS = 1000


def _current_year() -> int:
    return CollectionYear.containing(clock.today()).year


def _run_in_background(
    background: BackgroundTasks, request: Request, job: ReturnJob, settings: Settings
) -> None:
    # Committed by the unit of work before the response is sent; the build runs after it (as in
    # app.returns.api.create_return).
    background.add_task(jobs.run_return_job, request.app.state.session_factory, job.id, settings)


# --------------------------------------------------------------------------------------------------
# Returns
# --------------------------------------------------------------------------------------------------


def _returns_page(
    request: Request,
    session: Session,
    *,
    values: dict[str, Any] | None = None,
    errors: FormErrors | None = None,
) -> HTMLResponse:
    errors = errors or FormErrors()
    return render(
        request,
        "returns_list.html",
        {
            "title": "Statutory returns",
            "jobs": jobs.list_jobs(session),
            "values": values or {"year": str(_current_year())},
            "errors": errors.summary,
            "form_errors": errors,
            "kind_labels": KIND_LABELS,
            "state_labels": STATE_LABELS,
            "year_label": lambda year: CollectionYear(year).label,
        },
        status_code=errors.status if errors else 200,
    )


@router.get("/returns", response_class=HTMLResponse)
def returns_list(request: Request, session: SessionDep, principal: ReturnsOfficer) -> HTMLResponse:
    """Ask for a return, and the returns asked for, newest first."""
    return _returns_page(request, session)


@router.post("/returns", response_class=HTMLResponse)
async def returns_request(
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
    principal: ReturnsForm,
) -> Response:
    """Queue the return with the returns job service and follow it on its own page."""
    form = await request.form()
    values = form_values(form)
    typed = dict(values)
    # The year belongs to the CIN census and SSDA903, the inspection day to Annex A: only the one
    # the chosen return uses is sent (the other box may still hold what was typed before).
    if values.get("kind") == ReturnKind.annex_a.value:
        values.pop("year", None)
    else:
        values.pop("as_of", None)
    # No radio chosen: "Select …", as GOV.UK asks of radios, rather than "Enter …".
    body, errors = parse_form(ReturnJobCreate, values, LABELS, choices={"kind"})
    if body is None:
        return _returns_page(request, session, values=typed, errors=errors)
    try:
        job = jobs.request_return(
            session, principal=principal, kind=body.kind, year=body.year, as_of=body.as_of
        )
    except DomainError as exc:
        return _returns_page(request, session, values=typed, errors=refused_form(session, exc))
    _run_in_background(background, request, job, settings)
    return see_other(f"/returns/{job.id}", notice="return_requested")


@router.get("/returns/{job_id}", response_class=HTMLResponse)
def return_job(
    request: Request, session: SessionDep, principal: ReturnsOfficer, job_id: str
) -> HTMLResponse:
    """A return's progress (the page reloads itself until it is done) and its download link."""
    job = jobs.get_job(session, path_id(job_id, "return job", visible_to_all=True))
    return render(
        request,
        "returns_job.html",
        {
            "title": KIND_LABELS[job.kind],
            "job": job,
            "waiting": job.state in (ReturnJobState.queued, ReturnJobState.running),
            "refresh_seconds": REFRESH_SECONDS,
            "kind_labels": KIND_LABELS,
            "state_labels": STATE_LABELS,
            "year_label": CollectionYear(job.year).label if job.year else None,
        },
    )


@router.get("/returns/{job_id}/file")
def return_file(session: SessionDep, principal: ReturnsOfficer, job_id: str) -> Response:
    """The finished file, exactly as the API serves it: never stored by the browser or a proxy
    (it holds every child's record), and each download access-logged by the service."""
    job = jobs.download(
        session, principal=principal, job_id=path_id(job_id, "return job", visible_to_all=True)
    )
    assert job.content is not None
    assert job.filename is not None
    return Response(
        content=job.content,
        media_type=job.media_type or "application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{job.filename}"',
            "Cache-Control": "no-store",
        },
    )


# --------------------------------------------------------------------------------------------------
# Data quality
# --------------------------------------------------------------------------------------------------


@dataclass
class QualityCheck:
    """The DfE validators' verdict on one pair of returns (CIN census, SSDA903)."""

    checked_at: datetime | None = None
    failures: list[ValidationFailure] = field(default_factory=list)
    error: str | None = None

    @property
    def done(self) -> bool:
        return self.checked_at is not None


# The verdicts, by the pair of return jobs they were made on. The files are stored on the jobs,
# so a verdict can always be made again from them: this is a cache, not a record, and another
# process simply checks the same files itself.
_checks: dict[tuple[uuid.UUID, uuid.UUID], QualityCheck] = {}
_checks_lock = threading.Lock()
#: Verdicts kept per process, oldest dropped first: a long-running server must not grow with
#: every check anyone asks for (a dropped one is made again from the stored files).
KEEP_CHECKS = 16


def _person_ids(session: Session, failures: list[ValidationFailure]) -> list[ValidationFailure]:
    """The SSDA903 failures with the Casework person id of their child (by LA child id, the
    return's CHILD), as ``check_cin_census`` does for the census; one statement."""
    children = {f.child for f in failures if f.child and f.person_id is None}
    if not children:
        return failures
    rows = session.execute(
        select(Person.la_child_id, Person.id).where(Person.la_child_id.in_(sorted(children)))
    ).all()
    person_of = {str(la_id): str(person_id) for la_id, person_id in rows}
    return [
        ValidationFailure(
            return_name=f.return_name,
            rule=f.rule,
            message=f.message,
            severity=f.severity,
            child=f.child,
            table=f.table,
            fields=f.fields,
            person_id=f.person_id or (person_of.get(f.child) if f.child else None),
        )
        for f in failures
    ]


def run_quality_check(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    year: int,
    cin_job_id: uuid.UUID,
    ssda903_job_id: uuid.UUID,
) -> None:
    """Run the DfE validators on the two stored returns, as ``casework returns check`` does, and
    keep the verdict. A failure is kept as a sentence; the log names the jobs and the kind of
    error only (never data from the returns)."""
    key = (cin_job_id, ssda903_job_id)
    try:
        with factory() as session:
            # The validators take seconds: on SQLite, no write lock is held while they run.
            read_only(session)
            cin = jobs.get_job(session, cin_job_id, with_content=True)
            ssda903 = jobs.get_job(session, ssda903_job_id, with_content=True)
            if cin.content is None or ssda903.content is None:
                raise RuntimeError("a return of the pair has no file")
            with zipfile.ZipFile(io.BytesIO(ssda903.content)) as archive:
                tables = {name: archive.read(name).decode("utf-8") for name in archive.namelist()}
            failures = check_cin_census(cin.content, year=year, settings=settings, session=session)
            failures += _person_ids(session, check_ssda903(tables, year=year, settings=settings))
            session.rollback()  # checking reads only
        verdict = QualityCheck(checked_at=clock.now(), failures=failures)
    except ValidatorsMissing as exc:
        verdict = QualityCheck(checked_at=clock.now(), error=str(exc))
    except Exception as exc:
        log.exception(
            "data-quality check of returns %s and %s failed (%s)",
            cin_job_id,
            ssda903_job_id,
            type(exc).__name__,
        )
        verdict = QualityCheck(
            checked_at=clock.now(),
            error="The returns could not be checked; the error is in the service log under "
            f"jobs {cin_job_id} and {ssda903_job_id}.",
        )
    with _checks_lock:
        _checks[key] = verdict


def _run_jobs_then_check(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    year: int,
    cin_job_id: uuid.UUID,
    ssda903_job_id: uuid.UUID,
) -> None:
    jobs.run_return_job(factory, cin_job_id, settings)
    jobs.run_return_job(factory, ssda903_job_id, settings)
    _start_check(factory, settings, year=year, cin_job_id=cin_job_id, ssda903_job_id=ssda903_job_id)


def _start_check(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    year: int,
    cin_job_id: uuid.UUID,
    ssda903_job_id: uuid.UUID,
) -> bool:
    """Claim the pair for checking and check it; False when it is already checked or being
    checked (two pages open at once start one check)."""
    key = (cin_job_id, ssda903_job_id)
    with _checks_lock:
        if key in _checks:
            return False
        while len(_checks) >= KEEP_CHECKS:
            del _checks[next(iter(_checks))]  # dicts keep insertion order: the oldest first
        _checks[key] = QualityCheck()
    run_quality_check(
        factory, settings, year=year, cin_job_id=cin_job_id, ssda903_job_id=ssda903_job_id
    )
    return True


def _newest(found: list[ReturnJob], kind: ReturnKind, year: int) -> ReturnJob | None:
    return next((job for job in found if job.kind is kind and job.year == year), None)


YearQuery = Annotated[int | None, Query(ge=jobs.FIRST_YEAR, le=2100)]


@router.get("/data-quality", response_class=HTMLResponse)
def data_quality(
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
    principal: ReturnsOfficer,
    year: YearQuery = None,
) -> HTMLResponse:
    """The DfE rules the year's returns break, errors first, each linked to the child's record."""
    year = year or _current_year()
    found = jobs.list_jobs(session)
    cin = _newest(found, ReturnKind.cin_census, year)
    ssda903 = _newest(found, ReturnKind.ssda903, year)
    pair = (cin, ssda903) if cin is not None and ssda903 is not None else None
    check: QualityCheck | None = None
    failed_job = None
    if pair is not None:
        failed_job = next((j for j in pair if j.state is ReturnJobState.failed), None)
        if all(j.state is ReturnJobState.succeeded for j in pair):
            with _checks_lock:
                check = _checks.get((pair[0].id, pair[1].id))
            if check is None:
                # Returns generated through the API or /returns: check them now, in the
                # background (the validators take seconds); the page reloads until done.
                background.add_task(
                    _start_check,
                    request.app.state.session_factory,
                    settings,
                    year=year,
                    cin_job_id=pair[0].id,
                    ssda903_job_id=pair[1].id,
                )
                check = QualityCheck()
    rows: list[ValidationFailure] = []
    if check is not None and check.done:
        rows = sorted(
            check.failures,
            key=lambda f: (f.severity != "error", f.return_name, f.rule, f.child or ""),
        )
        # The list names children (by LA child id): reading it is a bulk read, logged like the
        # return it was made from.
        access_log_append(
            session, principal=principal, action="list", resource=f"data_quality:{year}"
        )
    waiting = pair is not None and failed_job is None and (check is None or not check.done)
    return render(
        request,
        "data_quality.html",
        {
            "title": "Data quality",
            "year": year,
            "year_label": CollectionYear(year).label,
            "years": list(range(_current_year(), jobs.FIRST_YEAR - 1, -1))[:6],
            "pair": pair,
            "failed_job": failed_job,
            "check": check,
            "rows": rows[:DATA_QUALITY_ROWS],
            "total": len(rows),
            "errors_count": sum(1 for f in rows if f.severity == "error"),
            "waiting": waiting,
            "refresh_seconds": REFRESH_SECONDS,
            "kind_labels": KIND_LABELS,
        },
    )


@router.post("/data-quality", response_class=HTMLResponse)
async def data_quality_check(
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
    principal: ReturnsForm,
) -> Response:
    """Generate the year's CIN census and SSDA903 through the returns job service, then check
    them against the DfE's rules."""
    form = await request.form()
    raw = str(form.get("year") or "")
    year = int(raw) if raw.isdigit() else _current_year()
    try:
        cin = jobs.request_return(
            session, principal=principal, kind=ReturnKind.cin_census, year=year
        )
        ssda903 = jobs.request_return(
            session, principal=principal, kind=ReturnKind.ssda903, year=year
        )
    except DomainError as exc:
        errors = refused_form(session, exc)
        return render(
            request,
            "data_quality.html",
            {
                "title": "Data quality",
                "year": _current_year(),
                "year_label": CollectionYear(_current_year()).label,
                "years": list(range(_current_year(), jobs.FIRST_YEAR - 1, -1))[:6],
                "pair": None,
                "check": None,
                "rows": [],
                "errors": errors.summary,
                "waiting": False,
            },
            status_code=errors.status,
        )
    background.add_task(
        _run_jobs_then_check,
        request.app.state.session_factory,
        settings,
        year=year,
        cin_job_id=cin.id,
        ssda903_job_id=ssda903.id,
    )
    return see_other(f"/data-quality?year={year}&notice=data_quality_requested")
