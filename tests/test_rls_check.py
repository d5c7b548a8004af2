"""The app's RLS check (rule S2) on a real Postgres: the shipped migration passes, and each class
of failure fails naming the table and the migration that created it.

The checker runs as CI runs it: `python3 .github/scripts/rls_check.py` against a throwaway
cluster (the `postgres` fixture), on migration files written here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from components.github.app_files import APP_REPO_DIR
from components.github.workflow_yaml import jobs, load_yaml
from tests.app_scripts import SCRIPTS, migrations_dir
from tests.postgres import PostgresServer
from tests.step_runner import WORKFLOWS

STARTER = "20260101000000_create_notes.sql"


def rls_check(
    server: PostgresServer | None, directory: Path, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "GITHUB_"))}
    if server is not None:
        environ["RLS_CHECK_DATABASE_URL"] = server.url()
    environ.update(env)
    return subprocess.run(
        [sys.executable, str(SCRIPTS / "rls_check.py"), "--dir", str(directory), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=environ,
    )


def test_the_shipped_migration_passes_on_a_real_postgres(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    started = time.monotonic()
    result = rls_check(postgres, migrations_dir(tmp_path))
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    assert "RLS check of public after 1 migration(s): every table enables row-level" in (
        result.stdout
    )
    assert seconds < 20, seconds
    # The check's own database is gone again; only the cluster's own remain.
    databases = postgres.psql("select datname from pg_database where datname like 'rls_check_%'")
    assert databases == ""


FAILURES = {
    "without RLS": (
        "create table public.open_notes (id bigint primary key, body text);",
        "public.open_notes: row-level security is not enabled",
    ),
    "without a policy": (
        "create table public.locked (id bigint primary key);\n"
        "alter table public.locked enable row level security;",
        "public.locked: no policy",
    ),
    "anon inserts with check true": (
        "create table public.guestbook (id bigint primary key, body text);\n"
        "alter table public.guestbook enable row level security;\n"
        "create policy anyone_reads on public.guestbook for select using (true);\n"
        "create policy anyone_signs on public.guestbook for insert to anon with check (true);",
        "public.guestbook: policy 'anyone_signs' (INSERT) lets anon write without a condition: "
        "it inserts any row",
    ),
    "anon inserts with no check at all": (
        "create table public.votes (id bigint primary key);\n"
        "alter table public.votes enable row level security;\n"
        "create policy vote on public.votes for insert to anon;",
        "public.votes: policy 'vote' (INSERT) lets anon write without a condition",
    ),
    "public updates using true": (
        "create table public.counters (id bigint primary key, n int);\n"
        "alter table public.counters enable row level security;\n"
        "create policy bump on public.counters for update using (true) "
        "with check (n >= 0);",
        "public.counters: policy 'bump' (UPDATE) lets anon write without a condition: "
        "it updates any row",
    ),
    "anon deletes without a qual": (
        "create table public.trash (id bigint primary key);\n"
        "alter table public.trash enable row level security;\n"
        "create policy empty on public.trash for delete to anon using ((true));",
        "public.trash: policy 'empty' (DELETE) lets anon write without a condition",
    ),
    "anon ALL with a conditional using but check true": (
        "create table public.drafts (id bigint primary key, owner_id uuid);\n"
        "alter table public.drafts enable row level security;\n"
        "create policy mine on public.drafts for all to anon, authenticated "
        "using (owner_id = auth.uid()) with check (true);",
        "public.drafts: policy 'mine' (ALL) lets anon write without a condition: "
        "it writes any new row (WITH CHECK true)",
    ),
}


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_each_failure_names_the_table_and_its_migration(
    postgres: PostgresServer, tmp_path: Path, case: str
) -> None:
    sql, expected = FAILURES[case]
    directory = migrations_dir(tmp_path, ("20260201000000_change.sql", sql))
    result = rls_check(postgres, directory, GITHUB_ACTIONS="true")
    assert result.returncode == 1, result.stdout + result.stderr
    assert expected in result.stderr
    assert "(created by 20260201000000_change.sql)" in result.stderr
    # On GitHub the finding is also an error annotation on the migration file.
    assert "::error file=supabase/migrations/20260201000000_change.sql," in result.stdout
    assert "1 problem(s)" in result.stdout


def test_reads_conditions_and_other_roles_pass(postgres: PostgresServer, tmp_path: Path) -> None:
    """Public reads, anon writes under a condition, restrictive policies and signed-in users'
    writes are not what S2 forbids."""
    sql = """
create table public.posts (id bigint primary key, owner_id uuid, published boolean);
alter table public.posts enable row level security;
create policy everyone_reads on public.posts for select to anon using (published);
create policy anon_submits on public.posts for insert to anon with check (published = false);
create policy no_deletes on public.posts as restrictive for delete to anon using (true);
create policy owners_write on public.posts for update to authenticated using (true);
create table public.service_only (id bigint primary key);
alter table public.service_only enable row level security;
create policy nobody on public.service_only using (false);
"""
    result = rls_check(postgres, migrations_dir(tmp_path, ("20260201000000_posts.sql", sql)))
    assert result.returncode == 0, result.stdout + result.stderr


def test_configured_schemas_are_checked_too(postgres: PostgresServer, tmp_path: Path) -> None:
    sql = "create schema api;\ncreate table api.reports (id bigint primary key);"
    directory = migrations_dir(tmp_path, ("20260201000000_api.sql", sql))
    assert rls_check(postgres, directory).returncode == 0, "api is not exposed: not checked"
    exposed = rls_check(postgres, directory, "--schemas", "api")
    assert exposed.returncode == 1
    assert "api.reports: row-level security is not enabled" in exposed.stderr
    assert "RLS check of public, api" in exposed.stdout


@pytest.mark.parametrize("schema", ["auth", "pg_catalog", "Public;drop"])
def test_a_reserved_or_odd_schema_is_refused(tmp_path: Path, schema: str) -> None:
    result = rls_check(
        None, migrations_dir(tmp_path), "--schemas", schema, RLS_CHECK_DATABASE_URL="x"
    )
    assert result.returncode == 2
    assert f"--schemas: {schema!r} is not allowed" in result.stderr


def test_a_failing_migration_stops_the_check(postgres: PostgresServer, tmp_path: Path) -> None:
    directory = migrations_dir(
        tmp_path, ("20260201000000_typo.sql", "create tabel public.x (id int);")
    )
    result = rls_check(postgres, directory)
    assert result.returncode == 1
    assert "20260201000000_typo.sql failed, so nothing of it was applied" in result.stderr
    assert 'syntax error at or near "tabel"' in result.stderr
    assert "Traceback" not in result.stderr


def test_unusable_input_is_one_clear_line(tmp_path: Path) -> None:
    no_server = rls_check(None, migrations_dir(tmp_path))
    assert no_server.returncode == 2
    assert no_server.stderr.startswith("rls_check: error: RLS_CHECK_DATABASE_URL is not set")
    bad = migrations_dir(tmp_path / "b", ("add_table.sql", "select 1;"))
    misnamed = rls_check(None, bad, RLS_CHECK_DATABASE_URL="postgresql://x@127.0.0.1/postgres")
    assert misnamed.returncode == 2
    assert "add_table.sql not named <14-digit version>_<lowercase name>.sql" in misnamed.stderr
    for result in (no_server, misnamed):
        assert "Traceback" not in result.stderr


def test_a_table_name_cannot_forge_a_workflow_command(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    sql = 'create table public."x\n::warning::forged" (id int);'
    result = rls_check(postgres, migrations_dir(tmp_path, ("20260201000000_odd.sql", sql)))
    assert result.returncode == 1
    assert "\n::warning::" not in result.stdout + result.stderr
    assert 'public."x?::warning::forged": row-level security is not enabled' in result.stderr


def test_keep_as_leaves_a_local_database_with_every_migration(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    directory = migrations_dir(tmp_path)
    for _ in range(2):  # rebuilt from scratch each time, not migrated on top
        result = rls_check(postgres, directory, "--keep-as", "local_dev")
        assert result.returncode == 0, result.stderr
    tables = postgres.psql(
        "select string_agg(tablename, ',') from pg_tables where schemaname = 'public'",
        database="local_dev",
    )
    assert tables == "notes"
    assert postgres.psql("select count(*) from supabase_migrations.schema_migrations", "local_dev")
    refused = rls_check(postgres, directory, "--keep-as", "Local;drop")
    assert refused.returncode == 2 and "is not a lowercase database name" in refused.stderr


def test_the_local_stack_runs_the_postgres_ci_checks_on() -> None:
    """One pinned Postgres for the developer's compose stack and the RLS check's service, bound
    to the loopback address only (it trusts every connection)."""
    compose = load_yaml(APP_REPO_DIR / "supabase" / "docker-compose.yml")
    (local,) = compose["services"].values()
    (service,) = jobs(load_yaml(WORKFLOWS[".github/workflows/deploy.yml"]))["rls-check"][
        "services"
    ].values()
    assert local["image"] == service["image"]
    assert "@sha256:" in local["image"]
    assert local["environment"] == service["env"] == {"POSTGRES_HOST_AUTH_METHOD": "trust"}
    assert [port.split(":")[0] for port in local["ports"]] == ["127.0.0.1"]
    port = local["ports"][0].split(":")[1]
    readme = (APP_REPO_DIR / "supabase" / "README.md").read_text()
    assert f"postgresql://postgres@127.0.0.1:{port}/postgres" in readme
    assert "rls_check.py --keep-as local" in readme
