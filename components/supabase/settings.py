"""Supabase settings: this stack's project, pooling, networks, access path, auth, backups.

This package's section of the stack settings: `load_supabase` reads and validates its keys
with the generic `Reader` (components/reader.py); `components/config.py` calls it. The
secrets this section needs (the SMTP password, an adopted project's database password) are
Outputs: `required_secrets` says which must be set, and `config.py` checks their presence
where it reads them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import cast

from components.reader import EMAIL, ONE_LINE, SLUG, Reader, cidr, matching
from components.supabase.facts import (
    AUTH_RATE_LIMITS,
    BRANCHING_TOKEN_KEY,
    DATABASE_ACCESS,
    EXISTING_PASSWORD_KEY,
    INSTANCE_SIZES,
    MANAGED_SCHEMAS,
    MAX_EXPECTED_OPEN_BRANCHES,
    MAX_OTP_EXPIRY_SECONDS,
    MAX_RATE_LIMIT,
    OPEN_TO_ALL,
    PLANS,
    POOL_MODES,
    REGIONS,
    ROTATE_ADOPTED_KEY,
    SIZES_WITHOUT_PITR,
    SMTP_PASSWORD_KEY,
    DatabaseAccess,
    PoolMode,
    inside,
)

_SUPABASE_REF = re.compile(r"^[a-z]{20}$")
_HOST = re.compile(
    r"^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
_CIDR_ALLOWED = "an IPv4 or IPv6 CIDR such as 203.0.113.0/24"
_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# Redirect URLs may carry the wildcards Supabase auth understands (* and **).
_REDIRECT_URL = re.compile(r"^https://[A-Za-z0-9.*-]+(?::\d{1,5})?(?:/[^\s]*)?$")


@dataclass(frozen=True)
class SupabaseSettings:
    """This stack's Supabase project; see Pulumi.yaml for each key.

    `supabasePitrWaiver` is only checked here (production without point-in-time recovery must
    give a reason): it configures nothing, so it is not carried on.
    """

    organization_slug: str
    region: str
    instance_size: str
    plan: str
    pool_mode: PoolMode
    default_pool_size: int
    allowed_cidrs: tuple[str, ...]
    email_confirmations: bool
    otp_expiry_seconds: int
    redirect_urls: tuple[str, ...]
    point_in_time_recovery: bool
    project_import_id: str
    rotate_adopted_password: bool
    database_access: DatabaseAccess
    app_egress_cidrs: tuple[str, ...]
    ci_egress_cidrs: tuple[str, ...]
    smtp_host: str
    smtp_port: int
    smtp_user: str
    smtp_sender_name: str
    smtp_admin_email: str
    auth_rate_limits: tuple[tuple[str, int], ...]
    """(auth setting, value) per rate limit, e.g. ("rate_limit_otp", 30)."""
    preview_branches: bool
    """Each pull request's preview gets a database branch of this project (staging only)."""
    expected_open_branches: int
    """Pull requests open at once, each with its branch: what the cost estimate bills."""
    exposed_schemas: tuple[str, ...]
    """Schemas besides `public` the Data API exposes; the RLS check covers them too."""

    @property
    def app_connects_directly(self) -> bool:
        """The app gets a Postgres connection string (Vercel's DATABASE_URL)."""
        return self.database_access == "direct"

    @property
    def ci_connects_directly(self) -> bool:
        """CI gets the direct connection string (GitHub's SUPABASE_DB_URL): only when its
        runners can connect, i.e. the network is unrestricted or their egress is listed.
        GitHub-hosted runners have dynamic egress, which no allow-list can name."""
        return not self.allowed_cidrs or bool(self.ci_egress_cidrs)


def required_secrets(settings: SupabaseSettings) -> dict[str, str]:
    """Secret keys this section needs set, each with why (checked where secrets are read)."""
    needed: dict[str, str] = {}
    if settings.smtp_host:
        needed[SMTP_PASSWORD_KEY] = f"the password of {settings.smtp_host} (rule S13)"
    if settings.preview_branches:
        needed[BRANCHING_TOKEN_KEY] = (
            "the Management API token the app's workflows make, migrate and delete the pull "
            "requests' database branches with (supabasePreviewBranches)"
        )
    if settings.project_import_id and not settings.rotate_adopted_password:
        needed[EXISTING_PASSWORD_KEY] = (
            f"the database password of the adopted project {settings.project_import_id}, "
            f"never changed silently (rule R5); or set {ROTATE_ADOPTED_KEY}=true to give "
            "it the generated one"
        )
    return needed


def load_supabase(r: Reader, stack: str) -> SupabaseSettings:
    production = stack == "production"
    cidrs = r.items("supabaseAllowedCidrs", cidr, _CIDR_ALLOWED)
    if production:
        open_cidrs = [c for c in cidrs if c in OPEN_TO_ALL]
        if open_cidrs:
            r.problem(
                "supabaseAllowedCidrs",
                list(cidrs),
                "no 0.0.0.0/0 or ::/0 in production (rule S1)",
            )
        elif not cidrs:
            r.problem(
                "supabaseAllowedCidrs",
                [],
                "at least one CIDR in production; empty leaves Postgres open to all (rule S1)",
            )
    pitr = r.boolean("supabasePointInTimeRecovery")
    waiver = r.string("supabasePitrWaiver")
    if production and not pitr and not waiver.strip():
        r.problem(
            "supabasePitrWaiver",
            waiver,
            "a reason when production runs without point-in-time recovery (rule S4)",
        )
    instance_size = r.string("supabaseInstanceSize", choices=INSTANCE_SIZES)
    if pitr and instance_size in SIZES_WITHOUT_PITR:
        r.problem(
            "supabaseInstanceSize",
            instance_size,
            "small or larger when supabasePointInTimeRecovery is on (Supabase's requirement)",
        )
    access = cast(DatabaseAccess, r.string("supabaseDatabaseAccess", choices=DATABASE_ACCESS))
    app_egress = r.items("supabaseAppEgressCidrs", cidr, _CIDR_ALLOWED)
    ci_egress = r.items("supabaseCiEgressCidrs", cidr, _CIDR_ALLOWED)
    _check_access_path(r, access, cidrs, app_egress, ci_egress)
    preview_branches = r.boolean("supabasePreviewBranches")
    if production and preview_branches:
        r.problem(
            "supabasePreviewBranches",
            True,
            "false in production: pull requests preview on staging's project, so production "
            "has no previews to branch for",
        )
    exposed = r.items(
        "supabaseExposedSchemas",
        lambda item: (
            item
            if isinstance(item, str)
            and _SCHEMA.fullmatch(item)
            and item not in MANAGED_SCHEMAS
            and not item.startswith("pg_")
            else None
        ),
        "a lowercase schema name, not public (always checked) nor one Supabase or Postgres "
        "manages (" + ", ".join(MANAGED_SCHEMAS[1:]) + ", pg_*)",
    )
    confirmations = r.boolean("supabaseEmailConfirmations")
    smtp_host = r.string(
        "supabaseSmtpHost", _HOST, "a host name such as smtp.example.com", optional=True
    )
    smtp_user = r.string("supabaseSmtpUser", ONE_LINE, "one line of text")
    smtp_admin = r.string("supabaseSmtpAdminEmail", EMAIL, "an e-mail address", optional=True)
    if smtp_host:
        for key, value in (("supabaseSmtpUser", smtp_user), ("supabaseSmtpAdminEmail", smtp_admin)):
            if not value:
                r.problem(key, value, "a value when supabaseSmtpHost is set")
    elif production and confirmations:
        r.problem(
            "supabaseSmtpHost",
            smtp_host,
            "a custom SMTP server in production while supabaseEmailConfirmations is on: "
            "the built-in mailer sends a few mails an hour, to organisation members only "
            "(rule S13); set it with supabaseSmtpUser, supabaseSmtpAdminEmail and the "
            f"secret {SMTP_PASSWORD_KEY}",
        )
    return SupabaseSettings(
        organization_slug=r.string(
            "supabaseOrganizationSlug", SLUG, "an organisation slug (lowercase, digits, - _)"
        ),
        region=r.string("supabaseRegion", choices=REGIONS),
        instance_size=instance_size,
        plan=r.string("supabasePlan", choices=PLANS),
        pool_mode=cast(PoolMode, r.string("supabasePoolMode", choices=POOL_MODES)),
        default_pool_size=r.integer("supabaseDefaultPoolSize", 1, 1000),
        allowed_cidrs=cidrs,
        email_confirmations=confirmations,
        otp_expiry_seconds=r.integer("supabaseOtpExpirySeconds", 60, MAX_OTP_EXPIRY_SECONDS),
        redirect_urls=r.items(
            "supabaseRedirectUrls", matching(_REDIRECT_URL), "an https:// URL (* wildcards ok)"
        ),
        point_in_time_recovery=pitr,
        project_import_id=r.string(
            "supabaseProjectImportId", _SUPABASE_REF, "a 20-letter project ref", optional=True
        ),
        rotate_adopted_password=r.boolean(ROTATE_ADOPTED_KEY),
        database_access=access,
        app_egress_cidrs=app_egress,
        ci_egress_cidrs=ci_egress,
        smtp_host=smtp_host,
        smtp_port=r.integer("supabaseSmtpPort", 1, 65535),
        smtp_user=smtp_user,
        smtp_sender_name=r.string("supabaseSmtpSenderName", ONE_LINE, "one line of text"),
        smtp_admin_email=smtp_admin,
        auth_rate_limits=tuple(
            (setting, r.integer(key, 1, MAX_RATE_LIMIT))
            for key, setting in AUTH_RATE_LIMITS.items()
        ),
        preview_branches=preview_branches,
        expected_open_branches=r.integer(
            "supabaseExpectedOpenBranches", 0, MAX_EXPECTED_OPEN_BRANCHES
        ),
        exposed_schemas=exposed,
    )


def _check_access_path(
    r: Reader,
    access: DatabaseAccess,
    allowed: tuple[str, ...],
    app_egress: tuple[str, ...],
    ci_egress: tuple[str, ...],
) -> None:
    """Rule S1: whoever gets a direct connection string can connect through the network
    restrictions; nobody else gets one."""
    if access == "data-api" and app_egress:
        r.problem(
            "supabaseAppEgressCidrs",
            list(app_egress),
            "no networks when supabaseDatabaseAccess is data-api: the app gets no "
            "Postgres connection string, so no egress of it needs allowing",
        )
    if not allowed:
        return  # every network may connect: any direct client can
    if access == "direct" and not app_egress:
        r.problem(
            "supabaseAppEgressCidrs",
            [],
            "the static egress CIDRs of the app's functions (e.g. Vercel Secure Compute) "
            "when supabaseDatabaseAccess is direct and supabaseAllowedCidrs restricts the "
            "database, or supabaseDatabaseAccess=data-api (rule S1): Vercel's default "
            "egress is dynamic, so the app could not connect",
        )
    for key, egress in (
        ("supabaseAppEgressCidrs", app_egress),
        ("supabaseCiEgressCidrs", ci_egress),
    ):
        outside = [c for c in egress if not inside(c, allowed)]
        if outside:
            r.problem(
                key,
                outside,
                "networks inside supabaseAllowedCidrs (rule S1): a direct client whose "
                "egress is not allowed cannot connect",
            )
