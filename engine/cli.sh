# shellcheck shell=bash
# Sourced helper: the user's own Pulumi CLI, if it can drive this program.
#
#   . engine/cli.sh; found=$(engine_user_pulumi) && echo "$found"   # "<path> <version>"
#
# A `pulumi` on PATH outside this repository's .engine/bin counts when it has the Python
# SDK's major version and is not older than it (engine/versions.env): build.sh then builds
# no CLI, and `make preview` / `make bootstrap` run it as it is, with the user's own login,
# PULUMI_HOME and plugins.
engine_user_pulumi() {
  local dir own p v need
  dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  # shellcheck source=versions.env
  . "$dir/versions.env"
  own=${ENGINE_OUT:-$(dirname "$dir")/.engine}/bin
  p=$(PATH=$(echo "$PATH" | tr ':' '\n' | grep -vxF "$own" | paste -sd: -) command -v pulumi 2>/dev/null) ||
    return 1
  v=$("$p" version 2>/dev/null | tr -d 'v\r') || return 1
  need=${PULUMI_SDK_VERSION#v}
  [ "${v%%.*}" = "${need%%.*}" ] || return 1
  [ "$(printf '%s\n%s\n' "$need" "${v%%-*}" | sort -V | head -n1)" = "$need" ] || return 1
  echo "$p $v"
}
