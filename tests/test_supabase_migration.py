"""State written by the single-resource provider (commit 2f12a3f) under the split layout.

`fixtures/supabase_project_state_2f12a3f.json` is a production Project state recorded by
that commit's code (its `__provider` pickled by it). Production must not be replaced: the
new provider reads that state, its diff against the program's new inputs says no change
and no replacement (inputs that moved to their own resources are not changes), and the
new settings resources' creates only re-apply what is live.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import dill
import pytest

from components.supabase.dynamic import Timing
from components.supabase.provider import SupabaseProjectProvider
from tests.conftest import TEST_SECRETS
from tests.fake_supabase import FakeProject, FakeSupabase
from tests.supabase_harness import (
    RECORDED_STATE,
    Stack,
    adopt_recorded_state,
    live_recorded_project,
    live_settings,
)
from tools.recorder import Secret, record

STATE = RECORDED_STATE
OLD_INPUTS: dict[str, Any] = STATE["inputs"]
OLD_OUTPUTS: dict[str, Any] = STATE["outputs"]


def old_provider() -> Any:
    """The `__provider` of the recorded state, loaded as the dynamic provider host does."""
    return dill.loads(base64.b64decode(OLD_OUTPUTS["__provider"]))  # noqa: S301 (our fixture)


def program_inputs() -> dict[str, Any]:
    """The Project inputs the program registers for production now (secrets unwrapped; the
    generated password is unknown offline, so the recorded one stands in for it)."""
    inventory = record("production", secrets=TEST_SECRETS)
    (project,) = inventory.of_type(STATE["type"])
    assert (
        f"urn:pulumi:production::webapp-platform::{STATE['urn'].split('::', 2)[2]}" == project.urn
    )
    inputs = {k: v.value if isinstance(v, Secret) else v for k, v in project.inputs.items()}
    inputs["db_pass"] = OLD_INPUTS["db_pass"]
    return inputs


def test_the_recorded_state_is_of_the_single_resource_layout() -> None:
    """Guards the premise: this state still carries the settings the split moved out."""
    moved = {"pool_mode", "ssl_enforced", "allowed_cidrs", "mailer_otp_exp", "db_pass"}
    assert moved <= set(OLD_INPUTS) and moved <= set(OLD_OUTPUTS)
    assert "pooled_connection_string" in OLD_OUTPUTS and "adopted" not in OLD_OUTPUTS


def test_the_old_pickled_provider_loads_as_the_new_one() -> None:
    provider = old_provider()
    assert type(provider) is SupabaseProjectProvider
    # Its Timing predates the new fields: they fall back to the class defaults.
    assert provider.timing.lookup_wait == Timing().lookup_wait
    assert provider.timing.operation_timeout == Timing().operation_timeout
    assert vars(provider.timing)["create_attempts"] == 3  # the old field, harmless


@pytest.mark.parametrize("provider", [SupabaseProjectProvider(), old_provider()])
def test_the_new_diff_says_no_change_and_no_replacement(provider: Any) -> None:
    news = dict(provider.check(OLD_INPUTS, program_inputs()).inputs)
    diff = provider.diff(STATE["id"], OLD_OUTPUTS, news)
    assert diff.replaces == []
    assert diff.changes is False
    assert diff.delete_before_replace is False


def test_a_real_change_still_shows() -> None:
    news = {**program_inputs(), "desired_instance_size": "medium"}
    diff = SupabaseProjectProvider().diff(STATE["id"], OLD_OUTPUTS, news)
    assert (diff.changes, diff.replaces) == (True, [])


@pytest.fixture
def live(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeSupabase, FakeProject]]:
    """The production project the state describes, live on the fake API."""
    with FakeSupabase(token=None) as fake:
        monkeypatch.setenv("SUPABASE_API_URL", fake.url)
        yield fake, live_recorded_project(fake)


def test_refresh_with_the_old_provider_reads_the_new_layout(
    live: tuple[FakeSupabase, FakeProject],
) -> None:
    fake, project = live
    outs = dict(OLD_OUTPUTS, ref=project.ref)
    read = old_provider().read(project.ref, outs)
    assert read.id == project.ref
    new = read.outs or {}
    assert new["adopted"] is None  # recorded by the earlier provider: it set the password
    for gone in ("db_pass", "pooled_connection_string", "direct_connection_string", "settings"):
        assert gone not in new
    assert (new["desired_instance_size"], new["pitr_required"]) == ("small", True)
    assert not [r for r in fake.requests if r.method != "GET"]


def test_the_new_settings_resources_only_reapply_what_is_live(
    live: tuple[FakeSupabase, FakeProject],
) -> None:
    fake, project = live
    before = live_settings(project)
    stack = Stack(fake)
    assert stack.up(adopt_recorded_state(stack, project)) == {}
    assert live_settings(project) == before
    assert not fake.calls("POST", "/v1/projects") and stack.problems() == []
