"""Checkly facts the settings, the monitoring component and the cost estimate share."""

from __future__ import annotations

from typing import Final

FREQUENCIES_MINUTES: Final = (1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440)
"""Run frequencies Checkly accepts for checks and monitors (`frequency`, minutes)."""

LOCATIONS: Final = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
    "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1", "eu-south-1",
    "me-south-1", "af-south-1", "ap-east-1", "ap-south-1", "ap-southeast-1",
    "ap-southeast-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
)  # fmt: skip
"""Checkly's public data-centre locations (AWS region names)."""

MAX_FAILED_RUN_THRESHOLD: Final = 5
"""Run-based escalation: Checkly alerts after 1 to 5 consecutive failed runs."""

MAX_RESPONSE_TIME_MS: Final = 30_000
"""Longest `max_response_time` / `degraded_response_time` Checkly accepts."""

HEALTH_PATH: Final = "/api/health"
"""The app's health endpoint the monitors and the GitHub health check probe."""

API_RUNS_PER_PRICE_UNIT: Final = 10_000
BROWSER_RUNS_PER_PRICE_UNIT: Final = 1_000
URL_MONITORS_PER_PRICE_UNIT: Final = 25
"""Checkly bills API check runs per 10k, browser check runs per 1k and uptime (URL)
monitors per bundle of 25 (docs, "Pricing & Billing"); the prices are config."""

URL_MONITOR_PATHS: Final = {"site": "/", "health": HEALTH_PATH}
"""Uptime (URL) monitors per stack, by role: the home page and the health endpoint."""
UPTIME_MONITORS: Final = len(URL_MONITOR_PATHS) + 1
"""Uptime monitors billed per stack: the URL monitors and the TLS-certificate monitor."""
API_CHECKS: Final = 1
"""API checks per stack: `/api/health` against the TTFB budget."""
BROWSER_CHECK_PARALLEL: Final = False
"""The browser check runs one location a run, in turn, whatever `checklyParallel` says:
browser runs cost ten times API runs."""
BROWSER_CHECKS: Final = 1
"""Browser checks per stack: the home page against the web-vital targets."""
