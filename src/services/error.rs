//! The errors account operations answer with, and how every service's error enum takes
//! storage and hashing failures (`storage_failures!`).

use super::{EmailError, SessionError, ThrottleError};
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
    /// A wrong, reused or malformed second-factor code: all alike.
    #[error("the two-factor code is wrong")]
    InvalidMfaCode,
    /// An unknown, used, expired or dead `mfa_token`: all alike.
    #[error("the mfa_token is invalid or has expired")]
    InvalidMfaToken,
    #[error("two-factor sign-in is already on")]
    MfaAlreadyEnabled,
    #[error("two-factor sign-in is not on, or no enrolment is pending")]
    MfaNotEnabled,
    #[error(transparent)]
    Validation(#[from] ValidationErrors),
    #[error("the database is unavailable")]
    Unavailable(#[source] RepoError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Gives a service error enum with `Unavailable(RepoError)` and `Internal(anyhow::Error)`
/// variants the two conversions every service needs: a transient storage failure is
/// `Unavailable` (the client sees 503 and retries), anything else `Internal`.
macro_rules! storage_failures {
    ($error:ident) => {
        impl From<$crate::repositories::RepoError> for $error {
            fn from(error: $crate::repositories::RepoError) -> Self {
                if error.is_transient() {
                    Self::Unavailable(error)
                } else {
                    Self::Internal(anyhow::Error::new(error).context("storage"))
                }
            }
        }

        impl From<$crate::core::security::HashError> for $error {
            fn from(error: $crate::core::security::HashError) -> Self {
                Self::Internal(anyhow::Error::new(error).context("password hashing"))
            }
        }
    };
}
pub(crate) use storage_failures;

storage_failures!(AccountError);

impl From<ThrottleError> for AccountError {
    fn from(error: ThrottleError) -> Self {
        match error {
            ThrottleError::Throttled { retry_after_secs } => Self::Throttled { retry_after_secs },
            ThrottleError::Unavailable(cause) => Self::Unavailable(cause),
        }
    }
}

impl From<EmailError> for AccountError {
    fn from(error: EmailError) -> Self {
        match error {
            EmailError::InvalidToken => Self::InvalidToken,
            EmailError::EmailTaken => Self::EmailTaken,
            EmailError::Unavailable(cause) => Self::Unavailable(cause),
            EmailError::Internal(cause) => Self::Internal(cause),
        }
    }
}

impl From<SessionError> for AccountError {
    fn from(error: SessionError) -> Self {
        match error {
            SessionError::Unauthenticated => Self::Unauthenticated,
            SessionError::InvalidRefreshToken => Self::InvalidRefreshToken,
            SessionError::Unavailable(cause) => Self::Unavailable(cause),
            SessionError::Internal(cause) => Self::Internal(cause),
        }
    }
}
