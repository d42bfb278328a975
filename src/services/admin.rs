//! What operators do to accounts from the command line (`warren users …`): find, list,
//! deactivate, activate, sign out everywhere, delete. Each change is recorded in the audit
//! trail under a `cli_` event kind, the command line being its actor. Running instances see the
//! change on their next request, since every request reads the account from the database, and
//! their open event sockets hear of it through the database's event channel (Postgres: NOTIFY;
//! SQLite: a notice left in the database file, which the serving process polls).

use std::sync::Arc;

use uuid::Uuid;

use super::{AccountEvent, AuditLog, ClientContext, Publisher};
use crate::core::clock::Clock;
use crate::domain::{AuthEventKind, EmailAddress, User, UserId};
use crate::repositories::{RepoError, SessionRepository, UserRepository};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Neither a user id nor an email address: the operator mistyped.
    #[error("{0:?} is neither a user id nor an email address")]
    BadTarget(String),
    #[error("no account matches {0:?}")]
    NotFound(String),
    #[error("storage: {0}")]
    Storage(#[from] RepoError),
}

/// An account as named on the command line: its id, or its email in any case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountRef {
    Id(UserId),
    Email(EmailAddress),
}

impl AccountRef {
    pub fn parse(text: &str) -> Result<Self, AdminError> {
        if let Ok(uuid) = Uuid::try_parse(text.trim()) {
            return Ok(Self::Id(UserId::from_uuid(uuid)));
        }
        EmailAddress::parse(text)
            .map(Self::Email)
            .map_err(|_| AdminError::BadTarget(text.to_owned()))
    }
}

#[derive(Debug)]
pub struct AdminService {
    users: Arc<dyn UserRepository>,
    sessions: Arc<dyn SessionRepository>,
    audit: AuditLog,
    events: Publisher,
    clock: Arc<dyn Clock>,
}

impl AdminService {
    pub fn new(
        users: Arc<dyn UserRepository>,
        sessions: Arc<dyn SessionRepository>,
        audit: AuditLog,
        events: Publisher,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { users, sessions, audit, events, clock }
    }

    pub async fn list(&self, query: Option<&str>, limit: u32) -> Result<Vec<User>, AdminError> {
        Ok(self.users.list(query, limit).await?)
    }

    pub async fn find(&self, target: &AccountRef) -> Result<User, AdminError> {
        let found = match target {
            AccountRef::Id(id) => self.users.find_by_id(*id).await?,
            AccountRef::Email(email) => self.users.find_by_email(email).await?,
        };
        found.ok_or_else(|| AdminError::NotFound(target.to_string()))
    }

    /// Activates or deactivates the account; a deactivated one signs in like a wrong password
    /// and its tokens stop working, because both paths check `is_active`.
    pub async fn set_active(&self, target: &AccountRef, active: bool) -> Result<User, AdminError> {
        let user = self.find(target).await?;
        let updated = self.users.set_active(user.id, active, self.clock.now()).await?;
        let updated = updated.ok_or_else(|| AdminError::NotFound(target.to_string()))?;
        let kind = if active { AuthEventKind::CliActivated } else { AuthEventKind::CliDeactivated };
        self.record(kind, &updated).await;
        if !active {
            self.events.publish(AccountEvent::CredentialsChanged, updated.id).await;
        }
        Ok(updated)
    }

    /// Revokes every session and bumps the token version; returns how many sessions were live.
    pub async fn sign_out(&self, target: &AccountRef) -> Result<(User, u64), AdminError> {
        let user = self.find(target).await?;
        let revoked = self.sessions.revoke_all(user.id, self.clock.now()).await?;
        self.record(AuthEventKind::CliSignedOut, &user).await;
        self.events.publish(AccountEvent::CredentialsChanged, user.id).await;
        Ok((user, revoked))
    }

    /// Deletes the account with its sessions; its audit events stay, under its bare id.
    pub async fn delete(&self, target: &AccountRef) -> Result<User, AdminError> {
        let user = self.find(target).await?;
        if !self.users.delete(user.id).await? {
            return Err(AdminError::NotFound(target.to_string()));
        }
        self.record(AuthEventKind::CliDeleted, &user).await;
        self.events.publish(AccountEvent::AccountDeleted, user.id).await;
        Ok(user)
    }

    async fn record(&self, kind: AuthEventKind, user: &User) {
        self.audit.record(kind, Some(user.id), None, &ClientContext::default()).await;
    }
}

impl std::fmt::Display for AccountRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Id(id) => id.fmt(f),
            Self::Email(email) => f.write_str(email.as_str()),
        }
    }
}
