//! Edge middleware: client request ids, problem+json bodies, security headers, panics and
//! request spans.

use std::any::Any;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Response, StatusCode, header};
use axum::middleware::Next;
use axum::response::IntoResponse;
use tower_http::set_header::HeaderMetadata;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::set_header::response::SetMultipleResponseHeadersLayer;
use tracing::Span;

use super::AppError;
use super::error::Problem;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const PROBLEM_JSON: &str = "application/problem+json";
/// Longest client request id kept (64 characters). A client id is echoed, logged on every span and
/// stored with audit events: unbounded, it is an anonymous way to fill disks.
const MAX_REQUEST_ID_LEN: usize = 64;

/// Keeps a client's `x-request-id` only if it is 1..=64 characters of `[A-Za-z0-9._-]`;
/// otherwise removes it, so the request-id layer after this one generates a fresh id.
pub fn drop_unusable_request_id(mut request: Request) -> Request {
    let headers = request.headers_mut();
    match headers.get(REQUEST_ID).filter(|id| is_usable_request_id(id.as_bytes())).cloned() {
        // `insert` also drops any further values a client sent.
        Some(id) => headers.insert(REQUEST_ID, id),
        None => headers.remove(REQUEST_ID),
    };
    request
}

fn is_usable_request_id(id: &[u8]) -> bool {
    let allowed = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-');
    (1..=MAX_REQUEST_ID_LEN).contains(&id.len()) && id.iter().all(allowed)
}

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

/// Marks an error response whose format a standard fixes otherwise (OAuth 2.0's JSON errors,
/// RFC 6749): it is passed through as it is, not rewritten as problem+json.
#[derive(Debug, Clone, Copy)]
pub struct OwnErrorFormat;

fn is_unformatted_error(response: &Response<Body>) -> bool {
    if response.extensions().get::<OwnErrorFormat>().is_some() {
        return false;
    }
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    (status.is_client_error() || status.is_server_error()) && !is_problem
}

/// The fixed security headers on every response, errors and preflights included.
pub fn security_headers() -> SetMultipleResponseHeadersLayer<Response<Body>> {
    let fixed = [
        (header::STRICT_TRANSPORT_SECURITY, "max-age=63072000; includeSubDomains"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ];
    SetMultipleResponseHeadersLayer::overriding(header_list(fixed))
}

/// Security headers a route may set for itself: the JWKS wants caching, Swagger UI (see
/// [`docs_csp`]) loads scripts and styles, and avatars are shown on other origins' pages.
/// Every other response gets the strict defaults.
pub fn default_security_headers() -> SetMultipleResponseHeadersLayer<Response<Body>> {
    let defaults = [
        (header::CONTENT_SECURITY_POLICY, API_CSP),
        (header::CACHE_CONTROL, "no-store"),
        (HeaderName::from_static("cross-origin-resource-policy"), "same-origin"),
    ];
    SetMultipleResponseHeadersLayer::if_not_present(header_list(defaults))
}

/// The CSP of Swagger UI, the one HTML page: it loads its own scripts, styles and images.
pub fn docs_csp() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DOCS_CSP),
    )
}

const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                        img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

fn header_list<const N: usize>(
    pairs: [(HeaderName, &'static str); N],
) -> Vec<HeaderMetadata<Response<Body>>> {
    pairs.into_iter().map(|(name, value)| (name, HeaderValue::from_static(value)).into()).collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_request_ids_are_kept_only_when_short_and_plain() {
        for kept in ["a", "trace-me-123", "A.b_c-9", &"x".repeat(64)] {
            assert!(is_usable_request_id(kept.as_bytes()), "{kept:?} is kept");
        }
        let too_long = "x".repeat(65);
        for dropped in ["", too_long.as_str(), "a b", "id/1", "caf\u{e9}", "a\tb", "<script>"] {
            assert!(!is_usable_request_id(dropped.as_bytes()), "{dropped:?} is replaced");
        }
    }
}
