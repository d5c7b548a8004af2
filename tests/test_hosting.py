"""Vercel hosting: the project, domains, variables, firewall and log drain of each stack.

Inventory tests run the whole program per stack (`inventory`). The stacks do not wire the
Supabase and Sentry values yet, so `full_inventory` also runs a small program that gives
`Hosting` every runtime value, secrets included, to check rule S8 where it matters.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import pulumi
import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.config import Settings, load_settings
from components.platform import content_security_policy
from components.reader import ConfigError, project_name
from components.vercel.facts import DEPLOYMENT_TYPES
from components.vercel.variables import (
    AppRuntimeValues,
    check_variable,
    env_var_name_problem,
    runtime_variables,
)
from components.vercel.vercel_json import default_content_security_policy, render_vercel_json
from tests.conftest import STACKS, TEST_SECRETS
from tools.recorder import ROOT, Inventory, Registration, Secret, record, stack_config

HOSTING = "platform:vercel:Hosting"
PROJECT = "vercel:index/project:Project"
DOMAIN = "vercel:index/projectDomain:ProjectDomain"
ENV = "vercel:index/projectEnvironmentVariables:ProjectEnvironmentVariables"
FIREWALL = "vercel:index/firewallConfig:FirewallConfig"
LOG_DRAIN = "vercel:index/logDrain:LogDrain"
BYPASS = "vercel:index/projectProtectionBypass:ProjectProtectionBypass"
GITHUB_VARIABLE = "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable"
GITHUB_SECRET = "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret"
REPOSITORY_FILE = "github:index/repositoryFile:RepositoryFile"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"

ALL_RUNTIME_KEYS = {
    "NEXT_PUBLIC_SUPABASE_URL",
    "NEXT_PUBLIC_SUPABASE_ANON_KEY",
    "SUPABASE_SERVICE_ROLE_KEY",
    "DATABASE_URL",
    "SENTRY_DSN",
    "NEXT_PUBLIC_SENTRY_DSN",
    "NEXT_PUBLIC_POSTHOG_KEY",
    "NEXT_PUBLIC_POSTHOG_HOST",
}

SERVICE_ROLE = "test-service-role-key-not-real"
DATABASE_URL = "postgresql://postgres.test:not-a-real-password@pooler.test:6543/postgres"
ANON_KEY = "test-anon-key-public-by-design"
SENTRY_DSN = "https://0123abcd@o1.ingest.us.sentry.io/42"
BROWSER_DSN = "https://4567ef01@o1.ingest.us.sentry.io/42"

# A program giving Hosting every runtime value the way other components will: the anon key
# and DSN arrive as secrets (public by design, so Hosting unsecrets them), the service-role
# key arrives plain (so Hosting must make it secret).
FULL_PROGRAM = f"""
import pulumi
import pulumiverse_vercel as vercel

from components.config import settings_from_pulumi
from components.platform import hosting_args
from components.vercel.hosting import Hosting
from components.vercel.variables import AppRuntimeValues

settings, _ = settings_from_pulumi()
runtime = AppRuntimeValues(
    supabase_url=pulumi.Output.from_input("https://abcdefghijklmnopqrst.supabase.co"),
    supabase_anon_key=pulumi.Output.secret({ANON_KEY!r}),
    supabase_service_role_key=pulumi.Output.from_input({SERVICE_ROLE!r}),
    database_url=pulumi.Output.secret({DATABASE_URL!r}),
    sentry_dsn=pulumi.Output.secret({SENTRY_DSN!r}),
    sentry_browser_dsn=pulumi.Output.secret({BROWSER_DSN!r}),
    posthog_key=pulumi.Output.from_input(settings.posthog.project_key),
    posthog_host=pulumi.Output.from_input(settings.posthog.host),
)
hosting = Hosting(
    settings.name("hosting"),
    hosting_args(settings, runtime),
    opts=pulumi.ResourceOptions(provider=vercel.Provider("vercel")),
)
pulumi.export("vercelProjectId", hosting.project_id)
"""


def _settings(stack: str) -> Settings:
    prefix = f"{project_name()}:"
    raw = {k[len(prefix) :]: v for k, v in stack_config(stack).items() if k.startswith(prefix)}
    return load_settings(stack, raw)


@pytest.fixture(scope="session")
def full_inventory(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Inventory]:
    root: Path = tmp_path_factory.mktemp("full-hosting")
    for name in ("Pulumi.yaml", *(f"Pulumi.{stack}.yaml" for stack in STACKS)):
        shutil.copy(ROOT / name, root / name)
    (root / "__main__.py").write_text(FULL_PROGRAM)

    @cache
    def run(stack: str) -> Inventory:
        return record(stack, secrets=TEST_SECRETS, root=root)

    return run


def _project(inv: Inventory) -> Registration:
    return inv.one(PROJECT)


def _variables(inv: Inventory) -> list[tuple[Registration, dict[str, Any]]]:
    return [(r, entry) for r in inv.of_type(ENV) for entry in r.inputs["variables"]]


def _unwrap(value: Any) -> Any:
    return value.value if isinstance(value, Secret) else value


# --------------------------------------------------------------------------- the project


@pytest.mark.parametrize("stack", STACKS)
def test_one_project_per_stack_named_from_config(
    inventory: Callable[[str], Inventory], stack: str
) -> None:
    inv, settings = inventory(stack), _settings(stack)
    project = _project(inv)
    v = settings.vercel
    expected = {
        "name": f"{settings.app}-{stack}-web",
        "teamId": v.team_id,
        "framework": v.framework,
        "nodeVersion": v.node_version,
        "resourceConfig": {"functionDefaultRegions": [v.function_region]},
        "skewProtection": "12 hours",
        "automaticallyExposeSystemEnvironmentVariables": True,
    }
    for key, value in expected.items():
        assert project.inputs.get(key) == value, f"{project.urn}: {key}"
    # Empty build settings mean "the framework's default": not sent at all.
    for key in ("buildCommand", "installCommand", "outputDirectory", "rootDirectory"):
        assert key not in project.inputs, f"{project.urn}: {key} should be omitted"
    hosting = inv.one(HOSTING)
    assert project.parent == hosting.urn, project.urn


@pytest.mark.parametrize("stack", STACKS)
def test_children_named_after_the_component(
    inventory: Callable[[str], Inventory], stack: str
) -> None:
    inv = inventory(stack)
    hosting = inv.one(HOSTING)
    children = [r for r in inv.resources if r.parent == hosting.urn]
    assert len(children) >= 4, hosting.urn
    for child in children:
        assert child.name.startswith(f"{hosting.name}-"), child.urn
        if child.type.startswith("vercel:"):
            assert "pulumi:providers:vercel::vercel::" in child.provider, child.urn
            assert child.inputs.get("teamId") == _settings(stack).vercel.team_id, child.urn
    provider = inv.one("pulumi:providers:vercel")
    # A `team` on the provider would be resolved by a lookup, which breaks offline previews.
    assert "team" not in provider.inputs, provider.urn
    assert "apiToken" not in provider.inputs, provider.urn


@pytest.mark.parametrize("stack", STACKS)
def test_project_is_not_linked_to_git(inventory: Callable[[str], Inventory], stack: str) -> None:
    project = _project(inventory(stack))
    assert "gitRepository" not in project.inputs, f"{project.urn}: deploys come from deploy.yml"


@pytest.mark.parametrize("stack", STACKS)
def test_s6_deployment_protection_and_no_public_source(
    inventory: Callable[[str], Inventory], stack: str
) -> None:
    project = _project(inventory(stack))
    protection = project.inputs.get("vercelAuthentication", {}).get("deploymentType")
    # `standard_protection` is the provider's *legacy* scope (the current production
    # deployment's generated URLs stay public); Standard Protection is `..._new`.
    assert protection in ("standard_protection_new", "all_deployments"), project.urn
    assert protection == DEPLOYMENT_TYPES[_settings(stack).vercel.deployment_protection], (
        project.urn
    )
    assert project.inputs.get("publicSource") is not True, project.urn
    assert project.inputs.get("protectedSourcemaps") is True, project.urn


@pytest.mark.parametrize("stack", STACKS)
def test_s7_git_fork_protection(inventory: Callable[[str], Inventory], stack: str) -> None:
    project = _project(inventory(stack))
    assert project.inputs.get("gitForkProtection") is True, project.urn


def test_previews_only_in_staging(inventory: Callable[[str], Inventory]) -> None:
    staging, production = _project(inventory("staging")), _project(inventory("production"))
    assert staging.inputs.get("previewDeploymentsDisabled") is False, staging.urn
    assert production.inputs.get("previewDeploymentsDisabled") is True, production.urn


def test_project_protected_in_production_only(inventory: Callable[[str], Inventory]) -> None:
    production, staging = _project(inventory("production")), _project(inventory("staging"))
    assert production.protect, production.urn
    assert not staging.protect, staging.urn
    assert not production.import_id and not staging.import_id, "no import id configured"


@pytest.fixture(scope="module")
def adopted() -> Inventory:
    """Production adopting an existing project, with Trusted IPs."""
    config = stack_config("production")
    namespace = project_name()
    config[f"{namespace}:vercelProjectImportId"] = "prj_AbCdEfGhIjKlMnOpQrStUv12"
    config[f"{namespace}:vercelTrustedIps"] = ["203.0.113.0/24"]
    return record("production", config=config, secrets=TEST_SECRETS)


def test_existing_project_is_imported(adopted: Inventory) -> None:
    project = _project(adopted)
    assert project.import_id == "team_4cMeCorpPlatform0001/prj_AbCdEfGhIjKlMnOpQrStUv12", (
        project.urn
    )


def test_trusted_ips_when_configured(
    adopted: Inventory, inventory: Callable[[str], Inventory]
) -> None:
    project = _project(adopted)
    assert project.inputs["trustedIps"] == {
        "addresses": [{"value": "203.0.113.0/24"}],
        "deploymentType": "standard_protection_new",
        "protectionMode": "trusted_ip_required",
    }, project.urn
    plain = _project(inventory("production"))
    assert "trustedIps" not in plain.inputs, plain.urn


# --------------------------------------------------------------------------- domains


def test_production_domain_and_www_redirect(inventory: Callable[[str], Inventory]) -> None:
    inv = inventory("production")
    domains = {r.inputs["domain"]: r for r in inv.of_type(DOMAIN)}
    assert set(domains) == {"your-domain.com", "www.your-domain.com"}, list(domains)
    apex, www = domains["your-domain.com"], domains["www.your-domain.com"]
    assert "redirect" not in apex.inputs, apex.urn
    assert www.inputs.get("redirect") == "your-domain.com", www.urn
    assert www.inputs.get("redirectStatusCode") == 308, www.urn
    for domain in domains.values():
        assert domain.inputs["projectId"] == f"{inv.one(HOSTING).name}-project-id", domain.urn


def test_staging_serves_its_own_domain_only(inventory: Callable[[str], Inventory]) -> None:
    domains = inventory("staging").of_type(DOMAIN)
    assert [d.inputs["domain"] for d in domains] == ["staging.your-domain.com"], [
        d.urn for d in domains
    ]


# --------------------------------------------------------------------------- variables


def test_stacks_register_every_runtime_value(inventory: Callable[[str], Inventory]) -> None:
    for stack in STACKS:
        settings = _settings(stack)
        entries = {entry["key"]: entry for _, entry in _variables(inventory(stack))}
        # DATABASE_URL only where the app connects to Postgres directly (rule S1).
        direct = settings.supabase.app_connects_directly
        expected = ALL_RUNTIME_KEYS if direct else ALL_RUNTIME_KEYS - {"DATABASE_URL"}
        assert set(entries) == expected, stack
        assert entries["NEXT_PUBLIC_POSTHOG_KEY"]["value"] == settings.posthog.project_key, stack


@pytest.mark.parametrize("stack", STACKS)
def test_all_runtime_values_become_variables(
    full_inventory: Callable[[str], Inventory], stack: str
) -> None:
    keys = {entry["key"] for _, entry in _variables(full_inventory(stack))}
    assert keys == ALL_RUNTIME_KEYS, stack


@pytest.mark.parametrize("stack", STACKS)
def test_s8_secrets_sensitive_and_never_public(
    full_inventory: Callable[[str], Inventory], stack: str
) -> None:
    entries = _variables(full_inventory(stack))
    for resource, entry in entries:
        where = f"{resource.urn} {entry['key']}"
        assert isinstance(entry.get("sensitive"), bool), f"{where}: sensitive must be explicit"
        secret = isinstance(entry["value"], Secret)
        assert entry["sensitive"] == secret, f"{where}: a secret value is sensitive, and only it"
        if entry["key"].startswith("NEXT_PUBLIC_"):
            assert not secret and not entry["sensitive"], f"{where}: secret under NEXT_PUBLIC_"
    by_key = {entry["key"]: entry for _, entry in entries}
    for key, value in (
        ("SUPABASE_SERVICE_ROLE_KEY", SERVICE_ROLE),
        ("DATABASE_URL", DATABASE_URL),
        ("SENTRY_DSN", SENTRY_DSN),
    ):
        assert by_key[key]["value"] == Secret(value), f"{stack} {key}: must be a Pulumi secret"
        assert by_key[key]["sensitive"] is True, f"{stack} {key}"
    # Public by design: arrives as a secret, is published deliberately as plain text.
    assert by_key["NEXT_PUBLIC_SUPABASE_ANON_KEY"]["value"] == ANON_KEY, stack
    assert by_key["NEXT_PUBLIC_SENTRY_DSN"]["value"] == BROWSER_DSN, stack


def test_variable_targets_per_stack(full_inventory: Callable[[str], Inventory]) -> None:
    for resource, entry in _variables(full_inventory("production")):
        assert entry["targets"] == ["production"], f"{resource.urn} {entry['key']}"
    for resource, entry in _variables(full_inventory("staging")):
        expected = ["preview", "production"] + ([] if entry["sensitive"] else ["development"])
        assert entry["targets"] == expected, f"{resource.urn} {entry['key']}"


@pytest.mark.parametrize("stack", STACKS)
def test_development_never_gets_secrets(
    full_inventory: Callable[[str], Inventory], stack: str
) -> None:
    for resource, entry in _variables(full_inventory(stack)):
        if entry["sensitive"] or isinstance(entry["value"], Secret):
            assert "development" not in entry["targets"], f"{resource.urn} {entry['key']}"


def test_secret_under_public_prefix_is_refused() -> None:
    with pytest.raises(ValueError, match="NEXT_PUBLIC_"):
        check_variable("NEXT_PUBLIC_SERVICE_ROLE_KEY", secret=True)
    check_variable("NEXT_PUBLIC_SUPABASE_URL", secret=False)
    check_variable("DATABASE_URL", secret=True)
    with pytest.raises(ValueError, match="VERCEL_"):
        check_variable("VERCEL_TOKEN", secret=True)


def test_runtime_variables_skip_absent_values() -> None:
    assert runtime_variables(AppRuntimeValues()) == []
    variables = runtime_variables(
        AppRuntimeValues(database_url=pulumi.Output.from_input("postgresql://x"))
    )
    assert [(v.key, v.secret) for v in variables] == [("DATABASE_URL", True)]


# --------------------------------------------------------------------------- env var names


@pytest.mark.parametrize(
    "name", ["DATABASE_URL", "NEXT_PUBLIC_SUPABASE_URL", "_PRIVATE", "a1", "AWS_REGION"]
)
def test_env_var_name_allowed(name: str) -> None:
    assert env_var_name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("1ST", "not starting with a digit"),
        ("MY-VAR", "letters, digits and underscores"),
        ("", "letters, digits and underscores"),
        ("SPACE VAR", "letters, digits and underscores"),
        ("TZ", "reserved"),
        ("NOW_REGION", "reserved"),
        ("AWS_LAMBDA_FUNCTION_NAME", "reserved"),
        ("VERCEL_URL", "system variables"),
        ("NEXT_PUBLIC_VERCEL_ENV", "system variables"),
        ("X" * 257, "at most 256"),
    ],
)
def test_env_var_name_refused(name: str, reason: str) -> None:
    problem = env_var_name_problem(name)
    assert problem is not None and reason in problem, (name, problem)


@given(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,40}", fullmatch=True))
def test_env_var_name_fuzz(name: str) -> None:
    problem = env_var_name_problem(name)
    reserved = name.startswith(("VERCEL_", "NEXT_PUBLIC_VERCEL_")) or name in ("TZ", "NOW_REGION")
    if not reserved and not name.startswith(("AWS_", "LAMBDA_")):
        assert problem is None, name


@given(st.text(min_size=1, max_size=3).map(lambda s: "9" + s))
def test_env_var_name_leading_digit_fuzz(name: str) -> None:
    assert env_var_name_problem(name) is not None, name


# --------------------------------------------------------------------------- firewall, logs


@pytest.mark.parametrize("stack", STACKS)
def test_s9_rate_limit_on_api(inventory: Callable[[str], Inventory], stack: str) -> None:
    inv, v = inventory(stack), _settings(stack).vercel
    firewall = inv.one(FIREWALL)
    assert firewall.inputs.get("enabled") is True, firewall.urn
    assert firewall.inputs["projectId"] == f"{inv.one(HOSTING).name}-project-id", firewall.urn
    rules = [
        rule
        for rule in firewall.inputs["rules"]["rules"]
        if rule["action"]["action"] == "rate_limit" and rule.get("active") is True
    ]
    assert len(rules) == 1, firewall.urn
    conditions = [c for group in rules[0]["conditionGroups"] for c in group["conditions"]]
    assert {"type": "path", "op": "pre", "value": "/api"} in conditions, firewall.urn
    limit = rules[0]["action"]["rateLimit"]
    assert limit["limit"] == v.rate_limit_requests, firewall.urn
    assert limit["window"] == v.rate_limit_window_seconds, firewall.urn
    assert limit["keys"] == ["ip"] and limit["action"] == "rate_limit", firewall.urn


def test_managed_rulesets_the_plan_allows(inventory: Callable[[str], Inventory]) -> None:
    actions = {}
    for stack in STACKS:
        firewall = inventory(stack).one(FIREWALL)
        managed = firewall.inputs["managedRulesets"]
        # OWASP core rules are Enterprise-only; asking for them fails the update on Pro.
        assert "owasp" not in managed, firewall.urn
        assert managed["botProtection"]["active"] is True, firewall.urn
        assert managed["aiBots"]["active"] is True, firewall.urn
        actions[stack] = managed["botProtection"]["action"]
    assert actions == {"staging": "log", "production": "challenge"}


def test_log_drain_in_production(inventory: Callable[[str], Inventory]) -> None:
    inv = inventory("production")
    drain = inv.one(LOG_DRAIN)
    assert drain.inputs["endpoint"] == _settings("production").vercel.log_drain_endpoint, drain.urn
    assert drain.inputs["projectIds"] == [f"{inv.one(HOSTING).name}-project-id"], drain.urn
    assert drain.inputs["environments"] == ["production"], drain.urn
    assert "firewall" in drain.inputs["sources"], drain.urn
    assert isinstance(drain.inputs["secret"], Secret), f"{drain.urn}: signing secret"
    assert isinstance(inv.outputs["logDrainSecret"], Secret), "logDrainSecret output"
    assert not inventory("staging").of_type(LOG_DRAIN), "staging sets no log drain endpoint"


# --------------------------------------------------------------------------- S10, outputs


def test_s10_protection_bypass_secret(inventory: Callable[[str], Inventory]) -> None:
    staging = inventory("staging")
    bypass = staging.one(BYPASS)
    assert isinstance(bypass.inputs["secret"], Secret), f"{bypass.urn}: plaintext bypass"
    github_secret = next(
        r
        for r in staging.of_type(GITHUB_SECRET)
        if r.inputs["secretName"] == "VERCEL_AUTOMATION_BYPASS_SECRET"
    )
    assert isinstance(github_secret.inputs["value"], Secret), github_secret.urn
    # Production serves no previews and leaves its domain public: nothing to bypass.
    assert not inventory("production").of_type(BYPASS), "production needs no bypass"


@pytest.mark.parametrize("stack", STACKS)
def test_outputs_and_deploy_variables(inventory: Callable[[str], Inventory], stack: str) -> None:
    inv, settings = inventory(stack), _settings(stack)
    project_id = f"{inv.one(HOSTING).name}-project-id"
    assert inv.outputs["vercelProjectId"] == project_id
    assert inv.outputs["productionUrl"] == f"https://{settings.domain}"
    assert inv.outputs["previewUrlPattern"] == f"https://{settings.name('web')}-*.vercel.app"
    variables = {r.inputs["variableName"]: r for r in inv.of_type(GITHUB_VARIABLE)}
    for name, expected in (
        ("VERCEL_PROJECT_ID", project_id),
        ("VERCEL_ORG_ID", settings.vercel.team_id),
    ):
        assert variables[name].inputs["value"] == expected, variables[name].urn


def test_stacks_share_no_vercel_object(inventory: Callable[[str], Inventory]) -> None:
    def identities(stack: str) -> dict[str, set[str]]:
        inv = inventory(stack)
        vercel = [r for r in inv.resources if r.type.startswith("vercel:")]
        return {
            "projects": {r.inputs["name"] for r in inv.of_type(PROJECT)}
            | {r.import_id for r in inv.of_type(PROJECT) if r.import_id},
            "domains": {r.inputs["domain"] for r in inv.of_type(DOMAIN)},
            "project ids": {r.inputs["projectId"] for r in vercel if "projectId" in r.inputs},
            "resource names": {r.name for r in vercel},
        }

    staging, production = identities("staging"), identities("production")
    for kind in staging:
        assert staging[kind], f"staging has no {kind}"
        assert not staging[kind] & production[kind], f"{kind} shared: {staging[kind]}"


def test_vercel_json_committed_by_production_only(inventory: Callable[[str], Inventory]) -> None:
    files = {r.inputs["file"]: r for r in inventory("production").of_type(REPOSITORY_FILE)}
    committed = files["vercel.json"]
    expected = render_vercel_json(content_security_policy(_settings("production")))
    assert committed.inputs["content"] == expected, committed.urn
    staging_files = {r.inputs["file"] for r in inventory("staging").of_type(REPOSITORY_FILE)}
    assert "vercel.json" not in staging_files


def test_no_deprecated_provider_fields(stack_inventory: Inventory) -> None:
    deprecated = [w for w in stack_inventory.warnings if "deprecated" in w]
    assert not deprecated, deprecated


# --------------------------------------------------------------------------- vercel.json


def _headers(document: dict[str, Any]) -> dict[str, str]:
    (block,) = document["headers"]
    assert block["source"] == "/(.*)"
    return {h["key"]: h["value"] for h in block["headers"]}


def test_vercel_json_default() -> None:
    settings = _settings("production")
    text = render_vercel_json(content_security_policy(settings))
    assert text.endswith("\n")
    document = json.loads(text)
    assert document["git"] == {"deploymentEnabled": False}
    headers = _headers(document)
    csp = headers["Content-Security-Policy"]
    assert csp == default_content_security_policy(settings.posthog.host)
    directives = {d.split()[0]: d.split()[1:] for d in csp.split("; ")}
    assert directives["default-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert "'unsafe-eval'" not in csp
    assert "https://*.supabase.co" in directives["connect-src"]
    assert settings.posthog.host in directives["connect-src"]
    assert "upgrade-insecure-requests" in directives
    hsts = headers["Strict-Transport-Security"]
    assert "preload" in hsts and "includeSubDomains" in hsts
    assert int(hsts.split(";")[0].split("=")[1]) >= 31536000
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in headers["Permissions-Policy"]


def test_vercel_json_csp_override() -> None:
    settings = _settings("production")
    custom = "default-src 'self'; script-src 'self' 'nonce-abc'; frame-ancestors 'none'"
    overridden = replace(settings, vercel=replace(settings.vercel, content_security_policy=custom))
    headers = _headers(json.loads(render_vercel_json(content_security_policy(overridden))))
    assert headers["Content-Security-Policy"] == custom
    default = _headers(json.loads(render_vercel_json(content_security_policy(settings))))
    assert headers["Strict-Transport-Security"] == default["Strict-Transport-Security"]


def test_vercel_json_without_posthog() -> None:
    settings = _settings("production")
    no_posthog = replace(settings, posthog=replace(settings.posthog, project_key=""))
    assert "posthog" not in content_security_policy(no_posthog)
    assert "posthog" not in default_content_security_policy()


# --------------------------------------------------------------------------- provider schema
# The mocks accept any input. These are the real provider's validators (the Terraform
# provider pulumiverse-vercel bridges) and the limits Vercel's API enforces, so a value the
# provider or the API would refuse at apply time fails here instead.

CONDITION_TYPES = {
    "host", "path", "method", "header", "query", "cookie", "target_path", "ip_address",
    "region", "protocol", "scheme", "environment", "user_agent", "geo_continent",
    "geo_country", "geo_country_region", "geo_city", "geo_as_number", "ja4_digest",
    "ja3_digest", "rate_limit_api_id",
}  # fmt: skip
CONDITION_OPS = {
    "re", "eq", "neq", "ex", "nex", "inc", "ninc", "pre", "suf", "sub", "gt", "gte", "lt", "lte",
}  # fmt: skip
RULE_ACTIONS = {"bypass", "log", "challenge", "deny", "rate_limit", "redirect"}
RATE_LIMIT_ACTIONS = {"bypass", "log", "challenge", "deny", "rate_limit"}
RATE_LIMIT_KEYS_PRO = {"ip", "ja4"}
"""Counting keys below Enterprise (Vercel WAF rate limiting limits)."""
MANAGED_ACTIONS = {"log", "challenge", "deny"}
SKEW_PROTECTION_VALUES = {"30 minutes", "4 hours", "12 hours", "1 day", "7 days"}
LOG_DRAIN_SOURCES = {"static", "edge", "external", "build", "lambda", "firewall", "redirect"}


@pytest.mark.parametrize("stack", STACKS)
def test_firewall_values_the_provider_accepts(
    inventory: Callable[[str], Inventory], stack: str
) -> None:
    firewall = inventory(stack).one(FIREWALL)
    for rule in firewall.inputs["rules"]["rules"]:
        where = f"{firewall.urn} {rule['name']!r}"
        assert 4 <= len(rule["name"]) <= 160, where
        assert len(rule.get("description", "")) <= 260, where
        assert rule["action"]["action"] in RULE_ACTIONS, where
        for group in rule["conditionGroups"]:
            for condition in group["conditions"]:
                assert condition["type"] in CONDITION_TYPES, (where, condition)
                assert condition["op"] in CONDITION_OPS, (where, condition)
                assert not ("value" in condition and "values" in condition), (where, condition)
        if rule["action"]["action"] == "rate_limit":
            limit = rule["action"]["rateLimit"]
            assert limit["algo"] == "fixed_window", f"{where}: token_bucket is Enterprise-only"
            assert set(limit["keys"]) <= RATE_LIMIT_KEYS_PRO, where
            assert limit["action"] in RATE_LIMIT_ACTIONS, where
            assert 10 <= limit["window"] <= 600, f"{where}: 10 s to 10 min below Enterprise"
            assert limit["limit"] >= 1 and limit["limit"] == int(limit["limit"]), where
    for name, ruleset in firewall.inputs["managedRulesets"].items():
        assert ruleset["action"] in MANAGED_ACTIONS, (firewall.urn, name)


@pytest.mark.parametrize("stack", STACKS)
def test_project_values_the_provider_accepts(
    inventory: Callable[[str], Inventory], stack: str
) -> None:
    project = _project(inventory(stack))
    assert project.inputs["skewProtection"] in SKEW_PROTECTION_VALUES, project.urn
    # Deprecated or removed at Vercel: the provider warns or ignores them.
    for key in ("serverlessFunctionRegion", "publicSource", "previewComments"):
        assert key not in project.inputs, f"{project.urn}: {key}"
    regions = project.inputs["resourceConfig"]["functionDefaultRegions"]
    assert len(regions) == len(set(regions)) >= 1, project.urn


@pytest.mark.parametrize("stack", STACKS)
def test_variables_and_domains_the_provider_accepts(
    inventory: Callable[[str], Inventory], full_inventory: Callable[[str], Inventory], stack: str
) -> None:
    for resource, entry in _variables(full_inventory(stack)):
        where = f"{resource.urn} {entry['key']}"
        assert entry["targets"], where
        assert set(entry["targets"]) <= {"production", "preview", "development"}, where
        assert len(entry["targets"]) == len(set(entry["targets"])), where
        assert len(entry.get("comment", "")) <= 1000, where
        # The provider refuses a sensitive variable that targets development only.
        assert not (entry["sensitive"] and set(entry["targets"]) == {"development"}), where
    for domain in inventory(stack).of_type(DOMAIN):
        if "redirectStatusCode" in domain.inputs:
            assert domain.inputs["redirectStatusCode"] in (301, 302, 307, 308), domain.urn


def test_bypass_and_log_drain_secrets_the_provider_accepts(
    inventory: Callable[[str], Inventory],
) -> None:
    staging = inventory("staging")
    bypass = staging.one(BYPASS)
    assert len(bypass.inputs["note"]) <= 100, bypass.urn
    # The bypass secret must be exactly 32 alphanumerics (provider regex ^[a-zA-Z0-9]{32}$).
    passwords = {r.name: r for r in staging.of_type(RANDOM_PASSWORD)}
    generator = passwords[f"{staging.one(HOSTING).name}-protection-bypass-secret"]
    assert generator.inputs["length"] == 32, generator.urn
    assert generator.inputs["special"] is False, generator.urn
    production = inventory("production")
    drain = production.one(LOG_DRAIN)
    assert drain.inputs["deliveryFormat"] in ("json", "ndjson"), drain.urn
    assert set(drain.inputs["environments"]) <= {"production", "preview"}, drain.urn
    assert set(drain.inputs["sources"]) <= LOG_DRAIN_SOURCES, drain.urn
    passwords = {r.name: r for r in production.of_type(RANDOM_PASSWORD)}
    signing = passwords[f"{production.one(HOSTING).name}-log-drain-secret"]
    assert signing.inputs["length"] >= 32, f"{signing.urn}: the provider wants 32+ characters"


def test_rate_limit_window_beyond_pro_is_refused() -> None:
    config = stack_config("production")
    config[f"{project_name()}:vercelRateLimitWindowSeconds"] = 900
    with pytest.raises(
        ConfigError,
        match="vercelRateLimitWindowSeconds: 900 is not allowed; expected an integer from 10 to 6",
    ):
        record("production", config=config, secrets=TEST_SECRETS)


# --------------------------------------------------------------------------- CSP syntax

_CSP_DIRECTIVES = {
    "default-src", "script-src", "style-src", "img-src", "font-src", "connect-src",
    "worker-src", "frame-src", "object-src", "base-uri", "form-action", "frame-ancestors",
    "manifest-src", "media-src", "child-src", "upgrade-insecure-requests",
}  # fmt: skip
_CSP_SOURCE = re.compile(
    r"^(?:'(?:self|none|unsafe-inline|unsafe-eval|strict-dynamic)'"
    r"|(?:https|wss|data|blob):"
    r"|(?:https|wss)://(?:\*\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*(?::\d{1,5})?)$"
)
"""CSP3 source expressions the default policy may use: keywords, schemes, bare origins."""


def _check_csp(csp: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in csp.split("; "):
        name, *sources = part.split(" ")
        assert name in _CSP_DIRECTIVES, (name, csp)
        assert name not in directives, f"{name} twice"
        for source in sources:
            assert _CSP_SOURCE.fullmatch(source), (name, source)
        directives[name] = sources
    assert "," not in csp, "a comma would start a second policy"
    return directives


@pytest.mark.parametrize("stack", STACKS)
def test_default_csp_is_well_formed_and_allows_the_services(stack: str) -> None:
    settings = _settings(stack)
    directives = _check_csp(content_security_policy(settings))
    connect = directives["connect-src"]
    # Vercel Web Analytics and Speed Insights load from and post to /_vercel/* (same origin).
    assert "'self'" in directives["script-src"] and "'self'" in connect
    assert {"https://*.supabase.co", "wss://*.supabase.co"} <= set(connect)
    # Sentry DSN hosts: oN.ingest.sentry.io, oN.ingest.us.sentry.io, oN.ingest.de.sentry.io;
    # a CSP wildcard covers one label run ending in the rest, so each region is listed.
    for dsn_host in ("o1.ingest.sentry.io", "o1.ingest.us.sentry.io", "o1.ingest.de.sentry.io"):
        assert any(
            s.startswith("https://*.") and dsn_host.endswith(s[len("https://*") :]) for s in connect
        ), dsn_host
    assert "https://us.i.posthog.com" in connect
    assert "https://us-assets.i.posthog.com" in directives["script-src"]


def test_posthog_host_reduced_to_its_origin() -> None:
    for host, origin in (
        ("https://ph.your-domain.com/ingest", "https://ph.your-domain.com"),
        ("https://EU.i.posthog.com/", "https://eu.i.posthog.com"),
        ("https://ph.your-domain.com:8443/a;b,c", "https://ph.your-domain.com:8443"),
    ):
        directives = _check_csp(default_content_security_policy(host))
        assert origin in directives["connect-src"], (host, directives["connect-src"])
    eu = default_content_security_policy("https://eu.i.posthog.com")
    assert "https://eu-assets.i.posthog.com" in _check_csp(eu)["script-src"]


# --------------------------------------------------------------------------- anomaly alerts

ALERT_RULE = "vercel:index/alertRule:AlertRule"


@pytest.mark.parametrize(("stack", "severity"), [("production", "medium"), ("staging", "high")])
def test_vercel_alerts_on_error_and_usage_anomalies_of_the_stacks_project(
    inventory: Callable[[str], Inventory], stack: str, severity: str
) -> None:
    rule = inventory(stack).one(ALERT_RULE)
    assert rule.inputs["ruleScope"] == {
        "type": "include",
        "projectIds": [f"acme-web-{stack}-hosting-project-id"],
    }, rule.urn
    assert [t["type"] for t in rule.inputs["triggers"]] == ["error_anomaly", "usage_anomaly"]
    assert rule.inputs["matchMinimumSeverityLevel"] == severity, rule.urn
    assert rule.inputs["notificationSettings"] == {"enableTeamOwnerNotifications": True}
    assert not inventory(stack).of_type(
        "vercel:index/alertRuleSlackNotification:AlertRuleSlackNotification"
    )


def test_vercel_alerts_also_post_to_a_configured_slack_channel() -> None:
    config = stack_config("production")
    config[f"{project_name()}:vercelAlertSlackChannelId"] = "C0123ABCDE"
    inv = record("production", config=config, secrets=TEST_SECRETS)
    slack = inv.one("vercel:index/alertRuleSlackNotification:AlertRuleSlackNotification")
    assert slack.inputs["slackChannelId"] == "C0123ABCDE", slack.urn
