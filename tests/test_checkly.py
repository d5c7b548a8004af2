"""Synthetic monitoring on Checkly: what each stack registers, from which settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from components.checkly.facts import HEALTH_PATH
from components.checkly.monitoring import FAILURE_FACTOR, browser_script
from components.reader import ConfigError
from tests.conftest import TEST_SECRETS
from tools.recorder import Inventory, Registration, Secret, record, stack_config

Inv = Callable[[str], Inventory]

URL_MONITOR = "checkly:index/urlMonitor:UrlMonitor"
CHECK = "checkly:index/check:Check"
SSL_MONITOR = "checkly:index/sslMonitor:SslMonitor"
CHANNEL = "checkly:index/alertChannel:AlertChannel"
STATUS_PAGE = "checkly:index/statusPageV3:StatusPageV3"
STATUS_RULE = "checkly:index/statusPageV3AutomationRule:StatusPageV3AutomationRule"
SITE = {"staging": "https://staging.your-domain.com", "production": "https://your-domain.com"}


def checks(inventory: Inventory, type_: str) -> dict[str, Registration]:
    return {r.name.rsplit("-", 1)[-1]: r for r in inventory.of_type(type_)}


def test_every_stack_monitors_site_health_ttfb_vitals_and_certificate(
    stack_inventory: Inventory,
) -> None:
    stack = stack_inventory.stack
    site = SITE[stack]
    monitors = checks(stack_inventory, URL_MONITOR)
    assert {m: r.inputs["request"]["url"] for m, r in monitors.items()} == {
        "site": f"{site}/",
        "health": f"{site}{HEALTH_PATH}",
    }
    for monitor in monitors.values():
        assertions = monitor.inputs["request"]["assertions"]
        assert assertions == [{"source": "STATUS_CODE", "comparison": "EQUALS", "target": "200"}]
        assert monitor.inputs["activated"] is True, monitor.urn
    by_type = {r.inputs["type"]: r for r in stack_inventory.of_type(CHECK)}
    assert set(by_type) == {"API", "BROWSER"}
    assert by_type["API"].inputs["request"]["url"] == f"{site}{HEALTH_PATH}"
    ssl = stack_inventory.one(SSL_MONITOR)
    assert ssl.inputs["request"]["hostname"] == stack_inventory.outputs["domain"], ssl.urn
    assert ssl.inputs["request"]["alertDaysBeforeExpiry"] == 30, ssl.urn


@pytest.mark.parametrize(
    ("stack", "frequency", "parallel", "failures", "ttfb"),
    [("production", 1, True, 2, 200), ("staging", 10, False, 3, 600)],
)
def test_production_watches_closer_than_staging(
    inventory: Inv, stack: str, frequency: int, parallel: bool, failures: int, ttfb: int
) -> None:
    inv = inventory(stack)
    api = next(r for r in inv.of_type(CHECK) if r.inputs["type"] == "API")
    # The TTFB budget from config marks the endpoint degraded; far beyond it, it fails.
    assert api.inputs["degradedResponseTime"] == ttfb, api.urn
    assert api.inputs["maxResponseTime"] == ttfb * FAILURE_FACTOR, api.urn
    for monitor in [*inv.of_type(URL_MONITOR), api]:
        assert monitor.inputs["frequency"] == frequency, monitor.urn
        assert monitor.inputs["runParallel"] is parallel, monitor.urn
        assert len(monitor.inputs["locations"]) == 3, monitor.urn
        escalation = monitor.inputs["alertSettings"]["runBasedEscalations"]
        assert escalation == [{"failedRunThreshold": failures}], monitor.urn


def test_every_monitor_alerts_the_on_call_channel(stack_inventory: Inventory) -> None:
    channel = stack_inventory.one(CHANNEL)
    assert channel.inputs["email"] == {"address": "oncall@your-domain.com"}, channel.urn
    assert channel.inputs["sendFailure"] is True and channel.inputs["sendRecovery"] is True
    for monitor in [
        *stack_inventory.of_type(URL_MONITOR),
        *stack_inventory.of_type(CHECK),
        *stack_inventory.of_type(SSL_MONITOR),
    ]:
        subscriptions = monitor.inputs["alertChannelSubscriptions"]
        assert [s["activated"] for s in subscriptions] == [True], monitor.urn


def test_browser_check_asserts_the_web_vital_targets(inventory: Inv) -> None:
    browser = next(
        r for r in inventory("production").of_type(CHECK) if r.inputs["type"] == "BROWSER"
    )
    assert browser.inputs["script"] == browser_script(SITE["production"], 2500, 1500)
    # One location a run: browser runs cost ten times API runs.
    assert browser.inputs["runParallel"] is False, browser.urn
    assert browser.inputs["frequency"] == 10, browser.urn


def test_browser_script_fails_above_each_target() -> None:
    script = browser_script("https://example.com", 2500, 1500)
    assert "toBeLessThan(2500)" in script and "toBeLessThan(1500)" in script
    assert 'page.goto("https://example.com"' in script
    assert "largest-contentful-paint" in script and "first-contentful-paint" in script


def test_only_production_publishes_a_status_page(inventory: Inv) -> None:
    page = inventory("production").one(STATUS_PAGE)
    assert page.inputs["url"] == "acme-web-production-status" and page.protect, page.urn
    rule = inventory("production").one(STATUS_RULE)
    assert rule.inputs["tags"] == ["acme-web-production"], rule.urn
    assert inventory("production").outputs["statusPageSubdomain"] == "acme-web-production-status"
    assert not inventory("staging").of_type(STATUS_PAGE)


def test_slack_channel_with_its_webhook_secret() -> None:
    config = stack_config("production")
    config["webapp-platform:alertSlackWorkspaceId"] = "12345"
    config["webapp-platform:alertSlackChannel"] = "#oncall"
    webhook = "https://hooks.slack.test/services/T000/B000/not-a-real-secret"
    inv = record(
        "production", config=config, secrets={**TEST_SECRETS, "checklySlackWebhookUrl": webhook}
    )
    slack = [r for r in inv.of_type(CHANNEL) if "slack" in r.inputs]
    assert len(slack) == 1
    assert slack[0].inputs["slack"]["channel"] == "#oncall"
    assert slack[0].inputs["slack"]["url"] == Secret(webhook), "the webhook URL is a secret"


def test_without_an_account_there_is_no_synthetic_monitoring_and_the_preview_says_so() -> None:
    config = stack_config("staging")
    config["webapp-platform:checklyAccountId"] = ""
    inv = record("staging", config=config, secrets=TEST_SECRETS)
    assert not [r for r in inv.resources if r.type.startswith("checkly:")]
    assert any("no synthetic monitoring" in w for w in inv.warnings), inv.warnings
    assert inv.outputs["monthlyCostBreakdownUsd"]["checkly"] == 0


@pytest.mark.parametrize(
    ("stack", "changes", "expected"),
    [
        ("staging", {"checklyFrequencyMinutes": 3}, "checklyFrequencyMinutes: 3 is not allowed"),
        ("staging", {"checklyLocations": ["mars-1"]}, "checklyLocations: item 'mars-1'"),
        ("staging", {"checklyAccountId": "acme"}, "checklyAccountId: 'acme' is not allowed"),
        ("staging", {"checklyFailedRunsBeforeAlert": 6}, "checklyFailedRunsBeforeAlert: 6"),
        (
            "production",
            {"checklyLocations": ["eu-west-1"]},
            'checklyLocations: ["eu-west-1"] is not allowed; expected at least 2 locations',
        ),
        (
            "production",
            {"vercelDeploymentProtection": "all_deployments"},
            "checklyAccountId: '3f0c8d2e-5b7a-4c1e-9a6d-2e8f4b1c7a90' is not allowed; expected "
            "empty when vercelDeploymentProtection is all_deployments",
        ),
    ],
)
def test_bad_checkly_settings_name_key_value_and_allowed(
    stack: str, changes: dict[str, Any], expected: str
) -> None:
    config = stack_config(stack)
    config.update({f"webapp-platform:{key}": value for key, value in changes.items()})
    with pytest.raises(ConfigError) as caught:
        record(stack, config=config, secrets=TEST_SECRETS)
    assert any(p.startswith(expected) for p in caught.value.problems), caught.value.problems


def test_availability_is_measured_on_a_private_dashboard_of_the_stacks_checks(
    stack_inventory: Inventory,
) -> None:
    prefix = f"acme-web-{stack_inventory.stack}"
    dashboard = stack_inventory.one("checkly:index/dashboard:Dashboard")
    assert dashboard.inputs["tags"] == [prefix] and dashboard.inputs["isPrivate"] is True
    assert stack_inventory.outputs["availabilityDashboard"] == f"{prefix}-availability"
    tagged = [r for r in stack_inventory.resources if r.inputs.get("tags") == [prefix]]
    assert len(tagged) >= 5, "every check carries the tag the dashboard selects"
