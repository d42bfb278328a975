//! Email: composing the messages of each flow and queueing them in the outbox, the
//! flows that only need a link (verification, forgot password, confirming an email change),
//! and the [`Dispatcher`] that delivers what was queued.

mod dispatcher;
mod links;
mod reset_queue;
mod templates;
mod transport;

use std::sync::Arc;

use anyhow::Context;
use tokio::sync::Notify;

pub use dispatcher::Dispatcher;
pub use templates::{Message, Templates};
pub use transport::MailTransport;

use reset_queue::ResetQueue;

use super::events::{AccountEvent, Events};
use super::{AuditLog, Authenticated, ClientContext};
use crate::core::clock::Clock;
use crate::core::config::EmailSettings;
use crate::domain::{
    AuthEventKind, EmailAddress, LinkPurpose, NewLink, OutgoingMail, User, UserId,
};
use crate::repositories::{EmailRepository, LinkUse, PasswordReset, RepoError, UserRepository};

/// What the email flows answer with.
#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    /// A bad, used, expired, superseded or wrong-purpose link token: all alike.
    #[error("the link is invalid or has expired")]
    InvalidToken,
    /// The new address of an email change was taken meanwhile.
    #[error("the email address is already registered")]
    EmailTaken,
    #[error("the database is unavailable")]
    Unavailable(#[source] RepoError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

super::error::storage_failures!(EmailError);

#[derive(Debug)]
pub struct EmailService {
    outbox: Arc<dyn EmailRepository>,
    users: Arc<dyn UserRepository>,
    templates: Templates,
    settings: EmailSettings,
    /// `auth.require_verified_email`.
    require_verified: bool,
    audit: Arc<AuditLog>,
    clock: Arc<dyn Clock>,
    /// Wakes this instance's dispatcher after a commit that queued mail.
    wake: Arc<Notify>,
    events: Arc<Events>,
    /// Forgot-password lookups still to run.
    resets: ResetQueue,
}

impl EmailService {
    pub fn new(
        outbox: Arc<dyn EmailRepository>,
        users: Arc<dyn UserRepository>,
        settings: EmailSettings,
        require_verified: bool,
        audit: Arc<AuditLog>,
        clock: Arc<dyn Clock>,
        events: Arc<Events>,
    ) -> anyhow::Result<Self> {
        let templates = Templates::load().context("load the email templates")?;
        let wake = Arc::new(Notify::new());
        Ok(Self {
            outbox,
            users,
            templates,
            settings,
            require_verified,
            audit,
            clock,
            wake,
            events,
            resets: ResetQueue::new(),
        })
    }

    /// The dispatcher for this instance's outbox, woken by this service's commits.
    pub fn dispatcher(&self, transport: MailTransport) -> anyhow::Result<Dispatcher> {
        let from = self.settings.from.parse().context("email.from")?;
        Ok(Dispatcher {
            outbox: Arc::clone(&self.outbox),
            transport,
            from,
            clock: Arc::clone(&self.clock),
            wake: Arc::clone(&self.wake),
            max_attempts: self.settings.max_attempts,
            retry_initial_secs: self.settings.retry_initial_secs,
        })
    }

    /// Tells the dispatcher that a commit just queued mail.
    pub fn queued(&self) {
        self.wake.notify_one();
    }

    /// A fresh link of `purpose` for `user`, sent to `address`, and its message.
    pub fn link(
        &self,
        user: UserId,
        purpose: LinkPurpose,
        address: &EmailAddress,
    ) -> anyhow::Result<LinkUse> {
        let (template, ttl) = match purpose {
            LinkPurpose::VerifyEmail => {
                (&self.settings.links.verify_email, self.settings.verify_ttl_secs)
            }
            LinkPurpose::ResetPassword => {
                (&self.settings.links.reset_password, self.settings.reset_ttl_secs)
            }
            LinkPurpose::ConfirmEmailChange => {
                (&self.settings.links.confirm_email_change, self.settings.change_ttl_secs)
            }
        };
        let (token, hash) = links::generate().context("generate a link token")?;
        let url = links::link(template, &token);
        let valid_for = links::describe(ttl);
        let (link, valid_for, new_email) = (url.as_str(), valid_for.as_str(), address.as_str());
        let message = match purpose {
            LinkPurpose::VerifyEmail => Message::VerifyEmail { link, valid_for },
            LinkPurpose::ResetPassword => Message::ResetPassword { link, valid_for },
            LinkPurpose::ConfirmEmailChange => {
                Message::ConfirmEmailChange { link, valid_for, new_email }
            }
        };
        let mail = self.render(message, Some(address.as_str().to_owned()))?;
        let expires_at = self.clock.now() + seconds(ttl);
        let email = address.as_str().to_owned();
        Ok(LinkUse { link: NewLink { hash, user_id: user, purpose, email, expires_at }, mail })
    }

    /// Renders a message; `None` sends it to the account's current address. It is queued only
    /// if no message of its kind went to that address within the resend interval, so neither
    /// repeated requests nor other accounts can flood one inbox.
    pub fn render(
        &self,
        message: Message<'_>,
        recipient: Option<String>,
    ) -> anyhow::Result<OutgoingMail> {
        let mut mail = self.templates.render(message, recipient).context("render an email")?;
        mail.quiet_since = Some(self.clock.now() - seconds(self.settings.resend_interval_secs));
        Ok(mail)
    }

    /// `POST /users/me/verify-email`: a new verification link, unless already verified or one
    /// went out within the resend interval.
    pub async fn resend_verification(
        &self,
        caller: &Authenticated,
        client: &ClientContext,
    ) -> Result<(), EmailError> {
        let user = &caller.user;
        if user.email_verified {
            return Ok(());
        }
        if self.issue(user, LinkPurpose::VerifyEmail).await? {
            let kind = AuthEventKind::VerificationSent;
            self.audit.record(kind, Some(user.id), Some(caller.session_id), client).await;
        }
        Ok(())
    }

    /// `POST /auth/forgot-password`. The caller answers at once, identically for every
    /// address; the lookup and the queueing happen afterwards, so neither the answer nor its
    /// timing tells whether an account exists. Under a flood beyond what the bounded
    /// [`ResetQueue`] holds, requests are dropped (and counted), never piled up.
    pub fn forgot_password(self: &Arc<Self>, email: EmailAddress, client: ClientContext) {
        let service = Arc::clone(self);
        let queued = self.resets.push(async move {
            if let Err(error) = service.send_reset_link(&email, &client).await {
                tracing::warn!(%error, "password reset link not queued");
            }
        });
        if !queued {
            metrics::counter!(crate::core::metrics::RESET_REQUESTS_DROPPED).increment(1);
        }
    }

    async fn send_reset_link(
        &self,
        email: &EmailAddress,
        client: &ClientContext,
    ) -> Result<(), EmailError> {
        let user = self.users.find_credentials_by_email(email).await?.map(|c| c.user);
        let Some(user) = user.filter(|user| user.is_active) else {
            return Ok(());
        };
        if self.issue(&user, LinkPurpose::ResetPassword).await? {
            let kind = AuthEventKind::PasswordResetRequested;
            self.audit.record(kind, Some(user.id), None, client).await;
        }
        Ok(())
    }

    /// Stores a link to the user's address and queues it, within the resend interval's limit.
    async fn issue(&self, user: &User, purpose: LinkPurpose) -> Result<bool, EmailError> {
        let link = self.link(user.id, purpose, &user.email)?;
        let issued = self.outbox.issue_link(link, self.clock.now()).await?;
        if issued {
            self.queued();
        }
        Ok(issued)
    }

    /// `POST /auth/verify-email`.
    pub async fn verify_email(
        &self,
        token: &str,
        client: &ClientContext,
    ) -> Result<User, EmailError> {
        let user = self.outbox.verify_email(&links::hash(token), self.clock.now()).await?;
        let user = user.ok_or(EmailError::InvalidToken)?;
        self.audit.record(AuthEventKind::EmailVerified, Some(user.id), None, client).await;
        self.events.user_updated(user.id).await;
        Ok(user)
    }

    /// The storage half of a password reset (the caller hashed the new password).
    pub async fn reset_password(
        &self,
        token: &str,
        hash: crate::domain::StoredHash,
    ) -> Result<User, EmailError> {
        let notice = self.render(Message::PasswordChanged, None)?;
        let reset = PasswordReset { hash, notice };
        let user = self.outbox.reset_password(&links::hash(token), reset, self.clock.now()).await?;
        let user = user.ok_or(EmailError::InvalidToken)?;
        self.queued();
        // Every session was revoked and the token version bumped: sockets close 4401.
        self.events.publish(AccountEvent::CredentialsChanged, user.id).await;
        Ok(user)
    }

    /// `POST /auth/confirm-email-change`: the new address replaces the old, which is told.
    pub async fn confirm_email_change(
        &self,
        token: &str,
        client: &ClientContext,
    ) -> Result<User, EmailError> {
        let hash = links::hash(token);
        let now = self.clock.now();
        let notice = self.render(Message::EmailChanged, None)?;
        let user = match self.outbox.confirm_email_change(&hash, notice, now).await {
            Err(RepoError::Conflict) => return Err(EmailError::EmailTaken),
            other => other?.ok_or(EmailError::InvalidToken)?,
        };
        self.queued();
        self.audit.record(AuthEventKind::EmailChanged, Some(user.id), None, client).await;
        self.events.user_updated(user.id).await;
        Ok(user)
    }

    pub fn verification_required(&self) -> bool {
        self.require_verified
    }
}

fn seconds(secs: u64) -> time::Duration {
    time::Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX))
}
