//! Argon2id hashing, run off the async runtime on a fixed pool of threads.
//!
//! Hashing costs ~19 MiB and tens of milliseconds of one core. Running it on the async workers
//! would stall every other request, and running unboundedly many at once would exhaust memory,
//! so hashes run on one dedicated thread per core, queued when all are busy.
//!
//! Why not `spawn_blocking` behind a semaphore: that bounds concurrency but rotates the work
//! over tokio's many blocking threads; glibc spreads the 19 MiB allocations over up to 16
//! malloc arenas and each keeps what it was given. `make bench` measured 1 GiB resident after
//! a signin flood that way, and still 360 MiB with fixed threads allocating per hash. Each
//! hashing thread therefore allocates its Argon2 memory once and reuses it: resident memory
//! stays at idle + threads × 19 MiB however long the flood.

use std::cell::RefCell;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHasher as _, Version};

use crate::core::metrics;
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

type Job = Box<dyn FnOnce() + Send>;

/// Niceness of the hashing threads. When requests and hashes compete for the cores, the
/// scheduler then favours the async workers (weight 1024 against 110), so a signin flood
/// cannot push every other request's latency up; with nothing else to run, hashing still
/// gets every cycle, so signin throughput is unchanged.
const HASHING_NICENESS: i32 = 10;

fn lower_priority() {
    let thread = rustix::thread::gettid();
    if let Err(error) = rustix::process::setpriority_process(Some(thread), HASHING_NICENESS) {
        tracing::warn!(%error, "could not lower the hashing thread's priority");
    }
}

/// A fixed set of OS threads running hashing jobs in arrival order. The threads end when the
/// last `PasswordHasher` clone (and with it the sender) is dropped.
#[derive(Clone)]
struct HashingThreads {
    jobs: mpsc::Sender<Job>,
    threads: usize,
}

impl HashingThreads {
    fn start(threads: usize) -> Result<Self, HashError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..threads {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("argon2-{index}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        // The lock is released before the job runs.
                        let next = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
                        let Ok(job) = next else { break };
                        // A panicking job must not take its thread with it.
                        let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
                    }
                })
                .map_err(|e| HashError::Hash(format!("cannot start hashing thread: {e}")))?;
        }
        Ok(Self { jobs, threads })
    }

    /// Runs `work` on a hashing thread. Work whose caller has gone away (client disconnected
    /// while queued) is skipped rather than computed for nobody.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            metrics::hash_queue(-1);
            if !done.is_closed() {
                let started = std::time::Instant::now();
                let _ = done.send(work());
                ::metrics::histogram!(metrics::HASH_DURATION).record(started.elapsed());
            }
        });
        metrics::hash_queue(1);
        self.jobs.send(job).map_err(|_| {
            metrics::hash_queue(-1);
            HashError::Unavailable
        })?;
        result.await.map_err(|_| HashError::Unavailable)
    }
}

/// Bounds a stored hash must fall within before we spend any time on it (SPEC §5). A tampered
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
    threads: HashingThreads,
    /// Verified against when the account does not exist, so that answer takes as long.
    dummy_hash: Arc<str>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.params)
            .field("threads", &self.threads.threads)
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
            threads: HashingThreads::start(concurrency.max(1))?,
            dummy_hash: dummy_hash.into(),
        })
    }

    pub async fn hash(&self, password: &Password) -> Result<StoredHash, HashError> {
        let bytes = zeroizing_copy(password.expose());
        let params = self.params.clone();
        let phc = self.threads.run(move || hash_blocking(&bytes, &params)).await??;
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
        let outcome = self.threads.run(move || verify_blocking(&bytes, &phc, &current)).await?;
        Ok(if is_real { outcome } else { Verification::Invalid })
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
