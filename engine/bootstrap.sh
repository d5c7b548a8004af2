#!/usr/bin/env bash
# `make bootstrap STACK=...`: tools/bootstrap.py with a Pulumi CLI on PATH — yours when you
# have one (engine/cli.sh), else the one engine/build.sh builds from Go modules (said first).
# Your login, PULUMI_HOME and backend are used as they are: nothing of engine/env.sh's
# offline setup applies here.
set -euo pipefail
stack=${1:-}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
VENV=${VENV:-venv}

# shellcheck source=cli.sh
. engine/cli.sh
if user_pulumi=$(engine_user_pulumi); then
  PATH="$(dirname "${user_pulumi%% *}"):$PATH"
else
  echo "bootstrap: no pulumi on PATH (v3, not older than the SDK): building it from Go modules (engine/build.sh)" >&2
  bash engine/build.sh >&2
  PATH="$repo/.engine/bin:$PATH"
fi
export PATH
exec "$VENV/bin/python" -m tools.bootstrap "$stack"
