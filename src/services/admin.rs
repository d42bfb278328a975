//! What operators do to accounts, from the command line (`warren users …`) or, for a service
//! client, through the admin API: find, list, change, deactivate, activate, sign out
//! everywhere, delete. Both go through this one service, so both have the same effects. Each
//! change is recorded in the audit trail under a `cli_` kind (the command line acted) or an
//! `admin_` kind carrying the client's id; the admin API's reads are recorded too. Running
//! instances see a change on their next request, since every request reads the account from
//! the database, and their open event sockets hear of it through the database's event channel
//! (Postgres: NOTIFY; SQLite: a notice left in the database file, which the serving process
//! polls).

use std::sync::Arc;

use uuid::Uuid;

use super::{AccountEvent, AuditLog, ClientContext, Publisher};
use crate::core::clock::Clock;
use crate::domain::{AuthEventKind, ClientId, EmailAddress, FullName, User, UserId};
use crate::repositories::{
    AuditEntry, AuditQuery, RepoError, SessionRepository, UserChanges, UserRepository,
};

/// The largest page of accounts or audit events one call returns.
pub const MAX_PAGE: u32 = 100;

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

/// Who acts: the command line, or a service client through the admin API (with where its
/// request came from).
#[derive(Debug, Clone)]
pub enum Actor {
    Cli,
    Client { id: ClientId, context: ClientContext },
}

/// One page of accounts in id order; `next` continues after the last one, if any are left.
#[derive(Debug)]
pub struct UserPage {
    pub users: Vec<User>,
    pub next: Option<UserId>,
}

/// One page of audit events, newest first; `next` continues before the last one.
#[derive(Debug)]
pub struct AuditPage {
    pub events: Vec<AuditEntry>,
    pub next: Option<Uuid>,
}

/// Changes to an account; `None` leaves a field as it is, `full_name: Some(None)` clears it.
#[derive(Debug, Default)]
pub struct AdminUpdate {
    pub is_active: Option<bool>,
    pub email_verified: Option<bool>,
    pub full_name: Option<Option<FullName>>,
}

#[derive(Debug)]
pub struct AdminService {
    users: Arc<dyn UserRepository>,
    sessions: Arc<dyn SessionRepository>,
    audit: Arc<AuditLog>,
    events: Publisher,
    clock: Arc<dyn Clock>,
}

impl AdminService {
    pub fn new(
        users: Arc<dyn UserRepository>,
        sessions: Arc<dyn SessionRepository>,
        audit: Arc<AuditLog>,
        events: Publisher,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { users, sessions, audit, events, clock }
    }

    /// Up to `limit` (at most [`MAX_PAGE`]) accounts after `after`, in id order: oldest first.
    pub async fn list(
        &self,
        query: Option<&str>,
        after: Option<UserId>,
        limit: u32,
        actor: &Actor,
    ) -> Result<UserPage, AdminError> {
        let limit = limit.clamp(1, MAX_PAGE);
        // One more than asked for says whether another page exists.
        let mut users = self.users.list(query, after, limit + 1).await?;
        let next = if users.len() > limit as usize {
            users.truncate(limit as usize);
            users.last().map(|user| user.id)
        } else {
            None
        };
        self.record_read(None, actor).await;
        Ok(UserPage { users, next })
    }

    pub async fn find(&self, target: &AccountRef) -> Result<User, AdminError> {
        let found = match target {
            AccountRef::Id(id) => self.users.find_by_id(*id).await?,
            AccountRef::Email(email) => self.users.find_by_email(email).await?,
        };
        found.ok_or_else(|| AdminError::NotFound(target.to_string()))
    }

    /// [`Self::find`], recorded as a read when a client asks.
    pub async fn show(&self, target: &AccountRef, actor: &Actor) -> Result<User, AdminError> {
        let user = self.find(target).await?;
        self.record_read(Some(user.id), actor).await;
        Ok(user)
    }

    /// Activates or deactivates the account; a deactivated one signs in like a wrong password
    /// and its tokens stop working, because both paths check `is_active`.
    pub async fn set_active(
        &self,
        target: &AccountRef,
        active: bool,
        actor: &Actor,
    ) -> Result<User, AdminError> {
        let user = self.find(target).await?;
        let updated = self.users.set_active(user.id, active, self.clock.now()).await?;
        let updated = updated.ok_or_else(|| AdminError::NotFound(target.to_string()))?;
        let kind = match (active, actor) {
            (true, Actor::Cli) => AuthEventKind::CliActivated,
            (false, Actor::Cli) => AuthEventKind::CliDeactivated,
            (true, Actor::Client { .. }) => AuthEventKind::AdminActivated,
            (false, Actor::Client { .. }) => AuthEventKind::AdminDeactivated,
        };
        self.record(kind, updated.id, actor).await;
        if !active {
            self.events.publish(AccountEvent::CredentialsChanged, updated.id).await;
        }
        Ok(updated)
    }

    /// Applies `update`: activation as [`Self::set_active`] does it, then the profile fields.
    pub async fn update(
        &self,
        target: &AccountRef,
        update: AdminUpdate,
        actor: &Actor,
    ) -> Result<User, AdminError> {
        let mut user = self.find(target).await?;
        if let Some(active) = update.is_active {
            user = self.set_active(&AccountRef::Id(user.id), active, actor).await?;
        }
        if update.email_verified.is_none() && update.full_name.is_none() {
            return Ok(user);
        }
        let changes = UserChanges {
            full_name: update.full_name,
            email_verified: update.email_verified,
            ..UserChanges::default()
        };
        let updated = self.users.update(user.id, changes, self.clock.now()).await?;
        let updated = updated.ok_or_else(|| AdminError::NotFound(target.to_string()))?;
        self.record(AuthEventKind::AdminUpdated, updated.id, actor).await;
        self.events.publish(AccountEvent::UserUpdated, updated.id).await;
        Ok(updated)
    }

    /// Revokes every session and bumps the token version; returns how many sessions were live.
    pub async fn sign_out(
        &self,
        target: &AccountRef,
        actor: &Actor,
    ) -> Result<(User, u64), AdminError> {
        let user = self.find(target).await?;
        let revoked = self.sessions.revoke_all(user.id, self.clock.now()).await?;
        let kind = match actor {
            Actor::Cli => AuthEventKind::CliSignedOut,
            Actor::Client { .. } => AuthEventKind::AdminSignedOut,
        };
        self.record(kind, user.id, actor).await;
        self.events.publish(AccountEvent::CredentialsChanged, user.id).await;
        Ok((user, revoked))
    }

    /// Deletes the account with its sessions; its audit events stay, under its bare id.
    pub async fn delete(&self, target: &AccountRef, actor: &Actor) -> Result<User, AdminError> {
        let user = self.find(target).await?;
        if !self.users.delete(user.id).await? {
            return Err(AdminError::NotFound(target.to_string()));
        }
        let kind = match actor {
            Actor::Cli => AuthEventKind::CliDeleted,
            Actor::Client { .. } => AuthEventKind::AdminDeleted,
        };
        self.record(kind, user.id, actor).await;
        self.events.publish(AccountEvent::AccountDeleted, user.id).await;
        Ok(user)
    }

    /// A page of the audit trail, newest first (at most [`MAX_PAGE`] events).
    pub async fn audit(&self, query: AuditQuery, actor: &Actor) -> Result<AuditPage, AdminError> {
        let limit = query.limit.clamp(1, MAX_PAGE);
        let mut events = self.audit.list(&AuditQuery { limit: limit + 1, ..query.clone() }).await?;
        let next = if events.len() > limit as usize {
            events.truncate(limit as usize);
            events.last().map(|entry| entry.id)
        } else {
            None
        };
        self.record_read(query.user, actor).await;
        Ok(AuditPage { events, next })
    }

    async fn record(&self, kind: AuthEventKind, user: UserId, actor: &Actor) {
        match actor {
            Actor::Cli => {
                self.audit.record(kind, Some(user), None, &ClientContext::default()).await;
            }
            Actor::Client { id, context } => {
                self.audit.record_for_client(kind, Some(user), *id, context).await;
            }
        }
    }

    /// The admin API's reads are recorded; the command line's are not (its operator has the
    /// database anyway).
    async fn record_read(&self, user: Option<UserId>, actor: &Actor) {
        if let Actor::Client { id, context } = actor {
            self.audit.record_for_client(AuthEventKind::AdminRead, user, *id, context).await;
        }
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
