"""``casework backup``, ``casework backup verify`` and ``casework restore``.

The same helpers as the rest of ``app.cli`` (a sentence, never a traceback; the URL always shown
with its password masked). The logic, and why it is done this way, is in ``app.backup``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from app.backup import BackupError, backup, describe_manifest, manifest_path, restore, verify

backup_app = typer.Typer(
    help="Back up the database (with a manifest to check a restore against), or check a backup.",
    invoke_without_command=True,
)


@backup_app.callback()
def backup_command(
    ctx: typer.Context,
    out: Annotated[
        Path | None,
        typer.Option(help="Where to write the backup (its manifest goes beside it)."),
    ] = None,
) -> None:
    """Back up the configured database to OUT while Casework runs (SQLite: the online backup API;
    PostgreSQL: pg_dump --format=custom)."""
    from app.cli import _fail, _settings, console, masked_url

    if ctx.invoked_subcommand is not None:
        return
    if out is None:
        raise _fail("Say where to write the backup: casework backup --out FILE.")
    settings = _settings()
    started = time.monotonic()
    try:
        manifest = backup(settings.database_url, out)
    except BackupError as exc:
        raise _fail(str(exc)) from None
    console.print(
        f"OK: {masked_url(settings.database_url)} backed up to {out} "
        f"({describe_manifest(manifest)}; manifest {manifest_path(out).name}) "
        f"in {time.monotonic() - started:.1f} s."
    )


@backup_app.command("verify")
def verify_command(
    file: Annotated[Path, typer.Argument(help="A backup written by `casework backup`.")],
) -> None:
    """Check a backup: restore FILE into a scratch database and compare it with its manifest.

    Row counts, the migration revision and the audit chains; the configured database is not
    touched."""
    from app.cli import _fail, _settings, console

    settings = _settings()
    try:
        report = verify(settings.database_url, file)
    except BackupError as exc:
        raise _fail(str(exc)) from None
    if not report.ok:
        raise _fail(report.describe())
    console.print(f"OK: {file} restores and checks: {report.describe()}")


def restore_command(
    source: Annotated[Path, typer.Option("--from", help="A backup written by `casework backup`.")],
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace a database that already holds records."),
    ] = False,
) -> None:
    """Restore the configured database from a backup, then check it against the backup's
    manifest. Stop Casework first; a database that holds records is only replaced with --force."""
    from app.cli import _fail, _settings, console, masked_url

    settings = _settings()
    started = time.monotonic()
    try:
        report = restore(settings.database_url, source, force=force)
    except BackupError as exc:
        raise _fail(str(exc)) from None
    if not report.ok:
        raise _fail(report.describe())
    console.print(
        f"OK: {masked_url(settings.database_url)} restored from {source} in "
        f"{time.monotonic() - started:.1f} s: {report.describe()}"
    )
