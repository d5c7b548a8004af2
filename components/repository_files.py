"""The files the production stack commits into the application repository.

Static files ship under `components/app_files/` exactly as they land in the repository
(workflows, Dependabot, issue forms). The two documents that name people or teams,
CODEOWNERS and SECURITY.md, are rendered from settings: they carry no per-environment
value, only who owns what and whom to contact.
"""

from __future__ import annotations

from pathlib import Path

from components.config import Settings

APP_FILES_DIR = Path(__file__).resolve().parent / "app_files"

CODEOWNED_PATHS = ("/.github/", "/vercel.json", "/supabase/")
"""Infrastructure paths whose changes need a review from the DevOps team."""


def static_files() -> dict[str, str]:
    """Every file under `app_files/`, keyed by its path in the application repository."""
    return {
        path.relative_to(APP_FILES_DIR).as_posix(): path.read_text()
        for path in sorted(APP_FILES_DIR.rglob("*"))
        if path.is_file()
    }


def codeowners(settings: Settings) -> str:
    """CODEOWNERS: the DevOps team owns the infrastructure paths (rule G4)."""
    owner = f"@{settings.github.owner}/{settings.github.devops_team}"
    lines = [
        "# Managed by the platform program (Pulumi); edit its config, not this file.",
        "# Changes to the delivery platform need a review from the DevOps team.",
        *(f"{path} {owner}" for path in CODEOWNED_PATHS),
    ]
    return "\n".join(lines) + "\n"


def security_policy(settings: Settings) -> str:
    """SECURITY.md with the private contact and the disclosure window (rule G9)."""
    gh = settings.github
    return f"""# Security policy

<!-- Managed by the platform program (Pulumi); edit its config, not this file. -->

## Reporting a vulnerability

Please report vulnerabilities privately, never in a public issue:

- e-mail **{gh.security_contact}**, or
- use GitHub's *Report a vulnerability* button (private vulnerability reporting).

We acknowledge a report within 2 business days and keep you informed until it is fixed.

## Disclosure

We ask for **{gh.disclosure_window_days} days** between your report and public disclosure,
or less once a fix is released. We credit reporters who wish to be named.

## Supported versions

Only the version deployed from `main` to https://{settings.domain} is supported. Security
patches are deployed within 24 hours of a fix being available; dependency updates are
proposed weekly by Dependabot.
"""


def app_repository_files(settings: Settings, extra: dict[str, str] | None = None) -> dict[str, str]:
    """All files the program commits: static ones, rendered ones and `extra` from others."""
    files = static_files()
    files[".github/CODEOWNERS"] = codeowners(settings)
    files["SECURITY.md"] = security_policy(settings)
    for path, content in (extra or {}).items():
        if path in files:
            raise ValueError(f"{path} is committed twice")
        files[path] = content
    return files
