#!/usr/bin/env bash
# Run a real `pulumi preview` of one stack against the local file backend.
#
#   bash engine/preview.sh STACK [extra `pulumi preview` args...]
#   e.g. bash engine/preview.sh staging --diff
#
# The project is the repo root (override: ENGINE_PROJECT_DIR=/path/to/project).
# The stack is created in the file backend (<repo>/.pulumi-state) if needed.
#
# Credentials: if none of GITHUB_TOKEN, VERCEL_API_TOKEN, SENTRY_AUTH_TOKEN
# (or SENTRY_TOKEN), SUPABASE_ACCESS_TOKEN is set, this is an "offline preview
# with placeholder credentials": placeholders are passed to the providers as
# environment variables only (nothing is written to Pulumi.<stack>.yaml):
#   GITHUB_BASE_URL  -> a loopback server on 127.0.0.1 answering 404 to
#                       everything (GitHub stays anonymous: no token)
#   VERCEL_API_TOKEN, SENTRY_AUTH_TOKEN / SENTRY_TOKEN -> the placeholders of
#                       engine/placeholder-credentials.env (also used by CI previews)
# ENGINE_OFFLINE_PREVIEW=1 is exported so the program can tell.
# Stack config values (e.g. vercel:apiToken) take precedence over these.
set -euo pipefail

if [ $# -lt 1 ] || [ "${1#-}" != "$1" ]; then
  echo "usage: $0 STACK [extra pulumi preview args...]" >&2
  exit 2
fi
STACK=$1
shift

ENGINE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=env.sh
. "$ENGINE_DIR/env.sh"

case $PULUMI_BACKEND_URL in file://*) mkdir -p "${PULUMI_BACKEND_URL#file://}" ;; esac

PROJECT_DIR=${ENGINE_PROJECT_DIR:-$ENGINE_REPO}
cd "$PROJECT_DIR"
if [ ! -f Pulumi.yaml ]; then
  echo "preview.sh: no Pulumi.yaml in $PROJECT_DIR" >&2
  exit 1
fi
if ! command -v pulumi >/dev/null; then
  echo "preview.sh: no pulumi CLI: run 'bash engine/build.sh' first" >&2
  exit 1
fi

# Interpreter for the language host: runtime.options.virtualenv of Pulumi.yaml
# (block or flow style), relative to the project; else ENGINE_VENV.
venv=$(grep -Eo 'virtualenv:[[:space:]]*[^,}[:space:]#]+' Pulumi.yaml | head -n1 | sed -E 's/virtualenv:[[:space:]]*//; s/^["'\'']//; s/["'\'']$//' || true)
if [ -n "$venv" ]; then
  case $venv in /*) ;; *) venv=$PROJECT_DIR/$venv ;; esac
else
  venv=$ENGINE_VENV
fi
if [ -x "$venv/bin/python" ]; then
  export PULUMI_PYTHON_CMD="$venv/bin/python"
else
  echo "preview.sh: warning: no virtualenv at $venv (create it and pip install -r requirements.txt)" >&2
fi

# Provider plugins the program's SDKs need; say which are missing up front.
# shellcheck source=plugins.sh
. "$ENGINE_DIR/plugins.sh"
missing=$(engine_missing_plugins)
if [ -n "$missing" ]; then
  echo "preview.sh: warning: provider plugins not found (PATH or $PULUMI_HOME/plugins):" \
    "$missing; resources of these providers will fail" >&2
fi

server_pid=""
tmpdir=$(mktemp -d)
restore_cfg=""
cleanup() {
  if [ -n "$restore_cfg" ]; then cat "$tmpdir/stack-config.orig" > "$restore_cfg"; fi
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmpdir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

have_creds=0
for v in GITHUB_TOKEN VERCEL_API_TOKEN SENTRY_AUTH_TOKEN SENTRY_TOKEN SUPABASE_ACCESS_TOKEN; do
  if [ -n "${!v:-}" ]; then have_creds=1; fi
done

if [ "$have_creds" = 0 ]; then
  echo "offline preview with placeholder credentials"
  python3 "$ENGINE_DIR/loopback404.py" "$tmpdir/port" &
  server_pid=$!
  for _ in $(seq 1 100); do
    [ -s "$tmpdir/port" ] && break
    sleep 0.1
  done
  if [ ! -s "$tmpdir/port" ]; then
    echo "preview.sh: loopback server did not start" >&2
    exit 1
  fi
  port=$(cat "$tmpdir/port")
  export GITHUB_BASE_URL="http://127.0.0.1:$port/"
  unset GITHUB_TOKEN GITHUB_APP_ID GITHUB_APP_INSTALLATION_ID GITHUB_APP_PEM_FILE
  set -a
  # shellcheck source=placeholder-credentials.env
  . "$ENGINE_DIR/placeholder-credentials.env"
  set +a
  export ENGINE_OFFLINE_PREVIEW=1
fi

# Creating a stack (and previewing one whose config file has no salt) makes
# Pulumi write `encryptionsalt:` into Pulumi.<stack>.yaml. A committed,
# unmodified stack file is put back as it was when this script exits (state
# secrets do not depend on it; a file that holds secrets already has its salt).
cfg="Pulumi.$STACK.yaml"
if [ -f "$cfg" ] && git ls-files --error-unmatch -- "$cfg" >/dev/null 2>&1 &&
  git diff --quiet -- "$cfg" 2>/dev/null; then
  cp "$cfg" "$tmpdir/stack-config.orig"
  restore_cfg=$PWD/$cfg
fi

pulumi stack select --create --non-interactive "$STACK" >/dev/null
pulumi preview --stack "$STACK" --non-interactive "$@"
