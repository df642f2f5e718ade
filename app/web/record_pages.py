"""The child's record: the summary banner and one tab at a time (chronology, cases and plans,
assessments, conferences and reviews, visits and case notes, placements, family, and who has
viewed the record). Each tab is a link (``?tab=…``), so the record works without JavaScript and
only the open tab's rows are read; every tab is a fixed number of statements however long the
child's history is.

Access is per child: ``people_queries.child_record`` checks that the caller may see the child
(a restricted child is "page not found", and the attempt is recorded) and access-logs the read
before any tab reads a row."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from app import clock
from app.api.deps import SessionDep
from app.care import service as care_service
from app.chronology import service as chronology_service
from app.errors import Forbidden, NotFound
from app.people import queries as people_queries
from app.people.service import age_on
from app.security import access
from app.security.policy import PERMISSIONS
from app.security.principal import Principal
from app.visits import service as visit_service
from app.web import queries as web_queries
from app.web.forms import path_id
from app.web.security import web_permission
from app.web.templating import render

router = APIRouter(include_in_schema=False)

CaseReader = Annotated[Principal, Depends(web_permission("case:read"))]

CHRONOLOGY_PAGE_SIZE = 100
ACCESS_LOG_PAGE_SIZE = 50


@dataclass(frozen=True)
class Tab:
    id: str
    label: str
    permission: str = "case:read"


TABS = (
    Tab("chronology", "Chronology"),
    Tab("cases", "Cases and plans"),
    Tab("assessments", "Assessments"),
    Tab("meetings", "Conferences and reviews"),
    Tab("visits", "Visits and case notes"),
    Tab("placements", "Placements"),
    Tab("family", "Family and relationships"),
    # Who has looked at the child (subject access requests, snooping checks): the access log is
    # for managers only, as in the API (GET /children/{id}/access-log).
    Tab("viewed", "Who has viewed this record", permission="access_log:read"),
)
TAB_BY_ID = {tab.id: tab for tab in TABS}


def _may(principal: Principal, tab: Tab) -> bool:
    return principal.role in PERMISSIONS[tab.permission]


@router.get("/children/{child_id}", response_class=HTMLResponse)
def child_record(
    request: Request,
    session: SessionDep,
    principal: CaseReader,
    child_id: str,
    tab: Annotated[str, Query(max_length=40)] = "chronology",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> HTMLResponse:
    """The summary banner and the open tab (the chronology, newest first, unless another is
    asked for). A child the caller may not see is "page not found" (the record's existence is
    not disclosed); a tab the caller's role may not open is the 403 page."""
    chosen = TAB_BY_ID.get(tab)
    if chosen is None:
        raise NotFound("There is no such part of a child's record.")
    if not _may(principal, chosen):
        raise Forbidden(
            f"Your role ({principal.role.value}) may not do this ({chosen.permission})."
        )
    person_id = path_id(child_id, "child")
    record, _version = people_queries.child_record(
        session, principal=principal, child_id=person_id, resource="web:child_record"
    )
    person = record.person
    status = web_queries.child_status(session, actor=principal, child=person)
    open_cases = [c for c in record.cases or [] if c.closed_date is None]
    context: dict[str, Any] = {
        "title": f"{person.first_name} {person.last_name}",
        "record": record,
        "person": person,
        "age": age_on(person.date_of_birth, clock.today()) if person.date_of_birth else None,
        "status": status,
        "open_cases": open_cases,
        "workers": sorted({c.allocated_worker_name for c in open_cases if c.allocated_worker_name}),
        "tabs": [t for t in TABS if _may(principal, t)],
        "tab": chosen,
    }
    context.update(_tab_rows(session, principal, person_id, chosen.id, cursor))
    return render(request, "child_record.html", context)


def _tab_rows(
    session: SessionDep, principal: Principal, child_id: uuid.UUID, tab: str, cursor: str | None
) -> dict[str, Any]:
    """What the open tab lists, read through the service the API uses for it where there is one
    (chronology, periods of care, statutory visits, the access log)."""
    if tab == "chronology":
        return {
            "chronology": chronology_service.child_chronology(
                session,
                actor=principal,
                person_id=child_id,
                descending=True,
                cursor=cursor,
                limit=CHRONOLOGY_PAGE_SIZE,
            )
        }
    if tab == "cases":
        return {"plans": web_queries.child_plans(session, child_id=child_id)}
    if tab == "assessments":
        return {"assessments": web_queries.child_assessments(session, child_id=child_id)}
    if tab == "meetings":
        return {"meetings": web_queries.child_meetings(session, child_id=child_id)}
    if tab == "visits":
        visits, running = visit_service.visits_list(session, actor=principal, child_id=child_id)
        return {
            "visits": list(reversed(visits)),
            "visit_deadline": running,
            "notes": web_queries.child_case_notes(session, actor=principal, child_id=child_id),
        }
    if tab == "placements":
        periods = care_service.periods_for_child(session, actor=principal, child_id=child_id)
        return {
            "periods": list(reversed(periods)),
            "care": web_queries.child_care_history(session, child_id=child_id),
        }
    if tab == "viewed":
        page = access.access_log_page(
            session, person_id=child_id, cursor=cursor, limit=ACCESS_LOG_PAGE_SIZE
        )
        return {"views": page.items, "next_cursor": page.next_cursor}
    return {}  # family: the relationships come with the record itself
