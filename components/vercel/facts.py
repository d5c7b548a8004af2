"""Vercel facts the settings, the components and the policy pack share; no SDK import."""

from __future__ import annotations

from typing import Final, Literal

NEXTJS: Final = "nextjs"
"""The framework whose build manifests the first-load JavaScript budget reads."""
FRAMEWORKS: Final = (
    NEXTJS, "remix", "astro", "sveltekit-1", "nuxtjs", "vite", "create-react-app",
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

SUPABASE_URL: Final = "NEXT_PUBLIC_SUPABASE_URL"
"""The app's Supabase API URL (public)."""
SUPABASE_ANON_KEY: Final = "NEXT_PUBLIC_SUPABASE_ANON_KEY"
"""The app's Supabase anon key (public by Supabase's design; row-level security applies)."""
SUPABASE_SERVICE_ROLE_KEY: Final = "SUPABASE_SERVICE_ROLE_KEY"
"""The app's Supabase service-role key (server only: it bypasses row-level security)."""
DATABASE_URL: Final = "DATABASE_URL"
"""The app's Postgres connection string (pooled): set only when the app connects to
Postgres directly (rule S1)."""
DATABASE_VARIABLES: Final = (
    SUPABASE_URL,
    SUPABASE_ANON_KEY,
    SUPABASE_SERVICE_ROLE_KEY,
    DATABASE_URL,
)
"""The variables that point the app at its database. A pull request's preview gets its own
database branch's values under exactly these names (deploy.yml, db_branch.py), never the
staging project's."""

PUBLIC_PREFIX: Final = "NEXT_PUBLIC_"
"""Next.js inlines these into the browser bundle: never a secret behind this prefix (S8)."""

PREVIEW_URL_PATTERN: Final = "https://{project}-*.vercel.app"
"""Glob of the URLs Vercel generates per deployment (`{project}-{hash}-{team}.vercel.app`)."""

AlertSeverity = Literal["low", "medium", "high"]
ALERT_SEVERITIES: Final[tuple[AlertSeverity, ...]] = ("low", "medium", "high")
"""Least severity of an anomaly that notifies (`high` means High and Critical)."""
OIDC_AUDIENCE: Final = "https://vercel.com/api/login/oauth/token"
"""The audience (`aud` claim) a GitHub OIDC token must carry for Vercel to exchange it: the
one Vercel's own federation example uses; the app's `.github/vercel-cli/oidc-login.sh` requests
its tokens for it."""
CLI_CLIENT: Final = "vercel"
"""The OIDC federation client whose tokens the deploy jobs obtain: the Vercel CLI."""
CLI_CLIENT_ID: Final = "cl_HYyOPBNtFMfHhaUn9L4QPfTZz6TP47bp"
"""The Vercel CLI's OAuth client id, which the provider sends for client `vercel` and the
login script names in its token exchange (both read from their sources, CLI 60.1.3)."""
LOCAL_CLI_COMMANDS: Final = ("build",)
"""CLI commands that never call Vercel's API (`vercel build` reads `.vercel/project.json`), so
no federation policy grants them. Every other command a deploy job runs is granted by its
name: the policy's command ids are assumed to be the CLI's command names (docs/pipeline.md)."""

ProjectRole = Literal["ADMIN", "PROJECT_DEVELOPER", "PROJECT_VIEWER"]
PROJECT_ROLES: Final[tuple[ProjectRole, ...]] = ("ADMIN", "PROJECT_DEVELOPER", "PROJECT_VIEWER")
"""Project roles Vercel gives a member or an access group (`ProjectMembers`,
`AccessGroupProject`): Project Administrator, Project Developer, Project Viewer."""
