//! Randomness: a per-thread ChaCha12 generator keyed from the operating system's CSPRNG.
//!
//! # Design
//!
//! Every random value latchkey makes (state, PKCE verifier) comes from a user-space CSPRNG
//! that each thread keeps for itself:
//!
//! - **Keyed from the OS.** The 256-bit key is drawn with `getrandom` on the thread's first
//!   use, and fresh OS output is mixed into the key again after every 64 KiB handed out.
//! - **ChaCha12**, the ChaCha stream cipher of RFC 8439 with 12 rounds instead of 20 (the
//!   generator `rand` uses for `StdRng` and `ThreadRng`; the best published attacks reach 7
//!   rounds), turns the key into a batch of four blocks (256 bytes) at a time, with a zero
//!   nonce and block counters 0 to 3. The block function is tested with 20 rounds against
//!   RFC 8439's vectors and with 12 and 20 rounds against `rand_chacha`.
//! - **Fast key erasure.** The first 32 bytes of every batch immediately replace the key and
//!   are wiped from the batch, so the key that made a batch is gone before any byte of it is
//!   used: reading the thread's memory later reveals nothing about values already handed out.
//! - **Each byte once.** A byte is wiped from the batch as it is handed out; a batch is never
//!   reused.
//!
//! The security argument is that of ChaCha as a stream cipher: without the key, the
//! keystream is indistinguishable from random, and the key is 256 bits of OS CSPRNG output
//! (XORed with the previous key on reseeding, which cannot lower its entropy). The cost is
//! that of the cipher, some 20 ns for the 48 bytes of an authorization request, instead of a
//! system call (about 350 ns for `getrandom(2)`) per request.
//!
//! **Fork.** A child made by `fork()` without `exec` inherits the parent's generator and would
//! repeat its next values. A program that forks after latchkey has made a value must call
//! [`reseed`] in the child before making more (the same contract as `rand`'s `ThreadRng`).
//!
//! Callers that bring their own randomness build values with
//! [`State::from_random_bytes`](crate::State::from_random_bytes) and
//! [`PkceVerifier::from_random_bytes`](crate::PkceVerifier::from_random_bytes), or supply them
//! whole with `State::new` / `PkceVerifier::new`.

use crate::Error;

/// Fills `buf` from this thread's generator: the source of every state and PKCE verifier,
/// usable for other unguessable values (an OpenID Connect `nonce`, a session id).
///
/// # Errors
///
/// [`Error::Random`] when the OS generator fails to key it, and always without the `os-rng`
/// feature (there is no built-in source then: callers supply values themselves).
pub fn fill(buf: &mut [u8]) -> Result<(), Error> {
    #[cfg(feature = "os-rng")]
    return os::fill(buf);
    #[cfg(not(feature = "os-rng"))]
    {
        let _ = buf;
        Err(Error::Random)
    }
}

/// Throws away this thread's generator state and keys it again from the OS on the next use.
///
/// Call it in a child process made by `fork()` (without `exec`) before it makes any state or
/// PKCE verifier, so that the child does not repeat values its parent will also make. Without
/// the `os-rng` feature it does nothing.
pub fn reseed() {
    #[cfg(feature = "os-rng")]
    os::forget();
}

#[cfg(feature = "os-rng")]
mod os {
    use std::cell::RefCell;

    use super::chacha_batch;
    use crate::Error;

    /// ChaCha12: six double rounds.
    const DOUBLE_ROUNDS: usize = 6;

    /// Output bytes between two mixes of fresh OS randomness into the key.
    const RESEED_AFTER: usize = 64 * 1024;

    /// One thread's generator.
    struct Generator {
        key: [u8; 32],
        /// The current batch; bytes before `used` are already wiped.
        batch: [u8; 256],
        used: usize,
        since_reseed: usize,
    }

    thread_local! {
        static GENERATOR: RefCell<Option<Generator>> = const { RefCell::new(None) };
    }

    pub(super) fn fill(buf: &mut [u8]) -> Result<(), Error> {
        GENERATOR.with(|cell| {
            let mut slot = cell.borrow_mut();
            let generator = match slot.as_mut() {
                Some(generator) => generator,
                None => slot.insert(Generator::from_os()?),
            };
            generator.fill(buf)
        })
    }

    pub(super) fn forget() {
        GENERATOR.with(|cell| {
            if let Some(mut generator) = cell.borrow_mut().take() {
                generator.wipe();
            }
        });
    }

    impl Generator {
        fn from_os() -> Result<Self, Error> {
            let mut key = [0u8; 32];
            getrandom::getrandom(&mut key).map_err(|_| Error::Random)?;
            Ok(Self {
                key,
                batch: [0; 256],
                used: 256,
                since_reseed: 0,
            })
        }

        fn fill(&mut self, buf: &mut [u8]) -> Result<(), Error> {
            let mut written = 0;
            while written < buf.len() {
                if self.used == self.batch.len() {
                    self.refill()?;
                }
                let take = (buf.len() - written).min(self.batch.len() - self.used);
                let source = &mut self.batch[self.used..self.used + take];
                buf[written..written + take].copy_from_slice(source);
                source.fill(0);
                self.used += take;
                written += take;
            }
            Ok(())
        }

        /// A new batch; its first 32 bytes become the next key (fast key erasure).
        fn refill(&mut self) -> Result<(), Error> {
            if self.since_reseed >= RESEED_AFTER {
                let mut fresh = [0u8; 32];
                getrandom::getrandom(&mut fresh).map_err(|_| Error::Random)?;
                for (k, f) in self.key.iter_mut().zip(fresh) {
                    *k ^= f;
                }
                self.since_reseed = 0;
            }
            chacha_batch::<DOUBLE_ROUNDS>(&self.key, &mut self.batch);
            self.key.copy_from_slice(&self.batch[..32]);
            self.batch[..32].fill(0);
            self.used = 32;
            self.since_reseed += self.batch.len() - 32;
            Ok(())
        }

        fn wipe(&mut self) {
            self.key.fill(0);
            self.batch.fill(0);
            // Keep the writes: the memory is about to be freed, which they must outlive.
            std::hint::black_box((&self.key, &self.batch));
        }
    }

    impl Drop for Generator {
        fn drop(&mut self) {
            self.wipe();
        }
    }
}

/// Four lanes of one ChaCha state word: the same word of four consecutive blocks, computed side
/// by side (four independent dependency chains in flight). Safe Rust on the baseline x86-64
/// target gets scalar code: without SSSE3/AVX-512 rotates the compiler does not vectorize it.
type Lanes = [u32; 4];

/// The ChaCha keystream blocks 0 to 3 for `key`, a zero nonce and `2 * DOUBLE_ROUNDS` rounds
/// (RFC 8439 §2.3, with the 64-bit block counter of the original ChaCha in words 12–13 and a
/// 64-bit zero nonce in words 14–15; identical to RFC 8439's layout for these counters).
pub(crate) fn chacha_batch<const DOUBLE_ROUNDS: usize>(key: &[u8; 32], out: &mut [u8; 256]) {
    const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];
    let mut initial: [Lanes; 16] = [[0; 4]; 16];
    for (word, constant) in initial.iter_mut().zip(SIGMA) {
        *word = [constant; 4];
    }
    for (i, chunk) in key.chunks_exact(4).enumerate() {
        let word = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        initial[4 + i] = [word; 4];
    }
    initial[12] = [0, 1, 2, 3];

    let mut x = initial;
    for _ in 0..DOUBLE_ROUNDS {
        quarter_round(&mut x, 0, 4, 8, 12);
        quarter_round(&mut x, 1, 5, 9, 13);
        quarter_round(&mut x, 2, 6, 10, 14);
        quarter_round(&mut x, 3, 7, 11, 15);
        quarter_round(&mut x, 0, 5, 10, 15);
        quarter_round(&mut x, 1, 6, 11, 12);
        quarter_round(&mut x, 2, 7, 8, 13);
        quarter_round(&mut x, 3, 4, 9, 14);
    }
    for (word, start) in x.iter_mut().zip(initial) {
        *word = add(*word, start);
    }
    for (block, out) in out.chunks_exact_mut(64).enumerate() {
        for (word, bytes) in x.iter().zip(out.chunks_exact_mut(4)) {
            bytes.copy_from_slice(&word[block].to_le_bytes());
        }
    }
}

#[inline(always)]
fn quarter_round(x: &mut [Lanes; 16], a: usize, b: usize, c: usize, d: usize) {
    x[a] = add(x[a], x[b]);
    x[d] = rotate(xor(x[d], x[a]), 16);
    x[c] = add(x[c], x[d]);
    x[b] = rotate(xor(x[b], x[c]), 12);
    x[a] = add(x[a], x[b]);
    x[d] = rotate(xor(x[d], x[a]), 8);
    x[c] = add(x[c], x[d]);
    x[b] = rotate(xor(x[b], x[c]), 7);
}

#[inline(always)]
fn add(a: Lanes, b: Lanes) -> Lanes {
    [
        a[0].wrapping_add(b[0]),
        a[1].wrapping_add(b[1]),
        a[2].wrapping_add(b[2]),
        a[3].wrapping_add(b[3]),
    ]
}

#[inline(always)]
fn xor(a: Lanes, b: Lanes) -> Lanes {
    [a[0] ^ b[0], a[1] ^ b[1], a[2] ^ b[2], a[3] ^ b[3]]
}

#[inline(always)]
fn rotate(a: Lanes, by: u32) -> Lanes {
    [
        a[0].rotate_left(by),
        a[1].rotate_left(by),
        a[2].rotate_left(by),
        a[3].rotate_left(by),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// RFC 8439 Appendix A.1, test vectors #1 and #2: the all-zero key, blocks 0 and 1.
    #[test]
    fn zero_key_keystream_matches_rfc_8439_appendix_a1() {
        let mut out = [0u8; 256];
        chacha_batch::<10>(&[0; 32], &mut out);
        assert_eq!(
            hex(&out[..64]),
            "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7\
             da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586"
        );
        assert_eq!(
            hex(&out[64..128]),
            "9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed\
             29b721769ce64e43d57133b074d839d531ed1f28510afb45ace10a1f4b794d6f"
        );
    }

    /// The batch equals an independent implementation's keystream (rand_chacha) for many keys,
    /// with 20 rounds and with the 12 the generator uses.
    #[test]
    fn batch_matches_an_independent_chacha() {
        use rand_core::{RngCore as _, SeedableRng as _};
        for k in 0..200u32 {
            let mut key = [0u8; 32];
            for (i, b) in key.iter_mut().enumerate() {
                *b = (k.wrapping_mul(2_654_435_761) >> (i % 24)) as u8 ^ (i as u8).wrapping_mul(37);
            }
            let (mut ours, mut theirs) = ([0u8; 256], [0u8; 256]);
            chacha_batch::<10>(&key, &mut ours);
            rand_chacha::ChaCha20Rng::from_seed(key).fill_bytes(&mut theirs);
            assert_eq!(hex(&ours), hex(&theirs), "ChaCha20, key {k}");
            chacha_batch::<6>(&key, &mut ours);
            rand_chacha::ChaCha12Rng::from_seed(key).fill_bytes(&mut theirs);
            assert_eq!(hex(&ours), hex(&theirs), "ChaCha12, key {k}");
        }
    }

    #[cfg(feature = "os-rng")]
    #[test]
    fn values_differ_across_batches_and_after_reseed() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..2_000 {
            let mut value = [0u8; 48];
            fill(&mut value).unwrap();
            assert!(seen.insert(value), "a value repeated");
        }
        reseed();
        let mut value = [0u8; 48];
        fill(&mut value).unwrap();
        assert!(seen.insert(value));
    }

    #[cfg(feature = "os-rng")]
    #[test]
    fn long_draws_span_batches() {
        let mut big = vec![0u8; 10_000];
        fill(&mut big).unwrap();
        // 10,000 bytes from a good generator: every byte value occurs.
        let mut counts = [0u32; 256];
        for b in &big {
            counts[usize::from(*b)] += 1;
        }
        assert!(counts.iter().all(|&c| c > 0));
    }
}
