#!/usr/bin/env bash
# Start/stop the interop authorization server (oidc-provider on 127.0.0.1).
#
#   bash interop/run.sh start   installs deps if needed (npm ci), starts
#                               server.mjs in the background, waits up to
#                               INTEROP_START_TIMEOUT seconds (default 30) for
#                               its ISSUER line, writes interop/.state/issuer
#                               and interop/.state/pid, prints ISSUER=<url>.
#   bash interop/run.sh stop    kills the pid in interop/.state/pid (only that
#                               process) and removes the state files.
#   bash interop/run.sh status  prints ISSUER=<url> and exits 0 if running.
#
# Server stderr goes to interop/.state/server.log. Set PORT to pin the port,
# INTEROP_DEBUG=1 for a request log.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
state="$here/.state"
timeout="${INTEROP_START_TIMEOUT:-30}"

running_pid() {
  local pid
  [[ -f "$state/pid" ]] || return 1
  pid="$(cat "$state/pid")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

start() {
  if pid="$(running_pid)"; then
    echo "interop server already running (pid $pid)" >&2
    echo "ISSUER=$(cat "$state/issuer")"
    return 0
  fi
  command -v node >/dev/null || { echo "node is not installed" >&2; exit 1; }
  if [[ ! -d "$here/node_modules/oidc-provider" ]]; then
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
  mkdir -p "$state"
  rm -f "$state/issuer" "$state/pid" "$state/stdout"

  # The pid recorded is node's own pid (no wrapper process).
  node "$here/server.mjs" >"$state/stdout" 2>"$state/server.log" </dev/null &
  local pid=$!
  echo "$pid" >"$state/pid"

  local deadline=$((SECONDS + timeout)) issuer=""
  while ((SECONDS < deadline)); do
    if issuer="$(sed -n 's/^ISSUER=//p' "$state/stdout" 2>/dev/null | head -n1)" && [[ -n "$issuer" ]]; then
      break
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "interop server exited before it was ready; log:" >&2
      cat "$state/server.log" >&2 || true
      rm -f "$state/pid"
      exit 1
    fi
    sleep 0.1
  done
  if [[ -z "$issuer" ]]; then
    echo "interop server did not print its ISSUER line within ${timeout}s; log:" >&2
    cat "$state/server.log" >&2 || true
    kill "$pid" 2>/dev/null || true
    rm -f "$state/pid"
    exit 1
  fi
  echo "$issuer" >"$state/issuer"
  echo "ISSUER=$issuer"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$state/pid" "$state/issuer"
    echo "interop server not running" >&2
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$state/pid" "$state/issuer"
  echo "interop server stopped (pid $pid)" >&2
}

status() {
  local pid
  if pid="$(running_pid)"; then
    echo "ISSUER=$(cat "$state/issuer")"
  else
    echo "interop server not running" >&2
    exit 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: bash interop/run.sh start|stop|status" >&2; exit 2 ;;
esac
