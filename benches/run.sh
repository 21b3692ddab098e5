#!/usr/bin/env bash
# Runs every latchkey / oauth2 benchmark pair and prints the ratio table (criterion medians).
#
#   bash benches/run.sh            # full run, about 7 minutes once built; the README's table
#   bash benches/run.sh --quick    # CI smoke run (criterion's --quick, capped at 2 s a bench)
#   bash benches/run.sh -- FILTER  # extra arguments go to criterion (e.g. a name filter)
#
# Results land in target/criterion (or $CARGO_TARGET_DIR/criterion); the table is printed by
# src/bin/ratios.rs from each benchmark's new/estimates.json.
set -euo pipefail
cd "$(dirname "$0")/.."
args=(--noplot)
if [ "${1:-}" = "--quick" ]; then
  args+=(--quick --measurement-time 2)
  shift
fi
[ "${1:-}" = "--" ] && shift
cargo bench -p latchkey-benches --bench core --bench loopback --bench manager --bench fleet --bench oidc --bench dpop -- "${args[@]}" "$@"
echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
cargo run -q --profile bench -p latchkey-benches --bin ratios
