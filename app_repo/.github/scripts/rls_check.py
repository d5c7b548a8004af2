"""Row-level security check (rule S2) of the app's migrations, on a real Postgres.

    python3 .github/scripts/rls_check.py [--dir supabase/migrations] [--schemas api,...]
                                         [--keep-as local]

Creates a fresh database on the server RLS_CHECK_DATABASE_URL names (CI: the job's postgres
service; locally: the compose stack of docker-compose.yml), creates the stand-ins of what
Supabase provides and migrations rely on (below), applies every migration in order exactly as
the deploy does (migrations.py), then reads the catalog. It fails, naming each table and the
migration that created it, when a table in an exposed schema (`public`, plus `--schemas`):

- does not enable row-level security: the Data API would serve every row to anyone holding
  the public anon key;
- has no policy: nobody but the service role can reach it, which is rarely what was meant
  (say so with an explicit `using (false)` policy);
- lets `anon` (or `public`, which includes it) INSERT, UPDATE or DELETE without a condition:
  a permissive write policy whose deciding expression is missing or `true` (INSERT: its
  WITH CHECK; UPDATE, DELETE and ALL: its USING; ALL: a WITH CHECK of `true` too).

Stand-ins, created first because Supabase has them and a plain Postgres does not: the roles
`anon`, `authenticated` (no login) and `service_role` (no login, bypasses RLS); the schema
`auth` with a minimal `auth.users (id uuid primary key, email text)`, and `auth.uid()`,
`auth.role()` and `auth.jwt()` reading the request's JWT claims the way Supabase's do; the
schema `extensions`. Roles are per server, so they are created only where missing. The
database is dropped afterwards; with `--keep-as NAME` it is (re)made under that name and kept,
which gives a developer a local database with every migration applied.

Exit status: 0 every table passes; 1 a table fails (or a migration does); 2 unusable input.
Standard library and psql only; it runs the pull request's SQL in a job that holds no
credential.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from migrations import (
    MIGRATIONS_DIR,
    Migration,
    MigrationError,
    Psql,
    apply_pending,
    migration_files,
    pg_environment,
)

URL_ENV = "RLS_CHECK_DATABASE_URL"
"""The server to check on (a maintenance database of it): e.g. postgresql://postgres@localhost/postgres."""
DEFAULT_SCHEMA = "public"
RESERVED_SCHEMAS = ("auth", "extensions", "supabase_migrations", "information_schema")
"""Schemas the stand-ins or Postgres own: never exposed, so never checked."""
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

STAND_INS = """
do $$
begin
  if not exists (select from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
end
$$;
create schema if not exists extensions;
create schema if not exists auth;
create table if not exists auth.users (id uuid primary key, email text);
create or replace function auth.jwt() returns jsonb language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;
create or replace function auth.uid() returns uuid language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;
create or replace function auth.role() returns text language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;
grant usage on schema auth, extensions to anon, authenticated, service_role;
grant usage on schema public to anon, authenticated, service_role;
"""

TABLES = """
select n.nspname, c.relname, c.relrowsecurity,
       (select count(*) from pg_policy p where p.polrelid = c.oid)
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p') and n.nspname in ({schemas})
order by 1, 2
"""

TABLE_NAMES = """
select n.nspname, c.relname
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p') and n.nspname in ({schemas})
"""

ANON_WRITES = """
select n.nspname, c.relname, p.polname, p.polcmd,
       coalesce(pg_get_expr(p.polqual, p.polrelid), ''),
       coalesce(pg_get_expr(p.polwithcheck, p.polrelid), ''),
       (p.polqual is null)::text, (p.polwithcheck is null)::text
from pg_policy p
join pg_class c on c.oid = p.polrelid
join pg_namespace n on n.oid = c.relnamespace
where n.nspname in ({schemas})
  and p.polpermissive
  and p.polcmd in ('a', 'w', 'd', '*')
  and (0 = any(p.polroles)
       or (select oid from pg_roles where rolname = 'anon') = any(p.polroles))
order by 1, 2, 3
"""
_COMMANDS = {"a": "INSERT", "w": "UPDATE", "d": "DELETE", "*": "ALL"}


@dataclass(frozen=True)
class Finding:
    """One table breaking rule S2."""

    table: str
    """`schema.table`."""
    problem: str
    created_by: str
    """The migration file that created the table."""

    def __str__(self) -> str:
        # Table and policy names come from the pull request: never let one carry a line
        # break (a forged workflow command) into the log.
        text = f"{self.table}: {self.problem} (created by {self.created_by})"
        return "".join(c if c.isprintable() else "?" for c in text)


def qualified(schema: str, table: str) -> str:
    """`schema.table` as SQL writes it: quoted where a name is not a plain identifier."""
    return ".".join(
        n if _IDENTIFIER.fullmatch(n) else '"' + n.replace('"', '""') + '"' for n in (schema, table)
    )


def unconditional(expression: str, missing: bool) -> bool:
    """Whether a policy expression lets every row through: absent, or literally `true`."""
    return missing or re.sub(r"[\s()]", "", expression).lower() == "true"


def anon_write_problem(
    command: str, using: str, using_missing: bool, check: str, check_missing: bool
) -> str | None:
    """Why a permissive policy for anon (or public) grants writes without a condition."""
    if command == "a" and unconditional(check, check_missing):
        return "inserts any row"
    if command in ("w", "d", "*") and unconditional(using, using_missing):
        return {"w": "updates any row", "d": "deletes any row", "*": "writes any row"}[command]
    if command in ("w", "*") and not check_missing and unconditional(check, False):
        return "writes any new row (WITH CHECK true)"
    return None


def check(psql: Psql, schemas: Sequence[str], created_by: dict[str, str]) -> list[Finding]:
    """Every table in `schemas` against rule S2."""
    listed = ", ".join(f"'{schema}'" for schema in schemas)
    findings: list[Finding] = []
    for schema, table, rls, policies in psql.rows(TABLES.format(schemas=listed)):
        name = qualified(schema, table)
        origin = created_by.get(name, "unknown")
        if rls != "t":
            findings.append(
                Finding(
                    name,
                    f"row-level security is not enabled: alter table {name} enable row level "
                    "security",
                    origin,
                )
            )
        elif policies == "0":
            findings.append(
                Finding(
                    name,
                    "no policy: add the policies that say who may read and write (a table only "
                    "the service role uses says so with `using (false)`)",
                    origin,
                )
            )
    for row in psql.rows(ANON_WRITES.format(schemas=listed)):
        schema, table, policy, command, using, with_check, using_missing, check_missing = row
        problem = anon_write_problem(
            command, using, using_missing == "true", with_check, check_missing == "true"
        )
        if problem is not None:
            name = qualified(schema, table)
            findings.append(
                Finding(
                    name,
                    f"policy {policy!r} ({_COMMANDS[command]}) lets anon write without a "
                    f"condition: it {problem}",
                    created_by.get(name, "unknown"),
                )
            )
    return findings


def exposed_schemas(extra: str) -> list[str]:
    """`public` and the comma-separated `extra` ones, each a plain identifier."""
    schemas = [DEFAULT_SCHEMA]
    for item in (part.strip() for part in extra.split(",")):
        if not item or item in schemas:
            continue
        if not _IDENTIFIER.fullmatch(item) or item.startswith("pg_") or item in RESERVED_SCHEMAS:
            raise MigrationError(
                f"--schemas: {item!r} is not allowed; expected lowercase schema names, none of "
                f"{', '.join(RESERVED_SCHEMAS)} or pg_*"
            )
        schemas.append(item)
    return schemas


def run(
    server: Psql, migrations: Sequence[Migration], schemas: Sequence[str], keep_as: str = ""
) -> list[Finding]:
    """Apply `migrations` to a fresh database on `server` and check it; drop it afterwards,
    or keep it as `keep_as`."""
    database = keep_as or f"rls_check_{secrets.token_hex(6)}"
    if keep_as:
        server.execute(f'drop database if exists "{database}" with (force)')
    server.execute(f'create database "{database}"')
    try:
        fresh = server.with_database(database)
        fresh.execute(STAND_INS)
        listed = ", ".join(f"'{schema}'" for schema in schemas)
        created_by: dict[str, str] = {}

        def note_tables(migration: Migration) -> None:
            for schema, table in fresh.rows(TABLE_NAMES.format(schemas=listed)):
                created_by.setdefault(qualified(schema, table), migration.path.name)

        apply_pending(fresh, migrations, note_tables)
        return check(fresh, schemas, created_by)
    finally:
        if not keep_as:
            server.execute(f'drop database if exists "{database}" with (force)')


def _report(
    findings: Sequence[Finding], schemas: Sequence[str], seconds: float, count: int
) -> None:
    annotate = os.environ.get("GITHUB_ACTIONS") == "true"
    for finding in findings:
        print(f"rls_check: {finding}", file=sys.stderr)
        if annotate:
            path = f"{MIGRATIONS_DIR}/{finding.created_by}"
            print(f"::error file={path},title=Row-level security (S2)::{finding}")
    verdict = (
        f"{len(findings)} problem(s)"
        if findings
        else "every table enables row-level security, has a policy, and lets anon write only "
        "under a condition"
    )
    line = (
        f"RLS check of {', '.join(schemas)} after {count} migration(s): {verdict} ({seconds:.1f} s)"
    )
    print(line)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as out:
            out.write(f"**{line}**\n\n" + "".join(f"- {f}\n" for f in findings))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dir", default=str(MIGRATIONS_DIR), help="the migrations directory")
    parser.add_argument(
        "--schemas", default="", help="exposed schemas besides public, comma-separated"
    )
    parser.add_argument(
        "--keep-as", default="", help="keep the checked database under this name (local use)"
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        url = os.environ.get(URL_ENV, "")
        if not url.strip():
            raise MigrationError(
                f"{URL_ENV} is not set: the Postgres server to check on, e.g. "
                "postgresql://postgres@127.0.0.1:54332/postgres (docker compose up -d)"
            )
        schemas = exposed_schemas(args.schemas)
        if args.keep_as and not _IDENTIFIER.fullmatch(args.keep_as):
            raise MigrationError(f"--keep-as: {args.keep_as!r} is not a lowercase database name")
        migrations = migration_files(Path(args.dir))
        findings = run(Psql(pg_environment(url)), migrations, schemas, args.keep_as)
    except MigrationError as err:
        print(f"rls_check: error: {err}", file=sys.stderr)
        return err.exit_code
    except OSError as err:
        print(f"rls_check: error: {err}", file=sys.stderr)
        return 2
    _report(findings, schemas, time.monotonic() - started, len(migrations))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
