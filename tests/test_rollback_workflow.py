"""rollback.yml: its own environment and group, its target, its record, its time budget (W11).

The target choice and the incident record are run against fake `vercel` and `gh`: a
production history with a build that was uploaded (`--skip-domain`) but never promoted, a
promotion whose health check failed, a rollback already done, a deployment promoted by hand.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from components.github import pipeline
from components.github.workflow_yaml import jobs, steps, triggers
from tests.step_runner import (
    VERCEL_TEAM,
    StepRun,
    job,
    needs_tools,
    scripts,
    step,
    workflow,
)
from tools.workflow_rules import job_credentials

LOGIN_SCRIPT = pipeline.APP_REPOSITORY_FILES[pipeline.DEPLOY_WORKFLOW].parents[1] / (
    "vercel-cli/oidc-login.sh"
)


def locked(name: str) -> dict[str, set[str]]:
    """Each job's concurrency groups (its workflow's and its own)."""
    spec = workflow(name)
    return {
        job_id: {
            str(c["group"]) for c in (spec.get("concurrency"), job_spec.get("concurrency")) if c
        }
        for job_id, job_spec in jobs(spec).items()
    }


def test_rollback_is_manual_and_runs_in_its_own_environment() -> None:
    """W11: not in `production`, whose prevent_self_review kept on-call from rolling back
    alone; the program gives `production-rollback` the on-call team as reviewers with
    self-review allowed (tests/test_github.py)."""
    spec = workflow("rollback.yml")
    assert list(triggers(spec)) == ["workflow_dispatch"]
    rollback = jobs(spec)["rollback"]
    assert pipeline.job_environment(rollback) == pipeline.ROLLBACK_ENVIRONMENT
    assert (
        pipeline.job_environment(job("deploy.yml", "production")) != pipeline.ROLLBACK_ENVIRONMENT
    )
    credentials = job_credentials(spec, rollback)
    assert credentials.secrets == () and credentials.writes == ("id-token",)
    run = scripts(rollback)
    assert "vercel build" not in run and "vercel deploy" not in run, "no rebuild"


def test_no_deploy_can_hold_up_or_cancel_a_rollback() -> None:
    """W11: the rollback shared `deploy-production`, so a deploy waiting for approval held it
    and the next merge could cancel the queued rollback. Now no deploy job locks any group a
    rollback job locks, and the rollback never cancels in progress."""
    deploy_groups = set().union(*locked("deploy.yml").values())
    for job_id, groups in locked("rollback.yml").items():
        assert groups, f"rollback.yml: jobs.{job_id} is serialised"
        assert not groups & deploy_groups, job_id
    assert locked("rollback.yml")["rollback"] == {"rollback-production"}
    assert job("rollback.yml", "rollback")["concurrency"]["cancel-in-progress"] is False


def test_the_history_read_is_the_one_the_production_deploy_writes() -> None:
    """The target comes from the deployments of the environment deploy.yml's production job
    runs in, whose URL is the deployment it promoted."""
    choose_step = step(job("rollback.yml", "rollback"), "Choose the target deployment")
    (environments,) = re.findall(r"environments: \[([^\]]*)\]", choose_step["run"])
    production = job("deploy.yml", "production")
    assert json.loads(f"[{environments}]") == [pipeline.job_environment(production)]
    assert production["environment"]["url"] == "${{ steps.deploy.outputs.url }}"


def status(state: str, url: str, at: str) -> dict[str, str]:
    return {"state": state, "environmentUrl": url, "createdAt": at}


# deploy.yml's production runs, newest first, as GitHub's GraphQL API lists the production
# environment's deployments: C promoted; X uploaded and promoted but its health check failed
# (the run failed); B promoted (since marked inactive); A promoted.
HISTORY = json.dumps(
    {
        "data": {
            "repository": {
                "deployments": {
                    "nodes": [
                        {
                            "statuses": {
                                "nodes": [
                                    status(
                                        "SUCCESS",
                                        "https://app-c.vercel.app",
                                        "2026-12-04T10:05:00Z",
                                    ),
                                    status("IN_PROGRESS", "", "2026-12-04T10:00:00Z"),
                                ]
                            }
                        },
                        {
                            "statuses": {
                                "nodes": [
                                    status(
                                        "FAILURE",
                                        "https://app-x.vercel.app",
                                        "2026-12-03T10:05:00Z",
                                    )
                                ]
                            }
                        },
                        {
                            "statuses": {
                                "nodes": [
                                    status(
                                        "INACTIVE",
                                        "https://app-b.vercel.app",
                                        "2026-12-04T10:05:00Z",
                                    ),
                                    status(
                                        "SUCCESS",
                                        "https://app-b.vercel.app",
                                        "2026-12-02T10:05:00Z",
                                    ),
                                ]
                            }
                        },
                        {
                            "statuses": {
                                "nodes": [
                                    status(
                                        "SUCCESS",
                                        "https://app-a.vercel.app/",
                                        "2026-12-01T10:05:00Z",
                                    )
                                ]
                            }
                        },
                    ]
                }
            }
        }
    }
)

# What `vercel list --environment production` would answer: every production-target build,
# promoted or not. `app-s` was uploaded with --skip-domain and never promoted; it is newer
# than B, so "the production deployment before the current one" by age would pick it.
LISTED = json.dumps(
    {
        "deployments": [
            {"id": "dpl_c", "url": "app-c.vercel.app", "createdAt": 400},
            {"id": "dpl_s", "url": "app-s.vercel.app", "createdAt": 350},
            {"id": "dpl_x", "url": "app-x.vercel.app", "createdAt": 300},
            {"id": "dpl_b", "url": "app-b.vercel.app", "createdAt": 200},
            {"id": "dpl_a", "url": "app-a.vercel.app", "createdAt": 100},
        ]
    }
)


def choose(tmp_path: Path, current: str, requested: str = "") -> tuple[int, dict[str, str], str]:
    run = StepRun(tmp_path)
    rollback = job("rollback.yml", "rollback")
    result = run(
        rollback,
        step(rollback, "Choose the target deployment"),
        APP_URL="https://your-domain.com",
        REQUESTED=requested,
        VERCEL_TOKEN="short-lived",
        FAKE_INSPECT=json.dumps({"id": f"dpl_{current[4]}", "url": current}),
        FAKE_LIST=LISTED,
        FAKE_GRAPHQL=HISTORY,
    )
    return result.returncode, run.outputs(), result.stdout + result.stderr


@needs_tools
@pytest.mark.parametrize(
    ("current", "target"),
    [
        # Never the skip-domain build, nor the promotion that failed: the one before C.
        ("app-c.vercel.app", "https://app-b.vercel.app"),
        # After a rollback to B, the next one goes further back.
        ("app-b.vercel.app", "https://app-a.vercel.app"),
        # Serving something no run recorded (promoted by hand): the last recorded promotion.
        ("app-z.vercel.app", "https://app-c.vercel.app"),
    ],
)
def test_the_target_is_the_last_deployment_production_promoted_before_the_current(
    tmp_path: Path, current: str, target: str
) -> None:
    code, outputs, log = choose(tmp_path, current)
    assert code == 0, log
    assert outputs == {"current": current, "target": target}


@needs_tools
@pytest.mark.parametrize(
    ("requested", "target"),
    [
        ("https://app-a.vercel.app", "https://app-a.vercel.app"),
        ("app-a.vercel.app/", "https://app-a.vercel.app"),
    ],
)
def test_an_explicit_target_must_be_a_recorded_promotion(
    tmp_path: Path, requested: str, target: str
) -> None:
    code, outputs, log = choose(tmp_path, "app-c.vercel.app", requested)
    assert code == 0, log
    assert outputs["target"] == target


@needs_tools
@pytest.mark.parametrize(
    ("current", "requested", "message"),
    [
        ("app-a.vercel.app", "", "has no earlier promoted deployment"),
        ("app-c.vercel.app", "https://app-s.vercel.app", "app-s.vercel.app is not a deployment"),
        ("app-c.vercel.app", "https://app-x.vercel.app", "app-x.vercel.app is not a deployment"),
        ("app-c.vercel.app", "https://app-c.vercel.app", "production already serves"),
        ("app-c.vercel.app", "https://evil.example/$(id)", "must be the URL of a deployment"),
        ("app-c.vercel.app", "dpl_c", "must be the URL of a deployment"),
    ],
)
def test_a_rollback_to_anything_production_never_served_is_refused(
    tmp_path: Path, current: str, requested: str, message: str
) -> None:
    code, outputs, log = choose(tmp_path, current, requested)
    assert code != 0
    assert message in log
    assert outputs == {}


@needs_tools
@pytest.mark.parametrize("team", [VERCEL_TEAM, ""])
def test_the_rollback_finds_the_deployment_in_the_project_team(tmp_path: Path, team: str) -> None:
    run = StepRun(tmp_path)
    rollback = job("rollback.yml", "rollback")
    url = "https://app-b.vercel.app"
    result = run(
        rollback,
        step(rollback, "Roll back"),
        APP_URL="https://your-domain.com",
        VERCEL_ORG_ID=team,
        VERCEL_TOKEN="short-lived",
        CURRENT="app-c.vercel.app",
        TARGET=url,
        REASON="500s\non checkout",
    )
    if not team:
        assert result.returncode != 0
        return
    assert result.returncode == 0, result.stderr
    (call,) = run.calls("vercel")
    assert call[:3] == ["vercel", "rollback", url]
    assert call[call.index("--scope") + 1] == team
    summary = run.outputs()["summary"]
    assert "rolled back from app-c.vercel.app to https://app-b.vercel.app by @octocat" in summary
    assert "Reason: 500s on checkout." in summary


def incident(number: int, body: str, labels: tuple[str, ...] = ("incident",)) -> dict[str, Any]:
    return {
        "number": number,
        "title": "t",
        "labels": list(labels),
        "body": body,
        "state": "open",
        "comments": [],
    }


MANUAL = incident(3, "Checkout is slow (filed by hand)")
STAGING = incident(4, "<!-- health-check-incident:staging -->\n| staging | 503 |")
PRODUCTION = incident(5, "<!-- health-check-incident:production -->\n| production | 503 |")


def record(
    tmp_path: Path, issues: list[dict[str, Any]], incident_input: str
) -> tuple[int, StepRun, str]:
    run = StepRun(tmp_path)
    run.file_issues(issues)
    record_job = job("rollback.yml", "record")
    result = run(
        record_job,
        step(record_job, "Comment on the incident this rollback belongs to"),
        SUMMARY="Production rolled back from app-c to app-b",
        INCIDENT=incident_input,
    )
    return result.returncode, run, result.stdout + result.stderr


def comments(run: StepRun) -> dict[int, list[str]]:
    return {i["number"]: i["comments"] for i in run.all_issues() if i["comments"]}


@needs_tools
def test_the_rollback_is_recorded_on_the_production_incident_not_any_open_one(
    tmp_path: Path,
) -> None:
    """The record step commented on whatever incident issue was open first (here a manual one,
    or staging's). Without an explicit number it now finds production's health-check incident."""
    code, run, log = record(tmp_path, [MANUAL, STAGING, PRODUCTION], "")
    assert code == 0, log
    assert comments(run) == {5: ["Production rolled back from app-c to app-b"]}


@needs_tools
def test_the_incident_given_is_the_one_recorded(tmp_path: Path) -> None:
    code, run, log = record(tmp_path, [MANUAL, STAGING, PRODUCTION], "3")
    assert code == 0, log
    assert comments(run) == {3: ["Production rolled back from app-c to app-b"]}


@needs_tools
@pytest.mark.parametrize(
    ("issues", "given", "message"),
    [
        (
            [incident(8, "a feature request", labels=("enhancement",))],
            "8",
            "is not labelled incident",
        ),
        ([MANUAL], "3; rm -rf /", "must be an issue number"),
    ],
)
def test_an_incident_number_that_is_not_an_incident_is_refused(
    tmp_path: Path, issues: list[dict[str, Any]], given: str, message: str
) -> None:
    code, run, log = record(tmp_path, issues, given)
    assert code != 0 and message in log
    assert comments(run) == {}


@needs_tools
@pytest.mark.parametrize(
    "issues",
    [[MANUAL, STAGING], [PRODUCTION, {**PRODUCTION, "number": 6}]],
)
def test_without_one_production_incident_nothing_is_guessed(
    tmp_path: Path, issues: list[dict[str, Any]]
) -> None:
    code, run, log = record(tmp_path, issues, "")
    assert code == 0, log
    assert comments(run) == {}
    assert "pass 'incident'" in run.summary.read_text()


# --- the two-minute budget ------------------------------------------------------------------

_BOUND = re.compile(r"(?:\btimeout |--timeout |--max-time )(\d+)s?\b")


def bound_seconds(text: str) -> int:
    """The seconds the commands in `text` are bounded to, added up."""
    return sum(int(seconds) for seconds in _BOUND.findall(text))


def test_the_steps_before_the_domains_move_are_bounded_to_two_minutes() -> None:
    """Every step up to `vercel rollback` is bounded (network calls by their own timeouts,
    each step by a one-minute backstop), and those bounds add up to at most 120 seconds: a
    stalled call fails the run instead of silently eating the incident's time
    (docs/pipeline.md has the table)."""
    rollback = job("rollback.yml", "rollback")
    names = [s["name"] for s in steps(rollback)]
    critical = steps(rollback)[: names.index("Roll back") + 1]
    total = 0
    for step_spec in critical:
        assert step_spec["timeout-minutes"] == 1, step_spec["name"]
        run = str(step_spec.get("run", ""))
        if run == "bash .github/vercel-cli/oidc-login.sh":
            run = LOGIN_SCRIPT.read_text()
        if run:
            seconds = bound_seconds(run)
            assert seconds > 0, f"{step_spec['name']} has an unbounded call"
            total += seconds
    assert total <= 120, total
    assert rollback["timeout-minutes"] <= 5


def test_the_bound_parser_reads_each_kind_of_bound() -> None:
    assert bound_seconds('timeout 40 npm ci\nvercel rollback "$T" --timeout 30s --max-time 5') == 75
