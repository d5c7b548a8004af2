"""Print the credential map of the application's workflows: job → credential → reach.

`python -m tools.credential_map` writes Markdown; tests/test_readme.py checks the README
carries exactly this table. Everything in it is read, not restated: each job's credentials
from the shipped workflow files, what an OIDC token reaches from the federation policies the
program declares per stack (`components.platform.deployers`), so the map cannot drift from
what runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.config import STACKS, settings_of_stack_file
from components.github import pipeline
from components.github.workflow_yaml import jobs, load_yaml
from components.platform import deployers
from tools.workflow_rules import JobCredentials, job_credentials, runs_pull_request_code

SECRET_REACH: dict[str, str] = {
    pipeline.SENTRY_AUTH_TOKEN: "Sentry: create releases and upload source maps "
    "(long-lived: Sentry offers no OIDC exchange, a documented exception to W10)",
    pipeline.SUPABASE_ACCESS_TOKEN: "Supabase Management API: the staging project's database "
    "branches, and all else its account's organisations hold, so that account belongs to "
    "staging's only (long-lived: no OIDC exchange, a documented exception to W10)",
    pipeline.SUPABASE_DB_URL: "the environment's Postgres database as its owner, for migrations",
}
"""What each secret a workflow reads can do; a secret missing here fails the map."""

SCOPE_REACH: dict[str, str] = {
    "issues": "this repository's issues (incidents)",
    "pull-requests": "this repository's pull-request comments",
    "security-events": "this repository's code-scanning alerts",
}
"""What each GITHUB_TOKEN write scope reaches; a scope missing here fails the map."""


def _oidc_reach() -> dict[str, str]:
    """GitHub environment → what a Vercel token exchanged there can do, per the policies."""
    reach = {}
    for stack in STACKS:
        for deployer in deployers(settings_of_stack_file(stack)):
            commands = ", ".join(f"`{command}`" for command in deployer.commands)
            refs = " or ".join(f"`{ref}`" for ref in deployer.refs)
            reach[deployer.environment] = (
                f"Vercel, short-lived by OIDC (policy `{deployer.purpose}` of {stack}): "
                f"{commands} on the {stack} project only, from {refs}"
            )
    return reach


def _reach(credentials: JobCredentials, oidc: Mapping[str, str]) -> list[str]:
    reach = []
    if "id-token" in credentials.writes:
        environment = credentials.environment or ""
        if environment not in oidc:
            raise KeyError(f"no federation policy admits the environment {environment!r}")
        reach.append(oidc[environment])
    reach += [SECRET_REACH[name] for name in credentials.secrets]
    reach += [SCOPE_REACH[scope] for scope in credentials.writes if scope != "id-token"]
    return reach or ["nothing: reads the repository"]


def _held(credentials: JobCredentials) -> list[str]:
    held = [f"environment `{credentials.environment}`"] if credentials.environment else []
    held += [f"`{scope}: write`" for scope in credentials.writes]
    held += [f"secret `{name}`" for name in credentials.secrets]
    return held or ["read-only token"]


def credential_map() -> str:
    """Markdown table: workflow, job, whether it runs pull-request code, credentials, reach."""
    oidc = _oidc_reach()
    lines = [
        "| workflow | job | runs pull-request code | credentials | what they can touch |",
        "| --- | --- | --- | --- | --- |",
    ]
    for destination, path in sorted(pipeline.workflow_files().items()):
        workflow: dict[str, Any] = load_yaml(path)
        pr_code = set(runs_pull_request_code(workflow, destination))
        for job_id, job in jobs(workflow).items():
            credentials = job_credentials(workflow, job)
            lines.append(
                f"| `{path.name}` | {job['name']} | {'**yes**' if job_id in pr_code else 'no'} "
                f"| {', '.join(_held(credentials))} | {'; '.join(_reach(credentials, oidc))} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    print(credential_map())
