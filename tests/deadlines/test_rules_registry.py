"""Every kind of deadline has a rule that names its number and source."""

from __future__ import annotations

from app.deadlines.rules import all_rules
from app.models.deadlines import DeadlineKind


def test_every_deadline_kind_has_its_rule_with_a_source() -> None:
    rules = all_rules()
    assert set(rules) == set(DeadlineKind)
    for kind, rule in rules.items():
        assert rule.kind is kind
        assert rule.rule_id.startswith("TS")
        assert "rule" in rule.source
        assert rule.description
