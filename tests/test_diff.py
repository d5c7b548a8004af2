"""Stack diffs: matching across stacks, secrets never revealed, git revisions, determinism."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import MINIMAL_PROGRAM, run_tool
from tools import diff

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = MINIMAL_PROGRAM


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_tool("diff", *args)


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository holding the minimal program, one commit."""
    shutil.copytree(MINIMAL, tmp_path / "repo")
    repo = tmp_path / "repo"
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "one label")
    return repo


@pytest.fixture(scope="module")
def report() -> str:
    result = run_cli("staging", "production")
    assert result.returncode == 0, result.stderr
    return result.stdout


# --------------------------------------------------------------------------- two stacks


def test_two_runs_give_byte_identical_reports(report: str) -> None:
    again = run_cli("staging", "production")
    assert again.returncode == 0
    assert again.stdout.encode() == report.encode()


def test_resources_are_matched_with_the_stack_name_normalised(report: str) -> None:
    changed = report.split("### Changed", 1)[1].split("### Outputs", 1)[0]
    assert "#### `acme-web-{stack}-hosting-project` (`vercel:index/project:Project`)" in changed
    assert '| `name` | `"acme-web-staging-web"` | `"acme-web-production-web"` |' in changed
    added = report.split("### Added", 1)[1].split("### Removed", 1)[0]
    assert "`acme-web-main-ruleset`" in added, "the ruleset is production's alone"
    assert "staging" not in added and "production" not in added


def test_the_report_has_every_section_and_a_consistent_diagram(report: str) -> None:
    for heading in (
        "## Stack diff: staging → production",
        "### Added",
        "### Removed",
        "### Changed",
        "### Outputs",
        "### Diagram",
    ):
        assert heading in report
    diagram = report.split("```mermaid\n", 1)[1].split("```", 1)[0]
    declared = set(re.findall(r"^\s*(?:subgraph )?(r\d+)[\[\"]", diagram, re.MULTILINE))
    styled = {
        n for line in re.findall(r"^  class (\S+) ", diagram, re.MULTILINE) for n in line.split(",")
    }
    assert styled and styled <= declared
    assert diagram.count("subgraph ") == diagram.count("\n  end") + diagram.count("\n    end")


def test_normalise_replaces_only_the_stack_as_a_word() -> None:
    assert diff.normalise("urn:pulumi:staging::p::t::app-staging-web", "staging") == (
        "urn:pulumi:{stack}::p::t::app-{stack}-web"
    )
    assert diff.normalise("stagingarea-staging2", "staging") == "stagingarea-staging2"


# --------------------------------------------------------------------------- secrets


def document(stack: str, value: Any, **inputs: Any) -> dict[str, Any]:
    return {
        "stack": stack,
        "resources": [
            {
                "urn": f"urn:pulumi:{stack}::p::github:index/actionsSecret:ActionsSecret::s",
                "type": "github:index/actionsSecret:ActionsSecret",
                "name": "s",
                "parent": "",
                "custom": True,
                "provider": "",
                "options": {"protect": False},
                "inputs": {"value": value, **inputs},
            }
        ],
        "outputs": {},
    }


def secret(text: str) -> str:
    return diff._digester(b"k" * 32)(text)


def test_a_changed_secret_shows_only_that_it_changed() -> None:
    before = document("staging", secret("old-value"))
    after = document("production", secret("new-value"))
    text = diff.render_report(diff.compare(before, after), "t")
    assert "| `value` | [secret] | [secret] (changed) |" in text
    assert "old-value" not in text and "new-value" not in text
    assert diff.SECRET_TAG not in text
    for digest in (secret("old-value"), secret("new-value")):
        assert digest.removeprefix(diff.SECRET_TAG) not in text


def test_an_unchanged_secret_is_not_listed() -> None:
    text = diff.render_report(
        diff.compare(document("staging", secret("same")), document("production", secret("same"))),
        "t",
    )
    assert "Resources: **0 added**, **0 removed**, **0 changed**, 1 unchanged." in text


def test_a_secret_that_becomes_plain_says_so() -> None:
    comparison = diff.compare(document("a", secret("x")), document("b", "plain"))
    text = diff.render_report(comparison, "t")
    assert '| `value` | [secret] | `"plain"` (no longer secret) |' in text


def test_long_text_is_summarised_in_the_table_and_diffed_below() -> None:
    before = document("a", "v", content="line one\nline two\n")
    after = document("b", "v", content="line one\nline 2\n")
    text = diff.render_report(diff.compare(before, after), "t")
    assert "| `content` | (text, 2 lines, 18 chars) | (text, 2 lines, 16 chars) |" in text
    assert "-line two\n+line 2" in text


# --------------------------------------------------------------------------- revisions


def test_a_revision_diff_shows_what_the_working_tree_adds(repo: Path) -> None:
    stack_file = repo / "Pulumi.staging.yaml"
    stack_file.write_text(stack_file.read_text().replace("count: 1", "count: 2"))
    result = run_cli("--base", "HEAD", "staging", "--root", str(repo))
    assert result.returncode == 0, result.stderr
    assert "## Stack diff: staging, HEAD → working tree" in result.stdout
    assert "**1 added**, **0 removed**, **0 changed**, 1 unchanged" in result.stdout
    assert "| `label-1` | `github:index/issueLabel:IssueLabel` |" in result.stdout
    assert result.stdout == run_cli("--base", "HEAD", "staging", "--root", str(repo)).stdout


def test_a_secret_set_again_shows_as_changed_and_nothing_more(repo: Path) -> None:
    stack_file = repo / "Pulumi.production.yaml"
    ciphertext = "v1:c3RhbmQtaW4=:Y2lwaGVydGV4dA=="
    new = "v1:bmV3LW5vbmNl:bmV3LWNpcGhlcg=="
    stack_file.write_text(stack_file.read_text().replace(ciphertext, new))
    result = run_cli("--base", "HEAD", "production", "--root", str(repo))
    assert result.returncode == 0, result.stderr
    assert "| `value` | [secret] | [secret] (changed) |" in result.stdout
    assert ciphertext not in result.stdout and new not in result.stdout
    assert diff.SECRET_TAG not in result.stdout


def test_an_unchanged_tree_has_no_changes(repo: Path) -> None:
    result = run_cli("--base", "HEAD", "production", "--root", str(repo))
    assert result.returncode == 0, result.stderr
    assert "**0 added**, **0 removed**, **0 changed**, 2 unchanged" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("staging", "qa"),
            "diff: error: unknown stack 'qa': expected one of production, staging\n",
        ),
        (("staging",), "diff: error: give two stacks (BEFORE AFTER), or --base REV STACK\n"),
        (("--base", "no-such-rev", "staging"), "diff: error: unreadable revision 'no-such-rev'"),
        (("--base=--upload-pack=x", "staging"), "diff: error: unreadable revision"),
        (("--base", "HEAD", "qa"), "diff: error: unknown stack 'qa'"),
    ],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(args: tuple[str, ...], message: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 1
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_invalid_config_at_the_base_revision_is_reported(repo: Path) -> None:
    stack_file = repo / "Pulumi.staging.yaml"
    stack_file.write_text("config: [broken\n")
    git(repo, "commit", "-q", "-am", "break the stack file")
    stack_file.write_text("config:\n  minimal:count: 1\n")
    result = run_cli("--base", "HEAD", "staging", "--root", str(repo))
    assert result.returncode == 1
    assert result.stderr.startswith("diff: error: at HEAD: cannot read Pulumi.staging.yaml")
    assert "Traceback" not in result.stderr


def test_a_revision_without_the_stack_is_named(repo: Path) -> None:
    (repo / "Pulumi.qa.yaml").write_text("config: {}\n")
    result = run_cli("--base", "HEAD", "qa", "--root", str(repo))
    assert result.returncode == 1
    assert result.stderr == "diff: error: unknown stack 'qa' at HEAD: no Pulumi.qa.yaml there\n"
