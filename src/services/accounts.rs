//! Accounts: signing up, checking credentials at signin, changing and deleting.

use std::net::IpAddr;
use std::sync::Arc;

use super::sessions::{SessionService, SignedIn};
use crate::core::clock::Clock;
use crate::core::security::{HashError, PasswordHasher, Verification};
use crate::domain::{
    CandidatePassword, EmailAddress, FullName, Password, SessionId, StoredHash, User, UserId,
    ValidationErrors,
};
use crate::repositories::{NewUserRecord, RepoError, UserChanges, UserRepository};

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("the email address is already registered")]
    EmailTaken,
    /// Unknown email, wrong password and inactive account all look exactly like this.
    #[error("invalid email or password")]
    InvalidCredentials,
    #[error("the current password is wrong")]
    ReauthenticationFailed,
    #[error("missing, invalid or revoked access token")]
    Unauthenticated,
    #[error("unknown, expired or revoked refresh token")]
    InvalidRefreshToken,
    #[error(transparent)]
    Validation(#[from] ValidationErrors),
    #[error("the database is unavailable")]
    Unavailable(#[source] RepoError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<RepoError> for AccountError {
    fn from(error: RepoError) -> Self {
        match error {
            RepoError::Unavailable(_) => Self::Unavailable(error),
            other => Self::Internal(anyhow::Error::new(other).context("storage")),
        }
    }
}

impl From<HashError> for AccountError {
    fn from(error: HashError) -> Self {
        Self::Internal(anyhow::Error::new(error).context("password hashing"))
    }
}

/// Where a request came from, recorded on the session it creates.
#[derive(Debug, Clone, Default)]
pub struct ClientContext {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

#[derive(Debug)]
pub struct NewAccount {
    pub email: EmailAddress,
    pub password: Password,
    pub full_name: Option<FullName>,
}

/// The caller behind a verified access token.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: User,
    pub session_id: SessionId,
}

/// Changes to one's own profile. Changing `email` or `password` requires `current_password`.
#[derive(Debug, Default)]
pub struct ProfileUpdate {
    pub full_name: Option<Option<FullName>>,
    pub email: Option<EmailAddress>,
    pub password: Option<Password>,
    pub current_password: Option<CandidatePassword>,
}

impl ProfileUpdate {
    fn is_sensitive(&self) -> bool {
        self.email.is_some() || self.password.is_some()
    }

    fn is_empty(&self) -> bool {
        self.full_name.is_none() && !self.is_sensitive()
    }
}

#[derive(Debug)]
pub struct AccountService {
    users: Arc<dyn UserRepository>,
    sessions: Arc<SessionService>,
    hasher: PasswordHasher,
    clock: Arc<dyn Clock>,
}

impl AccountService {
    pub fn new(
        users: Arc<dyn UserRepository>,
        sessions: Arc<SessionService>,
        hasher: PasswordHasher,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { users, sessions, hasher, clock }
    }

    pub async fn sign_up(&self, account: NewAccount) -> Result<User, AccountError> {
        let password_hash = self.hasher.hash(&account.password).await?;
        let record = NewUserRecord {
            id: UserId::generate(),
            email: account.email,
            full_name: account.full_name,
            password_hash,
            created_at: self.clock.now(),
        };
        let user = self.users.insert(record).await.map_err(email_conflict)?;
        tracing::info!(audit = "signup", user_id = %user.id, "account created");
        Ok(user)
    }

    /// Checks the password and opens a session. Every failure is the same `InvalidCredentials`
    /// and costs one hash verification, whether or not the account exists.
    pub async fn sign_in(
        &self,
        email: &EmailAddress,
        password: &CandidatePassword,
        client: ClientContext,
    ) -> Result<SignedIn, AccountError> {
        let credentials = self.users.find_credentials_by_email(email).await?;
        let stored = credentials.as_ref().map(|c| &c.password_hash);
        let verification = self.hasher.verify(password, stored).await?;
        let (credentials, needs_rehash) = match (credentials, verification) {
            (Some(c), Verification::Valid { needs_rehash }) if c.user.is_active => {
                (c, needs_rehash)
            }
            (found, _) => {
                let user_id = found.map(|c| c.user.id.to_string());
                tracing::info!(audit = "signin_failure", user_id, "sign-in refused");
                return Err(AccountError::InvalidCredentials);
            }
        };
        let user = credentials.user;
        if needs_rehash {
            self.upgrade_hash(user.id, &credentials.password_hash, password).await;
        }
        self.sessions.open(user, client).await
    }

    /// Applies a profile update. A new password bumps the token version (so every access token
    /// issued before stops working here) and revokes every other session.
    pub async fn update_profile(
        &self,
        caller: &Authenticated,
        update: ProfileUpdate,
    ) -> Result<User, AccountError> {
        if update.is_empty() {
            return Ok(caller.user.clone());
        }
        if update.is_sensitive() {
            let current = update.current_password.as_ref().ok_or_else(|| {
                ValidationErrors::single(
                    "current_password",
                    "required",
                    "current_password is required to change email or password",
                )
            })?;
            self.reauthenticate(caller.user.id, current).await?;
        }
        let password_hash = match &update.password {
            Some(password) => Some(self.hasher.hash(password).await?),
            None => None,
        };
        let password_changed = password_hash.is_some();
        let email_changed = update.email.is_some();
        let changes = UserChanges {
            full_name: update.full_name,
            email: update.email,
            password_hash,
            revoke_tokens: false,
        };
        let user = self
            .users
            .update(caller.user.id, changes, self.clock.now())
            .await
            .map_err(email_conflict)?
            .ok_or(AccountError::Unauthenticated)?;
        if password_changed {
            self.sessions.revoke_others(user.id, caller.session_id).await?;
            tracing::info!(audit = "password_change", user_id = %user.id, "password changed");
        }
        if email_changed {
            tracing::info!(audit = "email_change", user_id = %user.id, "email changed");
        }
        Ok(user)
    }

    /// Deletes the account for good after checking the password: the row and its sessions go,
    /// and every token dies with them because the user no longer resolves.
    pub async fn delete_account(
        &self,
        caller: &Authenticated,
        current_password: &CandidatePassword,
    ) -> Result<(), AccountError> {
        self.reauthenticate(caller.user.id, current_password).await?;
        self.users.delete(caller.user.id).await?;
        tracing::info!(audit = "delete", user_id = %caller.user.id, "account deleted");
        Ok(())
    }

    async fn reauthenticate(
        &self,
        user: UserId,
        password: &CandidatePassword,
    ) -> Result<(), AccountError> {
        let credentials = self.users.find_credentials_by_id(user).await?;
        let stored = credentials.as_ref().map(|c| &c.password_hash);
        match self.hasher.verify(password, stored).await? {
            Verification::Valid { .. } => Ok(()),
            Verification::Invalid => {
                tracing::info!(audit = "reauthentication_failure", user_id = %user, "wrong current password");
                Err(AccountError::ReauthenticationFailed)
            }
        }
    }

    /// Rehashes with today's parameters. Best effort: a failure leaves the old, still valid hash.
    async fn upgrade_hash(&self, user: UserId, old: &StoredHash, password: &CandidatePassword) {
        let result = async {
            let password = Password::rehashable(password);
            let new = self.hasher.hash(&password).await?;
            self.users.upgrade_password_hash(user, old, &new).await?;
            Ok::<_, AccountError>(())
        }
        .await;
        match result {
            Ok(()) => tracing::info!(user_id = %user, "password hash upgraded"),
            Err(error) => tracing::warn!(user_id = %user, %error, "password hash upgrade failed"),
        }
    }
}

fn email_conflict(error: RepoError) -> AccountError {
    match error {
        RepoError::Conflict => AccountError::EmailTaken,
        other => other.into(),
    }
}
