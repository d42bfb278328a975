//! Domain types: values that can only exist when valid ("parse, don't validate").
//! Nothing here knows about HTTP or SQL.

mod audit;
mod backoff;
mod client;
mod email;
mod full_name;
mod ids;
mod mail;
mod mfa;
mod password;
mod session;
mod user;
mod validation;

pub use audit::{AuthEvent, AuthEventKind};
pub use backoff::BackoffPolicy;
pub use client::{ClientName, Scope, Scopes, ServiceClient};
pub use email::{EmailAddress, EmailError};
pub use full_name::{FullName, FullNameError};
pub use ids::{ClientId, SessionId, UserId};
pub use mail::{ClaimedMail, LinkPurpose, LinkTokenHash, NewLink, OutgoingMail};
pub use mfa::{Amr, RECOVERY_CODE_LEN, RecoveryCode, SecondFactor, SecretHash};
pub use password::{CandidatePassword, Password, PasswordError, PasswordPolicy, StoredHash};
pub use session::{RefreshTokenHash, Session};
pub use user::User;
pub use validation::{ErrorCode, FieldError, ValidationErrors};

/// Whether a string holds a character that has no place in user-supplied text.
pub(crate) fn has_control_characters(value: &str) -> bool {
    value.chars().any(char::is_control)
}
