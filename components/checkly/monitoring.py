"""One stack's synthetic monitoring on Checkly: the site measured from outside.

Per stack: URL monitors of the site and of `/api/health` (uptime, every minute in
production, from several locations), an API check of `/api/health` against the TTFB budget,
a browser check of the home page against the web-vital targets (LCP, FCP), an SSL-certificate
monitor of the domain, and alert channels (e-mail, and Slack when configured) that hear of a
failure only after consecutive failed runs. Production adds a public status page whose
components follow the monitors. The thresholds come from the same settings as Sentry's
metric alerts (components/alerts.py), so one number means one thing everywhere.

How it combines with the rest (docs/monitoring-and-cost.md): Checkly pages (its channels
reach on-call within minutes); the app repository's `health-check.yml` keeps the incident
issue; Sentry reports errors and the app's own web vitals.

Response time from a remote location includes DNS, TCP and TLS set-up, which the TTFB budget
does not: the API check marks the endpoint *degraded* above the budget (a notification, no
page) and fails only at `FAILURE_FACTOR` times it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import pulumi
import pulumi_checkly as checkly

from components.checkly.facts import (
    BROWSER_CHECK_PARALLEL,
    HEALTH_PATH,
    MAX_RESPONSE_TIME_MS,
    URL_MONITOR_PATHS,
)

FAILURE_FACTOR: Final = 5
"""An API check fails (and pages) only at this many times the TTFB budget; above the budget
it is degraded."""

UPTIME_MAX_RESPONSE_MS: Final = 10_000
"""A URL monitor fails when the page takes longer than this (a hung server), besides on any
status but 200."""

SSL_MONITOR_FREQUENCY_MINUTES: Final = 60
"""Certificates change rarely: hourly is plenty to warn weeks before expiry."""

STATUS_PAGE_IMPACT: Final = "MAJOR_OUTAGE"
"""What a failing production monitor sets on its status-page component."""


def browser_script(url: str, lcp_ms: int, fcp_ms: int) -> str:
    """The Playwright script of the browser check: load `url`, assert LCP and FCP.

    Web vitals are read in the page with the browser's own PerformanceObserver (what the
    Web Vitals library reports), so the check measures what a visitor's browser measures.
    """
    target = json.dumps(url)
    return f"""const {{ expect, test }} = require('@playwright/test')

test('home page meets the web-vital targets', async ({{ page }}) => {{
  const response = await page.goto({target}, {{ waitUntil: 'load' }})
  expect(response.status()).toBe(200)
  const vitals = await page.evaluate(() => new Promise((resolve) => {{
    const seen = {{ lcp: 0, fcp: 0 }}
    new PerformanceObserver((list) => {{
      for (const entry of list.getEntries()) seen.lcp = entry.startTime
    }}).observe({{ type: 'largest-contentful-paint', buffered: true }})
    const paint = performance.getEntriesByName('first-contentful-paint')[0]
    seen.fcp = paint ? paint.startTime : 0
    setTimeout(() => resolve(seen), 1000)
  }}))
  console.log(`LCP ${{Math.round(vitals.lcp)}} ms, FCP ${{Math.round(vitals.fcp)}} ms`)
  expect(vitals.lcp, 'LCP (ms)').toBeLessThan({lcp_ms})
  expect(vitals.fcp, 'FCP (ms)').toBeLessThan({fcp_ms})
}})
"""


@dataclass(frozen=True)
class SyntheticMonitoringArgs:
    """Inputs of `SyntheticMonitoring`. Values arrive validated by
    `components/checkly/settings.py` and `components/alerts.py`."""

    name_prefix: str
    """Prefix of every Checkly name and the tag that groups the stack's checks,
    `{app}-{stack}`."""
    site_url: str
    """The stack's public URL, `https://{domain}`."""
    domain: str
    """The domain whose certificate is watched."""
    locations: Sequence[str]
    """Checkly locations the checks run from."""
    frequency_minutes: int
    """How often the URL monitors and the API check run."""
    browser_frequency_minutes: int
    """How often the browser check runs (each run is billed ten times an API run)."""
    failed_runs_before_alert: int
    """Consecutive failed runs before a channel hears of it (1-5): one blip pages nobody."""
    ssl_expiry_alert_days: int
    """Warn this many days before the certificate expires."""
    ttfb_ms: int
    """Server response budget (the seed's TTFB target)."""
    lcp_ms: int
    """Largest Contentful Paint target."""
    fcp_ms: int
    """First Contentful Paint target."""
    alert_email: str = ""
    """On-call address; empty: no e-mail channel."""
    slack_channel: str = ""
    """Slack channel such as `#oncall`; Slack is used only with `slack_webhook_url` too."""
    slack_webhook_url: pulumi.Input[str] | None = None
    """Incoming-webhook URL of `slack_channel` (a secret)."""
    parallel: bool = False
    """Run every location on every run (production), instead of one location a run in turn."""
    notify_degraded: bool = False
    """Tell the channels when a check is degraded (over its budget but not failing)."""
    status_page: bool = False
    """Publish a status page whose components follow the monitors (production)."""
    protect: bool = False
    """Protect the status page: its subdomain and subscribers are public."""


class SyntheticMonitoring(pulumi.ComponentResource):
    """Checkly monitors, checks and alert channels of one stack (and its status page)."""

    availability_dashboard: pulumi.Output[str]
    """Subdomain (under checklyhq.com) of the team's private availability dashboard."""
    status_page_url: pulumi.Output[str] | None
    """Subdomain of the public status page; None without one."""

    def __init__(
        self,
        name: str,
        args: SyntheticMonitoringArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("platform:checkly:SyntheticMonitoring", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        prefix = args.name_prefix
        tags = [prefix]
        locations = list(args.locations)

        channels: list[checkly.AlertChannel] = []
        common = {
            "send_failure": True,
            "send_recovery": True,
            "send_degraded": args.notify_degraded,
            "ssl_expiry": True,
            "ssl_expiry_threshold": args.ssl_expiry_alert_days,
        }
        if args.alert_email:
            channels.append(
                checkly.AlertChannel(
                    f"{name}-email",
                    email=checkly.AlertChannelEmailArgs(address=args.alert_email),
                    opts=child,
                    **common,
                )
            )
        if args.slack_channel and args.slack_webhook_url is not None:
            channels.append(
                checkly.AlertChannel(
                    f"{name}-slack",
                    slack=checkly.AlertChannelSlackArgs(
                        channel=args.slack_channel,
                        url=pulumi.Output.secret(args.slack_webhook_url),
                    ),
                    opts=child,
                    **common,
                )
            )
        if not channels:
            pulumi.log.warn(
                f"Checkly {prefix}: no alert channel (alertEmail, or alertSlackChannel with the "
                "checklySlackWebhookUrl secret): the monitors run but page nobody",
                resource=self,
            )
        channel_ids = [channel.id.apply(int) for channel in channels]

        def alerting() -> dict[str, object]:
            return {
                "activated": True,
                "use_global_alert_settings": False,
                "locations": locations,
                "run_parallel": args.parallel,
                "tags": tags,
            }

        for role, path in URL_MONITOR_PATHS.items():
            checkly.UrlMonitor(
                f"{name}-{role}",
                name=f"{prefix} {role} up",
                frequency=args.frequency_minutes,
                request=checkly.UrlMonitorRequestArgs(
                    url=args.site_url.rstrip("/") + path,
                    follow_redirects=True,
                    assertions=[
                        checkly.UrlMonitorRequestAssertionArgs(
                            source="STATUS_CODE", comparison="EQUALS", target="200"
                        )
                    ],
                ),
                max_response_time=UPTIME_MAX_RESPONSE_MS,
                alert_settings=checkly.UrlMonitorAlertSettingsArgs(
                    escalation_type="RUN_BASED",
                    run_based_escalations=[
                        checkly.UrlMonitorAlertSettingsRunBasedEscalationArgs(
                            failed_run_threshold=args.failed_runs_before_alert
                        )
                    ],
                ),
                # A retry from another location tells a local blip from an outage.
                retry_strategy=checkly.UrlMonitorRetryStrategyArgs(
                    type="SINGLE_RETRY", same_region=False
                ),
                alert_channel_subscriptions=[
                    checkly.UrlMonitorAlertChannelSubscriptionArgs(
                        channel_id=channel_id, activated=True
                    )
                    for channel_id in channel_ids
                ],
                opts=child,
                **alerting(),
            )

        subscriptions = [
            checkly.CheckAlertChannelSubscriptionArgs(channel_id=channel_id, activated=True)
            for channel_id in channel_ids
        ]
        check_alerts = checkly.CheckAlertSettingsArgs(
            escalation_type="RUN_BASED",
            run_based_escalations=[
                checkly.CheckAlertSettingsRunBasedEscalationArgs(
                    failed_run_threshold=args.failed_runs_before_alert
                )
            ],
        )
        checkly.Check(
            f"{name}-api",
            name=f"{prefix} API response time",
            type="API",
            frequency=args.frequency_minutes,
            request=checkly.CheckRequestArgs(
                url=args.site_url.rstrip("/") + HEALTH_PATH,
                method="GET",
                follow_redirects=True,
                assertions=[
                    checkly.CheckRequestAssertionArgs(
                        source="STATUS_CODE", comparison="EQUALS", target="200"
                    ),
                ],
            ),
            degraded_response_time=args.ttfb_ms,
            max_response_time=min(args.ttfb_ms * FAILURE_FACTOR, MAX_RESPONSE_TIME_MS),
            alert_settings=check_alerts,
            alert_channel_subscriptions=subscriptions,
            opts=child,
            **alerting(),
        )
        checkly.Check(
            f"{name}-browser",
            name=f"{prefix} home page web vitals",
            type="BROWSER",
            frequency=args.browser_frequency_minutes,
            script=browser_script(args.site_url, args.lcp_ms, args.fcp_ms),
            alert_settings=check_alerts,
            alert_channel_subscriptions=subscriptions,
            opts=child,
            **{**alerting(), "run_parallel": BROWSER_CHECK_PARALLEL},
        )
        checkly.SslMonitor(
            f"{name}-ssl",
            name=f"{prefix} certificate",
            activated=True,
            frequency=SSL_MONITOR_FREQUENCY_MINUTES,
            request=checkly.SslMonitorRequestArgs(
                hostname=args.domain, alert_days_before_expiry=args.ssl_expiry_alert_days
            ),
            locations=locations[:1],
            tags=tags,
            alert_channel_subscriptions=[
                checkly.SslMonitorAlertChannelSubscriptionArgs(
                    channel_id=channel_id, activated=True
                )
                for channel_id in channel_ids
            ],
            opts=child,
        )

        # Availability measured, not only computed: the stack's checks' success ratio (p95 and
        # p99 response times too) over time, for the team, against the exported error budget.
        dashboard = checkly.Dashboard(
            f"{name}-availability",
            custom_url=f"{prefix}-availability",
            header=f"{args.domain}: availability and response times",
            tags=tags,
            is_private=True,
            show_p95=True,
            show_p99=True,
            opts=child,
        )
        self.availability_dashboard: pulumi.Output[str] = dashboard.custom_url
        self.status_page_url = None
        if args.status_page:
            self.status_page_url = self._status_page(name, args, tags)
        self.register_outputs(
            {
                "availability_dashboard": self.availability_dashboard,
                "status_page_url": self.status_page_url,
            }
        )

    def _status_page(
        self, name: str, args: SyntheticMonitoringArgs, tags: list[str]
    ) -> pulumi.Output[str]:
        """A public status page whose one component the stack's failing checks mark down."""
        page = checkly.StatusPageV3(
            f"{name}-status-page",
            name=f"{args.domain} status",
            url=f"{args.name_prefix}-status",
            allow_indexing=False,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        component = checkly.StatusPageV3Component(
            f"{name}-status-component",
            status_page_id=page.id,
            name=args.domain,
            display_order=1,
            opts=pulumi.ResourceOptions(parent=self),
        )
        checkly.StatusPageV3AutomationRule(
            f"{name}-status-rule",
            name=f"{args.name_prefix} outage",
            status_page_id=page.id,
            tags=tags,
            components=[
                checkly.StatusPageV3AutomationRuleComponentArgs(
                    component_id=component.id, target_impact=STATUS_PAGE_IMPACT
                )
            ],
            first_update=f"{args.domain} is not responding; we are investigating.",
            last_update=f"{args.domain} is responding again.",
            enabled=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        url: pulumi.Output[str] = page.url
        return url
