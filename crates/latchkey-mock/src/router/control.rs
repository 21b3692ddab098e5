//! What a test asks a [`Mock`] between requests: its URLs, the counts and records, and the
//! knobs it turns (faults, device decisions, clients, expiry and revocation by hand).

use crate::client::MockClient;
use crate::endpoint::device;
use crate::fault::Fault;
use crate::record::{DpopProof, RecordedRequest};

use super::Mock;

/// The inspection and control API, shared by [`MockServer`](crate::MockServer) through `Deref`.
impl Mock {
    /// The base URL the endpoints are at: `http://127.0.0.1:PORT` for a server, else the
    /// builder's [`base_url`](crate::MockServerBuilder::base_url) (default
    /// `http://mock.invalid`). Also the issuer identifier unless
    /// [`MockServerBuilder::issuer_path`](crate::MockServerBuilder::issuer_path) gave it a path.
    pub fn url(&self) -> String {
        self.lock().base.clone()
    }

    /// The issuer identifier: the base URL plus the issuer path, if any.
    pub fn issuer(&self) -> String {
        self.lock().issuer.clone()
    }

    /// The URL of `path` (which starts with `/`).
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.url())
    }

    /// The authorization endpoint, `BASE/authorize`.
    pub fn authorization_endpoint(&self) -> String {
        self.endpoint("/authorize")
    }

    /// The token endpoint, `BASE/token`.
    pub fn token_endpoint(&self) -> String {
        self.endpoint("/token")
    }

    /// The userinfo endpoint, `BASE/userinfo`.
    pub fn userinfo_endpoint(&self) -> String {
        self.endpoint("/userinfo")
    }

    /// `BASE/revoke` (RFC 7009 token revocation).
    pub fn revocation_endpoint(&self) -> String {
        self.endpoint("/revoke")
    }

    /// `BASE/jwks`: the public keys ID tokens are signed with (RFC 7517 JWK set).
    pub fn jwks_uri(&self) -> String {
        self.endpoint("/jwks")
    }

    /// `BASE/introspect` (RFC 7662 token introspection).
    pub fn introspection_endpoint(&self) -> String {
        self.endpoint("/introspect")
    }

    /// `BASE/device_authorization` (RFC 8628 device authorization).
    pub fn device_authorization_endpoint(&self) -> String {
        self.endpoint("/device_authorization")
    }

    /// `BASE/par` (RFC 9126 pushed authorization requests).
    pub fn pushed_authorization_request_endpoint(&self) -> String {
        self.endpoint("/par")
    }

    /// Approves the device authorization with this user code, as the user would on the
    /// verification page (`-` and case are ignored). False when no authorization pending at
    /// the clock's time has it.
    pub fn approve_device(&self, user_code: &str) -> bool {
        device::decide(&mut self.lock(), user_code, true, self.now())
    }

    /// Denies the device authorization with this user code: the next poll gets
    /// `access_denied`. False when no pending authorization has it.
    pub fn deny_device(&self, user_code: &str) -> bool {
        device::decide(&mut self.lock(), user_code, false, self.now())
    }

    /// The user codes of the device authorizations still waiting for the user, oldest first.
    pub fn pending_user_codes(&self) -> Vec<String> {
        device::pending_user_codes(&self.lock(), self.now())
    }

    /// Registers (or replaces) a client.
    pub fn add_client(&self, client: MockClient) {
        self.lock().clients.insert(client.id.clone(), client);
    }

    /// Makes the next authorization request that passes validation fail with `error` (e.g.
    /// `access_denied`), redirected to the client. Calls queue up.
    pub fn deny_next_authorization(&self, error: &str) {
        self.lock().deny_next.push_back(error.to_owned());
    }

    /// Arms `fault` for the next `times` requests to `path` (e.g. `/token`). Faults armed for
    /// the same path are used in the order they were armed.
    pub fn inject(&self, path: &str, fault: Fault, times: usize) {
        self.traffic().arm(path, fault, times);
    }

    /// Disarms every fault not yet used.
    pub fn clear_faults(&self) {
        self.traffic().faults.clear();
    }

    /// Every request received so far (unless recording was turned off), oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.traffic().requests.clone()
    }

    /// The recorded requests to `path`, oldest first.
    pub fn requests_to(&self, path: &str) -> Vec<RecordedRequest> {
        self.traffic()
            .requests
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// How many requests reached `path` (counted even when recording is off).
    pub fn request_count(&self, path: &str) -> usize {
        self.traffic().counts.get(path).copied().unwrap_or(0)
    }

    /// Forgets recorded requests and resets the per-path counts.
    pub fn clear_requests(&self) {
        let mut traffic = self.traffic();
        traffic.requests.clear();
        traffic.counts.clear();
    }

    /// How many `refresh_token` grants succeeded, those that presented a rotated refresh
    /// token within the client's [grace period](MockClient::refresh_reuse_grace) included.
    pub fn refresh_count(&self) -> u64 {
        self.lock().refresh_count
    }

    /// How many of the [successful refreshes](Self::refresh_count) presented a refresh token
    /// already rotated, within the client's [grace period](MockClient::refresh_reuse_grace).
    pub fn refresh_grace_count(&self) -> u64 {
        self.lock().refresh_grace_count
    }

    /// How many times a rotated refresh token was presented again after its grace period and
    /// refused with `invalid_grant` as reuse (revoking its grant unless the client turned
    /// [reuse detection](MockClient::detect_refresh_reuse) off). A token whose grant was
    /// already revoked is refused as revoked and not counted.
    pub fn refresh_reuse_count(&self) -> u64 {
        self.lock().refresh_reuse_count
    }

    /// How many grants were revoked as a whole: for refresh token reuse, for a reused
    /// authorization code, or at `/revoke` with one of their refresh tokens.
    /// [`revoke_all_tokens`](Self::revoke_all_tokens) revokes tokens, not grants, and is not
    /// counted.
    pub fn revoked_grants(&self) -> u64 {
        let count = self.lock().revoked_families.len();
        u64::try_from(count).unwrap_or(u64::MAX)
    }

    /// Whether the grant `token` (an access or refresh token the server issued) belongs to
    /// was revoked as a whole (see [`revoked_grants`](Self::revoked_grants)): then every
    /// access and refresh token descended from the same authorization is revoked. False for
    /// an unknown token.
    pub fn grant_revoked(&self, token: &str) -> bool {
        let state = self.lock();
        state
            .family_of(token)
            .is_some_and(|family| state.revoked_families.contains(&family))
    }

    /// How many access tokens were issued (token endpoint and implicit grant).
    pub fn issued_access_tokens(&self) -> u64 {
        self.lock().issued_access
    }

    /// How many distinct refresh tokens were issued.
    pub fn issued_refresh_tokens(&self) -> u64 {
        self.lock().issued_refresh
    }

    /// Whether `token` is an access token the server would accept at the clock's time.
    pub fn access_token_active(&self, token: &str) -> bool {
        self.lock().live_access_token(token, self.now()).is_ok()
    }

    /// Whether `token` is a refresh token the server would accept: issued, and neither
    /// revoked nor rotated (a rotated one may still be repeated within a
    /// [grace period](MockClient::refresh_reuse_grace)).
    pub fn refresh_token_active(&self, token: &str) -> bool {
        self.lock().live_refresh_token(token).is_some()
    }

    /// Expires every access token issued so far, as if its lifetime had run out.
    pub fn expire_all_access_tokens(&self) {
        self.lock().expire_all_access_tokens();
    }

    /// Revokes every access and refresh token issued so far.
    pub fn revoke_all_tokens(&self) {
        self.lock().revoke_all_tokens();
    }

    /// Rotates the ID token signing keys: later ID tokens are signed by new keys under new
    /// `kid`s, and the JWK set at [`jwks_uri`](Self::jwks_uri) lists only those (the old
    /// keys are retired at once, so a client must fetch the set again).
    pub fn rotate_signing_keys(&self) {
        self.lock().keys.rotate();
    }

    /// Whether DPoP proofs must carry the server's nonce (RFC 9449 §8, §9), as
    /// [`MockServerBuilder::dpop_nonce_required`](crate::MockServerBuilder::dpop_nonce_required)
    /// sets it at the start. A proof without the current nonce is answered `400
    /// use_dpop_nonce` at the authorization server (token, PAR) and `401` with
    /// `WWW-Authenticate: DPoP error="use_dpop_nonce"` at userinfo, both with a `DPoP-Nonce`
    /// header carrying the nonce.
    pub fn require_dpop_nonce(&self, require: bool) {
        self.lock().dpop.nonce_required = require;
    }

    /// Replaces the DPoP nonce and returns the new one: proofs carrying the old one are
    /// answered `use_dpop_nonce` again, so a test can force a second challenge.
    pub fn rotate_dpop_nonce(&self) -> String {
        let mut state = self.lock();
        state.dpop.nonce = state.random_token("n-");
        state.dpop.nonce.clone()
    }

    /// The current DPoP nonce (made on first use).
    pub fn dpop_nonce(&self) -> String {
        crate::shared::dpop::current_nonce(&mut self.lock())
    }

    /// How many `use_dpop_nonce` answers were sent.
    pub fn dpop_nonce_challenges(&self) -> u64 {
        self.lock().dpop.nonce_challenges
    }

    /// Answers `token_type: Bearer` (in the client's dialect) to token requests that carry a
    /// DPoP proof, while still binding the token to the proof's key: a downgrade, which a
    /// DPoP client must refuse (RFC 9449 §5). Default off.
    pub fn answer_dpop_as_bearer(&self, downgrade: bool) {
        self.lock().dpop.answer_bearer = downgrade;
    }

    /// Every DPoP proof received so far, oldest first, with the thumbprint of its key and
    /// whether it was accepted.
    pub fn dpop_proofs(&self) -> Vec<DpopProof> {
        self.lock().dpop.received.clone()
    }

    /// The thumbprint (RFC 7638) of the DPoP key an access or refresh token is bound to;
    /// `None` for an unbound or unknown token.
    pub fn token_jkt(&self, token: &str) -> Option<String> {
        let state = self.lock();
        state
            .access
            .get(token)
            .and_then(|t| t.jkt.clone())
            .or_else(|| state.refresh.get(token).and_then(|t| t.jkt.clone()))
    }
}
