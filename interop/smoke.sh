#!/usr/bin/env bash
# Self-check of the interop authorization server with curl + login.mjs.
# Starts the server (run.sh start), exercises every client and flow the Rust
# interop tests rely on, stops the server, and ends with "N passed, N failed".
# Only talks to 127.0.0.1. Needs bash, curl and node.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok   - $*"; }
not_ok() { failed=$((failed + 1)); echo "FAIL - $*"; }
check() { # check DESCRIPTION COMMAND...
  local what="$1"; shift
  if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# json FIELD  (reads JSON on stdin, prints the field, empty if missing)
json() {
  node -e '
    let s = ""; process.stdin.on("data", (d) => { s += d; }).on("end", () => {
      let v; try { v = JSON.parse(s); } catch { process.exit(0); }
      for (const k of process.argv[1].split(".")) v = v?.[k];
      if (v !== undefined) process.stdout.write(typeof v === "string" ? v : JSON.stringify(v));
    });' "$1"
}
# qparam URL NAME  (a query parameter of a URL)
qparam() { node -e 'process.stdout.write(new URL(process.argv[1]).searchParams.get(process.argv[2]) ?? "")' "$1" "$2"; }
urlencode() { node -e 'process.stdout.write(encodeURIComponent(process.argv[1]))' "$1"; }

# post URL ARGS... -> sets $status and $body
post() {
  local url="$1"; shift
  local out
  out="$(curl -sS -w '\n%{http_code}' -X POST "$url" "$@")" || { status=000; body=""; return; }
  status="${out##*$'\n'}"
  body="${out%$'\n'*}"
}
get() {
  local url="$1"; shift
  local out
  out="$(curl -sS -w '\n%{http_code}' "$url" "$@")" || { status=000; body=""; return; }
  status="${out##*$'\n'}"
  body="${out%$'\n'*}"
}

cleanup() { bash "$here/run.sh" stop >/dev/null 2>&1 || true; }
trap cleanup EXIT

start_out="$(bash "$here/run.sh" start)" || { echo "could not start the server"; echo "0 passed, 1 failed"; exit 1; }
ISS="${start_out#ISSUER=}"
echo "# issuer: $ISS"

# A loopback redirect URI on a port that is NOT registered (clients register
# http://127.0.0.1/callback); RFC 8252 7.3 port-agnostic matching must accept it.
RU="http://127.0.0.1:$((40000 + RANDOM % 20000))/callback"
RUE="$(urlencode "$RU")"

# ------------------------------------------------------------------ discovery
get "$ISS/.well-known/openid-configuration"
check "discovery: 200" test "$status" = 200
check "discovery: issuer matches" test "$(json issuer <<<"$body")" = "$ISS"
check "discovery: authorization_response_iss_parameter_supported" \
  test "$(json authorization_response_iss_parameter_supported <<<"$body")" = true
check "discovery: token_endpoint_auth_methods_supported" \
  test "$(json token_endpoint_auth_methods_supported <<<"$body")" = '["client_secret_basic","client_secret_post","none"]'
TOKEN="$(json token_endpoint <<<"$body")"
USERINFO="$(json userinfo_endpoint <<<"$body")"
INTROSPECT="$(json introspection_endpoint <<<"$body")"
REVOKE="$(json revocation_endpoint <<<"$body")"
PAR="$(json pushed_authorization_request_endpoint <<<"$body")"
DEVICE="$(json device_authorization_endpoint <<<"$body")"
get "$ISS/.well-known/oauth-authorization-server"
check "RFC 8414 metadata also served" test "$status" = 200 -a "$(json issuer <<<"$body")" = "$ISS"

# ------------------------------------------------- public-pkce: code + PKCE
verifier="$(node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("base64url"))')"
challenge="$(node -e 'process.stdout.write(require("crypto").createHash("sha256").update(process.argv[1]).digest("base64url"))' "$verifier")"
cb="$(node "$here/login.mjs" "$ISS/auth?client_id=public-pkce&response_type=code&scope=openid%20profile%20email%20offline_access&redirect_uri=$RUE&state=st-pkce&code_challenge=$challenge&code_challenge_method=S256")"
check "public-pkce: login.mjs reached the callback" test "${cb%%\?*}" = "$RU"
check "public-pkce: state echoed" test "$(qparam "$cb" state)" = st-pkce
check "public-pkce: RFC 9207 iss in authorization response" test "$(qparam "$cb" iss)" = "$ISS"
code="$(qparam "$cb" code)"
post "$TOKEN" -d grant_type=authorization_code -d "code=$code" -d client_id=public-pkce \
  -d "redirect_uri=$RU" -d "code_verifier=wrong-$verifier"
check "public-pkce: wrong code_verifier -> invalid_grant" test "$status" = 400 -a "$(json error <<<"$body")" = invalid_grant
cb="$(node "$here/login.mjs" "$ISS/auth?client_id=public-pkce&response_type=code&scope=openid%20profile%20email%20offline_access&redirect_uri=$RUE&state=st-pkce2&code_challenge=$challenge&code_challenge_method=S256")"
code="$(qparam "$cb" code)"
post "$TOKEN" -d grant_type=authorization_code -d "code=$code" -d client_id=public-pkce \
  -d "redirect_uri=$RU" -d "code_verifier=$verifier"
check "public-pkce: token 200" test "$status" = 200
check "public-pkce: access, refresh and id token" \
  test -n "$(json access_token <<<"$body")" -a -n "$(json refresh_token <<<"$body")" -a -n "$(json id_token <<<"$body")"
check "public-pkce: offline_access kept without prompt=consent" \
  test "$(json scope <<<"$body")" = "openid profile email offline_access"
pkce_at="$(json access_token <<<"$body")"
pkce_rt="$(json refresh_token <<<"$body")"
cb="$(node "$here/login.mjs" "$ISS/auth?client_id=public-pkce&response_type=code&scope=openid&redirect_uri=$RUE&state=nopkce")"
check "public-pkce: request without PKCE -> error redirect" \
  test "$(qparam "$cb" error)" = invalid_request -a "$(qparam "$cb" state)" = nopkce
cb="$(node "$here/login.mjs" "$ISS/auth?client_id=public-pkce&response_type=code&scope=openid&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback&code_challenge=$challenge&code_challenge_method=S256")"
check "public-pkce: port-less http://127.0.0.1/callback accepted" test "${cb%%\?*}" = "http://127.0.0.1/callback"
if node "$here/login.mjs" "$ISS/auth?client_id=public-pkce&response_type=code&scope=openid&redirect_uri=http%3A%2F%2F127.0.0.1%3A4000%2Fother&code_challenge=$challenge&code_challenge_method=S256" >/dev/null 2>&1; then
  not_ok "public-pkce: unregistered path rejected"
else
  ok "public-pkce: unregistered path rejected (login.mjs exit 1)"
fi
cb="$(node "$here/login.mjs" --deny "$ISS/auth?client_id=public-pkce&response_type=code&scope=openid&redirect_uri=$RUE&state=deny&code_challenge=$challenge&code_challenge_method=S256")"
check "login.mjs --deny -> access_denied" test "$(qparam "$cb" error)" = access_denied

post "$TOKEN" -d grant_type=refresh_token -d "refresh_token=$pkce_rt" -d client_id=public-pkce
check "public-pkce: refresh 200" test "$status" = 200
check "public-pkce: refresh token rotated" test -n "$(json refresh_token <<<"$body")" -a "$(json refresh_token <<<"$body")" != "$pkce_rt"

# ------------------------------------------- conf-basic: code + Basic auth
cb="$(node "$here/login.mjs" --login bob "$ISS/auth?client_id=conf-basic&response_type=code&scope=openid%20email%20profile%20offline_access&redirect_uri=$RUE&state=st-basic")"
code="$(qparam "$cb" code)"
check "conf-basic: got a code" test -n "$code"
post "$TOKEN" -d grant_type=authorization_code -d "code=$code" -d "redirect_uri=$RU" \
  -d client_id=conf-basic -d client_secret=conf-basic-secret
check "conf-basic: secret in body -> 401 invalid_client" test "$status" = 401 -a "$(json error <<<"$body")" = invalid_client
post "$TOKEN" -u conf-basic:wrong -d grant_type=authorization_code -d "code=$code" -d "redirect_uri=$RU"
check "conf-basic: wrong secret -> 401 invalid_client" test "$status" = 401 -a "$(json error <<<"$body")" = invalid_client
post "$TOKEN" -u conf-basic:conf-basic-secret -d grant_type=authorization_code -d "code=$code" -d "redirect_uri=$RU"
check "conf-basic: Basic -> 200" test "$status" = 200
basic_at="$(json access_token <<<"$body")"
basic_rt="$(json refresh_token <<<"$body")"
check "conf-basic: refresh token issued for offline_access" test -n "$basic_rt"

get "$USERINFO" -H "Authorization: Bearer $basic_at"
check "userinfo: 200" test "$status" = 200
check "userinfo: sub=bob" test "$(json sub <<<"$body")" = bob
check "userinfo: email + email_verified + name" \
  test "$(json email <<<"$body")" = bob@example.com -a "$(json email_verified <<<"$body")" = true -a "$(json name <<<"$body")" = Bob

post "$TOKEN" -u conf-basic:conf-basic-secret -d grant_type=refresh_token -d "refresh_token=$basic_rt"
check "conf-basic: refresh 200" test "$status" = 200
check "conf-basic: refresh gives a new access token" test -n "$(json access_token <<<"$body")" -a "$(json access_token <<<"$body")" != "$basic_at"
refreshed_at="$(json access_token <<<"$body")"
post "$TOKEN" -d grant_type=refresh_token -d "refresh_token=$basic_rt" -d client_id=conf-basic -d client_secret=conf-basic-secret
check "conf-basic: refresh with secret in body -> 401" test "$status" = 401

# ------------------------------------------- conf-post: code + body auth
cb="$(node "$here/login.mjs" "$ISS/auth?client_id=conf-post&response_type=code&scope=openid%20email&redirect_uri=$RUE&state=st-post")"
code="$(qparam "$cb" code)"
check "conf-post: got a code" test -n "$code"
post "$TOKEN" -u conf-post:conf-post-secret -d grant_type=authorization_code -d "code=$code" -d "redirect_uri=$RU"
check "conf-post: Basic -> 401 invalid_client" test "$status" = 401 -a "$(json error <<<"$body")" = invalid_client
post "$TOKEN" -d grant_type=authorization_code -d "code=$code" -d "redirect_uri=$RU" \
  -d client_id=conf-post -d client_secret=conf-post-secret
check "conf-post: secret in body -> 200" test "$status" = 200
check "conf-post: id_token present" test -n "$(json id_token <<<"$body")"

# ------------------------------------------- introspection + revocation
post "$INTROSPECT" -u conf-basic:conf-basic-secret -d "token=$refreshed_at"
check "introspection: active token -> active true" test "$status" = 200 -a "$(json active <<<"$body")" = true
check "introspection: client_id/sub" test "$(json client_id <<<"$body")" = conf-basic -a "$(json sub <<<"$body")" = bob
post "$INTROSPECT" -d "token=$refreshed_at" -d client_id=conf-basic -d client_secret=conf-basic-secret
check "introspection: secret in body for basic client -> 401" test "$status" = 401
post "$REVOKE" -u conf-post:conf-post-secret -d "token=$refreshed_at"
check "revocation: post client using Basic -> 401" test "$status" = 401
post "$REVOKE" -u conf-basic:conf-basic-secret -d "token=$refreshed_at" -d token_type_hint=access_token
check "revocation: 200" test "$status" = 200
post "$INTROSPECT" -u conf-basic:conf-basic-secret -d "token=$refreshed_at"
check "introspection after revocation -> active false" test "$status" = 200 -a "$(json active <<<"$body")" = false
post "$REVOKE" -u conf-basic:conf-basic-secret -d "token=$basic_rt" -d token_type_hint=refresh_token
check "revocation of refresh token: 200" test "$status" = 200
post "$TOKEN" -u conf-basic:conf-basic-secret -d grant_type=refresh_token -d "refresh_token=$basic_rt"
check "revoked refresh token -> invalid_grant" test "$status" = 400 -a "$(json error <<<"$body")" = invalid_grant

# ------------------------------------------- client_credentials
post "$TOKEN" -u cc-client:cc-client-secret -d grant_type=client_credentials -d scope=api:read
check "client_credentials: 200" test "$status" = 200
check "client_credentials: access token, scope api:read, no refresh token" \
  test -n "$(json access_token <<<"$body")" -a "$(json scope <<<"$body")" = api:read -a -z "$(json refresh_token <<<"$body")"
cc_at="$(json access_token <<<"$body")"
post "$TOKEN" -u cc-client:cc-client-secret -d grant_type=client_credentials
check "client_credentials without scope: 200" test "$status" = 200
post "$TOKEN" -d grant_type=client_credentials -d client_id=cc-client -d client_secret=cc-client-secret
check "client_credentials: secret in body -> 401 invalid_client" test "$status" = 401 -a "$(json error <<<"$body")" = invalid_client
post "$INTROSPECT" -u cc-client:cc-client-secret -d "token=$cc_at"
check "client_credentials token introspects active" test "$(json active <<<"$body")" = true
post "$TOKEN" -u conf-basic:conf-basic-secret -d grant_type=client_credentials
# oidc-provider answers invalid_request here (RFC 6749 5.2 would say unauthorized_client).
check "conf-basic may not use client_credentials -> 400 invalid_request" test "$status" = 400 -a "$(json error <<<"$body")" = invalid_request

# ------------------------------------------- device flow
post "$DEVICE" -d client_id=device-client -d "scope=openid email offline_access"
check "device_authorization: 200" test "$status" = 200
device_code="$(json device_code <<<"$body")"
user_code="$(json user_code <<<"$body")"
verification_uri="$(json verification_uri <<<"$body")"
check "device_authorization: device_code, user_code, verification_uri" \
  test -n "$device_code" -a -n "$user_code" -a -n "$verification_uri"
post "$TOKEN" -d grant_type=urn:ietf:params:oauth:grant-type:device_code -d "device_code=$device_code" -d client_id=device-client
check "device: before approval -> authorization_pending" test "$status" = 400 -a "$(json error <<<"$body")" = authorization_pending
if node "$here/login.mjs" --device "$verification_uri" "$user_code"; then
  ok "device: login.mjs --device approved the code"
else
  not_ok "device: login.mjs --device approved the code"
fi
device_ok=false
for _ in $(seq 1 20); do
  post "$TOKEN" -d grant_type=urn:ietf:params:oauth:grant-type:device_code -d "device_code=$device_code" -d client_id=device-client
  if [[ "$status" == 200 ]]; then device_ok=true; break; fi
  err="$(json error <<<"$body")"
  [[ "$err" == authorization_pending || "$err" == slow_down ]] || break
  sleep 1
done
check "device: token after approval" $device_ok
check "device: access + refresh token" test -n "$(json access_token <<<"$body")" -a -n "$(json refresh_token <<<"$body")"
post "$TOKEN" -d grant_type=urn:ietf:params:oauth:grant-type:device_code -d "device_code=$device_code" -d client_id=device-client
check "device: code is single-use -> invalid_grant" test "$status" = 400 -a "$(json error <<<"$body")" = invalid_grant
if node "$here/login.mjs" --device "$verification_uri" "WRONG-CODE" 2>/dev/null; then
  not_ok "device: wrong user code makes login.mjs fail"
else
  ok "device: wrong user code makes login.mjs fail"
fi

# ------------------------------------------- PAR
post "$PAR" -d client_id=conf-post -d client_secret=conf-post-secret -d response_type=code \
  -d "scope=openid email offline_access" -d "redirect_uri=$RU" -d state=st-par
check "PAR: 201" test "$status" = 201
request_uri="$(json request_uri <<<"$body")"
check "PAR: request_uri + expires_in" test -n "$request_uri" -a -n "$(json expires_in <<<"$body")"
post "$PAR" -u conf-post:conf-post-secret -d response_type=code -d scope=openid -d "redirect_uri=$RU"
check "PAR: wrong auth method -> 401" test "$status" = 401
cb="$(node "$here/login.mjs" "$ISS/auth?client_id=conf-post&request_uri=$(urlencode "$request_uri")")"
check "PAR: authorization with request_uri reached the callback" test "$(qparam "$cb" state)" = st-par -a "$(qparam "$cb" iss)" = "$ISS"
code="$(qparam "$cb" code)"
post "$TOKEN" -d grant_type=authorization_code -d "code=$code" -d "redirect_uri=$RU" \
  -d client_id=conf-post -d client_secret=conf-post-secret
check "PAR: code exchange 200" test "$status" = 200
check "PAR: offline_access kept, refresh token issued" \
  test "$(json scope <<<"$body")" = "openid email offline_access" -a -n "$(json refresh_token <<<"$body")"

cleanup
trap - EXIT
if bash "$here/run.sh" status >/dev/null 2>&1; then not_ok "server stopped"; else ok "server stopped"; fi

echo "$passed passed, $failed failed"
[[ "$failed" == 0 ]]
