"""The pipeline's migration step (app_repo/.github/scripts/migrations.py) on a real Postgres:
each migration applies once, in order, with its history row; a failing one leaves nothing and
stops the run; a missing connection string stops it, naming the config that provides one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.app_scripts import SCRIPTS
from tests.postgres import PostgresServer

sys.path.insert(0, str(SCRIPTS))
import migrations as shipped

PASSWORD = "s3cret-Pw0rd-for-the-migrations-test"


def apply(
    directory: Path, url: str | None, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "GITHUB_"))}
    environ.pop("SUPABASE_DB_URL", None)
    if url is not None:
        environ["SUPABASE_DB_URL"] = url
    environ.update(env)
    return subprocess.run(
        [sys.executable, str(SCRIPTS / "migrations.py"), "apply", "--dir", str(directory), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=environ,
    )


@pytest.fixture
def database(postgres: PostgresServer, request: pytest.FixtureRequest) -> str:
    """A fresh database of its own; its URL carries a password (trust ignores it)."""
    name = "migrate_" + request.node.name.lower().replace("[", "_").replace("]", "")[:40]
    postgres.psql(f'drop database if exists "{name}" with (force)')
    postgres.psql(f'create database "{name}"')
    return f"postgresql://postgres:{PASSWORD}@{postgres.host}:{postgres.port}/{name}"


def write(directory: Path, name: str, sql: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(sql)


def rows(postgres: PostgresServer, url: str, sql: str) -> str:
    return postgres.psql(sql, database=url.rsplit("/", 1)[1])


def test_each_migration_applies_once_in_order_with_its_history_row(
    postgres: PostgresServer, database: str, tmp_path: Path
) -> None:
    directory = tmp_path / "migrations"
    write(directory, "20260102000000_add_title.sql", "alter table items add column title text;")
    write(directory, "20260101000000_create_items.sql", "create table items (id int);")
    summary = tmp_path / "summary.md"
    first = apply(directory, database, "--environment", "staging", GITHUB_STEP_SUMMARY=str(summary))
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        "applied 20260101000000_create_items.sql",
        "applied 20260102000000_add_title.sql",
        "2 migration(s) applied, 0 already recorded",
    ]
    assert "**Database migrations** (staging): 2 migration(s) applied" in summary.read_text()
    history = rows(
        postgres,
        database,
        "select version || ' ' || name from supabase_migrations.schema_migrations order by 1",
    )
    assert history.splitlines() == ["20260101000000 create_items", "20260102000000 add_title"]

    again = apply(directory, database)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "no migration pending (2 recorded)"

    write(directory, "20260103000000_seed.sql", "insert into items (id, title) values (1, 'a');")
    third = apply(directory, database)
    assert third.stdout.splitlines()[0] == "applied 20260103000000_seed.sql"
    assert rows(postgres, database, "select count(*) from items") == "1"


def test_a_failing_migration_leaves_nothing_and_stops_the_run(
    postgres: PostgresServer, database: str, tmp_path: Path
) -> None:
    directory = tmp_path / "migrations"
    write(directory, "20260101000000_create_items.sql", "create table items (id int);")
    write(
        directory,
        "20260102000000_half.sql",
        "create table halfway (id int);\ninsert into items values ('not a number');",
    )
    write(directory, "20260103000000_after.sql", "create table after_it (id int);")
    result = apply(directory, database)
    assert result.returncode == 1
    assert result.stdout.splitlines() == ["applied 20260101000000_create_items.sql"]
    assert result.stderr.startswith(
        "migrations: error: 20260102000000_half.sql failed, so nothing of it was applied and "
        "no later migration ran:"
    )
    assert "invalid input syntax for type integer" in result.stderr
    tables = rows(postgres, database, "select string_agg(tablename, ',' order by tablename) "
                  "from pg_tables where schemaname = 'public'")  # fmt: skip
    assert tables == "items", "the failed migration's first statement was rolled back"
    history = rows(postgres, database, "select count(*) from supabase_migrations.schema_migrations")
    assert history == "1"
    assert PASSWORD not in result.stdout + result.stderr


def test_without_a_connection_string_the_deploy_stops_naming_the_config(tmp_path: Path) -> None:
    directory = tmp_path / "migrations"
    write(directory, "20260101000000_create_items.sql", "create table items (id int);")
    result = apply(directory, None, "--environment", "production")
    assert result.returncode == 2
    message = result.stderr
    assert message.startswith(
        "migrations: error: SUPABASE_DB_URL is not set in the GitHub environment 'production'"
    )
    for named in ("supabaseCiEgressCidrs", "supabaseAllowedCidrs", "the deploy stops here"):
        assert named in message
    assert "Traceback" not in message


def test_psql_meta_commands_are_refused_before_anything_runs(
    postgres: PostgresServer, database: str, tmp_path: Path
) -> None:
    directory = tmp_path / "migrations"
    write(directory, "20260101000000_shell.sql", "create table t (id int);\n\\! touch pwned\n")
    result = apply(directory, database)
    assert result.returncode == 2
    assert "20260101000000_shell.sql:2: a psql meta-command" in result.stderr
    assert not (tmp_path / "pwned").exists()
    assert rows(postgres, database, "select to_regclass('public.t') is null") == "t"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql://postgres:p%40ss@db.abc.supabase.co:5432/postgres?sslmode=require",
            {
                "PGHOST": "db.abc.supabase.co",
                "PGPORT": "5432",
                "PGUSER": "postgres",
                "PGPASSWORD": "p@ss",
                "PGDATABASE": "postgres",
                "PGSSLMODE": "require",
                "PGCONNECT_TIMEOUT": "15",
                "PGAPPNAME": "migrations",
            },
        ),
        (
            "postgres://u@localhost",
            {
                "PGHOST": "localhost",
                "PGPORT": "5432",
                "PGUSER": "u",
                "PGDATABASE": "postgres",
                "PGCONNECT_TIMEOUT": "15",
                "PGAPPNAME": "migrations",
            },
        ),
    ],
)
def test_a_connection_string_becomes_libpq_variables(url: str, expected: dict[str, str]) -> None:
    assert shipped.pg_environment(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u@h/db", "not a postgresql://user@host/db URL"),
        ("postgresql://u@h/db?options=-c%20x", "parameter 'options': expected one of"),
    ],
)
def test_an_unusable_connection_string_is_refused(url: str, message: str) -> None:
    with pytest.raises(shipped.MigrationError, match=message):
        shipped.pg_environment(url)


def test_file_names_follow_the_convention_and_versions_are_unique(tmp_path: Path) -> None:
    write(tmp_path, "20260101000000_a.sql", "select 1;")
    write(tmp_path, "README.md", "not a migration")
    assert [m.stem for m in shipped.migration_files(tmp_path)] == ["20260101000000_a"]
    write(tmp_path, "20260101000000_b.sql", "select 2;")
    with pytest.raises(shipped.MigrationError, match="version 20260101000000 used by two files"):
        shipped.migration_files(tmp_path)
    with pytest.raises(shipped.MigrationError, match="no migrations directory"):
        shipped.migration_files(tmp_path / "missing")
