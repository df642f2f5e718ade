"""The CIN census of the demo council passes the DfE's own rules (csc-validator-be-cin).

The demo council is walked through the real services, so a clean census here means the services
and the exporter together produce data the DfE accepts. A return that is deliberately broken is
flagged, which proves the check can fail.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy.orm import Session

from app import clock
from app.config import Settings
from app.returns.cin_census import build_cin_census
from app.returns.common import ValidationFailure
from app.returns.validators.cin import check_cin_census
from tests.returns.conftest import CURRENT_YEAR, DEMO_DAY, PREVIOUS_YEAR, DemoWorld

pytestmark = pytest.mark.usefixtures("validators_installed")

#: Return-level queries that cannot apply to a 300-child demo council, and why. Nothing else may
#: be flagged at return level.
RETURN_LEVEL_QUERIES_THAT_CANNOT_APPLY: dict[str, str] = {
    "2887Q": "fewer than 8 disability codes in the return: a 300-child demo council with a few "
    "dozen children in need a year does not use eight different disability codes",
    "2888Q": "only one disability code per child: the demo records at most one disability per "
    "child, and with a few dozen children in need a year no child has two",
}

#: Child-level queries that measure time up to the ReferenceDate (31 March). In the year still in
#: progress on the demo day (2026-27, demo day 27 November 2026) that date has not come, so work
#: that is open today is flagged although nothing is wrong yet; they are allowed in that year only.
IN_PROGRESS_YEAR_QUERIES: dict[str, str] = {
    "8670Q": "an assessment open today has no authorisation date, and 31 March 2027 is more "
    "than 45 working days after its start",
    "8675Q": "a s47 enquiry open today has no ICPC yet, and 31 March 2027 is more than 15 "
    "working days after its start",
    "8530Q": "an unborn child due before 1 March 2027 is unborn today but will not be on the "
    "ReferenceDate",
}


@pytest.fixture(scope="module")
def demo_failures(demo_world: DemoWorld) -> dict[int, list[ValidationFailure]]:
    """The validator's findings on the demo council's census, for both years (run once)."""
    found: dict[int, list[ValidationFailure]] = {}
    with demo_world.factory() as session, clock.frozen_at(DEMO_DAY):
        for year in (CURRENT_YEAR, PREVIOUS_YEAR):
            xml = build_cin_census(session, year=year, settings=demo_world.settings)
            assert xml.count(b"<Child>") > 20, "the demo council has children in need every year"
            found[year] = check_cin_census(
                xml, year=year, settings=demo_world.settings, session=session
            )
        session.rollback()
    return found


def _allowed(failure: ValidationFailure, year: int) -> bool:
    if failure.child is None:
        return (
            failure.severity == "query" and failure.rule in RETURN_LEVEL_QUERIES_THAT_CANNOT_APPLY
        )
    return (
        year == CURRENT_YEAR
        and failure.severity == "query"
        and failure.rule in IN_PROGRESS_YEAR_QUERIES
    )


def _describe(failures: list[ValidationFailure]) -> str:
    return "\n".join(
        f"{f.severity} {f.rule} child={f.child} {f.table} {list(f.fields)}: {f.message}"
        for f in failures[:60]
    )


@pytest.mark.parametrize("year", [CURRENT_YEAR, PREVIOUS_YEAR])
def test_the_demo_councils_census_has_no_errors_and_no_child_level_queries(
    demo_failures: dict[int, list[ValidationFailure]], year: int
) -> None:
    unexpected = [f for f in demo_failures[year] if not _allowed(f, year)]

    assert unexpected == [], _describe(unexpected)


def test_a_cp_plan_moved_before_its_referral_is_flagged(
    demo_world: DemoWorld, demo_session: Session
) -> None:
    xml = build_cin_census(demo_session, year=PREVIOUS_YEAR, settings=demo_world.settings)
    text = xml.decode()
    first_plan = re.search(r"<CPPstartDate>(\d{4}-\d{2}-\d{2})</CPPstartDate>", text)
    assert first_plan is not None, "the demo council has CP plans in the previous year"
    # Move the first plan's start to 1990, long before its episode's referral: CIN 1105 ("the
    # child protection plan start date cannot be before the referral date") must catch it.
    broken = text.replace(first_plan.group(0), "<CPPstartDate>1990-01-01</CPPstartDate>", 1)

    failures = check_cin_census(
        broken.encode(), year=PREVIOUS_YEAR, settings=demo_world.settings, session=demo_session
    )

    flagged = [f for f in failures if f.rule == "1105"]
    assert flagged, _describe(failures)
    assert {f.severity for f in flagged} == {"error"}
    plan_row = next(f for f in flagged if f.table == "ChildProtectionPlans")
    assert plan_row.fields == ("CPPstartDate",)
    moved_child = re.findall(r"<LAchildID>([^<]+)</LAchildID>", text[: first_plan.start()])[-1]
    assert plan_row.child == moved_child
    assert plan_row.person_id is not None, "the worklist links the child to its record"


#: What the validator says about a census with no children, and why each is not a fault of it.
EMPTY_RETURN_FINDINGS: dict[str, str] = {
    "2886Q": "the validator divides by the number of children to compute a percentage and "
    "cannot run on an empty return (ZeroDivisionError inside csc-validator-be-cin)",
    "2887Q": "fewer than 8 disability codes in the return: there are no children at all",
}


def test_a_year_with_no_children_in_need_passes_every_rule_that_can_run_on_it(
    db: Session, settings: Settings
) -> None:
    # This database has no casework at all (the demo council lives in a database of its own).
    xml = build_cin_census(db, year=PREVIOUS_YEAR, settings=settings)
    assert b"<Child>" not in xml

    failures = check_cin_census(xml, year=PREVIOUS_YEAR, settings=settings)

    assert {f.rule for f in failures} <= set(EMPTY_RETURN_FINDINGS), _describe(failures)
    assert all(f.child is None for f in failures)
