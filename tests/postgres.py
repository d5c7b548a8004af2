"""A throwaway PostgreSQL cluster for the tests that need a real database.

`initdb` into a fresh temporary directory, `pg_ctl start` on 127.0.0.1 and a free port (its
socket in the same directory, so nothing touches the machine's own cluster), trust
authentication for the `postgres` user, `pg_ctl stop -m immediate` and the directory removed
afterwards. Postgres refuses to run as root: as root the cluster runs as the `postgres` system
user Debian's package creates. The binaries come from PATH or Debian's
/usr/lib/postgresql/<version>/bin (the Makefile installs the package where they are missing).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEBIAN_BINARIES = Path("/usr/lib/postgresql")
SUPERUSER = "postgres"


class PostgresUnavailableError(Exception):
    """No cluster can be started here; the message says why."""


@dataclass(frozen=True)
class PostgresServer:
    """A running throwaway cluster."""

    host: str
    port: int
    directory: Path

    def url(self, database: str = "postgres") -> str:
        """A connection string for `database` as the superuser (trust: no password)."""
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run `sql`; return its unaligned, tuples-only output."""
        result = subprocess.run(
            ["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql, self.url(database)],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return result.stdout.strip()


def binary(name: str) -> Path | None:
    """`name` on PATH, else from the newest Debian postgresql version installed."""
    found = shutil.which(name)
    if found:
        return Path(found)
    candidates = sorted(
        DEBIAN_BINARIES.glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]), reverse=True
    )
    return candidates[0] if candidates else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_superuser() -> dict[str, Any]:
    """subprocess arguments that run a command as the `postgres` user when we are root."""
    if os.geteuid() != 0:
        return {}
    try:
        account = pwd.getpwnam(SUPERUSER)
    except KeyError:
        raise PostgresUnavailableError("running as root and no `postgres` user to run as") from None
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


def start() -> PostgresServer:
    """Start a cluster; raise PostgresUnavailableError saying what is missing."""
    initdb, pg_ctl = binary("initdb"), binary("pg_ctl")
    if initdb is None or pg_ctl is None or shutil.which("psql") is None:
        raise PostgresUnavailableError(
            "initdb, pg_ctl and psql are needed (Debian's postgresql package; `make check` "
            "installs it where they are missing)"
        )
    run_as = _as_superuser()
    directory = Path(tempfile.mkdtemp(prefix="pg-test-"))
    if run_as:
        os.chown(directory, run_as["user"], run_as["group"])
    data = directory / "data"
    try:
        subprocess.run(
            [str(initdb), "-D", str(data), "-U", SUPERUSER, "-A", "trust", "--no-sync"],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
            **run_as,
        )
        for _attempt in range(3):
            port = _free_port()
            options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off"
            started = subprocess.run(
                [
                    str(pg_ctl),
                    "-D",
                    str(data),
                    "-l",
                    str(directory / "log"),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    options,
                    "start",
                ],
                capture_output=True,
                text=True,
                timeout=90,
                check=False,
                **run_as,
            )
            if started.returncode == 0:
                return PostgresServer("127.0.0.1", port, directory)
        log = (directory / "log").read_text() if (directory / "log").exists() else ""
        raise PostgresUnavailableError(f"pg_ctl could not start the cluster:\n{log[-2000:]}")
    except subprocess.CalledProcessError as err:
        shutil.rmtree(directory, ignore_errors=True)
        raise PostgresUnavailableError(f"initdb failed: {err.stderr[-2000:]}") from None
    except PostgresUnavailableError:
        shutil.rmtree(directory, ignore_errors=True)
        raise


def stop(server: PostgresServer) -> None:
    """Stop the cluster at once and remove its directory."""
    pg_ctl = binary("pg_ctl")
    if pg_ctl is not None:
        subprocess.run(
            [str(pg_ctl), "-D", str(server.directory / "data"), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
            **_as_superuser(),
        )
    shutil.rmtree(server.directory, ignore_errors=True)
