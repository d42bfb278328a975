//! Email links and outgoing messages: what a link token is for, and a message as it is queued.

use super::UserId;

/// What an emailed link lets its holder do. A token is bound to exactly one purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    VerifyEmail,
    ResetPassword,
    ConfirmEmailChange,
}

impl LinkPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
            Self::ConfirmEmailChange => "confirm_email_change",
        }
    }
}

/// The SHA-256 of a link token: the only form in which a token is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct LinkTokenHash([u8; 32]);

impl LinkTokenHash {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for LinkTokenHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkTokenHash(..)")
    }
}

/// A link token about to be stored, for `email` (the address the link is sent to).
#[derive(Debug, Clone)]
pub struct NewLink {
    pub hash: LinkTokenHash,
    pub user_id: UserId,
    pub purpose: LinkPurpose,
    pub email: String,
    pub expires_at: time::OffsetDateTime,
}

/// A rendered message as the outbox stores it. `kind` names the template; `recipient` is `None`
/// for "the account's current address", which the storage fills in inside the same
/// transaction. One address gets at most one message of a kind per resend interval, whichever
/// account asks: when a message of the same kind went to the same address after
/// `quiet_since`, this one is not queued (nor the link it carries stored).
#[derive(Clone)]
pub struct OutgoingMail {
    pub kind: &'static str,
    pub recipient: Option<String>,
    pub quiet_since: Option<time::OffsetDateTime>,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl std::fmt::Debug for OutgoingMail {
    // The bodies may hold a token: never in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingMail").field("kind", &self.kind).finish_non_exhaustive()
    }
}

/// A message claimed for delivery.
#[derive(Clone)]
pub struct ClaimedMail {
    pub id: uuid::Uuid,
    pub recipient: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Attempts so far, this one included.
    pub attempts: u32,
}

impl std::fmt::Debug for ClaimedMail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClaimedMail").field("id", &self.id).finish_non_exhaustive()
    }
}
