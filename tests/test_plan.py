"""The offline plan: a deterministic desired-state document and tree, clean errors."""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.conftest import MINIMAL_PROGRAM, STACKS, TEST_SECRETS, run_tool
from tools import plan
from tools.recorder import _ORIGINAL_BATCH_SETITEMS, Inventory, record

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = MINIMAL_PROGRAM


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_tool("plan", *args)


@pytest.mark.parametrize("stack", STACKS)
def test_the_document_is_canonical_and_hides_every_secret(
    stack: str, inventory: Callable[[str], Inventory]
) -> None:
    document = plan.desired_state(inventory(stack), "webapp-platform")
    text = plan.to_json(document)
    assert text == plan.to_json(json.loads(text)), "keys are not in a stable order"
    urns = [r["urn"] for r in document["resources"]]
    assert urns == sorted(urns) and len(urns) == len(set(urns))
    assert document["stack"] == stack and document["summary"]["resources"] == len(urns)
    for value in TEST_SECRETS.values():
        assert value not in text, f"{stack}: a secret value reached the plan"
    assert '"[secret]"' in text
    assert document["outputs"], "the stack's outputs are part of the plan"


def test_the_same_stack_gives_the_same_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        assert plan.main(["production", "--out", str(out)]) == 0
    for name in ("production.json", "production.tree.txt"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_the_tree_nests_children_under_their_component(tmp_path: Path) -> None:
    assert plan.main(["staging", "--out", str(tmp_path)]) == 0
    document = json.loads((tmp_path / "staging.json").read_text())
    tree = (tmp_path / "staging.tree.txt").read_text().splitlines()
    assert tree[0].startswith("stack staging (project webapp-platform):")
    components = [r for r in document["resources"] if not r["custom"]]
    assert components, "the staging stack has components"
    for component in components:
        line = next(i for i, t in enumerate(tree) if f"── {component['name']}  " in t)
        depth = tree[line].index("──")
        children = [r for r in document["resources"] if r["parent"] == component["urn"]]
        assert children, component["name"]
        for child in children:
            child_line = next(t for t in tree if f"── {child['name']}  " in t)
            assert child_line.index("──") == depth + 4, child["name"]
    assert "outputs:" in tree


def test_unknown_values_and_protection_are_marked(inventory: Callable[[str], Inventory]) -> None:
    document = plan.desired_state(inventory("production"), "webapp-platform")
    text = plan.to_json(document)
    assert '"<unknown>"' in text
    assert any(r["options"]["protect"] for r in document["resources"])


def test_secure_config_values_become_secrets_without_their_ciphertext(tmp_path: Path) -> None:
    assert plan.main(["production", "--root", str(MINIMAL), "--out", str(tmp_path)]) == 0
    text = (tmp_path / "production.json").read_text()
    secret = next(r for r in json.loads(text)["resources"] if r["type"].endswith(":ActionsSecret"))
    assert secret["inputs"]["value"] == "[secret]"
    assert "Y2lwaGVydGV4dA" not in text


def test_an_unknown_stack_is_one_line_and_no_traceback() -> None:
    result = run_cli("qa")
    assert result.returncode == 1
    assert result.stderr == (
        "plan: error: unknown stack 'qa': expected one of production, staging\n"
    )


def test_invalid_config_lists_the_config_errors(tmp_path: Path) -> None:
    for name in ("__main__.py", "Pulumi.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "components").symlink_to(ROOT / "components")
    document = yaml.safe_load((ROOT / "Pulumi.staging.yaml").read_text())
    document["config"]["webapp-platform:vercelRateLimitRequests"] = 0
    document["config"]["webapp-platform:colour"] = "red"
    (tmp_path / "Pulumi.staging.yaml").write_text(yaml.safe_dump(document))
    result = run_cli("staging", "--root", str(tmp_path), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == "plan: error: invalid stack configuration (2 problems):"
    assert any("colour: unknown key" in line for line in lines)
    assert any("vercelRateLimitRequests: 0 is not allowed" in line for line in lines)
    assert not (tmp_path / "out").exists()


def test_missing_program_files_are_named(tmp_path: Path) -> None:
    result = run_cli("staging", "--root", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "Pulumi.yaml is missing" in result.stderr
    (tmp_path / "Pulumi.yaml").write_text("name: x\nruntime: python\n")
    (tmp_path / "__main__.py").write_text("")
    (tmp_path / "Pulumi.staging.yaml").write_text("config: [unclosed\n")
    result = run_cli("staging", "--root", str(tmp_path))
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "cannot read Pulumi.staging.yaml" in result.stderr


def test_a_program_that_crashes_is_reported_without_a_traceback(tmp_path: Path) -> None:
    shutil.copytree(MINIMAL, tmp_path, dirs_exist_ok=True)
    (tmp_path / "__main__.py").write_text("raise KeyError('boom')\n")
    result = run_cli("staging", "--root", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.startswith("plan: error: the program failed for stack 'staging': KeyError")
    assert result.stderr.count("\n") == 1


def test_recording_leaves_the_pickler_as_it_found_it() -> None:
    """pulumi's serialize_provider wraps the pickler once per dynamic resource and never
    unwraps it; without the recorder's repair, ~950 registrations in one process (the
    test suite, the benchmark) end in RecursionError."""
    record("staging", secrets=TEST_SECRETS)
    restored = vars(pickle._Pickler)["_batch_setitems"]
    assert restored is _ORIGINAL_BATCH_SETITEMS
