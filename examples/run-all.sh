#!/usr/bin/env bash
# Builds the examples once, then runs every one of them against latchkey-mock, one line per
# example, stopping at the first failure (whose output is then shown in full).
#
#   bash examples/run-all.sh            # one line per example
#   bash examples/run-all.sh --verbose  # every example's own output too
set -euo pipefail
cd "$(dirname "$0")/.."

verbose=false
[ "${1:-}" = "--verbose" ] && verbose=true

# The examples talk to a real provider when its variables are set. Never here: unset them all,
# and give the examples no stdin, so nothing can leave loopback or wait for a human.
while read -r name; do
  unset "$name"
done < <(compgen -e | grep -E '^(LOOM|COLOOP|BLOOMA|LOOP_AND_TIE)_' || true)

cargo build --quiet -p latchkey-examples --bins
target_dir=$(cargo metadata --format-version 1 --no-deps |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
bin_dir="${target_dir:-target}/debug"

output=$(mktemp)
trap 'rm -f "$output"' EXIT

count=0
for source in examples/src/bin/*.rs; do
  example=$(basename "$source" .rs)
  start=$(date +%s%N)
  if timeout 30 "$bin_dir/$example" </dev/null >"$output" 2>&1; then
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    printf 'ok    %-28s %5d ms\n' "$example" "$ms"
    if $verbose; then sed 's/^/      /' "$output"; fi
    count=$((count + 1))
  else
    status=$?
    printf 'FAIL  %-28s exit %d\n' "$example" "$status"
    sed 's/^/      /' "$output"
    exit 1
  fi
done
echo "all $count examples passed against latchkey-mock"
