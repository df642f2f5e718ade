"""The front door: record a contact (several children at once) and the MASH decision.

Both pages call the contacts service exactly as ``app/contacts/api.py`` does, with the API's own
schemas (``ContactCreate``, ``ContactDecisions``): the consent rules, the decision timescales
(rule 1) and the all-or-nothing decisions are the service's, never re-checked here.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from app import clock
from app.api.deps import SessionDep, SettingsDep
from app.audit.service import access_log_append
from app.calendar import LONDON
from app.config import Settings
from app.contacts import service as contact_service
from app.contacts.schemas import ContactCreate, ContactDecisions
from app.contacts.workflow import CONTACT_MACHINE
from app.core_types import PrimaryNeed, ReferralSource
from app.errors import DomainError
from app.models.frontdoor import ConsentToShare, ContactOutcome
from app.models.people import Person, PersonKind
from app.people import queries as people_queries
from app.people.service import age_on
from app.security.access import readable_people
from app.security.principal import Principal
from app.web import queries as web_queries
from app.web.forms import (
    FormErrors,
    form_values,
    form_version,
    parse_form,
    path_id,
    refused_form,
    see_other,
)
from app.web.notices import register
from app.web.search import understand
from app.web.security import web_form, web_permission
from app.web.templating import render
from app.workflow import engine

router = APIRouter(include_in_schema=False)

# The API routes' own permissions (app/contacts/api.py): contacts are the front of a case.
ContactReader = Annotated[Principal, Depends(web_permission("case:read"))]
ContactWriter = Annotated[Principal, Depends(web_permission("case:write"))]
ContactWriterForm = Annotated[Principal, Depends(web_form("case:write"))]

register(
    contact_recorded="The contact has been recorded.",
    contact_decided="The decisions have been saved.",
)

SEARCH_LIMIT = 25
MAX_CHILDREN = 20  # ContactCreate.child_ids
_TIME = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")

OUTCOME_LABELS: dict[ContactOutcome, str] = {
    ContactOutcome.referral: "Refer to children's social care",
    ContactOutcome.early_help: "Early help",
    ContactOutcome.information_and_advice: "Information and advice",
    ContactOutcome.no_further_action: "No further action",
}
CONSENT_LABELS: dict[ConsentToShare, str] = {
    ConsentToShare.given: "Given",
    ConsentToShare.not_needed: "Not needed",
    ConsentToShare.refused: "Refused and overridden",
}
CONTACT_LABELS = {
    "child_ids": "the children the contact is about",
    "team_id": "the team that takes the contact",
    "received_at": "when the contact was received",
    "source": "who made the contact",
    "referrer_name": "the referrer's name",
    "referrer_role": "the referrer's role",
    "referrer_organisation": "the referrer's organisation",
    "referrer_phone": "the referrer's phone number",
    "referrer_email": "the referrer's email address",
    "concern": "what the referrer is worried about",
    "consent": "whether consent to share was given",
    "consent_reason": "why consent was not needed or is overridden",
    "rag": "the rating",
}


def _uuids(raw: list[str]) -> list[uuid.UUID]:
    """The ids typed or carried in a form, in order, without repeats or anything not an id."""
    out: list[uuid.UUID] = []
    for item in raw:
        try:
            value = uuid.UUID(str(item))
        except ValueError:
            continue
        if value not in out:
            out.append(value)
    return out[:MAX_CHILDREN]


def _chosen_children(
    session: Session, *, actor: Principal, child_ids: list[uuid.UUID]
) -> list[Person]:
    """The children already picked for the contact, in the order picked: only those the caller
    may see (one statement), each shown one written to the access log as a search result is."""
    if not child_ids:
        return []
    found = {
        p.id: p
        for p in session.scalars(
            readable_people(actor).where(Person.id.in_(child_ids), Person.kind == PersonKind.child)
        )
    }
    children = [found[i] for i in child_ids if i in found]
    for child in children:
        access_log_append(
            session, principal=actor, action="list", resource="web:contact_new", person_id=child.id
        )
    return children


def _received_at(values: dict[str, Any], errors: FormErrors) -> None:
    """Fold the date input and the time box into the schema's ``received_at`` (London time)."""
    day = values.pop("received_at", None)
    time_text = str(values.pop("received_time", "") or "").strip()
    if day is None and not time_text:
        return  # the service's default: now
    if day is None:
        errors.add("received_at", "Enter the date the contact was received")
        return
    try:
        on = datetime.fromisoformat(str(day)).date()
    except ValueError:
        errors.add("received_at", "The date the contact was received must be a real date")
        return
    match = _TIME.match(time_text)
    if match is None:
        errors.add("received_time", "Enter the time the contact was received, like 14:30")
        return
    hour, minute = int(match.group(1)), int(match.group(2))
    values["received_at"] = datetime(on.year, on.month, on.day, hour, minute, tzinfo=LONDON)


def _contact_new_page(
    request: Request,
    session: Session,
    principal: Principal,
    settings: Settings,
    *,
    chosen: list[Person],
    q: str,
    values: dict[str, Any],
    errors: FormErrors,
    status_code: int = 200,
) -> HTMLResponse:
    understood = understand(q) if q.strip() else None
    results: list[Person] = []
    search_error = understood.error if understood is not None else None
    if understood is not None and understood.criteria is not None:
        found, _next = people_queries.person_search(
            session,
            principal=principal,
            criteria=understood.criteria,
            cursor=None,
            limit=SEARCH_LIMIT,
            resource="web:contact_new",
        )
        chosen_ids = {c.id for c in chosen}
        results = [p for p in found if p.kind is PersonKind.child and p.id not in chosen_ids]
    teams = web_queries.team_names(session, principal.team_ids)
    return render(
        request,
        "contact_new.html",
        {
            "title": "Record a contact",
            "q": q,
            "understood": understood,
            "search_error": search_error,
            "results": results,
            "chosen": chosen,
            "teams": teams,
            "values": values,
            "errors": errors,
            "sources": list(ReferralSource),
            "consents": CONSENT_LABELS,
            "deadlines": {
                "red": settings.contact_decision_red_hours,
                "amber": settings.contact_decision_amber_days,
                "green": settings.contact_decision_green_days,
            },
            "today": clock.today(),
            "age_on": age_on,
        },
        status_code=status_code,
    )


@router.get("/front-door/contacts/new", response_class=HTMLResponse)
def contact_new(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: ContactWriter,
    q: Annotated[str, Query(max_length=200)] = "",
    child_ids: Annotated[list[str] | None, Query(max_length=MAX_CHILDREN)] = None,
    add: Annotated[str | None, Query(max_length=40)] = None,
) -> HTMLResponse:
    """Step 1 finds the children (the same search as Find a child) and keeps the ones picked in
    the address, so it works without JavaScript; step 2 is the contact itself."""
    ids = _uuids([*(child_ids or []), *([add] if add else [])])
    chosen = _chosen_children(session, actor=principal, child_ids=ids)
    now = clock.now().astimezone(LONDON)
    values: dict[str, Any] = {
        "received_at": now.date().isoformat(),
        "received_time": f"{now:%H:%M}",
    }
    return _contact_new_page(
        request,
        session,
        principal,
        settings,
        chosen=chosen,
        q=q,
        values=values,
        errors=FormErrors(),
    )


@router.post("/front-door/contacts/new", response_class=HTMLResponse)
async def contact_create(
    request: Request, session: SessionDep, settings: SettingsDep, principal: ContactWriterForm
) -> Response:
    """Record the contact through ``contact_service.contact_create`` (each child's case opens or
    the contact joins it, and the decision clock starts from the rating)."""
    form = await request.form()
    values = form_values(form, lists=frozenset({"child_ids"}))
    shown = dict(values)
    chosen_ids = _uuids(values.get("child_ids", []))
    errors = FormErrors()
    _received_at(values, errors)
    if len(principal.team_ids) == 1 and "team_id" not in values:
        values["team_id"] = str(next(iter(principal.team_ids)))
    data, schema_errors = parse_form(ContactCreate, values, CONTACT_LABELS)
    for item in schema_errors.summary:
        errors.summary.append(item)
    for name, message in schema_errors.by_field.items():
        errors.by_field.setdefault(name, message)
    if data is not None and not errors:
        try:
            contact = contact_service.contact_create(
                session, actor=principal, data=data, settings=settings
            )
        except DomainError as exc:
            errors = refused_form(session, exc)
        else:
            return see_other(f"/front-door/contacts/{contact.id}", notice="contact_recorded")
    chosen = _chosen_children(session, actor=principal, child_ids=chosen_ids)
    return _contact_new_page(
        request,
        session,
        principal,
        settings,
        chosen=chosen,
        q="",
        values=shown,
        errors=errors,
        status_code=errors.status if errors else 422,
    )


# --------------------------------------------------------------------------------------------------
# The contact and its MASH decision
# --------------------------------------------------------------------------------------------------


def _contact_page(
    request: Request,
    session: Session,
    principal: Principal,
    view: contact_service.ContactView,
    *,
    values: dict[str, Any] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    contact = view.contact
    events = {
        t.event for t in engine.allowed_events(CONTACT_MACHINE, contact.state, principal.role)
    }
    undecided = [c for c in view.children if c.row.decision is None]
    may_decide = (
        "decide" in events
        and contact_service.may_change_contact(principal, contact)
        and bool(undecided)
    )
    names = ", ".join(f"{c.child.first_name} {c.child.last_name}" for c in view.children)
    return render(
        request,
        "contact_detail.html",
        {
            "title": f"Contact about {names}",
            "view": view,
            "contact": contact,
            "left": view.time_left(now=clock.now(), today=clock.today()),
            "may_decide": may_decide,
            "outcomes": OUTCOME_LABELS,
            "needs": list(PrimaryNeed),
            "consents": CONSENT_LABELS,
            "values": values or {},
            "errors": errors or FormErrors(),
        },
        status_code=status_code,
    )


@router.get("/front-door/contacts/{contact_id}", response_class=HTMLResponse)
def contact_detail(
    request: Request, session: SessionDep, principal: ContactReader, contact_id: str
) -> HTMLResponse:
    """The contact, its rating and time left, each child's decision, and the decision form."""
    cid = path_id(contact_id, "contact")
    view = contact_service.contact_get(session, actor=principal, contact_id=cid)
    return _contact_page(request, session, principal, view)


def _decisions(values: dict[str, Any]) -> tuple[dict[str, Any], list[int], FormErrors]:
    """The children given a decision on the form (``decisions.<n>.*`` by their place on the
    page) as the API's body, the page place of each, and errors for rows half filled in."""
    rows: list[dict[str, Any]] = []
    places: list[int] = []
    errors = FormErrors()
    for n in range(MAX_CHILDREN):
        prefix = f"decisions.{n}."
        row = {k.removeprefix(prefix): v for k, v in values.items() if k.startswith(prefix)}
        if "child_id" not in row:
            continue
        if "decision" not in row:
            if any(k != "child_id" for k in row):
                errors.add(f"{prefix}decision", "Select a decision for this child")
            continue
        if row.get("decision") != ContactOutcome.referral.value:
            # The primary need belongs to a referral only; a choice left in a hidden box is not
            # what the officer decided.
            row.pop("primary_need", None)
        rows.append(row)
        places.append(n)
    if not rows and not errors:
        errors.add("decisions.0.decision", "Select a decision for at least one child")
    return {"decisions": rows}, places, errors


def _placed(errors: FormErrors, places: list[int]) -> FormErrors:
    """Errors named by the body's list index, renamed by the child's place on the page."""
    out = FormErrors(status=errors.status)

    def rename(name: str) -> str:
        parts = name.split(".")
        if len(parts) > 1 and parts[0] == "decisions" and parts[1].isdigit():
            index = int(parts[1])
            if index < len(places):
                parts[1] = str(places[index])
        return ".".join(parts)

    for name, message in errors.by_field.items():
        out.by_field[rename(name)] = message
    for item in errors.summary:
        href = item["href"]
        if href.startswith("#decisions-"):
            href = "#" + rename(href[1:].replace("-", ".")).replace(".", "-")
        out.summary.append({"text": item["text"], "href": href})
    return out


@router.post("/front-door/contacts/{contact_id}", response_class=HTMLResponse)
async def contact_decide(
    request: Request, session: SessionDep, principal: ContactWriterForm, contact_id: str
) -> Response:
    """Decide some or all of the children (all or nothing, the service's rule): a referral moves
    the child's case to referral, the other outcomes close it at the door."""
    cid = path_id(contact_id, "contact")
    form = await request.form()
    values = form_values(form)
    body, places, errors = _decisions(values)
    if not errors:
        data, schema_errors = parse_form(ContactDecisions, body, {})
        errors = _placed(schema_errors, places)
        if data is not None:
            try:
                contact_service.contact_decide(
                    session,
                    actor=principal,
                    contact_id=cid,
                    expected_version=form_version(form) or 0,
                    decisions=data.decisions,
                )
            except DomainError as exc:
                errors = _placed(refused_form(session, exc), places)
            else:
                return see_other(f"/front-door/contacts/{cid}", notice="contact_decided")
    view = contact_service.contact_get(session, actor=principal, contact_id=cid)
    return _contact_page(
        request, session, principal, view, values=values, errors=errors, status_code=errors.status
    )
