"""How long a record is kept: the longest rule that applies wins and is named (rules 39, 40 and
the council's own setting), and nothing is due while a case is open."""

from __future__ import annotations

import uuid
from datetime import date

from app.config import Environment, Settings
from app.retention.rules import RetentionFacts, RetentionRule, add_years, decide

SETTINGS = Settings(
    environment=Environment.test,
    secret_key="test-secret-key-that-is-long-enough-0123456789",
    retention_default_until_age=25,
    retention_default_years_after_closure=7,
)


def _facts(**overrides: object) -> RetentionFacts:
    values: dict[str, object] = {
        "person_id": uuid.uuid4(),
        "born": date(2010, 2, 28),
        "died": None,
        "looked_after": False,
        "adoption_order": None,
        "open_cases": 0,
        "last_closed": date(2020, 5, 1),
    }
    values.update(overrides)
    return RetentionFacts(**values)  # type: ignore[arg-type]


def test_a_child_looked_after_at_any_time_is_kept_to_the_75th_birthday() -> None:
    decision = decide(_facts(looked_after=True), SETTINGS)
    assert (decision.rule, decision.disposal_due) == (
        RetentionRule.looked_after_75th_birthday,
        date(2085, 2, 28),
    )


def test_a_looked_after_child_who_died_young_is_kept_15_years_after_death_or_the_default() -> None:
    died_at_4 = decide(_facts(looked_after=True, died=date(2014, 6, 1)), SETTINGS)
    # 15 years after death (2029) is shorter than the council's default (25th birthday, 2035).
    assert (died_at_4.rule, died_at_4.disposal_due) == (
        RetentionRule.council_default,
        date(2035, 2, 28),
    )
    born_1990 = _facts(
        born=date(1990, 1, 1),
        looked_after=True,
        died=date(2007, 3, 1),
        last_closed=date(2007, 3, 1),
    )
    decision = decide(born_1990, SETTINGS)
    assert (decision.rule, decision.disposal_due) == (
        RetentionRule.looked_after_15_years_after_death,
        date(2022, 3, 1),
    )


def test_an_adoption_order_keeps_the_record_100_years_whatever_else_applies() -> None:
    decision = decide(_facts(looked_after=True, adoption_order=date(2012, 7, 9)), SETTINGS)
    assert (decision.rule, decision.disposal_due) == (
        RetentionRule.adoption_100_years,
        date(2112, 7, 9),
    )


def test_other_records_keep_to_the_later_of_the_25th_birthday_and_7_years_after_closing() -> None:
    young = decide(_facts(), SETTINGS)
    closed_at_20 = decide(_facts(last_closed=date(2030, 9, 1)), SETTINGS)
    assert young.disposal_due == date(2035, 2, 28)
    assert closed_at_20.disposal_due == date(2037, 9, 1)
    assert {young.rule, closed_at_20.rule} == {RetentionRule.council_default}


def test_nothing_is_due_while_a_case_is_open() -> None:
    decision = decide(_facts(looked_after=True, open_cases=1), SETTINGS)
    assert decision.disposal_due is None


def test_a_leap_day_birthday_counts_from_28_february() -> None:
    assert add_years(date(2008, 2, 29), 75) == date(2083, 2, 28)
    assert add_years(date(2008, 2, 29), 4) == date(2012, 2, 29)
