"""The whole platform of one stack, assembled from the components.

Which stack owns what (ARCHITECTURE.md): production owns the repository-wide singletons
(`AppRepository`, the Sentry team); every stack owns its own environment, hosting,
database and monitoring. Values flow between components as Outputs, never as copied
strings: database → hosting variables and environment secrets, monitoring → hosting,
hosting → the environment's variables.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_github as github
import pulumiverse_sentry as sentry
import pulumiverse_vercel as vercel

from components import pipeline
from components.config import Secrets, Settings
from components.cost import budget_warning, estimate_monthly_cost
from components.database import Database, DatabaseArgs
from components.environment import DeploymentEnvironment, DeploymentEnvironmentArgs
from components.hosting import AppRuntimeValues, Hosting, hosting_args
from components.monitoring import Monitoring, MonitoringArgs, monthly_error_budget_minutes
from components.repository import AppRepository, AppRepositoryArgs
from components.repository_files import app_repository_files
from components.vercel_json import render_vercel_json

REPOSITORY_URL_VARIABLE = {"production": "PRODUCTION_URL", "staging": "STAGING_URL"}
"""The repository-level variable each stack owns: the base URL the health check probes."""


@dataclass(frozen=True)
class PlatformOutputs:
    """What a stack exports (see the README's outputs table)."""

    values: dict[str, pulumi.Input[object]]


def build_platform(settings: Settings, secrets: Secrets) -> PlatformOutputs:
    """Register every resource of the stack described by `settings`."""
    gh = settings.github
    site_url = f"https://{settings.domain}"
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
    if settings.is_production:
        repository = AppRepository(
            settings.app,
            AppRepositoryArgs(
                github=gh,
                required_checks=pipeline.required_status_checks(),
                files=app_repository_files(
                    settings, extra={"vercel.json": render_vercel_json(settings)}
                ),
                protect=True,
            ),
            opts=with_github,
        )
        repository_name = repository.name
        outputs["repositoryUrl"] = repository.html_url
    else:
        # Staging attaches to the repository production owns, by name (no lookup).
        outputs["repositoryUrl"] = f"https://github.com/{gh.owner}/{gh.repository}"

    database = Database(
        settings.name("database"),
        DatabaseArgs(
            supabase=settings.supabase,
            project_name=settings.name("db"),
            site_url=site_url,
            production=settings.is_production,
            access_token=secrets.supabase_access_token,
        ),
    )
    outputs["supabaseUrl"] = database.api_url
    outputs["databaseBackups"] = database.backups

    monitoring = Monitoring(
        settings.name("monitoring"),
        MonitoringArgs(
            settings=settings.monitoring,
            project_slug=f"{settings.app}-{settings.stack}",
            owns_team=settings.is_production,
            protect=settings.is_production,
        ),
        opts=with_sentry,
    )
    outputs["sentryProjectSlug"] = monitoring.project_slug

    posthog = settings.monitoring
    hosting = Hosting(
        settings.name("hosting"),
        hosting_args(
            settings,
            AppRuntimeValues(
                supabase_url=database.api_url,
                supabase_anon_key=database.anon_key,
                supabase_service_role_key=database.service_role_key,
                database_url=database.pooled_connection_string,
                sentry_dsn=monitoring.dsn,
                sentry_browser_dsn=monitoring.browser_dsn,
                posthog_key=(
                    pulumi.Output.from_input(posthog.posthog_project_key)
                    if posthog.posthog_project_key
                    else None
                ),
                posthog_host=(
                    pulumi.Output.from_input(posthog.posthog_host)
                    if posthog.posthog_project_key
                    else None
                ),
            ),
        ),
        opts=with_vercel,
    )
    outputs["vercelProjectId"] = hosting.project_id
    outputs["productionUrl"] = hosting.production_url
    outputs["previewUrlPattern"] = hosting.preview_url_pattern
    if hosting.log_drain_secret is not None:
        outputs["logDrainSecret"] = hosting.log_drain_secret

    environment_variables: dict[str, pulumi.Input[str]] = {
        "APP_URL": site_url,
        "VERCEL_PROJECT_ID": hosting.project_id,
        "VERCEL_ORG_ID": hosting.team_id,
    }
    environment_secrets: dict[str, pulumi.Input[str]] = {
        # Migrations run from CI against the database itself, not through the pooler.
        "SUPABASE_DB_URL": database.direct_connection_string,
    }
    if hosting.protection_bypass_secret is not None:
        environment_secrets["VERCEL_AUTOMATION_BYPASS_SECRET"] = hosting.protection_bypass_secret
    if secrets.vercel_token is not None:
        environment_secrets["VERCEL_TOKEN"] = secrets.vercel_token
    else:
        pulumi.log.warn(
            "vercelToken is not set: the VERCEL_TOKEN environment secret is not managed "
            "(pulumi config set --secret vercelToken ...)"
        )
    # The Sentry release token reaches only production's environment (rule S11).
    if settings.is_production and secrets.sentry_auth_token is not None:
        environment_secrets["SENTRY_AUTH_TOKEN"] = secrets.sentry_auth_token

    environment = DeploymentEnvironment(
        settings.name("environment"),
        DeploymentEnvironmentArgs(
            repository=repository_name,
            environment=settings.environment,
            protected=settings.is_production,
            reviewer_team_ids=gh.environment_reviewer_team_ids,
            reviewer_user_ids=gh.environment_reviewer_user_ids,
            variables=environment_variables,
            secrets=environment_secrets,
        ),
        opts=with_github,
    )
    outputs["environmentName"] = environment.name

    # Each stack owns the repository variable naming its own URL, so the two never clash.
    github.ActionsVariable(
        settings.name("health-check-url"),
        repository=repository_name,
        variable_name=REPOSITORY_URL_VARIABLE[settings.stack],
        value=site_url,
        opts=with_github,
    )

    target = settings.monitoring.availability_target_percent
    outputs["availabilityTargetPercent"] = float(target)
    outputs["monthlyErrorBudgetMinutes"] = float(monthly_error_budget_minutes(target))

    cost = estimate_monthly_cost(settings)
    if (warning := budget_warning(cost, settings.cost.monthly_budget_usd)) is not None:
        pulumi.log.warn(warning)
    outputs["monthlyCostEstimateUsd"] = float(cost.total_usd)
    outputs["monthlyCostBreakdownUsd"] = cost.breakdown_usd()
    outputs["monthlyBudgetUsd"] = settings.cost.monthly_budget_usd
    return PlatformOutputs(values=outputs)
