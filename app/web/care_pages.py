"""Children in care: becoming looked after, placement changes and looked-after reviews.

Each page is a thin skin on the services the JSON API uses (``app.care.service`` behind
``app/care/api.py``, ``app.iro.reviews`` behind ``app/iro/api.py``): the same schemas validate
the form, the same functions check who may do it and write it, and a refusal is shown as a GOV.UK
error summary on the same page with what was typed kept (nothing is written).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from app import clock
from app.api.deps import SessionDep
from app.care import service as care_service
from app.care.codes import (
    LegalStatus,
    PlacementProvider,
    PlacementType,
    ReasonPlaceChange,
)
from app.care.schemas import PeriodOfCareStart, PlacementChange
from app.cases import service as case_service
from app.core_types import PrimaryNeed
from app.errors import Conflict, DomainError, NotFound
from app.iro import reviews as review_service
from app.iro import service as iro_service
from app.iro import timescales
from app.iro.reviews import ActionIn
from app.iro.schemas import CLAReviewActionComplete, CLAReviewCreate, CLAReviewStep
from app.iro.workflow import CIRCULATE_EVENT, CLA_REVIEW_MACHINE, COMPLETE_RECORD_EVENT
from app.models.care import CareEntryRoute, PeriodOfCare
from app.models.cases import Case
from app.models.iro import CLAReview, ParticipationCode, ReviewActionKind
from app.models.org import Role, UserAccount
from app.models.people import Person
from app.org import service as org_service
from app.security.principal import Principal
from app.web.forms import (
    FormErrors,
    date_parts,
    form_values,
    form_version,
    parse_form,
    path_id,
    refused_form,
    see_other,
)
from app.web.notices import register
from app.web.security import web_form, web_permission
from app.web.templating import render
from app.workflow import engine

router = APIRouter(include_in_schema=False)

register(
    care_started="The child is now looked after.",
    placement_changed="The placement change has been recorded.",
    review_recorded="The review has been recorded.",
    review_step_recorded="The review has been updated.",
    review_action_completed="The recommendation has been marked as done.",
)

CaseReader = Annotated[Principal, Depends(web_permission("case:read"))]
CaseWriterPage = Annotated[Principal, Depends(web_permission("case:write"))]
CaseWriterForm = Annotated[Principal, Depends(web_form("case:write"))]
ReviewWriterPage = Annotated[Principal, Depends(web_permission("cla_review:write"))]
ReviewWriterForm = Annotated[Principal, Depends(web_form("cla_review:write"))]
IroReader = Annotated[Principal, Depends(web_permission("iro:read"))]
ActionCompleterForm = Annotated[Principal, Depends(web_form("cla_review_action:complete"))]

#: Rows for decisions and recommendations on the review form (a form without JavaScript cannot
#: add rows; a review with more records the rest on another visit to the review's page).
ACTION_ROWS = 3

#: What a child who takes part in their review does (SSDA903 REVIEW_CODE).
PARTICIPATION_LABELS: dict[ParticipationCode, str] = {
    ParticipationCode.PN0: "Child aged under 4 at the time of the review",
    ParticipationCode.PN1: "Attended and spoke for themselves",
    ParticipationCode.PN2: "Attended and an advocate spoke for them",
    ParticipationCode.PN3: "Attended and conveyed their view symbolically (non-verbally)",
    ParticipationCode.PN4: "Attended but did not speak, convey a view or ask an advocate to",
    ParticipationCode.PN5: "Did not attend but briefed an advocate to speak for them",
    ParticipationCode.PN6: "Did not attend but conveyed their feelings by a facilitative medium",
    ParticipationCode.PN7: "Did not attend, nor were their views conveyed",
}

ENTRY_ROUTE_LABELS: dict[CareEntryRoute, str] = {
    CareEntryRoute.assessment: "An assessment or plan concluded the child should be looked after",
    CareEntryRoute.emergency: "Police protection or an emergency protection order",
    CareEntryRoute.section_20: "Accommodation agreed with those with parental responsibility "
    "(section 20)",
    CareEntryRoute.court_order: "A court order (for example an interim care order)",
    CareEntryRoute.remand: "Remanded or detained",
    CareEntryRoute.short_breaks: "An agreed series of short breaks",
}

PLACEMENT_LABELS = {
    "placement.placement_type": "the placement type",
    "placement.provider": "the placement provider",
    "placement.ofsted_urn": "the Ofsted URN",
    "placement.carer_name": "the carer's name",
    "placement.home_postcode": "the child's home postcode",
    "placement.placement_postcode": "the placement postcode",
    "placement.placement_la_code": "the placement's local authority code",
}
CARE_LABELS = {
    "start_date": "the date the child became looked after",
    "entry_route": "how the child came to be looked after",
    "legal_status": "the legal status",
    "category_of_need": "the category of need",
    **PLACEMENT_LABELS,
}
MOVE_LABELS = {
    "start_date": "the date of the move",
    "end_reason": "the reason for the change",
    "planned_ending": "whether the placement's ending was planned",
    **PLACEMENT_LABELS,
}
REVIEW_LABELS: dict[str, str] = {
    "review_date": "the date the review was held",
    "participation": "how the child took part",
    "chair_id": "the IRO who chaired the review",
    "lateness_reason": "why the review was held late",
}
for _i in range(ACTION_ROWS):
    REVIEW_LABELS[f"actions.{_i}.text"] = f"what was decided in row {_i + 1}"
    REVIEW_LABELS[f"actions.{_i}.owner_id"] = f"who owns the decision in row {_i + 1}"
    REVIEW_LABELS[f"actions.{_i}.due_date"] = f"the date the decision in row {_i + 1} is due"


# --------------------------------------------------------------------------------------------------
# Shared helpers (the IRO pages use them too)
# --------------------------------------------------------------------------------------------------


def user_names(session: Session, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    """Display names of staff shown on a page, in one statement whatever the number of rows."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(
        select(UserAccount.id, UserAccount.display_name).where(UserAccount.id.in_(wanted))
    )
    return {user_id: str(name) for user_id, name in rows}


def prefixed(errors: FormErrors, prefix: str) -> FormErrors:
    """The errors of one of several small forms on a page, anchored to that form's own fields
    (``<prefix>-<field>``) so the summary's links land on the right one."""
    out = FormErrors(status=errors.status)
    # A state machine names its inputs ``data.<field>``; on the page they are plain fields.
    for name, message in errors.by_field.items():
        out.by_field[f"{prefix}-{name.removeprefix('data.')}"] = message
    for item in errors.summary:
        href = item["href"]
        if href != "#main":
            href = f"#{prefix}-{href.removeprefix('#').removeprefix('data-')}"
        out.summary.append({"text": item["text"], "href": href})
    return out


def options(
    pairs: Iterable[tuple[str, str]], selected: Any, *, blank: str | None = "Select"
) -> list[dict[str, Any]]:
    """``govukSelect`` items, with an empty first choice."""
    chosen = str(selected or "")
    items: list[dict[str, Any]] = [{"value": "", "text": blank}] if blank is not None else []
    items += [{"value": v, "text": t, "selected": v == chosen} for v, t in pairs]
    return items


def _child(session: Session, case: Case) -> Person:
    child = session.get(Person, case.child_id)
    assert child is not None  # a foreign key
    return child


def _nest(values: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """Fields named ``<prefix>.<name>`` as the nested object of the API's JSON body."""
    return {
        key.removeprefix(f"{prefix}."): value
        for key, value in values.items()
        if key.startswith(f"{prefix}.")
    }


def _flat(values: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    return {key: value for key, value in values.items() if not key.startswith(f"{prefix}.")}


def _placement_choices(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "placement_types": options(
            ((t.value, f"{t.value}: {t.label}") for t in PlacementType),
            values.get("placement.placement_type"),
        ),
        "providers": options(
            ((p.value, f"{p.value}: {p.label}") for p in PlacementProvider),
            values.get("placement.provider"),
            blank="None (temporary and Z placements)",
        ),
    }


def _open_period_of_case(session: Session, case: Case) -> PeriodOfCare | None:
    period = care_service.open_period(session, child_id=case.child_id)
    return period if period is not None and period.case_id == case.id else None


# --------------------------------------------------------------------------------------------------
# The child becomes looked after
# --------------------------------------------------------------------------------------------------


def _looked_after_page(
    request: Request,
    session: Session,
    case: Case,
    *,
    values: Mapping[str, Any],
    errors: FormErrors | None = None,
) -> HTMLResponse:
    errors = errors or FormErrors()
    child = _child(session, case)
    return render(
        request,
        "care_start.html",
        {
            "title": f"{child.first_name} {child.last_name} becomes looked after",
            "case": case,
            "child": child,
            "already": _open_period_of_case(session, case),
            "values": values,
            "errors": errors,
            "start_date": date_parts(values.get("start_date")),
            "entry_routes": [
                {
                    "value": r.value,
                    "text": ENTRY_ROUTE_LABELS[r],
                    "checked": values.get("entry_route") == r.value,
                }
                for r in CareEntryRoute
            ],
            "legal_statuses": options(
                ((s.value, f"{s.value}: {s.label}") for s in LegalStatus),
                values.get("legal_status"),
            ),
            "needs": options(
                (
                    (n.value, f"{n.value}: {n.label}")
                    for n in PrimaryNeed
                    if n in care_service.CATEGORIES_OF_NEED
                ),
                values.get("category_of_need"),
            ),
            **_placement_choices(values),
        },
        status_code=errors.status if errors else 200,
    )


@router.get("/cases/{case_id}/looked-after/new", response_class=HTMLResponse)
def looked_after_form(
    request: Request, session: SessionDep, principal: CaseWriterPage, case_id: str
) -> HTMLResponse:
    """The form: when, how and under what legal status the child came into care, why (the
    category of need) and where they are placed (SSDA903: the first episode, RNE S)."""
    case = case_service.case_get(session, actor=principal, case_id=path_id(case_id, "case"))
    return _looked_after_page(request, session, case, values={})


@router.post("/cases/{case_id}/looked-after/new", response_class=HTMLResponse)
async def looked_after_save(
    request: Request, session: SessionDep, principal: CaseWriterForm, case_id: str
) -> Response:
    case = case_service.case_visible(session, actor=principal, case_id=path_id(case_id, "case"))
    values = form_values(await request.form())
    body, errors = parse_form(
        PeriodOfCareStart,
        {**_flat(values, "placement"), "placement": _nest(values, "placement")},
        CARE_LABELS,
    )
    if body is None:
        return _looked_after_page(request, session, case, values=values, errors=errors)
    try:
        care_service.period_of_care_start(session, actor=principal, case_id=case.id, body=body)
    except DomainError as exc:
        # The case may have moved to looked_after before a later check refused: undo it all.
        return _looked_after_page(
            request, session, case, values=values, errors=refused_form(session, exc)
        )
    return see_other(f"/children/{case.child_id}", notice="care_started")


# --------------------------------------------------------------------------------------------------
# A placement change
# --------------------------------------------------------------------------------------------------


def _placement_page(
    request: Request,
    session: Session,
    case: Case,
    *,
    values: Mapping[str, Any],
    version: int | None = None,
    errors: FormErrors | None = None,
) -> HTMLResponse:
    errors = errors or FormErrors()
    child = _child(session, case)
    period = _open_period_of_case(session, case)
    current = care_service.current_placement(session, child_id=case.child_id) if period else None
    return render(
        request,
        "placement_change.html",
        {
            "title": f"Change {child.first_name} {child.last_name}'s placement",
            "case": case,
            "child": child,
            "period": period,
            "version": version if version is not None else (period.version if period else None),
            "current": current,
            "values": values,
            "errors": errors,
            "start_date": date_parts(values.get("start_date")),
            "reasons": options(
                ((r.value, r.label) for r in ReasonPlaceChange),
                values.get("end_reason"),
                blank="None (a move into or out of a temporary placement)",
            ),
            **_placement_choices(values),
        },
        status_code=errors.status if errors else 200,
    )


@router.get("/cases/{case_id}/placements/change", response_class=HTMLResponse)
def placement_change_form(
    request: Request, session: SessionDep, principal: CaseWriterPage, case_id: str
) -> HTMLResponse:
    """The move: where the child goes, from when, and why the current placement ended."""
    case = case_service.case_get(session, actor=principal, case_id=path_id(case_id, "case"))
    return _placement_page(request, session, case, values={})


@router.post("/cases/{case_id}/placements/change", response_class=HTMLResponse)
async def placement_change_save(
    request: Request, session: SessionDep, principal: CaseWriterForm, case_id: str
) -> Response:
    case = case_service.case_visible(session, actor=principal, case_id=path_id(case_id, "case"))
    form = await request.form()
    values = form_values(form)
    version = form_version(form)
    body, errors = parse_form(
        PlacementChange,
        {**_flat(values, "placement"), "placement": _nest(values, "placement")},
        MOVE_LABELS,
    )
    if body is None:
        return _placement_page(
            request, session, case, values=values, version=version, errors=errors
        )
    period = _open_period_of_case(session, case)
    try:
        if period is None:
            raise Conflict("The child is not looked after on this case: there is no placement.")
        care_service.placement_change(
            session,
            actor=principal,
            period_id=period.id,
            expected_version=version if version is not None else -1,
            body=body,
        )
    except DomainError as exc:
        return _placement_page(
            request,
            session,
            case,
            values=values,
            version=version,
            errors=refused_form(session, exc),
        )
    return see_other(f"/children/{case.child_id}", notice="placement_changed")


# --------------------------------------------------------------------------------------------------
# Recording a looked-after review
# --------------------------------------------------------------------------------------------------


def _action_rows(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The decision rows the form posted (``actions-<i>-<field>``) that hold anything."""
    rows = []
    for i in range(ACTION_ROWS):
        row = {
            name: values[f"actions-{i}-{name}"]
            for name in ("kind", "text", "owner_id", "due_date")
            if f"actions-{i}-{name}" in values
        }
        if set(row) - {"kind"}:
            rows.append(row)
    return rows


def _review_page(
    request: Request,
    session: Session,
    principal: Principal,
    case: Case,
    *,
    values: Mapping[str, Any],
    errors: FormErrors | None = None,
) -> HTMLResponse:
    errors = errors or FormErrors()
    child = _child(session, case)
    period = _open_period_of_case(session, case)
    due = review_service.next_review_due(session, period_id=period.id) if period else None
    owners: dict[str, str] = {str(principal.user_id): f"{principal.display_name} (you)"}
    for member in org_service.team_members(session, team_id=case.team_id):
        owners.setdefault(str(member.user_id), member.display_name)
    chairs = (
        []
        if principal.role is Role.iro
        else options(
            ((str(c.iro_id), c.display_name) for c in iro_service.iro_caseloads(session)),
            values.get("chair_id"),
        )
    )
    rows = []
    for i in range(ACTION_ROWS):
        rows.append(
            {
                "i": i,
                "text": values.get(f"actions-{i}-text", ""),
                "kinds": options(
                    ((k.value, k.value.capitalize()) for k in ReviewActionKind),
                    values.get(f"actions-{i}-kind", ReviewActionKind.recommendation.value),
                    blank=None,
                ),
                "owners": options(owners.items(), values.get(f"actions-{i}-owner_id")),
                "due_date": date_parts(values.get(f"actions-{i}-due_date")),
            }
        )
    return render(
        request,
        "review_new.html",
        {
            "title": f"Record a review for {child.first_name} {child.last_name}",
            "case": case,
            "child": child,
            "period": period,
            "due": due,
            "values": values,
            "errors": errors,
            "review_date": date_parts(values.get("review_date")),
            "participation": [
                {
                    "value": code.value,
                    "text": f"{code.value}: {label}",
                    "checked": values.get("participation") == code.value,
                }
                for code, label in PARTICIPATION_LABELS.items()
            ],
            "chairs": chairs,
            "rows": rows,
        },
        status_code=errors.status if errors else 200,
    )


@router.get("/cases/{case_id}/reviews/new", response_class=HTMLResponse)
def review_form(
    request: Request, session: SessionDep, principal: ReviewWriterPage, case_id: str
) -> HTMLResponse:
    """The review held (Care Planning Regulations 2010 reg 33): when, how the child took part,
    and the decisions and recommendations with who owns each and by when (rule 29)."""
    case = case_service.case_get(session, actor=principal, case_id=path_id(case_id, "case"))
    return _review_page(request, session, principal, case, values={})


@router.post("/cases/{case_id}/reviews/new", response_class=HTMLResponse)
async def review_save(
    request: Request, session: SessionDep, principal: ReviewWriterForm, case_id: str
) -> Response:
    case = case_service.case_visible(session, actor=principal, case_id=path_id(case_id, "case"))
    values = form_values(await request.form())
    fields = {k: v for k, v in values.items() if not k.startswith("actions-")}
    body, errors = parse_form(
        CLAReviewCreate, {**fields, "actions": _action_rows(values)}, REVIEW_LABELS
    )
    if body is None:
        return _review_page(request, session, principal, case, values=values, errors=errors)
    period = _open_period_of_case(session, case)
    try:
        if period is None:
            raise Conflict(
                "The child is not looked after on this case: a looked-after review is held "
                "while the child is looked after (Care Planning Regulations 2010 reg 33)."
            )
        review = review_service.cla_review_record(
            session,
            actor=principal,
            period_id=period.id,
            review_date=body.review_date,
            chair_id=body.chair_id,
            participation=body.participation,
            lateness_reason=body.lateness_reason,
            notes=body.notes,
            actions=[
                ActionIn(kind=a.kind, text=a.text, owner_id=a.owner_id, due_date=a.due_date)
                for a in body.actions
            ],
        )
    except DomainError as exc:
        return _review_page(
            request, session, principal, case, values=values, errors=refused_form(session, exc)
        )
    return see_other(f"/reviews/{review.id}", notice="review_recorded")


# --------------------------------------------------------------------------------------------------
# A review, its paperwork and its recommendations
# --------------------------------------------------------------------------------------------------

STEP_DUE = {
    CIRCULATE_EVENT: ("Record that the decisions were circulated", timescales.review_decisions_due),
    COMPLETE_RECORD_EVENT: (
        "Record that the full record was completed",
        timescales.review_record_due,
    ),
}


def _review_view(
    request: Request,
    session: Session,
    principal: Principal,
    review: CLAReview,
    *,
    values: Mapping[str, Any] | None = None,
    errors: FormErrors | None = None,
) -> HTMLResponse:
    errors = errors or FormErrors()
    values = values or {}
    actions = review_service.cla_review_actions(session, review_ids=[review.id])
    child = session.get(Person, review.child_id)
    assert child is not None  # a foreign key
    names = user_names(
        session,
        [review.chair_id, review.recorded_by_id]
        + [a.owner_id for a in actions]
        + [a.completed_by_id for a in actions],
    )
    steps = [
        {
            "event": t.event,
            "label": STEP_DUE[t.event][0],
            "due": STEP_DUE[t.event][1](review.review_date),
            "on_date": date_parts(values.get(f"{t.event}-on_date")),
        }
        for t in engine.allowed_events(CLA_REVIEW_MACHINE, review.state, principal.role)
        if t.event in STEP_DUE
    ]
    return render(
        request,
        "review_detail.html",
        {
            "title": f"Review {review.sequence} for {child.first_name} {child.last_name}",
            "review": review,
            "child": child,
            "participation": PARTICIPATION_LABELS[review.participation],
            "on_time": None if review.due_date is None else review.review_date <= review.due_date,
            "actions": actions,
            "names": names,
            "steps": steps,
            "values": values,
            "errors": errors,
            "today": clock.today(),
            "parts_of": date_parts,
            "may_raise_dispute": principal.role is Role.iro,
        },
        status_code=errors.status if errors else 200,
    )


@router.get("/reviews/{review_id}", response_class=HTMLResponse)
def review_detail(
    request: Request, session: SessionDep, principal: IroReader, review_id: str
) -> HTMLResponse:
    """The review, whether it was on time, its decisions and recommendations, and the next step
    of its paperwork (rule 29: decisions out in 5 working days, the record in 20)."""
    review = review_service.cla_review_get(
        session, actor=principal, review_id=path_id(review_id, "review")
    )
    return _review_view(request, session, principal, review)


@router.post("/reviews/{review_id}", response_class=HTMLResponse)
async def review_step(
    request: Request, session: SessionDep, principal: ReviewWriterForm, review_id: str
) -> Response:
    """Decisions circulated, or record completed: whichever the review's machine allows next."""
    review_uuid = path_id(review_id, "review")
    form = await request.form()
    event = str(form.get("action") or "")
    values = form_values(form)
    version = form_version(form)
    step_values = {k.removeprefix(f"{event}-"): v for k, v in values.items()}
    body, errors = parse_form(CLAReviewStep, step_values, {"on_date": "the date"})
    if body is not None:
        try:
            if event == CIRCULATE_EVENT:
                step = review_service.cla_review_decisions_circulated
            elif event == COMPLETE_RECORD_EVENT:
                step = review_service.cla_review_record_completed
            else:
                raise Conflict("This review cannot take that step.")
            step(
                session,
                actor=principal,
                review_id=review_uuid,
                expected_version=version if version is not None else -1,
                on_date=body.on_date,
            )
            return see_other(f"/reviews/{review_uuid}", notice="review_step_recorded")
        except DomainError as exc:
            errors = refused_form(session, exc)
    review = review_service.cla_review_get(session, actor=principal, review_id=review_uuid)
    return _review_view(
        request, session, principal, review, values=values, errors=prefixed(errors, event)
    )


@router.post("/reviews/{review_id}/actions/{action_id}", response_class=HTMLResponse)
async def review_action_complete(
    request: Request,
    session: SessionDep,
    principal: ActionCompleterForm,
    review_id: str,
    action_id: str,
) -> Response:
    """A decision or recommendation was done (by its owner, the case's team, the IRO or a
    manager: the service decides); its deadline is met."""
    review_uuid = path_id(review_id, "review")
    action_uuid = path_id(action_id, "review decision or recommendation")
    form = await request.form()
    prefix = f"action-{action_uuid}"
    values = form_values(form)
    version = form_version(form)
    body, errors = parse_form(
        CLAReviewActionComplete,
        {k.removeprefix(f"{prefix}-"): v for k, v in values.items()},
        {"completed_date": "the date it was done"},
    )
    if body is not None:
        try:
            action = review_service.cla_review_action_get(
                session, actor=principal, action_id=action_uuid
            )
            if action.review_id != review_uuid:
                raise NotFound(review_service.ACTION_NOT_VISIBLE)
            review_service.cla_review_action_complete(
                session,
                actor=principal,
                action_id=action_uuid,
                expected_version=version if version is not None else -1,
                completed_date=body.completed_date,
                note=body.note,
            )
            return see_other(f"/reviews/{review_uuid}", notice="review_action_completed")
        except NotFound:
            raise
        except DomainError as exc:
            errors = refused_form(session, exc)
    review = review_service.cla_review_get(session, actor=principal, review_id=review_uuid)
    return _review_view(
        request, session, principal, review, values=values, errors=prefixed(errors, prefix)
    )
