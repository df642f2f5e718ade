"""A throwaway PostgreSQL cluster of our own, for tests and drills that stop the database.

The shared server on port 5432 is everyone's: it is never stopped. A drill that restarts the
database runs ``initdb`` into a temporary directory, starts ``postgres`` on a free port (TCP on
127.0.0.1, its socket in its own directory), and removes it all afterwards. PostgreSQL refuses to
run as root, so as root the server commands run as the ``postgres`` OS user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.reliability.drills import free_port

PG_BIN_DIRS = (Path("/usr/lib/postgresql/15/bin"), Path("/usr/lib/postgresql/16/bin"))
COMMAND_SECONDS = 120.0


def pg_bin() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``, or None when PostgreSQL is not here."""
    for directory in PG_BIN_DIRS:
        if (directory / "initdb").exists() and (directory / "pg_ctl").exists():
            return directory
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def unavailable_reason() -> str | None:
    """Why a private cluster cannot be made here (for a clean skip), or None."""
    if pg_bin() is None:
        return "initdb/pg_ctl (PostgreSQL server binaries) are not installed"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' OS user to run the server as"
        if shutil.which("runuser") is None:
            return "running as root without runuser to run the server as 'postgres'"
    return None


class PrivateCluster:
    """One ``initdb``'d cluster in a temporary directory, on a free port of 127.0.0.1."""

    def __init__(self, *, durable: bool = True) -> None:
        """``durable=False`` turns fsync off (tests: faster, and a crash is not what they test)."""
        bindir = pg_bin()
        assert bindir is not None, unavailable_reason()
        self.bindir = bindir
        self.durable = durable
        self.port = free_port()
        # Directly under /tmp: pytest's own temporary directories are private to root, and the
        # server (as 'postgres') could not reach its data directory inside them.
        self.root = Path(tempfile.mkdtemp(prefix="casework-pgcluster-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._as_root = os.geteuid() == 0
        if self._as_root:
            account = pwd.getpwnam("postgres")
            os.chown(self.root, account.pw_uid, account.pw_gid)
        args = ["-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C"]
        self._run("initdb", *args, *([] if durable else ["--no-sync"]))

    def _run(self, program: str, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / program), *args]
        if self._as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(  # noqa: S603 - the PostgreSQL binaries, arguments of our own
            command,
            capture_output=True,
            text=True,
            timeout=COMMAND_SECONDS,
            check=False,
            cwd=self.root,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{program} failed ({done.returncode}): {done.stdout}{done.stderr}"
                f"{self.log.read_text() if self.log.exists() else ''}"
            )
        return done

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def database_url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> float:
        """Start the server and wait until it accepts connections; the seconds it took."""
        started = time.monotonic()
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root}"
            " -c max_connections=60 -c shared_buffers=32MB"
        )
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            str(int(COMMAND_SECONDS)),
            "start",
        )
        return time.monotonic() - started

    def stop(self, mode: str = "fast") -> float:
        """Stop the server (``fast``: roll back open transactions, cut the connections, shut
        down cleanly, as ``systemctl restart postgresql`` does); the seconds it took."""
        started = time.monotonic()
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")
        return time.monotonic() - started

    def running(self) -> bool:
        command = [str(self.bindir / "pg_ctl"), "-D", str(self.data), "status"]
        if self._as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(  # noqa: S603 - as above
            command, capture_output=True, text=True, timeout=COMMAND_SECONDS, check=False
        )
        return done.returncode == 0

    def remove(self) -> None:
        if self.data.exists() and self.running():
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def private_cluster(*, durable: bool = True) -> Iterator[PrivateCluster]:
    """A started private cluster, removed (stopped and deleted) afterwards."""
    cluster = PrivateCluster(durable=durable)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()
