//! Storage: one trait per aggregate, one implementation per database (`sqlite/`, `postgres/`),
//! chosen once at startup by [`Database::connect`] from the URL scheme. Each backend writes its
//! own SQL plainly, in its own dialect; `tests/repositories.rs` runs one contract suite against
//! both, which is what keeps them in step. Rows become domain values only through the domain's
//! parsers, so a corrupted row cannot produce an invalid `User`.
//!
//! The rule for writes, in both backends: every write runs in an explicit transaction that is
//! committed before the method returns (see `sqlite::Writer` / `postgres::Writer`), so nothing
//! is acknowledged that a failed commit could still undo, and a connection whose write failed
//! is closed rather than reused.

mod authentication;
mod budget;
mod database;
mod errors;
mod events;
mod hot_path;
mod pool;
mod postgres;
mod rate_limits;
mod records;
mod retention;
mod rows;
mod sqlite;
mod writer;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::domain::{
    AuthEvent, AuthEventKind, BackoffPolicy, ClaimedMail, ClientId, EmailAddress, LinkTokenHash,
    OutgoingMail, RefreshTokenHash, SecretHash, ServiceClient, Session, SessionId, StoredHash,
    User, UserId,
};

pub use database::{Backend, Database, MigrationStatus, NotReady, Repositories};
pub use errors::RepoError;
pub use events::{EventChannel, Incoming, LocalChannel};
#[doc(hidden)]
pub use hot_path::{HotStatement, SampleBind, hot_path_statements};
pub use rate_limits::{RateLimitRepository, SharedQuota, Verdict, shared_rate_limits};
pub use records::{
    Credentials, NewAvatar, NewRefreshToken, NewSession, NewUserRecord, PasswordChange,
    RefreshTokenState, Reservation, Rotation, SessionLiveness, StoredAvatar, UserChanges,
};
pub use records::{LinkUse, PasswordReset};
pub use records::{MfaChange, MfaStatus, NewChallenge, TotpEnrolment};
pub use retention::{EXPIRING_TABLES, MAX_PRUNE_BATCH, OUTBOX_TABLES, Prune, PruneLock};
pub use sqlite::SqlitePools;

/// `query` as a `LIKE` pattern matching it anywhere, its own `%`, `_` and `\` taken literally
/// (both backends' statements say `ESCAPE '\'`).
pub(crate) fn contains_pattern(query: &str) -> String {
    let mut pattern = String::with_capacity(query.len() + 2);
    pattern.push('%');
    for character in query.chars() {
        if matches!(character, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(character);
    }
    pattern.push('%');
    pattern
}

#[async_trait]
pub trait UserRepository: Send + Sync + std::fmt::Debug {
    /// Inserts a user; `RepoError::Conflict` when the email is taken.
    async fn insert(&self, user: NewUserRecord) -> Result<User, RepoError>;
    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, RepoError>;
    async fn find_by_email(&self, email: &EmailAddress) -> Result<Option<User>, RepoError>;
    /// Up to `limit` users with ids greater than `after`, in id order (ids are UUID v7, so
    /// oldest first), whose email or name contains `query` (any case); every user when `query`
    /// is `None`. Paged by id, never by offset, so a page costs the same wherever it starts.
    async fn list(
        &self,
        query: Option<&str>,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<User>, RepoError>;
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
    /// Applies `changes` in one transaction: a password change also bumps the token version and
    /// revokes every session but the one kept. `Ok(None)` when the user no longer exists;
    /// `RepoError::Conflict` when the new email is taken.
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
    /// Activates or deactivates the account; `Ok(None)` when there is no such user.
    async fn set_active(
        &self,
        id: UserId,
        active: bool,
        now: OffsetDateTime,
    ) -> Result<Option<User>, RepoError>;
    /// Deletes the user, their sessions and refresh tokens (by cascade) and their email's signin
    /// backoff, in one transaction. `false` when there was no such user.
    async fn delete(&self, id: UserId) -> Result<bool, RepoError>;
}

/// Avatar images, one per user. The user's `avatar_name` and the image change together, so a
/// name is served exactly while it is some account's current avatar.
#[async_trait]
pub trait AvatarRepository: Send + Sync + std::fmt::Debug {
    /// Stores `avatar` as the user's only avatar and points the user at it, in one
    /// transaction (the previous image goes in it too). `Ok(None)` when the user is gone.
    async fn replace(
        &self,
        user: UserId,
        avatar: NewAvatar,
        now: OffsetDateTime,
    ) -> Result<Option<User>, RepoError>;
    /// Removes the user's avatar, if any; `Ok(None)` when the user is gone.
    async fn remove(&self, user: UserId, now: OffsetDateTime) -> Result<Option<User>, RepoError>;
    /// The avatar currently named `name`, if any account has it.
    async fn find(&self, name: &str) -> Result<Option<StoredAvatar>, RepoError>;
}

#[async_trait]
pub trait SessionRepository: Send + Sync + std::fmt::Debug {
    /// Opens a session with its first refresh token, atomically. `RepoError::Gone` when the
    /// user no longer exists or is inactive (a signin racing the account's deletion).
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
    /// Revokes one session, ending its refresh family; `false` when it already was revoked.
    async fn revoke(&self, session: SessionId, now: OffsetDateTime) -> Result<bool, RepoError>;
    /// Signs the user out everywhere in one transaction: every session revoked and the token
    /// version bumped. Returns how many sessions were live.
    async fn revoke_all(&self, user: UserId, now: OffsetDateTime) -> Result<u64, RepoError>;
    /// The user's sessions that are neither revoked nor expired at `now` (absolute expiry, or
    /// the current refresh token unused past its idle expiry), oldest first.
    async fn list_live(&self, user: UserId, now: OffsetDateTime)
    -> Result<Vec<Session>, RepoError>;
}

#[async_trait]
pub trait AuditRepository: Send + Sync + std::fmt::Debug {
    async fn record(&self, event: &AuthEvent) -> Result<(), RepoError>;
    /// Every event of one user, oldest first.
    async fn for_user(&self, user: UserId) -> Result<Vec<AuthEvent>, RepoError>;
    /// Up to `query.limit` events matching the query, newest first (for the admin API).
    async fn list(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, RepoError>;
}

/// A page of the audit trail: events of one user and/or kind, older than the event `before`.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub user: Option<UserId>,
    pub kind: Option<AuthEventKind>,
    /// An event id (UUID v7, so ids order events in time): only older events are listed.
    pub before: Option<uuid::Uuid>,
    pub limit: u32,
}

/// A stored event with its id, which pages the trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: uuid::Uuid,
    pub event: AuthEvent,
}

/// Service clients (OAuth 2.0 client credentials). The secret is stored as a keyed hash only.
#[async_trait]
pub trait ClientRepository: Send + Sync + std::fmt::Debug {
    async fn insert(
        &self,
        client: &ServiceClient,
        secret_hash: &SecretHash,
    ) -> Result<(), RepoError>;
    /// The client with its secret's stored hash.
    async fn find(&self, id: ClientId) -> Result<Option<(ServiceClient, SecretHash)>, RepoError>;
    /// Every client, oldest first.
    async fn list(&self) -> Result<Vec<ServiceClient>, RepoError>;
    /// `false` when there was no such client.
    async fn delete(&self, id: ClientId) -> Result<bool, RepoError>;
}

/// The per-email backoff on password checks (signin and re-authentication). An attempt is
/// counted *before* the password is verified ("reserve"), so concurrent guesses cannot all
/// slip through between a check and a record; the outcome then settles it.
#[async_trait]
pub trait ThrottleRepository: Send + Sync + std::fmt::Debug {
    /// Counts one attempt for `email` unless it is locked at `now`, and locks it as `policy`
    /// says once the count reaches the threshold. Atomic under concurrency.
    async fn reserve(
        &self,
        email: &EmailAddress,
        now: OffsetDateTime,
        policy: &BackoffPolicy,
    ) -> Result<Reservation, RepoError>;
    /// Gives one reserved attempt back (a successful re-authentication), lifting the lock when
    /// the count falls below the threshold.
    async fn release(&self, email: &EmailAddress, policy: &BackoffPolicy) -> Result<(), RepoError>;
    /// Forgets every attempt (a completed signin or a password reset).
    async fn clear(&self, email: &EmailAddress) -> Result<(), RepoError>;
}

/// Email links and the outbox. Every message is inserted in the transaction of the
/// change that causes it; the dispatcher then claims, delivers and settles it.
#[async_trait]
pub trait EmailRepository: Send + Sync + std::fmt::Debug {
    /// Queues the link's message and stores the link (ending the user's older links of that
    /// purpose), in one transaction. Does nothing and answers `false` when the message is
    /// held back by the resend interval (see [`OutgoingMail::quiet_since`]).
    async fn issue_link(&self, link: LinkUse, now: OffsetDateTime) -> Result<bool, RepoError>;
    /// Queues a message on its own (a notice).
    async fn queue(&self, mail: OutgoingMail, now: OffsetDateTime) -> Result<(), RepoError>;
    /// Spends a verification link: the address it was sent to becomes verified, if it is
    /// still the account's. `None` for an unknown, used, expired or wrong-purpose token.
    async fn verify_email(
        &self,
        token: &LinkTokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<User>, RepoError>;
    /// Spends a reset link and applies `reset` in one transaction (see [`PasswordReset`]).
    async fn reset_password(
        &self,
        token: &LinkTokenHash,
        reset: PasswordReset,
        now: OffsetDateTime,
    ) -> Result<Option<User>, RepoError>;
    /// Spends an email-change link: the new address replaces the old, `notice` goes to the old
    /// one. `RepoError::Conflict` (nothing spent) when the address was taken meanwhile.
    async fn confirm_email_change(
        &self,
        token: &LinkTokenHash,
        notice: OutgoingMail,
        now: OffsetDateTime,
    ) -> Result<Option<User>, RepoError>;
    /// Claims up to `limit` due messages until `lease_until`; several dispatchers never claim
    /// the same row at once. Each claim counts as an attempt.
    async fn claim(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<ClaimedMail>, RepoError>;
    /// Marks a message delivered and deletes its body.
    async fn mark_sent(&self, id: uuid::Uuid, now: OffsetDateTime) -> Result<(), RepoError>;
    /// Schedules another attempt at `at`, or gives up (`at` is `None`): failed for good.
    async fn settle_failure(
        &self,
        id: uuid::Uuid,
        at: Option<OffsetDateTime>,
        error: &str,
    ) -> Result<(), RepoError>;
    /// Gives a claimed, unattempted message back (a dispatcher shutting down).
    async fn release(&self, id: uuid::Uuid) -> Result<(), RepoError>;
    /// Messages still to be delivered (pending, claimed or waiting for a retry).
    async fn backlog(&self) -> Result<u64, RepoError>;
}

/// Two-factor sign-in: TOTP enrolments, recovery codes and signin challenges. Every
/// "use once" rule is a conditional write whose affected rows decide, so racing requests
/// cannot both succeed.
#[async_trait]
pub trait MfaRepository: Send + Sync + std::fmt::Debug {
    /// Stores a pending enrolment with the encrypted `secret`, replacing a pending one.
    /// `RepoError::Conflict` when MFA is already on; `RepoError::Gone` when the user is gone.
    async fn start_enrolment(
        &self,
        user: UserId,
        secret: &[u8],
        now: OffsetDateTime,
    ) -> Result<(), RepoError>;
    async fn find_totp(&self, user: UserId) -> Result<Option<TotpEnrolment>, RepoError>;
    /// Confirms the pending enrolment with a code of `step`, in one transaction: MFA on, the
    /// change's recovery codes replace any others, its notice queued. `false` (nothing changed)
    /// when nothing is pending or `step` is not newer than the last one used.
    async fn confirm(&self, change: MfaChange<'_>, step: i64) -> Result<bool, RepoError>;
    /// Accepts a code of `step` for a confirmed enrolment unless that step, or a later one, was
    /// used already.
    async fn use_step(&self, user: UserId, step: i64) -> Result<bool, RepoError>;
    /// Spends one of the user's recovery codes and queues the change's notice; `false` when it
    /// is not an unused code of theirs.
    async fn use_recovery_code(
        &self,
        change: MfaChange<'_>,
        code: &SecretHash,
    ) -> Result<bool, RepoError>;
    /// Replaces every recovery code with the change's and queues its notice; `false` (nothing
    /// changed) when MFA is off.
    async fn replace_recovery_codes(&self, change: MfaChange<'_>) -> Result<bool, RepoError>;
    /// Switches MFA off: enrolment, recovery codes and open challenges go, the notice is
    /// queued. `false` when it was not on.
    async fn disable(&self, change: MfaChange<'_>) -> Result<bool, RepoError>;
    async fn status(&self, user: UserId) -> Result<MfaStatus, RepoError>;
    /// Stores a signin challenge (and forgets the user's expired ones).
    async fn create_challenge(&self, challenge: NewChallenge) -> Result<(), RepoError>;
    /// The user of a live challenge: unexpired at `now`, fewer than `max_failures` wrong codes.
    async fn find_challenge(
        &self,
        hash: &SecretHash,
        now: OffsetDateTime,
        max_failures: i64,
    ) -> Result<Option<UserId>, RepoError>;
    /// Counts one wrong code against a challenge.
    async fn fail_challenge(&self, hash: &SecretHash) -> Result<(), RepoError>;
    /// Spends a live challenge; of racing calls only one gets its user back.
    async fn spend_challenge(
        &self,
        hash: &SecretHash,
        now: OffsetDateTime,
        max_failures: i64,
    ) -> Result<Option<UserId>, RepoError>;
}

/// Retention: rows that have served their purpose go, a bounded batch per transaction.
#[async_trait]
pub trait RetentionRepository: Send + Sync + std::fmt::Debug {
    /// Takes the pruning lock, or `None` when another instance holds it.
    async fn try_lock(&self) -> Result<Option<PruneLock>, RepoError>;
    /// Deletes (or, for [`Prune::AuditAddresses`], erases) up to `limit` rows that `rule`
    /// selects at `cutoff`, never more than [`MAX_PRUNE_BATCH`], in one transaction. Returns
    /// how many it touched: fewer than asked means the rule is done for now.
    async fn prune(
        &self,
        rule: Prune,
        cutoff: OffsetDateTime,
        limit: u32,
    ) -> Result<u64, RepoError>;
}
