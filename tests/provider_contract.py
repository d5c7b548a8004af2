"""Hold every resource the program registers against its provider's published package schema.

Why: the recorder's mocks accept any inputs, so a misspelt property, a missing required input, a
value of the wrong type or a retired enum value would pass every inventory test and only fail at
`pulumi preview` with real credentials, in the provider's Check. The package schema is what that
Check enforces, so holding the recorded inputs against it catches those mistakes offline.

Where a schema is older than the SDK the program pins (Vercel), the installed SDK is the pinned
version's own statement of the contract: its `*Args` classes decide which names exist and which
are required, and the schema still supplies types and deprecation messages where it has them.

Pure logic: no test framework here, so the checker itself is unit-tested on small fragments.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import json
import re
import types
import typing
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pulumi._types import input_type_py_to_pulumi_names, input_type_types, is_input_type

from tools.recorder import ROOT, UNKNOWN, Inventory, Registration, Secret

SCHEMA_DIR = ROOT.parent / "shared" / "data" / "provider-schemas"
"""The published schemas; CI clones the repository with `../shared` beside it."""

Spec = Mapping[str, Any]
"""One node of a package schema (a property, a type or a resource), as parsed from JSON."""

PROVIDER_PREFIX = "pulumi:providers:"
"""Type tokens of provider resources: `pulumi:providers:<package>`, held to the schema's
`provider` section."""

ANY_REF = "pulumi.json#/Any"
TYPE_REF = "#/types/"
DEPRECATED_CALLABLE = "_pulumi_deprecated_callable"
"""Attribute the SDK's `deprecated` decorator sets on the getter of a deprecated property."""


@dataclass(frozen=True)
class Package:
    """A provider package the program uses and the reference its resources are held against."""

    name: str
    schema: str
    """File name in SCHEMA_DIR."""
    newer_sdk: str = ""
    """Import name of the pinned SDK when it is newer than `schema`; empty when they match."""


PACKAGES: dict[str, Package] = {
    package.name: package
    for package in (
        Package("github", "github-6.15.0.schema.json"),
        Package("random", "random-4.21.1+f64d8726.schema.json"),
        Package("sentry", "sentry-0.0.9.schema.json"),
        Package("vercel", "vercel-3.16.0+f0a72e2.schema.json", newer_sdk="pulumiverse_vercel"),
        Package("checkly", "checkly-2.11.0.schema.json", newer_sdk="pulumi_checkly"),
    )
}
"""Every package whose resources the program may register; any other prefix fails the test."""

SCHEMALESS: dict[str, str] = {
    "platform": "the program's own component resources: they only group children",
    "pulumi-python": "dynamic resources whose provider is Python code in the program",
}
"""Type-token package prefixes that have no published schema, and why."""


@dataclass(frozen=True)
class Deprecation:
    """One use of a deprecated resource or property; a warning, and a failure unless allowed."""

    stack: str
    urn: str
    type: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.stack} {self.urn}: {self.path}: deprecated: {self.message}"


class DeprecatedInputWarning(UserWarning):
    """The program sets a property (or uses a resource) that its provider has deprecated."""


@dataclass
class Findings:
    """What checking some resources found: problems break the provider's Check."""

    problems: list[str] = field(default_factory=list)
    deprecations: list[Deprecation] = field(default_factory=list)
    checked: int = 0
    """Number of resources checked, so a test can tell "all fine" from "nothing to check"."""

    def extend(self, other: Findings) -> None:
        self.problems.extend(other.problems)
        self.deprecations.extend(other.deprecations)
        self.checked += other.checked


def package_of(type_token: str) -> str:
    """The package a type token belongs to; a provider resource belongs to the package it serves."""
    if type_token.startswith(PROVIDER_PREFIX):
        return type_token.removeprefix(PROVIDER_PREFIX)
    return type_token.split(":", 1)[0]


def unknown_packages(inventory: Inventory) -> list[str]:
    """Problems for resources whose package has neither a schema here nor a reason to lack one."""
    return [
        f"{inventory.stack} {r.urn}: type: package {package_of(r.type)!r} of {r.type} has no "
        f"provider schema (add it to PACKAGES) and is not schemaless (SCHEMALESS)"
        for r in inventory.resources
        if package_of(r.type) not in PACKAGES and package_of(r.type) not in SCHEMALESS
    ]


@cache
def load_schema(file_name: str) -> Spec:
    """A published package schema, parsed once per process (GitHub's is 2 MB)."""
    parsed: Spec = json.loads((SCHEMA_DIR / file_name).read_text())
    return parsed


def definition(schema: Spec, type_token: str) -> Spec | None:
    """The schema's entry for a resource type token, or its `provider` section for a provider."""
    if type_token.startswith(PROVIDER_PREFIX):
        provider: Spec | None = schema.get("provider")
        return provider
    found: Spec | None = schema.get("resources", {}).get(type_token)
    return found


@cache
def sdk_schema(module_name: str, type_token: str) -> Spec:
    """A schema fragment for one resource type as the installed SDK declares it.

    Built from the SDK's `<Resource>Args` class (and the `*Args` classes of its nested types):
    wire names from the `@pulumi.getter` names, required inputs from the `__init__` parameters
    without default, types from the annotations, deprecation messages from `@deprecated`. Empty
    when the SDK has no such resource.
    """
    module_path = type_token.split(":")[1].split("/")[0]
    if type_token.startswith(PROVIDER_PREFIX) or module_path == "index":
        module = importlib.import_module(module_name)
    else:
        module = importlib.import_module(f"{module_name}.{module_path}")
    class_name = "Provider" if type_token.startswith(PROVIDER_PREFIX) else type_token.split(":")[2]
    args_class = getattr(module, f"{class_name}Args", None)
    if args_class is None:
        return {}
    type_table: dict[str, Spec] = {}
    shape = _sdk_object(args_class, type_table)
    resource = {"inputProperties": shape["properties"], "requiredInputs": shape["required"]}
    if type_token.startswith(PROVIDER_PREFIX):
        return {"provider": resource, "types": type_table}
    return {"resources": {type_token: resource}, "types": type_table}


def _sdk_object(args_class: type, type_table: dict[str, Spec]) -> dict[str, Any]:
    """The object type an SDK `*Args` class declares, in schema form."""
    wire_names = input_type_py_to_pulumi_names(args_class)
    annotations = input_type_types(args_class)
    properties: dict[str, Spec] = {}
    for python_name, wire_name in wire_names.items():
        spec = dict(_sdk_spec(annotations[wire_name], type_table))
        getter = getattr(args_class, python_name).fget
        if DEPRECATED_CALLABLE in getter.__dict__:
            spec["deprecationMessage"] = inspect.getclosurevars(getter).nonlocals["message"]
        properties[wire_name] = spec
    parameters = inspect.signature(args_class).parameters
    required = [
        wire_names[name]
        for name, parameter in parameters.items()
        if name in wire_names and parameter.default is inspect.Parameter.empty
    ]
    return {"type": "object", "properties": properties, "required": required}


_SCALARS = {str: "string", bool: "boolean", int: "integer", float: "number"}


def _sdk_spec(annotation: Any, type_table: dict[str, Spec]) -> Spec:
    """The schema node for one SDK annotation; nested `*Args` classes go into `type_table`."""
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        # Input[T], Optional[T] and InputType[T] all list the value's own type T first.
        return _sdk_spec(arguments[0], type_table)
    if origin in (list, Sequence):
        return {"type": "array", "items": _sdk_spec(arguments[0], type_table)}
    if origin in (dict, Mapping):
        return {"type": "object", "additionalProperties": _sdk_spec(arguments[1], type_table)}
    if isinstance(annotation, type) and is_input_type(annotation):
        token = f"sdk:{annotation.__module__}.{annotation.__qualname__}"
        if token not in type_table:
            type_table[token] = {}  # reserves the name while a recursive type is being built
            type_table[token] = _sdk_object(annotation, type_table)
        return {"$ref": TYPE_REF + token}
    if annotation is Any:
        return {"$ref": ANY_REF}
    if annotation in _SCALARS:
        return {"type": _SCALARS[annotation]}
    raise TypeError(f"no schema equivalent for the SDK annotation {annotation!r}")


def check_resource(
    stack: str, resource: Registration, schema: Spec, sdk: Spec | None = None
) -> Findings:
    """One registered resource's inputs against its package schema (and newer SDK, if any).

    Deprecated uses are also emitted as DeprecatedInputWarning, so every run shows them.
    """
    walk = _Walk(stack, resource, {**schema.get("types", {}), **(sdk or {}).get("types", {})})
    views = [
        found
        for found in (definition(schema, resource.type), sdk and definition(sdk, resource.type))
        if found
    ]
    if not views:
        where = (
            "in neither the schema nor the installed SDK"
            if sdk is not None
            else "not in the schema"
        )
        walk.problem("type", f"{resource.type} is {where}")
    else:
        for view in views:
            if "deprecationMessage" in view:
                walk.deprecated("type", str(view["deprecationMessage"]))
                break
        walk.object(
            resource.inputs,
            [(view.get("inputProperties", {}), view.get("requiredInputs", [])) for view in views],
            "",
            secret=False,
        )
    return Findings(walk.problems, walk.deprecations, checked=1)


def check_inventory(inventory: Inventory, package: Package) -> Findings:
    """Every resource of `package` that one stack registers, against the package's reference."""
    schema = load_schema(package.schema)
    findings = Findings()
    for resource in inventory.resources:
        if package_of(resource.type) == package.name:
            sdk = sdk_schema(package.newer_sdk, resource.type) if package.newer_sdk else None
            findings.extend(check_resource(inventory.stack, resource, schema, sdk))
    return findings


ObjectView = tuple[Mapping[str, Spec], Sequence[str]]
"""An object's properties and required names, as one reference (schema or SDK) declares it."""


class _Walk:
    """One resource's check: walks its inputs beside the reference's views of each value.

    Views are ordered published schema first, pinned SDK last. The last view that declares an
    object decides its names and required properties (it is the pinned version's); the first
    view that declares a property decides its type and enum; any view may deprecate it.
    """

    def __init__(self, stack: str, resource: Registration, type_table: Mapping[str, Spec]):
        self.prefix = f"{stack} {resource.urn}"
        self.stack = stack
        self.resource = resource
        self.type_table = type_table
        self.problems: list[str] = []
        self.deprecations: list[Deprecation] = []

    def problem(self, path: str, what: str) -> None:
        self.problems.append(f"{self.prefix}: {path}: {what}")

    def deprecated(self, path: str, message: str) -> None:
        # Schemas write a name per language as <span pulumi-lang-python="...">; keep Python's.
        plain = re.sub(r'<span [^>]*pulumi-lang-python="([^"]*)"[^>]*>.*?</span>', r"\1", message)
        use = Deprecation(self.stack, self.resource.urn, self.resource.type, path, plain.strip())
        self.deprecations.append(use)
        warnings.warn(DeprecatedInputWarning(str(use)), stacklevel=2)

    def object(self, value: Any, views: list[ObjectView], path: str, *, secret: bool) -> None:
        """An object-typed value: every key known, every required key present, each value valid."""
        if not isinstance(value, dict):
            self.problem(path, f"expected an object, got {_describe(value, secret)}")
            return
        names, required = views[-1]
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            specs = [view_names[key] for view_names, _ in views if key in view_names]
            if key not in names:
                close = difflib.get_close_matches(key, list(names), n=2)
                hint = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
                what = f"unknown property {key!r}{hint}"
                if specs:
                    what = f"{key!r} is in the schema but no longer in the installed SDK"
                self.problem(where, what)
                continue
            for spec in specs:
                if "deprecationMessage" in spec:
                    self.deprecated(where, str(spec["deprecationMessage"]))
                    break
            self.value(item, specs, where, secret=secret)
        for key in required:
            spec = names.get(key, {})
            if key not in value and "default" not in spec and "defaultInfo" not in spec:
                self.problem(f"{path}.{key}" if path else key, "required input is missing")

    def value(self, value: Any, specs: list[Spec], path: str, *, secret: bool) -> None:
        """Any value against its specs (the first decides its type); unknowns match anything."""
        if isinstance(value, Secret):
            self.value(value.value, specs, path, secret=True)
            return
        if value == UNKNOWN:
            return
        resolved = [self.resolve(spec, path) for spec in specs]
        if resolved[0] is None:
            return
        spec = resolved[0]
        others = [other for other in resolved if other is not None]
        kind = spec.get("type")
        if kind == "object" and "properties" in spec:
            views = [
                (other["properties"], other.get("required", []))
                for other in others
                if "properties" in other
            ]
            self.object(value, views, path, secret=secret)
        elif kind == "object" and "additionalProperties" in spec:
            if not isinstance(value, dict):
                self.problem(path, f"expected a map, got {_describe(value, secret)}")
                return
            entries = [o["additionalProperties"] for o in others if "additionalProperties" in o]
            for key, item in value.items():
                self.value(item, entries, f"{path}[{key!r}]", secret=secret)
        elif kind == "array":
            if not isinstance(value, list):
                self.problem(path, f"expected an array, got {_describe(value, secret)}")
                return
            items = [other["items"] for other in others if "items" in other]
            for index, item in enumerate(value):
                self.value(item, items, f"{path}[{index}]", secret=secret)
        elif kind in _MATCHES:
            if not _MATCHES[kind](value):
                self.problem(path, f"expected {kind}, got {_describe(value, secret)}")
            elif "enum" in spec:
                allowed = [entry["value"] for entry in spec["enum"]]
                if value not in allowed:
                    shown = "a secret value" if secret else repr(value)
                    self.problem(path, f"{shown} is not one of {allowed}")
        else:
            self.problem(path, f"the schema gives this property no type the check knows: {spec}")

    def resolve(self, spec: Spec, path: str) -> Spec | None:
        """A property's spec with `$ref` to a named type followed; None for `Any`."""
        reference = spec.get("$ref")
        if reference is None:
            return spec
        if reference == ANY_REF:
            return None
        named = self.type_table.get(str(reference).removeprefix(TYPE_REF))
        if not str(reference).startswith(TYPE_REF) or named is None:
            self.problem(path, f"the schema refers to {reference}, which it does not define")
            return None
        return named


def _is_integer(value: Any) -> bool:
    # Numbers cross the wire as protobuf doubles, so 3 arrives as 3.0.
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


_MATCHES: dict[str, Callable[[Any], bool]] = {
    "string": lambda value: isinstance(value, str),
    "boolean": lambda value: isinstance(value, bool),
    "integer": _is_integer,
    "number": lambda value: isinstance(value, int | float) and not isinstance(value, bool),
}


def _describe(value: Any, secret: bool) -> str:
    """A value for a message; a secret's type only, so no secret ends up in test output."""
    if secret:
        return f"a secret {type(value).__name__}"
    shown = repr(value)
    return f"{type(value).__name__} {shown if len(shown) <= 60 else shown[:57] + '...'}"
