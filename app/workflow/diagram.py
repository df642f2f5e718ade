"""Transition tables rendered as Mermaid state diagrams, from the same data the engine runs.

``casework workflow diagram`` prints :func:`render_all`; README.md holds the same text between
``<!-- workflow-diagrams:begin -->`` and ``<!-- workflow-diagrams:end -->`` and a test keeps the two
equal, so the documented journey cannot drift from the enforced one.
"""

from __future__ import annotations

from app.workflow.engine import StateMachine
from app.workflow.registry import all_machines

BEGIN_MARKER = "<!-- workflow-diagrams:begin -->"
END_MARKER = "<!-- workflow-diagrams:end -->"


def mermaid(machine: StateMachine) -> str:
    """A ``stateDiagram-v2`` of ``machine``: each edge labelled with its event, roles in notes
    would clutter it, so they stay in the table (and the API's ``allowed_events``)."""
    lines = ["stateDiagram-v2", f"    [*] --> {machine.initial}"]
    for t in machine.transitions:
        marks = []
        if t.requires_reason:
            marks.append("reason")
        marks.extend(t.required_fields)
        suffix = f" ({', '.join(marks)})" if marks else ""
        lines.append(f"    {t.source} --> {t.target}: {t.event}{suffix}")
    lines.extend(f"    {state} --> [*]" for state in machine.final_states)
    return "\n".join(lines) + "\n"


def render_all() -> str:
    """A markdown section: per machine a heading and a fenced ``mermaid`` block."""
    parts = []
    for machine in all_machines():
        title = machine.name.replace("_", " ").capitalize()
        parts.append(
            f"### {title} (`{machine.subject_type}`)\n\n"
            f"Starts in `{machine.initial}`; "
            f"final: {', '.join(f'`{s}`' for s in machine.final_states)}.\n\n"
            f"```mermaid\n{mermaid(machine)}```\n"
        )
    return "\n".join(parts)
