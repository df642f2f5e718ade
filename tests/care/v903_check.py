"""Run DfE SSDA903 validator rules (csc-validator-be-903) on episodes given as JSON on stdin.

Run with the interpreter of a separate environment where the validator and its old pandas are
installed (never the project's own): ``.validators/bin/python tests/care/v903_check.py``. Prints
``{"failures": {rule: [row, ...]}, "errors": {rule: "exception"}}``. Used by
``test_episodes.py`` only when that environment exists (the whole return is checked by
``app/returns/validators/run_903.py``).
"""

import importlib
import json
import sys

import pandas as pd  # type: ignore[import-untyped, import-not-found, unused-ignore]

#: The rules on episodes that data entered through Casework must pass (newest year's version).
RULES = {
    "142": "lac2022_23",
    "143": "lac2022_23",
    "144": "lac2022_23",
    "145": "lac2022_23",
    "146": "lac2025_26",
    "148": "lac2022_23",
    "149": "lac2022_23",
    "178": "lac2025_26",
    "213": "lac2025_26",
    "218": "lac2025_26",
    "222": "lac2025_26",
    "225": "lac2022_23",
    "226": "lac2025_26",
    "302": "lac2022_23",
    "352": "lac2022_23",
    "355": "lac2022_23",
    "356": "lac2022_23",
    "358": "lac2022_23",
    "366": "lac2022_23",
    "378": "lac2022_23",
    "380": "lac2022_23",
    "381": "lac2022_23",
    "382": "lac2022_23",
    "383": "lac2025_26",
    "384": "lac2022_23",
    "388": "lac2022_23",
    "431": "lac2022_23",
    "432": "lac2022_23",
    "433": "lac2022_23",
    "434": "lac2022_23",
    "435": "lac2022_23",
    "436": "lac2022_23",
    "437": "lac2022_23",
    "501": "lac2022_23",
    "526": "lac2025_26",
    "527": "lac2022_23",
    "528": "lac2022_23",
    "529": "lac2022_23",
    "530": "lac2022_23",
    "531": "lac2022_23",
    "550": "lac2022_23",
    "1015": "lac2025_26",
}


def main() -> None:
    given = json.load(sys.stdin)
    failures: dict[str, list[int]] = {}
    errors: dict[str, str] = {}
    for code, year in RULES.items():
        dfs = {
            "Episodes": pd.DataFrame(given["episodes"]),
            "Header": pd.DataFrame(given["header"]),
            "metadata": dict(given["metadata"]),
        }
        try:
            module = importlib.import_module(f"lac_validator.rules.{year}.rule_{code}")
            result = module.validate(dfs)
        except Exception as exc:  # a rule that cannot run on this data is reported, not hidden
            errors[code] = f"{type(exc).__name__}: {exc}"
            continue
        rows = sorted({int(i) for i in result.get("Episodes", [])})
        if rows:
            failures[code] = rows
    json.dump({"failures": failures, "errors": errors}, sys.stdout)


if __name__ == "__main__":
    main()
