#!/usr/bin/env bash
# Dependency footprint of latchkey and its adapters, each against its oauth2 5.x counterpart
# measured the same way in the same run (plus bare ureq 3 and reqwest 0.13 for reference).
#
#   bash benches/footprint.sh                # unique crates in `cargo tree` (a minute at most)
#   bash benches/footprint.sh --build-times  # also clean release builds of a hello world on
#                                            # each of latchkey, latchkey-ureq and
#                                            # latchkey-reqwest and on its oauth2 counterpart
#                                            # (and on bare ureq 3), ROUNDS times each
#                                            # (default 3), alternating; median and fastest
#
# Pairs (ours | oauth2's): latchkey | oauth2 without features; latchkey-ureq | oauth2 with its
# `ureq` feature (ureq 2); latchkey-reqwest | oauth2 with default features (reqwest 0.12,
# rustls-tls). The goal of every figure is "at most oauth2's, measured in the same run".
#
# A count is the number of distinct packages (name + version, the root included) that
# `cargo tree -e normal` lists for the host target with default features: what a user's build
# compiles, build scripts' own dependencies and dev-dependencies left out. latchkey's crates
# are counted in this workspace; oauth2, ureq and reqwest in scratch projects made under a
# temporary directory outside the repository (removed on exit), as are the hello-world
# projects, each built with its own CARGO_TARGET_DIR after `cargo fetch`, so only compiling is
# timed.
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

scratch oauth2-none 'oauth2 = { version = "5", default-features = false }' \
  '    let client = oauth2::basic::BasicClient::new(oauth2::ClientId::new("hello".into()));
    println!("hello from {:?}", client.client_id());'
scratch oauth2-ureq 'oauth2 = { version = "5", default-features = false, features = ["ureq"] }' \
  '    let client = oauth2::basic::BasicClient::new(oauth2::ClientId::new("hello".into()));
    let http = oauth2::ureq::Agent::new();
    println!("hello from {:?} and {:?}", client.client_id(), std::ptr::addr_of!(http));'
scratch oauth2-default 'oauth2 = "5"' \
  '    let client = oauth2::basic::BasicClient::new(oauth2::ClientId::new("hello".into()));
    let http = oauth2::reqwest::Client::new();
    println!("hello from {:?} and {http:?}", client.client_id());'
scratch ureq-default 'ureq = "3"' \
  '    let agent = ureq::Agent::new_with_defaults();
    println!("hello from {agent:?}");'
scratch ureq-rustls 'ureq = { version = "3", default-features = false, features = ["rustls"] }' ''
scratch reqwest-rustls 'reqwest = { version = "0.13", default-features = false, features = ["rustls"] }' ''
client='    let client = latchkey::Client::builder("hello")
        .token_endpoint("https://auth.example.com/token")
        .build()
        .expect("client");'
scratch latchkey-hello "latchkey = { path = \"$repo/crates/latchkey\" }" \
  "$client
    println!(\"hello from {}\", client.client_id());"
scratch latchkey-ureq-hello "latchkey = { path = \"$repo/crates/latchkey\" }
latchkey-ureq = { path = \"$repo/crates/latchkey-ureq\" }" \
  "    let transport = latchkey_ureq::Transport::new();
$client
    println!(\"hello from {transport:?} and {}\", client.client_id());"
scratch latchkey-reqwest-hello "latchkey = { path = \"$repo/crates/latchkey\" }
latchkey-reqwest = { path = \"$repo/crates/latchkey-reqwest\" }" \
  "    let transport = latchkey_reqwest::Transport::new();
$client
    println!(\"hello from {transport:?} and {}\", client.client_id());"

verdict() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b ? "yes" : "**no**") }'; }
pair() { # pair OURS N OAUTH2_LABEL M
  printf '| %-16s | %3s | %-44s | %3s | ≤ oauth2 (%s) | %s |\n' "$1" "$2" "$3" "$4" "$4" "$(verdict "$2" "$4")"
}
echo "| crate (default features) | unique crates | oauth2 counterpart, same run | unique crates | goal | met |"
echo "| --- | ---: | --- | ---: | --- | --- |"
pair latchkey "$(count -p latchkey)" \
  "oauth2 5, no features" "$(count --manifest-path "$scratch/oauth2-none/Cargo.toml")"
pair latchkey-ureq "$(count -p latchkey-ureq)" \
  "oauth2 5, ureq feature (ureq 2)" "$(count --manifest-path "$scratch/oauth2-ureq/Cargo.toml")"
pair latchkey-reqwest "$(count -p latchkey-reqwest)" \
  "oauth2 5, default features (reqwest 0.12, rustls)" "$(count --manifest-path "$scratch/oauth2-default/Cargo.toml")"
echo
echo "reference (no goal):"
printf '  %-58s %3s\n' "ureq 3 alone (default features: rustls, gzip)" \
  "$(count --manifest-path "$scratch/ureq-default/Cargo.toml")"
printf '  %-58s %3s\n' "ureq 3, rustls only (latchkey-ureq's ureq features)" \
  "$(count --manifest-path "$scratch/ureq-rustls/Cargo.toml")"
printf '  %-58s %3s\n' "reqwest 0.13, rustls only (latchkey-reqwest's features)" \
  "$(count --manifest-path "$scratch/reqwest-rustls/Cargo.toml")"

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
  rounds=${ROUNDS:-3}
  projects=(latchkey-hello oauth2-none latchkey-ureq-hello oauth2-ureq
    latchkey-reqwest-hello oauth2-default ureq-default)
  declare -A times
  # Alternate ours and oauth2's, round after round, so both see the same background load.
  for r in $(seq "$rounds"); do
    for p in "${projects[@]}"; do
      t=$(build "$p")
      times[$p]="${times[$p]:-} $t"
      echo "  round $r: $p ${t} s" >&2
    done
  done
  median() { tr ' ' '\n' <<<"${times[$1]}" | sed '/^$/d' | sort -n |
    awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
  fastest() { tr ' ' '\n' <<<"${times[$1]}" | sed '/^$/d' | sort -n | head -1; }
  line() { # line OURS_LABEL OURS THEIRS_LABEL THEIRS
    local a b
    a=$(median "$2")
    b=$(median "$4")
    printf '| %-16s | %5s s | %5s s | %-44s | %5s s | %5s s | %.2f | %s |\n' "$1" "$a" "$(fastest "$2")" \
      "$3" "$b" "$(fastest "$4")" "$(awk -v a="$a" -v b="$b" 'BEGIN { print a / b }')" "$(verdict "$a" "$b")"
  }
  echo
  echo "clean release build of a hello world ($(nproc) cores, $rounds rounds, alternating):"
  echo
  echo "| ours | median | fastest | oauth2 counterpart, same run | median | fastest | ratio (medians) | ≤ oauth2 |"
  echo "| --- | ---: | ---: | --- | ---: | ---: | ---: | --- |"
  line latchkey latchkey-hello "oauth2 5, no features" oauth2-none
  line latchkey-ureq latchkey-ureq-hello "oauth2 5, ureq feature (ureq 2)" oauth2-ureq
  line latchkey-reqwest latchkey-reqwest-hello "oauth2 5, default features (reqwest 0.12)" oauth2-default
  echo
  echo "reference: bare ureq 3 (default features): median $(median ureq-default) s, fastest $(fastest ureq-default) s"
fi
