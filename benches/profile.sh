#!/usr/bin/env bash
# Instructions per operation under callgrind: the profile evidence in benches/README.md.
#
#   bash benches/profile.sh                         # every operation
#   bash benches/profile.sh token_response/latchkey # some; KEEP=1 also prints the hot functions
#
# Builds examples/profile.rs (the very functions the criterion bench times) with the bench
# profile plus debug info, in its own target directory so the bench build is left alone, and
# counts instructions only inside its measured loop. Instruction counts leave out what the
# kernel does (the getrandom system call is counted as the few instructions that enter it).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-20000}
target=${CARGO_TARGET_DIR:-target}/callgrind-build
CARGO_PROFILE_BENCH_DEBUG=line-tables-only CARGO_TARGET_DIR=$target \
  cargo build -q --profile bench -p latchkey-benches --example profile
bin=$target/release/examples/profile
if [ $# -eq 0 ]; then
  mapfile -t ops < <("$bin" list)
else
  ops=("$@")
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for op in "${ops[@]}"; do
  file=$out/$(echo "$op" | tr / _).out
  valgrind --tool=callgrind --toggle-collect='*profile::measured*' \
    --callgrind-out-file="$file" "$bin" "$op" "$N" 2>/dev/null
  ir=$(callgrind_annotate "$file" | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
  printf '%-40s %7d instructions/op\n' "$op" $((ir / N))
  if [ -n "${KEEP:-}" ]; then
    callgrind_annotate --inclusive=yes "$file" | sed -n '/^Ir/,$p' | head -45
  fi
done
