"""The settings loader: stack files load, bad values fail with one clear line each."""

from __future__ import annotations

import copy
import re
from functools import cache
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components.config import SECRET_KEYS, Settings, load_settings
from components.reader import ConfigError, project_name, schema
from tools.recorder import ROOT

STACKS = ("staging", "production")


@cache
def _stack_file(stack: str) -> dict[str, Any]:
    prefix = f"{project_name()}:"
    config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    return {key.removeprefix(prefix): value for key, value in config.items()}


def stack_values(stack: str) -> dict[str, Any]:
    """A stack file's config without the project namespace, as the loader sees it."""
    return copy.deepcopy(_stack_file(stack))


def problems(stack: str, **changes: Any) -> list[str]:
    values = stack_values(stack)
    for key, value in changes.items():
        if value is ...:
            values.pop(key, None)
        else:
            values[key] = value
    with pytest.raises(ConfigError) as caught:
        load_settings(stack, values)
    return caught.value.problems


@pytest.mark.parametrize("stack", STACKS)
def test_stack_files_load(stack: str) -> None:
    loaded = load_settings(stack, stack_values(stack))
    assert isinstance(loaded, Settings)
    assert loaded.stack == stack
    assert loaded.name("web") == f"acme-web-{stack}-web"


def test_stack_files_hold_no_secret_keys() -> None:
    for stack in STACKS:
        text = (ROOT / f"Pulumi.{stack}.yaml").read_text()
        assert "secure:" not in text
        for key in SECRET_KEYS:
            assert f":{key}:" not in text, f"{key} must be set with `pulumi config set --secret`"


def test_every_declared_key_has_type_and_description() -> None:
    for key, spec in schema().items():
        assert spec.type in {"string", "integer", "boolean", "array"}, key
        assert len(spec.description) > 10, key
        if spec.type == "array":
            assert spec.item_type in {"string", "integer"}, key


def test_values_are_coerced_from_the_engines_strings() -> None:
    values = {
        k: (str(v).lower() if isinstance(v, bool) else v)
        for k, v in stack_values("production").items()
    }
    values["requiredApprovingReviewCount"] = "3"
    values["githubTopics"] = '["web", "app"]'
    values["redirectWww"] = "true"
    loaded = load_settings("production", values)
    assert loaded.github.required_approving_review_count == 3
    assert loaded.github.topics == ("web", "app")
    assert loaded.redirect_www is True


@pytest.mark.parametrize(
    ("stack", "key", "value", "expected"),
    [
        (
            "production",
            "githubVisibility",
            "secret",
            "githubVisibility: 'secret' is not allowed; expected one of private, internal, public",
        ),
        (
            "production",
            "domain",
            "Your_Domain",
            "domain: 'Your_Domain' is not allowed; expected a lowercase domain name",
        ),
        (
            "production",
            "githubOwner",
            "-acme",
            "githubOwner: '-acme' is not allowed; expected a GitHub organisation or user name",
        ),
        (
            "production",
            "devopsTeam",
            "Dev Ops",
            "devopsTeam: 'Dev Ops' is not allowed; expected a team slug",
        ),
        (
            "production",
            "requiredApprovingReviewCount",
            1,
            "requiredApprovingReviewCount: 1 is not allowed; expected an integer from 2 to 6",
        ),
        (
            "staging",
            "requiredApprovingReviewCount",
            7,
            "requiredApprovingReviewCount: 7 is not allowed; expected an integer from 1 to 6",
        ),
        (
            "staging",
            "requiredApprovingReviewCount",
            "two",
            "requiredApprovingReviewCount: 'two' is not allowed; expected an integer",
        ),
        (
            "production",
            "teams",
            ["devops:owner"],
            "teams: item 'devops:owner' is not allowed; expected 'team-slug:permission'",
        ),
        (
            "production",
            "bypassActors",
            ["Team:abc:always"],
            "bypassActors: item 'Team:abc:always' is not allowed",
        ),
        (
            "production",
            "supabaseAllowedCidrs",
            ["0.0.0.0/0"],
            'supabaseAllowedCidrs: ["0.0.0.0/0"] is not allowed; '
            "expected no 0.0.0.0/0 or ::/0 in production",
        ),
        (
            "production",
            "supabaseAllowedCidrs",
            ["10.0.0.1/8"],
            "supabaseAllowedCidrs: item '10.0.0.1/8' is not allowed; expected an IPv4 or IPv6 CIDR",
        ),
        (
            "production",
            "supabasePointInTimeRecovery",
            False,
            "supabasePitrWaiver: '' is not allowed; expected a reason",
        ),
        (
            "production",
            "requireSignedCommits",
            False,
            "signedCommitsWaiver: '' is not allowed; expected a reason",
        ),
        (
            "production",
            "environmentReviewerTeamIds",
            [],
            "environmentReviewerTeamIds: [] is not allowed; expected at least one reviewer",
        ),
        (
            "staging",
            "vercelFunctionRegion",
            "mars1",
            "vercelFunctionRegion: 'mars1' is not allowed; expected one of arn1",
        ),
        (
            "staging",
            "supabaseRegion",
            "moon-1",
            "supabaseRegion: 'moon-1' is not allowed; expected one of us-east-1",
        ),
        (
            "staging",
            "supabaseOtpExpirySeconds",
            86400,
            "supabaseOtpExpirySeconds: 86400 is not allowed; expected an integer from 60 to 3600",
        ),
        (
            "staging",
            "securityContact",
            "security",
            "securityContact: 'security' is not allowed; expected an e-mail address",
        ),
        ("staging", "app", ..., "app: missing; this key is required"),
        ("staging", "apps", "typo", "apps: unknown key; see the config block of Pulumi.yaml"),
    ],
)
def test_bad_value_names_key_value_and_allowed(
    stack: str, key: str, value: Any, expected: str
) -> None:
    found = problems(stack, **{key: value})
    assert any(p.startswith(expected) for p in found), found


def test_all_problems_reported_at_once() -> None:
    found = problems("production", githubVisibility="secret", vercelSeats=-1, app=...)
    assert [p.split(":")[0] for p in found] == ["app", "githubVisibility", "vercelSeats"]


def test_unknown_stack_is_refused() -> None:
    with pytest.raises(
        ConfigError, match="stack: 'dev' is not allowed; expected one of staging, production"
    ):
        load_settings("dev", stack_values("staging"))


# --------------------------------------------------------------------------- fuzzing

_KEYS = sorted(schema())
_PROBLEM = re.compile(
    r"^(?P<key>[A-Za-z][A-Za-z0-9]*|'.*(?:'|\.\.\.)|\".*(?:\"|\.\.\.)): (?:"
    r"missing; this key is required \(.+\)"
    r"|unknown key; see the config block of Pulumi\.yaml"
    r"|no longer used: .+"
    r"|(?:item )?.+ is not allowed; expected .+"
    r")$",
    re.DOTALL,
)

_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**13), max_value=10**13),
    st.text(max_size=40),
    st.sampled_from(["", "0.0.0.0/0", "::/0", "true", "12", "[1,2]", "{}", "team_x", "a" * 400]),
    st.lists(st.one_of(st.text(max_size=12), st.integers(), st.booleans()), max_size=4),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
_mutation = st.one_of(
    st.tuples(st.just("delete"), st.sampled_from(_KEYS), st.none()),
    st.tuples(st.just("set"), st.sampled_from(_KEYS), _values),
    st.tuples(st.just("add"), st.text(min_size=1, max_size=15), _values),
)


@settings(max_examples=1200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    stack=st.sampled_from([*STACKS, "dev"]),
    base=st.sampled_from(STACKS),
    mutations=st.lists(_mutation, min_size=1, max_size=4),
)
def test_mutated_configs_load_or_fail_cleanly(
    stack: str, base: str, mutations: list[tuple[str, str, Any]]
) -> None:
    """Every mutated config either loads or fails with one clear line per problem."""
    values = stack_values(base)
    for action, key, value in mutations:
        if action == "delete":
            values.pop(key, None)
        else:
            values[key] = value
    try:
        loaded = load_settings(stack, values)
    except ConfigError as error:
        assert error.problems
        for line in error.problems:
            match = _PROBLEM.match(line)
            assert match, line
            key = match["key"]
            named = {"stack", *schema(), *values, *map(repr, values)}
            # Long unknown keys are shown shortened, ending in "...".
            shortened = key.endswith("...") and any(repr(k).startswith(key[:-3]) for k in values)
            assert key in named or shortened, line
        return
    assert isinstance(loaded, Settings)
