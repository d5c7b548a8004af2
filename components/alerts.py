"""Where alerts go and what they measure: routing, key-metric thresholds, availability.

Platform-wide settings every monitor reads (Sentry's alerts today), so they are not any
one provider's: `load_alerts` reads and validates them with the generic `Reader`;
`components/config.py` calls it. The availability target's error budget is computed here
and exported by the stack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from components.reader import EMAIL, Reader

MINUTES_PER_MONTH: Final = 43_200
"""A 30-day month, the period the error budget is stated for."""

_SLACK_CHANNEL = re.compile(r"^#[a-z0-9][a-z0-9._-]{0,79}$")
_SLACK_WORKSPACE_ID = re.compile(r"^\d{1,20}$")


@dataclass(frozen=True)
class AlertSettings:
    """Alert destinations and thresholds; see Pulumi.yaml for each key."""

    email: str
    """On-call address; empty when alerts go to Slack only."""
    slack_workspace_id: str
    """Numeric id of Sentry's Slack integration; empty without Slack."""
    slack_channel: str
    """Slack channel such as `#oncall`; empty without Slack."""
    error_rate_percent: int
    lcp_ms: int
    fcp_ms: int
    ttfb_ms: int
    first_load_js_kb: int
    """Budget of a route's first-load JavaScript (gzip), checked on every pull request."""
    availability_target_percent: Decimal


def _percentage(text: str) -> Decimal | None:
    """An availability target such as "99.9", from 90 up to (not including) 100."""
    if not re.fullmatch(r"\d{2}(?:\.\d{1,3})?", text):
        return None
    value = Decimal(text)
    return value if Decimal(90) <= value < Decimal(100) else None


def load_alerts(r: Reader) -> AlertSettings:
    email = r.string("alertEmail", EMAIL, "an e-mail address", optional=True)
    workspace = r.string(
        "alertSlackWorkspaceId", _SLACK_WORKSPACE_ID, "a numeric integration id", optional=True
    )
    channel = r.string(
        "alertSlackChannel", _SLACK_CHANNEL, "a Slack channel such as #oncall", optional=True
    )
    if channel and not workspace:
        r.problem(
            "alertSlackWorkspaceId", workspace, "the Slack workspace id with alertSlackChannel"
        )
    if workspace and not channel:
        # A workspace alone routes nowhere; saying so beats silently dropping Slack.
        r.problem(
            "alertSlackChannel",
            channel,
            "a Slack channel such as #oncall with alertSlackWorkspaceId",
        )
    if not email and not channel:
        r.problem("alertEmail", email, "an e-mail address or alertSlackChannel (alert destination)")
    target_text = r.string("availabilityTargetPercent")
    target = _percentage(target_text)
    if target is None:
        r.problem("availabilityTargetPercent", target_text, "a percentage from 90 to 99.999")
        target = Decimal("99.9")
    return AlertSettings(
        email=email,
        slack_workspace_id=workspace,
        slack_channel=channel,
        error_rate_percent=r.integer("alertErrorRatePercent", 1, 100),
        lcp_ms=r.integer("alertLcpMs", 500, 60000),
        fcp_ms=r.integer("alertFcpMs", 300, 60000),
        ttfb_ms=r.integer("alertTtfbMs", 50, 60000),
        first_load_js_kb=r.integer("performanceBudgetFirstLoadJsKb", 50, 5000),
        availability_target_percent=target,
    )


def monthly_error_budget_minutes(availability_target_percent: Decimal) -> Decimal:
    """Minutes of downtime per 30-day month the availability target allows.

    99.9 gives 43200 × 0.001 = 43.2 minutes.
    """
    return MINUTES_PER_MONTH * (1 - availability_target_percent / 100)
