"""Vercel settings: this stack's project, build, protection, firewall and log drain.

This package's section of the stack settings: `load_vercel` reads and validates its keys
with the generic `Reader` (components/reader.py); `components/config.py` calls it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, cast

from components.reader import EMAIL, HTTPS_URL, ONE_LINE, Reader, cidr
from components.vercel.facts import (
    ALERT_SEVERITIES,
    DEPLOYMENT_TYPES,
    FRAMEWORKS,
    NODE_VERSIONS,
    PROJECT_ROLES,
    RATE_LIMIT_MAX_WINDOW_SECONDS,
    RATE_LIMIT_MIN_WINDOW_SECONDS,
    REGIONS,
    AlertSeverity,
    DeploymentProtection,
    ProjectRole,
)

_VERCEL_TEAM_ID = re.compile(r"^team_[A-Za-z0-9]{16,32}$")
_VERCEL_PROJECT_ID = re.compile(r"^prj_[A-Za-z0-9]{16,40}$")
_SLACK_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{8,12}$")
_RELATIVE_DIR = re.compile(r"^(?!/)(?!.*\.\.)[A-Za-z0-9._/-]{1,200}$")
_VERCEL_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$")
_ACCESS_GROUP_ID = re.compile(r"^ag_[A-Za-z0-9]{16,40}$")


@dataclass(frozen=True)
class ProjectMember:
    """A person's role on this stack's Vercel project."""

    user: str
    """Their e-mail address or Vercel username (an `@` makes it an e-mail address)."""
    role: ProjectRole
    """`ADMIN`, `PROJECT_DEVELOPER` or `PROJECT_VIEWER`."""


@dataclass(frozen=True)
class AccessGroupRole:
    """An access group's role on this stack's Vercel project."""

    access_group_id: str
    """The access group (`ag_...`), created by a team owner."""
    role: ProjectRole
    """`ADMIN`, `PROJECT_DEVELOPER` or `PROJECT_VIEWER`."""


@dataclass(frozen=True)
class VercelSettings:
    """This stack's Vercel project; see Pulumi.yaml for each key."""

    team_id: str
    framework: str
    node_version: str
    build_command: str
    install_command: str
    output_directory: str
    root_directory: str
    function_region: str
    deployment_protection: DeploymentProtection
    trusted_ips: tuple[str, ...]
    rate_limit_requests: int
    rate_limit_window_seconds: int
    log_drain_endpoint: str
    seats: int
    content_security_policy: str
    project_import_id: str
    alert_minimum_severity: AlertSeverity
    alert_slack_channel_id: str
    project_members: tuple[ProjectMember, ...]
    access_groups: tuple[AccessGroupRole, ...]


def _with_role(item: Any) -> tuple[str, ProjectRole] | None:
    """`subject:ROLE` split in two, ROLE one of `PROJECT_ROLES`; None for anything else."""
    if not isinstance(item, str) or item.count(":") != 1:
        return None
    subject, role_text = item.split(":")
    role = next((role for role in PROJECT_ROLES if role == role_text), None)
    return None if role is None else (subject, role)


def _project_member(item: Any) -> ProjectMember | None:
    parsed = _with_role(item)
    if parsed is None or not (EMAIL.fullmatch(parsed[0]) or _VERCEL_USERNAME.fullmatch(parsed[0])):
        return None
    return ProjectMember(user=parsed[0], role=parsed[1])


def _access_group(item: Any) -> AccessGroupRole | None:
    parsed = _with_role(item)
    if parsed is None or not _ACCESS_GROUP_ID.fullmatch(parsed[0]):
        return None
    return AccessGroupRole(access_group_id=parsed[0], role=parsed[1])


def load_vercel(r: Reader) -> VercelSettings:
    trusted_ips = r.items("vercelTrustedIps", cidr, "an IPv4 or IPv6 CIDR such as 203.0.113.0/24")
    return VercelSettings(
        team_id=r.string("vercelTeamId", _VERCEL_TEAM_ID, "a Vercel team id such as team_abc..."),
        framework=r.string("vercelFramework", choices=FRAMEWORKS),
        node_version=r.string("vercelNodeVersion", choices=NODE_VERSIONS),
        build_command=r.string("vercelBuildCommand", ONE_LINE, "one line"),
        install_command=r.string("vercelInstallCommand", ONE_LINE, "one line"),
        output_directory=r.string(
            "vercelOutputDirectory", _RELATIVE_DIR, "a relative directory", optional=True
        ),
        root_directory=r.string(
            "vercelRootDirectory", _RELATIVE_DIR, "a relative directory", optional=True
        ),
        function_region=r.string("vercelFunctionRegion", choices=REGIONS),
        deployment_protection=cast(
            DeploymentProtection,
            r.string("vercelDeploymentProtection", choices=tuple(DEPLOYMENT_TYPES)),
        ),
        trusted_ips=trusted_ips,
        rate_limit_requests=r.integer("vercelRateLimitRequests", 1, 10000),
        rate_limit_window_seconds=r.integer(
            "vercelRateLimitWindowSeconds",
            RATE_LIMIT_MIN_WINDOW_SECONDS,
            RATE_LIMIT_MAX_WINDOW_SECONDS,
        ),
        log_drain_endpoint=r.string(
            "vercelLogDrainEndpoint", HTTPS_URL, "an https:// URL", optional=True
        ),
        seats=r.integer("vercelSeats", 0, 1000),
        content_security_policy=r.string(
            "contentSecurityPolicy",
            re.compile(r"^[^\n\r\"]{0,4000}$"),
            "one line without double quotes",
        ),
        project_import_id=r.string(
            "vercelProjectImportId",
            _VERCEL_PROJECT_ID,
            "a Vercel project id prj_...",
            optional=True,
        ),
        alert_minimum_severity=cast(
            AlertSeverity, r.string("vercelAlertMinimumSeverity", choices=ALERT_SEVERITIES)
        ),
        alert_slack_channel_id=r.string(
            "vercelAlertSlackChannelId",
            _SLACK_CHANNEL_ID,
            "a Slack channel id such as C0123ABCD",
            optional=True,
        ),
        project_members=r.items(
            "vercelProjectMembers",
            _project_member,
            f"'email-or-username:role' with role in {', '.join(PROJECT_ROLES)}",
        ),
        access_groups=r.items(
            "vercelAccessGroups",
            _access_group,
            f"'ag_id:role' with role in {', '.join(PROJECT_ROLES)}",
        ),
    )
