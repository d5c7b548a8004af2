"""The generic settings reader: Pulumi.yaml's `config:` block is the schema.

`Pulumi.yaml` declares every key (type, default, description). `Reader` fills defaults from
it, coerces the strings the engine hands over to the declared type, and checks each value
with what a provider package's loader asks (a pattern, choices, bounds, an item parser).
Every problem is collected, so one run reports every bad key at once, each as
`key: value given is not allowed; expected what is allowed`. Provider packages build their
settings section on it (`components/<provider>/settings.py`); `components/config.py`
assembles them. Nothing here knows about any provider.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import pulumi
import yaml

PROJECT_FILE = Path(__file__).resolve().parent.parent / "Pulumi.yaml"

# Patterns more than one settings section uses.
EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?\.[a-z]{2,}$"
)
HTTPS_URL = re.compile(r"^https://[A-Za-z0-9.-]+(?::\d{1,5})?(?:/[^\s]*)?$")
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
ONE_LINE = re.compile(r"^[^\n\r]{0,256}$")


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


T = TypeVar("T")


def show(value: Any) -> str:
    """A value as it appears in an error message, bounded so a huge value stays readable."""
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class Reader:
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
            self.problems.append(f"{key}: {show(value)} is not allowed; expected {allowed}")

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
                self.problems.append(f"{key}: item {show(item)} is not allowed; expected {allowed}")
            else:
                parsed.append(result)
        if len(set(map(repr, parsed))) != len(parsed):
            self.problem(key, value, "no duplicate items")
        return tuple(parsed)


_FALLBACK: dict[str, Any] = {"string": "", "integer": 0, "boolean": False, "array": []}


def matching(pattern: re.Pattern[str]) -> Callable[[Any], str | None]:
    """An item parser for `Reader.items`: strings that match `pattern`."""
    return lambda item: item if isinstance(item, str) and pattern.fullmatch(item) else None


def cidr(item: Any) -> str | None:
    """An item parser for `Reader.items`: an IPv4 or IPv6 network in canonical form."""
    if not isinstance(item, str):
        return None
    try:
        network = ipaddress.ip_network(item, strict=True)
    except ValueError:
        return None
    return str(network)
