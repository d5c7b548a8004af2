"""Vercel facts the settings, the components and the policy pack share; no SDK import."""

from __future__ import annotations

from typing import Final, Literal

FRAMEWORKS: Final = (
    "nextjs", "remix", "astro", "sveltekit-1", "nuxtjs", "vite", "create-react-app",
    "gatsby", "angular", "vue", "hydrogen", "solidstart-1", "react-router",
)  # fmt: skip
"""Framework presets `vercelFramework` may name."""
NODE_VERSIONS: Final = ("20.x", "22.x", "24.x")
REGIONS: Final = (
    "arn1", "bom1", "cdg1", "cle1", "cpt1", "dub1", "dxb1", "fra1", "gru1", "hkg1",
    "hnd1", "iad1", "icn1", "kix1", "lhr1", "pdx1", "sfo1", "sin1", "syd1",
)  # fmt: skip
"""Function regions `vercelFunctionRegion` may name."""

DeploymentProtection = Literal["standard_protection", "all_deployments"]
DEPLOYMENT_TYPES: Final[dict[DeploymentProtection, str]] = {
    "standard_protection": "standard_protection_new",
    "all_deployments": "all_deployments",
}
"""Config's protection scope → the provider's `deployment_type`. Vercel's Standard Protection
(everything but the production custom domains, generated production URLs included) is
`standard_protection_new`; plain `standard_protection` is the legacy scope that leaves the
current production deployment's generated URLs public."""
PROTECTED_DEPLOYMENT_TYPES: Final = ("standard_protection", *DEPLOYMENT_TYPES.values())
"""Every `deployment_type` that protects preview deployments (rule S6), the legacy scope
included: what the policy pack accepts on a project it did not configure itself."""

RATE_LIMIT_MIN_WINDOW_SECONDS: Final = 10
RATE_LIMIT_MAX_WINDOW_SECONDS: Final = 600
"""Longest fixed window Vercel's WAF accepts on Hobby and Pro (10 minutes; 1 hour only on
Enterprise): a longer one fails the whole firewall update at apply time."""

Target = Literal["production", "preview"]
"""Vercel environments a stack deploys to (`development` only ever gets public values)."""

BotProtectionAction = Literal["challenge", "deny", "log"]

DATABASE_URL: Final = "DATABASE_URL"
"""The app's Postgres connection string (pooled): set only when the app connects to
Postgres directly (rule S1)."""

PUBLIC_PREFIX: Final = "NEXT_PUBLIC_"
"""Next.js inlines these into the browser bundle: never a secret behind this prefix (S8)."""

PREVIEW_URL_PATTERN: Final = "https://{project}-*.vercel.app"
"""Glob of the URLs Vercel generates per deployment (`{project}-{hash}-{team}.vercel.app`)."""
