#!/usr/bin/env bash
# Dependency footprint of latchkey and its adapters against oauth2 5.x and bare ureq 3.
#
#   bash benches/footprint.sh                # unique crates in `cargo tree` (a minute at most)
#   bash benches/footprint.sh --build-times  # also the clean release build of a hello world
#                                            # on latchkey-ureq against one on bare ureq 3
#                                            # (and on oauth2 + ureq; SKIP_OAUTH2=1 skips it;
#                                            # ROUNDS=N builds each N times, default 2)
#
# A count is the number of distinct packages (name + version, the root included) that
# `cargo tree -e normal` lists for the host target with default features: what a user's build
# compiles, build scripts' own dependencies and dev-dependencies left out. latchkey's crates
# are counted in this workspace; oauth2 and ureq in scratch projects made under a temporary
# directory outside the repository (removed on exit), as are the hello-world projects, each
# built with its own CARGO_TARGET_DIR after `cargo fetch`, so only compiling is timed.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
scratch=$(mktemp -d "${TMPDIR:-/tmp}/latchkey-footprint.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

count() { # count ARGS... : unique packages cargo tree lists
  cargo tree -q -e normal --prefix none --format '{p}' "$@" | sed 's/ (\*)$//; s/ (proc-macro)$//' |
    sort -u | wc -l
}

# scratch NAME 'DEPENDENCY LINES' 'MAIN BODY': a binary project outside the repository.
scratch() {
  mkdir -p "$scratch/$1/src"
  printf '[package]\nname = "%s"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n[dependencies]\n%s\n\n[workspace]\n' \
    "$1" "$2" >"$scratch/$1/Cargo.toml"
  printf 'fn main() {\n%s\n}\n' "$3" >"$scratch/$1/src/main.rs"
}

scratch oauth2-none 'oauth2 = { version = "5", default-features = false }' ''
scratch oauth2-ureq 'oauth2 = { version = "5", default-features = false, features = ["ureq"] }' \
  '    let client = oauth2::basic::BasicClient::new(oauth2::ClientId::new("hello".into()));
    let http = oauth2::ureq::Agent::new();
    println!("hello from {:?} and {:?}", client.client_id(), std::ptr::addr_of!(http));'
scratch oauth2-default 'oauth2 = "5"' ''
scratch ureq-default 'ureq = "3"' \
  '    let agent = ureq::Agent::new_with_defaults();
    println!("hello from {agent:?}");'
scratch ureq-rustls 'ureq = { version = "3", default-features = false, features = ["rustls"] }' ''
scratch latchkey-ureq-hello "latchkey = { path = \"$repo/crates/latchkey\" }
latchkey-ureq = { path = \"$repo/crates/latchkey-ureq\" }" \
  '    let transport = latchkey_ureq::Transport::new();
    let client = latchkey::Client::builder("hello")
        .token_endpoint("https://auth.example.com/token")
        .build()
        .expect("client");
    println!("hello from {transport:?} and {}", client.client_id());'

row() { printf '| %-52s | %5s | %s |\n' "$1" "$2" "$3"; }
echo "| crate (default features unless said) | unique crates | goal (issue's oauth2 counts) |"
echo "| --- | ---: | --- |"
ureq_alone=$(count --manifest-path "$scratch/ureq-default/Cargo.toml")
row "latchkey" "$(count -p latchkey)" "≤ 25 (oauth2 without features: 68)"
row "latchkey-ureq" "$(count -p latchkey-ureq)" "≤ ureq 3 alone + 10 = $((ureq_alone + 10)) (oauth2 + ureq: 88)"
row "latchkey-reqwest" "$(count -p latchkey-reqwest)" "below oauth2 default (113)"
row "ureq 3 alone (default features: rustls, gzip)" "$ureq_alone" ""
row "ureq 3, rustls only (latchkey-ureq's ureq features)" "$(count --manifest-path "$scratch/ureq-rustls/Cargo.toml")" ""
row "oauth2 5, no features" "$(count --manifest-path "$scratch/oauth2-none/Cargo.toml")" ""
row "oauth2 5, ureq feature" "$(count --manifest-path "$scratch/oauth2-ureq/Cargo.toml")" ""
row "oauth2 5, default features (reqwest, rustls-tls)" "$(count --manifest-path "$scratch/oauth2-default/Cargo.toml")" ""

if [ "${1:-}" = "--build-times" ]; then
  build() { # build NAME: seconds of a clean `cargo build --release`
    local dir=$scratch/$1 start end
    (cd "$dir" && cargo fetch -q)
    rm -rf "$dir/target"
    start=$(date +%s.%N)
    (cd "$dir" && CARGO_TARGET_DIR="$dir/target" CARGO_INCREMENTAL=0 cargo build -q --release)
    end=$(date +%s.%N)
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f\n", e - s }'
  }
  min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a < b ? a : b) }'; }
  # Alternate the two, ROUNDS times (default 2), and keep each one's fastest: other builds on
  # a shared machine only ever make a build slower.
  best_ureq=999999
  best_latchkey=999999
  best_oauth2=999999
  for _ in $(seq "${ROUNDS:-2}"); do
    best_ureq=$(min "$best_ureq" "$(build ureq-default)")
    best_latchkey=$(min "$best_latchkey" "$(build latchkey-ureq-hello)")
    [ -n "${SKIP_OAUTH2:-}" ] || best_oauth2=$(min "$best_oauth2" "$(build oauth2-ureq)")
  done
  echo
  echo "clean release build of a hello world ($(nproc) cores, fastest of ${ROUNDS:-2} each):"
  echo "  bare ureq 3 (default features):      ${best_ureq} s"
  echo "  latchkey-ureq (default features):    ${best_latchkey} s"
  awk -v a="$best_latchkey" -v b="$best_ureq" \
    'BEGIN { printf "  ratio latchkey-ureq / ureq:          %.2f (goal <= 1.2)\n", a / b }'
  if [ -z "${SKIP_OAUTH2:-}" ]; then
    echo "  oauth2 5 + its ureq (2) feature:     ${best_oauth2} s"
    awk -v a="$best_oauth2" -v b="$best_ureq" \
      'BEGIN { printf "  ratio oauth2 + ureq / ureq:          %.2f\n", a / b }'
  fi
fi
