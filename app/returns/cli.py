"""``casework returns …`` and ``casework import …``: the statutory returns from the command line.

Each command opens one unit of work through the same helpers as the rest of ``app.cli`` (a clear
sentence when the database is down or not migrated). Generation reads; an import writes everything
or nothing (``ImportReport``).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer

from app import clock

returns_app = typer.Typer(
    help="Statutory returns (CIN census, SSDA903), Ofsted Annex A, the DfE CSC API payload.",
    no_args_is_help=True,
)
import_app = typer.Typer(
    help="Import a council's historical returns (migration from a legacy system).",
    no_args_is_help=True,
)

# Optional, not 0: a default of 0 would itself break the option's minimum (typer checks it).
YearOption = Annotated[
    int | None,
    typer.Option(
        min=2015,
        max=2100,
        help="Collection year, named by the year it ends: 2026 = 2025-26 (default: this year).",
    ),
]


def _year_default() -> int:
    from app.returns.common import CollectionYear

    return CollectionYear.containing(clock.today()).year


@returns_app.command("cin-census")
def cin_census(
    out: Annotated[Path, typer.Option(help="Where to write the XML.")],
    year: YearOption = None,
) -> None:
    """The Children in Need census for the year ending 31 March ``year`` (XML)."""
    from app.cli import _database, _settings, _unit_of_work, console
    from app.returns.cin_census import build_cin_census

    settings = _settings()
    year = year or _year_default()
    with _database(settings) as engine, _unit_of_work(engine) as session:
        xml = build_cin_census(session, year=year, settings=settings)
    out.write_bytes(xml)
    console.print(f"OK: CIN census {year} written to {out} ({len(xml):,} bytes).")


@returns_app.command("ssda903")
def ssda903(
    out: Annotated[Path, typer.Option(help="A directory for the CSV tables.")],
    year: YearOption = None,
) -> None:
    """The SSDA903 children looked after return for the year ending 31 March ``year`` (CSVs)."""
    from app.cli import _database, _settings, _unit_of_work, console
    from app.returns.ssda903 import build_ssda903

    settings = _settings()
    year = year or _year_default()
    with _database(settings) as engine, _unit_of_work(engine) as session:
        tables = build_ssda903(session, year=year, settings=settings)
    out.mkdir(parents=True, exist_ok=True)
    for name, text in tables.items():
        (out / name).write_text(text, encoding="utf-8", newline="")
    console.print(f"OK: SSDA903 {year} written to {out}: {', '.join(sorted(tables))}.")


@returns_app.command("check")
def check(year: YearOption = None) -> None:
    """Run the DfE's validators on this year's CIN census and SSDA903 as they stand today, and
    list every failure with the child, the rule and its message: the data-quality worklist."""
    from app.cli import _database, _fail, _settings, _unit_of_work, console
    from app.returns.cin_census import build_cin_census
    from app.returns.ssda903 import build_ssda903
    from app.returns.validators import ValidatorsMissing
    from app.returns.validators.cin import check_cin_census
    from app.returns.validators.ssda903 import check_ssda903

    settings = _settings()
    year = year or _year_default()
    with _database(settings) as engine, _unit_of_work(engine) as session:
        xml = build_cin_census(session, year=year, settings=settings)
        tables = build_ssda903(session, year=year, settings=settings)
    try:
        failures = check_cin_census(xml, year=year, settings=settings)
        failures += check_ssda903(tables, year=year, settings=settings)
    except ValidatorsMissing as exc:
        raise _fail(str(exc)) from None
    for f in failures:
        who = f"child {f.child}" if f.child else "return"
        console.print(f"{f.return_name} {f.severity} {f.rule} {who}: {f.message}")
    errors = sum(1 for f in failures if f.severity == "error")
    console.print(
        f"{'OK' if not failures else 'FOUND'}: {errors} errors and "
        f"{len(failures) - errors} queries in the {year} returns."
    )
    if errors:
        raise typer.Exit(code=1)


@returns_app.command("annex-a")
def annex_a(
    out: Annotated[Path, typer.Option(help="Where to write the workbook (.xlsx).")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="The inspection day, YYYY-MM-DD (default today).")
    ] = None,
) -> None:
    """Ofsted's Annex A lists 1-11 as of a day, in one workbook."""
    from app.cli import _database, _fail, _settings, _unit_of_work, console
    from app.returns.annex_a import build_annex_a

    try:
        day = date.fromisoformat(as_of) if as_of else clock.today()
    except ValueError:
        raise _fail(f"--as-of must be a date like 2026-11-27, not {as_of!r}.") from None
    settings = _settings()
    with _database(settings) as engine, _unit_of_work(engine) as session:
        workbook = build_annex_a(session, as_of=day, settings=settings)
    out.write_bytes(workbook)
    console.print(f"OK: Annex A as of {day} written to {out} ({len(workbook):,} bytes).")


@returns_app.command("csc-api")
def csc_api(
    since: Annotated[
        str | None,
        typer.Option(help="Send what changed since this instant (ISO 8601); omit for everything."),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the JSON here (default stdout).")] = None,
) -> None:
    """The DfE children's social care data API payload (child-level JSON, delta and purge)."""
    from app.cli import _database, _fail, _settings, _unit_of_work, console
    from app.returns.csc_api import build_csc_api_payload
    from app.returns.csc_api_schema import CscApiPayloadInvalid

    try:
        instant = datetime.fromisoformat(since) if since else None
    except ValueError:
        raise _fail(f"--since must be an ISO 8601 instant, not {since!r}.") from None
    if instant is not None and instant.tzinfo is None:
        raise _fail("--since needs a time zone, e.g. 2026-11-27T00:00:00+00:00.")
    settings = _settings()
    with _database(settings) as engine, _unit_of_work(engine) as session:
        try:
            payload = build_csc_api_payload(session, since=instant, settings=settings)
        except CscApiPayloadInvalid as invalid:
            raise _fail(str(invalid)) from None
    text = json.dumps(payload, indent=2, ensure_ascii=False)
    if out is None:
        console.print(text)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"OK: CSC API payload written to {out}.")


@import_app.command("cin-census")
def import_cin_census_command(
    file: Annotated[Path, typer.Argument(help="A CIN census XML file.")],
) -> None:
    """Load a historical CIN census: children matched by LA child id, all or nothing."""
    from app.cli import _database, _fail, _settings, _unit_of_work, console
    from app.returns.imports.cin_census import import_cin_census

    if not file.is_file():
        raise _fail(f"{file} is not a file.")
    settings = _settings()
    with _database(settings) as engine, _unit_of_work(engine) as session:
        report = import_cin_census(session, file.read_bytes(), source=file.name)
        if not report.ok:
            session.rollback()
    console.print(report.describe())
    if not report.ok:
        raise typer.Exit(code=1)


@import_app.command("ssda903")
def import_ssda903_command(
    directory: Annotated[Path, typer.Argument(help="A directory of SSDA903 CSV files.")],
) -> None:
    """Load a historical SSDA903 return (its CSV tables): children matched by CHILD, all or
    nothing."""
    from app.cli import _database, _fail, _settings, _unit_of_work, console
    from app.returns.imports.ssda903 import import_ssda903

    if not directory.is_dir():
        raise _fail(f"{directory} is not a directory.")
    files = sorted(directory.glob("*.csv"))
    if not files:
        raise _fail(f"{directory} holds no .csv files.")
    tables: dict[str, str] = {}
    for path in files:
        try:
            tables[path.name] = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise _fail(f"{path.name} is not a UTF-8 text (CSV) file.") from None
    settings = _settings()
    with _database(settings) as engine, _unit_of_work(engine) as session:
        report = import_ssda903(session, tables, source=directory.name)
        if not report.ok:
            session.rollback()
    console.print(report.describe())
    if not report.ok:
        raise typer.Exit(code=1)
