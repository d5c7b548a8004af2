"""Sentry settings: organisation, team, client-key rate limit and issue-alert frequency.

This package's section of the stack settings: `load_sentry` reads and validates its keys
with the generic `Reader` (components/reader.py); `components/config.py` calls it. Where
alerts go and the thresholds they use are platform-wide (components/alerts.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from components.reader import SLUG, Reader
from components.sentry.facts import MAX_ALERT_FREQUENCY_MINUTES, MIN_ALERT_FREQUENCY_MINUTES


@dataclass(frozen=True)
class SentrySettings:
    """This stack's Sentry project; see Pulumi.yaml for each key."""

    organization: str
    team: str
    """The team owning the projects; the app's name when `sentryTeam` is empty."""
    key_rate_limit_count: int
    key_rate_limit_window_seconds: int
    alert_frequency_minutes: int


def load_sentry(r: Reader, app: str) -> SentrySettings:
    return SentrySettings(
        organization=r.string("sentryOrganization", SLUG, "a Sentry organisation slug"),
        team=r.string("sentryTeam", SLUG, "a Sentry team slug", optional=True) or app,
        key_rate_limit_count=r.integer("sentryKeyRateLimitCount", 1, 1_000_000),
        key_rate_limit_window_seconds=r.integer("sentryKeyRateLimitWindowSeconds", 60, 86400),
        alert_frequency_minutes=r.integer(
            "alertFrequencyMinutes", MIN_ALERT_FREQUENCY_MINUTES, MAX_ALERT_FREQUENCY_MINUTES
        ),
    )
