"""A small client for the Supabase Management API v1, on the standard library only.

The contract is the published OpenAPI document of the Management API. Every call has an
overall deadline (connect, send, status line, headers and body together, not only each
socket read: a server trickling a byte at a time is cut off), and a client may carry the
deadline of the whole operation it serves, which bounds its retries and waits. A 429 is
retried after its `Retry-After`; 5xx answers and lost connections are retried with
bounded exponential backoff, but only for requests that are safe to repeat (a
`POST /v1/projects` that timed out may have created a project, so the caller decides).
Every failure surfaces as one `SupabaseApiError` naming the method, path, HTTP status and
the API's own message; the token and any value registered with `hide` are redacted before
the message is shortened, so no prefix of a secret survives the cut.

This module is also what the application repository's workflows call the API with: the
production stack commits it there as `.github/scripts/supabase_api.py` (a symbolic link under
`app_repo/`), where `db_branch.py` manages each pull request's database branch with it. So
it stays standard-library only, imports nothing from this program, and holds the facts both
sides read from the API's answers (statuses, the API URL, which key is which).
"""

from __future__ import annotations

import contextlib
import email.utils
import http.client
import ipaddress
import json
import os
import socket
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, NoReturn

DEFAULT_BASE_URL = "https://api.supabase.com"
BASE_URL_ENV = "SUPABASE_API_URL"
"""Environment variable that overrides the base URL (tests point it at a loopback server)."""
TOKEN_ENV = "SUPABASE_ACCESS_TOKEN"  # noqa: S105 (a variable name, not a token)
"""Environment variable holding the Management API access token."""

USER_AGENT = "webapp-platform-supabase/1"
_MESSAGE_LIMIT = 500
_LOOPBACK_NAMES = ("localhost",)

JsonObject = dict[str, Any]
Query = Mapping[str, str | int | bool | Sequence[str]]

API_URL: Final = "https://{ref}.supabase.co"
"""A project's (or a branch's) Data API URL."""
DIRECT_DATABASE: Final = "postgres"
"""The database every Supabase project (and branch) serves."""

READY_STATUS: Final = "ACTIVE_HEALTHY"
"""Every status not listed below (COMING_UP, GOING_DOWN, PAUSING, RESTORING, UPGRADING,
RESIZING, RESTARTING, ACTIVE_UNHEALTHY, UNKNOWN) is transitional: waited on, within a bound."""
GONE_STATUSES: Final = ("REMOVED",)
"""The only status that means the project is gone (besides a 404): rule R2. GOING_DOWN
is not gone: a project being paused or deleted may still hold the data."""
PAUSED_STATUSES: Final = ("INACTIVE", "PAUSED")
"""A paused project (INACTIVE in the API's enum; PAUSED treated the same): nothing waits
for it, the user restores it."""
FAILED_STATUSES: Final = ("INIT_FAILED", "RESTORE_FAILED", "PAUSE_FAILED")
"""Statuses no wait will leave: reported at once."""

PREVIEW_BRANCH_SIZE: Final = "micro"
"""Compute size every pull request's database branch is created with (Supabase's default,
asked for explicitly): the cost estimate prices branch-hours of this size."""


class SupabaseApiError(Exception):
    """A Management API call failed: one error with method, path, status and message.

    `status` is None when no HTTP answer arrived (timeout, refused or dropped connection);
    then the request may or may not have been processed. `sent` is False when the client
    never sent it (the operation's time was up before the first attempt).
    """

    def __init__(
        self, method: str, path: str, status: int | None, message: str, *, sent: bool = True
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.message = message
        self.sent = sent
        answer = f"HTTP {status}" if status is not None else "no response"
        if not sent:
            answer = "not sent"
        super().__init__(f"Supabase API {method} {path} failed ({answer}): {message}")

    @property
    def outcome_unknown(self) -> bool:
        """True when the request may have been applied although it reported failure."""
        return self.sent and (self.status is None or self.status >= 500)


class SupabaseConfigError(Exception):
    """The client is missing a token or was given an unusable base URL."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long the client waits before giving up on a call."""

    max_attempts: int = 5
    """Attempts per call, the first one included."""
    base_delay: float = 0.5
    """Seconds before the first retry; doubled for each further retry."""
    max_delay: float = 8.0
    """Upper bound of one backoff wait, in seconds."""
    max_retry_after: float = 60.0
    """Upper bound of a wait the server asks for with Retry-After, in seconds."""

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        return float(min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


def resolve_base_url(explicit: str | None = None) -> str:
    """The API base URL: `explicit`, else $SUPABASE_API_URL, else the public API.

    Plain http is accepted for loopback hosts only, so a token never crosses a network
    unencrypted.
    """
    url = (explicit or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname and _is_loopback(parts.hostname):
        return url
    raise SupabaseConfigError(
        f"unusable Supabase API base URL {url!r}: use https://, or http:// on a loopback host"
    )


def resolve_token(explicit: str | None = None) -> str:
    """The access token: `explicit`, else $SUPABASE_ACCESS_TOKEN; never logged."""
    token = explicit or os.environ.get(TOKEN_ENV, "")
    if not token.strip():
        raise SupabaseConfigError(
            f"no Supabase access token: set {TOKEN_ENV} or pass the access_token property"
        )
    return token.strip()


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Watch:
    """The socket of one call, so a timer can cut it at the call's deadline.

    Shutting a socket down wakes a thread blocked reading it, which a per-read timeout
    never does while the server keeps sending a byte now and then.
    """

    def __init__(self) -> None:
        self.aborted = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    def attach(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._sock = sock
            if self.aborted:
                _shutdown(sock)

    def abort(self) -> None:
        with self._lock:
            self.aborted = True
            _shutdown(self._sock)


def _shutdown(sock: socket.socket | None) -> None:
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed: nothing left to cut
            sock.shutdown(socket.SHUT_RDWR)


def _watched(connection: http.client.HTTPConnection, watch: _Watch) -> http.client.HTTPConnection:
    """`connection`, handing its socket to `watch` as soon as it is connected."""
    connect = connection.connect

    def watched_connect() -> None:
        connect()
        watch.attach(connection.sock)

    connection.connect = watched_connect  # type: ignore[method-assign]
    return connection


class _Watches:
    """The watch of the call in progress (a client makes one call at a time)."""

    def __init__(self) -> None:
        self.current = _Watch()


class _WatchedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, watches: _Watches) -> None:
        super().__init__()
        self._watches = watches

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        watch = self._watches.current

        def connection(host: str, /, **kwargs: Any) -> http.client.HTTPConnection:
            return _watched(http.client.HTTPConnection(host, **kwargs), watch)

        return self.do_open(connection, req)


class _WatchedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, watches: _Watches, context: ssl.SSLContext) -> None:
        super().__init__(context=context)
        self._watches = watches
        self._tls = context

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        watch = self._watches.current

        def connection(host: str, /, **kwargs: Any) -> http.client.HTTPConnection:
            return _watched(http.client.HTTPSConnection(host, **kwargs), watch)

        return self.do_open(connection, req, context=self._tls)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Refuse redirects: urllib would forward the Authorization header to the new host."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> None:
        return None


class SupabaseClient:
    """Management API client. Holds the token, so it is never pickled (see __reduce__).

    `timeout` is the overall deadline of one HTTP call, in real seconds. `deadline` (on
    `clock`'s scale) ends the operation the client serves: no attempt starts after it and
    no retry waits past it.
    """

    def __init__(
        self,
        token: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        deadline: float | None = None,
    ) -> None:
        self.base_url = resolve_base_url(base_url)
        self._token = resolve_token(token)
        self._hidden: list[str] = [self._token]
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._sleep = sleep or time.sleep
        self._clock = clock or time.monotonic
        self.deadline = deadline
        host = urllib.parse.urlsplit(self.base_url).hostname or ""
        # Proxies from the environment must not see loopback test traffic.
        proxies = urllib.request.ProxyHandler({} if _is_loopback(host) else None)
        self._watches = _Watches()
        handlers: list[urllib.request.BaseHandler] = [
            proxies,
            _NoRedirect(),
            _WatchedHTTPHandler(self._watches),
        ]
        if self.base_url.startswith("https:"):
            # Loading the CA certificates takes a while: only where https is used.
            handlers.append(_WatchedHTTPSHandler(self._watches, ssl.create_default_context()))
        self._opener = urllib.request.build_opener(*handlers)

    def hide(self, secret: str) -> None:
        """Redact `secret` (e.g. a password this client sends) from every error message."""
        if secret and secret not in self._hidden:
            self._hidden.append(secret)

    def __repr__(self) -> str:
        return f"SupabaseClient(base_url={self.base_url!r})"

    def __reduce__(self) -> NoReturn:
        # Defence in depth: a client stored on a dynamic provider would be pickled into
        # the Pulumi state together with its token.
        raise TypeError("SupabaseClient holds an access token and must not be pickled")

    # ------------------------------------------------------------------ transport

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Query | None = None,
        body: JsonObject | None = None,
        idempotent: bool | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Send one call (with retries) and return its decoded JSON body, or None if empty.

        `idempotent` defaults to True for every method but POST; only idempotent calls are
        retried after a 5xx or a lost connection. A 429 is always retried, because the
        API refused the request before doing anything. `headers` are sent besides the
        client's own (e.g. an Idempotency-Key).
        """
        safe_to_repeat = method != "POST" if idempotent is None else idempotent
        url = self.base_url + path
        if query:
            url += "?" + urllib.parse.urlencode(query, doseq=True)
        data = json.dumps(body).encode() if body is not None else None
        attempts = max(1, self.retry.max_attempts)
        if self.time_left() <= 0:
            raise SupabaseApiError(
                method, path, None, "the operation's time limit has passed", sent=False
            )
        for attempt in range(1, attempts + 1):
            last = attempt == attempts
            try:
                status, payload, retry_after = self._send(method, url, data, headers or {})
            except (OSError, http.client.HTTPException) as exc:
                failure = SupabaseApiError(method, path, None, self._redact(_describe(exc)))
                if safe_to_repeat and not last:
                    self._pause(self.retry.backoff(attempt), failure)
                    continue
                raise failure from None
            if 200 <= status < 300:
                return _decode(method, path, status, payload)
            failure = SupabaseApiError(method, path, status, self._message(payload, status))
            if status == 429 and not last:
                wait = retry_after if retry_after is not None else self.retry.backoff(attempt)
                self._pause(min(wait, self.retry.max_retry_after), failure)
                continue
            if status >= 500 and safe_to_repeat and not last:
                self._pause(self.retry.backoff(attempt), failure)
                continue
            raise failure
        raise AssertionError("unreachable: the last attempt always returns or raises")

    def time_left(self) -> float:
        """Seconds left of the operation (infinite without a deadline)."""
        return float("inf") if self.deadline is None else self.deadline - self._clock()

    def _pause(self, seconds: float, failure: SupabaseApiError) -> None:
        """Wait before a retry, or give up with `failure` if the operation's time is up."""
        if seconds >= self.time_left():
            note = f"{failure.message}; no time left in this operation to try again"
            raise SupabaseApiError(failure.method, failure.path, failure.status, note) from None
        self._sleep(seconds)

    def _send(
        self, method: str, url: str, data: bytes | None, headers: Mapping[str, str]
    ) -> tuple[int, bytes, float | None]:
        # The scheme was checked by resolve_base_url: https, or http on loopback only.
        req = urllib.request.Request(url, data=data, method=method)  # noqa: S310
        for name, value in headers.items():
            req.add_header(name, value)
        req.add_header("Authorization", f"Bearer {self._token}")
        req.add_header("Accept", "application/json")
        req.add_header("User-Agent", USER_AGENT)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        watch = self._watches.current = _Watch()
        timer = threading.Timer(self.timeout, watch.abort)
        timer.daemon = True
        timer.start()
        try:
            try:
                resp: Any = self._opener.open(req, timeout=self.timeout)
            except urllib.error.HTTPError as err:
                if err.fp is None:
                    return int(err.code), b"", _retry_after(err.headers.get("Retry-After"))
                resp = err
            with resp:
                status = resp.code if isinstance(resp, urllib.error.HTTPError) else resp.status
                return int(status), resp.read(), _retry_after(resp.headers.get("Retry-After"))
        except (OSError, http.client.HTTPException):
            if watch.aborted:
                raise TimeoutError(f"no complete answer within {self.timeout:g}s") from None
            raise
        finally:
            timer.cancel()

    def request_object(self, method: str, path: str, **kwargs: Any) -> JsonObject:
        """`request` whose answer must be a JSON object."""
        value = self.request(method, path, **kwargs)
        if not isinstance(value, dict):
            raise _shape_error(method, path, "a JSON object", value)
        return value

    def request_list(self, method: str, path: str, **kwargs: Any) -> list[JsonObject]:
        """`request` whose answer must be a JSON array of objects."""
        value = self.request(method, path, **kwargs)
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise _shape_error(method, path, "a JSON array of objects", value)
        return value

    def _message(self, payload: bytes, status: int) -> str:
        text = _api_message(payload) or http.client.responses.get(status, "error")
        return self._redact(text)

    def _redact(self, text: str) -> str:
        """Secrets out first, then the length bound: a cut never leaves part of a secret.

        The API should never echo the token or a password, but a proxy or a bug might.
        """
        for secret in self._hidden:
            text = text.replace(secret, "[redacted]")
        return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 3] + "..."

    # ------------------------------------------------------------------ projects

    def list_organization_projects(self, slug: str, search: str | None = None) -> list[JsonObject]:
        """Every project of organisation `slug` (all pages), optionally filtered by name."""
        path = f"/v1/organizations/{_q(slug)}/projects"
        projects: list[JsonObject] = []
        while True:
            query: dict[str, str | int] = {"offset": len(projects), "limit": 100}
            if search:
                query["search"] = search
            page = self.request_object("GET", path, query=query)
            batch = page.get("projects")
            pagination = page.get("pagination")
            if not isinstance(batch, list) or not isinstance(pagination, dict):
                raise _shape_error("GET", path, "projects and pagination", page)
            projects.extend(p for p in batch if isinstance(p, dict))
            if not batch or len(projects) >= int(pagination.get("count", 0)):
                return projects

    def create_project(self, body: JsonObject) -> JsonObject:
        """POST /v1/projects. Not retried on timeout or 5xx: the caller looks up first."""
        return self.request_object("POST", "/v1/projects", body=body)

    def _found(self, path: str) -> JsonObject | None:
        """GET `path`'s object, or None when the API answers 404 (gone or never there)."""
        try:
            return self.request_object("GET", path)
        except SupabaseApiError as err:
            if err.status == 404:
                return None
            raise

    def _deleted(self, path: str, query: Query | None = None) -> bool:
        """DELETE `path`; False when the API answers 404 (already gone)."""
        try:
            self.request("DELETE", path, query=query)
        except SupabaseApiError as err:
            if err.status == 404:
                return False
            raise
        return True

    def get_project(self, ref: str) -> JsonObject | None:
        """The project, or None if the API does not know it (404)."""
        return self._found(f"/v1/projects/{_q(ref)}")

    def update_project_name(self, ref: str, name: str) -> None:
        """Rename the project (PATCH /v1/projects/{ref})."""
        self.request("PATCH", f"/v1/projects/{_q(ref)}", body={"name": name})

    def delete_project(self, ref: str) -> bool:
        """Delete the project; False if it was already gone."""
        return self._deleted(f"/v1/projects/{_q(ref)}")

    def get_services_health(self, ref: str, services: Sequence[str]) -> list[JsonObject]:
        """Health of the named services (auth, db, pooler, rest, ...)."""
        path = f"/v1/projects/{_q(ref)}/health"
        return self.request_list("GET", path, query={"services": list(services)})

    def update_database_password(self, ref: str, password: str) -> None:
        """Set the `postgres` user's password."""
        path = f"/v1/projects/{_q(ref)}/database/password"
        self.request("PATCH", path, body={"password": password})

    # ------------------------------------------------------------------ settings

    def get_pooler_config(self, ref: str) -> list[JsonObject]:
        """Supavisor configuration, one entry per database (primary, read replicas)."""
        return self.request_list("GET", f"/v1/projects/{_q(ref)}/config/database/pooler")

    def update_pooler_config(self, ref: str, body: JsonObject) -> None:
        """Patch `pool_mode` and/or `default_pool_size`."""
        self.request("PATCH", f"/v1/projects/{_q(ref)}/config/database/pooler", body=body)

    def get_ssl_enforcement(self, ref: str) -> JsonObject:
        """SSL enforcement of direct database connections."""
        return self.request_object("GET", f"/v1/projects/{_q(ref)}/ssl-enforcement")

    def update_ssl_enforcement(self, ref: str, enforced: bool) -> None:
        """Turn SSL enforcement of database connections on or off."""
        body = {"requestedConfig": {"database": enforced}}
        self.request("PUT", f"/v1/projects/{_q(ref)}/ssl-enforcement", body=body)

    def get_network_restrictions(self, ref: str) -> JsonObject:
        """CIDRs allowed to reach the database."""
        return self.request_object("GET", f"/v1/projects/{_q(ref)}/network-restrictions")

    def apply_network_restrictions(
        self, ref: str, ipv4: Sequence[str], ipv6: Sequence[str]
    ) -> None:
        """Replace the allowed CIDRs with exactly these lists."""
        body = {"dbAllowedCidrs": list(ipv4), "dbAllowedCidrsV6": list(ipv6)}
        path = f"/v1/projects/{_q(ref)}/network-restrictions/apply"
        # A POST, but it replaces the whole list, so repeating it is harmless.
        self.request("POST", path, body=body, idempotent=True)

    def get_auth_config(self, ref: str) -> JsonObject:
        """The auth (GoTrue) configuration."""
        return self.request_object("GET", f"/v1/projects/{_q(ref)}/config/auth")

    def update_auth_config(self, ref: str, body: JsonObject) -> None:
        """Patch the named auth settings only."""
        self.request("PATCH", f"/v1/projects/{_q(ref)}/config/auth", body=body)

    def get_api_keys(self, ref: str) -> list[JsonObject]:
        """API keys with their values revealed (anon, service_role, publishable, secret)."""
        path = f"/v1/projects/{_q(ref)}/api-keys"
        return self.request_list("GET", path, query={"reveal": "true"})

    def get_backups(self, ref: str) -> JsonObject:
        """Backup state: walg_enabled, pitr_enabled and the list of backups."""
        return self.request_object("GET", f"/v1/projects/{_q(ref)}/database/backups")

    def list_addons(self, ref: str) -> JsonObject:
        """Selected and available billing add-ons (compute size, PITR, ...)."""
        return self.request_object("GET", f"/v1/projects/{_q(ref)}/billing/addons")

    def apply_addon(self, ref: str, addon_type: str, addon_variant: str) -> None:
        """Select an add-on variant, e.g. compute_instance/ci_small or pitr/pitr_7."""
        body = {"addon_type": addon_type, "addon_variant": addon_variant}
        self.request("PATCH", f"/v1/projects/{_q(ref)}/billing/addons", body=body)

    # ------------------------------------------------------------------ branches

    def list_branches(self, ref: str) -> list[JsonObject]:
        """Every database branch of project `ref` (the default branch included); none when
        the API answers 404, as for a project whose branching was never turned on (its first
        branch turns it on)."""
        try:
            return self.request_list("GET", f"/v1/projects/{_q(ref)}/branches")
        except SupabaseApiError as err:
            if err.status == 404:
                return []
            raise

    def create_branch(self, ref: str, name: str) -> JsonObject:
        """POST /v1/projects/{ref}/branches: a branch `name` of `PREVIEW_BRANCH_SIZE`, without
        the parent's data. Not retried on timeout or 5xx: the caller looks it up first."""
        body = {"branch_name": name, "desired_instance_size": PREVIEW_BRANCH_SIZE}
        return self.request_object("POST", f"/v1/projects/{_q(ref)}/branches", body=body)

    def get_branch(self, branch_ref: str) -> JsonObject | None:
        """A branch's status and database connection details, or None if it is gone (404)."""
        return self._found(f"/v1/branches/{_q(branch_ref)}")

    def delete_branch(self, branch_ref: str) -> bool:
        """Delete a branch at once (no grace period); False if it was already gone."""
        return self._deleted(f"/v1/branches/{_q(branch_ref)}", query={"force": "true"})

    # ------------------------------------------------------------------ migrations

    def list_migrations(self, ref: str) -> list[JsonObject]:
        """The migrations the project's history table records (version and name)."""
        return self.request_list("GET", f"/v1/projects/{_q(ref)}/database/migrations")

    def apply_migration(self, ref: str, name: str, query: str, idempotency_key: str) -> None:
        """Run `query` on the project's database and record it as `name` in its history.

        Not retried on timeout or 5xx: whether it ran is read back from the history. The
        idempotency key makes a repeated request record the migration once all the same.
        """
        self.request(
            "POST",
            f"/v1/projects/{_q(ref)}/database/migrations",
            body={"query": query, "name": name},
            headers={"Idempotency-Key": idempotency_key},
        )


def project_keys(api_keys: Sequence[JsonObject]) -> dict[str, str | None]:
    """`anon_key` (public) and `service_role_key` (secret) from a project's API keys: the
    legacy JWT keys where the project has them, else the publishable and secret keys."""
    legacy = {str(k.get("name")): k.get("api_key") for k in api_keys if k.get("type") == "legacy"}
    by_type = {str(k.get("type")): k.get("api_key") for k in api_keys}
    return {
        "anon_key": legacy.get("anon") or by_type.get("publishable"),
        "service_role_key": legacy.get("service_role") or by_type.get("secret"),
    }


def connection_string(user: Any, password: Any, host: Any, port: Any, database: Any) -> str:
    """A postgresql:// URL requiring SSL, from recorded outputs (known once created)."""
    parts = {"user": user, "password": password, "host": host, "port": port, "database": database}
    missing = [name for name, value in parts.items() if value is None]
    if missing:
        raise ValueError(
            f"cannot build a Postgres connection string: no {', '.join(missing)} recorded; "
            "run `pulumi refresh` and check the Supabase project's pooler and database"
        )
    quoted = urllib.parse.quote(str(user), safe=""), urllib.parse.quote(str(password), safe="")
    return f"postgresql://{quoted[0]}:{quoted[1]}@{host}:{port}/{database}?sslmode=require"


def _q(segment: str) -> str:
    """Quote one path segment so a value can never change the path."""
    return urllib.parse.quote(segment, safe="")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.URLError):
        reason: object = exc.reason
    else:
        reason = exc
    if isinstance(reason, TimeoutError):
        detail = str(reason)
        return f"timed out: {detail}" if detail.startswith("no complete") else "timed out"
    return f"connection failed: {reason}"


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date), None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _api_message(payload: bytes) -> str:
    """The API's own message from an error body: JSON message/error/msg, else the text."""
    text = payload.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text) if text else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("message", "error_description", "error", "msg"):
            value = data.get(key)
            if isinstance(value, dict):
                value = value.get("message")
            if isinstance(value, str) and value.strip():
                text = value.strip()
                break
    return " ".join(text.split())


def _decode(method: str, path: str, status: int, payload: bytes) -> Any:
    if not payload.strip():
        return None
    try:
        return json.loads(payload)
    except ValueError:
        raise SupabaseApiError(method, path, status, "answer is not JSON") from None


def _shape_error(method: str, path: str, expected: str, value: Any) -> SupabaseApiError:
    return SupabaseApiError(method, path, None, f"expected {expected}, got {type(value).__name__}")
