"""The policy pack's rules as plain functions, importable and testable without the engine.

Each `validate_*` function has the signature pulumi-policy calls:
`(args, report_violation)`, where `args` is a `ResourceValidationArgs` (one resource, its
inputs as the engine sends them: camelCase property names, secrets already unwrapped,
unknown values raising `UnknownValueError` when read) or a `StackValidationArgs` (every
resource of the stack with its outputs, after the program has run). `POLICIES` wraps them
as pulumi-policy `Policy` objects; `__main__.py` serves them as the pack.

What a policy can see, and so the limits of these rules:
- The stack is read from each resource's URN (`urn:pulumi:<stack>::...`).
- pulumi-policy removes the secret marker before `validate` runs, so no policy can tell
  whether an input arrived as a Pulumi secret. G7 therefore checks what is visible: fields
  that hold secrets are declared secret outputs of their resource (so the state encrypts
  them), no credential-shaped string sits in any other field, and no plain Actions
  variable carries a secret's name. The recorder-based tests (which do see the secret
  wrappers) cover "arrived as a secret" exactly.
- Stack policies see outputs; at preview those of a new resource are mostly its inputs.
  The cost budget is advisory: the estimate is the `monthlyCostEstimateUsd` export of the
  stack (the `pulumi:pulumi:Stack` resource's outputs), the budget its
  `monthlyBudgetUsd` export or, failing that, the stack's `monthlyBudgetUsd` config,
  which the engine hands to every policy pack process (PULUMI_CONFIG).
- One stack cannot see the other: S12 holds because each stack's Vercel, Supabase and
  Sentry project names must carry its own stack name (so they can never be the same).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

# Facts the program defines once; none of these modules needs a provider SDK.
from components.github.facts import OIDC_BINDING_CLAIMS, PRODUCTION_MIN_APPROVALS
from components.github.pipeline import MIGRATIONS_DIR, SUPABASE_DB_URL
from components.reader import project_name
from components.supabase.facts import (
    AUTH_CONFIG,
    NETWORK_RESTRICTIONS,
    PUBLIC_SCHEMA,
    SSL_ENFORCEMENT,
    inside,
    resource_type,
)
from components.supabase.facts import (
    PROJECT as SUPABASE_PROJECT_NAME,
)
from components.supabase.facts import (
    SECRET_FIELDS as SUPABASE_SECRET_FIELDS,
)
from components.vercel.facts import DATABASE_URL, PROTECTED_DEPLOYMENT_TYPES, PUBLIC_PREFIX

PROJECT = project_name()
"""Config namespace of the program (Pulumi.yaml `name`)."""
PRODUCTION = "production"
MIN_APPROVALS = {PRODUCTION: PRODUCTION_MIN_APPROVALS}
"""Approvals a pull request into main needs per stack (G2); any other stack: 1."""

RULESET = "github:index/repositoryRuleset:RepositoryRuleset"
BRANCH_PROTECTION = "github:index/branchProtection:BranchProtection"
REPOSITORY_FILE = "github:index/repositoryFile:RepositoryFile"
ACTIONS_ENV_SECRET = "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret"  # noqa: S105
ACTIONS_SECRET = "github:index/actionsSecret:ActionsSecret"  # noqa: S105
ACTIONS_ENV_VARIABLE = "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable"
ACTIONS_VARIABLE = "github:index/actionsVariable:ActionsVariable"
VERCEL_PROJECT = "vercel:index/project:Project"
VERCEL_ENV_VARIABLE = "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable"
VERCEL_ENV_VARIABLES = "vercel:index/projectEnvironmentVariables:ProjectEnvironmentVariables"
VERCEL_FIREWALL = "vercel:index/firewallConfig:FirewallConfig"
VERCEL_OIDC_POLICY = "vercel:index/oidcFederationPolicy:OidcFederationPolicy"
SENTRY_PROJECT = "sentry:index/sentryProject:SentryProject"
STACK_TYPE = "pulumi:pulumi:Stack"
DYNAMIC_PREFIX = "pulumi-python:dynamic"
"""Type tokens of Python dynamic resources (`pulumi-python:dynamic:Resource`, or
`pulumi-python:dynamic/<module>:<Name>` when the class names itself)."""

SUPABASE_SSL = resource_type(SSL_ENFORCEMENT)
SUPABASE_NETWORK = resource_type(NETWORK_RESTRICTIONS)
SUPABASE_AUTH = resource_type(AUTH_CONFIG)
SUPABASE_PROJECT = resource_type(SUPABASE_PROJECT_NAME)

SECRET_FIELDS: dict[str, tuple[str, ...]] = {
    ACTIONS_ENV_SECRET: ("value", "plaintextValue", "encryptedValue", "valueEncrypted"),
    ACTIONS_SECRET: ("value", "plaintextValue", "encryptedValue", "valueEncrypted"),
    "vercel:index/projectProtectionBypass:ProjectProtectionBypass": ("secret",),
    "vercel:index/logDrain:LogDrain": ("secret",),
    **{resource_type(kind): fields for kind, fields in SUPABASE_SECRET_FIELDS.items()},
}
"""Fields that hold a secret, per type: they must be declared secret outputs (G7)."""


CREDENTIAL_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{40,})")),
    ("a Supabase access token", re.compile(r"\bsbp_[a-f0-9]{40}\b")),
    ("a Sentry token", re.compile(r"\bsntry[su]_[A-Za-z0-9+/=_]{20,}")),
    ("a Stripe live key", re.compile(r"\b[rs]k_live_[A-Za-z0-9]{16,}")),
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    ("an AWS access key", re.compile(r"\bAKIA[0-9A-Z]{16}\b")),
    ("a Slack token", re.compile(r"\bxox[abpr]-[A-Za-z0-9-]{10,}")),
    # A password in a URL, unless it is a placeholder such as ${{ secrets.X }} or $PASS.
    ("a URL with a password", re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:(?![$%{<])[^/\s@]+@")),
)
"""Strings that are credentials whatever field they sit in (G7)."""

SECRET_NAME = re.compile(
    r"(TOKEN|SECRET|PASSWORD|PASSWD|PRIVATE_KEY|SERVICE_ROLE|API_KEY|ACCESS_KEY"
    r"|CONNECTION_STRING|DATABASE_URL|DB_URL|CREDENTIALS?)",
    re.IGNORECASE,
)
"""Variable names that announce a secret value (G7, S8)."""


# --------------------------------------------------------------------------- helpers


def stack_of(urn: str) -> str:
    """The stack segment of a URN (`urn:pulumi:<stack>::<project>::<type>::<name>`)."""
    head = urn.split("::", 1)[0]
    return head.rsplit(":", 1)[-1] if head.startswith("urn:pulumi:") else ""


def dig(value: Any, *path: str | int) -> Any:
    """`value[path[0]][path[1]]...`, or None where a step is missing."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(value, Sequence) or isinstance(value, str) or step >= len(value):
                return None
            value = value[step]
        else:
            if not isinstance(value, Mapping) or step not in value:
                return None
            value = value[step]
    return value


def _items(value: Any) -> list[Any]:
    """A list property as a list (absent or null → [])."""
    if value is None or isinstance(value, str) or not isinstance(value, Sequence):
        return []
    return list(value)


def known(container: Any, key: Any) -> Any:
    """`container[key]`, or None when absent or not known yet (a preview's computed value).

    Reading an unknown value through pulumi-policy raises `UnknownValueError`, which turns
    the whole policy into "cannot run during preview"; scans use this instead and skip it.
    """
    try:
        return container[key]
    except (KeyError, IndexError, TypeError, UnknownValueError):
        return None


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every known string leaf of a property value, with its dotted path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key in value:
            yield from _strings(known(value, key), f"{path}.{key}" if path else str(key))
    elif isinstance(value, Sequence):
        for i in range(len(value)):
            yield from _strings(known(value, i), f"{path}[{i}]")


def credential_in(text: str) -> str | None:
    """What kind of credential `text` contains, or None."""
    for kind, pattern in CREDENTIAL_PATTERNS:
        if pattern.search(text):
            return kind
    return None


def keys(props: Mapping[str, Any]) -> set[str]:
    """The property names; `name in props` would read the value, which may be unknown."""
    return {str(key) for key in iter(props)}


def is_supabase_project(resource_type: str, props: Mapping[str, Any]) -> bool:
    """The Supabase dynamic resource (components/supabase/provider.py)."""
    return resource_type.startswith(DYNAMIC_PREFIX) and "organization_slug" in keys(props)


def _protects_main(props: Mapping[str, Any]) -> bool:
    """A branch ruleset that covers the default branch (`main`)."""
    if props.get("target", "branch") != "branch":
        return False
    includes = _items(dig(props, "conditions", "refName", "includes"))
    return any(ref in ("~DEFAULT_BRANCH", "~ALL", "refs/heads/main", "main") for ref in includes)


# --------------------------------------------------------------------------- GitHub


def validate_g1_main_history(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """G1: `main` allows no force pushes and no deletion."""
    props = args.props
    if args.resource_type == RULESET:
        if not _protects_main(props):
            return
        if props.get("enforcement") != "active":
            report(
                f"G1: ruleset {args.name} protects main but its enforcement is "
                f"{props.get('enforcement')!r}; it must be 'active'"
            )
        rules = props.get("rules") or {}
        if rules.get("nonFastForward") is not True:
            report(
                f"G1: ruleset {args.name} must block force pushes to main "
                "(rules.non_fast_forward = true)"
            )
        if rules.get("deletion") is not True:
            report(f"G1: ruleset {args.name} must block deleting main (rules.deletion = true)")
    elif args.resource_type == BRANCH_PROTECTION and props.get("pattern") == "main":
        if props.get("allowsForcePushes") is not False:
            report(f"G1: branch protection {args.name} must set allows_force_pushes = false")
        if props.get("allowsDeletions") is not False:
            report(f"G1: branch protection {args.name} must set allows_deletions = false")


def validate_g2_reviews(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """G2: approvals (1, production 2), up-to-date branch, approval of the last push."""
    stack = stack_of(args.urn)
    needed = MIN_APPROVALS.get(stack, 1)
    props = args.props
    if args.resource_type == RULESET and _protects_main(props):
        pull_request = dig(props, "rules", "pullRequest")
        if not isinstance(pull_request, Mapping):
            report(
                f"G2: ruleset {args.name} has no pull_request rule: main needs reviewed "
                f"pull requests ({needed} approval(s) in {stack})"
            )
            return
        count = pull_request.get("requiredApprovingReviewCount") or 0
        if count < needed:
            report(
                f"G2: ruleset {args.name} requires {count} approval(s); "
                f"stack {stack} needs at least {needed}"
            )
        if pull_request.get("requireLastPushApproval") is not True:
            report(
                f"G2: ruleset {args.name} must require approval of the most recent push "
                "(require_last_push_approval = true)"
            )
        strict = dig(props, "rules", "requiredStatusChecks", "strictRequiredStatusChecksPolicy")
        if strict is not True:
            report(
                f"G2: ruleset {args.name} must require branches to be up to date before "
                "merging (strict_required_status_checks_policy = true)"
            )
    elif args.resource_type == BRANCH_PROTECTION and props.get("pattern") == "main":
        reviews = dig(props, "requiredPullRequestReviews", 0) or {}
        count = reviews.get("requiredApprovingReviewCount") or 0
        if count < needed:
            report(
                f"G2: branch protection {args.name} requires {count} approval(s); "
                f"stack {stack} needs at least {needed}"
            )
        if reviews.get("requireLastPushApproval") is not True:
            report(f"G2: branch protection {args.name} must require last-push approval")
        if dig(props, "requiredStatusChecks", 0, "strict") is not True:
            report(f"G2: branch protection {args.name} must require up-to-date branches")


def _actor(entry: Mapping[str, Any]) -> str:
    return f"{entry.get('actorType')}:{entry.get('actorId')}:{entry.get('bypassMode')}"


def validate_g4_code_owners(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """G4 (production): code-owner review, stale reviews dismissed, no unlisted bypass."""
    if stack_of(args.urn) != PRODUCTION:
        return
    props = args.props
    allowed = {str(a) for a in _items(args.get_config().get("allowedBypassActors"))}
    if args.resource_type == RULESET and _protects_main(props):
        pull_request = dig(props, "rules", "pullRequest") or {}
        if pull_request.get("requireCodeOwnerReview") is not True:
            report(
                f"G4: ruleset {args.name} must require a code-owner review in production "
                "(require_code_owner_review = true)"
            )
        if pull_request.get("dismissStaleReviewsOnPush") is not True:
            report(f"G4: ruleset {args.name} must dismiss stale reviews on push")
        for entry in _items(props.get("bypassActors")):
            actor = _actor(entry)
            if actor not in allowed:
                report(
                    f"G4: ruleset {args.name} lets {actor} bypass the rules on main; only "
                    f"the allow-list may (allowedBypassActors: {sorted(allowed) or 'empty'})"
                )
    elif args.resource_type == BRANCH_PROTECTION and props.get("pattern") == "main":
        reviews = dig(props, "requiredPullRequestReviews", 0) or {}
        if reviews.get("requireCodeOwnerReviews") is not True:
            report(f"G4: branch protection {args.name} must require code-owner reviews")
        if reviews.get("dismissStaleReviews") is not True:
            report(f"G4: branch protection {args.name} must dismiss stale reviews")
        if props.get("enforceAdmins") is not True:
            report(f"G4: branch protection {args.name} must enforce the rules for admins")
        if _items(props.get("forcePushBypassers")) or _items(dig(reviews, "pullRequestBypassers")):
            report(
                f"G4: branch protection {args.name} has bypassers; use a ruleset with an "
                "allow-listed bypass instead"
            )


def _production_resources(args: StackValidationArgs) -> list[Any]:
    """The stack's resources when it is production; none otherwise (the rule does not apply)."""
    resources = list(args.resources)
    return resources if resources and stack_of(resources[0].urn) == PRODUCTION else []


def validate_g4_codeowners_file(args: StackValidationArgs, report: ReportViolation) -> None:
    """G4 (production): a stack that protects main also ships a CODEOWNERS file."""
    resources = _production_resources(args)
    protects = any(r.resource_type == RULESET and _protects_main(r.props) for r in resources)
    shipped = any(
        r.resource_type == REPOSITORY_FILE
        and r.props.get("file") in ("CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS")
        for r in resources
    )
    if protects and not shipped:
        report("G4: main requires code-owner reviews but the stack ships no CODEOWNERS file")


# --------------------------------------------------------------------------- secrets


def validate_g7_no_plaintext_secret(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """G7: secrets only in fields the state encrypts; no credential in any other field."""
    props = args.props
    declared = set(args.opts.additional_secret_outputs or [])
    fields = SECRET_FIELDS.get(args.resource_type, ())
    present = keys(props)
    for name in fields:
        if name in present and name not in declared and known(props, name) != "":
            report(
                f"G7: {args.name}.{name} holds a secret but is not a secret output of the "
                "resource, so the state would keep it in plain text"
            )
    if args.resource_type in (ACTIONS_ENV_VARIABLE, ACTIONS_VARIABLE):
        name = str(props.get("variableName") or "")
        if SECRET_NAME.search(name):
            report(
                f"G7: Actions variable {name} ({args.name}) is named like a secret; "
                "variables are plain text: use an Actions (environment) secret"
            )
    for key in sorted(present - declared - set(fields)):
        value = known(props, key)
        if args.resource_type in (VERCEL_ENV_VARIABLE, VERCEL_ENV_VARIABLES):
            # Sensitive variables are the secret ones (S8 checks which must be): skip them.
            value = _without_sensitive(args.resource_type, key, value, props)
        for path, text in _strings(value, key):
            kind = credential_in(text)
            if kind is not None:
                report(
                    f"G7: {args.name}.{path} contains {kind} in plain text; pass it as a "
                    "Pulumi secret into a secret field"
                )


def _without_sensitive(resource_type: str, key: str, value: Any, props: Mapping[str, Any]) -> Any:
    if resource_type == VERCEL_ENV_VARIABLE:
        return None if key == "value" and known(props, "sensitive") is True else value
    if key != "variables":
        return value
    return [v for v in _items(value) if known(v, "sensitive") is not True]


# --------------------------------------------------------------------------- Supabase


def _open_to_all(cidr: Any) -> bool:
    try:
        return ipaddress.ip_network(str(cidr), strict=False).prefixlen == 0
    except ValueError:
        return False


def _outside(egress: Any, allowed: Any) -> list[str]:
    """The egress networks the allowed ones do not contain (unparseable ones included)."""
    allowed_cidrs = [str(c) for c in _items(allowed)]
    outside = []
    for cidr in _items(egress):
        try:
            if not inside(str(cidr), allowed_cidrs):
                outside.append(str(cidr))
        except ValueError:
            outside.append(str(cidr))
    return outside


def validate_s1_supabase_network(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """S1 (production): SSL enforced; no 0.0.0.0/0 or ::/0; every declared direct client's
    egress allowed."""
    props = args.props
    if stack_of(args.urn) != PRODUCTION:
        return
    if args.resource_type == SUPABASE_SSL and known(props, "enforced") is not True:
        report(
            f"S1: Supabase SSL enforcement {args.name} must be on in production "
            f"(enforced is {known(props, 'enforced')!r})"
        )
    if args.resource_type != SUPABASE_NETWORK:
        return
    allowed = known(props, "allowed_cidrs")
    open_cidrs = [str(c) for c in _items(allowed) if _open_to_all(c)]
    if open_cidrs:
        report(
            f"S1: Supabase network restrictions {args.name} allow {', '.join(open_cidrs)} in "
            "production; list the networks that need Postgres instead"
        )
    for key in ("app_egress_cidrs", "ci_egress_cidrs"):
        outside = _outside(known(props, key), allowed)
        if outside:
            report(
                f"S1: Supabase network restrictions {args.name} declare {key} "
                f"{', '.join(outside)} outside allowed_cidrs: that client could not connect"
            )


def _variable_keys(resource: Any) -> set[str]:
    props = resource.props
    if resource.resource_type == VERCEL_ENV_VARIABLE:
        return {str(known(props, "key"))}
    if resource.resource_type == VERCEL_ENV_VARIABLES:
        return {str(known(v, "key")) for v in _items(known(props, "variables"))}
    return set()


def validate_s1_supabase_access_path(args: StackValidationArgs, report: ReportViolation) -> None:
    """S1 (production): Postgres is restricted and SSL-only, and whoever gets a direct
    connection string has its egress allowed (else the app talks to the Data API)."""
    resources = _production_resources(args)
    project = next((r for r in resources if r.resource_type == SUPABASE_PROJECT), None)
    if project is None:
        return
    networks = [r for r in resources if r.resource_type == SUPABASE_NETWORK]
    if not any(r.resource_type == SUPABASE_SSL for r in resources):
        report("S1: the production Supabase project has no SSL enforcement", project.urn)
    if not networks:
        report(
            "S1: the production Supabase project has no network restrictions: Postgres "
            "would stay reachable from anywhere",
            project.urn,
        )
        return
    network = networks[0].props
    app = any(DATABASE_URL in _variable_keys(r) for r in resources)
    ci = any(
        r.resource_type == ACTIONS_ENV_SECRET and known(r.props, "secretName") == SUPABASE_DB_URL
        for r in resources
    )
    for hands_out, key, client, name in (
        (app, "app_egress_cidrs", "the app's functions", f"Vercel {DATABASE_URL}"),
        (ci, "ci_egress_cidrs", "CI", f"GitHub {SUPABASE_DB_URL}"),
    ):
        if hands_out and not _items(known(network, key)):
            report(
                f"S1: production hands {client} a Postgres connection string ({name}) but "
                f"the network restrictions declare no {key}: that egress is not allowed, so "
                "it cannot connect (allow a static egress, or use the Data API)",
                networks[0].urn,
            )


def validate_s13_supabase_smtp(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """S13 (production): e-mail confirmations go through custom SMTP, with a password."""
    if args.resource_type != SUPABASE_AUTH or stack_of(args.urn) != PRODUCTION:
        return
    props = args.props
    if known(props, "mailer_autoconfirm") is True:
        return
    missing = [k for k in ("smtp_host", "smtp_pass") if not known(props, k)]
    if missing:
        report(
            f"S13: Supabase auth {args.name} requires e-mail confirmation in production "
            f"without custom SMTP ({', '.join(missing)} not set): the built-in mailer sends "
            "a few mails an hour, to organisation members only"
        )


# --------------------------------------------------------------------------- Vercel


_MIGRATION_FILE = re.compile(rf"^{re.escape(MIGRATIONS_DIR)}/[^/]+\.sql$")
_SQL_NAME = r'(?:"[^"]+"|[A-Za-z_][\w$]*)'
_CREATE_TABLE = re.compile(
    rf"\bcreate\s+(?:unlogged\s+)?table\s+(?:if\s+not\s+exists\s+)?"
    rf"(?:(?P<schema>{_SQL_NAME})\s*\.\s*)?(?P<table>{_SQL_NAME})\s*\(",
    re.IGNORECASE,
)
_ENABLE_RLS = re.compile(
    rf"\balter\s+table\s+(?:if\s+exists\s+)?(?:only\s+)?"
    rf"(?:(?P<schema>{_SQL_NAME})\s*\.\s*)?(?P<table>{_SQL_NAME})\s+"
    r"enable\s+row\s+level\s+security\b",
    re.IGNORECASE,
)


def _sql_name(name: str | None, default: str = "") -> str:
    """An identifier as Postgres resolves it: quoted kept, unquoted folded to lower case."""
    if not name:
        return default
    return name[1:-1] if name.startswith('"') else name.lower()


def public_tables_without_rls(sql: str) -> list[str]:
    """Tables the SQL creates in `public` (or unqualified) without enabling RLS on them."""
    without_comments = re.sub(r"--[^\n]*|/\*.*?\*/", " ", sql, flags=re.DOTALL)
    enabled = {
        (_sql_name(m.group("schema"), PUBLIC_SCHEMA), _sql_name(m.group("table")))
        for m in _ENABLE_RLS.finditer(without_comments)
    }
    missing = []
    for match in _CREATE_TABLE.finditer(without_comments):
        table = (_sql_name(match.group("schema"), PUBLIC_SCHEMA), _sql_name(match.group("table")))
        if table[0] == PUBLIC_SCHEMA and table not in enabled:
            missing.append(".".join(table))
    return missing


def validate_s2_shipped_migrations(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """S2: a migration the program commits enables RLS on every `public` table it creates.

    A preview-time mirror read from the SQL text; the app's RLS check applies the migrations
    to a real Postgres and checks policies too (app_repo/.github/scripts/rls_check.py).
    """
    if args.resource_type != REPOSITORY_FILE:
        return
    path, content = known(args.props, "file"), known(args.props, "content")
    if not isinstance(path, str) or not _MIGRATION_FILE.fullmatch(path):
        return
    if isinstance(content, str):
        for table in public_tables_without_rls(content):
            report(
                f"S2: {path} creates {table} without enabling row-level security on it "
                f"(alter table {table} enable row level security)"
            )


def validate_s6_vercel_protection(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """S6: Vercel Authentication standard_protection or stricter; source not public."""
    if args.resource_type != VERCEL_PROJECT:
        return
    props = args.props
    deployment_type = dig(props, "vercelAuthentication", "deploymentType")
    if deployment_type not in PROTECTED_DEPLOYMENT_TYPES:
        report(
            f"S6: Vercel project {args.name} has deployment protection "
            f"{deployment_type!r}; expected one of {', '.join(PROTECTED_DEPLOYMENT_TYPES)}"
        )
    if props.get("publicSource") is True:
        report(
            f"S6: Vercel project {args.name} makes its source public (public_source); leave it off"
        )


def _check_vercel_variable(
    owner: str, variable: Mapping[str, Any], report: ReportViolation
) -> None:
    key = str(variable.get("key") or "")
    sensitive = variable.get("sensitive")
    value = known(variable, "value")
    if key.startswith(PUBLIC_PREFIX):
        if sensitive is True:
            report(
                f"S8: {owner}: {key} is marked sensitive, but NEXT_PUBLIC_* values are "
                "shipped to every browser: a secret must never be NEXT_PUBLIC_*"
            )
        if SECRET_NAME.search(key[len(PUBLIC_PREFIX) :]):
            report(f"S8: {owner}: {key} is named like a secret under NEXT_PUBLIC_*")
        if isinstance(value, str) and credential_in(value):
            report(f"S8: {owner}: {key} holds {credential_in(value)} under NEXT_PUBLIC_*")
        return
    if sensitive is None:
        report(f"S8: {owner}: {key} must set `sensitive` explicitly (true for secrets)")
    secret_like = bool(SECRET_NAME.search(key)) or (
        isinstance(value, str) and credential_in(value) is not None
    )
    if secret_like and sensitive is not True:
        report(f"S8: {owner}: {key} holds a secret but is not sensitive; set sensitive = true")


def validate_s8_vercel_variables(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """S8: secret variables sensitive; nothing secret under NEXT_PUBLIC_*."""
    props = args.props
    if args.resource_type == VERCEL_ENV_VARIABLE:
        _check_vercel_variable(args.name, props, report)
    elif args.resource_type == VERCEL_ENV_VARIABLES:
        for variable in _items(props.get("variables")):
            _check_vercel_variable(args.name, variable, report)


def validate_w10_vercel_oidc_policy(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """W9/W10: a Vercel OIDC federation policy admits one repository's tokens from one
    environment and ref set, and grants named CLI commands on named projects only."""
    if args.resource_type != VERCEL_OIDC_POLICY:
        return
    props = args.props
    claims: dict[str, list[Any]] = {}
    for claim in _items(props.get("claims")):
        claims[str(known(claim, "name"))] = [
            known(value, "value") for value in _items(known(claim, "values"))
        ]
    missing = [name for name in OIDC_BINDING_CLAIMS if not claims.get(name)]
    if missing:
        report(
            f"W10: OIDC federation policy {args.name} does not pin the claims "
            f"{', '.join(missing)}: any workflow could obtain its token"
        )
    for name in ("repository", "environment"):
        if any(isinstance(value, str) and "*" in value for value in claims.get(name, [])):
            report(f"W10: OIDC federation policy {args.name} accepts any {name} ('*')")
    if _items(known(props, "permissions")):
        report(
            f"W10: OIDC federation policy {args.name} grants permissions; grant the CLI "
            "commands the workflows run (`commands`) instead"
        )
    if not _items(known(props, "commands")):
        report(f"W10: OIDC federation policy {args.name} names no CLI commands")
    project_ids = known(dig(props, "resources"), "projectIds")
    # Read one by one: a new project's id is unknown at preview, and that is fine.
    listed = (
        [known(project_ids, i) for i in range(len(project_ids))]
        if isinstance(project_ids, Sequence) and not isinstance(project_ids, str)
        else []
    )
    if not listed or "*" in listed:
        report(
            f"W9: OIDC federation policy {args.name} is not bounded to its stack's project "
            "(resources.projectIds empty or '*'): a staging token could deploy production"
        )


def _is_api_condition(condition: Mapping[str, Any]) -> bool:
    if condition.get("type") != "path" or condition.get("neg") is True:
        return False
    op, value = condition.get("op"), str(condition.get("value") or "")
    if op == "pre":
        return value in ("/api", "/api/")
    if op == "re":
        return value.startswith("^/api")
    return False


def _api_rate_limit_rules(props: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    rules = []
    for rule in _items(dig(props, "rules", "rules")):
        if rule.get("active") is False or dig(rule, "action", "action") != "rate_limit":
            continue
        limit = dig(rule, "action", "rateLimit")
        if not isinstance(limit, Mapping) or not limit.get("limit") or not limit.get("window"):
            continue
        groups = _items(rule.get("conditionGroups"))
        if any(any(_is_api_condition(c) for c in _items(g.get("conditions"))) for g in groups):
            rules.append(rule)
    return rules


def validate_s9_firewall_rate_limit(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """S9 (production): the firewall is on and rate-limits /api."""
    if args.resource_type != VERCEL_FIREWALL or stack_of(args.urn) != PRODUCTION:
        return
    if args.props.get("enabled") is False:
        report(f"S9: Vercel firewall {args.name} is disabled in production")
    if not _api_rate_limit_rules(args.props):
        report(
            f"S9: Vercel firewall {args.name} has no active rate_limit rule on /api "
            "(a path condition op 'pre' value '/api' with a limit and a window)"
        )


def validate_s9_firewall_present(args: StackValidationArgs, report: ReportViolation) -> None:
    """S9 (production): a stack with a Vercel project also configures its firewall."""
    resources = _production_resources(args)
    projects = [r for r in resources if r.resource_type == VERCEL_PROJECT]
    firewalls = [r for r in resources if r.resource_type == VERCEL_FIREWALL]
    if projects and not firewalls:
        report(
            "S9: the production Vercel project has no FirewallConfig: /api is not rate-limited",
            projects[0].urn,
        )


# --------------------------------------------------------------------------- stack-wide


def _names_with_stack(resource_type: str, props: Mapping[str, Any]) -> list[tuple[str, Any]]:
    if resource_type == VERCEL_PROJECT:
        return [("name", known(props, "name"))]
    if resource_type == SENTRY_PROJECT:
        return [("name", known(props, "name")), ("slug", known(props, "slug"))]
    if is_supabase_project(resource_type, props):
        return [("name", known(props, "name"))]
    return []


def validate_s12_stack_names(args: StackValidationArgs, report: ReportViolation) -> None:
    """S12: the stack's Vercel, Supabase and Sentry projects are named for this stack."""
    for r in args.resources:
        stack = stack_of(r.urn)
        word = re.compile(rf"(?<![A-Za-z0-9]){re.escape(stack)}(?![A-Za-z0-9])")
        for field, value in _names_with_stack(r.resource_type, r.props):
            # Unknown at preview (a computed name): nothing to check yet.
            if value is None:
                continue
            if not stack or not word.search(str(value)):
                report(
                    f"S12: {r.resource_type.rsplit(':', 1)[-1]} {r.name} has {field} "
                    f"{value!r}, which does not carry the stack name {stack!r}: staging "
                    "and production must never share a project",
                    r.urn,
                )


def budget_problem(estimate: Any, budget: Any) -> str | None:
    """The advisory message when the estimate exceeds the budget, else None."""
    try:
        total, limit = Decimal(str(estimate)), Decimal(str(budget))
    except (InvalidOperation, ValueError):
        return None
    if total <= limit:
        return None
    return (
        f"cost: the monthly estimate ${total:.2f} is above the budget ${limit:.2f} "
        "(monthlyBudgetUsd); raise the budget or lower a plan"
    )


def _config_budget() -> Any:
    """The stack's `monthlyBudgetUsd` config, as the engine passes it to policy packs."""
    from pulumi.runtime import config as runtime_config

    key = f"{PROJECT}:monthlyBudgetUsd"
    return {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}.get(key)


def validate_cost_budget(
    args: StackValidationArgs,
    report: ReportViolation,
    config_budget: Callable[[], Any] = _config_budget,
) -> None:
    """Cost (advisory): the stack's monthly estimate stays within its budget."""
    stacks = [r for r in args.resources if r.resource_type == STACK_TYPE]
    if not stacks:
        args.not_applicable("no pulumi:pulumi:Stack resource")
    outputs = stacks[0].props
    estimate = outputs.get("monthlyCostEstimateUsd")
    if estimate is None:
        args.not_applicable("the stack exports no monthlyCostEstimateUsd")
    budget = outputs.get("monthlyBudgetUsd")
    if budget is None:
        budget = config_budget()
    if budget is None:
        args.not_applicable("no monthlyBudgetUsd export or config")
    problem = budget_problem(estimate, budget)
    if problem is not None:
        report(problem, stacks[0].urn)


def ceiling_problem(estimate: Any, ceiling: Any) -> str | None:
    """The refusal when the estimate is above a hard ceiling (0: none), else None."""
    try:
        total, limit = Decimal(str(estimate)), Decimal(str(ceiling))
    except (InvalidOperation, ValueError):
        return None
    if limit <= 0 or total <= limit:
        return None
    return (
        f"cost: the monthly estimate ${total:.2f} is above the hard ceiling ${limit:.2f} "
        "(monthlyCostCeilingUsd); lower a plan, or raise the ceiling deliberately"
    )


def validate_cost_ceiling(args: StackValidationArgs, report: ReportViolation) -> None:
    """Cost (mandatory): the stack's monthly estimate stays under its hard ceiling."""
    stacks = [r for r in args.resources if r.resource_type == STACK_TYPE]
    if not stacks:
        args.not_applicable("no pulumi:pulumi:Stack resource")
    outputs = stacks[0].props
    estimate, ceiling = outputs.get("monthlyCostEstimateUsd"), outputs.get("monthlyCostCeilingUsd")
    if estimate is None or ceiling is None:
        args.not_applicable("the stack exports no monthlyCostEstimateUsd or monthlyCostCeilingUsd")
    problem = ceiling_problem(estimate, ceiling)
    if problem is not None:
        report(problem, stacks[0].urn)


# --------------------------------------------------------------------------- the pack

ResourceRule = Callable[[ResourceValidationArgs, ReportViolation], None]
StackRule = Callable[[StackValidationArgs, ReportViolation], None]

RESOURCE_RULES: dict[str, tuple[str, ResourceRule]] = {
    "g1-main-no-force-push-or-deletion": (
        "G1: main allows no force pushes and no deletion", validate_g1_main_history),
    "g2-main-reviews": (
        "G2: main needs approvals (production 2), up-to-date branches, last-push approval",
        validate_g2_reviews),
    "g4-code-owner-review": (
        "G4: production main needs code-owner review; bypass only for allow-listed actors",
        validate_g4_code_owners),
    "g7-no-plaintext-secret": (
        "G7: secrets only in encrypted secret fields; no credential in plain text",
        validate_g7_no_plaintext_secret),
    "s1-supabase-network": (
        "S1: production Supabase enforces SSL, is not open to 0.0.0.0/0 or ::/0, and "
        "allows every declared direct client", validate_s1_supabase_network),
    "s13-supabase-smtp": (
        "S13: production Supabase auth with e-mail confirmation sends through custom SMTP",
        validate_s13_supabase_smtp),
    "s2-shipped-migrations-enable-rls": (
        "S2: every public table a shipped migration creates has row-level security enabled",
        validate_s2_shipped_migrations),
    "s6-vercel-deployment-protection": (
        "S6: Vercel Authentication standard_protection or stricter; source not public",
        validate_s6_vercel_protection),
    "s8-vercel-sensitive-variables": (
        "S8: secret Vercel variables are sensitive; nothing secret under NEXT_PUBLIC_*",
        validate_s8_vercel_variables),
    "s9-firewall-rate-limit-api": (
        "S9: the production Vercel firewall rate-limits /api", validate_s9_firewall_rate_limit),
    "w10-vercel-oidc-policy-bounded": (
        "W9/W10: Vercel OIDC federation policies pin repository, environment and ref, and "
        "grant named CLI commands on named projects", validate_w10_vercel_oidc_policy),
}  # fmt: skip
STACK_RULES: dict[str, tuple[str, StackRule, EnforcementLevel]] = {
    "g4-codeowners-shipped": (
        "G4: production ships CODEOWNERS when main requires code-owner review",
        validate_g4_codeowners_file, EnforcementLevel.MANDATORY),
    "s9-firewall-present": (
        "S9: the production Vercel project has a firewall configuration",
        validate_s9_firewall_present, EnforcementLevel.MANDATORY),
    "s1-supabase-access-path": (
        "S1: production Postgres is restricted and SSL-only; direct clients' egress allowed",
        validate_s1_supabase_access_path, EnforcementLevel.MANDATORY),
    "s12-stack-owned-project-names": (
        "S12: Vercel, Supabase and Sentry project names carry the stack's name",
        validate_s12_stack_names, EnforcementLevel.MANDATORY),
    "cost-within-budget": (
        "Cost: the monthly estimate is within monthlyBudgetUsd (advisory)",
        validate_cost_budget, EnforcementLevel.ADVISORY),
    "cost-under-ceiling": (
        "Cost: the monthly estimate is under monthlyCostCeilingUsd (mandatory)",
        validate_cost_ceiling, EnforcementLevel.MANDATORY),
}  # fmt: skip

BYPASS_SCHEMA = PolicyConfigSchema(
    properties={
        "allowedBypassActors": {
            "type": "array",
            "items": {"type": "string"},
            "default": [],
            "description": "Who may bypass the main ruleset, each 'ActorType:actorId:mode' "
            "exactly as in the bypassActors stack config. Empty: nobody.",
        }
    }
)


def policies() -> list[Policy]:
    """Every policy of the pack; all mandatory except the cost budget."""
    result: list[Policy] = [
        ResourceValidationPolicy(
            name=name,
            description=description,
            validate=rule,
            enforcement_level=EnforcementLevel.MANDATORY,
            config_schema=BYPASS_SCHEMA if name == "g4-code-owner-review" else None,
        )
        for name, (description, rule) in RESOURCE_RULES.items()
    ]
    result.extend(
        StackValidationPolicy(
            name=name, description=description, validate=rule, enforcement_level=level
        )
        for name, (description, rule, level) in STACK_RULES.items()
    )
    return result
