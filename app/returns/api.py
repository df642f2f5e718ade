"""JSON API of the statutory returns: ask for a return, follow it, download it."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Request, Response, status

from app.api.deps import SessionDep, SettingsDep, permission
from app.api.responses import problem_responses
from app.models.returns import ReturnJob, ReturnJobState
from app.returns import jobs
from app.returns.schemas import ReturnJobCreate, ReturnJobList, ReturnJobRead
from app.security.principal import Principal

router = APIRouter(tags=["returns"])

ReturnsOfficer = Annotated[Principal, Depends(permission("returns:generate"))]


def _read(request: Request, job: ReturnJob) -> ReturnJobRead:
    read = ReturnJobRead.model_validate(job)
    if job.state is ReturnJobState.succeeded:
        read.download_url = str(request.url_for("download_return", job_id=str(job.id)).path)
    return read


@router.post(
    "/returns",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(403, 422),
    summary="Generate a return in the background (CIN census, SSDA903 or Annex A)",
)
def create_return(
    body: ReturnJobCreate,
    request: Request,
    response: Response,
    background: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
    principal: ReturnsOfficer,
) -> ReturnJobRead:
    job = jobs.request_return(
        session, principal=principal, kind=body.kind, year=body.year, as_of=body.as_of
    )
    # Committed by the unit of work before the response is sent; the build runs after it.
    background.add_task(jobs.run_return_job, request.app.state.session_factory, job.id, settings)
    response.headers["Location"] = str(request.url_for("get_return", job_id=str(job.id)).path)
    return _read(request, job)


@router.get("/returns", responses=problem_responses(403), summary="Returns asked for, newest first")
def list_returns(
    request: Request, session: SessionDep, _principal: ReturnsOfficer
) -> ReturnJobList:
    return ReturnJobList(items=[_read(request, job) for job in jobs.list_jobs(session)])


@router.get(
    "/returns/{job_id}",
    responses=problem_responses(403, 404),
    summary="A return's progress, and its download link once ready",
)
def get_return(
    job_id: uuid.UUID, request: Request, session: SessionDep, _principal: ReturnsOfficer
) -> ReturnJobRead:
    return _read(request, jobs.get_job(session, job_id))


@router.get(
    "/returns/{job_id}/file",
    responses={
        **problem_responses(403, 404, 409),
        200: {
            "description": "The return: XML (CIN census), ZIP of CSVs (SSDA903) or XLSX (Annex A)",
            "content": {"application/octet-stream": {}},
        },
    },
    response_class=Response,
    summary="Download a finished return",
)
def download_return(job_id: uuid.UUID, session: SessionDep, principal: ReturnsOfficer) -> Response:
    job = jobs.download(session, principal=principal, job_id=job_id)
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
