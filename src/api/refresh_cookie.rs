//! The refresh-token cookie for browser SPAs (`auth.refresh_cookie`).
//!
//! A page's scripts can read anything in a response body, so one XSS bug would leak a 30-day
//! refresh token. In cookie mode a browser on an allowlisted origin gets the token as an
//! `HttpOnly` cookie instead, and sends it back to `/auth/refresh` and `/auth/signout`. Because
//! browsers attach cookies on their own, a cookie alone is believed only next to an allowlisted
//! `Origin` (CSRF). Clients without an `Origin` (native apps, services) keep the body transport.

use std::convert::Infallible;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use time::Duration;

use super::error::ApiResult;
use super::extractors::Json;
use super::v1::schemas::{RefreshTokenRequest, TokenResponse};
use super::{AppError, AppState};
use crate::domain::ValidationErrors;
use crate::services::SignedIn;

/// `__Host-`: the browser keeps it only if it is `Secure`, has `Path=/` and no `Domain`, so no
/// sibling subdomain can plant or overwrite it.
pub const COOKIE_NAME: &str = "__Host-warren_refresh";
const ATTRIBUTES: &str = "Path=/; Secure; HttpOnly; SameSite=Strict";

/// Where a request says it comes from, judged against `cors.allowed_origins`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestOrigin {
    /// No `Origin` header: not a browser's cross-origin or POST request.
    Absent,
    Allowed,
    /// Some other page (`null` included).
    Foreign,
}

impl RequestOrigin {
    pub fn of(headers: &HeaderMap, allowed: &[String]) -> Self {
        match headers.get(header::ORIGIN) {
            None => Self::Absent,
            Some(origin) if allowed.iter().any(|a| a.as_bytes() == origin.as_bytes()) => {
                Self::Allowed
            }
            Some(_) => Self::Foreign,
        }
    }
}

impl FromRequestParts<AppState> for RequestOrigin {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        Ok(Self::of(&parts.headers, &state.allowed_origins))
    }
}

/// The body of a refresh or signout, which a browser in cookie mode may leave empty.
#[derive(Debug)]
pub struct RefreshBody(pub RefreshTokenRequest);

impl<S: Send + Sync> FromRequest<S> for RefreshBody {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        if request.headers().contains_key(header::CONTENT_TYPE) {
            let Json(body) = Json::from_request(request, state).await?;
            return Ok(Self(body));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|_| AppError::UnsupportedMediaType)?;
        if bytes.is_empty() {
            Ok(Self(RefreshTokenRequest::default()))
        } else {
            Err(AppError::UnsupportedMediaType)
        }
    }
}

/// A refresh token a request presented, and whether it came from the cookie.
#[derive(Debug)]
pub struct Presented {
    pub token: String,
    pub from_cookie: bool,
}

impl Presented {
    /// The token in the body, else the cookie when this request may use it. A cookie sent
    /// from a foreign origin is a cross-site request: 403 `origin_not_allowed`. A cookie with no
    /// `Origin` at all is not believed either (401, as if no token were sent). A browser on an
    /// allowlisted origin with no cookie has no session: 401 `invalid_refresh_token`. Everyone
    /// else must send the body field (422).
    pub fn from_request(
        state: &AppState,
        origin: RequestOrigin,
        headers: &HeaderMap,
        body: RefreshTokenRequest,
    ) -> Result<Self, AppError> {
        if let Some(token) = body.refresh_token {
            return Ok(Self { token, from_cookie: false });
        }
        let cookie = if state.refresh_cookie { read_cookie(headers) } else { None };
        match (cookie, origin) {
            (Some(token), RequestOrigin::Allowed) => Ok(Self { token, from_cookie: true }),
            (Some(_), RequestOrigin::Foreign) => Err(AppError::OriginNotAllowed),
            (Some(_), RequestOrigin::Absent) => Err(AppError::InvalidRefreshToken),
            (None, RequestOrigin::Allowed) if state.refresh_cookie => {
                Err(AppError::InvalidRefreshToken)
            }
            (None, _) => Err(AppError::Validation(ValidationErrors::single(
                "refresh_token",
                "required",
                "missing field `refresh_token`",
            ))),
        }
    }
}

/// Whether this request gets and gives its refresh token as the cookie.
pub fn uses_cookie(state: &AppState, origin: RequestOrigin) -> bool {
    state.refresh_cookie && origin == RequestOrigin::Allowed
}

/// The answer to a successful signin or refresh (and, once it exists, an MFA signin): the
/// refresh token in the cookie for cookie-mode browsers, in the body for everyone else.
pub fn signed_in_response(
    state: &AppState,
    origin: RequestOrigin,
    signed_in: SignedIn,
) -> ApiResult<Response> {
    if !uses_cookie(state, origin) {
        return Ok(axum::Json(TokenResponse::from(signed_in)).into_response());
    }
    let cookie = set_cookie(signed_in.refresh_token.expose(), signed_in.session_remaining)?;
    let body = TokenResponse { refresh_token: None, ..TokenResponse::from(signed_in) };
    Ok(([(header::SET_COOKIE, cookie)], axum::Json(body)).into_response())
}

/// `204 No Content`, deleting the cookie when the browser may hold one: used by every way of
/// ending sessions (signout, sign out everywhere, account deletion).
pub fn ended_response(state: &AppState, origin: RequestOrigin, headers: &HeaderMap) -> Response {
    let holds_cookie = state.refresh_cookie && read_cookie(headers).is_some();
    if uses_cookie(state, origin) || holds_cookie {
        return with_cleared_cookie(StatusCode::NO_CONTENT.into_response());
    }
    StatusCode::NO_CONTENT.into_response()
}

/// Adds the `Set-Cookie` that deletes the refresh cookie: same name and attributes, so the
/// browser matches it, and `Max-Age=0`.
pub fn with_cleared_cookie(mut response: Response) -> Response {
    let cleared = format!("{COOKIE_NAME}=; Max-Age=0; {ATTRIBUTES}");
    if let Ok(value) = HeaderValue::from_str(&cleared) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn set_cookie(token: &str, lifetime: Duration) -> ApiResult<HeaderValue> {
    let max_age = lifetime.whole_seconds().max(0);
    HeaderValue::from_str(&format!("{COOKIE_NAME}={token}; Max-Age={max_age}; {ATTRIBUTES}"))
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("refresh cookie header")))
}

/// The refresh cookie's value, from any `Cookie` header; an empty value counts as none.
fn read_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == COOKIE_NAME && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookies(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(header::COOKIE, HeaderValue::from_str(value).expect("valid header"));
        }
        headers
    }

    #[test]
    fn the_refresh_cookie_is_found_among_others_and_in_any_cookie_header() {
        let cases: &[(&[&str], Option<&str>)] = &[
            (&["__Host-warren_refresh=abc"], Some("abc")),
            (&["theme=dark; __Host-warren_refresh=abc; lang=en"], Some("abc")),
            (&["theme=dark", "__Host-warren_refresh=abc"], Some("abc")),
            (&["__Host-warren_refresh="], None),
            (&["warren_refresh=abc"], None),
            (&["__host-warren_refresh=abc"], None),
            (&[], None),
        ];
        for (headers, expected) in cases {
            assert_eq!(read_cookie(&cookies(headers)).as_deref(), *expected, "{headers:?}");
        }
    }

    #[test]
    fn origins_are_compared_byte_for_byte() {
        let allowed = ["http://localhost:5173".to_owned()];
        let origin = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ORIGIN, HeaderValue::from_str(value).expect("valid header"));
            RequestOrigin::of(&headers, &allowed)
        };
        assert_eq!(origin("http://localhost:5173"), RequestOrigin::Allowed);
        assert_eq!(origin("http://localhost:5173/"), RequestOrigin::Foreign);
        assert_eq!(origin("http://127.0.0.1:5173"), RequestOrigin::Foreign);
        assert_eq!(origin("null"), RequestOrigin::Foreign);
        assert_eq!(RequestOrigin::of(&HeaderMap::new(), &allowed), RequestOrigin::Absent);
    }
}
