//! Postgres: the per-email backoff in `login_throttles` (lock times as unix seconds).

use async_trait::async_trait;
use time::OffsetDateTime;

use sqlx::PgPool;

use super::Writer;
use crate::domain::{BackoffPolicy, EmailAddress};
use crate::repositories::errors::classify;
use crate::repositories::rows::unix_time;
use crate::repositories::{RepoError, Reservation, ThrottleRepository};

#[derive(Debug, Clone)]
pub struct PgThrottles {
    pool: PgPool,
}

impl PgThrottles {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl ThrottleRepository for PgThrottles {
    #[tracing::instrument(skip_all)]
    async fn reserve(
        &self,
        email: &EmailAddress,
        now: OffsetDateTime,
        policy: &BackoffPolicy,
    ) -> Result<Reservation, RepoError> {
        // The row exists (or is created) first, so `FOR UPDATE` always has a row to lock and
        // reservations for one email queue behind each other.
        let mut writer = Writer::begin(&self.pool).await?;
        sqlx::query(
            "INSERT INTO login_throttles (email, failures, last_failed_at, locked_until)
             VALUES ($1, 0, $2, 0)
             ON CONFLICT (email) DO NOTHING",
        )
        .bind(email.as_str())
        .bind(now.unix_timestamp())
        .execute(writer.conn())
        .await
        .map_err(classify)?;
        let current: Option<(i64, i64)> = sqlx::query_as(
            "SELECT failures, locked_until FROM login_throttles WHERE email = $1 FOR UPDATE",
        )
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
        let mut writer = Writer::begin(&self.pool).await?;
        sqlx::query(
            "UPDATE login_throttles SET
               failures = greatest(failures - 1, 0),
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
        let mut writer = Writer::begin(&self.pool).await?;
        sqlx::query("DELETE FROM login_throttles WHERE email = $1")
            .bind(email.as_str())
            .execute(writer.conn())
            .await
            .map_err(classify)?;
        writer.commit().await
    }
}
