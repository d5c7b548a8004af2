"""The Supabase Management API contract: the published OpenAPI document, and checks of the
requests a client makes (and the answers the fake gives) against it.

Shared by the providers' contract test (test_supabase_provider.py) and the database branch
lifecycle's (test_db_branch.py).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.fake_supabase import RecordedRequest

BRANCH_ROUTES = {
    ("GET", "/v1/projects/{ref}/branches"),
    ("POST", "/v1/projects/{ref}/branches"),
    ("GET", "/v1/branches/{branch_id_or_ref}"),
    ("DELETE", "/v1/branches/{branch_id_or_ref}"),
    ("GET", "/v1/projects/{ref}/database/migrations"),
    ("POST", "/v1/projects/{ref}/database/migrations"),
}
"""The fake's routes only the pull requests' database branches use (db_branch.py)."""


def _openapi_path() -> Path | None:
    candidates = [
        os.environ.get("SUPABASE_OPENAPI", ""),
        str(
            Path(__file__).resolve().parents[2] / "shared/data/supabase-management-api.openapi.json"
        ),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def load_openapi() -> dict[str, Any]:
    """The OpenAPI document; skipped without it on a developer's machine, a failure in CI."""
    path = _openapi_path()
    if path is None:
        # CI always has ../shared beside the clone: there a missing contract is a failure.
        if os.environ.get("CI"):
            pytest.fail("Supabase OpenAPI document not found in ../shared/data (CI)")
        pytest.skip("Supabase OpenAPI document not found (set SUPABASE_OPENAPI)")
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
}


def validate(
    spec: dict[str, Any], schema: dict[str, Any], value: Any, where: str, required: bool = True
) -> list[str]:
    """A small JSON-schema check: types, enums, required and undeclared keys, patterns."""
    schema = _resolve(spec, schema)
    if value is None:
        return [] if schema.get("nullable") or not schema else [f"{where}: null"]
    variants = schema.get("oneOf") or schema.get("anyOf")
    if variants:
        if any(not validate(spec, v, value, where, required) for v in variants):
            return []
        return [f"{where}: matches no variant"]
    kind = schema.get("type")
    if kind in _TYPES and (
        not isinstance(value, _TYPES[kind]) or (kind != "boolean" and isinstance(value, bool))
    ):
        return [f"{where}: {value!r} is not {kind}"]
    errors: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: {value!r} not in {schema['enum']}")
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{where}: {value!r} does not match {schema['pattern']}")
        if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", 1e9):
            errors.append(f"{where}: length of {value!r}")
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if number and not schema.get("minimum", -1e18) <= value <= schema.get("maximum", 1e18):
        errors.append(f"{where}: {value} out of range")
    if isinstance(value, dict) and "properties" in schema:
        declared = schema["properties"]
        errors += [f"{where}.{k}: not declared" for k in value if k not in declared]
        if required:
            errors += [
                f"{where}.{k}: missing" for k in schema.get("required", []) if k not in value
            ]
        for key, item in value.items():
            if key in declared:
                errors += validate(spec, declared[key], item, f"{where}.{key}", required)
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            errors += validate(spec, schema["items"], item, f"{where}[{index}]", required)
    return errors


def contract_problems(spec: dict[str, Any], request: RecordedRequest) -> list[str]:
    """Everything about one recorded request that the OpenAPI document does not allow."""
    where = f"{request.method} {request.path}"
    if request.template is None or request.template not in spec["paths"]:
        return [f"{where}: path not in the OpenAPI document"]
    operation = spec["paths"][request.template].get(request.method.lower())
    if operation is None:
        return [f"{where}: method not in the OpenAPI document"]
    problems: list[str] = []
    parameters = {(p["in"], p["name"]): p for p in operation.get("parameters", [])}
    for name in request.query:
        if ("query", name) not in parameters:
            problems.append(f"{where}: undeclared query parameter {name}")
    for (place, name), parameter in parameters.items():
        if place == "query" and parameter.get("required") and name not in request.query:
            problems.append(f"{where}: missing query parameter {name}")
    names = re.findall(r"\{(\w+)\}", request.template)
    pattern = re.escape(request.template)
    for name in names:
        pattern = pattern.replace(re.escape(f"{{{name}}}"), f"(?P<{name}>[^/]+)")
    match = re.fullmatch(pattern, request.path)
    assert match is not None
    for name in names:
        schema = parameters[("path", name)]["schema"]
        problems += validate(spec, schema, match.group(name), f"{where} path {name}")
    body_spec = operation.get("requestBody")
    if body_spec is None:
        if request.body is not None:
            problems.append(f"{where}: sends a body the operation does not take")
    else:
        schema = body_spec["content"]["application/json"]["schema"]
        if request.body is None and body_spec.get("required"):
            problems.append(f"{where}: required body missing")
        elif request.body is not None:
            problems += validate(spec, schema, request.body, f"{where} body")
            deprecated = [
                k
                for k, v in _resolve(spec, schema).get("properties", {}).items()
                if v.get("deprecated") and k in request.body
            ]
            problems += [f"{where}: sends deprecated {k}" for k in deprecated]
    return problems


def response_problems(spec: dict[str, Any], request: RecordedRequest) -> list[str]:
    """The fake's answer checked against the documented response of its status."""
    assert request.template is not None
    operation = spec["paths"][request.template][request.method.lower()]
    documented = operation["responses"].get(str(request.status))
    where = f"{request.method} {request.template} -> {request.status}"
    if documented is None:
        return [] if request.status >= 400 else [f"{where}: undocumented status"]
    content = documented.get("content")
    if not content:
        return [] if request.response is None or request.status >= 400 else [f"{where}: body"]
    schema = content["application/json"]["schema"]
    # AuthConfigResponse requires ~240 keys; the fake serves the subset the provider uses.
    strict = schema.get("$ref", "").rsplit("/", 1)[-1] != "AuthConfigResponse"
    return validate(spec, schema, request.response, where, required=strict)
