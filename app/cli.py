"""The ``casework`` command: serve, migrate, load demo data, manage users, verify the audit trail.

Every command reads the same Settings as the service (``CASEWORK_*``) and goes through the same
services as the API, in one unit of work per command. An operator sees a sentence saying what is
wrong and how to fix it (database down, not migrated, a setting refused), never a traceback.
"""

from __future__ import annotations

import ipaddress
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session

from app import migrate
from app.config import ROOT, Settings, get_settings
from app.db import make_engine, make_session_factory, unit_of_work
from app.models import Role

app = typer.Typer(
    name="casework",
    help="Casework: case management for children's social care in England.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database migrations (Alembic).", no_args_is_help=True)
users_app = typer.Typer(help="Local staff accounts.", no_args_is_help=True)
audit_app = typer.Typer(help="The append-only audit trail.", no_args_is_help=True)
workflow_app = typer.Typer(help="The declared state machines.", no_args_is_help=True)
care_app = typer.Typer(help="Children in care and care leavers.", no_args_is_help=True)
practice_app = typer.Typer(help="Supervision and management oversight.", no_args_is_help=True)
retention_app = typer.Typer(help="Retention and disposal of records.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(workflow_app, name="workflow")
app.add_typer(care_app, name="care")
app.add_typer(practice_app, name="practice")
app.add_typer(retention_app, name="retention")
from app.returns.cli import import_app, returns_app  # noqa: E402

app.add_typer(returns_app, name="returns")
app.add_typer(import_app, name="import")
from app.backup_cli import backup_app, restore_command  # noqa: E402

app.add_typer(backup_app, name="backup")
app.command("restore")(restore_command)
from app.outbox.cli import outbox_app  # noqa: E402

app.add_typer(outbox_app, name="outbox")

# No markup, no highlighting, no hard wrapping: messages carry URLs, paths and exception text that
# must come out exactly as they are (and be greppable in logs).
console = Console(soft_wrap=True, highlight=False, markup=False)
err_console = Console(stderr=True, soft_wrap=True, highlight=False, markup=False)

DEFAULT_OPENAPI_PATH = ROOT / "openapi" / "openapi.json"
PG_CONNECT_TIMEOUT_SECONDS = 5


def main() -> None:
    """Entry point of the ``casework`` console script (see pyproject.toml)."""
    app()


# --------------------------------------------------------------------------------------------------
# Settings and database checks
# --------------------------------------------------------------------------------------------------


def masked_url(url: str) -> str:
    """The database URL with any password replaced by ``***`` (safe to print and log)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a valid database URL)"


def _engine_for(settings: Settings) -> Engine:
    # A short connect timeout: an unreachable host should get its message in seconds, not minutes.
    if settings.is_sqlite:
        return make_engine(settings.database_url, echo=settings.sql_echo)
    return make_engine(
        settings.database_url,
        echo=settings.sql_echo,
        connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_SECONDS},
    )


def _unreachable(settings: Settings, exc: BaseException) -> str:
    where = masked_url(settings.database_url)
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    first = reason[0] if reason else type(exc).__name__
    if settings.is_sqlite:
        fix = (
            "Check that the directory exists and is writable, or point CASEWORK_DATABASE_URL at "
            "another database."
        )
    else:
        fix = (
            "Start PostgreSQL (or check the host, port, database name and credentials), or fix "
            "CASEWORK_DATABASE_URL, e.g. "
            "postgresql+psycopg://user@host:5432/casework."
        )
    return f"Casework cannot reach its database at {where} ({first}). {fix}"


def _reachability_problem(settings: Settings, engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return _unreachable(settings, exc)
    return None


def _migration_problem(settings: Settings, engine: Engine) -> str | None:
    where = masked_url(settings.database_url)
    head = migrate.head_revision()
    current = migrate.current_revision(engine)
    if current == head:
        return None
    if current is None:
        return (
            f"The database at {where} has no Casework tables yet (it has not been migrated): "
            "run `casework db upgrade`, then start Casework again."
        )
    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    known = {rev.revision for rev in scripts.walk_revisions()}
    if current not in known:
        return (
            f"The database at {where} is at migration {current}, which this version of Casework "
            "does not know: it was migrated by a newer version. Upgrade Casework, or point "
            "CASEWORK_DATABASE_URL at another database."
        )
    return (
        f"The database at {where} is at migration {current} but this version of Casework needs "
        f"{head}: run `casework db upgrade`, then start Casework again."
    )


def check_database(settings: Settings) -> str | None:
    """Whether the service can start on this database: None, or the problem as one paragraph.

    The paragraph names the database (password masked) and says how to fix it, because the person
    reading it is often not the one who set the URL.
    """
    try:
        engine = _engine_for(settings)
    except OSError as exc:  # SQLite: the database's directory cannot be created
        return _unreachable(settings, exc)
    except (ArgumentError, ValueError) as exc:
        return (
            f"CASEWORK_DATABASE_URL is not a usable database URL ({exc}). Set it to, e.g., "
            "postgresql+psycopg://user@host:5432/casework or sqlite:///var/casework.db."
        )
    try:
        try:
            problem = _reachability_problem(settings, engine)
            return problem or _migration_problem(settings, engine)
        except SQLAlchemyError as exc:  # the server went away between the two checks
            return _unreachable(settings, exc)
    finally:
        engine.dispose()


def _unspecified(host: str) -> bool:
    """Whether ``host`` means "every interface" (0.0.0.0 or ::): not an address to visit."""
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def _fail(message: str) -> typer.Exit:
    err_console.print(Text("Error:", style="bold red"), message)
    return typer.Exit(1)


def _settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            message = str(error["msg"]).removeprefix("Value error, ")
            loc = "_".join(str(part) for part in error["loc"]).upper()
            problems.append(f"CASEWORK_{loc}: {message}" if loc else message)
        raise _fail(f"Casework's settings are not valid: {'; '.join(problems)}") from None


@contextmanager
def _database(settings: Settings, *, migrated: bool = True) -> Iterator[Engine]:
    """An engine on a database that answers (and, when ``migrated``, is at the head revision)."""
    problem = check_database(settings) if migrated else None
    if problem:
        raise _fail(problem)
    try:
        engine = _engine_for(settings)
    except OSError as exc:
        raise _fail(_unreachable(settings, exc)) from None
    except (ArgumentError, ValueError) as exc:
        raise _fail(f"CASEWORK_DATABASE_URL is not a usable database URL ({exc}).") from None
    try:
        if not migrated:
            problem = _reachability_problem(settings, engine)
            if problem:
                raise _fail(problem)
        yield engine
    finally:
        engine.dispose()


@contextmanager
def _unit_of_work(engine: Engine) -> Iterator[Session]:
    with unit_of_work(make_session_factory(engine)) as session:
        yield session


def _domain_error_message(exc: Exception) -> str:
    detail = getattr(exc, "detail", None) or str(exc)
    extra = getattr(exc, "extra", None) or {}
    errors = extra.get("errors") if isinstance(extra, dict) else None
    if errors:
        fields = "; ".join(
            f"{e.get('field', '')}: {e.get('message', e.get('msg', ''))}".strip(": ")
            for e in errors
            if isinstance(e, dict)
        )
        if fields:
            return f"{detail} ({fields})"
    return str(detail)


# --------------------------------------------------------------------------------------------------
# serve
# --------------------------------------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
) -> None:
    """Serve Casework (the JSON API under /api/v1) with uvicorn, after checking the database."""
    import uvicorn

    settings = _settings()
    problem = check_database(settings)
    if problem:
        raise _fail(problem)
    shown_host = "127.0.0.1" if _unspecified(host) else host  # a link people can click
    console.print(
        f"Casework is serving on http://{shown_host}:{port} "
        f"(API docs at http://{shown_host}:{port}/api/v1/docs). Press Ctrl+C to stop.",
    )
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=None if reload else workers,
        reload=reload,
        log_level=settings.log_level.lower(),
    )


# --------------------------------------------------------------------------------------------------
# db
# --------------------------------------------------------------------------------------------------


@contextmanager
def _migration_errors() -> Iterator[None]:
    # An unknown revision or a failed statement: say which, leave the database as it was (each
    # migration run is one transaction).
    try:
        yield
    except CommandError as exc:
        raise _fail(f"Migration refused: {exc}.") from None
    except SQLAlchemyError as exc:
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise _fail(f"Migration failed and was rolled back: {first}") from None


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Migrate the database up to REVISION (the latest by default)."""
    settings = _settings()
    with _database(settings, migrated=False) as engine:
        before = migrate.current_revision(engine)
        with _migration_errors():
            migrate.upgrade(engine, revision)
        after = migrate.current_revision(engine)
    where = masked_url(settings.database_url)
    if before == after:
        console.print(f"Database at {where} is already at {after}.")
    else:
        console.print(f"Database at {where} migrated from {before or 'empty'} to {after}.")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, e.g. -1 or base.")],
) -> None:
    """Migrate the database down to REVISION (``base`` removes every table: data is lost)."""
    settings = _settings()
    with _database(settings, migrated=False) as engine:
        before = migrate.current_revision(engine)
        with _migration_errors():
            migrate.downgrade(engine, revision)
        after = migrate.current_revision(engine)
    console.print(
        f"Database at {masked_url(settings.database_url)} migrated from {before or 'empty'} "
        f"down to {after or 'base (empty)'}.",
    )


@db_app.command("current")
def db_current() -> None:
    """Show the database's migration revision and whether it is up to date."""
    settings = _settings()
    with _database(settings, migrated=False) as engine:
        current = migrate.current_revision(engine)
    head = migrate.head_revision()
    state = "up to date" if current == head else "behind: run `casework db upgrade`"
    console.print(
        f"Database at {masked_url(settings.database_url)}: revision {current or 'none (empty)'}, "
        f"head {head} ({state}).",
    )


# --------------------------------------------------------------------------------------------------
# demo-data
# --------------------------------------------------------------------------------------------------


def _print_demo_accounts(session: Session) -> None:
    from app.demo import DEMO_ACCOUNTS, DEMO_INTEGRATION_TOKEN
    from app.models import UserAccount

    present = set(
        session.scalars(
            select(UserAccount.username).where(
                UserAccount.username.in_([a.username for a in DEMO_ACCOUNTS])
            )
        )
    )
    if not present:
        return
    # Plain lines, not a table: a narrow terminal must not cut a password short.
    lines = ["", "Demo sign-in accounts (development only; username / password):"]
    for account in DEMO_ACCOUNTS:
        if account.username in present:
            lines.append(f"  {account.role_label:<31} {account.username:<24} {account.password}")
    lines += [
        "  Every other fictional worker signs in with the password of their role.",
        f"  Demo integration bearer token: {DEMO_INTEGRATION_TOKEN}",
        "Sign in with POST /api/v1/auth/login; the API docs are at "
        "http://127.0.0.1:8000/api/v1/docs.",
        "",
    ]
    typer.echo("\n".join(lines))


@app.command("demo-data")
def demo_data(
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed gives the same data.")
    ] = 2026,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing when any user account exists.")
    ] = False,
    children: Annotated[
        int,
        typer.Option(
            min=1,
            help="How many children to create; with --scale, the children in need on the day of "
            "loading (6000 = a Birmingham-sized council).",
        ),
    ] = 300,
    scale: Annotated[
        bool,
        typer.Option(
            "--scale",
            help="Council scale: bulk-generate a caseload whose volumes and mixes follow the DfE "
            "statistics (minutes for a Birmingham-sized year), instead of walking a few hundred "
            "cases through the services.",
        ),
    ] = False,
    years: Annotated[
        int | None,
        typer.Option(
            min=1, max=10, help="Years of history before today; implies --scale (default 1)."
        ),
    ] = None,
) -> None:
    """Load a fictional council: teams, workers (one demo account per role), children, families."""
    from app.demo import DemoDataRefused, demo_data_loaded, load_demo_data
    from app.demo.scale import load_scale_data
    from app.models import UserAccount

    # `--children N --years Y` is the council-scale generator (issue 5); `--scale` alone gives it
    # one year of history.
    scale = scale or years is not None
    years = years or 1
    settings = _settings()
    with _database(settings) as engine:
        with _unit_of_work(engine) as session:
            users = session.scalar(select(func.count()).select_from(UserAccount)) or 0
            if if_empty and users:
                console.print(
                    "Demo data is already loaded: nothing to do."
                    if demo_data_loaded(session)
                    else f"Demo data not loaded: the database already has {users} user accounts."
                )
                _print_demo_accounts(session)
                return
        try:
            with (
                _unit_of_work(engine) as session,
                Progress(
                    TextColumn("{task.description:<28}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                    console=console,
                    transient=False,
                ) as progress,
            ):
                tasks: dict[str, Any] = {}

                def report(step: str, done: int, total: int) -> None:
                    if step not in tasks:
                        tasks[step] = progress.add_task(step, total=total)
                    progress.update(tasks[step], completed=done, total=total)

                summary = (
                    load_scale_data(
                        session,
                        seed=seed,
                        children=children,
                        years=years,
                        progress=report,
                        settings=settings,
                    )
                    if scale
                    else load_demo_data(
                        session, seed=seed, children=children, progress=report, settings=settings
                    )
                )
        except DemoDataRefused as exc:
            raise _fail(str(exc)) from None
        console.print(summary.describe())
        with _unit_of_work(engine) as session:
            _print_demo_accounts(session)


# --------------------------------------------------------------------------------------------------
# users
# --------------------------------------------------------------------------------------------------


def _read_password(*, from_stdin: bool, confirm: bool = True) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise _fail("--password-stdin was given but standard input had no password.")
        return password
    value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=confirm)
    return value


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="Sign-in name, e.g. jsmith.")],
    role: Annotated[Role, typer.Option(help="The account's role.", case_sensitive=False)],
    name: Annotated[str, typer.Option(help="Display name, e.g. 'Jo Smith'.")],
    email: Annotated[str | None, typer.Option(help="Work email address.")] = None,
    swe_number: Annotated[
        str | None,
        typer.Option("--swe-number", help="Social Work England registration number, e.g. SW1234."),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    no_password: Annotated[
        bool,
        typer.Option(
            "--no-password", help="No local password (signs in through OIDC, or uses tokens)."
        ),
    ] = False,
) -> None:
    """Create a local account. The holder must change the password at first sign-in."""
    from app.errors import DomainError
    from app.security.users import user_create

    settings = _settings()
    password = None if no_password else _read_password(from_stdin=password_stdin)
    with _database(settings) as engine:
        try:
            with _unit_of_work(engine) as session:
                user = user_create(
                    session,
                    actor=None,
                    username=username,
                    display_name=name,
                    role=role,
                    password=password,
                    email=email,
                    swe_registration_number=swe_number,
                )
                created = (user.username, user.role.value)
        except DomainError as exc:
            raise _fail(_domain_error_message(exc)) from None
    console.print(f"Created {created[0]} ({created[1]}).")


@users_app.command("reset-password")
def users_reset_password(
    username: Annotated[str, typer.Argument(help="The account's sign-in name.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the new password from standard input.")
    ] = False,
) -> None:
    """Set a new password (the holder must change it at next sign-in) and unlock the account."""
    from app.errors import DomainError
    from app.security.users import user_reset_password

    settings = _settings()
    password = _read_password(from_stdin=password_stdin)
    with _database(settings) as engine:
        try:
            with _unit_of_work(engine) as session:
                user = user_reset_password(
                    session, actor=None, username_or_id=username, new_password=password
                )
                done = user.username
        except DomainError as exc:
            raise _fail(_domain_error_message(exc)) from None
    console.print(f"Password reset for {done}.")


# --------------------------------------------------------------------------------------------------
# audit, workflow, openapi
# --------------------------------------------------------------------------------------------------


@audit_app.command("verify")
def audit_verify() -> None:
    """Walk every case's hash chain; exit 1 naming the first broken link."""
    from app.audit.service import verify_chains
    from app.models import CaseEvent

    settings = _settings()
    with _database(settings) as engine, _unit_of_work(engine) as session:
        events = session.scalar(select(func.count()).select_from(CaseEvent)) or 0
        cases = session.scalar(select(func.count(func.distinct(CaseEvent.case_id)))) or 0
        broken = verify_chains(session)
    if broken is not None:
        raise _fail(
            f"Audit chain broken: case {broken.case_id}, event {broken.seq}: {broken.problem}."
        )
    console.print(f"OK: {events} case events in {cases} case chains verify.")


@care_app.command("refresh")
def care_refresh() -> None:
    """The daily job: open the clocks that start on a birthday (rule 26: an eligible child's
    pathway needs assessment, 3 months after the 16th birthday). Run it once a day (cron, a
    systemd timer or the platform's scheduler); running it twice changes nothing."""
    from app.leavingcare.service import leaving_care_refresh_due

    settings = _settings()
    with _database(settings) as engine, _unit_of_work(engine) as session:
        looked_at = leaving_care_refresh_due(session)
    console.print(f"OK: leaving-care status refreshed for {looked_at} young people.")


@retention_app.command("dispose")
def retention_dispose(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Dispose of records due on or before this day (YYYY-MM-DD); "
            "default today, never a later day.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be disposed of; change nothing.")
    ] = False,
) -> None:
    """The disposal job (rules 39, 40): destroy every record whose retention period is over and
    that no legal hold stops, one person per transaction, each audited. Running it twice disposes
    of nothing the second time."""
    from datetime import date

    from app.errors import DomainError
    from app.retention.disposal import dispose_due

    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise _fail(f"--as-of must be a date, YYYY-MM-DD (not {as_of!r}).") from None
    settings = _settings()
    with _database(settings) as engine:
        try:
            summary = dispose_due(
                make_session_factory(engine), settings=settings, as_of=day, dry_run=dry_run
            )
        except DomainError as exc:
            raise _fail(_domain_error_message(exc)) from None
    if dry_run:
        console.print(
            f"DRY RUN as of {summary.as_of}: {len(summary.would_dispose)} records would be "
            f"disposed of, {len(summary.held)} held; nothing changed."
        )
        return
    console.print(
        f"OK: run {summary.run_id} as of {summary.as_of}: {len(summary.disposed)} records "
        f"disposed of, {len(summary.held)} held, {len(summary.failed)} failed."
    )
    if summary.failed:
        raise typer.Exit(1)


@practice_app.command("refresh")
def practice_refresh() -> None:
    """The daily job: open each missing supervision clock (rule 36: every active practitioner) and
    management-oversight clock (rule 37: every open case past the contact stage), and stop the
    supervision clocks of staff no longer supervised. Running it twice changes nothing."""
    from app.supervision.service import practice_refresh as refresh

    settings = _settings()
    with _database(settings) as engine, _unit_of_work(engine) as session:
        done = refresh(session)
    console.print(
        f"OK: {done.supervision_opened} supervision clocks opened, "
        f"{done.supervision_stopped} stopped; {done.oversight_opened} oversight clocks opened."
    )


@workflow_app.command("diagram")
def workflow_diagram() -> None:
    """Print every state machine as Mermaid (the README embeds this output)."""
    from app.workflow.diagram import render_all

    # Plain output: rich would read Mermaid's [brackets] as markup.
    typer.echo(render_all(), nl=False)


def openapi_document(settings: Settings | None = None) -> dict[str, Any]:
    """The OpenAPI document exactly as the service serves it at /api/v1/openapi.json."""
    from app.main import create_app

    # An in-memory engine: generating the document must not need (or touch) the real database.
    engine = make_engine("sqlite://")
    try:
        document: dict[str, Any] = create_app(settings or _settings(), engine=engine).openapi()
    finally:
        engine.dispose()
    return document


def render_openapi(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@app.command("openapi")
def openapi(
    out: Annotated[Path, typer.Option(help="Where to write the document.")] = DEFAULT_OPENAPI_PATH,
) -> None:
    """Write the OpenAPI document (a test keeps the committed copy equal to the served one)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_openapi(openapi_document()), encoding="utf-8")
    console.print(f"Wrote {out}.")


if __name__ == "__main__":  # pragma: no cover
    main()
