"""What `make preview STACK=...` runs, and the first line that says which and why (rule D3).

    python -m tools.preview_mode STACK [--pulumi "PATH VERSION"]

Prints two lines: the mode (`real`, `build` or `offline`), then the headline the user
sees first. `real`: the real `pulumi preview` of the user's stack, with their `pulumi`
(PATH VERSION, from engine/cli.sh), their login and normal plugin acquisition. `build`:
the same, once the CLI is built from Go modules (they have none). `offline`: the offline
plan (`python -m tools.plan STACK`), at once, without building anything.

The real preview needs a backend and the providers' credentials. Both are read from what
is already on this machine, without any network call, so the answer is instant:
- a backend: PULUMI_BACKEND_URL, PULUMI_ACCESS_TOKEN, or a current login recorded by
  `pulumi login` in $PULUMI_HOME/credentials.json (default ~/.pulumi);
- credentials for github, vercel and sentry: their environment variables, their keys in
  the stack's config, or an ESC environment the stack file imports.

Standard library only: it runs before the virtualenv exists on a fresh clone.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent

PROVIDER_CREDENTIALS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # provider: (environment variables, any of which is a credential; stack config keys)
    "github": (("GITHUB_TOKEN", "GITHUB_APP_PEM_FILE"), ("github:token", "github:appAuth")),
    "vercel": (("VERCEL_API_TOKEN",), ("vercel:apiToken",)),
    "sentry": (("SENTRY_AUTH_TOKEN", "SENTRY_TOKEN"), ("sentry:token",)),
}
"""What the providers read their credentials from (their documented configuration)."""


@dataclass(frozen=True)
class Decision:
    """What `make preview` runs, and the first line it prints."""

    mode: str
    """`real`, `build` (real, after building the CLI) or `offline`."""
    headline: str


def shown_url(url: str) -> str:
    """A backend URL fit to print: any user name and password in it are left out."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def backend(env: Mapping[str, str], pulumi_home: Path) -> str | None:
    """The backend the user's `pulumi` would use, described without secrets; None if none."""
    if env.get("PULUMI_BACKEND_URL"):
        return shown_url(env["PULUMI_BACKEND_URL"])
    if env.get("PULUMI_ACCESS_TOKEN"):
        return "Pulumi Cloud (PULUMI_ACCESS_TOKEN)"
    try:
        current = json.loads((pulumi_home / "credentials.json").read_text()).get("current")
    except (OSError, ValueError, AttributeError):
        return None
    return shown_url(current) if isinstance(current, str) and current else None


def missing_credentials(env: Mapping[str, str], stack_file: str) -> list[str]:
    """Providers with no credential in the environment or the stack file, with the usual
    variable to set (the others, and the config keys, are in docs/engine.md)."""
    if re.search(r"^environment:", stack_file, re.MULTILINE):
        return []  # an ESC environment supplies them; what it holds is its own business
    missing = []
    for provider, (variables, keys) in PROVIDER_CREDENTIALS.items():
        in_env = any(env.get(name) for name in variables)
        in_config = any(
            re.search(rf"^\s+{re.escape(key)}:", stack_file, re.MULTILINE) for key in keys
        )
        if not (in_env or in_config):
            missing.append(f"{provider} ({variables[0]})")
    return missing


def decide(
    stack: str, env: Mapping[str, str], pulumi: str, pulumi_home: Path, stack_file: str
) -> Decision:
    """What to run for `stack`, given the user's `pulumi` ("PATH VERSION", or "")."""
    where = backend(env, pulumi_home)
    missing = missing_credentials(env, stack_file)
    if where is None or missing:
        reasons = []
        if where is None:
            reasons.append("no Pulumi backend (`pulumi login`, or PULUMI_BACKEND_URL)")
        if missing:
            reasons.append("no credentials for " + ", ".join(missing))
        return Decision(
            "offline",
            f"preview: the offline plan of {stack} (the program under the SDK's mocks): "
            f"{' and '.join(reasons)}; with both, this is the real `pulumi preview` "
            "(docs/engine.md)",
        )
    real = f"preview: the real `pulumi preview` of {stack} on {where}"
    if pulumi:
        path, _, version = pulumi.partition(" ")
        return Decision("real", f"{real}, with your pulumi {version} ({path})")
    return Decision(
        "build",
        f"{real}; there is no pulumi on PATH (v3, not older than the SDK), so it is built "
        "from Go modules first (engine/build.sh: minutes the first time)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.preview_mode")
    parser.add_argument("stack")
    parser.add_argument("--pulumi", default="", help='the user\'s CLI as "PATH VERSION"')
    args = parser.parse_args(argv)
    stack_file = ROOT / f"Pulumi.{args.stack}.yaml"
    if not re.fullmatch(r"[a-z][a-z0-9-]*", args.stack) or not stack_file.is_file():
        stacks = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))
        print(
            f"preview: unknown stack {args.stack!r} (stacks: {', '.join(stacks)})", file=sys.stderr
        )
        return 2
    home = Path(os.environ.get("PULUMI_HOME") or Path.home() / ".pulumi")
    decision = decide(args.stack, os.environ, args.pulumi, home, stack_file.read_text())
    print(decision.mode)
    print(decision.headline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
