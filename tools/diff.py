"""Compare two desired states and print a Markdown report.

    python -m tools.diff staging production      # two stacks at this commit
    python -m tools.diff --base REV STACK        # this working tree vs git revision REV

Each side is the offline plan of a stack (`tools.plan`): no credentials, no network. The
report lists resources added, removed and changed (with each changed property as a dotted
path, before → after), the outputs that differ, and a Mermaid diagram of the stack's
components and resources with the changes coloured.

Resources are matched by URN with the stack name normalised to `{stack}` (in the URN's
stack segment and in resource names, where the program's naming convention puts it), so
`acme-web-staging-environment` in staging and `acme-web-production-environment` in
production are the same resource in two stacks.

Secrets are never revealed. Each side's secret values are reduced, in memory, to an
HMAC-SHA256 under a random key made for this run (never written anywhere, handed to the
base revision's worker through its environment); the report only says whether the two
digests differ: "[secret] → [secret] (changed)", or nothing when they are equal. A digest
is never printed, so the report reveals neither a value nor anything to test guesses
against. Offline, a secret set with `pulumi config set --secret` is only known by its
ciphertext: setting it again (even to the same value) shows as changed. Values only known
after an update ("<unknown>") compare equal to each other.

`--base` exports REV with `git archive` into a temporary directory and evaluates it in a
separate Python process (the program's modules are imported by path, so two revisions
cannot share one interpreter); this working tree is evaluated here, uncommitted changes
included. The same inputs always give byte-identical output.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import hmac
import io
import json
import os
import re
import secrets as random_source
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.plan import SECRET, PlanError, desired_state, evaluate, known_stacks, project_name
from tools.recorder import ROOT, UNKNOWN

KEY_ENV = "PLATFORM_DIFF_SECRET_KEY"
"""Environment variable carrying this run's secret-digest key to the base worker."""
SECRET_TAG = "[secret]#"  # noqa: S105 - a marker, not a password
"""Prefix of a secret's digest inside the in-memory documents; never printed."""
STACK_PLACEHOLDER = "{stack}"
LONG_TEXT = 60
"""Strings longer than this (or multi-line) are summarised in tables, diffed below them."""


class DiffError(Exception):
    """Bad input; `str()` is the one line the user sees."""


# --------------------------------------------------------------------------- sides


def _digester(key: bytes) -> Callable[[Any], str]:
    def digest(value: Any) -> str:
        canonical = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
        return SECRET_TAG + hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()

    return digest


def state(stack: str, root: Path, key: bytes) -> dict[str, Any]:
    """The plan document of `stack` at `root`, secrets as keyed digests (in memory only)."""
    return desired_state(evaluate(stack, root), project_name(root), _digester(key))


def _git(root: Path, *args: str) -> bytes:
    result = subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False)
    if result.returncode != 0:
        message = " ".join(result.stderr.decode(errors="replace").split()) or "git failed"
        raise DiffError(message)
    return result.stdout


def resolve_revision(root: Path, revision: str) -> str:
    """The commit `revision` names in the repository at `root`."""
    if not revision or revision.startswith("-"):
        raise DiffError(f"unreadable revision {revision!r}")
    try:
        out = _git(
            root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}"
        )
    except DiffError:
        raise DiffError(f"unreadable revision {revision!r}: not a commit in {root}") from None
    return out.decode().strip()


def export_revision(root: Path, commit: str, into: Path) -> None:
    """Write the tree of `commit` into the directory `into` (like a clean checkout)."""
    archive = _git(root, "archive", "--format=tar", commit)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")


def base_state(stack: str, revision: str, key: bytes, root: Path = ROOT) -> tuple[dict, str]:
    """The plan document of `stack` at git `revision`, and the commit it resolved to."""
    commit = resolve_revision(root, revision)
    with tempfile.TemporaryDirectory(prefix="platform-diff-") as tmp:
        export_revision(root, commit, Path(tmp))
        if stack not in known_stacks(Path(tmp)):
            raise DiffError(f"unknown stack {stack!r} at {revision}: no Pulumi.{stack}.yaml there")
        # This tree's tools evaluate the other tree's program, in a process of its own.
        result = subprocess.run(
            [sys.executable, "-m", "tools.diff", "--worker", stack, "--root", tmp],
            cwd=ROOT,
            env={**os.environ, KEY_ENV: key.hex()},
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines() or ["the worker failed"]
        first = lines[0].removeprefix("diff: error: ")
        raise DiffError(f"at {revision}: {first}" + "".join(f"\n{x}" for x in lines[1:]))
    return json.loads(result.stdout), commit


# --------------------------------------------------------------------------- comparison


def normalise(text: str, stack: str) -> str:
    """`text` with the stack name, where it stands as a word, replaced by `{stack}`."""
    if not stack:
        return text
    return re.sub(rf"(?<![A-Za-z0-9]){re.escape(stack)}(?![A-Za-z0-9])", STACK_PLACEHOLDER, text)


def is_secret(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(SECRET_TAG)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaves of a nested value by dotted path (`a.b[0].c`); empty containers are leaves."""
    if isinstance(value, Mapping) and value:
        leaves: dict[str, Any] = {}
        for key in sorted(value):
            leaves.update(flatten(value[key], f"{prefix}.{key}" if prefix else str(key)))
        return leaves
    if isinstance(value, list) and value:
        leaves = {}
        for i, item in enumerate(value):
            leaves.update(flatten(item, f"{prefix}[{i}]"))
        return leaves
    return {prefix: value}


@dataclass(frozen=True)
class Change:
    """One property that differs; `before`/`after` are None when absent on that side."""

    path: str
    before: Any
    after: Any
    present_before: bool = True
    present_after: bool = True


@dataclass
class Entry:
    """A resource of either side, keyed by its normalised identity."""

    identity: str
    label: str
    type: str
    custom: bool
    parent: str
    status: str = "unchanged"
    changes: list[Change] = field(default_factory=list)


def _properties(resource: Mapping[str, Any], stack: str) -> dict[str, Any]:
    """What is compared: inputs (bare paths) and options, parent and provider (`opts.`)."""
    props = flatten(resource["inputs"])
    props.pop("", None)
    for key, value in resource["options"].items():
        props.update(flatten(value, f"opts.{key}"))
    props["opts.parent"] = normalise(resource["parent"], stack)
    props["opts.provider"] = normalise(resource["provider"], stack)
    return props


def compare_values(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Change]:
    changes = []
    for path in sorted(set(before) | set(after)):
        if path in before and path in after:
            if before[path] != after[path]:
                changes.append(Change(path, before[path], after[path]))
        elif path in before:
            changes.append(Change(path, before[path], None, present_after=False))
        else:
            changes.append(Change(path, None, after[path], present_before=False))
    return changes


@dataclass
class Comparison:
    before_label: str
    after_label: str
    entries: list[Entry]
    outputs: list[Change]
    counts: dict[str, int]


def compare(before: Mapping[str, Any], after: Mapping[str, Any]) -> Comparison:
    """Match resources by normalised URN and list what differs."""
    sides = []
    for document in (before, after):
        stack = document["stack"]
        resources = {normalise(r["urn"], stack): r for r in document["resources"]}
        sides.append((stack, resources))
    (b_stack, b_res), (a_stack, a_res) = sides
    entries = []
    for identity in sorted(set(b_res) | set(a_res)):
        b, a = b_res.get(identity), a_res.get(identity)
        ref = a if a is not None else b
        assert ref is not None
        ref_stack = a_stack if a is not None else b_stack
        entry = Entry(
            identity=identity,
            label=normalise(ref["name"], ref_stack),
            type=ref["type"],
            custom=ref["custom"],
            parent=normalise(ref["parent"], ref_stack),
        )
        if b is None:
            entry.status = "added"
        elif a is None:
            entry.status = "removed"
        else:
            entry.changes = compare_values(_properties(b, b_stack), _properties(a, a_stack))
            entry.status = "changed" if entry.changes else "unchanged"
        entries.append(entry)
    outputs = compare_values(flatten_outputs(before["outputs"]), flatten_outputs(after["outputs"]))
    entries.sort(key=lambda e: (e.label, e.type, e.identity))
    counts = {s: sum(1 for e in entries if e.status == s) for s in _STATUSES}
    return Comparison(_label(before), _label(after), entries, outputs, counts)


_STATUSES = ("added", "removed", "changed", "unchanged")


def flatten_outputs(outputs: Mapping[str, Any]) -> dict[str, Any]:
    leaves = {}
    for key in sorted(outputs):
        leaves.update(flatten(outputs[key], key))
    return leaves


def _label(document: Mapping[str, Any]) -> str:
    return str(document.get("label") or document["stack"])


# --------------------------------------------------------------------------- rendering


def _code(text: str) -> str:
    """`text` as an inline code span that survives Markdown tables."""
    text = text.replace("|", "\\|").replace("\n", " ")
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _is_long(value: Any) -> bool:
    return (
        isinstance(value, str)
        and not is_secret(value)
        and ("\n" in value or len(value) > LONG_TEXT)
    )


def show(value: Any, present: bool = True) -> str:
    """A value for a table cell; secrets only as "[secret]"."""
    if not present:
        return "—"
    if is_secret(value):
        return SECRET
    if value == UNKNOWN:
        return UNKNOWN
    if _is_long(value):
        lines = value.count("\n") + (0 if value.endswith("\n") else 1)
        return f"(text, {lines} line{'s' if lines != 1 else ''}, {len(value)} chars)"
    return _code(json.dumps(value, ensure_ascii=False, sort_keys=True))


def show_change(change: Change) -> tuple[str, str]:
    before = show(change.before, change.present_before)
    after = show(change.after, change.present_after)
    if change.present_before and change.present_after:
        if is_secret(change.before) and is_secret(change.after):
            after = f"{SECRET} (changed)"
        elif is_secret(change.before):
            after += " (no longer secret)"
        elif is_secret(change.after):
            after += " (now secret)"
    return before, after


def _text_diffs(title: str, changes: Sequence[Change]) -> Iterator[str]:
    for change in changes:
        if not (_is_long(change.before) or _is_long(change.after)):
            continue
        before, after = (
            value if isinstance(value, str) and not is_secret(value) else ""
            for value in (change.before, change.after)
        )
        lines = difflib.unified_diff(
            before.splitlines(), after.splitlines(), "before", "after", lineterm="", n=2
        )
        body = "\n".join(lines).replace("```", "`\u200b``")
        yield f"<details><summary>{title} <code>{change.path}</code> (text diff)</summary>"
        yield ""
        yield "```diff"
        yield body
        yield "```"
        yield ""
        yield "</details>"
        yield ""


def render_report(comparison: Comparison, title: str) -> str:
    c = comparison
    out: list[str] = [f"## {title}", ""]
    out.append(f"Before: **{c.before_label}** · After: **{c.after_label}**")
    out.append("")
    out.append(
        f"Resources: **{c.counts['added']} added**, **{c.counts['removed']} removed**, "
        f"**{c.counts['changed']} changed**, {c.counts['unchanged']} unchanged. "
        f"Outputs changed: {len(c.outputs)}."
    )
    out.append("")
    for status, heading in (("added", "Added"), ("removed", "Removed")):
        entries = [e for e in c.entries if e.status == status]
        out.append(f"### {heading} ({len(entries)})")
        out.append("")
        if entries:
            out.append("| resource | type |")
            out.append("| --- | --- |")
            out.extend(f"| {_code(e.label)} | {_code(e.type)} |" for e in entries)
        else:
            out.append("None.")
        out.append("")
    changed = [e for e in c.entries if e.status == "changed"]
    out.append(f"### Changed ({len(changed)})")
    out.append("")
    if not changed:
        out.append("None.")
        out.append("")
    for e in changed:
        out.append(f"#### {_code(e.label)} ({_code(e.type)})")
        out.append("")
        out.append("| property | before | after |")
        out.append("| --- | --- | --- |")
        for change in e.changes:
            before, after = show_change(change)
            out.append(f"| {_code(change.path)} | {before} | {after} |")
        out.append("")
        out.extend(_text_diffs(e.label, e.changes))
    out.append(f"### Outputs ({len(c.outputs)} changed)")
    out.append("")
    if c.outputs:
        out.append("| output | before | after |")
        out.append("| --- | --- | --- |")
        for change in c.outputs:
            before, after = show_change(change)
            out.append(f"| {_code(change.path)} | {before} | {after} |")
    else:
        out.append("None.")
    out.append("")
    out.append("### Diagram")
    out.append("")
    out.append("```mermaid")
    out.extend(mermaid(c.entries))
    out.append("```")
    return "\n".join(out) + "\n"


_MERMAID_ESCAPES = {"&": "#amp;", '"': "#quot;", "<": "#lt;", ">": "#gt;"}


def _mermaid_text(text: str) -> str:
    return "".join(_MERMAID_ESCAPES.get(c, c) for c in text)


def _short_type(type_: str) -> str:
    return type_.rsplit(":", 1)[-1]


def mermaid(entries: Sequence[Entry]) -> list[str]:
    """A flowchart: components as subgraphs holding their children, changes coloured."""
    ids = {e.identity: f"r{i}" for i, e in enumerate(entries)}
    children: dict[str, list[Entry]] = {}
    for e in entries:
        children.setdefault(e.parent if e.parent in ids else "", []).append(e)
    lines = ["flowchart LR"]

    def walk(parent: str, depth: int) -> None:
        indent = "  " * depth
        for e in sorted(children.get(parent, []), key=lambda x: (x.custom, x.label, x.type)):
            node = ids[e.identity]
            if e.identity in children:
                label = _mermaid_text(f"{e.label} ({e.type})")
                lines.append(f'{indent}subgraph {node}["{label}"]')
                walk(e.identity, depth + 1)
                lines.append(f"{indent}end")
            else:
                label = f"{_mermaid_text(e.label)}<br/>{_mermaid_text(_short_type(e.type))}"
                shape = ('["', '"]') if e.custom else ('[["', '"]]')
                lines.append(f"{indent}{node}{shape[0]}{label}{shape[1]}")

    walk("", 1)
    lines.append("  classDef added fill:#dafbe1,stroke:#1a7f37")
    lines.append("  classDef removed fill:#ffebe9,stroke:#cf222e,stroke-dasharray:4 3")
    lines.append("  classDef changed fill:#fff8c5,stroke:#9a6700")
    for status in ("added", "removed", "changed"):
        nodes = [ids[e.identity] for e in entries if e.status == status]
        if nodes:
            lines.append(f"  class {','.join(nodes)} {status}")
    return lines


# --------------------------------------------------------------------------- command


def diff_stacks(before: str, after: str, root: Path = ROOT) -> str:
    """Report for two stacks of the program at `root`."""
    key = random_source.token_bytes(32)
    for stack in (before, after):
        _require_stack(stack, root)
    documents = [state(stack, root, key) for stack in (before, after)]
    return render_report(compare(*documents), f"Stack diff: {before} → {after}")


def diff_revision(revision: str, stack: str, root: Path = ROOT) -> str:
    """Report for one stack: git `revision` → this working tree."""
    key = random_source.token_bytes(32)
    _require_stack(stack, root)
    base, commit = base_state(stack, revision, key, root)
    base["label"] = f"{stack} at {revision} ({commit[:12]})"
    head = state(stack, root, key)
    head["label"] = f"{stack} in the working tree"
    return render_report(compare(base, head), f"Stack diff: {stack}, {revision} → working tree")


def _require_stack(stack: str, root: Path) -> None:
    stacks = known_stacks(root)
    if stack not in stacks:
        raise DiffError(f"unknown stack {stack!r}: expected one of {', '.join(stacks) or '(none)'}")


def _worker(stack: str, root: Path) -> int:
    """Evaluate one stack and print its document (with digests) for the parent process."""
    key = bytes.fromhex(os.environ.get(KEY_ENV, ""))
    if not key:
        print(f"diff: error: {KEY_ENV} is not set (internal worker mode)", file=sys.stderr)
        return 1
    try:
        sys.stdout.write(json.dumps(state(stack, root, key), sort_keys=True))
    except PlanError as error:
        print(f"diff: error: {error}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.diff",
        description="Markdown report of what differs between two desired states (offline).",
    )
    parser.add_argument("stacks", nargs="+", help="BEFORE AFTER stacks, or STACK with --base")
    parser.add_argument("--base", metavar="REV", help="compare STACK at git REV → working tree")
    parser.add_argument("--out", type=Path, help="also write the report to this file")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    root: Path = args.root.resolve()
    if args.worker:
        return _worker(args.stacks[0], root)
    try:
        if args.base is not None:
            if len(args.stacks) != 1:
                raise DiffError("--base REV takes exactly one STACK")
            report = diff_revision(args.base, args.stacks[0], root)
        else:
            if len(args.stacks) != 2:
                raise DiffError("give two stacks (BEFORE AFTER), or --base REV STACK")
            report = diff_stacks(args.stacks[0], args.stacks[1], root)
        if args.out is not None:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(report)
    except (DiffError, PlanError) as error:
        print(f"diff: error: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"diff: error: {' '.join(str(error).split())}", file=sys.stderr)
        return 1
    sys.stdout.write(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
