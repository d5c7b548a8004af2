"""This repository's own workflows (preview, up, drift): rules W1-W8 and what each must do.

W1-W7 are checked with the same checker as the application's shipped workflows
(`tools.workflow_rules`); W8 runs zizmor (offline, regular and pedantic personas) and
actionlint. Who holds which credential, per job, is tested in `tests/test_delivery.py`. The
Markdown bodies the workflows post are tested through `tools.ci_report`.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from components.github.workflow_yaml import jobs, load_yaml, steps, triggers
from tools import ci_report
from tools.delivery import ENVIRONMENT_VARIABLES, PROVIDER_SECRETS, REPOSITORY_VARIABLES
from tools.workflow_rules import check_workflow, referenced

ROOT = Path(__file__).resolve().parent.parent
GITHUB = ROOT / ".github"
WORKFLOWS = GITHUB / "workflows"
ACTION = GITHUB / "actions" / "pulumi" / "action.yml"
NAMES = ("preview.yml", "preview-stack.yml", "up.yml", "drift.yml")


def workflow(name: str) -> dict[str, Any]:
    return load_yaml(WORKFLOWS / name)


def run_scripts(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) for step in steps(job))


def test_the_workflows_and_nothing_else() -> None:
    assert sorted(p.name for p in WORKFLOWS.iterdir()) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_rules_w1_to_w7_hold(name: str) -> None:
    assert [str(f) for f in check_workflow(WORKFLOWS / name)] == []


@pytest.mark.parametrize("name", NAMES)
def test_top_level_permissions_are_empty(name: str) -> None:
    assert workflow(name)["permissions"] == {}


def test_the_workflows_read_only_the_documented_secrets_and_variables() -> None:
    secrets: set[str] = set()
    variables: set[str] = set()
    for name in NAMES:
        secrets |= referenced("secrets", workflow(name))
        variables |= referenced("vars", workflow(name))
    assert secrets == set(PROVIDER_SECRETS)
    assert variables == set(REPOSITORY_VARIABLES) | set(ENVIRONMENT_VARIABLES)


def test_the_pulumi_cli_is_installed_by_the_pinned_action_at_the_engine_version() -> None:
    """CI runs the same CLI version as the engine the project builds (engine/versions.env)."""
    versions = (ROOT / "engine" / "versions.env").read_text()
    engine_version = re.search(r"^PULUMI_CLI_VERSION=v(\S+)$", versions, re.MULTILINE)
    assert engine_version is not None
    text = ACTION.read_text()
    pins = re.findall(r"uses: pulumi/actions@([0-9a-f]{40}) # (v\S+)", text)
    assert pins == [("8e5e406f4007fca908480587cb9893c07090f58d", "v7.0.0")]
    assert set(re.findall(r"pulumi-version: (\S+)", text)) == {engine_version.group(1)}
    for name in NAMES:
        assert "pulumi/actions@" not in (WORKFLOWS / name).read_text(), "one install, the action's"


def test_preview_runs_each_stack_with_the_policy_pack_and_the_offline_diff() -> None:
    caller = workflow("preview.yml")
    assert set(triggers(caller)) == {"pull_request"}
    assert {j: job["with"]["stack"] for j, job in jobs(caller).items()} == {
        "staging": "staging",
        "production": "production",
    }
    assert all(
        job["uses"] == "./.github/workflows/preview-stack.yml" for job in jobs(caller).values()
    )
    callee = workflow("preview-stack.yml")
    assert set(triggers(callee)) == {"workflow_call"}
    preview = jobs(callee)["preview"]
    script = run_scripts(preview)
    assert 'pulumi preview --stack "$STACK" --policy-pack policy' in script
    assert 'tools.diff --base "$BASE_SHA" "$STACK"' in script
    assert "tools.ci_report pr-comment" in script
    checkout = next(
        s for s in steps(preview) if str(s.get("uses", "")).startswith("actions/checkout")
    )
    assert checkout["with"]["fetch-depth"] == 0, "the base revision must be in the clone"
    comment = jobs(callee)["comment"]
    assert comment["needs"] == "preview" and "always()" in comment["if"]
    post = run_scripts(comment)
    assert "platform-preview:${STACK}" in post and "--method PATCH" in post


def test_the_drift_report_needs_no_virtualenv(tmp_path: Path) -> None:
    """drift.yml's compose job runs tools.ci_report with the runner's bare python3."""
    out = tmp_path / "issue.md"
    result = subprocess.run(
        [
            sys.executable,
            "-S",
            "-m",
            "tools.ci_report",
            "drift",
            "--dir",
            str(tmp_path / "none"),
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "error\n" and out.read_text().startswith(ci_report.DRIFT_MARKER)


def test_up_updates_staging_then_production_behind_approval() -> None:
    document = workflow("up.yml")
    assert triggers(document) == {"push": {"branches": ["main"]}}
    staging, plan, production = (jobs(document)[k] for k in ("staging", "plan", "production"))
    assert (staging["env"]["STACK"], plan["env"]["STACK"]) == ("staging", "production")
    assert production["env"]["STACK"] == "production"
    assert 'pulumi up --yes --stack "$STACK" --policy-pack policy' in run_scripts(staging)
    assert 'pulumi preview --stack "$STACK" --policy-pack policy' in run_scripts(plan)
    assert "--plan build/plan/plan.json --policy-pack policy" in run_scripts(production)
    for job in (staging, plan, production):
        assert "GITHUB_STEP_SUMMARY" in run_scripts(job)


def test_drift_refreshes_and_expects_no_changes_then_files_one_issue() -> None:
    document = workflow("drift.yml")
    assert set(triggers(document)) == {"schedule", "workflow_dispatch"}
    detect = jobs(document)["detect"]
    assert detect["strategy"]["matrix"]["stack"] == ["staging", "production"]
    script = run_scripts(detect)
    assert "pulumi refresh --preview-only --expect-no-changes" in script
    assert "pulumi preview --expect-no-changes" in script
    assert "tools.ci_report drift" in run_scripts(jobs(document)["compose"])
    report = jobs(document)["report"]
    assert report["needs"] == "compose"
    for command in ("--label drift", "gh issue edit", "gh issue create", "gh issue close"):
        assert command in run_scripts(report)


def _lint(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("persona", ["regular", "pedantic"])
def test_zizmor_reports_nothing(persona: str) -> None:
    """Workflows and the composite action, with the repository's zizmor.yml."""
    zizmor = str(ROOT / "venv" / "bin" / "zizmor")
    result = _lint([zizmor, "--offline", "--persona", persona, str(GITHUB)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout + result.stderr


def test_actionlint_reports_nothing(actionlint: Path) -> None:
    result = _lint([str(actionlint), *(str(WORKFLOWS / name) for name in NAMES)])
    assert result.returncode == 0, result.stdout + result.stderr


# --------------------------------------------------------------------------- ci_report


def test_a_pr_comment_starts_with_its_stack_marker_and_fits_github() -> None:
    huge = "\x1b[32m+ create\x1b[0m resource\n" * 10_000 + "Resources:\n    + 3 to create\n"
    body = ci_report.pr_comment("staging", huge, 0, "## diff\n" + "| x | y |\n" * 20_000)
    assert body.startswith("<!-- platform-preview:staging -->\n### ✅")
    assert len(body) <= ci_report.MAX_BODY
    assert "+ 3 to create" in body, "the preview's end (its summary) is kept"
    assert "\x1b[" not in body
    assert "see the run's artifacts" in body


def test_a_failed_preview_and_backticks_in_the_output() -> None:
    body = ci_report.pr_comment("production", "error: ```boom```", 255, None)
    assert "❌ `pulumi preview` of stack `production` failed (exit 255)" in body
    assert "````text\nerror: ```boom```\n````" in body
    assert "Offline desired-state diff" not in body


def _drift_dir(root: Path, **stacks: tuple[int, str, int, str]) -> Path:
    for stack, (r_status, r_text, p_status, p_text) in stacks.items():
        folder = root / stack
        folder.mkdir(parents=True)
        (folder / "refresh.status").write_text(f"{r_status}\n")
        (folder / "refresh.txt").write_text(r_text)
        (folder / "preview.status").write_text(f"{p_status}\n")
        (folder / "preview.txt").write_text(p_text)
    return root


def test_drift_state_and_issue_body(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    drifted = _drift_dir(
        tmp_path / "a",
        staging=(0, "no changes", 0, "no changes"),
        production=(255, "~ 1 to update\nerror: " + ci_report.NO_CHANGES_EXPECTED, 0, "ok"),
    )
    assert ci_report.main(["drift", "--dir", str(drifted), "--out", str(tmp_path / "i.md")]) == 0
    assert capsys.readouterr().out == "drift\n"
    body = (tmp_path / "i.md").read_text()
    assert body.startswith(ci_report.DRIFT_MARKER)
    assert "| `production` | drift |" in body and "| `staging` | no drift |" in body
    assert "### `production`" in body and "### `staging`" not in body

    clean = _drift_dir(tmp_path / "b", staging=(0, "", 0, ""), production=(0, "", 0, ""))
    ci_report.main(["drift", "--dir", str(clean), "--out", str(tmp_path / "j.md")])
    assert capsys.readouterr().out == "clean\n"

    failed = _drift_dir(tmp_path / "c", staging=(1, "error: unauthorized", 0, ""))
    ci_report.main(["drift", "--dir", str(failed), "--out", str(tmp_path / "k.md")])
    assert capsys.readouterr().out == "drift\n"
    assert "| `staging` | check failed |" in (tmp_path / "k.md").read_text()

    (tmp_path / "d").mkdir()
    ci_report.main(["drift", "--dir", str(tmp_path / "d"), "--out", str(tmp_path / "l.md")])
    assert capsys.readouterr().out == "error\n"


def test_a_job_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "out.txt").write_text("Resources:\n    4 unchanged\n")
    (tmp_path / "status").write_text("0\n")
    ci_report.main(
        [
            "summary",
            "--title",
            "pulumi up: staging",
            "--output",
            str(tmp_path / "out.txt"),
            "--status",
            str(tmp_path / "status"),
        ]
    )
    out = capsys.readouterr().out
    assert out.startswith("## ✅ pulumi up: staging (exit 0)\n")
    assert "4 unchanged" in out
