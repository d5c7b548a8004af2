"""The app's first-load JavaScript budget check, on build outputs laid out as Next.js writes."""

from __future__ import annotations

import gzip
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from components.github.app_files import APP_REPO_DIR

SCRIPT = APP_REPO_DIR / ".github" / "scripts" / "first_load_js.py"


def _js(next_dir: Path, name: str, size: int, seed: int) -> str:
    """A JS file that gzips to about `size` bytes (random bytes do not compress)."""
    path = next_dir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(random.Random(seed).randbytes(size))
    return name


def _build(tmp_path: Path, route_kb: int) -> Path:
    """A build with the pages router (`/`, `/about`) and the app router (`/dashboard`)."""
    nd = tmp_path / ".next"
    shared = [
        _js(nd, "static/chunks/main.js", 40_000, 1),
        _js(nd, "static/chunks/fw.js", 45_000, 2),
    ]
    app = [_js(nd, "static/chunks/pages/_app.js", 10_000, 3)]
    (nd / "build-manifest.json").write_text(
        json.dumps(
            {
                "rootMainFiles": shared,
                "polyfillFiles": [_js(nd, "static/chunks/polyfills.js", 5_000, 4)],
                "pages": {
                    "/_app": app,
                    "/": [_js(nd, "static/chunks/pages/index.js", 20_000, 5), "static/css/x.css"],
                    "/about": [_js(nd, "static/chunks/pages/about.js", route_kb * 1000, 6)],
                },
            }
        )
    )
    (nd / "app-build-manifest.json").write_text(
        json.dumps(
            {
                "pages": {
                    "/dashboard/page": [_js(nd, "static/chunks/app/dash.js", 30_000, 7)],
                    "/layout": [_js(nd, "static/chunks/app/layout.js", 1_000, 8)],
                }
            }
        )
    )
    return nd


def _run(
    next_dir: Path, budget: int, summary: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    if summary is not None:
        env["GITHUB_STEP_SUMMARY"] = str(summary)
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--next-dir", str(next_dir), "--budget-kb", str(budget)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )


def _gz(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9, mtime=0))


def test_within_budget_reports_every_route_largest_first(tmp_path: Path) -> None:
    nd = _build(tmp_path, route_kb=50)
    summary = tmp_path / "summary.md"
    run = _run(nd, 500, summary)
    assert run.returncode == 0, run.stdout + run.stderr
    rows = [line for line in run.stdout.splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == ["/about", "/", "/dashboard"]
    # Shared files counted once per route: main, framework, polyfills, _app, the route.
    shared = sum(_gz(nd / f) for f in ("static/chunks/main.js", "static/chunks/fw.js"))
    about = shared + sum(
        _gz(nd / f)
        for f in (
            "static/chunks/polyfills.js",
            "static/chunks/pages/_app.js",
            "static/chunks/pages/about.js",
        )
    )
    assert f"| `/about` | {about / 1000:.1f} kB | ok |" in run.stdout
    assert "::notice title=First-load JS::largest route" in run.stdout
    assert summary.read_text() in run.stdout, "the same table reaches the pull request's checks"


def test_over_budget_fails_naming_the_routes(tmp_path: Path) -> None:
    run = _run(_build(tmp_path, route_kb=600), 500)
    assert run.returncode == 1
    assert "::error title=First-load JS over budget::/about over 500 kB" in run.stdout
    assert "| over budget |" in run.stdout


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "no build-manifest.json: run the build first"),
        ("broken", "build-manifest.json: unreadable"),
        ("lost-chunk", "listed in the build manifest but missing"),
    ],
)
def test_a_missing_or_broken_build_is_an_error_not_a_pass(
    tmp_path: Path, setup: str, message: str
) -> None:
    nd = _build(tmp_path, route_kb=10)
    if setup == "missing":
        (nd / "build-manifest.json").unlink()
        (nd / "app-build-manifest.json").unlink()
    elif setup == "broken":
        (nd / "build-manifest.json").write_text("{not json")
    else:
        (nd / "static/chunks/pages/index.js").unlink()
    run = _run(nd, 500)
    assert run.returncode == 2 and message in run.stderr, run.stderr
    assert "Traceback" not in run.stderr
