"""A small stand-in for the Pulumi engine over the Supabase providers, against the fake API.

`Stack` keeps what the engine would record (id and outputs per resource), and runs what
`pulumi up` and `pulumi refresh` run: check, then create, or diff and update (or replace:
create, then delete), in dependency order. The project comes first; the settings resources
depend only on it, so like the engine (which runs them in parallel) a failure in one does
not stop the others. `problems()` holds the recorded state against the fake's own state:
every resource whose state is recorded must agree with the service, nothing may be
duplicated, and the connection strings built from the recorded state must carry the live
password and pooler.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi.dynamic

from components.supabase.api import DIRECT_DATABASE, RetryPolicy, connection_string
from components.supabase.database import DIRECT_PORT, DIRECT_USER
from components.supabase.dynamic import ProviderBase, Timing
from components.supabase.password import DatabasePasswordProvider
from components.supabase.provider import SupabaseProjectProvider
from components.supabase.settings_resources import (
    AuthConfigProvider,
    NetworkRestrictionsProvider,
    PoolerProvider,
    SslEnforcementProvider,
)
from tests.fake_supabase import FakeProject, FakeSupabase

TOKEN = "sbp_harness_token_0123456789abcdef"
GENERATED = "Generated0Password0For0The0Harness0Ab1"
"""The stack's generated database password (pulumi-random's result in a real run)."""
SMTP_PASSWORD = "smtp-secret-for-the-harness-0123"
REQUEST_TIMEOUT = 0.2
"""Real seconds a call may take in these tests: a delayed fault outlasts it."""
RECORDED_STATE: dict[str, Any] = json.loads(
    (Path(__file__).parent / "fixtures" / "supabase_project_state_2f12a3f.json").read_text()
)
"""A production Project state written by the single-resource provider of 2f12a3f."""


@dataclass
class FakeTime:
    """An injected clock: sleeping advances it instantly."""

    now: float = 0.0
    slept: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


@dataclass(frozen=True)
class Desired:
    """What the program registers for one stack (DatabaseArgs, flattened per resource)."""

    name: str = "app-staging-db"
    organization_slug: str = "acme"
    region: str = "eu-central-1"
    size: str | None = "small"
    pitr: bool = False
    password: str = GENERATED
    existing_password: str | None = None
    rotate_adopted: bool = False
    pool_mode: str = "transaction"
    pool_size: int | None = 20
    ssl: bool = True
    cidrs: tuple[str, ...] | None = ("203.0.113.0/24", "2001:db8::/32")
    app_egress: tuple[str, ...] = ()
    site_url: str = "https://staging.example.com"
    redirects: tuple[str, ...] = ("https://staging.example.com/auth/callback",)
    confirmations: bool = True
    otp_expiry: int = 3600
    smtp: bool = True
    rate_limit_otp: int = 30
    import_id: str | None = None
    access_token: str | None = None
    """The `supabaseAccessToken` secret; None: $SUPABASE_ACCESS_TOKEN at each call."""

    def but(self, **changes: Any) -> Desired:
        return dataclasses.replace(self, **changes)


ROLES = ("project", "password", "pooler", "ssl", "network", "auth")


@dataclass
class Record:
    """What the engine stores for one resource."""

    id: str
    outs: dict[str, Any]
    inputs: dict[str, Any]


class Stack:
    """The engine's part: state, and the order and semantics of its provider calls."""

    def __init__(
        self,
        fake: FakeSupabase,
        time: FakeTime | None = None,
        logs: list[str] | None = None,
        **timing: Any,
    ) -> None:
        self.fake = fake
        self.time = time or FakeTime()
        self.logs: list[str] = [] if logs is None else logs
        settings = {"request_timeout": REQUEST_TIMEOUT, **timing}
        self.timing = Timing(**settings)
        kwargs: dict[str, Any] = {
            "timing": self.timing,
            "retry": RetryPolicy(max_attempts=3),
            "sleep": self.time.sleep,
            "clock": self.time.clock,
            "log": self.logs.append,
        }
        self.providers: dict[str, ProviderBase] = {
            "project": SupabaseProjectProvider(**kwargs),
            "password": DatabasePasswordProvider(**kwargs),
            "pooler": PoolerProvider(**kwargs),
            "ssl": SslEnforcementProvider(**kwargs),
            "network": NetworkRestrictionsProvider(**kwargs),
            "auth": AuthConfigProvider(**kwargs),
        }
        self.state: dict[str, Record] = {}
        self.errors: dict[str, Exception] = {}
        self.posts_per_up: list[int] = []

    # -------------------------------------------------------------- the program

    def props(self, role: str, want: Desired) -> dict[str, Any] | None:
        """The inputs the program registers for `role`; None when it registers none."""
        props = self._props(role, want)
        if props is not None and want.access_token is not None:
            props["access_token"] = want.access_token
        return props

    def _props(self, role: str, want: Desired) -> dict[str, Any] | None:
        if role == "project":
            return {
                "name": want.name,
                "organization_slug": want.organization_slug,
                "region": want.region,
                "db_pass": want.password,
                "desired_instance_size": want.size,
                "pitr_required": want.pitr,
            }
        project = self.state["project"]
        ref = project.id
        if role == "password":
            return {
                "project_ref": ref,
                "password": want.password,
                "adopted": project.outs.get("adopted"),
                "existing_password": want.existing_password,
                "rotate_adopted": want.rotate_adopted,
            }
        if role == "pooler":
            return {
                "project_ref": ref,
                "pool_mode": want.pool_mode,
                "default_pool_size": want.pool_size,
            }
        if role == "ssl":
            return {"project_ref": ref, "enforced": want.ssl}
        if role == "network":
            if want.cidrs is None:
                return None
            return {
                "project_ref": ref,
                "allowed_cidrs": list(want.cidrs),
                "app_egress_cidrs": list(want.app_egress),
                "ci_egress_cidrs": [],
            }
        auth: dict[str, Any] = {
            "project_ref": ref,
            "site_url": want.site_url,
            "uri_allow_list": [want.site_url, *want.redirects],
            "mailer_autoconfirm": not want.confirmations,
            "mailer_otp_exp": want.otp_expiry,
            "rate_limit_otp": want.rate_limit_otp,
            "rate_limit_verify": 30,
        }
        if want.smtp:
            auth.update(
                smtp_host="smtp.example.com",
                smtp_port=587,
                smtp_user="auth",
                smtp_pass=SMTP_PASSWORD,
                smtp_admin_email="no-reply@example.com",
                smtp_sender_name="Example",
                rate_limit_email_sent=30,
            )
        return auth

    # -------------------------------------------------------------- engine operations

    def up(self, want: Desired | None = None) -> dict[str, Exception]:
        """`pulumi up`: returns the failures, by role (also kept in `errors`)."""
        want = want or Desired()
        self.errors = {}
        posts = self._posts()
        try:
            self._step("project", want)
        except Exception as err:
            self.errors["project"] = err
        if "project" not in self.errors:
            for role in ROLES[1:]:
                try:
                    self._step(role, want)
                except Exception as err:
                    self.errors[role] = err
        self.posts_per_up.append(self._posts() - posts)
        return self.errors

    def _posts(self) -> int:
        """Create requests the API did not refuse outright (a 429 is refused unread)."""
        return sum(1 for r in self.fake.calls("POST", "/v1/projects") if r.status != 429)

    def _step(self, role: str, want: Desired) -> None:
        provider = self.providers[role]
        props = self.props(role, want)
        current = self.state.get(role)
        if props is None:
            if current is not None:
                provider.delete(current.id, current.outs)
                del self.state[role]
            return
        checked = provider.check(current.inputs if current else {}, props)
        if checked.failures:
            raise ValueError("; ".join(f.reason for f in checked.failures))
        news = dict(checked.inputs or {})
        if current is None:
            if role == "project" and want.import_id:
                read = provider.read(want.import_id, {})
                if not read.id:
                    raise LookupError(f"import: {want.import_id} does not exist")
                self._record(role, read.id, read.outs or {}, news)
                return
            created = provider.create(news)
            self._record(role, created.id, created.outs or {}, news)
            return
        diff = provider.diff(current.id, current.outs, news)
        if diff.replaces:
            created = provider.create(news)
            provider.delete(current.id, current.outs)
            self._record(role, created.id, created.outs or {}, news)
        elif diff.changes:
            updated = provider.update(current.id, current.outs, news)
            self._record(role, current.id, updated.outs or {}, news)
        else:
            current.inputs = news  # a "same" step records the new inputs, keeps the outputs

    def _record(self, role: str, id_: str, outs: dict[str, Any], inputs: dict[str, Any]) -> None:
        self.state[role] = Record(str(id_), dict(outs), inputs)

    def refresh(self) -> dict[str, Exception]:
        """`pulumi refresh`: read every resource; a gone one leaves the state."""
        self.errors = {}
        for role in ROLES:
            current = self.state.get(role)
            if current is None:
                continue
            try:
                read = self.providers[role].read(current.id, current.outs)
            except Exception as err:
                self.errors[role] = err
                continue
            if not read.id:
                del self.state[role]
            else:
                current.outs = dict(read.outs or {})
        return self.errors

    def destroy(self) -> None:
        for role in reversed(ROLES):
            current = self.state.pop(role, None)
            if current is not None:
                self.providers[role].delete(current.id, current.outs)

    def pending(self, want: Desired | None = None) -> list[str]:
        """Roles whose diff shows a change (what the next preview would show)."""
        want = want or Desired()
        found = []
        for role, current in self.state.items():
            props = self.props(role, want)
            if props is None:
                continue
            news = dict(self.providers[role].check(current.inputs, props).inputs or {})
            diff: pulumi.dynamic.DiffResult = self.providers[role].diff(
                current.id, current.outs, news
            )
            if diff.changes:
                found.append(role)
        return found

    # -------------------------------------------------------------- what consumers see

    def connection_strings(self) -> tuple[str | None, str | None]:
        """(pooled, direct), built as database.py builds them from the recorded state."""
        password = self.state.get("password")
        pooler = self.state.get("pooler")
        project = self.state.get("project")
        secret = password.outs.get("password") if password else None
        pooled = direct = None
        if pooler is not None:
            p = pooler.outs
            if secret is not None:
                pooled = connection_string(
                    p.get("db_user"), secret, p.get("db_host"), p.get("db_port"), p.get("db_name")
                )
        if project is not None and secret is not None:
            host = project.outs.get("db_host")
            direct = connection_string(DIRECT_USER, secret, host, DIRECT_PORT, DIRECT_DATABASE)
        return pooled, direct

    # -------------------------------------------------------------- invariants

    def problems(self) -> list[str]:
        """Everything in which the recorded state and the service disagree."""
        found = self._duplicates()
        project = self.state.get("project")
        if project is None:
            return found + [f"{role} recorded without a project" for role in self.state]
        live = self.fake.projects.get(project.id)
        if live is None:
            return [*found, f"project {project.id} is recorded but does not exist"]
        for role, current in self.state.items():
            for check in _CHECKS.get(role, ()):
                problem = check(current.outs, live, self)
                if problem:
                    found.append(f"{role}: {problem}")
        return found

    def _duplicates(self) -> list[str]:
        """Projects the API made beside another of the same name, organisation and region
        (two made outside Pulumi are not the providers' doing)."""
        groups: dict[tuple[str, str, str], list[FakeProject]] = {}
        for p in self.fake.projects.values():
            groups.setdefault((p.organization_slug, p.name, p.region), []).append(p)
        found = [
            f"duplicate project {key}: {', '.join(p.ref for p in group)}"
            for key, group in groups.items()
            if len(group) > 1 and any(p.created_by_api for p in group)
        ]
        if any(posts > 1 for posts in self.posts_per_up):
            found.append(f"more than one POST /v1/projects in one run: {self.posts_per_up}")
        return found


Check = Callable[[Mapping[str, Any], FakeProject, Stack], str | None]


def _same(what: str, recorded: Any, live: Any) -> str | None:
    return None if recorded == live else f"{what} recorded {recorded!r}, live {live!r}"


def _project(outs: Mapping[str, Any], live: FakeProject, _: Stack) -> str | None:
    for key, value in (
        ("name", live.name),
        ("organization_slug", live.organization_slug),
        ("region", live.region),
    ):
        if outs.get(key) != value:
            return _same(key, outs.get(key), value)
    if outs.get("desired_instance_size") not in (None, live.size):
        return _same("size", outs.get("desired_instance_size"), live.size)
    if outs.get("pitr_required") and live.pitr_variant is None:
        return "PITR recorded as on, live off"
    return None


def _password(outs: Mapping[str, Any], live: FakeProject, _: Stack) -> str | None:
    if outs.get("password") != live.password:
        return "recorded password differs from the live one"  # never print either
    return None


def _pooler(outs: Mapping[str, Any], live: FakeProject, _: Stack) -> str | None:
    return _same(
        "pool",
        (outs.get("pool_mode"), outs.get("default_pool_size")),
        (
            live.pool_mode,
            live.default_pool_size,
        ),
    ) or _same("pooler host", outs.get("db_host"), f"aws-0-{live.region}.pooler.supabase.com")


def _ssl(outs: Mapping[str, Any], live: FakeProject, _: Stack) -> str | None:
    return _same("SSL", outs.get("enforced"), live.ssl_enforced)


def _network(outs: Mapping[str, Any], live: FakeProject, _: Stack) -> str | None:
    return _same(
        "CIDRs", sorted(outs.get("allowed_cidrs") or []), sorted(live.cidrs_v4 + live.cidrs_v6)
    )


def _auth(outs: Mapping[str, Any], live: FakeProject, _: Stack) -> str | None:
    auth = live.auth
    uris = sorted(u for u in str(auth.get("uri_allow_list") or "").split(",") if u)
    pairs = [
        ("site_url", outs.get("site_url"), auth.get("site_url")),
        ("uri_allow_list", sorted(outs.get("uri_allow_list") or []), uris),
        ("mailer_autoconfirm", outs.get("mailer_autoconfirm"), auth.get("mailer_autoconfirm")),
        ("mailer_otp_exp", outs.get("mailer_otp_exp"), auth.get("mailer_otp_exp")),
        ("rate_limit_otp", outs.get("rate_limit_otp"), auth.get("rate_limit_otp")),
        ("smtp_host", outs.get("smtp_host"), auth.get("smtp_host")),
    ]
    for key, recorded, value in pairs:
        if recorded is not None and recorded != value:
            return _same(key, recorded, value)
    if outs.get("smtp_pass") is not None and outs.get("smtp_pass") != auth.get("smtp_pass"):
        return "recorded SMTP password differs from the live one"
    return None


def _consumers(outs: Mapping[str, Any], live: FakeProject, stack: Stack) -> str | None:
    pooled, direct = stack.connection_strings()
    for label, url in (("pooled", pooled), ("direct", direct)):
        if url is not None and f":{live.password}@" not in url:
            return f"the {label} connection string does not carry the live password"
    return None


_CHECKS: dict[str, tuple[Check, ...]] = {
    "project": (_project,),
    "password": (_password, _consumers),
    "pooler": (_pooler,),
    "ssl": (_ssl,),
    "network": (_network,),
    "auth": (_auth,),
}


# ---------------------------------------------------------------------- the recorded state


def live_recorded_project(fake: FakeSupabase) -> FakeProject:
    """The production project `RECORDED_STATE` describes, live on the fake API."""
    outs, inputs = RECORDED_STATE["outputs"], RECORDED_STATE["inputs"]
    project = fake.add_project(
        outs["name"],
        outs["organization_slug"],
        region=outs["region"],
        password=inputs["db_pass"],
        size="small",
        pitr_variant="pitr_7",
        ssl_enforced=True,
        cidrs_v4=["203.0.113.0/24"],
        cidrs_v6=["2001:db8:1234::/48"],
        default_pool_size=20,
    )
    project.auth.update(
        site_url="https://your-domain.com",
        uri_allow_list="https://your-domain.com",
        mailer_otp_exp=3600,
    )
    return project


def adopt_recorded_state(stack: Stack, project: FakeProject) -> Desired:
    """Put `RECORDED_STATE` into `stack` for `project`; what the program now asks for it."""
    outs, inputs = RECORDED_STATE["outputs"], RECORDED_STATE["inputs"]
    stack.state["project"] = Record(project.ref, {**outs, "ref": project.ref}, inputs)
    return Desired(
        name=outs["name"],
        organization_slug=outs["organization_slug"],
        region=outs["region"],
        password=inputs["db_pass"],
        pitr=True,
        pool_size=20,
        cidrs=("203.0.113.0/24", "2001:db8:1234::/48"),
        site_url="https://your-domain.com",
        redirects=(),
        smtp=False,
        access_token=inputs["access_token"],
    )


def live_settings(project: FakeProject) -> tuple[Any, ...]:
    """The password and settings a migration must leave as they are."""
    return (
        project.password,
        project.pool_mode,
        project.default_pool_size,
        project.ssl_enforced,
        sorted(project.cidrs_v4 + project.cidrs_v6),
        {k: project.auth[k] for k in ("site_url", "uri_allow_list", "mailer_otp_exp")},
    )
