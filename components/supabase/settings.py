"""Supabase settings: this stack's project, pooling, networks, auth and backups.

This package's section of the stack settings: `load_supabase` reads and validates its keys
with the generic `Reader` (components/reader.py); `components/config.py` calls it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import cast

from components.reader import SLUG, Reader, cidr, matching
from components.supabase.facts import (
    INSTANCE_SIZES,
    MAX_OTP_EXPIRY_SECONDS,
    OPEN_TO_ALL,
    PLANS,
    POOL_MODES,
    REGIONS,
    SIZES_WITHOUT_PITR,
    PoolMode,
)

_SUPABASE_REF = re.compile(r"^[a-z]{20}$")
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


def load_supabase(r: Reader, stack: str) -> SupabaseSettings:
    production = stack == "production"
    cidrs = r.items("supabaseAllowedCidrs", cidr, "an IPv4 or IPv6 CIDR such as 203.0.113.0/24")
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
        email_confirmations=r.boolean("supabaseEmailConfirmations"),
        otp_expiry_seconds=r.integer("supabaseOtpExpirySeconds", 60, MAX_OTP_EXPIRY_SECONDS),
        redirect_urls=r.items(
            "supabaseRedirectUrls", matching(_REDIRECT_URL), "an https:// URL (* wildcards ok)"
        ),
        point_in_time_recovery=pitr,
        project_import_id=r.string(
            "supabaseProjectImportId", _SUPABASE_REF, "a 20-letter project ref", optional=True
        ),
    )
