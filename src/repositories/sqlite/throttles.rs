//! SQLite: the per-email backoff in `login_throttles` (lock times as unix seconds).

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{SqlitePools, Writer};
use crate::domain::{BackoffPolicy, EmailAddress};
use crate::repositories::errors::classify;
use crate::repositories::rows::unix_time;
use crate::repositories::{RepoError, Reservation, ThrottleRepository};

#[derive(Debug, Clone)]
pub struct SqliteThrottles {
    pools: SqlitePools,
}

impl SqliteThrottles {
    pub fn new(pools: SqlitePools) -> Self {
        Self { pools }
    }
}

#[async_trait]
impl ThrottleRepository for SqliteThrottles {
    #[tracing::instrument(skip_all)]
    async fn reserve(
        &self,
        email: &EmailAddress,
        now: OffsetDateTime,
        policy: &BackoffPolicy,
    ) -> Result<Reservation, RepoError> {
        // BEGIN IMMEDIATE holds the write lock from the read to the write: reservations for
        // one email cannot interleave.
        let mut writer = Writer::begin(&self.pools.write).await?;
        let current: Option<(i64, i64)> =
            sqlx::query_as("SELECT failures, locked_until FROM login_throttles WHERE email = $1")
                .bind(email.as_str())
                .fetch_optional(writer.conn())
                .await
                .map_err(classify)?;
        let (failures, locked_until) = current.unwrap_or((0, 0));
        if locked_until > now.unix_timestamp() {
            writer.rollback().await?;
            return Ok(Reservation::Locked { until: unix_time(locked_until) });
        }
        let failures = failures.saturating_add(1);
        sqlx::query(
            "INSERT INTO login_throttles (email, failures, last_failed_at, locked_until)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (email) DO UPDATE SET
               failures = excluded.failures,
               last_failed_at = excluded.last_failed_at,
               locked_until = excluded.locked_until",
        )
        .bind(email.as_str())
        .bind(failures)
        .bind(now.unix_timestamp())
        .bind(policy.locked_until_secs(failures, now))
        .execute(writer.conn())
        .await
        .map_err(classify)?;
        writer.commit().await?;
        Ok(Reservation::Granted)
    }

    #[tracing::instrument(skip_all)]
    async fn release(&self, email: &EmailAddress, policy: &BackoffPolicy) -> Result<(), RepoError> {
        let mut writer = Writer::begin(&self.pools.write).await?;
        sqlx::query(
            "UPDATE login_throttles SET
               failures = max(failures - 1, 0),
               locked_until = CASE WHEN failures - 1 < $2 THEN 0 ELSE locked_until END
             WHERE email = $1",
        )
        .bind(email.as_str())
        .bind(policy.threshold)
        .execute(writer.conn())
        .await
        .map_err(classify)?;
        writer.commit().await
    }

    #[tracing::instrument(skip_all)]
    async fn clear(&self, email: &EmailAddress) -> Result<(), RepoError> {
        let mut writer = Writer::begin(&self.pools.write).await?;
        sqlx::query("DELETE FROM login_throttles WHERE email = $1")
            .bind(email.as_str())
            .execute(writer.conn())
            .await
            .map_err(classify)?;
        writer.commit().await
    }
}
