"""Each pull request's database branch (app_repo/.github/scripts/db_branch.py) against the local
fake Management API: create, find, wait, migrate, hand on, delete and clean up, with the faults
that matter (a create whose answer is lost, a branch deleted twice, the API down when the pull
request closes), and every request held to the published contract.

The script runs as CI runs it, `python3 .github/scripts/db_branch.py ...`, its bounds shortened
by flags. It imports `supabase_api` beside it: the symbolic link to components/supabase/api.py,
which is what the production stack commits there (one client, tested once, used twice).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.github.app_files import static_files
from components.supabase import api
from components.vercel.facts import DATABASE_VARIABLES
from tests.app_scripts import SCRIPTS, SHIPPED_MIGRATIONS, migrations_dir
from tests.fake_supabase import FakeSupabase, Fault
from tests.supabase_contract import BRANCH_ROUTES, contract_problems, response_problems

TOKEN = "sbp_branch_test_token_0123456789"
FAST = ["--wait-seconds", "3", "--lookup-seconds", "1.5", "--poll-seconds", "0.1"]
FAST += ["--backoff-seconds", "0.01"]


@pytest.fixture
def fake() -> Iterator[FakeSupabase]:
    with FakeSupabase(token=TOKEN, coming_up_polls=2) as server:
        yield server


@pytest.fixture
def parent(fake: FakeSupabase) -> str:
    return fake.add_project("acme-web-staging-db", "acme").ref


class Run:
    """db_branch.py with the fake's URL, the token, the parent ref and GitHub's files."""

    def __init__(self, fake: FakeSupabase, parent: str, tmp_path: Path) -> None:
        self.fake = fake
        self.files = {
            name: tmp_path / name.lower()
            for name in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_STEP_SUMMARY")
        }
        self.env = {
            "PATH": os.environ["PATH"],
            "SUPABASE_API_URL": fake.url,
            "SUPABASE_ACCESS_TOKEN": TOKEN,
            "SUPABASE_PROJECT_REF": parent,
            **{name: str(path) for name, path in self.files.items()},
        }

    def __call__(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        for path in self.files.values():
            path.unlink(missing_ok=True)
        return subprocess.run(
            [sys.executable, str(SCRIPTS / "db_branch.py"), *FAST, *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={**self.env, **env},
        )

    def written(self, name: str) -> dict[str, str]:
        path = self.files[name]
        lines = path.read_text().splitlines() if path.exists() else []
        return dict(line.split("=", 1) for line in lines)


@pytest.fixture
def run(fake: FakeSupabase, parent: str, tmp_path: Path) -> Run:
    return Run(fake, parent, tmp_path)


def branch_names(fake: FakeSupabase) -> list[str]:
    return sorted(b.name for b in fake.branches.values())


def secrets_of(fake: FakeSupabase) -> list[str]:
    """Every secret the fake knows: the token, branch passwords, service-role keys."""
    found = [TOKEN]
    for ref in fake.branches:
        found += [fake.projects[ref].password, f"eyJhbGciOiJIUzI1NiJ9.service-{ref}.sig"]
    return found


def assert_no_secret(fake: FakeSupabase, *texts: str) -> None:
    for secret in secrets_of(fake):
        for text in texts:
            assert secret not in text


# --------------------------------------------------------------------------- the client is one


def test_the_app_repository_gets_the_programs_own_client() -> None:
    """One copy: the script imports the file the program commits as supabase_api.py, which is
    components/supabase/api.py itself, standard-library only so it runs on a bare runner."""
    link = SCRIPTS / "supabase_api.py"
    assert link.is_symlink() and link.resolve() == Path(api.__file__).resolve()
    assert static_files()[".github/scripts/supabase_api.py"] == Path(api.__file__).read_text()
    result = subprocess.run(
        [sys.executable, "-E", "-s", "-c", "import supabase_api, db_branch, sys; "
         "print(sorted(m for m in sys.modules if m.startswith(('components', 'pulumi'))))"],
        cwd=SCRIPTS, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert result.stdout.strip() == "[]"


def test_the_preview_gets_the_variables_the_staging_project_defines() -> None:
    """The names db_branch.py hands to the preview are the app's own runtime variables."""
    sys.path.insert(0, str(SCRIPTS))
    try:
        import db_branch
    finally:
        sys.path.remove(str(SCRIPTS))
    assert tuple(db_branch.RUNTIME_VARIABLES.values()) == DATABASE_VARIABLES


# --------------------------------------------------------------------------- ensure


def test_ensure_creates_the_branch_waits_and_hands_on_public_values_only(
    run: Run, fake: FakeSupabase, parent: str
) -> None:
    result = run("ensure", "--pr", "42")
    assert result.returncode == 0, result.stderr
    (branch,) = fake.branches.values()
    assert (branch.name, branch.parent_ref) == ("pr-42", parent)
    (create,) = fake.calls("POST", "/v1/projects/{ref}/branches")
    assert create.body == {"branch_name": "pr-42", "desired_instance_size": "micro"}
    assert "pr-42: created" in result.stdout and "COMING_UP, waiting" in result.stdout


def test_ensure_outputs_and_the_next_run_finds_the_branch(run: Run, fake: FakeSupabase) -> None:
    first = run("ensure", "--pr", "7")
    assert first.returncode == 0, first.stderr
    (branch,) = fake.branches.values()
    outputs = run.written("GITHUB_OUTPUT")
    assert outputs == {
        "branch_ref": branch.ref,
        "api_url": f"https://{branch.ref}.supabase.co",
        "anon_key": f"eyJhbGciOiJIUzI1NiJ9.anon-{branch.ref}.sig",
    }
    assert "Database branch **pr-7**" in run.files["GITHUB_STEP_SUMMARY"].read_text()
    again = run("ensure", "--pr", "7")
    assert again.returncode == 0, again.stderr
    assert "pr-7: found" in again.stdout
    assert len(fake.calls("POST", "/v1/projects/{ref}/branches")) == 1
    assert_no_secret(fake, first.stdout, first.stderr, again.stdout, str(outputs))


@pytest.mark.parametrize(
    "lost",
    [
        Fault(commit_first=True, drop=True),
        Fault(commit_first=True, status=502, message="bad gateway"),
        Fault(strip=("project_ref",)),
    ],
    ids=["dropped", "502-after-create", "answer-without-ref"],
)
def test_a_lost_create_answer_is_looked_up_never_posted_twice(
    run: Run, fake: FakeSupabase, lost: Fault
) -> None:
    """R1: the branch the unanswered POST made shows up (after the list lagged) and is used."""
    fake.branch_list_lag = 2
    fake.add_fault("POST", "/v1/projects/{ref}/branches", lost)
    result = run("ensure", "--pr", "3")
    assert result.returncode == 0, result.stderr
    assert "looking for it instead of creating it again" in result.stdout
    assert "pr-3: found after the lost answer" in result.stdout
    assert len(fake.calls("POST", "/v1/projects/{ref}/branches")) == 1
    assert branch_names(fake) == ["pr-3"]


def test_a_lost_create_whose_branch_shows_up_late_is_found_by_the_next_run(
    run: Run, fake: FakeSupabase
) -> None:
    fake.branch_list_lag = 1000
    fake.add_fault("POST", "/v1/projects/{ref}/branches", Fault(commit_first=True, drop=True))
    first = run("ensure", "--pr", "5")
    assert first.returncode == 1
    assert first.stderr.startswith("db_branch: error: pr-5: ")
    assert "No second branch was requested: the next run of this check finds it" in first.stderr
    for branch in fake.branches.values():
        branch.hidden_lookups = 0  # the list catches up
    second = run("ensure", "--pr", "5")
    assert second.returncode == 0, second.stderr
    assert "pr-5: found" in second.stdout
    assert len(fake.calls("POST", "/v1/projects/{ref}/branches")) == 1
    assert branch_names(fake) == ["pr-5"]


def test_a_refused_create_stops_at_once(run: Run, fake: FakeSupabase) -> None:
    fake.add_fault(
        "POST", "/v1/projects/{ref}/branches", Fault(status=402, message="Branching needs Pro")
    )
    result = run("ensure", "--pr", "9")
    assert result.returncode == 1
    assert "pr-9: creating it failed" in result.stderr and "Branching needs Pro" in result.stderr
    assert "looking for it" not in result.stdout
    assert fake.branches == {}


@pytest.mark.parametrize(
    ("walk", "message"),
    [
        (["COMING_UP"] * 200, "still COMING_UP after 3 s; the next run finds it and waits again"),
        (["COMING_UP", "INIT_FAILED"], "is INIT_FAILED: delete it (db_branch.py delete)"),
        (["REMOVED"], "is gone (REMOVED) while being prepared"),
    ],
)
def test_a_branch_that_does_not_become_ready_is_reported(
    run: Run, fake: FakeSupabase, parent: str, walk: list[str], message: str
) -> None:
    """R2: only REMOVED (or 404) is gone; a slow branch is waited on within a bound."""
    branch = fake.add_branch(parent, "pr-11")
    fake.projects[branch.ref].transitions = list(walk)
    result = run("ensure", "--pr", "11")
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


# --------------------------------------------------------------------------- migrate


def test_migrate_sends_each_pending_file_once_in_order(
    run: Run, fake: FakeSupabase, parent: str, tmp_path: Path
) -> None:
    branch = fake.add_branch(parent, "pr-12")
    directory = migrations_dir(tmp_path, ("20260201000000_tags.sql", "create table t (id int);"))
    result = run("migrate", "--pr", "12", "--dir", str(directory))
    assert result.returncode == 0, result.stderr
    project = fake.projects[branch.ref]
    assert [m["name"] for m in project.migrations] == [
        "20260101000000_create_notes",
        "20260201000000_tags",
    ]
    assert (
        project.queries[0] == (SHIPPED_MIGRATIONS / "20260101000000_create_notes.sql").read_text()
    )
    keys = [
        c.headers["idempotency-key"]
        for c in fake.calls("POST", "/v1/projects/{ref}/database/migrations")
    ]
    assert len(set(keys)) == 2 and all(k.startswith(branch.ref) for k in keys)
    again = run("migrate", "--pr", "12", "--dir", str(directory))
    assert again.returncode == 0
    assert "pr-12: 0 applied, 2 recorded" in again.stdout
    assert len(project.queries) == 2


@pytest.mark.parametrize(
    "lost",
    [Fault(commit_first=True, status=502), Fault(commit_first=True, drop=True), Fault(status=503)],
    ids=["applied-then-502", "applied-then-dropped", "503-before-applying"],
)
def test_a_lost_migration_answer_is_settled_by_the_history(
    run: Run, fake: FakeSupabase, parent: str, tmp_path: Path, lost: Fault
) -> None:
    branch = fake.add_branch(parent, "pr-13")
    fake.add_fault("POST", "/v1/projects/{ref}/database/migrations", lost)
    result = run("migrate", "--pr", "13", "--dir", str(migrations_dir(tmp_path)))
    assert result.returncode == 0, result.stderr
    assert len(fake.projects[branch.ref].queries) == 1, "applied exactly once"


def test_a_failing_migration_stops_the_rest(
    run: Run, fake: FakeSupabase, parent: str, tmp_path: Path
) -> None:
    branch = fake.add_branch(parent, "pr-14")
    directory = migrations_dir(
        tmp_path,
        ("20260201000000_bad.sql", "create tabel x (id int);"),
        ("20260301000000_later.sql", "create table later (id int);"),
    )
    fake.add_fault(
        "POST", "/v1/projects/{ref}/database/migrations", Fault(), Fault(status=400,
        message='ERROR: syntax error at or near "tabel"')
    )  # fmt: skip
    result = run("migrate", "--pr", "14", "--dir", str(directory))
    assert result.returncode == 1
    assert "20260201000000_bad.sql failed on pr-14, so no later migration ran" in result.stderr
    assert 'syntax error at or near "tabel"' in result.stderr
    names = [m["name"] for m in fake.projects[branch.ref].migrations]
    assert names == ["20260101000000_create_notes"]


def test_migrate_needs_the_branch(run: Run, tmp_path: Path) -> None:
    result = run("migrate", "--pr", "15", "--dir", str(migrations_dir(tmp_path)))
    assert result.returncode == 1
    assert "pr-15 does not exist: run `db_branch.py ensure` first" in result.stderr


# --------------------------------------------------------------------------- env


def test_env_hands_every_value_to_the_job_with_secrets_masked_first(
    run: Run, fake: FakeSupabase, parent: str
) -> None:
    branch = fake.add_branch(parent, "pr-16")
    result = run("env", "--pr", "16")
    assert result.returncode == 0, result.stderr
    env = run.written("GITHUB_ENV")
    password = fake.projects[branch.ref].password
    service = f"eyJhbGciOiJIUzI1NiJ9.service-{branch.ref}.sig"
    database_url = f"postgresql://postgres:{password}@db.{branch.ref}.supabase.co:5432/postgres"
    assert env == {
        "NEXT_PUBLIC_SUPABASE_URL": f"https://{branch.ref}.supabase.co",
        "NEXT_PUBLIC_SUPABASE_ANON_KEY": f"eyJhbGciOiJIUzI1NiJ9.anon-{branch.ref}.sig",
        "SUPABASE_SERVICE_ROLE_KEY": service,
        "DATABASE_URL": database_url + "?sslmode=require",
    }
    masks = [line for line in result.stdout.splitlines() if line.startswith("::add-mask::")]
    assert masks == [f"::add-mask::{service}", f"::add-mask::{database_url}?sslmode=require",
                     f"::add-mask::{password}"]  # fmt: skip
    shown = [line for line in result.stdout.splitlines() if not line.startswith("::add-mask::")]
    assert_no_secret(fake, "\n".join(shown), result.stderr)
    assert not run.files["GITHUB_OUTPUT"].exists(), "no secret in an output other jobs read"


# --------------------------------------------------------------------------- delete, cleanup


def test_delete_and_delete_again(run: Run, fake: FakeSupabase, parent: str) -> None:
    fake.add_branch(parent, "pr-20")
    first = run("delete", "--pr", "20")
    assert first.returncode == 0, first.stderr
    assert "pr-20: deleted" in first.stdout
    assert fake.branches == {}
    second = run("delete", "--pr", "20")
    assert second.returncode == 0
    assert "pr-20: already gone" in second.stdout


def test_a_branch_deleted_between_lookup_and_delete_counts_as_done(
    run: Run, fake: FakeSupabase, parent: str
) -> None:
    """The DELETE answers 404 (another run got there first): done, not a failure."""
    fake.add_branch(parent, "pr-21")
    fake.add_fault(
        "DELETE", "/v1/branches/{branch_id_or_ref}", Fault(status=404, message="Branch not found")
    )
    result = run("delete", "--pr", "21")
    assert result.returncode == 0, result.stderr
    assert "pr-21: already gone" in result.stdout


def test_api_down_when_the_pull_request_closes_the_next_run_cleans_up(
    run: Run, fake: FakeSupabase, parent: str, tmp_path: Path
) -> None:
    for pr in (30, 31, 32):
        fake.add_branch(parent, f"pr-{pr}")
    fake.add_branch(parent, "feature-login")  # not a pull request's: never touched
    down = [Fault(status=503, message="service unavailable")] * 10
    fake.add_fault("GET", "/v1/projects/{ref}/branches", *down)
    closed = run("delete", "--pr", "30")
    assert closed.returncode == 1
    assert "HTTP 503" in closed.stderr and "Traceback" not in closed.stderr
    assert branch_names(fake) == ["feature-login", "pr-30", "pr-31", "pr-32"]

    fake.clear_faults()  # the API is back
    open_prs = tmp_path / "open-prs"
    open_prs.write_text("31\n")
    later = run("cleanup", "--open-file", str(open_prs))
    assert later.returncode == 0, later.stderr
    assert branch_names(fake) == ["feature-login", "pr-31"]
    assert "cleanup: 2 branch(es) of closed pull requests deleted" in later.stdout


def test_cleanup_needs_the_list_of_open_pull_requests(
    run: Run, fake: FakeSupabase, parent: str, tmp_path: Path
) -> None:
    fake.add_branch(parent, "pr-40")
    missing = run("cleanup", "--open-file", str(tmp_path / "absent"))
    assert missing.returncode == 2
    assert "no list of open pull requests; nothing was deleted" in missing.stderr
    garbage = tmp_path / "garbage"
    garbage.write_text("40\nnot-a-number\n")
    assert run("cleanup", "--open-file", str(garbage)).returncode == 2
    assert branch_names(fake) == ["pr-40"]


# --------------------------------------------------------------------------- input, contract


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SUPABASE_PROJECT_REF": ""}, "SUPABASE_PROJECT_REF is '': expected the staging"),
        ({"SUPABASE_ACCESS_TOKEN": ""}, "no Supabase access token"),
        ({"SUPABASE_API_URL": "http://example.com"}, "unusable Supabase API base URL"),
    ],
)
def test_unusable_input_is_one_line(run: Run, env: dict[str, str], message: str) -> None:
    result = run("ensure", "--pr", "1", **env)
    assert result.returncode == 2
    assert result.stderr.startswith("db_branch: error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_bad_pull_request_number_is_refused(run: Run) -> None:
    result = run("ensure", "--pr", "0")
    assert result.returncode == 2
    assert "'0' is not a pull request number" in result.stderr


def test_every_branch_request_is_in_the_contract(
    run: Run, fake: FakeSupabase, parent: str, tmp_path: Path
) -> None:
    from tests.supabase_contract import load_openapi

    openapi = load_openapi()
    directory = migrations_dir(tmp_path)
    open_prs = tmp_path / "open"
    open_prs.write_text("")
    for args in (
        ("ensure", "--pr", "50"),
        ("migrate", "--pr", "50", "--dir", str(directory)),
        ("env", "--pr", "50"),
        ("delete", "--pr", "50"),
        ("ensure", "--pr", "51"),
        ("cleanup", "--open-file", str(open_prs)),
    ):
        assert run(*args).returncode == 0, args
    used = {(r.method, r.template) for r in fake.requests}
    assert used >= BRANCH_ROUTES
    problems = [p for r in fake.requests for p in contract_problems(openapi, r)]
    problems += [p for r in fake.requests for p in response_problems(openapi, r)]
    assert problems == []


def test_a_parent_without_branching_yet_lists_no_branches(run: Run, fake: FakeSupabase) -> None:
    """A 404 on the branch list (branching never turned on) means none yet: the first create
    turns it on."""
    fake.add_fault(
        "GET", "/v1/projects/{ref}/branches", Fault(status=404, message="Branching not enabled")
    )
    result = run("ensure", "--pr", "60")
    assert result.returncode == 0, result.stderr
    assert branch_names(fake) == ["pr-60"]


def test_env_never_brings_back_a_deleted_branch(run: Run, fake: FakeSupabase) -> None:
    """`env` runs after `ensure`; if the pull request closed in between and its branch went,
    it fails instead of making a new one nobody deletes."""
    result = run("env", "--pr", "61")
    assert result.returncode == 1
    assert "pr-61 does not exist: run `db_branch.py ensure` first" in result.stderr
    assert fake.branches == {} and not fake.calls("POST", "/v1/projects/{ref}/branches")
