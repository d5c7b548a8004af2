"""Apply the app's SQL migrations to a Postgres database with psql, each exactly once, in order.

    python3 .github/scripts/migrations.py apply [--dir supabase/migrations]
                                                [--url-env SUPABASE_DB_URL] [--environment NAME]

Migrations are `supabase/migrations/<14-digit version>_<name>.sql` (the Supabase CLI's
convention), applied in version order. Each runs in one transaction together with its row in
`supabase_migrations.schema_migrations` (the history table the Supabase CLI and the Management
API keep), so a migration is recorded exactly when it took effect; a failing one changes
nothing and stops the run, and with it the deploy that called it, before the app is promoted.
A transaction-level advisory lock serialises two runs against one database.

The connection string comes from an environment variable (SUPABASE_DB_URL by default: the
GitHub environment's secret the platform sets). It reaches psql as libpq environment variables,
never on a command line, and is never printed. Exit status: 0 applied (or nothing pending),
1 a migration failed, 2 unusable input (no connection string, a badly named file, no psql).

Standard library and `psql` only (the runner image's; locally any psql 13 or newer). The RLS
check (rls_check.py) applies migrations through this same code, so what it checks is what the
deploy applies.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

MIGRATIONS_DIR = Path("supabase/migrations")
"""Where the app keeps its migrations, relative to the repository root."""
FILE_NAME = re.compile(r"^(?P<version>\d{14})_(?P<name>[a-z0-9_]+)\.sql$")
"""`20260101000000_create_notes.sql`: a UTC timestamp (the Supabase CLI's `migration new`
names files so), an underscore, a lowercase name."""
HISTORY_TABLE = "supabase_migrations.schema_migrations"
HISTORY_DDL = (
    "create schema if not exists supabase_migrations;"
    f" create table if not exists {HISTORY_TABLE}"
    " (version text primary key, statements text[], name text);"
)
"""The history table as the Supabase CLI creates it; a project that has one keeps it."""
LOCK_KEY = 0x5355_5042
"""Advisory-lock key ("SUPB") that serialises migration runs on one database."""
_META_COMMAND = re.compile(r"^[ \t]*\\", re.MULTILINE)
_URL_PARAMETERS = {
    "sslmode": "PGSSLMODE",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
    "sslrootcert": "PGSSLROOTCERT",
}
"""Query parameters of a connection string, and the libpq variables that carry them."""


class MigrationError(Exception):
    """A migration failed, or the input cannot be used; the message says which and why."""

    def __init__(self, message: str, *, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Migration:
    """One migration file."""

    version: str
    name: str
    path: Path

    @property
    def stem(self) -> str:
        """`<version>_<name>`: what the history table and the Management API call it."""
        return f"{self.version}_{self.name}"

    def sql(self) -> str:
        """The file's SQL. psql meta-commands are refused: database branches apply migrations
        through the Management API, which runs SQL only, so a file must mean the same to both."""
        text = self.path.read_text(encoding="utf-8")
        found = _META_COMMAND.search(text)
        if found is not None:
            line = text.count("\n", 0, found.start()) + 1
            raise MigrationError(
                f"{self.path}:{line}: a psql meta-command (a line starting with a backslash); "
                "migrations must be plain SQL"
            )
        if not text.strip():
            raise MigrationError(f"{self.path}: empty migration")
        return text

    def digest(self) -> str:
        """SHA-256 of the file: identifies this content of this migration."""
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def migration_files(directory: Path) -> list[Migration]:
    """The `.sql` files of `directory` in version order; every one must be named by the
    convention, and no version may appear twice."""
    if not directory.is_dir():
        raise MigrationError(f"no migrations directory {directory}")
    found: list[Migration] = []
    bad: list[str] = []
    for path in sorted(directory.glob("*.sql")):
        match = FILE_NAME.fullmatch(path.name)
        if match is None:
            bad.append(path.name)
            continue
        found.append(Migration(match.group("version"), match.group("name"), path))
    if bad:
        raise MigrationError(
            f"{directory}: {', '.join(bad)} not named <14-digit version>_<lowercase name>.sql "
            "(e.g. 20260101000000_create_notes.sql)"
        )
    versions = [m.version for m in found]
    twice = sorted({v for v in versions if versions.count(v) > 1})
    if twice:
        raise MigrationError(f"{directory}: version {', '.join(twice)} used by two files")
    return sorted(found, key=lambda m: m.version)


def pg_environment(url: str) -> dict[str, str]:
    """libpq environment variables for a postgresql:// URL, so that no password is ever on a
    command line (where process listings and error reports show it)."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("postgresql", "postgres") or not parts.hostname:
        raise MigrationError("the connection string is not a postgresql://user@host/db URL")
    env = {"PGHOST": parts.hostname, "PGPORT": str(parts.port or 5432)}
    if parts.username:
        env["PGUSER"] = urllib.parse.unquote(parts.username)
    if parts.password:
        env["PGPASSWORD"] = urllib.parse.unquote(parts.password)
    database = urllib.parse.unquote(parts.path.lstrip("/"))
    env["PGDATABASE"] = database or "postgres"
    for key, values in urllib.parse.parse_qs(parts.query).items():
        if key not in _URL_PARAMETERS:
            allowed = ", ".join(sorted(_URL_PARAMETERS))
            raise MigrationError(f"connection string parameter {key!r}: expected one of {allowed}")
        env[_URL_PARAMETERS[key]] = values[-1]
    env.setdefault("PGCONNECT_TIMEOUT", "15")
    env.setdefault("PGAPPNAME", "migrations")
    return env


class Psql:
    """psql against one database (libpq environment variables), its output redacted."""

    def __init__(self, connection: Mapping[str, str]) -> None:
        if shutil.which("psql") is None:
            raise MigrationError("psql is not installed (the postgresql client)")
        self.connection = dict(connection)
        self._secret = self.connection.get("PGPASSWORD", "")

    def with_database(self, database: str) -> Psql:
        """The same server, another database."""
        return Psql({**self.connection, "PGDATABASE": database})

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`psql -X -q -v ON_ERROR_STOP=1 ARGS`: no ~/.psqlrc, stop at the first error."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(self.connection)
        result = subprocess.run(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        return subprocess.CompletedProcess(
            result.args, result.returncode, self.redact(result.stdout), self.redact(result.stderr)
        )

    def execute(self, sql: str) -> None:
        """Run SQL the program itself wrote; fail with psql's message."""
        result = self.run("-c", sql)
        if result.returncode != 0:
            raise MigrationError(result.stderr.strip() or "psql failed", exit_code=2)

    def rows(self, sql: str) -> list[list[str]]:
        """The rows a query returns, as text (CSV, so any value survives)."""
        result = self.run("--csv", "-t", "-c", sql)
        if result.returncode != 0:
            raise MigrationError(result.stderr.strip() or "psql failed", exit_code=2)
        return [row for row in csv.reader(io.StringIO(result.stdout)) if row]

    def redact(self, text: str) -> str:
        return text.replace(self._secret, "[redacted]") if self._secret else text


def applied_versions(psql: Psql) -> set[str]:
    """Versions the history table records (it is created when missing)."""
    psql.execute(HISTORY_DDL)
    return {row[0] for row in psql.rows(f"select version from {HISTORY_TABLE}")}  # noqa: S608


def apply_pending(
    psql: Psql,
    migrations: Sequence[Migration],
    on_applied: Callable[[Migration], None] | None = None,
) -> list[Migration]:
    """Apply every migration the history does not record, in order; return those applied.

    Each one and its history row commit together or not at all. The first failure stops
    the run with psql's error: nothing of that migration stays, none after it runs.
    """
    done = applied_versions(psql)
    applied: list[Migration] = []
    for migration in migrations:
        if migration.version in done:
            continue
        migration.sql()  # refuses meta-commands before anything runs
        # Version and name are digits, lowercase letters and underscores (FILE_NAME).
        record = f"insert into {HISTORY_TABLE} (version, name) values ('{migration.version}', '{migration.name}')"  # noqa: E501, S608
        result = psql.run(
            "--single-transaction",
            "-c",
            f"select pg_advisory_xact_lock({LOCK_KEY})",
            "-f",
            str(migration.path),
            "-c",
            record,
        )
        if result.returncode != 0:
            raise MigrationError(
                f"{migration.path.name} failed, so nothing of it was applied and no later "
                f"migration ran:\n{result.stderr.strip()}",
                exit_code=1,
            )
        applied.append(migration)
        if on_applied is not None:
            on_applied(migration)
    return applied


def _summary(lines: Sequence[str]) -> None:
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as summary:
            summary.write("\n".join(lines) + "\n")


def _apply(args: argparse.Namespace) -> int:
    url = os.environ.get(args.url_env, "")
    where = f"the GitHub environment {args.environment!r}" if args.environment else "this shell"
    if not url.strip():
        raise MigrationError(
            f"{args.url_env} is not set in {where}: nothing was migrated, and the deploy stops "
            "here rather than ship an app ahead of its schema. The platform sets it only when CI "
            "can reach the database: an unrestricted database, or supabaseCiEgressCidrs listing "
            "the static egress of the runners (inside supabaseAllowedCidrs); see the platform's "
            "docs/database.md"
        )
    migrations = migration_files(Path(args.dir))
    psql = Psql(pg_environment(url))
    applied = apply_pending(psql, migrations, lambda m: print(f"applied {m.path.name}"))
    pending = len(applied)
    message = (
        f"{pending} migration(s) applied, {len(migrations) - pending} already recorded"
        if pending
        else f"no migration pending ({len(migrations)} recorded)"
    )
    print(message)
    _summary([f"**Database migrations** ({args.environment or 'local'}): {message}"])
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True)
    apply = commands.add_parser("apply", help="apply pending migrations")
    apply.add_argument("--dir", default=str(MIGRATIONS_DIR), help="the migrations directory")
    apply.add_argument(
        "--url-env", default="SUPABASE_DB_URL", help="variable holding the connection string"
    )
    apply.add_argument("--environment", default="", help="named in messages (e.g. staging)")
    args = parser.parse_args(argv)
    try:
        return _apply(args)
    except MigrationError as err:
        print(f"migrations: error: {err}", file=sys.stderr)
        return err.exit_code
    except (OSError, subprocess.SubprocessError) as err:
        print(f"migrations: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
