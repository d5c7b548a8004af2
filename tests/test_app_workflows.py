"""The application repository's pipeline files: triggers, environments, rules W1-W8 and G3.

Structure is asserted on the parsed YAML; the shell of the health check, the incident
handling, the preview comment and the rollback target choice is also run, against a local
HTTP server and fake `gh`/`vercel` commands, so their logic is tested and not only their text.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from components.github import pipeline
from components.github.app_files import APP_REPO_DIR
from components.github.workflow_yaml import jobs, load_yaml, steps, triggers
from tools.workflow_rules import check_workflow, expressions, referenced

ROOT = Path(__file__).resolve().parent.parent
GITHUB_DIR = APP_REPO_DIR / ".github"
WORKFLOWS = pipeline.workflow_files()
VERCEL_CLI_DIR = GITHUB_DIR / "vercel-cli"

# Read from the tags of each action's repository (tag → commit), not copied from elsewhere.
PINNED_ACTIONS = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-node": ("820762786026740c76f36085b0efc47a31fe5020", "v7.0.0"),
    "actions/setup-go": ("b7ad1dad31e06c5925ef5d2fc7ad053ef454303e", "v7.0.0"),
    "actions/dependency-review-action": ("2031cfc080254a8a887f58cffee85186f0e49e48", "v4.9.0"),
    "github/codeql-action/init": ("8aad20d150bbac5944a9f9d289da16a4b0d87c1e", "v4.36.2"),
    "github/codeql-action/analyze": ("8aad20d150bbac5944a9f9d289da16a4b0d87c1e", "v4.36.2"),
}

EXPECTED_REQUIRED_CHECKS = [
    "CodeQL analysis",
    "Dependency review",
    "Preview deploy",
    "Secret scan (gitleaks)",
    "Trivy scan",
]


def workflow(name: str) -> dict[str, Any]:
    return load_yaml(WORKFLOWS[f".github/workflows/{name}"])


def job(name: str, job_id: str) -> dict[str, Any]:
    return jobs(workflow(name))[job_id]


def step(job_spec: Mapping[str, Any], name: str) -> dict[str, Any]:
    matches = [s for s in steps(job_spec) if s.get("name") == name]
    assert len(matches) == 1, f"expected one step named {name!r}"
    return matches[0]


def scripts(job_spec: Mapping[str, Any]) -> str:
    return "\n".join(str(s.get("run", "")) for s in steps(job_spec))


def uses_of(job_spec: Mapping[str, Any]) -> list[str]:
    return [str(s["uses"]).split("@")[0] for s in steps(job_spec) if "uses" in s]


# --- the shipped files ----------------------------------------------------------------------


def test_app_repository_files_name_every_shipped_workflow_and_dependabot() -> None:
    shipped = {p.name for p in (GITHUB_DIR / "workflows").iterdir()}
    assert {Path(d).name for d in WORKFLOWS} == shipped
    assert set(pipeline.APP_REPOSITORY_FILES) == {
        ".github/workflows/deploy.yml",
        ".github/workflows/rollback.yml",
        ".github/workflows/health-check.yml",
        ".github/workflows/security.yml",
        ".github/dependabot.yml",
    }
    for destination, path in pipeline.APP_REPOSITORY_FILES.items():
        assert path.is_file(), destination
        assert path == APP_REPO_DIR / destination, destination


@pytest.mark.parametrize("destination", sorted(WORKFLOWS))
def test_rules_w1_to_w7(destination: str) -> None:
    findings = check_workflow(WORKFLOWS[destination])
    assert findings == [], "\n".join(map(str, findings))


@pytest.mark.parametrize("destination", sorted(WORKFLOWS))
def test_every_job_has_a_name_a_timeout_and_a_pinned_runner(destination: str) -> None:
    for job_id, spec in jobs(load_yaml(WORKFLOWS[destination])).items():
        assert spec.get("name"), f"{destination}: jobs.{job_id} has no name (its check name)"
        assert isinstance(spec.get("timeout-minutes"), int), f"{destination}: jobs.{job_id}"
        assert spec["runs-on"] == "ubuntu-24.04", f"{destination}: jobs.{job_id}"


def test_job_names_are_unique_across_workflows() -> None:
    names = [spec["name"] for path in WORKFLOWS.values() for spec in jobs(load_yaml(path)).values()]
    assert len(names) == len(set(names)), names


@pytest.mark.parametrize("destination", sorted(WORKFLOWS))
def test_actions_are_pinned_to_the_verified_commits(destination: str) -> None:
    text = WORKFLOWS[destination].read_text()
    for match in re.finditer(r"uses:\s*(\S+)@(\S+)\s*#\s*(\S+)", text):
        action, sha, version = match.groups()
        assert PINNED_ACTIONS.get(action) == (sha, version), f"{destination}: {match.group()}"


def test_no_finding_is_silenced_inline() -> None:
    for path in [*WORKFLOWS.values(), GITHUB_DIR / "dependabot.yml"]:
        assert "zizmor: ignore" not in path.read_text(), path
        assert "shellcheck disable" not in path.read_text(), path


# --- rule checker ---------------------------------------------------------------------------


def test_rule_checker_reports_each_rule(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        """name: bad
on:
  pull_request_target:
permissions: write-all
env:
  ACTIONS_ALLOW_UNSECURE_COMMANDS: "true"
jobs:
  deploy:
    runs-on: ubuntu-24.04
    environment: production
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.pull_request.title }}"
      - run: echo "$X"
        env:
          X: ${{ toJson(secrets) }}
  other:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/setup-node@820762786026740c76f36085b0efc47a31fe5020
      - run: echo "$T"
        env:
          T: ${{ secrets.TOKEN }}
  reuse:
    uses: ./.github/workflows/other.yml
    secrets: inherit
"""
    )
    findings = check_workflow(bad)
    assert {f.rule for f in findings} == {"W1", "W2", "W3", "W4", "W5", "W6", "W7"}
    messages = "\n".join(map(str, findings))
    assert "lacks its `# vX.Y.Z` comment" in messages
    assert "secrets: inherit" in messages
    assert "['TOKEN'] but runs in no `environment:`" in messages


def test_rule_checker_accepts_a_minimal_compliant_workflow(tmp_path: Path) -> None:
    good = tmp_path / "good.yml"
    good.write_text(
        """on: push
permissions:
  contents: read
jobs:
  build:
    name: Build
    runs-on: ubuntu-24.04
    permissions:
      contents: write
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
        with:
          persist-credentials: false
      - run: echo "$REF"
        env:
          REF: ${{ github.ref }}
"""
    )
    assert check_workflow(good) == []


def test_yaml_loader_keeps_on_as_a_key() -> None:
    assert "on" in workflow("deploy.yml")
    assert all(isinstance(key, str) for key in workflow("deploy.yml"))


# --- deploy.yml -----------------------------------------------------------------------------


def test_deploy_runs_on_pull_requests_and_pushes_to_main() -> None:
    assert triggers(workflow("deploy.yml")) == {
        "pull_request": {"branches": ["main"]},
        "push": {"branches": ["main"]},
    }


def test_preview_deploys_prebuilt_to_the_staging_project() -> None:
    preview = job("deploy.yml", "preview")
    assert preview["if"] == "github.event_name == 'pull_request'"
    assert preview["environment"]["name"] == "staging"
    assert preview["permissions"] == {"contents": "read"}
    assert preview["concurrency"] == {
        "group": "deploy-staging-pr-${{ github.event.pull_request.number }}",
        "cancel-in-progress": True,
    }
    assert preview["env"] == {
        "VERCEL_TOKEN": "${{ secrets.VERCEL_TOKEN }}",
        "VERCEL_ORG_ID": "${{ vars.VERCEL_ORG_ID }}",
        "VERCEL_PROJECT_ID": "${{ vars.VERCEL_PROJECT_ID }}",
        "DEPLOY_PREVIEW": "${{ github.actor != 'dependabot[bot]' }}",
    }
    run = scripts(preview)
    assert "vercel pull --yes --environment=preview" in run
    assert "vercel build\n" in run
    assert "vercel deploy --prebuilt --format json" in run
    assert "--prod" not in run


def test_dependabot_runs_report_without_deploying() -> None:
    """Dependabot runs get no environment secrets: the required check passes, saying why."""
    steps = job("deploy.yml", "preview")["steps"]
    explain, *deploying = steps
    assert explain["if"] == "env.DEPLOY_PREVIEW != 'true'"
    assert "Dependabot" in explain["run"] and "GITHUB_STEP_SUMMARY" in explain["run"]
    for step in deploying:
        assert step.get("if") == "env.DEPLOY_PREVIEW == 'true'", step["name"]
    comment = scripts(job("deploy.yml", "preview-comment"))
    assert 'if [ -z "$PREVIEW_URL" ]; then' in comment


def test_preview_comment_is_one_comment_edited_on_each_push() -> None:
    comment = job("deploy.yml", "preview-comment")
    assert comment["needs"] == "preview"
    assert comment["if"] == "github.event_name == 'pull_request'"
    assert comment["permissions"] == {"pull-requests": "write"}
    assert "environment" not in comment, "the writing token and the Vercel token stay apart"
    assert uses_of(comment) == [], "no checkout of pull request code next to a write token"


def test_production_is_built_deployed_without_domains_then_promoted() -> None:
    production = job("deploy.yml", "production")
    assert production["if"] == "github.event_name == 'push'"
    assert production["needs"] == "staging"
    assert production["environment"] == {"name": "production", "url": "${{ vars.APP_URL }}"}
    assert production["concurrency"] == {"group": "deploy-production", "cancel-in-progress": False}
    run = [str(s.get("run", "")) for s in steps(production)]
    order = [
        next(i for i, r in enumerate(run) if command in r)
        for command in (
            "vercel pull --yes --environment=production",
            "vercel build --prod",
            "vercel deploy --prebuilt --prod --skip-domain",
            'vercel promote "$DEPLOYMENT_URL"',
            "/api/health",
        )
    ]
    assert order == sorted(order), order
    build = step(production, "Build")
    assert build["env"] == {"SENTRY_AUTH_TOKEN": "${{ secrets.SENTRY_AUTH_TOKEN }}"}


def test_staging_deploys_on_push_before_production() -> None:
    staging = job("deploy.yml", "staging")
    assert staging["if"] == "github.event_name == 'push'"
    assert staging["environment"]["name"] == "staging"
    assert staging["concurrency"] == {"group": "deploy-staging", "cancel-in-progress": False}
    assert "vercel deploy --prebuilt --prod" in scripts(staging)


@pytest.mark.parametrize("name", ["deploy.yml", "rollback.yml"])
def test_only_pull_request_previews_cancel_in_progress(name: str) -> None:
    spec = workflow(name)
    assert spec.get("concurrency", {}).get("cancel-in-progress", False) is False
    for job_id, job_spec in jobs(spec).items():
        concurrency = job_spec.get("concurrency", {})
        if concurrency.get("cancel-in-progress"):
            assert job_spec.get("if") == "github.event_name == 'pull_request'", job_id
        if (job_spec.get("environment") or {}).get("name") == "production":
            assert concurrency["cancel-in-progress"] is False, job_id


def test_vercel_cli_is_an_exact_version_locked_with_integrity_hashes() -> None:
    manifest = json.loads((VERCEL_CLI_DIR / "package.json").read_text())
    version = manifest["dependencies"]["vercel"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), version
    lock = json.loads((VERCEL_CLI_DIR / "package-lock.json").read_text())
    packages = lock["packages"]
    assert packages["node_modules/vercel"]["version"] == version
    for key, entry in packages.items():
        assert "resolved" not in entry, f"{key}: the lockfile names no registry"
        # Optional binaries for other platforms are never installed on the linux-x64 runners.
        installed = not entry.get("optional") or (
            "linux" in entry.get("os", ["linux"]) and "x64" in entry.get("cpu", ["x64"])
        )
        if key and installed:
            assert entry.get("integrity", "").startswith("sha512-"), key
    for name in ("deploy.yml", "rollback.yml"):
        text = WORKFLOWS[f".github/workflows/{name}"].read_text()
        assert 'npm ci --prefix "$RUNNER_TEMP/vercel-cli" --ignore-scripts' in text, name
        assert "npm install" not in text and "npx" not in text, name


# --- rollback.yml ---------------------------------------------------------------------------


def test_rollback_is_manual_and_promotes_without_rebuilding() -> None:
    spec = workflow("rollback.yml")
    assert list(triggers(spec)) == ["workflow_dispatch"]
    inputs = triggers(spec)["workflow_dispatch"]["inputs"]
    assert inputs["deployment"]["required"] is False
    assert inputs["deployment"]["default"] == ""
    rollback = jobs(spec)["rollback"]
    assert rollback["environment"]["name"] == "production"
    assert rollback["timeout-minutes"] <= 5
    assert rollback["concurrency"] == job("deploy.yml", "production")["concurrency"]
    run = scripts(rollback)
    assert 'vercel rollback "$TARGET" --yes --timeout 2m' in run
    assert "vercel list --environment production --status READY" in run
    assert "$GITHUB_STEP_SUMMARY" in run
    assert "vercel build" not in run and "vercel deploy" not in run


def test_rollback_is_recorded_on_the_open_incident_issue() -> None:
    record = job("rollback.yml", "record")
    assert record["needs"] == "rollback"
    assert record["permissions"] == {"issues": "write"}
    assert "environment" not in record


# --- health-check.yml -----------------------------------------------------------------------


def test_health_check_runs_every_five_minutes_and_on_demand() -> None:
    spec = workflow("health-check.yml")
    assert triggers(spec) == {"schedule": [{"cron": "*/5 * * * *"}], "workflow_dispatch": None}
    assert spec["concurrency"] == {"group": "health-check", "cancel-in-progress": False}
    health = jobs(spec)["health"]
    assert health["permissions"] == {"issues": "write"}
    probe = step(health, "Probe /api/health")
    assert probe["env"]["PRODUCTION_URL"] == "${{ vars.PRODUCTION_URL }}"
    assert probe["env"]["STAGING_URL"] == "${{ vars.STAGING_URL }}"
    assert probe["env"]["TTFB_BUDGET_MS"] == "200"
    assert "%{time_starttransfer}" in probe["run"]


def test_incident_steps_open_update_and_close() -> None:
    health = job("health-check.yml", "health")
    assert step(health, "Open the incident, or comment on the open one")["if"] == (
        "steps.probe.outputs.healthy == 'false'"
    )
    assert step(health, "Comment on and close the recovered incident")["if"] == (
        "steps.probe.outputs.healthy == 'true' && steps.incident.outputs.number != ''"
    )
    assert step(health, "Fail the run while unhealthy")["if"] == (
        "steps.probe.outputs.healthy == 'false'"
    )


class _Health(BaseHTTPRequestHandler):
    """/ok answers at once, /down answers 503, /slow answers after 350 ms."""

    def do_GET(self) -> None:
        if self.path.startswith("/slow/"):
            time.sleep(0.35)
        status = 503 if self.path.startswith("/down/") else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def health_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


FAKE_GH = r"""#!/usr/bin/env bash
# Records each call on one line; answers `issue list` and `api --paginate` from canned JSON,
# through the caller's --jq filter when it gives one (as gh does).
call="$*"
printf '%s\n' "${call//$'\n'/\\n}" >> "$FAKE_LOG"
filter=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  if [ "${args[$i]}" = "--jq" ]; then filter="${args[$((i + 1))]}"; fi
done
case "$1 $2" in
  "issue list") data="$FAKE_ISSUES" ;;
  "api --paginate") data="$FAKE_COMMENTS" ;;
  *) exit 0 ;;
esac
if [ -n "$filter" ]; then printf '%s' "$data" | jq -r "$filter"; else printf '%s' "$data"; fi
"""

FAKE_VERCEL = r"""#!/usr/bin/env bash
# As the real CLI (vercel/vercel#11712): pull, build, deploy and list use the project that
# VERCEL_ORG_ID/VERCEL_PROJECT_ID link, but inspect, promote and rollback ignore them and look
# the deployment up in the token's default team, which is not the project's: without
# `--scope <team>` they fail.
printf '%s\n' "$*" >> "$FAKE_LOG"
case "$1" in
  inspect | promote | rollback)
    scope=""
    args=("$@")
    for ((i = 0; i < ${#args[@]}; i++)); do
      case "${args[$i]}" in
        --scope) scope="${args[$((i + 1))]}" ;;
        --scope=*) scope="${args[$i]#--scope=}" ;;
      esac
    done
    if [ "$scope" != "$FAKE_TEAM" ]; then
      echo "Error: Deployment belongs to a different team" >&2
      exit 1
    fi
    ;;
esac
case "$1" in
  inspect) printf '%s' "$FAKE_INSPECT" ;;
  list) printf '%s' "$FAKE_LIST" ;;
  deploy) printf '%s' "$FAKE_DEPLOY" ;;
esac
"""


VERCEL_TEAM = "team_acme"


class StepRun:
    """Runs one step's `run:` as the runner does (bash -eo pipefail) with fake tools on PATH."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        for name, text in (("gh", FAKE_GH), ("vercel", FAKE_VERCEL)):
            (bin_dir / name).write_text(text)
            (bin_dir / name).chmod(0o755)
        self.log = tmp_path / "calls.log"
        self.output = tmp_path / "output"
        self.summary = tmp_path / "summary"
        self.base_env = {
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "FAKE_LOG": str(self.log),
            "RUNNER_TEMP": str(tmp_path),
            "GITHUB_OUTPUT": str(self.output),
            "GITHUB_STEP_SUMMARY": str(self.summary),
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_REPOSITORY": "acme/app",
            "GITHUB_RUN_ID": "42",
            "GITHUB_ACTOR": "octocat",
            # The Vercel team owning the project; the jobs read it from vars.VERCEL_ORG_ID.
            "FAKE_TEAM": VERCEL_TEAM,
            "VERCEL_ORG_ID": VERCEL_TEAM,
        }

    def __call__(
        self, spec: Mapping[str, Any], step_spec: Mapping[str, Any], **env: str
    ) -> subprocess.CompletedProcess[str]:
        literal = {
            key: str(value)
            for scope in (spec.get("env", {}), step_spec.get("env", {}))
            for key, value in scope.items()
            if not list(expressions(value))
        }
        script = self.tmp / "step.sh"
        script.write_text(str(step_spec["run"]))
        return subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            env={**self.base_env, **literal, **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def outputs(self) -> dict[str, str]:
        lines = self.output.read_text().splitlines() if self.output.exists() else []
        return dict(line.split("=", 1) for line in lines)


needs_tools = pytest.mark.skipif(
    not (shutil.which("jq") and shutil.which("curl")), reason="jq and curl run the step scripts"
)


@needs_tools
@pytest.mark.parametrize(
    ("production", "staging", "healthy", "failing"),
    [
        ("ok", "ok", "true", []),
        ("ok", "down", "false", ["staging"]),
        ("slow", "ok", "false", ["production"]),
    ],
)
def test_probe_checks_status_and_time_to_first_byte(
    tmp_path: Path,
    health_server: str,
    production: str,
    staging: str,
    healthy: str,
    failing: list[str],
) -> None:
    run = StepRun(tmp_path)
    health = job("health-check.yml", "health")
    result = run(
        health,
        step(health, "Probe /api/health"),
        PRODUCTION_URL=f"{health_server}/{production}/",
        STAGING_URL=f"{health_server}/{staging}",
    )
    assert result.returncode == 0, result.stderr
    assert run.outputs() == {"healthy": healthy}
    report = (tmp_path / "health-report.md").read_text()
    assert report.startswith("<!-- health-check-incident -->")
    rows = [line for line in report.splitlines() if line.startswith(("| production", "| staging"))]
    assert [row.split()[1] for row in rows if "FAILING" in row] == failing
    assert f"{health_server}/{staging}/api/health" in report
    if staging == "down":
        assert "503 503 503" in report


ISSUES = json.dumps(
    [
        {"number": 3, "body": "A manual incident"},
        {"number": 7, "body": "<!-- health-check-incident -->\n| production | 503 |"},
    ]
)


@needs_tools
@pytest.mark.parametrize(("issues", "number"), [(ISSUES, "7"), ("[]", "")])
def test_find_step_picks_only_the_incident_this_workflow_opened(
    tmp_path: Path, issues: str, number: str
) -> None:
    run = StepRun(tmp_path)
    health = job("health-check.yml", "health")
    result = run(health, step(health, "Find the open incident"), FAKE_ISSUES=issues)
    assert result.returncode == 0, result.stderr
    assert run.outputs() == {"number": number}
    assert run.calls() == [
        "issue list --state open --label incident --limit 100 --json number,body --jq "
        "[.[] | select(.body | contains(env.INCIDENT_MARKER))] | first | .number // empty"
    ]


@needs_tools
@pytest.mark.parametrize(
    ("issue", "expected"),
    [
        ("", "issue create --title Health check failing --label incident --body-file "),
        ("7", "issue comment 7 --body-file "),
    ],
)
def test_failure_opens_one_incident_or_comments_on_it(
    tmp_path: Path, issue: str, expected: str
) -> None:
    run = StepRun(tmp_path)
    health = job("health-check.yml", "health")
    result = run(health, step(health, "Open the incident, or comment on the open one"), ISSUE=issue)
    assert result.returncode == 0, result.stderr
    assert [call.rsplit(" ", 1)[0] + " " for call in run.calls()] == [expected]


@needs_tools
def test_recovery_comments_and_closes_the_incident(tmp_path: Path) -> None:
    run = StepRun(tmp_path)
    (tmp_path / "health-report.md").write_text("| production | 200 200 200 | 40 | ok |\n")
    health = job("health-check.yml", "health")
    result = run(health, step(health, "Comment on and close the recovered incident"), ISSUE="7")
    assert result.returncode == 0, result.stderr
    assert run.calls() == [
        f"issue comment 7 --body-file {tmp_path}/recovered.md",
        "issue close 7 --reason completed",
    ]
    assert (tmp_path / "recovered.md").read_text().startswith("Recovered:")


@needs_tools
@pytest.mark.parametrize(
    ("comments", "expected"),
    [
        ("[]", "api --method POST repos/acme/app/issues/5/comments --field body="),
        (
            json.dumps(
                [
                    {"id": 1, "user": {"login": "mallory"}, "body": "<!-- vercel-preview -->"},
                    {"id": 9, "user": {"login": "github-actions[bot]"}, "body": "Hello"},
                    {
                        "id": 11,
                        "user": {"login": "github-actions[bot]"},
                        "body": "<!-- vercel-preview -->\nold",
                    },
                ]
            ),
            "api --method PATCH repos/acme/app/issues/comments/11 --field body=",
        ),
    ],
)
def test_preview_comment_is_created_once_then_edited(
    tmp_path: Path, comments: str, expected: str
) -> None:
    run = StepRun(tmp_path)
    comment = job("deploy.yml", "preview-comment")
    result = run(
        comment,
        step(comment, "Post or update the preview comment"),
        PR_NUMBER="5",
        HEAD_SHA="abc123",
        PREVIEW_URL="https://app-git-x.vercel.app",
        FAKE_COMMENTS=comments,
    )
    assert result.returncode == 0, result.stderr
    calls = run.calls()
    assert calls[0] == "api --paginate repos/acme/app/issues/5/comments"
    assert calls[1].startswith(expected), calls
    assert "https://app-git-x.vercel.app" in calls[1]
    assert len(calls) == 2


DEPLOYMENTS = json.dumps(
    {
        "deployments": [
            {"id": "dpl_c", "url": "app-c.vercel.app", "createdAt": 300},
            {"id": "dpl_b", "url": "app-b.vercel.app", "createdAt": 200},
            {"id": "dpl_a", "url": "app-a.vercel.app", "createdAt": 100},
        ]
    }
)


@needs_tools
@pytest.mark.parametrize(
    ("requested", "target"),
    [
        ("", "app-a.vercel.app"),
        ("https://app-x.vercel.app", "https://app-x.vercel.app"),
        ("dpl_Xyz123", "dpl_Xyz123"),
        ("https://evil.example/$(id)", None),
    ],
)
def test_rollback_target_defaults_to_the_deployment_before_the_current_one(
    tmp_path: Path, requested: str, target: str | None
) -> None:
    run = StepRun(tmp_path)
    rollback = job("rollback.yml", "rollback")
    result = run(
        rollback,
        step(rollback, "Choose the target deployment"),
        APP_URL="https://your-domain.com",
        REQUESTED=requested,
        FAKE_INSPECT=json.dumps({"id": "dpl_b", "url": "app-b.vercel.app"}),
        FAKE_LIST=DEPLOYMENTS,
    )
    if target is None:
        assert result.returncode != 0
        return
    assert result.returncode == 0, result.stderr
    assert run.outputs() == {"current": "dpl_b", "target": target}


_TEAM_BLIND_VERCEL = re.compile(r"\bvercel (?:inspect|promote|rollback)\b[^\n]*")


@pytest.mark.parametrize("destination", sorted(WORKFLOWS))
def test_vercel_commands_that_ignore_the_linked_project_name_its_team(destination: str) -> None:
    for job_id, job_spec in jobs(load_yaml(WORKFLOWS[destination])).items():
        commands = _TEAM_BLIND_VERCEL.findall(scripts(job_spec))
        for command in commands:
            assert '--scope "$VERCEL_ORG_ID"' in command, f"{destination} {job_id}: {command}"
        if commands:
            assert job_spec["env"]["VERCEL_ORG_ID"] == "${{ vars.VERCEL_ORG_ID }}", job_id


@needs_tools
@pytest.mark.parametrize("team", [VERCEL_TEAM, ""])
def test_promote_and_rollback_find_the_deployment_in_the_project_team(
    tmp_path: Path, team: str
) -> None:
    production = job("deploy.yml", "production")
    promote = step(production, "Promote the deployment to the production domains")
    rollback = job("rollback.yml", "rollback")
    roll_back = step(rollback, "Roll back")
    url = "https://app-b.vercel.app"
    for spec, step_spec, env in (
        (production, promote, {"DEPLOYMENT_URL": url}),
        (rollback, roll_back, {"CURRENT": "dpl_c", "TARGET": url, "REASON": "500s"}),
    ):
        directory = tmp_path / step_spec["name"].replace(" ", "-")
        directory.mkdir()
        run = StepRun(directory)
        result = run(spec, step_spec, APP_URL="https://your-domain.com", VERCEL_ORG_ID=team, **env)
        if not team:
            assert result.returncode != 0, step_spec["name"]
            continue
        assert result.returncode == 0, result.stderr
        assert run.calls()[0].startswith(("promote " + url, "rollback " + url))
        assert f"--scope {VERCEL_TEAM}" in run.calls()[0]


@needs_tools
@pytest.mark.parametrize(("issues", "commented"), [('[{"number": 12}]', True), ("[]", False)])
def test_rollback_comments_on_the_open_incident_if_any(
    tmp_path: Path, issues: str, commented: bool
) -> None:
    run = StepRun(tmp_path)
    record = job("rollback.yml", "record")
    summary = "Production rolled back from dpl_b to app-a.vercel.app"
    result = run(
        record,
        step(record, "Comment on the open incident issue"),
        SUMMARY=summary,
        FAKE_ISSUES=issues,
    )
    assert result.returncode == 0, result.stderr
    comments = [c for c in run.calls() if c.startswith("issue comment")]
    assert comments == ([f"issue comment 12 --body {summary}"] if commented else [])


# --- security.yml ---------------------------------------------------------------------------


def test_security_runs_on_push_pull_request_and_daily() -> None:
    spec = workflow("security.yml")
    on = triggers(spec)
    assert on["push"] == {"branches": ["main"]}
    assert on["pull_request"] == {"branches": ["main"]}
    (schedule,) = on["schedule"]
    minute, hour, *rest = schedule["cron"].split()
    assert minute.isdigit() and hour.isdigit() and rest == ["*", "*", "*"]


def test_codeql_analyses_javascript_and_typescript() -> None:
    codeql = job("security.yml", "codeql")
    assert "if" not in codeql, "CodeQL runs on every push and pull request (G10)"
    assert codeql["permissions"]["security-events"] == "write"
    assert uses_of(codeql) == [
        "actions/checkout",
        "github/codeql-action/init",
        "github/codeql-action/analyze",
    ]
    assert step(codeql, "Initialise CodeQL")["with"]["languages"] == "javascript-typescript"


def test_dependency_review_runs_on_pull_requests() -> None:
    review = job("security.yml", "dependency-review")
    assert review["if"] == "github.event_name == 'pull_request'"
    assert uses_of(review) == ["actions/dependency-review-action"]


def test_gitleaks_scans_the_whole_history_with_a_pinned_release() -> None:
    spec = workflow("security.yml")
    assert re.fullmatch(r"v\d+\.\d+\.\d+", spec["env"]["GITLEAKS_VERSION"])
    gitleaks = jobs(spec)["gitleaks"]
    checkout = step(gitleaks, "Check out the whole history")
    assert checkout["with"]["fetch-depth"] == 0
    run = scripts(gitleaks)
    assert re.search(
        r'go install .*\n\s*"github.com/zricethezav/gitleaks/v8@\$\{GITLEAKS_VERSION\}"', run
    )
    assert '"$GITLEAKS" git --redact' in run


def test_trivy_scans_the_filesystem_and_the_image_only_with_a_dockerfile() -> None:
    spec = workflow("security.yml")
    assert re.fullmatch(r"v\d+\.\d+\.\d+", spec["env"]["TRIVY_VERSION"])
    trivy = jobs(spec)["trivy"]
    install = step(trivy, "Install Trivy")
    assert install["env"]["GOEXPERIMENT"] == "jsonv2"
    assert '"github.com/aquasecurity/trivy/cmd/trivy@${TRIVY_VERSION}"' in install["run"]
    assert '"$TRIVY" filesystem' in scripts(trivy)
    for name in ("Build the container image", "Scan the container image"):
        assert step(trivy, name)["if"] == "hashFiles('Dockerfile') != ''"
    assert '"$TRIVY" image' in step(trivy, "Scan the container image")["run"]


# --- dependabot.yml -------------------------------------------------------------------------


def test_dependabot_updates_npm_and_actions_weekly_in_groups() -> None:
    config = load_yaml(GITHUB_DIR / "dependabot.yml")
    assert config["version"] == 2
    updates = {u["package-ecosystem"]: u for u in config["updates"]}
    assert set(updates) == {"npm", "github-actions"}
    for ecosystem, update in updates.items():
        assert update["schedule"]["interval"] == "weekly", ecosystem
        assert update["labels"] == ["dependencies"], ecosystem
        (group,) = update["groups"].values()
        assert sorted(group["update-types"]) == ["minor", "patch"], ecosystem
    assert updates["npm"]["directories"] == ["/", "/.github/vercel-cli"]


# --- variables, secrets and required checks -------------------------------------------------


def test_variable_and_secret_names_match_what_the_workflows_read() -> None:
    environment_vars: dict[str, set[str]] = {}
    environment_secrets: dict[str, set[str]] = {}
    repository_vars: set[str] = set()
    for destination, path in WORKFLOWS.items():
        spec = load_yaml(path)
        assert not referenced("vars", spec.get("env", {})), destination
        for job_id, job_spec in jobs(spec).items():
            environment = job_spec.get("environment")
            if environment is None:
                repository_vars |= referenced("vars", job_spec)
                assert not referenced("secrets", job_spec), f"{destination}: jobs.{job_id}"
                continue
            name = environment["name"] if isinstance(environment, dict) else environment
            environment_vars.setdefault(name, set()).update(referenced("vars", job_spec))
            environment_secrets.setdefault(name, set()).update(referenced("secrets", job_spec))
    assert {k: tuple(sorted(v)) for k, v in environment_vars.items()} == (
        pipeline.ENVIRONMENT_VARIABLES
    )
    assert {k: tuple(sorted(v)) for k, v in environment_secrets.items()} == (
        pipeline.ENVIRONMENT_SECRETS
    )
    assert tuple(sorted(repository_vars)) == pipeline.REPOSITORY_VARIABLES


def test_required_status_checks_are_the_gating_pull_request_jobs() -> None:
    checks = pipeline.required_status_checks()
    assert checks == EXPECTED_REQUIRED_CHECKS
    assert checks == sorted(checks) == pipeline.required_status_checks()
    job_names = {
        spec["name"] for path in WORKFLOWS.values() for spec in jobs(load_yaml(path)).values()
    }
    assert set(checks) <= job_names, "a required check names a job that does not exist (G3)"
    for destination, job_id in pipeline.NON_GATING_PULL_REQUEST_JOBS:
        assert job_id in jobs(load_yaml(WORKFLOWS[destination])), (destination, job_id)
    for destination, path in WORKFLOWS.items():
        spec = load_yaml(path)
        if "pull_request" not in triggers(spec):
            continue
        for job_id in pipeline.pull_request_jobs(spec, destination):
            if (destination, job_id) not in pipeline.NON_GATING_PULL_REQUEST_JOBS:
                assert jobs(spec)[job_id]["name"] in checks, (destination, job_id)


def test_pull_request_jobs_follow_conditions_and_needs() -> None:
    spec: dict[str, Any] = {
        "on": {"pull_request": None, "push": None},
        "jobs": {
            "a": {"name": "A"},
            "b": {"name": "B", "if": "${{ github.event_name != 'pull_request' }}"},
            "c": {"name": "C", "needs": ["a", "b"]},
            "d": {"name": "D", "needs": "a", "if": "github.event_name == 'pull_request'"},
        },
    }
    assert pipeline.pull_request_jobs(spec, "t.yml") == ["a", "d"]
    spec["jobs"]["e"] = {"name": "E", "if": "github.actor == 'dependabot[bot]'"}
    with pytest.raises(ValueError, match=r"t.yml: jobs.e"):
        pipeline.pull_request_jobs(spec, "t.yml")


# --- W8: zizmor and actionlint --------------------------------------------------------------


def test_zizmor_reports_nothing() -> None:
    zizmor = Path(sys.executable).parent / "zizmor"
    inputs = [GITHUB_DIR / "dependabot.yml", *WORKFLOWS.values()]
    result = subprocess.run(
        [str(zizmor), "--offline", "--no-config", "--no-progress", "--color", "never", *inputs],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout, result.stdout


def test_actionlint_reports_nothing(actionlint: Path) -> None:
    result = subprocess.run(
        [str(actionlint), "-no-color", *map(str, WORKFLOWS.values())],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=APP_REPO_DIR,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
