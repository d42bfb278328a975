//! `ApiError`: every failure a client can see, as RFC 9457 problem+json with a stable `code`.
//!
//! Handlers return `ApiError`; its response carries a [`Problem`] in the extensions and
//! [`problems`] (a middleware) writes the body with the request id. Responses made outside our
//! handlers (unknown routes, wrong methods, oversized bodies) are given a problem body there too.

use axum::extract::Request;
use axum::http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::FieldError;
use crate::services::ChatError;

pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("missing, invalid or expired access token")]
    Unauthenticated,
    #[error("only members of this room may do this")]
    NotAMember,
    /// A room socket opened by a page whose origin is not in `cors.allowed_origins`.
    #[error("this origin is not in cors.allowed_origins")]
    OriginNotAllowed,
    #[error("no such room or message")]
    NotFound,
    #[error("one or more fields are invalid")]
    Validation(Vec<FieldError>),
    #[error("request body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("request body must be application/json")]
    UnsupportedMediaType,
    #[error("request body is too large")]
    PayloadTooLarge,
    #[error("internal error")]
    Internal(String),
}

impl From<FieldError> for ApiError {
    fn from(error: FieldError) -> Self {
        Self::Validation(vec![error])
    }
}

impl From<ChatError> for ApiError {
    fn from(error: ChatError) -> Self {
        match error {
            ChatError::NotFound => Self::NotFound,
            ChatError::NotAMember => Self::NotAMember,
            other => Self::Internal(other.to_string()),
        }
    }
}

/// One field's reason in a 422.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProblemField {
    pub field: String,
    pub code: String,
    pub message: String,
}

/// An RFC 9457 problem document: the body of every error response.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[schema(example = "not_a_member")]
    pub code: String,
    pub request_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
}

impl Problem {
    fn new(status: StatusCode, code: &str, detail: String) -> Self {
        Self {
            kind: format!("urn:warren-chat:problem:{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            code: code.to_owned(),
            request_id: String::new(),
            errors: Vec::new(),
        }
    }

    /// For responses our handlers did not make (axum's 404, 405, 413, …).
    fn for_status(status: StatusCode) -> Self {
        let code = match status {
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
            StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            StatusCode::UNAUTHORIZED => "unauthenticated",
            s if s.is_server_error() => "internal",
            _ => "bad_request",
        };
        Self::new(status, code, status.canonical_reason().unwrap_or("error").to_lowercase())
    }
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            Self::NotAMember => (StatusCode::FORBIDDEN, "not_a_member"),
            Self::OriginNotAllowed => (StatusCode::FORBIDDEN, "origin_not_allowed"),
            Self::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            Self::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
            Self::MalformedJson(_) => (StatusCode::BAD_REQUEST, "malformed_json"),
            Self::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            Self::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    pub fn problem(&self) -> Problem {
        let (status, code) = self.status_and_code();
        // 500 causes are logged, never shown.
        let detail = if let Self::Internal(cause) = self {
            tracing::error!(%cause, "internal error");
            "internal error".to_owned()
        } else {
            self.to_string()
        };
        let mut problem = Problem::new(status, code, detail);
        if let Self::Validation(fields) = self {
            problem.errors = fields
                .iter()
                .map(|f| ProblemField {
                    field: f.field.into(),
                    code: f.code.into(),
                    message: f.message.clone(),
                })
                .collect();
        }
        problem
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = self.problem();
        let mut response = StatusCode::from_u16(problem.status)
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            .into_response();
        response.extensions_mut().insert(problem);
        response
    }
}

/// Keeps a client's `x-request-id` when it is short and plain, else makes one; renders every
/// error response as problem+json carrying that id.
pub async fn problems(mut request: Request, next: Next) -> Response {
    let request_id = request
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| is_plain_id(id))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let id_header = HeaderValue::from_str(&request_id).expect("ids are checked ASCII");
    request.headers_mut().insert(X_REQUEST_ID, id_header.clone());
    let mut response = next.run(request).await;
    let status = response.status();
    let problem = response.extensions_mut().remove::<Problem>();
    let is_problem =
        response.headers().get(CONTENT_TYPE).is_some_and(|v| v == "application/problem+json");
    if problem.is_some() || ((status.is_client_error() || status.is_server_error()) && !is_problem)
    {
        let mut problem = problem.unwrap_or_else(|| Problem::for_status(status));
        problem.request_id.clone_from(&request_id);
        let body = serde_json::to_string(&problem).expect("a problem always serialises");
        let mut rendered = (status, body).into_response();
        let headers = rendered.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response = rendered;
    }
    response.headers_mut().insert(X_REQUEST_ID, id_header);
    response
}

fn is_plain_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}
