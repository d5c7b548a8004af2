"""A project's settings as resources of their own: pooler, SSL enforcement, network
restrictions and auth (with SMTP and rate limits), each with atomic state.

Every one of them follows the same contract (`SettingsProvider`): create sends the
desired values (an idempotent PUT/PATCH/apply, harmless when they are live already, which
is what adopting a project's existing settings needs), update sends only the group that
changed, and each records a value only once the API accepted it, so a failure in one
group leaves every other group's state true (rule R3). Read reports live values;
deleting forgets (the project keeps its settings).
"""

from __future__ import annotations

import abc
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pulumi
import pulumi.dynamic

from .api import JsonObject, SupabaseClient
from .dynamic import (
    AttachedProvider,
    Checker,
    Problem,
    SupabaseProvisioningError,
    SupabaseResource,
    as_int,
    attached_id,
    canon,
    is_int,
    is_unknown,
    require_valid,
    valid_cidrs,
)
from .facts import (
    AUTH_CONFIG,
    MAX_OTP_EXPIRY_SECONDS,
    MAX_RATE_LIMIT,
    NETWORK_RESTRICTIONS,
    POOL_MODES,
    POOLER,
    SMTP_ONLY_RATE_LIMIT,
    SSL_ENFORCEMENT,
    TOKEN_KEY,
    inside,
)


class SettingsProvider(AttachedProvider):
    """One group of a project's settings, as described by the class attributes."""

    managed: ClassVar[tuple[str, ...]] = ()
    """Inputs sent to the API and compared by diff; None means "not managed"."""
    kept: ClassVar[tuple[str, ...]] = ()
    """Inputs recorded as given and never read back (write-only or declarative)."""
    defaults: ClassVar[dict[str, Any]] = {}

    # -------------------------------------------------------------- per group

    @abc.abstractmethod
    def _validate(self, desired: dict[str, Any], check: Checker) -> None:
        """Check the group's own inputs (project_ref and the token are checked already)."""

    @abc.abstractmethod
    def _send(
        self, client: SupabaseClient, ref: str, desired: Mapping[str, Any], changed: set[str]
    ) -> None:
        """Send the managed values named in `changed` (None ones are not managed)."""

    @abc.abstractmethod
    def _live(self, client: SupabaseClient, ref: str) -> dict[str, Any]:
        """The managed values as the API holds them, plus any computed outputs."""

    def _computed(self, client: SupabaseClient, ref: str) -> dict[str, Any]:
        """Outputs besides the inputs, recorded after create and update."""
        return {}

    # -------------------------------------------------------------- engine calls

    def _normalise(self, props: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
        desired: dict[str, Any] = dict(self.defaults)
        keys = ("project_ref", *self.managed, *self.kept, TOKEN_KEY)
        desired.update({k: as_int(v) for k, v in props.items() if k in keys and v is not None})
        for key in (*self.managed, *self.kept):
            desired.setdefault(key, None)
        check = Checker(desired)
        check("project_ref", lambda v: isinstance(v, str) and bool(v), "a project ref", True)
        check.token()
        self._validate(desired, check)
        return desired, check.problems

    def _valid(self, props: Mapping[str, Any]) -> dict[str, Any]:
        desired, problems = self._normalise(props)
        require_valid(self.kind, problems)
        return desired

    def _changed(self, olds: Mapping[str, Any], desired: Mapping[str, Any]) -> list[str]:
        return [
            key
            for key in self.managed
            if desired.get(key) is not None and canon(desired[key]) != canon(olds.get(key))
        ]

    def diff(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        desired, _ = self._normalise(news)
        return self._attached_diff(olds, news, self._changed(olds, desired))

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        desired = self._valid(props)
        ref = desired["project_ref"]
        client = self._client(props)
        self._usable(client, ref)
        self._send(client, ref, desired, set(self.managed))
        return pulumi.dynamic.CreateResult(
            attached_id(ref, self.kind), self._record(client, ref, desired)
        )

    def update(
        self, id_: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        desired = self._valid(news)
        ref = desired["project_ref"]
        client = self._client(news)
        changed = set(self._changed(olds, desired))
        if changed:
            self._usable(client, ref)
            self._send(client, ref, desired, changed)
        return pulumi.dynamic.UpdateResult(self._record(client, ref, desired))

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        opened = self._open(props, id_)
        if opened is None:
            return pulumi.dynamic.ReadResult(None, {})
        client, ref = opened
        live = self._live(client, ref)
        outs = {**props, **live, "project_ref": ref}
        for key in self.managed:
            if key in props and props[key] is None:
                outs[key] = None  # not managed: drift there is no drift
        return pulumi.dynamic.ReadResult(id_, outs)

    def _record(
        self, client: SupabaseClient, ref: str, desired: Mapping[str, Any]
    ) -> dict[str, Any]:
        """What the state holds after the API accepted `desired`: the values as asked (an
        API that normalises one must not cause a diff on every run) and computed ones."""
        return {**desired, **self._computed(client, ref)}


# ---------------------------------------------------------------------- pooler


class PoolerProvider(SettingsProvider):
    """Supavisor: pool mode and size; records where pooled connections go."""

    kind = "pooler"
    managed = ("pool_mode", "default_pool_size")
    defaults: ClassVar[dict[str, Any]] = {"pool_mode": "transaction"}

    def _validate(self, desired: dict[str, Any], check: Checker) -> None:
        check("pool_mode", lambda v: v in POOL_MODES, f"one of {POOL_MODES}")
        check("default_pool_size", lambda v: is_int(v) and 0 <= v <= 3000, "an integer 0-3000")

    def _send(
        self, client: SupabaseClient, ref: str, desired: Mapping[str, Any], changed: set[str]
    ) -> None:
        body = {k: desired[k] for k in self.managed if desired.get(k) is not None}
        client.update_pooler_config(ref, body)

    def _primary(self, client: SupabaseClient, ref: str) -> JsonObject:
        for config in client.get_pooler_config(ref):
            if config.get("database_type") == "PRIMARY":
                return config
        raise SupabaseProvisioningError(
            f"the pooler of Supabase project {ref} lists no PRIMARY database, so pooled "
            "connections have nowhere to go; check the project in the dashboard"
        )

    def _live(self, client: SupabaseClient, ref: str) -> dict[str, Any]:
        primary = self._primary(client, ref)
        return {
            "pool_mode": primary.get("pool_mode"),
            "default_pool_size": primary.get("default_pool_size"),
            **_connection(primary),
        }

    def _computed(self, client: SupabaseClient, ref: str) -> dict[str, Any]:
        return _connection(self._primary(client, ref))


def _connection(primary: JsonObject) -> dict[str, Any]:
    return {
        "db_host": primary.get("db_host"),
        "db_port": primary.get("db_port"),
        "db_user": primary.get("db_user"),
        "db_name": primary.get("db_name"),
    }


# ---------------------------------------------------------------------- SSL


class SslEnforcementProvider(SettingsProvider):
    """Whether direct database connections must use SSL (rule S1)."""

    kind = "ssl-enforcement"
    managed = ("enforced",)
    defaults: ClassVar[dict[str, Any]] = {"enforced": True}

    def _validate(self, desired: dict[str, Any], check: Checker) -> None:
        check("enforced", lambda v: isinstance(v, bool), "true or false")

    def _send(
        self, client: SupabaseClient, ref: str, desired: Mapping[str, Any], changed: set[str]
    ) -> None:
        client.update_ssl_enforcement(ref, bool(desired["enforced"]))

    def _live(self, client: SupabaseClient, ref: str) -> dict[str, Any]:
        current = client.get_ssl_enforcement(ref).get("currentConfig") or {}
        return {"enforced": bool(current.get("database"))}


# ---------------------------------------------------------------------- networks


class NetworkRestrictionsProvider(SettingsProvider):
    """Exactly the networks allowed to reach Postgres and the pooler directly (rule S1).

    `app_egress_cidrs` and `ci_egress_cidrs` are declarations, never sent: the egress of
    the direct clients this stack hands a connection string to (the app's functions, CI
    runners). Check refuses one that the allowed networks do not contain, so a preview
    never hands out a connection string that cannot connect; the policy pack reads them.
    """

    kind = "network-restrictions"
    managed = ("allowed_cidrs",)
    kept = ("app_egress_cidrs", "ci_egress_cidrs")
    defaults: ClassVar[dict[str, Any]] = {"app_egress_cidrs": [], "ci_egress_cidrs": []}

    def _validate(self, desired: dict[str, Any], check: Checker) -> None:
        for key in ("allowed_cidrs", *self.kept):
            value = desired.get(key)
            if isinstance(value, (list, tuple)) and not is_unknown(value):
                desired[key] = sorted({str(v).strip() for v in value})
        allowed = "a list of IPv4/IPv6 networks such as 203.0.113.0/24"
        check("allowed_cidrs", valid_cidrs, allowed, True)
        for key in self.kept:
            check(key, valid_cidrs, allowed)
        cidrs = desired.get("allowed_cidrs")
        if not isinstance(cidrs, list) or not valid_cidrs(cidrs) or is_unknown(cidrs):
            return
        for key in self.kept:
            check(
                key,
                lambda v: not valid_cidrs(v) or all(inside(c, cidrs) for c in v),
                "networks inside allowed_cidrs: a direct client whose egress is not "
                "allowed cannot connect (rule S1)",
            )

    def _send(
        self, client: SupabaseClient, ref: str, desired: Mapping[str, Any], changed: set[str]
    ) -> None:
        networks = [ipaddress.ip_network(c) for c in desired["allowed_cidrs"]]
        client.apply_network_restrictions(
            ref,
            [str(n) for n in networks if n.version == 4],
            [str(n) for n in networks if n.version == 6],
        )

    def _live(self, client: SupabaseClient, ref: str) -> dict[str, Any]:
        config = client.get_network_restrictions(ref).get("config") or {}
        cidrs = [*config.get("dbAllowedCidrs", []), *config.get("dbAllowedCidrsV6", [])]
        return {"allowed_cidrs": sorted(cidrs)}


# ---------------------------------------------------------------------- auth

SMTP_KEYS = (
    "smtp_host", "smtp_port", "smtp_user", "smtp_pass", "smtp_sender_name", "smtp_admin_email",
)  # fmt: skip
RATE_LIMIT_KEYS = (
    "rate_limit_email_sent", "rate_limit_verify", "rate_limit_token_refresh", "rate_limit_otp",
    "rate_limit_anonymous_users",
)  # fmt: skip
_WRITE_ONLY = ("smtp_pass",)


class AuthConfigProvider(SettingsProvider):
    """Auth (GoTrue): redirects, e-mail confirmation, OTP lifetime, SMTP and rate limits.

    SMTP settings travel together (a change to one sends them all); the SMTP password is
    write-only, so it is recorded as sent (a secret) and never read back.
    """

    kind = "auth"
    managed = (
        "site_url", "uri_allow_list", "mailer_autoconfirm", "mailer_otp_exp",
        *[k for k in SMTP_KEYS if k not in _WRITE_ONLY], *RATE_LIMIT_KEYS,
    )  # fmt: skip
    kept = _WRITE_ONLY
    defaults: ClassVar[dict[str, Any]] = {
        "mailer_autoconfirm": False,
        "mailer_otp_exp": MAX_OTP_EXPIRY_SECONDS,
    }

    def _validate(self, desired: dict[str, Any], check: Checker) -> None:
        uris = desired.get("uri_allow_list")
        if isinstance(uris, (list, tuple)) and not is_unknown(uris):
            desired["uri_allow_list"] = sorted({str(u).strip() for u in uris})
        url = "an http(s) URL without commas"
        check("site_url", lambda v: _is_url(v), url)
        check("uri_allow_list", lambda v: isinstance(v, list) and all(map(_is_url, v)), url)
        check("mailer_autoconfirm", lambda v: isinstance(v, bool), "true or false")
        check(
            "mailer_otp_exp",
            lambda v: is_int(v) and 1 <= v <= MAX_OTP_EXPIRY_SECONDS,
            f"seconds, 1-{MAX_OTP_EXPIRY_SECONDS} (rule S3)",
        )
        check("smtp_port", lambda v: is_int(v) and 1 <= v <= 65535, "a port 1-65535")
        for key in ("smtp_host", "smtp_user", "smtp_pass", "smtp_sender_name"):
            check(key, lambda v: isinstance(v, str) and bool(v.strip()), "a non-empty string")
        check(
            "smtp_admin_email",
            lambda v: isinstance(v, str) and "@" in v and "," not in v,
            "an e-mail address",
        )
        for key in RATE_LIMIT_KEYS:
            check(key, lambda v: is_int(v) and 1 <= v <= MAX_RATE_LIMIT, f"1-{MAX_RATE_LIMIT}")
        if desired.get("smtp_host") is not None:
            for key in ("smtp_port", "smtp_user", "smtp_pass", "smtp_admin_email"):
                check(key, lambda v: True, "a value with smtp_host (custom SMTP)", True)
        elif desired.get(SMTP_ONLY_RATE_LIMIT) is not None:
            check(
                SMTP_ONLY_RATE_LIMIT,
                lambda v: False,
                "no value without smtp_host: Supabase fixes the built-in mailer's limit",
            )

    def _send(
        self, client: SupabaseClient, ref: str, desired: Mapping[str, Any], changed: set[str]
    ) -> None:
        if changed & set(SMTP_KEYS):
            changed = changed | set(SMTP_KEYS)
        body: JsonObject = {}
        for key in (*self.managed, *self.kept):
            value = desired.get(key)
            if key not in changed or value is None:
                continue
            if key == "uri_allow_list":
                value = ",".join(value)
            elif key == "smtp_port":
                value = str(value)
            body[key] = value
        if body:
            client.update_auth_config(ref, body)

    def _live(self, client: SupabaseClient, ref: str) -> dict[str, Any]:
        auth = client.get_auth_config(ref)
        live = {key: auth.get(key) for key in self.managed}
        uris = str(auth.get("uri_allow_list") or "")
        live["uri_allow_list"] = sorted(u.strip() for u in uris.split(",") if u.strip())
        port = auth.get("smtp_port")
        live["smtp_port"] = int(port) if isinstance(port, str) and port.isdigit() else port
        return live


def _is_url(value: Any) -> bool:
    return (
        isinstance(value, str)
        and value.startswith(("https://", "http://"))
        and "," not in value
        and not any(c.isspace() for c in value)
    )


# ---------------------------------------------------------------------- resources


@dataclass(frozen=True)
class PoolerArgs:
    """Inputs of `Pooler`."""

    project_ref: pulumi.Input[str]
    """Ref of the project; a new ref replaces the resource."""
    pool_mode: pulumi.Input[str] = "transaction"
    """Supavisor pool mode: transaction (serverless functions) or session."""
    default_pool_size: pulumi.Input[int] | None = None
    """Server connections per user and database; None keeps Supabase's default."""
    access_token: pulumi.Input[str] | None = None
    """Management API token (a secret); None reads $SUPABASE_ACCESS_TOKEN at each call."""


class Pooler(SupabaseResource[PoolerArgs], name=POOLER):
    """The project's connection pooler; its outputs locate pooled connections."""

    pool_mode: pulumi.Output[str]
    """Pool mode as the API accepted (or, after a refresh, reports) it."""
    default_pool_size: pulumi.Output[int | None]
    """Pool size likewise; None: not managed."""
    db_host: pulumi.Output[str]
    """Pooler host, e.g. aws-0-us-east-1.pooler.supabase.com."""
    db_port: pulumi.Output[int]
    """Pooler port (6543: transaction mode)."""
    db_user: pulumi.Output[str]
    """User of pooled connections, `postgres.<ref>`."""
    db_name: pulumi.Output[str]
    """Database name, `postgres`."""

    _provider_class = PoolerProvider
    _outputs = ("db_host", "db_port", "db_user", "db_name")


@dataclass(frozen=True)
class SslEnforcementArgs:
    """Inputs of `SslEnforcement`."""

    project_ref: pulumi.Input[str]
    """Ref of the project; a new ref replaces the resource."""
    enforced: pulumi.Input[bool] = True
    """Refuse database connections without SSL (rule S1)."""
    access_token: pulumi.Input[str] | None = None
    """Management API token (a secret); None reads $SUPABASE_ACCESS_TOKEN at each call."""


class SslEnforcement(SupabaseResource[SslEnforcementArgs], name=SSL_ENFORCEMENT):
    """Whether the project's database refuses connections without SSL."""

    _provider_class = SslEnforcementProvider


@dataclass(frozen=True)
class NetworkRestrictionsArgs:
    """Inputs of `NetworkRestrictions`."""

    project_ref: pulumi.Input[str]
    """Ref of the project; a new ref replaces the resource."""
    allowed_cidrs: Sequence[str]
    """Exactly the IPv4/IPv6 networks allowed to reach Postgres and the pooler directly;
    anything else is refused ([] blocks every direct connection)."""
    app_egress_cidrs: Sequence[str] = ()
    """Egress of the app's functions when they connect directly (e.g. Vercel Secure
    Compute); each must lie inside `allowed_cidrs`. Empty: the app gets no direct URL."""
    ci_egress_cidrs: Sequence[str] = ()
    """Egress of the CI runners that run migrations; each inside `allowed_cidrs`. Empty:
    CI gets no direct URL."""
    access_token: pulumi.Input[str] | None = None
    """Management API token (a secret); None reads $SUPABASE_ACCESS_TOKEN at each call."""


class NetworkRestrictions(SupabaseResource[NetworkRestrictionsArgs], name=NETWORK_RESTRICTIONS):
    """The networks allowed to connect to the project's database directly."""

    _provider_class = NetworkRestrictionsProvider


@dataclass(frozen=True)
class AuthConfigArgs:
    """Inputs of `AuthConfig`, in the API's words. None: not managed (left as it is)."""

    project_ref: pulumi.Input[str]
    """Ref of the project; a new ref replaces the resource."""
    site_url: pulumi.Input[str] | None = None
    """Auth's default redirect, the app's URL."""
    uri_allow_list: Sequence[str] | None = None
    """Further URLs auth may redirect to."""
    mailer_autoconfirm: bool = False
    """False: users confirm their e-mail address before signing in (rule S3)."""
    mailer_otp_exp: int = MAX_OTP_EXPIRY_SECONDS
    """Lifetime of e-mail OTPs and links in seconds, at most 3600 (rule S3)."""
    smtp_host: str | None = None
    """Custom SMTP server; None keeps Supabase's built-in mailer (a few mails an hour, to
    organisation members only, rule S13). With it, port, user, password and admin e-mail
    are required."""
    smtp_port: int | None = None
    """SMTP port, e.g. 587."""
    smtp_user: str | None = None
    """SMTP user name."""
    smtp_pass: pulumi.Input[str] | None = None
    """SMTP password: a Pulumi secret, sent and recorded encrypted, never read back."""
    smtp_sender_name: str | None = None
    """Name auth e-mails are sent as."""
    smtp_admin_email: str | None = None
    """Address auth e-mails are sent from."""
    rate_limit_email_sent: int | None = None
    """E-mails auth may send per hour (custom SMTP only: the built-in mailer's is fixed)."""
    rate_limit_verify: int | None = None
    """Sign-up and sign-in verifications per 5 minutes and IP address."""
    rate_limit_token_refresh: int | None = None
    """Session refreshes per 5 minutes and IP address."""
    rate_limit_otp: int | None = None
    """OTP and magic-link requests per 5 minutes and IP address."""
    rate_limit_anonymous_users: int | None = None
    """Anonymous sign-ins per hour and IP address."""
    access_token: pulumi.Input[str] | None = None
    """Management API token (a secret); None reads $SUPABASE_ACCESS_TOKEN at each call."""


class AuthConfig(SupabaseResource[AuthConfigArgs], name=AUTH_CONFIG):
    """The project's auth settings: redirects, confirmation, OTPs, SMTP, rate limits."""

    _provider_class = AuthConfigProvider
