"""The app repository's database scripts as the tests run them: where they are, and the shipped
migrations copied beside a test's own."""

from __future__ import annotations

from pathlib import Path

from components.github.app_files import APP_REPO_DIR

SCRIPTS = APP_REPO_DIR / ".github" / "scripts"
SHIPPED_MIGRATIONS = APP_REPO_DIR / "supabase" / "migrations"


def migrations_dir(tmp_path: Path, *extra: tuple[str, str]) -> Path:
    """The shipped migrations plus `extra` (file name, SQL) in a directory of their own."""
    directory = tmp_path / "migrations"
    directory.mkdir(parents=True, exist_ok=True)
    for path in SHIPPED_MIGRATIONS.glob("*.sql"):
        (directory / path.name).write_text(path.read_text())
    for name, sql in extra:
        (directory / name).write_text(sql)
    return directory
