"""This repository's workflows as the jobs GitHub actually runs, for the delivery tests.

A job that calls a local reusable workflow becomes the callee's jobs with its inputs filled
in; a matrix job becomes one job per combination. Each job then says what it runs and what
it holds: the environment, the token's permissions, the secrets, the OIDC identity it logs
in as. What those credentials can reach is the contract in `tools/delivery.py`.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.github.workflow_yaml import jobs, load_yaml, steps, triggers
from tools.workflow_rules import referenced

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
LOGIN_ACTION = "./.github/actions/pulumi"
"""The composite action every Pulumi job logs in through."""
FORK_GUARD = "github.event.pull_request.head.repo.full_name == github.repository"


def _substitute(value: Any, context: str, values: Mapping[str, object]) -> Any:
    """`value` with every `${{ <context>.<key> }}` replaced by its value."""
    pattern = re.compile(r"\$\{\{\s*" + context + r"\.([A-Za-z_][\w-]*)\s*\}\}")
    text = json.dumps(value)
    return json.loads(pattern.sub(lambda m: str(values[m.group(1)]), text))


@dataclass(frozen=True)
class Job:
    """One job as it runs, with its inputs or matrix values filled in."""

    workflow: str
    """The file whose trigger starts it (the caller, for a reusable workflow's jobs)."""
    key: str
    """`job`, `caller/job` for a reusable workflow's job, `job[value]` for a matrix leg."""
    events: frozenset[str]
    definition: Mapping[str, Any]
    conditions: tuple[str, ...]
    """Its own `if:` and its caller's."""
    caller_permissions: Mapping[str, str] | None

    @property
    def environment(self) -> str | None:
        env = self.definition.get("environment")
        return str(env["name"] if isinstance(env, Mapping) else env) if env else None

    @property
    def permissions(self) -> dict[str, str]:
        return dict(self.definition.get("permissions") or {})

    @property
    def steps(self) -> list[dict[str, Any]]:
        return steps(self.definition)

    def uses(self, action: str) -> list[dict[str, Any]]:
        """Its steps that use `action` (owner/name, or a local path)."""
        return [s for s in self.steps if str(s.get("uses", "")).split("@")[0] == action]

    @property
    def checks_out(self) -> bool:
        return bool(self.uses("actions/checkout"))

    @property
    def runs_pr_code(self) -> bool:
        """A pull request's checkout and anything run from it: its own code (W9)."""
        return "pull_request" in self.events and self.checks_out

    @property
    def secrets(self) -> set[str]:
        return referenced("secrets", self.definition)

    @property
    def login_identity(self) -> str | None:
        """The identity its backend login asks for, or None when it does not log in."""
        logins = self.uses(LOGIN_ACTION)
        return str(logins[0]["with"]["identity"]) if logins else None

    @property
    def fork_guarded(self) -> bool:
        return any(FORK_GUARD in condition for condition in self.conditions)

    @property
    def concurrency(self) -> Mapping[str, Any] | None:
        value = self.definition.get("concurrency")
        return {"group": value} if isinstance(value, str) else value

    def script(self) -> str:
        return "\n".join(str(step.get("run", "")) for step in self.steps)


def _matrix_legs(job: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    matrix = (job.get("strategy") or {}).get("matrix")
    if not matrix:
        yield "", job
        return
    keys = sorted(matrix)
    for combination in itertools.product(*(matrix[k] for k in keys)):
        values = dict(zip(keys, combination, strict=True))
        yield f"[{','.join(map(str, combination))}]", _substitute(job, "matrix", values)


def workflow_jobs(path: Path) -> list[Job]:
    """The jobs a run of the workflow at `path` consists of."""
    document = load_yaml(path)
    events = frozenset(triggers(document))
    result = []
    for job_id, job in jobs(document).items():
        caller_if = (str(job["if"]),) if "if" in job else ()
        target = str(job.get("uses", ""))
        if target.startswith("./"):
            callee = load_yaml(ROOT / target)
            for callee_id, callee_job in jobs(callee).items():
                filled = _substitute(callee_job, "inputs", job.get("with") or {})
                own_if = (str(filled["if"]),) if "if" in filled else ()
                result.append(
                    Job(
                        path.name,
                        f"{job_id}/{callee_id}",
                        events,
                        filled,
                        caller_if + own_if,
                        dict(job.get("permissions") or {}),
                    )
                )
            continue
        for suffix, leg in _matrix_legs(job):
            result.append(Job(path.name, job_id + suffix, events, leg, caller_if, None))
    return result


def all_jobs() -> list[Job]:
    """Every job of every workflow that has a trigger of its own (reusable ones are inlined)."""
    return [
        job
        for path in sorted(WORKFLOWS.glob("*.yml"))
        if set(triggers(load_yaml(path))) != {"workflow_call"}
        for job in workflow_jobs(path)
    ]
