//! What the retention pruner may delete, rule by rule, and the lock that keeps two instances
//! from pruning at once. The statements live in each backend's `retention.rs`.

use sqlx::Postgres;
use sqlx::pool::PoolConnection;

use super::RepoError;
use super::errors::classify;

/// The most rows one [`super::RetentionRepository::prune`] call touches: one short transaction,
/// so requests waiting for the database (SQLite's single writer) never wait long.
pub const MAX_PRUNE_BATCH: u32 = 1_000;

/// Tables whose rows are worthless once past their own `expires_at`: refresh tokens (a rotated
/// one stays until then, so its reuse is still detected), one-time links and ceremonies.
/// Adding such a table to retention is adding its name here.
pub const EXPIRING_TABLES: &[&str] = &["refresh_tokens", "email_tokens", "mfa_challenges"];

/// Outbox tables whose rows are settled once `status` is `'sent'` or `'failed'`, aged by
/// `created_at`. Adding an outbox to retention is adding its name here.
pub const OUTBOX_TABLES: &[&str] = &["email_outbox"];

/// One kind of row the pruner removes, each with its own cutoff time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prune {
    /// Refresh tokens of sessions that ended (revoked, or past absolute expiry) at or before
    /// the cutoff. Deleted before their sessions so no transaction cascades past the batch.
    EndedSessionTokens,
    /// Sessions that ended at or before the cutoff.
    EndedSessions,
    /// Rows of one of [`EXPIRING_TABLES`] whose `expires_at` is at or before the cutoff.
    Expired(&'static str),
    /// Settled rows of one of [`OUTBOX_TABLES`] created at or before the cutoff.
    Settled(&'static str),
    /// Audit events that occurred at or before the cutoff.
    AuditEvents,
    /// The IP address of audit events that occurred at or before the cutoff (set to null).
    AuditAddresses,
    /// Notices other processes left for a SQLite server (none exist on Postgres).
    EventNotices,
}

impl Prune {
    /// The table (or column) the rule touches: its metric label and its name in reports.
    pub fn label(self) -> &'static str {
        match self {
            Self::EndedSessionTokens => "refresh_tokens",
            Self::EndedSessions => "sessions",
            Self::Expired(table) | Self::Settled(table) => table,
            Self::AuditEvents => "auth_events",
            Self::AuditAddresses => "auth_events.ip",
            Self::EventNotices => "event_notices",
        }
    }

    /// Whether the rule erases a column rather than deleting rows.
    pub fn erases(self) -> bool {
        self == Self::AuditAddresses
    }
}

/// Held while one instance prunes. On Postgres it is a session-level advisory lock on a
/// connection of its own; on SQLite (one serving process per file, writes serialised by the
/// file lock anyway) there is nothing to hold.
#[derive(Debug)]
pub struct PruneLock {
    connection: Option<PoolConnection<Postgres>>,
}

/// The advisory lock key: "warren" and 1, so it stays clear of any other application's keys.
pub(super) const PRUNE_LOCK_KEY: i64 = 0x7761_7272_656e_0001;

impl PruneLock {
    pub(super) fn unshared() -> Self {
        Self { connection: None }
    }

    pub(super) fn postgres(connection: PoolConnection<Postgres>) -> Self {
        Self { connection: Some(connection) }
    }

    /// Gives the lock up. Should unlocking fail, the connection is closed instead, which
    /// ends its database session and with it the lock, rather than going back to the pool
    /// still holding it.
    pub async fn release(mut self) -> Result<(), RepoError> {
        let Some(mut connection) = self.connection.take() else { return Ok(()) };
        match sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(PRUNE_LOCK_KEY)
            .execute(&mut *connection)
            .await
        {
            Ok(_) => Ok(()),
            Err(error) => {
                connection.close_on_drop();
                Err(classify(error))
            }
        }
    }
}

impl Drop for PruneLock {
    fn drop(&mut self) {
        // Dropped unreleased (a cancelled pass): the session ends, and its lock with it.
        if let Some(connection) = self.connection.as_mut() {
            connection.close_on_drop();
        }
    }
}
