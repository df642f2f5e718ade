"""A real race: eight workers press the same button on the same version at the same moment."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app import migrate
from app.cases import service as case_service
from app.db import make_engine, make_session_factory
from app.errors import PreconditionFailed
from app.models import Case, CaseEvent
from tests.cases.factories import make_cast, open_case, principal
from tests.conftest import fresh_database_url

THREADS = 8


def test_eight_simultaneous_referral_decisions_on_one_version_let_exactly_one_win(
    tmp_path: Path,
) -> None:
    engine = make_engine(fresh_database_url(tmp_path, "case_race"))
    try:
        migrate.upgrade(engine)
        factory = make_session_factory(engine)
        with factory() as setup:
            cast = make_cast(setup)
            case = open_case(setup, by=cast.manager, child=cast.child, team=cast.team)
            actor = principal(setup, cast.manager)
            case_id = case.id
            setup.commit()

        start = threading.Barrier(THREADS)
        outcomes: list[str] = []
        lock = threading.Lock()

        def press(_n: int) -> None:
            start.wait()
            session: Session = factory()
            try:
                case_service.case_transition(
                    session,
                    actor=actor,
                    case_id=case_id,
                    event="accept_referral",
                    expected_version=1,
                )
                session.commit()
                outcome = "won"
            except (PreconditionFailed, StaleDataError, IntegrityError) as exc:
                session.rollback()
                outcome = type(exc).__name__
            except OperationalError as exc:  # would be a failure: say what it was
                session.rollback()
                outcome = f"operational: {exc.orig!r}"
            finally:
                session.close()
            with lock:
                outcomes.append(outcome)

        threads = [threading.Thread(target=press, args=(n,)) for n in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)

        assert len(outcomes) == THREADS
        assert outcomes.count("won") == 1, outcomes
        assert all(
            o in ("won", "PreconditionFailed", "StaleDataError", "IntegrityError") for o in outcomes
        ), outcomes
        with factory() as check:
            stored = check.get(Case, case_id)
            assert stored is not None
            assert (stored.state, stored.version) == ("referral", 2)
            events = check.scalar(
                select(func.count()).where(
                    CaseEvent.case_id == case_id, CaseEvent.action == "accept_referral"
                )
            )
            assert events == 1
            assert (
                check.scalar(select(func.max(CaseEvent.seq)).where(CaseEvent.case_id == case_id))
                == 2
            )
    finally:
        engine.dispose()
