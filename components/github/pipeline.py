"""The application repository's delivery pipeline: its shipped files and what they expect.

The workflows are static YAML under `app_repo/.github/` (ARCHITECTURE.md: static files,
parameterised by Actions variables). This module names those files, the Actions variables
and secrets they read, and derives the status checks `main` requires from their jobs, so a
required check can never name a job that does not exist (rule G3).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any, Final

from components.github.app_files import APP_REPO_DIR
from components.github.workflow_yaml import jobs, load_yaml, steps, triggers
from components.supabase.api import TOKEN_ENV

APP_REPOSITORY_FILES: Final[dict[str, Path]] = {
    destination: APP_REPO_DIR / destination
    for destination in (
        ".github/workflows/deploy.yml",
        ".github/workflows/rollback.yml",
        ".github/workflows/health-check.yml",
        ".github/workflows/security.yml",
        ".github/workflows/database-branches.yml",
        ".github/dependabot.yml",
    )
}
"""Pipeline files: destination path in the application repository → the shipped file.

The workflows install the Vercel CLI from `.github/vercel-cli/` (package.json and its
lockfile), which ships beside them under `app_repo/` and is committed with them."""

DEPLOY_WORKFLOW: Final = ".github/workflows/deploy.yml"
ROLLBACK_WORKFLOW: Final = ".github/workflows/rollback.yml"
HEALTH_CHECK_WORKFLOW: Final = ".github/workflows/health-check.yml"
DATABASE_BRANCHES_WORKFLOW: Final = ".github/workflows/database-branches.yml"

ROLLBACK_ENVIRONMENT: Final = "production-rollback"
"""The GitHub environment rollback.yml runs in (production stack): main only, the on-call team
approves its own run. Not `production`, whose reviewers a rollback must not wait for (W11)."""

# The Actions variables and secrets the shipped workflows read. The platform sets them
# under these names; a test holds the workflows' `vars.*` / `secrets.*` to them.
APP_URL: Final = "APP_URL"
"""Environment variable: the environment's base URL (`https://your-domain.com`)."""
VERCEL_ORG_ID: Final = "VERCEL_ORG_ID"
"""Environment variable: the team owning the environment's Vercel project."""
VERCEL_PROJECT_ID: Final = "VERCEL_PROJECT_ID"
"""Environment variable: the environment's Vercel project (previews go to staging's)."""
SENTRY_AUTH_TOKEN: Final = "SENTRY_AUTH_TOKEN"  # noqa: S105 - a name
"""Environment secret (production): lets the build upload source maps (rule S11). Long-lived:
Sentry exchanges no OIDC token for one, a documented exception to rule W10."""
VERCEL_AUTOMATION_BYPASS_SECRET: Final = "VERCEL_AUTOMATION_BYPASS_SECRET"  # noqa: S105 - a name
"""Environment secret: passes Vercel Authentication for automation (health checks, e2e)."""
SUPABASE_DB_URL: Final = "SUPABASE_DB_URL"
"""Environment secret: the direct Postgres URL deploy.yml applies migrations through (psql), set
only where CI can connect (rule S1); without it the deploy stops at its migration step."""
SUPABASE_ACCESS_TOKEN: Final = TOKEN_ENV
"""Environment secret (staging, with database branches on): the Management API token the
pull requests' database branches are made, migrated and deleted with. Long-lived: Supabase
exchanges no OIDC token, a documented exception to rule W10."""
SUPABASE_PROJECT_REF: Final = "SUPABASE_PROJECT_REF"
"""Environment variable (staging, with database branches on): the project pull requests branch
from. Unset, the branch jobs say that branches are off and previews use the staging database."""

DEPLOY_VARIABLES: Final = (APP_URL, VERCEL_ORG_ID, VERCEL_PROJECT_ID)
"""What every environment a workflow deploys or rolls back from reads: where and what."""

ENVIRONMENT_VARIABLES: Final[dict[str, tuple[str, ...]]] = {
    "staging": tuple(sorted((*DEPLOY_VARIABLES, SUPABASE_PROJECT_REF))),
    "production": DEPLOY_VARIABLES,
    ROLLBACK_ENVIRONMENT: DEPLOY_VARIABLES,
}
"""Actions variables the workflows read from each GitHub environment, by environment name."""

ENVIRONMENT_SECRETS: Final[dict[str, tuple[str, ...]]] = {
    "staging": (SUPABASE_ACCESS_TOKEN, SUPABASE_DB_URL),
    "production": (SENTRY_AUTH_TOKEN, SUPABASE_DB_URL),
    ROLLBACK_ENVIRONMENT: (),
}
"""Actions secrets the workflows read from each GitHub environment, by environment name. No
Vercel token: the jobs obtain short-lived ones by OIDC (rule W10)."""

REPOSITORY_URL_VARIABLE: Final[dict[str, str]] = {
    "production": "PRODUCTION_URL",
    "staging": "STAGING_URL",
}
"""The repository-level variable each stack owns: the base URL the health check probes."""

REPOSITORY_TTFB_BUDGET_VARIABLE: Final[dict[str, str]] = {
    "production": "PRODUCTION_TTFB_BUDGET_MS",
    "staging": "STAGING_TTFB_BUDGET_MS",
}
"""The repository-level variable each stack owns: the health check's budget of median server
time in milliseconds (the stack's `alertTtfbMs`)."""

FIRST_LOAD_JS_BUDGET_VARIABLE: Final = "FIRST_LOAD_JS_BUDGET_KB"
"""Repository-level variable (production owns it, like every repository-wide object): the
first-load JavaScript budget the pull-request build is held to; unset for a framework other
than Next.js, whose build manifests the check reads."""
FIRST_LOAD_JS_SCRIPT: Final = ".github/scripts/first_load_js.py"
"""The budget check the preview build runs (shipped under `app_repo/`)."""

RLS_EXPOSED_SCHEMAS_VARIABLE: Final = "RLS_EXPOSED_SCHEMAS"
"""Repository-level variable (production owns it): the schemas besides `public` the Data API
exposes, comma-separated, which the RLS check holds to rule S2 too; unset checks `public`."""
RLS_CHECK_SCRIPT: Final = ".github/scripts/rls_check.py"
"""The RLS check every pull request and push runs (rule S2)."""
MIGRATIONS_SCRIPT: Final = ".github/scripts/migrations.py"
"""What applies migrations to staging's and production's databases (psql)."""
DB_BRANCH_SCRIPT: Final = ".github/scripts/db_branch.py"
"""What makes, migrates, hands on and deletes the pull requests' database branches."""
SUPABASE_API_SCRIPT: Final = ".github/scripts/supabase_api.py"
"""The Management API client `DB_BRANCH_SCRIPT` imports: components/supabase/api.py itself."""
MIGRATIONS_DIR: Final = "supabase/migrations"
"""Where the app keeps its migrations (the Supabase CLI's layout)."""

REPOSITORY_VARIABLES: Final = tuple(
    sorted(
        [
            *REPOSITORY_URL_VARIABLE.values(),
            *REPOSITORY_TTFB_BUDGET_VARIABLE.values(),
            FIRST_LOAD_JS_BUDGET_VARIABLE,
            RLS_EXPOSED_SCHEMAS_VARIABLE,
        ]
    )
)
"""Repository-level Actions variables the workflows read."""

NON_GATING_PULL_REQUEST_JOBS: Final[frozenset[tuple[str, str]]] = frozenset(
    {(".github/workflows/deploy.yml", "preview-comment")}
)
"""(workflow, job id) of pull-request jobs that only report back and so gate nothing."""

GATED_BRANCH: Final = "main"
"""The branch whose pull requests the required checks gate."""

MAIN_REF: Final = f"refs/heads/{GATED_BRANCH}"
"""The ref (OIDC `ref` claim) of runs on main: pushes, and dispatches environments admit."""
PULL_REQUEST_REF: Final = "refs/pull/*/merge"
"""The ref (OIDC `ref` claim) of a `pull_request` run: the pull request's merge commit."""

BILLED_MINUTES_PER_JOB: Final = 1
"""Actions minutes one run of a health-check job is billed: GitHub rounds each job up to the
minute, and the job takes well under one while the stacks answer."""


def workflow_files() -> dict[str, Path]:
    """The workflows among `APP_REPOSITORY_FILES`: destination path → shipped file."""
    return {
        destination: path
        for destination, path in APP_REPOSITORY_FILES.items()
        if destination.startswith(".github/workflows/")
    }


@cache
def shipped_workflow(destination: str) -> dict[str, Any]:
    """A shipped workflow, parsed once per process (the program reads each several times:
    required checks, federation policies, the health check's cost). Read it, never change it."""
    return load_yaml(workflow_files()[destination])


def required_status_checks() -> list[str]:
    """Names of the jobs that must pass before a pull request merges into `main`, sorted.

    A job qualifies when its workflow runs on every pull request to `main` (no path filter),
    the job runs for a pull request (`pull_request_jobs`) and it is not listed in
    `NON_GATING_PULL_REQUEST_JOBS`. The check name is the job's `name:`.
    """
    checks: set[str] = set()
    for destination in workflow_files():
        workflow = shipped_workflow(destination)
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


def job_environment(job: Mapping[str, Any]) -> str | None:
    """The GitHub environment a job runs in (`environment:` as a name or a mapping), or None."""
    environment = job.get("environment")
    if isinstance(environment, Mapping):
        return str(environment["name"])
    return None if environment is None else str(environment)


_CLI_CALL: Final = re.compile(r"(?:^|[\s;|&(`$])vercel\s+([a-z][a-z-]*)", re.MULTILINE)


def cli_commands(job: Mapping[str, Any]) -> list[str]:
    """The Vercel CLI commands (`pull`, `deploy`, ...) a job's steps run, in order."""
    return [
        command for step in steps(job) for command in _CLI_CALL.findall(str(step.get("run", "")))
    ]


def environment_jobs(environment: str) -> dict[str, dict[str, Any]]:
    """Every shipped job that runs in `environment`: `<workflow destination>: jobs.<id>` → job."""
    return {
        f"{destination}: jobs.{job_id}": job
        for destination in workflow_files()
        for job_id, job in jobs(shipped_workflow(destination)).items()
        if job_environment(job) == environment
    }


def requests_oidc_token(job: Mapping[str, Any]) -> bool:
    """Whether a job may mint a GitHub OIDC token (`id-token: write`), the only way a job
    obtains a Vercel token."""
    permissions = job.get("permissions")
    return isinstance(permissions, Mapping) and permissions.get("id-token") == "write"


def deploying_workflows(environment: str) -> tuple[str, ...]:
    """The shipped workflows (destination paths) with a job in `environment` that may mint an
    OIDC token, sorted. Jobs there without one (the database branch jobs, which hold a
    Supabase token instead) give their workflow no claim to a Vercel token."""
    return tuple(
        sorted(
            {
                where.split(":")[0]
                for where, job in environment_jobs(environment).items()
                if requests_oidc_token(job)
            }
        )
    )


def vercel_api_commands(environment: str, local: Iterable[str]) -> tuple[str, ...]:
    """The Vercel CLI commands the jobs in `environment` run, less the `local` ones (commands
    that never call Vercel's API, so no credential needs to allow them), sorted.

    A Vercel OIDC federation policy grants exactly these, so a policy can never lag behind
    what the workflows run, nor allow more.
    """
    skip = set(local)
    return tuple(
        sorted(
            {
                command
                for job in environment_jobs(environment).values()
                for command in cli_commands(job)
                if command not in skip
            }
        )
    )


def scheduled_runs_per_day(workflow: Mapping[str, Any], where: str) -> int:
    """How many times a day the workflow's `schedule:` starts it.

    Each cron must run every day (day-of-month, month and weekday `*`): a monthly cost is then
    30 times the daily count. Minute and hour fields may be `*`, `*/n`, `a`, `a-b`, `a-b/n`
    and comma lists of those.
    """
    total = 0
    for entry in triggers(workflow).get("schedule") or []:
        fields = str(entry["cron"]).split()
        if len(fields) != 5 or fields[2:] != ["*", "*", "*"]:
            raise ValueError(f"{where}: cron {entry['cron']!r} must run every day ('M H * * *')")
        total += len(_cron_values(fields[0], 60, where)) * len(_cron_values(fields[1], 24, where))
    return total


def _cron_values(field: str, size: int, where: str) -> set[int]:
    values: set[int] = set()
    for part in field.split(","):
        match = re.fullmatch(r"(\*|\d+(?:-\d+)?)(?:/(\d+))?", part)
        if not match:
            raise ValueError(f"{where}: cron field {field!r} is not understood")
        span, step = match.group(1), int(match.group(2) or 1)
        low, _, high = span.partition("-")
        first, last = (0, size - 1) if span == "*" else (int(low), int(high or low))
        if not 0 <= first <= last < size or step < 1:
            raise ValueError(f"{where}: cron field {field!r} is out of range")
        values.update(range(first, last + 1, step))
    return values


def health_check_minutes_per_day() -> int:
    """Actions minutes the shipped health check is billed a day: scheduled runs x jobs x
    `BILLED_MINUTES_PER_JOB`."""
    workflow = shipped_workflow(HEALTH_CHECK_WORKFLOW)
    runs = scheduled_runs_per_day(workflow, HEALTH_CHECK_WORKFLOW)
    return runs * len(jobs(workflow)) * BILLED_MINUTES_PER_JOB
