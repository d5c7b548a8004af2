"""Supabase facts the settings, the provider, the cost estimate and the policy share."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from decimal import Decimal
from typing import Final, Literal

# The API's own facts live with its client, which the app repository's workflows share.
from components.supabase.api import API_URL as API_URL
from components.supabase.api import FAILED_STATUSES as FAILED_STATUSES
from components.supabase.api import GONE_STATUSES as GONE_STATUSES
from components.supabase.api import PAUSED_STATUSES as PAUSED_STATUSES
from components.supabase.api import READY_STATUS as READY_STATUS

REGIONS: Final = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ap-east-1", "ap-southeast-1",
    "ap-northeast-1", "ap-northeast-2", "ap-southeast-2", "eu-west-1", "eu-west-2",
    "eu-west-3", "eu-north-1", "eu-central-1", "eu-central-2", "ca-central-1",
    "ap-south-1", "sa-east-1",
)  # fmt: skip
"""Regions the Management API accepts (V1CreateProjectBody.region in its OpenAPI document)."""

API_INSTANCE_SIZES: Final = (
    "nano", "micro", "small", "medium", "large", "xlarge", "2xlarge", "4xlarge",
    "8xlarge", "12xlarge", "16xlarge", "24xlarge", "24xlarge_optimized_memory",
    "24xlarge_optimized_cpu", "24xlarge_high_memory", "48xlarge",
    "48xlarge_optimized_memory", "48xlarge_optimized_cpu", "48xlarge_high_memory",
)  # fmt: skip
"""`desired_instance_size` values of V1CreateProjectBody: what the provider accepts."""

COMPUTE_MONTHLY_USD: Final[dict[str, Decimal]] = {
    "nano": Decimal(0),
    "micro": Decimal(10),
    "small": Decimal(15),
    "medium": Decimal(60),
    "large": Decimal(110),
    "xlarge": Decimal(210),
    "2xlarge": Decimal(410),
    "4xlarge": Decimal(960),
    "8xlarge": Decimal(1870),
    "12xlarge": Decimal(2800),
    "16xlarge": Decimal(3730),
}
"""Monthly price of each Supabase compute size, the rounded "Monthly Price USD" column of
Supabase's docs (Platform → Manage Compute usage; hourly × ~744 h, e.g. Micro $0.01344/h).
Nano is free only on the free plan: paid plans bill it as Micro. Its keys are the sizes
config may choose: a size without a known price cannot be estimated."""
INSTANCE_SIZES: Final = tuple(COMPUTE_MONTHLY_USD)
"""Sizes `supabaseInstanceSize` may name (the priced subset of `API_INSTANCE_SIZES`)."""
SIZES_WITHOUT_PITR: Final = ("nano", "micro")
"""Supabase offers point-in-time recovery from the small size up."""

COMPUTE_CREDIT_USD: Final = Decimal(10)
"""Compute credits every paid Supabase plan includes per month (one Micro project). Like
the plan, they belong to the organisation: counted once, by the stack that carries the
plan's price (a stack sharing the organisation sets `priceSupabasePlanUsd` to 0)."""

PLANS: Final = ("free", "pro", "team", "enterprise")
PAID_PLANS: Final = PLANS[1:]

PoolMode = Literal["transaction", "session"]
POOL_MODES: Final[tuple[PoolMode, ...]] = ("transaction", "session")

MAX_OTP_EXPIRY_SECONDS: Final = 3600
"""Security rule S3: e-mail OTPs and links expire within an hour."""

MAX_EXPECTED_OPEN_BRANCHES: Final = 100
"""Bound of `supabaseExpectedOpenBranches`."""
PUBLIC_SCHEMA: Final = "public"
"""The schema the Data API always exposes: the RLS check always covers it."""
MANAGED_SCHEMAS: Final = (
    PUBLIC_SCHEMA, "auth", "storage", "realtime", "extensions", "graphql", "graphql_public",
    "vault", "supabase_functions", "supabase_migrations", "pgbouncer", "net", "cron",
    "information_schema",
)  # fmt: skip
"""Schemas `supabaseExposedSchemas` cannot name: `public` (always checked) and those Supabase
or Postgres manage (and protect themselves)."""
BRANCHING_TOKEN_KEY: Final = "supabaseBranchingToken"  # noqa: S105 (a key name)
"""Secret config key: the Management API token of the pull requests' database branches."""

OPEN_TO_ALL: Final = ("0.0.0.0/0", "::/0")
"""Networks that restrict nothing: never in production's allow-list (rule S1)."""


def inside(network: str, allowed: Iterable[str]) -> bool:
    """True when `network` lies inside one of the `allowed` networks (same IP version):
    a direct client with that egress gets through the network restrictions (rule S1)."""
    inner = ipaddress.ip_network(network)
    outers = [ipaddress.ip_network(entry) for entry in allowed]
    if isinstance(inner, ipaddress.IPv4Network):
        return any(isinstance(o, ipaddress.IPv4Network) and inner.subnet_of(o) for o in outers)
    return any(isinstance(o, ipaddress.IPv6Network) and inner.subnet_of(o) for o in outers)


# --------------------------------------------------------------------------- project status

RESTORE_HINT: Final = (
    "restore it from the Supabase dashboard or with POST /v1/projects/{ref}/restore, "
    "wait until it is ACTIVE_HEALTHY, then run again"
)
"""What to do about a paused project."""

# --------------------------------------------------------------------------- resources

DYNAMIC_MODULE: Final = "supabase"
"""Module of the dynamic resources' type tokens: `pulumi-python:dynamic/supabase:<Name>`."""
PROJECT: Final = "Project"
DATABASE_PASSWORD: Final = "DatabasePassword"  # noqa: S105 (a resource name)
POOLER: Final = "Pooler"
SSL_ENFORCEMENT: Final = "SslEnforcement"
NETWORK_RESTRICTIONS: Final = "NetworkRestrictions"
AUTH_CONFIG: Final = "AuthConfig"
RESOURCE_NAMES: Final = (
    PROJECT, DATABASE_PASSWORD, POOLER, SSL_ENFORCEMENT, NETWORK_RESTRICTIONS, AUTH_CONFIG,
)  # fmt: skip
"""The Supabase resources, each with atomic state (as the official Terraform provider
models them): a failed call leaves every other resource's recorded state true."""


def resource_type(name: str) -> str:
    """The type token Pulumi gives the dynamic resource class named `name`."""
    return f"pulumi-python:dynamic/{DYNAMIC_MODULE}:{name}"


TOKEN_KEY: Final = "access_token"  # noqa: S105 (a property name, not a token)
"""Every resource's optional Management API token input (a secret, kept for refresh and
delete)."""
SECRET_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    PROJECT: ("db_pass", TOKEN_KEY, "service_role_key"),
    DATABASE_PASSWORD: ("password", "existing_password", TOKEN_KEY),
    POOLER: (TOKEN_KEY,),
    SSL_ENFORCEMENT: (TOKEN_KEY,),
    NETWORK_RESTRICTIONS: (TOKEN_KEY,),
    AUTH_CONFIG: ("smtp_pass", TOKEN_KEY),
}
"""Per resource, the properties that hold secrets: declared secret outputs, so the state
encrypts them (rule G7; the policy pack checks the declaration)."""

# --------------------------------------------------------------------------- access and auth

DatabaseAccess = Literal["data-api", "direct"]
DATABASE_ACCESS: Final[tuple[DatabaseAccess, ...]] = ("data-api", "direct")
"""How the app reaches its data (rule S1): the Data API over HTTPS (supabase-js; no
Postgres connection string leaves Pulumi for Vercel), or Postgres directly through the
pooler (every direct client's egress must then be allowed by the network restrictions)."""

AUTH_RATE_LIMITS: Final = {
    "supabaseAuthRateLimitEmailSent": "rate_limit_email_sent",
    "supabaseAuthRateLimitVerify": "rate_limit_verify",
    "supabaseAuthRateLimitTokenRefresh": "rate_limit_token_refresh",
    "supabaseAuthRateLimitOtp": "rate_limit_otp",
    "supabaseAuthRateLimitAnonymousUsers": "rate_limit_anonymous_users",
}
"""Config key → the auth setting it sets (UpdateAuthConfigBody). Defaults live in
Pulumi.yaml."""
SMTP_ONLY_RATE_LIMIT: Final = "rate_limit_email_sent"
"""Supabase lets this one change only with custom SMTP (the built-in mailer's is fixed)."""
MAX_RATE_LIMIT: Final = 100_000

ROTATE_ADOPTED_KEY: Final = "supabaseRotateAdoptedPassword"
"""Config key: set the generated password on an adopted project (rule R5: explicit only)."""
EXISTING_PASSWORD_KEY: Final = "supabaseExistingDbPassword"  # noqa: S105 (a key name)
"""Secret config key: an adopted project's current password, recorded without any call."""
SMTP_PASSWORD_KEY: Final = "supabaseSmtpPassword"  # noqa: S105 (a key name)
"""Secret config key: the custom SMTP server's password (rule S13)."""
OWN_PROJECT_HINT: Final = (
    f"if an earlier run of this stack made it, its database password is this stack's "
    f"generated one, so {ROTATE_ADOPTED_KEY}=true is harmless then"
)
"""Said wherever a project this stack may have made is about to be adopted."""
