"""The rules behind practice-and-quality deadlines (timescales rules 36-38, all local: the council
sets the numbers, ``CASEWORK_SUPERVISION_MONTHS`` and ``CASEWORK_MANAGEMENT_OVERSIGHT_WEEKS``; an
audit action's date is agreed when it is set)."""

from __future__ import annotations

from app.deadlines.rules import Rule
from app.models.deadlines import DeadlineKind as K

SUPERVISION = Rule(
    "TS36",
    K.supervision,
    "Local supervision policy (seed 2.13), CASEWORK_SUPERVISION_MONTHS: timescales rule 36",
    "Each worker's next supervision within the council's interval of the last (default monthly)",
)
MANAGEMENT_OVERSIGHT = Rule(
    "TS37",
    K.management_oversight,
    "Local practice standard, CASEWORK_MANAGEMENT_OVERSIGHT_WEEKS: timescales rule 37",
    "Management oversight recorded on every open case at least every N weeks (default 6), "
    "counted from the referral or the last oversight",
)
AUDIT_ACTION = Rule(
    "TS38",
    K.audit_action,
    "Local QA framework (seed 3.2-3.3): timescales rule 38",
    "An action arising from a case file audit completed by the date agreed",
)

RULES = {r.kind: r for r in (SUPERVISION, MANAGEMENT_OVERSIGHT, AUDIT_ACTION)}
