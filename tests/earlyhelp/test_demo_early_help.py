"""The demo's early help: the walk's step-downs carried on through the early help services, a few
children stepped back up, and everything as the services would have recorded it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock, migrate
from app.audit.service import verify_chains
from app.config import Environment, Settings
from app.core_types import ReasonForClosure
from app.db import make_engine, make_session_factory, unit_of_work
from app.demo.cases import load_demo_cases
from app.demo.earlyhelp import STEP_UPS, load_demo_early_help
from app.demo.generator import _Builder, seeded
from app.models import Case, CaseEvent
from app.models.earlyhelp import EarlyHelpEpisode, EarlyHelpMember, EarlyHelpOrigin
from app.models.frontdoor import Contact, ContactChild
from tests.conftest import fresh_database_url

SEED = 2026
CHILDREN = 200
LOAD_AT = datetime(2026, 3, 11, 11, 30, tzinfo=UTC)  # a Wednesday


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Session, int]]:
    """A small demo council walked through its cases, then its early help loaded (once)."""
    url = fresh_database_url(tmp_path_factory.mktemp("demo-eh"), "demo_eh")
    engine = make_engine(url)
    migrate.upgrade(engine)
    settings = Settings(
        environment=Environment.test,
        database_url=url,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
    )
    try:
        with clock.frozen_at(LOAD_AT):
            with unit_of_work(make_session_factory(engine)) as session:
                builder = _Builder(session, seed=SEED, settings=settings, progress=None)
                builder.organisation()
                builder.people(CHILDREN)
                load_demo_cases(session, world=builder.world, rng=seeded(SEED, "cases"))
                touched = load_demo_early_help(
                    session, world=builder.world, rng=seeded(SEED, "early_help")
                )
            with Session(engine) as session:
                yield session, touched
    finally:
        engine.dispose()


def test_the_walks_step_downs_become_episodes_that_move_on_through_the_services(
    demo: tuple[Session, int],
) -> None:
    db, touched = demo
    episodes = list(db.scalars(select(EarlyHelpEpisode)))
    assert touched >= 5, touched
    origins = Counter(e.origin for e in episodes)
    assert origins[EarlyHelpOrigin.contact] > 0
    rc9 = db.scalar(
        select(func.count())
        .select_from(Case)
        .where(Case.closure_reason == ReasonForClosure.CLOSED_AFTER_ASSESSMENT_EARLY_HELP)
    )
    assert origins[EarlyHelpOrigin.assessment] == rc9, (origins, rc9)
    states = Counter(e.state for e in episodes)
    assert {"closed", "stepped_up"} <= set(states), states
    assert states["open"] + states["assessed"] + states["plan"] > 0, states
    assert 1 <= states["stepped_up"] <= max(1, min(STEP_UPS[1], len(episodes) // 4)), states
    for e in episodes:
        if e.assessment_date is not None:
            assert e.team_id is not None
            assert (e.lead_professional_user_id is None) != (e.lead_professional_name is None)
            # Two to four weeks (10-20 working days; a little more across bank holidays).
            assert 14 <= (e.assessment_date - e.start_date).days <= 35, e
        if e.plan_date is not None:
            assert e.assessment_date is not None
            assert e.plan_date >= e.assessment_date
        assert e.end_date is None or e.end_date <= LOAD_AT.date()
    assert (db.scalar(select(func.count()).select_from(EarlyHelpMember)) or 0) > 0


def test_each_step_up_is_a_5d_contact_waiting_in_the_mash_queue_on_a_new_case(
    demo: tuple[Session, int],
) -> None:
    db, _ = demo
    stepped = list(
        db.scalars(select(EarlyHelpEpisode).where(EarlyHelpEpisode.state == "stepped_up"))
    )
    assert stepped
    for episode in stepped:
        case = db.get(Case, episode.step_up_case_id)
        assert case is not None
        assert (case.state, case.child_id) == ("contact", episode.child_id)
        contact = db.scalars(
            select(Contact).join(ContactChild).where(ContactChild.case_id == case.id)
        ).one()
        assert (contact.source.value, contact.state) == ("5D", "open")
        assert contact.decision_due_date >= LOAD_AT.date()  # not overdue on the demo day


def test_the_early_help_events_are_on_the_stepped_down_cases_and_the_chains_verify(
    demo: tuple[Session, int],
) -> None:
    db, _ = demo
    on_origin = db.scalar(
        select(func.count())
        .select_from(CaseEvent)
        .join(EarlyHelpEpisode, EarlyHelpEpisode.origin_case_id == CaseEvent.case_id)
        .where(CaseEvent.action == "early_help_assessed")
    )
    assessed = db.scalar(
        select(func.count())
        .select_from(EarlyHelpEpisode)
        .where(EarlyHelpEpisode.assessment_date.is_not(None))
    )
    assert on_origin == assessed
    assert verify_chains(db) is None
