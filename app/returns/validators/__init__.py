"""The DfE's own rules, run on returns Casework generates.

The validators (``csc-validator-be-cin``, ``csc-validator-be-903``, Data to Insight / Social
Finance) pin an old pandas, so they are installed in a separate environment (``make validators``
makes ``.validators/``) and run as a subprocess: a script in this package is handed the return's
files and prints the failures as JSON. The service itself never imports them.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from app.config import ROOT, Settings

DEFAULT_VALIDATORS_PYTHON = ROOT / ".validators" / "bin" / "python"
HERE = Path(__file__).resolve().parent
TIMEOUT_SECONDS = 900


class ValidatorsMissing(Exception):
    """The validators' environment is not installed; the message says how to install it."""


def validators_python(settings: Settings) -> Path:
    """The interpreter of the validators' environment, or ValidatorsMissing saying how to get it."""
    path = Path(settings.validators_python) if settings.validators_python else None
    path = path or DEFAULT_VALIDATORS_PYTHON
    if not path.exists():
        raise ValidatorsMissing(
            f"The DfE validators are not installed ({path} does not exist). Run `make validators` "
            "(a separate environment with csc-validator-be-cin and csc-validator-be-903), or set "
            "CASEWORK_VALIDATORS_PYTHON to the interpreter of an environment that has them."
        )
    return path


def run_validator_script(
    script: str, args: list[str], *, settings: Settings, stdin: bytes | None = None
) -> Any:
    """Run ``script`` (a file in this package) with the validators' interpreter; return its JSON.

    The script must print one JSON document on stdout; anything on stderr is the validator's own
    noise and is shown only when the script fails."""
    python = validators_python(settings)
    done = subprocess.run(  # noqa: S603 - our own script, our own interpreter, no shell
        [str(python), str(HERE / script), *args],
        input=stdin,
        capture_output=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", "replace")[-2000:]
        raise RuntimeError(f"{script} failed with exit code {done.returncode}: {tail}")
    return json.loads(done.stdout)


__all__ = [
    "DEFAULT_VALIDATORS_PYTHON",
    "ValidatorsMissing",
    "run_validator_script",
    "validators_python",
]
