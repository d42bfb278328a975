//! Postgres: the retention pruner's statements and its advisory lock. Each statement deletes
//! by `ctid` through a `LIMIT`ed subquery, so one call is one short transaction however much
//! qualifies.
//!
//! The lock is session-level (`pg_try_advisory_lock`) on a connection held for the whole pass,
//! not transaction-level: a pass is many short transactions with pauses between them, and a
//! transaction-level lock would be released at every batch's commit, letting another instance
//! slip its batches in between. A crashed instance's session ends with its connection, and the
//! lock with it.

use async_trait::async_trait;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::Writer;
use crate::repositories::errors::classify;
use crate::repositories::retention::PRUNE_LOCK_KEY;
use crate::repositories::{MAX_PRUNE_BATCH, Prune, PruneLock, RepoError, RetentionRepository};

#[derive(Debug, Clone)]
pub struct PgRetention {
    pool: PgPool,
}

impl PgRetention {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

/// A session ended at or before `$1`: revoked then, or past its absolute expiry.
const ENDED: &str = "(s.revoked_at <= $1 OR s.expires_at <= $1)";

/// The statement for `rule` (`$1` the cutoff, `$2` the batch size); `None` when the rule has
/// nothing to do on Postgres.
fn statement(rule: Prune) -> Option<String> {
    let sql = match rule {
        Prune::EndedSessionTokens => format!(
            "DELETE FROM refresh_tokens WHERE ctid = ANY(ARRAY(
               SELECT t.ctid FROM sessions s JOIN refresh_tokens t ON t.session_id = s.id
               WHERE {ENDED} LIMIT $2))"
        ),
        Prune::EndedSessions => format!(
            "DELETE FROM sessions WHERE ctid = ANY(ARRAY(
               SELECT s.ctid FROM sessions s WHERE {ENDED} LIMIT $2))"
        ),
        Prune::Expired(table) => format!(
            "DELETE FROM {table} WHERE ctid = ANY(ARRAY(
               SELECT ctid FROM {table} WHERE expires_at <= $1 LIMIT $2))"
        ),
        Prune::Settled(table) => format!(
            "DELETE FROM {table} WHERE ctid = ANY(ARRAY(
               SELECT ctid FROM {table}
               WHERE status IN ('sent', 'failed') AND created_at <= $1 LIMIT $2))"
        ),
        Prune::AuditEvents => "DELETE FROM auth_events WHERE ctid = ANY(ARRAY(
               SELECT ctid FROM auth_events WHERE occurred_at <= $1 LIMIT $2))"
            .to_owned(),
        Prune::AuditAddresses => "UPDATE auth_events SET ip = NULL WHERE ctid = ANY(ARRAY(
               SELECT ctid FROM auth_events WHERE ip IS NOT NULL AND occurred_at <= $1
               LIMIT $2))"
            .to_owned(),
        // Postgres instances hear each other through LISTEN/NOTIFY; nothing is stored.
        Prune::EventNotices => return None,
    };
    Some(sql)
}

#[async_trait]
impl RetentionRepository for PgRetention {
    #[tracing::instrument(skip_all)]
    async fn try_lock(&self) -> Result<Option<PruneLock>, RepoError> {
        let mut connection = self.pool.acquire().await.map_err(classify)?;
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(PRUNE_LOCK_KEY)
            .fetch_one(&mut *connection)
            .await
            .map_err(classify)?;
        Ok(locked.then(|| PruneLock::postgres(connection)))
    }

    #[tracing::instrument(skip_all, fields(rule = rule.label()))]
    async fn prune(
        &self,
        rule: Prune,
        cutoff: OffsetDateTime,
        limit: u32,
    ) -> Result<u64, RepoError> {
        let Some(sql) = statement(rule) else { return Ok(0) };
        let mut writer = Writer::begin(&self.pool).await?;
        // Every table name in a statement is one of the crate's constants, never input.
        let touched = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(cutoff)
            .bind(i64::from(limit.min(MAX_PRUNE_BATCH)))
            .execute(writer.conn())
            .await
            .map_err(classify)?
            .rows_affected();
        writer.commit().await?;
        Ok(touched)
    }
}
