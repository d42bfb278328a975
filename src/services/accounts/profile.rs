//! Changing one's own profile: the name at once; a new email (pending until confirmed from the
//! new address) or password only after the current password.

use super::{AccountService, email_conflict};
use crate::domain::{
    AuthEventKind, CandidatePassword, EmailAddress, FullName, LinkPurpose, Password, User,
};
use crate::repositories::{PasswordChange, UserChanges};
use crate::services::email::Message;
use crate::services::events::AccountEvent;
use crate::services::{AccountError, Authenticated, ClientContext};

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

/// What a profile update changed, for the events and audit that follow it.
#[derive(Debug, Clone, Copy)]
struct Changed {
    profile: bool,
    password: bool,
    email: bool,
}

impl AccountService {
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
        let mut changes = UserChanges { full_name: update.full_name, ..UserChanges::default() };
        let mut what =
            Changed { profile: changes.full_name.is_some(), password: false, email: false };
        if let Some(credentials) = update.credentials {
            self.reauthenticate(caller, &credentials.current_password, client).await?;
            self.stage_credentials(caller, credentials, &mut changes, &mut what).await?;
        }
        let queues_mail = !changes.mail.is_empty();
        let user = self
            .users
            .update(caller.user.id, changes, self.clock.now())
            .await
            .map_err(email_conflict)?
            .ok_or(AccountError::Unauthenticated)?;
        if queues_mail {
            self.email.queued();
        }
        self.announce(&user, what, caller, client).await;
        Ok(user)
    }

    /// Folds an authorised new email and/or password into `changes`, with their mail.
    async fn stage_credentials(
        &self,
        caller: &Authenticated,
        change: CredentialsChange,
        changes: &mut UserChanges,
        what: &mut Changed,
    ) -> Result<(), AccountError> {
        if let Some(password) = &change.password {
            let hash = self.hasher.hash(password).await?;
            changes.password = Some(PasswordChange { hash, keep_session: Some(caller.session_id) });
            what.password = true;
        }
        // Asking for the address one already has changes nothing and sends nothing.
        if let Some(new_email) = change.email.filter(|email| *email != caller.user.email) {
            self.email_change(&caller.user, new_email, changes)?;
            // Only pending_email changes, but the user object shows it too.
            what.profile = true;
            what.email = true;
        }
        if what.password {
            changes.mail.push(self.email.render(Message::PasswordChanged, None)?);
        }
        Ok(())
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
        changes.link = Some(confirmation);
        changes.email = Some(new_email);
        Ok(())
    }
}
