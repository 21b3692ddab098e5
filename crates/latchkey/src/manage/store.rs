//! Where a token manager keeps the current [`TokenSet`] between runs: the [`TokenStore`]
//! trait and an in-memory [`MemoryStore`].
//!
//! The core only defines the contract. Stores that touch the disk (the atomic, mode-0600
//! `FileStore` of `latchkey-store`, re-exported by both adapters) or a database live outside
//! it, because the core does no I/O.
//!
//! A token manager calls [`save`](TokenStore::save) with every token set it obtains **before**
//! it hands the new access token to anyone. With refresh token rotation the old refresh token
//! stops working as soon as the server answers, so a crash between the answer and the save
//! would otherwise leave the only valid refresh token in memory, and lose it.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::error::StoreError;
use crate::token::TokenSet;

/// Keeps one token set: the one a token manager loads when it starts and saves after every
/// renewal.
///
/// Implementations must be `Send + Sync`: one store is shared by every thread or task that
/// uses the manager. The manager calls [`save`](Self::save) from one renewal at a time, never
/// concurrently with itself.
pub trait TokenStore: Send + Sync {
    /// Returns the stored token set, or `None` when nothing was stored yet.
    ///
    /// # Errors
    ///
    /// A [`StoreError`] when the store exists but cannot be read or understood.
    fn load(&self) -> Result<Option<TokenSet>, StoreError>;

    /// Replaces the stored token set. Must not return before the new set is durable: the
    /// caller hands out the new access token only after this returns `Ok`.
    ///
    /// # Errors
    ///
    /// A [`StoreError`] when the set could not be stored; the manager then reports the error
    /// to every caller waiting for the renewal and tries to save again on the next call.
    fn save(&self, tokens: &TokenSet) -> Result<(), StoreError>;

    /// Takes the renewal lease: the right to renew this grant, exclusive across every process
    /// that shares the store, held until the returned value is dropped (and released by the
    /// operating system or by its expiry if the holder dies). Waits at most `wait` for
    /// another holder to finish.
    ///
    /// A token manager takes it before it refreshes, then reads the store again: when another
    /// process renewed meanwhile, it uses that token set instead of presenting a refresh token
    /// that has already been rotated (which many servers take for theft, revoking the grant).
    ///
    /// The default is for a store that only one process uses ([`MemoryStore`]): no lease is
    /// needed beyond the manager's own single flight.
    ///
    /// # Errors
    ///
    /// A [`StoreError`] when the lease cannot be taken within `wait`.
    fn lease(&self, wait: Duration) -> Result<Lease, StoreError> {
        let _ = wait;
        Ok(Lease::unshared())
    }
}

/// The renewal lease of a shared [`TokenStore`] (see [`TokenStore::lease`]): held until
/// dropped.
pub struct Lease(Option<Box<dyn Send + Sync>>);

impl Lease {
    /// A lease that holds `guard` (a locked file, a handle that deletes a key on drop...)
    /// until it is dropped.
    #[must_use]
    pub fn holding(guard: impl Send + Sync + 'static) -> Self {
        Self(Some(Box::new(guard)))
    }

    /// The lease of a store no other process shares: nothing to hold.
    #[must_use]
    pub fn unshared() -> Self {
        Self(None)
    }
}

impl fmt::Debug for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Lease(held)"
        } else {
            "Lease(unshared)"
        })
    }
}

impl<T: TokenStore + ?Sized> TokenStore for Arc<T> {
    fn load(&self) -> Result<Option<TokenSet>, StoreError> {
        (**self).load()
    }

    fn save(&self, tokens: &TokenSet) -> Result<(), StoreError> {
        (**self).save(tokens)
    }

    fn lease(&self, wait: Duration) -> Result<Lease, StoreError> {
        (**self).lease(wait)
    }
}

impl<T: TokenStore + ?Sized> TokenStore for Box<T> {
    fn load(&self) -> Result<Option<TokenSet>, StoreError> {
        (**self).load()
    }

    fn save(&self, tokens: &TokenSet) -> Result<(), StoreError> {
        (**self).save(tokens)
    }

    fn lease(&self, wait: Duration) -> Result<Lease, StoreError> {
        (**self).lease(wait)
    }
}

/// The tokens a token manager starts from: `given` (from an authorization flow), saved to
/// `store` first; or else what `store` holds.
///
/// # Errors
///
/// [`Error::Store`](crate::Error::Store) when the store cannot be read or `given` cannot be
/// saved.
pub fn initial_tokens(
    store: &dyn TokenStore,
    given: Option<TokenSet>,
) -> Result<Option<TokenSet>, crate::Error> {
    match given {
        Some(tokens) => {
            store.save(&tokens)?;
            Ok(Some(tokens))
        }
        None => Ok(store.load()?),
    }
}

/// A [`TokenStore`] in memory: the default, for processes that obtain their tokens anew at
/// every start (client credentials) or persist them elsewhere (see the managers'
/// `on_refresh`).
///
/// Cloning shares the same slot, so a test or an application can keep a handle and look at
/// what the manager saved.
#[derive(Clone, Default)]
pub struct MemoryStore {
    slot: Arc<Mutex<Option<TokenSet>>>,
}

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A store that already holds `tokens`.
    #[must_use]
    pub fn with_tokens(tokens: TokenSet) -> Self {
        Self {
            slot: Arc::new(Mutex::new(Some(tokens))),
        }
    }

    /// What the store holds now.
    #[must_use]
    pub fn get(&self) -> Option<TokenSet> {
        self.slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let held = self
            .slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some();
        f.debug_struct("MemoryStore").field("held", &held).finish()
    }
}

impl TokenStore for MemoryStore {
    fn load(&self) -> Result<Option<TokenSet>, StoreError> {
        Ok(self.get())
    }

    fn save(&self, tokens: &TokenSet) -> Result<(), StoreError> {
        *self.slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(tokens.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AccessToken, TokenType};

    #[test]
    fn memory_store_shares_its_slot() {
        let store = MemoryStore::new();
        assert!(store.load().unwrap().is_none());
        let handle = store.clone();
        let shared: Arc<dyn TokenStore> = Arc::new(store);
        shared
            .save(&TokenSet::new(AccessToken::new("at-1"), TokenType::Bearer))
            .unwrap();
        assert_eq!(handle.get().unwrap().access_token().expose_secret(), "at-1");
        assert_eq!(format!("{handle:?}"), "MemoryStore { held: true }");
    }

    #[test]
    fn store_error_displays_its_source() {
        let e = StoreError::new("cannot write tokens.json").with_source(fmt::Error);
        assert_eq!(
            e.to_string(),
            "token store: cannot write tokens.json: an error occurred when formatting an argument"
        );
        // The source is the error itself (so callers can downcast it), not a wrapper.
        let source = std::error::Error::source(&e).unwrap();
        assert!(source.downcast_ref::<fmt::Error>().is_some());
        assert!(std::error::Error::source(&StoreError::new("x")).is_none());
    }
}
