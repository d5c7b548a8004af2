"""The database parts of the app's workflows: the RLS check, the migrations of staging and
production, the pull requests' database branches (deploy.yml, database-branches.yml).

Structure first (which job holds which credential, what runs before what, never a production
secret in a pull-request job), then behaviour: the shell of the steps that hand the branch's
values on, and of the cleanup, run against fake tools (`tests.step_runner`).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from components.github import pipeline
from components.github.app_files import APP_REPO_DIR, static_files
from components.github.workflow_yaml import jobs, load_yaml, steps, triggers
from components.vercel.facts import DATABASE_VARIABLES, PUBLIC_PREFIX
from tests.step_runner import WORKFLOWS, StepRun, job, needs_tools, scripts, step, workflow
from tools.workflow_rules import job_credentials, referenced, runs_pull_request_code

PRODUCTION_ENVIRONMENTS = ("production", pipeline.ROLLBACK_ENVIRONMENT)
DIGEST = re.compile(r"^[a-z0-9./-]+:[\w.-]+@sha256:[0-9a-f]{64}$")


def secrets_in(step_spec: Mapping[str, Any]) -> set[str]:
    return referenced("secrets", step_spec)


def names(job_spec: Mapping[str, Any]) -> list[str]:
    return [str(s["name"]) for s in steps(job_spec)]


# --------------------------------------------------------------------------- who holds what


@pytest.mark.parametrize("destination", sorted(WORKFLOWS))
def test_no_pull_request_job_holds_a_production_credential(destination: str) -> None:
    """A job a pull request starts runs in no production environment and reads none of its
    secrets: the database branch jobs hold staging's Supabase token, nothing of production."""
    spec = load_yaml(WORKFLOWS[destination])
    if "pull_request" not in triggers(spec):
        return
    production_only = set(pipeline.ENVIRONMENT_SECRETS["production"]) - set(
        pipeline.ENVIRONMENT_SECRETS["staging"]
    )
    for job_id in pipeline.pull_request_jobs(spec, destination):
        held = job_credentials(spec, jobs(spec)[job_id])
        assert held.environment not in PRODUCTION_ENVIRONMENTS, (destination, job_id)
        assert not set(held.secrets) & production_only, (destination, job_id)


def test_the_supabase_token_is_held_only_where_branches_are_made_and_removed() -> None:
    holders = {
        (destination, job_id)
        for destination, path in WORKFLOWS.items()
        for job_id, job_spec in jobs(load_yaml(path)).items()
        if pipeline.SUPABASE_ACCESS_TOKEN in referenced("secrets", job_spec)
    }
    assert holders == {
        (pipeline.DEPLOY_WORKFLOW, "preview-database"),
        (pipeline.DEPLOY_WORKFLOW, "preview"),
        (pipeline.DATABASE_BRANCHES_WORKFLOW, "delete"),
        (pipeline.DATABASE_BRANCHES_WORKFLOW, "cleanup"),
    }
    for destination, job_id in holders:
        job_spec = jobs(load_yaml(WORKFLOWS[destination]))[job_id]
        assert pipeline.job_environment(job_spec) == "staging", job_id
        for step_spec in steps(job_spec):
            if pipeline.SUPABASE_ACCESS_TOKEN in secrets_in(step_spec):
                # Only the base branch's db_branch.py gets it, step by step.
                assert pipeline.DB_BRANCH_SCRIPT in str(step_spec["run"]), (job_id, step_spec)


def test_the_database_url_is_read_only_by_the_migration_steps() -> None:
    for job_id in ("staging", "production"):
        job_spec = job("deploy.yml", job_id)
        readers = [s["name"] for s in steps(job_spec) if pipeline.SUPABASE_DB_URL in secrets_in(s)]
        assert readers == ["Migrate the database"], job_id
    others = [
        (destination, job_id)
        for destination, path in WORKFLOWS.items()
        for job_id, job_spec in jobs(load_yaml(path)).items()
        if pipeline.SUPABASE_DB_URL in referenced("secrets", job_spec)
    ]
    assert sorted(others) == [
        (pipeline.DEPLOY_WORKFLOW, "production"),
        (pipeline.DEPLOY_WORKFLOW, "staging"),
    ]


# --------------------------------------------------------------------------- the RLS check


def test_the_rls_check_runs_the_checker_on_a_pinned_postgres_holding_nothing() -> None:
    spec = workflow("deploy.yml")
    check = jobs(spec)["rls-check"]
    assert "if" not in check, "every pull request and every push"
    assert "RLS check" in pipeline.required_status_checks()
    assert "rls-check" in runs_pull_request_code(spec, "deploy.yml")
    credentials = job_credentials(spec, check)
    assert (credentials.environment, credentials.secrets, credentials.writes) == (None, (), ())
    (service,) = check["services"].values()
    assert DIGEST.fullmatch(service["image"]), service["image"]
    assert service["env"] == {"POSTGRES_HOST_AUTH_METHOD": "trust"}
    run = step(check, "Check row-level security")
    assert pipeline.RLS_CHECK_SCRIPT in run["run"]
    assert run["env"]["EXPOSED_SCHEMAS"] == (
        f"${{{{ vars.{pipeline.RLS_EXPOSED_SCHEMAS_VARIABLE} }}}}"
    )
    assert "@127.0.0.1:5432/" in run["env"]["RLS_CHECK_DATABASE_URL"]
    assert (APP_REPO_DIR / pipeline.RLS_CHECK_SCRIPT).is_file()


def test_staging_deploys_only_after_the_rls_check() -> None:
    assert job("deploy.yml", "staging")["needs"] == "rls-check"
    assert job("deploy.yml", "production")["needs"] == "staging"


# --------------------------------------------------------------------------- migrations


@pytest.mark.parametrize("job_id", ["staging", "production"])
def test_migrations_run_after_the_build_and_before_anything_is_deployed(job_id: str) -> None:
    """A failed migration (or production without SUPABASE_DB_URL) fails the step, and every
    later step, the deploy and the promotion among them, is skipped."""
    job_spec = job("deploy.yml", job_id)
    order = names(job_spec)
    migrate = step(job_spec, "Migrate the database")
    assert migrate["run"] == (f"python3 {pipeline.MIGRATIONS_SCRIPT} apply --environment {job_id}")
    assert migrate["env"] == {
        pipeline.SUPABASE_DB_URL: f"${{{{ secrets.{pipeline.SUPABASE_DB_URL} }}}}"
    }
    assert "if" not in migrate and "continue-on-error" not in migrate
    assert order.index("Build") < order.index("Migrate the database")
    deploy = next(n for n in order if n.startswith("Deploy"))
    assert order.index("Migrate the database") < order.index(deploy)
    if job_id == "production":
        assert job_spec["environment"]["name"] == "production", "behind its approval"
        assert order.index("Migrate the database") < order.index(
            "Promote the deployment to the production domains"
        )
    for later in steps(job_spec)[order.index("Migrate the database") + 1 :]:
        assert "if" not in later, f"{later['name']} would run after a failed migration"


def test_the_shipped_migrations_follow_the_convention_and_ship() -> None:
    shipped = static_files()
    migrations = [p for p in shipped if p.startswith(pipeline.MIGRATIONS_DIR + "/")]
    assert migrations == [f"{pipeline.MIGRATIONS_DIR}/20260101000000_create_notes.sql"]
    sql = shipped[migrations[0]]
    assert "alter table public.notes enable row level security;" in sql
    assert sql.count("using ((select auth.uid()) = owner_id)") == 3
    for script in (
        pipeline.MIGRATIONS_SCRIPT,
        pipeline.RLS_CHECK_SCRIPT,
        pipeline.DB_BRANCH_SCRIPT,
        pipeline.SUPABASE_API_SCRIPT,
    ):
        assert script in shipped, script


# --------------------------------------------------------------------------- branches


def test_the_branch_job_holds_staging_token_runs_base_code_and_outputs_public_values() -> None:
    spec = workflow("deploy.yml")
    database = jobs(spec)["preview-database"]
    assert database["if"] == "github.event_name == 'pull_request'"
    assert "Preview database" in pipeline.required_status_checks()
    assert job_credentials(spec, database).environment == "staging"
    assert "preview-database" not in runs_pull_request_code(spec, "deploy.yml")
    checkout = step(database, "Check out the branch script of the base branch")
    assert checkout["with"]["ref"] == "${{ github.event.pull_request.base.sha }}"
    assert checkout["with"]["sparse-checkout"] == ".github/scripts"
    assert set(database["outputs"]) == {"api_url", "anon_key"}, "public values only"
    ensure = step(database, "Find or create the pull request's database branch")
    assert ensure["run"] == f'python3 {pipeline.DB_BRANCH_SCRIPT} ensure --pr "$PR_NUMBER"'


def test_forks_and_dependabot_get_no_branch_and_say_why() -> None:
    """Their runs get no secrets: the job succeeds (a required check) explaining itself."""
    database = job("deploy.yml", "preview-database")
    assert database["env"]["TRUSTED"] == (
        "${{ github.actor != 'dependabot[bot]' && "
        "github.event.pull_request.head.repo.full_name == github.repository }}"
    )
    explain = steps(database)[0]
    assert explain["if"] == "env.TRUSTED != 'true' || env.SUPABASE_PROJECT_REF == ''"
    assert "forks get no secrets" in explain["run"] and "GITHUB_STEP_SUMMARY" in explain["run"]
    for step_spec in steps(database)[1:]:
        assert step_spec["if"] == "env.TRUSTED == 'true' && env.SUPABASE_PROJECT_REF != ''"


def test_the_build_gets_the_branchs_public_values_and_no_credential() -> None:
    spec = workflow("deploy.yml")
    build = jobs(spec)["preview-build"]
    point = step(build, "Point the build at the pull request's database branch")
    assert point["env"] == {
        "BRANCH_API_URL": "${{ needs.preview-database.outputs.api_url }}",
        "BRANCH_ANON_KEY": "${{ needs.preview-database.outputs.anon_key }}",
    }
    order = names(build)
    assert order.index("Fetch the preview settings") < order.index(point["name"])
    assert order.index(point["name"]) < order.index("Build")
    assert all(name.startswith(PUBLIC_PREFIX) for name in re.findall(r"\^(\w+)=", point["run"]))
    assert not job_credentials(spec, build).secrets


def test_the_deploy_migrates_the_branch_then_hands_its_values_to_that_deployment() -> None:
    deploy = job("deploy.yml", "preview")
    order = names(deploy)
    migrate = "Apply the pull request's migrations to its database branch"
    hand_on = "Hand the branch's URL and keys to the deploy step"
    assert order.index("Fetch the pull request's migrations") < order.index(migrate)
    assert order.index(migrate) < order.index(hand_on) < order.index("Deploy the prebuilt output")
    assert '--dir "$RUNNER_TEMP/migrations"' in step(deploy, migrate)["run"]
    run = step(deploy, "Deploy the prebuilt output")["run"]
    listed = re.search(r"for name in ([A-Z_ ]+); do", run)
    assert listed is not None and tuple(listed.group(1).split()) == DATABASE_VARIABLES
    # `--env NAME` alone: the CLI reads the value from the step's environment.
    assert 'branch_env+=(--env "$name")' in run
    assert "=" not in run.split("for name in", 1)[1].split("done", 1)[0].replace("+=", "")
    assert "vercel env" not in scripts(deploy), "never the staging project's variables"


@needs_tools
@pytest.mark.parametrize("branch", [True, False])
def test_the_preview_deploy_passes_the_branch_values_by_name_only(
    tmp_path: Path, branch: bool
) -> None:
    run = StepRun(tmp_path)
    deploy = job("deploy.yml", "preview")
    answer = json.dumps({"deployment": {"url": "app-pr.vercel.app"}})
    result = run(
        deploy,
        step(deploy, "Deploy the prebuilt output"),
        FAKE_DEPLOY=answer,
        VERCEL_TOKEN="t",
        DATABASE_BRANCH="true" if branch else "false",
        SUPABASE_SERVICE_ROLE_KEY="service-role-secret",
    )
    assert result.returncode == 0, result.stderr
    (call,) = run.calls("vercel")
    flags = [call[i + 1] for i, arg in enumerate(call) if arg == "--env"]
    assert flags == (list(DATABASE_VARIABLES) if branch else [])
    assert "service-role-secret" not in json.dumps(call)
    assert run.outputs() == {"url": "https://app-pr.vercel.app"}


@needs_tools
def test_the_build_settings_point_at_the_branch(tmp_path: Path) -> None:
    run = StepRun(tmp_path)
    build = job("deploy.yml", "preview-build")
    settings = tmp_path / ".vercel" / ".env.preview.local"
    settings.parent.mkdir()
    settings.write_text(
        'NEXT_PUBLIC_SUPABASE_URL="https://stagingrefxxxxxxxxxxx.supabase.co"\n'
        'NEXT_PUBLIC_SUPABASE_ANON_KEY="staging-anon"\nSENTRY_DSN=""\n'
    )
    point = step(build, "Point the build at the pull request's database branch")
    script = tmp_path / "point.sh"
    script.write_text(f"cd {tmp_path}\n{point['run']}")
    result = run.script(
        script,
        BRANCH_API_URL="https://branchrefxxxxxxxxxxxx.supabase.co",
        BRANCH_ANON_KEY="branch-anon",
    )
    assert result.returncode == 0, result.stderr
    assert settings.read_text().splitlines() == [
        'SENTRY_DSN=""',
        'NEXT_PUBLIC_SUPABASE_URL="https://branchrefxxxxxxxxxxxx.supabase.co"',
        'NEXT_PUBLIC_SUPABASE_ANON_KEY="branch-anon"',
    ]


# --------------------------------------------------------------------------- removal


def test_branches_are_deleted_at_close_and_swept_daily() -> None:
    spec = workflow("database-branches.yml")
    assert triggers(spec)["pull_request"] == {"types": ["closed"], "branches": ["main"]}
    assert len(triggers(spec)["schedule"]) == 1
    delete, cleanup = jobs(spec)["delete"], jobs(spec)["cleanup"]
    assert delete["if"] == "github.event_name == 'pull_request'"
    assert cleanup["if"] == "github.event_name == 'schedule'"
    assert runs_pull_request_code(spec, "database-branches.yml") == []
    assert (
        delete["concurrency"]["group"]
        == (job("deploy.yml", "preview-database")["concurrency"]["group"])
    ), "a close cancels the branch still being made"
    for job_spec in (delete, cleanup):
        assert job_spec["permissions"] == {"contents": "read", "pull-requests": "read"}
    checkout = step(delete, "Check out the branch script of the base branch")
    assert checkout["with"]["ref"] == "${{ github.event.pull_request.base.sha }}"
    assert "Delete the database branch" not in pipeline.required_status_checks()


FAKE_PYTHON = r"""#!__PYTHON__
import json, os, pathlib, sys
args = sys.argv[1:]
record = ["python3", *args]
if "--open-file" in args:
    record.append(pathlib.Path(args[args.index("--open-file") + 1]).read_text())
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps(record) + "\n")
"""


@needs_tools
@pytest.mark.parametrize("job_id", ["delete", "cleanup"])
@pytest.mark.parametrize("listed", [True, False])
def test_the_sweep_deletes_nothing_unless_the_open_list_is_complete(
    tmp_path: Path, job_id: str, listed: bool
) -> None:
    """The open pull requests are listed first, every page; if that fails the step fails
    before db_branch.py runs, so no open pull request's branch is ever taken for closed."""
    run = StepRun(tmp_path)
    python = run.bin / "python3"
    python.write_text(FAKE_PYTHON.replace("__PYTHON__", sys.executable))
    python.chmod(0o755)
    spec = workflow("database-branches.yml")
    job_spec = jobs(spec)[job_id]
    (sweep,) = [s for s in steps(job_spec) if "cleanup --open-file" in str(s.get("run", ""))]
    comments = json.dumps([{"number": 4}, {"number": 9}]) if listed else "not json"
    result = run(job_spec, sweep, spec, FAKE_COMMENTS=comments)
    calls = run.calls()
    assert calls[0][:3] == ["gh", "api", "--paginate"]
    assert "state=open" in calls[0][3]
    if listed:
        assert result.returncode == 0, result.stderr
        assert calls[1][:4] == ["python3", pipeline.DB_BRANCH_SCRIPT, "cleanup", "--open-file"]
        assert calls[1][-1] == "4\n9\n"
    else:
        assert result.returncode != 0
        assert [c[0] for c in calls] == ["gh"], "db_branch.py never ran"


def test_the_branch_jobs_give_their_workflow_no_claim_to_a_vercel_token() -> None:
    """database-branches.yml runs in the staging environment but mints no OIDC token, so the
    staging Vercel federation policy admits deploy.yml alone, as before it existed."""
    assert pipeline.deploying_workflows("staging") == (pipeline.DEPLOY_WORKFLOW,)
    for job_spec in jobs(workflow("database-branches.yml")).values():
        assert not pipeline.requests_oidc_token(job_spec)
    assert pipeline.requests_oidc_token(job("deploy.yml", "preview"))
    assert not pipeline.requests_oidc_token(job("deploy.yml", "preview-database"))


@needs_tools
def test_the_build_settings_get_the_branch_even_without_pulled_variables(tmp_path: Path) -> None:
    run = StepRun(tmp_path)
    point = step(
        job("deploy.yml", "preview-build"), "Point the build at the pull request's database branch"
    )
    (tmp_path / ".vercel").mkdir()
    script = tmp_path / "point.sh"
    script.write_text(f"cd {tmp_path}\n{point['run']}")
    result = run.script(script, BRANCH_API_URL="https://b.supabase.co", BRANCH_ANON_KEY="k")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / ".vercel" / ".env.preview.local").read_text().splitlines() == [
        'NEXT_PUBLIC_SUPABASE_URL="https://b.supabase.co"',
        'NEXT_PUBLIC_SUPABASE_ANON_KEY="k"',
    ]
