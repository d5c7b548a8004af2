"""Each stack's Supabase resources, asserted as an inventory (rules S1, S3, S4, S12, S13,
R5) and the wiring of the connection strings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, cast

import pulumi
import pytest

from components.reader import ConfigError
from components.supabase.api import connection_string
from components.supabase.database import Database, DatabaseArgs
from components.supabase.facts import (
    AUTH_CONFIG,
    DATABASE_PASSWORD,
    NETWORK_RESTRICTIONS,
    POOLER,
    PROJECT,
    SECRET_FIELDS,
    SSL_ENFORCEMENT,
    resource_type,
)
from tests.conftest import TEST_SECRETS
from tools.recorder import (
    Inventory,
    Registration,
    Secret,
    record,
    stack_config,
    stack_config_with,
)

Inv = Callable[[str], Inventory]

PASSWORD = "random:index/randomPassword:RandomPassword"
GITHUB_SECRET = "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret"
VERCEL_VARIABLES = "vercel:index/projectEnvironmentVariables:ProjectEnvironmentVariables"
NS = "webapp-platform:"


def one(inventory: Inventory, kind: str) -> Registration:
    return inventory.one(resource_type(kind))


def production_with(**changes: Any) -> dict[str, Any]:
    return stack_config_with("production", **changes)


def refused(config: dict[str, Any], secrets: dict[str, str] = TEST_SECRETS) -> str:
    with pytest.raises(ConfigError) as caught:
        record("production", config=config, secrets=secrets)
    return str(caught.value)


# --------------------------------------------------------------------------- inventory

LAYOUT = {
    "production": {
        PASSWORD: "acme-web-production-database-password",
        resource_type(PROJECT): "acme-web-production-database-project",
        resource_type(DATABASE_PASSWORD): "acme-web-production-database-postgres-password",
        resource_type(POOLER): "acme-web-production-database-pooler",
        resource_type(SSL_ENFORCEMENT): "acme-web-production-database-ssl-enforcement",
        resource_type(NETWORK_RESTRICTIONS): "acme-web-production-database-network-restrictions",
        resource_type(AUTH_CONFIG): "acme-web-production-database-auth",
    },
    "staging": {
        PASSWORD: "acme-web-staging-database-password",
        resource_type(PROJECT): "acme-web-staging-database-project",
        resource_type(DATABASE_PASSWORD): "acme-web-staging-database-postgres-password",
        resource_type(POOLER): "acme-web-staging-database-pooler",
        resource_type(SSL_ENFORCEMENT): "acme-web-staging-database-ssl-enforcement",
        resource_type(AUTH_CONFIG): "acme-web-staging-database-auth",
    },
}
"""Every child of each stack's Database component: staging has no network restrictions
(its database is reachable from anywhere, which only staging may be)."""


@pytest.mark.parametrize("stack", sorted(LAYOUT))
def test_each_stack_plans_its_supabase_resources(inventory: Inv, stack: str) -> None:
    inv = inventory(stack)
    component = inv.one("platform:supabase:Database", f"acme-web-{stack}-database")
    children = {r.type: r.name for r in inv.resources if r.parent == component.urn}
    assert children == LAYOUT[stack], component.urn


def test_each_stack_owns_its_own_project(inventory: Inv) -> None:
    staging, production = one(inventory("staging"), PROJECT), one(inventory("production"), PROJECT)
    assert staging.inputs["name"] == "acme-web-staging-db", staging.urn
    assert production.inputs["name"] == "acme-web-production-db", production.urn
    assert staging.inputs["organization_slug"] == production.inputs["organization_slug"]


def test_settings_resources_belong_to_their_stacks_project(stack_inventory: Inventory) -> None:
    project = one(stack_inventory, PROJECT)
    attached = [
        r
        for r in stack_inventory.resources
        if r.type.startswith("pulumi-python:dynamic/supabase:") and r is not project
    ]
    assert len(attached) >= 4
    for r in attached:
        # Under the mocks a resource's id is its name + "-id": the project's own id.
        assert r.inputs["project_ref"] == f"{project.name}-id", r.urn


def test_project_and_pooler_settings_from_config(inventory: Inv) -> None:
    production = inventory("production")
    project = one(production, PROJECT)
    assert (project.inputs["region"], project.inputs["desired_instance_size"]) == (
        "us-east-1",
        "small",
    ), project.urn
    pooler = one(production, POOLER)
    assert (pooler.inputs["pool_mode"], pooler.inputs["default_pool_size"]) == (
        "transaction",
        20,
    ), pooler.urn
    removed = {"pool_mode", "ssl_enforced", "allowed_cidrs", "mailer_autoconfirm", "site_url"}
    assert not removed & set(project.inputs), "settings belong to their own resources now"


# --------------------------------------------------------------------------- S1


def test_s1_production_ssl_and_restricted_networks(inventory: Inv) -> None:
    production = inventory("production")
    ssl = one(production, SSL_ENFORCEMENT)
    assert ssl.inputs["enforced"] is True, ssl.urn
    network = one(production, NETWORK_RESTRICTIONS)
    assert network.inputs["allowed_cidrs"] == ["203.0.113.0/24", "2001:db8:1234::/48"]
    assert not {"0.0.0.0/0", "::/0"} & set(network.inputs["allowed_cidrs"])
    assert one(inventory("staging"), SSL_ENFORCEMENT).inputs["enforced"] is True


def _vercel_keys(inventory: Inventory) -> set[str]:
    variables = inventory.one(VERCEL_VARIABLES).inputs["variables"]
    return {v["key"] for v in variables}


def _github_secrets(inventory: Inventory) -> dict[str, Registration]:
    return {r.inputs["secretName"]: r for r in inventory.of_type(GITHUB_SECRET)}


def test_s1_the_access_path_decides_who_gets_a_connection_string(inventory: Inv) -> None:
    """Production reads through the Data API behind tight networks: no Postgres URL for
    Vercel or CI. Staging is unrestricted: its functions and CI connect directly."""
    production, staging = inventory("production"), inventory("staging")
    assert "DATABASE_URL" not in _vercel_keys(production)
    assert "SUPABASE_DB_URL" not in _github_secrets(production)
    network = one(production, NETWORK_RESTRICTIONS)
    assert (network.inputs["app_egress_cidrs"], network.inputs["ci_egress_cidrs"]) == ([], [])
    assert "DATABASE_URL" in _vercel_keys(staging)
    assert isinstance(_github_secrets(staging)["SUPABASE_DB_URL"].inputs["value"], Secret)


def test_s1_direct_access_needs_the_apps_egress_allowed() -> None:
    direct = production_with(supabaseDatabaseAccess="direct")
    message = refused(direct)
    assert "supabaseAppEgressCidrs: [] is not allowed" in message
    assert "supabaseDatabaseAccess" in message and "supabaseAllowedCidrs" in message
    outside = production_with(
        supabaseDatabaseAccess="direct", supabaseAppEgressCidrs=["198.51.100.7/32"]
    )
    assert (
        'supabaseAppEgressCidrs: ["198.51.100.7/32"] is not allowed; expected networks inside'
        in (refused(outside))
    )
    inside = production_with(
        supabaseDatabaseAccess="direct", supabaseAppEgressCidrs=["203.0.113.64/28"]
    )
    inv = record("production", config=inside, secrets=TEST_SECRETS)
    assert "DATABASE_URL" in _vercel_keys(inv)
    assert one(inv, NETWORK_RESTRICTIONS).inputs["app_egress_cidrs"] == ["203.0.113.64/28"]


def test_s1_ci_gets_the_direct_url_only_with_its_egress_allowed() -> None:
    inv = record(
        "production",
        config=production_with(supabaseCiEgressCidrs=["2001:db8:1234:5::/64"]),
        secrets=TEST_SECRETS,
    )
    assert isinstance(_github_secrets(inv)["SUPABASE_DB_URL"].inputs["value"], Secret)
    assert one(inv, NETWORK_RESTRICTIONS).inputs["ci_egress_cidrs"] == ["2001:db8:1234:5::/64"]
    message = refused(production_with(supabaseCiEgressCidrs=["192.0.2.0/24"]))
    assert "supabaseCiEgressCidrs" in message and "inside supabaseAllowedCidrs" in message


def test_s1_data_api_declares_no_app_egress() -> None:
    message = refused(production_with(supabaseAppEgressCidrs=["203.0.113.64/28"]))
    assert "supabaseAppEgressCidrs" in message and "data-api" in message


@pytest.mark.parametrize("cidr", ["0.0.0.0/0", "::/0"])
def test_s1_production_refuses_open_networks(cidr: str) -> None:
    message = refused(production_with(supabaseAllowedCidrs=["203.0.113.0/24", cidr]))
    assert "supabaseAllowedCidrs" in message


# --------------------------------------------------------------------------- S3, S13


def test_s3_auth_confirmations_and_otp_expiry(stack_inventory: Inventory) -> None:
    auth = one(stack_inventory, AUTH_CONFIG)
    assert auth.inputs["mailer_autoconfirm"] is False, auth.urn
    assert auth.inputs["mailer_otp_exp"] <= 3600, auth.urn
    domain = stack_inventory.outputs["domain"]
    assert auth.inputs["site_url"] == f"https://{domain}", auth.urn
    assert auth.inputs["uri_allow_list"][0] == f"https://{domain}", auth.urn


def test_s13_production_sends_auth_mail_through_its_own_smtp(inventory: Inv) -> None:
    auth = one(inventory("production"), AUTH_CONFIG)
    expected = {
        "smtp_host": "smtp.your-domain.com",
        "smtp_port": 587,
        "smtp_user": "supabase-auth",
        "smtp_sender_name": "Acme",
        "smtp_admin_email": "no-reply@your-domain.com",
        "rate_limit_email_sent": 30,
    }
    assert {k: auth.inputs[k] for k in expected} == expected, auth.urn
    assert auth.inputs["smtp_pass"] == Secret(TEST_SECRETS["supabaseSmtpPassword"]), auth.urn
    assert "smtp_pass" in auth.additional_secret_outputs


def test_s13_staging_keeps_the_built_in_mailer_and_its_fixed_limit(inventory: Inv) -> None:
    auth = one(inventory("staging"), AUTH_CONFIG)
    assert not {k for k in auth.inputs if k.startswith("smtp_")}, auth.urn
    assert "rate_limit_email_sent" not in auth.inputs, "Supabase fixes the built-in mailer's"


def test_s13_production_with_confirmations_refuses_the_built_in_mailer() -> None:
    message = refused(production_with(supabaseSmtpHost=None))
    assert "supabaseSmtpHost: '' is not allowed" in message and "rule S13" in message
    assert "supabaseSmtpPassword" in message
    without_confirmations = production_with(supabaseSmtpHost=None, supabaseEmailConfirmations=False)
    inv = record("production", config=without_confirmations, secrets=TEST_SECRETS)
    assert one(inv, AUTH_CONFIG).inputs["mailer_autoconfirm"] is True


def test_s13_the_smtp_password_is_required_where_secrets_are_read() -> None:
    secrets = {k: v for k, v in TEST_SECRETS.items() if k != "supabaseSmtpPassword"}
    message = refused(stack_config("production"), secrets)
    assert "supabaseSmtpPassword: missing; this key is required" in message
    assert "pulumi config set --secret supabaseSmtpPassword" in message
    assert TEST_SECRETS["supabaseSmtpPassword"] not in message


def test_smtp_settings_come_together() -> None:
    message = refused(production_with(supabaseSmtpUser=None, supabaseSmtpAdminEmail=None))
    assert "supabaseSmtpUser: '' is not allowed; expected a value when supabaseSmtpHost" in message
    assert "supabaseSmtpAdminEmail" in message


def test_auth_rate_limits_from_config(inventory: Inv) -> None:
    auth = one(inventory("production"), AUTH_CONFIG)
    limits = {k: v for k, v in auth.inputs.items() if k.startswith("rate_limit_")}
    assert limits == {
        "rate_limit_email_sent": 30,
        "rate_limit_verify": 30,
        "rate_limit_token_refresh": 150,
        "rate_limit_otp": 30,
        "rate_limit_anonymous_users": 30,
    }
    changed = production_with(supabaseAuthRateLimitOtp=10)
    inv = record("production", config=changed, secrets=TEST_SECRETS)
    assert one(inv, AUTH_CONFIG).inputs["rate_limit_otp"] == 10
    assert "supabaseAuthRateLimitOtp: 0 is not allowed" in refused(
        production_with(supabaseAuthRateLimitOtp=0)
    )


# --------------------------------------------------------------------------- S4


def test_s4_production_requires_point_in_time_recovery(inventory: Inv) -> None:
    assert one(inventory("production"), PROJECT).inputs["pitr_required"] is True
    assert one(inventory("staging"), PROJECT).inputs["pitr_required"] is False
    config = production_with(supabasePointInTimeRecovery=False)
    assert "supabasePitrWaiver" in refused(config)
    config[NS + "supabasePitrWaiver"] = "daily backups suffice for this app"
    inv = record("production", config=config, secrets=TEST_SECRETS)
    assert one(inv, PROJECT).inputs["pitr_required"] is False


# --------------------------------------------------------------------------- password, R5


def test_password_is_generated_secret_and_set_through_its_own_resource(
    stack_inventory: Inventory,
) -> None:
    generated = stack_inventory.one(PASSWORD, f"acme-web-{stack_inventory.stack}-database-password")
    assert generated.inputs["length"] >= 32, generated.urn
    assert generated.inputs["special"] is False, generated.urn
    assert isinstance(one(stack_inventory, PROJECT).inputs["db_pass"], Secret)
    password = one(stack_inventory, DATABASE_PASSWORD)
    assert isinstance(password.inputs["password"], Secret), password.urn
    assert password.inputs["rotate_adopted"] is False
    assert "existing_password" not in password.inputs


def test_r5_an_imported_project_needs_its_password_or_an_explicit_rotation() -> None:
    adopt = production_with(supabaseProjectImportId="abcdefghijklmnopqrst")
    message = refused(adopt)
    assert "supabaseExistingDbPassword: missing; this key is required" in message
    assert "supabaseRotateAdoptedPassword=true" in message

    existing = {**TEST_SECRETS, "supabaseExistingDbPassword": "the-current-db-password-1"}
    inv = record("production", config=adopt, secrets=existing)
    assert one(inv, PROJECT).import_id == "abcdefghijklmnopqrst"
    password = one(inv, DATABASE_PASSWORD)
    assert password.inputs["existing_password"] == Secret("the-current-db-password-1")

    rotate = {**adopt, NS + "supabaseRotateAdoptedPassword": True}
    inv = record("production", config=rotate, secrets=TEST_SECRETS)
    assert one(inv, DATABASE_PASSWORD).inputs["rotate_adopted"] is True


def test_access_token_is_a_secret_input_of_every_supabase_resource(
    stack_inventory: Inventory,
) -> None:
    token = Secret(TEST_SECRETS["supabaseAccessToken"])
    for kind in LAYOUT["production"]:
        if kind.startswith("pulumi-python:") and kind in {
            r.type for r in stack_inventory.resources
        }:
            resource = stack_inventory.one(kind)
            assert resource.inputs["access_token"] == token, resource.urn


def test_secret_outputs_declared(stack_inventory: Inventory) -> None:
    for kind, fields in SECRET_FIELDS.items():
        found = stack_inventory.of_type(resource_type(kind))
        for resource in found:
            assert set(fields) <= set(resource.additional_secret_outputs), resource.urn


def test_production_keeps_its_data_staging_can_be_deleted(inventory: Inv) -> None:
    production, staging = one(inventory("production"), PROJECT), one(inventory("staging"), PROJECT)
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


def test_backup_state_is_exported(stack_inventory: Inventory) -> None:
    assert "databaseBackups" in stack_inventory.outputs
    assert "supabaseUrl" in stack_inventory.outputs


# --------------------------------------------------------------------------- connection strings


def test_connection_string_quotes_user_and_password() -> None:
    assert connection_string("postgres.abc", "p@ss/w:rd", "db.test", 6543, "postgres") == (
        "postgresql://postgres.abc:p%40ss%2Fw%3Ard@db.test:6543/postgres?sslmode=require"
    )
    with pytest.raises(ValueError, match="no password, host recorded"):
        connection_string("postgres", None, None, 5432, "postgres")


class _Mocks(pulumi.runtime.Mocks):
    """Dynamic resources answer with fixed outputs, as after a real create."""

    OUTPUTS: ClassVar[dict[str, dict[str, Any]]] = {
        resource_type(PROJECT): {"db_host": "db.ref.supabase.co", "adopted": False},
        resource_type(DATABASE_PASSWORD): {"password": "recorded-pass"},
        resource_type(POOLER): {
            "db_host": "pooler.test",
            "db_port": 6543,
            "db_user": "postgres.ref",
            "db_name": "postgres",
        },
    }

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        return f"{args.name}-id", {**args.inputs, **self.OUTPUTS.get(args.typ, {})}

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


_run_under_mocks = cast(
    Callable[[Callable[[], pulumi.Output[Any]]], Callable[[], None]], pulumi.runtime.test
)


def test_connection_strings_carry_the_recorded_password_and_depend_on_it() -> None:
    """Consumers only ever see a password the API accepted: the one DatabasePassword
    recorded (not the generated input), and they depend on that resource."""
    pulumi.runtime.set_mocks(_Mocks(), preview=False)

    def program() -> pulumi.Output[Any]:
        database = Database(
            "db",
            DatabaseArgs(
                project_name="app-staging-db",
                organization_slug="acme",
                region="us-east-1",
                instance_size="micro",
                site_url="https://staging.example.com",
                pool_mode="transaction",
                default_pool_size=15,
                otp_expiry_seconds=3600,
            ),
        )
        pooled, direct = database.pooled_connection_string, database.direct_connection_string

        async def dependencies(output: pulumi.Output[Any]) -> set[str]:
            return {await r.urn.future() or "" for r in await output.resources()}

        async def secret(output: pulumi.Output[Any]) -> bool:
            return await output.is_secret()

        def check(values: list[Any]) -> None:
            pooled_url, direct_url, pooled_deps, direct_deps, secret = values
            assert pooled_url == (
                "postgresql://postgres.ref:recorded-pass@pooler.test:6543/postgres?sslmode=require"
            )
            assert direct_url == (
                "postgresql://postgres:recorded-pass@db.ref.supabase.co:5432/postgres"
                "?sslmode=require"
            )
            assert any(urn.endswith("::db-postgres-password") for urn in pooled_deps)
            assert any(urn.endswith("::db-pooler") for urn in pooled_deps)
            assert any(urn.endswith("::db-postgres-password") for urn in direct_deps)
            assert any(urn.endswith("::db-project") for urn in direct_deps)
            assert secret is True

        awaited: list[Any] = [dependencies(pooled), dependencies(direct), secret(pooled)]
        return pulumi.Output.all(pooled, direct, *map(pulumi.Output.from_input, awaited)).apply(
            check
        )

    _run_under_mocks(program)()
