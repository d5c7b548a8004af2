"""GitHub settings: the repository, its protection, teams and deployment reviewers.

This package's section of the stack settings: `load_github` reads and validates its keys
with the generic `Reader` (components/reader.py); `components/config.py` calls it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, cast

from components.github.facts import (
    BYPASS_ACTOR_TYPES,
    BYPASS_MODES,
    PERMISSIONS,
    PRODUCTION_MIN_APPROVALS,
    VISIBILITIES,
    BypassActorType,
    BypassMode,
    Permission,
    Visibility,
)
from components.reader import EMAIL, Reader, matching

# GitHub login: alphanumerics and single hyphens, no leading/trailing hyphen, ≤ 39 chars.
_GITHUB_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
_GITHUB_REPOSITORY = re.compile(r"^(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}$")
_GITHUB_TOPIC = re.compile(r"^[a-z0-9][a-z0-9-]{0,49}$")
_TEAM_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")


@dataclass(frozen=True)
class TeamAccess:
    """A GitHub team and the permission it gets on the repository."""

    slug: str
    """Team slug, e.g. `devops`."""
    permission: Permission
    """One of `pull`, `triage`, `push`, `maintain`, `admin`."""


@dataclass(frozen=True)
class BypassActor:
    """One entry of the explicit allow-list of who may bypass the `main` ruleset."""

    actor_type: BypassActorType
    """`Team`, `RepositoryRole`, `Integration`, `OrganizationAdmin` or `DeployKey`."""
    actor_id: int
    """Numeric id of the team, role, app or key (1 for `OrganizationAdmin`)."""
    bypass_mode: BypassMode
    """`always`, `pull_request` (only through a pull request) or `exempt`."""


@dataclass(frozen=True)
class GitHubSettings:
    """The application repository and its protection; see Pulumi.yaml for each key.

    `signedCommitsWaiver` is only checked here (a waiver must give a reason): it configures
    nothing, so it is not carried on.
    """

    owner: str
    repository: str
    description: str
    topics: tuple[str, ...]
    visibility: Visibility
    advanced_security: bool
    """GitHub Advanced Security is on (required for a non-public production repository;
    billed per active committer)."""
    repository_import_id: str
    required_approving_review_count: int
    require_signed_commits: bool
    bypass_actors: tuple[BypassActor, ...]
    teams: tuple[TeamAccess, ...]
    devops_team: str
    security_contact: str
    disclosure_window_days: int
    environment_reviewer_team_ids: tuple[int, ...]
    environment_reviewer_user_ids: tuple[int, ...]
    rollback_reviewer_team_ids: tuple[int, ...]


def _team_access(item: Any) -> TeamAccess | None:
    if not isinstance(item, str) or item.count(":") != 1:
        return None
    slug, permission = item.split(":")
    if not _TEAM_SLUG.fullmatch(slug) or permission not in PERMISSIONS:
        return None
    return TeamAccess(slug=slug, permission=permission)


def _bypass_actor(item: Any) -> BypassActor | None:
    if not isinstance(item, str) or item.count(":") != 2:
        return None
    actor_type, actor_id, mode = item.split(":")
    if actor_type not in BYPASS_ACTOR_TYPES or mode not in BYPASS_MODES:
        return None
    if not re.fullmatch(r"[1-9]\d{0,11}", actor_id):
        return None
    return BypassActor(actor_type=actor_type, actor_id=int(actor_id), bypass_mode=mode)


def _positive_id(item: Any) -> int | None:
    return item if isinstance(item, int) and not isinstance(item, bool) and item > 0 else None


def load_github(r: Reader, stack: str) -> GitHubSettings:
    production = stack == "production"
    min_approvals = PRODUCTION_MIN_APPROVALS if production else 1
    signed = r.boolean("requireSignedCommits")
    waiver = r.string("signedCommitsWaiver")
    if not signed and not waiver.strip():
        r.problem(
            "signedCommitsWaiver",
            waiver,
            "a reason (documented waiver) when requireSignedCommits is false",
        )
    visibility = r.string("githubVisibility", choices=VISIBILITIES)
    advanced_security = r.boolean("githubAdvancedSecurity")
    if production and visibility != "public" and not advanced_security:
        # CodeQL results of a non-public repository upload only with GitHub Code Security;
        # without it the required "CodeQL analysis" check could never pass (rule G10).
        r.problem(
            "githubAdvancedSecurity",
            advanced_security,
            "true for a non-public repository: CodeQL (rule G10) needs GitHub Code Security",
        )
    reviewer_teams = r.items("environmentReviewerTeamIds", _positive_id, "a positive team id")
    reviewer_users = r.items("environmentReviewerUserIds", _positive_id, "a positive user id")
    if production and not (reviewer_teams or reviewer_users):
        r.problem(
            "environmentReviewerTeamIds",
            [],
            "at least one reviewer team or user id in production (deployments need approval)",
        )
    rollback_teams = r.items("rollbackReviewerTeamIds", _positive_id, "a positive team id")
    if production and not rollback_teams:
        r.problem(
            "rollbackReviewerTeamIds",
            [],
            "at least one on-call team id in production (who may roll production back)",
        )
    if not production and rollback_teams:
        r.problem(
            "rollbackReviewerTeamIds",
            list(rollback_teams),
            "no team ids outside production (only production has a rollback environment)",
        )
    return GitHubSettings(
        owner=r.string("githubOwner", _GITHUB_LOGIN, "a GitHub organisation or user name"),
        repository=r.string(
            "githubRepository", _GITHUB_REPOSITORY, "a repository name ([A-Za-z0-9._-], ≤ 100)"
        ),
        description=r.string(
            "githubRepositoryDescription", re.compile(r"^[^\n\r]{0,350}$"), "one line, ≤ 350"
        ),
        topics=r.items(
            "githubTopics",
            matching(_GITHUB_TOPIC),
            "a topic of lowercase letters, digits and hyphens (≤ 50)",
            max_items=20,
        ),
        visibility=cast(Visibility, visibility),
        advanced_security=advanced_security,
        repository_import_id=r.string(
            "githubRepositoryImportId",
            _GITHUB_REPOSITORY,
            "the existing repository's name",
            optional=True,
        ),
        required_approving_review_count=r.integer("requiredApprovingReviewCount", min_approvals, 6),
        require_signed_commits=signed,
        bypass_actors=r.items(
            "bypassActors",
            _bypass_actor,
            f"'ActorType:id:mode' with ActorType in {', '.join(BYPASS_ACTOR_TYPES)} "
            f"and mode in {', '.join(BYPASS_MODES)}",
        ),
        teams=r.items(
            "teams",
            _team_access,
            f"'team-slug:permission' with permission in {', '.join(PERMISSIONS)}",
        ),
        devops_team=r.string("devopsTeam", _TEAM_SLUG, "a team slug (lowercase, digits, - _)"),
        security_contact=r.string("securityContact", EMAIL, "an e-mail address"),
        disclosure_window_days=r.integer("disclosureWindowDays", 1, 365),
        environment_reviewer_team_ids=reviewer_teams,
        environment_reviewer_user_ids=reviewer_users,
        rollback_reviewer_team_ids=rollback_teams,
    )
