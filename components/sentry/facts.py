"""Sentry facts the settings and the monitoring component share; no SDK import."""

from __future__ import annotations

from typing import Final

ALERT_NAME_MAX_LENGTH: Final = 64
"""Longest alert name Sentry (and the provider, for issue alerts) accepts."""

MIN_ALERT_FREQUENCY_MINUTES: Final = 5
MAX_ALERT_FREQUENCY_MINUTES: Final = 1440
"""Bounds of an issue alert's `frequency` (Sentry's form offers 5 minutes to one day)."""
