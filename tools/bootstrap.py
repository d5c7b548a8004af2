"""`make bootstrap STACK=...`: the stack on your backend, with its own secrets key (S14).

    python -m tools.bootstrap STACK        (engine/bootstrap.sh puts a `pulumi` on PATH)

1. Finds the backend `pulumi` is logged in to (`pulumi whoami`): Pulumi Cloud, a bucket
   (s3://, gs://, azblob://) or a local directory (file://).
2. Chooses the stack's secrets provider: SECRETS_PROVIDER if set, else Pulumi Cloud's own
   per-stack key (`default`) on Pulumi Cloud, or `passphrase` on a file backend, whose
   PULUMI_CONFIG_PASSPHRASE must then be this stack's own. A bucket backend needs a KMS key
   per stack (awskms://, gcpkms://, azurekeyvault://, hashivault://): CI logs in to it by
   OIDC and holds no passphrase. A key another stack already uses is refused, and so is a
   passphrase that decrypts the other stack's secrets.
3. Creates the stack when it does not exist (`pulumi stack init --secrets-provider`);
   an existing stack is left as it is.
4. Sets the secret config keys (components/config.py SECRET_KEYS) this stack uses from
   BOOTSTRAP_<KEY> environment variables (BOOTSTRAP_SENTRY_AUTH_TOKEN, ...), passing each value
   on standard input, never on a command line, and never printing it. A key that already
   holds the same value is left alone, so a second run changes nothing.
5. Says what is still missing: secrets not given, the stack file to commit, and what CI
   needs for this stack (tools/delivery.py).

Exit status 0 when the stack is there with its own key; 1 with a one-line reason when it
cannot be (no backend, a shared key, a failed command), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from components.config import SECRET_KEYS, STACKS, Stack
from tools.delivery import setup_lines
from tools.preview_mode import shown_url

ROOT = Path(__file__).resolve().parent.parent
KMS_SCHEMES = ("awskms", "gcpkms", "azurekeyvault", "hashivault")


class BootstrapError(Exception):
    """Why the stack cannot be bootstrapped; `str()` is the one line the user sees."""


def secret_env(key: str) -> str:
    """The variable a secret key is read from: sentryAuthToken → BOOTSTRAP_SENTRY_AUTH_TOKEN."""
    return "BOOTSTRAP_" + re.sub(r"(?<!^)(?=[A-Z])", "_", key).upper()


def public_passphrase() -> str:
    """The publicly known passphrase engine/env.sh sets for offline runs: never a stack's key."""
    match = re.search(
        r'export PULUMI_CONFIG_PASSPHRASE="([^"]+)"', (ROOT / "engine" / "env.sh").read_text()
    )
    assert match, "engine/env.sh sets its offline passphrase"
    return match.group(1)


def backend_kind(url: str) -> str:
    """`cloud`, `file` or `bucket` (any other self-managed backend) for a backend URL."""
    scheme = urlsplit(url).scheme
    return {"https": "cloud", "http": "cloud", "file": "file"}.get(scheme, "bucket")


def key_identity(provider: str) -> str:
    """A KMS key's identity for comparison: its URL without the query (region etc.)."""
    parts = urlsplit(provider)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def choose_provider(kind: str, requested: str, env: Mapping[str, str]) -> str:
    """The secrets provider a new stack gets on a backend of `kind`, or why none fits."""
    kms = "SECRETS_PROVIDER=awskms://alias/<app>-<stack>?region=<region> (or gcpkms://...)"
    provider = requested or {"cloud": "default", "file": "passphrase"}.get(kind, "")
    if not provider:
        raise BootstrapError(f"a bucket backend needs a KMS key per stack: set {kms}")
    if provider == "default" and kind != "cloud":
        raise BootstrapError(
            "`default` is Pulumi Cloud's per-stack key; this backend is not Pulumi Cloud"
        )
    if provider == "passphrase":
        if kind != "file":
            raise BootstrapError(
                "CI logs in by OIDC and holds no passphrase, so a passphrase serves only a "
                f"local file backend; give this stack its own KMS key: {kms}"
            )
        passphrase = env.get("PULUMI_CONFIG_PASSPHRASE")
        if passphrase is None and not env.get("PULUMI_CONFIG_PASSPHRASE_FILE"):
            raise BootstrapError(
                "the passphrase provider needs this stack's own PULUMI_CONFIG_PASSPHRASE "
                "(or PULUMI_CONFIG_PASSPHRASE_FILE)"
            )
        if passphrase is not None and passphrase in ("", public_passphrase()):
            raise BootstrapError(
                "PULUMI_CONFIG_PASSPHRASE is empty or the public offline one of engine/env.sh; "
                "choose this stack's own"
            )
    elif provider != "default" and urlsplit(provider).scheme not in KMS_SCHEMES:
        raise BootstrapError(
            f"SECRETS_PROVIDER {provider!r} is not allowed; expected default (Pulumi Cloud), "
            f"passphrase (file backends) or a URL of {', '.join(KMS_SCHEMES)}"
        )
    return provider


def stack_provider(stack_file: Mapping[str, object]) -> str:
    """The secrets provider a stack file records: a KMS URL, passphrase, or default."""
    recorded = stack_file.get("secretsprovider")
    if isinstance(recorded, str) and recorded:
        return recorded
    return "passphrase" if stack_file.get("encryptionsalt") else "default"


@dataclass
class Report:
    """What bootstrap did and what is still missing, printed at the end."""

    done: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


class Pulumi:
    """The `pulumi` on PATH, run in the project with output captured and secrets redacted."""

    def __init__(self, root: Path, env: Mapping[str, str], secrets: Sequence[str]) -> None:
        self.root = root
        self.env = dict(env)
        self.secrets = [s for s in secrets if s]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[secret]")
        return text

    def run(
        self, *args: str, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["pulumi", *args, "--non-interactive"],
            cwd=self.root,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
        )
        if check and result.returncode != 0:
            lines = [line for line in self.redact(result.stderr).splitlines() if line.strip()]
            reason = lines[-1] if lines else f"exit status {result.returncode}"
            raise BootstrapError(f"`pulumi {' '.join(args[:2])}` failed: {reason}")
        return result


def _load_stack_file(root: Path, stack: str) -> dict[str, object]:
    path = root / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        return {}
    document = yaml.safe_load(path.read_text()) or {}
    return document if isinstance(document, dict) else {}


def _stacks_on_backend(pulumi: Pulumi) -> set[str]:
    listed = json.loads(pulumi.run("stack", "ls", "--output", "json").stdout or "[]")
    return {str(entry["name"]).rsplit("/", 1)[-1] for entry in listed}


def check_other_keys(
    pulumi: Pulumi, stack: str, provider: str, existing: set[str], report: Report
) -> None:
    """S14: no other stack shares this stack's key; what could not be checked is said."""
    for other in (s for s in STACKS if s != stack):
        other_provider = stack_provider(_load_stack_file(pulumi.root, other))
        if other not in existing:
            continue
        if provider == "default" and other_provider == "default":
            report.done.append(f"S14: Pulumi Cloud keeps {stack}'s and {other}'s keys apart")
        elif provider == "passphrase" and other_provider == "passphrase":
            shown = pulumi.run("config", "--stack", other, "--show-secrets", "--json", check=False)
            values = json.loads(shown.stdout or "{}") if shown.returncode == 0 else {}
            if any(isinstance(v, dict) and v.get("secret") for v in values.values()):
                raise BootstrapError(
                    f"this PULUMI_CONFIG_PASSPHRASE also decrypts {other}'s secrets: "
                    f"give {stack} its own passphrase (rule S14)"
                )
            if "incorrect passphrase" in shown.stderr:
                report.done.append(f"S14: {stack}'s passphrase does not decrypt {other}'s secrets")
            else:
                # A stack without secrets opens with any passphrase: nothing to compare yet.
                report.missing.append(
                    f"S14 unchecked: {other}'s secrets could not be tried with {stack}'s "
                    f"passphrase ({other} holds none yet?); make sure the two differ"
                )
        elif provider not in ("default", "passphrase") and key_identity(provider) == key_identity(
            other_provider
        ):
            raise BootstrapError(
                f"{key_identity(provider)} is {other}'s key already: give {stack} its own "
                "KMS key (rule S14)"
            )


def _set_secrets(pulumi: Pulumi, stack: Stack, env: Mapping[str, str], report: Report) -> None:
    listed = json.loads(pulumi.run("config", "--stack", stack, "--json").stdout or "{}")
    namespace = str(yaml.safe_load((pulumi.root / "Pulumi.yaml").read_text())["name"])
    for key in SECRET_KEYS:
        variable = secret_env(key)
        value = env.get(variable)
        if value is not None and not value.strip():
            raise BootstrapError(f"{variable} is set but empty")
        if stack not in SECRET_KEYS[key].stacks:
            note = f"{key}: not used by {stack}"
            report.done.append(note + (f" (ignored {variable})" if value else ""))
            continue
        entry = listed.get(f"{namespace}:{key}")
        is_secret = isinstance(entry, dict) and bool(entry.get("secret"))
        if value is None:
            if is_secret:
                report.done.append(f"{key}: kept (already set)")
            elif entry is not None:
                report.missing.append(
                    f"{key} is stored in plain text: export {variable} and rerun to store it "
                    "as a secret"
                )
            elif SECRET_KEYS[key].optional:
                report.done.append(f"{key}: not set ({SECRET_KEYS[key].without})")
            else:
                report.missing.append(
                    f"{key}: export {variable} and rerun; {SECRET_KEYS[key].without}"
                )
            continue
        if is_secret:
            current = pulumi.run("config", "get", key, "--stack", stack).stdout.rstrip("\n")
            if current == value:
                report.done.append(f"{key}: unchanged ({variable} holds the same value)")
                continue
        pulumi.run("config", "set", "--secret", key, "--stack", stack, stdin=value)
        report.done.append(f"{key}: {'replaced' if is_secret else 'set'} from {variable}")


def _file_to_commit(root: Path, stack: str) -> bool:
    try:
        status = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", f"Pulumi.{stack}.yaml"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return False
    return status.returncode == 0 and bool(status.stdout.strip())


def bootstrap(stack: Stack, env: Mapping[str, str], root: Path = ROOT) -> tuple[str, Report]:
    """Bootstrap `stack`; returns the headline and the report, or raises BootstrapError."""
    secrets = [env.get(secret_env(key), "") for key in SECRET_KEYS]
    pulumi = Pulumi(root, env, [*secrets, env.get("PULUMI_CONFIG_PASSPHRASE", "")])
    whoami = pulumi.run("whoami", "--output", "json", check=False)
    if whoami.returncode != 0:
        raise BootstrapError(
            "no Pulumi backend: log in with `pulumi login` (Pulumi Cloud, or "
            "`pulumi login s3://<bucket>`), or set PULUMI_BACKEND_URL (docs/delivery.md)"
        )
    url = str(json.loads(whoami.stdout)["url"])
    report = Report()
    requested = env.get("SECRETS_PROVIDER", "")
    provider = choose_provider(backend_kind(url), requested, env)
    existing = _stacks_on_backend(pulumi)
    check_other_keys(pulumi, stack, provider, existing, report)
    if stack in existing:
        recorded = stack_provider(_load_stack_file(root, stack))
        report.done.append(f"stack: exists (secrets provider {recorded}); left as it is")
        if requested and key_identity(requested) != key_identity(recorded):
            report.missing.append(
                f"SECRETS_PROVIDER asks for {requested}, but {stack} uses {recorded}: "
                "change it with `pulumi stack change-secrets-provider` if you mean to"
            )
    else:
        pulumi.run("stack", "init", stack, "--secrets-provider", provider)
        report.done.append(f"stack: created with its own secrets provider ({provider})")
    _set_secrets(pulumi, stack, env, report)
    if _file_to_commit(root, stack):
        report.missing.append(
            f"commit Pulumi.{stack}.yaml: it records {stack}'s key (salt or encrypted data key) "
            "and its encrypted secrets"
        )
    return f"bootstrap: {stack} on {shown_url(url)}", report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bootstrap")
    parser.add_argument("stack")
    args = parser.parse_args(argv)
    if args.stack not in STACKS:
        print(
            f"bootstrap: unknown stack {args.stack!r} (stacks: {', '.join(STACKS)})",
            file=sys.stderr,
        )
        return 2
    try:
        headline, report = bootstrap(args.stack, os.environ)
    except BootstrapError as error:
        print(f"bootstrap: {args.stack}: {error}", file=sys.stderr)
        return 1
    print(headline)
    for line in report.done:
        print(f"  {line}")
    print("still missing:" if report.missing else "nothing missing here.")
    for line in report.missing:
        print(f"  - {line}")
    print("CI needs, set up outside this repository (docs/delivery.md#setting-up):")
    for line in setup_lines(args.stack):
        print(f"  - {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
