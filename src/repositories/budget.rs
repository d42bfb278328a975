//! A time budget on every repository call, so a database that refuses connections or stops
//! answering (a cut network, a hung server) costs a request a bounded wait and a 503 — not a
//! TCP timeout. Applied once, around whichever backend was chosen, by wrapping each repository
//! in [`Budgeted`]. A call that runs out of time is cancelled; the `Writer` it may have held
//! closes its connection, rolling back anything unfinished.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{
    AuditEntry, AuditQuery, AuditRepository, AvatarRepository, ClientRepository, Credentials,
    EmailRepository, LinkUse, MfaChange, MfaRepository, MfaStatus, NewAvatar, NewChallenge,
    NewRefreshToken, NewSession, NewUserRecord, PasswordReset, Prune, PruneLock, RefreshTokenState,
    RepoError, Reservation, RetentionRepository, Rotation, SessionLiveness, SessionRepository,
    StoredAvatar, ThrottleRepository, TotpEnrolment, UserChanges, UserRepository,
};
use crate::domain::{
    AuthEvent, BackoffPolicy, ClaimedMail, ClientId, EmailAddress, LinkTokenHash, OutgoingMail,
    RefreshTokenHash, SecretHash, ServiceClient, Session, SessionId, StoredHash, User, UserId,
};

/// A repository whose every call must finish within `budget`.
#[derive(Debug)]
pub(super) struct Budgeted<R: ?Sized> {
    inner: Arc<R>,
    budget: Duration,
}

impl<R: ?Sized> Budgeted<R> {
    pub(super) fn new(inner: Arc<R>, budget: Duration) -> Self {
        Self { inner, budget }
    }

    async fn run<T>(
        &self,
        call: impl Future<Output = Result<T, RepoError>> + Send,
    ) -> Result<T, RepoError> {
        tokio::time::timeout(self.budget, call).await.unwrap_or(Err(RepoError::TimedOut))
    }
}

#[async_trait]
impl UserRepository for Budgeted<dyn UserRepository> {
    async fn insert(&self, user: NewUserRecord) -> Result<User, RepoError> {
        self.run(self.inner.insert(user)).await
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, RepoError> {
        self.run(self.inner.find_by_id(id)).await
    }

    async fn find_by_email(&self, email: &EmailAddress) -> Result<Option<User>, RepoError> {
        self.run(self.inner.find_by_email(email)).await
    }

    async fn list(
        &self,
        query: Option<&str>,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<User>, RepoError> {
        self.run(self.inner.list(query, after, limit)).await
    }

    async fn find_with_session(
        &self,
        id: UserId,
        session: SessionId,
    ) -> Result<Option<(User, SessionLiveness)>, RepoError> {
        self.run(self.inner.find_with_session(id, session)).await
    }

    async fn find_credentials_by_email(
        &self,
        email: &EmailAddress,
    ) -> Result<Option<Credentials>, RepoError> {
        self.run(self.inner.find_credentials_by_email(email)).await
    }

    async fn find_credentials_by_id(&self, id: UserId) -> Result<Option<Credentials>, RepoError> {
        self.run(self.inner.find_credentials_by_id(id)).await
    }

    async fn update(
        &self,
        id: UserId,
        changes: UserChanges,
        now: OffsetDateTime,
    ) -> Result<Option<User>, RepoError> {
        self.run(self.inner.update(id, changes, now)).await
    }

    async fn upgrade_password_hash(
        &self,
        id: UserId,
        old: &StoredHash,
        new: &StoredHash,
    ) -> Result<(), RepoError> {
        self.run(self.inner.upgrade_password_hash(id, old, new)).await
    }

    async fn set_active(
        &self,
        id: UserId,
        active: bool,
        now: OffsetDateTime,
    ) -> Result<Option<User>, RepoError> {
        self.run(self.inner.set_active(id, active, now)).await
    }

    async fn delete(&self, id: UserId) -> Result<bool, RepoError> {
        self.run(self.inner.delete(id)).await
    }
}

#[async_trait]
impl SessionRepository for Budgeted<dyn SessionRepository> {
    async fn create(&self, session: NewSession, root: NewRefreshToken) -> Result<(), RepoError> {
        self.run(self.inner.create(session, root)).await
    }

    async fn rotate(
        &self,
        presented: &RefreshTokenHash,
        successor: NewRefreshToken,
    ) -> Result<Rotation, RepoError> {
        self.run(self.inner.rotate(presented, successor)).await
    }

    async fn find_refresh_token(
        &self,
        hash: &RefreshTokenHash,
    ) -> Result<Option<RefreshTokenState>, RepoError> {
        self.run(self.inner.find_refresh_token(hash)).await
    }

    async fn revoke(&self, session: SessionId, now: OffsetDateTime) -> Result<bool, RepoError> {
        self.run(self.inner.revoke(session, now)).await
    }

    async fn revoke_all(&self, user: UserId, now: OffsetDateTime) -> Result<u64, RepoError> {
        self.run(self.inner.revoke_all(user, now)).await
    }

    async fn list_live(
        &self,
        user: UserId,
        now: OffsetDateTime,
    ) -> Result<Vec<Session>, RepoError> {
        self.run(self.inner.list_live(user, now)).await
    }
}

#[async_trait]
impl AuditRepository for Budgeted<dyn AuditRepository> {
    async fn record(&self, event: &AuthEvent) -> Result<(), RepoError> {
        self.run(self.inner.record(event)).await
    }

    async fn for_user(&self, user: UserId) -> Result<Vec<AuthEvent>, RepoError> {
        self.run(self.inner.for_user(user)).await
    }

    async fn list(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, RepoError> {
        self.run(self.inner.list(query)).await
    }
}

#[async_trait]
impl ClientRepository for Budgeted<dyn ClientRepository> {
    async fn insert(
        &self,
        client: &ServiceClient,
        secret_hash: &SecretHash,
    ) -> Result<(), RepoError> {
        self.run(self.inner.insert(client, secret_hash)).await
    }

    async fn find(&self, id: ClientId) -> Result<Option<(ServiceClient, SecretHash)>, RepoError> {
        self.run(self.inner.find(id)).await
    }

    async fn list(&self) -> Result<Vec<ServiceClient>, RepoError> {
        self.run(self.inner.list()).await
    }

    async fn delete(&self, id: ClientId) -> Result<bool, RepoError> {
        self.run(self.inner.delete(id)).await
    }
}

#[async_trait]
impl ThrottleRepository for Budgeted<dyn ThrottleRepository> {
    async fn reserve(
        &self,
        email: &EmailAddress,
        now: OffsetDateTime,
        policy: &BackoffPolicy,
    ) -> Result<Reservation, RepoError> {
        self.run(self.inner.reserve(email, now, policy)).await
    }

    async fn release(&self, email: &EmailAddress, policy: &BackoffPolicy) -> Result<(), RepoError> {
        self.run(self.inner.release(email, policy)).await
    }

    async fn clear(&self, email: &EmailAddress) -> Result<(), RepoError> {
        self.run(self.inner.clear(email)).await
    }
}

#[async_trait]
impl EmailRepository for Budgeted<dyn EmailRepository> {
    async fn issue_link(&self, link: LinkUse, now: OffsetDateTime) -> Result<bool, RepoError> {
        self.run(self.inner.issue_link(link, now)).await
    }

    async fn queue(&self, mail: OutgoingMail, now: OffsetDateTime) -> Result<(), RepoError> {
        self.run(self.inner.queue(mail, now)).await
    }

    async fn verify_email(
        &self,
        token: &LinkTokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<User>, RepoError> {
        self.run(self.inner.verify_email(token, now)).await
    }

    async fn reset_password(
        &self,
        token: &LinkTokenHash,
        reset: PasswordReset,
        now: OffsetDateTime,
    ) -> Result<Option<User>, RepoError> {
        self.run(self.inner.reset_password(token, reset, now)).await
    }

    async fn confirm_email_change(
        &self,
        token: &LinkTokenHash,
        notice: OutgoingMail,
        now: OffsetDateTime,
    ) -> Result<Option<User>, RepoError> {
        self.run(self.inner.confirm_email_change(token, notice, now)).await
    }

    async fn claim(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<ClaimedMail>, RepoError> {
        self.run(self.inner.claim(now, lease_until, limit)).await
    }

    async fn mark_sent(&self, id: uuid::Uuid, now: OffsetDateTime) -> Result<(), RepoError> {
        self.run(self.inner.mark_sent(id, now)).await
    }

    async fn settle_failure(
        &self,
        id: uuid::Uuid,
        at: Option<OffsetDateTime>,
        error: &str,
    ) -> Result<(), RepoError> {
        self.run(self.inner.settle_failure(id, at, error)).await
    }

    async fn release(&self, id: uuid::Uuid) -> Result<(), RepoError> {
        self.run(self.inner.release(id)).await
    }

    async fn backlog(&self) -> Result<u64, RepoError> {
        self.run(self.inner.backlog()).await
    }
}

#[async_trait]
impl AvatarRepository for Budgeted<dyn AvatarRepository> {
    async fn replace(
        &self,
        user: UserId,
        avatar: NewAvatar,
        now: OffsetDateTime,
    ) -> Result<Option<User>, RepoError> {
        self.run(self.inner.replace(user, avatar, now)).await
    }

    async fn remove(&self, user: UserId, now: OffsetDateTime) -> Result<Option<User>, RepoError> {
        self.run(self.inner.remove(user, now)).await
    }

    async fn find(&self, name: &str) -> Result<Option<StoredAvatar>, RepoError> {
        self.run(self.inner.find(name)).await
    }
}

#[async_trait]
impl MfaRepository for Budgeted<dyn MfaRepository> {
    async fn start_enrolment(
        &self,
        user: UserId,
        secret: &[u8],
        now: OffsetDateTime,
    ) -> Result<(), RepoError> {
        self.run(self.inner.start_enrolment(user, secret, now)).await
    }

    async fn find_totp(&self, user: UserId) -> Result<Option<TotpEnrolment>, RepoError> {
        self.run(self.inner.find_totp(user)).await
    }

    async fn confirm(&self, change: MfaChange<'_>, step: i64) -> Result<bool, RepoError> {
        self.run(self.inner.confirm(change, step)).await
    }

    async fn use_step(&self, user: UserId, step: i64) -> Result<bool, RepoError> {
        self.run(self.inner.use_step(user, step)).await
    }

    async fn use_recovery_code(
        &self,
        change: MfaChange<'_>,
        code: &SecretHash,
    ) -> Result<bool, RepoError> {
        self.run(self.inner.use_recovery_code(change, code)).await
    }

    async fn replace_recovery_codes(&self, change: MfaChange<'_>) -> Result<bool, RepoError> {
        self.run(self.inner.replace_recovery_codes(change)).await
    }

    async fn disable(&self, change: MfaChange<'_>) -> Result<bool, RepoError> {
        self.run(self.inner.disable(change)).await
    }

    async fn status(&self, user: UserId) -> Result<MfaStatus, RepoError> {
        self.run(self.inner.status(user)).await
    }

    async fn create_challenge(&self, challenge: NewChallenge) -> Result<(), RepoError> {
        self.run(self.inner.create_challenge(challenge)).await
    }

    async fn find_challenge(
        &self,
        hash: &SecretHash,
        now: OffsetDateTime,
        max_failures: i64,
    ) -> Result<Option<UserId>, RepoError> {
        self.run(self.inner.find_challenge(hash, now, max_failures)).await
    }

    async fn fail_challenge(&self, hash: &SecretHash) -> Result<(), RepoError> {
        self.run(self.inner.fail_challenge(hash)).await
    }

    async fn spend_challenge(
        &self,
        hash: &SecretHash,
        now: OffsetDateTime,
        max_failures: i64,
    ) -> Result<Option<UserId>, RepoError> {
        self.run(self.inner.spend_challenge(hash, now, max_failures)).await
    }
}

#[async_trait]
impl RetentionRepository for Budgeted<dyn RetentionRepository> {
    async fn try_lock(&self) -> Result<Option<PruneLock>, RepoError> {
        self.run(self.inner.try_lock()).await
    }

    async fn prune(
        &self,
        rule: Prune,
        cutoff: OffsetDateTime,
        limit: u32,
    ) -> Result<u64, RepoError> {
        self.run(self.inner.prune(rule, cutoff, limit)).await
    }
}
