//! Argon2id hashing, run off the async runtime behind a semaphore.
//!
//! Hashing costs ~19 MiB and tens of milliseconds of one core. Running it on the async workers
//! would stall every other request, and running unboundedly many at once would exhaust memory,
//! so each hash takes a permit (one per core) and runs on the blocking pool.

use std::sync::Arc;

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};
use tokio::sync::Semaphore;

use crate::domain::{CandidatePassword, Password, StoredHash};

/// The result of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// The password matches. `needs_rehash` when the hash used other parameters than today's.
    Valid {
        needs_rehash: bool,
    },
    Invalid,
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("password hashing task did not complete")]
    Task(#[from] tokio::task::JoinError),
    #[error("password hashing is shutting down")]
    Closed(#[from] tokio::sync::AcquireError),
}

/// Bounds a stored hash must fall within before we spend any time on it. A tampered row with
/// `m=2000000` would otherwise cost gigabytes; `t=1000` would cost minutes.
#[derive(Debug, Clone, Copy)]
struct AcceptedRange {
    memory_kib: (u32, u32),
    passes: (u32, u32),
    lanes: (u32, u32),
}

const ACCEPTED: AcceptedRange =
    AcceptedRange { memory_kib: (19_456, 262_144), passes: (2, 10), lanes: (1, 4) };

#[derive(Clone)]
pub struct PasswordHasher {
    argon2: Argon2<'static>,
    params: Params,
    permits: Arc<Semaphore>,
    /// Verified against when the account does not exist, so that answer takes as long.
    dummy_hash: Arc<str>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.params)
            .field("permits", &self.permits.available_permits())
            .finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// OWASP's recommended Argon2id setting: 19 MiB, two passes, one lane.
    pub fn recommended_params() -> Params {
        Params::new(19_456, 2, 1, None).expect("constant parameters are valid")
    }

    /// `concurrency` permits (normally the number of cores) bound simultaneous hashes.
    pub fn new(params: Params, concurrency: usize) -> Result<Self, HashError> {
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let dummy_hash = argon2
            .hash_password(b"warren dummy password for absent accounts")
            .map_err(|e| HashError::Hash(e.to_string()))?
            .to_string();
        Ok(Self {
            argon2,
            params,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy_hash: dummy_hash.into(),
        })
    }

    pub async fn hash(&self, password: &Password) -> Result<StoredHash, HashError> {
        let bytes = zeroizing_copy(password.expose());
        let argon2 = self.argon2.clone();
        let _permit = self.permits.acquire().await?;
        let phc = tokio::task::spawn_blocking(move || {
            argon2
                .hash_password(&bytes)
                .map(|hash| hash.to_string())
                .map_err(|e| HashError::Hash(e.to_string()))
        })
        .await??;
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
        let _permit = self.permits.acquire().await?;
        let outcome =
            tokio::task::spawn_blocking(move || verify_blocking(&bytes, &phc, &current)).await?;
        Ok(if is_real { outcome } else { Verification::Invalid })
    }
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
    let verifier = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    match verifier.verify_password(password, &parsed) {
        Ok(()) => Verification::Valid {
            needs_rehash: params.m_cost() != current.m_cost()
                || params.t_cost() != current.t_cost()
                || params.p_cost() != current.p_cost(),
        },
        Err(_) => Verification::Invalid,
    }
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
mod tests {
    use super::*;
    use crate::domain::PasswordPolicy;

    fn hasher() -> PasswordHasher {
        PasswordHasher::new(PasswordHasher::recommended_params(), 2).expect("hasher")
    }

    fn password(raw: &str) -> Password {
        Password::parse(raw, PasswordPolicy::default(), None).expect("valid password")
    }

    #[tokio::test]
    async fn a_hash_verifies_its_own_password_only() {
        let hasher = hasher();
        let hash = hasher.hash(&password("correct horse battery")).await.expect("hash");
        assert!(hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        let (right, wrong) = (
            CandidatePassword::new("correct horse battery"),
            CandidatePassword::new("correct horse battery!"),
        );
        let outcome = hasher.verify(&right, Some(&hash)).await.expect("verify");
        assert_eq!(outcome, Verification::Valid { needs_rehash: false });
        let outcome = hasher.verify(&wrong, Some(&hash)).await.expect("verify");
        assert_eq!(outcome, Verification::Invalid);
    }

    #[tokio::test]
    async fn salts_are_random() {
        let hasher = hasher();
        let first = hasher.hash(&password("same password here")).await.expect("hash");
        let second = hasher.hash(&password("same password here")).await.expect("hash");
        assert_ne!(first, second);
    }

    #[tokio::test]
    async fn absent_accounts_never_verify() {
        let outcome = hasher().verify(&CandidatePassword::new("anything at all"), None).await;
        assert_eq!(outcome.expect("verify"), Verification::Invalid);
    }

    #[tokio::test]
    async fn hashes_outside_policy_are_refused_before_verifying() {
        let tampered = StoredHash::new(
            "$argon2id$v=19$m=2000000,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$\
             AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                .to_owned(),
        );
        // Verifying with m=2000000 would allocate ~2 GiB: the policy check must refuse first.
        let parsed = PasswordHash::new(tampered.as_str()).expect("well-formed PHC");
        assert!(accepted_params(&parsed).is_none());
        let outcome = hasher().verify(&CandidatePassword::new("whatever"), Some(&tampered)).await;
        assert_eq!(outcome.expect("verify"), Verification::Invalid);
    }

    #[tokio::test]
    async fn weaker_but_valid_hashes_ask_for_an_upgrade() {
        let stronger = Params::new(32_768, 3, 1, None).expect("params");
        let old = PasswordHasher::new(stronger, 1).expect("hasher");
        let hash = old.hash(&password("an older password")).await.expect("hash");
        let candidate = CandidatePassword::new("an older password");
        let outcome = hasher().verify(&candidate, Some(&hash)).await.expect("verify");
        assert_eq!(outcome, Verification::Valid { needs_rehash: true });
    }

    #[tokio::test]
    async fn garbage_hashes_do_not_verify() {
        let garbage = StoredHash::new("not a hash".to_owned());
        let outcome = hasher().verify(&CandidatePassword::new("whatever"), Some(&garbage)).await;
        assert_eq!(outcome.expect("verify"), Verification::Invalid);
    }
}
