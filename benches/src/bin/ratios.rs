//! Prints the latchkey / peer ratio table from criterion's results.
//!
//! Usage: `ratios [CRITERION_DIR]` (default `target/criterion`, or `$CARGO_TARGET_DIR/criterion`).
//! Reads `<group>/<function>/new/estimates.json` and uses the median point estimates. The
//! table is Markdown, ready for `benches/README.md`. Always exits 0 when the results exist: a
//! missed goal is reported, not fatal, because shared machines make timings noisy.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// How a row's ratio is formed and judged.
#[derive(Clone, Copy)]
enum Goal {
    /// latchkey time / peer time must be at most this.
    TimeAtMost(f64),
    /// latchkey's own median must be at most this many nanoseconds (the peer, a floor, is
    /// shown beside it).
    MedianAtMostNs(f64),
    /// Shown for context only: latchkey time / peer time.
    TimeInfo,
    /// Shown for context only: raw time / library time.
    ThroughputInfo,
    /// A threshold an earlier round set and this one does not (the goals are now the
    /// authorization URL and the token response against `oauth2`): latchkey time / peer time,
    /// shown with whether it would still hold, not counted as a goal.
    WasTimeAtMost(f64),
    /// The same for a throughput threshold: peer (raw) time / library time, i.e. throughput
    /// relative to raw.
    WasThroughputAtLeast(f64),
}

struct Row {
    operation: &'static str,
    group: &'static str,
    ours: &'static str,
    peer: &'static str,
    peer_name: &'static str,
    goal: Goal,
}

const ROWS: &[Row] = &[
    Row {
        operation: "authorization URL, PKCE S256 + state + 2 scopes + audience, 48 B from the OS inside the call",
        group: "authorization_url",
        ours: "latchkey",
        peer: "oauth2",
        peer_name: "oauth2 (ThreadRng)",
        goal: Goal::TimeAtMost(0.70),
    },
    Row {
        operation: "token response (200 B JSON) to a token set",
        group: "token_response",
        ours: "latchkey",
        peer: "oauth2",
        peer_name: "oauth2",
        goal: Goal::TimeAtMost(0.5),
    },
    Row {
        operation: "token manager, fresh token, uncontended: `access_token()` through latchkey-ureq",
        group: "manager_fresh_token",
        ours: "latchkey_ureq",
        peer: "floor",
        peer_name: "a Mutex + clock + copy",
        goal: Goal::MedianAtMostNs(100.0),
    },
    Row {
        operation: "token manager, fresh token, uncontended: `access_token()` through latchkey-reqwest",
        group: "manager_fresh_token",
        ours: "latchkey_reqwest",
        peer: "floor",
        peer_name: "a Mutex + clock + copy",
        goal: Goal::MedianAtMostNs(100.0),
    },
    Row {
        operation: "(context) token manager on a FileStore shared by processes, fresh token: latchkey-ureq",
        group: "manager_fresh_token",
        ours: "latchkey_ureq_file_store",
        peer: "latchkey_ureq",
        peer_name: "the same on a MemoryStore",
        goal: Goal::TimeInfo,
    },
    Row {
        operation: "(context) token manager on a RedisStore shared by machines, fresh token: latchkey-ureq",
        group: "manager_fresh_token",
        ours: "latchkey_ureq_redis_store",
        peer: "latchkey_ureq",
        peer_name: "the same on a MemoryStore",
        goal: Goal::TimeInfo,
    },
    Row {
        operation: "(context) what a Redis version check on every call would cost (one HGET on loopback)",
        group: "manager_fresh_token",
        ours: "redis_version_check",
        peer: "latchkey_ureq_redis_store",
        peer_name: "the RedisStore manager's fresh path",
        goal: Goal::TimeInfo,
    },
    Row {
        operation: "(context) one fleet-wide renewal: 8 processes on a FileStore, all asking at once",
        group: "fleet_renewal",
        ours: "8_processes_file_store",
        peer: "one_process_memory_store",
        peer_name: "one process's refresh alone",
        goal: Goal::TimeInfo,
    },
    Row {
        operation: "(context) one fleet-wide renewal: 8 processes on a RedisStore, all asking at once",
        group: "fleet_renewal",
        ours: "8_processes_redis_store",
        peer: "one_process_memory_store",
        peer_name: "one process's refresh alone",
        goal: Goal::TimeInfo,
    },
    Row {
        operation: "ID token validation, RS256 (2048-bit), keys cached: signature, iss, aud, exp, iat, nonce",
        group: "id_token_rs256",
        ours: "latchkey",
        peer: "openidconnect",
        peer_name: "openidconnect 4",
        goal: Goal::TimeAtMost(1.0),
    },
    Row {
        operation: "ID token validation, ES256, keys cached: signature, iss, aud, exp, iat, nonce",
        group: "id_token_es256",
        ours: "latchkey",
        peer: "openidconnect",
        peer_name: "openidconnect 4",
        goal: Goal::TimeAtMost(1.0),
    },
    Row {
        operation: "(context) ES256: latchkey's validation against its floor, p256 0.14's signature check alone",
        group: "id_token_es256",
        ours: "latchkey",
        peer: "floor_p256_0_14",
        peer_name: "p256 0.14 verify",
        goal: Goal::TimeInfo,
    },
    Row {
        operation: "(context) ES256: openidconnect's floor (p256 0.13) against latchkey's (p256 0.14)",
        group: "id_token_es256",
        ours: "floor_p256_0_14",
        peer: "floor_p256_0_13",
        peer_name: "p256 0.13 verify",
        goal: Goal::TimeInfo,
    },
    Row {
        operation: "token manager, fresh token, 8 threads contending: latchkey-ureq",
        group: "manager_fresh_token_8_threads",
        ours: "latchkey_ureq",
        peer: "floor",
        peer_name: "a Mutex + clock + copy, 8 threads",
        goal: Goal::MedianAtMostNs(1000.0),
    },
    Row {
        operation: "token manager, fresh token, 8 threads contending: latchkey-reqwest",
        group: "manager_fresh_token_8_threads",
        ours: "latchkey_reqwest",
        peer: "floor",
        peer_name: "a Mutex + clock + copy, 8 threads",
        goal: Goal::MedianAtMostNs(1000.0),
    },
    Row {
        operation: "token response, against the floor (serde_json into borrowed &str)",
        group: "token_response",
        ours: "latchkey",
        peer: "floor",
        peer_name: "floor",
        goal: Goal::WasTimeAtMost(1.5),
    },
    Row {
        operation: "callback URL (query) to code + checked state",
        group: "callback_query",
        ours: "latchkey",
        peer: "baseline",
        peer_name: "Url::parse + query_pairs",
        goal: Goal::WasTimeAtMost(1.0),
    },
    Row {
        operation: "implicit callback (fragment) to token set",
        group: "callback_fragment",
        ours: "latchkey",
        peer: "baseline",
        peer_name: "Url::parse + fragment + form decode",
        goal: Goal::WasTimeAtMost(0.6),
    },
    Row {
        operation: "client credentials over loopback, async adapter (throughput)",
        group: "loopback_reqwest",
        ours: "latchkey",
        peer: "raw",
        peer_name: "raw reqwest 0.13",
        goal: Goal::WasThroughputAtLeast(0.98),
    },
    Row {
        operation: "client credentials over loopback, blocking adapter (throughput)",
        group: "loopback_ureq",
        ours: "latchkey",
        peer: "raw",
        peer_name: "raw ureq 3",
        goal: Goal::WasThroughputAtLeast(0.98),
    },
    Row {
        operation: "(reference) oauth2 over loopback on its reqwest (throughput)",
        group: "loopback_oauth2_reqwest",
        ours: "oauth2",
        peer: "raw",
        peer_name: "raw reqwest 0.12",
        goal: Goal::ThroughputInfo,
    },
    Row {
        operation: "(context) PKCE verifier + S256 challenge, 32 B from getrandom (a system call) each call",
        group: "pkce",
        ours: "latchkey",
        peer: "oauth2",
        peer_name: "oauth2 (ThreadRng)",
        goal: Goal::TimeInfo,
    },
    Row {
        operation: "(context) PKCE, against its floor on the same source (getrandom 32 B + base64 32 B + SHA-256 43 B)",
        group: "pkce",
        ours: "latchkey",
        peer: "floor_os_call",
        peer_name: "floor, getrandom",
        goal: Goal::TimeInfo,
    },
    Row {
        operation: "(context) PKCE, against the issue's floor (ThreadRng 32 B + base64 32 B + SHA-256 43 B)",
        group: "pkce",
        ours: "latchkey",
        peer: "floor",
        peer_name: "floor, ThreadRng",
        goal: Goal::TimeInfo,
    },
    Row {
        operation: "(context) the PKCE floor on getrandom, against oauth2's whole PKCE",
        group: "pkce",
        ours: "floor_os_call",
        peer: "oauth2",
        peer_name: "oauth2",
        goal: Goal::TimeInfo,
    },
    Row {
        operation: "(context) one getrandom call of 32 B, against oauth2's whole PKCE",
        group: "pkce",
        ours: "getrandom_32",
        peer: "oauth2",
        peer_name: "oauth2",
        goal: Goal::TimeInfo,
    },
    Row {
        operation: "(context) 32 random bytes: latchkey::random::fill (one getrandom call) against ThreadRng",
        group: "pkce",
        ours: "random_fill_32_latchkey",
        peer: "random_32_thread_rng",
        peer_name: "ThreadRng",
        goal: Goal::TimeInfo,
    },
    Row {
        operation: "(context) authorization URL, state and verifier supplied by the caller (no OS call)",
        group: "authorization_url",
        ours: "latchkey_supplied_randomness",
        peer: "oauth2_supplied_randomness",
        peer_name: "oauth2, same",
        goal: Goal::TimeInfo,
    },
    Row {
        operation: "(context) one getrandom call of 48 B, against oauth2's whole URL",
        group: "authorization_url",
        ours: "getrandom_48",
        peer: "oauth2",
        peer_name: "oauth2",
        goal: Goal::TimeInfo,
    },
    Row {
        operation: "(context) token floor plus the 3 owned strings a token set keeps",
        group: "token_response",
        ours: "latchkey",
        peer: "floor_owned",
        peer_name: "floor + 3 String",
        goal: Goal::TimeInfo,
    },
    Row {
        operation: "(context) callback query: parse + state check only",
        group: "callback_query",
        ours: "latchkey_parse_only",
        peer: "baseline",
        peer_name: "Url::parse + query_pairs",
        goal: Goal::TimeInfo,
    },
    Row {
        operation: "(context) client credentials in memory: build request + read answer",
        group: "client_credentials_in_memory",
        ours: "latchkey",
        peer: "oauth2",
        peer_name: "oauth2",
        goal: Goal::TimeInfo,
    },
    Row {
        operation: "(context) raw ureq with latchkey-ureq's timeouts (throughput)",
        group: "loopback_ureq",
        ours: "raw_with_timeouts",
        peer: "raw",
        peer_name: "raw ureq 3",
        goal: Goal::ThroughputInfo,
    },
    Row {
        operation: "(context) raw reqwest with latchkey-reqwest's timeouts (throughput)",
        group: "loopback_reqwest",
        ours: "raw_with_timeouts",
        peer: "raw",
        peer_name: "raw reqwest 0.13",
        goal: Goal::ThroughputInfo,
    },
];

/// The median of one benchmark, in nanoseconds.
fn median(dir: &Path, group: &str, function: &str) -> Option<f64> {
    let path = dir
        .join(group)
        .join(function)
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json.get("median")?.get("point_estimate")?.as_f64()
}

fn time(ns: f64) -> String {
    if ns >= 1_000_000.0 {
        format!("{:.2} ms", ns / 1_000_000.0)
    } else if ns >= 1_000.0 {
        format!("{:.2} µs", ns / 1_000.0)
    } else {
        format!("{ns:.1} ns")
    }
}

fn main() -> ExitCode {
    let dir = std::env::args_os().nth(1).map_or_else(
        || {
            let target = std::env::var_os("CARGO_TARGET_DIR").unwrap_or_else(|| "target".into());
            PathBuf::from(target).join("criterion")
        },
        PathBuf::from,
    );
    if !dir.is_dir() {
        eprintln!("ratios: no criterion results in {}", dir.display());
        return ExitCode::FAILURE;
    }
    println!("| operation | latchkey median | compared with | its median | ratio | goal | met |");
    println!("| --- | ---: | --- | ---: | ---: | --- | --- |");
    let (mut met, mut missed, mut absent) = (0, 0, 0);
    let (mut former_held, mut former_not) = (0, 0);
    for row in ROWS {
        let (Some(ours), Some(peer)) = (
            median(&dir, row.group, row.ours),
            median(&dir, row.group, row.peer),
        ) else {
            absent += 1;
            println!(
                "| {} | n/a | {} | n/a | n/a | | not run |",
                row.operation, row.peer_name
            );
            continue;
        };
        // `Some((held, counts))`: whether the threshold holds, and whether it is a goal of
        // this round (counted) or an earlier round's (shown only).
        let (ratio, goal, check) = match row.goal {
            Goal::TimeAtMost(max) => {
                let r = ours / peer;
                (
                    format!("{r:.2}×"),
                    format!("≤ {max:.2}×"),
                    Some((r <= max, true)),
                )
            }
            Goal::WasTimeAtMost(max) => {
                let r = ours / peer;
                (
                    format!("{r:.2}×"),
                    format!("(was ≤ {max:.2}×)"),
                    Some((r <= max, false)),
                )
            }
            Goal::WasThroughputAtLeast(min) => {
                let r = peer / ours;
                (
                    format!("{r:.3}× ({:+.2} µs/req)", (ours - peer) / 1000.0),
                    format!("(was ≥ {min:.2}× raw)"),
                    Some((r >= min, false)),
                )
            }
            Goal::MedianAtMostNs(max) => (
                format!("{:.2}×", ours / peer),
                format!("≤ {}", time(max)),
                Some((ours <= max, true)),
            ),
            Goal::TimeInfo => (format!("{:.2}×", ours / peer), String::new(), None),
            Goal::ThroughputInfo => (
                format!(
                    "{:.3}× ({:+.2} µs/req)",
                    peer / ours,
                    (ours - peer) / 1000.0
                ),
                String::new(),
                None,
            ),
        };
        let verdict = match check {
            Some((true, true)) => {
                met += 1;
                "yes"
            }
            Some((false, true)) => {
                missed += 1;
                "**no**"
            }
            Some((true, false)) => {
                former_held += 1;
                "(would hold)"
            }
            Some((false, false)) => {
                former_not += 1;
                "(would not hold)"
            }
            None => "",
        };
        let ours_label = if row.ours.starts_with("latchkey") {
            time(ours)
        } else {
            format!("{} ({})", time(ours), row.ours)
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            row.operation,
            ours_label,
            row.peer_name,
            time(peer),
            ratio,
            goal,
            verdict
        );
    }
    println!();
    println!("goals: {met} met, {missed} missed, {absent} rows without results");
    println!(
        "earlier rounds' thresholds (not goals now): {former_held} would hold, {former_not} would not"
    );
    ExitCode::SUCCESS
}
