"""The DfE's SSDA903 rules (``csc-validator-be-903``) run on a return Casework generated.

The tables are written to a temporary directory and handed to ``run_903.py`` under the
validators' own interpreter; each flagged row comes back as a :class:`ValidationFailure` naming
the rule, its message, the child, the table and the fields — the data-quality worklist.

Which rules: the validator keeps one ruleset per collection year (``lac2022_23`` …), each the
previous year's plus that year's changes. The year's own ruleset is used when installed, else the
newest installed one before it (a return for a year the installed validator does not know yet is
checked against the latest rules there are).

Errors and queries: ``lac_validator`` itself does not grade its rules — every flagged row is
reported alike, and the DfE portal's grading is not in the package. Casework reports each flagged
row as an ``error``, except the rules whose message the validator itself marks as a warning
(``WARNING: …``) and the rules it could not run on the data (``crashed``), which are ``query``:
something to look at, not something the return is refused for.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from app.config import Settings
from app.core_types import ENGLISH_LA_NAMES
from app.returns.common import CollectionYear, ValidationFailure
from app.returns.validators import run_validator_script, validators_python

RETURN_NAME = "ssda903"
#: Rulesets the validator package has had: 2022-23 (the base) onwards.
FIRST_RULESET_YEAR = 2023


def ruleset_for(year: int, settings: Settings) -> str:
    """The newest ruleset installed for a year up to ``year`` (``lac2025_26`` for 2026)."""
    python = validators_python(settings)
    rules = [
        p.name
        for p in python.parent.parent.glob("lib/python3*/site-packages/lac_validator/rules/lac*")
        if p.is_dir()
    ]
    installed = sorted(int(name[3:7]) + 1 for name in rules if len(name) == 10)
    usable = [y for y in installed if y <= year]
    if not usable:
        raise ValueError(
            f"The installed SSDA903 validator has no rules for {CollectionYear(year).label} or "
            f"earlier (it has {', '.join(CollectionYear(y).label for y in installed) or 'none'})."
        )
    chosen = usable[-1]
    return f"lac{chosen - 1}_{chosen % 100:02d}"


def la_name(settings: Settings) -> str:
    """The council's name as the DfE lists it, for the validator's area lookup of placement
    postcodes (rules comparing a placement's authority with the council's)."""
    try:
        return ENGLISH_LA_NAMES[settings.la_code]
    except KeyError:
        raise ValueError(f"LA code {settings.la_code} is not a DfE local authority code.") from None


def _severity(message: str) -> str:
    return "query" if message.strip().upper().startswith("WARNING") else "error"


def check_ssda903(
    tables: dict[str, str],
    *,
    year: int,
    settings: Settings,
    previous: dict[str, str] | None = None,
) -> list[ValidationFailure]:
    """Every failure the DfE validator finds in ``tables`` (file name → CSV text, as
    :func:`app.returns.ssda903.build_ssda903` makes them), ordered by child, rule and table.

    ``previous`` is last year's return, when there is one: the rules comparing two years (502,
    503A-J, ...) run only with it. Raises ``ValidatorsMissing`` when the validators are not
    installed."""
    ruleset = ruleset_for(year, settings)
    with tempfile.TemporaryDirectory(prefix="ssda903-") as tmp:
        this_year = Path(tmp) / "this"
        this_year.mkdir()
        for name, text in tables.items():
            (this_year / name).write_text(text, encoding="utf-8", newline="")
        args = [str(this_year), "--year", str(year), "--ruleset", ruleset]
        args += ["--la-name", la_name(settings)]
        if previous is not None:
            last_year = Path(tmp) / "previous"
            last_year.mkdir()
            for name, text in previous.items():
                (last_year / name).write_text(text, encoding="utf-8", newline="")
            args += ["--previous", str(last_year)]
        result: dict[str, Any] = run_validator_script("run_903.py", args, settings=settings)

    failures = [
        ValidationFailure(
            return_name=RETURN_NAME,
            rule=str(f["rule"]),
            message=str(f["message"]),
            severity=_severity(str(f["message"])),
            child=f["child"],
            table=str(f["table"]),
            fields=tuple(str(x) for x in f["fields"]),
        )
        for f in result["failures"]
        if not str(f["table"]).endswith("_last")  # last year's rows are last year's worklist
    ]
    failures += [
        ValidationFailure(
            return_name=RETURN_NAME,
            rule=str(c["rule"]),
            message=f"The validator could not run this rule on the return ({c['error']}): "
            f"{c['message']}",
            severity="query",
        )
        for c in result["crashed"]
    ]
    return sorted(failures, key=lambda f: (f.child or "", f.rule, f.table or ""))
