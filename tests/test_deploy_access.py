"""Who and what may deploy to each stack's Vercel project (rules W9, W10, deployment permissions).

The OIDC federation policies are tested by what they admit: tokens with the claims GitHub
gives each kind of run (a pull request, a push to main, a rollback dispatch, a hostile branch)
are matched against every recorded policy the way Vercel matches them (every claim must
match one accepted value, `*` a wildcard where allowed). The people's roles come from config.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from components.config import settings_of_stack_file
from components.github import pipeline
from components.github.facts import ACTIONS_OIDC_ISSUER
from components.github.workflow_yaml import jobs, load_yaml
from components.platform import deployers
from components.reader import ConfigError
from components.vercel.facts import CLI_CLIENT, LOCAL_CLI_COMMANDS, OIDC_AUDIENCE
from tests.conftest import TEST_SECRETS
from tools.recorder import Inventory, Registration, record, stack_config

Inv = Callable[[str], Inventory]

POLICY = "vercel:index/oidcFederationPolicy:OidcFederationPolicy"
PROJECT = "vercel:index/project:Project"
MEMBERS = "vercel:index/projectMembers:ProjectMembers"
ACCESS_GROUP = "vercel:index/accessGroupProject:AccessGroupProject"
REPOSITORY = "acme-corp/acme-web"


def token(environment: str, ref: str, workflow: str, event: str) -> dict[str, str]:
    """The claims of the OIDC token GitHub gives a job of `workflow` in `environment`."""
    return {
        "aud": OIDC_AUDIENCE,
        "repository": REPOSITORY,
        "environment": environment,
        "ref": ref,
        "workflow_ref": f"{REPOSITORY}/{workflow}@{ref}",
        "event_name": event,
    }


PULL_REQUEST = token("staging", "refs/pull/7/merge", pipeline.DEPLOY_WORKFLOW, "pull_request")
STAGING_PUSH = token("staging", "refs/heads/main", pipeline.DEPLOY_WORKFLOW, "push")
PRODUCTION_PUSH = token("production", "refs/heads/main", pipeline.DEPLOY_WORKFLOW, "push")
ROLLBACK = token(
    pipeline.ROLLBACK_ENVIRONMENT,
    "refs/heads/main",
    pipeline.ROLLBACK_WORKFLOW,
    "workflow_dispatch",
)
# A pull request whose edited workflow claims the production environment: GitHub's branch
# policy refuses the job, and even a token it had would carry the pull request's ref.
HOSTILE_PULL_REQUEST = token(
    "production", "refs/pull/7/merge", pipeline.DEPLOY_WORKFLOW, "pull_request"
)
# A pushed branch with an edited workflow in the staging environment (no branch policy there).
HOSTILE_BRANCH = token("staging", "refs/heads/evil", pipeline.DEPLOY_WORKFLOW, "push")


def admits(policy: Registration, claims: Mapping[str, str]) -> bool:
    """Whether Vercel exchanges a token with `claims` under `policy`."""
    for claim in policy.inputs["claims"]:
        value = claims.get(claim["name"])
        if value is None or not any(
            fnmatch.fnmatchcase(value, accepted["value"])
            if accepted.get("wildcards")
            else value == accepted["value"]
            for accepted in claim["values"]
        ):
            return False
    return True


def admitted_by(inventory: Inventory, claims: Mapping[str, str]) -> list[str]:
    return [p.name for p in inventory.of_type(POLICY) if admits(p, claims)]


def project_id(inventory: Inventory) -> Any:
    return f"{inventory.one(PROJECT).name}-id"


@pytest.mark.parametrize(
    ("claims", "staging", "production"),
    [
        (PULL_REQUEST, ["acme-web-staging-deploy-access-oidc-deploy"], []),
        (STAGING_PUSH, ["acme-web-staging-deploy-access-oidc-deploy"], []),
        (PRODUCTION_PUSH, [], ["acme-web-production-deploy-access-oidc-deploy"]),
        (ROLLBACK, [], ["acme-web-production-deploy-access-oidc-rollback"]),
        (HOSTILE_PULL_REQUEST, [], []),
        (HOSTILE_BRANCH, [], []),
    ],
)
def test_each_run_gets_a_token_only_where_its_claims_allow(
    inventory: Inv, claims: Mapping[str, str], staging: list[str], production: list[str]
) -> None:
    """A pull request's run can reach the staging project only; production's policies admit
    only main in production's own environments (W9, W10)."""
    assert admitted_by(inventory("staging"), claims) == staging
    assert admitted_by(inventory("production"), claims) == production


def test_a_token_for_another_repository_or_audience_is_refused(inventory: Inv) -> None:
    for stack, claims in (("staging", PULL_REQUEST), ("production", PRODUCTION_PUSH)):
        assert admitted_by(inventory(stack), {**claims, "repository": "mallory/acme-web"}) == []
        assert admitted_by(inventory(stack), {**claims, "aud": "https://example.com"}) == []


def test_every_policy_is_bounded_to_its_own_stacks_project(stack_inventory: Inventory) -> None:
    policies = stack_inventory.of_type(POLICY)
    assert len(policies) == {"staging": 1, "production": 2}[stack_inventory.stack]
    for policy in policies:
        assert policy.inputs["resources"] == {"projectIds": [project_id(stack_inventory)]}
        assert policy.inputs["client"] == CLI_CLIENT, policy.urn
        assert policy.inputs["issuerUrl"] == ACTIONS_OIDC_ISSUER, policy.urn
        assert "permissions" not in policy.inputs, "commands, never a blanket permission"


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_each_policy_grants_exactly_the_commands_its_jobs_run(stack: str) -> None:
    """Every Vercel command a job in the policy's environment runs is granted, and nothing
    else: read from the shipped workflows, so adding `vercel promote` to a staging job
    without its policy fails here, and so would a policy granting more."""
    for deployer in deployers(settings_of_stack_file(stack)):
        run: set[str] = set()
        for destination, path in pipeline.workflow_files().items():
            for job in jobs(load_yaml(path)).values():
                if pipeline.job_environment(job) != deployer.environment:
                    continue
                if pipeline.requests_oidc_token(job):
                    assert destination in deployer.workflows
                    run |= set(pipeline.cli_commands(job))
                else:
                    # No OIDC token, no Vercel token (the database branch jobs): it calls no
                    # Vercel command, and gives its workflow no place in the policy.
                    assert not pipeline.cli_commands(job), destination
        for destination in deployer.workflows:
            assert any(
                pipeline.requests_oidc_token(job)
                and pipeline.job_environment(job) == deployer.environment
                for job in jobs(load_yaml(pipeline.workflow_files()[destination])).values()
            ), destination
        assert set(deployer.commands) == run - set(LOCAL_CLI_COMMANDS), deployer.purpose
        assert not set(deployer.commands) & set(LOCAL_CLI_COMMANDS)
    promoting = [
        d.purpose for d in deployers(settings_of_stack_file(stack)) if "promote" in d.commands
    ]
    assert promoting == (["deploy"] if stack == "production" else [])


def test_cli_commands_are_read_from_the_steps() -> None:
    job = {
        "steps": [
            {"run": 'vercel pull --yes\nx="$(timeout 5 vercel inspect "$U" | jq .)"'},
            {"run": "cp .github/vercel-cli/package.json x  # no command: vercel-cli"},
            {"run": "echo vercel; vercel rollback $T"},
        ]
    }
    assert pipeline.cli_commands(job) == ["pull", "inspect", "rollback"]


def test_project_members_and_access_groups_come_from_config() -> None:
    config = stack_config("production")
    config["webapp-platform:vercelProjectMembers"] = [
        "ada@your-domain.com:ADMIN",
        "grace:PROJECT_VIEWER",
    ]
    config["webapp-platform:vercelAccessGroups"] = ["ag_AcmeOnCall00000000000001:PROJECT_DEVELOPER"]
    production = record("production", config=config, secrets=TEST_SECRETS)
    members = production.one(MEMBERS)
    assert members.inputs["projectId"] == project_id(production)
    assert members.inputs["members"] == [
        {"email": "ada@your-domain.com", "role": "ADMIN"},
        {"username": "grace", "role": "PROJECT_VIEWER"},
    ]
    group = production.one(ACCESS_GROUP)
    assert {k: group.inputs[k] for k in ("accessGroupId", "projectId", "role")} == {
        "accessGroupId": "ag_AcmeOnCall00000000000001",
        "projectId": project_id(production),
        "role": "PROJECT_DEVELOPER",
    }


def test_the_stack_files_manage_no_people(stack_inventory: Inventory) -> None:
    """Empty config manages nobody (Acme keeps team roles): nothing is invented."""
    assert not stack_inventory.of_type(MEMBERS)
    assert not stack_inventory.of_type(ACCESS_GROUP)


@pytest.mark.parametrize(
    ("key", "item"),
    [
        ("vercelProjectMembers", "ada@your-domain.com:OWNER"),
        ("vercelProjectMembers", "not a user:ADMIN"),
        ("vercelAccessGroups", "devops:ADMIN"),
        ("vercelAccessGroups", "ag_AcmeOnCall00000000000001"),
    ],
)
def test_a_bad_role_entry_is_refused_naming_what_is_allowed(key: str, item: str) -> None:
    config = stack_config("staging")
    config[f"webapp-platform:{key}"] = [item]
    with pytest.raises(ConfigError) as caught:
        record("staging", config=config)
    assert any(
        problem.startswith(f"{key}: item {item!r} is not allowed; expected")
        and "ADMIN, PROJECT_DEVELOPER, PROJECT_VIEWER" in problem
        for problem in caught.value.problems
    ), caught.value.problems
