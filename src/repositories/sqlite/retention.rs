//! SQLite: the retention pruner's statements. Each deletes by `rowid` through a `LIMIT`ed
//! subquery, so one call is one short `BEGIN IMMEDIATE` transaction however much qualifies.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{SqlitePools, Writer};
use crate::repositories::errors::classify;
use crate::repositories::{MAX_PRUNE_BATCH, Prune, PruneLock, RepoError, RetentionRepository};

#[derive(Debug, Clone)]
pub struct SqliteRetention {
    pools: SqlitePools,
}

impl SqliteRetention {
    pub fn new(pools: SqlitePools) -> Self {
        Self { pools }
    }
}

/// A session ended at or before `$1`: revoked then, or past its absolute expiry.
const ENDED: &str =
    "(julianday(s.revoked_at) <= julianday($1) OR julianday(s.expires_at) <= julianday($1))";

/// The statement for `rule`: `$1` the cutoff, `$2` the batch size. (`CROSS JOIN` keeps
/// SQLite's planner on the sessions' indexes first, whatever its statistics say.)
fn statement(rule: Prune) -> String {
    match rule {
        Prune::EndedSessionTokens => format!(
            "DELETE FROM refresh_tokens WHERE rowid IN (
               SELECT t.rowid FROM sessions s CROSS JOIN refresh_tokens t ON t.session_id = s.id
               WHERE {ENDED} LIMIT $2)"
        ),
        Prune::EndedSessions => format!(
            "DELETE FROM sessions WHERE rowid IN (
               SELECT s.rowid FROM sessions s WHERE {ENDED} LIMIT $2)"
        ),
        Prune::Expired(table) => format!(
            "DELETE FROM {table} WHERE rowid IN (
               SELECT rowid FROM {table} WHERE julianday(expires_at) <= julianday($1) LIMIT $2)"
        ),
        Prune::Settled(table) => format!(
            "DELETE FROM {table} WHERE rowid IN (
               SELECT rowid FROM {table}
               WHERE status IN ('sent', 'failed') AND julianday(created_at) <= julianday($1)
               LIMIT $2)"
        ),
        Prune::AuditEvents => "DELETE FROM auth_events WHERE rowid IN (
               SELECT rowid FROM auth_events WHERE julianday(occurred_at) <= julianday($1)
               LIMIT $2)"
            .to_owned(),
        Prune::AuditAddresses => "UPDATE auth_events SET ip = NULL WHERE rowid IN (
               SELECT rowid FROM auth_events
               WHERE ip IS NOT NULL AND julianday(occurred_at) <= julianday($1) LIMIT $2)"
            .to_owned(),
        Prune::EventNotices => "DELETE FROM event_notices WHERE id IN (
               SELECT id FROM event_notices WHERE julianday(created_at) <= julianday($1)
               LIMIT $2)"
            .to_owned(),
    }
}

#[async_trait]
impl RetentionRepository for SqliteRetention {
    async fn try_lock(&self) -> Result<Option<PruneLock>, RepoError> {
        Ok(Some(PruneLock::unshared()))
    }

    #[tracing::instrument(skip_all, fields(rule = rule.label()))]
    async fn prune(
        &self,
        rule: Prune,
        cutoff: OffsetDateTime,
        limit: u32,
    ) -> Result<u64, RepoError> {
        let mut writer = Writer::begin(&self.pools.write).await?;
        // Every table name in a statement is one of the crate's constants, never input.
        let touched = sqlx::query(sqlx::AssertSqlSafe(statement(rule)))
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
