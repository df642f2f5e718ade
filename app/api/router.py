"""All JSON API routers under ``/api/v1``."""

from __future__ import annotations

from fastapi import APIRouter

from app.audit.api import router as audit_router
from app.cases.api import router as cases_router
from app.deadlines.api import router as deadlines_router
from app.org.api import router as org_router
from app.people.api import router as people_router
from app.security.api import router as security_router

api_router = APIRouter(prefix="/api/v1")
for _router in (
    security_router,
    people_router,
    org_router,
    cases_router,
    deadlines_router,
    audit_router,
):
    api_router.include_router(_router)
