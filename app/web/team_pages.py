"""The team scorecard: caseloads, unallocated work and statutory timeliness, with drill-down.

Every figure comes from the function the API answers with (``app.org.service.team_caseloads``,
``app.practice.measures.practice_measures``) or from ``app.practice.reads``, which counts the
statutory timescales the same way and lists the children behind each figure. A figure counts
every child; its drill-down lists those the manager may see (restricted records stay hidden, and
the page says how many) and writes each to the access log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from app.api.deps import SessionDep
from app.errors import NotFound
from app.models.deadlines import DeadlineKind
from app.models.org import Team
from app.org import service as org_service
from app.practice import measures
from app.practice import reads as practice_reads
from app.practice.measures import MEASURES, Measures, Ratio, TrendPoint
from app.security.principal import Principal
from app.web.forms import path_id
from app.web.security import web_permission
from app.web.templating import render

router = APIRouter(include_in_schema=False)

TeamReader = Annotated[Principal, Depends(web_permission("team:read"))]

UNALLOCATED_LIMIT: Final = 200
#: The practice measures on the scorecard, in order; the monthly ones have a trend.
PRACTICE_KEYS: Final = (
    "management_oversight",
    "oversight_today",
    "supervision",
    "audits_good_or_better",
    "actions_overdue",
    "actions_completed_late",
)
#: Measures where a higher figure is worse (the chart and table say so).
LOWER_IS_BETTER: Final = frozenset({"actions_overdue", "actions_completed_late"})
CHART_ROW: Final = 30
CHART_LEFT: Final = 270
CHART_BAR: Final = 300


@dataclass(frozen=True)
class Figure:
    """One line of the scorecard: the month's ratio and the twelve months' together."""

    key: str
    label: str
    rule: str
    month: Ratio
    year: Ratio | None
    trend: list[TrendPoint]
    lower_is_better: bool = False


def _year(trend: list[TrendPoint]) -> Ratio | None:
    if not trend:
        return None
    total = Ratio()
    for point in trend:
        total.add(point.ratio)
    return total


def _team_for(session: Session, principal: Principal, team_id: str | None) -> Team:
    """The team asked for; else the one the caller manages, else one they belong to."""
    if team_id:
        return org_service.team_get(session, team_id=path_id(team_id, "team", visible_to_all=True))
    for ids in (principal.managed_team_ids, principal.team_ids):
        if ids:
            return org_service.team_get(session, team_id=sorted(ids)[0])
    teams, _cursor = org_service.team_list(session, include_inactive=False, cursor=None, limit=1)
    if not teams:
        raise NotFound("There are no teams yet.")
    return teams[0]


def _practice_figures(found: Measures) -> list[Figure]:
    out = []
    for key in PRACTICE_KEYS:
        measure = getattr(found, key)
        out.append(
            Figure(
                key=key,
                label=measure.definition.label,
                rule=measure.definition.rule_id or measure.definition.source,
                month=measure.ratio,
                year=_year(measure.trend) if measure.trend else None,
                trend=measure.trend,
                lower_is_better=key in LOWER_IS_BETTER,
            )
        )
    return out


def _chart(figures: list[Figure]) -> dict[str, Any]:
    """Horizontal bars: each figure's percentage this month and, for the monthly ones, over the
    twelve months, as SVG attributes (the CSP forbids inline styles; colours are classes in
    practice.css)."""
    rows = []
    y = 0
    for figure in figures:
        bars: list[dict[str, Any]] = []
        periods = [("This month", figure.month)]
        if figure.year is not None:
            periods.append(("12 months", figure.year))
        top = y
        for name, ratio in periods:
            percent = ratio.percent
            bars.append(
                {
                    "name": name,
                    "y": y,
                    "width": round(CHART_BAR * (percent or 0) / 100),
                    "text": f"{percent}%" if percent is not None else "nothing counted",
                    "kind": len(bars) + 1,
                }
            )
            y += CHART_ROW
        rows.append({"label": figure.label, "y": top, "bars": bars})
        y += CHART_ROW // 2
    return {
        "rows": rows,
        "left": CHART_LEFT,
        "bar": CHART_BAR,
        "row": CHART_ROW,
        "height": max(y, CHART_ROW),
        "width": CHART_LEFT + CHART_BAR + 190,
    }


@router.get("/team", response_class=HTMLResponse)
def team_scorecard(
    request: Request,
    session: SessionDep,
    principal: TeamReader,
    team_id: Annotated[str | None, Query(max_length=64)] = None,
    month: Annotated[str | None, Query(max_length=7)] = None,
) -> HTMLResponse:
    """Caseload per worker and the team average, unallocated cases, and the timeliness of each
    statutory timescale and practice measure this month and over twelve months."""
    first = measures.month_parse(month or None)
    team = _team_for(session, principal, team_id)
    caseloads = org_service.team_caseloads(session, team_id=team.id)
    found = measures.practice_measures(session, month=first, team_id=team.id)
    practice = _practice_figures(found.teams[0].measures)
    statutory = [
        Figure(
            key=item.kind.value,
            label=item.description,
            rule=item.rule_id,
            month=item.ratio,
            year=_year(item.trend),
            trend=item.trend,
        )
        for item in practice_reads.statutory_timeliness(session, month=first, team_id=team.id)
    ]
    teams, _cursor = org_service.team_list(session, include_inactive=False, cursor=None, limit=200)
    return render(
        request,
        "team_scorecard.html",
        {
            "title": f"Team scorecard: {team.name}",
            "team": team,
            "teams": teams,
            "month": first,
            "month_value": first.strftime("%Y-%m"),
            "caseloads": caseloads,
            "statutory": statutory,
            "practice": practice,
            "statutory_chart": _chart(statutory),
            "practice_chart": _chart(practice),
        },
    )


@router.get("/team/measures/{measure}", response_class=HTMLResponse)
def team_measure(
    request: Request,
    session: SessionDep,
    principal: TeamReader,
    measure: str,
    team_id: Annotated[str | None, Query(max_length=64)] = None,
    month: Annotated[str | None, Query(max_length=7)] = None,
    worker_id: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    """The children behind one figure of the scorecard (for supervision, the workers), counted
    as the figure counts them, with the figure's twelve months."""
    first = measures.month_parse(month or None)
    team = _team_for(session, principal, team_id)
    context: dict[str, Any] = {
        "team": team,
        "month": first,
        "month_value": first.strftime("%Y-%m"),
        "measure": measure,
        "trend": [],
        "definition": None,
        "unallocated": None,
        "rows": None,
    }
    statutory = {k.value for k in practice_reads.STATUTORY_KINDS}
    if measure == "unallocated":
        items, _next = org_service.team_unallocated(
            session,
            principal=principal,
            team_id=team.id,
            cursor=None,
            limit=UNALLOCATED_LIMIT,
            resource="web:team_unallocated",
        )
        context |= {"title": f"Unallocated cases: {team.name}", "unallocated": items}
    elif measure == "caseload":
        worker = path_id(worker_id or "", "worker", visible_to_all=True)
        loads = org_service.team_caseloads(session, team_id=team.id)
        member = next((w for w in loads.workers if w.worker_id == worker), None)
        if member is None:
            raise NotFound("This worker is not a current member of the team.")
        rows = practice_reads.worker_open_cases(session, actor=principal, worker_id=worker)
        context |= {
            "title": f"Caseload of {member.display_name}",
            "rows": rows,
            "figure": member.caseload,
        }
    elif measure in statutory:
        kind = DeadlineKind(measure)
        found = [
            item
            for item in practice_reads.statutory_timeliness(session, month=first, team_id=team.id)
            if item.kind is kind
        ]
        rows = practice_reads.timeliness_rows(
            session, actor=principal, kind=kind, month=first, team_id=team.id
        )
        label = found[0].description if found else kind.value.replace("_", " ").capitalize()
        context |= {
            "title": label,
            "rows": rows,
            "trend": found[0].trend if found else [],
            "rule": found[0].rule_id if found else "",
            "source": found[0].source if found else "",
            "figure_ratio": found[0].ratio if found else Ratio(),
        }
    elif measure in MEASURES:
        definition = MEASURES[measure]
        figures = measures.practice_measures(session, month=first, team_id=team.id)
        figure = getattr(figures.teams[0].measures, measure)
        rows = practice_reads.measure_rows(
            session, actor=principal, measure=measure, month=first, team_id=team.id
        )
        context |= {
            "title": definition.label,
            "rows": rows,
            "trend": figure.trend,
            "definition": definition,
            "rule": definition.rule_id or "",
            "source": definition.source,
            "figure_ratio": figure.ratio,
        }
    else:
        raise NotFound("There is no such figure on the scorecard.")
    return render(request, "team_measure.html", context)
