# shellcheck shell=bash
# Source this file from bash: `. engine/env.sh`
# Puts the engine built by engine/build.sh first on PATH and points Pulumi at
# repo-local, offline state. Idempotent.
#
# PULUMI_CONFIG_PASSPHRASE: if neither it nor PULUMI_CONFIG_PASSPHRASE_FILE is
# set, a fixed, publicly known default is exported so that local/offline
# previews of file-backend stacks run without a prompt. It protects nothing:
# set your own passphrase (or a real backend) before storing real secrets.
ENGINE_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export ENGINE_REPO

case ":$PATH:" in
  *":$ENGINE_REPO/.engine/bin:"*) ;;
  *) export PATH="$ENGINE_REPO/.engine/bin:$PATH" ;;
esac

# ENGINE_PULUMI_HOME / ENGINE_BACKEND_URL override the repo-local defaults.
export PULUMI_HOME="${ENGINE_PULUMI_HOME:-$ENGINE_REPO/.pulumi-home}"
export PULUMI_BACKEND_URL="${ENGINE_BACKEND_URL:-file://$ENGINE_REPO/.pulumi-state}"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true

if [ -z "${PULUMI_CONFIG_PASSPHRASE+set}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  export PULUMI_CONFIG_PASSPHRASE="local-offline-only-not-a-secret"
fi

# The language host built here (sdk v3.68.0, see engine/README.md) does not
# receive Pulumi.yaml's runtime options from the current CLI, so tell it which
# interpreter to use: the project's virtualenv (ENGINE_VENV, default <repo>/venv).
: "${ENGINE_VENV:=$ENGINE_REPO/venv}"
export ENGINE_VENV
if [ -x "$ENGINE_VENV/bin/python" ]; then
  export PULUMI_PYTHON_CMD="$ENGINE_VENV/bin/python"
fi
