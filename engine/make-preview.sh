#!/usr/bin/env bash
# `make preview STACK=...`: the real `pulumi preview` of a stack when the engine can run
# it; otherwise the offline plan of the stack, saying why.
#
# The real preview needs the Pulumi CLI (built by engine/build.sh, or yours on PATH) and
# the provider plugins (github, vercel, sentry, random, checkly). Those plugins cannot be built
# from the Go module proxy this project is limited to (engine/README.md); with them
# installed (PATH or $PULUMI_HOME/plugins) this runs engine/preview.sh, offline with
# placeholder credentials unless real ones are in the environment.
set -euo pipefail
stack=${1:?usage: engine/make-preview.sh STACK}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

case $stack in
  staging | production) ;;
  *)
    echo "preview: unknown stack '$stack' (stacks: staging, production)" >&2
    exit 2
    ;;
esac

bash engine/build.sh >&2
# shellcheck source=env.sh
. engine/env.sh
# shellcheck source=plugins.sh
. engine/plugins.sh
missing=$(engine_missing_plugins)
if [ -z "$missing" ]; then
  exec bash engine/preview.sh "$stack"
fi

echo "preview: the real engine is built ($(pulumi version)), but provider plugins are missing: $missing" >&2
echo "preview: showing the offline plan of '$stack' instead (the program under the SDK's mocks)" >&2
exec venv/bin/python -m tools.plan "$stack"
