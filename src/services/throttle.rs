//! Per-account signin backoff, stored in the database so it holds across instances.
//!
//! After `threshold` consecutive failures for one canonical email, signins for it are refused
//! for a window that doubles with every further failure, up to `max_lock`. It applies to emails
//! with no account exactly as to real ones, and a correct password inside the window is
//! refused too (otherwise the window would only slow down wrong guesses).

use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use super::AccountError;
use crate::domain::EmailAddress;
use crate::repositories::ThrottleRepository;

#[derive(Debug, Clone, Copy)]
pub struct LoginThrottlePolicy {
    /// Failures allowed before the first lock.
    pub threshold: i64,
    /// The first lock's length; each further failure doubles it.
    pub base_lock: Duration,
    pub max_lock: Duration,
    /// A failure older than this no longer counts towards the next.
    pub forget_after: Duration,
}

impl Default for LoginThrottlePolicy {
    fn default() -> Self {
        Self {
            threshold: 5,
            base_lock: Duration::seconds(30),
            max_lock: Duration::minutes(15),
            forget_after: Duration::hours(1),
        }
    }
}

impl LoginThrottlePolicy {
    /// How long to lock after `failures` consecutive failures, if at all.
    pub fn lock_for(&self, failures: i64) -> Option<Duration> {
        let beyond = failures.checked_sub(self.threshold)?;
        if beyond < 0 {
            return None;
        }
        let doublings = u32::try_from(beyond.min(30)).unwrap_or(30);
        let lock = self.base_lock.checked_mul(1 << doublings.min(30)).unwrap_or(self.max_lock);
        Some(lock.min(self.max_lock))
    }
}

/// Whether an email had failed signins on record when it was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailuresOnRecord(bool);

#[derive(Debug)]
pub struct LoginThrottle {
    repository: Arc<dyn ThrottleRepository>,
    policy: LoginThrottlePolicy,
}

impl LoginThrottle {
    pub fn new(repository: Arc<dyn ThrottleRepository>, policy: LoginThrottlePolicy) -> Self {
        Self { repository, policy }
    }

    /// `Err(Throttled)` while the email is locked; otherwise whether it has failures on record
    /// (only then does a success need to clear them).
    pub async fn check(
        &self,
        email: &EmailAddress,
        now: OffsetDateTime,
    ) -> Result<FailuresOnRecord, AccountError> {
        let Some(locked_until) = self.repository.locked_until(email).await? else {
            return Ok(FailuresOnRecord(false));
        };
        let remaining = locked_until - now.unix_timestamp();
        if remaining > 0 {
            return Err(AccountError::Throttled { retry_after_secs: remaining.unsigned_abs() });
        }
        Ok(FailuresOnRecord(true))
    }

    pub async fn record_failure(
        &self,
        email: &EmailAddress,
        now: OffsetDateTime,
    ) -> Result<(), AccountError> {
        let now_secs = now.unix_timestamp();
        let forget_before = (now - self.policy.forget_after).unix_timestamp();
        let failures = self.repository.record_failure(email, now_secs, forget_before).await?;
        if let Some(lock) = self.policy.lock_for(failures) {
            self.repository.lock(email, now_secs + lock.whole_seconds()).await?;
        }
        Ok(())
    }

    /// Forgets the failures after a successful signin; most signins have none to forget and
    /// skip the write.
    pub async fn record_success(
        &self,
        email: &EmailAddress,
        failures: FailuresOnRecord,
    ) -> Result<(), AccountError> {
        if failures.0 {
            self.repository.clear(email).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_start_at_the_threshold_double_and_are_capped() {
        let policy = LoginThrottlePolicy::default();
        let seconds = |failures| policy.lock_for(failures).map(Duration::whole_seconds);
        let locks: Vec<Option<i64>> = (1..=12).map(seconds).collect();
        let expected = [0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900, 900];
        let expected: Vec<Option<i64>> = expected.iter().map(|&s| (s > 0).then_some(s)).collect();
        assert_eq!(locks, expected);
        assert_eq!(seconds(i64::MAX), Some(900));
    }
}
