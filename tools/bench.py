"""How long the offline plan takes, and how that grows: `python -m tools.bench` (`make bench`).

Prints figures, asserts nothing. Each figure is the median of several runs:

1. each stack's plan (evaluate under mocks + build the document + serialise it) against
   the minimal one-resource program in `tests/fixtures/minimal`, in a warm process (the
   ratio is what the platform's own code costs) and as a fresh `python -m tools.plan`
   process (what `make plan` feels like: interpreter start and imports included);
2. repeated evaluation of a stack in one process, N = 1, 5, 20 (does a run leave state
   behind that slows the next?);
3. the minimal program scaled to N = 1, 10, 100, 1000 resources (cost per resource).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from tools.plan import desired_state, evaluate, to_json
from tools.recorder import ROOT, record

MINIMAL = ROOT / "tests" / "fixtures" / "minimal"
STACKS = ("staging", "production")


def _median(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _plan(stack: str, root: Path) -> int:
    document = desired_state(evaluate(stack, root), "bench")
    to_json(document)
    return int(document["summary"]["resources"])


def _cold(stack: str, root: Path, runs: int) -> float:
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "tools.plan", stack, "--root", str(root), "--out", out]

        def once() -> None:
            subprocess.run(command, cwd=ROOT, check=True, capture_output=True)

        return _median(once, runs)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__)
    parser.add_argument("--runs", type=int, default=7, help="runs per warm figure (median)")
    parser.add_argument("--cold-runs", type=int, default=3, help="runs per cold figure")
    args = parser.parse_args(argv)

    print(f"offline plan benchmark (median of {args.runs} warm / {args.cold_runs} cold runs)")
    _plan("staging", MINIMAL)  # warm the imports both programs share
    for stack in STACKS:
        _plan(stack, ROOT)
    minimal_warm = _median(lambda: _plan("staging", MINIMAL), args.runs)
    minimal_cold = _cold("staging", MINIMAL, args.cold_runs)
    print("\n1. each stack against the minimal one-resource program")
    print(f"   {'program':<22}{'resources':>10}{'warm':>12}{'ratio':>8}{'cold':>12}{'ratio':>8}")
    print(
        f"   {'minimal':<22}{1:>10}{_ms(minimal_warm):>12}{'1.0x':>8}{_ms(minimal_cold):>12}"
        f"{'1.0x':>8}"
    )
    for stack in STACKS:
        count = _plan(stack, ROOT)
        warm = _median(functools.partial(_plan, stack, ROOT), args.runs)
        cold = _cold(stack, ROOT, args.cold_runs)
        print(
            f"   {stack:<22}{count:>10}{_ms(warm):>12}{warm / minimal_warm:>7.1f}x"
            f"{_ms(cold):>12}{cold / minimal_cold:>7.1f}x"
        )

    print("\n2. repeated evaluation of staging in one process")
    print(f"   {'N':>5}{'total':>12}{'per run':>12}")
    for n in (1, 5, 20):

        def repeat(n: int = n) -> None:
            for _ in range(n):
                _plan("staging", ROOT)

        total = _median(repeat, max(3, args.runs // 2))
        print(f"   {n:>5}{_ms(total):>12}{_ms(total / n):>12}")

    print("\n3. the minimal program scaled to N resources")
    print(f"   {'N':>5}{'total':>12}{'per resource':>14}")
    for n in (1, 10, 100, 1000):

        def scaled(n: int = n) -> None:
            inventory = record("staging", config={"minimal:count": n}, root=MINIMAL)
            to_json(desired_state(inventory, "bench"))

        total = _median(scaled, 3 if n >= 1000 else args.runs)
        print(f"   {n:>5}{_ms(total):>12}{_ms(total / n):>14}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
