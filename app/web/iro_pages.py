"""The Independent Reviewing Officer's pages: the dashboard and the dispute resolution process.

The IRO monitors each looked-after child's plan and chairs the child's reviews (Children Act 1989
ss.25A-25B; IRO Handbook 2010). The dashboard is the IRO's view of their children through the
same service functions as ``GET /api/v1/iro/children`` and ``GET /api/v1/iro/timeliness``; the
dispute pages raise and move a dispute through ``app.iro.service`` like the API does.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from app import clock
from app.api.deps import SessionDep
from app.calendar import add_months, working_days_between
from app.errors import DomainError, NotFound
from app.iro import reviews as review_service
from app.iro import service as iro_service
from app.iro.reviews import Tally
from app.iro.schemas import IRODisputeCreate, IRODisputeTransition
from app.iro.service import ChildOverview
from app.iro.workflow import (
    ESCALATE,
    IRO_DISPUTE_MACHINE,
    REFER_TO_CAFCASS,
    RESOLVE,
    RESPOND,
)
from app.models.iro import IRODispute
from app.models.org import Role
from app.models.people import Person
from app.security.principal import Principal
from app.web.care_pages import prefixed, user_names
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
from app.workflow.engine import GuardContext, Transition, allowed_events

router = APIRouter(include_in_schema=False)

register(
    dispute_raised="The dispute has been raised.",
    dispute_updated="The dispute has been updated.",
)

IroReader = Annotated[Principal, Depends(web_permission("iro:read"))]
IroWriterPage = Annotated[Principal, Depends(web_permission("iro:write"))]
IroWriterForm = Annotated[Principal, Depends(web_form("iro:write"))]

#: The timeliness chart covers the last 12 calendar months, this one included.
CHART_MONTHS = 12
# The chart's drawing area, in SVG user units (the viewBox scales it to the page's width).
CHART_WIDTH, CHART_HEIGHT, CHART_TOP, CHART_LEFT, CHART_BOTTOM = 640, 260, 20, 44, 40
BAR_GAP = 8

EVENT_LABELS = {
    ESCALATE: "Escalate to the next stage",
    RESPOND: "Record the manager's response",
    RESOLVE: "Record that the dispute is resolved",
    REFER_TO_CAFCASS: "Refer the child's case to Cafcass",
}
STATE_LABELS = {
    "informal": "Informal resolution",
    "escalated": "Escalated",
    "resolved": "Resolved",
    "referred_to_cafcass": "Referred to Cafcass",
}


# --------------------------------------------------------------------------------------------------
# The dashboard
# --------------------------------------------------------------------------------------------------


@dataclass
class ChildLine:
    child: ChildOverview
    working_days_left: int | None

    @property
    def overdue(self) -> bool:
        return self.working_days_left is not None and self.working_days_left < 0


@dataclass
class MonthBar:
    """One month of the chart: the reviews due that month and how they went."""

    first_day: date
    tally: Tally
    x: float = 0
    y: float = 0
    width: float = 0
    height: float = 0

    @property
    def counted(self) -> int:
        return self.tally.on_time + self.tally.late + self.tally.overdue


def timeliness_window(today: date) -> tuple[date, date]:
    """The last 12 calendar months, this one to its end: a review due later this month that is
    held early already counts as on time."""
    this_month = today.replace(day=1)
    start = add_months(this_month, -(CHART_MONTHS - 1))
    end = add_months(this_month, 1) - timedelta(days=1)
    return start, end


def month_bars(start: date, reviews: list[review_service.ReviewDue]) -> list[MonthBar]:
    """The service's reviews by the month they fell due, each month tallied with the service's
    own :class:`~app.iro.reviews.Tally` (the same on-time percentage as the headline), laid out
    as the bars of the chart."""
    bars = [MonthBar(first_day=add_months(start, n), tally=Tally()) for n in range(CHART_MONTHS)]
    index = {(b.first_day.year, b.first_day.month): b for b in bars}
    for review in reviews:
        bar = index.get((review.due_date.year, review.due_date.month))
        if bar is not None:
            bar.tally.add(review.status)
    plot_height = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    slot = (CHART_WIDTH - CHART_LEFT) / CHART_MONTHS
    for n, bar in enumerate(bars):
        percent = bar.tally.percent_on_time or 0.0
        bar.width = slot - BAR_GAP
        bar.x = CHART_LEFT + n * slot + BAR_GAP / 2
        bar.height = round(plot_height * percent / 100, 1)
        bar.y = round(CHART_TOP + plot_height - bar.height, 1)
    return bars


@router.get("/iro", response_class=HTMLResponse)
def iro_dashboard(request: Request, session: SessionDep, principal: IroReader) -> HTMLResponse:
    """An IRO's own children (everyone's, for a manager): when each next review is due, overdue
    first; the reviews held on time over the last 12 months, month by month; recommendations
    still outstanding; disputes in progress."""
    today = clock.today()
    own = principal.role is Role.iro
    children = iro_service.iro_children(session, actor=principal, iro_id=None)
    lines = [
        ChildLine(
            child=c,
            working_days_left=(
                working_days_between(today, c.next_review_due) if c.next_review_due else None
            ),
        )
        for c in children
    ]
    # Overdue first, then the soonest due; a child with no review clock (care ceasing) last.
    lines.sort(key=lambda line: (line.child.next_review_due is None, line.child.next_review_due))
    start, end = timeliness_window(today)
    timeliness = review_service.review_timeliness(
        session,
        actor=principal,
        from_date=start,
        to_date=end,
        iro_id=principal.user_id if own else None,
    )
    overall = timeliness.overall
    plot_height = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    return render(
        request,
        "iro_dashboard.html",
        {
            "title": "IRO dashboard",
            "own": own,
            "lines": lines,
            "start": start,
            "end": end,
            "overall": overall,
            "counted": overall.on_time + overall.late + overall.overdue,
            "bars": month_bars(start, timeliness.reviews),
            "chart": {
                "width": CHART_WIDTH,
                "height": CHART_HEIGHT,
                "left": CHART_LEFT,
                "top": CHART_TOP,
                "base": CHART_TOP + plot_height,
                "ticks": [
                    (pct, CHART_TOP + plot_height - plot_height * pct / 100)
                    for pct in (0, 25, 50, 75, 100)
                ],
            },
            "outstanding": sum(c.outstanding_recommendations for c in children),
            "overdue_recommendations": sum(c.overdue_recommendations for c in children),
            "with_recommendations": [c for c in children if c.outstanding_recommendations],
            "with_disputes": [c for c in children if c.dispute_ids],
        },
    )


# --------------------------------------------------------------------------------------------------
# Raising a dispute
# --------------------------------------------------------------------------------------------------


def _raise_page(
    request: Request,
    session: Session,
    principal: Principal,
    review_id: uuid.UUID,
    *,
    values: Mapping[str, Any],
    errors: FormErrors | None = None,
) -> HTMLResponse:
    errors = errors or FormErrors()
    review = review_service.cla_review_get(session, actor=principal, review_id=review_id)
    child = session.get(Person, review.child_id)
    assert child is not None  # a foreign key
    return render(
        request,
        "iro_dispute_new.html",
        {
            "title": f"Raise a dispute about {child.first_name} {child.last_name}'s plan",
            "review": review,
            "child": child,
            "may_raise": principal.role is Role.iro,
            "values": values,
            "errors": errors,
            "raised_date": date_parts(values.get("raised_date")),
        },
        status_code=errors.status if errors else 200,
    )


@router.get("/iro/disputes/new", response_class=HTMLResponse)
def dispute_new_form(
    request: Request,
    session: SessionDep,
    principal: IroWriterPage,
    review_id: Annotated[str, Query(max_length=100)] = "",
) -> HTMLResponse:
    """The IRO's concern about the child's plan, after a review (IRO Handbook 2010 ch.5: the
    informal stage comes first)."""
    return _raise_page(request, session, principal, path_id(review_id, "review"), values={})


@router.post("/iro/disputes/new", response_class=HTMLResponse)
async def dispute_new_save(
    request: Request,
    session: SessionDep,
    principal: IroWriterForm,
    review_id: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    review_uuid = path_id(review_id, "review")
    values = form_values(await request.form())
    body, errors = parse_form(
        IRODisputeCreate,
        values,
        {"concern": "what the concern about the child's plan is", "raised_date": "the date"},
    )
    if body is None:
        return _raise_page(request, session, principal, review_uuid, values=values, errors=errors)
    try:
        review = review_service.cla_review_get(session, actor=principal, review_id=review_uuid)
        dispute = iro_service.iro_dispute_raise(
            session,
            actor=principal,
            child_id=review.child_id,
            concern=body.concern,
            raised_date=body.raised_date,
        )
    except NotFound:
        raise
    except DomainError as exc:
        return _raise_page(
            request,
            session,
            principal,
            review_uuid,
            values=values,
            errors=refused_form(session, exc),
        )
    return see_other(f"/iro/disputes/{dispute.id}", notice="dispute_raised")


# --------------------------------------------------------------------------------------------------
# A dispute and its next steps
# --------------------------------------------------------------------------------------------------


def _offered(session: Session, principal: Principal, dispute: IRODispute) -> list[Transition]:
    """The events the dispute's machine lets this role take from its state, less those its own
    guards refuse now (no escalation beyond the protocol's last stage, no referral to Cafcass
    before it): only what the server would accept is offered."""
    out = []
    for transition in allowed_events(IRO_DISPUTE_MACHINE, dispute.state, principal.role):
        if transition.guard is not None:
            context = GuardContext(
                session=session,
                record=dispute,
                actor=principal,
                transition=transition,
                reason=None,
                data={},
                today=clock.today(),
            )
            if transition.guard(context) is not None:
                continue
        out.append(transition)
    return out


def _dispute_page(
    request: Request,
    session: Session,
    principal: Principal,
    dispute: IRODispute,
    *,
    values: Mapping[str, Any] | None = None,
    errors: FormErrors | None = None,
) -> HTMLResponse:
    errors = errors or FormErrors()
    values = values or {}
    child = session.get(Person, dispute.child_id)
    assert child is not None  # a foreign key
    forms = [
        {
            "event": t.event,
            "label": EVENT_LABELS.get(t.event, t.event),
            "reason": t.requires_reason,
            "response": "response" in t.required_fields,
            "on_date": date_parts(values.get(f"{t.event}-on_date")),
        }
        for t in _offered(session, principal, dispute)
    ]
    return render(
        request,
        "iro_dispute.html",
        {
            "title": f"Dispute about {child.first_name} {child.last_name}'s plan",
            "dispute": dispute,
            "child": child,
            "state": STATE_LABELS.get(dispute.state, dispute.state),
            "stage_due": iro_service.iro_dispute_stage_due(session, dispute=dispute),
            "names": user_names(session, [dispute.raised_by_id]),
            "forms": forms,
            "values": values,
            "errors": errors,
        },
        status_code=errors.status if errors else 200,
    )


@router.get("/iro/disputes/{dispute_id}", response_class=HTMLResponse)
def dispute_detail(
    request: Request, session: SessionDep, principal: IroReader, dispute_id: str
) -> HTMLResponse:
    """The dispute: its concern, stage, when the stage's answer is due, the last response, and
    the steps the caller may take next."""
    dispute = iro_service.iro_dispute_get(
        session, actor=principal, dispute_id=path_id(dispute_id, "IRO dispute")
    )
    return _dispute_page(request, session, principal, dispute)


@router.post("/iro/disputes/{dispute_id}", response_class=HTMLResponse)
async def dispute_step(
    request: Request, session: SessionDep, principal: IroWriterForm, dispute_id: str
) -> Response:
    """Escalate, respond, resolve or refer to Cafcass: the service applies the machine."""
    dispute_uuid = path_id(dispute_id, "IRO dispute")
    form = await request.form()
    event = str(form.get("action") or "")
    values = form_values(form)
    version = form_version(form)
    fields = {k.removeprefix(f"{event}-"): v for k, v in values.items()}
    body, errors = parse_form(
        IRODisputeTransition,
        {**fields, "event": event},
        {"reason": "the reason", "response": "the response", "on_date": "the date"},
    )
    if body is not None:
        try:
            iro_service.iro_dispute_transition(
                session,
                actor=principal,
                dispute_id=dispute_uuid,
                expected_version=version if version is not None else -1,
                event=body.event,
                reason=body.reason,
                on_date=body.on_date,
                response=body.response,
            )
            return see_other(f"/iro/disputes/{dispute_uuid}", notice="dispute_updated")
        except NotFound:
            raise
        except DomainError as exc:
            errors = refused_form(session, exc)
    dispute = iro_service.iro_dispute_get(session, actor=principal, dispute_id=dispute_uuid)
    return _dispute_page(
        request, session, principal, dispute, values=values, errors=prefixed(errors, event)
    )
