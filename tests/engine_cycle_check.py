"""Assertions of engine/cycle.sh: the fake server's state and the stack's secrets.

    python tests/engine_cycle_check.py serve URL_FILE        # the fake API, watched
    python tests/engine_cycle_check.py project NAME POOL     # exactly this project, as asked
    python tests/engine_cycle_check.py none                  # no project left
    python tests/engine_cycle_check.py drift REF POOL        # change the pool behind Pulumi
    python tests/engine_cycle_check.py secrets EXPORT EXPORT_SHOWN
    python tests/engine_cycle_check.py history HISTORY_JSON KIND=COUNT...
    python tests/engine_cycle_check.py password EXPORT_SHOWN  # the generated db password

Secrets come from the environment only (never argv): CYCLE_TOKEN (the fake's bearer
token), CYCLE_DB_PASS and CYCLE_SMTP_PASS (empty when not set); SUPABASE_API_URL is the
fake's base URL. Prints one line on
success; exits 1 with a message naming what is wrong otherwise. Needs the repo root on
sys.path (cycle.sh sets PYTHONPATH).
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

import dill

from components.supabase.facts import PROJECT, SECRET_FIELDS, resource_type

EXPECTED_V4 = ["203.0.113.0/24"]
EXPECTED_V6 = ["2001:db8::/32"]
EXPECTED_AUTH = {
    "site_url": "https://staging.cycle.test",
    "uri_allow_list": "https://staging.cycle.test,https://staging.cycle.test/auth/callback",
    "mailer_autoconfirm": False,
    "mailer_otp_exp": 900,
}
PASSWORD_TYPE = "pulumi-python:dynamic/cycle:Password"
PROJECT_TYPE = resource_type(PROJECT)
SUPABASE_TYPES = {resource_type(kind): fields for kind, fields in SECRET_FIELDS.items()}
"""Every Supabase resource type → the properties that must be secret in the state."""
SECRET_SIG = "4dabf18193072939515e22adb298388d"
"""Pulumi's signature key of a secret value in a state file."""
MAX_LIFETIME = 1800.0
"""The fake server exits by itself after this many seconds, or when its parent dies."""


class CheckError(Exception):
    """One failed assertion."""


def _env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise CheckError(f"${name} is not set")
    return value


def _request(method: str, path: str, body: Any = None) -> Any:
    url = _env("SUPABASE_API_URL").rstrip("/") + path
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 (loopback)
    request.add_header("Authorization", "Bearer " + _env("CYCLE_TOKEN"))
    if data is not None:
        request.add_header("Content-Type", "application/json")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=10) as answer:
        raw = answer.read()
    return json.loads(raw) if raw else None


def serve(url_file: str) -> str:
    """Run the fake API on a free loopback port until the parent dies (or a time limit).

    The parent is $CYCLE_PARENT (cycle.sh's pid), else the process that started this one.
    """
    from tests.fake_supabase import FakeSupabase

    parent = int(os.environ.get("CYCLE_PARENT") or os.getppid())
    fake = FakeSupabase(token=_env("CYCLE_TOKEN"), port=0).start()
    with open(url_file + ".tmp", "w", encoding="utf-8") as out:
        out.write(fake.url + "\n")
    os.replace(url_file + ".tmp", url_file)
    deadline = time.monotonic() + MAX_LIFETIME
    try:
        while _alive(parent) and time.monotonic() < deadline:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    return "fake server stopped"


def _alive(pid: int) -> bool:
    """The watched parent still runs (pid 1: nothing to watch, the time limit applies)."""
    if pid <= 1:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def project(name: str, pool: str) -> str:
    """Exactly one project, named `name`, healthy, with every setting the program asks."""
    projects = _request("GET", "/v1/projects")
    if [p.get("name") for p in projects] != [name]:
        raise CheckError(f"expected one project {name!r} on the fake, found {projects!r}")
    ref = projects[0]["ref"]
    if projects[0].get("status") != "ACTIVE_HEALTHY":
        raise CheckError(f"project {ref} is {projects[0].get('status')}")
    quoted = urllib.parse.quote(ref)
    pooler = _request("GET", f"/v1/projects/{quoted}/config/database/pooler")[0]
    if pooler.get("default_pool_size") != int(pool) or pooler.get("pool_mode") != "transaction":
        raise CheckError(f"pooler of {ref} is {pooler!r}, expected transaction/{pool}")
    ssl = _request("GET", f"/v1/projects/{quoted}/ssl-enforcement")
    if (ssl.get("currentConfig") or {}).get("database") is not True:
        raise CheckError(f"SSL not enforced on {ref}: {ssl!r}")
    network = _request("GET", f"/v1/projects/{quoted}/network-restrictions").get("config") or {}
    got = (network.get("dbAllowedCidrs"), network.get("dbAllowedCidrsV6"))
    if got != (EXPECTED_V4, EXPECTED_V6):
        raise CheckError(f"network restrictions of {ref} are {got!r}")
    auth = _request("GET", f"/v1/projects/{quoted}/config/auth")
    wrong = {k: auth.get(k) for k, v in EXPECTED_AUTH.items() if auth.get(k) != v}
    if wrong:
        raise CheckError(f"auth settings of {ref} differ: {wrong!r}")
    return str(ref)


def none() -> str:
    projects = _request("GET", "/v1/projects")
    if projects:
        raise CheckError(f"the fake still holds projects: {[p.get('ref') for p in projects]}")
    return "fake holds no project"


def drift(ref: str, pool: str) -> str:
    path = f"/v1/projects/{urllib.parse.quote(ref)}/config/database/pooler"
    _request("PATCH", path, {"default_pool_size": int(pool)})
    return f"pool size of {ref} set to {pool} behind Pulumi's back"


def _leaks(text: str, values: dict[str, str]) -> list[str]:
    found = []
    for label, value in values.items():
        forms = {value, urllib.parse.quote(value, safe=""), json.dumps(value)[1:-1]}
        forms |= {base64.b64encode(value.encode()).decode()}
        if any(form in text for form in forms):
            found.append(label)
    return found


def secrets(export_file: str, shown_file: str) -> str:
    """Secrets encrypted in the state; no pickled provider holds a credential."""
    values = {"the test token": _env("CYCLE_TOKEN"), "the db password": _env("CYCLE_DB_PASS")}
    if os.environ.get("CYCLE_SMTP_PASS"):
        values["the SMTP password"] = os.environ["CYCLE_SMTP_PASS"]
    with open(export_file, encoding="utf-8") as f:
        text = f.read()
    leaked = _leaks(text, values)
    if leaked:
        raise CheckError(f"`pulumi stack export` holds {' and '.join(leaked)} in plain text")
    state = json.loads(text)
    for generated in _resources(state, PASSWORD_TYPE):
        if not _is_secret((generated.get("outputs") or {}).get("result")):
            raise CheckError("the generated password is not a secret in the state")
    supabase = [
        r for r in state["deployment"].get("resources") or [] if r.get("type") in SUPABASE_TYPES
    ]
    if len(supabase) != len(SUPABASE_TYPES):
        raise CheckError(
            f"expected {len(SUPABASE_TYPES)} Supabase resources, found {len(supabase)}"
        )
    for resource in supabase:
        for part in ("inputs", "outputs"):
            props = resource.get(part) or {}
            for key in ("__provider", *SUPABASE_TYPES[resource["type"]]):
                if props.get(key) is not None and not _is_secret(props[key]):
                    name = resource["urn"].rsplit("::", 1)[-1]
                    raise CheckError(f"{part}.{key} of {name} is not a secret in the state")
    with open(shown_file, encoding="utf-8") as f:
        shown_state = json.load(f)
    sizes = []
    for resource in _resources(shown_state, *SUPABASE_TYPES):
        serialised = _plain(resource["inputs"]["__provider"])
        pickled = base64.b64decode(serialised)
        leaked = _leaks(pickled.decode("latin-1"), values)
        if leaked:
            raise CheckError(f"a serialised __provider holds {' and '.join(leaked)}")
        provider = dill.loads(pickled)  # noqa: S301 (our own state, decrypted locally)
        if sorted(vars(provider)) != ["_clock", "_log", "_sleep", "retry", "timing"]:
            raise CheckError(f"unexpected provider attributes {sorted(vars(provider))}")
        sizes.append(len(pickled))
    shown = _dynamic_resource(shown_state)
    stored_token = _plain(shown["outputs"].get("access_token"))
    if stored_token not in (None, values["the test token"]):
        raise CheckError("the state's access_token is not the test token")
    where = "stored encrypted" if stored_token else "not stored (env)"
    return (
        f"no plain-text secret in export; {len(sizes)} __provider ({min(sizes)}-{max(sizes)} B, "
        f"attributes timing, retry, _sleep, _clock, _log) hold none; access_token {where}"
    )


def _plain(value: Any) -> Any:
    """A value of `stack export --show-secrets`: secrets are {sig, plaintext: JSON}."""
    if isinstance(value, dict) and SECRET_SIG in value:
        return json.loads(value["plaintext"])
    return value


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and SECRET_SIG in value


def _resources(state: dict[str, Any], *kinds: str) -> list[dict[str, Any]]:
    return [r for r in state["deployment"].get("resources") or [] if r.get("type") in kinds]


def _dynamic_resource(state: dict[str, Any]) -> dict[str, Any]:
    found = _resources(state, PROJECT_TYPE)
    if len(found) != 1:
        raise CheckError(f"expected one SupabaseProject in the state, found {len(found)}")
    return found[0]


def history(history_file: str, *expected: str) -> str:
    """The latest update's resource changes are exactly `expected` (e.g. update=1 same=1)."""
    with open(history_file, encoding="utf-8") as f:
        latest = json.load(f)[0]
    want = {k: int(v) for k, v in (e.split("=", 1) for e in expected)}
    got = {k: v for k, v in (latest.get("resourceChanges") or {}).items() if v}
    if latest.get("result") != "succeeded" or got != want:
        raise CheckError(f"last {latest.get('kind')}: {latest.get('result')} {got}, want {want}")
    return f"{latest.get('kind')}: {got}"


def password(shown_file: str) -> str:
    """The generated password, from `stack export --show-secrets` (for the leak checks)."""
    with open(shown_file, encoding="utf-8") as f:
        found = _resources(json.load(f), PASSWORD_TYPE)
    if len(found) != 1:
        raise CheckError(f"expected one generated password in the state, found {len(found)}")
    value = _plain((found[0].get("outputs") or {}).get("result"))
    if not isinstance(value, str) or len(value) < 16:
        raise CheckError("the generated password is missing or short")
    return value


COMMANDS: dict[str, Callable[..., str]] = {
    "serve": serve,
    "project": project,
    "none": none,
    "drift": drift,
    "secrets": secrets,
    "history": history,
    "password": password,
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        print(COMMANDS[argv[0]](*argv[1:]))
    except CheckError as err:
        print(f"check failed: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
