#!/usr/bin/env bash
# Build the Pulumi engine (CLI, Python language host, helper scripts) and
# actionlint from pinned Go modules into <repo>/.engine/bin.
#
#   bash engine/build.sh            # build what is missing or out of date
#   ENGINE_FORCE=1 bash engine/build.sh     # rebuild everything
#   ENGINE_USE_PATH_PULUMI=0 ...    # build the CLI even if a compatible pulumi is on PATH
#   ENGINE_ONLY=actionlint ...      # build actionlint alone
#
# Needs only the Go toolchain and the Go module proxy (go.sum of each wrapper
# module pins every byte). Builds one tool at a time, niced (2-core machines).
# Provider plugins cannot be built here: see engine/README.md.
set -euo pipefail

ENGINE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$ENGINE_DIR")
OUT=${ENGINE_OUT:-$REPO/.engine}
BIN=$OUT/bin
STAMPS=$OUT/stamps
mkdir -p "$BIN" "$STAMPS"

# shellcheck source=versions.env
. "$ENGINE_DIR/versions.env"

command -v go >/dev/null || { echo "build.sh: the Go toolchain is required" >&2; exit 1; }

# Go settings: never fetch a toolchain, never edit go.mod/go.sum, no cgo
# (static binaries, as upstream releases), reproducible paths, no VCS stamping.
export GOTOOLCHAIN=local
export GOFLAGS="-mod=readonly -trimpath -buildvcs=false"
export CGO_ENABLED=0
NICE=(nice -n 10)
GO_VERSION=$(go env GOVERSION)
echo "engine: go $GO_VERSION, GOMODCACHE=$(go env GOMODCACHE), GOCACHE=$(go env GOCACHE)"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
TOTAL_START=$(now)
SUMMARY=()

# Stamp key: everything that determines the output of a tool.
stamp_key() { # tool version files...
  local tool=$1 version=$2; shift 2
  { echo "$tool $version $GO_VERSION $GOFLAGS CGO=$CGO_ENABLED"; cat "$@"; } | sha256sum | cut -d' ' -f1
}
up_to_date() { # tool key outputs...
  local tool=$1 key=$2; shift 2
  [ "${ENGINE_FORCE:-0}" = 1 ] && return 1
  [ -f "$STAMPS/$tool" ] && [ "$(cat "$STAMPS/$tool")" = "$key" ] || return 1
  local f; for f in "$@"; do [ -x "$BIN/$f" ] || return 1; done
}

# go_build TOOL VERSION MODDIR PKG OUTPUT LDFLAGS [SOURCE_FILES...]
# (SOURCE_FILES: our own Go sources, part of the stamp key)
go_build() {
  local tool=$1 version=$2 moddir=$3 pkg=$4 output=$5 ldflags=$6; shift 6
  local key; key=$(stamp_key "$tool" "$version$ldflags" "$moddir/go.mod" "$moddir/go.sum" "$@")
  if up_to_date "$tool" "$key" "$output"; then
    echo "[$tool] $version up to date (skipped)"; SUMMARY+=("$tool $version skipped 0.0s"); return 0
  fi
  echo "[$tool] building $pkg@$version"
  local start; start=$(now)
  (cd "$moddir" && "${NICE[@]}" go build -tags osusergo,grpcnotrace -ldflags "-s -w $ldflags" -o "$BIN/$output.tmp" "$pkg")
  mv -f "$BIN/$output.tmp" "$BIN/$output"
  echo "$key" > "$STAMPS/$tool"
  local t; t=$(elapsed "$start")
  echo "[$tool] built in ${t}s"; SUMMARY+=("$tool $version built ${t}s")
}

# A compatible pulumi already on PATH (outside .engine/bin) is used as is,
# together with its own bundled language hosts.
# shellcheck source=cli.sh
. "$ENGINE_DIR/cli.sh"

# 1. actionlint
go_build actionlint "$ACTIONLINT_VERSION" "$ENGINE_DIR/actionlint" \
  github.com/rhysd/actionlint/cmd/actionlint actionlint \
  "-X github.com/rhysd/actionlint.version=$ACTIONLINT_VERSION"
# The workflow lint tests need only actionlint (engine/install-actionlint.sh).
if [ "${ENGINE_ONLY:-}" = actionlint ]; then
  printf '  %s\n' "${SUMMARY[@]}"
  exit 0
fi

if [ "${ENGINE_USE_PATH_PULUMI:-1}" = 1 ] && found=$(engine_user_pulumi); then
  echo "[pulumi] using compatible pulumi on PATH: $found (its own language hosts); not building CLI/language host"
  rm -f "$BIN/pulumi" "$BIN/pulumi-language-python" "$BIN/pulumi-language-python-$LANGUAGE_PYTHON_VERSION" \
    "$BIN/pulumi-language-python-exec" "$BIN/pulumi-resource-pulumi-python" \
    "$BIN/pulumi-analyzer-policy-python" \
    "$STAMPS/cli" "$STAMPS/language-python" "$STAMPS/language-python-shim"
  SUMMARY+=("cli on-PATH ${found} 0.0s")
else
  # 2. Python language host (from sdk/v3@v3.68.0, see versions.env), installed
  #    under its versioned name, and our shim in front of it as pulumi-language-python
  #    (engine/language-python-shim: fills RunPlugin's pre-ProgramInfo fields, so
  #    that the current CLI can start Python policy packs through the old host).
  go_build language-python "$LANGUAGE_PYTHON_VERSION" "$ENGINE_DIR/language-python" \
    "$LANGUAGE_PYTHON_MODULE/python/cmd/pulumi-language-python" "pulumi-language-python-$LANGUAGE_PYTHON_VERSION" \
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$LANGUAGE_PYTHON_VERSION"
  go_build language-python-shim "$PULUMI_CLI_VERSION" "$ENGINE_DIR/language-python-shim" \
    example.invalid/engine/language-python-shim pulumi-language-python \
    "-X main.realHostName=pulumi-language-python-$LANGUAGE_PYTHON_VERSION" \
    "$ENGINE_DIR"/language-python-shim/*.go

  # 3. Scripts the language host, dynamic providers and policy packs run.
  #    From the sdk/v3 module of the Python SDK's own version (v3.272.0);
  #    the policy analyzer script only exists in the host's module (v3.68.0).
  start=$(now)
  sdk_dir=$(cd "$ENGINE_DIR/python-sdk" && go mod download && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
  host_dir=$(cd "$ENGINE_DIR/language-python" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
  install -m 0755 "$sdk_dir/python/cmd/pulumi-language-python-exec" "$BIN/"
  install -m 0755 "$sdk_dir/python/dist/pulumi-resource-pulumi-python" "$BIN/"
  f=pulumi-analyzer-policy-python
  if [ -f "$sdk_dir/python/dist/$f" ]; then install -m 0755 "$sdk_dir/python/dist/$f" "$BIN/"
  elif [ -f "$host_dir/python/dist/$f" ]; then install -m 0755 "$host_dir/python/dist/$f" "$BIN/"
  fi
  SUMMARY+=("python-scripts $PULUMI_SDK_VERSION copied $(elapsed "$start")s")

  # 4. Pulumi CLI
  go_build cli "$PULUMI_CLI_VERSION" "$ENGINE_DIR/cli" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi pulumi \
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_CLI_VERSION"
fi

# 5. Provider plugins: probe the pinned module versions (no build possible
#    while the proxy refuses them; a plugin found on PATH or in PULUMI_HOME is used).
probe_dir=$(mktemp -d)
trap 'rm -rf "$probe_dir"' EXIT
for p in $PROVIDERS; do
  name=$(echo "$p" | tr '[:upper:]' '[:lower:]')
  ver_var=PROVIDER_${p}_VERSION mod_var=PROVIDER_${p}_MODULE pseudo_var=PROVIDER_${p}_PSEUDO
  ver=${!ver_var} mod=${!mod_var} pseudo=${!pseudo_var}
  if [ -n "$pseudo" ] && (cd "$probe_dir" && GOFLAGS=-mod=mod go mod download "$mod@$pseudo" >/dev/null 2>&1); then
    status="module served (no wrapper yet: see engine/README.md)"
  elif [ -n "$pseudo" ]; then
    status="not built: $mod@$pseudo is not served by the Go module proxy"
  else
    status="not built: $mod is not served by the Go module proxy"
  fi
  echo "[provider-$name] $ver $status"
  SUMMARY+=("provider-$name $ver not-built 0.0s")
done

echo
echo "engine build summary (bin: $BIN)"
printf '  %s\n' "${SUMMARY[@]}"
echo "  total $(elapsed "$TOTAL_START")s"
