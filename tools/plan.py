"""Offline plan: one stack's desired state, without credentials or network.

    python -m tools.plan STACK [--out DIR] [--root PATH]

Runs the program for STACK under the recorder's mocks (`tools.recorder.record`) and writes
two files into DIR (default `build/plan/`, git-ignored):

- `STACK.json`: the desired state as a deterministic document (sorted keys, resources
  sorted by URN, secrets shown as "[secret]", values only known after an update shown as
  "<unknown>", the stack outputs and the program's warnings);
- `STACK.tree.txt`: the same resources as a tree, components with their children.

The stack file's `secure:` values (what `pulumi config set --secret` writes) cannot be
decrypted here; they reach the program as secret config whose stand-in value is the
ciphertext, so the plan has every resource a real preview would have, and no plaintext.
A secret the program requires but the stack file lacks (it stops a real preview, naming
the key) gets a stand-in too, and the plan's warnings say so.

Bad input (unknown stack, missing files, invalid configuration) ends with a short error
on stderr and exit status 1, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pulumi
import yaml

from tools.recorder import ROOT, Inventory, Registration, Secret, record, stack_config

SECRET = "[secret]"  # noqa: S105 - the placeholder shown instead of a secret
"""How a secret value appears in a plan: the value itself never does."""
FORMAT = "webapp-platform-plan/1"
"""Version of the document's shape; bump it when a field changes meaning."""
DEFAULT_OUT = ROOT / "build" / "plan"


class PlanError(Exception):
    """Bad input; `str()` is what the user sees (one line, or the config problems' lines)."""


def known_stacks(root: Path) -> list[str]:
    """Stacks that have a stack file (`Pulumi.<stack>.yaml`) under `root`."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def _check_program(root: Path, stack: str) -> None:
    if not root.is_dir():
        raise PlanError(f"no such directory: {root}")
    for required in ("Pulumi.yaml", "__main__.py"):
        if not (root / required).is_file():
            raise PlanError(f"not a Pulumi program: {required} is missing in {root}")
    stacks = known_stacks(root)
    if stack not in stacks:
        raise PlanError(
            f"unknown stack {stack!r}: expected one of {', '.join(stacks) or '(no stack files)'}"
        )


def _split_secure(config: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Plain config (keys with namespace) and secret config (key without → stand-in value)."""
    plain: dict[str, Any] = {}
    secure: dict[str, str] = {}
    for key, value in config.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            # Only the ciphertext is known offline; it changes whenever the secret is set
            # again, which is exactly what a diff may say about a secret ("changed").
            secure[key.split(":", 1)[1] if ":" in key else key] = str(value["secure"])
        else:
            plain[key] = value
    return plain, secure


MISSING_SECRET = re.compile(
    r"^(?P<key>[A-Za-z][A-Za-z0-9]*): missing; .*pulumi config set --secret (?P=key) \.\.\.$",
    re.DOTALL,
)
"""How the program names a required secret that is not set (components/config.py)."""
STAND_IN = "[stand-in: not set]"
"""The value a required but absent secret gets in a plan (shown as [secret] anyway)."""


def _missing_secrets(error: pulumi.RunError) -> list[str]:
    """The secret keys a configuration error asks for, if that is all it says."""
    problems = getattr(error, "problems", None)
    if not isinstance(problems, list) or not problems:
        return []
    found = [MISSING_SECRET.match(str(p)) for p in problems]
    return [m["key"] for m in found if m] if all(found) else []


def evaluate(stack: str, root: Path = ROOT) -> Inventory:
    """Run the program at `root` for `stack` under mocks; bad input raises `PlanError`."""
    root = root.resolve()
    _check_program(root, stack)
    try:
        config = stack_config(stack, root)
    except (OSError, yaml.YAMLError) as error:
        raise PlanError(f"cannot read Pulumi.{stack}.yaml: {_one_line(error)}") from None
    plain, secure = _split_secure(config)
    try:
        try:
            return record(stack, config=plain, secrets=secure, root=root)
        except pulumi.RunError as error:
            missing = _missing_secrets(error)
            if not missing:
                raise
        inventory = record(
            stack, config=plain, secrets={**secure, **dict.fromkeys(missing, STAND_IN)}, root=root
        )
        inventory.warnings.extend(
            f"{key} is not set in Pulumi.{stack}.yaml: this plan stands in for it, a real "
            f"preview stops until `pulumi config set --secret {key}` sets it"
            for key in missing
        )
        return inventory
    except pulumi.RunError as error:
        # ConfigError (a RunError) lists one problem per line: keep them all.
        raise PlanError(str(error).strip()) from None
    except (OSError, yaml.YAMLError) as error:
        raise PlanError(f"cannot evaluate stack {stack!r}: {_one_line(error)}") from None
    except Exception as error:  # a bug in the program: report it, without the traceback
        raise PlanError(
            f"the program failed for stack {stack!r}: {type(error).__name__}: {_one_line(error)}"
        ) from None


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text or type(error).__name__


# --------------------------------------------------------------------------- document

SecretRenderer = Callable[[Any], Any]


def _hide(_: Any) -> str:
    return SECRET


def render_value(value: Any, secret: SecretRenderer = _hide) -> Any:
    """A recorded value as plain JSON data, each secret replaced by `secret(value)`."""
    if isinstance(value, Secret):
        return secret(value.value)
    if isinstance(value, Mapping):
        return {str(k): render_value(v, secret) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [render_value(v, secret) for v in value]
    if isinstance(value, float) and value.is_integer():
        # Numbers cross the wire as doubles; 2 reads better than 2.0 and means the same.
        return int(value)
    return value


def _resource(r: Registration, secret: SecretRenderer) -> dict[str, Any]:
    return {
        "urn": r.urn,
        "type": r.type,
        "name": r.name,
        "parent": r.parent,
        "custom": r.custom,
        "provider": r.provider,
        "options": {
            "protect": r.protect,
            "import_id": r.import_id,
            "ignore_changes": sorted(r.ignore_changes),
            "retain_on_delete": r.retain_on_delete,
            "delete_before_replace": r.delete_before_replace,
            "additional_secret_outputs": sorted(r.additional_secret_outputs),
        },
        "inputs": render_value(r.inputs, secret),
    }


def desired_state(
    inventory: Inventory, project: str, secret: SecretRenderer = _hide
) -> dict[str, Any]:
    """The plan document of one recorded stack (plain data, ready for `to_json`)."""
    resources = sorted(inventory.resources, key=lambda r: r.urn)
    counts: dict[str, int] = {}
    for r in resources:
        counts[r.type] = counts.get(r.type, 0) + 1
    return {
        "format": FORMAT,
        "project": project,
        "stack": inventory.stack,
        "summary": {
            "resources": len(resources),
            "components": sum(1 for r in resources if not r.custom),
            "by_type": counts,
        },
        "resources": [_resource(r, secret) for r in resources],
        "outputs": render_value(inventory.outputs, secret),
        "warnings": sorted(set(inventory.warnings)),
    }


def to_json(document: Mapping[str, Any]) -> str:
    """Canonical text of a document: same state, same bytes."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def project_name(root: Path) -> str:
    try:
        return str(yaml.safe_load((root / "Pulumi.yaml").read_text())["name"])
    except (OSError, yaml.YAMLError, KeyError, TypeError) as error:
        raise PlanError(f"cannot read the project name from Pulumi.yaml: {error}") from None


# --------------------------------------------------------------------------- tree


def _flags(resource: Mapping[str, Any]) -> str:
    options = resource["options"]
    flags = []
    if options["protect"]:
        flags.append("protect")
    if options["import_id"]:
        flags.append(f"import={options['import_id']}")
    if options["retain_on_delete"]:
        flags.append("retain-on-delete")
    if options["ignore_changes"]:
        flags.append(f"ignore-changes={','.join(options['ignore_changes'])}")
    return f"  [{'; '.join(flags)}]" if flags else ""


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= 100 else f"{text[:97]}..."


def render_tree(document: Mapping[str, Any]) -> str:
    """The resources of a plan as a tree by parent, then the outputs and warnings."""
    resources: Sequence[Mapping[str, Any]] = document["resources"]
    urns = {r["urn"] for r in resources}
    children: dict[str, list[Mapping[str, Any]]] = {}
    for r in resources:
        parent = r["parent"] if r["parent"] in urns else ""
        children.setdefault(parent, []).append(r)
    for siblings in children.values():
        siblings.sort(key=lambda r: (r["custom"], r["name"], r["type"]))

    summary = document["summary"]
    lines = [
        f"stack {document['stack']} (project {document['project']}): "
        f"{summary['resources']} resources, {summary['components']} components"
    ]

    def walk(parent: str, indent: str) -> None:
        siblings = children.get(parent, [])
        for i, r in enumerate(siblings):
            last = i == len(siblings) - 1
            kind = "" if r["custom"] else " (component)"
            lines.append(
                f"{indent}{'└── ' if last else '├── '}{r['name']}  {r['type']}{kind}{_flags(r)}"
            )
            walk(r["urn"], indent + ("    " if last else "│   "))

    walk("", "")
    outputs: Mapping[str, Any] = document["outputs"]
    if outputs:
        lines.append("")
        lines.append("outputs:")
        lines.extend(f"  {key} = {_short(value)}" for key, value in sorted(outputs.items()))
    if document["warnings"]:
        lines.append("")
        lines.append("warnings:")
        lines.extend(f"  {w}" for w in document["warnings"])
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- command


def plan(stack: str, root: Path = ROOT) -> dict[str, Any]:
    """Evaluate `stack` at `root` and return its plan document."""
    inventory = evaluate(stack, root)
    return desired_state(inventory, project_name(root.resolve()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.plan",
        description="Render a stack's desired state offline (no credentials, no network).",
    )
    parser.add_argument("stack", help="stack name, e.g. staging or production")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output directory (default build/plan)"
    )
    parser.add_argument("--root", type=Path, default=ROOT, help="program directory")
    args = parser.parse_args(argv)
    try:
        document = plan(args.stack, args.root)
        tree = render_tree(document)
        out: Path = args.out
        out.mkdir(parents=True, exist_ok=True)
        json_path = out / f"{args.stack}.json"
        tree_path = out / f"{args.stack}.tree.txt"
        json_path.write_text(to_json(document))
        tree_path.write_text(tree)
    except PlanError as error:
        print(f"plan: error: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"plan: error: cannot write the plan: {_one_line(error)}", file=sys.stderr)
        return 1
    sys.stdout.write(tree)
    print(f"\nwrote {json_path} and {tree_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
