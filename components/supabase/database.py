"""This stack's Supabase project: Postgres, auth, pooling, network rules and backups.

The project itself is a `SupabaseProject` dynamic resource (provider.py beside this), since
the published provider cannot update, delete or manage settings. Its database password
is generated here by pulumi-random and never leaves Pulumi secrets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_random as random

from components.supabase.facts import PoolMode
from components.supabase.provider import SupabaseProject, SupabaseProjectArgs


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
    """Compute size, e.g. `small`."""
    site_url: str
    """The stack's public URL: auth's default redirect (https://{domain})."""
    pool_mode: PoolMode
    """Supavisor pool mode: `transaction` (serverless functions) or `session`."""
    default_pool_size: int
    """Server connections per user and database in the pool."""
    otp_expiry_seconds: int
    """Lifetime of e-mail OTPs and links, at most an hour (rule S3)."""
    allowed_cidrs: Sequence[str] = ()
    """Networks allowed to reach Postgres directly; empty: not restricted (staging only —
    production settings require at least one and refuse 0.0.0.0/0 and ::/0, rule S1)."""
    email_confirmations: bool = True
    """New users confirm their e-mail address before signing in (rule S3)."""
    redirect_urls: Sequence[str] = ()
    """Further URLs auth may redirect to, besides `site_url`."""
    point_in_time_recovery: bool = False
    """Point-in-time recovery: the shortest-retention add-on is enabled when the project has
    none (Supabase requires the small size or larger; rule S4)."""
    import_id: str = ""
    """Ref of an existing project to adopt instead of creating one."""
    production: bool = False
    """Production keeps its project: protected and retained if the resource is deleted."""
    access_token: pulumi.Input[str] | None = None
    """Management API token (a Pulumi secret); None reads SUPABASE_ACCESS_TOKEN at each call."""


class Database(pulumi.ComponentResource):
    """A Supabase project with SSL enforced, restricted networks, safe auth and backups.

    On delete: staging's project is deleted with its data; production's is protected
    (`pulumi destroy` refuses) and retained even if the resource is removed from the
    program, so the data outlives the stack.
    """

    project: SupabaseProject
    api_url: pulumi.Output[str]
    """https://<ref>.supabase.co, public."""
    anon_key: pulumi.Output[str]
    """Public API key (safe in the browser; row-level security protects the data)."""
    service_role_key: pulumi.Output[str]
    """Service-role key, bypasses row-level security: secret, server-only."""
    pooled_connection_string: pulumi.Output[str]
    """Postgres URL through the pooler (serverless functions): secret."""
    direct_connection_string: pulumi.Output[str]
    """Postgres URL to the database itself (migrations, dumps): secret."""
    backups: pulumi.Output[dict[str, Any]]
    """Backup state as last read: pitr_enabled, walg_enabled, latest_backup_at."""

    def __init__(
        self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("platform:supabase:Database", name, None, opts)
        # Letters and digits only: the password is embedded in connection URLs, where
        # special characters would need escaping by every client.
        password = random.RandomPassword(
            f"{name}-password",
            length=40,
            special=False,
            min_lower=4,
            min_upper=4,
            min_numeric=4,
            opts=pulumi.ResourceOptions(parent=self),
        )
        keep = pulumi.ResourceOptions(
            parent=self,
            protect=args.production,
            retain_on_delete=args.production,
            import_=args.import_id or None,
        )
        self.project = SupabaseProject(
            f"{name}-project",
            SupabaseProjectArgs(
                name=args.project_name,
                organization_slug=args.organization_slug,
                region=args.region,
                db_pass=password.result,
                desired_instance_size=args.instance_size,
                pool_mode=args.pool_mode,
                default_pool_size=args.default_pool_size,
                ssl_enforced=True,
                # Empty means "not restricted" (DatabaseArgs.allowed_cidrs).
                allowed_cidrs=list(args.allowed_cidrs) if args.allowed_cidrs else None,
                site_url=args.site_url,
                uri_allow_list=[args.site_url, *args.redirect_urls],
                mailer_autoconfirm=not args.email_confirmations,
                mailer_otp_exp=args.otp_expiry_seconds,
                pitr_required=args.point_in_time_recovery,
                access_token=args.access_token,
            ),
            opts=keep,
        )
        self.api_url = self.project.api_url
        self.anon_key = self.project.anon_key
        self.service_role_key = pulumi.Output.secret(self.project.service_role_key)
        self.pooled_connection_string = pulumi.Output.secret(self.project.pooled_connection_string)
        self.direct_connection_string = pulumi.Output.secret(self.project.direct_connection_string)
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
