"""GitHub facts the settings, the components and the policy pack share; no SDK import."""

from __future__ import annotations

from typing import Final, Literal

Permission = Literal["pull", "triage", "push", "maintain", "admin"]
PERMISSIONS: Final[tuple[Permission, ...]] = ("pull", "triage", "push", "maintain", "admin")
"""Repository permissions a team can get (`TeamRepository.permission`)."""

Visibility = Literal["private", "internal", "public"]
VISIBILITIES: Final[tuple[Visibility, ...]] = ("private", "internal", "public")

BypassActorType = Literal["Team", "RepositoryRole", "Integration", "OrganizationAdmin", "DeployKey"]
BYPASS_ACTOR_TYPES: Final[tuple[BypassActorType, ...]] = (
    "Team",
    "RepositoryRole",
    "Integration",
    "OrganizationAdmin",
    "DeployKey",
)
"""Who a ruleset's bypass list can name (`RepositoryRulesetBypassActor.actor_type`)."""

BypassMode = Literal["always", "pull_request", "exempt"]
BYPASS_MODES: Final[tuple[BypassMode, ...]] = ("always", "pull_request", "exempt")

PRODUCTION_MIN_APPROVALS: Final = 2
"""Approvals `main` needs in production (rule G2); 1 elsewhere."""

REPOSITORY_URL: Final = "https://github.com/{owner}/{repository}"
"""Web URL of a repository, for the stack that refers to it by name (no lookup)."""

ACTIONS_OIDC_ISSUER: Final = "https://token.actions.githubusercontent.com"
"""Issuer of the OIDC tokens a GitHub Actions job with `id-token: write` can request."""

OIDC_BINDING_CLAIMS: Final = ("aud", "repository", "environment", "ref")
"""Claims of a GitHub Actions OIDC token that a federation policy must pin, at the least, to
say which token it trusts: audience, repository, environment and ref (rule W10)."""
