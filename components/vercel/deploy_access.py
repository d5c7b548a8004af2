"""Who and what may deploy to one stack's Vercel project: federated workflows and people.

Machines: no workflow holds a long-lived Vercel token (rule W10). Each `FederatedDeployer` is a
Vercel OIDC federation policy: a GitHub Actions job whose OIDC token carries the listed claims
(audience, repository, environment, ref, workflow, event) may exchange it for a short-lived
Vercel CLI token that reaches only this project and only the listed CLI commands. A pull
request's workflow can claim the `staging` environment, so it can at worst deploy to the
staging project; only runs on `main` in environments GitHub guards can claim production's.

People: project roles for members and access groups, from config. Team owners and members
keep their team-wide access whatever is set here; a person limited to the roles below is a
team member with the Contributor role (docs/hosting.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumiverse_vercel as vercel

from components.github.facts import ACTIONS_OIDC_ISSUER
from components.vercel.facts import CLI_CLIENT, OIDC_AUDIENCE
from components.vercel.settings import AccessGroupRole, ProjectMember


@dataclass(frozen=True)
class FederatedDeployer:
    """One OIDC federation policy: which workflow runs get which CLI commands on the project."""

    purpose: str
    """What the policy is for, e.g. `deploy` or `rollback`: its resource role and name."""
    environment: str
    """The GitHub environment the jobs run in (`environment` claim). GitHub decides which
    branches may run there and who approves, so the claim carries those guarantees."""
    refs: Sequence[str]
    """Accepted `ref` claims, `*` a wildcard, e.g. `refs/heads/main`, `refs/pull/*/merge`."""
    workflows: Sequence[str]
    """Workflow files whose jobs may use it (`.github/workflows/deploy.yml`): each with each
    ref makes an accepted `workflow_ref` claim."""
    events: Sequence[str]
    """Accepted `event_name` claims, e.g. `push`, `pull_request`, `workflow_dispatch`."""
    commands: Sequence[str]
    """Vercel CLI commands the exchanged token may run, e.g. `pull`, `deploy`, `promote`."""


@dataclass(frozen=True)
class DeployAccessArgs:
    """Inputs of `DeployAccess`."""

    team_id: str
    """Vercel team owning the project and its policies (`team_...`)."""
    project_id: pulumi.Input[str]
    """The project every policy, member and group is bounded to."""
    project_name: str
    """The project's name, which names its policies."""
    repository: str
    """The GitHub repository whose workflows deploy, `owner/name` (`repository` claim)."""
    deployers: Sequence[FederatedDeployer]
    """One OIDC federation policy each; none: no workflow may deploy."""
    members: Sequence[ProjectMember] = ()
    """People and their project roles; empty: none managed here."""
    access_groups: Sequence[AccessGroupRole] = ()
    """Access groups and their project roles; empty: none linked."""


class DeployAccess(pulumi.ComponentResource):
    """OIDC federation policies for the deploy workflows, and the project's people."""

    policy_ids: dict[str, pulumi.Output[str]]
    """Federation policy id by purpose."""

    def __init__(
        self, name: str, args: DeployAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("platform:vercel:DeployAccess", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.policy_ids = {}
        for deployer in args.deployers:
            policy = vercel.OidcFederationPolicy(
                f"{name}-oidc-{deployer.purpose}",
                name=f"{args.project_name} {deployer.purpose}: "
                f"{', '.join(deployer.workflows)} in {deployer.environment}",
                team_id=args.team_id,
                client=CLI_CLIENT,
                issuer_url=ACTIONS_OIDC_ISSUER,
                claims=federation_claims(args.repository, deployer),
                # Commands, not permissions: the token may run only what the jobs run.
                commands=sorted(deployer.commands),
                resources=vercel.OidcFederationPolicyResourcesArgs(project_ids=[args.project_id]),
                opts=child,
            )
            self.policy_ids[deployer.purpose] = policy.id
        if args.members:
            # Only the members listed here are managed; others added by hand stay (the
            # provider manages no complete set), see docs/hosting.md.
            vercel.ProjectMembers(
                f"{name}-members",
                project_id=args.project_id,
                team_id=args.team_id,
                members=[_member(member) for member in args.members],
                opts=child,
            )
        for group in args.access_groups:
            vercel.AccessGroupProject(
                f"{name}-access-group-{group.access_group_id.lower()}",
                access_group_id=group.access_group_id,
                project_id=args.project_id,
                team_id=args.team_id,
                role=group.role,
                opts=child,
            )
        self.register_outputs({"policy_ids": self.policy_ids})


def federation_claims(
    repository: str, deployer: FederatedDeployer
) -> list[vercel.OidcFederationPolicyClaimArgs]:
    """The claims a GitHub OIDC token must all carry for `deployer`'s policy to admit it."""
    accepted = {
        "aud": [OIDC_AUDIENCE],
        "repository": [repository],
        "environment": [deployer.environment],
        "ref": list(deployer.refs),
        "workflow_ref": [
            f"{repository}/{workflow}@{ref}"
            for workflow in deployer.workflows
            for ref in deployer.refs
        ],
        "event_name": list(deployer.events),
    }
    return [
        vercel.OidcFederationPolicyClaimArgs(
            name=claim,
            values=[
                vercel.OidcFederationPolicyClaimValueArgs(value=value, wildcards="*" in value)
                for value in values
            ],
        )
        for claim, values in accepted.items()
    ]


def _member(member: ProjectMember) -> vercel.ProjectMembersMemberArgs:
    if "@" in member.user:
        return vercel.ProjectMembersMemberArgs(email=member.user, role=member.role)
    return vercel.ProjectMembersMemberArgs(username=member.user, role=member.role)
