//! Storage: one trait per aggregate, one implementation per database, chosen at startup from
//! the database URL. Each backend writes its own SQL plainly; rows become domain values only
//! through the domain's parsers, so a corrupted row cannot produce an invalid `User`.

mod database;
mod portable;
mod portable_security;
mod postgres;
mod rows;
mod sqlite;

use std::net::IpAddr;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::domain::{
    AuthEvent, EmailAddress, FullName, RefreshTokenHash, Session, SessionId, StoredHash, User,
    UserId,
};

pub use database::{Database, MigrationStatus};
use rows::{AuthEventRow, CredentialsRow, RefreshTokenRow, SessionRow, UserRow, UserSessionRow};

/// The connections a repository uses: reads and writes may go to different pools. SQLite
/// writes go through a single connection, so concurrent writers queue in the pool (FIFO,
/// async) instead of colliding in SQLite's busy handler, which sleeps up to 100 ms per retry.
/// Postgres uses one pool for both.
#[derive(Debug)]
pub struct Pools<DB: sqlx::Database> {
    pub read: sqlx::Pool<DB>,
    pub write: sqlx::Pool<DB>,
}

// By hand: the derive would demand `DB: Clone`, which database marker types are not.
impl<DB: sqlx::Database> Clone for Pools<DB> {
    fn clone(&self) -> Self {
        Self { read: self.read.clone(), write: self.write.clone() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// A unique constraint decided against the write (e.g. the email is taken).
    #[error("a unique constraint rejected the write")]
    Conflict,
    /// The database is unreachable, busy, full or out of connections: worth retrying later.
    #[error("the database is unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// A stored row no longer parses into a domain value.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("database error")]
    Other(#[source] sqlx::Error),
}

/// A user as it is about to be inserted.
#[derive(Debug)]
pub struct NewUserRecord {
    pub id: UserId,
    pub email: EmailAddress,
    pub full_name: Option<FullName>,
    pub password_hash: StoredHash,
    pub created_at: OffsetDateTime,
}

/// A user together with their password hash, for the few places that verify it.
#[derive(Debug)]
pub struct Credentials {
    pub user: User,
    pub password_hash: StoredHash,
}

/// Field changes applied in one atomic statement; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct UserChanges {
    /// `Some(None)` clears the name.
    pub full_name: Option<Option<FullName>>,
    pub email: Option<EmailAddress>,
    /// A new password hash; also bumps the token version so older access tokens stop working.
    pub password_hash: Option<StoredHash>,
    /// Bumps the token version without other changes (sign out everywhere).
    pub revoke_tokens: bool,
}

#[derive(Debug)]
pub struct NewSession {
    pub id: SessionId,
    pub user_id: UserId,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub user_agent: Option<String>,
    pub ip: Option<IpAddr>,
}

#[derive(Debug)]
pub struct NewRefreshToken {
    pub hash: RefreshTokenHash,
    pub issued_at: OffsetDateTime,
    /// Idle expiry of this one token.
    pub expires_at: OffsetDateTime,
}

/// Whether a session still stands, as read from storage; the caller compares with its clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLiveness {
    pub revoked: bool,
    pub expires_at: OffsetDateTime,
}

impl SessionLiveness {
    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        !self.revoked && self.expires_at > now
    }
}

/// A stored refresh token and the state of its session.
#[derive(Debug, Clone)]
pub struct RefreshTokenState {
    pub session_id: SessionId,
    pub user_id: UserId,
    pub expires_at: OffsetDateTime,
    pub rotated_at: Option<OffsetDateTime>,
    pub session: SessionLiveness,
}

/// The outcome of presenting a refresh token for rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// This call rotated the token; the successor is stored.
    Rotated { session_id: SessionId, user_id: UserId },
    /// Unknown, expired, revoked, or already rotated: nothing changed.
    Refused,
}

#[async_trait]
pub trait UserRepository: Send + Sync + std::fmt::Debug {
    /// Inserts a user; `RepoError::Conflict` when the email is taken.
    async fn insert(&self, user: NewUserRecord) -> Result<User, RepoError>;
    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, RepoError>;
    /// The user together with the state of one of their sessions; `None` when either is gone.
    async fn find_with_session(
        &self,
        id: UserId,
        session: SessionId,
    ) -> Result<Option<(User, SessionLiveness)>, RepoError>;
    async fn find_credentials_by_email(
        &self,
        email: &EmailAddress,
    ) -> Result<Option<Credentials>, RepoError>;
    async fn find_credentials_by_id(&self, id: UserId) -> Result<Option<Credentials>, RepoError>;
    /// Applies `changes`; `Ok(None)` when the user no longer exists.
    async fn update(
        &self,
        id: UserId,
        changes: UserChanges,
        now: OffsetDateTime,
    ) -> Result<Option<User>, RepoError>;
    /// Replaces a hash with a stronger one of the same password, unless it changed meanwhile.
    async fn upgrade_password_hash(
        &self,
        id: UserId,
        old: &StoredHash,
        new: &StoredHash,
    ) -> Result<(), RepoError>;
    /// Deletes the user and, by cascade, their sessions. `false` when there was no such user.
    async fn delete(&self, id: UserId) -> Result<bool, RepoError>;
}

#[async_trait]
pub trait SessionRepository: Send + Sync + std::fmt::Debug {
    /// Opens a session with its first refresh token, atomically.
    async fn create(&self, session: NewSession, root: NewRefreshToken) -> Result<(), RepoError>;
    /// Exchanges `presented` for `successor` in one transaction, unless the token is unknown,
    /// expired, already rotated, or its session is revoked or expired. Of any number of
    /// concurrent calls for one token, at most one rotates.
    async fn rotate(
        &self,
        presented: &RefreshTokenHash,
        successor: NewRefreshToken,
    ) -> Result<Rotation, RepoError>;
    async fn find_refresh_token(
        &self,
        hash: &RefreshTokenHash,
    ) -> Result<Option<RefreshTokenState>, RepoError>;
    /// Revokes one session, ending its refresh family.
    async fn revoke(&self, session: SessionId, now: OffsetDateTime) -> Result<(), RepoError>;
    /// Revokes every live session of the user except `keep`; returns how many were revoked.
    async fn revoke_all_except(
        &self,
        user: UserId,
        keep: Option<SessionId>,
        now: OffsetDateTime,
    ) -> Result<u64, RepoError>;
    /// The user's sessions that were not revoked, oldest first (expired ones included).
    async fn list_unrevoked(&self, user: UserId) -> Result<Vec<Session>, RepoError>;
}

#[async_trait]
pub trait AuditRepository: Send + Sync + std::fmt::Debug {
    async fn record(&self, event: &AuthEvent) -> Result<(), RepoError>;
    /// Every event of one user, oldest first.
    async fn for_user(&self, user: UserId) -> Result<Vec<AuthEvent>, RepoError>;
}

/// Per-email signin backoff. Times are unix seconds.
#[async_trait]
pub trait ThrottleRepository: Send + Sync + std::fmt::Debug {
    /// Until when signins for `email` are refused (0: not locked); `None` when the email has
    /// no recent failures on record at all.
    async fn locked_until(&self, email: &EmailAddress) -> Result<Option<i64>, RepoError>;
    /// Counts one more failure and returns the count, restarting from 1 when the previous
    /// failure was before `forget_before`.
    async fn record_failure(
        &self,
        email: &EmailAddress,
        now: i64,
        forget_before: i64,
    ) -> Result<i64, RepoError>;
    async fn lock(&self, email: &EmailAddress, until: i64) -> Result<(), RepoError>;
    /// Forgets the email's failures (after a successful signin).
    async fn clear(&self, email: &EmailAddress) -> Result<(), RepoError>;
}

/// Classifies a driver error: constraint conflicts and transient unavailability are answered
/// differently from genuine bugs.
fn classify(error: sqlx::Error) -> RepoError {
    match &error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => RepoError::Unavailable(error),
        sqlx::Error::Database(db) if db.is_unique_violation() => RepoError::Conflict,
        sqlx::Error::Database(db) if is_transient(db.as_ref()) => RepoError::Unavailable(error),
        _ => RepoError::Other(error),
    }
}

fn is_transient(error: &dyn sqlx::error::DatabaseError) -> bool {
    let Some(code) = error.code() else {
        return false;
    };
    if error.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        code.parse::<i32>().is_ok_and(is_transient_sqlite_code)
    } else {
        is_transient_sqlstate(&code)
    }
}

/// SQLite primary result codes BUSY (5), LOCKED (6), IOERR (10) and FULL (13), including
/// their extended forms (the primary code is the low byte).
fn is_transient_sqlite_code(code: i32) -> bool {
    matches!(code & 0xff, 5 | 6 | 10 | 13)
}

/// Postgres classes 08 (connection), 53 (resources), 57P (shutdown) and 40 (retry the
/// transaction: serialisation failure, deadlock).
fn is_transient_sqlstate(code: &str) -> bool {
    ["08", "53", "57P", "40"].iter().any(|class| code.starts_with(class))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_database_codes_are_recognised() {
        for code in [5, 261, 6, 13, 10, 3338] {
            assert!(is_transient_sqlite_code(code), "{code}");
        }
        for code in [2067, 19, 1, 787] {
            assert!(!is_transient_sqlite_code(code), "{code}");
        }
        for code in ["08006", "53300", "57P01", "40001", "40P01"] {
            assert!(is_transient_sqlstate(code), "{code}");
        }
        for code in ["23505", "42P01", "22021", "23503"] {
            assert!(!is_transient_sqlstate(code), "{code}");
        }
    }
}
