//! The problem table ([`ProblemKind`]) and the problem+json body it fills.

use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

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
    /// Stable, `snake_case`; docs/api.md lists every code.
    #[schema(example = "email_taken")]
    pub code: String,
    /// Equals the `x-request-id` response header.
    pub request_id: String,
    /// Present on `validation_failed` only.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub errors: Vec<ProblemField>,
}

/// Every kind of problem a client can see. [`ProblemKind::spec`] is the one table of their
/// status, stable `code`, title, default detail and extra header: `AppError`, the router-level
/// fallbacks and the OpenAPI document (through [`problem_responses!`]) all read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    BadRequest,
    MalformedJson,
    InvalidToken,
    Unauthenticated,
    InvalidCredentials,
    InvalidRefreshToken,
    ReauthenticationFailed,
    EmailNotVerified,
    InsufficientScope,
    InvalidMfaCode,
    InvalidMfaToken,
    OriginNotAllowed,
    NotFound,
    MethodNotAllowed,
    RequestTimeout,
    EmailTaken,
    MfaAlreadyEnabled,
    MfaNotEnabled,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    InvalidImage,
    RateLimited,
    Internal,
    ServiceUnavailable,
}

/// The header a problem carries besides its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemHeader {
    None,
    /// `WWW-Authenticate: Bearer …` (RFC 6750).
    Challenge,
    /// `Retry-After: <seconds>`.
    RetryAfter,
}

/// One row of the problem table.
#[derive(Debug, Clone, Copy)]
pub struct ProblemSpec {
    pub status: StatusCode,
    pub code: &'static str,
    pub title: &'static str,
    pub detail: &'static str,
    pub header: ProblemHeader,
}

const fn row(
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: &'static str,
    header: ProblemHeader,
) -> ProblemSpec {
    ProblemSpec { status, code, title, detail, header }
}

impl ProblemKind {
    /// Every kind, in declaration order: for what lists the whole table (the error table in
    /// docs/api.md is checked against it). A kind left out fails the assertion below, unless it
    /// was added last; add new kinds in status order, as the enum is.
    pub const ALL: [Self; 25] = [
        Self::BadRequest,
        Self::MalformedJson,
        Self::InvalidToken,
        Self::Unauthenticated,
        Self::InvalidCredentials,
        Self::InvalidRefreshToken,
        Self::ReauthenticationFailed,
        Self::EmailNotVerified,
        Self::InsufficientScope,
        Self::InvalidMfaCode,
        Self::InvalidMfaToken,
        Self::OriginNotAllowed,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::RequestTimeout,
        Self::EmailTaken,
        Self::MfaAlreadyEnabled,
        Self::MfaNotEnabled,
        Self::PayloadTooLarge,
        Self::UnsupportedMediaType,
        Self::ValidationFailed,
        Self::InvalidImage,
        Self::RateLimited,
        Self::Internal,
        Self::ServiceUnavailable,
    ];

    /// The table. `code` strings are part of the API: never change one.
    #[rustfmt::skip]
    pub const fn spec(self) -> ProblemSpec {
        use ProblemHeader::{Challenge, None, RetryAfter};
        use StatusCode as S;
        match self {
            Self::BadRequest => row(S::BAD_REQUEST, "bad_request", "Bad request",
                "the request could not be processed", None),
            Self::MalformedJson => row(S::BAD_REQUEST, "malformed_json", "Malformed JSON",
                "the request body is not valid JSON", None),
            Self::InvalidToken => row(S::BAD_REQUEST, "invalid_token", "Invalid token",
                "the link is invalid, already used, superseded or expired; request a new one", None),
            Self::Unauthenticated => row(S::UNAUTHORIZED, "unauthenticated", "Unauthenticated",
                "a valid bearer access token is required", Challenge),
            Self::InvalidCredentials => row(S::UNAUTHORIZED, "invalid_credentials",
                "Invalid credentials", "the email or password is incorrect", Challenge),
            Self::InvalidRefreshToken => row(S::UNAUTHORIZED, "invalid_refresh_token",
                "Invalid refresh token",
                "the refresh token is unknown, expired, rotated or revoked; sign in again", Challenge),
            Self::ReauthenticationFailed => row(S::FORBIDDEN, "reauthentication_failed",
                "Reauthentication failed", "current_password is incorrect", None),
            Self::EmailNotVerified => row(S::FORBIDDEN, "email_not_verified", "Email not verified",
                "confirm your email address through the link sent to it, then sign in", None),
            Self::InsufficientScope => row(S::FORBIDDEN, "insufficient_scope",
                "Insufficient scope", "the access token lacks the scope this request needs; the \
                admin API takes service-client tokens only", Challenge),
            Self::InvalidMfaCode => row(S::UNAUTHORIZED, "invalid_mfa_code",
                "Invalid two-factor code", "the code is wrong, already used or malformed; use a \
                current code from the authenticator app or an unused recovery code", Challenge),
            Self::InvalidMfaToken => row(S::UNAUTHORIZED, "invalid_mfa_token", "Invalid MFA token",
                "the mfa_token is unknown, used, expired or dead after too many wrong codes; \
                sign in again", Challenge),
            Self::OriginNotAllowed => row(S::FORBIDDEN, "origin_not_allowed", "Origin not allowed",
                "this origin is not in cors.allowed_origins", None),
            Self::NotFound => row(S::NOT_FOUND, "not_found", "Not found",
                "no resource at this path", None),
            Self::MethodNotAllowed => row(S::METHOD_NOT_ALLOWED, "method_not_allowed",
                "Method not allowed", "this path does not accept this method", None),
            Self::RequestTimeout => row(S::REQUEST_TIMEOUT, "request_timeout", "Request timeout",
                "the request took too long and was abandoned", None),
            Self::EmailTaken => row(S::CONFLICT, "email_taken", "Email taken",
                "an account with this email already exists", None),
            Self::MfaAlreadyEnabled => row(S::CONFLICT, "mfa_already_enabled",
                "Two-factor sign-in already on",
                "two-factor sign-in is already on; switch it off before enrolling again", None),
            Self::MfaNotEnabled => row(S::CONFLICT, "mfa_not_enabled", "Two-factor sign-in not on",
                "two-factor sign-in is not on (or no enrolment is pending)", None),
            Self::PayloadTooLarge => row(S::PAYLOAD_TOO_LARGE, "payload_too_large",
                "Payload too large", "the request body exceeds the size limit", None),
            Self::UnsupportedMediaType => row(S::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                "Unsupported media type", "the request body must be application/json", None),
            Self::ValidationFailed => row(S::UNPROCESSABLE_ENTITY, "validation_failed",
                "Validation failed", "one or more fields are invalid", None),
            Self::InvalidImage => row(S::UNPROCESSABLE_ENTITY, "invalid_image", "Invalid image",
                "send a PNG, JPEG or WebP image", None),
            Self::RateLimited => row(S::TOO_MANY_REQUESTS, "rate_limited", "Too many requests",
                "too many attempts; retry later", RetryAfter),
            Self::Internal => row(S::INTERNAL_SERVER_ERROR, "internal", "Internal server error",
                "an unexpected error occurred", None),
            Self::ServiceUnavailable => row(S::SERVICE_UNAVAILABLE, "service_unavailable",
                "Service unavailable", "the service is temporarily unavailable; retry later",
                RetryAfter),
        }
    }

    /// The kind for a bare error status produced outside our handlers.
    pub fn for_status(status: StatusCode) -> Self {
        match status {
            StatusCode::NOT_FOUND => Self::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => Self::MethodNotAllowed,
            StatusCode::REQUEST_TIMEOUT => Self::RequestTimeout,
            StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::UnsupportedMediaType,
            StatusCode::SERVICE_UNAVAILABLE => Self::ServiceUnavailable,
            s if s.is_server_error() => Self::Internal,
            _ => Self::BadRequest,
        }
    }
}

// `ALL` names each kind at its own position, so none is missing or listed twice.
const _: () = {
    let mut index = 0;
    while index < ProblemKind::ALL.len() {
        assert!(ProblemKind::ALL[index] as usize == index, "ProblemKind::ALL is out of step");
        index += 1;
    }
};

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
    /// The problem of `kind` with its default detail.
    pub fn of(kind: ProblemKind) -> Self {
        let spec = kind.spec();
        Self {
            status: spec.status,
            code: spec.code,
            title: spec.title,
            detail: spec.detail.to_owned(),
            errors: Vec::new(),
        }
    }

    /// The problem for a bare error status produced outside our handlers.
    pub fn for_status(status: StatusCode) -> Self {
        Self { status, ..Self::of(ProblemKind::for_status(status)) }
    }

    pub(super) fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
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
