"""First-load JavaScript of every route of a Next.js build, against a budget.

    python3 .github/scripts/first_load_js.py [--next-dir .next] --budget-kb 500

What a visitor's browser downloads before a route is interactive: the shared runtime
(`rootMainFiles`, polyfills, the pages router's `/_app`) plus the route's own chunks, as the
build manifests list them; each file counted once, gzip-compressed, in kB of 1000 bytes —
how `next build` reports "First Load JS". Prints a Markdown table (largest first) to stdout
and to $GITHUB_STEP_SUMMARY when set, so the figure shows on the pull request's checks; exits
1 when a route is over the budget, 2 when the build output is missing or unreadable.

Standard library only: it runs on the runner's own Python, next to a build of untrusted
pull-request code, and needs nothing installed.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

KB = 1000


class BuildError(Exception):
    """The build output is missing or not what a Next.js build writes."""


def _manifest(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as err:
        raise BuildError(f"{path}: unreadable ({err})") from None
    if not isinstance(data, dict):
        raise BuildError(f"{path}: expected a JSON object")
    return data


def _files(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BuildError(f"{where}: expected a list of file names")
    return [v for v in value if v.endswith(".js")]


def routes(next_dir: Path) -> dict[str, list[str]]:
    """Each route → the JavaScript files its first load fetches (relative to `next_dir`)."""
    build = _manifest(next_dir / "build-manifest.json")
    app = _manifest(next_dir / "app-build-manifest.json")
    if not build and not app:
        raise BuildError(f"{next_dir}: no build-manifest.json: run the build first")
    pages = build.get("pages", {})
    shared = _files(build.get("rootMainFiles", []), "rootMainFiles")
    shared += _files(build.get("polyfillFiles", []), "polyfillFiles")
    result: dict[str, list[str]] = {}
    app_shell = _files(pages.get("/_app", []), "pages./_app")
    for route, files in pages.items():
        if route.startswith("/_"):
            continue
        result[route] = [*shared, *app_shell, *_files(files, f"pages.{route}")]
    for entry, files in app.get("pages", {}).items():
        # App-router entries end in /page (the route) or /layout, /loading ... (shared by it).
        if entry.endswith("/page"):
            route = entry.removesuffix("/page") or "/"
            result[route] = [*shared, *_files(files, f"app pages.{entry}")]
    return result


def gzip_size(path: Path) -> int:
    """Bytes of `path` after gzip at the level servers use (what crosses the network)."""
    return len(gzip.compress(path.read_bytes(), compresslevel=9, mtime=0))


def first_load_kb(next_dir: Path, files: Iterable[str]) -> float:
    total = 0
    for name in dict.fromkeys(files):
        path = next_dir / name
        if not path.is_file():
            raise BuildError(f"{path}: listed in the build manifest but missing")
        total += gzip_size(path)
    return total / KB


def report(sizes: dict[str, float], budget_kb: int) -> str:
    lines = [
        f"### First-load JavaScript (budget {budget_kb} kB)",
        "",
        "| route | first load | |",
        "| --- | ---: | --- |",
    ]
    for route, size in sorted(sizes.items(), key=lambda item: (-item[1], item[0])):
        verdict = "over budget" if size > budget_kb else "ok"
        lines.append(f"| `{route}` | {size:.1f} kB | {verdict} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--next-dir", type=Path, default=Path(".next"))
    parser.add_argument("--budget-kb", type=int, required=True)
    args = parser.parse_args(argv)
    if args.budget_kb <= 0:
        print(f"first-load JS: --budget-kb {args.budget_kb}: expected kB > 0", file=sys.stderr)
        return 2
    try:
        sizes = {r: first_load_kb(args.next_dir, f) for r, f in routes(args.next_dir).items()}
    except BuildError as err:
        print(f"first-load JS: {err}", file=sys.stderr)
        return 2
    if not sizes:
        print(f"first-load JS: {args.next_dir}: the build lists no routes", file=sys.stderr)
        return 2
    table = report(sizes, args.budget_kb)
    print(table)
    if summary := os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(summary, "a", encoding="utf-8") as out:
            out.write(table)
    largest = max(sizes.values())
    over = sorted(route for route, size in sizes.items() if size > args.budget_kb)
    if over:
        print(
            f"::error title=First-load JS over budget::{', '.join(over)} over {args.budget_kb} kB "
            f"(largest {largest:.1f} kB)"
        )
        return 1
    print(f"::notice title=First-load JS::largest route {largest:.1f} kB of {args.budget_kb} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
