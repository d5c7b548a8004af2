"""The application repository's delivery pipeline: its shipped files and what they expect.

The workflows are static YAML under `app_repo/.github/` (ARCHITECTURE.md: static files,
parameterised by Actions variables). This module names those files, the Actions variables
and secrets they read, and derives the status checks `main` requires from their jobs, so a
required check can never name a job that does not exist (rule G3).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from components.github.app_files import APP_REPO_DIR
from components.github.workflow_yaml import jobs, load_yaml, triggers

APP_REPOSITORY_FILES: Final[dict[str, Path]] = {
    destination: APP_REPO_DIR / destination
    for destination in (
        ".github/workflows/deploy.yml",
        ".github/workflows/rollback.yml",
        ".github/workflows/health-check.yml",
        ".github/workflows/security.yml",
        ".github/dependabot.yml",
    )
}
"""Pipeline files: destination path in the application repository → the shipped file.

The workflows install the Vercel CLI from `.github/vercel-cli/` (package.json and its
lockfile), which ships beside them under `app_repo/` and is committed with them."""

# The Actions variables and secrets the shipped workflows read. The platform sets them
# under these names; a test holds the workflows' `vars.*` / `secrets.*` to them.
APP_URL: Final = "APP_URL"
"""Environment variable: the environment's base URL (`https://your-domain.com`)."""
VERCEL_ORG_ID: Final = "VERCEL_ORG_ID"
"""Environment variable: the team owning the environment's Vercel project."""
VERCEL_PROJECT_ID: Final = "VERCEL_PROJECT_ID"
"""Environment variable: the environment's Vercel project (previews go to staging's)."""
VERCEL_TOKEN: Final = "VERCEL_TOKEN"  # noqa: S105 - a secret's name, not its value
"""Environment secret: lets the Vercel CLI deploy."""
SENTRY_AUTH_TOKEN: Final = "SENTRY_AUTH_TOKEN"  # noqa: S105 - a name
"""Environment secret (production): lets the build upload source maps (rule S11)."""
VERCEL_AUTOMATION_BYPASS_SECRET: Final = "VERCEL_AUTOMATION_BYPASS_SECRET"  # noqa: S105 - a name
"""Environment secret: passes Vercel Authentication for automation (health checks, e2e)."""
SUPABASE_DB_URL: Final = "SUPABASE_DB_URL"
"""Environment secret: the direct Postgres URL, for migrations run from CI."""

ENVIRONMENT_VARIABLES: Final[dict[str, tuple[str, ...]]] = {
    "staging": (APP_URL, VERCEL_ORG_ID, VERCEL_PROJECT_ID),
    "production": (APP_URL, VERCEL_ORG_ID, VERCEL_PROJECT_ID),
}
"""Actions variables the workflows read from each GitHub environment, by environment name."""

ENVIRONMENT_SECRETS: Final[dict[str, tuple[str, ...]]] = {
    "staging": (VERCEL_TOKEN,),
    "production": (SENTRY_AUTH_TOKEN, VERCEL_TOKEN),
}
"""Actions secrets the workflows read from each GitHub environment, by environment name."""

REPOSITORY_URL_VARIABLE: Final[dict[str, str]] = {
    "production": "PRODUCTION_URL",
    "staging": "STAGING_URL",
}
"""The repository-level variable each stack owns: the base URL the health check probes."""

REPOSITORY_VARIABLES: Final = tuple(sorted(REPOSITORY_URL_VARIABLE.values()))
"""Repository-level Actions variables the workflows read."""

NON_GATING_PULL_REQUEST_JOBS: Final[frozenset[tuple[str, str]]] = frozenset(
    {(".github/workflows/deploy.yml", "preview-comment")}
)
"""(workflow, job id) of pull-request jobs that only report back and so gate nothing."""

GATED_BRANCH: Final = "main"
"""The branch whose pull requests the required checks gate."""


def workflow_files() -> dict[str, Path]:
    """The workflows among `APP_REPOSITORY_FILES`: destination path → shipped file."""
    return {
        destination: path
        for destination, path in APP_REPOSITORY_FILES.items()
        if destination.startswith(".github/workflows/")
    }


def required_status_checks() -> list[str]:
    """Names of the jobs that must pass before a pull request merges into `main`, sorted.

    A job qualifies when its workflow runs on every pull request to `main` (no path filter),
    the job runs for a pull request (`pull_request_jobs`) and it is not listed in
    `NON_GATING_PULL_REQUEST_JOBS`. The check name is the job's `name:`.
    """
    checks: set[str] = set()
    for destination, path in workflow_files().items():
        workflow = load_yaml(path)
        if not _runs_on_every_pull_request(workflow):
            continue
        for job_id in pull_request_jobs(workflow, destination):
            if (destination, job_id) not in NON_GATING_PULL_REQUEST_JOBS:
                checks.add(str(jobs(workflow)[job_id]["name"]))
    return sorted(checks)


def pull_request_jobs(workflow: Mapping[str, Any], where: str) -> list[str]:
    """Ids of the jobs that run when a pull request triggers `workflow`.

    A job runs when its `if:` holds for a pull request and every job it `needs` runs (GitHub
    skips the dependents of a skipped job).
    """
    all_jobs = jobs(workflow)
    runs: dict[str, bool] = {}

    def job_runs(job_id: str) -> bool:
        if job_id not in runs:
            job = all_jobs[job_id]
            needs = job.get("needs") or []
            needed = [needs] if isinstance(needs, str) else list(needs)
            holds = _holds_for_pull_request(job.get("if"), f"{where}: jobs.{job_id}")
            runs[job_id] = holds and all(job_runs(need) for need in needed)
        return runs[job_id]

    return [job_id for job_id in all_jobs if job_runs(job_id)]


_EVENT_CONDITION: Final = re.compile(
    r"^\s*(?:\$\{\{)?\s*github\.event_name\s*(?P<operator>==|!=)\s*"
    r"'(?P<event>[a-z_]+)'\s*(?:\}\})?\s*$"
)


def _holds_for_pull_request(condition: object, where: str) -> bool:
    """Whether a job's `if:` holds for a pull request.

    Only conditions on the event name can be decided without running the workflow; anything
    else in a workflow that pull requests trigger is an error, not a guess.
    """
    if condition is None:
        return True
    match = _EVENT_CONDITION.match(str(condition))
    if not match:
        raise ValueError(
            f"{where}: `if: {condition}` cannot be decided for a pull request; in workflows "
            "that pull requests trigger, condition jobs only on github.event_name == '...'"
        )
    return (match.group("event") == "pull_request") == (match.group("operator") == "==")


def _runs_on_every_pull_request(workflow: Mapping[str, Any]) -> bool:
    """Whether every pull request to `main` triggers the workflow, whatever files it touches."""
    events = triggers(workflow)
    if "pull_request" not in events:
        return False
    filters = events["pull_request"] or {}
    if "paths" in filters or "paths-ignore" in filters:
        return False
    if "synchronize" not in filters.get("types", ["synchronize"]):
        return False
    if "branches" in filters:
        return any(fnmatch.fnmatchcase(GATED_BRANCH, p) for p in filters["branches"])
    return not any(fnmatch.fnmatchcase(GATED_BRANCH, p) for p in filters.get("branches-ignore", []))
