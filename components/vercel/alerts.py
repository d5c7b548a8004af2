"""Vercel's own anomaly alerts for one stack's project: errors and usage.

Vercel watches what no outside monitor sees: a jump in function errors (5xx) and a usage
spike (the bill, or an attack the firewall lets through). One built-in rule per project,
scoped to it, notifies the team's owners by e-mail and, when a channel id is configured, a
Slack channel through Vercel's Slack integration. Anomaly alerts need Vercel's
Observability on the Pro plan; on Hobby the API refuses the rule at `up`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import pulumi
import pulumiverse_vercel as vercel

from components.vercel.facts import AlertSeverity

ANOMALY_TRIGGERS: Final = ("error_anomaly", "usage_anomaly")
"""Vercel's built-in anomaly detectors the rule enables."""


@dataclass(frozen=True)
class VercelAlertsArgs:
    """Inputs of `VercelAlerts`. Values arrive validated by `components/vercel/settings.py`."""

    team_id: str
    """Vercel team owning the project (and the rule)."""
    project_id: pulumi.Input[str]
    """The project the rule watches, alone."""
    rule_name: str
    """Name of the rule, `{app}-{stack} anomalies`."""
    minimum_severity: AlertSeverity
    """Least severe anomaly that notifies: `low`, `medium` or `high` (High and Critical)."""
    slack_channel_id: str = ""
    """Slack channel id (`C…`) of Vercel's Slack integration; empty: e-mail to owners only."""


class VercelAlerts(pulumi.ComponentResource):
    """A built-in anomaly alert rule on one project, and where it notifies."""

    def __init__(
        self, name: str, args: VercelAlertsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("platform:vercel:Alerts", name, None, opts)
        rule = vercel.AlertRule(
            f"{name}-rule",
            name=args.rule_name,
            team_id=args.team_id,
            type="built-in",
            match_minimum_severity_level=args.minimum_severity,
            rule_scope=vercel.AlertRuleRuleScopeArgs(type="include", project_ids=[args.project_id]),
            triggers=[vercel.AlertRuleTriggerArgs(type=trigger) for trigger in ANOMALY_TRIGGERS],
            notification_settings=vercel.AlertRuleNotificationSettingsArgs(
                enable_team_owner_notifications=True
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        if args.slack_channel_id:
            vercel.AlertRuleSlackNotification(
                f"{name}-slack",
                alert_rule_id=rule.id,
                slack_channel_id=args.slack_channel_id,
                team_id=args.team_id,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({})
