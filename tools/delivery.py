"""This repository's own delivery: its GitHub environments and what each one may reach.

The workflows in `.github/workflows/` name these environments, and every credential a job
holds hangs off its environment: the OIDC identity it logs in as (the Pulumi Cloud team or
the IAM role trusted for that environment's subject claim), the environment's secrets, and
the environment's protection rules (deployment branches, required reviewers). All of that
is configured outside the repository, so this module states it once as a contract:
`make bootstrap` prints it, `tests/test_delivery.py` holds the workflows to it, and
`docs/threat-model.md` explains it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from components.config import STACKS, Stack

Role = Literal["pr", "read", "write"]
ROLES: Final[tuple[Role, ...]] = ("pr", "read", "write")

PROVIDER_SECRETS: Final[tuple[str, ...]] = (
    "PLATFORM_GITHUB_TOKEN",
    "VERCEL_API_TOKEN",
    "SENTRY_AUTH_TOKEN",
    "SUPABASE_ACCESS_TOKEN",
)
"""Environment secrets of the `read` and `write` environments: the providers' credentials.
Same names in every environment; each environment holds its own values and scopes."""

REPOSITORY_VARIABLES: Final[dict[str, str]] = {
    "PULUMI_BACKEND": "cloud (unset means cloud) or s3",
    "PULUMI_ORGANIZATION": "Pulumi Cloud organisation (cloud)",
    "PULUMI_BACKEND_URL": "state bucket, s3://<bucket> (s3)",
    "AWS_REGION": "region of the bucket and the KMS keys (s3)",
}
ENVIRONMENT_VARIABLES: Final[dict[str, str]] = {
    "AWS_ROLE_ARN": "the IAM role this environment's OIDC subject may assume (s3)",
}
"""The variables the workflows read (`vars.*`), with what each holds."""


@dataclass(frozen=True)
class Environment:
    """One GitHub environment of this repository and the reach of its credentials."""

    stack: Stack
    """The only stack its credentials reach."""
    role: Role
    """`pr`: pull-request previews (runs unreviewed code); `read`: trusted code on `main`
    that reads live state (drift, the production plan); `write`: `pulumi up`."""

    @property
    def name(self) -> str:
        """Environment name = Pulumi Cloud team = OIDC subject suffix, e.g. `staging-pr`."""
        return f"{self.stack}-{self.role}"

    @property
    def backend_access(self) -> Literal["read", "write"]:
        """Stack Read (preview, refresh --preview-only; decrypts this stack's secrets) or
        Stack Write (`pulumi up`). Read still decrypts: previews need the config's secrets."""
        return "write" if self.role == "write" else "read"

    @property
    def branches(self) -> Literal["any", "main"]:
        """Deployment branch policy: only `pr` environments accept other refs."""
        return "any" if self.role == "pr" else "main"

    @property
    def reviewers(self) -> bool:
        """Required reviewers (self-review prevented): production's `pr` and `write`."""
        return self.stack == "production" and self.role != "read"

    @property
    def secrets(self) -> tuple[str, ...]:
        """Environment secrets: none where unreviewed code runs."""
        return () if self.role == "pr" else PROVIDER_SECRETS

    @property
    def purpose(self) -> str:
        return {
            "pr": f"pull-request previews of {self.stack}",
            "read": f"drift checks of {self.stack}"
            + (" and the plan reviewers approve" if self.stack == "production" else ""),
            "write": f"`pulumi up` of {self.stack}",
        }[self.role]


ENVIRONMENTS: Final[dict[str, Environment]] = {
    env.name: env for env in (Environment(stack, role) for stack in STACKS for role in ROLES)
}


def environments_of(stack: Stack) -> list[Environment]:
    """The three environments whose credentials reach `stack`."""
    return [env for env in ENVIRONMENTS.values() if env.stack == stack]


def setup_lines(stack: Stack) -> list[str]:
    """What CI needs for `stack`, as short lines for `make bootstrap`'s report."""
    variables = {**REPOSITORY_VARIABLES, **ENVIRONMENT_VARIABLES}
    lines = ["variables: " + "; ".join(f"{name}: {what}" for name, what in variables.items())]
    for env in environments_of(stack):
        rules = [f"branches: {env.branches}"]
        if env.reviewers:
            rules.append("required reviewers, no self-review")
        if env.secrets:
            rules.append("secrets: " + ", ".join(env.secrets))
        lines.append(
            f"GitHub environment {env.name} ({env.purpose}): {'; '.join(rules)}; "
            f"OIDC identity {env.name} with Stack {env.backend_access.capitalize()} "
            f"on {stack} only"
        )
    return lines
