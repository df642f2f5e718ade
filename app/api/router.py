"""All JSON API routers under ``/api/v1``."""

from __future__ import annotations

from fastapi import APIRouter

from app.assessments.api import router as assessments_router
from app.audit.api import router as audit_router
from app.audits.api import router as audits_router
from app.audits.programmes_api import router as audit_programmes_router
from app.care.api import router as care_router
from app.careplans.api import router as careplans_router
from app.casenotes.api import router as casenotes_router
from app.cases.api import router as cases_router
from app.chronology.api import router as chronology_router
from app.cin.api import router as cin_router
from app.contacts.api import router as contacts_router
from app.deadlines.api import router as deadlines_router
from app.earlyhelp.api import router as earlyhelp_router
from app.health.api import router as health_router
from app.interventions.api import router as interventions_router
from app.iro.api import router as iro_router
from app.leavingcare.api import router as leavingcare_router
from app.legal.api import router as legal_router
from app.missing.api import router as missing_router
from app.org.api import router as org_router
from app.outbox.api import router as outbox_router
from app.people.api import router as people_router
from app.permanence.api import router as permanence_router
from app.practice.api import router as practice_router
from app.protection.api import router as protection_router
from app.referrals.api import router as referrals_router
from app.retention.api import router as retention_router
from app.returns.api import router as returns_router
from app.security.api import router as security_router
from app.supervision.api import router as supervision_router
from app.visits.api import router as visits_router
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
    care_router,
    careplans_router,
    health_router,
    visits_router,
    missing_router,
    iro_router,
    leavingcare_router,
    permanence_router,
    legal_router,
    casenotes_router,
    chronology_router,
    worklist_router,
    deadlines_router,
    audit_router,
    returns_router,
    interventions_router,
    earlyhelp_router,
    supervision_router,
    audits_router,
    audit_programmes_router,
    practice_router,
    outbox_router,
    retention_router,
):
    api_router.include_router(_router)
