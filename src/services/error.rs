//! The errors services answer with, and who is asking.

use std::net::IpAddr;

use crate::core::security::HashError;
use crate::domain::{SessionId, User, ValidationErrors};
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

/// Where a request came from: recorded on sessions and in audit events.
#[derive(Debug, Clone, Default)]
pub struct ClientContext {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

/// The caller behind a verified access token.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: User,
    pub session_id: SessionId,
}
