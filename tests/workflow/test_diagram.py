"""The transition tables render as Mermaid diagrams from the same data the engine runs."""

from __future__ import annotations

from app.cases.workflow import CASE_MACHINE
from app.workflow.diagram import mermaid, render_all


def test_the_case_diagram_has_every_transition_as_a_labelled_edge() -> None:
    text = mermaid(CASE_MACHINE)
    lines = text.splitlines()
    assert lines[0] == "stateDiagram-v2"
    assert "    [*] --> contact" in lines
    assert "    closed --> [*]" in lines
    for t in CASE_MACHINE.transitions:
        assert any(line.startswith(f"    {t.source} --> {t.target}: {t.event}") for line in lines)
    assert len(lines) == 1 + 1 + len(CASE_MACHINE.transitions) + len(CASE_MACHINE.final_states)


def test_render_all_gives_each_machine_a_heading_and_a_mermaid_block() -> None:
    section = render_all()
    assert "### Case (`case`)" in section
    assert f"```mermaid\n{mermaid(CASE_MACHINE)}```" in section
