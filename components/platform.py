"""The whole platform of one stack: the one place that decides what each stack gets.

Which stack owns what (ARCHITECTURE.md): production owns the repository-wide singletons
(`AppRepository`, the Sentry team); every stack owns its own environment, hosting,
database and monitoring. `*_args` turn the validated settings into each component's flat
inputs; `build_platform` registers the components and wires them. Values flow between
components as Outputs, never as copied strings: database → hosting variables and
environment secrets, monitoring → hosting, hosting → the environment's variables and the
deploy workflows' OIDC federation policies.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_checkly as checkly
import pulumi_github as github
import pulumiverse_sentry as sentry
import pulumiverse_vercel as vercel

from components.alerts import monthly_error_budget_minutes
from components.checkly.monitoring import SyntheticMonitoring, SyntheticMonitoringArgs
from components.config import SECRET_KEYS, Secrets, Settings
from components.cost import budget_warning, estimate_monthly_cost
from components.github import pipeline
from components.github.app_files import app_repository_files, codeowners, security_policy
from components.github.environment import DeploymentEnvironment, DeploymentEnvironmentArgs
from components.github.facts import REPOSITORY_URL
from components.github.repository import AppRepository, AppRepositoryArgs
from components.sentry.monitoring import Monitoring, MonitoringArgs
from components.supabase.database import Database, DatabaseArgs
from components.supabase.facts import PUBLIC_SCHEMA
from components.vercel.alerts import VercelAlerts, VercelAlertsArgs
from components.vercel.deploy_access import DeployAccess, DeployAccessArgs, FederatedDeployer
from components.vercel.facts import LOCAL_CLI_COMMANDS, NEXTJS
from components.vercel.hosting import Hosting, HostingArgs
from components.vercel.variables import AppRuntimeValues
from components.vercel.vercel_json import default_content_security_policy, render_vercel_json


@dataclass(frozen=True)
class PlatformOutputs:
    """What a stack exports (see the README's outputs table)."""

    values: dict[str, pulumi.Input[object]]


def build_platform(settings: Settings, secrets: Secrets) -> PlatformOutputs:
    """Register every resource of the stack described by `settings`."""
    gh = settings.github
    production = settings.is_production
    site_url = settings.site_url
    # Credentials come from the providers' environment variables (GITHUB_TOKEN,
    # VERCEL_API_TOKEN, SENTRY_AUTH_TOKEN). No Vercel `team` on the provider: it would be
    # looked up at preview time; every Vercel resource names its team_id instead.
    with_github = pulumi.ResourceOptions(provider=github.Provider("github", owner=gh.owner))
    with_vercel = pulumi.ResourceOptions(provider=vercel.Provider("vercel"))
    with_sentry = pulumi.ResourceOptions(provider=sentry.Provider("sentry"))
    outputs: dict[str, pulumi.Input[object]] = {
        "stack": settings.stack,
        "domain": settings.domain,
        "environment": settings.environment,
    }

    repository_name: pulumi.Input[str] = gh.repository
    if production:
        repository = AppRepository(settings.app, repository_args(settings), opts=with_github)
        repository_name = repository.name
        outputs["repositoryUrl"] = repository.html_url
    else:
        # Staging attaches to the repository production owns, by name (no lookup).
        outputs["repositoryUrl"] = REPOSITORY_URL.format(owner=gh.owner, repository=gh.repository)

    sb = settings.supabase
    database = Database(settings.name("database"), database_args(settings, secrets))
    outputs["supabaseUrl"] = database.api_url
    outputs["databaseBackups"] = database.backups

    monitoring = Monitoring(
        settings.name("monitoring"), monitoring_args(settings), opts=with_sentry
    )
    outputs["sentryProjectSlug"] = monitoring.project_slug

    posthog = settings.posthog
    hosting = Hosting(
        settings.name("hosting"),
        hosting_args(
            settings,
            AppRuntimeValues(
                supabase_url=database.api_url,
                supabase_anon_key=database.anon_key,
                supabase_service_role_key=database.service_role_key,
                # Only an app that connects directly gets a Postgres URL (rule S1).
                database_url=(
                    database.pooled_connection_string if sb.app_connects_directly else None
                ),
                sentry_dsn=monitoring.dsn,
                sentry_browser_dsn=monitoring.browser_dsn,
                posthog_key=(
                    pulumi.Output.from_input(posthog.project_key) if posthog.enabled else None
                ),
                posthog_host=pulumi.Output.from_input(posthog.host) if posthog.enabled else None,
            ),
        ),
        opts=with_vercel,
    )
    VercelAlerts(
        settings.name("vercel-alerts"),
        VercelAlertsArgs(
            team_id=settings.vercel.team_id,
            project_id=hosting.project_id,
            rule_name=f"{settings.app}-{settings.stack} anomalies",
            minimum_severity=settings.vercel.alert_minimum_severity,
            slack_channel_id=settings.vercel.alert_slack_channel_id,
        ),
        opts=with_vercel,
    )
    if settings.checkly.enabled:
        synthetic = SyntheticMonitoring(
            settings.name("synthetic"),
            synthetic_monitoring_args(settings, secrets.checkly_slack_webhook_url),
            opts=pulumi.ResourceOptions(
                provider=checkly.Provider("checkly", account_id=settings.checkly.account_id),
                depends_on=[hosting],
            ),
        )
        outputs["availabilityDashboard"] = synthetic.availability_dashboard
        if synthetic.status_page_url is not None:
            outputs["statusPageSubdomain"] = synthetic.status_page_url
    else:
        pulumi.log.warn(
            "checklyAccountId is not set: no synthetic monitoring from outside; uptime rests "
            "on the GitHub health check alone"
        )
    outputs["vercelProjectId"] = hosting.project_id
    outputs["productionUrl"] = hosting.production_url
    outputs["previewUrlPattern"] = hosting.preview_url_pattern
    if hosting.log_drain_secret is not None:
        outputs["logDrainSecret"] = hosting.log_drain_secret

    DeployAccess(
        settings.name("deploy-access"),
        deploy_access_args(settings, hosting.project_id),
        opts=with_vercel,
    )

    environment_variables: dict[str, pulumi.Input[str]] = {
        pipeline.APP_URL: site_url,
        pipeline.VERCEL_PROJECT_ID: hosting.project_id,
        pipeline.VERCEL_ORG_ID: hosting.team_id,
    }
    environment_secrets: dict[str, pulumi.Input[str]] = {}
    if sb.ci_connects_directly:
        # Migrations run from CI against the database itself, not through the pooler;
        # only where its runners can connect (rule S1).
        environment_secrets[pipeline.SUPABASE_DB_URL] = database.direct_connection_string
    else:
        pulumi.log.warn(
            f"{settings.environment}: no {pipeline.SUPABASE_DB_URL} for CI, whose runners cannot "
            "reach the restricted database, so deploy.yml stops every deploy of this stack at "
            "'Migrate the database' (never skipping it): list the static egress of the runners "
            "that migrate in supabaseCiEgressCidrs (inside supabaseAllowedCidrs)"
        )
    if sb.preview_branches and secrets.supabase_branching_token is not None:
        # Each pull request's preview gets a branch of this project; the token that makes them
        # sits in the environment the preview jobs run in, which any branch may use.
        environment_variables[pipeline.SUPABASE_PROJECT_REF] = database.project.ref
        environment_secrets[pipeline.SUPABASE_ACCESS_TOKEN] = secrets.supabase_branching_token
    if hosting.protection_bypass_secret is not None:
        environment_secrets[pipeline.VERCEL_AUTOMATION_BYPASS_SECRET] = (
            hosting.protection_bypass_secret
        )
    # The Sentry release token reaches only production's environment (rule S11).
    if settings.stack in SECRET_KEYS["sentryAuthToken"].stacks and (
        secrets.sentry_auth_token is not None
    ):
        environment_secrets[pipeline.SENTRY_AUTH_TOKEN] = secrets.sentry_auth_token
    elif production:
        pulumi.log.warn(
            "sentryAuthToken is not set: the SENTRY_AUTH_TOKEN environment secret is not "
            "managed, so production builds upload no source maps "
            "(pulumi config set --secret sentryAuthToken ...)"
        )

    environment = DeploymentEnvironment(
        settings.name("environment"),
        DeploymentEnvironmentArgs(
            repository=repository_name,
            environment=settings.environment,
            # Production: main only, approved by a second person; staging: any branch.
            deployment_branches=(pipeline.GATED_BRANCH,) if production else (),
            reviewer_team_ids=gh.environment_reviewer_team_ids,
            reviewer_user_ids=gh.environment_reviewer_user_ids,
            prevent_self_review=production,
            variables=environment_variables,
            secrets=environment_secrets,
        ),
        opts=with_github,
    )
    outputs["environmentName"] = environment.name

    if production:
        # Rollback (rule W11): main only; the on-call team approves its own run, because it
        # only returns to a deployment the production reviewers already approved.
        DeploymentEnvironment(
            settings.name("rollback-environment"),
            DeploymentEnvironmentArgs(
                repository=repository_name,
                environment=pipeline.ROLLBACK_ENVIRONMENT,
                deployment_branches=(pipeline.GATED_BRANCH,),
                reviewer_team_ids=gh.rollback_reviewer_team_ids,
                prevent_self_review=False,
                variables={name: environment_variables[name] for name in pipeline.DEPLOY_VARIABLES},
            ),
            opts=with_github,
        )

    # Each stack owns the repository variables naming its own URL and TTFB budget, so the
    # two never clash.
    github.ActionsVariable(
        settings.name("health-check-url"),
        repository=repository_name,
        variable_name=pipeline.REPOSITORY_URL_VARIABLE[settings.stack],
        value=site_url,
        opts=with_github,
    )
    github.ActionsVariable(
        settings.name("health-check-ttfb-budget"),
        repository=repository_name,
        variable_name=pipeline.REPOSITORY_TTFB_BUDGET_VARIABLE[settings.stack],
        value=str(settings.alerts.ttfb_ms),
        opts=with_github,
    )

    if production:
        # Repository-wide like the RLS check that reads it: production owns it.
        github.ActionsVariable(
            settings.name("rls-exposed-schemas"),
            repository=repository_name,
            variable_name=pipeline.RLS_EXPOSED_SCHEMAS_VARIABLE,
            value=",".join((PUBLIC_SCHEMA, *sb.exposed_schemas)),
            opts=with_github,
        )

    if production and settings.vercel.framework == NEXTJS:
        # Repository-wide like the workflows that read it: production owns it.
        github.ActionsVariable(
            settings.name("first-load-js-budget"),
            repository=repository_name,
            variable_name=pipeline.FIRST_LOAD_JS_BUDGET_VARIABLE,
            value=str(settings.alerts.first_load_js_kb),
            opts=with_github,
        )
    elif production:
        pulumi.log.warn(
            f"vercelFramework {settings.vercel.framework}: the first-load JavaScript budget "
            "reads Next.js build manifests, so pull requests are not held to it"
        )

    target = settings.alerts.availability_target_percent
    outputs["availabilityTargetPercent"] = float(target)
    outputs["monthlyErrorBudgetMinutes"] = float(monthly_error_budget_minutes(target))

    cost = estimate_monthly_cost(settings)
    if (warning := budget_warning(cost, settings.cost.monthly_budget_usd)) is not None:
        pulumi.log.warn(warning)
    outputs["monthlyCostEstimateUsd"] = float(cost.total_usd)
    outputs["monthlyCostBreakdownUsd"] = cost.breakdown_usd()
    outputs["monthlyCostBasis"] = cost.basis()
    outputs["monthlyCostCeilingUsd"] = settings.cost.monthly_ceiling_usd
    outputs["monthlyBudgetUsd"] = settings.cost.monthly_budget_usd
    return PlatformOutputs(values=outputs)


# What each stack gets: one function per component, from the validated settings. Tests
# build single components with them, exactly as the program does.


def repository_args(settings: Settings) -> AppRepositoryArgs:
    """The repository production owns, with the files it commits into it."""
    gh = settings.github
    return AppRepositoryArgs(
        repository=gh.repository,
        description=gh.description,
        topics=gh.topics,
        visibility=gh.visibility,
        import_id=gh.repository_import_id,
        required_approving_review_count=gh.required_approving_review_count,
        require_signed_commits=gh.require_signed_commits,
        bypass_actors=gh.bypass_actors,
        teams=gh.teams,
        required_checks=pipeline.required_status_checks(),
        files=app_repository_files(
            {
                ".github/CODEOWNERS": codeowners(gh.owner, gh.devops_team),
                "SECURITY.md": security_policy(
                    gh.security_contact, gh.disclosure_window_days, settings.site_url
                ),
                "vercel.json": render_vercel_json(content_security_policy(settings)),
            }
        ),
        protect=True,
    )


def database_args(settings: Settings, secrets: Secrets) -> DatabaseArgs:
    """The stack's Supabase project and settings; production's project is protected and
    retained. Egress CIDRs are declared only for the clients that get a direct URL."""
    sb = settings.supabase
    limits = dict(sb.auth_rate_limits)
    return DatabaseArgs(
        project_name=settings.name("db"),
        organization_slug=sb.organization_slug,
        region=sb.region,
        instance_size=sb.instance_size,
        site_url=settings.site_url,
        pool_mode=sb.pool_mode,
        default_pool_size=sb.default_pool_size,
        otp_expiry_seconds=sb.otp_expiry_seconds,
        allowed_cidrs=sb.allowed_cidrs,
        app_egress_cidrs=sb.app_egress_cidrs,
        ci_egress_cidrs=sb.ci_egress_cidrs,
        email_confirmations=sb.email_confirmations,
        redirect_urls=sb.redirect_urls,
        smtp_host=sb.smtp_host,
        smtp_port=sb.smtp_port,
        smtp_user=sb.smtp_user,
        smtp_password=secrets.supabase_smtp_password,
        smtp_sender_name=sb.smtp_sender_name,
        smtp_admin_email=sb.smtp_admin_email,
        rate_limit_email_sent=limits["rate_limit_email_sent"],
        rate_limit_verify=limits["rate_limit_verify"],
        rate_limit_token_refresh=limits["rate_limit_token_refresh"],
        rate_limit_otp=limits["rate_limit_otp"],
        rate_limit_anonymous_users=limits["rate_limit_anonymous_users"],
        point_in_time_recovery=sb.point_in_time_recovery,
        import_id=sb.project_import_id,
        existing_password=secrets.supabase_existing_db_password,
        rotate_adopted_password=sb.rotate_adopted_password,
        production=settings.is_production,
        access_token=secrets.supabase_access_token,
    )


def monitoring_args(settings: Settings) -> MonitoringArgs:
    """The stack's Sentry project and alerts; production owns the organisation's team."""
    alerts = settings.alerts
    sentry_settings = settings.sentry
    return MonitoringArgs(
        organization=sentry_settings.organization,
        team=sentry_settings.team,
        project_slug=f"{settings.app}-{settings.stack}",
        owns_team=settings.is_production,
        error_rate_percent=alerts.error_rate_percent,
        lcp_ms=alerts.lcp_ms,
        fcp_ms=alerts.fcp_ms,
        ttfb_ms=alerts.ttfb_ms,
        key_rate_limit_count=sentry_settings.key_rate_limit_count,
        key_rate_limit_window_seconds=sentry_settings.key_rate_limit_window_seconds,
        alert_frequency_minutes=sentry_settings.alert_frequency_minutes,
        alert_email=alerts.email,
        slack_workspace_id=alerts.slack_workspace_id,
        slack_channel=alerts.slack_channel,
        protect=settings.is_production,
    )


def synthetic_monitoring_args(
    settings: Settings, slack_webhook_url: pulumi.Input[str] | None
) -> SyntheticMonitoringArgs:
    """The stack's Checkly monitors: production pages on degradation and has a status page."""
    checkly_settings, alerts = settings.checkly, settings.alerts
    return SyntheticMonitoringArgs(
        name_prefix=f"{settings.app}-{settings.stack}",
        site_url=settings.site_url,
        domain=settings.domain,
        locations=checkly_settings.locations,
        frequency_minutes=checkly_settings.frequency_minutes,
        browser_frequency_minutes=checkly_settings.browser_frequency_minutes,
        failed_runs_before_alert=checkly_settings.failed_runs_before_alert,
        ssl_expiry_alert_days=checkly_settings.ssl_expiry_alert_days,
        ttfb_ms=alerts.ttfb_ms,
        lcp_ms=alerts.lcp_ms,
        fcp_ms=alerts.fcp_ms,
        alert_email=alerts.email,
        slack_channel=alerts.slack_channel,
        slack_webhook_url=slack_webhook_url,
        parallel=checkly_settings.parallel,
        notify_degraded=settings.is_production,
        status_page=settings.is_production,
        protect=settings.is_production,
    )


def hosting_args(settings: Settings, runtime: AppRuntimeValues) -> HostingArgs:
    """The stack's `HostingArgs`: what each stack deploys to follows from which stack it is."""
    production = settings.is_production
    v = settings.vercel
    return HostingArgs(
        project_name=settings.name("web"),
        team_id=v.team_id,
        domain=settings.domain,
        site_url=settings.site_url,
        targets=("production",) if production else ("preview", "production"),
        framework=v.framework,
        node_version=v.node_version,
        function_region=v.function_region,
        rate_limit_requests=v.rate_limit_requests,
        rate_limit_window_seconds=v.rate_limit_window_seconds,
        deployment_protection=v.deployment_protection,
        runtime=runtime,
        build_command=v.build_command,
        install_command=v.install_command,
        output_directory=v.output_directory,
        root_directory=v.root_directory,
        trusted_ips=v.trusted_ips,
        log_drain_endpoint=v.log_drain_endpoint,
        import_id=v.project_import_id,
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


def deployers(settings: Settings) -> tuple[FederatedDeployer, ...]:
    """The workflow runs that may deploy to the stack's Vercel project, one OIDC federation
    policy each."""
    main = (pipeline.MAIN_REF,)
    if settings.is_production:
        # Production deploys and promotes from main only, after its reviewers approve; a
        # rollback is a second policy with fewer commands and its own environment.
        return (
            _deployer("deploy", settings.environment, main, ("push",)),
            _deployer("rollback", pipeline.ROLLBACK_ENVIRONMENT, main, ("workflow_dispatch",)),
        )
    # Staging: pull-request previews and the staging domain from main. A pull request can
    # claim this environment, which is why this policy reaches the staging project only.
    return (
        _deployer(
            "deploy",
            settings.environment,
            (*main, pipeline.PULL_REQUEST_REF),
            ("push", "pull_request"),
        ),
    )


def _deployer(
    purpose: str, environment: str, refs: tuple[str, ...], events: tuple[str, ...]
) -> FederatedDeployer:
    """A policy for the jobs that run in `environment`. Which workflows those are and which
    CLI commands they run is read from the shipped workflows, so the policy grants exactly
    what its jobs do, never less and never more."""
    return FederatedDeployer(
        purpose=purpose,
        environment=environment,
        refs=refs,
        workflows=pipeline.deploying_workflows(environment),
        events=events,
        commands=pipeline.vercel_api_commands(environment, LOCAL_CLI_COMMANDS),
    )


def deploy_access_args(settings: Settings, project_id: pulumi.Input[str]) -> DeployAccessArgs:
    """Who and what may deploy to the stack's Vercel project."""
    gh = settings.github
    return DeployAccessArgs(
        team_id=settings.vercel.team_id,
        project_id=project_id,
        project_name=settings.name("web"),
        repository=f"{gh.owner}/{gh.repository}",
        deployers=deployers(settings),
        members=settings.vercel.project_members,
        access_groups=settings.vercel.access_groups,
    )


def content_security_policy(settings: Settings) -> str:
    """The CSP `vercel.json` carries: config's own, else the strict default (with PostHog's
    origins when the app uses PostHog)."""
    posthog = settings.posthog
    return settings.vercel.content_security_policy or default_content_security_policy(
        posthog.host if posthog.enabled else ""
    )
