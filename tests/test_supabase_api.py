"""The Management API client against the local fake: retries, timeouts, errors, secrecy."""

from __future__ import annotations

import pickle
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from components.supabase.api import (
    DEFAULT_BASE_URL,
    RetryPolicy,
    SupabaseApiError,
    SupabaseClient,
    SupabaseConfigError,
    resolve_base_url,
    resolve_token,
)
from tests.fake_supabase import FakeSupabase, Fault

TOKEN = "sbp_api_test_token_0123456789"
RETRY = RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=8.0, max_retry_after=60.0)


@pytest.fixture
def fake() -> Iterator[FakeSupabase]:
    with FakeSupabase(token=TOKEN) as server:
        yield server


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(fake: FakeSupabase, sleeps: list[float]) -> SupabaseClient:
    return SupabaseClient(TOKEN, fake.url, timeout=0.25, retry=RETRY, sleep=sleeps.append)


def _project(fake: FakeSupabase) -> str:
    return fake.add_project("app-staging-db", "acme").ref


# ---------------------------------------------------------------- configuration


def test_base_url_defaults_to_the_public_api(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SUPABASE_API_URL", raising=False)
    assert resolve_base_url() == DEFAULT_BASE_URL


def test_base_url_is_overridden_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPABASE_API_URL", "http://127.0.0.1:9999/")
    assert resolve_base_url() == "http://127.0.0.1:9999"


@pytest.mark.parametrize("url", ["http://api.example.com", "ftp://127.0.0.1", "file:///etc"])
def test_plain_http_is_refused_off_loopback(url: str) -> None:
    with pytest.raises(SupabaseConfigError, match="base URL"):
        resolve_base_url(url)


def test_token_comes_from_the_argument_or_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SUPABASE_ACCESS_TOKEN", "from-env")
    assert resolve_token() == "from-env"
    assert resolve_token("explicit") == "explicit"
    monkeypatch.delenv("SUPABASE_ACCESS_TOKEN")
    with pytest.raises(SupabaseConfigError, match="SUPABASE_ACCESS_TOKEN"):
        resolve_token()


def test_client_refuses_to_be_pickled_and_hides_its_token(client: SupabaseClient) -> None:
    with pytest.raises(TypeError, match="must not be pickled"):
        pickle.dumps(client)
    assert TOKEN not in repr(client)


# ---------------------------------------------------------------- happy paths


def test_get_project_and_missing_project(fake: FakeSupabase, client: SupabaseClient) -> None:
    ref = _project(fake)
    project = client.get_project(ref)
    assert project is not None
    assert project["ref"] == ref
    assert project["status"] == "ACTIVE_HEALTHY"
    assert client.get_project("zzzzzzzzzzzzzzzzzzzz") is None


def test_path_segments_are_quoted(fake: FakeSupabase, client: SupabaseClient) -> None:
    assert client.get_project("../organizations") is None
    assert fake.requests[-1].path == "/v1/projects/..%2Forganizations"


def test_organization_projects_are_read_across_pages(
    fake: FakeSupabase, client: SupabaseClient
) -> None:
    for index in range(130):
        fake.add_project(f"app-{index:03d}", "acme")
    fake.add_project("other-org", "globex")
    projects = client.list_organization_projects("acme")
    assert len(projects) == 130
    assert len(fake.calls("GET", "/v1/organizations/{slug}/projects")) == 2
    assert [p["name"] for p in client.list_organization_projects("acme", search="app-129")] == [
        "app-129"
    ]


def test_health_sends_services_as_repeated_query_values(
    fake: FakeSupabase, client: SupabaseClient
) -> None:
    ref = _project(fake)
    health = client.get_services_health(ref, ["auth", "db"])
    assert [h["name"] for h in health] == ["auth", "db"]
    assert fake.requests[-1].query == {"services": ["auth", "db"]}


# ---------------------------------------------------------------- retries


def test_429_honours_retry_after_seconds(
    fake: FakeSupabase, client: SupabaseClient, sleeps: list[float]
) -> None:
    ref = _project(fake)
    fake.add_fault("GET", "/v1/projects/{ref}", Fault(429, "7"), Fault(429, "3"))
    assert client.get_project(ref) is not None
    assert sleeps == [7.0, 3.0]


def test_429_retry_after_as_http_date_and_capped(
    fake: FakeSupabase, client: SupabaseClient, sleeps: list[float]
) -> None:
    ref = _project(fake)
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    fake.add_fault("GET", "/v1/projects/{ref}", Fault(429, soon), Fault(429, "86400"))
    assert client.get_project(ref) is not None
    assert 25.0 <= sleeps[0] <= 30.0
    assert sleeps[1] == 60.0  # bounded by RetryPolicy.max_retry_after


def test_429_is_retried_even_for_create(
    fake: FakeSupabase, client: SupabaseClient, sleeps: list[float]
) -> None:
    fake.add_fault("POST", "/v1/projects", Fault(429, "2"))
    created = client.create_project({"name": "a", "organization_slug": "acme", "db_pass": "pw12"})
    assert len(fake.projects) == 1
    assert created["ref"] in fake.projects
    assert sleeps == [2.0]


def test_429_without_retry_after_backs_off(
    fake: FakeSupabase, client: SupabaseClient, sleeps: list[float]
) -> None:
    ref = _project(fake)
    fake.add_fault("GET", "/v1/projects/{ref}", Fault(429), Fault(429))
    assert client.get_project(ref) is not None
    assert sleeps == [0.5, 1.0]


def test_5xx_is_retried_with_bounded_exponential_backoff(
    fake: FakeSupabase, client: SupabaseClient, sleeps: list[float]
) -> None:
    ref = _project(fake)
    fake.add_fault("GET", "/v1/projects/{ref}", Fault(500), Fault(502), Fault(503))
    assert client.get_project(ref) is not None
    assert sleeps == [0.5, 1.0, 2.0]
    long = SupabaseClient(
        TOKEN, fake.url, retry=RetryPolicy(max_attempts=8, max_delay=3.0), sleep=sleeps.append
    )
    sleeps.clear()
    fake.add_fault("GET", "/v1/projects/{ref}", *[Fault(500)] * 7)
    assert long.get_project(ref) is not None
    assert sleeps == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0, 3.0]


def test_5xx_gives_up_with_one_clear_error(
    fake: FakeSupabase, client: SupabaseClient, sleeps: list[float]
) -> None:
    ref = _project(fake)
    fake.add_fault("GET", "/v1/projects/{ref}/ssl-enforcement", *[Fault(500)] * 5)
    with pytest.raises(SupabaseApiError) as caught:
        client.get_ssl_enforcement(ref)
    err = caught.value
    assert (err.method, err.path, err.status) == ("GET", f"/v1/projects/{ref}/ssl-enforcement", 500)
    assert err.message == "injected fault"
    assert str(err) == (
        f"Supabase API GET /v1/projects/{ref}/ssl-enforcement failed (HTTP 500): injected fault"
    )
    assert len(fake.calls("GET", "/v1/projects/{ref}/ssl-enforcement")) == RETRY.max_attempts
    assert len(sleeps) == RETRY.max_attempts - 1


def test_create_is_not_retried_after_a_5xx(fake: FakeSupabase, client: SupabaseClient) -> None:
    fake.add_fault("POST", "/v1/projects", Fault(500))
    with pytest.raises(SupabaseApiError) as caught:
        client.create_project({"name": "a", "organization_slug": "acme", "db_pass": "pw12"})
    assert caught.value.status == 500
    assert caught.value.outcome_unknown
    assert len(fake.calls("POST", "/v1/projects")) == 1


def test_slow_answers_time_out_and_are_retried(
    fake: FakeSupabase, client: SupabaseClient, sleeps: list[float]
) -> None:
    ref = _project(fake)
    fake.add_fault("GET", "/v1/projects/{ref}/config/auth", Fault(delay=2.0))
    assert client.get_auth_config(ref)["mailer_autoconfirm"] is False
    assert sleeps == [0.5]
    assert len(fake.calls("GET", "/v1/projects/{ref}/config/auth")) == 2


def test_a_timed_out_create_is_reported_not_repeated(
    fake: FakeSupabase, client: SupabaseClient
) -> None:
    fake.add_fault("POST", "/v1/projects", Fault(delay=2.0, commit_first=True))
    with pytest.raises(SupabaseApiError) as caught:
        client.create_project({"name": "a", "organization_slug": "acme", "db_pass": "pw12"})
    assert caught.value.status is None
    assert "timed out" in caught.value.message
    assert caught.value.outcome_unknown
    assert len(fake.projects) == 1  # made once; finding it is the provider's job


def test_connection_errors_are_retried_then_reported(sleeps: list[float]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = SupabaseClient(TOKEN, f"http://127.0.0.1:{port}", retry=RETRY, sleep=sleeps.append)
    with pytest.raises(SupabaseApiError) as caught:
        client.get_project("abcdefghijklmnopqrst")
    assert caught.value.status is None
    assert "connection failed" in caught.value.message
    assert sleeps == [0.5, 1.0, 2.0]


# ---------------------------------------------------------------- errors


def test_bad_token_is_one_401_error_without_the_token(
    fake: FakeSupabase, sleeps: list[float]
) -> None:
    wrong = "sbp_wrong_token_abcdefghijkl"
    client = SupabaseClient(wrong, fake.url, retry=RETRY, sleep=sleeps.append)
    with pytest.raises(SupabaseApiError) as caught:
        client.list_organization_projects("acme")
    err = caught.value
    assert err.status == 401
    assert err.message == "Unauthorized"
    assert wrong not in str(err) and wrong not in repr(err.args)
    assert len(fake.requests) == 1 and not sleeps


def test_api_message_text_is_surfaced(fake: FakeSupabase, client: SupabaseClient) -> None:
    ref = _project(fake)
    with pytest.raises(SupabaseApiError, match="mailer_otp_exp must be a non-negative integer"):
        client.update_auth_config(ref, {"mailer_otp_exp": -1})


def test_a_token_echoed_by_the_server_is_redacted(
    fake: FakeSupabase, client: SupabaseClient
) -> None:
    fake.add_fault("GET", "/v1/projects/{ref}", Fault(400, message=f"bad header Bearer {TOKEN}"))
    with pytest.raises(SupabaseApiError) as caught:
        client.get_project("abcdefghijklmnopqrst")
    assert TOKEN not in str(caught.value)
    assert "[redacted]" in caught.value.message


def test_redirects_are_not_followed(fake: FakeSupabase, client: SupabaseClient) -> None:
    target = f"{fake.url}/v1/projects"
    fake.add_fault("GET", "/v1/projects/{ref}", Fault(307, headers={"Location": target}))
    with pytest.raises(SupabaseApiError) as caught:
        client.get_project("abcdefghijklmnopqrst")
    assert caught.value.status == 307
    assert len(fake.requests) == 1


def test_the_fake_runs_standalone_for_the_engine_cycle(sleeps: list[float]) -> None:
    root = Path(__file__).resolve().parents[1]
    command = [sys.executable, "-m", "tests.fake_supabase", "--port", "0", "--token", TOKEN]
    with subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, text=True) as server:
        try:
            assert server.stdout is not None
            url = server.stdout.readline().strip()
            assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
            client = SupabaseClient(TOKEN, url, timeout=5.0, retry=RETRY, sleep=sleeps.append)
            created = client.create_project(
                {"name": "cycle", "organization_slug": "acme", "db_pass": "pw12"}
            )
            assert client.get_project(created["ref"]) is not None
        finally:
            server.terminate()


# ---------------------------------------------------------------- deadlines (rule R4)


def test_a_trickling_answer_is_cut_at_the_calls_overall_deadline(
    fake: FakeSupabase, sleeps: list[float]
) -> None:
    """Each byte arrives well within the per-read timeout; the whole answer never would."""
    ref = _project(fake)
    client = SupabaseClient(TOKEN, fake.url, timeout=0.3, retry=RETRY, sleep=sleeps.append)
    fake.add_fault("GET", "/v1/projects/{ref}", *[Fault(trickle=0.05)] * RETRY.max_attempts)
    started = time.monotonic()
    with pytest.raises(SupabaseApiError) as caught:
        client.get_project(ref)
    elapsed = time.monotonic() - started
    assert caught.value.status is None and caught.value.outcome_unknown
    assert "no complete answer within 0.3s" in caught.value.message
    assert elapsed < RETRY.max_attempts * 0.3 + 1.0
    assert len(sleeps) == RETRY.max_attempts - 1


def test_a_trickle_once_is_retried_when_safe(fake: FakeSupabase, client: SupabaseClient) -> None:
    ref = _project(fake)
    fake.add_fault("GET", "/v1/projects/{ref}", Fault(trickle=0.05))
    assert client.get_project(ref) is not None
    assert [r.template for r in fake.requests].count("/v1/projects/{ref}") == 2


def test_the_operation_deadline_bounds_retries_and_waits(fake: FakeSupabase) -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    client = SupabaseClient(
        TOKEN,
        fake.url,
        timeout=0.25,
        retry=RetryPolicy(max_attempts=10),
        sleep=sleep,
        clock=lambda: now[0],
        deadline=50.0,
    )
    ref = _project(fake)
    fake.add_fault("GET", "/v1/projects/{ref}", *[Fault(429, "30")] * 5)
    with pytest.raises(SupabaseApiError) as caught:
        client.get_project(ref)
    assert caught.value.status == 429 and now[0] == 30.0
    assert "no time left in this operation" in str(caught.value)
    now[0] = 50.0
    with pytest.raises(SupabaseApiError) as late:
        client.get_project(ref)
    assert late.value.sent is False and not late.value.outcome_unknown
    assert "(not sent)" in str(late.value)


def test_the_token_is_redacted_before_the_message_is_shortened(
    fake: FakeSupabase, client: SupabaseClient
) -> None:
    """A token straddling the length limit would leave its prefix if cut first."""
    for offset in (480, 490, 495, 499):
        echo = "x" * offset + TOKEN + "y" * 200
        fake.add_fault("GET", "/v1/projects/{ref}", Fault(400, message=echo))
        with pytest.raises(SupabaseApiError) as caught:
            client.get_project("abcdefghijklmnopqrst")
        message = caught.value.message
        assert len(message) <= 500
        assert TOKEN[:5] not in message, offset


def test_hidden_values_are_redacted_too(fake: FakeSupabase, client: SupabaseClient) -> None:
    client.hide("a-database-password-1")
    fake.add_fault(
        "PATCH",
        "/v1/projects/{ref}/database/password",
        Fault(400, message="bad a-database-password-1"),
    )
    with pytest.raises(SupabaseApiError) as caught:
        client.update_database_password(_project(fake), "a-database-password-1")
    assert "a-database-password-1" not in str(caught.value)
    assert caught.value.message == "bad [redacted]"


def test_a_dropped_connection_is_an_unknown_outcome(
    fake: FakeSupabase, client: SupabaseClient
) -> None:
    fake.add_fault("POST", "/v1/projects", Fault(drop=True, commit_first=True))
    with pytest.raises(SupabaseApiError) as caught:
        client.create_project({"name": "a", "organization_slug": "acme", "db_pass": "pw12"})
    assert caught.value.status is None and caught.value.outcome_unknown
    assert len(fake.projects) == 1 and len(fake.calls("POST", "/v1/projects")) == 1
