"""Sentry monitoring per stack: project, key (S11), alerts and their thresholds, ownership."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from decimal import Decimal
from functools import cache
from typing import Any

import pulumi
import pytest
import yaml
from pulumi.runtime.sync_await import _sync_await

from components.alerts import monthly_error_budget_minutes
from components.config import Settings, load_settings
from components.platform import monitoring_args
from components.reader import ConfigError, project_name
from components.sentry.facts import ALERT_NAME_MAX_LENGTH
from components.sentry.monitoring import (
    KEY_METRICS,
    METRIC_DATASET,
    Monitoring,
    alert_name,
)
from tests.conftest import TEST_SECRETS
from tools.recorder import ROOT, Inventory, Registration, Secret, record, stack_config

Inv = Callable[[str], Inventory]

TEAM = "sentry:index/sentryTeam:SentryTeam"
MEMBER = "sentry:index/sentryOrganizationMember:SentryOrganizationMember"
PROJECT = "sentry:index/sentryProject:SentryProject"
KEY = "sentry:index/sentryKey:SentryKey"
ISSUE_ALERT = "sentry:index/sentryIssueAlert:SentryIssueAlert"
METRIC_ALERT = "sentry:index/sentryMetricAlert:SentryMetricAlert"
ENV_SECRET = "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret"

# From the stack files; what they leave out is Pulumi.yaml's default (alertLcpMs 2500, ...).
# Error rate is Sentry's failure_rate(), a ratio: 5% is 0.05. Resolve is 80% of the alert.
EXPECTED_METRIC_ALERTS: dict[str, dict[str, tuple[float, float]]] = {
    "production": {
        "error-rate": (0.05, 0.04),
        "lcp": (2500, 2000),
        "fcp": (1500, 1200),
        "ttfb": (200, 160),
    },
    "staging": {
        "error-rate": (0.20, 0.16),
        "lcp": (4000, 3200),
        "fcp": (3000, 2400),
        "ttfb": (600, 480),
    },
}
EXPECTED_FREQUENCY = {"production": 30, "staging": 1440}
ISSUE_CONDITIONS = {
    "new-issue": "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition",
    "regression": "sentry.rules.conditions.regression_event.RegressionEventCondition",
    "high-frequency": "sentry.rules.conditions.event_frequency.EventFrequencyCondition",
}


def name(stack: str, role: str) -> str:
    return f"acme-web-{stack}-monitoring-{role}"


def close(a: Any, b: float) -> bool:
    return isinstance(a, int | float) and abs(a - b) < 1e-9


# --------------------------------------------------------------------------- project


def test_one_project_per_stack_named_app_stack(stack_inventory: Inventory) -> None:
    stack = stack_inventory.stack
    project = stack_inventory.one(PROJECT)
    expected = {
        "organization": "acme-corp",
        "slug": f"acme-web-{stack}",
        "name": f"acme-web-{stack}",
        # Unset: pulumiverse-sentry 0.0.9 validates it against docs pages that answer 404.
        "platform": None,
        "teams": ["acme-web"],
    }
    got = {k: project.inputs.get(k) for k in expected}
    assert got == expected, f"{project.urn}: {got}"
    assert stack_inventory.outputs["sentryProjectSlug"] == f"acme-web-{stack}", stack


def test_production_project_and_team_are_protected_urns_pinned(inventory: Inv) -> None:
    """Deleting the project deletes its issue history: protected, and its URN is a contract."""
    production = inventory("production")
    monitoring = production.one("platform:sentry:Monitoring")
    for type_, role in ((PROJECT, "project"), (TEAM, "team")):
        resource = production.one(type_)
        assert resource.name == name("production", role), resource.urn
        assert resource.parent == monitoring.urn, resource.urn
        assert resource.protect, f"{resource.urn} is not protected"
    assert not inventory("staging").one(PROJECT).protect


def test_stacks_share_no_sentry_project(inventory: Inv) -> None:
    """S12: each stack's key and alerts point at its own project, never the other's."""
    slugs = {}
    for stack in ("staging", "production"):
        inv = inventory(stack)
        slugs[stack] = inv.one(PROJECT).inputs["slug"]
        for resource in inv.of_type(KEY) + inv.of_type(ISSUE_ALERT) + inv.of_type(METRIC_ALERT):
            assert resource.inputs["project"] == slugs[stack], resource.urn
    assert slugs["staging"] != slugs["production"], slugs


def test_team_owned_only_by_production(inventory: Inv) -> None:
    production, staging = inventory("production"), inventory("staging")
    team = production.one(TEAM)
    assert (team.inputs["slug"], team.inputs["organization"]) == ("acme-web", "acme-corp"), team.urn
    assert not staging.of_type(TEAM), [r.urn for r in staging.of_type(TEAM)]
    # The on-call address is invited into the team once, by the stack that owns the team.
    member = production.one(MEMBER)
    expected = {"email": "oncall@your-domain.com", "role": "member", "teams": ["acme-web"]}
    assert {k: member.inputs.get(k) for k in expected} == expected, member.urn
    assert not staging.of_type(MEMBER), [r.urn for r in staging.of_type(MEMBER)]


def test_every_sentry_resource_uses_the_explicit_provider(stack_inventory: Inventory) -> None:
    provider = stack_inventory.one("pulumi:providers:sentry")
    for resource in stack_inventory.resources:
        if resource.type.startswith("sentry:"):
            assert resource.provider.startswith(provider.urn + "::"), resource.urn


# --------------------------------------------------------------------------- S11


def test_s11_client_keys_are_rate_limited(stack_inventory: Inventory) -> None:
    keys = {key.name: key for key in stack_inventory.of_type(KEY)}
    stack = stack_inventory.stack
    assert set(keys) == {name(stack, "server-key"), name(stack, "browser-key")}, list(keys)
    for key in keys.values():
        # Pulumi.yaml defaults: 1000 events per 60 s.
        assert close(key.inputs.get("rateLimitCount"), 1000), f"{key.urn}: {key.inputs}"
        assert close(key.inputs.get("rateLimitWindow"), 60), f"{key.urn}: {key.inputs}"
    server = keys[name(stack, "server-key")]
    assert {"dsnPublic", "dsnCsp"} <= set(server.additional_secret_outputs), server.urn


def _holding(value: Any, needle: str, path: str = "") -> Iterator[tuple[str, bool]]:
    """Where `needle` occurs inside `value`: (path, whether it sits inside a Secret)."""
    if isinstance(value, Secret):
        for where, _ in _holding(value.value, needle, path):
            yield where, True
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _holding(v, needle, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _holding(v, needle, f"{path}[{i}]")
    elif isinstance(value, str) and needle in value:
        yield path, False


def test_s11_sentry_auth_token_only_in_the_production_environment_secret(inventory: Inv) -> None:
    token = TEST_SECRETS["sentryAuthToken"]
    found: list[tuple[Registration, str, bool]] = []
    for stack in ("staging", "production"):
        inv = inventory(stack)
        assert not list(_holding(inv.outputs, token)), f"{stack}: the token is a stack output"
        for resource in inv.resources:
            found += [(resource, path, secret) for path, secret in _holding(resource.inputs, token)]
    assert len(found) == 1, [f"{r.urn}{path}" for r, path, _ in found]
    resource, path, secret = found[0]
    assert resource.type == ENV_SECRET and path == ".value" and secret, f"{resource.urn}{path}"
    assert resource.inputs["secretName"] == "SENTRY_AUTH_TOKEN", resource.urn
    assert resource.inputs["environment"] == "production", resource.urn


# --------------------------------------------------------------------------- alerts


def test_issue_alerts_new_regression_high_frequency(stack_inventory: Inventory) -> None:
    stack = stack_inventory.stack
    alerts = {a.name: a for a in stack_inventory.of_type(ISSUE_ALERT)}
    assert sorted(alerts) == sorted(name(stack, f"alert-{r}") for r in ISSUE_CONDITIONS), alerts
    for role, condition in ISSUE_CONDITIONS.items():
        alert = alerts[name(stack, f"alert-{role}")]
        assert alert.inputs["frequency"] == EXPECTED_FREQUENCY[stack], alert.urn
        assert [c["id"] for c in alert.inputs["conditions"]] == [condition], alert.urn
        assert alert.inputs["actionMatch"] == "any", alert.urn
    frequent = alerts[name(stack, "alert-high-frequency")].inputs["conditions"][0]
    assert (frequent["value"], frequent["interval"]) == ("100", "1h"), frequent


def test_issue_alerts_email_the_on_call_destination(stack_inventory: Inventory) -> None:
    """Production e-mails the team it owns (by id); staging, without ids, the issue owners
    falling through to all members of the project's team (the on-call address included)."""
    for alert in stack_inventory.of_type(ISSUE_ALERT):
        actions = alert.inputs["actions"]
        assert len(actions) == 1, f"{alert.urn}: {actions}"
        action = actions[0]
        assert action["id"] == "sentry.mail.actions.NotifyEmailAction", alert.urn
        if stack_inventory.stack == "production":
            assert action["targetType"] == "Team", f"{alert.urn}: {action}"
        else:
            assert (action["targetType"], action["fallthroughType"]) == (
                "IssueOwners",
                "AllMembers",
            ), f"{alert.urn}: {action}"


def _metric_alert_stacks(inventory: Inv) -> dict[str, Inventory]:
    """Stacks that have metric alerts: production, and staging once it routes to Slack."""
    return {"production": inventory("production"), "staging": _staging_with_slack()}


def test_metric_alerts_encode_the_key_metrics(inventory: Inv) -> None:
    for stack, inv in _metric_alert_stacks(inventory).items():
        expected = EXPECTED_METRIC_ALERTS[stack]
        alerts = {a.name: a for a in inv.of_type(METRIC_ALERT)}
        assert sorted(alerts) == sorted(name(stack, f"alert-{r}") for r in expected), alerts
        aggregates = {m.role: m.aggregate for m in KEY_METRICS}
        for role, (threshold, resolve) in expected.items():
            alert = alerts[name(stack, f"alert-{role}")]
            inputs = alert.inputs
            assert inputs["aggregate"] == aggregates[role], alert.urn
            assert inputs["dataset"] == METRIC_DATASET, alert.urn
            assert inputs["thresholdType"] == 0, f"{alert.urn}: alert above the threshold"
            assert close(inputs["resolveThreshold"], resolve), f"{alert.urn}: {inputs}"
            (trigger,) = inputs["triggers"]
            assert trigger["label"] == "critical", alert.urn
            assert trigger["thresholdType"] == 0, alert.urn
            assert close(trigger["alertThreshold"], threshold), f"{alert.urn}: {trigger}"
            assert inputs["resolveThreshold"] < trigger["alertThreshold"], alert.urn


def test_metric_alerts_are_span_alerts_sentry_accepts(inventory: Inv) -> None:
    """What the provider passes through unchecked and Sentry's API refuses otherwise:
    the span dataset (transaction-based datasets are refused for new alerts) with the span
    event type, transactions only, a window in minutes of at least 5, and at least one
    action on every trigger ("Each trigger must have an associated action")."""
    for stack, inv in _metric_alert_stacks(inventory).items():
        alerts = inv.of_type(METRIC_ALERT)
        assert len(alerts) == len(KEY_METRICS), stack
        for alert in alerts:
            inputs = alert.inputs
            assert inputs["dataset"] == "events_analytics_platform", alert.urn
            assert inputs["eventTypes"] == ["trace_item_span"], alert.urn
            assert "is_transaction:true" in inputs["query"].split(), alert.urn
            assert inputs["timeWindow"] in (5, 10, 15, 30, 60, 120, 240, 1440), alert.urn
            for trigger in inputs["triggers"]:
                assert trigger.get("actions"), f"{alert.urn}: a trigger without an action"


def test_metric_alerts_route_to_a_destination_or_are_left_out(inventory: Inv) -> None:
    """Production e-mails the team; staging cannot (no team id) and, without Slack, has
    no metric alerts at all, saying so at preview; with Slack it posts there only."""
    for alert in inventory("production").of_type(METRIC_ALERT):
        (trigger,) = alert.inputs["triggers"]
        assert [(a["type"], a["targetType"]) for a in trigger["actions"]] == [("email", "team")], (
            alert.urn
        )
    staging = inventory("staging")
    assert not staging.of_type(METRIC_ALERT), [r.urn for r in staging.of_type(METRIC_ALERT)]
    assert any("no metric alerts" in w for w in staging.warnings), staging.warnings
    assert not any("no metric alerts" in w for w in inventory("production").warnings)
    for alert in _staging_with_slack().of_type(METRIC_ALERT):
        (trigger,) = alert.inputs["triggers"]
        assert [a["type"] for a in trigger["actions"]] == ["slack"], alert.urn


@cache
def _staging_with_slack() -> Inventory:
    """Staging routed to Slack besides e-mail: its metric alerts then exist."""
    project = project_name()
    config = stack_config("staging")
    config[f"{project}:alertSlackWorkspaceId"] = "123456"
    config[f"{project}:alertSlackChannel"] = "#staging-alerts"
    return record("staging", config=config, secrets=TEST_SECRETS)


@cache
def _with_slack() -> Inventory:
    """Production routed to Slack only: no e-mail, so no invited member either."""
    project = project_name()
    config = stack_config("production")
    config[f"{project}:alertEmail"] = ""
    config[f"{project}:alertSlackWorkspaceId"] = "123456"
    config[f"{project}:alertSlackChannel"] = "#oncall"
    return record("production", config=config, secrets=TEST_SECRETS)


def test_slack_destination_routes_every_alert() -> None:
    inv = _with_slack()
    assert not inv.of_type(MEMBER), [r.urn for r in inv.of_type(MEMBER)]
    slack_issue = {
        "id": "sentry.integrations.slack.notify_action.SlackNotifyServiceAction",
        "workspace": "123456",
        "channel": "#oncall",
    }
    for alert in inv.of_type(ISSUE_ALERT):
        assert alert.inputs["actions"] == [slack_issue], alert.urn
    assert len(inv.of_type(METRIC_ALERT)) == len(KEY_METRICS)
    for alert in inv.of_type(METRIC_ALERT):
        (trigger,) = alert.inputs["triggers"]
        (action,) = trigger["actions"]
        got = (action["type"], action["targetType"], action["targetIdentifier"])
        assert got == ("slack", "specific", "#oncall"), alert.urn
        assert action["integrationId"] == 123456, alert.urn


def test_alert_names_fit_sentry_with_the_longest_app_name() -> None:
    """Sentry (and the provider, at plan time) refuse alert names over 64 characters."""
    project = project_name()
    config = stack_config("production")
    config[f"{project}:app"] = "a" * 32
    inv = record("production", config=config, secrets=TEST_SECRETS)
    alerts = inv.of_type(ISSUE_ALERT) + inv.of_type(METRIC_ALERT)
    assert len(alerts) == len(ISSUE_CONDITIONS) + len(KEY_METRICS)
    for alert in alerts:
        assert len(alert.inputs["name"]) <= ALERT_NAME_MAX_LENGTH, alert.inputs["name"]


def test_alert_name_over_the_limit_is_refused() -> None:
    assert alert_name("acme-web-production", "p75 LCP") == "acme-web-production: p75 LCP"
    with pytest.raises(ValueError, match="longer than 64 characters"):
        alert_name("p" * 60, "p75 LCP")


# --------------------------------------------------------------------------- DSN


class _KeyMocks(pulumi.runtime.Mocks):
    DSN = "https://publickey@o1.ingest.invalid/1"

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = dict(args.inputs)
        if args.typ == KEY:
            state["dsnPublic"] = self.DSN
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        raise AssertionError(f"invoke {args.token}")


def _settings(stack: str) -> Settings:
    prefix = f"{project_name()}:"
    raw = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    return load_settings(stack, {k.removeprefix(prefix): v for k, v in raw.items()})


def test_dsn_is_a_secret_output() -> None:
    pulumi.runtime.set_mocks(_KeyMocks(), project="monitoring-test", stack="staging")
    settings = _settings("staging")
    built: list[Monitoring] = []

    def program() -> pulumi.Output[str]:
        args = replace(monitoring_args(settings), project_slug="p", owns_team=False)
        monitoring = Monitoring("m", args)
        built.append(monitoring)
        return monitoring.dsn

    pulumi.runtime.test(program)()  # type: ignore[no-untyped-call]
    dsn = built[0].dsn
    assert _sync_await(dsn.is_secret()), "Monitoring.dsn is not a secret"
    assert _sync_await(dsn.future()) == _KeyMocks.DSN


# --------------------------------------------------------------------------- uptime


@pytest.mark.parametrize(
    ("target", "minutes"),
    [("99.9", "43.2"), ("99.95", "21.6"), ("99", "432"), ("99.999", "0.432"), ("90", "4320")],
)
def test_monthly_error_budget(target: str, minutes: str) -> None:
    assert monthly_error_budget_minutes(Decimal(target)) == Decimal(minutes)


def test_availability_target_and_error_budget_exported(stack_inventory: Inventory) -> None:
    outputs = stack_inventory.outputs
    assert outputs["availabilityTargetPercent"] == 99.9, stack_inventory.stack
    assert outputs["monthlyErrorBudgetMinutes"] == 43.2, stack_inventory.stack


# --------------------------------------------------------------------------- bad input


def _problems(stack: str, **changes: Any) -> list[str]:
    prefix = f"{project_name()}:"
    raw = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    values = {k.removeprefix(prefix): v for k, v in raw.items()}
    values.update(changes)
    with pytest.raises(ConfigError) as caught:
        load_settings(stack, values)
    return caught.value.problems


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"sentryPlatform": "javascript-nextjs"},
            "sentryPlatform: no longer used: pulumiverse-sentry 0.0.9 validates",
        ),
        ({"alertLcpMs": 100}, "alertLcpMs: 100 is not allowed; expected an integer from 500 to"),
        ({"alertFcpMs": 0}, "alertFcpMs: 0 is not allowed; expected an integer from 300 to"),
        ({"alertTtfbMs": -1}, "alertTtfbMs: -1 is not allowed; expected an integer from 50 to"),
        (
            {"alertErrorRatePercent": 0},
            "alertErrorRatePercent: 0 is not allowed; expected an integer from 1 to 100",
        ),
        (
            {"alertErrorRatePercent": 101},
            "alertErrorRatePercent: 101 is not allowed; expected an integer from 1 to 100",
        ),
        (
            {"alertFrequencyMinutes": 1},
            "alertFrequencyMinutes: 1 is not allowed; expected an integer from 5 to 1440",
        ),
        (
            {"sentryKeyRateLimitCount": 0},
            "sentryKeyRateLimitCount: 0 is not allowed; expected an integer from 1 to",
        ),
        (
            {"sentryKeyRateLimitWindowSeconds": 5},
            "sentryKeyRateLimitWindowSeconds: 5 is not allowed; expected an integer from 60 to",
        ),
        (
            {"alertEmail": "oncall@"},
            "alertEmail: 'oncall@' is not allowed; expected an e-mail address",
        ),
        (
            {"alertEmail": "on call@your-domain.com"},
            "alertEmail: 'on call@your-domain.com' is not allowed; expected an e-mail address",
        ),
        (
            {"alertEmail": ""},
            "alertEmail: '' is not allowed; expected an e-mail address or alertSlackChannel",
        ),
        (
            {"alertSlackChannel": "oncall", "alertSlackWorkspaceId": "123"},
            "alertSlackChannel: 'oncall' is not allowed; expected a Slack channel such as #oncall",
        ),
        (
            {"alertSlackChannel": "#oncall"},
            "alertSlackWorkspaceId: '' is not allowed; expected the Slack workspace id",
        ),
        (
            {"alertSlackChannel": "#oncall", "alertSlackWorkspaceId": "T0123"},
            "alertSlackWorkspaceId: 'T0123' is not allowed; expected a numeric integration id",
        ),
        (
            {"alertSlackWorkspaceId": "123"},
            "alertSlackChannel: '' is not allowed; expected a Slack channel such as #oncall with",
        ),
        (
            {"availabilityTargetPercent": "100"},
            "availabilityTargetPercent: '100' is not allowed; expected a percentage from 90",
        ),
        (
            {"availabilityTargetPercent": "89.9"},
            "availabilityTargetPercent: '89.9' is not allowed; expected a percentage from 90",
        ),
    ],
)
@pytest.mark.parametrize("stack", ["staging", "production"])
def test_bad_monitoring_input_names_key_value_and_allowed(
    stack: str, changes: dict[str, Any], expected: str
) -> None:
    found = _problems(stack, **changes)
    assert any(p.startswith(expected) for p in found), found


def test_server_dsn_flows_as_a_secret_into_vercel(stack_inventory: Inventory) -> None:
    variables = {
        entry["key"]: entry
        for resource in stack_inventory.of_type(
            "vercel:index/projectEnvironmentVariables:ProjectEnvironmentVariables"
        )
        for entry in resource.inputs["variables"]
    }
    server, browser = variables["SENTRY_DSN"], variables["NEXT_PUBLIC_SENTRY_DSN"]
    assert isinstance(server["value"], Secret) and server["sensitive"] is True, (
        stack_inventory.stack
    )
    assert not isinstance(browser["value"], Secret), "the browser key is public by design"
    assert browser["sensitive"] is False, stack_inventory.stack
