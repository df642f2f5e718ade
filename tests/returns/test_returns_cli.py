"""A council's data officer works from the command line: returns written to files, the DfE's rules
run over them, a clear sentence when something is missing."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.test_cli import Cli


@pytest.fixture
def council(migrated: Cli) -> Cli:
    migrated("demo-data", "--children", "24")
    return migrated


def test_each_return_is_written_where_the_officer_asks(council: Cli, tmp_path: Path) -> None:
    census = tmp_path / "cin.xml"
    said = council("returns", "cin-census", "--year", "2026", "--out", str(census)).output
    assert said.startswith(f"OK: CIN census 2026 written to {census}")
    assert b"<ReferenceDate>2026-03-31</ReferenceDate>" in census.read_bytes()

    tables = tmp_path / "ssda903"
    council("returns", "ssda903", "--year", "2026", "--out", str(tables))
    header = (tables / "header.csv").read_text().splitlines()[0]
    assert header == "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB"

    workbook = tmp_path / "annex-a.xlsx"
    council("returns", "annex-a", "--as-of", "2026-11-27", "--out", str(workbook))
    sheets = load_workbook(io.BytesIO(workbook.read_bytes()), read_only=True).sheetnames
    assert len(sheets) == 11

    payload = tmp_path / "csc.json"
    council("returns", "csc-api", "--out", str(payload))
    assert json.loads(payload.read_text())["la_code"] == 330
    assert zipfile.is_zipfile(workbook)


def test_bad_options_get_a_sentence_not_a_traceback(migrated: Cli, tmp_path: Path) -> None:
    out = str(tmp_path / "a.xlsx")
    refused = migrated("returns", "annex-a", "--as-of", "27/11/2026", "--out", out, ok=False)
    assert refused.exit_code == 1
    assert "--as-of must be a date like 2026-11-27" in refused.output
    naive = migrated("returns", "csc-api", "--since", "2026-11-01T00:00:00", ok=False)
    assert "--since needs a time zone" in naive.output


def test_check_lists_what_the_dfe_rules_say_about_an_empty_year(
    migrated: Cli, validators_installed: None
) -> None:
    said = migrated("returns", "check", "--year", "2026").output
    # An empty census is valid: no errors, only return-level queries (fewer than 8 disability
    # codes; a rule of the validator's that divides by the number of children cannot run).
    assert said.rstrip().splitlines()[-1] == "FOUND: 0 errors and 2 queries in the 2026 returns."
    assert "cin_census query 2887Q return:" in said
    assert "cin_census query 2886Q return: The validator's rule 2886Q could not run" in said
    assert " error " not in said


def test_check_without_the_validators_says_how_to_install_them(
    migrated: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from app.config import get_settings

    monkeypatch.setenv("CASEWORK_VALIDATORS_PYTHON", str(tmp_path / "nowhere" / "python"))
    get_settings.cache_clear()
    refused = migrated("returns", "check", "--year", "2026", ok=False)
    assert refused.exit_code == 1
    assert "make validators" in refused.output
