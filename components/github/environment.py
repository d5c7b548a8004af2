"""A GitHub deployment environment, with its Actions variables and secrets.

Each stack owns the environment named after it (`staging`, `production`); production also
owns `production-rollback`, where rollback.yml runs. Values that other components produce
(Vercel project id, Supabase connection string, ...) arrive as Outputs in `variables` /
`secrets`; secrets stay Pulumi secrets all the way into the environment, where GitHub stores
them encrypted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_github as github


@dataclass(frozen=True)
class DeploymentEnvironmentArgs:
    """Inputs of `DeploymentEnvironment`."""

    repository: pulumi.Input[str]
    """Name of the repository; the production stack's repository, referred to by name."""
    environment: str
    """Environment name: the jobs that run in it get its variables and secrets."""
    deployment_branches: Sequence[str] = ()
    """Branches allowed to run jobs in it, e.g. `main`; empty: any branch (pull requests)."""
    reviewer_team_ids: Sequence[int] = ()
    """Teams one of whose members must approve each run (numeric ids); empty: none."""
    reviewer_user_ids: Sequence[int] = ()
    """Users one of whom must approve each run (numeric ids); empty: none."""
    prevent_self_review: bool = False
    """Whether the person who started a run may not approve it: true where a second person
    must agree (production deploys); false where one on-call engineer acts alone."""
    variables: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Actions variables of the environment (plain values such as project ids)."""
    secrets: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Actions secrets of the environment; each value must be a Pulumi secret."""


class DeploymentEnvironment(pulumi.ComponentResource):
    """A GitHub environment with branch policy, reviewers, variables and secrets."""

    name: pulumi.Output[str]
    """The environment's name."""

    def __init__(
        self,
        name: str,
        args: DeploymentEnvironmentArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("platform:github:DeploymentEnvironment", name, None, opts)
        reviewers = (
            [
                github.RepositoryEnvironmentReviewerArgs(
                    teams=list(args.reviewer_team_ids), users=list(args.reviewer_user_ids)
                )
            ]
            if args.reviewer_team_ids or args.reviewer_user_ids
            else None
        )
        environment = github.RepositoryEnvironment(
            f"{name}-environment",
            repository=args.repository,
            environment=args.environment,
            reviewers=reviewers,
            prevent_self_review=args.prevent_self_review,
            can_admins_bypass=False,
            # Only the branches the policies below list (main) may run here; staging deploys
            # pull-request previews from any branch.
            deployment_branch_policy=(
                github.RepositoryEnvironmentDeploymentBranchPolicyArgs(
                    protected_branches=False, custom_branch_policies=True
                )
                if args.deployment_branches
                else None
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        in_env = pulumi.ResourceOptions(parent=self, depends_on=[environment])
        for branch in args.deployment_branches:
            github.RepositoryEnvironmentDeploymentPolicy(
                f"{name}-branch-{branch}",
                repository=args.repository,
                environment=environment.environment,
                branch_pattern=branch,
                opts=in_env,
            )
        for variable, value in sorted(args.variables.items()):
            github.ActionsEnvironmentVariable(
                f"{name}-var-{variable.lower().replace('_', '-')}",
                repository=args.repository,
                environment=environment.environment,
                variable_name=variable,
                value=value,
                opts=in_env,
            )
        for secret, value in sorted(args.secrets.items()):
            github.ActionsEnvironmentSecret(
                f"{name}-secret-{secret.lower().replace('_', '-')}",
                repository=args.repository,
                environment=environment.environment,
                secret_name=secret,
                # Wrapped again so a plain value can never reach the state unencrypted (G7).
                value=pulumi.Output.secret(value),
                opts=in_env,
            )
        self.name = environment.environment
        self.register_outputs({"name": self.name})
