//! Everything the server knows, guarded by one mutex in the router, and the questions about
//! tokens that several endpoints ask.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::shared::assertion;
use crate::shared::dpop::DpopState;
use crate::shared::keys::Keys;
use crate::shared::replay::ReplayCache;

use crate::client::MockClient;
use crate::shared::records::{AccessToken, CodeGrant, DeviceGrant, Pushed, RefreshToken};
use crate::user::MockUser;

/// Server-wide settings from the [`MockServerBuilder`](crate::MockServerBuilder).
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// The issuer's path (empty, or `/x/y`).
    pub(crate) issuer_path: String,
    /// Send `iss` in authorization responses (RFC 9207).
    pub(crate) issuer_parameter: bool,
    /// Accept only pushed authorization requests (RFC 9126 §5).
    pub(crate) require_par: bool,
    /// The device flow's polling interval, seconds.
    pub(crate) device_interval: u64,
    /// The device code lifetime, seconds.
    pub(crate) device_expires_in: u64,
    /// DPoP proofs must carry the server's nonce.
    pub(crate) dpop_nonce_required: bool,
    /// The origins allowed cross-origin requests (CORS), e.g. `http://127.0.0.1:8080`.
    pub(crate) cors_origins: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            issuer_path: String::new(),
            issuer_parameter: true,
            require_par: false,
            device_interval: 5,
            device_expires_in: 600,
            dpop_nonce_required: false,
            cors_origins: Vec::new(),
        }
    }
}

/// The OAuth side of the server: registrations, grants, tokens and counters.
#[derive(Debug)]
pub(crate) struct State {
    /// The issuer identifier.
    pub(crate) issuer: String,
    /// Where the endpoints are, e.g. `http://127.0.0.1:PORT`.
    pub(crate) base: String,
    pub(crate) config: Config,
    pub(crate) clients: HashMap<String, MockClient>,
    pub(crate) user: MockUser,
    pub(crate) codes: HashMap<String, CodeGrant>,
    pub(crate) access: HashMap<String, AccessToken>,
    pub(crate) refresh: HashMap<String, RefreshToken>,
    pub(crate) devices: Vec<DeviceGrant>,
    pub(crate) pushed: HashMap<String, Pushed>,
    /// Errors the next authorization requests fail with.
    pub(crate) deny_next: VecDeque<String>,
    /// Successful `refresh_token` grants, those within a reuse grace period included.
    pub(crate) refresh_count: u64,
    /// Successful `refresh_token` grants that presented an already rotated refresh token
    /// within the client's reuse grace period.
    pub(crate) refresh_grace_count: u64,
    /// Rotated refresh tokens presented again after the grace period, and refused.
    pub(crate) refresh_reuse_count: u64,
    pub(crate) issued_access: u64,
    pub(crate) issued_refresh: u64,
    /// The grant families revoked as a whole.
    pub(crate) revoked_families: HashSet<u64>,
    /// The ID token signing keys.
    pub(crate) keys: Keys,
    /// DPoP settings, the proofs received and their `jti`s.
    pub(crate) dpop: DpopState,
    /// The `jti`s of client assertions accepted.
    pub(crate) assertion_jtis: ReplayCache,
    token_counter: u64,
    family_counter: u64,
}

impl State {
    pub(crate) fn new(
        base: String,
        config: Config,
        clients: Vec<MockClient>,
        user: MockUser,
    ) -> Self {
        let dpop = DpopState::new(config.dpop_nonce_required);
        Self {
            issuer: format!("{base}{}", config.issuer_path),
            base,
            config,
            clients: clients.into_iter().map(|c| (c.id.clone(), c)).collect(),
            user,
            codes: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            devices: Vec::new(),
            pushed: HashMap::new(),
            deny_next: VecDeque::new(),
            refresh_count: 0,
            refresh_grace_count: 0,
            refresh_reuse_count: 0,
            issued_access: 0,
            issued_refresh: 0,
            revoked_families: HashSet::new(),
            keys: Keys::default(),
            dpop,
            assertion_jtis: ReplayCache::new(assertion::JTI_MEMORY),
            token_counter: 0,
            family_counter: 0,
        }
    }

    /// A fresh unguessable value with this prefix.
    pub(crate) fn random_token(&mut self, prefix: &str) -> String {
        self.token_counter += 1;
        let mut bytes = [0u8; 24];
        if getrandom::fill(&mut bytes).is_err() {
            // No OS randomness: still unique, merely predictable. The wall clock is entropy
            // here, not time, so it is not the mock's clock.
            let nanos = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let digest = Sha256::new()
                .chain_update(self.token_counter.to_le_bytes())
                .chain_update(nanos.to_le_bytes())
                .chain_update(self.issuer.as_bytes())
                .finalize();
            bytes.copy_from_slice(&digest[..24]);
        }
        format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A new grant family, for the tokens of one authorization.
    pub(crate) fn new_family(&mut self) -> u64 {
        self.family_counter += 1;
        self.family_counter
    }

    /// The access token `token` if the server would accept it at `now`, else why not.
    pub(crate) fn live_access_token(
        &self,
        token: &str,
        now: SystemTime,
    ) -> Result<&AccessToken, &'static str> {
        let Some(record) = self.access.get(token) else {
            return Err("unknown access token");
        };
        if record.revoked {
            Err("the access token was revoked")
        } else if record.expired || now >= record.expires_at {
            Err("the access token has expired")
        } else {
            Ok(record)
        }
    }

    /// The refresh token `token` if it was issued and neither revoked nor rotated (refresh
    /// tokens do not expire).
    pub(crate) fn live_refresh_token(&self, token: &str) -> Option<&RefreshToken> {
        self.refresh
            .get(token)
            .filter(|t| !t.revoked && t.rotated.is_none())
    }

    /// The newest refresh token of the rotation chain `token` starts: `token` itself unless
    /// it was rotated, else its successor's newest, and so on.
    pub(crate) fn rotation_head<'a>(&'a self, token: &'a str) -> &'a str {
        let mut head = token;
        // A chain is at most as long as there are refresh tokens; the bound only guards
        // against a cycle, which rotation cannot make.
        for _ in 0..self.refresh.len() {
            match self.refresh.get(head).and_then(|t| t.rotated.as_ref()) {
                Some(rotation) => head = &rotation.successor,
                None => break,
            }
        }
        head
    }

    /// The grant family of an access or refresh token the server issued.
    pub(crate) fn family_of(&self, token: &str) -> Option<u64> {
        self.access
            .get(token)
            .map(|t| t.family)
            .or_else(|| self.refresh.get(token).map(|t| t.family))
    }

    /// Expires every access token issued so far.
    pub(crate) fn expire_all_access_tokens(&mut self) {
        for token in self.access.values_mut() {
            token.expired = true;
        }
    }

    /// Revokes every access and refresh token issued so far.
    pub(crate) fn revoke_all_tokens(&mut self) {
        for token in self.access.values_mut() {
            token.revoked = true;
        }
        for token in self.refresh.values_mut() {
            token.revoked = true;
        }
    }

    /// Revokes a grant as a whole: every access and refresh token of the family, rotated
    /// ones included, and remembers that the grant was revoked.
    pub(crate) fn revoke_family(&mut self, family: u64) {
        for token in self.access.values_mut() {
            if token.family == family {
                token.revoked = true;
            }
        }
        for token in self.refresh.values_mut() {
            if token.family == family {
                token.revoked = true;
            }
        }
        self.revoked_families.insert(family);
    }
}
