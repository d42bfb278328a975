//! The user account as the rest of the service sees it.

use time::OffsetDateTime;

use super::{EmailAddress, FullName, UserId};

/// A user account. Holds no credential: the password hash stays in the repository layer and
/// the services that verify it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: EmailAddress,
    pub full_name: Option<FullName>,
    pub is_active: bool,
    /// Bumped whenever every access token issued so far must stop working here.
    pub token_version: i64,
    /// Whether the owner proved they receive mail at `email`.
    pub email_verified: bool,
    /// An address awaiting confirmation through a link sent to it; `email` until then.
    pub pending_email: Option<EmailAddress>,
    /// The unguessable name of the current avatar image, if any.
    pub avatar_name: Option<String>,
    /// Whether signin asks for a second factor (a confirmed TOTP enrolment).
    pub mfa_enabled: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}
