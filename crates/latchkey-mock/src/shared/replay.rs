//! A bounded memory of one-time identifiers (`jti`s of DPoP proofs and client assertions):
//! each is kept until it could no longer be accepted anyway, and the oldest are forgotten
//! first when the memory is full.

use std::collections::{HashMap, VecDeque};
use std::time::SystemTime;

/// Identifiers seen, each with the time after which it may be forgotten.
#[derive(Debug)]
pub(crate) struct ReplayCache {
    capacity: usize,
    order: VecDeque<(String, SystemTime)>,
    seen: HashMap<String, SystemTime>,
}

impl ReplayCache {
    /// A cache of at most `capacity` identifiers.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            order: VecDeque::new(),
            seen: HashMap::new(),
        }
    }

    /// Remembers `id` until `until`, unless it is already remembered at `now`: then it is a
    /// replay and the answer is `false`.
    pub(crate) fn first_use(&mut self, id: &str, now: SystemTime, until: SystemTime) -> bool {
        self.forget_expired(now);
        if self.seen.contains_key(id) {
            return false;
        }
        while self.seen.len() >= self.capacity {
            match self.order.pop_front() {
                Some((old, _)) => {
                    self.seen.remove(&old);
                }
                None => break,
            }
        }
        self.seen.insert(id.to_owned(), until);
        self.order.push_back((id.to_owned(), until));
        true
    }

    /// How many identifiers are remembered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.seen.len()
    }

    fn forget_expired(&mut self, now: SystemTime) {
        // Entries are not in expiry order, so expired ones are dropped as they reach the
        // front; the capacity bounds the rest.
        while let Some((id, until)) = self.order.front() {
            if *until > now {
                break;
            }
            self.seen.remove(id);
            self.order.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_replay_is_refused_until_it_expires_and_the_memory_is_bounded() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let later = now + Duration::from_secs(60);
        let mut cache = ReplayCache::new(3);
        assert!(cache.first_use("a", now, later));
        assert!(!cache.first_use("a", now, later));
        assert!(cache.first_use("a", later, later + Duration::from_secs(60)));
        for id in ["b", "c", "d", "e"] {
            assert!(cache.first_use(id, later, later + Duration::from_secs(60)));
        }
        assert_eq!(cache.len(), 3);
        // "a" was the oldest and is forgotten; "e" is remembered.
        assert!(!cache.first_use("e", later, later));
    }
}
