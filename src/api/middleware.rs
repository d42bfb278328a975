//! Response-shaping middleware: problem+json bodies, security headers, panics, request spans.

use std::any::Any;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode, header};
use axum::middleware::Next;
use axum::response::IntoResponse;
use tracing::Span;

use super::AppError;
use super::error::Problem;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const PROBLEM_JSON: &str = "application/problem+json";

/// Writes every error response as problem+json with the request id: ours (carrying a
/// [`Problem`] extension) and everyone else's (router 404/405, layer rejections).
pub async fn render_problems(request: Request, next: Next) -> Response<Body> {
    // A cheap reference-counted clone; it becomes a string only if the response is an error.
    let request_id = request.headers().get(REQUEST_ID).cloned();
    let mut response = next.run(request).await;
    let problem = match response.extensions_mut().remove::<Problem>() {
        Some(problem) => problem,
        None if is_unformatted_error(&response) => Problem::for_status(response.status()),
        None => return response,
    };
    let status = problem.status;
    let request_id = request_id.as_ref().and_then(|v| v.to_str().ok()).unwrap_or_default();
    let json =
        serde_json::to_vec(&problem.into_document(request_id.to_owned())).unwrap_or_default();
    let (mut parts, _) = response.into_parts();
    parts.status = status;
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(json))
}

fn is_unformatted_error(response: &Response<Body>) -> bool {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    (status.is_client_error() || status.is_server_error()) && !is_problem
}

/// Headers every response carries, errors and preflights included.
pub async fn security_headers(request: Request, next: Next) -> Response<Body> {
    // Swagger UI is the one HTML page: it loads its own scripts, styles and images.
    let csp = if request.uri().path().starts_with("/docs") { DOCS_CSP } else { API_CSP };
    let mut response = next.run(request).await;
    set_security_headers(response.headers_mut(), csp);
    response
}

const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                        img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

fn set_security_headers(headers: &mut HeaderMap, csp: &'static str) {
    let fixed = [
        (header::STRICT_TRANSPORT_SECURITY, "max-age=63072000; includeSubDomains"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CONTENT_SECURITY_POLICY, csp),
        (HeaderName::from_static("cross-origin-resource-policy"), "same-origin"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    // Handlers that want caching (the JWKS) set their own Cache-Control.
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
}

/// Turns a panic into a plain 500 problem; the panic message goes to the log only.
#[allow(clippy::needless_pass_by_value)] // the signature `CatchPanicLayer::custom` requires
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response<Body> {
    let message = panic
        .downcast_ref::<&str>()
        .map(ToString::to_string)
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned());
    AppError::Internal(anyhow::anyhow!("handler panicked: {message}")).into_response()
}

/// The span every request runs in: method, matched route (not the raw path, which may hold
/// ids), and request id; status and latency are recorded when the response leaves.
pub fn request_span(request: &Request) -> Span {
    let route =
        request.extensions().get::<MatchedPath>().map_or("<unmatched>", MatchedPath::as_str);
    let request_id =
        request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %request.method(),
        route,
        request_id,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    )
}

pub fn record_response(response: &Response<Body>, latency: Duration, span: &Span) {
    let status = response.status();
    span.record("status", status.as_u16());
    span.record("latency_ms", latency.as_secs_f64() * 1000.0);
    if status.is_server_error() {
        tracing::error!(status = status.as_u16(), "request failed");
    } else {
        tracing::info!(status = status.as_u16(), "request finished");
    }
}

/// Status for a request that outlived the configured deadline.
pub const TIMEOUT_STATUS: StatusCode = StatusCode::REQUEST_TIMEOUT;
