"""The engine refuses a badly declared table at import, and offers only what a role may do."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from app.cases.workflow import ASSESSMENT, CASE_MACHINE, CIN_PLAN, CLOSED, CONTACT, CP_PLAN
from app.errors import Conflict
from app.models import Role
from app.workflow.engine import StateMachine, Transition, allowed_events, apply
from tests.cases.factories import Cast, event_count, open_case, principal

ANYONE = frozenset(Role)


def _machine(*transitions: Transition, states: tuple[str, ...] = ("a", "b")) -> StateMachine:
    return StateMachine(
        name="toy", subject_type="toy", initial="a", states=states, transitions=transitions
    )


def test_a_table_naming_an_undeclared_state_is_refused_when_declared() -> None:
    with pytest.raises(ValueError, match="'c' undeclared"):
        _machine(Transition("a", "go", "c", ANYONE, "to nowhere"))


def test_a_table_with_two_rows_for_one_state_and_event_is_refused() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        _machine(
            Transition("a", "go", "b", ANYONE, "one way"),
            Transition("a", "go", "a", ANYONE, "or another"),
        )


def test_a_table_whose_initial_state_is_undeclared_or_with_no_role_is_refused() -> None:
    with pytest.raises(ValueError, match="initial state"):
        _machine(states=("b",))
    with pytest.raises(ValueError, match="allows no role"):
        _machine(Transition("a", "go", "b", frozenset(), "nobody"))


def test_a_well_formed_table_knows_its_events_and_final_states() -> None:
    machine = _machine(Transition("a", "go", "b", ANYONE, "onwards"))
    assert machine.events == ("go",)
    assert machine.final_states == ("b",)
    assert machine.transition("a", "go") is not None
    assert machine.transition("b", "go") is None


@pytest.mark.parametrize(
    ("state", "role", "events"),
    [
        (CONTACT, Role.mash_officer, ["accept_referral", "nfa_contact", "close"]),
        (CONTACT, Role.iro, []),
        (ASSESSMENT, Role.mash_officer, []),  # once with a social work team, that team decides
        (
            ASSESSMENT,
            Role.social_worker,
            ["start_strategy", "start_cin_plan", "become_looked_after"],
        ),
        (
            ASSESSMENT,
            Role.team_manager,
            ["start_strategy", "start_cin_plan", "become_looked_after", "close"],
        ),
        (CIN_PLAN, Role.social_worker, ["start_strategy", "become_looked_after"]),
        (CP_PLAN, Role.social_worker, ["start_cin_plan", "become_looked_after"]),
        (CP_PLAN, Role.team_manager, ["start_cin_plan", "become_looked_after", "close"]),
        (CLOSED, Role.service_manager, []),
    ],
)
def test_allowed_events_offers_a_role_only_what_it_may_take(
    state: str, role: Role, events: list[str]
) -> None:
    assert [t.event for t in allowed_events(CASE_MACHINE, state, role)] == events


def test_every_case_transition_is_described() -> None:
    """Descriptions feed the docs and the UI."""
    assert all(len(t.description) > 20 for t in CASE_MACHINE.transitions)


def test_a_guard_refusal_is_a_conflict_and_writes_nothing(db: Session, cast: Cast) -> None:
    """A guard that judges the records (not the input) refuses with 409; hooks never run."""
    ran: list[str] = []
    machine = StateMachine(
        name="toy",
        subject_type="case",
        initial="contact",
        states=("contact", "closed"),
        transitions=(
            Transition(
                "contact",
                "shut",
                "closed",
                ANYONE,
                "Refused while the moon is full",
                guard=lambda ctx: "The moon is full.",
            ),
        ),
        on_transition=(lambda ctx: ran.append(ctx.event),),
    )
    case = open_case(db, by=cast.manager, child=cast.child, team=cast.team)
    with pytest.raises(Conflict, match="moon") as refused:
        apply(
            db,
            machine=machine,
            record=case,
            event="shut",
            actor=principal(db, cast.manager),
            expected_version=1,
            case_id=case.id,
            child_id=case.child_id,
        )
    assert refused.value.code == "transition_refused"
    assert (case.state, case.version, event_count(db, case), ran) == ("contact", 1, 1, [])


def test_hooks_see_the_new_state_and_the_event_written(db: Session, cast: Cast) -> None:
    seen: list[tuple[str | None, str, int]] = []
    machine = StateMachine(
        name="toy",
        subject_type="case",
        initial="contact",
        states=("contact", "closed"),
        transitions=(Transition("contact", "shut", "closed", ANYONE, "Shut it"),),
        on_transition=(
            lambda ctx: seen.append((ctx.from_state, ctx.to_state, ctx.case_event.seq)),
        ),
    )
    case = open_case(db, by=cast.manager, child=cast.child, team=cast.team)
    written = apply(
        db,
        machine=machine,
        record=case,
        event="shut",
        actor=principal(db, cast.manager),
        expected_version=1,
        case_id=case.id,
        child_id=case.child_id,
    )
    assert seen == [("contact", "closed", 2)]
    assert (written.from_state, written.to_state, case.version) == ("contact", "closed", 2)
