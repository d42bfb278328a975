//! Accounts: signing up, checking credentials at signin, changing and deleting.

mod profile;
mod second_factor;

use std::sync::Arc;

use super::email::EmailService;
use super::events::{AccountEvent, Events};
use super::mfa::{MfaChallenge, MfaService};
use super::sessions::{SessionError, SessionService, SignedIn};
use super::throttle::LoginThrottle;
use super::{AccountError, AuditLog, Authenticated, ClientContext, ThrottleError};
use crate::core::clock::Clock;
use crate::core::security::{PasswordHasher, Verification};
use crate::domain::{
    Amr, AuthEventKind, CandidatePassword, EmailAddress, FullName, LinkPurpose, Password,
    StoredHash, User, UserId,
};
use crate::repositories::{NewUserRecord, RepoError, UserRepository};

pub use profile::{CredentialsChange, ProfileUpdate};

#[derive(Debug)]
pub struct NewAccount {
    pub email: EmailAddress,
    pub password: Password,
    pub full_name: Option<FullName>,
}

/// What a signin with the right password leads to.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // returned once per signin, never stored
pub enum SignInOutcome {
    SignedIn(SignedIn),
    /// Two-factor sign-in is on: no session yet, `/auth/signin/mfa` completes it.
    MfaRequired(MfaChallenge),
}

#[derive(Debug)]
pub struct AccountService {
    users: Arc<dyn UserRepository>,
    sessions: Arc<SessionService>,
    throttle: LoginThrottle,
    audit: Arc<AuditLog>,
    hasher: PasswordHasher,
    email: Arc<EmailService>,
    clock: Arc<dyn Clock>,
    events: Arc<Events>,
    mfa: Arc<MfaService>,
}

impl AccountService {
    // Each argument is one collaborator the startup code wires once; a builder would only
    // rename them.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        users: Arc<dyn UserRepository>,
        sessions: Arc<SessionService>,
        throttle: LoginThrottle,
        audit: Arc<AuditLog>,
        hasher: PasswordHasher,
        email: Arc<EmailService>,
        clock: Arc<dyn Clock>,
        events: Arc<Events>,
        mfa: Arc<MfaService>,
    ) -> Self {
        Self { users, sessions, throttle, audit, hasher, email, clock, events, mfa }
    }

    pub async fn sign_up(
        &self,
        account: NewAccount,
        client: &ClientContext,
    ) -> Result<User, AccountError> {
        let password_hash = self.hasher.hash(&account.password).await?;
        let id = UserId::generate();
        let verification = self.email.link(id, LinkPurpose::VerifyEmail, &account.email)?;
        let record = NewUserRecord {
            id,
            email: account.email,
            full_name: account.full_name,
            password_hash,
            created_at: self.clock.now(),
            verification: Some(verification),
        };
        let user = self.users.insert(record).await.map_err(email_conflict)?;
        self.email.queued();
        self.audit.record(AuthEventKind::Signup, Some(user.id), None, client).await;
        self.audit.record(AuthEventKind::VerificationSent, Some(user.id), None, client).await;
        Ok(user)
    }

    /// Checks the password and opens a session, or with two-factor sign-in on, hands out the
    /// `mfa_token` of the second step instead. Every failure is the same `InvalidCredentials`
    /// and costs one hash verification, whether or not the account exists; the attempt is
    /// counted against the email's backoff before the password is checked.
    pub async fn sign_in(
        &self,
        email: &EmailAddress,
        password: &CandidatePassword,
        client: &ClientContext,
    ) -> Result<SignInOutcome, AccountError> {
        if let Err(error) = self.throttle.reserve(email, self.clock.now()).await {
            if matches!(error, ThrottleError::Throttled { .. }) {
                self.audit.record(AuthEventKind::SigninThrottled, None, None, client).await;
            }
            return Err(error.into());
        }
        let credentials = self.users.find_credentials_by_email(email).await?;
        let stored = credentials.as_ref().map(|c| &c.password_hash);
        let verification = self.hasher.verify(password, stored).await?;
        let (credentials, needs_rehash) = match (credentials, verification) {
            (Some(c), Verification::Valid { needs_rehash }) if c.user.is_active => {
                (c, needs_rehash)
            }
            (found, _) => {
                let user = found.map(|c| c.user.id);
                self.audit.record(AuthEventKind::SigninFailure, user, None, client).await;
                return Err(AccountError::InvalidCredentials);
            }
        };
        let user = credentials.user;
        if self.email.verification_required() && !user.email_verified {
            // The password was right: the backoff has nothing to hold against this address.
            self.throttle.succeeded(email).await?;
            return Err(AccountError::EmailNotVerified);
        }
        if needs_rehash {
            self.upgrade_hash(user.id, &credentials.password_hash, password).await;
        }
        if user.mfa_enabled {
            // The password was right, but the signin completes only with the second factor:
            // give the attempt back without clearing the count wrong codes add to.
            self.throttle.released(email).await?;
            return Ok(SignInOutcome::MfaRequired(self.mfa.challenge(&user, client).await?));
        }
        let signed_in =
            self.sessions.open(user, Amr::Password, client).await.map_err(|error| match error {
                // The account was deleted or deactivated between the check and the session.
                SessionError::Unauthenticated => AccountError::InvalidCredentials,
                other => other.into(),
            })?;
        self.throttle.succeeded(email).await?;
        Ok(SignInOutcome::SignedIn(signed_in))
    }

    /// `POST /auth/reset-password`: the token decides, the new password (already checked
    /// against the policy) replaces the old, and every session and link token ends.
    pub async fn reset_password(
        &self,
        token: &str,
        password: &Password,
        client: &ClientContext,
    ) -> Result<(), AccountError> {
        let hash = self.hasher.hash(password).await?;
        let user = self.email.reset_password(token, hash).await?;
        self.audit.record(AuthEventKind::PasswordReset, Some(user.id), None, client).await;
        Ok(())
    }

    /// Deletes the account for good after checking the password: the row, its sessions and
    /// refresh tokens go, and every access token dies with them. Audit events stay, naming
    /// only the now meaningless user id.
    pub async fn delete_account(
        &self,
        caller: &Authenticated,
        current_password: &CandidatePassword,
        client: &ClientContext,
    ) -> Result<(), AccountError> {
        self.reauthenticate(caller, current_password, client).await?;
        self.users.delete(caller.user.id).await?;
        self.events.publish(AccountEvent::AccountDeleted, caller.user.id).await;
        let (user, session) = (Some(caller.user.id), Some(caller.session_id));
        self.audit.record(AuthEventKind::AccountDeleted, user, session, client).await;
        Ok(())
    }

    /// Checks the caller's `current_password`, through the same backoff as signin: a stolen
    /// access token must not become an unlimited password oracle.
    async fn reauthenticate(
        &self,
        caller: &Authenticated,
        password: &CandidatePassword,
        client: &ClientContext,
    ) -> Result<(), AccountError> {
        let email = &caller.user.email;
        if let Err(error) = self.throttle.reserve(email, self.clock.now()).await {
            if matches!(error, ThrottleError::Throttled { .. }) {
                let (user, session) = (Some(caller.user.id), Some(caller.session_id));
                self.audit.record(AuthEventKind::SigninThrottled, user, session, client).await;
            }
            return Err(error.into());
        }
        let credentials = self.users.find_credentials_by_id(caller.user.id).await?;
        let stored = credentials.as_ref().map(|c| &c.password_hash);
        match self.hasher.verify(password, stored).await? {
            Verification::Valid { .. } => Ok(self.throttle.released(email).await?),
            Verification::Invalid => {
                let (user, session) = (Some(caller.user.id), Some(caller.session_id));
                let kind = AuthEventKind::ReauthenticationFailure;
                self.audit.record(kind, user, session, client).await;
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
