"""Run the whole Pulumi program for one stack under the SDK's mocks and record it.

The recorder is what the tests assert on (an inventory of resources per stack) and what
the offline plan prints. It evaluates `__main__.py` exactly as the engine would, with the
stack's config file, but with a mock resource monitor: no credentials, no network.

Each registered resource is kept with its URN, type, parent, options that matter for
audits (protect, import id, ignore_changes, retain_on_delete) and its inputs, where
secret values are wrapped in `Secret` and unknown ones are `UNKNOWN` so nothing is lost
about which values are secret.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import pickle
import runpy
import sys
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from google.protobuf import json_format
from pulumi.output import Unknown
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.sync_await import _sync_await

ROOT = Path(__file__).resolve().parent.parent
SECRET_SIG = rpc._special_secret_sig
SIG_KEY = rpc._special_sig_key
UNKNOWN = "<unknown>"
"""Marks a value the engine would only know after an update (a computed output)."""

DYNAMIC_PROVIDER_KEY = "__provider"
"""Pickled provider of a dynamic resource: code, not desired state, so not recorded."""

_BATCH_SETITEMS = "_batch_setitems"
_ORIGINAL_BATCH_SETITEMS = getattr(pickle._Pickler, _BATCH_SETITEMS)
"""pulumi 3.272's `serialize_provider` wraps this pickler method anew for every dynamic
resource registered and never restores it, so each one adds a stack frame to every later
pickling in the process. A program run registers a handful; a process that records the
program again and again (the tests, the benchmark) would end in RecursionError, so each
recording puts the method back."""


@dataclass(frozen=True)
class Secret:
    """An input value that is a Pulumi secret; `value` is only for assertions in tests."""

    value: Any

    def __repr__(self) -> str:
        return "Secret([secret])"


@dataclass
class Registration:
    """One resource the program registered."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    protect: bool = False
    import_id: str = ""
    ignore_changes: list[str] = field(default_factory=list)
    retain_on_delete: bool = False
    delete_before_replace: bool = False
    additional_secret_outputs: list[str] = field(default_factory=list)
    provider: str = ""


@dataclass
class Inventory:
    """Everything one stack registers and exports."""

    stack: str
    resources: list[Registration]
    outputs: dict[str, Any]
    warnings: list[str]

    def of_type(self, type_: str) -> list[Registration]:
        """Resources of one type token, e.g. `github:index/repository:Repository`."""
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> Registration:
        """The single resource of `type_` (and `name`, when given); fails loudly otherwise."""
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        if len(found) != 1:
            names = [r.name for r in self.of_type(type_)]
            raise AssertionError(
                f"{self.stack}: expected one {type_} named {name!r}, found {len(found)}: {names}"
            )
        return found[0]

    def counts(self) -> dict[str, int]:
        """Number of resources per type token."""
        result: dict[str, int] = {}
        for r in self.resources:
            result[r.type] = result.get(r.type, 0) + 1
        return dict(sorted(result.items()))


def _decode(value: Any) -> Any:
    """Turn a JSON view of the wire format into plain values, keeping secrets visible."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return Secret(_decode(value.get("value")))
        if SIG_KEY in value:
            # Resource references and output values: keep their plain payload.
            inner = value.get("value", value.get("urn"))
            return _decode(inner) if inner is not None else UNKNOWN
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if value == rpc.UNKNOWN:
        return UNKNOWN
    return value


# Computed fields a real provider returns that the program reads back. Anything not here
# echoes its inputs, which is what the engine shows for them at preview too.
_COMPUTED: dict[str, dict[str, str]] = {
    "github:index/repository:Repository": {
        "html_url": "https://github.com/{owner}/{name}",
        "full_name": "{owner}/{name}",
        "node_id": "R_{name}",
    },
}

_NUMERIC_IDS = frozenset({"checkly:index/alertChannel:AlertChannel"})
"""Types whose real ids are integers, which the program converts (Checkly channel ids)."""


class _RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self, owner: str) -> None:
        self.owner = owner

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = dict(args.inputs)
        values = {"owner": self.owner, **{k: v for k, v in state.items() if isinstance(v, str)}}
        values.setdefault("name", args.name)
        for key, template in _COMPUTED.get(args.typ, {}).items():
            state.setdefault(key, template.format(**values))
        if args.resource_id:
            return args.resource_id, state
        if args.typ in _NUMERIC_IDS:
            # Stable across runs (plans and diffs compare them), unlike hash().
            return str(zlib.crc32(args.name.encode())), state
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        # Invokes need the network at preview time; the program must not make any.
        raise AssertionError(f"the program invoked {args.token}; invokes are not allowed")


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: _RecordingMocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            inputs = _decode(json_format.MessageToDict(request.object))
            inputs.pop(DYNAMIC_PROVIDER_KEY, None)
            self.registrations.append(
                Registration(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    # Top-level resources hang off the stack; record that as no parent so
                    # the inventory does not depend on which stack ran first in a process.
                    parent="" if "::pulumi:pulumi:Stack::" in request.parent else request.parent,
                    custom=request.custom,
                    inputs=inputs,
                    protect=bool(request.protect),
                    import_id=request.importId,
                    ignore_changes=list(request.ignoreChanges),
                    retain_on_delete=bool(request.retainOnDelete),
                    delete_before_replace=bool(request.deleteBeforeReplace),
                    additional_secret_outputs=list(request.additionalSecretOutputs),
                    provider=request.provider,
                )
            )
        return response


def stack_config(stack: str, root: Path = ROOT) -> dict[str, Any]:
    """The stack file's `config:` map, keys with their namespace."""
    path = root / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"no stack file {path.name} (stacks are staging, production)")
    document = yaml.safe_load(path.read_text()) or {}
    return dict(document.get("config") or {})


def stack_config_with(stack: str, **changes: Any) -> dict[str, Any]:
    """The stack file's config with `changes` (keys without namespace; None removes a key)."""
    config = stack_config(stack)
    namespace = f"{_project(ROOT)}:"
    for key, value in changes.items():
        if value is None:
            config.pop(namespace + key, None)
        else:
            config[namespace + key] = value
    return config


def _project(root: Path) -> str:
    """The Pulumi project name, the namespace of its config keys."""
    return str(yaml.safe_load((root / "Pulumi.yaml").read_text())["name"])


def _wire(value: Any) -> str:
    """Config values reach the program as strings; structured ones as JSON, like the CLI."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


class _WarningCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def _program_path(root: Path) -> Iterator[None]:
    sys.path.insert(0, str(root))
    try:
        yield
    finally:
        sys.path.remove(str(root))


def record(
    stack: str,
    config: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
    root: Path = ROOT,
) -> Inventory:
    """Run `__main__.py` for `stack` under mocks and return what it registered.

    `config` replaces the stack file's config (keys with namespace); `secrets` adds
    secret config values (keys without namespace), as `pulumi config set --secret` would.
    """
    project = _project(root)
    values = dict(stack_config(stack, root) if config is None else config)
    for key, value in (secrets or {}).items():
        values[f"{project}:{key}"] = value
    owner = str(values.get(f"{project}:githubOwner", "owner"))

    mocks = _RecordingMocks(owner)
    monitor = _RecordingMonitor(mocks)
    warnings = _WarningCollector()
    logger = logging.getLogger(f"platform-recorder-{stack}")
    logger.propagate = False
    logger.handlers = [warnings]
    pulumi_settings.reset_options()
    pulumi.runtime.set_mocks(
        mocks, project=project, stack=stack, preview=True, logger=logger, monitor=monitor
    )
    pulumi.runtime.set_all_config(
        {key: _wire(value) for key, value in values.items()},
        [f"{project}:{key}" for key in (secrets or {})],
    )
    exports: dict[str, Any] = {}

    def capture_export(name: str, value: Any) -> None:
        exports[name] = value

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> Any:
        real_export = pulumi.export
        pulumi.export = capture_export
        try:
            with _program_path(root), contextlib.redirect_stdout(io.StringIO()):
                runpy.run_path(str(root / "__main__.py"), run_name="__main__")
        finally:
            pulumi.export = real_export
        # Waiting on every export makes the run wait for all registrations behind them.
        return pulumi.Output.all(*[pulumi.Output.from_input(v) for v in exports.values()])

    try:
        program()
    finally:
        setattr(pickle._Pickler, _BATCH_SETITEMS, _ORIGINAL_BATCH_SETITEMS)
    resolved = {k: _resolve(pulumi.Output.from_input(v)) for k, v in exports.items()}
    return Inventory(
        stack=stack,
        resources=list(monitor.registrations),
        outputs=dict(sorted(resolved.items())),
        warnings=warnings.messages,
    )


def _resolve(output: pulumi.Output[Any]) -> Any:
    """An export's value once the run is over, secrets wrapped and unknowns marked."""
    value = _sync_await(output.future(with_unknowns=True))
    if isinstance(value, Unknown) or not _sync_await(output.is_known()):
        value = UNKNOWN
    return Secret(value) if _sync_await(output.is_secret()) else value
