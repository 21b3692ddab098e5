#!/usr/bin/env bash
# Builds the single-page app of examples/spa into a directory to serve as it is:
#   index.html, latchkey_spa.js, latchkey_spa_bg.wasm
#
# Usage: bash examples/spa/build.sh [OUT]     (default OUT: ${CARGO_TARGET_DIR:-target}/spa)
#
# Needs the wasm32-unknown-unknown target (rustup target add wasm32-unknown-unknown) and
# wasm-bindgen-cli of exactly the version of the wasm-bindgen crate in examples/spa/Cargo.toml
# (cargo install --locked wasm-bindgen-cli --version 0.2.130). Prints the bundle's size, raw
# and gzipped.
set -euo pipefail
cd "$(dirname "$0")/../.."

WASM_BINDGEN_VERSION=0.2.130
target="${CARGO_TARGET_DIR:-target}"
out="${1:-$target/spa}"

have="$(wasm-bindgen --version 2>/dev/null || true)"
if [ "$have" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  echo "examples/spa/build.sh: needs wasm-bindgen $WASM_BINDGEN_VERSION (found: ${have:-none});" \
    "run: cargo install --locked wasm-bindgen-cli --version $WASM_BINDGEN_VERSION" >&2
  exit 1
fi

cargo build -p latchkey-spa --target wasm32-unknown-unknown --profile wasm-release
rm -rf "$out"
mkdir -p "$out"
wasm-bindgen --target web --no-typescript --out-dir "$out" \
  "$target/wasm32-unknown-unknown/wasm-release/latchkey_spa.wasm"
wasm="$out/latchkey_spa_bg.wasm"
# No wasm-opt: Debian 12's binaryen (108) mis-optimizes wasm-bindgen 0.2.130's externref
# table (the page then fails with "WebAssembly.Table.set(): Argument 1 is invalid"). The
# size comes from the wasm-release profile alone (opt-level "z", fat LTO, one codegen unit,
# panic=abort).
optimized="wasm-release profile, no wasm-opt"
cp examples/spa/static/index.html "$out/"
size() { wc -c <"$1" | tr -d ' '; }
gz() { gzip -9 -c "$1" | wc -c | tr -d ' '; }
echo "examples/spa: $out: latchkey_spa_bg.wasm $(size "$wasm") bytes ($optimized), $(gz "$wasm") gzipped;" \
  "latchkey_spa.js $(size "$out/latchkey_spa.js") bytes, $(gz "$out/latchkey_spa.js") gzipped"
