"""The README is a contract: its commands, config table and outputs match the program."""

from __future__ import annotations

import re
from collections.abc import Callable

from tools.config_table import config_table
from tools.credential_map import credential_map
from tools.recorder import ROOT, Inventory

README = (ROOT / "README.md").read_text()


def test_config_table_is_generated_from_pulumi_yaml() -> None:
    table = README.split("<!-- config-table:start -->")[1].split("<!-- config-table:end -->")[0]
    assert table.strip() == config_table(), "run `python -m tools.config_table` into the README"


def test_credential_map_is_generated_from_the_workflows_and_policies() -> None:
    table = README.split("<!-- credential-map:start -->")[1].split("<!-- credential-map:end -->")[0]
    assert table.strip() == credential_map(), "run `python -m tools.credential_map` into the README"


def test_the_two_commands_come_first() -> None:
    first_block = README.split("```bash")[1].split("```")[0]
    assert "make preview STACK=staging" in first_block
    assert "make test" in first_block


def test_every_make_target_named_exists() -> None:
    makefile = (ROOT / "Makefile").read_text()
    for target in set(re.findall(r"`make ([a-z-]+)", README)):
        assert re.search(rf"^{target}:", makefile, re.MULTILINE), f"make {target} is documented"


def test_every_output_is_documented(inventory: Callable[[str], Inventory]) -> None:
    outputs_section = README.split("## Outputs")[1].split("\n## ")[0]
    for stack in ("staging", "production"):
        for name in inventory(stack).outputs:
            assert f"`{name}`" in outputs_section, f"output {name} of {stack} is undocumented"


def test_every_relative_link_of_the_readme_and_docs_resolves() -> None:
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    assert len(documents) > 1, "docs/ holds the README's longer material"
    for document in documents:
        for target in re.findall(r"\]\(([^)\s]+)\)", document.read_text()):
            path = target.split("#")[0]
            if not path or re.match(r"[a-z]+:", path):
                continue
            resolved = (document.parent / path).resolve()
            assert resolved.exists(), f"{document.relative_to(ROOT)} links to missing {target}"


def test_the_map_names_every_package_and_module_of_the_program() -> None:
    section = README.split("## Where does X live")[1].split("\n## ")[0]
    linked = {(ROOT / target).resolve() for target in re.findall(r"\]\(([^)#\s]+)\)", section)}
    for module in sorted((ROOT / "components").glob("*.py")):
        if module.name != "__init__.py":
            assert module.resolve() in linked, f"the README map does not link {module.name}"
    for package in sorted(p for p in (ROOT / "components").iterdir() if p.is_dir()):
        if (package / "__init__.py").exists():
            assert any(package in path.parents for path in linked), package.name


def test_resource_counts_stated_match_the_program(inventory: Callable[[str], Inventory]) -> None:
    stated = re.search(r"production\s+(\d+) resources,\s+staging (\d+)", README)
    assert stated, "the README states each stack's resource count"
    assert int(stated.group(1)) == len(inventory("production").resources)
    assert int(stated.group(2)) == len(inventory("staging").resources)


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.MULTILINE)
