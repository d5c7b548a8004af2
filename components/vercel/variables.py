"""The app's runtime variables on Vercel: which values, which names, public or secret.

Other packages produce the values (Supabase URL and keys, Sentry DSNs, PostHog); this module
names them, decides which are secrets (sensitive, server-only, never `development`) and which
are public (browser-visible `NEXT_PUBLIC_*`), and refuses what Vercel or rule S8 would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi

from components.vercel.facts import (
    DATABASE_URL,
    PUBLIC_PREFIX,
    SUPABASE_ANON_KEY,
    SUPABASE_SERVICE_ROLE_KEY,
    SUPABASE_URL,
)

RESERVED_ENV_VAR_NAMES = frozenset(
    {
        "AWS_SECRET_KEY",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "NOW_REGION",
        "TZ",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)
"""Names Vercel's function runtime reserves (Vercel docs, "Reserved environment variables")."""
RESERVED_ENV_VAR_PREFIXES = ("VERCEL_", "NEXT_PUBLIC_VERCEL_")
"""Prefixes of the system variables Vercel sets itself; a project variable must not shadow them."""
_ENV_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,255}$")


def env_var_name_problem(name: str) -> str | None:
    """Why `name` cannot be a Vercel project variable, or None when it can.

    Vercel accepts letters, digits and underscores, not starting with a digit; it reserves
    the runtime's names and the `VERCEL_` system prefixes.
    """
    if not _ENV_VAR_NAME.fullmatch(name):
        return (
            f"{name!r} is not allowed; expected letters, digits and underscores, "
            "not starting with a digit (at most 256 characters)"
        )
    if name in RESERVED_ENV_VAR_NAMES:
        return f"{name!r} is reserved by the Vercel function runtime"
    if name.startswith(RESERVED_ENV_VAR_PREFIXES):
        prefixes = " and ".join(RESERVED_ENV_VAR_PREFIXES)
        return f"{name!r} is not allowed; {prefixes} are Vercel's system variables"
    return None


@dataclass(frozen=True)
class AppRuntimeValues:
    """Values other components produce for the app's runtime; None means "not managed here".

    Each arrives as an Output, never a copied string. A None value registers no variable, so a
    stack can run before the component that produces it is wired in.
    """

    supabase_url: pulumi.Output[str] | None = None
    """API URL of this stack's Supabase project (public)."""
    supabase_anon_key: pulumi.Output[str] | None = None
    """Supabase anon key: public by Supabase's design (row-level security guards the data)."""
    supabase_service_role_key: pulumi.Output[str] | None = None
    """Supabase service-role key: bypasses row-level security, server-only secret."""
    database_url: pulumi.Output[str] | None = None
    """Postgres connection string with its password (through the pooler), server-only secret."""
    sentry_dsn: pulumi.Output[str] | None = None
    """Server-side Sentry client key URL: a secret (whoever holds it can spend the quota)."""
    sentry_browser_dsn: pulumi.Output[str] | None = None
    """Browser Sentry client key URL: public by Sentry's design, a separate rate-limited key."""
    posthog_key: pulumi.Output[str] | None = None
    """PostHog project API key (phc_...), public by PostHog's design."""
    posthog_host: pulumi.Output[str] | None = None
    """PostHog ingestion host."""


@dataclass(frozen=True)
class RuntimeVariable:
    """One project variable derived from `AppRuntimeValues`."""

    key: str
    value: pulumi.Output[str]
    secret: bool
    """Secret: a Pulumi secret, a `sensitive` Vercel variable, server-only, never development."""
    comment: str


def runtime_variables(values: AppRuntimeValues) -> list[RuntimeVariable]:
    """The project variables for the values present, each checked (name, S8).

    Public values are unsecreted on purpose: they end up in every visitor's browser, and a
    secret under `NEXT_PUBLIC_` is exactly what S8 forbids. Secret values are wrapped as
    secrets whatever they arrived as.
    """
    table: list[tuple[str, pulumi.Output[str] | None, bool, str]] = [
        (SUPABASE_URL, values.supabase_url, False, "Supabase API URL"),
        (
            SUPABASE_ANON_KEY,
            values.supabase_anon_key,
            False,
            "Supabase anon key (public; row-level security applies)",
        ),
        (
            SUPABASE_SERVICE_ROLE_KEY,
            values.supabase_service_role_key,
            True,
            "Supabase service-role key (server only, bypasses row-level security)",
        ),
        (DATABASE_URL, values.database_url, True, "Postgres connection string (server only)"),
        ("SENTRY_DSN", values.sentry_dsn, True, "Sentry DSN of the server key (server only)"),
        (
            "NEXT_PUBLIC_SENTRY_DSN",
            values.sentry_browser_dsn,
            False,
            "Sentry DSN of the browser key (public by design, rate-limited)",
        ),
        ("NEXT_PUBLIC_POSTHOG_KEY", values.posthog_key, False, "PostHog project key (public)"),
        ("NEXT_PUBLIC_POSTHOG_HOST", values.posthog_host, False, "PostHog ingestion host"),
    ]
    variables = []
    for key, value, secret, comment in table:
        if value is None:
            continue
        check_variable(key, secret)
        wrapped: pulumi.Output[str] = (
            pulumi.Output.secret(value) if secret else pulumi.Output.unsecret(value)
        )
        variables.append(RuntimeVariable(key=key, value=wrapped, secret=secret, comment=comment))
    return variables


def check_variable(key: str, secret: bool) -> None:
    """Refuse a name Vercel rejects and a secret under the browser-visible prefix (S8)."""
    problem = env_var_name_problem(key)
    if problem is not None:
        raise ValueError(f"Vercel variable {problem}")
    if secret and key.startswith(PUBLIC_PREFIX):
        raise ValueError(
            f"Vercel variable {key!r} holds a secret; {PUBLIC_PREFIX}* variables are inlined "
            "into the browser bundle, so a secret needs a server-only name"
        )
