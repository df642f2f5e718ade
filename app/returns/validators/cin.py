"""The DfE's CIN census rules (``csc-validator-be-cin``), run on a census Casework generated.

``run_cin.py`` runs under the validators' own interpreter, reads the XML on stdin, runs the newest
ruleset the installed validator has for the census year or earlier (``cin2025_26`` for 2026,
``cin2026_27`` for 2027; see ``run_cin.ruleset_for``) and prints one JSON object per failing
rule, child and table. Each failure keeps the validator's level: a rule whose ``rule_type`` is
``RuleType.QUERY`` (codes ending in ``Q``) is a query the council may explain, every other rule an
error the DfE will not accept.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models.people import Person
from app.returns.common import ValidationFailure
from app.returns.validators import run_validator_script

RETURN_NAME = "cin_census"


def check_cin_census(
    xml: bytes, *, year: int, settings: Settings, session: Session | None = None
) -> list[ValidationFailure]:
    """Every DfE rule the census ``xml`` breaks, as the data-quality worklist.

    With a ``session``, child-level failures also carry the Casework person id of the child (by
    LA child id), so the worklist can link to the record."""
    raw = run_validator_script("run_cin.py", [str(year)], settings=settings, stdin=xml)
    person_of: dict[str, str] = {}
    children = {str(item["child"]) for item in raw if item.get("child")}
    if session is not None and children:
        rows = session.execute(
            select(Person.la_child_id, Person.id).where(Person.la_child_id.in_(sorted(children)))
        ).all()
        person_of = {str(la_id): str(person_id) for la_id, person_id in rows}
    return [
        ValidationFailure(
            return_name=RETURN_NAME,
            rule=str(item["rule"]),
            message=str(item["message"]),
            severity="query" if item["severity"] == "query" else "error",
            child=str(item["child"]) if item.get("child") else None,
            table=str(item["table"]) if item.get("table") else None,
            fields=tuple(str(f) for f in item.get("fields", [])),
            person_id=person_of.get(str(item["child"])) if item.get("child") else None,
        )
        for item in raw
    ]


__all__ = ["RETURN_NAME", "check_cin_census"]
