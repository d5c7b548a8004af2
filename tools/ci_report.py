"""Markdown bodies for this repository's workflows: PR comments, drift issues, job summaries.

    python -m tools.ci_report pr-comment --stack S --preview F --status F [--diff F] --out F
    python -m tools.ci_report drift --dir DIR --out F   # prints clean, drift or error
    python -m tools.ci_report summary --title T --output F --status F

The workflows compose every body in the job that ran Pulumi (which has no write token)
and hand it as an artifact to a job that only posts it (which runs no repository code).
Bodies stay under GitHub's 65,536-character limit: long Pulumi output keeps its end
(where the resource summary and the policy violations are), a long diff keeps its start,
and both say where the full text is (the run's artifacts).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

MAX_BODY = 60_000
"""GitHub refuses comment and issue bodies over 65,536 characters; keep a margin."""
PREVIEW_BUDGET = 30_000
DIFF_BUDGET = 25_000
DRIFT_BUDGET_PER_STACK = 25_000
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
NO_CHANGES_EXPECTED = "no changes were expected but changes were proposed"
"""What `pulumi preview/refresh --expect-no-changes` prints when it finds changes."""


def marker(stack: str) -> str:
    """The hidden first line that identifies a stack's comment, so it is edited, not repeated."""
    return f"<!-- platform-preview:{stack} -->"


DRIFT_MARKER = "<!-- platform-drift -->"


def clean(text: str) -> str:
    """Terminal output as plain text: no colour codes, no carriage-return redraws."""
    text = _ANSI.sub("", text).replace("\r\n", "\n")
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))


def fenced(text: str, info: str = "text") -> str:
    """`text` in a code fence longer than any backtick run inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text.rstrip()}\n{fence}"


def keep_tail(text: str, budget: int) -> str:
    if len(text) <= budget:
        return text
    cut = text[len(text) - budget :]
    cut = cut.split("\n", 1)[-1]
    return (
        f"[... {len(text) - len(cut)} earlier characters cut: see the run's artifacts ...]\n{cut}"
    )


def keep_head(text: str, budget: int) -> str:
    if len(text) <= budget:
        return text
    cut = text[:budget].rsplit("\n", 1)[0]
    return f"{cut}\n\n_[... {len(text) - len(cut)} more characters: see the run's artifacts]_\n"


def _status(text: str) -> int:
    try:
        return int(text.strip() or "1")
    except ValueError:
        return 1


def pr_comment(stack: str, preview: str, status: int, diff: str | None) -> str:
    """The pull request comment of one stack: preview result, then the offline diff."""
    verdict = "succeeded" if status == 0 else f"failed (exit {status})"
    icon = "✅" if status == 0 else "❌"
    parts = [
        marker(stack),
        f"### {icon} `pulumi preview` of stack `{stack}` {verdict}",
        "",
        "With the policy pack (`--policy-pack policy`); policy violations are listed at the "
        "end of the output.",
        "",
        "<details><summary>Preview output</summary>",
        "",
        fenced(keep_tail(clean(preview), PREVIEW_BUDGET)),
        "",
        "</details>",
        "",
    ]
    if diff is not None:
        parts += [
            "<details><summary>Offline desired-state diff, base → head "
            "(<code>python -m tools.diff --base</code>)</summary>",
            "",
            keep_head(diff, DIFF_BUDGET).rstrip(),
            "",
            "</details>",
            "",
        ]
    return keep_head("\n".join(parts), MAX_BODY)


@dataclass(frozen=True)
class DriftResult:
    """One stack's two drift checks, as the workflow saved them."""

    stack: str
    refresh_status: int
    refresh: str
    preview_status: int
    preview: str

    @property
    def clean(self) -> bool:
        return self.refresh_status == 0 and self.preview_status == 0

    @property
    def verdict(self) -> str:
        if self.clean:
            return "no drift"
        text = f"{self.refresh}\n{self.preview}"
        return "drift" if NO_CHANGES_EXPECTED in text else "check failed"


def read_drift(directory: Path) -> list[DriftResult]:
    """Results under `directory/<stack>/{refresh,preview}.{txt,status}`, by stack name."""
    results = []
    for stack_dir in sorted(p for p in directory.iterdir() if p.is_dir()):

        def read(name: str, folder: Path = stack_dir) -> str:
            path = folder / name
            return path.read_text(errors="replace") if path.is_file() else ""

        results.append(
            DriftResult(
                stack=stack_dir.name,
                refresh_status=_status(read("refresh.status")),
                refresh=clean(read("refresh.txt")),
                preview_status=_status(read("preview.status")),
                preview=clean(read("preview.txt")),
            )
        )
    return results


def drift_issue(results: Sequence[DriftResult], run_url: str = "") -> str:
    """The body of the `drift` issue: one section per stack."""
    parts = [
        DRIFT_MARKER,
        "Live state differs from what the program declares (or the check could not run). "
        "This issue is updated by every drift check and closed when one finds no drift.",
        "",
    ]
    if run_url:
        parts += [f"Last check: {run_url}", ""]
    parts += ["| stack | result |", "| --- | --- |"]
    parts += [f"| `{r.stack}` | {r.verdict} |" for r in results]
    parts.append("")
    for r in results:
        if r.clean:
            continue
        parts += [
            f"### `{r.stack}`",
            "",
            f"<details><summary><code>pulumi refresh --preview-only</code> "
            f"(exit {r.refresh_status})</summary>",
            "",
            fenced(keep_tail(r.refresh, DRIFT_BUDGET_PER_STACK // 2)),
            "",
            "</details>",
            "",
            f"<details><summary><code>pulumi preview --expect-no-changes</code> "
            f"(exit {r.preview_status})</summary>",
            "",
            fenced(keep_tail(r.preview, DRIFT_BUDGET_PER_STACK // 2)),
            "",
            "</details>",
            "",
        ]
    return keep_head("\n".join(parts), MAX_BODY)


def summary(title: str, output: str, status: int) -> str:
    """A job summary section for one Pulumi command."""
    icon = "✅" if status == 0 else "❌"
    return "\n".join(
        [
            f"## {icon} {title} (exit {status})",
            "",
            fenced(keep_tail(clean(output), PREVIEW_BUDGET)),
            "",
        ]
    )


def _read(path: Path | None) -> str | None:
    if path is None:
        return None
    return path.read_text(errors="replace") if path.is_file() else None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.ci_report")
    commands = parser.add_subparsers(dest="command", required=True)
    comment = commands.add_parser("pr-comment", help="pull request comment of one stack")
    comment.add_argument("--stack", required=True)
    comment.add_argument("--preview", type=Path, required=True)
    comment.add_argument("--status", type=Path, required=True)
    comment.add_argument("--diff", type=Path)
    comment.add_argument("--out", type=Path, required=True)
    drift = commands.add_parser("drift", help="drift issue body; prints clean, drift or error")
    drift.add_argument("--dir", type=Path, required=True)
    drift.add_argument("--run-url", default="")
    drift.add_argument("--out", type=Path, required=True)
    section = commands.add_parser("summary", help="job summary section")
    section.add_argument("--title", required=True)
    section.add_argument("--output", type=Path, required=True)
    section.add_argument("--status", type=Path, required=True)
    args = parser.parse_args(argv)

    if args.command == "pr-comment":
        body = pr_comment(
            args.stack,
            _read(args.preview) or "(no output: the preview did not run)",
            _status(_read(args.status) or "1"),
            _read(args.diff) if args.diff else None,
        )
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(body)
    elif args.command == "drift":
        results = read_drift(args.dir) if args.dir.is_dir() else []
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(drift_issue(results, args.run_url))
        # error: no stack reported at all, so there is nothing to say about drift.
        print("error" if not results else "clean" if all(r.clean for r in results) else "drift")
    else:
        sys.stdout.write(
            summary(
                args.title,
                _read(args.output) or "(no output)",
                _status(_read(args.status) or "1"),
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
