"""The engine is the only code that assigns a record's state (STYLE.md: status changes only through
``workflow.apply()``)."""

from __future__ import annotations

import re
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
ENGINE = APP / "workflow" / "engine.py"
# ``x.state = …``, ``x.state += …`` and ``setattr(x, "state", …)``; not ``==`` and not
# ``request.state.principal = …`` (Starlette's per-request namespace).
ASSIGNMENT = re.compile(r"\.state\s*(?:[-+|&]?=)(?!=)|setattr\([^,]+,\s*['\"]state['\"]")


#: Modules that write a state without the engine, and why each may.
NOT_A_TRANSITION: dict[str, str] = {
    # History loaded from a council's returns is written as the legacy system left it, with one
    # `migrated` event per record group: nothing moves, so there is no transition to apply.
    "returns/imports/cin_census.py": "migration: historical records written as they stand",
    "returns/imports/ssda903.py": "migration: historical records written as they stand",
    # The council-scale generator writes rows and their chained events in bulk, as the services
    # would have (tests/demo/test_scale.py checks the chains and the invariants).
    "demo/scale.py": "bulk demo data, events chained as the engine writes them",
    # A background job's progress (queued, running, succeeded, failed) is not a case record's state.
    "returns/jobs.py": "a return job's progress, not an audited record",
}


def test_no_module_but_the_engine_assigns_a_state() -> None:
    offenders = [
        f"{path.relative_to(APP.parent)}:{number}: {line.strip()}"
        for path in sorted(APP.rglob("*.py"))
        if path != ENGINE and path.relative_to(APP).as_posix() not in NOT_A_TRANSITION
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if ASSIGNMENT.search(line)
    ]
    assert offenders == []


def test_the_check_would_catch_an_assignment() -> None:
    assert ASSIGNMENT.search("    case.state = 'closed'")
    assert ASSIGNMENT.search('setattr(case, "state", "closed")')
    assert not ASSIGNMENT.search("if case.state == 'closed':")
    assert not ASSIGNMENT.search("request.state.principal = principal")
    assert ASSIGNMENT.search("record.state = transition.target", pos=0)
    assert ENGINE.read_text().count(".state = ") == 2  # apply() and start(): nowhere else
