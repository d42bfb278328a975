//! `AppError`: every failure a client can see, rendered as RFC 9457 problem+json.
//!
//! Handlers and extractors return `AppError`; its `IntoResponse` stores a [`Problem`] in the
//! response extensions and [`crate::api::middleware::render_problems`] writes the body, adding
//! the request id. Responses produced outside our handlers (unknown routes, wrong methods,
//! layers' own rejections) get a problem body there too, so no error escapes the format.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::ValidationErrors;
use crate::services::{AccountError, AvatarError, TooManySockets};

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

/// One field's reason, as serialised in `errors`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProblemField {
    #[schema(example = "password")]
    pub field: String,
    #[schema(value_type = String, example = "too_short")]
    pub code: &'static str,
    #[schema(example = "password must be at least 12 characters")]
    pub message: String,
}

/// An RFC 9457 problem document: the body of every error response.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"type": "urn:warren:problem:validation_failed", "title": "Validation failed", "status": 422, "detail": "one or more fields are invalid", "code": "validation_failed", "request_id": "5f0c7b9e-3c1d-4b7a-9a53-2f1e0d9c8b7a", "errors": [{"field": "password", "code": "too_short", "message": "password must be at least 12 characters"}]}))]
pub struct ProblemDocument {
    #[serde(rename = "type")]
    #[schema(example = "urn:warren:problem:email_taken")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable, `snake_case`; see the README for the full list.
    #[schema(example = "email_taken")]
    pub code: String,
    /// Equals the `x-request-id` response header.
    pub request_id: String,
    /// Present on `validation_failed` only.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub errors: Vec<ProblemField>,
}

/// The parts of a problem+json body known before the request id is attached.
#[derive(Debug, Clone)]
pub struct Problem {
    pub status: StatusCode,
    pub code: &'static str,
    pub title: &'static str,
    pub detail: String,
    pub errors: Vec<ProblemField>,
}

impl Problem {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self { status, code, title, detail: detail.into(), errors: Vec::new() }
    }

    /// The problem for a bare error status produced outside our handlers.
    pub fn for_status(status: StatusCode) -> Self {
        let (code, title, detail) = match status {
            StatusCode::NOT_FOUND => ("not_found", "Not found", "no resource at this path"),
            StatusCode::METHOD_NOT_ALLOWED => (
                "method_not_allowed",
                "Method not allowed",
                "this path does not accept this method",
            ),
            StatusCode::REQUEST_TIMEOUT => (
                "request_timeout",
                "Request timeout",
                "the request took too long and was abandoned",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => (
                "payload_too_large",
                "Payload too large",
                "the request body exceeds the size limit",
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                "unsupported_media_type",
                "Unsupported media type",
                "the request body must be application/json",
            ),
            StatusCode::SERVICE_UNAVAILABLE => (
                "service_unavailable",
                "Service unavailable",
                "the service is temporarily unavailable; retry later",
            ),
            s if s.is_server_error() => {
                ("internal", "Internal server error", "an unexpected error occurred")
            }
            _ => ("bad_request", "Bad request", "the request could not be processed"),
        };
        Self::new(status, code, title, detail)
    }

    /// The body for this problem in the request `request_id`.
    pub fn into_document(self, request_id: String) -> ProblemDocument {
        ProblemDocument {
            type_uri: format!("urn:warren:problem:{}", self.code),
            title: self.title.to_owned(),
            status: self.status.as_u16(),
            detail: self.detail,
            code: self.code.to_owned(),
            request_id,
            errors: self.errors,
        }
    }
}

impl AppError {
    fn problem(&self) -> Problem {
        match self {
            Self::Validation(errors) => {
                let mut problem = Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    "Validation failed",
                    "one or more fields are invalid",
                );
                problem.errors = errors
                    .iter()
                    .map(|e| ProblemField {
                        field: e.field.clone(),
                        code: e.code,
                        message: e.message.clone(),
                    })
                    .collect();
                problem
            }
            Self::MalformedJson(detail) => Problem::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                "Malformed JSON",
                detail.clone(),
            ),
            Self::RateLimited { retry_after_secs } => Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Too many requests",
                format!("too many attempts; retry in {retry_after_secs} s"),
            ),
            Self::InvalidImage(reason) => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_image",
                "Invalid image",
                format!("{reason}; send a PNG, JPEG or WebP image"),
            ),
            Self::NotFound => Problem::for_status(StatusCode::NOT_FOUND),
            Self::OriginNotAllowed => Problem::new(
                StatusCode::FORBIDDEN,
                "origin_not_allowed",
                "Origin not allowed",
                "this origin is not in cors.allowed_origins",
            ),
            Self::UnsupportedMediaType => Problem::for_status(StatusCode::UNSUPPORTED_MEDIA_TYPE),
            Self::PayloadTooLarge => Problem::for_status(StatusCode::PAYLOAD_TOO_LARGE),
            Self::Unavailable => Problem::for_status(StatusCode::SERVICE_UNAVAILABLE),
            Self::Internal(_) => Problem::for_status(StatusCode::INTERNAL_SERVER_ERROR),
            Self::Unauthenticated
            | Self::InvalidAccessToken
            | Self::InvalidCredentials
            | Self::InvalidRefreshToken
            | Self::ReauthenticationFailed
            | Self::EmailTaken
            | Self::InvalidToken
            | Self::EmailNotVerified
            | Self::InvalidMfaCode
            | Self::InvalidMfaToken
            | Self::MfaAlreadyEnabled
            | Self::MfaNotEnabled => self.fixed_problem(),
        }
    }

    fn fixed_problem(&self) -> Problem {
        let (status, code, title, detail) = self.fixed_parts();
        Problem::new(status, code, title, detail)
    }

    /// Status, code, title and detail of the variants whose text never varies.
    fn fixed_parts(&self) -> (StatusCode, &'static str, &'static str, &'static str) {
        match self {
            Self::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Unauthenticated",
                "a valid bearer access token is required",
            ),
            Self::InvalidAccessToken => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Unauthenticated",
                "the access token is expired, revoked or invalid; refresh it or sign in again",
            ),
            Self::InvalidCredentials => (
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "Invalid credentials",
                "the email or password is incorrect",
            ),
            Self::InvalidRefreshToken => (
                StatusCode::UNAUTHORIZED,
                "invalid_refresh_token",
                "Invalid refresh token",
                "the refresh token is unknown, expired, rotated or revoked; sign in again",
            ),
            Self::ReauthenticationFailed => (
                StatusCode::FORBIDDEN,
                "reauthentication_failed",
                "Reauthentication failed",
                "current_password is incorrect",
            ),
            Self::EmailTaken => (
                StatusCode::CONFLICT,
                "email_taken",
                "Email taken",
                "an account with this email already exists",
            ),
            Self::InvalidToken => (
                StatusCode::BAD_REQUEST,
                "invalid_token",
                "Invalid token",
                "the link is invalid, already used, superseded or expired; request a new one",
            ),
            Self::EmailNotVerified => (
                StatusCode::FORBIDDEN,
                "email_not_verified",
                "Email not verified",
                "confirm your email address through the link sent to it, then sign in",
            ),
            _ => self.mfa_parts(),
        }
    }

    /// The two-factor sign-in problems (SPEC §15).
    fn mfa_parts(&self) -> (StatusCode, &'static str, &'static str, &'static str) {
        match self {
            Self::InvalidMfaCode => (
                StatusCode::UNAUTHORIZED,
                "invalid_mfa_code",
                "Invalid two-factor code",
                "the code is wrong, already used or malformed; use a current code from the \
                 authenticator app or an unused recovery code",
            ),
            Self::InvalidMfaToken => (
                StatusCode::UNAUTHORIZED,
                "invalid_mfa_token",
                "Invalid MFA token",
                "the mfa_token is unknown, used, expired or dead after too many wrong codes; \
                 sign in again",
            ),
            Self::MfaAlreadyEnabled => (
                StatusCode::CONFLICT,
                "mfa_already_enabled",
                "Two-factor sign-in already on",
                "two-factor sign-in is already on; switch it off before enrolling again",
            ),
            Self::MfaNotEnabled => (
                StatusCode::CONFLICT,
                "mfa_not_enabled",
                "Two-factor sign-in not on",
                "two-factor sign-in is not on (or no enrolment is pending)",
            ),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal server error", ""),
        }
    }
}

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
            AccountError::Unavailable(cause) => {
                // The whole chain: "the database is unavailable: … database or disk is full".
                let cause = anyhow::Error::new(cause);
                tracing::warn!(error = format!("{cause:#}"), "database unavailable; answered 503");
                Self::Unavailable
            }
            AccountError::Internal(cause) => Self::Internal(cause),
        }
    }
}

impl From<AvatarError> for AppError {
    fn from(error: AvatarError) -> Self {
        match error {
            AvatarError::InvalidImage(invalid) => Self::InvalidImage(invalid.0),
            AvatarError::Unauthenticated => Self::Unauthenticated,
            AvatarError::Unavailable(cause) => AccountError::Unavailable(cause).into(),
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

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let Self::Internal(cause) = &self {
            // The cause is logged here, inside the request's span; the client sees none of it.
            tracing::error!(error = ?cause, "internal error");
        }
        let problem = self.problem();
        let mut response = problem.status.into_response();
        let headers = response.headers_mut();
        match self {
            Self::Unauthenticated
            | Self::InvalidCredentials
            | Self::InvalidRefreshToken
            | Self::InvalidMfaCode
            | Self::InvalidMfaToken => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Self::InvalidAccessToken => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(INVALID_TOKEN));
            }
            Self::Unavailable => {
                headers
                    .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_UNAVAILABLE_SECS));
            }
            Self::RateLimited { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs.max(1)));
            }
            _ => {}
        }
        response.extensions_mut().insert(problem);
        response
    }
}

pub type ApiResult<T> = Result<T, AppError>;
