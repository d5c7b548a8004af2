"""Each stack's Supabase project, asserted as an inventory (rules S1, S3, S4, S12)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from components.reader import ConfigError
from tests.conftest import TEST_SECRETS
from tools.recorder import Inventory, Registration, Secret, record, stack_config

Inv = Callable[[str], Inventory]

PROJECT = "pulumi-python:dynamic/supabase:Project"
PASSWORD = "random:index/randomPassword:RandomPassword"


def project(inventory: Inventory) -> Registration:
    return inventory.one(PROJECT)


def test_each_stack_owns_its_own_project(inventory: Inv) -> None:
    staging, production = project(inventory("staging")), project(inventory("production"))
    assert staging.inputs["name"] == "acme-web-staging-db", staging.urn
    assert production.inputs["name"] == "acme-web-production-db", production.urn
    assert staging.inputs["organization_slug"] == production.inputs["organization_slug"]


def test_project_settings_from_config(inventory: Inv) -> None:
    production = project(inventory("production"))
    expected = {
        "region": "us-east-1",
        "desired_instance_size": "small",
        "pool_mode": "transaction",
        "default_pool_size": 20,
    }
    assert {k: production.inputs[k] for k in expected} == expected, production.urn


def test_s1_production_ssl_and_restricted_networks(inventory: Inv) -> None:
    production = project(inventory("production"))
    assert production.inputs["ssl_enforced"] is True, production.urn
    cidrs = production.inputs["allowed_cidrs"]
    assert cidrs == ["203.0.113.0/24", "2001:db8:1234::/48"], production.urn
    assert not {"0.0.0.0/0", "::/0"} & set(cidrs)


@pytest.mark.parametrize("cidr", ["0.0.0.0/0", "::/0"])
def test_s1_production_refuses_open_networks(cidr: str) -> None:
    config = stack_config("production")
    config["webapp-platform:supabaseAllowedCidrs"] = ["203.0.113.0/24", cidr]
    with pytest.raises(ConfigError, match="supabaseAllowedCidrs"):
        record("production", config=config)


def test_s3_auth_confirmations_and_otp_expiry(stack_inventory: Inventory) -> None:
    resource = project(stack_inventory)
    assert resource.inputs["mailer_autoconfirm"] is False, resource.urn
    assert resource.inputs["mailer_otp_exp"] <= 3600, resource.urn
    domain = stack_inventory.outputs["domain"]
    assert resource.inputs["site_url"] == f"https://{domain}", resource.urn
    assert resource.inputs["uri_allow_list"][0] == f"https://{domain}", resource.urn


def test_s4_production_requires_point_in_time_recovery(inventory: Inv) -> None:
    assert project(inventory("production")).inputs["pitr_required"] is True
    assert project(inventory("staging")).inputs["pitr_required"] is False
    config = stack_config("production")
    config["webapp-platform:supabasePointInTimeRecovery"] = False
    with pytest.raises(ConfigError, match="supabasePitrWaiver"):
        record("production", config=config)
    config["webapp-platform:supabasePitrWaiver"] = "daily backups suffice for this app"
    assert project(record("production", config=config)).inputs["pitr_required"] is False


def test_password_is_generated_and_secret(stack_inventory: Inventory) -> None:
    password = stack_inventory.one(PASSWORD, f"acme-web-{stack_inventory.stack}-database-password")
    assert password.inputs["length"] >= 32, password.urn
    assert password.inputs["special"] is False, password.urn
    assert isinstance(project(stack_inventory).inputs["db_pass"], Secret)


def test_access_token_is_a_secret_input(stack_inventory: Inventory) -> None:
    token = project(stack_inventory).inputs["access_token"]
    assert token == Secret(TEST_SECRETS["supabaseAccessToken"])


def test_secret_outputs_declared(stack_inventory: Inventory) -> None:
    declared = set(project(stack_inventory).additional_secret_outputs)
    assert {
        "service_role_key",
        "pooled_connection_string",
        "direct_connection_string",
        "db_pass",
    } <= declared


def test_production_keeps_its_data_staging_can_be_deleted(inventory: Inv) -> None:
    production, staging = project(inventory("production")), project(inventory("staging"))
    assert production.protect and production.retain_on_delete, production.urn
    assert not staging.protect and not staging.retain_on_delete, staging.urn


STATEFUL_URNS = {
    "pulumi-python:dynamic/supabase:Project": "platform:supabase:Database$"
    "pulumi-python:dynamic/supabase:Project::acme-web-production-database-project",
    "github:index/repository:Repository": "platform:github:AppRepository$"
    "github:index/repository:Repository::acme-web-repository",
    "vercel:index/project:Project": "platform:vercel:Hosting$"
    "vercel:index/project:Project::acme-web-production-hosting-project",
    "sentry:index/sentryProject:SentryProject": "platform:sentry:Monitoring$"
    "sentry:index/sentryProject:SentryProject::acme-web-production-monitoring-project",
    "sentry:index/sentryTeam:SentryTeam": "platform:sentry:Monitoring$"
    "sentry:index/sentryTeam:SentryTeam::acme-web-production-monitoring-team",
}
"""Production's stateful resources: a new URN means delete and recreate, so a rename of a
resource or component needs an `alias` (CONVENTIONS.md rule 2)."""


@pytest.mark.parametrize(("type_", "urn"), sorted(STATEFUL_URNS.items()))
def test_stateful_urns_are_pinned_and_protected(inventory: Inv, type_: str, urn: str) -> None:
    resource = inventory("production").one(type_)
    assert resource.urn == f"urn:pulumi:production::webapp-platform::{urn}"
    assert resource.protect, f"{resource.urn} must be protected in production"


def test_database_values_flow_as_secrets_into_github(inventory: Inv) -> None:
    secrets = {
        r.inputs["secretName"]: r
        for r in inventory("production").of_type(
            "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret"
        )
    }
    assert isinstance(secrets["SUPABASE_DB_URL"].inputs["value"], Secret)


def test_backup_state_is_exported(stack_inventory: Inventory) -> None:
    assert "databaseBackups" in stack_inventory.outputs
    assert "supabaseUrl" in stack_inventory.outputs
