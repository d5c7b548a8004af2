"""Stack settings: every config value read into typed, frozen objects and validated once.

`Pulumi.yaml`'s `config:` block is the schema (key, type, default, description). This
module fills defaults from it, checks types, then checks each value against what the
platform allows. All problems are collected, so one run reports every bad key at once,
each as `key: value given: what is allowed`. Nothing is registered before this passes.

`load_settings` is pure (a mapping in, `Settings` out) so it can be fuzzed without the
Pulumi runtime; `settings_from_pulumi` feeds it from the running stack's configuration.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import pulumi
import yaml
from pulumi.runtime import config as runtime_config

PROJECT_FILE = Path(__file__).resolve().parent.parent / "Pulumi.yaml"

STACKS = ("staging", "production")
"""The stacks this program knows; each owns its own environment of the same name."""

GITHUB_PERMISSIONS = ("pull", "triage", "push", "maintain", "admin")
GITHUB_VISIBILITIES = ("private", "internal", "public")
BYPASS_ACTOR_TYPES = ("Team", "RepositoryRole", "Integration", "OrganizationAdmin", "DeployKey")
BYPASS_MODES = ("always", "pull_request", "exempt")

VERCEL_FRAMEWORKS = (
    "nextjs", "remix", "astro", "sveltekit-1", "nuxtjs", "vite", "create-react-app",
    "gatsby", "angular", "vue", "hydrogen", "solidstart-1", "react-router",
)  # fmt: skip
VERCEL_NODE_VERSIONS = ("20.x", "22.x", "24.x")
VERCEL_REGIONS = (
    "arn1", "bom1", "cdg1", "cle1", "cpt1", "dub1", "dxb1", "fra1", "gru1", "hkg1",
    "hnd1", "iad1", "icn1", "kix1", "lhr1", "pdx1", "sfo1", "sin1", "syd1",
)  # fmt: skip
VERCEL_DEPLOYMENT_PROTECTION = ("standard_protection", "all_deployments")

SUPABASE_REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ap-east-1", "ap-southeast-1",
    "ap-northeast-1", "ap-northeast-2", "ap-southeast-2", "eu-west-1", "eu-west-2",
    "eu-west-3", "eu-north-1", "eu-central-1", "eu-central-2", "ca-central-1",
    "ap-south-1", "sa-east-1",
)  # fmt: skip
"""Regions the Management API accepts (V1CreateProjectBody.region in its OpenAPI document)."""
SUPABASE_INSTANCE_SIZES = (
    "nano", "micro", "small", "medium", "large", "xlarge", "2xlarge", "4xlarge",
    "8xlarge", "12xlarge", "16xlarge",
)  # fmt: skip
SUPABASE_PLANS = ("free", "pro", "team", "enterprise")
SUPABASE_POOL_MODES = ("transaction", "session")

SENTRY_PLATFORMS = (
    "javascript", "javascript-nextjs", "javascript-react", "javascript-remix",
    "javascript-sveltekit", "javascript-astro", "javascript-vue", "javascript-nuxt",
    "node", "node-express",
)  # fmt: skip

# GitHub login: alphanumerics and single hyphens, no leading/trailing hyphen, ≤ 39 chars.
_GITHUB_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
_GITHUB_REPOSITORY = re.compile(r"^(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}$")
_GITHUB_TOPIC = re.compile(r"^[a-z0-9][a-z0-9-]{0,49}$")
_TEAM_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
_APP_NAME = re.compile(r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
_DOMAIN = re.compile(
    r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$"
)
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?\.[a-z]{2,}$"
)
_VERCEL_TEAM_ID = re.compile(r"^team_[A-Za-z0-9]{16,32}$")
_VERCEL_PROJECT_ID = re.compile(r"^prj_[A-Za-z0-9]{16,40}$")
_SUPABASE_REF = re.compile(r"^[a-z]{20}$")
_SLACK_CHANNEL = re.compile(r"^#[a-z0-9][a-z0-9._-]{0,79}$")
_POSTHOG_KEY = re.compile(r"^phc_[A-Za-z0-9]{20,64}$")
_HTTPS_URL = re.compile(r"^https://[A-Za-z0-9.-]+(?::\d{1,5})?(?:/[^\s]*)?$")
# Redirect URLs may carry the wildcards Supabase auth understands (* and **).
_REDIRECT_URL = re.compile(r"^https://[A-Za-z0-9.*-]+(?::\d{1,5})?(?:/[^\s]*)?$")
_RELATIVE_DIR = re.compile(r"^(?!/)(?!.*\.\.)[A-Za-z0-9._/-]{1,200}$")


class ConfigError(pulumi.RunError):
    """The stack configuration is invalid; one line per problem, no traceback.

    A subclass of `pulumi.RunError`, which the Python language host reports as a clean
    error instead of a stack trace.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        header = f"invalid stack configuration ({count} problem{'s' if count != 1 else ''}):"
        super().__init__("\n".join([header, *(f"  - {p}" for p in self.problems)]))


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class TeamAccess:
    """A GitHub team and the permission it gets on the repository."""

    slug: str
    """Team slug, e.g. `devops`."""
    permission: str
    """One of `pull`, `triage`, `push`, `maintain`, `admin`."""


@dataclass(frozen=True)
class BypassActor:
    """One entry of the explicit allow-list of who may bypass the `main` ruleset."""

    actor_type: str
    """`Team`, `RepositoryRole`, `Integration`, `OrganizationAdmin` or `DeployKey`."""
    actor_id: int
    """Numeric id of the team, role, app or key (1 for `OrganizationAdmin`)."""
    bypass_mode: str
    """`always`, `pull_request` (only through a pull request) or `exempt`."""


@dataclass(frozen=True)
class GitHubSettings:
    """The application repository and its protection; see Pulumi.yaml for each key."""

    owner: str
    repository: str
    description: str
    topics: tuple[str, ...]
    visibility: str
    advanced_security: bool
    """GitHub Advanced Security is on (required for a non-public production repository)."""
    repository_import_id: str
    required_approving_review_count: int
    require_signed_commits: bool
    signed_commits_waiver: str
    bypass_actors: tuple[BypassActor, ...]
    teams: tuple[TeamAccess, ...]
    devops_team: str
    security_contact: str
    disclosure_window_days: int
    environment_reviewer_team_ids: tuple[int, ...]
    environment_reviewer_user_ids: tuple[int, ...]


@dataclass(frozen=True)
class VercelSettings:
    """This stack's Vercel project; see Pulumi.yaml for each key."""

    team_id: str
    framework: str
    node_version: str
    build_command: str
    install_command: str
    output_directory: str
    root_directory: str
    function_region: str
    deployment_protection: str
    trusted_ips: tuple[str, ...]
    rate_limit_requests: int
    rate_limit_window_seconds: int
    log_drain_endpoint: str
    seats: int
    content_security_policy: str
    project_import_id: str


@dataclass(frozen=True)
class SupabaseSettings:
    """This stack's Supabase project; see Pulumi.yaml for each key."""

    organization_slug: str
    region: str
    instance_size: str
    plan: str
    pool_mode: str
    default_pool_size: int
    allowed_cidrs: tuple[str, ...]
    email_confirmations: bool
    otp_expiry_seconds: int
    redirect_urls: tuple[str, ...]
    point_in_time_recovery: bool
    pitr_waiver: str
    project_import_id: str


@dataclass(frozen=True)
class MonitoringSettings:
    """Sentry, alert routing, key-metric thresholds and PostHog; see Pulumi.yaml."""

    sentry_organization: str
    sentry_team: str
    sentry_platform: str
    key_rate_limit_count: int
    key_rate_limit_window_seconds: int
    alert_email: str
    alert_slack_workspace_id: str
    alert_slack_channel: str
    alert_error_rate_percent: int
    alert_lcp_ms: int
    alert_fcp_ms: int
    alert_ttfb_ms: int
    alert_frequency_minutes: int
    posthog_project_key: str
    posthog_host: str
    availability_target_percent: Decimal


@dataclass(frozen=True)
class CostSettings:
    """Monthly budget and list prices (USD) the cost estimate uses; see Pulumi.yaml."""

    monthly_budget_usd: int
    price_vercel_seat_usd: int
    price_supabase_plan_usd: int
    price_sentry_plan_usd: int
    price_posthog_usd: int


@dataclass(frozen=True)
class Settings:
    """Everything one stack is built from, validated."""

    stack: str
    """`staging` or `production`; also the name of the stack's GitHub environment."""
    app: str
    domain: str
    redirect_www: bool
    github: GitHubSettings
    vercel: VercelSettings
    supabase: SupabaseSettings
    monitoring: MonitoringSettings
    cost: CostSettings

    @property
    def is_production(self) -> bool:
        return self.stack == "production"

    @property
    def environment(self) -> str:
        """The GitHub (and Vercel target) environment this stack deploys to."""
        return self.stack

    def name(self, role: str) -> str:
        """Deterministic remote name `{app}-{stack}-{role}` (never a random suffix)."""
        return f"{self.app}-{self.stack}-{role}"


@dataclass(frozen=True)
class Secrets:
    """User-supplied secrets from `pulumi config set --secret`; absent ones are None.

    Kept apart from `Settings` because they are Outputs: never validated, never printed.
    """

    vercel_token: pulumi.Output[str] | None
    """Deploy token for the VERCEL_TOKEN environment secret."""
    sentry_auth_token: pulumi.Output[str] | None
    """Sentry token for releases and source maps (SENTRY_AUTH_TOKEN, production)."""
    supabase_access_token: pulumi.Output[str] | None
    """Supabase Management API token; SUPABASE_ACCESS_TOKEN is used when absent."""


SECRET_KEYS = {
    "vercelToken": "vercel_token",
    "sentryAuthToken": "sentry_auth_token",
    "supabaseAccessToken": "supabase_access_token",
}
"""Secret config keys (not declared in Pulumi.yaml, see its comment) → Secrets field."""


# --------------------------------------------------------------------------- schema


@dataclass(frozen=True)
class KeySpec:
    """One key declared in Pulumi.yaml's `config:` block."""

    key: str
    type: str
    item_type: str | None
    default: Any
    required: bool
    description: str


@cache
def schema() -> dict[str, KeySpec]:
    """The project's declared config keys, read from Pulumi.yaml."""
    project = yaml.safe_load(PROJECT_FILE.read_text())
    specs: dict[str, KeySpec] = {}
    for key, spec in project["config"].items():
        specs[key] = KeySpec(
            key=key,
            type=spec["type"],
            item_type=spec.get("items", {}).get("type"),
            default=spec.get("default"),
            required="default" not in spec,
            description=spec["description"],
        )
    return specs


def project_name() -> str:
    """The Pulumi project name, which is also the config namespace."""
    return str(yaml.safe_load(PROJECT_FILE.read_text())["name"])


# --------------------------------------------------------------------------- reader

T = TypeVar("T")


def _show(value: Any) -> str:
    """A value as it appears in an error message, bounded so a huge value stays readable."""
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class _Reader:
    """Reads declared keys with type coercion, collecting one problem per bad value."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        self.problems: list[str] = []
        self._failed: set[str] = set()
        self._specs = schema()

    def problem(self, key: str, value: Any, allowed: str) -> None:
        # One message per key: a missing or mistyped key is not also reported as invalid.
        if key not in self._failed:
            self._failed.add(key)
            self.problems.append(f"{key}: {_show(value)} is not allowed; expected {allowed}")

    def _coerce(self, spec: KeySpec, value: Any, type_: str) -> tuple[bool, Any]:
        """Coerce a raw config value (the engine hands strings) to the declared type."""
        if type_ == "string":
            return isinstance(value, str), value
        if type_ == "boolean":
            if isinstance(value, bool):
                return True, value
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return True, value.lower() == "true"
            return False, value
        if type_ == "integer":
            if isinstance(value, bool):
                return False, value
            if isinstance(value, int):
                return True, value
            if isinstance(value, str) and re.fullmatch(r"-?\d{1,12}", value.strip()):
                return True, int(value)
            return False, value
        if type_ == "array":
            if isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    return False, value
            if not isinstance(value, list):
                return False, value
            items = []
            for item in value:
                ok, coerced = self._coerce(spec, item, spec.item_type or "string")
                if not ok:
                    return False, value
                items.append(coerced)
            return True, items
        raise AssertionError(f"Pulumi.yaml declares unsupported type {type_!r} for {spec.key}")

    def get(self, key: str) -> Any:
        spec = self._specs[key]
        if key not in self.raw or self.raw[key] is None:
            if spec.required:
                self._failed.add(key)
                self.problems.append(f"{key}: missing; this key is required ({spec.description})")
                return _FALLBACK[spec.type]
            return spec.default
        ok, value = self._coerce(spec, self.raw[key], spec.type)
        if not ok:
            article = "an" if spec.type == "integer" else "a"
            what = (
                f"a list of {spec.item_type}s" if spec.type == "array" else f"{article} {spec.type}"
            )
            self.problem(key, self.raw[key], what)
            return spec.default if spec.default is not None else _FALLBACK[spec.type]
        return value

    def string(
        self,
        key: str,
        pattern: re.Pattern[str] | None = None,
        allowed: str = "",
        *,
        choices: Sequence[str] = (),
        optional: bool = False,
    ) -> str:
        """A string key; `optional` lets the empty string mean "not set"."""
        value = self.get(key)
        if not isinstance(value, str):
            return ""
        if optional and value == "":
            return value
        if choices and value not in choices:
            self.problem(key, value, f"one of {', '.join(choices)}")
        elif pattern is not None and not pattern.fullmatch(value):
            self.problem(key, value, allowed)
        return value

    def integer(self, key: str, low: int, high: int) -> int:
        value = self.get(key)
        if not isinstance(value, int):
            return low
        if not low <= value <= high:
            self.problem(key, value, f"an integer from {low} to {high}")
            return low
        return value

    def boolean(self, key: str) -> bool:
        value = self.get(key)
        return bool(value) if isinstance(value, bool) else False

    def items(
        self,
        key: str,
        parse: Callable[[Any], T | None],
        allowed: str,
        *,
        max_items: int = 100,
    ) -> tuple[T, ...]:
        """A list key whose items `parse` turns into values (None = invalid item)."""
        value = self.get(key)
        if not isinstance(value, list):
            return ()
        if len(value) > max_items:
            self.problem(key, value, f"at most {max_items} items")
            return ()
        parsed: list[T] = []
        for item in value:
            result = parse(item)
            if result is None:
                self.problems.append(
                    f"{key}: item {_show(item)} is not allowed; expected {allowed}"
                )
            else:
                parsed.append(result)
        if len(set(map(repr, parsed))) != len(parsed):
            self.problem(key, value, "no duplicate items")
        return tuple(parsed)


_FALLBACK: dict[str, Any] = {"string": "", "integer": 0, "boolean": False, "array": []}


def _matching(pattern: re.Pattern[str]) -> Callable[[Any], str | None]:
    return lambda item: item if isinstance(item, str) and pattern.fullmatch(item) else None


def _team_access(item: Any) -> TeamAccess | None:
    if not isinstance(item, str) or item.count(":") != 1:
        return None
    slug, permission = item.split(":")
    if not _TEAM_SLUG.fullmatch(slug) or permission not in GITHUB_PERMISSIONS:
        return None
    return TeamAccess(slug=slug, permission=permission)


def _bypass_actor(item: Any) -> BypassActor | None:
    if not isinstance(item, str) or item.count(":") != 2:
        return None
    actor_type, actor_id, mode = item.split(":")
    if actor_type not in BYPASS_ACTOR_TYPES or mode not in BYPASS_MODES:
        return None
    if not re.fullmatch(r"[1-9]\d{0,11}", actor_id):
        return None
    return BypassActor(actor_type=actor_type, actor_id=int(actor_id), bypass_mode=mode)


def _positive_id(item: Any) -> int | None:
    return item if isinstance(item, int) and not isinstance(item, bool) and item > 0 else None


def _cidr(item: Any) -> str | None:
    if not isinstance(item, str):
        return None
    try:
        network = ipaddress.ip_network(item, strict=True)
    except ValueError:
        return None
    return str(network)


def _load_github(r: _Reader, stack: str) -> GitHubSettings:
    production = stack == "production"
    min_approvals = 2 if production else 1
    signed = r.boolean("requireSignedCommits")
    waiver = r.string("signedCommitsWaiver")
    if not signed and not waiver.strip():
        r.problem(
            "signedCommitsWaiver",
            waiver,
            "a reason (documented waiver) when requireSignedCommits is false",
        )
    visibility = r.string("githubVisibility", choices=GITHUB_VISIBILITIES)
    advanced_security = r.boolean("githubAdvancedSecurity")
    if production and visibility != "public" and not advanced_security:
        # CodeQL results of a non-public repository upload only with GitHub Code Security;
        # without it the required "CodeQL analysis" check could never pass (rule G10).
        r.problem(
            "githubAdvancedSecurity",
            advanced_security,
            "true for a non-public repository: CodeQL (rule G10) needs GitHub Code Security",
        )
    reviewer_teams = r.items("environmentReviewerTeamIds", _positive_id, "a positive team id")
    reviewer_users = r.items("environmentReviewerUserIds", _positive_id, "a positive user id")
    if production and not (reviewer_teams or reviewer_users):
        r.problem(
            "environmentReviewerTeamIds",
            [],
            "at least one reviewer team or user id in production (deployments need approval)",
        )
    return GitHubSettings(
        owner=r.string("githubOwner", _GITHUB_LOGIN, "a GitHub organisation or user name"),
        repository=r.string(
            "githubRepository", _GITHUB_REPOSITORY, "a repository name ([A-Za-z0-9._-], ≤ 100)"
        ),
        description=r.string(
            "githubRepositoryDescription", re.compile(r"^[^\n\r]{0,350}$"), "one line, ≤ 350"
        ),
        topics=r.items(
            "githubTopics",
            _matching(_GITHUB_TOPIC),
            "a topic of lowercase letters, digits and hyphens (≤ 50)",
            max_items=20,
        ),
        visibility=visibility,
        advanced_security=advanced_security,
        repository_import_id=r.string(
            "githubRepositoryImportId",
            _GITHUB_REPOSITORY,
            "the existing repository's name",
            optional=True,
        ),
        required_approving_review_count=r.integer("requiredApprovingReviewCount", min_approvals, 6),
        require_signed_commits=signed,
        signed_commits_waiver=waiver,
        bypass_actors=r.items(
            "bypassActors",
            _bypass_actor,
            f"'ActorType:id:mode' with ActorType in {', '.join(BYPASS_ACTOR_TYPES)} "
            f"and mode in {', '.join(BYPASS_MODES)}",
        ),
        teams=r.items(
            "teams",
            _team_access,
            f"'team-slug:permission' with permission in {', '.join(GITHUB_PERMISSIONS)}",
        ),
        devops_team=r.string("devopsTeam", _TEAM_SLUG, "a team slug (lowercase, digits, - _)"),
        security_contact=r.string("securityContact", _EMAIL, "an e-mail address"),
        disclosure_window_days=r.integer("disclosureWindowDays", 1, 365),
        environment_reviewer_team_ids=reviewer_teams,
        environment_reviewer_user_ids=reviewer_users,
    )


def _load_vercel(r: _Reader, stack: str) -> VercelSettings:
    trusted_ips = r.items("vercelTrustedIps", _cidr, "an IPv4 or IPv6 CIDR such as 203.0.113.0/24")
    return VercelSettings(
        team_id=r.string("vercelTeamId", _VERCEL_TEAM_ID, "a Vercel team id such as team_abc..."),
        framework=r.string("vercelFramework", choices=VERCEL_FRAMEWORKS),
        node_version=r.string("vercelNodeVersion", choices=VERCEL_NODE_VERSIONS),
        build_command=r.string("vercelBuildCommand", re.compile(r"^[^\n\r]{0,256}$"), "one line"),
        install_command=r.string(
            "vercelInstallCommand", re.compile(r"^[^\n\r]{0,256}$"), "one line"
        ),
        output_directory=r.string(
            "vercelOutputDirectory", _RELATIVE_DIR, "a relative directory", optional=True
        ),
        root_directory=r.string(
            "vercelRootDirectory", _RELATIVE_DIR, "a relative directory", optional=True
        ),
        function_region=r.string("vercelFunctionRegion", choices=VERCEL_REGIONS),
        deployment_protection=r.string(
            "vercelDeploymentProtection", choices=VERCEL_DEPLOYMENT_PROTECTION
        ),
        trusted_ips=trusted_ips,
        rate_limit_requests=r.integer("vercelRateLimitRequests", 1, 10000),
        rate_limit_window_seconds=r.integer("vercelRateLimitWindowSeconds", 10, 600),
        log_drain_endpoint=r.string(
            "vercelLogDrainEndpoint", _HTTPS_URL, "an https:// URL", optional=True
        ),
        seats=r.integer("vercelSeats", 0, 1000),
        content_security_policy=r.string(
            "contentSecurityPolicy",
            re.compile(r"^[^\n\r\"]{0,4000}$"),
            "one line without double quotes",
        ),
        project_import_id=r.string(
            "vercelProjectImportId",
            _VERCEL_PROJECT_ID,
            "a Vercel project id prj_...",
            optional=True,
        ),
    )


_OPEN_TO_ALL = ("0.0.0.0/0", "::/0")


def _load_supabase(r: _Reader, stack: str) -> SupabaseSettings:
    production = stack == "production"
    cidrs = r.items("supabaseAllowedCidrs", _cidr, "an IPv4 or IPv6 CIDR such as 203.0.113.0/24")
    if production:
        open_cidrs = [c for c in cidrs if c in _OPEN_TO_ALL]
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
    instance_size = r.string("supabaseInstanceSize", choices=SUPABASE_INSTANCE_SIZES)
    if pitr and instance_size in ("nano", "micro"):
        r.problem(
            "supabaseInstanceSize",
            instance_size,
            "small or larger when supabasePointInTimeRecovery is on (Supabase's requirement)",
        )
    return SupabaseSettings(
        organization_slug=r.string(
            "supabaseOrganizationSlug", _SLUG, "an organisation slug (lowercase, digits, - _)"
        ),
        region=r.string("supabaseRegion", choices=SUPABASE_REGIONS),
        instance_size=instance_size,
        plan=r.string("supabasePlan", choices=SUPABASE_PLANS),
        pool_mode=r.string("supabasePoolMode", choices=SUPABASE_POOL_MODES),
        default_pool_size=r.integer("supabaseDefaultPoolSize", 1, 1000),
        allowed_cidrs=cidrs,
        email_confirmations=r.boolean("supabaseEmailConfirmations"),
        otp_expiry_seconds=r.integer("supabaseOtpExpirySeconds", 60, 3600),
        redirect_urls=r.items(
            "supabaseRedirectUrls", _matching(_REDIRECT_URL), "an https:// URL (* wildcards ok)"
        ),
        point_in_time_recovery=pitr,
        pitr_waiver=waiver,
        project_import_id=r.string(
            "supabaseProjectImportId", _SUPABASE_REF, "a 20-letter project ref", optional=True
        ),
    )


def _percentage(text: str) -> Decimal | None:
    """An availability target such as "99.9", from 90 up to (not including) 100."""
    if not re.fullmatch(r"\d{2}(?:\.\d{1,3})?", text):
        return None
    value = Decimal(text)
    return value if Decimal(90) <= value < Decimal(100) else None


def _load_monitoring(r: _Reader, app: str) -> MonitoringSettings:
    email = r.string("alertEmail", _EMAIL, "an e-mail address", optional=True)
    workspace = r.string(
        "alertSlackWorkspaceId",
        re.compile(r"^\d{1,20}$"),
        "a numeric integration id",
        optional=True,
    )
    channel = r.string(
        "alertSlackChannel", _SLACK_CHANNEL, "a Slack channel such as #oncall", optional=True
    )
    if channel and not workspace:
        r.problem(
            "alertSlackWorkspaceId", workspace, "the Slack workspace id with alertSlackChannel"
        )
    if workspace and not channel:
        # A workspace alone routes nowhere; saying so beats silently dropping Slack.
        r.problem(
            "alertSlackChannel",
            channel,
            "a Slack channel such as #oncall with alertSlackWorkspaceId",
        )
    if not email and not channel:
        r.problem("alertEmail", email, "an e-mail address or alertSlackChannel (alert destination)")
    target_text = r.string("availabilityTargetPercent")
    target = _percentage(target_text)
    if target is None:
        r.problem("availabilityTargetPercent", target_text, "a percentage from 90 to 99.999")
        target = Decimal("99.9")
    lcp = r.integer("alertLcpMs", 500, 60000)
    fcp = r.integer("alertFcpMs", 300, 60000)
    return MonitoringSettings(
        sentry_organization=r.string("sentryOrganization", _SLUG, "a Sentry organisation slug"),
        sentry_team=r.string("sentryTeam", _SLUG, "a Sentry team slug", optional=True) or app,
        sentry_platform=r.string("sentryPlatform", choices=SENTRY_PLATFORMS),
        key_rate_limit_count=r.integer("sentryKeyRateLimitCount", 1, 1_000_000),
        key_rate_limit_window_seconds=r.integer("sentryKeyRateLimitWindowSeconds", 60, 86400),
        alert_email=email,
        alert_slack_workspace_id=workspace,
        alert_slack_channel=channel,
        alert_error_rate_percent=r.integer("alertErrorRatePercent", 1, 100),
        alert_lcp_ms=lcp,
        alert_fcp_ms=fcp,
        alert_ttfb_ms=r.integer("alertTtfbMs", 50, 60000),
        alert_frequency_minutes=r.integer("alertFrequencyMinutes", 5, 1440),
        posthog_project_key=r.string(
            "posthogProjectKey", _POSTHOG_KEY, "a PostHog project key phc_...", optional=True
        ),
        posthog_host=r.string("posthogHost", _HTTPS_URL, "an https:// URL"),
        availability_target_percent=target,
    )


def _load_cost(r: _Reader) -> CostSettings:
    return CostSettings(
        monthly_budget_usd=r.integer("monthlyBudgetUsd", 0, 1_000_000),
        price_vercel_seat_usd=r.integer("priceVercelSeatUsd", 0, 10_000),
        price_supabase_plan_usd=r.integer("priceSupabasePlanUsd", 0, 100_000),
        price_sentry_plan_usd=r.integer("priceSentryPlanUsd", 0, 100_000),
        price_posthog_usd=r.integer("pricePosthogUsd", 0, 100_000),
    )


def load_settings(stack: str, raw: Mapping[str, Any]) -> Settings:
    """Validate one stack's raw configuration (keys without namespace) into `Settings`.

    Raises `ConfigError` listing every problem: unknown stack, unknown or misspelt keys,
    missing required keys, wrong types and values outside what is allowed.
    """
    r = _Reader(raw)
    if stack not in STACKS:
        r.problems.append(f"stack: {stack!r} is not allowed; expected one of {', '.join(STACKS)}")
    declared = schema()
    for key in sorted(raw):
        if key not in declared and key not in SECRET_KEYS:
            shown = key if re.fullmatch(r"[A-Za-z][A-Za-z0-9]{0,63}", str(key)) else _show(key)
            r.problems.append(f"{shown}: unknown key; see the config block of Pulumi.yaml")
    app = r.string("app", _APP_NAME, "3-32 lowercase letters, digits and hyphens")
    domain = r.string("domain", _DOMAIN, "a lowercase domain name such as your-domain.com")
    settings = Settings(
        stack=stack,
        app=app,
        domain=domain,
        redirect_www=r.boolean("redirectWww"),
        github=_load_github(r, stack),
        vercel=_load_vercel(r, stack),
        supabase=_load_supabase(r, stack),
        monitoring=_load_monitoring(r, app),
        cost=_load_cost(r),
    )
    if r.problems:
        raise ConfigError(r.problems)
    return settings


def settings_from_pulumi() -> tuple[Settings, Secrets]:
    """Load and validate the running stack's configuration; read its secrets as Outputs."""
    namespace = project_name()
    prefix = f"{namespace}:"
    raw: dict[str, Any] = {}
    # The language host sets the config map; PULUMI_CONFIG is the older channel.
    everything = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    for full_key, value in everything.items():
        if full_key.startswith(prefix):
            raw[full_key[len(prefix) :]] = value
    config = pulumi.Config(namespace)
    for key in schema():
        if key not in raw and (value := config.get(key)) is not None:
            raw[key] = value
    secret_values = {key: raw.pop(key, None) for key in SECRET_KEYS}
    settings = load_settings(pulumi.get_stack(), raw)
    secrets = Secrets(
        **{
            field: config.get_secret(key) if secret_values[key] is not None else None
            for key, field in SECRET_KEYS.items()
        }
    )
    return settings, secrets
