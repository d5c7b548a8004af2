"""This stack's Supabase project: Postgres, auth, pooling, network rules and backups.

The project and each group of its settings are dynamic resources of their own, each with
atomic state, as the official Terraform provider models them (provider.py, password.py,
settings_resources.py): a failure in one call leaves every recorded state true. The
database password is generated here by pulumi-random; the connection strings are built
from what the `DatabasePassword` resource recorded (a password the API accepted) and the
pooler's and project's outputs, so every consumer depends on that resource.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_random as random

from components.supabase.api import DIRECT_DATABASE, connection_string
from components.supabase.dynamic import Timing
from components.supabase.facts import PoolMode
from components.supabase.password import (
    DatabasePassword,
    DatabasePasswordArgs,
    DatabasePasswordProvider,
)
from components.supabase.provider import (
    SupabaseProject,
    SupabaseProjectArgs,
    SupabaseProjectProvider,
)
from components.supabase.settings_resources import (
    AuthConfig,
    AuthConfigArgs,
    AuthConfigProvider,
    NetworkRestrictions,
    NetworkRestrictionsArgs,
    NetworkRestrictionsProvider,
    Pooler,
    PoolerArgs,
    PoolerProvider,
    SslEnforcement,
    SslEnforcementArgs,
    SslEnforcementProvider,
)

DIRECT_PORT = 5432
DIRECT_USER = "postgres"


@dataclass(frozen=True)
class DatabaseArgs:
    """Inputs of `Database`. Values arrive validated by `components/supabase/settings.py`."""

    project_name: str
    """Deterministic project name, `{app}-{stack}-db`."""
    organization_slug: str
    """Supabase organisation that owns (and bills) the project."""
    region: str
    """Region of the database; a change replaces the project (and its data)."""
    instance_size: str
    """Compute size, e.g. `small`. An adopted project keeps its own until the next `up`
    shows the resize."""
    site_url: str
    """The stack's public URL: auth's default redirect (https://{domain})."""
    pool_mode: PoolMode
    """Supavisor pool mode: `transaction` (serverless functions) or `session`."""
    default_pool_size: int
    """Server connections per user and database in the pool."""
    otp_expiry_seconds: int
    """Lifetime of e-mail OTPs and links, at most an hour (rule S3)."""
    allowed_cidrs: Sequence[str] = ()
    """Networks allowed to reach Postgres directly; empty: not restricted, and no
    `NetworkRestrictions` resource (staging only: production settings require at least
    one and refuse 0.0.0.0/0 and ::/0, rule S1)."""
    app_egress_cidrs: Sequence[str] = ()
    """Egress of the app's functions that connect directly (rule S1), declared on the
    network restrictions; inside `allowed_cidrs`."""
    ci_egress_cidrs: Sequence[str] = ()
    """Egress of the CI runners that run migrations, declared likewise."""
    email_confirmations: bool = True
    """New users confirm their e-mail address before signing in (rule S3)."""
    redirect_urls: Sequence[str] = ()
    """Further URLs auth may redirect to, besides `site_url`."""
    smtp_host: str = ""
    """Custom SMTP server for auth e-mail; empty keeps Supabase's built-in mailer (a few
    mails an hour, organisation members only: production with confirmations needs one,
    rule S13)."""
    smtp_port: int | None = None
    """SMTP port (with `smtp_host`)."""
    smtp_user: str = ""
    """SMTP user name."""
    smtp_password: pulumi.Input[str] | None = None
    """SMTP password, a Pulumi secret (rule S13)."""
    smtp_sender_name: str = ""
    """Name auth e-mails are sent as; empty: Supabase's default."""
    smtp_admin_email: str = ""
    """Address auth e-mails are sent from."""
    rate_limit_email_sent: int | None = None
    """Auth e-mails per hour; None (the built-in mailer) leaves Supabase's fixed limit."""
    rate_limit_verify: int | None = None
    """Sign-up and sign-in verifications per 5 minutes and IP address; None: not managed."""
    rate_limit_token_refresh: int | None = None
    """Session refreshes per 5 minutes and IP address; None: not managed."""
    rate_limit_otp: int | None = None
    """OTP and magic-link requests per 5 minutes and IP address; None: not managed."""
    rate_limit_anonymous_users: int | None = None
    """Anonymous sign-ins per hour and IP address; None: not managed."""
    point_in_time_recovery: bool = False
    """Point-in-time recovery: the shortest-retention add-on is enabled when the project has
    none (Supabase requires the small size or larger; rule S4)."""
    import_id: str = ""
    """Ref of an existing project to adopt instead of creating one."""
    existing_password: pulumi.Input[str] | None = None
    """An adopted project's current database password (a secret): recorded, not changed."""
    rotate_adopted_password: bool = False
    """Give an adopted project the generated password instead (rule R5: explicit only)."""
    production: bool = False
    """Production keeps its project: protected and retained if the resource is deleted."""
    access_token: pulumi.Input[str] | None = None
    """Management API token (a Pulumi secret); None reads SUPABASE_ACCESS_TOKEN at each call."""


@dataclass(frozen=True)
class SupabaseResources:
    """What `supabase_resources` registers, and the connection strings built from it."""

    project: SupabaseProject
    password: DatabasePassword
    pooler: Pooler
    pooled_connection_string: pulumi.Output[str]
    """Postgres URL through the pooler, with the password `password` recorded: secret."""
    direct_connection_string: pulumi.Output[str]
    """Postgres URL to the database host, likewise: secret."""


def supabase_resources(
    name: str,
    args: DatabaseArgs,
    password: pulumi.Input[str],
    parent: pulumi.Resource | None = None,
    timing: Timing | None = None,
) -> SupabaseResources:
    """Register the project, its password and its settings groups, named `{name}-<role>`.

    `password` is the generated one the project is created with (and set to, when this
    stack made it). `timing` replaces the providers' default deadlines and polling.
    """
    child = pulumi.ResourceOptions(parent=parent)
    keep = pulumi.ResourceOptions(
        parent=parent,
        protect=args.production,
        retain_on_delete=args.production,
        import_=args.import_id or None,
    )
    token = args.access_token
    project = SupabaseProject(
        f"{name}-project",
        SupabaseProjectArgs(
            name=args.project_name,
            organization_slug=args.organization_slug,
            region=args.region,
            db_pass=password,
            desired_instance_size=args.instance_size,
            pitr_required=args.point_in_time_recovery,
            access_token=token,
        ),
        opts=keep,
        provider=SupabaseProjectProvider(timing=timing),
    )
    ref = project.id
    recorded = DatabasePassword(
        f"{name}-postgres-password",
        DatabasePasswordArgs(
            project_ref=ref,
            password=password,
            adopted=project.adopted,
            existing_password=args.existing_password,
            rotate_adopted=args.rotate_adopted_password,
            access_token=token,
        ),
        opts=child,
        provider=DatabasePasswordProvider(timing=timing),
    )
    pooler = Pooler(
        f"{name}-pooler",
        PoolerArgs(
            project_ref=ref,
            pool_mode=args.pool_mode,
            default_pool_size=args.default_pool_size,
            access_token=token,
        ),
        opts=child,
        provider=PoolerProvider(timing=timing),
    )
    SslEnforcement(
        f"{name}-ssl-enforcement",
        SslEnforcementArgs(project_ref=ref, enforced=True, access_token=token),
        opts=child,
        provider=SslEnforcementProvider(timing=timing),
    )
    if args.allowed_cidrs:
        NetworkRestrictions(
            f"{name}-network-restrictions",
            NetworkRestrictionsArgs(
                project_ref=ref,
                allowed_cidrs=args.allowed_cidrs,
                app_egress_cidrs=args.app_egress_cidrs,
                ci_egress_cidrs=args.ci_egress_cidrs,
                access_token=token,
            ),
            opts=child,
            provider=NetworkRestrictionsProvider(timing=timing),
        )
    AuthConfig(
        f"{name}-auth",
        _auth_args(args, ref),
        opts=child,
        provider=AuthConfigProvider(timing=timing),
    )
    pooled = pulumi.Output.all(
        pooler.db_user, recorded.password, pooler.db_host, pooler.db_port, pooler.db_name
    ).apply(lambda parts: connection_string(*parts))
    direct = pulumi.Output.all(recorded.password, project.db_host).apply(
        lambda parts: connection_string(
            DIRECT_USER, parts[0], parts[1], DIRECT_PORT, DIRECT_DATABASE
        )
    )
    return SupabaseResources(
        project=project,
        password=recorded,
        pooler=pooler,
        pooled_connection_string=pulumi.Output.secret(pooled),
        direct_connection_string=pulumi.Output.secret(direct),
    )


class Database(pulumi.ComponentResource):
    """A Supabase project with SSL enforced, restricted networks, safe auth and backups.

    On delete: staging's project is deleted with its data; production's is protected
    (`pulumi destroy` refuses) and retained even if the resource is removed from the
    program, so the data outlives the stack. Deleting a settings resource changes nothing
    remote (the project keeps its settings).
    """

    project: SupabaseProject
    password: DatabasePassword
    pooler: Pooler
    api_url: pulumi.Output[str]
    """https://<ref>.supabase.co, public."""
    anon_key: pulumi.Output[str]
    """Public API key (safe in the browser; row-level security protects the data)."""
    service_role_key: pulumi.Output[str]
    """Service-role key, bypasses row-level security: secret, server-only."""
    pooled_connection_string: pulumi.Output[str]
    """Postgres URL through the pooler (serverless functions): secret; it carries the
    password the `DatabasePassword` resource recorded."""
    direct_connection_string: pulumi.Output[str]
    """Postgres URL to the database itself (migrations, dumps): secret, likewise."""
    backups: pulumi.Output[dict[str, Any]]
    """Backup state as last read: pitr_enabled, walg_enabled, latest_backup_at."""

    def __init__(
        self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("platform:supabase:Database", name, None, opts)
        # Letters and digits only: the password is embedded in connection URLs, where
        # special characters would need escaping by every client.
        generated = random.RandomPassword(
            f"{name}-password",
            length=40,
            special=False,
            min_lower=4,
            min_upper=4,
            min_numeric=4,
            opts=pulumi.ResourceOptions(parent=self),
        )
        resources = supabase_resources(name, args, generated.result, parent=self)
        self.project = resources.project
        self.password = resources.password
        self.pooler = resources.pooler
        self.api_url = self.project.api_url
        self.anon_key = self.project.anon_key
        self.service_role_key = pulumi.Output.secret(self.project.service_role_key)
        self.pooled_connection_string = resources.pooled_connection_string
        self.direct_connection_string = resources.direct_connection_string
        self.backups = pulumi.Output.all(
            self.project.pitr_enabled, self.project.walg_enabled, self.project.latest_backup_at
        ).apply(
            lambda state: {
                "pitr_enabled": state[0],
                "walg_enabled": state[1],
                "latest_backup_at": state[2],
            }
        )
        self.register_outputs(
            {
                "api_url": self.api_url,
                "anon_key": self.anon_key,
                "service_role_key": self.service_role_key,
                "pooled_connection_string": self.pooled_connection_string,
                "direct_connection_string": self.direct_connection_string,
                "backups": self.backups,
            }
        )


def _auth_args(args: DatabaseArgs, ref: pulumi.Input[str]) -> AuthConfigArgs:
    """Auth settings: custom SMTP when a host is configured, else the built-in mailer."""
    smtp = bool(args.smtp_host)
    return AuthConfigArgs(
        project_ref=ref,
        site_url=args.site_url,
        uri_allow_list=[args.site_url, *args.redirect_urls],
        mailer_autoconfirm=not args.email_confirmations,
        mailer_otp_exp=args.otp_expiry_seconds,
        smtp_host=args.smtp_host if smtp else None,
        smtp_port=args.smtp_port if smtp else None,
        smtp_user=args.smtp_user if smtp else None,
        smtp_pass=args.smtp_password if smtp else None,
        smtp_sender_name=(args.smtp_sender_name or None) if smtp else None,
        smtp_admin_email=args.smtp_admin_email if smtp else None,
        rate_limit_email_sent=args.rate_limit_email_sent if smtp else None,
        rate_limit_verify=args.rate_limit_verify,
        rate_limit_token_refresh=args.rate_limit_token_refresh,
        rate_limit_otp=args.rate_limit_otp,
        rate_limit_anonymous_users=args.rate_limit_anonymous_users,
        access_token=args.access_token,
    )
