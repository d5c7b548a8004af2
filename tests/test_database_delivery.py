"""What each stack gives the app's database delivery: the staging environment's branch variable
and token (only with supabasePreviewBranches), the repository's RLS schemas (production), and
the loader's refusals with key, value and what is allowed.
"""

from __future__ import annotations

from typing import Any

import pytest

from components.github import pipeline
from components.reader import ConfigError
from components.supabase.facts import BRANCHING_TOKEN_KEY
from tests.conftest import TEST_SECRETS
from tools.recorder import UNKNOWN, Inventory, Secret, record, stack_config, stack_config_with

ENV_VARIABLE = "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable"
ENV_SECRET = "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret"
REPO_VARIABLE = "github:index/actionsVariable:ActionsVariable"


def environment(inventory: Inventory) -> tuple[dict[str, Any], dict[str, Any]]:
    """The stack environment's variables and secrets, by name."""
    variables = {
        r.inputs["variableName"]: r.inputs["value"]
        for r in inventory.of_type(ENV_VARIABLE)
        if r.inputs["environment"] == inventory.stack
    }
    secrets = {
        r.inputs["secretName"]: r.inputs["value"]
        for r in inventory.of_type(ENV_SECRET)
        if r.inputs["environment"] == inventory.stack
    }
    return variables, secrets


def test_staging_hands_the_branch_parent_and_token_to_its_environment(inventory: Any) -> None:
    staging: Inventory = inventory("staging")
    variables, secrets = environment(staging)
    # The project's ref: an output, known once the project exists (unknown under the mocks).
    assert variables[pipeline.SUPABASE_PROJECT_REF] == UNKNOWN
    # The branching token, never the platform's own Supabase token, and as a secret.
    assert secrets[pipeline.SUPABASE_ACCESS_TOKEN] == Secret(TEST_SECRETS[BRANCHING_TOKEN_KEY])
    assert secrets[pipeline.SUPABASE_ACCESS_TOKEN] != Secret(TEST_SECRETS["supabaseAccessToken"])


def test_production_has_no_branches_and_owns_the_rls_schemas(inventory: Any) -> None:
    production: Inventory = inventory("production")
    variables, secrets = environment(production)
    assert pipeline.SUPABASE_PROJECT_REF not in variables
    assert pipeline.SUPABASE_ACCESS_TOKEN not in secrets
    repository = {
        r.inputs["variableName"]: r.inputs["value"] for r in production.of_type(REPO_VARIABLE)
    }
    assert repository[pipeline.RLS_EXPOSED_SCHEMAS_VARIABLE] == "public"


def test_extra_exposed_schemas_reach_the_rls_check() -> None:
    config = stack_config_with("production", supabaseExposedSchemas=["api", "reporting"])
    inventory = record("production", config=config, secrets=TEST_SECRETS)
    repository = {
        r.inputs["variableName"]: r.inputs["value"] for r in inventory.of_type(REPO_VARIABLE)
    }
    assert repository[pipeline.RLS_EXPOSED_SCHEMAS_VARIABLE] == "public,api,reporting"


def test_branches_off_leaves_the_environment_without_them() -> None:
    config = stack_config_with("staging", supabasePreviewBranches=False)
    secrets = {k: v for k, v in TEST_SECRETS.items() if k != BRANCHING_TOKEN_KEY}
    inventory = record("staging", config=config, secrets=secrets)
    variables, env_secrets = environment(inventory)
    assert pipeline.SUPABASE_PROJECT_REF not in variables
    assert pipeline.SUPABASE_ACCESS_TOKEN not in env_secrets
    assert inventory.outputs["monthlyCostBreakdownUsd"]["supabaseBranches"] == 0.0


def test_branches_need_their_token() -> None:
    secrets = {k: v for k, v in TEST_SECRETS.items() if k != BRANCHING_TOKEN_KEY}
    with pytest.raises(ConfigError) as refused:
        record("staging", config=stack_config("staging"), secrets=secrets)
    message = str(refused.value)
    assert f"{BRANCHING_TOKEN_KEY}: missing; this key is required" in message
    assert f"pulumi config set --secret {BRANCHING_TOKEN_KEY}" in message


@pytest.mark.parametrize(
    ("stack", "changes", "expected"),
    [
        (
            "production",
            {"supabasePreviewBranches": True},
            "supabasePreviewBranches: true is not allowed; expected false in production: pull "
            "requests preview on staging's project",
        ),
        (
            "staging",
            {"supabaseExposedSchemas": ["public"]},
            "supabaseExposedSchemas: item 'public' is not allowed; expected a lowercase schema "
            "name, not public (always checked)",
        ),
        (
            "staging",
            {"supabaseExposedSchemas": ["auth"]},
            "supabaseExposedSchemas: item 'auth' is not allowed",
        ),
        (
            "staging",
            {"supabaseExposedSchemas": ["Api;drop"]},
            "supabaseExposedSchemas: item 'Api;drop' is not allowed",
        ),
        (
            "staging",
            {"supabaseExpectedOpenBranches": -1},
            "supabaseExpectedOpenBranches: -1 is not allowed; expected an integer from 0 to 100",
        ),
    ],
)
def test_bad_database_delivery_settings_are_refused(
    stack: str, changes: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        record(stack, config=stack_config_with(stack, **changes), secrets=TEST_SECRETS)
    assert expected in str(refused.value)
    assert "Traceback" not in str(refused.value)
