"""The policy pack: each rule on a good and a bad resource, the recorded stacks, the pack itself.

Rules are called exactly as pulumi-policy calls them: `(args, report_violation)` with
`ResourceValidationArgs` / `StackValidationArgs` whose props go through the SDK's own
unknown-checking proxy. The recorded inventory is converted the way the engine would send
it: camelCase inputs, secrets unwrapped (pulumi-policy drops the marker), unknowns as the
SDK's unknown sentinels. Last, the pack is started as the engine starts it and asked over
gRPC.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from components.vercel.facts import PROTECTED_DEPLOYMENT_TYPES
from policy import rules
from tools.recorder import UNKNOWN, Inventory, Registration, Secret

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "webapp-platform"
SUPABASE_TYPE = "pulumi-python:dynamic/supabase:Project"
SUPABASE_SSL = "pulumi-python:dynamic/supabase:SslEnforcement"
SUPABASE_NETWORK = "pulumi-python:dynamic/supabase:NetworkRestrictions"
SUPABASE_AUTH = "pulumi-python:dynamic/supabase:AuthConfig"
SUPABASE_PASSWORD = "pulumi-python:dynamic/supabase:DatabasePassword"


# --------------------------------------------------------------------------- harness


def urn(stack: str, type_: str, name: str) -> str:
    return f"urn:pulumi:{stack}::{PROJECT}::{type_}::{name}"


def options(secret_outputs: Iterable[str] = ()) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=False,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=list(secret_outputs),
    )


def resource_args(
    type_: str,
    props: Mapping[str, Any],
    *,
    stack: str = "production",
    name: str = "r",
    secret_outputs: Iterable[str] = (),
    config: Mapping[str, Any] | None = None,
) -> ResourceValidationArgs:
    return ResourceValidationArgs(
        type_,
        unknown_checking_proxy(dict(props)),
        urn(stack, type_, name),
        name,
        options(secret_outputs),
        None,
        dict(config or {}),
    )


def stack_resource(type_: str, props: Mapping[str, Any], stack: str, name: str) -> PolicyResource:
    return PolicyResource(
        type_,
        unknown_checking_proxy(dict(props)),
        urn(stack, type_, name),
        name,
        options(),
        None,
        None,
        [],
        {},
    )


def violations(rule: Callable[..., None], args: Any) -> list[str]:
    found: list[str] = []
    rule(args, lambda message, urn=None: found.append(message))
    return found


def one(found: Sequence[str], *needles: str) -> str:
    """The single violation, which must name every needle."""
    assert len(found) == 1, found
    for needle in needles:
        assert needle in found[0], (needle, found[0])
    return found[0]


# --------------------------------------------------------------------------- GitHub

GOOD_RULESET: dict[str, Any] = {
    "name": "main-protection",
    "target": "branch",
    "enforcement": "active",
    "conditions": {"refName": {"includes": ["~DEFAULT_BRANCH"], "excludes": []}},
    "bypassActors": [],
    "rules": {
        "deletion": True,
        "nonFastForward": True,
        "pullRequest": {
            "requiredApprovingReviewCount": 2,
            "requireCodeOwnerReview": True,
            "dismissStaleReviewsOnPush": True,
            "requireLastPushApproval": True,
        },
        "requiredStatusChecks": {"strictRequiredStatusChecksPolicy": True},
    },
}


def ruleset(
    stack: str = "production", config: Mapping[str, Any] | None = None, **changes: Any
) -> ResourceValidationArgs:
    props = json.loads(json.dumps(GOOD_RULESET))
    for path, value in changes.items():
        target = props
        *parents, last = path.split("__")
        for key in parents:
            target = target[key]
        target[last] = value
    return resource_args(rules.RULESET, props, stack=stack, name="main", config=config)


def test_g1_passes_a_ruleset_that_blocks_force_pushes_and_deletion() -> None:
    assert violations(rules.validate_g1_main_history, ruleset()) == []


def test_g1_names_a_force_push_a_deletion_and_an_inactive_ruleset() -> None:
    one(
        violations(rules.validate_g1_main_history, ruleset(rules__nonFastForward=False)),
        "G1",
        "force pushes",
    )
    one(
        violations(rules.validate_g1_main_history, ruleset(rules__deletion=None)),
        "G1",
        "deleting main",
    )
    one(
        violations(rules.validate_g1_main_history, ruleset(enforcement="evaluate")),
        "G1",
        "'evaluate'",
    )


def test_g1_ignores_rulesets_of_other_branches_and_checks_classic_protection() -> None:
    other = ruleset(
        conditions={"refName": {"includes": ["refs/heads/release"]}}, rules__deletion=False
    )
    assert violations(rules.validate_g1_main_history, other) == []
    classic = resource_args(
        rules.BRANCH_PROTECTION,
        {"pattern": "main", "allowsForcePushes": True, "allowsDeletions": False},
    )
    one(violations(rules.validate_g1_main_history, classic), "allows_force_pushes")


def test_g2_needs_two_approvals_in_production_and_one_in_staging() -> None:
    assert violations(rules.validate_g2_reviews, ruleset()) == []
    one(
        violations(
            rules.validate_g2_reviews, ruleset(rules__pullRequest__requiredApprovingReviewCount=1)
        ),
        "G2",
        "requires 1 approval(s)",
        "production needs at least 2",
    )
    staging_one = ruleset("staging", rules__pullRequest__requiredApprovingReviewCount=1)
    assert violations(rules.validate_g2_reviews, staging_one) == []
    staging_none = ruleset("staging", rules__pullRequest__requiredApprovingReviewCount=0)
    one(violations(rules.validate_g2_reviews, staging_none), "staging needs at least 1")


def test_g2_needs_last_push_approval_and_up_to_date_branches() -> None:
    one(
        violations(
            rules.validate_g2_reviews, ruleset(rules__pullRequest__requireLastPushApproval=False)
        ),
        "G2",
        "most recent push",
    )
    one(
        violations(
            rules.validate_g2_reviews,
            ruleset(rules__requiredStatusChecks__strictRequiredStatusChecksPolicy=False),
        ),
        "G2",
        "up to date",
    )
    one(
        violations(rules.validate_g2_reviews, ruleset(rules__pullRequest=None)),
        "G2",
        "no pull_request rule",
    )


def test_g4_needs_code_owner_review_and_dismissal_in_production_only() -> None:
    assert violations(rules.validate_g4_code_owners, ruleset()) == []
    one(
        violations(
            rules.validate_g4_code_owners, ruleset(rules__pullRequest__requireCodeOwnerReview=False)
        ),
        "G4",
        "code-owner review",
    )
    one(
        violations(
            rules.validate_g4_code_owners,
            ruleset(rules__pullRequest__dismissStaleReviewsOnPush=False),
        ),
        "G4",
        "stale reviews",
    )
    staging = ruleset("staging", rules__pullRequest__requireCodeOwnerReview=False)
    assert violations(rules.validate_g4_code_owners, staging) == []


def test_g4_allows_only_allow_listed_bypass_actors() -> None:
    actor = {"actorType": "Integration", "actorId": 12345, "bypassMode": "always"}
    bad = ruleset(bypassActors=[actor])
    one(
        violations(rules.validate_g4_code_owners, bad),
        "G4",
        "Integration:12345:always",
        "allowedBypassActors",
    )
    listed = ruleset(
        bypassActors=[actor], config={"allowedBypassActors": ["Integration:12345:always"]}
    )
    assert violations(rules.validate_g4_code_owners, listed) == []


def test_g4_wants_codeowners_shipped_with_the_production_ruleset() -> None:
    protect = stack_resource(rules.RULESET, GOOD_RULESET, "production", "main")
    codeowners = stack_resource(
        rules.REPOSITORY_FILE, {"file": ".github/CODEOWNERS"}, "production", "codeowners"
    )
    good = StackValidationArgs([protect, codeowners])
    assert violations(rules.validate_g4_codeowners_file, good) == []
    one(
        violations(rules.validate_g4_codeowners_file, StackValidationArgs([protect])),
        "G4",
        "CODEOWNERS",
    )


# --------------------------------------------------------------------------- G7

ALL_SECRET_FIELDS = ["encryptedValue", "plaintextValue", "value", "valueEncrypted"]


def test_g7_passes_an_environment_secret_whose_value_is_a_secret_output() -> None:
    good = resource_args(
        rules.ACTIONS_ENV_SECRET,
        {"secretName": "VERCEL_TOKEN", "value": "ghp_" + "a" * 36},
        secret_outputs=ALL_SECRET_FIELDS,
    )
    assert violations(rules.validate_g7_no_plaintext_secret, good) == []


def test_g7_names_a_secret_field_the_state_would_keep_in_plain_text() -> None:
    bad = resource_args(rules.ACTIONS_ENV_SECRET, {"secretName": "X", "value": "v"}, name="x")
    one(violations(rules.validate_g7_no_plaintext_secret, bad), "G7", "x.value", "plain text")
    supabase = resource_args(
        SUPABASE_TYPE,
        {"organization_slug": "acme", "db_pass": "pw"},
        secret_outputs=["access_token"],
        name="db",
    )
    one(violations(rules.validate_g7_no_plaintext_secret, supabase), "G7", "db.db_pass")
    for type_, field in ((SUPABASE_PASSWORD, "password"), (SUPABASE_AUTH, "smtp_pass")):
        plain = resource_args(type_, {"project_ref": "r", field: "pw"}, name="s")
        found = violations(rules.validate_g7_no_plaintext_secret, plain)
        one(found, "G7", f"s.{field}")


def test_g7_names_a_credential_in_any_plain_field() -> None:
    leaked = resource_args(
        rules.REPOSITORY_FILE,
        {"file": "deploy.sh", "content": "export T=ghp_" + "A" * 36},
        name="file",
    )
    one(violations(rules.validate_g7_no_plaintext_secret, leaked), "file.content", "a GitHub token")
    url = resource_args(
        "vercel:index/logDrain:LogDrain",
        {"endpoint": "https://user:hunter2@logs.example.com/", "secret": "s"},
        secret_outputs=["secret"],
        name="drain",
    )
    one(
        violations(rules.validate_g7_no_plaintext_secret, url),
        "drain.endpoint",
        "a URL with a password",
    )


def test_g7_leaves_sensitive_variables_and_secret_references_alone() -> None:
    url = "postgresql://postgres:hunter2@db.example.com:5432/postgres"
    sensitive = variables({"key": "DATABASE_URL", "value": url, "sensitive": True})
    assert violations(rules.validate_g7_no_plaintext_secret, sensitive) == []
    plain = variables({"key": "DATABASE_URL", "value": url, "sensitive": False})
    one(violations(rules.validate_g7_no_plaintext_secret, plain), "variables[0].value")
    reference = resource_args(
        rules.REPOSITORY_FILE, {"content": "psql postgresql://u:${{ secrets.DB }}@h/db"}
    )
    assert violations(rules.validate_g7_no_plaintext_secret, reference) == []


def test_g7_names_a_plain_actions_variable_named_like_a_secret() -> None:
    bad = resource_args(
        rules.ACTIONS_ENV_VARIABLE, {"variableName": "SENTRY_AUTH_TOKEN", "value": "x"}
    )
    one(violations(rules.validate_g7_no_plaintext_secret, bad), "G7", "SENTRY_AUTH_TOKEN")
    good = resource_args(
        rules.ACTIONS_ENV_VARIABLE, {"variableName": "VERCEL_PROJECT_ID", "value": "prj_x"}
    )
    assert violations(rules.validate_g7_no_plaintext_secret, good) == []


def test_g7_skips_values_that_are_unknown_at_preview() -> None:
    args = resource_args(
        rules.REPOSITORY_FILE,
        {"file": "a", "content": UNKNOWN_STRING_VALUE, "x": [UNKNOWN_STRING_VALUE]},
    )
    assert violations(rules.validate_g7_no_plaintext_secret, args) == []


# --------------------------------------------------------------------------- S1


def network(stack: str = "production", **changes: Any) -> ResourceValidationArgs:
    props = {
        "project_ref": "abcdefghijklmnopqrst",
        "allowed_cidrs": ["203.0.113.0/24", "2001:db8::/48"],
        "app_egress_cidrs": [],
        "ci_egress_cidrs": [],
        **changes,
    }
    return resource_args(SUPABASE_NETWORK, props, stack=stack, name="net")


def ssl(stack: str = "production", enforced: Any = True) -> ResourceValidationArgs:
    props = {"project_ref": "abcdefghijklmnopqrst", "enforced": enforced}
    return resource_args(SUPABASE_SSL, props, stack=stack, name="ssl")


def test_s1_passes_ssl_and_restricted_networks() -> None:
    assert violations(rules.validate_s1_supabase_network, network()) == []
    assert violations(rules.validate_s1_supabase_network, ssl()) == []
    egress = network(app_egress_cidrs=["203.0.113.8/29"], ci_egress_cidrs=["2001:db8::/64"])
    assert violations(rules.validate_s1_supabase_network, egress) == []


def test_s1_names_ssl_off_and_networks_open_to_all() -> None:
    one(violations(rules.validate_s1_supabase_network, ssl(enforced=False)), "S1", "be on")
    for cidr in ("0.0.0.0/0", "::/0", "0::0/0"):
        found = violations(
            rules.validate_s1_supabase_network, network(allowed_cidrs=["203.0.113.0/24", cidr])
        )
        one(found, "S1", cidr)


def test_s1_names_a_declared_egress_the_restrictions_would_block() -> None:
    found = violations(
        rules.validate_s1_supabase_network, network(app_egress_cidrs=["198.51.100.0/24"])
    )
    one(found, "S1", "app_egress_cidrs", "198.51.100.0/24", "could not connect")


def test_s1_applies_to_production_only() -> None:
    assert violations(rules.validate_s1_supabase_network, ssl("staging", False)) == []
    relaxed = network("staging", allowed_cidrs=["0.0.0.0/0"], app_egress_cidrs=["10.0.0.0/8"])
    assert violations(rules.validate_s1_supabase_network, relaxed) == []


def access_path_stack(stack: str = "production", **parts: Any) -> StackValidationArgs:
    """A stack with a Supabase project and the parts named (props, or None to leave out)."""
    defaults: dict[str, Any] = {
        "ssl": {"project_ref": "r", "enforced": True},
        "network": {"project_ref": "r", "allowed_cidrs": ["203.0.113.0/24"]},
        "vercel": {"variables": [{"key": "NEXT_PUBLIC_SUPABASE_URL", "sensitive": False}]},
        "github": None,
    }
    defaults.update(parts)
    types = {
        "ssl": SUPABASE_SSL,
        "network": SUPABASE_NETWORK,
        "vercel": rules.VERCEL_ENV_VARIABLES,
        "github": rules.ACTIONS_ENV_SECRET,
    }
    resources = [
        stack_resource(SUPABASE_TYPE, {"name": f"acme-web-{stack}-db"}, stack, "db"),
        *(
            stack_resource(types[key], props, stack, key)
            for key, props in defaults.items()
            if props is not None
        ),
    ]
    return StackValidationArgs(resources)


def test_s1_access_path_passes_the_data_api_behind_tight_networks() -> None:
    assert violations(rules.validate_s1_supabase_access_path, access_path_stack()) == []


def test_s1_access_path_names_a_connection_string_nobody_can_use() -> None:
    vercel = {"variables": [{"key": "DATABASE_URL", "sensitive": True}]}
    one(
        violations(rules.validate_s1_supabase_access_path, access_path_stack(vercel=vercel)),
        "S1",
        "Vercel DATABASE_URL",
        "app_egress_cidrs",
    )
    github = {"secretName": "SUPABASE_DB_URL", "environment": "production"}
    one(
        violations(rules.validate_s1_supabase_access_path, access_path_stack(github=github)),
        "S1",
        "GitHub SUPABASE_DB_URL",
        "ci_egress_cidrs",
    )
    allowed = {
        "project_ref": "r",
        "allowed_cidrs": ["203.0.113.0/24"],
        "app_egress_cidrs": ["203.0.113.8/29"],
        "ci_egress_cidrs": ["203.0.113.16/29"],
    }
    both = access_path_stack(vercel=vercel, github=github, network=allowed)
    assert violations(rules.validate_s1_supabase_access_path, both) == []


def test_s1_access_path_wants_ssl_and_network_restrictions_in_production_only() -> None:
    found = violations(
        rules.validate_s1_supabase_access_path, access_path_stack(ssl=None, network=None)
    )
    assert len(found) == 2
    assert any("no SSL enforcement" in f for f in found)
    assert any("no network restrictions" in f for f in found)
    staging = access_path_stack("staging", ssl=None, network=None)
    assert violations(rules.validate_s1_supabase_access_path, staging) == []


# --------------------------------------------------------------------------- S13


def auth(stack: str = "production", **changes: Any) -> ResourceValidationArgs:
    props = {
        "project_ref": "r",
        "mailer_autoconfirm": False,
        "smtp_host": "smtp.example.com",
        "smtp_pass": "from-a-secret",
        **changes,
    }
    return resource_args(
        SUPABASE_AUTH, props, stack=stack, name="auth", secret_outputs=["smtp_pass"]
    )


def test_s13_passes_confirmations_through_custom_smtp() -> None:
    assert violations(rules.validate_s13_supabase_smtp, auth()) == []
    no_confirmation = auth(mailer_autoconfirm=True, smtp_host=None, smtp_pass=None)
    assert violations(rules.validate_s13_supabase_smtp, no_confirmation) == []


def test_s13_names_confirmations_through_the_built_in_mailer() -> None:
    found = violations(rules.validate_s13_supabase_smtp, auth(smtp_host=None, smtp_pass=None))
    one(found, "S13", "smtp_host, smtp_pass", "organisation members only")
    one(violations(rules.validate_s13_supabase_smtp, auth(smtp_pass=None)), "S13", "smtp_pass")
    staging = auth("staging", smtp_host=None, smtp_pass=None)
    assert violations(rules.validate_s13_supabase_smtp, staging) == []


# --------------------------------------------------------------------------- S6 S8 S9


def vercel_project(**changes: Any) -> ResourceValidationArgs:
    props = {
        "name": "acme-web-production-web",
        "vercelAuthentication": {"deploymentType": "standard_protection"},
        **changes,
    }
    return resource_args(rules.VERCEL_PROJECT, props, name="web")


def test_s6_passes_standard_protection_and_stricter() -> None:
    for kind in PROTECTED_DEPLOYMENT_TYPES:
        project = vercel_project(vercelAuthentication={"deploymentType": kind})
        assert violations(rules.validate_s6_vercel_protection, project) == []


def test_s6_names_weaker_protection_and_public_source() -> None:
    for weak in ({"deploymentType": "only_preview_deployments"}, {"deploymentType": "none"}, None):
        found = violations(
            rules.validate_s6_vercel_protection, vercel_project(vercelAuthentication=weak)
        )
        one(found, "S6", "deployment protection")
    one(
        violations(rules.validate_s6_vercel_protection, vercel_project(publicSource=True)),
        "S6",
        "public_source",
    )


GOOD_OIDC_POLICY: dict[str, Any] = {
    "client": "vercel",
    "issuerUrl": "https://token.actions.githubusercontent.com",
    "claims": [
        {"name": "aud", "values": [{"value": "https://vercel.com/api/login/oauth/token"}]},
        {"name": "repository", "values": [{"value": "acme-corp/acme-web"}]},
        {"name": "environment", "values": [{"value": "production"}]},
        {"name": "ref", "values": [{"value": "refs/heads/main"}]},
    ],
    "commands": ["deploy", "promote", "pull"],
    "resources": {"projectIds": ["prj_production"]},
}


def oidc_policy(**changes: Any) -> ResourceValidationArgs:
    props = {**json.loads(json.dumps(GOOD_OIDC_POLICY)), **changes}
    return resource_args(rules.VERCEL_OIDC_POLICY, props, name="deploy")


def test_w10_passes_a_policy_bounded_by_claims_commands_and_project() -> None:
    assert violations(rules.validate_w10_vercel_oidc_policy, oidc_policy()) == []
    unknown_project = oidc_policy(resources={"projectIds": [UNKNOWN_STRING_VALUE]})
    assert violations(rules.validate_w10_vercel_oidc_policy, unknown_project) == []


def test_w10_names_unpinned_claims_wildcards_permissions_and_unbounded_projects() -> None:
    claims = GOOD_OIDC_POLICY["claims"]
    one(
        violations(rules.validate_w10_vercel_oidc_policy, oidc_policy(claims=claims[:2])),
        "W10",
        "environment, ref",
    )
    any_environment = [*claims[:2], {"name": "environment", "values": [{"value": "*"}]}, claims[3]]
    one(
        violations(rules.validate_w10_vercel_oidc_policy, oidc_policy(claims=any_environment)),
        "any environment",
    )
    found = violations(
        rules.validate_w10_vercel_oidc_policy, oidc_policy(commands=None, permissions=["*"])
    )
    assert len(found) == 2 and "grants permissions" in found[0] and "no CLI" in found[1], found
    unbounded: tuple[Any, ...] = ({"projectIds": ["*"]}, {"projectIds": []}, None)
    for resources in unbounded:
        one(
            violations(rules.validate_w10_vercel_oidc_policy, oidc_policy(resources=resources)),
            "W9",
            "not bounded to its stack's project",
        )


def variables(*entries: dict[str, Any]) -> ResourceValidationArgs:
    return resource_args(rules.VERCEL_ENV_VARIABLES, {"variables": list(entries)}, name="env")


def test_s8_passes_public_values_plain_and_secrets_sensitive() -> None:
    good = variables(
        {"key": "NEXT_PUBLIC_SUPABASE_ANON_KEY", "value": "eyJ", "sensitive": False},
        {"key": "SUPABASE_SERVICE_ROLE_KEY", "value": UNKNOWN_STRING_VALUE, "sensitive": True},
        {"key": "DATABASE_URL", "value": "postgresql://u:p@h/db", "sensitive": True},
    )
    assert violations(rules.validate_s8_vercel_variables, good) == []


def test_s8_names_secrets_that_are_not_sensitive_and_public_secrets() -> None:
    one(
        violations(
            rules.validate_s8_vercel_variables,
            variables({"key": "SUPABASE_SERVICE_ROLE_KEY", "value": "x", "sensitive": False}),
        ),
        "S8",
        "SUPABASE_SERVICE_ROLE_KEY",
        "not sensitive",
    )
    one(
        violations(
            rules.validate_s8_vercel_variables,
            variables({"key": "NEXT_PUBLIC_KEY", "value": "x", "sensitive": True}),
        ),
        "S8",
        "NEXT_PUBLIC_KEY",
        "never be NEXT_PUBLIC_*",
    )
    one(
        violations(
            rules.validate_s8_vercel_variables,
            variables({"key": "NEXT_PUBLIC_SERVICE_ROLE_KEY", "value": "x", "sensitive": False}),
        ),
        "S8",
        "named like a secret",
    )
    one(
        violations(
            rules.validate_s8_vercel_variables, variables({"key": "FEATURE_FLAG", "value": "on"})
        ),
        "S8",
        "explicitly",
    )
    single = resource_args(
        rules.VERCEL_ENV_VARIABLE,
        {"key": "STRIPE", "value": "sk_live_" + "a" * 24, "sensitive": False},
    )
    one(violations(rules.validate_s8_vercel_variables, single), "S8", "STRIPE")


API_RULE: dict[str, Any] = {
    "name": "Rate limit /api",
    "active": True,
    "conditionGroups": [{"conditions": [{"type": "path", "op": "pre", "value": "/api"}]}],
    "action": {"action": "rate_limit", "rateLimit": {"limit": 100, "window": 60}},
}


def firewall(
    stack: str = "production", *rules_: dict[str, Any], **changes: Any
) -> ResourceValidationArgs:
    props = {"enabled": True, "rules": {"rules": list(rules_)}, **changes}
    return resource_args(rules.VERCEL_FIREWALL, props, stack=stack, name="fw")


def test_s9_passes_a_rate_limit_on_api() -> None:
    assert violations(rules.validate_s9_firewall_rate_limit, firewall("production", API_RULE)) == []


def test_s9_names_a_firewall_without_an_active_api_rate_limit() -> None:
    inactive = {**API_RULE, "active": False}
    elsewhere = {
        **API_RULE,
        "conditionGroups": [{"conditions": [{"type": "path", "op": "pre", "value": "/admin"}]}],
    }
    deny = {**API_RULE, "action": {"action": "deny"}}
    for rule in (inactive, elsewhere, deny):
        one(
            violations(rules.validate_s9_firewall_rate_limit, firewall("production", rule)),
            "S9",
            "/api",
        )
    one(
        violations(
            rules.validate_s9_firewall_rate_limit, firewall("production", API_RULE, enabled=False)
        ),
        "S9",
        "disabled",
    )
    assert violations(rules.validate_s9_firewall_rate_limit, firewall("staging")) == []


def test_s9_wants_a_firewall_next_to_the_production_project() -> None:
    project = stack_resource(rules.VERCEL_PROJECT, {"name": "a-production"}, "production", "p")
    wall = stack_resource(rules.VERCEL_FIREWALL, {"enabled": True}, "production", "fw")
    assert (
        violations(rules.validate_s9_firewall_present, StackValidationArgs([project, wall])) == []
    )
    one(
        violations(rules.validate_s9_firewall_present, StackValidationArgs([project])),
        "S9",
        "no FirewallConfig",
    )


# --------------------------------------------------------------------------- S12 and cost


def test_s12_passes_project_names_that_carry_the_stack() -> None:
    resources = [
        stack_resource(rules.VERCEL_PROJECT, {"name": "acme-web-staging-web"}, "staging", "v"),
        stack_resource(
            rules.SENTRY_PROJECT,
            {"name": "acme-web-staging", "slug": "acme-web-staging"},
            "staging",
            "s",
        ),
        stack_resource(
            SUPABASE_TYPE, {"name": "acme-web-staging", "organization_slug": "a"}, "staging", "d"
        ),
    ]
    assert violations(rules.validate_s12_stack_names, StackValidationArgs(resources)) == []


def test_s12_names_a_project_that_another_stack_could_share() -> None:
    shared = [stack_resource(rules.VERCEL_PROJECT, {"name": "acme-web"}, "production", "v")]
    one(
        violations(rules.validate_s12_stack_names, StackValidationArgs(shared)),
        "S12",
        "'acme-web'",
        "'production'",
    )
    lookalike = [
        stack_resource(
            rules.SENTRY_PROJECT,
            {"name": "acme-productionish", "slug": "acme-production"},
            "production",
            "s",
        )
    ]
    one(
        violations(rules.validate_s12_stack_names, StackValidationArgs(lookalike)),
        "S12",
        "name 'acme-productionish'",
    )


def stack_outputs(stack: str, **outputs: Any) -> StackValidationArgs:
    return StackValidationArgs([stack_resource(rules.STACK_TYPE, outputs, stack, f"p-{stack}")])


def test_cost_is_quiet_within_the_budget_and_speaks_above_it() -> None:
    within = stack_outputs("staging", monthlyCostEstimateUsd=25.0, monthlyBudgetUsd=60)
    assert violations(rules.validate_cost_budget, within) == []
    above = stack_outputs("staging", monthlyCostEstimateUsd=125.5, monthlyBudgetUsd=60)
    one(violations(rules.validate_cost_budget, above), "$125.50", "above the budget $60.00")


def test_cost_ceiling_refuses_only_above_a_set_ceiling() -> None:
    under = stack_outputs("production", monthlyCostEstimateUsd=509.72, monthlyCostCeilingUsd=900)
    assert violations(rules.validate_cost_ceiling, under) == []
    none = stack_outputs("production", monthlyCostEstimateUsd=5000, monthlyCostCeilingUsd=0)
    assert violations(rules.validate_cost_ceiling, none) == []
    over = stack_outputs("production", monthlyCostEstimateUsd=950.5, monthlyCostCeilingUsd=900)
    one(violations(rules.validate_cost_ceiling, over), "$950.50", "hard ceiling $900.00")


def test_cost_falls_back_to_the_budget_in_the_stack_config() -> None:
    args = stack_outputs("production", monthlyCostEstimateUsd=300)
    found: list[str] = []
    rules.validate_cost_budget(args, lambda m, urn=None: found.append(m), lambda: "250")
    one(found, "$300.00", "$250.00")


def test_cost_is_not_applicable_without_an_estimate() -> None:
    with pytest.raises(Exception) as raised:
        violations(rules.validate_cost_budget, stack_outputs("staging", monthlyBudgetUsd=60))
    assert "NotApplicable" in type(raised.value).__name__


def test_every_policy_is_mandatory_except_the_advisory_budget() -> None:
    policies = rules.policies()
    names = [p.name for p in policies]
    assert len(names) == len(set(names))
    levels = {p.name: p.enforcement_level for p in policies}
    assert levels.pop("cost-within-budget") == EnforcementLevel.ADVISORY
    assert set(levels.values()) == {EnforcementLevel.MANDATORY}
    for rule in ("g1", "g2", "g4", "g7", "s1", "s6", "s8", "s9", "s12", "s13", "w10"):
        assert any(name.startswith(f"{rule}-") for name in names), rule


# --------------------------------------------------------------------------- recorded stacks


def _as_engine_sends(value: Any) -> Any:
    """A recorded input as pulumi-policy hands it over: secrets unwrapped, unknowns marked."""
    if isinstance(value, Secret):
        return _as_engine_sends(value.value)
    if isinstance(value, dict):
        return {k: _as_engine_sends(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_engine_sends(v) for v in value]
    return UNKNOWN_STRING_VALUE if value == UNKNOWN else value


def _policy_resource(r: Registration) -> PolicyResource:
    return PolicyResource(
        r.type,
        unknown_checking_proxy(_as_engine_sends(r.inputs)),
        r.urn,
        r.name,
        options(r.additional_secret_outputs),
        None,
        None,
        [],
        {},
    )


def _stack_policy_resources(inv: Inventory) -> list[PolicyResource]:
    stack_urn = urn(inv.stack, rules.STACK_TYPE, f"{PROJECT}-{inv.stack}")
    root = PolicyResource(
        rules.STACK_TYPE,
        unknown_checking_proxy(_as_engine_sends(inv.outputs)),
        stack_urn,
        f"{PROJECT}-{inv.stack}",
        options(),
        None,
        None,
        [],
        {},
    )
    return [root, *(_policy_resource(r) for r in inv.resources)]


def test_each_recorded_stack_passes_every_policy(stack_inventory: Inventory) -> None:
    inv = stack_inventory
    problems: list[str] = []
    unknown: list[str] = []
    for r in inv.resources:
        for name, (_, rule) in rules.RESOURCE_RULES.items():
            args = ResourceValidationArgs(
                r.type,
                unknown_checking_proxy(_as_engine_sends(r.inputs)),
                r.urn,
                r.name,
                options(r.additional_secret_outputs),
                None,
                {},
            )
            try:
                problems += [f"{name} {r.urn}: {m}" for m in violations(rule, args)]
            except UnknownValueError as error:
                unknown.append(f"{name} {r.urn}: {error.message}")
    stack_args = StackValidationArgs(_stack_policy_resources(inv))
    for name, (_, stack_rule, _) in rules.STACK_RULES.items():
        problems += [f"{name}: {m}" for m in violations(stack_rule, stack_args)]
    assert problems == []
    # Every rule could read what it needs: none would be skipped at preview as unknown.
    assert unknown == []


def test_the_recorded_stacks_are_what_the_rules_expect(
    inventory: Callable[[str], Inventory],
) -> None:
    """Guards against vacuous passes: the rules' resource types are really in the stacks."""
    production = inventory("production")
    types = {r.type for r in production.resources}
    for expected in (
        rules.RULESET,
        rules.ACTIONS_ENV_SECRET,
        rules.VERCEL_PROJECT,
        rules.VERCEL_ENV_VARIABLES,
        rules.VERCEL_FIREWALL,
        rules.VERCEL_OIDC_POLICY,
        rules.SENTRY_PROJECT,
        rules.SUPABASE_PROJECT,
        rules.SUPABASE_SSL,
        rules.SUPABASE_NETWORK,
        rules.SUPABASE_AUTH,
    ):
        assert expected in types, expected
    assert "monthlyCostEstimateUsd" in production.outputs


def test_every_supabase_resource_recorded_is_known_to_the_pack(
    stack_inventory: Inventory,
) -> None:
    dynamic = [r for r in stack_inventory.resources if r.type.startswith(rules.DYNAMIC_PREFIX)]
    assert {r.type for r in dynamic} >= {SUPABASE_TYPE, SUPABASE_SSL, SUPABASE_AUTH}
    for r in dynamic:
        assert r.type in rules.SECRET_FIELDS, r.urn
        assert rules.is_supabase_project(r.type, r.inputs) == (r.type == SUPABASE_TYPE), r.urn


# --------------------------------------------------------------------------- the pack over gRPC


def _struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(dict(value))
    return message


@pytest.fixture(scope="module")
def analyzer() -> Iterable[analyzer_pb2_grpc.AnalyzerStub]:
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "policy")],
        cwd=ROOT / "policy",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        assert port.isdigit(), process.stderr.read() if process.stderr else port
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_pack_serves_every_policy(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    from google.protobuf import empty_pb2

    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "webapp-platform-policy"
    assert {p.name for p in info.policies} == {p.name for p in rules.policies()}


def test_the_pack_reports_a_bad_resource_as_mandatory(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    request = analyzer_pb2.AnalyzeRequest(
        type=rules.VERCEL_PROJECT,
        properties=_struct(
            {"name": "acme-web-production-web", "vercelAuthentication": {"deploymentType": "none"}}
        ),
        urn=urn("production", rules.VERCEL_PROJECT, "web"),
        name="web",
        options=analyzer_pb2.AnalyzerResourceOptions(),
    )
    diagnostics = analyzer.Analyze(request).diagnostics
    assert [d.policyName for d in diagnostics] == ["s6-vercel-deployment-protection"]
    assert diagnostics[0].enforcementLevel == analyzer_pb2.MANDATORY
    assert "'none'" in diagnostics[0].message


def test_the_pack_reports_the_budget_as_advisory(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    stack = analyzer_pb2.AnalyzerResource(
        type=rules.STACK_TYPE,
        properties=_struct({"monthlyCostEstimateUsd": 300, "monthlyBudgetUsd": 250}),
        urn=urn("production", rules.STACK_TYPE, "p"),
        name="p",
        options=analyzer_pb2.AnalyzerResourceOptions(),
    )
    diagnostics = analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=[stack]))
    budget = [d for d in diagnostics.diagnostics if d.policyName == "cost-within-budget"]
    assert len(budget) == 1 and budget[0].enforcementLevel == analyzer_pb2.ADVISORY
    assert "$300.00" in budget[0].message


# --------------------------------------------------------------------------- S2


ENABLE = "enable row level security;"


@pytest.mark.parametrize(
    ("sql", "missing"),
    [
        (f"create table public.notes (id int);\nalter table public.notes {ENABLE}", []),
        (f"create table notes (id int);\nalter table only notes {ENABLE}", []),
        (f'create table if not exists "Odd" (id int);\nalter table public."Odd" {ENABLE}', []),
        ("create table api.reports (id int);", []),
        ("create table public.open (id int);", ["public.open"]),
        (f"CREATE TABLE Tags (id int);\n-- alter table tags {ENABLE}", ["public.tags"]),
        (f"create table a (id int); create table b (id int); alter table a {ENABLE}", ["public.b"]),
    ],
)
def test_s2_reads_which_public_tables_a_migration_leaves_without_rls(
    sql: str, missing: list[str]
) -> None:
    assert rules.public_tables_without_rls(sql) == missing


def test_s2_names_the_file_and_the_table_of_a_shipped_migration() -> None:
    path = "supabase/migrations/20260201000000_tags.sql"
    bad = resource_args(
        rules.REPOSITORY_FILE, {"file": path, "content": "create table tags (id int);"}
    )
    one(
        violations(rules.validate_s2_shipped_migrations, bad),
        "S2: supabase/migrations/20260201000000_tags.sql creates public.tags",
        "alter table public.tags enable row level security",
    )
    elsewhere = resource_args(
        rules.REPOSITORY_FILE, {"file": "docs/example.sql", "content": "create table t (id int);"}
    )
    assert violations(rules.validate_s2_shipped_migrations, elsewhere) == []
