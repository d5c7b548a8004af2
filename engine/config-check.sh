#!/usr/bin/env bash
# Through the real engine: a stack with bad config stops before its first resource, with
# one line per problem naming the key, the value and what is allowed, and no traceback.
#
#   bash engine/config-check.sh
#
# Runs `pulumi preview` of a copy of the program (git's tracked files) whose staging stack
# file carries two bad values, against a throwaway file backend. The committed stack
# files are never touched.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

bash "$repo/engine/build.sh" >/dev/null
mkdir "$work/program"
git -C "$repo" ls-files -z | (cd "$repo" && xargs -0 cp --parents -t "$work/program")
ln -s "$repo/venv" "$work/program/venv"
sed -i 's/githubOwner: acme-corp/githubOwner: "-not an owner"/; s/supabaseRegion: us-east-1/supabaseRegion: mars-1/' \
  "$work/program/Pulumi.staging.yaml"

start=$(date +%s.%N)
set +e
ENGINE_PROJECT_DIR="$work/program" ENGINE_BACKEND_URL="file://$work/state" \
  ENGINE_PULUMI_HOME="$work/home" bash "$repo/engine/preview.sh" staging >"$work/out.log" 2>&1
status=$?
set -e
elapsed=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')

fail() {
  echo "config-check: FAIL: $1" >&2
  tail -n 30 "$work/out.log" >&2
  exit 1
}
[ "$status" -ne 0 ] || fail "the preview of a stack with bad config succeeded"
grep -q "invalid stack configuration (2 problems)" "$work/out.log" || fail "no problem count"
grep -q "githubOwner: '-not an owner' is not allowed; expected a GitHub organisation or user name" \
  "$work/out.log" || fail "githubOwner not named"
grep -q "supabaseRegion: 'mars-1' is not allowed; expected one of us-east-1" "$work/out.log" ||
  fail "supabaseRegion not named"
if grep -q "Traceback" "$work/out.log"; then fail "a traceback reached the user"; fi
printf 'config-check: PASS bad config refused cleanly by pulumi %s in %.1fs\n' \
  "$(PATH="$repo/.engine/bin:$PATH" pulumi version)" "$elapsed"
