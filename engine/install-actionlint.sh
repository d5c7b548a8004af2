#!/usr/bin/env bash
# Builds actionlint, the GitHub Actions workflow linter (rule W8), into .engine/bin.
#
# The same pinned build as the rest of the engine (engine/actionlint: go.mod and go.sum
# committed), because prebuilt release binaries cannot be downloaded on our machines.
# Idempotent: engine/build.sh skips it when its stamp is current. Prints the binary's path.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ENGINE_ONLY=actionlint bash "$root/engine/build.sh" >&2
echo "${ENGINE_OUT:-$root/.engine}/bin/actionlint"
