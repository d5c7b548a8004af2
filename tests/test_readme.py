"""The README is a contract: its commands, config table and outputs match the program."""

from __future__ import annotations

import re
from collections.abc import Callable

from tools.config_table import config_table
from tools.recorder import ROOT, Inventory

README = (ROOT / "README.md").read_text()


def test_config_table_is_generated_from_pulumi_yaml() -> None:
    table = README.split("<!-- config-table:start -->")[1].split("<!-- config-table:end -->")[0]
    assert table.strip() == config_table(), "run `python -m tools.config_table` into the README"


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


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.MULTILINE)
