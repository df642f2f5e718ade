"""The working-day calendar, told as the rules in timescales.md ("Counting") apply to real dates."""

from __future__ import annotations

import calendar as stdlib_calendar
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.calendar import (
    LONDON,
    add_months,
    add_working_days,
    add_working_hours,
    is_bank_holiday,
    is_weekend,
    is_working_day,
    next_working_day,
    previous_working_day,
    working_days_between,
)

PROPERTY = settings(max_examples=200, deadline=None)
any_date = st.dates(min_value=date(2015, 1, 1), max_value=date(2035, 12, 31))
any_count = st.integers(min_value=0, max_value=400)
any_positive_count = st.integers(min_value=1, max_value=400)


def london(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def count_day_by_day(start: date, n: int) -> date:
    """The rule read literally: step a day at a time, counting only working days."""
    step = timedelta(days=1 if n > 0 else -1)
    day, left = start, abs(n)
    while left:
        day += step
        if is_working_day(day):
            left -= 1
    return day


# --- Which days are working days -----------------------------------------------------------


@pytest.mark.parametrize(
    "holiday",
    [
        date(2025, 12, 25),  # Christmas Day, Thursday
        date(2025, 12, 26),  # Boxing Day, Friday
        date(2026, 12, 25),  # Christmas Day, Friday
        date(2026, 12, 28),  # Monday, substitute for Boxing Day on Saturday
        date(2026, 4, 3),  # Good Friday 2026
        date(2026, 4, 6),  # Easter Monday 2026
        date(2022, 9, 19),  # State funeral of Queen Elizabeth II
        date(2023, 5, 8),  # Coronation of King Charles III
        date(2022, 6, 2),  # Spring bank holiday, moved for the platinum jubilee
        date(2022, 6, 3),  # Platinum jubilee bank holiday
        date(2022, 12, 27),  # Tuesday, substitute for Christmas Day on Sunday
    ],
)
def test_england_bank_holidays_are_not_working_days(holiday: date) -> None:
    assert is_bank_holiday(holiday)
    assert not is_working_day(holiday)


def test_the_last_monday_of_may_2022_was_a_working_day_because_the_jubilee_moved_it() -> None:
    assert not is_bank_holiday(date(2022, 5, 30))
    assert is_working_day(date(2022, 5, 30))


def test_boxing_day_2026_on_a_saturday_is_off_but_its_substitute_monday_is_the_lost_day() -> None:
    assert is_weekend(date(2026, 12, 26))
    assert not is_working_day(date(2026, 12, 26))
    assert not is_working_day(date(2026, 12, 28))
    assert is_working_day(date(2026, 12, 29))


def test_saturday_and_sunday_are_the_weekend_and_never_working_days() -> None:
    assert is_weekend(date(2026, 1, 10))
    assert is_weekend(date(2026, 1, 11))
    assert not is_weekend(date(2026, 1, 12))
    assert not is_working_day(date(2026, 1, 10))
    assert is_working_day(date(2026, 1, 12))


def test_next_working_day_is_on_or_after_and_previous_working_day_on_or_before() -> None:
    assert next_working_day(date(2026, 1, 13)) == date(2026, 1, 13)
    assert previous_working_day(date(2026, 1, 13)) == date(2026, 1, 13)
    assert next_working_day(date(2025, 12, 25)) == date(2025, 12, 29)
    assert previous_working_day(date(2025, 12, 28)) == date(2025, 12, 24)
    assert next_working_day(date(2026, 4, 3)) == date(2026, 4, 7)


# --- "Within N working days of X": X is day 0 ---------------------------------------------


def test_a_referral_on_christmas_eve_2025_is_decided_by_monday_29_december() -> None:
    # Thursday 25 and Friday 26 December are bank holidays, then the weekend.
    assert add_working_days(date(2025, 12, 24), 1) == date(2025, 12, 29)


def test_a_referral_on_christmas_eve_2026_is_decided_by_tuesday_29_december() -> None:
    # Friday 25, the weekend, and Monday 28 (Boxing Day's substitute) are not working days.
    assert add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 29)


def test_a_referral_on_the_thursday_before_easter_2026_is_decided_by_easter_tuesday() -> None:
    assert add_working_days(date(2026, 4, 2), 1) == date(2026, 4, 7)


def test_a_referral_before_the_queens_funeral_is_decided_on_the_tuesday_after() -> None:
    assert add_working_days(date(2022, 9, 16), 1) == date(2022, 9, 20)


def test_a_referral_before_the_coronation_is_decided_on_the_tuesday_after() -> None:
    assert add_working_days(date(2023, 5, 5), 1) == date(2023, 5, 9)


def test_a_referral_the_day_before_the_platinum_jubilee_is_decided_the_next_monday() -> None:
    assert add_working_days(date(2022, 6, 1), 1) == date(2022, 6, 6)


def test_a_referral_on_a_saturday_counts_the_saturday_as_day_0() -> None:
    assert add_working_days(date(2026, 1, 10), 1) == date(2026, 1, 12)
    assert add_working_days(date(2026, 1, 10), 0) == date(2026, 1, 10)
    assert working_days_between(date(2026, 1, 10), date(2026, 1, 12)) == 1


def test_a_referral_on_a_bank_holiday_counts_the_holiday_as_day_0() -> None:
    assert add_working_days(date(2026, 5, 25), 1) == date(2026, 5, 26)
    # Good Friday is day 0 and Easter Monday does not count.
    assert add_working_days(date(2026, 4, 3), 1) == date(2026, 4, 7)


def test_an_assessment_of_a_referral_on_5_january_2026_is_due_in_45_working_days() -> None:
    # No bank holidays between: nine whole weeks.
    assert add_working_days(date(2026, 1, 5), 45) == date(2026, 3, 9)


def test_an_assessment_over_easter_and_may_day_2026_gains_three_days() -> None:
    # 45 weekdays from Monday 2 March end on Monday 4 May (May Day); Good Friday, Easter Monday
    # and May Day do not count, so the assessment is due on Thursday 7 May.
    assert add_working_days(date(2026, 3, 2), 45) == date(2026, 5, 7)


def test_an_icpc_15_working_days_after_a_strategy_discussion_before_christmas_2025() -> None:
    # 25, 26 December and 1 January are bank holidays.
    assert add_working_days(date(2025, 12, 12), 15) == date(2026, 1, 7)


def test_a_first_cla_review_20_working_days_after_1_december_2025_is_on_new_years_eve() -> None:
    assert add_working_days(date(2025, 12, 1), 20) == date(2025, 12, 31)


def test_an_event_on_the_due_date_meets_the_timescale_and_the_day_after_misses_it() -> None:
    referral = date(2025, 12, 24)
    assert working_days_between(referral, date(2025, 12, 29)) <= 1
    assert working_days_between(referral, date(2025, 12, 30)) > 1


def test_counting_backwards_gives_the_nth_working_day_before() -> None:
    assert add_working_days(date(2025, 12, 29), -1) == date(2025, 12, 24)
    assert add_working_days(date(2026, 4, 7), -1) == date(2026, 4, 2)
    assert add_working_days(date(2026, 1, 10), -1) == date(2026, 1, 9)  # from a Saturday


def test_working_days_between_counts_the_end_but_not_the_start() -> None:
    assert working_days_between(date(2026, 1, 12), date(2026, 1, 12)) == 0
    assert working_days_between(date(2026, 1, 12), date(2026, 1, 13)) == 1
    assert working_days_between(date(2025, 12, 24), date(2025, 12, 28)) == 0
    assert working_days_between(date(2026, 1, 13), date(2026, 1, 12)) == -1


# --- "Within N months": calendar months, clamped ------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 8, 31), 6, date(2026, 2, 28)),
        (date(2027, 8, 31), 6, date(2028, 2, 29)),
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 1, 15), 3, date(2026, 4, 15)),
        (date(2025, 11, 30), 3, date(2026, 2, 28)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 1, 15), -3, date(2025, 10, 15)),
        (date(2026, 5, 31), -6, date(2025, 11, 30)),
        (date(2026, 5, 31), 0, date(2026, 5, 31)),
    ],
)
def test_months_are_calendar_months_clamped_to_the_end_of_the_month(
    start: date, months: int, expected: date
) -> None:
    assert add_months(start, months) == expected


# --- MASH "red: 4 working hours" -----------------------------------------------------------


def test_a_red_contact_at_3pm_on_a_friday_is_due_at_11am_on_monday() -> None:
    assert add_working_hours(london(2026, 1, 16, 15), 4) == london(2026, 1, 19, 11)


def test_a_red_contact_at_8pm_counts_from_9am_the_next_working_day() -> None:
    assert add_working_hours(london(2026, 1, 13, 20), 4) == london(2026, 1, 14, 13)


def test_a_red_contact_before_opening_counts_from_9am_the_same_day() -> None:
    assert add_working_hours(london(2026, 1, 13, 7, 30), 4) == london(2026, 1, 13, 13)


def test_a_red_contact_at_1pm_is_due_at_5pm_the_same_day() -> None:
    assert add_working_hours(london(2026, 1, 13, 13), 4) == london(2026, 1, 13, 17)


def test_a_red_contact_on_a_saturday_counts_from_9am_on_monday() -> None:
    assert add_working_hours(london(2026, 1, 10, 12), 4) == london(2026, 1, 12, 13)


def test_a_red_contact_before_easter_2026_skips_good_friday_and_easter_monday() -> None:
    assert add_working_hours(london(2026, 4, 2, 16), 4) == london(2026, 4, 7, 12)


def test_a_red_contact_across_the_spring_clock_change_counts_london_working_hours() -> None:
    # Friday 27 March 2026 15:00 GMT; clocks go forward on Sunday 29 March.
    start = datetime(2026, 3, 27, 15, tzinfo=UTC)
    due = add_working_hours(start, 4)
    assert due == datetime(2026, 3, 30, 10, tzinfo=UTC)
    assert due.tzinfo is UTC
    assert due.astimezone(LONDON).time() == time(11)


def test_a_red_contact_across_the_autumn_clock_change_counts_london_working_hours() -> None:
    # Friday 23 October 2026 15:00 BST (14:00 UTC); clocks go back on Sunday 25 October.
    due = add_working_hours(datetime(2026, 10, 23, 14, tzinfo=UTC), 4)
    assert due == datetime(2026, 10, 26, 11, tzinfo=UTC)


def test_working_hours_can_be_set_for_a_service_with_other_opening_times() -> None:
    due = add_working_hours(london(2026, 1, 16, 16), 4, day_start=time(8), day_end=time(18))
    assert due == london(2026, 1, 19, 10)


def test_a_contact_time_without_a_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        add_working_hours(datetime(2026, 1, 16, 15), 4)


# --- Properties for any date ---------------------------------------------------------------


@PROPERTY
@given(x=any_date, n=any_count)
def test_counting_n_working_days_agrees_with_counting_day_by_day(x: date, n: int) -> None:
    assert add_working_days(x, n) == count_day_by_day(x, n)
    assert add_working_days(x, -n) == count_day_by_day(x, -n)


@PROPERTY
@given(x=any_date, n=any_positive_count)
def test_a_deadline_of_one_or_more_working_days_falls_on_a_working_day(x: date, n: int) -> None:
    assert is_working_day(add_working_days(x, n))
    assert is_working_day(add_working_days(x, -n))


@PROPERTY
@given(x=any_date, n=any_count)
def test_working_days_between_undoes_add_working_days(x: date, n: int) -> None:
    assert working_days_between(x, add_working_days(x, n)) == n


@PROPERTY
@given(x=any_date, n=any_count, m=any_count)
def test_a_longer_timescale_never_ends_earlier(x: date, n: int, m: int) -> None:
    low, high = sorted((n, m))
    assert add_working_days(x, low) <= add_working_days(x, high)


@PROPERTY
@given(x=any_date, n=any_count)
def test_one_more_working_day_is_always_a_later_date(x: date, n: int) -> None:
    assert add_working_days(x, n + 1) > add_working_days(x, n)
    assert add_working_days(x, -(n + 1)) < add_working_days(x, -n)


@PROPERTY
@given(x=any_date, n=any_positive_count)
def test_counting_back_undoes_counting_forward_to_the_nearest_working_day(x: date, n: int) -> None:
    assert add_working_days(add_working_days(x, n), -n) == previous_working_day(x)
    assert add_working_days(add_working_days(x, -n), n) == next_working_day(x)


@PROPERTY
@given(x=any_date, n=any_positive_count)
def test_from_a_working_day_counting_back_is_the_exact_inverse(x: date, n: int) -> None:
    day = next_working_day(x)
    assert add_working_days(add_working_days(day, n), -n) == day
    assert add_working_days(add_working_days(day, -n), n) == day
    assert working_days_between(add_working_days(day, -n), day) == n


@PROPERTY
@given(a=any_date, b=any_date)
def test_working_days_between_is_antisymmetric(a: date, b: date) -> None:
    assert working_days_between(a, b) == -working_days_between(b, a)


@PROPERTY
@given(d=any_date, months=st.integers(min_value=-240, max_value=240))
def test_adding_months_lands_in_the_right_month_on_the_same_or_last_day(
    d: date, months: int
) -> None:
    result = add_months(d, months)
    assert (result.year * 12 + result.month) - (d.year * 12 + d.month) == months
    last_day = stdlib_calendar.monthrange(result.year, result.month)[1]
    assert result.day <= d.day
    assert result.day == min(d.day, last_day)


@PROPERTY
@given(
    d=any_date,
    a=st.integers(min_value=-120, max_value=120),
    b=st.integers(min_value=-120, max_value=120),
)
def test_adding_months_in_two_steps_matches_one_step_unless_clamped(
    d: date, a: int, b: int
) -> None:
    two_steps = add_months(add_months(d, a), b)
    one_step = add_months(d, a + b)
    assert two_steps <= one_step
    if add_months(d, a).day == d.day:
        assert two_steps == one_step


@PROPERTY
@given(
    start=st.datetimes(
        min_value=datetime(2015, 1, 1),
        max_value=datetime(2035, 12, 31),
        timezones=st.just(UTC),
    ),
    a=st.integers(min_value=1, max_value=60),
    b=st.integers(min_value=1, max_value=60),
)
def test_working_hours_fall_inside_opening_times_and_add_up(
    start: datetime, a: int, b: int
) -> None:
    due = add_working_hours(start, a)
    local = due.astimezone(LONDON)
    assert due > start
    assert is_working_day(local.date())
    assert time(9) < local.time() <= time(17)
    assert add_working_hours(due, b) == add_working_hours(start, a + b)
