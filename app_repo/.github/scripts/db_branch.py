"""Each pull request's own database: a Supabase branch of the staging project, `pr-<number>`.

    python3 .github/scripts/db_branch.py ensure  --pr 42          # find or create; wait until ready
    python3 .github/scripts/db_branch.py migrate --pr 42 --dir D  # apply its pending migrations
    python3 .github/scripts/db_branch.py env     --pr 42          # its URL and keys, for the deploy
    python3 .github/scripts/db_branch.py delete  --pr 42          # gone (already gone counts)
    python3 .github/scripts/db_branch.py cleanup --open-file F    # branches of closed pull requests

A thin command line over the platform's one Management API client, `supabase_api.py` beside
this file (the platform program commits its `components/supabase/api.py` there). The parent
project is $SUPABASE_PROJECT_REF (the staging environment's variable), the token
$SUPABASE_ACCESS_TOKEN (its secret), the API $SUPABASE_API_URL or the public one.

- `ensure` looks the branch up by name before it creates one, and a create whose answer is lost
  (timeout, dropped connection, 5xx, an answer without the branch) is never repeated: the branch
  is looked for again for a while, and if it has not shown up the run stops saying the next one
  will find it (rule R1). Then it waits, bounded, until the branch's database is ACTIVE_HEALTHY
  and writes its public values (API URL, anon key) to $GITHUB_OUTPUT for the build.
- `migrate` sends each migration file the branch's history does not record to the Management
  API as SQL text (never run on this machine: the files are the pull request's), one at a time,
  in order; the first failure stops it. A lost answer is settled by reading the history back.
- `env` finds the branch (never makes one: its pull request may have closed meanwhile) and puts
  its values under the app's variable names into $GITHUB_ENV for the step that deploys the
  preview, each secret masked in the log first.
- `delete` treats "not found" as done; `cleanup` deletes every `pr-<n>` branch whose pull
  request is not in FILE (the open ones, one number a line), so a branch whose pull request
  closed while the API was down goes at the next run. Other branches are never touched.

Every call has a deadline and every wait a bound (rule R4); secrets never reach the output.
Exit status: 0 done, 1 the API or a migration failed, 2 unusable input. Standard library only.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from migrations import MigrationError, migration_files
from supabase_api import (
    API_URL,
    DIRECT_DATABASE,
    FAILED_STATUSES,
    GONE_STATUSES,
    PAUSED_STATUSES,
    READY_STATUS,
    JsonObject,
    RetryPolicy,
    SupabaseApiError,
    SupabaseClient,
    SupabaseConfigError,
    connection_string,
    project_keys,
)

PARENT_ENV = "SUPABASE_PROJECT_REF"
"""Variable naming the project pull requests branch from (staging's)."""
BRANCH_PREFIX = "pr-"
_PR_BRANCH = re.compile(r"^pr-(\d+)$")
_REF = re.compile(r"^[a-z]{20}$")
_PUBLIC_VALUE = re.compile(r"^[A-Za-z0-9._:/-]{1,4096}$")

RUNTIME_VARIABLES = {
    "api_url": "NEXT_PUBLIC_SUPABASE_URL",
    "anon_key": "NEXT_PUBLIC_SUPABASE_ANON_KEY",
    "service_role_key": "SUPABASE_SERVICE_ROLE_KEY",
    "database_url": "DATABASE_URL",
}
"""A branch's value → the app's variable that carries it (the platform's names for the staging
project's variables); deploy.yml hands exactly these to the preview deployment."""
SECRET_VALUES = ("service_role_key", "database_url")
"""Values that are secrets: masked in the log, never in an output other jobs can read."""


class BranchError(Exception):
    """The branch could not be made, readied, migrated or removed; the message says why."""

    def __init__(self, message: str, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Timing:
    """Bounds and polling, in seconds."""

    wait: float = 900.0
    """How long `ensure` waits for a new branch's database to become ACTIVE_HEALTHY."""
    lookup: float = 120.0
    """How long `ensure` keeps looking for a branch a create without an answer may have made."""
    poll: float = 10.0
    """Longest wait between two looks; the first is a tenth of it."""
    overall: float = 1080.0
    """Bound of one command, its calls, retries and waits included: inside the 20 minutes
    deploy.yml gives the job that waits longest."""


@dataclass
class Branch:
    """One pull request's branch as `ensure` leaves it."""

    name: str
    ref: str
    values: dict[str, str]
    """`api_url`, `anon_key`, `service_role_key`, `database_url`."""
    password: str
    """The branch database's password (inside `database_url`), masked on its own too."""


def branch_name(pr: int) -> str:
    """The branch of pull request `pr`."""
    return f"{BRANCH_PREFIX}{pr}"


class Lifecycle:
    """The branch operations against one parent project."""

    def __init__(
        self,
        client: SupabaseClient,
        parent: str,
        timing: Timing,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        log: Callable[[str], None] = print,
    ) -> None:
        self.client = client
        self.parent = parent
        self.timing = timing
        self._sleep = sleep
        self._clock = clock
        self._log = log

    def find(self, name: str) -> JsonObject | None:
        """The branch called `name`, or None."""
        for branch in self.client.list_branches(self.parent):
            if branch.get("name") == name and not branch.get("is_default"):
                return branch
        return None

    def _pause(self, step: int, until: float) -> bool:
        """Wait before look number `step + 1`; False when `until` has passed."""
        now = self._clock()
        if now >= until:
            return False
        delay = min(self.timing.poll, self.timing.poll / 10 * 2 ** (step - 1))
        self._sleep(min(delay, until - now))
        return True

    def ensure(self, pr: int, *, create: bool = True) -> Branch:
        """Find (or, with `create`, create) the pull request's branch, wait until it is
        ready, read its values. Without `create` a missing branch is an error: a job after
        `ensure` never brings back a branch the pull request's close has just deleted."""
        name = branch_name(pr)
        found = self.find(name)
        if found is not None:
            self._log(f"{name}: found ({found.get('project_ref')})")
        elif create:
            found = self._create(name)
        else:
            raise BranchError(f"{name} does not exist: run `db_branch.py ensure` first")
        ref = str(found.get("project_ref") or "")
        if not _REF.fullmatch(ref):
            raise BranchError(f"{name}: the API names no usable project ref for it ({ref!r})")
        detail = self._ready(name, ref)
        return Branch(name, ref, self._values(name, ref, detail), str(detail.get("db_pass")))

    def _create(self, name: str) -> JsonObject:
        """POST once; after an unknown outcome, look (bounded) instead of posting again."""
        try:
            created = self.client.create_branch(self.parent, name)
        except SupabaseApiError as err:
            if not err.outcome_unknown:
                raise BranchError(f"{name}: creating it failed: {err}") from None
            why = str(err)
        else:
            if created.get("project_ref"):
                self._log(f"{name}: created ({created['project_ref']})")
                return created
            why = "the create answered without the branch's project ref"
        self._log(f"{name}: {why}; looking for it instead of creating it again")
        until = self._clock() + self.timing.lookup
        step = 1
        while self._pause(step, until):
            found = self.find(name)
            if found is not None and found.get("project_ref"):
                self._log(f"{name}: found after the lost answer ({found['project_ref']})")
                return found
            step += 1
        raise BranchError(
            f"{name}: {why}, and it has not shown up within {self.timing.lookup:.0f} s. No second "
            "branch was requested: the next run of this check finds it and carries on."
        )

    def _ready(self, name: str, ref: str) -> JsonObject:
        """The branch's detail once its database is ACTIVE_HEALTHY (bounded wait, rule R2)."""
        start = self._clock()
        until = start + self.timing.wait
        step = 1
        while True:
            detail = self.client.get_branch(ref)
            status = None if detail is None else str(detail.get("status"))
            if detail is None or status in GONE_STATUSES:
                raise BranchError(
                    f"{name} ({ref}) is gone ({status or '404'}) while being prepared; run again"
                )
            if status in PAUSED_STATUSES or status in FAILED_STATUSES:
                raise BranchError(
                    f"{name} ({ref}) is {status}: delete it (db_branch.py delete) and run again"
                )
            if status == READY_STATUS:
                return detail
            waited = self._clock() - start
            self._log(f"{name}: {status}, waiting ({waited:.0f} s)")
            if not self._pause(step, until):
                raise BranchError(
                    f"{name} ({ref}) still {status} after {self.timing.wait:.0f} s; the next run "
                    "finds it and waits again"
                )
            step += 1

    def _values(self, name: str, ref: str, detail: JsonObject) -> dict[str, str]:
        keys = project_keys(self.client.get_api_keys(ref))
        parts = [detail.get(k) for k in ("db_user", "db_pass", "db_host", "db_port")]
        if any(part in (None, "") for part in parts) or not all(keys.values()):
            raise BranchError(f"{name} ({ref}): the API gave no complete keys or database login")
        user, password, host, port = parts
        self.client.hide(str(password))
        values = {
            "api_url": API_URL.format(ref=ref),
            "anon_key": str(keys["anon_key"]),
            "service_role_key": str(keys["service_role_key"]),
            "database_url": connection_string(user, password, host, port, DIRECT_DATABASE),
        }
        for key in ("api_url", "anon_key"):
            if not _PUBLIC_VALUE.fullmatch(values[key]):
                raise BranchError(f"{name}: the API's {key} has unexpected characters")
        return values

    def migrate(self, pr: int, directory: Path) -> list[str]:
        """Apply, through the API, each migration the branch's history lacks; return them."""
        name = branch_name(pr)
        found = self.find(name)
        if found is None or not found.get("project_ref"):
            raise BranchError(f"{name} does not exist: run `db_branch.py ensure` first")
        ref = str(found["project_ref"])
        migrations = migration_files(directory)
        done = self._recorded(ref)
        applied = []
        for migration in migrations:
            if migration.stem in done or migration.version in done:
                continue
            sql = migration.sql()
            key = f"{ref}-{migration.stem}-{migration.digest()[:16]}"
            for attempt in (1, 2):
                try:
                    self.client.apply_migration(ref, migration.stem, sql, key)
                    break
                except SupabaseApiError as err:
                    if not err.outcome_unknown:
                        raise BranchError(
                            f"{migration.path.name} failed on {name}, so no later migration ran: "
                            f"{err.message}"
                        ) from None
                    if migration.stem in self._recorded(ref):
                        break  # applied; only its answer was lost
                    if attempt == 2:
                        raise BranchError(
                            f"{migration.path.name}: no answer twice and not in {name}'s history; "
                            "nothing after it ran, the next run tries it again"
                        ) from None
            applied.append(migration.path.name)
            self._log(f"{name}: applied {migration.path.name}")
        self._log(f"{name}: {len(applied)} applied, {len(migrations) - len(applied)} recorded")
        return applied

    def _recorded(self, ref: str) -> set[str]:
        entries = self.client.list_migrations(ref)
        return {str(e.get(k)) for e in entries for k in ("name", "version") if e.get(k)}

    def delete(self, pr: int) -> bool:
        """Delete the pull request's branch; False when there was none."""
        name = branch_name(pr)
        found = self.find(name)
        if found is None:
            self._log(f"{name}: already gone")
            return False
        return self._delete(found)

    def _delete(self, branch: JsonObject) -> bool:
        name, ref = str(branch.get("name")), str(branch.get("project_ref") or "")
        if branch.get("is_default") or branch.get("persistent") or not _PR_BRANCH.fullmatch(name):
            raise BranchError(
                f"{name} is not a pull request's branch; it is left alone", exit_code=2
            )
        gone = self.client.delete_branch(ref)
        self._log(f"{name}: deleted ({ref})" if gone else f"{name}: already gone ({ref})")
        return gone

    def cleanup(self, open_prs: set[int]) -> list[str]:
        """Delete every pull request branch whose pull request is not open; return their names.
        One failure does not stop the others; the run fails at the end if any did."""
        deleted, failed = [], []
        for branch in self.client.list_branches(self.parent):
            match = _PR_BRANCH.fullmatch(str(branch.get("name")))
            if match is None or branch.get("is_default") or branch.get("persistent"):
                continue
            if int(match.group(1)) in open_prs:
                continue
            try:
                self._delete(branch)
            except SupabaseApiError as err:
                failed.append(f"{branch.get('name')}: {err}")
                continue
            deleted.append(str(branch.get("name")))
        self._log(f"cleanup: {len(deleted)} branch(es) of closed pull requests deleted")
        if failed:
            raise BranchError(
                "cleanup: not deleted, the next run tries again: " + "; ".join(failed)
            )
        return deleted


# ---------------------------------------------------------------------------- GitHub files


def _append(variable: str, lines: Sequence[str]) -> bool:
    """Append `lines` to the file $`variable` names (GITHUB_OUTPUT, GITHUB_ENV, ...)."""
    path = os.environ.get(variable)
    if not path:
        return False
    with open(path, "a", encoding="utf-8") as out:
        out.write("".join(f"{line}\n" for line in lines))
    return True


def _assignment(name: str, value: str) -> str:
    if "\n" in value or "\r" in value:
        raise BranchError(f"{name}: a value with a line break cannot be handed on")
    return f"{name}={value}"


def write_outputs(branch: Branch) -> None:
    """The public values, as step outputs the build job may read."""
    lines = [_assignment("branch_ref", branch.ref)]
    lines += [_assignment(key, branch.values[key]) for key in ("api_url", "anon_key")]
    if not _append("GITHUB_OUTPUT", lines):
        print(f"{branch.name}: {branch.values['api_url']} (no GITHUB_OUTPUT to write to)")


def write_env(branch: Branch) -> None:
    """Every value under the app's variable name, for the rest of this job only; secrets are
    masked first, so a later step that prints one shows *** instead."""
    for secret in (*(branch.values[key] for key in SECRET_VALUES), branch.password):
        print(f"::add-mask::{secret}")
    lines = [_assignment(RUNTIME_VARIABLES[k], v) for k, v in branch.values.items()]
    if not _append("GITHUB_ENV", lines):
        raise BranchError("GITHUB_ENV is not set: `env` hands values on inside a workflow only")


def _summary(line: str) -> None:
    _append("GITHUB_STEP_SUMMARY", [line])


def read_open_prs(path: Path) -> set[int]:
    """Pull request numbers, one a line; the file must exist (empty: none are open)."""
    if not path.is_file():
        raise BranchError(
            f"{path}: no list of open pull requests; nothing was deleted", exit_code=2
        )
    numbers = set()
    for line in path.read_text().split():
        if not line.isdigit():
            raise BranchError(f"{path}: {line!r} is not a pull request number", exit_code=2)
        numbers.add(int(line))
    return numbers


# ---------------------------------------------------------------------------- command line


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a pull request number")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    hidden = argparse.SUPPRESS
    # Bounds are flags so the tests can shorten them; the defaults are what CI uses.
    parser.add_argument("--wait-seconds", type=float, default=Timing.wait, help=hidden)
    parser.add_argument("--lookup-seconds", type=float, default=Timing.lookup, help=hidden)
    parser.add_argument("--poll-seconds", type=float, default=Timing.poll, help=hidden)
    parser.add_argument("--backoff-seconds", type=float, default=0.5, help=hidden)
    commands = parser.add_subparsers(dest="command", required=True)
    for command, text in (
        ("ensure", "find or create the branch and wait until it is ready"),
        ("migrate", "apply the migrations its history lacks"),
        ("env", "hand its URL and keys to the following steps"),
        ("delete", "delete the branch"),
    ):
        sub = commands.add_parser(command, help=text)
        sub.add_argument("--pr", type=_positive, required=True, help="pull request number")
        if command == "migrate":
            sub.add_argument("--dir", required=True, help="the migrations directory")
    cleanup = commands.add_parser("cleanup", help="delete the branches of closed pull requests")
    cleanup.add_argument("--open-file", required=True, help="open pull request numbers")
    return parser


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    parent = environ.get(PARENT_ENV, "")
    if not _REF.fullmatch(parent):
        raise BranchError(
            f"{PARENT_ENV} is {parent!r}: expected the staging project's 20-letter ref (the "
            "platform sets it in the staging environment when supabasePreviewBranches is on)",
            exit_code=2,
        )
    timing = Timing(args.wait_seconds, args.lookup_seconds, args.poll_seconds)
    retry = RetryPolicy(base_delay=args.backoff_seconds, max_delay=args.backoff_seconds * 16)
    client = SupabaseClient(retry=retry, deadline=time.monotonic() + timing.overall)
    lifecycle = Lifecycle(client, parent, timing)
    if args.command == "ensure":
        branch = lifecycle.ensure(args.pr)
        write_outputs(branch)
        _summary(f"Database branch **{branch.name}** ({branch.ref}) is ready for this preview.")
    elif args.command == "migrate":
        applied = lifecycle.migrate(args.pr, Path(args.dir))
        _summary(f"Migrations applied to {branch_name(args.pr)}: {', '.join(applied) or 'none'}")
    elif args.command == "env":
        write_env(lifecycle.ensure(args.pr, create=False))
    elif args.command == "delete":
        lifecycle.delete(args.pr)
    else:
        lifecycle.cleanup(read_open_prs(Path(args.open_file)))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return run(args, os.environ)
    except (BranchError, MigrationError, SupabaseApiError, SupabaseConfigError, OSError) as err:
        # One line, no traceback; the API's errors are redacted by the client already.
        print(f"db_branch: error: {err}", file=sys.stderr)
        if isinstance(err, (BranchError, MigrationError)):
            return err.exit_code
        return 1 if isinstance(err, SupabaseApiError) else 2


if __name__ == "__main__":
    sys.exit(main())
