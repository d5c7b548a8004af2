"""Refuse to apply a commit that is older than the one a stack last applied (rule D2).

    python -m tools.deploy_guard --stack S --history FILE --commit SHA [--repo DIR]

FILE is `pulumi stack history --output json` of the stack. Pulumi records the checkout's commit of
every update (`environment["git.head"]`); the newest update's commit must be SHA itself or
one of its ancestors. Otherwise this run would take the stack back: a re-run of an old
workflow run, or an approval given to an old run after a newer one was applied. The CI's
concurrency groups make that rare; this makes it impossible. Exit status 0 with one line
saying why it may go on, or 1 with one line saying why not; bad input exits 2.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Applied:
    """The newest update of a stack, as its history records it."""

    commit: str | None
    """`git.head` of the checkout it ran from; None when it ran outside a git checkout."""
    started: str
    result: str


def last_update(history: object) -> Applied | None:
    """The newest `update` in a `pulumi stack history --output json` document (newest first)."""
    if not isinstance(history, list):
        raise ValueError("expected the JSON list `pulumi stack history --output json` prints")
    for entry in history:
        if isinstance(entry, dict) and entry.get("kind") == "update":
            environment: Any = entry.get("environment") or {}
            return Applied(
                commit=environment.get("git.head") or None,
                started=str(entry.get("startTime", "?")),
                result=str(entry.get("result", "?")),
            )
    return None


def verdict(
    stack: str, applied: Applied | None, commit: str, is_ancestor: Callable[[str, str], bool]
) -> tuple[bool, str]:
    """Whether `commit` may be applied to `stack`, and the one line that says why."""
    if applied is None:
        return True, f"{stack}: no update recorded yet; {commit[:12]} may be applied"
    if applied.commit is None:
        return True, (
            f"{stack}: the last update ({applied.started}) recorded no commit (run outside a "
            f"git checkout); {commit[:12]} may be applied"
        )
    if applied.commit == commit:
        return True, f"{stack}: {commit[:12]} is the commit last applied; applying it again"
    if is_ancestor(applied.commit, commit):
        return (
            True,
            f"{stack}: {commit[:12]} follows {applied.commit[:12]}, the commit last applied",
        )
    return False, (
        f"{stack} last applied {applied.commit[:12]} ({applied.started}, {applied.result}), "
        f"which is not part of {commit[:12]}'s history: this run is older than what {stack} "
        "runs, or the stack was updated from elsewhere. Run `up` for the newest commit of main "
        "instead (docs/delivery.md#on-merge)"
    )


def git_is_ancestor(repo: Path) -> Callable[[str, str], bool]:
    """`git merge-base --is-ancestor` in `repo`; a commit the clone lacks is no ancestor."""

    def is_ancestor(older: str, newer: str) -> bool:
        result = subprocess.run(
            ["git", "-C", str(repo), "merge-base", "--is-ancestor", older, newer],
            capture_output=True,
            check=False,
        )
        return result.returncode == 0

    return is_ancestor


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.deploy_guard")
    parser.add_argument("--stack", required=True)
    parser.add_argument("--history", type=Path, required=True)
    parser.add_argument("--commit", required=True)
    parser.add_argument("--repo", type=Path, default=Path.cwd())
    args = parser.parse_args(argv)
    try:
        applied = last_update(json.loads(args.history.read_text()))
    except (OSError, ValueError) as error:
        print(f"deploy_guard: cannot read {args.history}: {error}", file=sys.stderr)
        return 2
    ok, line = verdict(args.stack, applied, args.commit, git_is_ancestor(args.repo))
    print(line if ok else f"::error::{line}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
