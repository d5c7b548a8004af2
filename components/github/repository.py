"""The application's GitHub repository and everything repository-wide (production stack).

One component owns the repository singletons so that exactly one stack manages them:
settings and security features, the `main` ruleset, Actions hardening, labels, team
access and the files the program commits (workflows, CODEOWNERS, SECURITY.md ...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_github as github

from components.github.facts import Visibility
from components.github.settings import BypassActor, TeamAccess

INCIDENT_LABELS: dict[str, tuple[str, str]] = {
    "incident": ("b60205", "Production incident; opened by the health check or on-call"),
    "sev1": ("d93f0b", "Severity 1: outage or data loss, respond within 15 minutes"),
    "sev2": ("fbca04", "Severity 2: degraded service, respond within 1 hour"),
    "sev3": ("0e8a16", "Severity 3: minor impact, next business day"),
    "security": ("5319e7", "Security issue or vulnerability; patch within 24 hours"),
    "dependencies": ("0366d6", "Dependency update (Dependabot), merge within 7 days"),
}
"""Issue labels for incident tracking: name → (colour, description)."""


@dataclass(frozen=True)
class AppRepositoryArgs:
    """Inputs of `AppRepository`."""

    repository: str
    """Repository name; a rename renames the repository on GitHub."""
    required_checks: Sequence[str]
    """Status checks `main` requires: job names derived from the shipped workflows (G3)."""
    description: str = ""
    """One-line description shown on GitHub."""
    topics: Sequence[str] = ()
    """Repository topics."""
    visibility: Visibility = "private"
    """`private`, `internal` or `public`."""
    import_id: str = ""
    """Name of an existing repository to adopt instead of creating one; empty creates it."""
    required_approving_review_count: int = 2
    """Approvals a pull request into `main` needs (G2)."""
    require_signed_commits: bool = True
    """Signed commits on `main` (G5); off only with a documented waiver in config."""
    bypass_actors: Sequence[BypassActor] = ()
    """Who may bypass the `main` ruleset; empty: nobody, admins included (G4)."""
    teams: Sequence[TeamAccess] = ()
    """Teams and the permission each gets on the repository."""
    files: Mapping[str, str] = field(default_factory=dict)
    """Files committed to `main`: path in the repository → content."""
    protect: bool = True
    """Protect the repository from `pulumi destroy`; on delete it is archived, not lost."""


class AppRepository(pulumi.ComponentResource):
    """The repository with a protected `main`, security features and incident tracking."""

    repository: github.Repository
    name: pulumi.Output[str]
    """Repository name (what other resources refer to)."""
    html_url: pulumi.Output[str]
    """Web URL of the repository."""

    def __init__(
        self, name: str, args: AppRepositoryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("platform:github:AppRepository", name, None, opts)
        if not args.required_checks:
            # A ruleset without checks would let untested code merge (rule G3).
            raise ValueError("AppRepository needs at least one required status check")
        child = pulumi.ResourceOptions(parent=self)

        self.repository = github.Repository(
            f"{name}-repository",
            name=args.repository,
            description=args.description,
            topics=list(args.topics),
            visibility=args.visibility,
            has_issues=True,
            has_wiki=False,
            has_projects=False,
            # Squash-only keeps main linear and one commit per reviewed pull request.
            allow_squash_merge=True,
            allow_merge_commit=False,
            allow_rebase_merge=False,
            allow_auto_merge=False,
            allow_update_branch=True,
            delete_branch_on_merge=True,
            squash_merge_commit_title="PR_TITLE",
            squash_merge_commit_message="PR_BODY",
            # A destroyed stack archives the repository instead of deleting its history.
            archive_on_destroy=True,
            auto_init=not args.import_id,
            security_and_analysis=_security_and_analysis(),
            opts=pulumi.ResourceOptions.merge(
                child,
                pulumi.ResourceOptions(
                    protect=args.protect,
                    import_=args.import_id or None,
                    # auto_init only matters at creation; an adopted repository never had it.
                    ignore_changes=["auto_init"] if args.import_id else None,
                ),
            ),
        )
        repo = self.repository.name
        on_repo = pulumi.ResourceOptions(parent=self, depends_on=[self.repository])

        # Dependabot alerts (G6) as their own resource: github 6.15.0 deprecates the
        # Repository's `vulnerability_alerts` field in its favour.
        github.RepositoryVulnerabilityAlerts(
            f"{name}-vulnerability-alerts", repository=repo, enabled=True, opts=on_repo
        )
        github.RepositoryDependabotSecurityUpdates(
            f"{name}-dependabot-security-updates", repository=repo, enabled=True, opts=on_repo
        )
        # Default GITHUB_TOKEN read-only; workflows may not approve pull requests (G8).
        github.WorkflowRepositoryPermissions(
            f"{name}-workflow-permissions",
            repository=repo,
            default_workflow_permissions="read",
            can_approve_pull_request_reviews=False,
            opts=on_repo,
        )
        # Actions must be pinned to a full commit SHA, enforced by GitHub itself (W2).
        github.ActionsRepositoryPermissions(
            f"{name}-actions-permissions",
            repository=repo,
            enabled=True,
            allowed_actions="all",
            sha_pinning_required=True,
            opts=on_repo,
        )
        github.IssueLabels(
            f"{name}-labels",
            repository=repo,
            labels=[
                github.IssueLabelsLabelArgs(name=label, color=color, description=text)
                for label, (color, text) in INCIDENT_LABELS.items()
            ],
            opts=on_repo,
        )
        for team in args.teams:
            github.TeamRepository(
                f"{name}-team-{team.slug}",
                repository=repo,
                team_id=team.slug,
                permission=team.permission,
                opts=on_repo,
            )
        files = [
            github.RepositoryFile(
                f"{name}-file-{_file_role(path)}",
                repository=repo,
                branch="main",
                file=path,
                content=content,
                commit_message=f"chore(platform): update {path} (managed by Pulumi)",
                # The file may exist from the repository's template; Pulumi takes it over.
                overwrite_on_create=True,
                opts=on_repo,
            )
            for path, content in sorted(args.files.items())
        ]
        # The ruleset comes after the files so the first commits land before main is
        # locked; later updates need the deploying identity in bypassActors (README).
        github.RepositoryRuleset(
            f"{name}-main-ruleset",
            name="main-protection",
            repository=repo,
            target="branch",
            enforcement="active",
            conditions=github.RepositoryRulesetConditionsArgs(
                ref_name=github.RepositoryRulesetConditionsRefNameArgs(
                    includes=["~DEFAULT_BRANCH"], excludes=[]
                )
            ),
            # Empty unless listed in config: nobody, admins included, skips the rules (G4).
            bypass_actors=[
                github.RepositoryRulesetBypassActorArgs(
                    actor_type=actor.actor_type,
                    actor_id=actor.actor_id,
                    bypass_mode=actor.bypass_mode,
                )
                for actor in args.bypass_actors
            ],
            rules=_main_rules(args),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.repository, *files]),
        )

        self.name = repo
        self.html_url = self.repository.html_url
        self.register_outputs({"name": self.name, "html_url": self.html_url})


def _security_and_analysis() -> github.RepositorySecurityAndAnalysisArgs:
    """Secret scanning and push protection (G6).

    Free on public repositories; settings validation requires GitHub Advanced Security for a
    non-public one, so both can always be switched on here.
    """
    enabled = "enabled"
    return github.RepositorySecurityAndAnalysisArgs(
        secret_scanning=github.RepositorySecurityAndAnalysisSecretScanningArgs(status=enabled),
        secret_scanning_push_protection=(
            github.RepositorySecurityAndAnalysisSecretScanningPushProtectionArgs(status=enabled)
        ),
    )


def _main_rules(args: AppRepositoryArgs) -> github.RepositoryRulesetRulesArgs:
    """The rules on `main` (G1-G5, G10)."""
    return github.RepositoryRulesetRulesArgs(
        deletion=True,
        non_fast_forward=True,
        required_linear_history=True,
        required_signatures=args.require_signed_commits,
        pull_request=github.RepositoryRulesetRulesPullRequestArgs(
            required_approving_review_count=args.required_approving_review_count,
            require_code_owner_review=True,
            dismiss_stale_reviews_on_push=True,
            require_last_push_approval=True,
            required_review_thread_resolution=True,
            allowed_merge_methods=["squash"],
        ),
        required_status_checks=github.RepositoryRulesetRulesRequiredStatusChecksArgs(
            # Strict: the branch must be up to date with main before it merges (G2).
            strict_required_status_checks_policy=True,
            required_checks=[
                github.RepositoryRulesetRulesRequiredStatusChecksRequiredCheckArgs(context=check)
                for check in sorted(args.required_checks)
            ],
        ),
        required_code_scanning=github.RepositoryRulesetRulesRequiredCodeScanningArgs(
            required_code_scanning_tools=[
                github.RepositoryRulesetRulesRequiredCodeScanningRequiredCodeScanningToolArgs(
                    tool="CodeQL",
                    alerts_threshold="errors",
                    security_alerts_threshold="high_or_higher",
                )
            ]
        ),
    )


def _file_role(path: str) -> str:
    """A stable resource-name role for a repository path, e.g. `github-workflows-deploy-yml`."""
    cleaned = "".join(c if c.isalnum() else "-" for c in path.lower()).strip("-")
    return "-".join(part for part in cleaned.split("-") if part)
