"""Run the DfE SSDA903 validator (``csc-validator-be-903``, ``lac_validator``) on a return's CSVs.

Runs under the validators' own interpreter (it pins an old pandas), never imported by the service:

    .validators/bin/python run_903.py --year 2026 --ruleset lac2025_26 --la-name Birmingham \
        DIR [--previous DIR]

``DIR`` holds this year's CSV tables (``--previous``: last year's, optional; the rules comparing
two years are skipped without it). Prints one JSON document on stdout::

    {"ruleset": ..., "local_authority": ..., "failures": [{"rule", "message", "table", "row",
     "child", "fields"}], "crashed": [{"rule", "message", "error"}], "skipped": [rule, ...]}

``crashed`` names rules that raised on this data (the validator itself logs and carries on);
``skipped`` those that had no table to run on.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import logging
import re
import sys
from pathlib import Path
from typing import Any


def _local_authority(name: str) -> str:
    """The ONS code of an upper-tier authority (the validator's ``localAuthority``, which it
    compares with the area each placement postcode falls in), found by its name."""
    import qlacref_authorities  # type: ignore[import-not-found, unused-ignore]

    def simple(text: str) -> str:
        # The DfE writes "Bristol, City of" where the ONS has "Bristol, City of" or "Bristol";
        # compare names without punctuation and without "City of" / "County of".
        text = re.sub(r"\b(city|county) of\b", " ", text.lower())
        return " ".join(re.sub(r"[^a-z ]", " ", text).replace(" and ", " ").split())

    wanted = simple(name)
    for record in qlacref_authorities.records:
        if simple(str(record["UTLA21NM"])) == wanted:
            return str(record["UTLA21CD"])
    raise SystemExit(f"no local authority called {name!r} in the validator's reference data")


def _files(directory: Path, description: str) -> list[dict[str, Any]]:
    return [
        {"name": path.name, "description": description, "file_content": path.read_bytes()}
        for path in sorted(directory.glob("*.csv"))
    ]


def _has_children(directory: Path) -> bool:
    """Whether any table of the return has a data row (a header line alone is an empty table)."""
    for path in directory.glob("*.csv"):
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if len(lines) > 1:
            return True
    return False


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("directory", type=Path)
    parser.add_argument("--year", required=True)
    parser.add_argument("--ruleset", required=True)
    parser.add_argument("--la-name", required=True)
    parser.add_argument("--previous", type=Path, default=None)
    args = parser.parse_args()

    if not _has_children(args.directory):
        # A year with no children looked after gives tables with headers only: there is no row for
        # any rule to check, and the validator's reader cannot merge empty Header and UASC tables
        # (pandas: "cannot set a frame with no defined index"). Nothing to report.
        sys.stdout.write(
            json.dumps({"ruleset": args.ruleset, "failures": [], "crashed": [], "skipped": []})
        )
        return

    logging.disable(logging.CRITICAL)  # the validator logs every rule at INFO
    # Some rules print; stdout is ours (one JSON document), so their noise goes to stderr.
    with contextlib.redirect_stdout(sys.stderr):
        from lac_validator.lac_validator import LacValidator  # type: ignore[import-not-found, unused-ignore]

        registry = importlib.import_module(f"lac_validator.rules.{args.ruleset}").registry
        files = _files(args.directory, "This year")
        if args.previous is not None:
            files += _files(args.previous, "Prev year")
        local_authority = _local_authority(args.la_name)
        metadata = {"collectionYear": str(args.year), "localAuthority": local_authority}
        crashed: dict[str, str] = {}

        class _Catch(logging.Handler):
            """The validator logs "Rule code X failed to run!" with the exception: keep both."""

            def emit(self, record: logging.LogRecord) -> None:
                found = re.match(r"Rule code (\S+) failed to run", record.getMessage())
                if found and record.exc_info and record.exc_info[1] is not None:
                    crashed[found.group(1)] = repr(record.exc_info[1])

        logging.disable(logging.NOTSET)
        root = logging.getLogger("lac_validator")
        root.handlers = [_Catch(level=logging.ERROR)]
        root.propagate = False
        validator = LacValidator(metadata=metadata, files=files, registry=registry)

    failures: list[dict[str, Any]] = []
    for table, frame in validator.ds_results.items():
        if table == "metadata":
            continue
        for column in [c for c in frame.columns if str(c).startswith("ERR_")]:
            rule = registry.get(column[4:])
            flagged = frame[frame[column] == True]  # noqa: E712 - a pandas mask
            for row, values in flagged.iterrows():
                child = values.get("CHILD")
                failures.append(
                    {
                        "rule": column[4:],
                        "message": rule.message if rule else "",
                        "table": table,
                        "row": int(row),
                        "child": None if child is None or child != child else str(child),
                        "fields": list(rule.affected_fields or []) if rule else [],
                    }
                )
    crashed_rules = [
        {"rule": code, "message": registry[code].message or "", "error": crashed.get(code, "")}
        for code in validator.fails
    ]
    out = io.StringIO()
    json.dump(
        {
            "ruleset": args.ruleset,
            "local_authority": local_authority,
            "failures": failures,
            "crashed": crashed_rules,
            "skipped": sorted(set(validator.skips)),
        },
        out,
    )
    sys.stdout.write(out.getvalue())


if __name__ == "__main__":
    main()
