//! `AppError`: every failure a client can see, rendered as RFC 9457 problem+json.
//!
//! Handlers and extractors return `AppError`; its `IntoResponse` stores a [`Problem`] in the
//! response extensions and [`crate::api::middleware::render_problems`] writes the body, adding
//! the request id. Responses produced outside our handlers (unknown routes, wrong methods,
//! layers' own rejections) get a problem body there too, so no error escapes the format.

mod conversions;
mod problem;
pub mod responses;

pub use problem::{
    Problem, ProblemDocument, ProblemField, ProblemHeader, ProblemKind, ProblemSpec,
};

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::domain::ValidationErrors;

/// RFC 6750 §3.1: the challenge for a presented but unusable token.
const INVALID_TOKEN: &str = "Bearer error=\"invalid_token\", \
    error_description=\"the access token is expired, revoked or invalid\"";

/// Seconds a client should wait before retrying a 503.
const RETRY_AFTER_UNAVAILABLE_SECS: u64 = 5;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("request body is not valid")]
    Validation(ValidationErrors),
    #[error("request body is not valid JSON")]
    MalformedJson(String),
    #[error("request body must be application/json")]
    UnsupportedMediaType,
    #[error("request body is too large")]
    PayloadTooLarge,
    /// No bearer token was presented.
    #[error("missing access token")]
    Unauthenticated,
    /// A bearer token was presented but cannot be used (expired, revoked, malformed, forged):
    /// RFC 6750's `invalid_token`, which tells a client to refresh rather than to sign in.
    #[error("invalid or expired access token")]
    InvalidAccessToken,
    #[error("invalid email or password")]
    InvalidCredentials,
    #[error("unknown, expired or revoked refresh token")]
    InvalidRefreshToken,
    #[error("the current password is wrong")]
    ReauthenticationFailed,
    #[error("the email address is already registered")]
    EmailTaken,
    #[error("the link is invalid or has expired")]
    InvalidToken,
    #[error("the email address is not verified")]
    EmailNotVerified,
    #[error("the two-factor code is wrong")]
    InvalidMfaCode,
    #[error("the mfa_token is invalid or has expired")]
    InvalidMfaToken,
    #[error("two-factor sign-in is already on")]
    MfaAlreadyEnabled,
    #[error("two-factor sign-in is not on")]
    MfaNotEnabled,
    /// The upload is not an acceptable PNG, JPEG or WebP image; the reason is shown.
    #[error("the upload is not a usable image")]
    InvalidImage(&'static str),
    #[error("no such resource")]
    NotFound,
    /// A token without the scope a request needs (a user token on the admin API, or a client
    /// token not granted it): RFC 6750's `insufficient_scope`, naming the scope.
    #[error("the access token lacks scope {}", .0.as_str())]
    InsufficientScope(crate::domain::Scope),
    /// A WebSocket from a page whose origin is not in `cors.allowed_origins`.
    #[error("origin not allowed")]
    OriginNotAllowed,
    #[error("too many requests")]
    RateLimited { retry_after_secs: u64 },
    #[error("service temporarily unavailable")]
    Unavailable,
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl AppError {
    fn kind(&self) -> ProblemKind {
        match self {
            Self::Validation(_) => ProblemKind::ValidationFailed,
            Self::MalformedJson(_) => ProblemKind::MalformedJson,
            Self::UnsupportedMediaType => ProblemKind::UnsupportedMediaType,
            Self::PayloadTooLarge => ProblemKind::PayloadTooLarge,
            Self::Unauthenticated | Self::InvalidAccessToken => ProblemKind::Unauthenticated,
            Self::InvalidCredentials => ProblemKind::InvalidCredentials,
            Self::InvalidRefreshToken => ProblemKind::InvalidRefreshToken,
            Self::ReauthenticationFailed => ProblemKind::ReauthenticationFailed,
            Self::EmailTaken => ProblemKind::EmailTaken,
            Self::InvalidToken => ProblemKind::InvalidToken,
            Self::EmailNotVerified => ProblemKind::EmailNotVerified,
            Self::InvalidMfaCode => ProblemKind::InvalidMfaCode,
            Self::InvalidMfaToken => ProblemKind::InvalidMfaToken,
            Self::MfaAlreadyEnabled => ProblemKind::MfaAlreadyEnabled,
            Self::MfaNotEnabled => ProblemKind::MfaNotEnabled,
            Self::InvalidImage(_) => ProblemKind::InvalidImage,
            Self::NotFound => ProblemKind::NotFound,
            Self::InsufficientScope(_) => ProblemKind::InsufficientScope,
            Self::OriginNotAllowed => ProblemKind::OriginNotAllowed,
            Self::RateLimited { .. } => ProblemKind::RateLimited,
            Self::Unavailable => ProblemKind::ServiceUnavailable,
            Self::Internal(_) => ProblemKind::Internal,
        }
    }

    /// The table's row, with the details only this error knows.
    fn problem(&self) -> Problem {
        let problem = Problem::of(self.kind());
        match self {
            Self::Validation(errors) => Problem {
                errors: errors
                    .iter()
                    .map(|e| ProblemField {
                        field: e.field.clone(),
                        code: e.code,
                        message: e.message.clone(),
                    })
                    .collect(),
                ..problem
            },
            Self::MalformedJson(detail) => problem.with_detail(detail.clone()),
            Self::InvalidAccessToken => problem.with_detail(
                "the access token is expired, revoked or invalid; refresh it or sign in again",
            ),
            Self::InsufficientScope(scope) => problem.with_detail(format!(
                "this request needs a service-client token with scope {}",
                scope.as_str()
            )),
            Self::InvalidImage(reason) => {
                let detail = format!("{reason}; {}", problem.detail);
                problem.with_detail(detail)
            }
            Self::RateLimited { retry_after_secs } => {
                problem.with_detail(format!("too many attempts; retry in {retry_after_secs} s"))
            }
            _ => problem,
        }
    }

    /// The value of the row's extra header, if it has one.
    fn header_value(&self, header: ProblemHeader) -> Option<(header::HeaderName, HeaderValue)> {
        match (header, self) {
            (ProblemHeader::None, _) => None,
            (ProblemHeader::Challenge, Self::InvalidAccessToken) => {
                Some((header::WWW_AUTHENTICATE, HeaderValue::from_static(INVALID_TOKEN)))
            }
            (ProblemHeader::Challenge, Self::InsufficientScope(scope)) => {
                let challenge =
                    format!("Bearer error=\"insufficient_scope\", scope=\"{}\"", scope.as_str());
                HeaderValue::from_str(&challenge)
                    .ok()
                    .map(|value| (header::WWW_AUTHENTICATE, value))
            }
            (ProblemHeader::Challenge, _) => {
                Some((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")))
            }
            (ProblemHeader::RetryAfter, Self::RateLimited { retry_after_secs }) => {
                Some((header::RETRY_AFTER, HeaderValue::from((*retry_after_secs).max(1))))
            }
            (ProblemHeader::RetryAfter, _) => {
                Some((header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_UNAVAILABLE_SECS)))
            }
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let Self::Internal(cause) = &self {
            // The cause is logged here, inside the request's span; the client sees none of it.
            tracing::error!(error = ?cause, "internal error");
        }
        let problem = self.problem();
        let mut response = problem.status.into_response();
        if let Some((name, value)) = self.header_value(self.kind().spec().header) {
            response.headers_mut().insert(name, value);
        }
        response.extensions_mut().insert(problem);
        response
    }
}

pub type ApiResult<T> = Result<T, AppError>;
