"""Running the shipped workflows' steps as the runner would, against fake tools.

A step's `run:` is executed with `bash -eo pipefail`, the literal `env:` of its workflow, job
and step, and fake `gh`, `vercel`, `curl`, `go`, `gitleaks` and `trivy` first on PATH. The fakes
record every call (one JSON list of arguments per line) and answer from what the test sets:

- `gh` keeps issues in a JSON file, so opening, commenting and closing across several runs can
  be followed; `api graphql`, the artifacts API and `api --paginate` answer canned JSON, through
  the caller's `--jq` filter as gh does; `run download` copies a canned run's files.
- `vercel` answers `inspect`, `list` and `deploy` with canned JSON. Like the real CLI
  (vercel/vercel#11712), `inspect`, `promote` and `rollback` ignore VERCEL_ORG_ID and fail
  without `--scope <team>`.
- `curl` answers the health probe's `--write-out` from a queue of samples, and the OIDC login's
  three requests (GitHub's token, Vercel's discovery document, the token exchange).
- `go`, `gitleaks` and `trivy` answer what the scanner jobs ask.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from components.github import pipeline
from components.github.workflow_yaml import jobs, load_yaml, steps
from tools.workflow_rules import expressions

WORKFLOWS = pipeline.workflow_files()
VERCEL_TEAM = "team_acme"
TOKEN_ENDPOINT = "https://vercel.test/oauth/token"

needs_tools = pytest.mark.skipif(
    not (shutil.which("jq") and shutil.which("curl")), reason="jq and curl run the step scripts"
)


def workflow(name: str) -> dict[str, Any]:
    return load_yaml(WORKFLOWS[f".github/workflows/{name}"])


def job(name: str, job_id: str) -> dict[str, Any]:
    return jobs(workflow(name))[job_id]


def step(job_spec: Mapping[str, Any], name: str) -> dict[str, Any]:
    matches = [s for s in steps(job_spec) if s.get("name") == name]
    assert len(matches) == 1, f"expected one step named {name!r}"
    return matches[0]


def scripts(job_spec: Mapping[str, Any]) -> str:
    return "\n".join(str(s.get("run", "")) for s in steps(job_spec))


def condition_holds(condition: str, outcomes: Mapping[str, str], cancelled: bool = False) -> bool:
    """A step's `if:` made only of `cancelled()`, `steps.<id>.outcome == '<x>'`, `!`, `&&`,
    `||` and parentheses, evaluated for the given outcomes of earlier steps."""
    text = condition.strip().removeprefix("${{").removesuffix("}}")
    text = re.sub(
        r"steps\.([\w-]+)\.outcome",
        lambda m: repr(outcomes.get(m.group(1), "skipped")),
        text,
    )
    text = text.replace("cancelled()", repr(cancelled)).replace("'", '"')
    text = text.replace("&&", " and ").replace("||", " or ").replace("!=", "<>")
    text = text.replace("!", " not ").replace("<>", "!=")
    if not re.fullmatch(r'[\s()"a-zA-Z=!]*', text):
        raise ValueError(f"cannot evaluate {condition!r}")
    return bool(eval(text))  # noqa: S307 - a vetted boolean expression of literals


FAKE_GH = r"""#!__PYTHON__
import json, os, pathlib, shutil, subprocess, sys
args = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps(["gh", *args]) + "\n")
store = pathlib.Path(os.environ["FAKE_STATE"])
issues = json.loads(store.read_text()) if store.exists() else []

def option(name):
    return args[args.index(name) + 1] if name in args else None

def answer(data):
    text = json.dumps(data)
    jq = option("--jq")
    if jq is not None:
        result = subprocess.run(["jq", "-r", jq], input=text, capture_output=True, text=True)
        sys.stderr.write(result.stderr)
        sys.stdout.write(result.stdout)
        sys.exit(result.returncode)
    sys.stdout.write(text)

def body():
    path = option("--body-file")
    return pathlib.Path(path).read_text() if path else option("--body")

def issue(number):
    return next(i for i in issues if i["number"] == int(number))

verb = " ".join(args[:2])
if verb == "issue list":
    label = option("--label")
    answer([{"number": i["number"], "body": i["body"]} for i in issues
            if i["state"] == "open" and label in i["labels"]])
elif verb == "issue create":
    number = max([i["number"] for i in issues] or [0]) + 1
    issues.append({"number": number, "title": option("--title"), "labels": [option("--label")],
                   "body": body(), "state": "open", "comments": []})
    print(f"https://github.com/acme/app/issues/{number}")
elif verb == "issue comment":
    issue(args[2])["comments"].append(body())
elif verb == "issue close":
    issue(args[2])["state"] = "closed"
elif verb == "issue view":
    answer({"labels": [{"name": name} for name in issue(args[2])["labels"]]})
elif verb == "api graphql":
    answer(json.loads(os.environ["FAKE_GRAPHQL"]))
elif args[:1] == ["api"] and "/actions/artifacts" in args[1]:
    answer(json.loads(os.environ["FAKE_ARTIFACTS"]))
elif verb == "api --paginate":
    answer(json.loads(os.environ["FAKE_COMMENTS"]))
elif verb == "run download":
    source = pathlib.Path(os.environ["FAKE_RUNS"]) / args[2]
    if not source.is_dir():
        sys.exit("no such run")
    shutil.copytree(source, option("--dir"), dirs_exist_ok=True)
store.write_text(json.dumps(issues))
"""

FAKE_VERCEL = r"""#!__PYTHON__
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps(["vercel", *args]) + "\n")
if args[0] in ("inspect", "promote", "rollback"):
    scope = next((a.split("=", 1)[1] for a in args if a.startswith("--scope=")), None)
    if "--scope" in args:
        scope = args[args.index("--scope") + 1]
    if scope != os.environ["FAKE_TEAM"]:
        sys.exit("Error: Deployment belongs to a different team")
answers = {"inspect": "FAKE_INSPECT", "list": "FAKE_LIST", "deploy": "FAKE_DEPLOY"}
if args[0] in answers:
    print(os.environ.get(answers[args[0]], ""), end="")
"""

FAKE_CURL = r"""#!__PYTHON__
import json, os, pathlib, sys
args = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps(["curl", *args]) + "\n")
if "--write-out" in args:
    queue = pathlib.Path(os.environ["FAKE_CURL_SAMPLES"])
    first, *rest = queue.read_text().splitlines()
    queue.write_text("".join(line + "\n" for line in rest))
    print(first, end="")
elif any(a.endswith("/.well-known/openid-configuration") for a in args):
    print(json.dumps({"token_endpoint": os.environ["FAKE_TOKEN_ENDPOINT"]}))
elif os.environ["FAKE_TOKEN_ENDPOINT"] in args:
    print(os.environ["FAKE_EXCHANGE_BODY"], end="")
    sys.exit(int(os.environ.get("FAKE_EXCHANGE_EXIT", "0")))
else:
    print(json.dumps({"value": "github-oidc-jwt"}))
"""

FAKE_GO = r"""#!__PYTHON__
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps(["go", *args]) + "\n")
if args[:2] == ["mod", "download"]:
    print(json.dumps({"Path": "m", "Version": "v", "Sum": os.environ["FAKE_MODULE_SUM"]}))
"""

FAKE_SCANNER = r"""#!__PYTHON__
# gitleaks and trivy: write the report the arguments ask for, fail when told to (--exit-code).
import json, os, pathlib, sys
args = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps([pathlib.Path(sys.argv[0]).name, *args]) + "\n")
for option in ("--report-path", "--output"):
    if option in args:
        pathlib.Path(args[args.index(option) + 1]).write_text('{"version": "2.1.0", "runs": []}')
if "--exit-code" in args:
    sys.exit(int(os.environ.get("FAKE_FINDINGS", "0")))
"""


class StepRun:
    """Runs one step's `run:` as the runner does (bash -eo pipefail) with fake tools on PATH."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir(exist_ok=True)
        fakes = {
            "gh": FAKE_GH,
            "vercel": FAKE_VERCEL,
            "curl": FAKE_CURL,
            "go": FAKE_GO,
            "gitleaks": FAKE_SCANNER,
            "trivy": FAKE_SCANNER,
        }
        for name, text in fakes.items():
            (bin_dir / name).write_text(text.replace("__PYTHON__", sys.executable))
            (bin_dir / name).chmod(0o755)
        self.bin = bin_dir
        self.log = tmp_path / "calls.log"
        self.output = tmp_path / "output"
        self.summary = tmp_path / "summary"
        self.issues = tmp_path / "issues.json"
        self.base_env = {
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(tmp_path),
            "FAKE_LOG": str(self.log),
            "FAKE_STATE": str(self.issues),
            "FAKE_TEAM": VERCEL_TEAM,
            "FAKE_TOKEN_ENDPOINT": TOKEN_ENDPOINT,
            "RUNNER_TEMP": str(tmp_path),
            "GITHUB_OUTPUT": str(self.output),
            "GITHUB_STEP_SUMMARY": str(self.summary),
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_REPOSITORY": "acme/app",
            "GITHUB_REF_NAME": "main",
            "GITHUB_RUN_ID": "42",
            "GITHUB_ACTOR": "octocat",
            # The Vercel team owning the project; the jobs read it from vars.VERCEL_ORG_ID.
            "VERCEL_ORG_ID": VERCEL_TEAM,
        }

    def __call__(
        self,
        job_spec: Mapping[str, Any],
        step_spec: Mapping[str, Any],
        workflow_spec: Mapping[str, Any] | None = None,
        /,
        **env: str,
    ) -> subprocess.CompletedProcess[str]:
        """Run `step_spec` of `job_spec` (with `workflow_spec`'s env when given)."""
        literal = {
            key: str(value)
            for scope in (
                (workflow_spec or {}).get("env", {}),
                job_spec.get("env", {}),
                step_spec.get("env", {}),
            )
            for key, value in scope.items()
            if not list(expressions(value))
        }
        script = self.tmp / "step.sh"
        script.write_text(str(step_spec["run"]))
        return self.script(script, **literal, **env)

    def script(self, path: Path, **env: str) -> subprocess.CompletedProcess[str]:
        """Run a script file (the step's, or one the step calls) with the fakes."""
        self.output.unlink(missing_ok=True)
        return subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(path)],
            env={**self.base_env, **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def calls(self, tool: str | None = None) -> list[list[str]]:
        """The fakes' calls since the last look (of `tool` only, when given), in order."""
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        found = [json.loads(line) for line in lines]
        if self.log.exists():
            self.log.unlink()
        return [call for call in found if tool is None or call[0] == tool]

    def outputs(self) -> dict[str, str]:
        lines = self.output.read_text().splitlines() if self.output.exists() else []
        return dict(line.split("=", 1) for line in lines)

    def open_issues(self) -> list[dict[str, Any]]:
        issues = json.loads(self.issues.read_text()) if self.issues.exists() else []
        return [i for i in issues if i["state"] == "open"]

    def all_issues(self) -> list[dict[str, Any]]:
        return list(json.loads(self.issues.read_text())) if self.issues.exists() else []

    def file_issues(self, issues: list[dict[str, Any]]) -> None:
        self.issues.write_text(json.dumps(issues))
