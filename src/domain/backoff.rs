//! The per-account backoff rule: how long an email is locked after consecutive failed password
//! checks. Pure arithmetic; storage applies it atomically (`ThrottleRepository::reserve`).

use time::{Duration, OffsetDateTime};

/// After `threshold` consecutive failures an email is locked for `base_lock`, doubling with
/// every further failure up to `max_lock`. Only a completed signin or a password reset clears
/// the count, so from the threshold on every attempt that arrives inside the lock is refused.
#[derive(Debug, Clone, Copy)]
pub struct BackoffPolicy {
    pub threshold: i64,
    pub base_lock: Duration,
    pub max_lock: Duration,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        Self { threshold: 5, base_lock: Duration::seconds(30), max_lock: Duration::minutes(15) }
    }
}

impl BackoffPolicy {
    /// How long to lock after `failures` consecutive failures, if at all.
    pub fn lock_for(&self, failures: i64) -> Option<Duration> {
        let beyond = failures.checked_sub(self.threshold)?;
        if beyond < 0 {
            return None;
        }
        let doublings = u32::try_from(beyond.min(30)).unwrap_or(30);
        let lock = self.base_lock.checked_mul(1 << doublings).unwrap_or(self.max_lock);
        Some(lock.min(self.max_lock))
    }

    /// Until when an email with `failures` counted at `now` is locked, as unix seconds (0: not
    /// locked): the form both backends store.
    pub fn locked_until_secs(&self, failures: i64, now: OffsetDateTime) -> i64 {
        self.lock_for(failures)
            .and_then(|lock| now.checked_add(lock))
            .map_or(0, OffsetDateTime::unix_timestamp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_start_at_the_threshold_double_and_are_capped() {
        let policy = BackoffPolicy::default();
        let seconds = |failures| policy.lock_for(failures).map(Duration::whole_seconds);
        let locks: Vec<Option<i64>> = (1..=12).map(seconds).collect();
        let expected = [0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900, 900];
        let expected: Vec<Option<i64>> = expected.iter().map(|&s| (s > 0).then_some(s)).collect();
        assert_eq!(locks, expected);
        assert_eq!(seconds(i64::MAX), Some(900));
    }

    #[test]
    fn every_failure_from_the_tenth_on_is_locked() {
        let policy = BackoffPolicy::default();
        assert!((10..1_000).all(|failures| policy.lock_for(failures).is_some()));
    }

    #[test]
    fn an_unlocked_count_stores_zero() {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(1);
        let policy = BackoffPolicy::default();
        assert_eq!(policy.locked_until_secs(1, now), 0);
        assert_eq!(policy.locked_until_secs(5, now), now.unix_timestamp() + 30);
    }
}
