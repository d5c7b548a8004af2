"""The recorder fixture: the whole program per stack under the SDK's mocks.

`inventory(stack)` runs `__main__.py` with that stack's config file (plus placeholder
secrets, as `pulumi config set --secret` would add) and returns what it registered.
Runs are cached per stack, so the whole suite evaluates each stack once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import pytest
from hypothesis import settings

from tests import postgres as pg
from tools.recorder import ROOT, Inventory, record

# CI explores a fixed set of examples so a run is reproducible; locally every run
# explores new ones (and keeps failures in .hypothesis/ to replay them).
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

STACKS = ("staging", "production")

TEST_SECRETS = {
    "sentryAuthToken": "test-sentry-auth-token-0123456789",
    "supabaseAccessToken": "test-supabase-access-token-0123456789",
    "supabaseSmtpPassword": "test-supabase-smtp-password-0123456789",
    "supabaseBranchingToken": "test-supabase-branching-token-0123456789",
}
"""Placeholder secret values; tests assert that none of them leaks in plain text."""


@cache
def _recorded(stack: str) -> Inventory:
    return record(stack, secrets=TEST_SECRETS)


@pytest.fixture(scope="session")
def inventory() -> Callable[[str], Inventory]:
    """`inventory("staging")` → the staging stack's registered resources and outputs."""
    return _recorded


@pytest.fixture(scope="session", params=STACKS)
def stack_inventory(request: pytest.FixtureRequest) -> Inventory:
    """Each stack's inventory in turn, for rules that hold in every stack."""
    return _recorded(request.param)


MINIMAL_PROGRAM = ROOT / "tests" / "fixtures" / "minimal"
"""A one-resource Pulumi program, for tools that take any program directory."""


def run_tool(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m tools.<module> ARGS` from the repository root, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", f"tools.{module}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def _built(command: list[str], what: str, found: Callable[[str], Path | None]) -> Path:
    """Run an engine build `command`; `found(stdout)` says where the tool is.

    Skipped where Go is missing on a developer's machine; in CI a missing tool fails.
    """
    build = subprocess.run(command, capture_output=True, text=True, timeout=3600, check=False)
    path = found(build.stdout) if build.returncode == 0 else None
    if path is None or not path.is_file():
        message = f"{what} could not be built:\n{build.stdout[-2000:]}{build.stderr}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def actionlint() -> Path:
    """The pinned actionlint binary (built from engine/actionlint on first use)."""
    return _built(
        ["bash", str(ROOT / "engine" / "install-actionlint.sh")],
        "actionlint",
        lambda stdout: Path(stdout.strip()) if stdout.strip() else None,
    )


@pytest.fixture(scope="session")
def pulumi_cli() -> Path:
    """The real Pulumi CLI: engine/build.sh's (built on first use), or your own when
    build.sh found a compatible one on PATH and so built none."""

    def found(_stdout: str) -> Path | None:
        built = ROOT / ".engine" / "bin" / "pulumi"
        yours = shutil.which("pulumi")
        return built if built.is_file() else Path(yours) if yours else None

    return _built(["bash", str(ROOT / "engine" / "build.sh")], "the Pulumi CLI", found)


@pytest.fixture(scope="session")
def postgres() -> Iterator[pg.PostgresServer]:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (tests/postgres.py), one per session.

    Skipped, saying why, where it cannot start on a developer's machine; in CI (env CI set)
    that is a failure: the RLS check must have run on a real Postgres.
    """
    try:
        server = pg.start()
    except pg.PostgresUnavailableError as err:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL could not be started: {err}")
        pytest.skip(f"PostgreSQL could not be started: {err}")
    try:
        yield server
    finally:
        pg.stop(server)
