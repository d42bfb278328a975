//! `/api/v1/auth`: signing up, signing in, refreshing and signing out.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use crate::api::AppState;
use crate::api::error::ProblemDocument;
use crate::api::error::{ApiResult, AppError};
use crate::api::extractors::{Client, Json};
use crate::api::refresh_cookie::{
    Presented, RefreshBody, RequestOrigin, signed_in_response, with_cleared_cookie,
};
use crate::api::v1::schemas::{
    RefreshTokenRequest, SigninRequest, SignupRequest, SignupResponse, TokenResponse, UserResponse,
};
use crate::services::AccountError;

/// The routes that take credentials, which get the stricter per-IP limit.
pub fn credential_router() -> Router<AppState> {
    Router::new()
        .route("/signup", post(sign_up))
        .route("/signin", post(sign_in))
        .route("/refresh", post(refresh))
}

pub fn router() -> Router<AppState> {
    Router::new().route("/signout", post(sign_out))
}

/// Create an account.
///
/// Signing up does not sign in: call `/api/v1/auth/signin` next.
#[utoipa::path(
    post, path = "/api/v1/auth/signup", tag = "auth",
    request_body = SignupRequest,
    responses(
        (status = 201, description = "Account created", body = SignupResponse),
        (status = 409, description = "`email_taken`", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`, naming each bad field", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`, with `Retry-After`", body = ProblemDocument, content_type = "application/problem+json"),
        (status = "default", description = "Any other error", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn sign_up(
    State(state): State<AppState>,
    Client(client): Client,
    Json(request): Json<SignupRequest>,
) -> ApiResult<(StatusCode, axum::Json<SignupResponse>)> {
    let account = request.parse(state.password_policy)?;
    let user = state.accounts.sign_up(account, &client).await?;
    let body = SignupResponse {
        user: UserResponse::from(&user),
        message: "account created; sign in to get an access token",
    };
    Ok((StatusCode::CREATED, axum::Json(body)))
}

/// Check credentials and open a session: returns an access token and a refresh token.
///
/// With `auth.refresh_cookie` on and an allowlisted `Origin`, the refresh token is set as the
/// cookie `__Host-warren_refresh` (`HttpOnly; Secure; SameSite=Strict; Path=/`, `Max-Age` = the
/// session's remaining lifetime) and left out of the body.
#[utoipa::path(
    post, path = "/api/v1/auth/signin", tag = "auth",
    request_body = SigninRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse, headers(
            ("Set-Cookie" = String, description = "`__Host-warren_refresh=…` in cookie mode, for an allowlisted `Origin`"),
        )),
        (status = 401, description = "`invalid_credentials` (identical for unknown email, wrong password, inactive account)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: per-IP limit or per-account backoff", body = ProblemDocument, content_type = "application/problem+json"),
        (status = "default", description = "Any other error", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn sign_in(
    State(state): State<AppState>,
    Client(client): Client,
    origin: RequestOrigin,
    Json(request): Json<SigninRequest>,
) -> ApiResult<Response> {
    let (email, password) = request.parse()?;
    let signed_in = state.accounts.sign_in(&email, &password, &client).await?;
    signed_in_response(&state, origin, signed_in)
}

/// Exchange a refresh token for a new access token and the next refresh token. The presented
/// token is spent; presenting it again within 10 s returns the same successor, later it
/// revokes the whole session.
///
/// The token comes from the body or, when the body has none, from the `__Host-warren_refresh`
/// cookie (cookie mode), which counts only with an allowlisted `Origin`; the successor then
/// goes back into the cookie.
#[utoipa::path(
    post, path = "/api/v1/auth/refresh", tag = "auth",
    request_body(content = RefreshTokenRequest, description = "`{refresh_token}`; `{}` or no body with the cookie"),
    params(("__Host-warren_refresh" = Option<String>, Cookie, description = "The refresh token in cookie mode (browsers on an allowlisted origin)")),
    responses(
        (status = 200, description = "Rotated", body = TokenResponse, headers(
            ("Set-Cookie" = String, description = "The successor as `__Host-warren_refresh=…` when the cookie was used"),
        )),
        (status = 401, description = "`invalid_refresh_token` (also: a cookie without `Origin`, or an allowlisted browser with no cookie)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "`origin_not_allowed`: the cookie came from a page whose origin is not allowlisted", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`", body = ProblemDocument, content_type = "application/problem+json"),
        (status = "default", description = "Any other error", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn refresh(
    State(state): State<AppState>,
    Client(client): Client,
    origin: RequestOrigin,
    headers: HeaderMap,
    RefreshBody(request): RefreshBody,
) -> ApiResult<Response> {
    let presented = Presented::from_request(&state, origin, &headers, request)?;
    match state.sessions.refresh(&presented.token, &client).await {
        Ok(signed_in) => signed_in_response(&state, origin, signed_in),
        // A dead cookie would only come back on every page load: delete it with the 401.
        Err(AccountError::InvalidRefreshToken) if presented.from_cookie => {
            Ok(with_cleared_cookie(AppError::InvalidRefreshToken.into_response()))
        }
        Err(error) => Err(error.into()),
    }
}

/// End the session the refresh token belongs to. 204 for any well-formed body: sign-out is
/// idempotent and does not reveal which tokens exist.
///
/// The token comes from the body or, as for refresh, from the cookie with an allowlisted
/// `Origin`; a signout that read the cookie deletes it (`Max-Age=0`).
#[utoipa::path(
    post, path = "/api/v1/auth/signout", tag = "auth",
    request_body(content = RefreshTokenRequest, description = "`{refresh_token}`; `{}` or no body with the cookie"),
    params(("__Host-warren_refresh" = Option<String>, Cookie, description = "The refresh token in cookie mode (browsers on an allowlisted origin)")),
    responses(
        (status = 204, description = "Signed out", headers(
            ("Set-Cookie" = String, description = "`__Host-warren_refresh=; Max-Age=0; …` when the cookie was used"),
        )),
        (status = 401, description = "`invalid_refresh_token`: a cookie without `Origin`, or an allowlisted browser with no cookie", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "`origin_not_allowed`: the cookie came from a page whose origin is not allowlisted", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`", body = ProblemDocument, content_type = "application/problem+json"),
        (status = "default", description = "Any other error", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn sign_out(
    State(state): State<AppState>,
    Client(client): Client,
    origin: RequestOrigin,
    headers: HeaderMap,
    RefreshBody(request): RefreshBody,
) -> ApiResult<Response> {
    let presented = Presented::from_request(&state, origin, &headers, request)?;
    state.sessions.sign_out(&presented.token, &client).await?;
    let signed_out = StatusCode::NO_CONTENT.into_response();
    Ok(if presented.from_cookie { with_cleared_cookie(signed_out) } else { signed_out })
}
