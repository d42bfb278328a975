//! Accounts: signing up, checking credentials at signin, changing and deleting.

mod second_factor;

use std::sync::Arc;

use super::email::{EmailService, Message};
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
use crate::repositories::{NewUserRecord, PasswordChange, RepoError, UserChanges, UserRepository};

#[derive(Debug)]
pub struct NewAccount {
    pub email: EmailAddress,
    pub password: Password,
    pub full_name: Option<FullName>,
}

/// Changes to one's own profile. A new email or password comes with the current password, so
/// an update that lacks it cannot be built (the API edge refuses it).
#[derive(Debug, Default)]
pub struct ProfileUpdate {
    pub full_name: Option<Option<FullName>>,
    pub credentials: Option<CredentialsChange>,
}

/// A new email and/or password, and the current password that authorises them.
#[derive(Debug)]
pub struct CredentialsChange {
    pub email: Option<EmailAddress>,
    pub password: Option<Password>,
    pub current_password: CandidatePassword,
}

impl ProfileUpdate {
    fn is_empty(&self) -> bool {
        self.full_name.is_none() && self.credentials.is_none()
    }
}

/// What a signin with the right password leads to.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // returned once per signin, never stored
pub enum SignInOutcome {
    SignedIn(SignedIn),
    /// Two-factor sign-in is on: no session yet, `/auth/signin/mfa` completes it.
    MfaRequired(MfaChallenge),
}

/// What a profile update changed, for the events and audit that follow it.
#[derive(Debug, Clone, Copy)]
struct Changed {
    profile: bool,
    password: bool,
    email: bool,
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

    /// Applies a profile update. A new password bumps the token version (so every access token
    /// issued before stops working here) and revokes every other session.
    pub async fn update_profile(
        &self,
        caller: &Authenticated,
        update: ProfileUpdate,
        client: &ClientContext,
    ) -> Result<User, AccountError> {
        if update.is_empty() {
            return Ok(caller.user.clone());
        }
        let (email, password) = match update.credentials {
            Some(change) => {
                self.reauthenticate(caller, &change.current_password, client).await?;
                (change.email, change.password)
            }
            None => (None, None),
        };
        // Asking for the address one already has changes nothing and sends nothing.
        let email = email.filter(|email| *email != caller.user.email);
        let password = match &password {
            Some(password) => Some(PasswordChange {
                hash: self.hasher.hash(password).await?,
                keep_session: Some(caller.session_id),
            }),
            None => None,
        };
        let password_changed = password.is_some();
        let email_changed = email.is_some();
        let mut changes =
            UserChanges { full_name: update.full_name, password, ..UserChanges::default() };
        if let Some(new_email) = email {
            self.email_change(&caller.user, new_email, &mut changes)?;
        }
        if password_changed {
            changes.mail.push(self.email.render(Message::PasswordChanged, None)?);
        }
        let changes_mail_empty = changes.mail.is_empty();
        // An email change only sets pending_email, which the user object shows too.
        let profile_changed = email_changed || changes.full_name.is_some();
        let user = self
            .users
            .update(caller.user.id, changes, self.clock.now())
            .await
            .map_err(email_conflict)?
            .ok_or(AccountError::Unauthenticated)?;
        if !changes_mail_empty {
            self.email.queued();
        }
        let what =
            Changed { profile: profile_changed, password: password_changed, email: email_changed };
        self.announce(&user, what, caller, client).await;
        Ok(user)
    }

    /// After a committed profile change: live events, then audit events.
    async fn announce(
        &self,
        user: &User,
        changed: Changed,
        caller: &Authenticated,
        client: &ClientContext,
    ) {
        if changed.profile {
            self.events.user_updated(user.id).await;
        }
        if changed.password {
            self.events.publish(AccountEvent::CredentialsChanged, user.id).await;
        }
        let session = Some(caller.session_id);
        if changed.password {
            self.audit.record(AuthEventKind::PasswordChange, Some(user.id), session, client).await;
        }
        if changed.email {
            self.audit.record(AuthEventKind::EmailChange, Some(user.id), session, client).await;
        }
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

    /// An email change waits for confirmation: `new_email` becomes `pending_email`, a link goes
    /// there and a notice to the current address.
    fn email_change(
        &self,
        user: &User,
        new_email: EmailAddress,
        changes: &mut UserChanges,
    ) -> Result<(), AccountError> {
        let confirmation = self.email.link(user.id, LinkPurpose::ConfirmEmailChange, &new_email)?;
        let notice = Message::EmailChangeRequested { new_email: new_email.as_str() };
        changes.mail.push(self.email.render(notice, None)?);
        changes.mail.push(confirmation.mail);
        changes.link = Some(confirmation.link);
        changes.email = Some(new_email);
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
