//! How each service's error becomes an [`AppError`]: the one place a service answer is given
//! its HTTP meaning.

use super::AppError;
use crate::domain::ValidationErrors;
use crate::repositories::RepoError;
use crate::services::{
    AccountError, AdminError, AvatarError, ClientError, EmailError, ExportError, SessionError,
    TooManySockets,
};

impl From<ValidationErrors> for AppError {
    fn from(errors: ValidationErrors) -> Self {
        Self::Validation(errors)
    }
}

impl From<AccountError> for AppError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::EmailTaken => Self::EmailTaken,
            AccountError::InvalidCredentials => Self::InvalidCredentials,
            AccountError::ReauthenticationFailed => Self::ReauthenticationFailed,
            AccountError::Unauthenticated => Self::Unauthenticated,
            AccountError::InvalidRefreshToken => Self::InvalidRefreshToken,
            AccountError::InvalidToken => Self::InvalidToken,
            AccountError::EmailNotVerified => Self::EmailNotVerified,
            AccountError::InvalidMfaCode => Self::InvalidMfaCode,
            AccountError::InvalidMfaToken => Self::InvalidMfaToken,
            AccountError::MfaAlreadyEnabled => Self::MfaAlreadyEnabled,
            AccountError::MfaNotEnabled => Self::MfaNotEnabled,
            AccountError::Throttled { retry_after_secs } => Self::RateLimited { retry_after_secs },
            AccountError::Validation(errors) => Self::Validation(errors),
            AccountError::Unavailable(cause) => unavailable(cause),
            AccountError::Internal(cause) => Self::Internal(cause),
        }
    }
}

impl From<SessionError> for AppError {
    fn from(error: SessionError) -> Self {
        match error {
            SessionError::Unauthenticated => Self::Unauthenticated,
            SessionError::InvalidRefreshToken => Self::InvalidRefreshToken,
            SessionError::Unavailable(cause) => unavailable(cause),
            SessionError::Internal(cause) => Self::Internal(cause),
        }
    }
}

impl From<EmailError> for AppError {
    fn from(error: EmailError) -> Self {
        match error {
            EmailError::InvalidToken => Self::InvalidToken,
            EmailError::EmailTaken => Self::EmailTaken,
            EmailError::Unavailable(cause) => unavailable(cause),
            EmailError::Internal(cause) => Self::Internal(cause),
        }
    }
}

impl From<ExportError> for AppError {
    fn from(error: ExportError) -> Self {
        match error {
            ExportError::Throttled { retry_after_secs } => Self::RateLimited { retry_after_secs },
            ExportError::Unavailable(cause) => unavailable(cause),
            ExportError::Internal(cause) => Self::Internal(cause),
        }
    }
}

/// A storage failure the client may retry: logged with its whole chain, answered 503.
fn unavailable(cause: RepoError) -> AppError {
    // "the database is unavailable: … database or disk is full".
    let cause = anyhow::Error::new(cause);
    tracing::warn!(error = format!("{cause:#}"), "database unavailable; answered 503");
    AppError::Unavailable
}

impl From<AvatarError> for AppError {
    fn from(error: AvatarError) -> Self {
        match error {
            AvatarError::InvalidImage(invalid) => Self::InvalidImage(invalid.0),
            AvatarError::Unauthenticated => Self::Unauthenticated,
            AvatarError::Unavailable(cause) => unavailable(cause),
            AvatarError::Internal(cause) => Self::Internal(cause),
        }
    }
}

impl From<TooManySockets> for AppError {
    fn from(_: TooManySockets) -> Self {
        // A socket closing frees a place at once; a client should not hammer meanwhile.
        Self::RateLimited { retry_after_secs: 5 }
    }
}

impl From<AdminError> for AppError {
    fn from(error: AdminError) -> Self {
        match error {
            AdminError::BadTarget(_) | AdminError::NotFound(_) => Self::NotFound,
            AdminError::Storage(cause) => storage(cause),
        }
    }
}

/// Client failures the OAuth endpoints do not answer in their own format.
impl From<ClientError> for AppError {
    fn from(error: ClientError) -> Self {
        match error {
            ClientError::InvalidClient => Self::InvalidAccessToken,
            ClientError::NotFound(_) => Self::NotFound,
            ClientError::Storage(cause) => storage(cause),
            other @ (ClientError::InvalidScope
            | ClientError::Random(_)
            | ClientError::Signing(_)) => Self::Internal(anyhow::Error::new(other)),
        }
    }
}

/// A storage failure: 503 when retrying may help, else 500.
fn storage(cause: RepoError) -> AppError {
    if cause.is_transient() {
        unavailable(cause)
    } else {
        AppError::Internal(anyhow::Error::new(cause).context("storage"))
    }
}
