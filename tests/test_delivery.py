"""This repository's delivery, read as data (rules D1, D2, W9, W10, S14).

Every job GitHub runs (reusable workflows and matrices expanded by `tests.workflow_jobs`)
is held to the contract in `tools/delivery.py`: what it runs, which environment it runs in,
which token permissions, secrets and OIDC identity it holds, and therefore what it can
reach. The login action's shell half runs here against a stand-in `pulumi`, in both
backend modes.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

from components.config import STACKS
from components.github.workflow_yaml import load_yaml
from tests.workflow_jobs import LOGIN_ACTION, ROOT, WORKFLOWS, Job, all_jobs
from tools.delivery import ENVIRONMENTS, PROVIDER_SECRETS, Environment
from tools.workflow_rules import check_action

JOBS = all_jobs()
ACTION = ROOT / ".github" / "actions" / "pulumi"
READ = {"contents": "read"}
OIDC = {"contents": "read", "id-token": "write"}

EXPECTED: dict[tuple[str, str], tuple[bool, str | None, dict[str, str], set[str]]] = {
    # (workflow, job): (runs pull-request code, environment, token permissions, secrets)
    ("preview.yml", "staging/preview"): (True, "staging-pr", OIDC, set()),
    ("preview.yml", "staging/comment"): (False, None, {"pull-requests": "write"}, set()),
    ("preview.yml", "production/preview"): (True, "production-pr", OIDC, set()),
    ("preview.yml", "production/comment"): (False, None, {"pull-requests": "write"}, set()),
    ("up.yml", "staging"): (False, "staging-write", OIDC, set(PROVIDER_SECRETS)),
    ("up.yml", "plan"): (False, "production-read", OIDC, set(PROVIDER_SECRETS)),
    ("up.yml", "production"): (False, "production-write", OIDC, set(PROVIDER_SECRETS)),
    ("drift.yml", "detect[staging]"): (False, "staging-read", OIDC, set(PROVIDER_SECRETS)),
    ("drift.yml", "detect[production]"): (False, "production-read", OIDC, set(PROVIDER_SECRETS)),
    ("drift.yml", "compose"): (False, None, READ, set()),
    ("drift.yml", "report"): (False, None, {"issues": "write"}, set()),
}


def job(workflow: str, key: str) -> Job:
    return next(j for j in JOBS if (j.workflow, j.key) == (workflow, key))


def env_of(j: Job) -> Environment | None:
    return ENVIRONMENTS[j.environment] if j.environment else None


def test_every_job_runs_what_and_holds_what_the_inventory_says() -> None:
    actual = {
        (j.workflow, j.key): (j.runs_pr_code, j.environment, j.permissions, j.secrets) for j in JOBS
    }
    assert actual == EXPECTED


def test_every_environment_named_is_in_the_contract_and_every_contract_environment_used() -> None:
    used = {j.environment for j in JOBS if j.environment}
    assert used == set(ENVIRONMENTS)


@pytest.mark.parametrize("j", JOBS, ids=lambda j: f"{j.workflow}:{j.key}")
def test_w9_no_pull_request_code_can_write_production_or_read_it_unapproved(j: Job) -> None:
    if not j.runs_pr_code:
        return
    env = env_of(j)
    assert env is not None and env.role == "pr", "pull-request code logs in as a pr identity"
    assert env.backend_access == "read" and not env.secrets and not j.secrets
    assert set(j.permissions.values()) <= {"read"} | ({"write"} if j.login_identity else set())
    assert {k for k, v in j.permissions.items() if v == "write"} <= {"id-token"}
    assert j.fork_guarded, "pull requests from forks are never previewed"
    if env.stack == "production":
        # Reading production (its preview decrypts its secrets) only after a maintainer
        # approved this run: the environment's required reviewers.
        assert env.reviewers


def test_only_pr_identities_serve_pull_requests_and_only_main_gets_the_others() -> None:
    for j in JOBS:
        env = env_of(j)
        if env is None:
            continue
        if env.role == "pr":
            assert j.events == {"pull_request"}, j.key
        else:
            assert "pull_request" not in j.events, j.key
            assert env.branches == "main"
        if env.role == "write":
            assert load_yaml(WORKFLOWS / j.workflow)["on"] == {"push": {"branches": ["main"]}}


@pytest.mark.parametrize("j", JOBS, ids=lambda j: f"{j.workflow}:{j.key}")
def test_id_token_write_only_where_a_login_needs_it(j: Job) -> None:
    """W10: every OIDC permission serves the backend login, as the job's own environment."""
    if j.permissions.get("id-token") == "write":
        assert j.login_identity is not None, "id-token: write without a login"
        assert j.login_identity == j.environment, "the identity asked for is the environment's"
    else:
        assert j.login_identity is None, "a login needs id-token: write"


@pytest.mark.parametrize("j", JOBS, ids=lambda j: f"{j.workflow}:{j.key}")
def test_secrets_only_in_their_environment_and_writers_run_no_repository_code(j: Job) -> None:
    env = env_of(j)
    assert j.secrets <= set(env.secrets if env else ()), "secrets come from the environment"
    writes = {k for k, v in j.permissions.items() if v == "write"} - {"id-token"}
    if writes:
        assert not j.checks_out and env is None and "python" not in j.script()


def test_no_passphrase_and_no_long_lived_backend_token_anywhere() -> None:
    """D1, S14: the backend is reached by OIDC only; no secret key is shared by stacks."""
    texts = [p.read_text() for p in (*WORKFLOWS.glob("*.yml"), ACTION / "action.yml")]
    for text in texts:
        assert "PULUMI_CONFIG_PASSPHRASE" not in text
        assert "PULUMI_ACCESS_TOKEN" not in text
        assert "AWS_SECRET_ACCESS_KEY" not in text and "aws-secret-access-key" not in text


def test_each_stack_is_its_own_concurrency_group() -> None:
    """D2: a pending production approval never holds back staging."""
    groups: dict[str, set[str]] = {}
    for j in JOBS:
        env = env_of(j)
        if env is None:
            continue
        assert j.concurrency is not None, f"{j.key}: no job-level concurrency"
        group = str(j.concurrency["group"])
        assert env.stack in group
        groups.setdefault(group, set()).add(env.stack)
    assert all(len(stacks) == 1 for stacks in groups.values()), groups
    for workflow in ("up.yml", "drift.yml"):
        assert "concurrency" not in load_yaml(WORKFLOWS / workflow), "no workflow-wide group"
    up = [j for j in JOBS if j.workflow == "up.yml"]
    assert {str(j.concurrency["group"]) for j in up if j.concurrency} == {
        "up-staging",
        "up-production",
    }
    assert all(j.concurrency and j.concurrency["cancel-in-progress"] is False for j in up)
    drift = {
        str(j.concurrency["group"]) for j in JOBS if j.workflow == "drift.yml" and j.concurrency
    }
    # Per stack for the detection (never replacing a pending up); the credential-free report
    # jobs queue one run at a time so two runs never race on the one drift issue.
    assert drift == {*(f"drift-{stack}" for stack in STACKS), "drift-report", "drift-issue"}


def test_staging_then_production_exactly_as_planned_and_approved() -> None:
    """D2: the plan job's plan file, from this run's commit, is what production applies."""
    staging, plan, production = (job("up.yml", k) for k in ("staging", "plan", "production"))
    assert plan.definition["needs"] == "staging" and production.definition["needs"] == "plan"
    for j in (staging, plan, production):
        assert j.uses("actions/checkout")[0]["with"]["ref"] == "${{ github.sha }}"
    assert "--save-plan build/plan/plan.json" in plan.script()
    assert plan.definition["outputs"]["plan_sha256"] == "${{ steps.plan.outputs.sha256 }}"
    check = next(s for s in production.steps if "sha256sum --check" in str(s.get("run", "")))
    assert check["env"]["PLAN_SHA256"] == "${{ needs.plan.outputs.plan_sha256 }}"
    assert '"$(cat build/plan/commit)" != "$GITHUB_SHA"' in check["run"]
    assert 'pulumi up --yes --stack "$STACK" --plan build/plan/plan.json' in production.script()
    for j in (staging, production):
        script = j.script()
        assert script.index("tools.deploy_guard") < script.index("pulumi up")


def test_pull_request_previews_read_one_stack_without_secrets() -> None:
    for stack in STACKS:
        preview = job("preview.yml", f"{stack}/preview")
        script = preview.script()
        assert 'pulumi preview --stack "$STACK" --policy-pack policy' in script
        assert ". engine/placeholder-credentials.env" in script
        run = next(s for s in preview.steps if "pulumi preview" in str(s.get("run", "")))
        assert run["env"]["GITHUB_TOKEN"] == "${{ github.token }}", "this run's read-only token"
        assert "--refresh" not in script, "a preview without refresh reads no live state"
        assert "needs" in job("preview.yml", f"{stack}/comment").definition


def test_placeholders_are_no_credentials() -> None:
    lines = (ROOT / "engine" / "placeholder-credentials.env").read_text().splitlines()
    values = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    assert set(values) == {"VERCEL_API_TOKEN", "SENTRY_AUTH_TOKEN", "SENTRY_TOKEN"}
    assert re.fullmatch(r"[0-9a-zA-Z]{24}", values["VERCEL_API_TOKEN"]), "the provider's shape"
    assert len(set(values["VERCEL_API_TOKEN"])) == 1, "visibly not a token"


def test_jobs_that_use_the_local_action_check_out_the_workflows_own_commit() -> None:
    """Why zizmor's self-repository audit is off (.github/zizmor.yml)."""
    for j in JOBS:
        if j.uses(LOGIN_ACTION):
            checkout = j.uses("actions/checkout")
            assert checkout, j.key
            assert checkout[0]["with"].get("ref", "${{ github.sha }}") == "${{ github.sha }}"
            assert checkout[0]["with"].get("repository") is None


def test_every_login_passes_the_repository_settings_through() -> None:
    for j in JOBS:
        for step in j.uses(LOGIN_ACTION):
            assert step["with"] == {
                "identity": j.environment,
                "backend": "${{ vars.PULUMI_BACKEND }}",
                "organization": "${{ vars.PULUMI_ORGANIZATION }}",
                "backend-url": "${{ vars.PULUMI_BACKEND_URL }}",
                "aws-role-arn": "${{ vars.AWS_ROLE_ARN }}",
                "aws-region": "${{ vars.AWS_REGION }}",
            }


# --------------------------------------------------------------------------- the action


def _action_steps() -> dict[str, dict[str, object]]:
    return {str(s["name"]): s for s in load_yaml(ACTION / "action.yml")["runs"]["steps"]}


def test_the_action_pins_what_it_uses() -> None:
    assert check_action(ACTION / "action.yml") == []


def test_an_unpinned_use_in_an_action_is_a_finding(tmp_path: Path) -> None:
    path = tmp_path / "action.yml"
    path.write_text(
        "name: x\ndescription: x\nruns:\n  using: composite\n  steps:\n"
        "    - uses: pulumi/auth-actions@v2\n"
        "    - shell: bash\n      run: echo ${{ inputs.x }}\n"
    )
    assert [f.rule for f in check_action(path)] == ["W2", "W3"]


@pytest.mark.parametrize(
    ("step", "action", "condition", "inputs"),
    [
        (
            "Pulumi Cloud team token (OIDC)",
            "pulumi/auth-actions",
            "inputs.backend != 's3'",
            {
                "organization": "${{ inputs.organization }}",
                "requested-token-type": "urn:pulumi:token-type:access_token:team",
                "scope": "team:${{ inputs.identity }}",
            },
        ),
        (
            "AWS role credentials (OIDC)",
            "aws-actions/configure-aws-credentials",
            "inputs.backend == 's3'",
            {
                "role-to-assume": "${{ inputs.aws-role-arn }}",
                "aws-region": "${{ inputs.aws-region }}",
                "role-session-name": "${{ inputs.identity }}",
            },
        ),
    ],
    ids=["cloud", "s3"],
)
def test_each_backend_logs_in_as_the_jobs_environment_by_oidc(
    step: str, action: str, condition: str, inputs: dict[str, str]
) -> None:
    """Pulumi Cloud: the team token of the environment's team; S3: its role."""
    definition = _action_steps()[step]
    assert str(definition["uses"]).split("@")[0] == action
    assert definition["if"] == condition
    assert definition["with"] == inputs


def test_the_settings_are_checked_before_any_credential_is_asked_for() -> None:
    names = list(_action_steps())
    assert names[0] == "Check the backend settings"
    assert names.index("pulumi login") == len(names) - 1


def _login(tmp_path: Path, mode: str, **env: str) -> tuple[int, str, list[str]]:
    """Run login.sh MODE with a stand-in `pulumi` that records its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    log = tmp_path / "pulumi.log"
    fake = bin_dir / "pulumi"
    fake.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    result = subprocess.run(
        ["bash", str(ACTION / "login.sh"), mode],
        env={"PATH": f"{bin_dir}:{os.environ['PATH']}", **env},
        capture_output=True,
        text=True,
        check=False,
    )
    calls = log.read_text().splitlines() if log.exists() else []
    return result.returncode, result.stdout + result.stderr, calls


def test_login_check_names_what_each_backend_lacks(tmp_path: Path) -> None:
    status, out, _ = _login(tmp_path, "check", BACKEND="")
    assert status == 1 and "PULUMI_ORGANIZATION" in out
    assert _login(tmp_path, "check", BACKEND="cloud", ORGANIZATION="acme")[0] == 0
    status, out, _ = _login(tmp_path, "check", BACKEND="s3")
    assert status == 1
    assert all(name in out for name in ("PULUMI_BACKEND_URL", "AWS_REGION", "AWS_ROLE_ARN"))
    status, out, _ = _login(
        tmp_path,
        "check",
        BACKEND="s3",
        BACKEND_URL="gs://state",
        AWS_REGION="us-east-1",
        AWS_ROLE_ARN="arn:aws:iam::1:role/staging-pr",
    )
    assert status == 1 and "needs s3://<bucket>" in out
    status, out, _ = _login(tmp_path, "check", BACKEND="gcs")
    assert status == 1 and "expected cloud or s3" in out


def test_cloud_login_uses_the_exchanged_token_and_the_organisation(tmp_path: Path) -> None:
    status, out, calls = _login(tmp_path, "login", BACKEND="cloud", ORGANIZATION="acme")
    assert status == 1 and "OIDC exchange" in out and calls == []
    status, _, calls = _login(
        tmp_path, "login", BACKEND="", ORGANIZATION="acme", PULUMI_ACCESS_TOKEN="pul-x"
    )
    assert status == 0 and calls == ["login", "org set-default acme"]


def test_bucket_login_logs_in_to_the_bucket(tmp_path: Path) -> None:
    status, _, calls = _login(tmp_path, "login", BACKEND="s3", BACKEND_URL="s3://acme-state")
    assert status == 0 and calls == ["login s3://acme-state"]


def test_the_threat_model_names_every_environment_and_what_it_reaches() -> None:
    text = (ROOT / "docs" / "threat-model.md").read_text()
    for env in ENVIRONMENTS.values():
        assert f"`{env.name}`" in text, env.name
