"""The GitHub side of each stack, asserted as an inventory (rules G1-G10)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from components.config import settings_of_stack_file
from components.github import pipeline
from components.github.repository import INCIDENT_LABELS
from components.reader import ConfigError
from tests.conftest import TEST_SECRETS
from tools.recorder import Inventory, Registration, Secret, record, stack_config

Inv = Callable[[str], Inventory]

REPOSITORY = "github:index/repository:Repository"
RULESET = "github:index/repositoryRuleset:RepositoryRuleset"
FILE = "github:index/repositoryFile:RepositoryFile"
ENVIRONMENT = "github:index/repositoryEnvironment:RepositoryEnvironment"
ENV_SECRET = "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret"
ENV_VARIABLE = "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable"

VULNERABILITY_ALERTS = "github:index/repositoryVulnerabilityAlerts:RepositoryVulnerabilityAlerts"
REPOSITORY_WIDE = (
    REPOSITORY,
    RULESET,
    FILE,
    "github:index/issueLabels:IssueLabels",
    "github:index/teamRepository:TeamRepository",
    "github:index/workflowRepositoryPermissions:WorkflowRepositoryPermissions",
    "github:index/actionsRepositoryPermissions:ActionsRepositoryPermissions",
    "github:index/repositoryDependabotSecurityUpdates:RepositoryDependabotSecurityUpdates",
    VULNERABILITY_ALERTS,
)


def main_rules(inventory: Inventory) -> dict[str, Any]:
    ruleset = inventory.one(RULESET)
    assert ruleset.inputs["target"] == "branch", ruleset.urn
    assert ruleset.inputs["enforcement"] == "active", ruleset.urn
    assert ruleset.inputs["conditions"]["refName"]["includes"] == ["~DEFAULT_BRANCH"], ruleset.urn
    rules: dict[str, Any] = ruleset.inputs["rules"]
    return rules


def files(inventory: Inventory) -> dict[str, Registration]:
    return {r.inputs["file"]: r for r in inventory.of_type(FILE)}


def test_only_production_owns_repository_wide_objects(inventory: Inv) -> None:
    for type_ in REPOSITORY_WIDE:
        assert inventory("production").of_type(type_), f"production lacks {type_}"
        assert not inventory("staging").of_type(type_), f"staging must not manage {type_}"


def test_repository_settings(inventory: Inv) -> None:
    repo = inventory("production").one(REPOSITORY)
    expected = {
        "name": "acme-web",
        "visibility": "private",
        "allowSquashMerge": True,
        "allowMergeCommit": False,
        "allowRebaseMerge": False,
        "deleteBranchOnMerge": True,
        # Deprecated in github 6.15.0: RepositoryVulnerabilityAlerts owns the setting.
        "vulnerabilityAlerts": None,
        "archiveOnDestroy": True,
        "hasIssues": True,
        "topics": ["nextjs", "supabase", "vercel"],
    }
    assert {k: repo.inputs.get(k) for k in expected} == expected, repo.urn
    assert repo.protect, f"{repo.urn} must be protected in production"


def test_g1_no_force_push_no_deletion(inventory: Inv) -> None:
    rules = main_rules(inventory("production"))
    assert rules["deletion"] is True
    assert rules["nonFastForward"] is True


def test_g2_approvals_up_to_date_and_last_push(inventory: Inv) -> None:
    rules = main_rules(inventory("production"))
    pr = rules["pullRequest"]
    assert pr["requiredApprovingReviewCount"] == 2
    assert pr["requireLastPushApproval"] is True
    assert rules["requiredStatusChecks"]["strictRequiredStatusChecksPolicy"] is True


def test_g3_required_checks_are_the_workflow_jobs(inventory: Inv) -> None:
    checks = main_rules(inventory("production"))["requiredStatusChecks"]["requiredChecks"]
    contexts = [c["context"] for c in checks]
    assert contexts, "main needs at least one required status check"
    assert contexts == sorted(pipeline.required_status_checks())


def test_g4_code_owners_stale_reviews_and_no_bypass(inventory: Inv) -> None:
    production = inventory("production")
    pr = main_rules(production)["pullRequest"]
    assert pr["requireCodeOwnerReview"] is True
    assert pr["dismissStaleReviewsOnPush"] is True
    assert production.one(RULESET).inputs.get("bypassActors", []) == []
    codeowners = files(production)[".github/CODEOWNERS"].inputs["content"]
    for path in ("/.github/", "/vercel.json", "/supabase/"):
        assert f"{path} @acme-corp/devops" in codeowners


def test_bypass_actors_come_only_from_the_allow_list() -> None:
    config = stack_config("production")
    config["webapp-platform:bypassActors"] = ["Integration:123456:always"]
    ruleset = record("production", config=config, secrets=TEST_SECRETS).one(RULESET)
    assert ruleset.inputs["bypassActors"] == [
        {"actorType": "Integration", "actorId": 123456, "bypassMode": "always"}
    ]


def test_g5_signed_linear_resolved(inventory: Inv) -> None:
    rules = main_rules(inventory("production"))
    assert rules["requiredSignatures"] is True
    assert rules["requiredLinearHistory"] is True
    assert rules["pullRequest"]["requiredReviewThreadResolution"] is True
    assert rules["pullRequest"]["allowedMergeMethods"] == ["squash"]


def test_g5_signed_commits_off_only_with_waiver() -> None:
    config = stack_config("production")
    config["webapp-platform:requireSignedCommits"] = False
    with pytest.raises(ConfigError, match="signedCommitsWaiver"):
        record("production", config=config, secrets=TEST_SECRETS)
    config["webapp-platform:signedCommitsWaiver"] = "bots commit through the API"
    rules = record("production", config=config, secrets=TEST_SECRETS).one(RULESET).inputs["rules"]
    assert rules["requiredSignatures"] is False


def test_g6_security_features(inventory: Inv) -> None:
    production = inventory("production")
    analysis = production.one(REPOSITORY).inputs["securityAndAnalysis"]
    assert analysis["secretScanning"]["status"] == "enabled"
    assert analysis["secretScanningPushProtection"]["status"] == "enabled"
    updates = production.one(
        "github:index/repositoryDependabotSecurityUpdates:RepositoryDependabotSecurityUpdates"
    )
    assert updates.inputs["enabled"] is True
    alerts = production.one(VULNERABILITY_ALERTS)
    assert alerts.inputs == {"repository": "acme-web", "enabled": True}, alerts.urn
    assert ".github/dependabot.yml" in files(production)


def test_g10_private_repository_needs_advanced_security() -> None:
    config = stack_config("production")
    config["webapp-platform:githubAdvancedSecurity"] = False
    with pytest.raises(ConfigError, match="githubAdvancedSecurity: false is not allowed"):
        record("production", config=config, secrets=TEST_SECRETS)
    config["webapp-platform:githubVisibility"] = "public"
    analysis = (
        record("production", config=config, secrets=TEST_SECRETS)
        .one(REPOSITORY)
        .inputs["securityAndAnalysis"]
    )
    assert analysis["secretScanningPushProtection"]["status"] == "enabled"


def _plain_values(value: Any) -> Iterator[Any]:
    if isinstance(value, Secret):
        return
    if isinstance(value, dict):
        for v in value.values():
            yield from _plain_values(v)
    elif isinstance(value, list):
        for v in value:
            yield from _plain_values(v)
    else:
        yield value


def test_g7_secrets_never_in_plain_text(stack_inventory: Inventory) -> None:
    secrets = stack_inventory.of_type(ENV_SECRET)
    assert secrets, f"{stack_inventory.stack} manages no environment secret"
    for secret in secrets:
        assert isinstance(secret.inputs["value"], Secret), secret.urn
    for resource in stack_inventory.resources:
        for value in _plain_values(resource.inputs):
            for placeholder in TEST_SECRETS.values():
                assert placeholder not in str(value), f"{resource.urn} holds a secret in plain"
    for name, value in stack_inventory.outputs.items():
        for placeholder in TEST_SECRETS.values():
            assert placeholder not in str(list(_plain_values(value))), name


def test_g8_actions_locked_down(inventory: Inv) -> None:
    production = inventory("production")
    permissions = production.one(
        "github:index/workflowRepositoryPermissions:WorkflowRepositoryPermissions"
    )
    assert permissions.inputs["defaultWorkflowPermissions"] == "read"
    assert permissions.inputs["canApprovePullRequestReviews"] is False
    actions = production.one(
        "github:index/actionsRepositoryPermissions:ActionsRepositoryPermissions"
    )
    assert actions.inputs["shaPinningRequired"] is True


def test_g9_security_policy(inventory: Inv) -> None:
    policy = files(inventory("production"))["SECURITY.md"].inputs["content"]
    assert "security@your-domain.com" in policy
    assert "90 days" in policy


def test_g10_code_scanning_required(inventory: Inv) -> None:
    scanning = main_rules(inventory("production"))["requiredCodeScanning"]
    tools = scanning["requiredCodeScanningTools"]
    assert tools == [
        {"tool": "CodeQL", "alertsThreshold": "errors", "securityAlertsThreshold": "high_or_higher"}
    ]


def test_incident_tracking(inventory: Inv) -> None:
    production = inventory("production")
    labels = production.one("github:index/issueLabels:IssueLabels").inputs["labels"]
    assert {label["name"] for label in labels} == set(INCIDENT_LABELS)
    assert {"incident", "sev1", "sev2", "sev3", "security", "dependencies"} <= set(INCIDENT_LABELS)
    template = files(production)[".github/ISSUE_TEMPLATE/incident.yml"].inputs["content"]
    assert "- incident" in template


def test_files_commit_to_main(inventory: Inv) -> None:
    for path, resource in files(inventory("production")).items():
        assert resource.inputs["branch"] == "main", resource.urn
        assert resource.inputs["overwriteOnCreate"] is True, resource.urn
        assert path in resource.inputs["commitMessage"], resource.urn


def test_team_access(inventory: Inv) -> None:
    teams = inventory("production").of_type("github:index/teamRepository:TeamRepository")
    assert {(t.inputs["teamId"], t.inputs["permission"]) for t in teams} == {
        ("engineering", "push"),
        ("devops", "maintain"),
        ("security", "triage"),
    }


DEPLOYMENT_POLICY = (
    "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy"
)


def environment_named(inventory: Inventory, name: str) -> Registration:
    (found,) = [r for r in inventory.of_type(ENVIRONMENT) if r.inputs["environment"] == name]
    return found


def branch_policies(inventory: Inventory, environment: Registration) -> list[str]:
    """The branches allowed to run in `environment` (policies registered under its component)."""
    component = environment.parent
    return [
        r.inputs["branchPattern"]
        for r in inventory.of_type(DEPLOYMENT_POLICY)
        if r.parent == component
    ]


def test_production_environment_is_guarded(inventory: Inv) -> None:
    production = inventory("production")
    environment = environment_named(production, "production")
    assert environment.inputs["preventSelfReview"] is True
    assert environment.inputs["canAdminsBypass"] is False
    assert environment.inputs["reviewers"] == [{"teams": [7412093], "users": []}]
    assert environment.inputs["deploymentBranchPolicy"] == {
        "protectedBranches": False,
        "customBranchPolicies": True,
    }
    assert branch_policies(production, environment) == ["main"]


def test_rollback_has_its_own_environment_the_on_call_team_runs_alone(inventory: Inv) -> None:
    """W11: rollback.yml runs in `production-rollback`, not `production` (whose
    prevent_self_review meant on-call could not roll back alone): main only, the on-call team
    approves, self-review allowed, admins cannot skip it."""
    production = inventory("production")
    rollback = environment_named(production, pipeline.ROLLBACK_ENVIRONMENT)
    assert rollback.inputs["reviewers"] == [{"teams": [7412117], "users": []}]
    assert rollback.inputs["preventSelfReview"] is False
    assert rollback.inputs["canAdminsBypass"] is False
    assert rollback.inputs["deploymentBranchPolicy"]["customBranchPolicies"] is True
    assert branch_policies(production, rollback) == ["main"]
    variables = {
        r.inputs["variableName"]: r.inputs["value"]
        for r in production.of_type(ENV_VARIABLE)
        if r.inputs["environment"] == pipeline.ROLLBACK_ENVIRONMENT
    }
    deploy_variables = {
        r.inputs["variableName"]: r.inputs["value"]
        for r in production.of_type(ENV_VARIABLE)
        if r.inputs["environment"] == "production"
    }
    assert variables == deploy_variables, "a rollback acts on the project production deploys"
    assert not [
        r for r in production.of_type(ENV_SECRET) if r.inputs["environment"] != "production"
    ], "the rollback environment holds no secret: its Vercel token comes by OIDC"
    assert not [
        r
        for r in inventory("staging").of_type(ENVIRONMENT)
        if r.inputs["environment"] == pipeline.ROLLBACK_ENVIRONMENT
    ]


def test_rollback_reviewers_are_required_in_production_only() -> None:
    config = stack_config("production")
    del config["webapp-platform:rollbackReviewerTeamIds"]
    with pytest.raises(ConfigError, match="rollbackReviewerTeamIds: \\[\\] is not allowed"):
        record("production", config=config)
    config = stack_config("staging")
    config["webapp-platform:rollbackReviewerTeamIds"] = [7412117]
    with pytest.raises(ConfigError, match="only production has a rollback environment"):
        record("staging", config=config)


def test_staging_environment_takes_previews_from_any_branch(inventory: Inv) -> None:
    staging = inventory("staging")
    environment = staging.one(ENVIRONMENT)
    assert environment.inputs["environment"] == "staging"
    assert environment.inputs["repository"] == "acme-web"
    assert "deploymentBranchPolicy" not in environment.inputs
    assert not staging.of_type(DEPLOYMENT_POLICY)


def test_environment_secrets_per_stack(inventory: Inv) -> None:
    def names(stack: str) -> set[str]:
        return {r.inputs["secretName"] for r in inventory(stack).of_type(ENV_SECRET)}

    assert "SENTRY_AUTH_TOKEN" in names("production")
    assert "SENTRY_AUTH_TOKEN" not in names("staging")


def test_no_long_lived_vercel_token_is_managed(stack_inventory: Inventory) -> None:
    """W10: the deploy jobs get short-lived Vercel tokens by OIDC, so no environment holds one."""
    names = {r.inputs["secretName"] for r in stack_inventory.of_type(ENV_SECRET)}
    assert not {name for name in names if "VERCEL_TOKEN" in name}, names


def test_a_left_over_vercel_token_is_refused_with_its_reason() -> None:
    with pytest.raises(ConfigError, match="vercelToken: no longer used: the deploy jobs obtain"):
        record("staging", secrets={**TEST_SECRETS, "vercelToken": "test-vercel-token-0123"})


def test_missing_secret_is_reported_not_invented() -> None:
    # Every secret but the optional Sentry release token (the SMTP password is required).
    inventory = record(
        "production", secrets={k: v for k, v in TEST_SECRETS.items() if k != "sentryAuthToken"}
    )
    assert not [
        r for r in inventory.of_type(ENV_SECRET) if r.inputs["secretName"] == "SENTRY_AUTH_TOKEN"
    ]
    assert any("sentryAuthToken is not set" in w for w in inventory.warnings), inventory.warnings


def test_bad_config_stops_before_any_resource() -> None:
    config = stack_config("staging")
    config["webapp-platform:githubOwner"] = "not an owner"
    with pytest.raises(ConfigError, match="githubOwner: 'not an owner' is not allowed"):
        record("staging", config=config)


def test_outputs(inventory: Inv) -> None:
    assert (
        inventory("production").outputs["repositoryUrl"] == "https://github.com/acme-corp/acme-web"
    )
    assert inventory("staging").outputs["environmentName"] == "staging"


def test_environments_carry_what_the_workflows_read(stack_inventory: Inventory) -> None:
    """Everything the workflows read from an environment is set there, except what a stack
    leaves out by decision: SUPABASE_DB_URL where CI cannot reach the database (production's
    deploy then stops at its migration step, saying why), and the database-branch variable and
    token where branches are off."""
    stack = stack_inventory.stack
    settings = settings_of_stack_file(stack)
    left_out = set()
    if not settings.supabase.ci_connects_directly:
        left_out.add(pipeline.SUPABASE_DB_URL)
    if not settings.supabase.preview_branches:
        left_out |= {pipeline.SUPABASE_PROJECT_REF, pipeline.SUPABASE_ACCESS_TOKEN}
    left_out &= {*pipeline.ENVIRONMENT_VARIABLES[stack], *pipeline.ENVIRONMENT_SECRETS[stack]}
    assert left_out == ({pipeline.SUPABASE_DB_URL} if stack == "production" else set())
    variables = {r.inputs["variableName"] for r in stack_inventory.of_type(ENV_VARIABLE)}
    secrets = {r.inputs["secretName"] for r in stack_inventory.of_type(ENV_SECRET)}
    assert set(pipeline.ENVIRONMENT_VARIABLES[stack]) - left_out <= variables, stack
    assert set(pipeline.ENVIRONMENT_SECRETS[stack]) - left_out <= secrets, stack
    assert not left_out & (variables | secrets), stack
    if stack == "production":
        assert any(
            "deploy.yml stops every deploy of this stack at 'Migrate the database'" in w
            for w in stack_inventory.warnings
        ), stack_inventory.warnings


def test_each_stack_owns_its_health_check_variables(inventory: Inv) -> None:
    """Each stack sets its own URL and TTFB budget (its alertTtfbMs: production 200, staging
    600): the health check no longer applies one hard-coded 200 ms to both."""
    owned = {}
    for stack, budget in (("staging", "600"), ("production", "200")):
        variables = {
            r.inputs["variableName"]: r.inputs["value"]
            for r in inventory(stack).of_type("github:index/actionsVariable:ActionsVariable")
        }
        assert variables == {
            pipeline.REPOSITORY_URL_VARIABLE[
                stack
            ]: f"https://{inventory(stack).outputs['domain']}",
            pipeline.REPOSITORY_TTFB_BUDGET_VARIABLE[stack]: budget,
            # Repository-wide, so production's: the pull-request build's budget, and the
            # schemas the RLS check covers.
            **(
                {
                    pipeline.FIRST_LOAD_JS_BUDGET_VARIABLE: "500",
                    pipeline.RLS_EXPOSED_SCHEMAS_VARIABLE: "public",
                }
                if stack == "production"
                else {}
            ),
        }
        owned[stack] = set(variables)
    assert owned["staging"].isdisjoint(owned["production"])
    assert owned["staging"] | owned["production"] == set(pipeline.REPOSITORY_VARIABLES)


def test_no_first_load_js_budget_for_a_framework_without_next_manifests() -> None:
    config = stack_config("production")
    config["webapp-platform:vercelFramework"] = "astro"
    inv = record("production", config=config, secrets=TEST_SECRETS)
    names = {
        r.inputs["variableName"]
        for r in inv.of_type("github:index/actionsVariable:ActionsVariable")
    }
    assert pipeline.FIRST_LOAD_JS_BUDGET_VARIABLE not in names
    assert any("first-load JavaScript budget reads Next.js" in w for w in inv.warnings), (
        inv.warnings
    )
