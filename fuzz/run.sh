#!/usr/bin/env bash
# Runs every cargo-fuzz target for FUZZ_SECONDS (default 30) seconds each and prints how many
# inputs each one executed. Needs a nightly toolchain (libFuzzer instrumentation); without one
# it says so and exits 0, so CI can call it unconditionally.
#
#   FUZZ_SECONDS=300 fuzz/run.sh            # all targets, 5 minutes each
#   fuzz/run.sh token_response              # only the named targets
#
# Seeds live in corpus/<target>/seed-*; inputs the fuzzer adds next to them are git-ignored.
# A crash leaves its input in artifacts/<target>/ and makes the script exit 1.
set -euo pipefail

cd "$(dirname "$0")"
seconds="${FUZZ_SECONDS:-30}"

if ! rustup toolchain list 2>/dev/null | grep -q nightly; then
    echo "fuzz: no nightly toolchain installed; skipping (rustup toolchain install nightly)"
    exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

# Build first so that a compile error shows up as one, not as a failed run per target.
cargo +nightly fuzz build

logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
failed=()
summary=()
for target in "${targets[@]}"; do
    echo "fuzz: $target for ${seconds}s"
    log="$logs/$target.log"
    status=0
    cargo +nightly fuzz run "$target" -- \
        -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1 || status=$?
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    if [ -z "$execs" ]; then
        execs="$(sed -n 's/^#\([0-9]*\)[[:space:]]*DONE.*/\1/p' "$log" | tail -n 1)"
    fi
    if [ "$status" -ne 0 ]; then
        tail -n 40 "$log"
        failed+=("$target")
        summary+=("$(printf '%-20s FAILED (exit %s) after %s executions' "$target" "$status" "${execs:-?}")")
    else
        summary+=("$(printf '%-20s %12s executions in %ss' "$target" "${execs:-?}" "$seconds")")
    fi
done

echo
echo "fuzz: executions per target"
printf '  %s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz: crashes in: ${failed[*]} (inputs under fuzz/artifacts/)"
    exit 1
fi
