"""The benchmarks run (tiny: ten or thirty children, a request or a few), so they cannot rot unseen.

The figures themselves come from ``make bench`` (``bench/run.py``) and ``bench/pages_bench.py``
run by hand on a quiet machine (``bench/README.md``); here only that they run, that nothing they
ask for fails, and that they write well-formed results."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from tests.conftest import BACKEND, fresh_database_url

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


def _load_bench_runner() -> Any:
    path = BENCH.parent / "run.py"
    spec = importlib.util.spec_from_file_location("bench_run", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module
    spec.loader.exec_module(module)
    return module


def test_make_bench_runs_every_scenario_on_a_tiny_council_and_writes_its_results(
    tmp_path: Path,
) -> None:
    """``make bench`` in miniature: a council of 30 children in need, two social workers, five
    reads each way, three seconds of mixed load on one uvicorn worker, the CIN census in a fresh
    process and the pages. No timing is asserted (a shared test machine says nothing about
    speed): only that each scenario runs, that nothing failed (the transitions are legal, the
    reads allowed), and that the results, the plot and the summary are written and well formed."""
    runner = _load_bench_runner()
    url = fresh_database_url(tmp_path, "bench_smoke")
    results = tmp_path / "results"

    runner.main(
        [
            "--url", url, "--sizes", "smoke", "--children", "30", "--users", "2",
            "--cases-per-user", "2", "--requests", "5", "--warmup-requests", "1",
            "--workers", "1", "--duration", "3", "--warmup", "3", "--page-requests", "1",
            "--returns", "cin_census", "--results", str(results),
        ]
    )  # fmt: skip

    def result(scenario: str) -> dict[str, Any]:
        files = list(results.glob(f"*-{scenario}-{BACKEND}-smoke.json"))
        assert len(files) == 1, scenario
        data: dict[str, Any] = json.loads(files[0].read_text())
        assert data["scenario"] == scenario
        assert data["machine"]["cpus"] >= 1
        return data

    p1 = result("p1")
    assert p1["child_record_api"]["requests"] == 5
    assert p1["errors"] == 0
    assert p1["api_statements_per_read"] > 0
    if BACKEND == "postgresql":  # the raw baseline is psycopg's
        assert p1["child_record_raw"]["requests"] == 5
        assert p1["p95_ratio"] > 0
    else:
        assert p1["child_record_raw"] is None

    p2 = result("p2")
    assert p2["requests"] > 0
    assert p2["errors"] == 0, p2["statuses"]
    assert set(p2["statuses"]) == {"200"}
    assert 0 < p2["memory"]["peak_vmhwm_mb"] < 2000
    assert p2["p95_ms"] >= p2["p50_ms"] > 0

    p3 = result("p3")
    assert set(p3["returns"]) == {"cin_census"}  # one return is enough to run the method
    assert all(r["seconds"] > 0 and r["bytes"] > 0 for r in p3["returns"].values()), p3

    p4 = result("p4")
    assert p4["errors"] == 0
    assert all(page["queries"] > 0 for page in p4["pages"])

    summary = (results / "README.md").read_text()
    assert runner.SUMMARY_START in summary
    assert runner.SUMMARY_END in summary
    assert "P2 mixed" in summary
    assert (results / "latency-vs-size.svg").read_text().startswith("<svg")
