"""The application's `vercel.json`: security headers and no git-triggered deployments.

The production stack commits it into the application repository like the workflows, so both
stacks' deployments serve the same headers. It carries no per-stack value: the CSP allows the
service origins by their public wildcard (`*.supabase.co`, Sentry's ingest hosts), not one
project's URL.

The default Content-Security-Policy is as strict as a static header can be for a server-
rendered framework: no third-party script origins, no `eval`, no plugins, no framing, no
foreign form targets. It keeps `'unsafe-inline'` for scripts and styles because Next.js and its
peers inline their bootstrap scripts; a nonce-based policy needs middleware in the app, and then
`contentSecurityPolicy` in config carries that policy instead.
"""

from __future__ import annotations

import json
from typing import Any

from components.posthog import csp_origins

HSTS = "max-age=63072000; includeSubDomains; preload"
"""Two years, every subdomain, eligible for the browsers' preload list."""
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()"
)
"""Powerful browser features the app does not use, switched off for it and every frame."""

SUPABASE_ORIGINS = ("https://*.supabase.co", "wss://*.supabase.co")
SENTRY_ORIGINS = (
    "https://*.ingest.sentry.io",
    "https://*.ingest.us.sentry.io",
    "https://*.ingest.de.sentry.io",
)


def default_content_security_policy(posthog_host: str = "") -> str:
    """The program's strict default CSP (see the module docstring for its one concession).

    `posthog_host`: PostHog's ingestion host when the app uses PostHog, else empty.
    """
    posthog_scripts, posthog_connect = csp_origins(posthog_host) if posthog_host else ([], [])
    directives = [
        ("default-src", ["'self'"]),
        ("script-src", ["'self'", "'unsafe-inline'", *posthog_scripts]),
        ("style-src", ["'self'", "'unsafe-inline'"]),
        ("img-src", ["'self'", "data:", "blob:", SUPABASE_ORIGINS[0]]),
        ("font-src", ["'self'"]),
        ("connect-src", ["'self'", *SUPABASE_ORIGINS, *SENTRY_ORIGINS, *posthog_connect]),
        ("worker-src", ["'self'", "blob:"]),
        ("frame-src", ["'none'"]),
        ("object-src", ["'none'"]),
        ("base-uri", ["'self'"]),
        ("form-action", ["'self'"]),
        ("frame-ancestors", ["'none'"]),
    ]
    rendered = [f"{name} {' '.join(sources)}" for name, sources in directives]
    return "; ".join([*rendered, "upgrade-insecure-requests"])


def security_headers(content_security_policy: str) -> list[dict[str, str]]:
    """The headers every response carries."""
    return [
        {"key": "Content-Security-Policy", "value": content_security_policy},
        {"key": "Strict-Transport-Security", "value": HSTS},
        {"key": "X-Content-Type-Options", "value": "nosniff"},
        # Also for browsers that ignore frame-ancestors, and when a custom CSP omits it.
        {"key": "X-Frame-Options", "value": "DENY"},
        {"key": "Referrer-Policy", "value": "strict-origin-when-cross-origin"},
        {"key": "Permissions-Policy", "value": PERMISSIONS_POLICY},
        {"key": "Cross-Origin-Opener-Policy", "value": "same-origin"},
    ]


def vercel_json(content_security_policy: str) -> dict[str, Any]:
    """The `vercel.json` document."""
    return {
        # Deployments come only from the deploy workflow (Vercel CLI), never from a push,
        # even if someone links the repository in the Vercel dashboard.
        "git": {"deploymentEnabled": False},
        "headers": [{"source": "/(.*)", "headers": security_headers(content_security_policy)}],
    }


def render_vercel_json(content_security_policy: str) -> str:
    """`vercel.json` as committed: stable key order, two-space indent, final newline."""
    return json.dumps(vercel_json(content_security_policy), indent=2) + "\n"
