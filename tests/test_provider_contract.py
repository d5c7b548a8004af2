"""Every resource both stacks register satisfies its provider's published package schema.

The mocks behind the inventory accept any inputs; the providers' Check does not. These tests hold
the recorded inputs against the schemas in ../shared/data/provider-schemas (and, for Vercel, whose
schema is older than the pinned SDK, against that SDK), so a misspelt or removed property, a
missing required input, a wrong type or a bad enum value fails here instead of at deploy time.
The checker's own tests below prove it catches each of those, so a green run means something.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import STACKS

# pytest puts tests/ on sys.path. Imported as tests.provider_contract, the checker would reach
# `mypy tests/provider_contract.py tests/test_provider_contract.py` under two module names.
from tests.provider_contract import (
    PACKAGES,
    SCHEMA_DIR,
    DeprecatedInputWarning,
    Spec,
    check_inventory,
    check_resource,
    definition,
    package_of,
    sdk_schema,
    unknown_packages,
)
from tools.recorder import UNKNOWN, Inventory, Registration, Secret

ALLOWED_DEPRECATIONS: dict[tuple[str, str], str] = {}
"""Deprecated inputs the program may still set: (type token, property path) → why, for now."""


@pytest.fixture(scope="session")
def schemas() -> Path:
    """The schema directory; CI must have it, a developer's checkout may lack ../shared."""
    if not SCHEMA_DIR.is_dir():
        message = (
            f"provider schemas not found at {SCHEMA_DIR}: clone the shared data repository "
            "as ../shared beside this repository to run the provider contract tests"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return SCHEMA_DIR


def _fail_on(problems: list[str]) -> None:
    """Fail with every problem on its own line, as `<stack> <urn>: <path>: <what>`."""
    if problems:
        pytest.fail(f"{len(problems)} problem(s):\n" + "\n".join(problems), pytrace=False)


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_resources_satisfy_their_provider_schema(
    schemas: Path, inventory: Callable[[str], Inventory], package: str, stack: str
) -> None:
    findings = check_inventory(inventory(stack), PACKAGES[package])
    if not findings.checked:
        pytest.skip(f"{stack} registers no {package} resources")
    _fail_on(findings.problems)


@pytest.mark.parametrize("stack", STACKS)
def test_every_resource_type_has_a_schema_or_a_reason_not_to(
    inventory: Callable[[str], Inventory], stack: str
) -> None:
    _fail_on(unknown_packages(inventory(stack)))


def test_no_deprecated_inputs(schemas: Path, inventory: Callable[[str], Inventory]) -> None:
    """Deprecated inputs go away in a later provider version; use them only with a reason."""
    uses = [
        use
        for stack in STACKS
        for package in PACKAGES.values()
        for use in check_inventory(inventory(stack), package).deprecations
    ]
    problems = [str(use) for use in uses if (use.type, use.path) not in ALLOWED_DEPRECATIONS]
    used = {(use.type, use.path) for use in uses}
    problems += [
        f"ALLOWED_DEPRECATIONS: {entry}: no longer used; remove the entry"
        for entry in ALLOWED_DEPRECATIONS
        if entry not in used
    ]
    _fail_on(problems)


# The checker on hand-written schema fragments: each kind of mistake is caught.

THING = "test:index/thing:Thing"
URN = f"urn:pulumi:staging::project::{THING}::thing"
SCHEMA: Spec = {
    "resources": {
        THING: {
            "inputProperties": {
                "name": {"type": "string"},
                "count": {"type": "integer"},
                "ratio": {"type": "number"},
                "enabled": {"type": "boolean"},
                "mode": {"$ref": "#/types/test:index/Mode:Mode"},
                "settings": {"$ref": "#/types/test:index/Settings:Settings"},
                "rules": {"type": "array", "items": {"$ref": "#/types/test:index/Rule:Rule"}},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "extra": {"$ref": "pulumi.json#/Any"},
                "region": {"type": "string", "default": "eu-west-1"},
                "legacyName": {"type": "string", "deprecationMessage": "Use `name` instead."},
            },
            "requiredInputs": ["name", "region"],
        }
    },
    "types": {
        "test:index/Mode:Mode": {
            "type": "string",
            "enum": [{"value": "fast"}, {"value": "safe", "name": "Safe"}],
        },
        "test:index/Settings:Settings": {
            "type": "object",
            "properties": {"level": {"type": "integer"}, "note": {"type": "string"}},
            "required": ["level"],
        },
        "test:index/Rule:Rule": {
            "type": "object",
            "properties": {"action": {"type": "string"}},
        },
    },
}


def _thing(**inputs: Any) -> Registration:
    return Registration(
        urn=URN, type=THING, name="thing", parent="", custom=True, inputs={"name": "a", **inputs}
    )


def _problems(resource: Registration, schema: Spec = SCHEMA, sdk: Spec | None = None) -> list[str]:
    return check_resource("staging", resource, schema, sdk).problems


def test_checker_accepts_valid_inputs() -> None:
    valid = _thing(
        count=3.0,
        ratio=0.5,
        enabled=Secret(True),
        mode="safe",
        settings={"level": 2.0, "note": UNKNOWN},
        rules=[{"action": "deny"}, UNKNOWN],
        labels={"team": Secret("web")},
        extra={"anything": [1, "goes"]},
    )
    findings = check_resource("staging", valid, SCHEMA)
    assert (findings.problems, findings.deprecations, findings.checked) == ([], [], 1)


def test_checker_reports_an_unknown_property() -> None:
    assert _problems(_thing(nmae="b")) == [
        f"staging {URN}: nmae: unknown property 'nmae' (did you mean 'name'?)"
    ]


def test_checker_reports_a_missing_required_input_unless_it_has_a_default() -> None:
    resource = _thing()
    del resource.inputs["name"]
    assert _problems(resource) == [f"staging {URN}: name: required input is missing"]


@pytest.mark.parametrize(
    ("inputs", "problem"),
    [
        ({"count": "3"}, "count: expected integer, got str '3'"),
        ({"count": 1.5}, "count: expected integer, got float 1.5"),
        ({"ratio": True}, "ratio: expected number, got bool True"),
        ({"enabled": "yes"}, "enabled: expected boolean, got str 'yes'"),
        ({"name": 1.0}, "name: expected string, got float 1.0"),
        ({"rules": {"action": "deny"}}, "rules: expected an array, got dict {'action': 'deny'}"),
        ({"labels": ["team"]}, "labels: expected a map, got list ['team']"),
        ({"labels": {"team": 1.0}}, "labels['team']: expected string, got float 1.0"),
        ({"settings": "high"}, "settings: expected an object, got str 'high'"),
    ],
)
def test_checker_reports_a_wrong_type(inputs: dict[str, Any], problem: str) -> None:
    assert _problems(_thing(**inputs)) == [f"staging {URN}: {problem}"]


def test_checker_reports_a_bad_enum_value() -> None:
    assert _problems(_thing(mode="quick")) == [
        f"staging {URN}: mode: 'quick' is not one of ['fast', 'safe']"
    ]


def test_checker_reports_a_deprecated_property_as_a_warning() -> None:
    with pytest.warns(DeprecatedInputWarning, match=r"legacyName: deprecated: Use `name`"):
        findings = check_resource("staging", _thing(legacyName="a"), SCHEMA)
    assert findings.problems == []
    assert [(use.stack, use.urn, use.type, use.path) for use in findings.deprecations] == [
        ("staging", URN, THING, "legacyName")
    ]
    assert str(findings.deprecations[0]) == (
        f"staging {URN}: legacyName: deprecated: Use `name` instead."
    )


def test_checker_reports_a_deprecated_resource_type() -> None:
    schema = {
        "resources": {THING: {**SCHEMA["resources"][THING], "deprecationMessage": "Use Other."}},
        "types": SCHEMA["types"],
    }
    with pytest.warns(DeprecatedInputWarning, match=r": type: deprecated: Use Other\.$"):
        findings = check_resource("staging", _thing(), schema)
    assert [str(use) for use in findings.deprecations] == [
        f"staging {URN}: type: deprecated: Use Other."
    ]


def test_checker_reports_unknown_and_missing_keys_inside_object_types() -> None:
    resource = _thing(settings={"levle": 1.0}, rules=[{"action": "deny"}, {"acton": "allow"}])
    assert _problems(resource) == [
        f"staging {URN}: settings.levle: unknown property 'levle' (did you mean 'level'?)",
        f"staging {URN}: settings.level: required input is missing",
        f"staging {URN}: rules[1].acton: unknown property 'acton' (did you mean 'action'?)",
    ]


def test_checker_reports_an_unknown_resource_type() -> None:
    resource = Registration(
        urn=URN, type="test:index/other:Other", name="o", parent="", custom=True, inputs={}
    )
    assert _problems(resource) == [
        f"staging {URN}: type: test:index/other:Other is not in the schema"
    ]


def test_checker_never_prints_a_secret_value() -> None:
    problems = _problems(_thing(count=Secret("s3cr3t"), mode=Secret("quick")))
    assert problems == [
        f"staging {URN}: count: expected integer, got a secret str",
        f"staging {URN}: mode: a secret value is not one of ['fast', 'safe']",
    ]


NEWER_SDK: Spec = {
    "resources": {
        THING: {
            "inputProperties": {
                **{
                    name: spec
                    for name, spec in SCHEMA["resources"][THING]["inputProperties"].items()
                    if name != "legacyName"
                },
                "newFlag": {"type": "boolean"},
                "settings": {"$ref": "#/types/sdk:SettingsArgs"},
            },
            "requiredInputs": ["name", "region", "count"],
        }
    },
    "types": {
        "sdk:SettingsArgs": {
            "type": "object",
            "properties": {"level": {"type": "integer"}, "note": {"type": "string"}},
            "required": [],
        }
    },
}
"""An SDK newer than SCHEMA: adds `newFlag`, drops `legacyName`, requires `count`."""


def test_a_newer_sdk_decides_names_and_required_inputs() -> None:
    resource = _thing(newFlag="yes", legacyName="a", settings={"note": "n", "bogus": 1.0})
    assert _problems(resource, SCHEMA, NEWER_SDK) == [
        f"staging {URN}: newFlag: expected boolean, got str 'yes'",
        f"staging {URN}: legacyName: 'legacyName' is in the schema but no longer in the "
        "installed SDK",
        f"staging {URN}: settings.bogus: unknown property 'bogus'",
        f"staging {URN}: count: required input is missing",
    ]


def test_a_resource_only_the_newer_sdk_has_is_checked_against_the_sdk() -> None:
    schema = {"resources": {}, "types": SCHEMA["types"]}
    assert _problems(_thing(count=3.0, nmae="b"), schema, NEWER_SDK) == [
        f"staging {URN}: nmae: unknown property 'nmae' (did you mean 'name'?)"
    ]
    assert _problems(_thing(), schema, {}) == [
        f"staging {URN}: type: {THING} is in neither the schema nor the installed SDK"
    ]


def _vercel_sdk(type_token: str) -> Spec:
    fragment = sdk_schema("pulumiverse_vercel", type_token)
    assert definition(fragment, type_token) is not None, f"the SDK has no {type_token}"
    return fragment


def test_sdk_schema_reads_names_required_inputs_and_deprecations_from_the_sdk() -> None:
    bypass = "vercel:index/projectProtectionBypass:ProjectProtectionBypass"
    assert definition(_vercel_sdk(bypass), bypass) == {
        "inputProperties": {
            "projectId": {"type": "string"},
            "isEnvVar": {"type": "boolean"},
            "note": {"type": "string"},
            "secret": {"type": "string"},
            "teamId": {"type": "string"},
        },
        "requiredInputs": ["projectId"],
    }
    project = "vercel:index/project:Project"
    inputs = (definition(_vercel_sdk(project), project) or {})["inputProperties"]
    assert inputs["protectedSourcemaps"] == {"type": "boolean"}  # not in the 3.16.0 schema
    assert "enable_preview_feedback" in inputs["previewComments"]["deprecationMessage"]
    provider = definition(_vercel_sdk("pulumi:providers:vercel"), "pulumi:providers:vercel")
    assert set((provider or {})["inputProperties"]) == {"apiToken", "team"}


def test_sdk_schema_checks_keys_nested_in_the_sdks_args_classes() -> None:
    firewall = "vercel:index/firewallConfig:FirewallConfig"
    rate_limit = {"algo": "fixed_window", "window": 60.0, "limit": 100.0, "keys": ["ip"]}
    rule = {
        "name": "Rate limit /api",
        "active": True,
        "conditionGroups": [{"conditions": [{"type": "path", "op": "pre", "value": "/api"}]}],
        "action": {"action": "rate_limit", "rateLimit": {**rate_limit, "windw": 60.0}},
    }
    resource = Registration(
        urn=URN,
        type=firewall,
        name="firewall",
        parent="",
        custom=True,
        inputs={"projectId": "p", "rules": {"rules": [rule]}},
    )
    assert _problems(resource, {}, _vercel_sdk(firewall)) == [
        f"staging {URN}: rules.rules[0].action.rateLimit.windw: unknown property 'windw' "
        "(did you mean 'window'?)",
        f"staging {URN}: rules.rules[0].action.rateLimit.action: required input is missing",
    ]


def test_checker_reports_an_unknown_package_prefix() -> None:
    assert [package_of(t) for t in ("pulumi:providers:github", "github:index/team:Team")] == [
        "github",
        "github",
    ]
    resources = [
        Registration(urn=f"urn:{t}", type=t, name="r", parent="", custom=True, inputs={})
        for t in ("platform:vercel:Hosting", "pulumi:providers:vercel", "aws:s3/bucket:Bucket")
    ]
    assert unknown_packages(Inventory("staging", resources, {}, [])) == [
        "staging urn:aws:s3/bucket:Bucket: type: package 'aws' of aws:s3/bucket:Bucket has no "
        "provider schema (add it to PACKAGES) and is not schemaless (SCHEMALESS)"
    ]
