"""Supabase facts the settings, the provider, the cost estimate and the policy share."""

from __future__ import annotations

from decimal import Decimal
from typing import Final, Literal

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

OPEN_TO_ALL: Final = ("0.0.0.0/0", "::/0")
"""Networks that restrict nothing: never in production's allow-list (rule S1)."""

API_URL: Final = "https://{ref}.supabase.co"
"""A project's Data API URL."""
