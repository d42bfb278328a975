//! Per-account backoff on password checks, stored in the database so it holds across
//! instances (the rule itself is [`BackoffPolicy`]).
//!
//! Every password check — signin and every `current_password` re-authentication — first
//! reserves an attempt; the reservation is refused while the email is locked, so N concurrent
//! guesses cost N attempts. It applies to emails with no account exactly as to real ones, and
//! a correct password inside the lock is refused too (otherwise the lock would only slow down
//! wrong guesses).

use std::sync::Arc;

use time::OffsetDateTime;

use crate::domain::{BackoffPolicy, EmailAddress};
use crate::repositories::{RepoError, Reservation, ThrottleRepository};

#[derive(Debug, thiserror::Error)]
pub enum ThrottleError {
    /// Too many failed password checks for this email; the same whether or not it has an
    /// account.
    #[error("too many failed attempts; retry in {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
    /// Any storage failure: the attempt could not be counted, so none is allowed.
    #[error("the backoff could not be read or written")]
    Unavailable(#[from] RepoError),
}

#[derive(Debug)]
pub struct LoginThrottle {
    repository: Arc<dyn ThrottleRepository>,
    policy: BackoffPolicy,
}

impl LoginThrottle {
    pub fn new(repository: Arc<dyn ThrottleRepository>, policy: BackoffPolicy) -> Self {
        Self { repository, policy }
    }

    /// Counts one password attempt for `email`; `Err(Throttled)` while it is locked.
    pub async fn reserve(
        &self,
        email: &EmailAddress,
        now: OffsetDateTime,
    ) -> Result<(), ThrottleError> {
        match self.repository.reserve(email, now, &self.policy).await? {
            Reservation::Granted => Ok(()),
            Reservation::Locked { until } => {
                let remaining = (until - now).whole_seconds().max(1);
                Err(ThrottleError::Throttled { retry_after_secs: remaining.unsigned_abs() })
            }
        }
    }

    /// A completed signin: forgets every failure.
    pub async fn succeeded(&self, email: &EmailAddress) -> Result<(), ThrottleError> {
        Ok(self.repository.clear(email).await?)
    }

    /// A successful re-authentication: gives its own attempt back without clearing the count.
    pub async fn released(&self, email: &EmailAddress) -> Result<(), ThrottleError> {
        Ok(self.repository.release(email, &self.policy).await?)
    }
}
