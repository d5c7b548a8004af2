"""Checks of the workflow security rules W1-W7 and W9 (SECURITY-RULES.md) on workflow files.

Pure functions over the YAML text. W1-W7 hold for the application's shipped workflows and
this repository's own. W9 (`check_pull_request_code`) holds for the application's: this
repository's preview job runs a pull request's program with its read-only preview
credentials by design (docs/delivery.md). W8 (zizmor and actionlint report nothing) needs the
external tools and is run by the tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.github.pipeline import job_environment, pull_request_jobs
from components.github.workflow_yaml import jobs, load_yaml, steps, triggers

FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
"""A commit SHA as W2 requires it: 40 lowercase hex digits, never a tag or a branch."""

VERSION_COMMENT = re.compile(r"^v\d+\.\d+\.\d+$")
"""The `# vX.Y.Z` comment W2 requires after a pinned SHA, naming the pinned release."""

FORBIDDEN_TRIGGERS = ("pull_request_target", "workflow_run")
"""Triggers that run with write tokens and secrets on code from outside (W4)."""

_EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
_SECRET_REFERENCE = re.compile(r"\bsecrets\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_-]*)|\[)")
_TO_JSON_SECRETS = re.compile(r"tojson\s*\(\s*secrets\s*\)", re.IGNORECASE)
_USES_LINE = re.compile(
    r"^\s*(?:-\s+)?uses:\s*(?P<ref>[^\s#]+)\s*(?:#\s*(?P<comment>.*?))?\s*$", re.MULTILINE
)


@dataclass(frozen=True)
class Finding:
    """One broken rule in one workflow."""

    rule: str
    """Rule id from SECURITY-RULES.md, e.g. `W2`."""
    where: str
    """File and location, e.g. `deploy.yml: jobs.preview.steps[0]`."""
    message: str
    """What is wrong and what the rule asks for."""

    def __str__(self) -> str:
        return f"{self.rule} {self.where}: {self.message}"


def expressions(value: object) -> Iterator[str]:
    """Every `${{ ... }}` expression body anywhere inside a parsed YAML value."""
    if isinstance(value, str):
        yield from (match.group(1).strip() for match in _EXPRESSION.finditer(value))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from expressions(key)
            yield from expressions(item)
    elif isinstance(value, list):
        for item in value:
            yield from expressions(item)


def referenced(context: str, value: object) -> set[str]:
    """Names read from `vars` or `secrets` (the `context`) in the expressions of `value`."""
    pattern = re.compile(rf"\b{context}\.([A-Za-z_][A-Za-z0-9_]*)")
    return {name for body in expressions(value) for name in pattern.findall(body)}


def check_workflow(path: Path) -> list[Finding]:
    """Every breach of rules W1-W7 in the workflow at `path`; empty when it complies."""
    text = path.read_text()
    workflow = load_yaml(path)
    name = path.name
    findings = [
        *_check_permissions(name, workflow),
        *_check_pinned_uses(name, text, workflow),
        *_check_run_expressions(name, workflow),
        *_check_triggers(name, workflow),
        *_check_checkout_credentials(name, workflow),
        *_check_secrets(name, text, workflow),
        *_check_concurrency_and_commands(name, text, workflow),
    ]
    return findings


def check_action(path: Path) -> list[Finding]:
    """Every breach of W2 and W3 in the composite action at `path` (its `action.yml`)."""
    action = load_yaml(path)
    # A composite action's steps checked as the steps of one job.
    as_workflow = {"jobs": {"runs": {"steps": (action.get("runs") or {}).get("steps") or []}}}
    name = f"{path.parent.name}/{path.name}"
    return [
        *_check_pinned_uses(name, path.read_text(), as_workflow),
        *_check_run_expressions(name, as_workflow),
    ]


def _is_read_only(permissions: object) -> bool:
    if permissions in ("read-all", {}):
        return True
    return isinstance(permissions, Mapping) and all(
        level in ("read", "none") for level in permissions.values()
    )


def _check_permissions(name: str, workflow: Mapping[str, Any]) -> Iterator[Finding]:
    """W1: read-only or empty top-level permissions; writes only in jobs."""
    if "permissions" not in workflow:
        yield Finding("W1", name, "no top-level `permissions`: the token gets the defaults")
    elif not _is_read_only(workflow["permissions"]):
        yield Finding(
            "W1",
            f"{name}: permissions",
            f"top-level permissions {workflow['permissions']!r} grant writes; grant them per job",
        )
    for job_id, job in jobs(workflow).items():
        if job.get("permissions") in ("write-all",):
            yield Finding("W1", f"{name}: jobs.{job_id}", "`write-all`; list the scopes needed")


def _step_uses(workflow: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for job_id, job in jobs(workflow).items():
        if "uses" in job:
            yield f"jobs.{job_id}", str(job["uses"])
        for index, step in enumerate(steps(job)):
            if "uses" in step:
                yield f"jobs.{job_id}.steps[{index}]", str(step["uses"])


def _check_pinned_uses(name: str, text: str, workflow: Mapping[str, Any]) -> Iterator[Finding]:
    """W2: every `uses:` pinned to a 40-hex commit SHA, with the version in a comment."""
    parsed = list(_step_uses(workflow))
    written = [(match.group("ref"), match.group("comment")) for match in _USES_LINE.finditer(text)]
    if len(written) != len(parsed):
        yield Finding("W2", name, "write every `uses:` on its own line, as `uses: ref # vX.Y.Z`")
    comments = dict(written)
    for where, ref in parsed:
        if ref.startswith("./"):
            continue
        if ref.startswith("docker://"):
            if "@sha256:" not in ref:
                yield Finding("W2", f"{name}: {where}", f"{ref} is not pinned to a digest")
            continue
        _, _, version = ref.partition("@")
        if not FULL_SHA.match(version):
            yield Finding("W2", f"{name}: {where}", f"{ref} is not pinned to a full commit SHA")
        elif not VERSION_COMMENT.match(comments.get(ref) or ""):
            yield Finding("W2", f"{name}: {where}", f"{ref} lacks its `# vX.Y.Z` comment")


def _check_run_expressions(name: str, workflow: Mapping[str, Any]) -> Iterator[Finding]:
    """W3: no expression inside `run:` (or a github-script `script:`); use `env:`."""
    for job_id, job in jobs(workflow).items():
        for index, step in enumerate(steps(job)):
            code = [step.get("run")]
            if str(step.get("uses", "")).startswith("actions/github-script@"):
                code.append((step.get("with") or {}).get("script"))
            if any(list(expressions(item)) for item in code if item):
                yield Finding(
                    "W3",
                    f"{name}: jobs.{job_id}.steps[{index}]",
                    "`${{ }}` inside code; pass the value through `env:`",
                )


def _check_triggers(name: str, workflow: Mapping[str, Any]) -> Iterator[Finding]:
    """W4: no `pull_request_target` or `workflow_run`."""
    for trigger in FORBIDDEN_TRIGGERS:
        if trigger in triggers(workflow):
            yield Finding("W4", f"{name}: on", f"`{trigger}` trigger")


def _check_checkout_credentials(name: str, workflow: Mapping[str, Any]) -> Iterator[Finding]:
    """W5: actions/checkout never leaves the token in the checkout."""
    for job_id, job in jobs(workflow).items():
        for index, step in enumerate(steps(job)):
            if not str(step.get("uses", "")).startswith("actions/checkout@"):
                continue
            persist = (step.get("with") or {}).get("persist-credentials")
            if persist not in (False, "false"):
                yield Finding(
                    "W5",
                    f"{name}: jobs.{job_id}.steps[{index}]",
                    "actions/checkout without `persist-credentials: false`",
                )


def _check_secrets(name: str, text: str, workflow: Mapping[str, Any]) -> Iterator[Finding]:
    """W6: no `secrets: inherit` or toJson(secrets); jobs using secrets run in an environment."""
    if _TO_JSON_SECRETS.search(text):
        yield Finding("W6", name, "toJson(secrets) exposes every secret")
    if _secrets_used(workflow.get("env")):
        yield Finding("W6", f"{name}: env", "secrets in workflow-level `env` reach every job")
    for job_id, job in jobs(workflow).items():
        where = f"{name}: jobs.{job_id}"
        if job.get("secrets") == "inherit":
            yield Finding("W6", where, "`secrets: inherit`; pass the secrets needed by name")
        used = _secrets_used(job)
        if used and "environment" not in job:
            yield Finding("W6", where, f"uses {sorted(used)} but runs in no `environment:`")


def _secrets_used(value: object) -> set[str]:
    """Secrets named in the expressions of `value`, other than the job's own GITHUB_TOKEN."""
    return {
        match.group(1) or "secrets[...]"
        for body in expressions(value)
        for match in _SECRET_REFERENCE.finditer(body)
    } - {"GITHUB_TOKEN"}


def _check_concurrency_and_commands(
    name: str, text: str, workflow: Mapping[str, Any]
) -> Iterator[Finding]:
    """W7: deploying jobs (those in an environment) are serialised; no unsecure commands."""
    if "ACTIONS_ALLOW_UNSECURE_COMMANDS" in text:
        yield Finding("W7", name, "ACTIONS_ALLOW_UNSECURE_COMMANDS re-enables set-env/add-path")
    for job_id, job in jobs(workflow).items():
        if "environment" in job and "concurrency" not in job and "concurrency" not in workflow:
            yield Finding(
                "W7", f"{name}: jobs.{job_id}", "deploys to an environment without `concurrency`"
            )


DEPLOY_CAPABLE_SCOPES = ("actions", "contents", "deployments", "id-token", "packages", "pages")
"""GITHUB_TOKEN scopes whose `write` can change what gets deployed: an OIDC token (exchanged for
Vercel or cloud credentials), pushes, deployments, workflow runs, packages, Pages."""


@dataclass(frozen=True)
class JobCredentials:
    """What a job holds besides reading its own repository."""

    environment: str | None
    """The GitHub environment it runs in (its secrets, variables and OIDC `environment`)."""
    secrets: tuple[str, ...]
    """Secrets it names, other than its own GITHUB_TOKEN, sorted."""
    writes: tuple[str, ...]
    """GITHUB_TOKEN scopes it is granted `write` (`id-token` is the OIDC token), sorted."""

    def deploy_capable(self) -> list[str]:
        """Everything here that could deploy, promote or roll back, or reach their secrets."""
        held = [f"environment {self.environment}"] if self.environment else []
        held += [f"secret {name}" for name in self.secrets]
        held += [f"{scope}: write" for scope in self.writes if scope in DEPLOY_CAPABLE_SCOPES]
        return held


def job_credentials(workflow: Mapping[str, Any], job: Mapping[str, Any]) -> JobCredentials:
    """The credentials one job of `workflow` holds (job permissions replace the workflow's)."""
    permissions = job.get("permissions", workflow.get("permissions", {}))
    if permissions == "write-all":
        writes = tuple(sorted(DEPLOY_CAPABLE_SCOPES))
    elif isinstance(permissions, Mapping):
        writes = tuple(sorted(scope for scope, level in permissions.items() if level == "write"))
    else:
        writes = ()
    return JobCredentials(
        environment=job_environment(job),
        secrets=tuple(sorted(_secrets_used(job) | _secrets_used(workflow.get("env")))),
        writes=writes,
    )


def checks_out_pull_request(job: Mapping[str, Any]) -> bool:
    """Whether a job checks out the pull request's code: an `actions/checkout` of the event's
    own ref (the merge commit) or of the head. Checking out the base branch is not."""
    for step in steps(job):
        if not str(step.get("uses", "")).startswith("actions/checkout@"):
            continue
        ref = str((step.get("with") or {}).get("ref", ""))
        if "pull_request.base." not in ref:
            return True
    return False


def runs_pull_request_code(workflow: Mapping[str, Any], where: str) -> list[str]:
    """Ids of the jobs that run a pull request's code: they run for a pull request and check
    out its code, so an install, a build or a test in them runs what the pull request wrote."""
    if "pull_request" not in triggers(workflow):
        return []
    return [
        job_id
        for job_id in pull_request_jobs(workflow, where)
        if checks_out_pull_request(jobs(workflow)[job_id])
    ]


def check_pull_request_code(path: Path) -> list[Finding]:
    """W9: no job that runs a pull request's code holds anything that can deploy."""
    workflow = load_yaml(path)
    findings = []
    for job_id in runs_pull_request_code(workflow, path.name):
        held = job_credentials(workflow, jobs(workflow)[job_id]).deploy_capable()
        if held:
            findings.append(
                Finding(
                    "W9",
                    f"{path.name}: jobs.{job_id}",
                    f"runs the pull request's code while holding {', '.join(held)}; build in a "
                    "job without credentials and deploy its output from another",
                )
            )
    return findings
