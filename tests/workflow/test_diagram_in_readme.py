"""README.md shows the workflow diagrams exactly as ``casework workflow diagram`` prints them."""

from __future__ import annotations

from pathlib import Path

from app.workflow.diagram import BEGIN_MARKER, END_MARKER, render_all

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_diagrams_match_the_transition_tables() -> None:
    assert README.exists(), "README.md is missing (the lead writes it; see its workflow section)"
    text = README.read_text(encoding="utf-8")
    assert BEGIN_MARKER in text, f"README.md needs {BEGIN_MARKER} … {END_MARKER}"
    assert END_MARKER in text
    embedded = text.split(BEGIN_MARKER, 1)[1].split(END_MARKER, 1)[0]
    assert embedded.strip() == render_all().strip(), (
        "README.md's workflow diagrams are stale: paste the output of `casework workflow diagram` "
        "between the markers"
    )
