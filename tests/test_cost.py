"""The monthly cost estimate: arithmetic against hand-computed figures, budget warning, exports."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest
import yaml

from components.config import Settings, load_settings
from components.cost import budget_warning, estimate_monthly_cost, supabase_compute_usd
from components.github import pipeline
from components.reader import ConfigError, project_name
from tests.conftest import TEST_SECRETS
from tools.recorder import ROOT, Inventory, record, stack_config

# Worked by hand from the stack files and Pulumi.yaml's default prices:
# production: Vercel 3 seats x $20 = 60; Supabase pro $25; small compute $15 - $10 credit = 5;
#             PITR add-on $100; GitHub Advanced Security 5 committers x $49 = 245;
#             Sentry $26; PostHog free tier 0; health check: every 5 minutes = 288 runs a
#             day x 1 job x 1 billed minute x 30 days = 8640 minutes x $0.006 = 51.84
#             (a private repository);
#             Checkly: API check every minute from 3 locations in parallel = 43200 x 3 =
#             129600 runs x $2 per 10k = 25.92; browser check every 10 minutes, one location
#             a run = 4320 runs x $5 per 1k = 21.60; 3 uptime monitors x $10 per 25 = 1.20
#                                                                              → $561.56
# staging:    Vercel 0 seats = 0; Supabase plan 0 (the organisation's plan, and with it the
#             $10 compute credit, is counted in production); micro compute $10;
#             no PITR; Advanced Security is the repository's, counted in production;
#             Sentry 0 (the organisation's plan is counted in production); PostHog 0;
#             health check 0 (production ships the workflow);
#             Checkly: API every 10 minutes, one location a run = 4320 runs = 0.864 → 0.86;
#             browser every 60 minutes = 720 runs = 3.60; uptime monitors 1.20;
#             database branches: 3 open x 720 h x $0.01344 = 29.0304 → 29.03      → $44.69
EXPECTED = {
    "production": (
        {
            "vercelSeats": "60",
            "supabasePlan": "25",
            "supabaseCompute": "5",
            "supabasePitr": "100",
            "supabaseBranches": "0",
            "githubAdvancedSecurity": "245",
            "sentryPlan": "26",
            "posthog": "0",
            "checklyApiRuns": "25.92",
            "checklyBrowserRuns": "21.60",
            "checklyUptimeMonitors": "1.20",
            "githubActionsHealthCheck": "51.84",
        },
        "561.56",
    ),
    "staging": (
        {
            "vercelSeats": "0",
            "supabasePlan": "0",
            "supabaseCompute": "10",
            "supabasePitr": "0",
            "supabaseBranches": "29.03",
            "githubAdvancedSecurity": "0",
            "sentryPlan": "0",
            "posthog": "0",
            "checklyApiRuns": "0.86",
            "checklyBrowserRuns": "3.60",
            "checklyUptimeMonitors": "1.20",
            "githubActionsHealthCheck": "0",
        },
        "44.69",
    ),
}


def _raw(stack: str) -> dict[str, Any]:
    prefix = f"{project_name()}:"
    config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    return {k.removeprefix(prefix): v for k, v in config.items()}


def _settings(stack: str, **changes: Any) -> Settings:
    return load_settings(stack, {**_raw(stack), **changes})


@pytest.mark.parametrize("stack", sorted(EXPECTED))
def test_estimate_of_each_stack_file(stack: str) -> None:
    items, total = EXPECTED[stack]
    estimate = estimate_monthly_cost(_settings(stack))
    assert {i.key: i.usd for i in estimate.items} == {k: Decimal(v) for k, v in items.items()}
    assert estimate.total_usd == Decimal(total)


@pytest.mark.parametrize("stack", sorted(EXPECTED))
def test_estimate_and_breakdown_are_exported(stack: str, inventory: Any) -> None:
    inv: Inventory = inventory(stack)
    items, total = EXPECTED[stack]
    assert inv.outputs["monthlyCostEstimateUsd"] == float(total), stack
    assert inv.outputs["monthlyCostBreakdownUsd"] == {k: float(v) for k, v in items.items()}
    assert inv.outputs["monthlyBudgetUsd"] == {"production": 600, "staging": 60}[stack]
    assert not [w for w in inv.warnings if "monthly cost estimate" in w], inv.warnings


@pytest.mark.parametrize(
    ("plan", "size", "usd"),
    [
        ("pro", "micro", "0"),  # $10, fully covered by the credit
        ("pro", "nano", "0"),  # paid plans bill nano as micro
        ("pro", "small", "5"),
        ("pro", "large", "100"),
        ("team", "16xlarge", "3720"),
        ("free", "nano", "0"),  # no credit, nothing to cover
    ],
)
def test_supabase_compute_after_credit(plan: str, size: str, usd: str) -> None:
    assert supabase_compute_usd(plan, size) == Decimal(usd)


def test_supabase_compute_without_the_organisation_credit() -> None:
    assert supabase_compute_usd("pro", "micro", with_credit=False) == Decimal(10)
    assert supabase_compute_usd("pro", "nano", with_credit=False) == Decimal(10)
    assert supabase_compute_usd("free", "nano", with_credit=False) == Decimal(0)


def test_supabase_plan_and_credit_counted_once_per_organisation() -> None:
    """Both stacks in one Supabase organisation: the stack that does not carry the plan
    (priceSupabasePlanUsd 0) gets no compute credit either, since the organisation has one.
    Bill: Pro $25 + small $15 + micro $10 - one $10 credit = $40."""
    production = estimate_monthly_cost(_settings("production"))
    staging = estimate_monthly_cost(_settings("staging", priceSupabasePlanUsd=0))
    supabase = {
        stack: {
            i.key: i.usd for i in estimate.items if i.key in ("supabasePlan", "supabaseCompute")
        }
        for stack, estimate in (("production", production), ("staging", staging))
    }
    assert supabase["staging"] == {"supabasePlan": Decimal(0), "supabaseCompute": Decimal(10)}
    assert sum(sum(items.values()) for items in supabase.values()) == Decimal(40)


def test_free_plan_and_unused_posthog_cost_nothing() -> None:
    settings = _settings(
        "staging", supabasePlan="free", supabaseInstanceSize="nano", posthogProjectKey=""
    )
    settings = dataclasses.replace(
        settings, cost=dataclasses.replace(settings.cost, price_posthog_usd=450)
    )
    items = {i.key: i.usd for i in estimate_monthly_cost(settings).items}
    zero = Decimal(0)
    assert (items["supabasePlan"], items["supabaseCompute"], items["posthog"]) == (zero,) * 3


def test_health_check_minutes_are_billed_on_a_private_repository_only() -> None:
    """The finding: every 5 minutes on a private repository is 8,640 Actions minutes a month
    (the Team plan includes 3,000), and the estimate did not count them."""
    private = {i.key: i for i in estimate_monthly_cost(_settings("production")).items}
    item = private["githubActionsHealthCheck"]
    assert item.usd == Decimal("51.84")
    assert item.basis == "8640 Actions minutes a month x $0.006 (private repository)"
    internal = {
        i.key: i.usd
        for i in estimate_monthly_cost(_settings("production", githubVisibility="internal")).items
    }
    assert internal["githubActionsHealthCheck"] == Decimal("51.84")
    public = {
        i.key: i.usd
        for i in estimate_monthly_cost(_settings("production", githubVisibility="public")).items
    }
    assert public["githubActionsHealthCheck"] == Decimal(0)


def test_the_price_per_minute_comes_from_config() -> None:
    items = estimate_monthly_cost(_settings("production", priceGithubActionsMinuteUsd="0.008"))
    assert {i.key: i.usd for i in items.items}["githubActionsHealthCheck"] == Decimal("69.12")
    with pytest.raises(ConfigError, match="priceGithubActionsMinuteUsd: 'cheap' is not allowed"):
        _settings("production", priceGithubActionsMinuteUsd="cheap")


@pytest.mark.parametrize(
    ("cron", "runs"),
    [
        ("*/5 * * * *", 288),
        ("*/15 * * * *", 96),
        ("0,30 * * * *", 48),
        ("*/10 8-17 * * *", 60),
        ("17 4 * * *", 1),
    ],
)
def test_scheduled_runs_are_counted_from_the_cron(cron: str, runs: int) -> None:
    workflow = {"on": {"schedule": [{"cron": cron}]}}
    assert pipeline.scheduled_runs_per_day(workflow, "t.yml") == runs


@pytest.mark.parametrize("cron", ["*/5 * * * 1-5", "61 * * * *", "every minute", "*/0 * * * *"])
def test_a_schedule_that_cannot_be_counted_is_refused(cron: str) -> None:
    with pytest.raises(ValueError, match=r"t\.yml: cron"):
        pipeline.scheduled_runs_per_day({"on": {"schedule": [{"cron": cron}]}}, "t.yml")


def test_the_shipped_health_check_is_what_the_estimate_counts() -> None:
    """The minutes follow the shipped cron and job count, not a copied figure."""
    assert pipeline.health_check_minutes_per_day() == 288


def test_budget_warning_only_above_budget() -> None:
    estimate = estimate_monthly_cost(_settings("production"))  # $561.56
    assert budget_warning(estimate, 562) is None
    assert budget_warning(estimate, 600) is None
    warning = budget_warning(estimate, 561)
    assert warning is not None
    assert "$561.56" in warning and "monthlyBudgetUsd $561" in warning, warning
    assert "vercelSeats $60.00" in warning, warning


def test_over_budget_is_reported_at_preview() -> None:
    config = stack_config("staging")
    config[f"{project_name()}:monthlyBudgetUsd"] = 5
    inv = record("staging", config=config, secrets=TEST_SECRETS)
    warnings = [w for w in inv.warnings if "monthly cost estimate" in w]
    assert len(warnings) == 1 and "$44.69" in warnings[0], inv.warnings
    assert inv.outputs["monthlyCostEstimateUsd"] == 44.69


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("monthlyBudgetUsd", -1, "monthlyBudgetUsd: -1 is not allowed; expected an integer from 0"),
        ("monthlyBudgetUsd", "lots", "monthlyBudgetUsd: 'lots' is not allowed; expected a"),
        ("priceVercelSeatUsd", -20, "priceVercelSeatUsd: -20 is not allowed; expected an integer"),
        ("priceSupabasePlanUsd", -25, "priceSupabasePlanUsd: -25 is not allowed; expected an"),
        ("priceSentryPlanUsd", -26, "priceSentryPlanUsd: -26 is not allowed; expected an integer"),
        ("pricePosthogUsd", -1, "pricePosthogUsd: -1 is not allowed; expected an integer from 0"),
        ("vercelSeats", -3, "vercelSeats: -3 is not allowed; expected an integer from 0"),
        (
            "supabaseInstanceSize",
            "huge",
            "supabaseInstanceSize: 'huge' is not allowed; expected one of nano, micro",
        ),
        ("supabasePlan", "gold", "supabasePlan: 'gold' is not allowed; expected one of free, pro"),
    ],
)
@pytest.mark.parametrize("stack", sorted(EXPECTED))
def test_bad_cost_input_names_key_value_and_allowed(
    stack: str, key: str, value: Any, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _settings(stack, **{key: value})
    assert any(p.startswith(expected) for p in caught.value.problems), caught.value.problems


def test_every_line_states_its_basis_and_the_date_prices_were_read() -> None:
    basis = estimate_monthly_cost(_settings("production")).basis()
    assert basis["githubAdvancedSecurity"] == (
        "GitHub Advanced Security: 5 active committer(s) x $49 (prices of 2026-12-02)"
    )
    assert basis["checklyApiRuns"].startswith("Checkly: 129600 API check runs x $2 per 10000")
    assert all(text.endswith("(prices of 2026-12-02)") for text in basis.values()), basis


def test_a_public_repository_bills_no_advanced_security() -> None:
    settings = _settings("production", githubVisibility="public")
    items = {i.key: i.usd for i in estimate_monthly_cost(settings).items}
    assert items["githubAdvancedSecurity"] == Decimal(0)


def test_the_stack_exports_its_ceiling_and_the_basis_table(inventory: Any) -> None:
    outputs = inventory("production").outputs
    assert outputs["monthlyCostCeilingUsd"] == 900
    assert set(outputs["monthlyCostBasis"]) == set(outputs["monthlyCostBreakdownUsd"])


@pytest.mark.parametrize(
    ("changes", "usd", "basis"),
    [
        (
            {},
            "29.03",
            "Supabase database branches: 3 open x 720 h x $0.01344 per branch-hour "
            "(micro compute) (prices of 2026-12-02)",
        ),
        (
            {"supabaseExpectedOpenBranches": 10, "priceSupabaseBranchHourUsd": "0.02"},
            "144.00",
            "Supabase database branches: 10 open x 720 h x $0.02 per branch-hour "
            "(micro compute) (prices of 2026-12-02)",
        ),
        ({"supabaseExpectedOpenBranches": 0}, "0.00", None),
        (
            {"supabasePreviewBranches": False},
            "0.00",
            "no database branches (supabasePreviewBranches off) (prices of 2026-12-02)",
        ),
    ],
)
def test_database_branches_are_billed_per_open_branch_and_hour(
    changes: dict[str, Any], usd: str, basis: str | None
) -> None:
    """Supabase bills a branch no fixed fee, only its compute by the hour while it exists:
    expected open branches x hours in the month x the price of a branch-hour."""
    estimate = estimate_monthly_cost(_settings("staging", **changes))
    (item,) = [i for i in estimate.items if i.key == "supabaseBranches"]
    assert item.usd == Decimal(usd)
    if basis is not None:
        assert estimate.basis()["supabaseBranches"] == basis


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("priceSupabaseBranchHourUsd", "1,5", "a price in USD such as 0.01344"),
        ("supabaseExpectedOpenBranches", 101, "an integer from 0 to 100"),
    ],
)
def test_bad_branch_cost_settings_are_refused(key: str, value: Any, allowed: str) -> None:
    with pytest.raises(ConfigError) as refused:
        _settings("staging", **{key: value})
    assert f"{key}: {value!r} is not allowed; expected {allowed}" in str(refused.value)
