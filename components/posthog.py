"""PostHog: product analytics by project key and host (no Pulumi provider exists).

The key and host reach the app as public Vercel variables, and the host's origins join the
Content-Security-Policy. `load_posthog` reads and validates them with the generic `Reader`;
`components/config.py` calls it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from components.reader import HTTPS_URL, Reader

_POSTHOG_KEY = re.compile(r"^phc_[A-Za-z0-9]{20,64}$")
_POSTHOG_CLOUD = re.compile(r"^https://(us|eu)\.i\.posthog\.com$")


@dataclass(frozen=True)
class PostHogSettings:
    """PostHog project key and ingestion host; see Pulumi.yaml."""

    project_key: str
    """Project API key `phc_...`, public by PostHog's design; empty: PostHog is not used."""
    host: str
    """Ingestion host (PostHog Cloud US or EU, or a reverse proxy of the app's own)."""

    @property
    def enabled(self) -> bool:
        return bool(self.project_key)


def load_posthog(r: Reader) -> PostHogSettings:
    return PostHogSettings(
        project_key=r.string(
            "posthogProjectKey", _POSTHOG_KEY, "a PostHog project key phc_...", optional=True
        ),
        host=r.string("posthogHost", HTTPS_URL, "an https:// URL"),
    )


def csp_origins(host: str) -> tuple[list[str], list[str]]:
    """PostHog's (script, connect) origins; its cloud loads extensions from an assets host."""
    # A CSP source is an origin: a path would match that exact path only (a proxy such as
    # https://example.com/ingest would then have every request under it refused), and a `;`
    # or `,` in it would end the directive or the header.
    parts = urlsplit(host)
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    match = _POSTHOG_CLOUD.fullmatch(origin)
    assets = [f"https://{match.group(1)}-assets.i.posthog.com"] if match else []
    return assets, [origin, *assets]
