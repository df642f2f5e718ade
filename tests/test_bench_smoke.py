"""The page benchmark runs (tiny: ten children, one request per page), so it cannot rot unseen.

The figures themselves come from ``bench/pages_bench.py`` run by hand on a quiet machine
(``bench/README.md``); here only that it runs, that every page answers 200 for its role, and that
it counts queries."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from tests.conftest import BACKEND

BENCH = Path(__file__).resolve().parent.parent / "bench" / "pages_bench.py"


def test_the_pages_benchmark_runs_every_page_for_every_role() -> None:
    spec = importlib.util.spec_from_file_location("pages_bench", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["pages_bench"] = module
    spec.loader.exec_module(module)

    results = module.run(backend=BACKEND, children=10, requests=1, warmup=0)

    assert len(results) >= 20
    assert [r for r in results if r.status != 200] == []
    assert all(r.queries > 0 for r in results)
    assert {r.role for r in results} >= {"social_worker", "team_manager", "iro", "qa_auditor"}
