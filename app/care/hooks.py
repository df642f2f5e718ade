"""What happens elsewhere when a child's care changes: the other modules' clocks start and stop.

The children-in-care service calls these inside its own transaction, after the change is written
and flushed. Each module that keeps a clock of being looked after implements the listener named
here (a plain function with these keyword arguments); this file is the one place that says who
listens, so the order is fixed and visible.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from app.models.care import PeriodOfCare, Placement
from app.security.principal import Principal

#: module:function names, called in this order.
CARE_STARTED: tuple[str, ...] = (
    "app.iro.service:on_care_started",  # rules 28 (IRO allocation) and 15 (first review)
    "app.careplans.service:on_care_started",  # rules 13, 16P, 25 (care, permanence plan, PEP)
    "app.health.service:on_care_started",  # rule 23 (initial health assessment)
)
PLACEMENT_STARTED: tuple[str, ...] = (
    "app.careplans.service:on_placement_started",  # rule 14 (placement plan)
    "app.visits.service:on_placement_started",  # rule 18 (visit in the placement's first week)
)
CARE_CEASED: tuple[str, ...] = (
    "app.iro.service:on_care_ceased",  # the IRO's allocation ends with the care
    "app.leavingcare.service:on_care_ceased",  # who becomes a care leaver (eligibility)
)


def _call(names: tuple[str, ...], **kwargs: Any) -> None:
    for name in names:
        module_name, function_name = name.split(":")
        module = importlib.import_module(module_name)
        listener: Callable[..., None] = getattr(module, function_name)
        listener(**kwargs)


def care_started(
    session: Session, *, actor: Principal, period: PeriodOfCare, placement: Placement
) -> None:
    _call(CARE_STARTED, session=session, actor=actor, period=period, placement=placement)


def placement_started(
    session: Session,
    *,
    actor: Principal,
    period: PeriodOfCare,
    placement: Placement,
    previous: Placement | None,
) -> None:
    _call(
        PLACEMENT_STARTED,
        session=session,
        actor=actor,
        period=period,
        placement=placement,
        previous=previous,
    )


def care_ceased(session: Session, *, actor: Principal, period: PeriodOfCare) -> None:
    _call(CARE_CEASED, session=session, actor=actor, period=period)
