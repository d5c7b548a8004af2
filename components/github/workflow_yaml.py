"""Reading GitHub Actions workflow files as GitHub does.

The program derives `main`'s required checks from the shipped workflows
(components/github/pipeline.py), and the workflow checker (tools/workflow_rules.py) reads
them the same way: YAML 1.2 booleans, so `on:` is a key and not `True`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml


class _Loader(yaml.SafeLoader):
    """YAML 1.2 booleans, as GitHub reads them: `on:` is a key, not `True`."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def load_yaml(path: Path) -> dict[str, Any]:
    """Parse a workflow (or Dependabot) file with GitHub's reading of booleans."""
    document = yaml.load(path.read_text(), Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(document, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    return document


def triggers(workflow: Mapping[str, Any]) -> dict[str, Any]:
    """The `on:` triggers as event → filter mapping, whichever of the three forms is used."""
    on = workflow.get("on", {})
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return dict(on or {})


def jobs(workflow: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The workflow's jobs by id."""
    return dict(workflow.get("jobs") or {})


def steps(job: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The steps of a job (none for a job that calls a reusable workflow)."""
    return list(job.get("steps") or [])
