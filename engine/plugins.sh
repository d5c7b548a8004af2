# shellcheck shell=bash
# Sourced helper: which provider plugins the program needs are not installed.
#
#   . engine/env.sh; . engine/plugins.sh; missing=$(engine_missing_plugins)
#
# Prints "name version" per missing plugin, comma-separated, or nothing when all of
# the providers of engine/versions.env ($PROVIDERS, with their versions) are on PATH or
# in $PULUMI_HOME/plugins. They cannot be built from the Go module proxy here (README).
engine_missing_plugins() {
  local dir p name ver_var missing=()
  dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  # shellcheck source=versions.env
  . "$dir/versions.env"
  for p in $PROVIDERS; do
    name=$(echo "$p" | tr '[:upper:]' '[:lower:]')
    ver_var=PROVIDER_${p}_VERSION
    if ! command -v "pulumi-resource-$name" >/dev/null &&
      ! compgen -G "${PULUMI_HOME:-$HOME/.pulumi}/plugins/resource-$name-v${!ver_var}" >/dev/null; then
      missing+=("$name ${!ver_var}")
    fi
  done
  (IFS=,; echo "${missing[*]}")
}
