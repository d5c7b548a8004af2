"""Which remote object a resource manages, so ownership across stacks can be checked.

Two stacks that manage the same remote object fight on every `up` (ARCHITECTURE.md). A
resource's remote identity is its type plus the inputs that name the object remotely
(a repository file is repository + branch + path, whatever its content). Every remote
resource type the program uses must have a rule here; the ownership test fails on a type
without one, so a new resource cannot slip past the check.
"""

from __future__ import annotations

from typing import Any

from components.supabase.facts import (
    AUTH_CONFIG,
    DATABASE_PASSWORD,
    NETWORK_RESTRICTIONS,
    POOLER,
    PROJECT,
    SSL_ENFORCEMENT,
    resource_type,
)
from tools.recorder import Registration

IDENTITY_KEYS: dict[str, tuple[str, ...]] = {
    "github:index/repository:Repository": ("name",),
    "github:index/repositoryRuleset:RepositoryRuleset": ("repository", "name"),
    "github:index/repositoryFile:RepositoryFile": ("repository", "branch", "file"),
    "github:index/issueLabels:IssueLabels": ("repository",),
    "github:index/teamRepository:TeamRepository": ("repository", "teamId"),
    "github:index/workflowRepositoryPermissions:WorkflowRepositoryPermissions": ("repository",),
    "github:index/actionsRepositoryPermissions:ActionsRepositoryPermissions": ("repository",),
    "github:index/repositoryDependabotSecurityUpdates:RepositoryDependabotSecurityUpdates": (
        "repository",
    ),
    "github:index/repositoryVulnerabilityAlerts:RepositoryVulnerabilityAlerts": ("repository",),
    "github:index/repositoryEnvironment:RepositoryEnvironment": ("repository", "environment"),
    "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy": (
        "repository",
        "environment",
        "branchPattern",
    ),
    "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable": (
        "repository",
        "environment",
        "variableName",
    ),
    "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret": (
        "repository",
        "environment",
        "secretName",
    ),
    "github:index/actionsVariable:ActionsVariable": ("repository", "variableName"),
    # Supabase projects are found by name within their organisation (see the provider);
    # their password and settings groups are each one object of their project.
    resource_type(PROJECT): ("organization_slug", "name"),
    **{
        resource_type(kind): ("project_ref",)
        for kind in (DATABASE_PASSWORD, POOLER, SSL_ENFORCEMENT, NETWORK_RESTRICTIONS, AUTH_CONFIG)
    },
    "vercel:index/project:Project": ("teamId", "name"),
    "vercel:index/projectDomain:ProjectDomain": ("domain",),
    "vercel:index/projectEnvironmentVariables:ProjectEnvironmentVariables": (
        "teamId",
        "projectId",
    ),
    "vercel:index/firewallConfig:FirewallConfig": ("teamId", "projectId"),
    "vercel:index/projectProtectionBypass:ProjectProtectionBypass": ("teamId", "projectId"),
    "vercel:index/logDrain:LogDrain": ("teamId", "name"),
    "vercel:index/alertRule:AlertRule": ("teamId", "name"),
    "vercel:index/alertRuleSlackNotification:AlertRuleSlackNotification": (
        "alertRuleId",
        "slackChannelId",
    ),
    # A federation policy is found by its id only; its name carries the project's (the
    # stack's), so two stacks never declare the same one.
    "vercel:index/oidcFederationPolicy:OidcFederationPolicy": ("teamId", "name"),
    "vercel:index/projectMembers:ProjectMembers": ("teamId", "projectId"),
    "vercel:index/accessGroupProject:AccessGroupProject": (
        "teamId",
        "accessGroupId",
        "projectId",
    ),
    "sentry:index/sentryTeam:SentryTeam": ("organization", "slug"),
    # Checkly names each object by id; the stack's names carry the stack, so they never meet.
    "checkly:index/urlMonitor:UrlMonitor": ("name",),
    "checkly:index/check:Check": ("name",),
    "checkly:index/sslMonitor:SslMonitor": ("name",),
    "checkly:index/statusPageV3:StatusPageV3": ("url",),
    "checkly:index/dashboard:Dashboard": ("customUrl",),
    "checkly:index/statusPageV3Component:StatusPageV3Component": ("statusPageId", "name"),
    "checkly:index/statusPageV3AutomationRule:StatusPageV3AutomationRule": (
        "statusPageId",
        "name",
    ),
    "sentry:index/sentryOrganizationMember:SentryOrganizationMember": ("organization", "email"),
    "sentry:index/sentryProject:SentryProject": ("organization", "slug"),
    "sentry:index/sentryKey:SentryKey": ("organization", "project", "name"),
    "sentry:index/sentryIssueAlert:SentryIssueAlert": ("organization", "project", "name"),
    "sentry:index/sentryMetricAlert:SentryMetricAlert": ("organization", "project", "name"),
}
"""Remote resource type → the inputs that name its remote object."""

LOCAL_TYPE_PREFIXES = ("pulumi:providers:", "random:")
"""Types that manage nothing remote: provider configurations and local random values."""


class MissingIdentityRuleError(KeyError):
    """A remote resource type has no entry in IDENTITY_KEYS."""


CREATED_EACH_TIME = frozenset({"checkly:index/alertChannel:AlertChannel"})
"""Types with no natural key: every create makes a new remote object, known by its id only,
so two stacks can never manage the same one (the resource's URN stands for it)."""


def remote_identity(resource: Registration) -> tuple[Any, ...] | None:
    """The remote object `resource` manages, or None for components and local resources."""
    if not resource.custom or resource.type.startswith(LOCAL_TYPE_PREFIXES):
        return None
    if resource.type in CREATED_EACH_TIME:
        return (resource.type, resource.urn)
    keys = IDENTITY_KEYS.get(resource.type)
    if keys is None:
        raise MissingIdentityRuleError(
            f"{resource.type} ({resource.urn}) has no remote identity rule in tests/identity.py"
        )
    return (resource.type, *(repr(resource.inputs.get(key)) for key in keys))
