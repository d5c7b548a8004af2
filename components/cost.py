"""The monthly cost estimate of one stack, from the plans and list prices in its settings.

Pure: settings in, a breakdown out, no Pulumi runtime. The platform exports it
(`monthlyCostEstimateUsd`, `monthlyCostBreakdownUsd`) and warns at preview when it is
above `monthlyBudgetUsd`; the policy pack reads the same exports.

It is an estimate of the fixed monthly fees, and of the usage the program fixes itself: the
scheduled health check's GitHub Actions minutes (its cron is in the shipped health-check.yml)
and the pull requests' database branches (billed by the hour while their pull requests are
open, as many as `supabaseExpectedOpenBranches` says). Other usage (Vercel bandwidth and
function time, Supabase egress and disk beyond the plan, Sentry events beyond the quota,
PostHog events beyond the free tier, the deploy, security and branch-cleanup workflows'
minutes) is not known before the month, or is cents, and is left out.

Organisation-level fees (Vercel seats, the Supabase and Sentry plans) are paid once
however many stacks share the organisation: a stack that does not carry one sets its
price (or seats) to 0, as the staging stack file does for Vercel seats and Sentry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Final

from components.alerts import MINUTES_PER_MONTH
from components.checkly.facts import (
    API_CHECKS,
    API_RUNS_PER_PRICE_UNIT,
    BROWSER_CHECK_PARALLEL,
    BROWSER_CHECKS,
    BROWSER_RUNS_PER_PRICE_UNIT,
    UPTIME_MONITORS,
    URL_MONITORS_PER_PRICE_UNIT,
)
from components.checkly.settings import monthly_runs
from components.github.pipeline import HEALTH_CHECK_WORKFLOW, health_check_minutes_per_day
from components.reader import Reader
from components.supabase.api import PREVIEW_BRANCH_SIZE
from components.supabase.facts import COMPUTE_CREDIT_USD, COMPUTE_MONTHLY_USD, PAID_PLANS

if TYPE_CHECKING:
    from components.config import Settings

CENT = Decimal("0.01")
_ORGANISATION_WIDE = "(organisation-wide: counted by the stack that sets its price)"
_DATE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
DAYS_PER_MONTH: Final = MINUTES_PER_MONTH // (24 * 60)
"""The 30-day month every monthly figure here is stated for."""
HOURS_PER_MONTH: Final = DAYS_PER_MONTH * 24
_PRICE_PER_MINUTE = re.compile(r"^\d(?:\.\d{1,4})?$")
_PRICE_PER_HOUR = re.compile(r"^\d{1,2}(?:\.\d{1,6})?$")


@dataclass(frozen=True)
class CostSettings:
    """Monthly budget and list prices (USD) the cost estimate uses; see Pulumi.yaml."""

    monthly_budget_usd: int
    monthly_ceiling_usd: int
    """0: no ceiling."""
    prices_read_on: str
    price_vercel_seat_usd: int
    price_supabase_plan_usd: int
    price_supabase_pitr_usd: int
    price_github_advanced_security_per_committer_usd: int
    github_active_committers: int
    price_sentry_plan_usd: int
    price_posthog_usd: int
    price_checkly_api_per_10k_runs_usd: int
    price_checkly_browser_per_1k_runs_usd: int
    price_checkly_uptime_monitors_per_25_usd: int
    price_github_actions_minute_usd: Decimal
    price_supabase_branch_hour_usd: Decimal


def load_cost(r: Reader) -> CostSettings:
    minute_text = r.string(
        "priceGithubActionsMinuteUsd", _PRICE_PER_MINUTE, "a price in USD such as 0.006 (0-9.9999)"
    )
    hour_text = r.string(
        "priceSupabaseBranchHourUsd",
        _PRICE_PER_HOUR,
        "a price in USD such as 0.01344 (0-99.999999)",
    )
    return CostSettings(
        monthly_budget_usd=r.integer("monthlyBudgetUsd", 0, 1_000_000),
        monthly_ceiling_usd=r.integer("monthlyCostCeilingUsd", 0, 1_000_000),
        prices_read_on=r.string("pricesReadOn", _DATE, "a date YYYY-MM-DD"),
        price_vercel_seat_usd=r.integer("priceVercelSeatUsd", 0, 10_000),
        price_supabase_plan_usd=r.integer("priceSupabasePlanUsd", 0, 100_000),
        price_supabase_pitr_usd=r.integer("priceSupabasePitrUsd", 0, 100_000),
        price_github_advanced_security_per_committer_usd=r.integer(
            "priceGithubAdvancedSecurityPerCommitterUsd", 0, 10_000
        ),
        github_active_committers=r.integer("githubActiveCommitters", 0, 100_000),
        price_sentry_plan_usd=r.integer("priceSentryPlanUsd", 0, 100_000),
        price_posthog_usd=r.integer("pricePosthogUsd", 0, 100_000),
        price_checkly_api_per_10k_runs_usd=r.integer("priceChecklyApiPer10kRunsUsd", 0, 1_000),
        price_checkly_browser_per_1k_runs_usd=r.integer(
            "priceChecklyBrowserPer1kRunsUsd", 0, 1_000
        ),
        price_checkly_uptime_monitors_per_25_usd=r.integer(
            "priceChecklyUptimeMonitorsPer25Usd", 0, 10_000
        ),
        price_github_actions_minute_usd=(
            Decimal(minute_text) if _PRICE_PER_MINUTE.fullmatch(minute_text) else Decimal(0)
        ),
        price_supabase_branch_hour_usd=(
            Decimal(hour_text) if _PRICE_PER_HOUR.fullmatch(hour_text) else Decimal(0)
        ),
    )


@dataclass(frozen=True)
class LineItem:
    """One fee of the estimate."""

    key: str
    """Stable name, the key in the exported breakdown, e.g. `supabaseCompute`."""
    usd: Decimal
    """Monthly amount in USD, to the cent."""
    basis: str
    """How it was computed, for the README and the budget warning."""


@dataclass(frozen=True)
class CostEstimate:
    """A stack's monthly cost: its line items and their total."""

    items: tuple[LineItem, ...]
    prices_read_on: str
    """When the price keys were read from the vendors' pricing pages (`pricesReadOn`)."""

    @property
    def total_usd(self) -> Decimal:
        return sum((item.usd for item in self.items), Decimal(0)).quantize(CENT)

    def breakdown_usd(self) -> dict[str, float]:
        """Line items as `{key: usd}`, the shape the stack exports (Pulumi has no Decimal)."""
        return {item.key: float(item.usd) for item in self.items}

    def basis(self) -> dict[str, str]:
        """Line items as `{key: how it was computed}`, with the date the prices were read."""
        return {item.key: f"{item.basis} (prices of {self.prices_read_on})" for item in self.items}


def _usd(amount: Decimal | int) -> Decimal:
    return Decimal(amount).quantize(CENT)


def supabase_compute_usd(plan: str, instance_size: str, *, with_credit: bool = True) -> Decimal:
    """Compute of one project after the plan's compute credit (never below zero).

    `with_credit` False: another stack of the organisation carries the plan, and with it
    the organisation's one compute credit.
    """
    paid = plan in PAID_PLANS
    size = "micro" if paid and instance_size == "nano" else instance_size
    price = COMPUTE_MONTHLY_USD[size]
    credit = COMPUTE_CREDIT_USD if paid and with_credit else Decimal(0)
    return _usd(max(price - credit, Decimal(0)))


def health_check_item(settings: Settings) -> LineItem:
    """The health check's Actions minutes: billed to the stack that ships the workflow
    (production), and only for a non-public repository (public ones run GitHub-hosted
    runners for free)."""
    key = "githubActionsHealthCheck"
    if not settings.is_production:
        return LineItem(key, _usd(0), f"counted in production, which ships {HEALTH_CHECK_WORKFLOW}")
    minutes = health_check_minutes_per_day() * DAYS_PER_MONTH
    visibility = settings.github.visibility
    if visibility == "public":
        return LineItem(key, _usd(0), f"{minutes} Actions minutes, free on a public repository")
    price = settings.cost.price_github_actions_minute_usd
    return LineItem(
        key,
        _usd(minutes * price),
        f"{minutes} Actions minutes a month x ${price} ({visibility} repository)",
    )


def database_branches_item(settings: Settings) -> LineItem:
    """The pull requests' database branches: each one's compute by the hour while its pull
    request is open (Supabase bills no fixed fee per branch), on the stack they branch from."""
    key = "supabaseBranches"
    supabase = settings.supabase
    if not supabase.preview_branches:
        return LineItem(key, _usd(0), "no database branches (supabasePreviewBranches off)")
    branches, price = supabase.expected_open_branches, settings.cost.price_supabase_branch_hour_usd
    return LineItem(
        key,
        _usd(branches * HOURS_PER_MONTH * price),
        f"Supabase database branches: {branches} open x {HOURS_PER_MONTH} h x ${price} per "
        f"branch-hour ({PREVIEW_BRANCH_SIZE} compute)",
    )


def estimate_monthly_cost(settings: Settings) -> CostEstimate:
    """The fixed monthly fees of the stack described by `settings`."""
    prices = settings.cost
    seats = settings.vercel.seats
    supabase = settings.supabase
    plan_usd = prices.price_supabase_plan_usd if supabase.plan in PAID_PLANS else 0
    # The organisation's compute credit goes with its plan (COMPUTE_CREDIT_USD).
    carries_plan = prices.price_supabase_plan_usd > 0
    posthog_usd = prices.price_posthog_usd if settings.posthog.enabled else 0
    return CostEstimate(
        items=(
            LineItem(
                "vercelSeats",
                _usd(seats * prices.price_vercel_seat_usd),
                f"Vercel Pro: {seats} seat(s) x ${prices.price_vercel_seat_usd}",
            ),
            LineItem(
                "supabasePlan",
                _usd(plan_usd),
                f"Supabase {supabase.plan} plan, ${prices.price_supabase_plan_usd}"
                + ("" if carries_plan else f" {_ORGANISATION_WIDE}"),
            ),
            LineItem(
                "supabaseCompute",
                supabase_compute_usd(
                    supabase.plan, supabase.instance_size, with_credit=carries_plan
                ),
                f"Supabase {supabase.instance_size} compute"
                + (" after the plan's compute credit" if carries_plan else ""),
            ),
            LineItem(
                "supabasePitr",
                _usd(prices.price_supabase_pitr_usd if supabase.point_in_time_recovery else 0),
                f"Supabase point-in-time recovery add-on, ${prices.price_supabase_pitr_usd}"
                if supabase.point_in_time_recovery
                else "no point-in-time recovery",
            ),
            database_branches_item(settings),
            github_advanced_security(settings),
            LineItem(
                "sentryPlan",
                _usd(prices.price_sentry_plan_usd),
                f"Sentry plan, ${prices.price_sentry_plan_usd}"
                + ("" if prices.price_sentry_plan_usd else f" {_ORGANISATION_WIDE}"),
            ),
            LineItem(
                "posthog",
                _usd(posthog_usd),
                "PostHog" if settings.posthog.enabled else "PostHog not used",
            ),
            *checkly_line_items(settings),
            health_check_item(settings),
        ),
        prices_read_on=prices.prices_read_on,
    )


def github_advanced_security(settings: Settings) -> LineItem:
    """GitHub Advanced Security per active committer, billed to the repository's owner.

    Only the production stack owns the repository (ARCHITECTURE.md), so only it counts it.
    """
    gh, prices = settings.github, settings.cost
    if not (settings.is_production and gh.advanced_security and gh.visibility != "public"):
        return LineItem("githubAdvancedSecurity", _usd(0), "no GitHub Advanced Security billed")
    committers = prices.github_active_committers
    price = prices.price_github_advanced_security_per_committer_usd
    return LineItem(
        "githubAdvancedSecurity",
        _usd(committers * price),
        f"GitHub Advanced Security: {committers} active committer(s) x ${price}",
    )


def checkly_line_items(settings: Settings) -> tuple[LineItem, ...]:
    """Checkly usage at bundle prices: API and browser runs, uptime monitors.

    Bundles are bought per account in whole units; per stack the share is proportional.
    Retries of failing runs are billed too and are not in the estimate.
    """
    checkly, prices = settings.checkly, settings.cost
    if not checkly.enabled:
        return (LineItem("checkly", _usd(0), "Checkly not used"),)
    api_runs = API_CHECKS * monthly_runs(
        checkly, checkly.frequency_minutes, parallel=checkly.parallel
    )
    browser_runs = BROWSER_CHECKS * monthly_runs(
        checkly, checkly.browser_frequency_minutes, parallel=BROWSER_CHECK_PARALLEL
    )
    api = Decimal(api_runs) / API_RUNS_PER_PRICE_UNIT * prices.price_checkly_api_per_10k_runs_usd
    browser = (
        Decimal(browser_runs)
        / BROWSER_RUNS_PER_PRICE_UNIT
        * prices.price_checkly_browser_per_1k_runs_usd
    )
    uptime = (
        Decimal(UPTIME_MONITORS)
        / URL_MONITORS_PER_PRICE_UNIT
        * prices.price_checkly_uptime_monitors_per_25_usd
    )
    return (
        LineItem(
            "checklyApiRuns",
            _usd(api),
            f"Checkly: {api_runs} API check runs x ${prices.price_checkly_api_per_10k_runs_usd}"
            f" per {API_RUNS_PER_PRICE_UNIT}",
        ),
        LineItem(
            "checklyBrowserRuns",
            _usd(browser),
            f"Checkly: {browser_runs} browser check runs x "
            f"${prices.price_checkly_browser_per_1k_runs_usd} per {BROWSER_RUNS_PER_PRICE_UNIT}",
        ),
        LineItem(
            "checklyUptimeMonitors",
            _usd(uptime),
            f"Checkly: {UPTIME_MONITORS} uptime monitors x "
            f"${prices.price_checkly_uptime_monitors_per_25_usd} per {URL_MONITORS_PER_PRICE_UNIT}",
        ),
    )


def budget_warning(estimate: CostEstimate, monthly_budget_usd: int) -> str | None:
    """The preview-time warning when the estimate is above the budget, else None."""
    if estimate.total_usd <= monthly_budget_usd:
        return None
    items = ", ".join(f"{item.key} ${item.usd}" for item in estimate.items if item.usd)
    return (
        f"monthly cost estimate ${estimate.total_usd} is above monthlyBudgetUsd "
        f"${monthly_budget_usd} ({items}); raise the budget or lower a plan"
    )
