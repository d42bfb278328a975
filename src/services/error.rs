//! The errors account and session operations answer with.

use crate::core::security::HashError;
use crate::domain::ValidationErrors;
use crate::repositories::RepoError;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("the email address is already registered")]
    EmailTaken,
    /// Unknown email, wrong password and inactive account all look exactly like this.
    #[error("invalid email or password")]
    InvalidCredentials,
    /// Too many failed signins for this email; identical whether or not the account exists.
    #[error("too many failed attempts; retry in {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
    #[error("the current password is wrong")]
    ReauthenticationFailed,
    #[error("missing, invalid or revoked access token")]
    Unauthenticated,
    #[error("unknown, expired or revoked refresh token")]
    InvalidRefreshToken,
    /// A bad, used, expired, superseded or wrong-purpose email link token: all alike.
    #[error("the link is invalid or has expired")]
    InvalidToken,
    /// The right password, but `auth.require_verified_email` and the address is unverified.
    #[error("the email address is not verified")]
    EmailNotVerified,
    #[error(transparent)]
    Validation(#[from] ValidationErrors),
    #[error("the database is unavailable")]
    Unavailable(#[source] RepoError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<RepoError> for AccountError {
    fn from(error: RepoError) -> Self {
        if error.is_transient() {
            Self::Unavailable(error)
        } else {
            Self::Internal(anyhow::Error::new(error).context("storage"))
        }
    }
}

impl From<HashError> for AccountError {
    fn from(error: HashError) -> Self {
        Self::Internal(anyhow::Error::new(error).context("password hashing"))
    }
}
