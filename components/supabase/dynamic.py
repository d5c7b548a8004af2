"""What every Supabase dynamic provider shares: timing, the client, statuses, validation.

Each resource (project, database password, pooler, SSL enforcement, network restrictions,
auth) is its own dynamic resource with atomic state, so a failed call leaves every other
resource's recorded state true. Their providers hold no credentials and no client: only
timing and, in tests, injected sleep, clock and log functions. Dynamic providers are
pickled into the stack state (`__provider`), so the token is read at call time from the
`access_token` input (a secret, stored encrypted with the resource's state so refresh and
delete can use it) or, when that is absent, from $SUPABASE_ACCESS_TOKEN; the API base URL
from $SUPABASE_API_URL, else the public API.

State written by an earlier version holds an earlier provider pickled by reference: its
attributes are exactly `timing`, `retry`, `_sleep`, `_clock` and `_log`, and `timing` may
lack fields added since (a dataclass falls back to the class default). Providers here
therefore keep those attribute names and read nothing else from `self`.
"""

from __future__ import annotations

import abc
import ipaddress
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import pulumi
import pulumi.dynamic
from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN

from .api import JsonObject, RetryPolicy, SupabaseClient
from .facts import (
    DYNAMIC_MODULE,
    FAILED_STATUSES,
    GONE_STATUSES,
    PAUSED_STATUSES,
    READY_STATUS,
    RESTORE_HINT,
    SECRET_FIELDS,
    TOKEN_KEY,
)

SECRET_KEYS = frozenset(key for keys in SECRET_FIELDS.values() for key in keys)
"""Every property name that holds a secret, in any Supabase resource: never shown."""
HEALTH_SERVICES = ("auth", "db", "pooler", "rest")
"""Services the settings calls need before they can succeed."""
_UNKNOWN_MARK = object()


@dataclass(frozen=True)
class Timing:
    """Deadlines, bounds and polling of the providers; all in seconds."""

    request_timeout: float = 30.0
    """Overall deadline of one HTTP call: connect, send and the whole answer (rule R4)."""
    operation_timeout: float = 1800.0
    """Bound of one create, read, update or delete, its retries and waits included."""
    wait_timeout: float = 1200.0
    """How long create waits for a new (or found) project to become healthy."""
    settings_wait_timeout: float = 600.0
    """How long any other operation waits for a transitional status (RESTORING, ...)."""
    poll_interval: float = 5.0
    """First wait between status polls and lookups; doubles up to `max_poll_interval`."""
    max_poll_interval: float = 30.0
    """Longest wait between status polls and lookups."""
    lookup_wait: float = 240.0
    """How long create keeps looking for the project an unanswered POST may have made:
    the organisation's project list can lag a create by minutes (rule R1)."""


@dataclass(frozen=True)
class Problem:
    """One invalid input: the key, the value and what is allowed."""

    key: str
    value: Any
    allowed: str

    def __str__(self) -> str:
        shown = "[secret]" if self.key in SECRET_KEYS else repr(self.value)
        return f"{self.key}={shown}: expected {self.allowed}"


class SupabaseProvisioningError(Exception):
    """A resource cannot reach or keep the state asked for; the message says what to do."""


class ProjectGoneError(SupabaseProvisioningError):
    """The project answered 404 or REMOVED: the only "gone" (rule R2)."""


# ---------------------------------------------------------------------- values


def is_unknown(value: Any) -> bool:
    """True for a value (or a list holding one) that preview does not know yet.

    The dynamic provider host deserialises an unknown as a `pulumi.output.Unknown`
    instance (a new one each time), not as the `rpc.UNKNOWN` wire string; both count.
    """
    if isinstance(value, (list, tuple)):
        return any(is_unknown(v) for v in value)
    return isinstance(value, Unknown) or (isinstance(value, str) and value == UNKNOWN)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def canon(value: Any) -> Any:
    """A value in the form diff compares: lists sorted, whole floats as ints."""
    if is_unknown(value):
        return _UNKNOWN_MARK
    if isinstance(value, (list, tuple)):
        return tuple(sorted(str(v).strip() for v in value))
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def as_int(value: Any) -> Any:
    """Numbers cross the engine's wire as floats: whole ones become ints again."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def valid_cidrs(value: Any) -> bool:
    if not isinstance(value, list):
        return False
    try:
        for cidr in value:
            ipaddress.ip_network(cidr, strict=True)
    except (TypeError, ValueError):
        return False
    return True


def token_changed(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    """The stored token is used by refresh and delete: a rotated (or dropped) one must reach
    the state, through an update that makes no API call for it."""
    return (news.get(TOKEN_KEY) or None) != (olds.get(TOKEN_KEY) or None)


class Checker:
    """Collects one `Problem` per bad value of a props mapping; unknowns pass."""

    def __init__(self, props: Mapping[str, Any]) -> None:
        self.props = props
        self.problems: list[Problem] = []

    def __call__(
        self, key: str, ok: Callable[[Any], bool], allowed: str, required: bool = False
    ) -> None:
        value = self.props.get(key)
        if value is None:
            if required:
                self.problems.append(Problem(key, None, allowed + " (required)"))
            return
        if not is_unknown(value) and not ok(value):
            self.problems.append(Problem(key, value, allowed))

    def token(self) -> None:
        self(TOKEN_KEY, lambda v: isinstance(v, str) and bool(v.strip()), "a non-empty token")


def check_result(
    news: Mapping[str, Any], desired: Mapping[str, Any], problems: list[Problem]
) -> pulumi.dynamic.CheckResult:
    """The engine's CheckResult: inputs with defaults applied, one failure per problem."""
    inputs = {k: v for k, v in news.items() if k not in desired}
    inputs.update(desired)
    failures = [pulumi.dynamic.CheckFailure(p.key, str(p)) for p in problems]
    return pulumi.dynamic.CheckResult(inputs, failures)


def require_valid(what: str, problems: list[Problem]) -> None:
    if problems:
        raise ValueError(f"invalid Supabase {what} inputs: " + "; ".join(map(str, problems)))


# ---------------------------------------------------------------------- provider base


class ProviderBase(pulumi.dynamic.ResourceProvider, abc.ABC):
    """Timing, the per-operation client, logging, validation and the status rules every
    provider uses."""

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

    @abc.abstractmethod
    def _normalise(self, props: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
        """Inputs with defaults applied and canonicalised, and every problem found."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        """Apply defaults and validate every input; one failure per bad value (unknown
        values, at a preview before a dependency exists, pass unchecked)."""
        desired, problems = self._normalise(news)
        return check_result(news, desired, problems)

    def _client(self, props: Mapping[str, Any]) -> SupabaseClient:
        """A client for one operation: its calls and waits end at the operation's bound."""
        token = props.get(TOKEN_KEY)
        client = SupabaseClient(
            token if isinstance(token, str) and token else None,
            timeout=self.timing.request_timeout,
            retry=self.retry,
            sleep=self._sleep,
            clock=self._clock,
            deadline=self._now() + self.timing.operation_timeout,
        )
        # Whatever secret these properties hold never shows in an error, even if echoed.
        for key in SECRET_KEYS:
            value = props.get(key)
            if isinstance(value, str):
                client.hide(value)
        return client

    def _wait(self, seconds: float) -> None:
        (self._sleep or time.sleep)(seconds)

    def _now(self) -> float:
        return (self._clock or time.monotonic)()

    def _info(self, message: str) -> None:
        (self._log or pulumi.log.info)(message)

    def _warn(self, message: str) -> None:
        (self._log or pulumi.log.warn)(message)

    def _backoff(self, step: int) -> float:
        interval = self.timing.poll_interval * 2 ** (step - 1)
        return float(min(self.timing.max_poll_interval, interval))

    def _usable(
        self,
        client: SupabaseClient,
        ref: str,
        *,
        limit: float | None = None,
        health: bool = False,
        then: str = "nothing was changed: run again once it is ACTIVE_HEALTHY",
    ) -> JsonObject:
        """The project once its status lets settings calls through (rule R2).

        404 and REMOVED raise `ProjectGoneError`; a paused project is reported at once with
        what to do; a failed one at once; every transitional status is waited on, with
        progress, for at most `limit` seconds (`settings_wait_timeout` by default), then
        reported with `then` (what happened, and what to do). `health` also waits for the
        services the settings calls need.
        """
        bound = self.timing.settings_wait_timeout if limit is None else limit
        start = self._now()
        deadline = start + bound
        step = 1
        while True:
            project = client.get_project(ref)
            if project is None:
                raise ProjectGoneError(f"Supabase project {ref} does not exist (404)")
            name = str(project.get("name") or ref)
            status = str(project.get("status"))
            if status in GONE_STATUSES:
                raise ProjectGoneError(f"Supabase project {name} ({ref}) is {status}")
            if status in PAUSED_STATUSES:
                raise SupabaseProvisioningError(
                    f"Supabase project {name} ({ref}) is paused ({status}): "
                    + RESTORE_HINT.format(ref=ref)
                )
            if status in FAILED_STATUSES:
                raise SupabaseProvisioningError(
                    f"Supabase project {name} ({ref}) is {status}: see the project in the "
                    "Supabase dashboard (or its support); nothing here can repair it"
                )
            state = status
            if status == READY_STATUS:
                if not health:
                    return project
                waiting = sorted(
                    str(s.get("name"))
                    for s in client.get_services_health(ref, HEALTH_SERVICES)
                    if s.get("status") != READY_STATUS
                )
                if not waiting:
                    return project
                state = "services starting: " + ", ".join(waiting)
            now = self._now()
            if now >= deadline:
                raise SupabaseProvisioningError(
                    f"Supabase project {name} ({ref}) still {state} after {bound:.0f}s; {then}"
                )
            self._info(f"supabase: waiting for {name} ({ref}): {state}, {now - start:.0f}s")
            self._wait(min(self._backoff(step), max(0.0, deadline - now)))
            step += 1


# ---------------------------------------------------------------------- attached resources


class AttachedProvider(ProviderBase):
    """A resource that belongs to one project: its database password or a settings group.

    It moves with the project: a new `project_ref` replaces it (create on the new
    project, then a delete that leaves the old one alone). Deleting it changes nothing
    remote: the password and settings live and go with the project. A read says gone
    only when the project is gone (404, REMOVED), says so when it is paused, and waits
    (bounded) while it is in transition.
    """

    kind = "setting"
    """Names the resource in ids and messages, e.g. `pooler`."""

    def _attached_diff(
        self, olds: Mapping[str, Any], news: Mapping[str, Any], changed: list[str]
    ) -> pulumi.dynamic.DiffResult:
        if token_changed(olds, news):
            changed = [*changed, TOKEN_KEY]
        moved = canon(news.get("project_ref")) != canon(olds.get("project_ref"))
        return pulumi.dynamic.DiffResult(
            changes=bool(changed) or moved,
            replaces=["project_ref"] if moved else [],
            delete_before_replace=False,
        )

    def _open(self, props: Mapping[str, Any], id_: str) -> tuple[SupabaseClient, str] | None:
        """For a read: the client and the ref, or None when the project is gone."""
        ref = str(props.get("project_ref") or id_.split("/", 1)[0])
        client = self._client(props)
        try:
            self._usable(client, ref)
        except ProjectGoneError:
            return None
        return client, ref

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Nothing to undo remotely: the project keeps what was set (and goes with it)."""
        self._info(f"supabase: {id_} is no longer managed; the project keeps it as it is")


def attached_id(ref: str, kind: str) -> str:
    """The id of the resource `kind` of project `ref`, e.g. `abcd.../pooler`."""
    return f"{ref}/{kind}"


if TYPE_CHECKING:
    from _typeshed import DataclassInstance

ArgsT = TypeVar("ArgsT", bound="DataclassInstance")


class SupabaseResource(pulumi.dynamic.Resource, Generic[ArgsT]):
    """A Supabase dynamic resource, registered from its `*Args` dataclass.

    A subclass names itself (`name=`, its type token `pulumi-python:dynamic/supabase:<name>`)
    and its provider class. The fields that hold secrets (`SECRET_FIELDS[name]`) are
    wrapped as secrets and declared secret outputs; `_outputs` are declared (None until the
    provider reports them).
    """

    _kind: ClassVar[str]
    _provider_class: ClassVar[type[ProviderBase]]
    _outputs: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(
        cls, module: str = DYNAMIC_MODULE, name: str = "Resource", **kwargs: Any
    ) -> None:
        super().__init_subclass__(module=module, name=name, **kwargs)
        cls._kind = name

    def __init__(
        self,
        name: str,
        args: ArgsT,
        opts: pulumi.ResourceOptions | None = None,
        provider: ProviderBase | None = None,
    ) -> None:
        secret_fields = SECRET_FIELDS[self._kind]
        props: dict[str, Any] = {}
        for field in fields(args):
            value = getattr(args, field.name)
            if isinstance(value, tuple):
                value = list(value)  # the only sequence the engine's wire format carries
            secret = field.name in secret_fields and value is not None
            props[field.name] = pulumi.Output.secret(value) if secret else value
        props.update({key: None for key in self._outputs if key not in props})
        secrets = pulumi.ResourceOptions(additional_secret_outputs=list(secret_fields))
        super().__init__(
            provider or self._provider_class(),
            name,
            props,
            pulumi.ResourceOptions.merge(opts, secrets),
        )
