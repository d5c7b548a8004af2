"""A local fake of the Supabase Management API v1, for tests and the local engine cycle.

It speaks the shapes of the published OpenAPI document for every endpoint the Supabase
dynamic providers use, keeps its state in memory, listens on 127.0.0.1 only, and can
inject faults: 429 with Retry-After, 5xx, slow or trickling answers, dropped connections,
answers missing a field, a project stuck in COMING_UP or walked through a list of
statuses (RESTORING, PAUSING, INACTIVE, ...), an organisation project list that lags
behind a create, 401 for a wrong token, and "the request was processed but the answer
never arrived" (or arrived as a 5xx).

Database branches (the pull requests' previews) are projects of their own here, as on
Supabase: each has a FakeProject (status, API keys, migration history) besides its
FakeBranch, and a branch list can lag behind a create too (`branch_list_lag`).

    python -m tests.fake_supabase --port 8765     # prints its base URL, serves until ^C
"""

from __future__ import annotations

import argparse
import json
import random
import re
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

Params = dict[str, str]
QueryArgs = dict[str, list[str]]
Answer = tuple[int, Any]

COMPUTE_SIZES = (
    "nano", "micro", "small", "medium", "large", "xlarge", "2xlarge", "4xlarge",
    "8xlarge", "12xlarge", "16xlarge",
)  # fmt: skip
PITR_VARIANTS = ("pitr_7", "pitr_14", "pitr_28")
CREATE_KEYS = {
    "db_pass", "name", "organization_id", "organization_slug", "plan", "region",
    "region_selection", "kps_enabled", "desired_instance_size", "template_url",
}  # fmt: skip
DEFAULT_AUTH_CONFIG: dict[str, Any] = {
    "site_url": "http://localhost:3000",
    "uri_allow_list": "",
    "disable_signup": False,
    "external_email_enabled": True,
    "external_phone_enabled": False,
    "jwt_exp": 3600,
    "mailer_autoconfirm": False,
    "mailer_otp_exp": 86400,
    "mailer_otp_length": 6,
    "mailer_secure_email_change_enabled": True,
    "password_min_length": 6,
    "refresh_token_rotation_enabled": True,
    "security_refresh_token_reuse_interval": 10,
    "sms_autoconfirm": False,
    "smtp_admin_email": None,
    "smtp_host": None,
    "smtp_pass": None,
    "smtp_port": None,
    "smtp_sender_name": None,
    "smtp_user": None,
    "rate_limit_anonymous_users": 30,
    "rate_limit_email_sent": 2,
    "rate_limit_otp": 30,
    "rate_limit_token_refresh": 150,
    "rate_limit_verify": 30,
}
"""A subset of AuthConfigResponse (the real one has ~240 keys), with Supabase's defaults.
`smtp_pass` is write-only here: the fake keeps it but answers null."""


class HttpError(Exception):
    """Raised by a handler to answer with an error status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Fault:
    """One injected misbehaviour, consumed by the next request that matches its route."""

    status: int | None = None
    """Answer with this status (and `message`) instead of handling the request."""
    retry_after: str | None = None
    """Retry-After header value sent with `status`."""
    delay: float = 0.0
    """Seconds to wait before answering (longer than the client timeout = a timeout)."""
    commit_first: bool = False
    """Handle the request first, then wait `delay`: the change is made, the answer lost.
    With `status`, the change is made and the answer is that error (a gateway's 502)."""
    message: str = "injected fault"
    headers: dict[str, str] = field(default_factory=dict)
    """Extra headers sent with `status`, e.g. a Location for a redirect."""
    trickle: float = 0.0
    """Send the answer one byte at a time, this many seconds apart (each read succeeds)."""
    drop: bool = False
    """Close the connection without any answer (after handling it, with `commit_first`)."""
    strip: tuple[str, ...] = ()
    """Keys removed from the handler's JSON object answer (e.g. a 201 without `ref`)."""


@dataclass
class RecordedRequest:
    """One request the fake received, for assertions and the contract test."""

    method: str
    path: str
    template: str | None
    query: QueryArgs
    body: Any
    status: int = 0
    response: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeBranch:
    """Server-side state of one database branch (its database is the FakeProject of `ref`)."""

    id: str
    name: str
    ref: str
    parent_ref: str
    created_at: str
    hidden_lookups: int = 0
    """Branch lists that do not show this branch yet (list lag)."""


@dataclass
class FakeProject:
    """Server-side state of one project and its settings."""

    numeric_id: int
    ref: str
    name: str
    organization_slug: str
    region: str
    size: str
    password: str
    created_at: str
    polls_until_healthy: int
    status: str = "COMING_UP"
    ssl_enforced: bool = False
    cidrs_v4: list[str] = field(default_factory=lambda: ["0.0.0.0/0"])
    cidrs_v6: list[str] = field(default_factory=lambda: ["::/0"])
    pool_mode: str = "transaction"
    default_pool_size: int | None = 15
    auth: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_AUTH_CONFIG))
    pitr_variant: str | None = None
    hidden_lookups: int = 0
    """Organisation project lists that do not show this project yet (list lag)."""
    created_by_api: bool = False
    """Made by POST /v1/projects (not by `add_project`, as if made outside Pulumi)."""
    transitions: list[str] = field(default_factory=list)
    """Statuses the project takes, one per GET of it, before it keeps the last one."""
    migrations: list[dict[str, str]] = field(default_factory=list)
    """The migration history: version and name of each migration applied through the API."""
    queries: list[str] = field(default_factory=list)
    """The SQL of every migration applied through the API, in order."""
    idempotency_keys: set[str] = field(default_factory=set)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class FakeSupabase:
    """The fake API server; use as a context manager or call start()/stop()."""

    def __init__(
        self,
        token: str | None = "test-token",  # noqa: S107 (a fake token for the fake API)
        *,
        port: int = 0,
        coming_up_polls: int = 1,
        seed: int | None = None,
    ) -> None:
        self.token = token
        """Accepted bearer token; None accepts any non-empty token."""
        self.coming_up_polls = coming_up_polls
        """GETs of a new project answered COMING_UP before it turns ACTIVE_HEALTHY."""
        self.stuck_coming_up = False
        """When True, new projects stay COMING_UP for ever."""
        self.list_lag = 0
        """Organisation project lists a new project stays hidden from after its create."""
        self.projects: dict[str, FakeProject] = {}
        self.branches: dict[str, FakeBranch] = {}
        self.branch_list_lag = 0
        """Branch lists a new branch stays hidden from after its create."""
        self.requests: list[RecordedRequest] = []
        self.lock = threading.RLock()
        self._faults: list[tuple[str, str, Fault]] = []
        self._random = random.Random(seed)
        self._release = threading.Event()
        self._current_headers: dict[str, str] = {}
        self._next_id = 1
        self._routes = self._build_routes()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:41234."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        """Serve in a background thread."""
        # A short poll interval makes shutdown() (and each test's teardown) quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release any request held by a slow fault."""
        self._release.set()
        if self._thread is not None:  # shutdown() waits for a loop that never started
            self._server.shutdown()
            self._thread = None
        self._server.server_close()

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the standalone mode)."""
        try:
            self._server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            self._release.set()
            self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ test helpers

    def add_fault(self, method: str, template: str, *faults: Fault) -> None:
        """Queue faults for the next requests to `template` (e.g. /v1/projects/{ref})."""
        with self.lock:
            self._faults.extend((method, template, f) for f in faults)

    def clear_faults(self) -> None:
        """Drop every fault not consumed yet (the API recovers)."""
        with self.lock:
            self._faults.clear()

    def pending_faults(self) -> int:
        """Faults not consumed yet."""
        with self.lock:
            return len(self._faults)

    def add_project(self, name: str, organization_slug: str, **kwargs: Any) -> FakeProject:
        """Create a healthy project directly, as if made outside Pulumi."""
        with self.lock:
            project = self._new_project(
                {
                    "name": name,
                    "organization_slug": organization_slug,
                    "region": kwargs.pop("region", "us-east-1"),
                    "db_pass": kwargs.pop("password", "outside-password"),
                }
            )
            project.status = "ACTIVE_HEALTHY"
            project.polls_until_healthy = 0
            for key, value in kwargs.items():
                setattr(project, key, value)
            return project

    def calls(
        self, method: str | None = None, template: str | None = None
    ) -> list[RecordedRequest]:
        """Recorded requests, optionally filtered by method and route template."""
        with self.lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method)
                and (template is None or r.template == template)
            ]

    # ------------------------------------------------------------------ HTTP plumbing

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "fake-supabase/1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests assert on `requests` instead."""

            def do_GET(self) -> None:
                fake._serve(self)

            def do_POST(self) -> None:
                fake._serve(self)

            def do_PATCH(self) -> None:
                fake._serve(self)

            def do_PUT(self) -> None:
                fake._serve(self)

            def do_DELETE(self) -> None:
                fake._serve(self)

        return Handler

    def _serve(self, http: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(http.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        length = int(http.headers.get("Content-Length") or 0)
        raw = http.rfile.read(length) if length else b""
        record = RecordedRequest(http.command, parts.path, None, query, None)
        record.headers = {
            k.lower(): v for k, v in http.headers.items() if k.lower() != "authorization"
        }
        try:
            record.body = json.loads(raw) if raw else None
        except ValueError:
            record.body = raw.decode("utf-8", errors="replace")
        handler, params, record.template = self._match(http.command, parts.path)
        with self.lock:
            self.requests.append(record)
        fault = self._take_fault(http.command, record.template)
        headers: dict[str, str] = {}
        status: int
        payload: Any
        if fault is not None and not fault.commit_first:
            self._release.wait(fault.delay)
            if fault.drop:
                http.close_connection = True
                return
        if fault is not None and fault.status is not None and not fault.commit_first:
            status, payload = fault.status, {"message": fault.message}
        else:
            status, payload = self._dispatch(http, handler, params, query, record.body, raw)
            if fault is not None and fault.commit_first:
                self._release.wait(fault.delay)
                if fault.status is not None:
                    status, payload = fault.status, {"message": fault.message}
        if fault is not None:
            headers.update(fault.headers)
            if fault.retry_after is not None:
                headers["Retry-After"] = fault.retry_after
            if isinstance(payload, dict) and fault.strip:
                payload = {k: v for k, v in payload.items() if k not in fault.strip}
        record.status, record.response = status, payload
        if fault is not None and fault.drop:
            record.status = 0
            http.close_connection = True
            return
        self._write(http, status, payload, headers, fault.trickle if fault else 0.0)

    def _dispatch(
        self,
        http: BaseHTTPRequestHandler,
        handler: Callable[[Params, QueryArgs, Any], Answer] | None,
        params: Params,
        query: QueryArgs,
        body: Any,
        raw: bytes,
    ) -> Answer:
        auth = http.headers.get("Authorization", "")
        presented = auth[len("Bearer ") :] if auth.startswith("Bearer ") else ""
        if not presented or (self.token is not None and presented != self.token):
            return 401, {"message": "Unauthorized"}
        if handler is None:
            return 404, {"message": f"Cannot {http.command} {urlsplit(http.path).path}"}
        if raw and not isinstance(body, dict):
            return 400, {"message": "Body must be a JSON object"}
        try:
            with self.lock:
                self._current_headers = {k.lower(): v for k, v in http.headers.items()}
                return handler(params, query, body if isinstance(body, dict) else {})
        except HttpError as err:
            return err.status, {"message": err.message}

    def _write(
        self,
        http: BaseHTTPRequestHandler,
        status: int,
        payload: Any,
        headers: dict[str, str],
        trickle: float,
    ) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        try:
            http.send_response(status)
            for key, value in headers.items():
                http.send_header(key, value)
            if payload is not None:
                http.send_header("Content-Type", "application/json")
            http.send_header("Content-Length", str(len(data)))
            if not trickle:
                http.end_headers()
                http.wfile.write(data)
                return
            # Everything so far sits in the handler's header buffer: send it byte by byte.
            pending = b"".join(getattr(http, "_headers_buffer", [])) + b"\r\n" + data
            http._headers_buffer = []  # type: ignore[attr-defined]
            for byte in pending:
                http.wfile.write(bytes([byte]))
                http.wfile.flush()
                if self._release.wait(trickle):
                    return
        except (BrokenPipeError, ConnectionResetError):
            pass  # The client gave up (timeout fault); the answer is lost, as intended.

    def _match(
        self, method: str, path: str
    ) -> tuple[Callable[[Params, QueryArgs, Any], Answer] | None, Params, str | None]:
        for route_method, template, pattern, handler in self._routes:
            found = pattern.fullmatch(path)
            if found is not None and route_method == method:
                return handler, found.groupdict(), template
        return None, {}, None

    def _take_fault(self, method: str, template: str | None) -> Fault | None:
        with self.lock:
            for index, (fault_method, fault_template, fault) in enumerate(self._faults):
                if fault_method == method and fault_template == template:
                    del self._faults[index]
                    return fault
        return None

    def _build_routes(
        self,
    ) -> list[tuple[str, str, re.Pattern[str], Callable[[Params, QueryArgs, Any], Answer]]]:
        table: list[tuple[str, str, Callable[[Params, QueryArgs, Any], Answer]]] = [
            ("GET", "/v1/projects", self._list_projects),
            ("POST", "/v1/projects", self._create_project),
            ("GET", "/v1/organizations/{slug}/projects", self._list_org_projects),
            ("GET", "/v1/projects/{ref}", self._get_project),
            ("PATCH", "/v1/projects/{ref}", self._update_project),
            ("DELETE", "/v1/projects/{ref}", self._delete_project),
            ("GET", "/v1/projects/{ref}/health", self._health),
            ("PATCH", "/v1/projects/{ref}/database/password", self._set_password),
            ("GET", "/v1/projects/{ref}/config/database/pooler", self._get_pooler),
            ("PATCH", "/v1/projects/{ref}/config/database/pooler", self._patch_pooler),
            ("GET", "/v1/projects/{ref}/ssl-enforcement", self._get_ssl),
            ("PUT", "/v1/projects/{ref}/ssl-enforcement", self._put_ssl),
            ("GET", "/v1/projects/{ref}/network-restrictions", self._get_network),
            (
                "POST",
                "/v1/projects/{ref}/network-restrictions/apply",
                self._apply_network,
            ),
            ("GET", "/v1/projects/{ref}/config/auth", self._get_auth),
            ("PATCH", "/v1/projects/{ref}/config/auth", self._patch_auth),
            ("GET", "/v1/projects/{ref}/api-keys", self._api_keys),
            ("GET", "/v1/projects/{ref}/database/backups", self._backups),
            ("GET", "/v1/projects/{ref}/billing/addons", self._get_addons),
            ("PATCH", "/v1/projects/{ref}/billing/addons", self._patch_addons),
            ("GET", "/v1/projects/{ref}/branches", self._list_branches),
            ("POST", "/v1/projects/{ref}/branches", self._create_branch),
            ("GET", "/v1/branches/{branch_id_or_ref}", self._get_branch),
            ("DELETE", "/v1/branches/{branch_id_or_ref}", self._delete_branch),
            ("GET", "/v1/projects/{ref}/database/migrations", self._list_migrations),
            ("POST", "/v1/projects/{ref}/database/migrations", self._apply_migration),
        ]
        routes = []
        for method, template, handler in table:
            regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
            routes.append((method, template, re.compile(regex), handler))
        return routes

    # ------------------------------------------------------------------ projects

    def _new_project(self, body: dict[str, Any]) -> FakeProject:
        ref = "".join(self._random.choice(string.ascii_lowercase) for _ in range(20))
        project = FakeProject(
            numeric_id=self._next_id,
            ref=ref,
            name=body["name"],
            organization_slug=body["organization_slug"],
            region=body.get("region") or body.get("region_selection", {}).get("code", "us-east-1"),
            size=body.get("desired_instance_size") or "micro",
            password=body["db_pass"],
            created_at=_now(),
            polls_until_healthy=self.coming_up_polls,
        )
        if project.polls_until_healthy <= 0 and not self.stuck_coming_up:
            project.status = "ACTIVE_HEALTHY"
        project.hidden_lookups = self.list_lag
        self._next_id += 1
        self.projects[ref] = project
        return project

    def _project(self, params: Params) -> FakeProject:
        project = self.projects.get(params["ref"])
        if project is None:
            raise HttpError(404, "Project not found")
        return project

    @staticmethod
    def _project_body(p: FakeProject, with_database: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": p.ref,
            "ref": p.ref,
            "organization_id": p.organization_slug,
            "organization_slug": p.organization_slug,
            "name": p.name,
            "region": p.region,
            "created_at": p.created_at,
            "status": p.status,
        }
        if with_database:
            body["database"] = {
                "host": f"db.{p.ref}.supabase.co",
                "version": "17.4.1.054",
                "postgres_engine": "17",
                "release_channel": "ga",
            }
        return body

    def _list_projects(self, params: Params, query: QueryArgs, body: Any) -> Answer:
        return 200, [self._project_body(p, True) for p in self.projects.values()]

    def _create_project(self, params: Params, query: QueryArgs, body: dict[str, Any]) -> Answer:
        unknown = sorted(set(body) - CREATE_KEYS)
        if unknown:
            raise HttpError(400, f"property {unknown[0]} should not exist")
        for key in ("db_pass", "name", "organization_slug"):
            if not isinstance(body.get(key), str) or not body[key]:
                raise HttpError(400, f"{key} must be a non-empty string")
        if "region" in body and "region_selection" in body:
            raise HttpError(400, "Only one of region or region_selection can be specified")
        size = body.get("desired_instance_size")
        if size is not None and size not in COMPUTE_SIZES:
            raise HttpError(400, f"desired_instance_size must be one of {COMPUTE_SIZES}")
        project = self._new_project(body)
        project.created_by_api = True
        return 201, self._project_body(project, False)

    def _list_org_projects(self, params: Params, query: QueryArgs, body: Any) -> Answer:
        slug = params["slug"]
        search = (query.get("search") or [""])[0].lower()
        offset = int((query.get("offset") or ["0"])[0])
        limit = int((query.get("limit") or ["100"])[0])
        if not 1 <= limit <= 100:
            raise HttpError(400, "limit must be between 1 and 100")
        listed = []
        for p in self.projects.values():
            if p.hidden_lookups > 0:
                p.hidden_lookups -= 1
            elif p.organization_slug == slug and search in p.name.lower():
                listed.append(p)
        matching = sorted(listed, key=lambda p: p.name)
        page = [
            {
                "ref": p.ref,
                "name": p.name,
                "cloud_provider": "AWS",
                "region": p.region,
                "is_branch": False,
                "status": p.status,
                "inserted_at": p.created_at,
                "databases": [
                    {
                        "infra_compute_size": p.size,
                        "region": p.region,
                        "status": "ACTIVE_HEALTHY" if p.status == "ACTIVE_HEALTHY" else "COMING_UP",
                        "cloud_provider": "AWS",
                        "identifier": p.ref,
                        "type": "PRIMARY",
                    }
                ],
            }
            for p in matching[offset : offset + limit]
        ]
        pagination = {"count": len(matching), "limit": limit, "offset": offset}
        return 200, {"projects": page, "pagination": pagination}

    def _get_project(self, params: Params, query: QueryArgs, body: Any) -> Answer:
        project = self._project(params)
        if project.transitions:
            project.status = project.transitions.pop(0)
        elif project.status == "COMING_UP" and not self.stuck_coming_up:
            if project.polls_until_healthy <= 0:
                project.status = "ACTIVE_HEALTHY"
            project.polls_until_healthy -= 1
        return 200, self._project_body(project, True)

    def _update_project(self, params: Params, query: QueryArgs, body: dict[str, Any]) -> Answer:
        project = self._project(params)
        name = body.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 256:
            raise HttpError(400, "name must be 1-256 characters")
        project.name = name
        return 200, {"id": project.numeric_id, "ref": project.ref, "name": project.name}

    def _delete_project(self, params: Params, query: QueryArgs, body: Any) -> Answer:
        project = self._project(params)
        del self.projects[project.ref]
        return 200, {"id": project.numeric_id, "ref": project.ref, "name": project.name}

    def _health(self, params: Params, query: QueryArgs, body: Any) -> Answer:
        project = self._project(params)
        services = query.get("services")
        if not services:
            raise HttpError(400, "services is required")
        status = "ACTIVE_HEALTHY" if project.status == "ACTIVE_HEALTHY" else "COMING_UP"
        return 200, [
            {"name": name, "healthy": status == "ACTIVE_HEALTHY", "status": status}
            for name in services
        ]

    def _set_password(self, params: Params, query: QueryArgs, body: dict[str, Any]) -> Answer:
        project = self._project(params)
        password = body.get("password")
        if not isinstance(password, str) or len(password) < 4:
            raise HttpError(400, "password must be at least 4 characters")
        project.password = password
        return 200, {"message": "Password updated"}

    # ------------------------------------------------------------------ settings

    def _ready(self, params: Params) -> FakeProject:
        project = self._project(params)
        if project.status != "ACTIVE_HEALTHY":
            raise HttpError(400, f"Project is not ready: {project.status}")
        return project

    def _get_pooler(self, params: Params, query: QueryArgs, body: Any) -> Answer:
        p = self._ready(params)
        host = f"aws-0-{p.region}.pooler.supabase.com"
        connection = f"postgresql://postgres.{p.ref}:[YOUR-PASSWORD]@{host}:6543/postgres"
        return 200, [
            {
                "identifier": p.ref,
                "database_type": "PRIMARY",
                "is_using_scram_auth": True,
                "db_user": f"postgres.{p.ref}",
                "db_host": host,
                "db_port": 6543,
                "db_name": "postgres",
                "connection_string": connection,
                "connectionString": connection,
                "default_pool_size": p.default_pool_size,
                "max_client_conn": 200,
                "pool_mode": p.pool_mode,
            }
        ]

    def _patch_pooler(self, params: Params, query: QueryArgs, body: dict[str, Any]) -> Answer:
        p = self._ready(params)
        if "pool_mode" in body:
            if body["pool_mode"] not in ("transaction", "session"):
                raise HttpError(400, "pool_mode must be transaction or session")
            p.pool_mode = body["pool_mode"]
        if "default_pool_size" in body:
            size = body["default_pool_size"]
            if size is not None and (not isinstance(size, int) or not 0 <= size <= 3000):
                raise HttpError(400, "default_pool_size must be between 0 and 3000")
            p.default_pool_size = size
        return 200, {"default_pool_size": p.default_pool_size, "pool_mode": p.pool_mode}

    def _ssl_body(self, p: FakeProject) -> dict[str, Any]:
        return {
            "currentConfig": {"database": p.ssl_enforced},
            "appliedSuccessfully": True,
        }

    def _get_ssl(self, params: Params, query: QueryArgs, body: Any) -> Answer:
        return 200, self._ssl_body(self._ready(params))

    def _put_ssl(self, params: Params, query: QueryArgs, body: dict[str, Any]) -> Answer:
        p = self._ready(params)
        requested = body.get("requestedConfig")
        if not isinstance(requested, dict) or not isinstance(requested.get("database"), bool):
            raise HttpError(400, "requestedConfig.database must be a boolean")
        p.ssl_enforced = requested["database"]
        return 200, self._ssl_body(p)

    def _network_body(self, p: FakeProject) -> dict[str, Any]:
        return {
            "entitlement": "allowed",
            "config": {
                "dbAllowedCidrs": list(p.cidrs_v4),
                "dbAllowedCidrsV6": list(p.cidrs_v6),
            },
            "status": "applied",
            "updated_at": _now(),
            "applied_at": _now(),
        }

    def _get_network(self, params: Params, query: QueryArgs, body: Any) -> Answer:
        return 200, self._network_body(self._ready(params))

    def _apply_network(self, params: Params, query: QueryArgs, body: dict[str, Any]) -> Answer:
        p = self._ready(params)
        for key in ("dbAllowedCidrs", "dbAllowedCidrsV6"):
            value = body.get(key, [])
            if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
                raise HttpError(400, f"{key} must be an array of strings")
        p.cidrs_v4 = list(body.get("dbAllowedCidrs", []))
        p.cidrs_v6 = list(body.get("dbAllowedCidrsV6", []))
        return 201, self._network_body(p)

    @staticmethod
    def _auth_body(p: FakeProject) -> dict[str, Any]:
        return {**p.auth, "smtp_pass": None}

    def _get_auth(self, params: Params, query: QueryArgs, body: Any) -> Answer:
        return 200, self._auth_body(self._ready(params))

    def _patch_auth(self, params: Params, query: QueryArgs, body: dict[str, Any]) -> Answer:
        p = self._ready(params)
        otp = body.get("mailer_otp_exp", 0)
        if not isinstance(otp, int) or otp < 0:
            raise HttpError(400, "mailer_otp_exp must be a non-negative integer")
        site_url = body.get("site_url")
        if site_url is not None and "," in site_url:
            raise HttpError(400, "site_url must not contain a comma")
        port = body.get("smtp_port")
        if port is not None and not (isinstance(port, str) and port.isdigit()):
            raise HttpError(400, "smtp_port must be a string of digits")
        for key, value in body.items():
            if key.startswith("rate_limit_") and (not isinstance(value, int) or value < 1):
                raise HttpError(400, f"{key} must be a positive integer")
        # Supabase's rule: the built-in mailer's e-mail rate limit cannot be changed.
        if "rate_limit_email_sent" in body and not (body.get("smtp_host") or p.auth["smtp_host"]):
            raise HttpError(400, "Custom SMTP required to update email rate limits")
        p.auth.update(body)
        return 200, self._auth_body(p)

    def _api_keys(self, params: Params, query: QueryArgs, body: Any) -> Answer:
        p = self._project(params)
        reveal = (query.get("reveal") or ["false"])[0] == "true"

        def key(name: str, kind: str, value: str, secret: bool) -> dict[str, Any]:
            return {
                "name": name,
                "type": kind,
                "api_key": value if reveal or not secret else None,
                "id": f"{kind}-{name}-{p.ref}",
                "prefix": None,
                "description": None,
                "hash": None,
                "secret_jwt_template": None,
                "inserted_at": p.created_at,
                "updated_at": p.created_at,
            }

        return 200, [
            key("anon", "legacy", f"eyJhbGciOiJIUzI1NiJ9.anon-{p.ref}.sig", False),
            key(
                "service_role",
                "legacy",
                f"eyJhbGciOiJIUzI1NiJ9.service-{p.ref}.sig",
                False,
            ),
            key("default", "publishable", f"sb_publishable_{p.ref}", False),
            key("default", "secret", f"sb_secret_{p.ref}", True),
        ]

    def _backups(self, params: Params, query: QueryArgs, body: Any) -> Answer:
        p = self._project(params)
        latest = int(time.time()) - 3600
        physical = (
            {"earliest_physical_backup_date_unix": latest - 86400,
             "latest_physical_backup_date_unix": latest}
            if p.pitr_variant
            else {}
        )  # fmt: skip
        return 200, {
            "region": p.region,
            "walg_enabled": True,
            "pitr_enabled": p.pitr_variant is not None,
            "backups": [
                {
                    "id": 1,
                    "is_physical_backup": True,
                    "status": "COMPLETED",
                    "inserted_at": "2026-01-02T03:04:05.000Z",
                }
            ],
            "physical_backup_data": physical,
        }

    @staticmethod
    def _variant(variant_id: str, name: str) -> dict[str, Any]:
        price = {
            "description": "$0.01344/hour",
            "type": "usage",
            "interval": "hourly",
            "amount": 0.01344,
        }
        return {"id": variant_id, "name": name, "price": price}

    def _get_addons(self, params: Params, query: QueryArgs, body: Any) -> Answer:
        p = self._project(params)
        selected: list[dict[str, Any]] = []
        if p.size != "nano":
            variant = self._variant(f"ci_{p.size}", p.size.capitalize())
            selected.append({"type": "compute_instance", "variant": variant})
        if p.pitr_variant:
            selected.append({"type": "pitr", "variant": self._variant(p.pitr_variant, "PITR")})
        available = [
            {
                "type": "compute_instance",
                "name": "Compute Instance",
                "variants": [self._variant(f"ci_{s}", s) for s in COMPUTE_SIZES if s != "nano"],
            },
            {
                "type": "pitr",
                "name": "Point in time recovery",
                "variants": [self._variant(v, v) for v in PITR_VARIANTS],
            },
        ]
        return 200, {"selected_addons": selected, "available_addons": available}

    def _patch_addons(self, params: Params, query: QueryArgs, body: dict[str, Any]) -> Answer:
        p = self._ready(params)
        kind, variant = body.get("addon_type"), body.get("addon_variant")
        if kind == "compute_instance" and isinstance(variant, str) and variant.startswith("ci_"):
            size = variant[3:]
            if size not in COMPUTE_SIZES:
                raise HttpError(400, f"unknown compute variant {variant}")
            p.size = size
        elif kind == "pitr" and variant in PITR_VARIANTS:
            if p.size in ("nano", "micro"):
                raise HttpError(
                    400,
                    "Point in time recovery requires at least a Small compute add-on",
                )
            p.pitr_variant = variant
        else:
            raise HttpError(400, f"unsupported add-on {kind}/{variant}")
        return 200, None

    # ------------------------------------------------------------------ branches

    def add_branch(self, parent_ref: str, name: str) -> FakeBranch:
        """A healthy branch made directly (as if by an earlier run)."""
        with self.lock:
            branch = self._new_branch(self._project({"ref": parent_ref}), name)
            project = self.projects[branch.ref]
            project.status, project.polls_until_healthy = "ACTIVE_HEALTHY", 0
            branch.hidden_lookups = 0
            return branch

    def _new_branch(self, parent: FakeProject, name: str) -> FakeBranch:
        project = self._new_project(
            {
                "name": name,
                "organization_slug": parent.organization_slug,
                "region": parent.region,
                "db_pass": "".join(self._random.choice(string.ascii_letters) for _ in range(24)),
            }
        )
        project.hidden_lookups = 0
        branch = FakeBranch(
            id=f"00000000-0000-4000-8000-{project.numeric_id:012d}",
            name=name,
            ref=project.ref,
            parent_ref=parent.ref,
            created_at=project.created_at,
            hidden_lookups=self.branch_list_lag,
        )
        self.branches[branch.ref] = branch
        return branch

    def _branch_body(self, branch: FakeBranch | None, parent: FakeProject) -> dict[str, Any]:
        """BranchResponse; None describes the parent itself, the default branch."""
        if branch is None:
            name, ref, parent_ref, default = "main", parent.ref, parent.ref, True
            branch_id, created = (
                f"00000000-0000-4000-8000-{parent.numeric_id:012d}",
                parent.created_at,
            )
        else:
            name, ref, parent_ref, default = branch.name, branch.ref, branch.parent_ref, False
            branch_id, created = branch.id, branch.created_at
        status = self.projects[ref].status if ref in self.projects else "COMING_UP"
        return {
            "id": branch_id,
            "name": name,
            "project_ref": ref,
            "parent_project_ref": parent_ref,
            "is_default": default,
            "persistent": default,
            "status": "MIGRATIONS_PASSED" if status == "ACTIVE_HEALTHY" else "CREATING_PROJECT",
            "created_at": created,
            "updated_at": created,
            "with_data": False,
            "preview_project_status": status,
        }

    def _list_branches(self, params: Params, query: QueryArgs, body: Any) -> Answer:
        parent = self._project(params)
        mine = [b for b in self.branches.values() if b.parent_ref == parent.ref]
        listed = []
        for branch in mine:
            if branch.hidden_lookups > 0:
                branch.hidden_lookups -= 1
            else:
                listed.append(self._branch_body(branch, parent))
        # Branching is on once a branch was made: the parent then lists as the default one.
        return 200, [self._branch_body(None, parent), *listed] if mine else []

    def _create_branch(self, params: Params, query: QueryArgs, body: dict[str, Any]) -> Answer:
        parent = self._ready(params)
        known = {"branch_name", "git_branch", "is_default", "persistent", "region",
                 "desired_instance_size", "release_channel", "postgres_engine", "secrets",
                 "with_data", "notify_url"}  # fmt: skip
        unknown = sorted(set(body) - known)
        if unknown:
            raise HttpError(400, f"property {unknown[0]} should not exist")
        name = body.get("branch_name")
        if not isinstance(name, str) or not name:
            raise HttpError(400, "branch_name must be a non-empty string")
        size = body.get("desired_instance_size")
        if size is not None and size not in COMPUTE_SIZES:
            raise HttpError(400, f"desired_instance_size must be one of {COMPUTE_SIZES}")
        taken = [b for b in self.branches.values() if b.parent_ref == parent.ref and b.name == name]
        if taken:
            raise HttpError(409, f"A branch named {name} already exists")
        branch = self._new_branch(parent, name)
        return 201, self._branch_body(branch, parent)

    def _branch(self, params: Params) -> FakeBranch:
        branch = self.branches.get(params["branch_id_or_ref"])
        if branch is None:
            raise HttpError(404, "Branch not found")
        return branch

    def _get_branch(self, params: Params, query: QueryArgs, body: Any) -> Answer:
        branch = self._branch(params)
        _, project = self._get_project({"ref": branch.ref}, query, body)
        return 200, {
            "ref": branch.ref,
            "postgres_version": "17.4.1.054",
            "postgres_engine": "17",
            "release_channel": "ga",
            "status": project["status"],
            "db_host": f"db.{branch.ref}.supabase.co",
            "db_port": 5432,
            "db_user": "postgres",
            "db_pass": self.projects[branch.ref].password,
            "jwt_secret": f"jwt-secret-{branch.ref}",
        }

    def _delete_branch(self, params: Params, query: QueryArgs, body: Any) -> Answer:
        branch = self._branch(params)
        del self.branches[branch.ref]
        self.projects.pop(branch.ref, None)
        return 200, {"message": "ok"}

    # ------------------------------------------------------------------ migrations

    def _list_migrations(self, params: Params, query: QueryArgs, body: Any) -> Answer:
        return 200, [dict(m) for m in self._ready(params).migrations]

    def _apply_migration(self, params: Params, query: QueryArgs, body: dict[str, Any]) -> Answer:
        project = self._ready(params)
        sql = body.get("query")
        if not isinstance(sql, str) or not sql:
            raise HttpError(400, "query must be a non-empty string")
        key = self._current_headers.get("idempotency-key")
        if key is not None and key in project.idempotency_keys:
            return 200, None  # the same migration, tracked once
        # The API stamps its own version (the time it ran), not the file's.
        version = f"{datetime.now(UTC):%Y%m%d%H%M%S}{len(project.migrations):04d}"
        project.migrations.append({"version": version, "name": str(body.get("name") or "")})
        project.queries.append(sql)
        if key is not None:
            project.idempotency_keys.add(key)
        return 200, None


def main(argv: list[str] | None = None) -> None:
    """Serve the fake on 127.0.0.1 until interrupted; print its base URL first."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = any free)")
    parser.add_argument("--token", default=None, help="accepted bearer token (default: any)")
    parser.add_argument("--coming-up-polls", type=int, default=1, help="polls before healthy")
    args = parser.parse_args(argv)
    fake = FakeSupabase(token=args.token, port=args.port, coming_up_polls=args.coming_up_polls)
    print(fake.url, flush=True)
    fake.serve_forever()


if __name__ == "__main__":
    main()
