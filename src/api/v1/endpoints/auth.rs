//! `/api/v1/auth`: signing up, signing in, refreshing and signing out.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use crate::api::AppState;
use crate::api::error::responses::problem_responses;
use crate::api::error::{ApiResult, AppError};
use crate::api::extractors::{Client, Json};
use crate::api::refresh_cookie::{
    Presented, RefreshBody, RequestOrigin, signed_in_response, with_cleared_cookie,
};
use crate::api::v1::schemas::{
    RefreshTokenRequest, SigninRequest, SigninResponse, SignupRequest, SignupResponse,
    TokenResponse, UserResponse,
};
use crate::services::{SessionError, SignInOutcome};

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

problem_responses!(SignUpProblems:
    EmailTaken,
    ValidationFailed("naming each bad field"),
    RateLimited,
);

/// Create an account.
///
/// Signing up does not sign in: call `/api/v1/auth/signin` next.
#[utoipa::path(
    post, path = "/api/v1/auth/signup", tag = "auth",
    request_body = SignupRequest,
    responses(
        (status = 201, description = "Account created", body = SignupResponse),
        SignUpProblems,
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

problem_responses!(SignInProblems:
    InvalidCredentials("identical for unknown email, wrong password, inactive account"),
    ValidationFailed,
    RateLimited("per-IP limit or per-account backoff"),
);

/// Check credentials and open a session: returns an access token and a refresh token.
///
/// With `auth.refresh_cookie` on and an allowlisted `Origin`, the refresh token is set as the
/// cookie `__Host-warren_refresh` (`HttpOnly; Secure; SameSite=Strict; Path=/`, `Max-Age` = the
/// session's remaining lifetime) and left out of the body.
///
/// With two-factor sign-in on, the right password answers `mfa_required` with an `mfa_token`
/// instead, and `/api/v1/auth/signin/mfa` completes the signin.
#[utoipa::path(
    post, path = "/api/v1/auth/signin", tag = "auth",
    request_body = SigninRequest,
    responses(
        (status = 200, description = "Signed in, or (two-factor sign-in on) `mfa_required`", body = SigninResponse, headers(
            ("Set-Cookie" = String, description = "`__Host-warren_refresh=…` in cookie mode, for an allowlisted `Origin`"),
        )),
        SignInProblems,
    )
)]
pub(crate) async fn sign_in(
    State(state): State<AppState>,
    Client(client): Client,
    origin: RequestOrigin,
    Json(request): Json<SigninRequest>,
) -> ApiResult<Response> {
    let (email, password) = request.parse()?;
    match state.accounts.sign_in(&email, &password, &client).await? {
        SignInOutcome::SignedIn(signed_in) => signed_in_response(&state, origin, signed_in),
        SignInOutcome::MfaRequired(challenge) => {
            let body = SigninResponse::MfaRequired(challenge.into());
            Ok(axum::Json(body).into_response())
        }
    }
}

problem_responses!(RefreshProblems:
    InvalidRefreshToken("also: a cookie without `Origin`, or an allowlisted browser with no cookie"),
    OriginNotAllowed("the cookie came from a page whose origin is not allowlisted"),
    ValidationFailed,
    RateLimited,
);

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
        RefreshProblems,
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
        Err(SessionError::InvalidRefreshToken) if presented.from_cookie => {
            Ok(with_cleared_cookie(AppError::InvalidRefreshToken.into_response()))
        }
        Err(error) => Err(error.into()),
    }
}

problem_responses!(SignOutProblems:
    InvalidRefreshToken("unknown, expired, spent or revoked; also a cookie without `Origin`"),
    OriginNotAllowed("the cookie came from a page whose origin is not allowlisted"),
    ValidationFailed,
);

/// End the session the refresh token belongs to. Like refresh, a token that is unknown,
/// expired, spent or revoked (or an inactive account's) is refused with 401, so a client learns
/// that its signout ended nothing.
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
        SignOutProblems,
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
    let answer = match state.sessions.sign_out(&presented.token, &client).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(SessionError::InvalidRefreshToken) => AppError::InvalidRefreshToken.into_response(),
        Err(error) => return Err(error.into()),
    };
    // Signed out now, or the cookie was dead already: either way it goes.
    Ok(if presented.from_cookie { with_cleared_cookie(answer) } else { answer })
}
