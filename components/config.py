"""Stack settings: every config value read into typed, frozen objects and validated once.

Each provider package owns its section (`components/<provider>/settings.py`), the
platform-wide ones live beside this module (`alerts.py`, `posthog.py`, `cost.py`); all read
through the generic `Reader` (components/reader.py), which takes `Pulumi.yaml`'s `config:`
block as the schema. This module assembles them: all problems are collected, so one run
reports every bad key at once, and nothing is registered before this passes.

`load_settings` is pure (a mapping in, `Settings` out) so it can be fuzzed without the
Pulumi runtime; `settings_from_pulumi` feeds it from the running stack's configuration.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, cast

import pulumi
import yaml
from pulumi.runtime import config as runtime_config

from components.alerts import AlertSettings, load_alerts
from components.checkly.settings import ChecklySettings, load_checkly
from components.cost import CostSettings, load_cost
from components.github.settings import GitHubSettings, load_github
from components.posthog import PostHogSettings, load_posthog
from components.reader import PROJECT_FILE, ConfigError, Reader, project_name, schema, show
from components.sentry.settings import SentrySettings, load_sentry
from components.supabase.facts import (
    BRANCHING_TOKEN_KEY,
    EXISTING_PASSWORD_KEY,
    SMTP_PASSWORD_KEY,
)
from components.supabase.settings import SupabaseSettings, load_supabase, required_secrets
from components.vercel.settings import VercelSettings, load_vercel

Stack = Literal["staging", "production"]
STACKS: Final[tuple[Stack, ...]] = ("staging", "production")
"""The stacks this program knows; each owns its own environment of the same name."""

RETIRED_KEYS: Final = {
    "sentryPlatform": (
        "no longer used: pulumiverse-sentry 0.0.9 validates a project's platform against "
        "Sentry docs pages that answer 404, failing every preview; remove the key"
    ),
    "vercelToken": (
        "no longer used: the deploy jobs obtain short-lived Vercel tokens by OIDC federation "
        "(rule W10); remove the key (pulumi config rm vercelToken) and revoke the token"
    ),
}
"""Keys earlier versions declared: a stack file that still sets one is told why it went."""

_APP_NAME = re.compile(r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$")
_DOMAIN = re.compile(
    r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$"
)


@dataclass(frozen=True)
class Settings:
    """Everything one stack is built from, validated."""

    stack: Stack
    """`staging` or `production`; also the name of the stack's GitHub environment."""
    app: str
    domain: str
    redirect_www: bool
    github: GitHubSettings
    vercel: VercelSettings
    supabase: SupabaseSettings
    sentry: SentrySettings
    checkly: ChecklySettings
    alerts: AlertSettings
    posthog: PostHogSettings
    cost: CostSettings

    @property
    def is_production(self) -> bool:
        return self.stack == "production"

    @property
    def environment(self) -> str:
        """The GitHub (and Vercel target) environment this stack deploys to."""
        return self.stack

    @property
    def site_url(self) -> str:
        """The stack's public URL, `https://{domain}`."""
        return f"https://{self.domain}"

    def name(self, role: str) -> str:
        """Deterministic remote name `{app}-{stack}-{role}` (never a random suffix)."""
        return f"{self.app}-{self.stack}-{role}"


@dataclass(frozen=True)
class Secrets:
    """User-supplied secrets from `pulumi config set --secret`; absent ones are None.

    Kept apart from `Settings` because they are Outputs: never validated, never printed.
    """

    sentry_auth_token: pulumi.Output[str] | None
    """Sentry token for releases and source maps (SENTRY_AUTH_TOKEN, production)."""
    supabase_access_token: pulumi.Output[str] | None
    """Supabase Management API token; SUPABASE_ACCESS_TOKEN is used when absent."""
    checkly_slack_webhook_url: pulumi.Output[str] | None
    """Slack incoming-webhook URL Checkly posts alerts to (with alertSlackChannel)."""
    supabase_smtp_password: pulumi.Output[str] | None
    """Password of the custom SMTP server auth sends e-mail through (rule S13)."""
    supabase_existing_db_password: pulumi.Output[str] | None
    """An adopted Supabase project's current database password (rule R5)."""
    supabase_branching_token: pulumi.Output[str] | None
    """Management API token of the pull requests' database branches (staging)."""


@dataclass(frozen=True)
class SecretKey:
    """One secret config key (not declared in Pulumi.yaml, see its comment)."""

    field: str
    """The `Secrets` field it fills."""
    stacks: tuple[Stack, ...]
    """The stacks that use it; `make bootstrap` asks for no key a stack does not use."""
    without: str
    """What the stack lacks while it is unset (said by `make bootstrap`)."""
    optional: bool = False
    """Unset is a normal choice, not something missing."""


SECRET_KEYS: Final[dict[str, SecretKey]] = {
    # The Sentry release token reaches production's environment only (rule S11).
    "sentryAuthToken": SecretKey(
        "sentry_auth_token",
        ("production",),
        "the app's deploy workflow uploads no Sentry releases until it is set",
    ),
    "supabaseAccessToken": SecretKey(
        "supabase_access_token",
        STACKS,
        "optional: without it the Supabase provider reads SUPABASE_ACCESS_TOKEN at run time "
        "(in CI, the environment's secret), which keeps the token out of the stack",
        optional=True,
    ),
    "checklySlackWebhookUrl": SecretKey(
        "checkly_slack_webhook_url",
        STACKS,
        "optional: Checkly alerts go to Slack only with it (and alertSlackChannel)",
        optional=True,
    ),
    SMTP_PASSWORD_KEY: SecretKey(
        "supabase_smtp_password",
        STACKS,
        "needed with supabaseSmtpHost (production with e-mail confirmations needs custom "
        "SMTP, rule S13): the preview refuses custom SMTP without it",
        optional=True,
    ),
    EXISTING_PASSWORD_KEY: SecretKey(
        "supabase_existing_db_password",
        STACKS,
        "optional: only for adopting an existing Supabase project, whose current password "
        "it records (else supabaseRotateAdoptedPassword)",
        optional=True,
    ),
    BRANCHING_TOKEN_KEY: SecretKey(
        "supabase_branching_token",
        ("staging",),
        "needed with supabasePreviewBranches (the preview refuses to run without it): the app's "
        "workflows make, migrate and delete the pull requests' database branches with it. Any "
        "writer can read it through a pull request: use an account that belongs to staging's "
        "Supabase organisation only",
        optional=True,
    ),
}
"""Every secret config key, once: what it fills, which stacks use it, what lacks without it."""


def load_settings(stack: str, raw: Mapping[str, Any]) -> Settings:
    """Validate one stack's raw configuration (keys without namespace) into `Settings`.

    Raises `ConfigError` listing every problem: unknown stack, unknown, misspelt or retired
    keys, missing required keys, wrong types and values outside what is allowed.
    """
    r = Reader(raw)
    if stack not in STACKS:
        r.problems.append(f"stack: {stack!r} is not allowed; expected one of {', '.join(STACKS)}")
    declared = schema()
    for key in sorted(raw):
        if key in RETIRED_KEYS:
            r.problems.append(f"{key}: {RETIRED_KEYS[key]}")
        elif key not in declared and key not in SECRET_KEYS:
            shown = key if re.fullmatch(r"[A-Za-z][A-Za-z0-9]{0,63}", str(key)) else show(key)
            r.problems.append(f"{shown}: unknown key; see the config block of Pulumi.yaml")
    app = r.string("app", _APP_NAME, "3-32 lowercase letters, digits and hyphens")
    domain = r.string("domain", _DOMAIN, "a lowercase domain name such as your-domain.com")
    settings = Settings(
        stack=cast(Stack, stack),
        app=app,
        domain=domain,
        redirect_www=r.boolean("redirectWww"),
        github=load_github(r, stack),
        vercel=load_vercel(r),
        supabase=load_supabase(r, stack),
        alerts=load_alerts(r),
        sentry=load_sentry(r, app),
        checkly=load_checkly(r, stack),
        posthog=load_posthog(r),
        cost=load_cost(r),
    )
    if settings.checkly.enabled and settings.vercel.deployment_protection == "all_deployments":
        # Checkly probes the custom domain from outside, where all_deployments answers 401.
        r.problem(
            "checklyAccountId",
            settings.checkly.account_id,
            "empty when vercelDeploymentProtection is all_deployments: the monitors could "
            "not reach the protected domain (or use standard_protection)",
        )
    if r.problems:
        raise ConfigError(r.problems)
    return settings


def settings_of_stack_file(stack: str) -> Settings:
    """The settings a committed stack file gives (`Pulumi.<stack>.yaml`), for the tools and
    tests that describe a stack without running the program."""
    prefix = f"{project_name()}:"
    path = PROJECT_FILE.parent / f"Pulumi.{stack}.yaml"
    config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
    return load_settings(stack, {k.removeprefix(prefix): v for k, v in config.items()})


def settings_from_pulumi() -> tuple[Settings, Secrets]:
    """Load and validate the running stack's configuration; read its secrets as Outputs."""
    namespace = project_name()
    prefix = f"{namespace}:"
    raw: dict[str, Any] = {}
    # The language host sets the config map; PULUMI_CONFIG is the older channel.
    everything = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    for full_key, value in everything.items():
        if full_key.startswith(prefix):
            raw[full_key[len(prefix) :]] = value
    config = pulumi.Config(namespace)
    for key in schema():
        if key not in raw and (value := config.get(key)) is not None:
            raw[key] = value
    secret_values = {key: raw.pop(key, None) for key in SECRET_KEYS}
    settings = load_settings(pulumi.get_stack(), raw)
    missing = [
        f"{key}: missing; this key is required ({why}): pulumi config set --secret {key} ..."
        for key, why in required_secrets(settings.supabase).items()
        if secret_values.get(key) is None
    ]
    if missing:
        raise ConfigError(missing)
    secrets = Secrets(
        **{
            field: config.get_secret(key) if secret_values[key] is not None else None
            for key, field in ((k, spec.field) for k, spec in SECRET_KEYS.items())
        }
    )
    return settings, secrets
