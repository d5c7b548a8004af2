"""The files the production stack commits into the application repository.

Static files ship under `app_repo/` at the top of this repository, exactly as they land in
the application repository (workflows, Dependabot, issue forms, the pinned Vercel CLI). The
two documents that name people or teams, CODEOWNERS and SECURITY.md, are rendered from
settings: they carry no per-environment value, only who owns what and whom to contact.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

APP_REPO_DIR = Path(__file__).resolve().parents[2] / "app_repo"
"""Root of the files shipped into the application repository, laid out as they land there."""

CODEOWNED_PATHS = ("/.github/", "/vercel.json", "/supabase/")
"""Infrastructure paths whose changes need a review from the DevOps team."""


BYTECODE_CACHE = "__pycache__"
"""Python's cache of the shipped scripts (the tests import some of them): never shipped."""


def static_files() -> dict[str, str]:
    """Every file under `app_repo/`, keyed by its path in the application repository.

    A symbolic link ships as the file it points to: `.github/scripts/supabase_api.py` is the
    program's own Management API client (components/supabase/api.py), one copy for both.
    """
    return {
        path.relative_to(APP_REPO_DIR).as_posix(): path.read_text()
        for path in sorted(APP_REPO_DIR.rglob("*"))
        if path.is_file() and BYTECODE_CACHE not in path.relative_to(APP_REPO_DIR).parts
    }


def codeowners(owner: str, devops_team: str) -> str:
    """CODEOWNERS: the DevOps team `@{owner}/{devops_team}` owns the infrastructure paths (G4)."""
    team = f"@{owner}/{devops_team}"
    lines = [
        "# Managed by the platform program (Pulumi); edit its config, not this file.",
        "# Changes to the delivery platform need a review from the DevOps team.",
        *(f"{path} {team}" for path in CODEOWNED_PATHS),
    ]
    return "\n".join(lines) + "\n"


def security_policy(contact: str, disclosure_window_days: int, site_url: str) -> str:
    """SECURITY.md with the private contact and the disclosure window (rule G9)."""
    return f"""# Security policy

<!-- Managed by the platform program (Pulumi); edit its config, not this file. -->

## Reporting a vulnerability

Please report vulnerabilities privately, never in a public issue:

- e-mail **{contact}**, or
- use GitHub's *Report a vulnerability* button (private vulnerability reporting).

We acknowledge a report within 2 business days and keep you informed until it is fixed.

## Disclosure

We ask for **{disclosure_window_days} days** between your report and public disclosure,
or less once a fix is released. We credit reporters who wish to be named.

## Supported versions

Only the version deployed from `main` to {site_url} is supported. Security
patches are deployed within 24 hours of a fix being available; dependency updates are
proposed weekly by Dependabot.
"""


def app_repository_files(rendered: Mapping[str, str]) -> dict[str, str]:
    """All files the program commits: the static ones and `rendered` (path → content)."""
    files = static_files()
    for path, content in rendered.items():
        if path in files:
            raise ValueError(f"{path} is committed twice")
        files[path] = content
    return files
