#!/usr/bin/env bash
# `make preview STACK=...` (rule D3): the real `pulumi preview` of your stack when you have
# a Pulumi backend and the providers' credentials, otherwise the offline plan, at once.
# The first line printed says which, and why; tools/preview_mode.py decides, from what is
# on this machine (environment, ~/.pulumi/credentials.json, the stack file), with no
# network call and nothing built.
#
#   real     your own pulumi (engine/cli.sh), with your PULUMI_HOME, login and plugins;
#            plugins are acquired as usual: nothing offline is forced.
#   build    the same, after engine/build.sh has built the CLI (only if you have none).
#   offline  `python -m tools.plan STACK`: the program under the SDK's mocks.
set -euo pipefail
stack=${1:-}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
PYTHON=${PYTHON:-python3}
VENV=${VENV:-venv}

# shellcheck source=cli.sh
. engine/cli.sh
user_pulumi=$(engine_user_pulumi || true)
decision=$("$PYTHON" -m tools.preview_mode "$stack" --pulumi "$user_pulumi")
mode=${decision%%$'\n'*}
echo "${decision#*$'\n'}"

# Every mode runs the program, in its virtualenv: set up quietly on the first run only.
make --no-print-directory -s PYTHON="$PYTHON" VENV="$VENV" setup >&2

case $mode in
  offline)
    exec "$VENV/bin/python" -m tools.plan "$stack"
    ;;
  real)
    exec "${user_pulumi%% *}" preview --stack "$stack" --policy-pack policy
    ;;
  build)
    bash engine/build.sh >&2
    # The language host built here reads its interpreter from PULUMI_PYTHON_CMD only
    # (engine/README.md); nothing else of engine/env.sh's offline setup applies.
    export PULUMI_PYTHON_CMD="$repo/$VENV/bin/python"
    PATH="$repo/.engine/bin:$PATH" exec pulumi preview --stack "$stack" --policy-pack policy
    ;;
esac
