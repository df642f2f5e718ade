"""``casework outbox relay``: send the webhooks the outbox holds (see :mod:`app.outbox.relay`)."""

from __future__ import annotations

import logging
import signal
from types import FrameType
from typing import Annotated

import typer

outbox_app = typer.Typer(help="Webhooks for integrations (the outbox).", no_args_is_help=True)


@outbox_app.command("relay")
def relay_command(
    once: Annotated[
        bool, typer.Option("--once", help="Send what is due now, then stop (for cron).")
    ] = False,
    batch: Annotated[
        int, typer.Option("--batch", min=1, max=1000, help="Deliveries claimed per transaction.")
    ] = 50,
) -> None:
    """Post due webhook deliveries, signed, retrying failures with backoff; runs until stopped
    (SIGTERM or Ctrl-C finish the batch in hand) unless --once. On PostgreSQL several relays may
    run side by side; on SQLite run one."""
    from app.cli import _database, _settings, console
    from app.db import make_session_factory
    from app.outbox.relay import RelayConfig, run

    settings = _settings()
    # The relay's own lines (ids and statuses, never URLs, payloads or secrets) on stderr.
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    relay_log = logging.getLogger("casework.outbox")
    relay_log.addHandler(handler)
    relay_log.setLevel(settings.log_level.upper())
    stopping = False

    def _stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    with _database(settings) as engine:
        total = run(
            make_session_factory(engine),
            config=RelayConfig.from_settings(settings),
            batch=batch,
            once=once,
            poll_seconds=settings.outbox_poll_seconds,
            should_stop=lambda: stopping,
        )
    console.print(
        f"OK: {total.delivered} delivered, {total.retrying} to retry later, {total.dead} dead."
    )
