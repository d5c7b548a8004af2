"""One stack's Vercel hosting: the project, its domains, variables, firewall and log drain.

Each stack owns one Vercel project (ARCHITECTURE.md). The staging project serves the
pull-request previews and, as its own production target, `staging.{domain}`; the production
project serves only production deployments.

How deploys happen: the application repository's `deploy.yml` builds and deploys with the
Vercel CLI (`vercel build` + `vercel deploy --prebuilt`), in GitHub environments that hold the
token, behind the reviews and checks the repository enforces. The project is therefore not
linked to the repository (no `git_repository`): a linked project would also deploy every push
on its own, outside those gates, and with the repository's secrets one click away. The
committed `vercel.json` repeats it (`git.deploymentEnabled: false`) in case someone links the
repository in the dashboard.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_random as random
import pulumiverse_vercel as vercel

from components.config import Settings, VercelSettings

SKEW_PROTECTION = "12 hours"
"""How long a client opened before a deploy keeps reaching its own deployment (Pro plan)."""
DEPLOYMENT_TYPES = {
    "standard_protection": "standard_protection_new",
    "all_deployments": "all_deployments",
}
"""Config's protection scope → the provider's `deployment_type`. Vercel's Standard Protection
(everything but the production custom domains, generated production URLs included) is
`standard_protection_new`; plain `standard_protection` is the legacy scope that leaves the
current production deployment's generated URLs public."""
RATE_LIMIT_MAX_WINDOW_SECONDS = 600
"""Longest fixed window Vercel's WAF accepts on Hobby and Pro (10 minutes; 1 hour only on
Enterprise): a longer one fails the whole firewall update at apply time."""
RATE_LIMIT_MIN_WINDOW_SECONDS = 10

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
BOT_PROTECTION_ACTIONS = ("challenge", "deny", "log")
PUBLIC_PREFIX = "NEXT_PUBLIC_"
"""Next.js inlines these into the browser bundle: never a secret behind this prefix (S8)."""

_ENV_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,255}$")
_LOG_SOURCES = ("static", "edge", "external", "build", "lambda", "firewall", "redirect")


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
        ("NEXT_PUBLIC_SUPABASE_URL", values.supabase_url, False, "Supabase API URL"),
        (
            "NEXT_PUBLIC_SUPABASE_ANON_KEY",
            values.supabase_anon_key,
            False,
            "Supabase anon key (public; row-level security applies)",
        ),
        (
            "SUPABASE_SERVICE_ROLE_KEY",
            values.supabase_service_role_key,
            True,
            "Supabase service-role key (server only, bypasses row-level security)",
        ),
        ("DATABASE_URL", values.database_url, True, "Postgres connection string (server only)"),
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


@dataclass(frozen=True)
class HostingArgs:
    """Inputs of `Hosting`."""

    vercel: VercelSettings
    """Validated Vercel settings: team, build, region, protection, firewall, log drain."""
    project_name: str
    """Deterministic project name, `{app}-{stack}-web`; a rename replaces the project."""
    domain: str
    """The custom domain this stack serves (`your-domain.com`, `staging.your-domain.com`)."""
    targets: Sequence[str]
    """Vercel environments the stack deploys to and its variables target: `production` for
    the production stack; `preview` and `production` for staging (pull-request previews, and
    the staging domain as the staging project's own production)."""
    runtime: AppRuntimeValues
    """Values for the project's variables; absent ones are skipped."""
    redirect_www: bool = False
    """Also attach `www.{domain}`, redirecting permanently (308) to `domain`."""
    previews: bool = True
    """Whether the project accepts preview deployments; off, preview deploys are refused."""
    bot_protection_action: str = "challenge"
    """What Vercel's bot-protection ruleset does with non-browser traffic posing as a browser:
    `challenge`, `deny` or `log` (observe only)."""
    public_to_development: bool = False
    """Also give the public variables to the `development` target (`vercel env pull` for local
    work). Secrets never go to development, whatever this says."""
    protect: bool = True
    """Protect the project from `pulumi destroy`: deleting it deletes every deployment and
    takes the site down; domains and variables are recreated cheaply."""


class Hosting(pulumi.ComponentResource):
    """A Vercel project deployed by the CLI, with domains, variables, firewall and log drain."""

    project: vercel.Project
    project_id: pulumi.Output[str]
    """Vercel project id (`VERCEL_PROJECT_ID` of the deploy workflow)."""
    team_id: pulumi.Output[str]
    """Vercel team id owning the project (`VERCEL_ORG_ID` of the deploy workflow)."""
    production_url: pulumi.Output[str]
    """https URL of the stack's domain (the staging domain in the staging stack)."""
    preview_url_pattern: pulumi.Output[str]
    """Glob of the URLs Vercel generates per deployment (`{project}-{hash}-{team}.vercel.app`)."""
    protection_bypass_secret: pulumi.Output[str] | None
    """Secret for the `x-vercel-protection-bypass` header, for automation (health checks, e2e
    tests) against protected deployments; None where nothing automated needs to pass."""
    log_drain_secret: pulumi.Output[str] | None
    """Secret Vercel signs log deliveries with (`x-vercel-signature`); None without a drain."""

    def __init__(
        self, name: str, args: HostingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("platform:vercel:Hosting", name, None, opts)
        v = args.vercel
        team = v.team_id
        child = pulumi.ResourceOptions(parent=self)
        unknown = sorted(set(args.targets) - {"production", "preview"})
        if unknown or not args.targets:
            raise ValueError(f"Hosting targets {list(args.targets)!r}: expected production/preview")
        window = v.rate_limit_window_seconds
        if not RATE_LIMIT_MIN_WINDOW_SECONDS <= window <= RATE_LIMIT_MAX_WINDOW_SECONDS:
            raise ValueError(
                f"vercelRateLimitWindowSeconds {window}: Vercel's WAF accepts "
                f"{RATE_LIMIT_MIN_WINDOW_SECONDS}-{RATE_LIMIT_MAX_WINDOW_SECONDS} s "
                "on Hobby and Pro"
            )
        if v.deployment_protection not in DEPLOYMENT_TYPES:
            raise ValueError(
                f"vercelDeploymentProtection {v.deployment_protection!r}: expected one of "
                f"{', '.join(DEPLOYMENT_TYPES)}"
            )
        deployment_type = DEPLOYMENT_TYPES[v.deployment_protection]
        if args.bot_protection_action not in BOT_PROTECTION_ACTIONS:
            raise ValueError(
                f"Hosting bot_protection_action {args.bot_protection_action!r}: expected one of "
                f"{', '.join(BOT_PROTECTION_ACTIONS)}"
            )

        self.project = vercel.Project(
            f"{name}-project",
            name=args.project_name,
            team_id=team,
            framework=v.framework,
            node_version=v.node_version,
            build_command=v.build_command or None,
            install_command=v.install_command or None,
            output_directory=v.output_directory or None,
            root_directory=v.root_directory or None,
            # `serverless_function_region` is deprecated in favour of this list.
            resource_config=vercel.ProjectResourceConfigArgs(
                function_default_regions=[v.function_region]
            ),
            # No git_repository: deploys come only from deploy.yml (see the module docstring).
            # Fork protection stays on anyway, should the repository ever be linked (S7).
            git_fork_protection=True,
            # Vercel Authentication on previews and generated URLs, or everything (S6).
            vercel_authentication=vercel.ProjectVercelAuthenticationArgs(
                deployment_type=deployment_type
            ),
            trusted_ips=(
                vercel.ProjectTrustedIpsArgs(
                    addresses=[
                        vercel.ProjectTrustedIpsAddressArgs(value=cidr) for cidr in v.trusted_ips
                    ],
                    deployment_type=deployment_type,
                    protection_mode="trusted_ip_required",
                )
                if v.trusted_ips
                else None
            ),
            # `public_source` no longer exists at Vercel (the provider ignores it and warns), so
            # it is not set; source maps are what would expose the source now: only team
            # members who pass Vercel Authentication may fetch them.
            protected_sourcemaps=True,
            preview_deployments_disabled=not args.previews,
            skew_protection=SKEW_PROTECTION,
            # Skew protection and the app's own VERCEL_ENV checks need the system variables.
            automatically_expose_system_environment_variables=True,
            # The toolbar loads scripts from Vercel's origin, which the app's CSP refuses.
            enable_preview_feedback=False,
            enable_production_feedback=False,
            opts=pulumi.ResourceOptions.merge(
                child,
                pulumi.ResourceOptions(
                    protect=args.protect,
                    import_=f"{team}/{v.project_import_id}" if v.project_import_id else None,
                ),
            ),
        )
        project_id = self.project.id
        on_project = pulumi.ResourceOptions(parent=self, depends_on=[self.project])

        apex = vercel.ProjectDomain(
            f"{name}-domain",
            project_id=project_id,
            team_id=team,
            domain=args.domain,
            opts=on_project,
        )
        if args.redirect_www:
            vercel.ProjectDomain(
                f"{name}-domain-www",
                project_id=project_id,
                team_id=team,
                domain=f"www.{args.domain}",
                redirect=args.domain,
                redirect_status_code=308,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[apex]),
            )

        public_targets = [*args.targets, *(["development"] if args.public_to_development else [])]
        variables = [
            vercel.ProjectEnvironmentVariablesVariableArgs(
                key=variable.key,
                value=variable.value,
                targets=list(args.targets) if variable.secret else public_targets,
                # Explicit both ways: a sensitive value cannot be read back from Vercel (S8).
                sensitive=variable.secret,
                comment=f"Managed by Pulumi: {variable.comment}",
            )
            for variable in runtime_variables(args.runtime)
        ]
        # One resource for the set rather than one per variable: the single-variable resource
        # makes every value a Pulumi secret, which would hide the public/secret split (S8)
        # from the state, the inventory tests and the policy pack.
        if variables:
            vercel.ProjectEnvironmentVariables(
                f"{name}-env",
                project_id=project_id,
                team_id=team,
                variables=variables,
                opts=on_project,
            )

        self._firewall(name, args, project_id, on_project)

        self.protection_bypass_secret = None
        # Automation needs a way past Vercel Authentication wherever it guards what the
        # workflows probe: previews, or the stack's own domain under all_deployments.
        if args.previews or v.deployment_protection == "all_deployments":
            bypass = random.RandomPassword(
                f"{name}-protection-bypass-secret",
                length=32,
                special=False,
                opts=child,
            )
            vercel.ProjectProtectionBypass(
                f"{name}-protection-bypass",
                project_id=project_id,
                team_id=team,
                secret=bypass.result,
                note="GitHub Actions automation (managed by Pulumi)",
                opts=on_project,
            )
            self.protection_bypass_secret = pulumi.Output.secret(bypass.result)

        self.log_drain_secret = None
        if v.log_drain_endpoint:
            signing = random.RandomPassword(
                f"{name}-log-drain-secret", length=40, special=False, opts=child
            )
            vercel.LogDrain(
                f"{name}-log-drain",
                name=f"{args.project_name}-logs",
                team_id=team,
                project_ids=[project_id],
                endpoint=v.log_drain_endpoint,
                delivery_format="json",
                environments=[t for t in ("production", "preview") if t in args.targets],
                # Firewall and build logs too: the drain is the audit trail.
                sources=list(_LOG_SOURCES),
                secret=signing.result,
                opts=on_project,
            )
            self.log_drain_secret = pulumi.Output.secret(signing.result)

        self.project_id = project_id
        self.team_id = self.project.team_id
        self.production_url = pulumi.Output.from_input(f"https://{args.domain}")
        self.preview_url_pattern = self.project.name.apply(lambda n: f"https://{n}-*.vercel.app")
        self.register_outputs(
            {
                "project_id": self.project_id,
                "team_id": self.team_id,
                "production_url": self.production_url,
                "preview_url_pattern": self.preview_url_pattern,
            }
        )

    def _firewall(
        self,
        name: str,
        args: HostingArgs,
        project_id: pulumi.Input[str],
        opts: pulumi.ResourceOptions,
    ) -> None:
        """Rate limit on /api (S9) and the managed rulesets every plan has.

        The OWASP core ruleset is Enterprise-only, so it is not requested: on Pro the whole
        update would fail. AI crawlers are logged, not blocked (a product decision, changed
        here).
        """
        v = args.vercel
        vercel.FirewallConfig(
            f"{name}-firewall",
            project_id=project_id,
            team_id=v.team_id,
            enabled=True,
            rules=vercel.FirewallConfigRulesArgs(
                rules=[
                    vercel.FirewallConfigRulesRuleArgs(
                        name="Rate limit /api",
                        description=(
                            f"At most {v.rate_limit_requests} requests per "
                            f"{v.rate_limit_window_seconds}s per client IP on /api, then 429"
                        ),
                        active=True,
                        condition_groups=[
                            vercel.FirewallConfigRulesRuleConditionGroupArgs(
                                conditions=[
                                    # A prefix, so /api itself and everything under it count.
                                    vercel.FirewallConfigRulesRuleConditionGroupConditionArgs(
                                        type="path", op="pre", value="/api"
                                    )
                                ]
                            )
                        ],
                        action=vercel.FirewallConfigRulesRuleActionArgs(
                            action="rate_limit",
                            rate_limit=vercel.FirewallConfigRulesRuleActionRateLimitArgs(
                                algo="fixed_window",
                                limit=v.rate_limit_requests,
                                window=v.rate_limit_window_seconds,
                                keys=["ip"],
                                action="rate_limit",
                            ),
                        ),
                    )
                ]
            ),
            managed_rulesets=vercel.FirewallConfigManagedRulesetsArgs(
                bot_protection=vercel.FirewallConfigManagedRulesetsBotProtectionArgs(
                    active=True, action=args.bot_protection_action
                ),
                ai_bots=vercel.FirewallConfigManagedRulesetsAiBotsArgs(active=True, action="log"),
            ),
            opts=opts,
        )


def hosting_args(settings: Settings, runtime: AppRuntimeValues) -> HostingArgs:
    """The stack's `HostingArgs`: what each stack deploys to follows from which stack it is."""
    production = settings.is_production
    return HostingArgs(
        vercel=settings.vercel,
        project_name=settings.name("web"),
        domain=settings.domain,
        targets=("production",) if production else ("preview", "production"),
        runtime=runtime,
        redirect_www=settings.redirect_www,
        # Staging is closed by Vercel Authentication already: observe there, challenge in
        # production.
        bot_protection_action="challenge" if production else "log",
        # Pull-request code runs only in the staging project, never next to production secrets.
        previews=not production,
        # Local development points at staging, never at production.
        public_to_development=not production,
        protect=production,
    )
