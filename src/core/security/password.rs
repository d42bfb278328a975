//! Argon2id hashing, run off the async runtime on a fixed pool of threads.
//!
//! Hashing costs ~19 MiB and tens of milliseconds of one core. Running it on the async workers
//! would stall every other request, and running unboundedly many at once would exhaust memory,
//! so hashes run on one low-priority thread per core ([`LowPriorityThreads`]), queued when all
//! are busy. Fixed threads allocating per hash still measured 360 MiB resident after a signin
//! flood, so each hashing thread allocates its Argon2 memory once and reuses it: resident
//! memory stays at idle + threads × 19 MiB however long the flood.

use std::cell::RefCell;
use std::sync::Arc;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHasher as _, Version};

use crate::core::metrics;
use crate::core::threads::LowPriorityThreads;
use crate::domain::{CandidatePassword, Password, StoredHash};

/// The result of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// The password matches. `needs_rehash` when the hash is weaker than today's policy.
    Valid {
        needs_rehash: bool,
    },
    Invalid,
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("the password hashing threads are gone")]
    Unavailable,
}

/// Counts a hash in `warren_password_hash_queue_depth` from queueing until it starts (or is
/// dropped unrun because its caller went away).
struct Queued;

impl Queued {
    fn new() -> Self {
        metrics::hash_queue(1);
        Self
    }
}

impl Drop for Queued {
    fn drop(&mut self) {
        metrics::hash_queue(-1);
    }
}

/// Bounds a stored hash must fall within before we spend any time on it. A tampered
/// row with `m=2000000` would otherwise cost gigabytes; `t=1000` would cost minutes. The lower
/// bounds sit well below today's policy so that hashes made under an older, weaker policy
/// still verify and are then upgraded, instead of locking their owners out.
#[derive(Debug, Clone, Copy)]
struct AcceptedRange {
    memory_kib: (u32, u32),
    passes: (u32, u32),
    lanes: (u32, u32),
}

const ACCEPTED: AcceptedRange =
    AcceptedRange { memory_kib: (7_168, 262_144), passes: (1, 10), lanes: (1, 4) };

#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    threads: LowPriorityThreads,
    /// Verified against when the account does not exist, so that answer takes as long.
    dummy_hash: Arc<str>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.params)
            .field("threads", &self.threads.count())
            .finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// OWASP's recommended Argon2id setting: 19 MiB, two passes, one lane.
    pub fn recommended_params() -> Params {
        Params::new(19_456, 2, 1, None).expect("constant parameters are valid")
    }

    /// `concurrency` threads (normally one per core) run every hash and verification.
    pub fn new(params: Params, concurrency: usize) -> Result<Self, HashError> {
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let dummy_hash = argon2
            .hash_password(b"warren dummy password for absent accounts")
            .map_err(|e| HashError::Hash(e.to_string()))?
            .to_string();
        Ok(Self {
            params,
            threads: LowPriorityThreads::start("argon2", concurrency)
                .map_err(|e| HashError::Hash(format!("cannot start hashing threads: {e}")))?,
            dummy_hash: dummy_hash.into(),
        })
    }

    pub async fn hash(&self, password: &Password) -> Result<StoredHash, HashError> {
        let bytes = zeroizing_copy(password.expose());
        let params = self.params.clone();
        let phc = self.run(move || hash_blocking(&bytes, &params)).await??;
        Ok(StoredHash::new(phc))
    }

    /// Checks `candidate` against `stored`, or against a dummy hash when there is no stored
    /// hash, so that "no such account" costs the same as "wrong password".
    pub async fn verify(
        &self,
        candidate: &CandidatePassword,
        stored: Option<&StoredHash>,
    ) -> Result<Verification, HashError> {
        let (phc, is_real) = match stored {
            Some(hash) => (Arc::<str>::from(hash.as_str()), true),
            None => (Arc::clone(&self.dummy_hash), false),
        };
        let bytes = zeroizing_copy(candidate.expose());
        let current = self.params.clone();
        let outcome = self.run(move || verify_blocking(&bytes, &phc, &current)).await?;
        Ok(if is_real { outcome } else { Verification::Invalid })
    }

    /// Runs `work` on a hashing thread, counted and timed.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let queued = Queued::new();
        let outcome = self.threads.run(move || {
            drop(queued);
            let started = std::time::Instant::now();
            let outcome = work();
            ::metrics::histogram!(metrics::HASH_DURATION).record(started.elapsed());
            outcome
        });
        outcome.await.map_err(|_| HashError::Unavailable)
    }
}

thread_local! {
    /// This hashing thread's Argon2 working memory, allocated on first use and kept.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs `work` on working memory for `params`: the thread's own buffer when the parameters
/// are today's, a temporary one for the rare stored hash made with others (so one odd hash
/// cannot pin hundreds of MiB to a thread for good).
fn with_memory<T>(params: &Params, current: &Params, work: impl FnOnce(&mut [Block]) -> T) -> T {
    let blocks = params.block_count();
    if blocks != current.block_count() {
        return work(&mut vec![Block::default(); blocks]);
    }
    MEMORY.with_borrow_mut(|memory| {
        memory.resize(blocks, Block::default());
        work(memory)
    })
}

/// Argon2id over `password` with a fresh 16-byte salt, as a PHC string.
fn hash_blocking(password: &[u8], params: &Params) -> Result<String, HashError> {
    let fail = |e: &dyn std::fmt::Display| HashError::Hash(e.to_string());
    let salt = argon2::password_hash::try_generate_salt().map_err(|e| fail(&e))?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
    with_memory(params, params, |memory| {
        argon2.hash_password_into_with_memory(password, &salt, &mut output, memory)
    })
    .map_err(|e| fail(&e))?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|e| fail(&e))?,
        salt: Some(Salt::new(&salt).map_err(|e| fail(&e))?),
        hash: Some(Output::new(&output).map_err(|e| fail(&e))?),
    };
    Ok(hash.to_string())
}

fn verify_blocking(password: &[u8], phc: &str, current: &Params) -> Verification {
    let Ok(parsed) = PasswordHash::new(phc) else {
        tracing::warn!("stored password hash is not a valid PHC string");
        return Verification::Invalid;
    };
    let Some(params) = accepted_params(&parsed) else {
        tracing::warn!("stored password hash has parameters outside policy; refused unverified");
        return Verification::Invalid;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return Verification::Invalid;
    };
    let verifier = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut computed = vec![0u8; expected.len()];
    let hashed = with_memory(&params, current, |memory| {
        verifier.hash_password_into_with_memory(password, salt, &mut computed, memory)
    });
    // `Output` compares in constant time.
    match (hashed, Output::new(&computed)) {
        (Ok(()), Ok(computed)) if computed == *expected => {
            Verification::Valid { needs_rehash: is_below(&params, current) }
        }
        _ => Verification::Invalid,
    }
}

/// Whether a hash made with `params` falls short of the policy `current` in any dimension.
/// Only such a hash is rewritten: one that meets the policy, however much stronger, stays as
/// it is, so an upgrade can never make a stored hash cheaper to attack.
fn is_below(params: &Params, current: &Params) -> bool {
    params.m_cost() < current.m_cost()
        || params.t_cost() < current.t_cost()
        || params.p_cost() < current.p_cost()
}

/// The hash's parameters when it is Argon2id v19 and inside [`ACCEPTED`].
fn accepted_params(hash: &PasswordHash) -> Option<Params> {
    if hash.algorithm.as_str() != "argon2id" || hash.version.is_some_and(|v| v != 0x13) {
        return None;
    }
    let params = Params::try_from(hash).ok()?;
    let within = |value: u32, (low, high): (u32, u32)| (low..=high).contains(&value);
    (within(params.m_cost(), ACCEPTED.memory_kib)
        && within(params.t_cost(), ACCEPTED.passes)
        && within(params.p_cost(), ACCEPTED.lanes)
        && hash.salt.as_ref().is_some_and(|salt| salt.len() >= 16))
    .then_some(params)
}

/// The password bytes for the blocking task, wiped from memory when the task is done.
fn zeroizing_copy(value: &str) -> zeroize::Zeroizing<Vec<u8>> {
    zeroize::Zeroizing::new(value.as_bytes().to_vec())
}

#[cfg(test)]
mod tests;
