"""The Supabase dynamic providers one call at a time, against the local fake API.

Project (create, adopt, read, update, delete, diff, check), the database password, the
settings groups (pooler, SSL, network restrictions, auth with SMTP), the secrecy of the
pickled providers, and a contract test of every request they make against the published
OpenAPI document. Faults are the matrix's business (test_supabase_faults.py).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterator
from typing import Any, cast

import dill
import pulumi
import pulumi.dynamic
import pytest
from google.protobuf import struct_pb2
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi.runtime.rpc import UNKNOWN

from components.supabase.api import SupabaseApiError, SupabaseConfigError
from components.supabase.dynamic import ProviderBase, SupabaseProvisioningError
from components.supabase.facts import SECRET_FIELDS
from components.supabase.password import DatabasePasswordProvider, intended
from components.supabase.provider import (
    INPUT_KEYS,
    SupabaseProject,
    SupabaseProjectArgs,
    SupabaseProjectProvider,
)
from components.supabase.settings_resources import (
    AuthConfigProvider,
    NetworkRestrictionsProvider,
    PoolerProvider,
    SslEnforcementProvider,
)
from tests.fake_supabase import FakeSupabase
from tests.supabase_contract import (
    BRANCH_ROUTES,
    contract_problems,
    load_openapi,
    response_problems,
)
from tests.supabase_harness import GENERATED, TOKEN, Desired, FakeTime, Stack

MUTATING = ("POST", "PUT", "PATCH", "DELETE")


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSupabase]:
    with FakeSupabase(token=TOKEN, coming_up_polls=2) as server:
        monkeypatch.setenv("SUPABASE_API_URL", server.url)
        monkeypatch.setenv("SUPABASE_ACCESS_TOKEN", TOKEN)
        yield server


@pytest.fixture
def stack(fake: FakeSupabase) -> Stack:
    return Stack(fake)


def provider(stack: Stack, role: str) -> Any:
    return stack.providers[role]


def mutations(fake: FakeSupabase, since: int = 0) -> list[tuple[str, str | None]]:
    return [(r.method, r.template) for r in fake.requests[since:] if r.method in MUTATING]


def project_props(**overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "name": "app-staging-db",
        "organization_slug": "acme",
        "region": "eu-central-1",
        "db_pass": GENERATED,
    }
    props.update(overrides)
    return props


# ---------------------------------------------------------------- project: create


def test_create_posts_only_current_fields_once(fake: FakeSupabase, stack: Stack) -> None:
    created = provider(stack, "project").create(project_props(desired_instance_size="small"))
    (post,) = fake.calls("POST", "/v1/projects")
    assert post.body == {
        "name": "app-staging-db",
        "organization_slug": "acme",
        "db_pass": GENERATED,
        "region_selection": {"type": "specific", "code": "eu-central-1"},
        "desired_instance_size": "small",
    }
    outs = created.outs or {}
    ref = created.id
    assert outs["ref"] == ref and outs["api_url"] == f"https://{ref}.supabase.co"
    assert outs["db_host"] == f"db.{ref}.supabase.co" and outs["adopted"] is False
    assert outs["anon_key"].startswith("eyJ") and "service" in outs["service_role_key"]
    assert outs["desired_instance_size"] == "small" and outs["pitr_required"] is False
    assert outs["walg_enabled"] is True and outs["latest_backup_at"] is not None
    assert "db_pass" not in outs  # the DatabasePassword resource records the password
    assert fake.projects[ref].password == GENERATED
    assert mutations(fake) == [("POST", "/v1/projects")]


def test_create_waits_for_health_with_a_bounded_backoff(fake: FakeSupabase) -> None:
    fake.coming_up_polls = 6
    clock = FakeTime()
    stack = Stack(fake, clock, poll_interval=5.0, max_poll_interval=20.0)
    provider(stack, "project").create(project_props())
    assert clock.slept == [5.0, 10.0, 20.0, 20.0, 20.0, 20.0]
    assert sum("COMING_UP" in line for line in stack.logs) == 6


def test_create_with_pitr_selects_the_shortest_add_on(fake: FakeSupabase, stack: Stack) -> None:
    created = provider(stack, "project").create(
        project_props(desired_instance_size="small", pitr_required=True)
    )
    assert fake.projects[created.id].pitr_variant == "pitr_7"
    assert (created.outs or {})["pitr_required"] is True


def test_create_rejects_invalid_inputs_before_any_call(fake: FakeSupabase, stack: Stack) -> None:
    with pytest.raises(ValueError, match="region='Mars'") as caught:
        provider(stack, "project").create(project_props(region="Mars", db_pass="abc"))
    assert "db_pass=[secret]" in str(caught.value) and "abc" not in str(caught.value)
    assert not fake.requests


def test_create_with_a_bad_token_is_one_clear_401(
    fake: FakeSupabase, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "sbp_wrong_token_for_this_test"
    monkeypatch.setenv("SUPABASE_ACCESS_TOKEN", wrong)
    with pytest.raises(SupabaseApiError) as caught:
        provider(stack, "project").create(project_props())
    assert caught.value.status == 401 and wrong not in str(caught.value)
    assert not fake.projects


def test_no_token_anywhere_is_a_clear_error(
    fake: FakeSupabase, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SUPABASE_ACCESS_TOKEN")
    with pytest.raises(SupabaseConfigError, match="SUPABASE_ACCESS_TOKEN"):
        provider(stack, "project").create(project_props())


def test_access_token_property_wins_over_the_environment(
    fake: FakeSupabase, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUPABASE_ACCESS_TOKEN", "stale-token")
    project = provider(stack, "project")
    created = project.create(project_props(access_token=TOKEN))
    outs = created.outs or {}
    assert outs["access_token"] == TOKEN  # kept (as a secret output) for refresh and delete
    monkeypatch.delenv("SUPABASE_ACCESS_TOKEN")
    assert project.read(created.id, outs).id == created.id
    project.delete(created.id, outs)
    assert not fake.projects


# ---------------------------------------------------------------- project: read, update


def test_read_reports_live_values_and_keeps_unmanaged_ones_unmanaged(
    fake: FakeSupabase, stack: Stack
) -> None:
    project = provider(stack, "project")
    created = project.create(project_props(desired_instance_size=None))
    live = fake.projects[created.id]
    live.name, live.size, live.pitr_variant = "renamed-by-hand", "medium", "pitr_7"
    outs = project.read(created.id, created.outs or {}).outs or {}
    assert outs["name"] == "renamed-by-hand"
    assert outs["desired_instance_size"] is None and outs["pitr_required"] is False
    diff = project.diff(created.id, outs, project_props(desired_instance_size=None))
    assert (diff.changes, diff.replaces) == (True, [])


def test_read_by_id_alone_is_an_adoption(fake: FakeSupabase, stack: Stack) -> None:
    existing = fake.add_project("legacy-db", "acme", region="us-east-1", size="small")
    outs = provider(stack, "project").read(existing.ref, {}).outs or {}
    assert (outs["name"], outs["organization_slug"], outs["region"]) == (
        "legacy-db",
        "acme",
        "us-east-1",
    )
    assert outs["desired_instance_size"] == "small" and outs["adopted"] is True


def test_read_of_a_project_that_is_not_ready_keeps_what_it_cannot_read(
    fake: FakeSupabase, stack: Stack
) -> None:
    project = provider(stack, "project")
    created = project.create(project_props())
    fake.projects[created.id].status = "RESTORING"
    mark = len(fake.requests)
    outs = project.read(created.id, created.outs or {}).outs or {}
    assert outs["status"] == "RESTORING"
    assert outs["anon_key"] == (created.outs or {})["anon_key"]
    assert [r.template for r in fake.requests[mark:]] == ["/v1/projects/{ref}"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"name": "app-staging-main"}, [("PATCH", "/v1/projects/{ref}")]),
        ({"desired_instance_size": "medium"}, [("PATCH", "/v1/projects/{ref}/billing/addons")]),
        ({"pitr_required": True}, [("PATCH", "/v1/projects/{ref}/billing/addons")]),
        ({"db_pass": "another-password"}, []),
        ({"pitr_required": False}, []),
    ],
)
def test_project_update_applies_only_what_changed(
    fake: FakeSupabase, stack: Stack, change: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    project = provider(stack, "project")
    created = project.create(project_props(desired_instance_size="small"))
    news = {**project_props(desired_instance_size="small"), **change}
    mark = len(fake.requests)
    outs = project.update(created.id, created.outs or {}, news).outs or {}
    assert mutations(fake, mark) == expected
    assert project.diff(created.id, outs, news).changes is False


def test_update_cannot_shrink_to_nano(fake: FakeSupabase, stack: Stack) -> None:
    project = provider(stack, "project")
    created = project.create(project_props(desired_instance_size="small"))
    with pytest.raises(SupabaseProvisioningError, match="nano"):
        project.update(created.id, created.outs or {}, project_props(desired_instance_size="nano"))


def test_update_refuses_a_change_that_needs_replacement(fake: FakeSupabase, stack: Stack) -> None:
    project = provider(stack, "project")
    created = project.create(project_props())
    with pytest.raises(SupabaseProvisioningError, match="region"):
        project.update(created.id, created.outs or {}, project_props(region="us-east-1"))


def test_delete_tolerates_a_project_already_gone(fake: FakeSupabase, stack: Stack) -> None:
    project = provider(stack, "project")
    created = project.create(project_props())
    project.delete(created.id, created.outs or {})
    project.delete(created.id, created.outs or {})
    assert [r.status for r in fake.calls("DELETE", "/v1/projects/{ref}")] == [200, 404]


# ---------------------------------------------------------------- project: diff and check

RECORDED = {
    **project_props(),
    "desired_instance_size": "small",
    "pitr_required": True,
    "ref": "abcdefghijklmnopqrst",
}


@pytest.mark.parametrize(
    ("change", "changes", "replaces"),
    [
        ({}, False, []),
        ({"region": "us-east-1"}, True, ["region"]),
        ({"organization_slug": "globex"}, True, ["organization_slug"]),
        ({"name": "renamed"}, True, []),
        ({"db_pass": "other-password"}, False, []),
        ({"db_pass": UNKNOWN}, False, []),
        ({"desired_instance_size": "large"}, True, []),
        ({"desired_instance_size": None}, False, []),
        ({"pitr_required": False}, True, []),
        ({"region": UNKNOWN}, True, ["region"]),
        ({"access_token": "rotated"}, True, []),
    ],
)
def test_project_diff_says_what_updates_and_what_replaces(
    change: dict[str, Any], changes: bool, replaces: list[str]
) -> None:
    news = {**project_props(desired_instance_size="small", pitr_required=True), **change}
    result = SupabaseProjectProvider().diff("ref", RECORDED, news)
    assert result.changes is changes
    assert result.replaces == replaces
    assert result.delete_before_replace is False


def test_project_check_names_every_bad_value() -> None:
    news = project_props(
        name="",
        region="Mars",
        organization_slug="bad slug",
        db_pass="abc",
        desired_instance_size="huge",
        pitr_required="yes",
    )
    failures = SupabaseProjectProvider().check({}, news).failures
    assert sorted(f.property for f in failures) == sorted(
        ["name", "region", "organization_slug", "db_pass", "desired_instance_size", "pitr_required"]
    )
    assert "abc" not in " ".join(f.reason for f in failures)


def _unknowns_as_the_host_sends_them(**wire: Any) -> dict[str, Any]:
    """Properties as the dynamic provider host hands them to check/diff at preview:
    deserialised with keep_unknowns, so each unknown is a new `pulumi.output.Unknown`."""
    struct = struct_pb2.Struct()
    struct.update(wire)
    return cast(dict[str, Any], rpc.deserialize_properties(struct, keep_unknowns=True))


def test_check_and_diff_accept_unknowns_as_the_engine_delivers_them() -> None:
    unknowns = _unknowns_as_the_host_sends_them(db_pass=UNKNOWN, project_ref=UNKNOWN)
    assert isinstance(unknowns["db_pass"], Unknown)
    result = SupabaseProjectProvider().check({}, project_props(db_pass=unknowns["db_pass"]))
    assert result.failures == []
    pooler = PoolerProvider().check({}, {"project_ref": unknowns["project_ref"]})
    assert pooler.failures == []
    moved = PoolerProvider().diff(
        "id", {"project_ref": "a" * 20}, {"project_ref": unknowns["project_ref"]}
    )
    assert moved.replaces == ["project_ref"]


# ---------------------------------------------------------------- database password


@pytest.mark.parametrize(
    ("props", "value", "source"),
    [
        ({"adopted": False}, GENERATED, "generated"),
        ({"adopted": None}, GENERATED, "generated"),
        ({"adopted": True, "existing_password": "theirs"}, "theirs", "existing"),
        ({"adopted": True, "rotate_adopted": True}, GENERATED, "generated"),
        (
            {"adopted": True, "rotate_adopted": True, "existing_password": "x"},
            GENERATED,
            "generated",
        ),
        ({"adopted": False, "existing_password": "ignored"}, GENERATED, "generated"),
    ],
)
def test_which_password_a_project_should_have(
    props: dict[str, Any], value: str, source: str
) -> None:
    assert intended({"password": GENERATED, **props}) == (value, source)


def test_an_adoption_without_a_password_decision_names_both_keys() -> None:
    with pytest.raises(SupabaseProvisioningError) as caught:
        intended({"password": GENERATED, "adopted": True, "project_ref": "r"})
    message = str(caught.value)
    assert "supabaseExistingDbPassword" in message and "supabaseRotateAdoptedPassword" in message
    assert "harmless" in message and GENERATED not in message


def test_password_diff_follows_the_password_the_project_should_have() -> None:
    recorded = {"project_ref": "r", "password": GENERATED, "adopted": False}
    diff = DatabasePasswordProvider().diff
    assert diff("id", recorded, {**recorded}).changes is False
    assert diff("id", recorded, {**recorded, "rotate_adopted": True}).changes is False
    assert diff("id", recorded, {**recorded, "password": "new-one"}).changes is True
    assert diff("id", recorded, {**recorded, "password": UNKNOWN}).changes is True
    assert diff("id", recorded, {**recorded, "project_ref": "s"}).replaces == ["project_ref"]


def test_password_create_and_rotation(fake: FakeSupabase, stack: Stack) -> None:
    stack.up()
    password = provider(stack, "password")
    record = stack.state["password"]
    assert record.outs["password"] == GENERATED and record.outs["source"] == "generated"
    news = {**record.inputs, "password": "Rotated-1234"}
    mark = len(fake.requests)
    outs = password.update(record.id, record.outs, news).outs or {}
    assert outs["password"] == "Rotated-1234" == fake.projects[stack.state["project"].id].password
    assert mutations(fake, mark) == [("PATCH", "/v1/projects/{ref}/database/password")]
    assert password.read(record.id, outs).outs == outs  # write-only: kept as recorded


def test_password_of_an_adopted_project_is_recorded_without_a_call(
    fake: FakeSupabase, stack: Stack
) -> None:
    fake.add_project("app-staging-db", "acme", region="eu-central-1", password="theirs-1")
    stack.up(Desired(existing_password="theirs-1"))
    assert not stack.errors
    assert not fake.calls("PATCH", "/v1/projects/{ref}/database/password")
    pooled, direct = stack.connection_strings()
    assert pooled is not None and ":theirs-1@" in pooled
    assert direct is not None and ":theirs-1@" in direct


# ---------------------------------------------------------------- settings groups


def test_settings_are_applied_on_create_and_read_back(fake: FakeSupabase, stack: Stack) -> None:
    stack.up()
    assert not stack.errors
    live = fake.projects[stack.state["project"].id]
    assert (live.pool_mode, live.default_pool_size) == ("transaction", 20)
    assert live.ssl_enforced is True
    assert (live.cidrs_v4, live.cidrs_v6) == (["203.0.113.0/24"], ["2001:db8::/32"])
    assert live.auth["smtp_host"] == "smtp.example.com" and live.auth["smtp_port"] == "587"
    assert live.auth["rate_limit_email_sent"] == 30 and live.auth["mailer_otp_exp"] == 3600
    pooler = stack.state["pooler"].outs
    assert (pooler["db_host"], pooler["db_port"]) == (
        "aws-0-eu-central-1.pooler.supabase.com",
        6543,
    )
    assert stack.refresh() == {} and stack.pending() == []


@pytest.mark.parametrize(
    ("change", "role", "expected"),
    [
        ({"pool_size": 40}, "pooler", [("PATCH", "/v1/projects/{ref}/config/database/pooler")]),
        (
            {"pool_mode": "session"},
            "pooler",
            [("PATCH", "/v1/projects/{ref}/config/database/pooler")],
        ),
        ({"ssl": False}, "ssl", [("PUT", "/v1/projects/{ref}/ssl-enforcement")]),
        (
            {"cidrs": ("198.51.100.0/24",)},
            "network",
            [("POST", "/v1/projects/{ref}/network-restrictions/apply")],
        ),
        ({"otp_expiry": 600}, "auth", [("PATCH", "/v1/projects/{ref}/config/auth")]),
        (
            {"password": "Rotated-1234"},
            "password",
            [("PATCH", "/v1/projects/{ref}/database/password")],
        ),
    ],
)
def test_an_update_sends_only_the_group_that_changed(
    fake: FakeSupabase,
    stack: Stack,
    change: dict[str, Any],
    role: str,
    expected: list[tuple[str, str]],
) -> None:
    stack.up()
    mark = len(fake.requests)
    want = Desired(**change)
    assert stack.pending(want) == [role]
    assert stack.up(want) == {}
    assert mutations(fake, mark) == expected
    assert stack.pending(want) == [] and stack.problems() == []


def test_drift_is_read_and_repaired(fake: FakeSupabase, stack: Stack) -> None:
    stack.up()
    live = fake.projects[stack.state["project"].id]
    live.ssl_enforced, live.cidrs_v4, live.default_pool_size = False, ["0.0.0.0/0"], 7
    live.auth["mailer_otp_exp"] = 86400
    assert stack.refresh() == {}
    assert sorted(stack.pending()) == ["auth", "network", "pooler", "ssl"]
    assert stack.up() == {} and stack.problems() == [] and stack.pending() == []


def test_auth_sends_smtp_settings_together_and_never_reads_the_password(
    fake: FakeSupabase, stack: Stack
) -> None:
    stack.up()
    mark = len(fake.requests)
    auth = stack.state["auth"]
    news = {**auth.inputs, "smtp_user": "mailer"}
    provider(stack, "auth").update(auth.id, auth.outs, news)
    (patch,) = fake.calls("PATCH", "/v1/projects/{ref}/config/auth")[-1:]
    assert set(patch.body) >= {"smtp_host", "smtp_port", "smtp_user", "smtp_pass"}
    assert mark < len(fake.requests)
    outs = provider(stack, "auth").read(auth.id, auth.outs).outs or {}
    assert outs["smtp_pass"] == auth.outs["smtp_pass"]  # write-only: kept as recorded


def test_settings_check_names_every_bad_value() -> None:
    failures = (
        AuthConfigProvider()
        .check(
            {},
            {
                "project_ref": "r",
                "site_url": "https://a.example.com,https://b.example.com",
                "uri_allow_list": ["ftp://x"],
                "mailer_otp_exp": 7200,
                "smtp_host": "smtp.example.com",
                "smtp_port": 70000,
                "rate_limit_otp": 0,
            },
        )
        .failures
    )
    assert sorted(f.property for f in failures) == sorted(
        [
            "site_url",
            "uri_allow_list",
            "mailer_otp_exp",
            "smtp_port",
            "smtp_user",
            "smtp_pass",
            "smtp_admin_email",
            "rate_limit_otp",
        ]
    )
    assert "1-3600 (rule S3)" in " ".join(f.reason for f in failures)
    only_limit = AuthConfigProvider().check({}, {"project_ref": "r", "rate_limit_email_sent": 9})
    assert [f.property for f in only_limit.failures] == ["rate_limit_email_sent"]
    pooler = PoolerProvider().check({}, {"project_ref": "r", "pool_mode": "statement"})
    assert [f.property for f in pooler.failures] == ["pool_mode"]
    ssl = SslEnforcementProvider().check({}, {"project_ref": "", "enforced": "yes"})
    assert sorted(f.property for f in ssl.failures) == ["enforced", "project_ref"]


def test_network_check_refuses_an_egress_its_restrictions_would_block() -> None:
    check = NetworkRestrictionsProvider().check
    good = {
        "project_ref": "r",
        "allowed_cidrs": ["203.0.113.0/24"],
        "app_egress_cidrs": ["203.0.113.8/29"],
    }
    assert check({}, good).failures == []
    bad = {
        **good,
        "ci_egress_cidrs": ["198.51.100.0/24"],
        "allowed_cidrs": ["203.0.113.0/24", "10.0.0.1/8"],
    }
    failures = check({}, bad).failures
    assert [f.property for f in failures] == ["allowed_cidrs"]
    outside = {**good, "ci_egress_cidrs": ["198.51.100.0/24"]}
    (failure,) = check({}, outside).failures
    assert failure.property == "ci_egress_cidrs" and "rule S1" in failure.reason


def test_deleting_a_settings_resource_changes_nothing_remote(
    fake: FakeSupabase, stack: Stack
) -> None:
    stack.up()
    mark = len(fake.requests)
    for role in ("password", "pooler", "ssl", "network", "auth"):
        record = stack.state[role]
        provider(stack, role).delete(record.id, record.outs)
    assert fake.requests[mark:] == []


# ---------------------------------------------------------------- no token in the state


def test_no_pickled_provider_holds_a_token(fake: FakeSupabase, stack: Stack) -> None:
    """Serialise exactly as pulumi.dynamic does for `__provider`, after real calls."""
    assert os.environ["SUPABASE_ACCESS_TOKEN"] == TOKEN
    stack.up(Desired(access_token=TOKEN))
    fresh: list[ProviderBase] = [
        SupabaseProjectProvider(),
        DatabasePasswordProvider(),
        PoolerProvider(),
        SslEnforcementProvider(),
        NetworkRestrictionsProvider(),
        AuthConfigProvider(),
    ]
    for used in [*stack.providers.values(), *fresh]:
        serialized = serialize_provider(used)
        raw = base64.b64decode(serialized)
        for secret in (TOKEN, GENERATED):
            assert secret.encode() not in raw and secret not in serialized
        assert b"SupabaseClient" not in raw
        restored = dill.loads(raw)  # noqa: S301 (our own bytes, loaded as pulumi does)
        assert type(restored) is type(used)
    ref = stack.state["project"].id
    assert SupabaseProjectProvider().read(ref, {}).id == ref


class _Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        self.resources.append(args)
        return "abcdefghijklmnopqrst", dict(args.inputs)

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


_run_under_mocks = cast(
    Callable[[Callable[[], pulumi.Output[None]]], Callable[[], None]], pulumi.runtime.test
)
"""`pulumi.runtime.test` (untyped): runs a program and waits for the Output it returns."""


def _secret_value(wrapped: Any) -> Any:
    """The value inside a secret as the mocks receive it, failing if it is not secret."""
    assert isinstance(wrapped, dict) and set(wrapped) == {
        pulumi.runtime.rpc._special_sig_key,
        "value",
    }
    assert wrapped[pulumi.runtime.rpc._special_sig_key] == pulumi.runtime.rpc._special_secret_sig
    return wrapped["value"]


def test_the_project_resource_serialises_no_token_and_marks_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Register SupabaseProject under the SDK mocks and inspect what would be stored."""
    monkeypatch.setenv("SUPABASE_ACCESS_TOKEN", TOKEN)
    mocks = _Mocks()
    pulumi.runtime.set_mocks(mocks, preview=False)
    _run_under_mocks(lambda: _register_and_inspect(mocks))()


def _register_and_inspect(mocks: _Mocks) -> pulumi.Output[None]:
    seen: list[pulumi.ResourceOptions] = []

    def spy(args: pulumi.ResourceTransformationArgs) -> None:
        seen.append(args.opts)

    project = SupabaseProject(
        "db",
        SupabaseProjectArgs(
            name="app-staging-db",
            organization_slug="acme",
            region="eu-central-1",
            db_pass=GENERATED,
            access_token="sbp_config_token_from_stack_secret",
        ),
        pulumi.ResourceOptions(protect=True, transformations=[spy]),
    )

    def inspect(_: Any) -> None:
        (registered,) = mocks.resources
        assert registered.typ == "pulumi-python:dynamic/supabase:Project"
        raw = base64.b64decode(_secret_value(registered.inputs["__provider"]))
        for secret in (TOKEN, "sbp_config_token_from_stack_secret", GENERATED):
            assert secret.encode() not in raw
        assert _secret_value(registered.inputs["db_pass"]) == GENERATED
        assert _secret_value(registered.inputs["access_token"]).startswith("sbp_config")
        (opts,) = seen
        assert opts.protect is True
        assert set(opts.additional_secret_outputs or []) == set(SECRET_FIELDS["Project"])
        assert set(INPUT_KEYS) - {"desired_instance_size"} <= set(registered.inputs)

    return project.urn.apply(inspect)


# ---------------------------------------------------------------- contract


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    return load_openapi()


def test_every_route_of_the_fake_is_documented(openapi: dict[str, Any]) -> None:
    fake = FakeSupabase()
    try:
        routes = [(method, template) for method, template, _, _ in fake._routes]
    finally:
        fake.stop()
    missing = [r for r in routes if openapi["paths"].get(r[1], {}).get(r[0].lower()) is None]
    assert missing == []


def test_every_request_the_providers_make_is_in_the_contract(
    openapi: dict[str, Any], fake: FakeSupabase, stack: Stack
) -> None:
    stack.up(Desired(pitr=True, access_token=TOKEN))
    stack.refresh()
    changed = Desired(
        pitr=True,
        access_token=TOKEN,
        name="app-staging-main",
        password="second-password",
        size="medium",
        pool_mode="session",
        pool_size=30,
        ssl=False,
        cidrs=("198.51.100.0/24",),
        site_url="https://new.example.com",
        redirects=("https://new.example.com/cb",),
        confirmations=False,
        otp_expiry=900,
        rate_limit_otp=12,
    )
    assert stack.up(changed) == {}
    adopted = Stack(fake)
    fake.add_project("adopt-me", "acme", region="eu-central-1", size="small")
    assert adopted.up(Desired(name="adopt-me", existing_password="outside-password")) == {}
    ref = stack.state["project"].id
    stack.destroy()
    assert stack.providers["project"].read(ref, {}).id is None

    used = {(r.method, r.template) for r in fake.requests}
    routes = {(method, template) for method, template, _, _ in fake._routes}
    # The lifecycle exercised every route but the listing, and the branch routes that
    # db_branch.py uses (tests/test_db_branch.py holds those to the contract).
    assert used == routes - {("GET", "/v1/projects")} - BRANCH_ROUTES
    problems = [p for r in fake.requests for p in contract_problems(openapi, r)]
    problems += [p for r in fake.requests for p in response_problems(openapi, r)]
    assert problems == []
