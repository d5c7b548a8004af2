#!/usr/bin/env bash
# Installs actionlint, the GitHub Actions workflow linter (rule W8), into .tools/bin.
#
# It is built from its Go module at a pinned version, because prebuilt release binaries cannot
# be downloaded on our machines; the Go checksum database verifies the module's content.
# Idempotent: does nothing when .tools/bin/actionlint already reports the pinned version.
set -euo pipefail

version="v1.7.12"
module="github.com/rhysd/actionlint/cmd/actionlint"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin_dir="$root/.tools/bin"
binary="$bin_dir/actionlint"

if [ -x "$binary" ] && [ "$("$binary" -version | head -n 1)" = "$version" ]; then
  exit 0
fi

command -v go >/dev/null || { echo "install-actionlint: go is not on PATH" >&2; exit 1; }
mkdir -p "$bin_dir"
GOBIN="$bin_dir" go install "${module}@${version}"
echo "install-actionlint: installed actionlint ${version} at ${binary}"
