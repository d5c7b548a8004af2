"""The engine built by engine/build.sh is pinned consistently with requirements.txt.

Reads engine/versions.env and the wrapper modules' go.mod/go.sum; builds nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "engine"


def _versions() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in (ENGINE / "versions.env").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"versions.env: not KEY=VALUE: {line!r}"
        values[key] = value
    return values


def _requirements() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s;#]+)", line)
        if match:
            pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    return pins


def _required(go_mod: Path, module: str) -> str:
    """The version go.mod requires for module (single-line or block form)."""
    pattern = re.compile(r"^\s*(?:require\s+)?" + re.escape(module) + r"\s+(v\S+)", re.M)
    found = pattern.findall(go_mod.read_text())
    assert len(found) == 1, f"{go_mod}: expected one requirement of {module}, found {found}"
    return str(found[0])


def _semver(version: str) -> tuple[int, int, int]:
    major, minor, patch = version.lstrip("v").split("-")[0].split(".")[:3]
    return int(major), int(minor), int(patch)


VERSIONS = _versions()
PROVIDERS = tuple(VERSIONS["PROVIDERS"].strip('"').split())
REQUIREMENTS = _requirements()


def test_every_provider_sdk_the_program_pins_has_its_plugin_listed() -> None:
    listed = {VERSIONS[f"PROVIDER_{provider}_PYPI"] for provider in PROVIDERS}
    sdks = {
        package
        for package in REQUIREMENTS
        if package.startswith(("pulumi-", "pulumiverse-")) and package != "pulumi-policy"
    }
    assert sdks == listed, "engine/versions.env PROVIDERS must list every provider SDK"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_provider_plugin_version_matches_python_sdk(provider: str) -> None:
    package = VERSIONS[f"PROVIDER_{provider}_PYPI"]
    assert package in REQUIREMENTS, f"{package} is not pinned in requirements.txt"
    assert VERSIONS[f"PROVIDER_{provider}_VERSION"] == REQUIREMENTS[package]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_provider_module_pin_is_a_go_module_version(provider: str) -> None:
    module = VERSIONS[f"PROVIDER_{provider}_MODULE"]
    pseudo = VERSIONS[f"PROVIDER_{provider}_PSEUDO"]
    assert re.fullmatch(r"github\.com/[\w.-]+/[\w.-]+/provider(/v\d+)?", module)
    if pseudo:
        major = re.search(r"/v(\d+)$", module)
        prefix = f"v{major.group(1)}" if major else "v0"
        assert re.fullmatch(re.escape(prefix) + r"\.0\.0-\d{14}-[0-9a-f]{12}", pseudo), pseudo
    # A provider wrapper module, once one exists, must pin the same version.
    wrapper = ENGINE / "providers" / provider.lower() / "go.mod"
    if wrapper.exists():
        assert pseudo, f"{wrapper} exists but versions.env has no PROVIDER_{provider}_PSEUDO"
        assert _required(wrapper, module) == pseudo
        assert (wrapper.parent / "go.sum").exists()


def test_python_sdk_scripts_come_from_the_sdk_version() -> None:
    assert VERSIONS["PULUMI_SDK_VERSION"] == "v" + REQUIREMENTS["pulumi"]
    go_mod = ENGINE / "python-sdk" / "go.mod"
    assert _required(go_mod, "github.com/pulumi/pulumi/sdk/v3") == VERSIONS["PULUMI_SDK_VERSION"]


def test_cli_wrapper_pins_pkg_and_sdk_at_the_cli_version() -> None:
    cli = VERSIONS["PULUMI_CLI_VERSION"]
    go_mod = ENGINE / "cli" / "go.mod"
    assert _required(go_mod, "github.com/pulumi/pulumi/pkg/v3") == cli
    assert _required(go_mod, "github.com/pulumi/pulumi/sdk/v3") == cli


def test_host_shim_speaks_the_cli_protocol_version() -> None:
    """The shim forwards the CLI's language protocol: its stubs come from the CLI's sdk."""
    go_mod = ENGINE / "language-python-shim" / "go.mod"
    assert _required(go_mod, "github.com/pulumi/pulumi/sdk/v3") == VERSIONS["PULUMI_CLI_VERSION"]


def test_cli_is_same_major_and_not_older_than_python_sdk() -> None:
    cli = _semver(VERSIONS["PULUMI_CLI_VERSION"])
    sdk = _semver(REQUIREMENTS["pulumi"])
    assert cli[0] == sdk[0] and cli >= sdk


def test_language_host_and_actionlint_wrappers_match_versions_env() -> None:
    host = ENGINE / "language-python" / "go.mod"
    expected = VERSIONS["LANGUAGE_PYTHON_VERSION"]
    assert _required(host, VERSIONS["LANGUAGE_PYTHON_MODULE"]) == expected
    lint = ENGINE / "actionlint" / "go.mod"
    assert _required(lint, "github.com/rhysd/actionlint") == VERSIONS["ACTIONLINT_VERSION"]


@pytest.mark.parametrize(
    ("wrapper", "module", "key"),
    [
        ("cli", "github.com/pulumi/pulumi/pkg/v3", "PULUMI_CLI_VERSION"),
        ("python-sdk", "github.com/pulumi/pulumi/sdk/v3", "PULUMI_SDK_VERSION"),
        ("language-python", "github.com/pulumi/pulumi/sdk/v3", "LANGUAGE_PYTHON_VERSION"),
        ("actionlint", "github.com/rhysd/actionlint", "ACTIONLINT_VERSION"),
    ],
)
def test_wrapper_go_sum_pins_the_module_content(wrapper: str, module: str, key: str) -> None:
    go_sum = (ENGINE / wrapper / "go.sum").read_text()
    assert f"{module} {VERSIONS[key]} h1:" in go_sum
