"""The council-scale demo: a data officer loads a Birmingham-sized year to try the returns on.

She needs the same council every time she uses the same seed, a council twice the size when she
asks for twice the children, and records that keep every rule the CIN census and SSDA903
validators check, so the returns built from them are clean. These tests load small councils (a
few hundred children) so they run in seconds on both databases; the bench loads the full size.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from app import clock, migrate
from app.audit.service import verify_chains
from app.care.codes import LegalStatus, PlacementType
from app.cli import app as cli_app
from app.config import Environment, Settings, get_settings
from app.core_types import ReasonForClosure
from app.db import make_engine, make_session_factory, unit_of_work
from app.demo import DemoDataRefused, scale
from app.demo.scale import ScaleSummary, load_scale_data
from app.models import Case, CaseEvent, Person
from app.models.assessments import Assessment
from app.models.care import LegalStatusRecord, PeriodOfCare, Placement
from app.models.cin import CINPlan
from app.models.frontdoor import Contact, Referral
from app.models.iro import CLAReview, ParticipationCode
from app.models.protection import ConferenceKind, CPConference, CPPlan
from tests.conftest import fresh_database_url

DAY = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
FAR = date(9999, 12, 31)


def _settings(url: str) -> Settings:
    return Settings(
        environment=Environment.test,
        database_url=url,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        cookie_secure=False,
    )


@dataclass(frozen=True)
class Council:
    factory: sessionmaker[Session]
    summary: ScaleSummary
    today: date


@pytest.fixture(scope="module")
def council(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Council]:
    """One small council (300 children in need, two years of history) in its own database."""
    url = fresh_database_url(tmp_path_factory.mktemp("scale"), "scale_demo")
    engine: Engine = make_engine(url)
    migrate.upgrade(engine)
    factory = make_session_factory(engine)
    with clock.frozen_at(DAY), unit_of_work(factory) as session:
        summary = load_scale_data(session, seed=11, children=300, years=2, settings=_settings(url))
    try:
        yield Council(factory, summary, DAY.date())
    finally:
        engine.dispose()


@pytest.fixture
def session(council: Council) -> Iterator[Session]:
    with council.factory() as session:
        yield session


def _fingerprint(session: Session) -> tuple[object, ...]:
    """Everything the chain hashes (ids, dates, states, codes) plus the row counts."""
    hashes = sorted(session.scalars(select(CaseEvent.hash)))
    counts = tuple(
        session.scalar(select(func.count()).select_from(model))
        for model in (Case, Contact, Referral, Assessment, CPPlan, CINPlan, PeriodOfCare, Placement)
    )
    return counts, tuple(hashes)


def _load_and_forget(
    db: Session, settings: Settings, *, seed: int, children: int
) -> tuple[ScaleSummary, object]:
    """Load a council inside a savepoint, note what it was, and roll it back."""
    nested = db.begin_nested()
    summary = load_scale_data(db, settings=settings, seed=seed, children=children, years=1)
    fingerprint = _fingerprint(db)
    nested.rollback()
    db.expunge_all()
    return summary, fingerprint


# --------------------------------------------------------------------------------------------------
# reproducible, and the size asked for


def test_the_same_seed_gives_the_same_council_and_another_seed_another(
    db: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with clock.frozen_at(DAY):
        _, first = _load_and_forget(db, settings, seed=3, children=60)
        # Written in many small batches (as a large council is), it is still the same council.
        monkeypatch.setattr(scale, "FLUSH_ROWS", 500)
        _, again = _load_and_forget(db, settings, seed=3, children=60)
        _, other = _load_and_forget(db, settings, seed=4, children=60)
    assert first == again
    assert first != other


def test_four_times_the_children_gives_about_four_times_the_work(
    db: Session, settings: Settings
) -> None:
    with clock.frozen_at(DAY):
        small, _ = _load_and_forget(db, settings, seed=5, children=60)
        large, _ = _load_and_forget(db, settings, seed=5, children=240)
    for measure in ("contacts", "referrals", "assessments", "periods_of_care", "open_cases"):
        ratio = getattr(large, measure) / getattr(small, measure)
        assert 3.0 < ratio < 5.3, (measure, ratio)


def test_a_year_looks_like_a_council_of_that_size(council: Council) -> None:
    """At 300 children in need (f = 1/20 of Birmingham): ~2,250 contacts and ~600 referrals a
    year, 22% re-referrals, ~50 on a CP plan and ~100 in care today."""
    s = council.summary
    year = timedelta(days=365)
    with council.factory() as session:
        contacts = session.scalar(
            select(func.count()).select_from(Contact).where(Contact.received_at >= DAY - year)
        )
        referrals = session.scalar(
            select(func.count())
            .select_from(Referral)
            .where(Referral.referral_date > council.today - year)
        )
    assert contacts is not None
    assert 1800 < contacts < 2700
    assert referrals is not None
    assert 450 < referrals < 750
    assert 0.17 < s.year_re_referrals / s.year_referrals < 0.27
    assert 30 <= s.on_cp_plan <= 75
    assert 70 <= s.in_care <= 130
    assert 200 <= s.open_cases <= 420


def test_demo_data_at_scale_is_refused_in_production(db: Session) -> None:
    production = Settings(
        environment=Environment.production,
        database_url="postgresql+psycopg://x@localhost/x",
        secret_key="production-secret-key-that-is-long-enough-0123456789",
    )
    with pytest.raises(DemoDataRefused, match="refused in production"):
        load_scale_data(db, seed=1, children=60, settings=production)


# --------------------------------------------------------------------------------------------------
# the census rules hold (rule numbers: CIN census validation rules)


def _by_child(
    rows: Sequence[tuple[Any, date, date | None]],
) -> dict[object, list[tuple[date, date]]]:
    spans: dict[object, list[tuple[date, date]]] = defaultdict(list)
    for child, start, end in rows:
        spans[child].append((start, end or FAR))
    return spans


def _overlapping(spans: dict[object, list[tuple[date, date]]]) -> list[object]:
    clashes = []
    for child, periods in spans.items():
        periods.sort()
        for (_, end), (start, _) in itertools.pairwise(periods):
            if start <= end:
                clashes.append(child)
    return clashes


def test_cases_of_a_child_never_overlap_and_one_is_open_at_most(session: Session) -> None:
    # CIN 8815/8816 (one open episode), 8820 (episodes do not overlap).
    rows = session.execute(select(Case.child_id, Case.opened_date, Case.closed_date))
    assert _overlapping(_by_child(rows.all())) == []


def test_cp_plans_never_overlap_and_start_on_the_day_of_the_initial_conference(
    session: Session,
) -> None:
    plans = session.execute(
        select(CPPlan.id, CPPlan.child_id, CPPlan.start_date, CPPlan.end_date)
    ).all()
    assert plans
    assert _overlapping(_by_child([(p.child_id, p.start_date, p.end_date) for p in plans])) == []
    initial = dict(
        session.execute(
            select(CPConference.cp_plan_id, CPConference.conference_date).where(
                CPConference.kind == ConferenceKind.initial, CPConference.cp_plan_id.is_not(None)
            )
        ).all()
    )
    # CIN 2885: the plan starts on the day of its initial conference.
    assert {p.id: p.start_date for p in plans} == initial


def test_no_conference_at_a_weekend_and_reviews_after_the_plan_starts(session: Session) -> None:
    rows = session.execute(
        select(CPConference.kind, CPConference.conference_date, CPPlan.start_date).join(
            CPPlan, CPPlan.id == CPConference.cp_plan_id, isouter=True
        )
    ).all()
    assert rows
    # CIN 8875: no initial conference at a weekend (nor a review one here).
    assert [r for r in rows if r.conference_date.weekday() >= 5] == []
    # CIN 8841: a review falls after the plan start.
    reviews = [r for r in rows if r.kind is ConferenceKind.review]
    assert reviews
    assert all(r.conference_date > r.start_date for r in reviews)


def test_a_cin_plan_never_overlaps_a_cp_plan_nor_another_cin_plan(session: Session) -> None:
    cin = session.execute(select(CINPlan.child_id, CINPlan.start_date, CINPlan.end_date))
    cp = session.execute(select(CPPlan.child_id, CPPlan.start_date, CPPlan.end_date))
    cin_plans, cp_plans = cin.all(), cp.all()
    assert _overlapping(_by_child(cin_plans)) == []  # CIN 4004
    assert _overlapping(_by_child([*cin_plans, *cp_plans])) == []  # CIN 4001, 4016, 4017


def test_nothing_happens_after_a_case_closes(session: Session) -> None:
    # CIN 8565: no activity after the closure date.
    closed: dict[object, date] = {
        case_id: day
        for case_id, day in session.execute(select(Case.id, Case.closed_date))
        if day is not None
    }
    late = [
        (case_id, when)
        for case_id, when in session.execute(select(CaseEvent.case_id, CaseEvent.occurred_at))
        if case_id in closed and when.date() > closed[case_id]
    ]
    assert late == []
    starts = (
        select(Assessment.case_id, Assessment.start_date),
        select(CINPlan.case_id, CINPlan.start_date),
        select(CPPlan.case_id, CPPlan.start_date),
        select(PeriodOfCare.case_id, PeriodOfCare.start_date),
    )
    for query in starts:
        after = [
            case_id
            for case_id, day in session.execute(query)
            if case_id in closed and day > closed[case_id]
        ]
        assert after == []


def test_rc8_and_rc9_close_only_cases_that_had_an_assessment(session: Session) -> None:
    # CIN 8825Q: RC8/RC9 only after an assessment.
    assessed = set(
        session.scalars(select(Assessment.case_id).where(Assessment.state == "authorised"))
    )
    after_assessment = session.scalars(
        select(Case.id).where(
            Case.closure_reason.in_(
                [
                    ReasonForClosure.CLOSED_AFTER_ASSESSMENT_NFA,
                    ReasonForClosure.CLOSED_AFTER_ASSESSMENT_EARLY_HELP,
                ]
            )
        )
    ).all()
    assert after_assessment
    assert set(after_assessment) <= assessed


def test_referrals_come_after_birth_and_re_referrals_name_one_within_the_year(
    session: Session,
) -> None:
    born = dict(session.execute(select(Person.id, Person.date_of_birth)).all())
    referrals = session.execute(
        select(
            Referral.id, Referral.child_id, Referral.referral_date, Referral.previous_referral_id
        )
    ).all()
    when = {r.id: (r.child_id, r.referral_date) for r in referrals}
    for r in referrals:
        dob = born[r.child_id]
        assert dob is not None
        assert dob <= r.referral_date  # CIN 8606
        if r.previous_referral_id is not None:
            child, previous = when[r.previous_referral_id]
            assert child == r.child_id
            assert timedelta(0) < r.referral_date - previous < timedelta(days=365)


# --------------------------------------------------------------------------------------------------
# SSDA903: the histories the episodes are derived from


def test_legal_statuses_and_placements_cover_each_period_without_gaps(session: Session) -> None:
    periods = {p.id: p for p in session.scalars(select(PeriodOfCare))}
    assert periods
    histories = (
        select(
            LegalStatusRecord.period_id, LegalStatusRecord.start_date, LegalStatusRecord.end_date
        ),
        select(Placement.period_id, Placement.start_date, Placement.end_date),
    )
    for history in histories:
        spans: dict[Any, list[tuple[date, date | None]]] = defaultdict(list)
        for period_of, start, end in session.execute(history):
            spans[period_of].append((start, end))
        assert set(spans) == set(periods)
        for period_id, rows in spans.items():
            rows.sort()
            period = periods[period_id]
            assert rows[0][0] == period.start_date
            # The previous one ends the day the next one starts (no gap, no overlap).
            for (_, end), (start, _) in itertools.pairwise(rows):
                assert end == start
            assert rows[-1][1] == period.end_date
    # SSDA903 rule 142: periods of care of a child never overlap.
    rows3 = [(p.child_id, p.start_date, p.end_date) for p in periods.values()]
    assert _overlapping(_by_child(rows3)) == []


def test_the_mix_in_care_follows_the_national_figures(council: Council, session: Session) -> None:
    current = (
        session.execute(
            select(LegalStatusRecord.legal_status).where(LegalStatusRecord.end_date.is_(None))
        )
        .scalars()
        .all()
    )
    places = (
        session.execute(select(Placement.placement_type).where(Placement.end_date.is_(None)))
        .scalars()
        .all()
    )
    assert len(current) == len(places) == council.summary.in_care
    orders = sum(
        s in (LegalStatus.INTERIM_CARE_ORDER, LegalStatus.FULL_CARE_ORDER) for s in current
    )
    foster = sum(p.value.startswith("U") for p in places)
    # CLA 2025: care orders about three quarters, foster care about seven in ten.
    assert 0.5 < orders / len(current) < 0.9
    assert 0.5 < foster / len(places) < 0.9
    assert PlacementType.U6 in places


def test_reviews_record_participation_by_age(session: Session) -> None:
    born = dict(session.execute(select(Person.id, Person.date_of_birth)).all())
    reviews = session.execute(
        select(CLAReview.child_id, CLAReview.review_date, CLAReview.participation)
    ).all()
    assert reviews
    for child_id, held, code in reviews:
        dob = born[child_id]
        assert dob is not None
        under_four = (held.year - dob.year - ((held.month, held.day) < (dob.month, dob.day))) < 4
        # SSDA903 rules 440/441: PN0 for the under-fours and only for them.
        assert (code is ParticipationCode.PN0) == under_four


# --------------------------------------------------------------------------------------------------
# the audit trail


def test_every_case_chronology_verifies(session: Session, council: Council) -> None:
    assert council.summary.case_events > 0
    assert verify_chains(session) is None


# --------------------------------------------------------------------------------------------------
# the command


def test_the_command_loads_a_council_at_scale_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = fresh_database_url(tmp_path, "scale_cli")
    monkeypatch.setenv("CASEWORK_DATABASE_URL", url)
    monkeypatch.setenv("CASEWORK_ENVIRONMENT", "development")
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        assert runner.invoke(cli_app, ["db", "upgrade"]).exit_code == 0
        # The spelling: `--children N --years Y --seed S` is the council-scale generator.
        loaded = runner.invoke(
            cli_app, ["demo-data", "--children", "40", "--years", "1", "--seed", "8"]
        )
        assert loaded.exit_code == 0, loaded.output
        assert "Council-scale demo loaded for" in loaded.output
        assert "demo.dataofficer" in loaded.output  # the sign-in accounts, as for the demo
        again = runner.invoke(cli_app, ["demo-data", "--scale", "--children", "40"])
        assert again.exit_code == 1
        assert "already loaded" in again.output
        assert "Traceback" not in again.output
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
