//! Postgres: the shared per-IP limits in the `UNLOGGED` table `rate_limits`, one GCRA upsert
//! per request on the database's clock (instances' clocks never enter into it).

use std::time::Duration;

use async_trait::async_trait;
use sqlx::PgPool;

use crate::repositories::RepoError;
use crate::repositories::errors::classify;
use crate::repositories::rate_limits::{RateLimitRepository, SharedQuota, Verdict};

/// Counts one request and returns the verdict, atomically: concurrent requests for one client
/// queue on the row lock, and each sees the row its predecessor wrote. `$3` is the emission
/// interval, `$4` the tolerance (`interval × (burst − 1)`), both in microseconds. A request is
/// allowed while the theoretical arrival time lies at most the tolerance ahead of now; only
/// then does it move on by one interval. The second column is how long until the next one is
/// allowed (meaningful when refused).
pub(crate) const ACQUIRE: &str = "\
    INSERT INTO rate_limits AS r (name, client, tat, allowed)
    VALUES ($1, $2, now() + $3 * interval '1 microsecond', true)
    ON CONFLICT (name, client) DO UPDATE SET
        allowed = greatest(r.tat, now()) <= now() + $4 * interval '1 microsecond',
        tat = CASE
            WHEN greatest(r.tat, now()) <= now() + $4 * interval '1 microsecond'
            THEN greatest(r.tat, now()) + $3 * interval '1 microsecond'
            ELSE r.tat
        END
    RETURNING allowed,
        extract(epoch FROM r.tat - now() - $4 * interval '1 microsecond')::float8";

/// A row whose bucket is full again says nothing a missing row would not.
pub(crate) const SWEEP: &str = "DELETE FROM rate_limits WHERE tat < now()";

#[derive(Debug, Clone)]
pub struct PgRateLimits {
    pool: PgPool,
    /// A statement that overruns this is an unavailable database (503), never a pass.
    budget: Duration,
}

impl PgRateLimits {
    pub fn new(pool: PgPool, budget: Duration) -> Self {
        Self { pool, budget }
    }

    async fn within_budget<T>(
        &self,
        call: impl Future<Output = Result<T, sqlx::Error>> + Send,
    ) -> Result<T, RepoError> {
        match tokio::time::timeout(self.budget, call).await {
            Ok(result) => result.map_err(classify),
            Err(_) => Err(RepoError::TimedOut),
        }
    }
}

fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

#[async_trait]
impl RateLimitRepository for PgRateLimits {
    #[tracing::instrument(skip_all, fields(limit = name))]
    async fn acquire(
        &self,
        name: &str,
        client: &str,
        quota: SharedQuota,
    ) -> Result<Verdict, RepoError> {
        let tolerance = quota.period.saturating_mul(quota.burst.saturating_sub(1));
        // `fetch_all` reads up to the end of the statement, so a failure after the row (the
        // commit's) is an error here rather than a pass nobody counted.
        let rows: Vec<(bool, f64)> = self
            .within_budget(
                sqlx::query_as(ACQUIRE)
                    .bind(name)
                    .bind(client)
                    .bind(micros(quota.period))
                    .bind(micros(tolerance))
                    .fetch_all(&self.pool),
            )
            .await?;
        match rows.first() {
            Some(&(true, _)) => Ok(Verdict::Allowed),
            Some(&(false, wait)) => {
                let retry_after =
                    Duration::try_from_secs_f64(wait.max(0.0)).unwrap_or(Duration::MAX);
                Ok(Verdict::Limited { retry_after })
            }
            None => Err(RepoError::Corrupt("the rate-limit upsert returned no row".to_owned())),
        }
    }

    async fn sweep(&self) -> Result<u64, RepoError> {
        let done = self.within_budget(sqlx::query(SWEEP).execute(&self.pool)).await?;
        Ok(done.rows_affected())
    }
}
