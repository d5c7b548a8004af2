"""The delivery tools through the real Pulumi CLI (`make engine-check`; marker `engine`).

- `make bootstrap` of both stacks on a local file backend, each with its own passphrase:
  staging's key cannot decrypt production's config (S14), a second run changes nothing,
  a shared passphrase is refused, and what is missing is said; no secret is ever printed.
- The D2 mechanism `up.yml` relies on: a plan saved by `pulumi preview --save-plan` is
  applied by `pulumi up --plan`, and a program changed after the plan is refused.
- The deploy guard on the history the CLI really records.
- `make preview` with credentials and no CLI of your own: the build branch.

Everything runs in temporary directories; the repository's files are never touched.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from tools.recorder import ROOT

pytestmark = pytest.mark.engine

STAGING_PASSPHRASE = "staging-only-passphrase-7f3a"
PRODUCTION_PASSPHRASE = "production-only-passphrase-c41e"
STAGING_SUPABASE = "sbp-staging-test-token-0123"
PRODUCTION_SUPABASE = "sbp-production-test-token-4567"
PRODUCTION_SENTRY = "sentry-production-test-token-89ab"
SECRET_VALUES = (
    STAGING_PASSPHRASE,
    PRODUCTION_PASSPHRASE,
    STAGING_SUPABASE,
    PRODUCTION_SUPABASE,
    PRODUCTION_SENTRY,
)
CLEARED = (
    "PULUMI_ACCESS_TOKEN",
    "PULUMI_BACKEND_URL",
    "PULUMI_CONFIG_PASSPHRASE",
    "PULUMI_CONFIG_PASSPHRASE_FILE",
    "SECRETS_PROVIDER",
    "BOOTSTRAP_SENTRY_AUTH_TOKEN",
    "BOOTSTRAP_SUPABASE_ACCESS_TOKEN",
    "GITHUB_TOKEN",
    "VERCEL_API_TOKEN",
    "SENTRY_AUTH_TOKEN",
    "SENTRY_TOKEN",
)


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def _copy_of_the_program(target: Path) -> Path:
    """The working tree's files (as a fresh clone would have them), committed in a new repo.
    Timestamps are kept, so `make` in the copy sees the repository's virtualenv as current."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    target.mkdir()
    subprocess.run(
        ["xargs", "-0", "cp", "-p", "--parents", "-t", str(target)],
        cwd=ROOT,
        input=files,
        check=True,
    )
    _git(target, "init", "-q")
    _git(target, "add", "-A")
    _git(target, "commit", "-q", "-m", "copy")
    return target


class Shell:
    """Commands as a user with the CLI on PATH, a local backend and no other credential."""

    def __init__(self, tmp: Path, pulumi_cli: Path) -> None:
        self.env = {k: v for k, v in os.environ.items() if k not in CLEARED}
        self.env.update(
            PATH=f"{pulumi_cli.parent}:{os.environ['PATH']}",
            PULUMI_HOME=str(tmp / "home"),
            PULUMI_BACKEND_URL=f"file://{tmp / 'state'}",
            PULUMI_SKIP_UPDATE_CHECK="true",
            # The language host engine/build.sh builds takes its interpreter from here.
            PULUMI_PYTHON_CMD=str(ROOT / "venv" / "bin" / "python"),
        )
        (tmp / "state").mkdir()

    def run(
        self, args: list[str], cwd: Path, stdin: str | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args,
            cwd=cwd,
            env={**self.env, **env},
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )


@pytest.fixture
def shell(tmp_path: Path, pulumi_cli: Path) -> Shell:
    return Shell(tmp_path, pulumi_cli)


def _no_secret_in(*texts: str) -> None:
    for value in SECRET_VALUES:
        assert all(value not in text for text in texts), "a secret value was printed"


def test_bootstrap_gives_each_stack_its_own_key(tmp_path: Path, shell: Shell) -> None:
    program = _copy_of_the_program(tmp_path / "program")

    def bootstrap(stack: str, **env: str) -> subprocess.CompletedProcess[str]:
        make = ["make", "-s", "--no-print-directory", f"VENV={ROOT / 'venv'}"]
        result = shell.run([*make, "bootstrap", f"STACK={stack}"], program, **env)
        _no_secret_in(result.stdout, result.stderr)
        return result

    def config_get(stack: str, key: str, passphrase: str) -> subprocess.CompletedProcess[str]:
        args = ["pulumi", "config", "get", key, "--stack", stack, "--non-interactive"]
        return shell.run(args, program, PULUMI_CONFIG_PASSPHRASE=passphrase)

    # Without a passphrase of its own, nothing is created.
    refused = bootstrap("staging")
    assert refused.returncode != 0
    assert "needs this stack's own PULUMI_CONFIG_PASSPHRASE" in refused.stderr

    # First run: created; the token not given yet is what is missing.
    first = bootstrap("staging", PULUMI_CONFIG_PASSPHRASE=STAGING_PASSPHRASE)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(f"bootstrap: staging on file://{tmp_path / 'state'}\n")
    assert "stack: created with its own secrets provider (passphrase)" in first.stdout
    assert "supabaseAccessToken: not set (optional" in first.stdout
    assert "- commit Pulumi.staging.yaml" in first.stdout
    assert "GitHub environment staging-pr" in first.stdout

    # Second run with the token: set, encrypted, never in plain text.
    second = bootstrap(
        "staging",
        PULUMI_CONFIG_PASSPHRASE=STAGING_PASSPHRASE,
        BOOTSTRAP_SUPABASE_ACCESS_TOKEN=STAGING_SUPABASE,
        BOOTSTRAP_SENTRY_AUTH_TOKEN=PRODUCTION_SENTRY,
    )
    assert second.returncode == 0, second.stderr
    assert "stack: exists (secrets provider passphrase); left as it is" in second.stdout
    assert "supabaseAccessToken: set from BOOTSTRAP_SUPABASE_ACCESS_TOKEN" in second.stdout
    assert "sentryAuthToken: not used by staging (ignored BOOTSTRAP_SENTRY_AUTH_TOKEN)" in (
        second.stdout
    )
    staging_file = (program / "Pulumi.staging.yaml").read_text()
    assert (
        "encryptionsalt: v1:" in staging_file
        and "supabaseAccessToken:\n    secure: v1:" in staging_file
    )
    _no_secret_in(staging_file)

    # Third run, same values: nothing changes, not even the ciphertexts.
    third = bootstrap(
        "staging",
        PULUMI_CONFIG_PASSPHRASE=STAGING_PASSPHRASE,
        BOOTSTRAP_SUPABASE_ACCESS_TOKEN=STAGING_SUPABASE,
    )
    assert third.returncode == 0, third.stderr
    assert "supabaseAccessToken: unchanged" in third.stdout
    assert (program / "Pulumi.staging.yaml").read_text() == staging_file

    # Production with staging's passphrase: refused before anything is created (S14).
    shared = bootstrap(
        "production",
        PULUMI_CONFIG_PASSPHRASE=STAGING_PASSPHRASE,
        BOOTSTRAP_SUPABASE_ACCESS_TOKEN=PRODUCTION_SUPABASE,
    )
    assert shared.returncode != 0
    assert "also decrypts staging's secrets: give production its own passphrase" in shared.stderr
    listed = shell.run(["pulumi", "stack", "ls", "--output", "json"], program).stdout
    assert '"production"' not in listed

    # Production with its own passphrase.
    production = bootstrap(
        "production",
        PULUMI_CONFIG_PASSPHRASE=PRODUCTION_PASSPHRASE,
        BOOTSTRAP_SUPABASE_ACCESS_TOKEN=PRODUCTION_SUPABASE,
        BOOTSTRAP_SENTRY_AUTH_TOKEN=PRODUCTION_SENTRY,
    )
    assert production.returncode == 0, production.stderr
    assert "S14: production's passphrase does not decrypt staging's secrets" in production.stdout
    assert "sentryAuthToken: set from BOOTSTRAP_SENTRY_AUTH_TOKEN" in production.stdout
    _no_secret_in((program / "Pulumi.production.yaml").read_text())

    # The proof: each key opens its own stack and not the other's.
    assert config_get(
        "production", "supabaseAccessToken", PRODUCTION_PASSPHRASE
    ).stdout.strip() == (PRODUCTION_SUPABASE)
    assert config_get("staging", "supabaseAccessToken", STAGING_PASSPHRASE).stdout.strip() == (
        STAGING_SUPABASE
    )
    for stack, key, wrong in (
        ("production", "supabaseAccessToken", STAGING_PASSPHRASE),
        ("production", "sentryAuthToken", STAGING_PASSPHRASE),
        ("staging", "supabaseAccessToken", PRODUCTION_PASSPHRASE),
    ):
        attempt = config_get(stack, key, wrong)
        assert attempt.returncode != 0 and "incorrect passphrase" in attempt.stderr
        _no_secret_in(attempt.stdout)


def test_bootstrap_without_a_backend_says_how_to_get_one(tmp_path: Path, shell: Shell) -> None:
    env = {k: v for k, v in shell.env.items() if k != "PULUMI_BACKEND_URL"}
    result = subprocess.run(
        [f"{ROOT / 'venv' / 'bin' / 'python'}", "-m", "tools.bootstrap", "staging"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("bootstrap: staging: no Pulumi backend: log in with")
    assert "Traceback" not in result.stderr


PLANNED_PROGRAM = """
import pulumi

config = pulumi.Config()
pulumi.export("size", config.require("size"))
pulumi.export("token", config.require_secret("token"))
"""


def test_the_applied_plan_is_the_approved_one_and_older_commits_are_refused(
    tmp_path: Path, shell: Shell
) -> None:
    """What up.yml's plan and production jobs do, with the same commands: a plan saved by
    `preview --save-plan` is what `up --plan` applies; a program changed after the plan is
    refused; the deploy guard, on the history the CLI recorded, refuses an older commit."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: planned\nruntime: python\n")
    (project / "__main__.py").write_text(PLANNED_PROGRAM)
    plan = tmp_path / "plan.json"

    def pulumi(
        *args: str, stdin: str | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        command = ["pulumi", *args, "--stack", "production", "--non-interactive"]
        return shell.run(
            command, project, stdin, PULUMI_CONFIG_PASSPHRASE=PRODUCTION_PASSPHRASE, **env
        )

    def commit(message: str) -> str:
        _git(project, "add", "-A")
        _git(project, "commit", "-q", "-m", message)
        return _git(project, "rev-parse", "HEAD")

    _git(project, "init", "-q")
    assert pulumi("stack", "init").returncode == 0
    assert pulumi("config", "set", "size", "small").returncode == 0
    assert pulumi("config", "set", "--secret", "token", stdin="t0ps3cret").returncode == 0
    older = commit("older")
    assert pulumi("up", "--yes").returncode == 0

    assert pulumi("config", "set", "size", "large").returncode == 0
    newer = commit("newer")
    saved = pulumi("preview", "--save-plan", str(plan))
    assert saved.returncode == 0, saved.stderr
    assert "t0ps3cret" not in plan.read_text(), "the plan artifact holds ciphertexts only"
    applied = pulumi("up", "--yes", "--plan", str(plan), PULUMI_EXPERIMENTAL="true")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert pulumi("stack", "output", "size").stdout.strip() == "large"

    history = tmp_path / "history.json"
    history.write_text(pulumi("stack", "history", "--output", "json").stdout)

    def guard(sha: str) -> subprocess.CompletedProcess[str]:
        args = ["--stack", "production", "--history", str(history), "--commit", sha]
        module = [sys.executable, "-m", "tools.deploy_guard"]
        return shell.run([*module, *args, "--repo", str(project)], ROOT)

    refused = guard(older)
    assert refused.returncode == 1 and f"production last applied {newer[:12]}" in refused.stdout
    assert guard(newer).returncode == 0

    # A program changed after the plan: refused, and nothing of it is applied.
    assert pulumi("preview", "--save-plan", str(plan)).returncode == 0
    (project / "__main__.py").write_text(PLANNED_PROGRAM + 'pulumi.export("extra", "unplanned")\n')
    assert pulumi("up", "--yes", "--plan", str(plan), PULUMI_EXPERIMENTAL="true").returncode != 0
    assert "extra" not in pulumi("stack", "output", "--json").stdout


def test_make_preview_with_credentials_and_no_cli_of_yours_builds_then_previews(
    tmp_path: Path, shell: Shell, pulumi_cli: Path
) -> None:
    if pulumi_cli != ROOT / ".engine" / "bin" / "pulumi":
        pytest.skip("build.sh builds no CLI here: it uses your own pulumi")
    env: Mapping[str, str] = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/go/bin:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHON": sys.executable,
        "PULUMI_BACKEND_URL": shell.env["PULUMI_BACKEND_URL"],
        "PULUMI_HOME": shell.env["PULUMI_HOME"],
        "GITHUB_TOKEN": "gh-test",
        "VERCEL_API_TOKEN": "0" * 24,
        "SENTRY_AUTH_TOKEN": "sentry-test",
        "GOPATH": os.environ.get("GOPATH", str(Path.home() / "go")),
        "GOCACHE": os.environ.get("GOCACHE", str(Path.home() / ".cache" / "go-build")),
    }
    result = subprocess.run(
        ["bash", str(ROOT / "engine" / "make-preview.sh"), "staging"],
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    first = result.stdout.splitlines()[0]
    assert first.startswith("preview: the real `pulumi preview` of staging on file://"), first
    assert "built from Go modules first" in first
    assert "engine build summary" in result.stderr, "engine/build.sh ran"
    # The real CLI ran against the user's backend, where this stack was never created.
    assert result.returncode != 0 and "no stack named 'staging' found" in result.stderr
