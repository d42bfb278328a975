//! The account holder's copy of their data (GDPR art. 15 and 20): profile, live sessions,
//! two-factor status and their own audit events, gathered for the caller only. Limited per
//! account, since each export reads the whole audit trail.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::{
    AccountError, AuditLog, Authenticated, MfaService, SessionError, SessionService, SessionView,
};
use crate::repositories::RepoError;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The caller exported too often.
    #[error("too many exports; retry in {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
    #[error("the database is unavailable")]
    Unavailable(#[source] RepoError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

super::error::storage_failures!(ExportError);

impl From<SessionError> for ExportError {
    /// Listing the caller's sessions can only fail in storage.
    fn from(error: SessionError) -> Self {
        match error {
            SessionError::Unavailable(cause) => Self::Unavailable(cause),
            other => Self::Internal(anyhow::Error::new(other).context("list sessions")),
        }
    }
}

impl From<AccountError> for ExportError {
    /// Reading the MFA status can only fail in storage.
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::Unavailable(cause) => Self::Unavailable(cause),
            other => Self::Internal(anyhow::Error::new(other).context("read the MFA status")),
        }
    }
}
use crate::domain::{AuthEvent, User, UserId};
use crate::repositories::MfaStatus;

/// Exports one account may take at once, then one more per [`EXPORT_REFILL`].
const EXPORT_BURST: NonZeroU32 = NonZeroU32::new(5).expect("five is not zero");
const EXPORT_REFILL: Duration = Duration::from_secs(12 * 60);
/// Above this many tracked accounts, buckets that have refilled are dropped.
const TRACKED_ACCOUNTS: usize = 10_000;

/// Everything Warren holds about one account that its owner may read.
#[derive(Debug)]
pub struct AccountExport {
    pub user: User,
    pub sessions: Vec<SessionView>,
    pub events: Vec<AuthEvent>,
    /// Two-factor state: on since when, recovery codes left. Never a secret.
    pub mfa: MfaStatus,
}

#[derive(Debug)]
pub struct ExportService {
    sessions: Arc<SessionService>,
    audit: Arc<AuditLog>,
    mfa: Arc<MfaService>,
    limiter: DefaultKeyedRateLimiter<UserId>,
}

impl ExportService {
    pub fn new(sessions: Arc<SessionService>, audit: Arc<AuditLog>, mfa: Arc<MfaService>) -> Self {
        let quota = Quota::with_period(EXPORT_REFILL)
            .expect("the refill period is not zero")
            .allow_burst(EXPORT_BURST);
        Self { sessions, audit, mfa, limiter: RateLimiter::keyed(quota) }
    }

    /// The caller's data; `Throttled` once they exported too often.
    pub async fn export(&self, caller: &Authenticated) -> Result<AccountExport, ExportError> {
        self.admit(caller.user.id)?;
        let sessions = self.sessions.list(caller).await?;
        let events = self.audit.for_user(caller.user.id).await?;
        let mfa = self.mfa.status(&caller.user).await?;
        Ok(AccountExport { user: caller.user.clone(), sessions, events, mfa })
    }

    fn admit(&self, user: UserId) -> Result<(), ExportError> {
        if self.limiter.len() > TRACKED_ACCOUNTS {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&user).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ExportError::Throttled { retry_after_secs: wait.as_secs().max(1) }
        })
    }
}
