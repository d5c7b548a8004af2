"""Checkly settings: the account, where and how often the synthetic monitors run.

This package's section of the stack settings: `load_checkly` reads and validates its keys
with the generic `Reader` (components/reader.py); `components/config.py` calls it. The
thresholds the checks assert and where alerts go are platform-wide (components/alerts.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from components.alerts import MINUTES_PER_MONTH
from components.checkly.facts import FREQUENCIES_MINUTES, LOCATIONS, MAX_FAILED_RUN_THRESHOLD
from components.reader import Reader

_ACCOUNT_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
PRODUCTION_MIN_LOCATIONS = 2
"""Production probes from at least two locations, so one region's trouble is not an outage."""


@dataclass(frozen=True)
class ChecklySettings:
    """Synthetic monitoring of this stack; see Pulumi.yaml for each key."""

    account_id: str
    """Checkly account (a UUID); empty: no synthetic monitoring (the preview warns)."""
    locations: tuple[str, ...]
    frequency_minutes: int
    browser_frequency_minutes: int
    parallel: bool
    """Every location on every run; else one location a run, in turn."""
    failed_runs_before_alert: int
    ssl_expiry_alert_days: int

    @property
    def enabled(self) -> bool:
        return bool(self.account_id)


def load_checkly(r: Reader, stack: str) -> ChecklySettings:
    frequency_choices = ", ".join(map(str, FREQUENCIES_MINUTES))
    locations = r.items(
        "checklyLocations",
        lambda item: item if item in LOCATIONS else None,
        f"a Checkly location: {', '.join(LOCATIONS)}",
        max_items=len(LOCATIONS),
    )
    account_id = r.string(
        "checklyAccountId", _ACCOUNT_ID, "a Checkly account id (a UUID)", optional=True
    )
    if account_id and stack == "production" and len(locations) < PRODUCTION_MIN_LOCATIONS:
        r.problem(
            "checklyLocations",
            list(locations),
            f"at least {PRODUCTION_MIN_LOCATIONS} locations in production",
        )
    frequencies = {}
    for key in ("checklyFrequencyMinutes", "checklyBrowserFrequencyMinutes"):
        value = r.integer(key, FREQUENCIES_MINUTES[0], FREQUENCIES_MINUTES[-1])
        if value not in FREQUENCIES_MINUTES:
            r.problem(key, value, f"one of {frequency_choices} (minutes)")
        frequencies[key] = value
    return ChecklySettings(
        account_id=account_id,
        locations=locations,
        frequency_minutes=frequencies["checklyFrequencyMinutes"],
        browser_frequency_minutes=frequencies["checklyBrowserFrequencyMinutes"],
        parallel=r.boolean("checklyParallel"),
        failed_runs_before_alert=r.integer(
            "checklyFailedRunsBeforeAlert", 1, MAX_FAILED_RUN_THRESHOLD
        ),
        ssl_expiry_alert_days=r.integer("checklySslExpiryAlertDays", 1, 180),
    )


def monthly_runs(settings: ChecklySettings, frequency_minutes: int, *, parallel: bool) -> int:
    """Runs Checkly bills per 30-day month for one check at `frequency_minutes`, every
    location on every run when `parallel`, else one location a run."""
    per_run = len(settings.locations) if parallel else 1
    return MINUTES_PER_MONTH // frequency_minutes * per_run
