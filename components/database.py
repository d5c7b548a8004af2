"""This stack's Supabase project: Postgres, auth, pooling, network rules and backups.

The project itself is a `SupabaseProject` dynamic resource (components/supabase), since
the published provider cannot update, delete or manage settings. Its database password
is generated here by pulumi-random and never leaves Pulumi secrets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_random as random

from components.config import SupabaseSettings
from components.supabase import SupabaseProject, SupabaseProjectArgs


@dataclass(frozen=True)
class DatabaseArgs:
    """Inputs of `Database`."""

    supabase: SupabaseSettings
    """Validated Supabase settings of the stack."""
    project_name: str
    """Deterministic project name, `{app}-{stack}-db`."""
    site_url: str
    """The stack's public URL: auth's default redirect (https://{domain})."""
    production: bool
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
        sb = args.supabase
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
            import_=sb.project_import_id or None,
        )
        self.project = SupabaseProject(
            f"{name}-project",
            SupabaseProjectArgs(
                name=args.project_name,
                organization_slug=sb.organization_slug,
                region=sb.region,
                db_pass=password.result,
                desired_instance_size=sb.instance_size,
                pool_mode=sb.pool_mode,
                default_pool_size=sb.default_pool_size,
                ssl_enforced=True,
                # Empty means "not restricted" in config (staging); production config is
                # validated to list at least one network and never 0.0.0.0/0 or ::/0.
                allowed_cidrs=list(sb.allowed_cidrs) if sb.allowed_cidrs else None,
                site_url=args.site_url,
                uri_allow_list=[args.site_url, *sb.redirect_urls],
                mailer_autoconfirm=not sb.email_confirmations,
                mailer_otp_exp=sb.otp_expiry_seconds,
                pitr_required=sb.point_in_time_recovery,
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
