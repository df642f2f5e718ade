"""Run the DfE CIN census rules (``cin_validator``) on one return and print the failures as JSON.

Runs under the validators' own interpreter (``.validators/bin/python``), never inside the service:
``python run_cin.py YEAR < census.xml``. Prints a JSON list, one object per (rule, child, table):
``{"rule", "message", "severity", "child", "table", "fields"}``; ``child`` is null for a
return-level failure. A rule that crashes on the data is reported as a return-level query of its
own (``crashed: true``): a rule that did not run has not passed, so a person must look, but it is
not an error found in the data (the same as the SSDA903 check).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import pkgutil
import re
import sys
import xml.etree.ElementTree as ET
from typing import Any


def ruleset_for(year: int) -> str:
    """The newest ruleset the installed validator has for a census ``year`` or earlier.

    Rulesets are named by collection year (``cin2025_26`` is the census ending 31 March 2026);
    the validator carries earlier years' rules forward, so the newest one not after ``year`` is
    the DfE's specification for that census. With csc-validator-be-cin 0.1.13 installed here:
    2026 -> ``cin2025_26``, 2027 -> ``cin2026_27``; before 2023, ``cin2022_23``."""
    import cin_validator.rules as rules  # type: ignore[import-not-found]

    available = sorted(
        int(m.name[3:7]) + 1
        for m in pkgutil.iter_modules(rules.__path__)
        if re.fullmatch(r"cin\d{4}_\d{2}", m.name)
    )
    if not available:
        raise SystemExit("the installed cin_validator has no rulesets")
    usable = [y for y in available if y <= year]
    # A census older than every ruleset (a migrated historical return) is checked against the
    # oldest rules there are: the nearest specification the validator still knows.
    chosen = usable[-1] if usable else available[0]
    return f"cin{chosen - 1}_{chosen % 100:02d}"


def _value(item: Any) -> str | None:
    if item is None:
        return None
    text = str(item)
    return None if text in ("", "nan", "<NA>", "None") else text


def validate(xml: bytes, year: int) -> list[dict[str, Any]]:
    from cin_validator import cin_validator
    from cin_validator.rule_engine import RuleType  # type: ignore[import-not-found]

    module = importlib.import_module(f"cin_validator.rules.{ruleset_for(year)}")
    registry = module.registry
    severity = {
        str(rule.code): ("query" if rule.rule_type == RuleType.QUERY else "error")
        for _, rule in registry.items()
    }
    messages = {str(rule.code): str(rule.message or "") for _, rule in registry.items()}

    root = ET.fromstring(xml)  # noqa: S314 - our own return  # nosec B314
    noise = io.StringIO()
    # The validator prints "Error with rule X: ..." on stdout when a rule crashes; stdout is ours.
    with contextlib.redirect_stdout(noise):
        data = cin_validator.process_data(cin_validator.convert_data(root))
        checked = cin_validator.CinValidator(data, registry)

    grouped: dict[tuple[str, str | None, str | None], set[str]] = {}
    issues = checked.full_issue_df
    for row in issues.to_dict("records"):
        rule = str(row.get("rule_code"))
        key = (rule, _value(row.get("child_id")), _value(row.get("tables_affected")))
        fields = grouped.setdefault(key, set())
        column = _value(row.get("columns_affected"))
        if column:
            fields.add(column)
    for row in checked.multichild_issues.to_dict("records"):
        grouped.setdefault((str(row.get("rule_code")), None, None), set())

    failures = [
        {
            "rule": rule,
            "message": messages.get(rule, ""),
            "severity": severity.get(rule, "error"),
            "child": child,
            "table": table,
            "fields": sorted(fields),
            "crashed": False,
        }
        for (rule, child, table), fields in sorted(
            grouped.items(), key=lambda kv: (kv[0][0], kv[0][1] or "", kv[0][2] or "")
        )
    ]
    for line in noise.getvalue().splitlines():
        crashed = re.match(r"Error with rule (\S+): (.*)", line)
        if crashed:
            rule = crashed.group(1)
            failures.append(
                {
                    "rule": rule,
                    "message": f"The validator's rule {rule} could not run on this return: "
                    f"{crashed.group(2)}",
                    "severity": "query",
                    "child": None,
                    "table": None,
                    "fields": [],
                    "crashed": True,
                }
            )
        elif line.strip():
            print(line, file=sys.stderr)  # the validator's own chatter, kept off our stdout
    return failures


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: run_cin.py YEAR < census.xml", file=sys.stderr)
        return 2
    failures = validate(sys.stdin.buffer.read(), int(argv[1]))
    json.dump(failures, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
