"""One Supabase project and its settings, as a Pulumi dynamic provider.

The published `pulumi-supabase` package only creates projects (see ARCHITECTURE.md), so
this provider implements create/read/update/delete/diff over the Management API v1.

The access token is never held by the provider object: dynamic providers are pickled
into the stack state (`__provider`), so the provider reads the token at call time from
the `access_token` input (a secret, stored encrypted with the resource's state so refresh
and delete can use it) or, when that is absent, from $SUPABASE_ACCESS_TOKEN. The API base
URL is read at call time too ($SUPABASE_API_URL, else the public API).
"""

from __future__ import annotations

import ipaddress
import re
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

import pulumi
import pulumi.dynamic
from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN

from .api import JsonObject, RetryPolicy, SupabaseApiError, SupabaseClient
from .facts import API_INSTANCE_SIZES, API_URL, MAX_OTP_EXPIRY_SECONDS, POOL_MODES

PITR_DEFAULT_VARIANT = "pitr_7"
"""The add-on `pitr_required` selects when the project has none: the shortest retention."""

INPUT_KEYS = (
    "name", "organization_slug", "region", "desired_instance_size", "db_pass",
    "pool_mode", "default_pool_size", "ssl_enforced", "allowed_cidrs", "site_url",
    "uri_allow_list", "mailer_autoconfirm", "mailer_otp_exp", "pitr_required",
)  # fmt: skip
"""Inputs compared by diff; `access_token` is an input too, but only a credential."""
OPTIONAL_KEYS = (
    "desired_instance_size", "default_pool_size", "allowed_cidrs", "site_url",
    "uri_allow_list",
)  # fmt: skip
"""Inputs whose None means "not managed": the project keeps whatever it has."""
REPLACE_KEYS = ("organization_slug", "region")
"""A project cannot move between organisations or regions: these replace it.
`name` is not here: PATCH /v1/projects/{ref} renames in place."""
TOKEN_KEY = "access_token"  # noqa: S105 (a property name, not a token)
OUTPUT_KEYS = (
    "ref", "api_url", "status", "db_host", "anon_key", "service_role_key",
    "pooled_connection_string", "direct_connection_string", "pitr_enabled",
    "walg_enabled", "latest_backup_at", "settings",
)  # fmt: skip
SECRET_OUTPUTS = [
    "db_pass", TOKEN_KEY, "service_role_key", "pooled_connection_string",
    "direct_connection_string",
]  # fmt: skip
"""Marked secret on the resource (additional_secret_outputs)."""

HEALTH_SERVICES = ("auth", "db", "pooler", "rest")
"""Services the settings calls need before they can succeed."""
GONE_STATUSES = ("REMOVED", "GOING_DOWN")
FAILED_STATUSES = ("INIT_FAILED", "RESTORE_FAILED", "PAUSE_FAILED", "INACTIVE", *GONE_STATUSES)
_SLUG = re.compile(r"^[\w-]+$")
_REGION = re.compile(r"^[a-z]{2}-[a-z]+-\d{1,2}$")
_URL = re.compile(r"^https?://[^\s,]+$")
_UNKNOWN_MARK = object()


@dataclass(frozen=True)
class Timing:
    """Timeouts and polling of the provider; all in seconds."""

    request_timeout: float = 30.0
    """Timeout of one HTTP call."""
    wait_timeout: float = 1200.0
    """How long create waits for a new project to become healthy."""
    poll_interval: float = 5.0
    """First wait between health polls; doubles up to `max_poll_interval`."""
    max_poll_interval: float = 30.0
    """Longest wait between health polls."""
    create_attempts: int = 3
    """POST /v1/projects attempts when the answer is lost (each preceded by a lookup)."""
    lookup_attempts: int = 3
    """Lookups after a lost create answer, since a new project may show up late."""


@dataclass(frozen=True)
class Problem:
    """One invalid input: the key, the value and what is allowed."""

    key: str
    value: Any
    allowed: str

    def __str__(self) -> str:
        shown = "[secret]" if self.key in SECRET_OUTPUTS else repr(self.value)
        return f"{self.key}={shown}: expected {self.allowed}"


class SupabaseProvisioningError(Exception):
    """A project did not become healthy, or its settings cannot be applied as asked."""


@dataclass(frozen=True)
class Live:
    """Everything read back from the API for one project."""

    project: JsonObject
    settings: dict[str, Any]
    keys: list[JsonObject]
    pooler: JsonObject | None
    backups: JsonObject


# ---------------------------------------------------------------------- validation


def normalise(props: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """Inputs with defaults applied and values canonicalised, plus every problem found.

    Unknown values (a preview before a dependency exists) pass through unchecked.
    """
    out: dict[str, Any] = {
        "pool_mode": "transaction",
        "ssl_enforced": True,
        "mailer_autoconfirm": False,
        "mailer_otp_exp": MAX_OTP_EXPIRY_SECONDS,
        "pitr_required": False,
    }
    out.update({k: v for k, v in props.items() if k in INPUT_KEYS and v is not None})
    for key in OPTIONAL_KEYS:
        out.setdefault(key, None)
    token = props.get(TOKEN_KEY)
    if token is not None:
        out[TOKEN_KEY] = token
    problems: list[Problem] = []

    def check(key: str, ok: Callable[[Any], bool], allowed: str, required: bool = False) -> None:
        value = out.get(key)
        if value is None:
            if required:
                problems.append(Problem(key, None, allowed + " (required)"))
            return
        if not _is_unknown(value) and not ok(value):
            problems.append(Problem(key, value, allowed))

    for key in ("default_pool_size", "mailer_otp_exp"):
        # Numbers cross the engine's wire as floats.
        value = out.get(key)
        if isinstance(value, float) and value.is_integer():
            out[key] = int(value)
    for key in ("allowed_cidrs", "uri_allow_list"):
        value = out.get(key)
        if isinstance(value, (list, tuple)) and not _is_unknown(value):
            out[key] = sorted({str(v).strip() for v in value})

    check("name", lambda v: isinstance(v, str) and 1 <= len(v) <= 256, "1-256 characters", True)
    check(
        "organization_slug",
        lambda v: isinstance(v, str) and bool(_SLUG.fullmatch(v)),
        "an organisation slug (letters, digits, _ and -)",
        True,
    )
    check(
        "region",
        lambda v: isinstance(v, str) and bool(_REGION.fullmatch(v)),
        "a region code such as eu-central-1",
        True,
    )
    check("db_pass", lambda v: isinstance(v, str) and len(v) >= 4, "at least 4 characters", True)
    check(
        "desired_instance_size",
        lambda v: v in API_INSTANCE_SIZES,
        f"one of {API_INSTANCE_SIZES}",
    )
    check("pool_mode", lambda v: v in POOL_MODES, f"one of {POOL_MODES}")
    check("default_pool_size", lambda v: _is_int(v) and 0 <= v <= 3000, "an integer 0-3000")
    check("ssl_enforced", lambda v: isinstance(v, bool), "true or false")
    check("mailer_autoconfirm", lambda v: isinstance(v, bool), "true or false")
    check(
        "mailer_otp_exp",
        lambda v: _is_int(v) and 1 <= v <= MAX_OTP_EXPIRY_SECONDS,
        f"seconds, 1-{MAX_OTP_EXPIRY_SECONDS} (rule S3)",
    )
    check("pitr_required", lambda v: isinstance(v, bool), "true or false")
    check("site_url", lambda v: isinstance(v, str) and bool(_URL.fullmatch(v)), "an http(s) URL")
    check(
        "uri_allow_list",
        lambda v: isinstance(v, list) and all(_URL.fullmatch(u) for u in v),
        "a list of http(s) URLs without commas",
    )
    check("allowed_cidrs", _valid_cidrs, "a list of IPv4/IPv6 networks such as 203.0.113.0/24")
    check(TOKEN_KEY, lambda v: isinstance(v, str) and bool(v.strip()), "a non-empty token")
    return out, problems


def _is_unknown(value: Any) -> bool:
    """True for a value (or a list holding one) that preview does not know yet.

    The dynamic provider host deserialises an unknown as a `pulumi.output.Unknown`
    instance (a new one each time), not as the `rpc.UNKNOWN` wire string; both count.
    """
    if isinstance(value, (list, tuple)):
        return any(_is_unknown(v) for v in value)
    return isinstance(value, Unknown) or (isinstance(value, str) and value == UNKNOWN)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _valid_cidrs(value: Any) -> bool:
    if not isinstance(value, list):
        return False
    try:
        for cidr in value:
            ipaddress.ip_network(cidr, strict=True)
    except (TypeError, ValueError):
        return False
    return True


def _require_valid(props: Mapping[str, Any]) -> dict[str, Any]:
    desired, problems = normalise(props)
    if problems:
        raise ValueError("invalid Supabase project inputs: " + "; ".join(map(str, problems)))
    return desired


def _canon(value: Any) -> Any:
    if _is_unknown(value):
        return _UNKNOWN_MARK
    if isinstance(value, (list, tuple)):
        return tuple(sorted(str(v).strip() for v in value))
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def changed_keys(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    """Inputs whose desired value differs from the recorded (or refreshed) one.

    An optional input set to None is unmanaged, so it never counts as a change.
    """
    desired, _ = normalise(news)
    changed = []
    for key in INPUT_KEYS:
        new = desired.get(key)
        if new is None and key in OPTIONAL_KEYS:
            continue
        if _canon(new) != _canon(olds.get(key)):
            changed.append(key)
    return changed


# ---------------------------------------------------------------------- provider


class SupabaseProjectProvider(pulumi.dynamic.ResourceProvider):
    """CRUD and diff of one Supabase project with its settings.

    Holds no credentials and no client: only timing and, in tests, injected sleep,
    clock and log functions. Everything else is read at call time.
    """

    def __init__(
        self,
        *,
        timing: Timing | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__()
        self.timing = timing or Timing()
        self.retry = retry
        self._sleep = sleep
        self._clock = clock
        self._log = log

    # -------------------------------------------------------------- plumbing

    def _client(self, props: Mapping[str, Any]) -> SupabaseClient:
        token = props.get(TOKEN_KEY)
        return SupabaseClient(
            token if isinstance(token, str) and token else None,
            timeout=self.timing.request_timeout,
            retry=self.retry,
            sleep=self._sleep,
        )

    def _wait(self, seconds: float) -> None:
        (self._sleep or time.sleep)(seconds)

    def _now(self) -> float:
        return (self._clock or time.monotonic)()

    def _info(self, message: str) -> None:
        (self._log or pulumi.log.info)(message)

    # -------------------------------------------------------------- Pulumi API

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        """Apply defaults and validate every input; one failure per bad value."""
        desired, problems = normalise(news)
        inputs = {k: v for k, v in news.items() if k not in desired}
        inputs.update(desired)
        failures = [pulumi.dynamic.CheckFailure(p.key, str(p)) for p in problems]
        return pulumi.dynamic.CheckResult(inputs, failures)

    def diff(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        """Organisation or region changes replace the project; everything else updates.

        Replacement creates the new project before deleting the old one: the lookup that
        makes create idempotent matches name, organisation and region, so it never adopts
        the project being replaced, and the old database survives a failed create.
        """
        changed = changed_keys(olds, news)
        if (news.get(TOKEN_KEY) or None) != (olds.get(TOKEN_KEY) or None):
            # Stored for refresh and delete, so a rotated (or dropped) token must reach
            # the state; the update makes no API change for it.
            changed.append(TOKEN_KEY)
        replaces = [k for k in changed if k in REPLACE_KEYS]
        return pulumi.dynamic.DiffResult(
            changes=bool(changed),
            replaces=replaces,
            stables=["ref", "api_url"] if not replaces else [],
            delete_before_replace=False,
        )

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        """Create (or adopt) the project, wait until it is healthy, apply its settings."""
        desired = _require_valid(props)
        client = self._client(props)
        project, preexisting = self._find_or_create(client, desired)
        ref = str(project["ref"])
        self._wait_until_healthy(client, ref, desired["name"])
        keys = {"pool_mode", "ssl_enforced", "allowed_cidrs", "site_url", "uri_allow_list"}
        keys |= {"mailer_autoconfirm", "mailer_otp_exp", "pitr_required"}
        if preexisting:
            # Same name, organisation and region: a project an earlier, interrupted run
            # made (or one made by hand). Align the password so the outputs work.
            self._info(f"supabase: adopting existing project {desired['name']} ({ref})")
            keys |= {"db_pass", "desired_instance_size"}
        self._apply(client, ref, desired, keys)
        return pulumi.dynamic.CreateResult(ref, self._outputs(client, ref, desired))

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        """Read the project and its settings back; inputs are reported as live values.

        Inputs recorded as None (unmanaged) stay None; `db_pass` and the token cannot be
        read back and keep their recorded values. A deleted project reads as gone.
        """
        client = self._client(props)
        project = client.get_project(id_)
        if project is None or project.get("status") in GONE_STATUSES:
            return pulumi.dynamic.ReadResult(None, {})
        live = self._read_live(client, id_, project)
        outs: dict[str, Any] = {}
        for key in INPUT_KEYS:
            if key in props and props[key] is None:
                outs[key] = None
            elif key == "db_pass":
                outs[key] = props.get(key)
            elif key == "pitr_required" and props.get(key) is False:
                outs[key] = False  # Not required: PITR being on is no drift.
            else:
                outs[key] = self._live_input(key, live)
        if props.get(TOKEN_KEY):
            outs[TOKEN_KEY] = props[TOKEN_KEY]
        outs.update(self._computed(id_, live, props.get("db_pass")))
        return pulumi.dynamic.ReadResult(id_, outs)

    def update(
        self, id_: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        """Apply only the settings whose inputs changed, then read everything back."""
        desired = _require_valid(news)
        changed = set(changed_keys(olds, news))
        moved = changed & set(REPLACE_KEYS)
        if moved:
            raise SupabaseProvisioningError(
                f"{sorted(moved)} cannot change in place; the engine should replace the project"
            )
        client = self._client(news)
        self._apply(client, id_, desired, changed)
        return pulumi.dynamic.UpdateResult(self._outputs(client, id_, desired))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Delete the project; one that is already gone counts as deleted."""
        client = self._client(props)
        if client.delete_project(id_):
            self._info(f"supabase: deleted project {props.get('name', '')} ({id_})")

    # -------------------------------------------------------------- create helpers

    def _lookup(self, client: SupabaseClient, desired: Mapping[str, Any]) -> JsonObject | None:
        """The live project with this name, organisation and region, if there is one."""
        name, region = desired["name"], desired["region"]
        found = [
            p
            for p in client.list_organization_projects(desired["organization_slug"], search=name)
            if p.get("name") == name
            and p.get("region") == region
            and p.get("status") not in GONE_STATUSES
            and not p.get("is_branch", False)
        ]
        if len(found) > 1:
            refs = ", ".join(sorted(str(p.get("ref")) for p in found))
            raise SupabaseProvisioningError(
                f"several Supabase projects are named {name!r} in {region}: {refs}; "
                "rename all but one, or adopt one with the import option"
            )
        if not found:
            return None
        project = client.get_project(str(found[0]["ref"]))
        return project

    def _find_or_create(
        self, client: SupabaseClient, desired: Mapping[str, Any]
    ) -> tuple[JsonObject, bool]:
        """(project, True if it existed before this call)."""
        existing = self._lookup(client, desired)
        if existing is not None:
            return existing, True
        body: JsonObject = {
            "name": desired["name"],
            "organization_slug": desired["organization_slug"],
            "db_pass": desired["db_pass"],
            "region_selection": {"type": "specific", "code": desired["region"]},
        }
        if desired.get("desired_instance_size"):
            body["desired_instance_size"] = desired["desired_instance_size"]
        failure: SupabaseApiError | None = None
        for attempt in range(1, max(1, self.timing.create_attempts) + 1):
            try:
                created = client.create_project(body)
                self._info(f"supabase: created project {desired['name']} ({created['ref']})")
                return created, False
            except SupabaseApiError as err:
                if not err.outcome_unknown:
                    raise
                failure = err
            # The POST may have created the project although its answer was lost.
            self._info(f"supabase: create of {desired['name']} answered no result; looking it up")
            for lookup in range(1, max(1, self.timing.lookup_attempts) + 1):
                found = self._lookup(client, desired)
                if found is not None:
                    self._info(f"supabase: found {desired['name']} ({found['ref']}) after retry")
                    return found, False
                self._wait(self._backoff(lookup + attempt - 1))
        assert failure is not None
        raise failure

    def _backoff(self, step: int) -> float:
        interval = self.timing.poll_interval * 2 ** (step - 1)
        return float(min(self.timing.max_poll_interval, interval))

    def _wait_until_healthy(self, client: SupabaseClient, ref: str, name: str) -> None:
        """Poll status, then service health, until healthy or the deadline passes."""
        start = self._now()
        deadline = start + self.timing.wait_timeout
        step = 1
        while True:
            project = client.get_project(ref)
            if project is None:
                raise SupabaseProvisioningError(
                    f"project {name} ({ref}) disappeared while starting"
                )
            status = str(project.get("status"))
            if status in FAILED_STATUSES:
                raise SupabaseProvisioningError(f"project {name} ({ref}) is {status}")
            state = status
            if status == "ACTIVE_HEALTHY":
                health = client.get_services_health(ref, HEALTH_SERVICES)
                waiting = sorted(
                    str(s.get("name")) for s in health if s.get("status") != "ACTIVE_HEALTHY"
                )
                if not waiting:
                    return
                state = "services starting: " + ", ".join(waiting)
            now = self._now()
            if now >= deadline:
                raise SupabaseProvisioningError(
                    f"project {name} ({ref}) not healthy after {self.timing.wait_timeout:.0f}s "
                    f"({state}); it exists, and the next run adopts it instead of creating another"
                )
            self._info(f"supabase: waiting for {name} ({ref}): {state}, {now - start:.0f}s")
            self._wait(min(self._backoff(step), max(0.0, deadline - now)))
            step += 1

    # -------------------------------------------------------------- settings

    def _apply(
        self, client: SupabaseClient, ref: str, desired: Mapping[str, Any], keys: set[str]
    ) -> None:
        """Send the settings named in `keys` (unmanaged ones are skipped)."""
        if "name" in keys:
            client.update_project_name(ref, desired["name"])
        if "db_pass" in keys:
            client.update_database_password(ref, desired["db_pass"])
        size = desired.get("desired_instance_size")
        if "desired_instance_size" in keys and size is not None:
            self._apply_size(client, ref, size)
        pooler: JsonObject = {}
        if keys & {"pool_mode", "default_pool_size"}:
            pooler["pool_mode"] = desired["pool_mode"]
            if desired.get("default_pool_size") is not None:
                pooler["default_pool_size"] = desired["default_pool_size"]
            client.update_pooler_config(ref, pooler)
        if "ssl_enforced" in keys:
            client.update_ssl_enforcement(ref, bool(desired["ssl_enforced"]))
        cidrs = desired.get("allowed_cidrs")
        if "allowed_cidrs" in keys and cidrs is not None:
            networks = [ipaddress.ip_network(c) for c in cidrs]
            client.apply_network_restrictions(
                ref,
                [str(n) for n in networks if n.version == 4],
                [str(n) for n in networks if n.version == 6],
            )
        auth: JsonObject = {}
        if "site_url" in keys and desired.get("site_url") is not None:
            auth["site_url"] = desired["site_url"]
        if "uri_allow_list" in keys and desired.get("uri_allow_list") is not None:
            auth["uri_allow_list"] = ",".join(desired["uri_allow_list"])
        for key in ("mailer_autoconfirm", "mailer_otp_exp"):
            if key in keys:
                auth[key] = desired[key]
        if auth:
            client.update_auth_config(ref, auth)
        if (
            "pitr_required" in keys
            and desired.get("pitr_required")
            and _selected_addon(client.list_addons(ref), "pitr") is None
        ):
            client.apply_addon(ref, "pitr", PITR_DEFAULT_VARIANT)

    def _apply_size(self, client: SupabaseClient, ref: str, size: str) -> None:
        current = _selected_addon(client.list_addons(ref), "compute_instance")
        if current == f"ci_{size}":
            return
        if size == "nano":
            raise SupabaseProvisioningError(
                f"project {ref}: nano is the free plan's size and no compute add-on; "
                "the API cannot resize a project down to it"
            )
        client.apply_addon(ref, "compute_instance", f"ci_{size}")

    # -------------------------------------------------------------- reading back

    def _read_live(self, client: SupabaseClient, ref: str, project: JsonObject) -> Live:
        pooler = next(
            (c for c in client.get_pooler_config(ref) if c.get("database_type") == "PRIMARY"),
            None,
        )
        ssl = client.get_ssl_enforcement(ref)
        network = client.get_network_restrictions(ref).get("config") or {}
        auth = client.get_auth_config(ref)
        addons = client.list_addons(ref)
        uri_list = str(auth.get("uri_allow_list") or "")
        settings: dict[str, Any] = {
            "pool_mode": pooler.get("pool_mode") if pooler else None,
            "default_pool_size": pooler.get("default_pool_size") if pooler else None,
            "ssl_enforced": bool((ssl.get("currentConfig") or {}).get("database")),
            "allowed_cidrs": sorted(
                [*network.get("dbAllowedCidrs", []), *network.get("dbAllowedCidrsV6", [])]
            ),
            "site_url": auth.get("site_url"),
            "uri_allow_list": sorted(u.strip() for u in uri_list.split(",") if u.strip()),
            "mailer_autoconfirm": auth.get("mailer_autoconfirm"),
            "mailer_otp_exp": auth.get("mailer_otp_exp"),
            "instance_size": self._instance_size(client, project, addons),
            "pitr_addon": _selected_addon(addons, "pitr"),
        }
        return Live(
            project=project,
            settings=settings,
            keys=client.get_api_keys(ref),
            pooler=pooler,
            backups=client.get_backups(ref),
        )

    @staticmethod
    def _instance_size(client: SupabaseClient, project: JsonObject, addons: JsonObject) -> Any:
        """Compute size: the organisation listing knows it even without a compute add-on."""
        slug, name = project.get("organization_slug"), project.get("name")
        if isinstance(slug, str) and isinstance(name, str):
            for entry in client.list_organization_projects(slug, search=name):
                if entry.get("ref") != project.get("ref"):
                    continue
                for database in entry.get("databases") or []:
                    if database.get("type") == "PRIMARY" and database.get("infra_compute_size"):
                        return database["infra_compute_size"]
        variant = _selected_addon(addons, "compute_instance")
        return variant[3:] if variant and variant.startswith("ci_") else None

    @staticmethod
    def _live_input(key: str, live: Live) -> Any:
        if key in ("name", "organization_slug", "region"):
            return live.project.get(key)
        if key == "desired_instance_size":
            return live.settings["instance_size"]
        if key == "pitr_required":
            return live.settings["pitr_addon"] is not None
        return live.settings.get(key)

    def _outputs(
        self, client: SupabaseClient, ref: str, desired: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Outputs after create/update: the desired inputs plus everything read back.

        Inputs are recorded as asked (not as read) so an API that normalises a value
        cannot cause a diff on every run; `settings` holds what the API reports.
        """
        project = client.get_project(ref)
        if project is None:
            raise SupabaseProvisioningError(f"project {ref} disappeared")
        live = self._read_live(client, ref, project)
        outs = {k: desired.get(k) for k in INPUT_KEYS}
        if desired.get(TOKEN_KEY):
            outs[TOKEN_KEY] = desired[TOKEN_KEY]
        outs.update(self._computed(ref, live, desired.get("db_pass")))
        return outs

    @staticmethod
    def _computed(ref: str, live: Live, password: Any) -> dict[str, Any]:
        keys = {
            str(k.get("name")): k.get("api_key") for k in live.keys if k.get("type") == "legacy"
        }
        by_type = {str(k.get("type")): k.get("api_key") for k in live.keys}
        database = live.project.get("database") or {}
        host = database.get("host")
        pooled = direct = None
        if isinstance(password, str) and password:
            secret = urllib.parse.quote(password, safe="")
            if live.pooler:
                p = live.pooler
                user = urllib.parse.quote(str(p.get("db_user")), safe="")
                pooled = (
                    f"postgresql://{user}:{secret}@{p.get('db_host')}:{p.get('db_port')}"
                    f"/{p.get('db_name')}?sslmode=require"
                )
            if host:
                direct = f"postgresql://postgres:{secret}@{host}:5432/postgres?sslmode=require"
        return {
            "ref": ref,
            "api_url": API_URL.format(ref=ref),
            "status": live.project.get("status"),
            "db_host": host,
            "anon_key": keys.get("anon") or by_type.get("publishable"),
            "service_role_key": keys.get("service_role") or by_type.get("secret"),
            "pooled_connection_string": pooled,
            "direct_connection_string": direct,
            "pitr_enabled": bool(live.backups.get("pitr_enabled")),
            "walg_enabled": bool(live.backups.get("walg_enabled")),
            "latest_backup_at": _latest_backup(live.backups),
            "settings": dict(live.settings),
        }


def _selected_addon(addons: JsonObject, addon_type: str) -> str | None:
    for addon in addons.get("selected_addons") or []:
        if isinstance(addon, dict) and addon.get("type") == addon_type:
            variant = (addon.get("variant") or {}).get("id")
            return str(variant) if variant else None
    return None


def _latest_backup(backups: JsonObject) -> str | None:
    """ISO time of the newest completed backup or PITR point, None if there is none."""
    times: list[datetime] = []
    for backup in backups.get("backups") or []:
        if isinstance(backup, dict) and backup.get("status") == "COMPLETED":
            try:
                times.append(datetime.fromisoformat(str(backup.get("inserted_at"))))
            except ValueError:
                continue
    physical = (backups.get("physical_backup_data") or {}).get("latest_physical_backup_date_unix")
    if isinstance(physical, (int, float)):
        times.append(datetime.fromtimestamp(physical, UTC))
    aware = [t if t.tzinfo else t.replace(tzinfo=UTC) for t in times]
    return max(aware).isoformat() if aware else None


# ---------------------------------------------------------------------- resource


@dataclass(frozen=True)
class SupabaseProjectArgs:
    """Inputs of a `SupabaseProject`, in the Management API's own words."""

    name: pulumi.Input[str]
    """Project name (1-256 characters). With organisation and region it identifies the
    project when a create is retried. Renaming updates in place."""
    organization_slug: pulumi.Input[str]
    """Slug of the owning organisation. Changing it replaces the project."""
    region: pulumi.Input[str]
    """Region code, e.g. eu-central-1. Changing it replaces the project."""
    db_pass: pulumi.Input[str]
    """Password of the `postgres` user; a secret (generate it with pulumi-random).
    Changing it updates the password in place."""
    desired_instance_size: pulumi.Input[str] | None = None
    """Compute size (micro, small, ...). None: the smallest size, and not managed after."""
    pool_mode: pulumi.Input[str] = "transaction"
    """Supavisor pool mode, transaction or session."""
    default_pool_size: pulumi.Input[int] | None = None
    """Server connections per user and database; None keeps Supabase's default."""
    ssl_enforced: pulumi.Input[bool] = True
    """Refuse non-SSL database connections (rule S1)."""
    allowed_cidrs: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None
    """Exactly the IPv4/IPv6 networks allowed to reach Postgres and the pooler; anything
    else is refused, so [] blocks all. None leaves the restrictions unmanaged."""
    site_url: pulumi.Input[str] | None = None
    """Auth site URL (the default redirect). None leaves it unmanaged."""
    uri_allow_list: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None
    """Additional redirect URLs auth accepts. None leaves them unmanaged."""
    mailer_autoconfirm: pulumi.Input[bool] = False
    """False means users confirm their e-mail address before signing in (rule S3)."""
    mailer_otp_exp: pulumi.Input[int] = MAX_OTP_EXPIRY_SECONDS
    """Lifetime of e-mail OTPs and links, in seconds, at most 3600 (rule S3)."""
    pitr_required: pulumi.Input[bool] = False
    """Require point-in-time recovery: selects the pitr_7 add-on if none is (needs compute
    size small or larger); refresh reports drift if it goes away. False: not managed."""
    access_token: pulumi.Input[str] | None = None
    """Management API token, stored as a secret with the resource so refresh and delete
    can use it. None: $SUPABASE_ACCESS_TOKEN is read at each call."""


class SupabaseProject(pulumi.dynamic.Resource, module="supabase", name="Project"):
    """A Supabase project and its settings (pooler, SSL, network, auth, PITR).

    Deleting it deletes the project and its data: production should set `protect=True`
    or `retain_on_delete=True` in `opts`.
    """

    ref: pulumi.Output[str]
    """Project ref, also the resource id."""
    api_url: pulumi.Output[str]
    """https://<ref>.supabase.co"""
    status: pulumi.Output[str]
    """Project status as last read, e.g. ACTIVE_HEALTHY."""
    db_host: pulumi.Output[str]
    """Host of direct database connections."""
    anon_key: pulumi.Output[str]
    """Public (anon) API key; safe in the browser, protected by row-level security."""
    service_role_key: pulumi.Output[str]
    """Service-role API key, bypasses row-level security; secret."""
    pooled_connection_string: pulumi.Output[str]
    """postgresql:// URL through Supavisor, password included; secret."""
    direct_connection_string: pulumi.Output[str]
    """postgresql:// URL to the database host, password included; secret."""
    pitr_enabled: pulumi.Output[bool]
    """Whether point-in-time recovery is on (from the backups endpoint)."""
    walg_enabled: pulumi.Output[bool]
    """Whether WAL-G (daily physical) backups are on."""
    latest_backup_at: pulumi.Output[str | None]
    """ISO time of the newest completed backup or recovery point."""
    settings: pulumi.Output[dict[str, Any]]
    """The settings as the API reports them after the last create, update or refresh."""

    def __init__(
        self,
        resource_name: str,
        args: SupabaseProjectArgs,
        opts: pulumi.ResourceOptions | None = None,
        provider: SupabaseProjectProvider | None = None,
    ) -> None:
        props: dict[str, Any] = {f.name: getattr(args, f.name) for f in fields(args)}
        props["db_pass"] = pulumi.Output.secret(args.db_pass)
        if args.access_token is not None:
            props[TOKEN_KEY] = pulumi.Output.secret(args.access_token)
        props.update({key: None for key in OUTPUT_KEYS})
        secrets = pulumi.ResourceOptions(additional_secret_outputs=list(SECRET_OUTPUTS))
        super().__init__(
            provider or SupabaseProjectProvider(),
            resource_name,
            props,
            pulumi.ResourceOptions.merge(opts, secrets),
        )
