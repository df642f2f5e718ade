"""All JSON API routers under ``/api/v1``."""

from __future__ import annotations

from fastapi import APIRouter

from app.assessments.api import router as assessments_router
from app.audit.api import router as audit_router
from app.casenotes.api import router as casenotes_router
from app.cases.api import router as cases_router
from app.chronology.api import router as chronology_router
from app.cin.api import router as cin_router
from app.contacts.api import router as contacts_router
from app.deadlines.api import router as deadlines_router
from app.org.api import router as org_router
from app.people.api import router as people_router
from app.protection.api import router as protection_router
from app.referrals.api import router as referrals_router
from app.security.api import router as security_router
from app.worklist.api import router as worklist_router

api_router = APIRouter(prefix="/api/v1")
for _router in (
    security_router,
    people_router,
    org_router,
    cases_router,
    contacts_router,
    referrals_router,
    assessments_router,
    protection_router,
    cin_router,
    casenotes_router,
    chronology_router,
    worklist_router,
    deadlines_router,
    audit_router,
):
    api_router.include_router(_router)
