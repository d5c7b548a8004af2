"""The delivery tools without the engine: `make preview`'s decision and wiring (rule D3),
`make bootstrap`'s choices (S14), the deploy guard (D2).

The same tools through the real Pulumi CLI: tests/test_engine_delivery.py.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tools import deploy_guard, preview_mode
from tools.bootstrap import (
    BootstrapError,
    Pulumi,
    Report,
    backend_kind,
    check_other_keys,
    choose_provider,
    key_identity,
    public_passphrase,
    secret_env,
    stack_provider,
)
from tools.delivery import ENVIRONMENTS, setup_lines
from tools.recorder import ROOT

CREDENTIALS = {"GITHUB_TOKEN": "gh-x", "VERCEL_API_TOKEN": "v" * 24, "SENTRY_AUTH_TOKEN": "s-x"}
STACK_FILE = (ROOT / "Pulumi.staging.yaml").read_text()

# --------------------------------------------------------------------------- make preview


def test_no_backend_and_no_credentials_means_the_offline_plan_saying_both(tmp_path: Path) -> None:
    decision = preview_mode.decide("staging", {}, "/usr/bin/pulumi 3.280.0", tmp_path, STACK_FILE)
    assert decision.mode == "offline"
    assert decision.headline.startswith("preview: the offline plan of staging")
    assert "no Pulumi backend" in decision.headline
    for provider in ("github (GITHUB_TOKEN)", "vercel (VERCEL_API_TOKEN)", "sentry"):
        assert provider in decision.headline


def test_a_backend_without_provider_credentials_is_still_offline(tmp_path: Path) -> None:
    env = {"PULUMI_ACCESS_TOKEN": "pul-x", "GITHUB_TOKEN": "gh-x"}
    decision = preview_mode.decide("staging", env, "", tmp_path, STACK_FILE)
    assert decision.mode == "offline"
    assert "no Pulumi backend" not in decision.headline
    assert "vercel (VERCEL_API_TOKEN), sentry (SENTRY_AUTH_TOKEN)" in decision.headline
    assert "gh-x" not in decision.headline and "pul-x" not in decision.headline


def test_a_login_recorded_by_pulumi_login_is_a_backend(tmp_path: Path) -> None:
    (tmp_path / "credentials.json").write_text(json.dumps({"current": "https://api.pulumi.com"}))
    decision = preview_mode.decide("production", CREDENTIALS, "/opt/p 3.275.0", tmp_path, "")
    assert decision.mode == "real"
    assert decision.headline == (
        "preview: the real `pulumi preview` of production on https://api.pulumi.com, "
        "with your pulumi 3.275.0 (/opt/p)"
    )
    (tmp_path / "credentials.json").write_text('{"current": ""}')
    assert preview_mode.decide("staging", CREDENTIALS, "", tmp_path, "").mode == "offline"
    (tmp_path / "credentials.json").write_text("not json")
    assert preview_mode.decide("staging", CREDENTIALS, "", tmp_path, "").mode == "offline"


def test_with_everything_but_a_cli_it_is_built_first_and_said_so(tmp_path: Path) -> None:
    env = {**CREDENTIALS, "PULUMI_BACKEND_URL": "s3://state-bucket"}
    decision = preview_mode.decide("staging", env, "", tmp_path, STACK_FILE)
    assert decision.mode == "build"
    assert "on s3://state-bucket; there is no pulumi on PATH" in decision.headline
    assert "built from Go modules first" in decision.headline


def test_credentials_from_stack_config_or_an_esc_environment_count(tmp_path: Path) -> None:
    env = {"PULUMI_BACKEND_URL": "file:///tmp/state", "GITHUB_TOKEN": "x", "SENTRY_TOKEN": "y"}
    in_config = STACK_FILE + "  vercel:apiToken:\n    secure: v1:abc\n"
    assert preview_mode.decide("staging", env, "p 3.3", tmp_path, in_config).mode == "real"
    assert preview_mode.missing_credentials({}, "environment:\n  - acme/staging\n") == []
    assert preview_mode.missing_credentials({}, "") == [
        "github (GITHUB_TOKEN)",
        "vercel (VERCEL_API_TOKEN)",
        "sentry (SENTRY_AUTH_TOKEN)",
    ]


def test_a_backend_url_is_shown_without_its_password() -> None:
    assert (
        preview_mode.shown_url("postgres://me:hunter2@db:5432/state") == "postgres://db:5432/state"
    )
    assert preview_mode.shown_url("s3://bucket?region=eu-west-1") == "s3://bucket?region=eu-west-1"


def _fake_pulumi(tmp_path: Path, log: Path) -> Path:
    """A stand-in for the user's `pulumi`: a version, and a log of how it was run."""
    bin_dir = tmp_path / "user-bin"
    bin_dir.mkdir()
    fake = bin_dir / "pulumi"
    fake.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = version ]; then echo v3.280.0; exit 0; fi\n'
        f'{{ echo "args: $*"; echo "home: ${{PULUMI_HOME:-unset}}"; echo "acquisition: '
        f'${{PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION:-unset}}"; }} > "{log}"\n'
        "echo 'Previewing update (staging)'\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    return bin_dir


def _make_preview(env: dict[str, str]) -> tuple[subprocess.Popen[str], str, float]:
    """Start engine/make-preview.sh staging; return it, its first line and how long that took."""
    start = time.monotonic()
    process = subprocess.Popen(
        ["bash", str(ROOT / "engine" / "make-preview.sh"), "staging"],
        env={"PYTHON": sys.executable, "VENV": str(ROOT / "venv"), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    return process, first, time.monotonic() - start


def test_make_preview_without_credentials_prints_why_then_the_plan_without_a_build(
    tmp_path: Path,
) -> None:
    """No Go on PATH either: anything that tried to build would fail."""
    process, first, latency = _make_preview({"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    rest, errors = process.communicate(timeout=300)
    assert process.returncode == 0, errors
    assert first.startswith("preview: the offline plan of staging"), first
    assert rest.startswith("stack staging (project webapp-platform):"), rest[:200]
    assert "engine:" not in errors and "go " not in errors
    assert latency < 10, f"first line after {latency:.1f} s"


def test_make_preview_with_credentials_runs_your_pulumi_as_it_is(tmp_path: Path) -> None:
    log = tmp_path / "pulumi.log"
    user_bin = _fake_pulumi(tmp_path, log)
    env = {
        "PATH": f"{user_bin}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PULUMI_BACKEND_URL": f"file://{tmp_path}/state",
        **CREDENTIALS,
    }
    process, first, _ = _make_preview(env)
    rest, errors = process.communicate(timeout=300)
    assert process.returncode == 0, errors
    assert first == (
        f"preview: the real `pulumi preview` of staging on file://{tmp_path}/state, "
        f"with your pulumi 3.280.0 ({user_bin}/pulumi)\n"
    )
    assert rest == "Previewing update (staging)\n"
    assert log.read_text().splitlines() == [
        "args: preview --stack staging --policy-pack policy",
        "home: unset",
        "acquisition: unset",
    ], "your PULUMI_HOME and normal plugin acquisition: nothing offline is forced"
    for value in CREDENTIALS.values():
        assert value not in first + rest + errors


def test_make_preview_refuses_an_unknown_stack(tmp_path: Path) -> None:
    result = subprocess.run(
        ["bash", str(ROOT / "engine" / "make-preview.sh"), "qa"],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr == "preview: unknown stack 'qa' (stacks: production, staging)\n"


def test_the_decision_needs_only_the_standard_library() -> None:
    """It runs before the virtualenv exists: without site-packages it still answers."""
    result = subprocess.run(
        [sys.executable, "-S", "-m", "tools.preview_mode", "staging"],
        cwd=ROOT,
        env={"HOME": "/nonexistent", "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "offline"


# --------------------------------------------------------------------------- make bootstrap


def test_secret_keys_are_read_from_bootstrap_variables() -> None:
    assert secret_env("sentryAuthToken") == "BOOTSTRAP_SENTRY_AUTH_TOKEN"
    assert secret_env("supabaseAccessToken") == "BOOTSTRAP_SUPABASE_ACCESS_TOKEN"


def test_each_backend_gets_a_per_stack_key_by_default() -> None:
    assert backend_kind("https://api.pulumi.com") == "cloud"
    assert backend_kind("file:///srv/state") == "file"
    assert backend_kind("s3://state") == "bucket"
    assert choose_provider("cloud", "", {}) == "default"
    assert choose_provider("file", "", {"PULUMI_CONFIG_PASSPHRASE": "staging's own"}) == (
        "passphrase"
    )
    kms = "awskms://alias/acme-web-production?region=us-east-1"
    assert choose_provider("bucket", kms, {}) == kms


@pytest.mark.parametrize(
    ("kind", "requested", "env", "message"),
    [
        ("bucket", "", {}, "a bucket backend needs a KMS key per stack"),
        ("bucket", "passphrase", {"PULUMI_CONFIG_PASSPHRASE": "x"}, "holds no passphrase"),
        ("cloud", "passphrase", {"PULUMI_CONFIG_PASSPHRASE": "x"}, "holds no passphrase"),
        ("file", "default", {}, "not Pulumi Cloud"),
        ("file", "", {}, "needs this stack's own PULUMI_CONFIG_PASSPHRASE"),
        ("file", "", {"PULUMI_CONFIG_PASSPHRASE": ""}, "empty or the public offline one"),
        ("cloud", "vault://k", {}, "'vault://k' is not allowed"),
    ],
)
def test_a_provider_that_cannot_keep_stacks_apart_is_refused(
    kind: str, requested: str, env: dict[str, str], message: str
) -> None:
    with pytest.raises(BootstrapError, match=message.replace("(", r"\(")):
        choose_provider(kind, requested, env)


def test_the_public_offline_passphrase_is_refused() -> None:
    with pytest.raises(BootstrapError, match="public offline one"):
        choose_provider("file", "", {"PULUMI_CONFIG_PASSPHRASE": public_passphrase()})


def test_a_stack_files_key_and_its_identity() -> None:
    kms = "awskms://alias/acme-web-staging?region=us-east-1"
    assert stack_provider({"secretsprovider": kms, "encryptedkey": "x"}) == kms
    assert stack_provider({"encryptionsalt": "v1:abc"}) == "passphrase"
    assert stack_provider({"config": {}}) == "default"
    assert key_identity(kms) == key_identity("awskms://alias/acme-web-staging?region=eu-west-1")
    assert key_identity(kms) != key_identity("awskms://alias/acme-web-production")


class _Other(Pulumi):
    """A `pulumi` whose `config --show-secrets` of the other stack answers as given."""

    def __init__(self, root: Path, status: int, stdout: str, stderr: str) -> None:
        super().__init__(root, {}, [])
        self.answer = subprocess.CompletedProcess(["pulumi"], status, stdout, stderr)

    def run(
        self, *args: str, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return self.answer


@pytest.mark.parametrize(
    ("status", "stdout", "stderr", "verdict"),
    [
        (
            0,
            '{"webapp-platform:supabaseAccessToken": {"value": "x", "secret": true}}',
            "",
            "refused",
        ),
        (1, "", "error: incorrect passphrase", "S14: production's passphrase does not decrypt"),
        (0, "{}", "", "S14 unchecked: staging's secrets could not be tried"),
    ],
)
def test_a_passphrase_that_opens_the_other_stack_is_refused(
    tmp_path: Path, status: int, stdout: str, stderr: str, verdict: str
) -> None:
    (tmp_path / "Pulumi.staging.yaml").write_text("encryptionsalt: v1:abc\n")
    report = Report()
    pulumi = _Other(tmp_path, status, stdout, stderr)
    if verdict == "refused":
        with pytest.raises(BootstrapError, match="also decrypts staging's secrets"):
            check_other_keys(pulumi, "production", "passphrase", {"staging"}, report)
        return
    check_other_keys(pulumi, "production", "passphrase", {"staging"}, report)
    assert any(line.startswith(verdict) for line in report.done + report.missing)


def test_a_kms_key_of_the_other_stack_is_refused(tmp_path: Path) -> None:
    key = "awskms://alias/acme-web?region=us-east-1"
    (tmp_path / "Pulumi.staging.yaml").write_text(f"secretsprovider: {key}\n")
    pulumi = _Other(tmp_path, 0, "{}", "")
    with pytest.raises(BootstrapError, match="is staging's key already"):
        check_other_keys(pulumi, "production", key, {"staging"}, Report())
    other = "awskms://alias/acme-web-production?region=us-east-1"
    check_other_keys(pulumi, "production", other, {"staging"}, Report())


def test_bootstrap_says_what_ci_needs_for_each_environment_of_the_stack() -> None:
    variables, *lines = setup_lines("production")
    assert variables.startswith("variables: PULUMI_BACKEND: cloud (unset means cloud) or s3;")
    assert "AWS_ROLE_ARN: " in variables
    assert [line.split()[2] for line in lines] == [
        "production-pr",
        "production-read",
        "production-write",
    ]
    assert "required reviewers" in lines[0] and "secrets:" not in lines[0]
    assert "Stack Write on production only" in lines[2]
    assert {env.name for env in ENVIRONMENTS.values()} == {
        f"{stack}-{role}" for stack in ("staging", "production") for role in ("pr", "read", "write")
    }


def test_bad_arguments_are_said_in_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tools.bootstrap", "qa"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr == "bootstrap: unknown stack 'qa' (stacks: staging, production)\n"


# --------------------------------------------------------------------------- deploy guard

A, B = "a" * 40, "b" * 40


def _history(*entries: tuple[str, str | None]) -> list[dict[str, object]]:
    return [
        {
            "kind": kind,
            "startTime": "2026-12-01T10:00:00Z",
            "result": "succeeded",
            "environment": {"git.head": head} if head else {},
        }
        for kind, head in entries
    ]


def test_the_newest_update_is_what_the_stack_runs() -> None:
    applied = deploy_guard.last_update(_history(("refresh", A), ("update", B), ("update", A)))
    assert applied is not None and applied.commit == B
    assert deploy_guard.last_update(_history(("refresh", A))) is None
    with pytest.raises(ValueError, match="JSON list"):
        deploy_guard.last_update({"not": "a list"})


@pytest.mark.parametrize(
    ("history", "ancestor", "ok", "says"),
    [
        (_history(), False, True, "no update recorded yet"),
        (_history(("update", None)), False, True, "recorded no commit"),
        (_history(("update", B)), False, True, "is the commit last applied"),
        (_history(("update", A)), True, True, f"follows {A[:12]}"),
        (_history(("update", A)), False, False, "older than what production runs"),
    ],
)
def test_a_commit_older_than_the_applied_one_is_refused(
    history: list[dict[str, object]], ancestor: bool, ok: bool, says: str
) -> None:
    applied = deploy_guard.last_update(history)
    result = deploy_guard.verdict("production", applied, B, lambda older, newer: ancestor)
    assert result[0] is ok and says in result[1]


def test_the_guard_reads_its_files_and_says_so_when_it_cannot(tmp_path: Path) -> None:
    bad = tmp_path / "history.json"
    bad.write_text("{")
    assert deploy_guard.main(["--stack", "staging", "--history", str(bad), "--commit", B]) == 2
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_history()))
    assert deploy_guard.main(["--stack", "staging", "--history", str(good), "--commit", B]) == 0
