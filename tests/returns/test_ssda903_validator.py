"""The demo council's SSDA903 returns, checked by the DfE's own validator (``lac_validator``).

The aim is zero errors and zero child-level queries for the current and the previous collection
year. What the validator flags and the test accepts is sorted two ways, each with its reason:

* ``VALIDATOR_DEFECTS``: rules the installed validator cannot run on CSV returns at all (they
  crash) — return-level, no child named;
* ``VALIDATOR_FALSE_POSITIVES``: child-level flags the validator raises on data that is right,
  each accepted only where the test can show, from the return itself, that the case is the one
  the rule gets wrong;

Anything else fails the test: the demo, the services and the exporter together must give a return
the DfE accepts.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, datetime

import pytest

from app import clock
from app.returns.common import ValidationFailure
from app.returns.ssda903 import build_ssda903
from app.returns.validators.ssda903 import check_ssda903, ruleset_for
from tests.returns.conftest import CURRENT_YEAR, DEMO_DAY, PREVIOUS_YEAR, DemoWorld

Tables = dict[str, str]

#: Rules the installed validator (csc-validator-be-903) raises an exception on for any CSV return.
VALIDATOR_DEFECTS = {
    "231": "reads Header.UASC_STATUS, a column only its XML reader makes (KeyError)",
    "233": "reads Episodes.DATE_EPISODE_CEASED, not a column of the Episodes table (KeyError)",
    "706": "needs last year's DoLo table, which no return before 2026-27 has (KeyError)",
    "709": "reads Episodes.PLACEMENT; the column is PLACE (KeyError)",
    "710": "reads Episodes.PLACEMENT; the column is PLACE (KeyError)",
}


def _rows(tables: Tables, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(tables[name])))


def _day(text: str) -> date | None:
    return datetime.strptime(text, "%d/%m/%Y").date() if text else None


def _left_care_in_the_year(child: str, tables: Tables, previous: Tables | None) -> bool:
    """SW17STG2 wants the latest social worker episode open on 31 March for every child; the
    rule is about children looked after on 31 March. A child whose care ended in the year (last
    episode with a DEC) and whose case then closed rightly has no open episode."""
    episodes = [e for e in _rows(tables, "episodes.csv") if e["CHILD"] == child]
    return bool(episodes) and all(e["DEC"] for e in episodes)


def _sw12_cannot_pass(child: str, tables: Tables, previous: Tables | None) -> bool:
    """SW12STG2 asks for every social worker episode of the year, "even those whilst they were
    not looked after", but as coded flags exactly those: an S episode of a child whose social
    worker episode started before care did, an ending episode of a child with a social worker
    after care ended (a care leaver's), and every open episode whose RNE is not S (it compares
    SW_DECOM with a blank DEC)."""
    workers = [_day(w["SW_DECOM"]) for w in _rows(tables, "sw_episodes.csv") if w["CHILD"] == child]
    starts = [d for d in workers if d is not None]
    for e in _rows(tables, "episodes.csv"):
        if e["CHILD"] != child:
            continue
        decom, dec = _day(e["DECOM"]), _day(e["DEC"])
        if dec is None and e["RNE"] != "S":
            return True
        if e["RNE"] == "S" and decom is not None and any(d < decom for d in starts):
            return True
        if dec is not None and e["REC"] != "X1" and any(d > dec for d in starts):
            return True
    return False


def _left_before_last_year(child: str, tables: Tables, previous: Tables | None) -> bool:
    """1001 and 1002 look for the care leaver's episodes in this and last year's returns only
    (their own note: false positives when care ended before last year's collection)."""
    if previous is None:
        return False
    return all(
        child not in {e["CHILD"] for e in _rows(t, "episodes.csv")} for t in (tables, previous)
    )


def _k3_with_urn(child: str, tables: Tables, previous: Tables | None) -> bool:
    """241 (2025-26) should compare a supported-accommodation (K3) placement's authority with
    the authorities the provider has premises in (Ofsted's URN lookup); as coded it compares it
    with the council's own, so every K3 placement outside the council is flagged."""
    return any(
        e["CHILD"] == child and e["PLACE"] == "K3" and e["URN"]
        for e in _rows(tables, "episodes.csv")
    )


#: Child-level flags on right data, with the test that shows the case is the one the rule gets
#: wrong (the flag is accepted for that child only when the test holds).
VALIDATOR_FALSE_POSITIVES: dict[str, Callable[[str, Tables, Tables | None], bool]] = {
    "SW17STG2": _left_care_in_the_year,
    "SW12STG2": _sw12_cannot_pass,
    "1001": _left_before_last_year,
    "1002": _left_before_last_year,
    "241": _k3_with_urn,
}

#: The demo council (app/demo) breaks no rule: it records previous permanence (630) and
#: motherhood (393) at the start of care, keeps home and placement postcodes apart but for P1
#: (392d), gives every school-age child a UPN (442), an SDQ every year of SDQ age (186, 197B), a
#: leaving-care contact around each birthday from 17 to 21 (131-133), and a registered duty social
#: worker at the front door who holds the case three days or more, with a reason on every change
#: of worker (SW02, SW09, SW13).


@pytest.fixture(scope="module")
def returns(demo_world: DemoWorld, validators_installed: None) -> dict[int, Tables]:
    with clock.frozen_at(DEMO_DAY), demo_world.factory() as session:
        return {
            year: build_ssda903(session, year=year, settings=demo_world.settings)
            for year in (PREVIOUS_YEAR, CURRENT_YEAR)
        }


@pytest.fixture(scope="module")
def verdicts(
    returns: dict[int, Tables], demo_world: DemoWorld
) -> dict[int, list[ValidationFailure]]:
    """Each year checked once: the previous year alone (its own previous return is not in the
    demo), the current year with the previous one, so the rules comparing years run too."""
    settings = demo_world.settings
    return {
        PREVIOUS_YEAR: check_ssda903(returns[PREVIOUS_YEAR], year=PREVIOUS_YEAR, settings=settings),
        CURRENT_YEAR: check_ssda903(
            returns[CURRENT_YEAR],
            year=CURRENT_YEAR,
            settings=settings,
            previous=returns[PREVIOUS_YEAR],
        ),
    }


def _unexplained(
    failures: list[ValidationFailure], tables: Tables, previous: Tables | None
) -> list[ValidationFailure]:
    left = []
    for f in failures:
        if f.child is None and f.rule in VALIDATOR_DEFECTS:
            assert f.severity == "query", f
            continue
        explained = VALIDATOR_FALSE_POSITIVES.get(f.rule)
        if f.child is not None and explained is not None and explained(f.child, tables, previous):
            continue
        left.append(f)
    return left


def _describe(failures: list[ValidationFailure]) -> str:
    return "\n".join(f"{f.rule} {f.severity} {f.table} {f.child}: {f.message}" for f in failures)


@pytest.mark.parametrize("year", [PREVIOUS_YEAR, CURRENT_YEAR])
def test_the_demo_return_has_zero_errors_and_zero_child_level_queries(
    year: int, returns: dict[int, Tables], verdicts: dict[int, list[ValidationFailure]]
) -> None:
    previous = returns[PREVIOUS_YEAR] if year == CURRENT_YEAR else None
    left = _unexplained(verdicts[year], returns[year], previous)
    assert not left, _describe(left)
    # Every return has something in it: the check ran on a real return.
    assert len(_rows(returns[year], "episodes.csv")) > 0


def test_every_known_validator_defect_is_still_one(
    verdicts: dict[int, list[ValidationFailure]],
) -> None:
    # When a new validator release fixes a rule, it leaves this list: the list stays true.
    crashed = {f.rule for fs in verdicts.values() for f in fs if f.child is None}
    assert crashed <= set(VALIDATOR_DEFECTS)
    assert {"231", "233"} <= crashed


def test_a_broken_table_is_flagged_with_the_child_the_rule_and_the_field(
    returns: dict[int, Tables], demo_world: DemoWorld
) -> None:
    tables = dict(returns[PREVIOUS_YEAR])
    header = _rows(tables, "header.csv")
    victim = header[0]["CHILD"]
    lines = tables["header.csv"].splitlines()
    first = lines[1].split(",")
    first[1] = "X"  # SEX must be M, F or U (rule 101)
    tables["header.csv"] = "\n".join([lines[0], ",".join(first), *lines[2:]]) + "\n"

    failures = check_ssda903(tables, year=PREVIOUS_YEAR, settings=demo_world.settings)

    sex = [f for f in failures if f.rule == "101"]
    assert [(f.child, f.table, f.severity) for f in sex] == [(victim, "Header", "error")]
    assert "SEX" in sex[0].fields
    assert sex[0].message


def test_the_ruleset_is_the_newest_installed_for_the_year(
    demo_world: DemoWorld, validators_installed: None
) -> None:
    settings = demo_world.settings
    assert ruleset_for(2026, settings) == "lac2025_26"
    assert ruleset_for(2027, settings) == "lac2026_27"
    assert ruleset_for(2031, settings) == "lac2026_27"  # the latest rules there are
    with pytest.raises(ValueError, match="no rules for 2020-21"):
        ruleset_for(2021, settings)
