//! `retention.*`: how long data that has served its purpose is kept before the background
//! pruner deletes it (or, for addresses in the audit trail, erases it).

use serde::{Deserialize, Serialize};

use super::Problems;

/// A hundred years: "keep it", without a time sum that could overflow.
const MAX_DAYS: u64 = 36_500;
/// A week: the longest pause between two passes.
const MAX_INTERVAL_SECS: u64 = 7 * 86_400;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionSettings {
    /// Days a session (and its refresh tokens) is kept after it ended: revoked or past its
    /// absolute expiry.
    pub sessions_days: u32,
    /// Days a delivered or failed outbox message is kept.
    pub outbox_days: u32,
    /// Days an audit event is kept.
    pub audit_days: u32,
    /// Days an audit event keeps the IP address it was recorded with.
    pub ip_days: u32,
    /// Seconds between two pruning passes (the first runs shortly after start).
    pub interval_secs: u64,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        Self {
            sessions_days: 30,
            outbox_days: 7,
            audit_days: 365,
            ip_days: 30,
            interval_secs: 3600,
        }
    }
}

impl RetentionSettings {
    pub(super) fn validate(&self, problems: &mut Problems) {
        problems.within("retention.sessions_days", self.sessions_days.into(), 0, MAX_DAYS);
        problems.within("retention.outbox_days", self.outbox_days.into(), 0, MAX_DAYS);
        problems.within("retention.audit_days", self.audit_days.into(), 0, MAX_DAYS);
        problems.within("retention.ip_days", self.ip_days.into(), 0, MAX_DAYS);
        problems.within("retention.interval_secs", self.interval_secs, 1, MAX_INTERVAL_SECS);
    }
}
