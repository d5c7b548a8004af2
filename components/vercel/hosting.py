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

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_random as random
import pulumiverse_vercel as vercel

from components.vercel.facts import (
    DEPLOYMENT_TYPES,
    PREVIEW_URL_PATTERN,
    BotProtectionAction,
    DeploymentProtection,
    Target,
)
from components.vercel.variables import AppRuntimeValues, runtime_variables

SKEW_PROTECTION = "12 hours"
"""How long a client opened before a deploy keeps reaching its own deployment (Pro plan)."""
LOG_SOURCES = ("static", "edge", "external", "build", "lambda", "firewall", "redirect")
"""Every log source, firewall and build included: the drain is the audit trail."""


@dataclass(frozen=True)
class HostingArgs:
    """Inputs of `Hosting`. Values arrive validated by `components/vercel/settings.py`."""

    project_name: str
    """Deterministic project name, `{app}-{stack}-web`; a rename replaces the project."""
    team_id: str
    """Vercel team owning the project (`team_...`); every resource names it explicitly."""
    domain: str
    """The custom domain this stack serves (`your-domain.com`, `staging.your-domain.com`)."""
    site_url: str
    """`https://{domain}`, the stack's public URL."""
    targets: Sequence[Target]
    """Vercel environments the stack deploys to and its variables target: `production` for
    the production stack; `preview` and `production` for staging (pull-request previews, and
    the staging domain as the staging project's own production)."""
    framework: str
    """Framework preset, e.g. `nextjs`."""
    node_version: str
    """Node.js major of builds and functions, e.g. `22.x`."""
    function_region: str
    """Region the functions run in, e.g. `fra1` (near the database)."""
    rate_limit_requests: int
    """Requests per window and client IP on `/api` before Vercel answers 429 (rule S9)."""
    rate_limit_window_seconds: int
    """The fixed window of the rate limit, 10-600 s."""
    runtime: AppRuntimeValues
    """Values for the project's variables; absent ones are skipped."""
    deployment_protection: DeploymentProtection
    """Vercel Authentication scope (rule S6): `standard_protection` guards every deployment
    but the production custom domain; `all_deployments` guards that too."""
    build_command: str = ""
    """Build command; empty: the framework's default."""
    install_command: str = ""
    """Install command; empty: the framework's default."""
    output_directory: str = ""
    """Build output directory; empty: the framework's default."""
    root_directory: str = ""
    """Directory of the app inside the repository; empty: the repository root."""
    trusted_ips: Sequence[str] = ()
    """CIDRs allowed past the protection scope without logging in; empty: none."""
    log_drain_endpoint: str = ""
    """https endpoint receiving every log source (audit trail); empty: no drain."""
    import_id: str = ""
    """Id of an existing project (`prj_...`) to adopt instead of creating one."""
    redirect_www: bool = False
    """Also attach `www.{domain}`, redirecting permanently (308) to `domain`."""
    previews: bool = True
    """Whether the project accepts preview deployments; off, preview deploys are refused."""
    bot_protection_action: BotProtectionAction = "challenge"
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
        team = args.team_id
        child = pulumi.ResourceOptions(parent=self)
        deployment_type = DEPLOYMENT_TYPES[args.deployment_protection]

        self.project = vercel.Project(
            f"{name}-project",
            name=args.project_name,
            team_id=team,
            framework=args.framework,
            node_version=args.node_version,
            build_command=args.build_command or None,
            install_command=args.install_command or None,
            output_directory=args.output_directory or None,
            root_directory=args.root_directory or None,
            # `serverless_function_region` is deprecated in favour of this list.
            resource_config=vercel.ProjectResourceConfigArgs(
                function_default_regions=[args.function_region]
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
                        vercel.ProjectTrustedIpsAddressArgs(value=cidr) for cidr in args.trusted_ips
                    ],
                    deployment_type=deployment_type,
                    protection_mode="trusted_ip_required",
                )
                if args.trusted_ips
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
                    import_=f"{team}/{args.import_id}" if args.import_id else None,
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
        if args.previews or args.deployment_protection == "all_deployments":
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
        if args.log_drain_endpoint:
            signing = random.RandomPassword(
                f"{name}-log-drain-secret", length=40, special=False, opts=child
            )
            vercel.LogDrain(
                f"{name}-log-drain",
                name=f"{args.project_name}-logs",
                team_id=team,
                project_ids=[project_id],
                endpoint=args.log_drain_endpoint,
                delivery_format="json",
                environments=[t for t in ("production", "preview") if t in args.targets],
                sources=list(LOG_SOURCES),
                secret=signing.result,
                opts=on_project,
            )
            self.log_drain_secret = pulumi.Output.secret(signing.result)

        self.project_id = project_id
        self.team_id = self.project.team_id
        self.production_url = pulumi.Output.from_input(args.site_url)
        self.preview_url_pattern = self.project.name.apply(
            lambda n: PREVIEW_URL_PATTERN.format(project=n)
        )
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
        vercel.FirewallConfig(
            f"{name}-firewall",
            project_id=project_id,
            team_id=args.team_id,
            enabled=True,
            rules=vercel.FirewallConfigRulesArgs(
                rules=[
                    vercel.FirewallConfigRulesRuleArgs(
                        name="Rate limit /api",
                        description=(
                            f"At most {args.rate_limit_requests} requests per "
                            f"{args.rate_limit_window_seconds}s per client IP on /api, then 429"
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
                                limit=args.rate_limit_requests,
                                window=args.rate_limit_window_seconds,
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
