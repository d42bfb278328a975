//! `/api/v1/auth`: signing up, signing in, refreshing and signing out.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;

use crate::api::AppState;
use crate::api::error::ApiResult;
use crate::api::error::ProblemDocument;
use crate::api::extractors::{Client, Json};
use crate::api::v1::schemas::{
    RefreshTokenRequest, SigninRequest, SigninResponse, SignupRequest, SignupResponse,
    TokenResponse, UserResponse,
};

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
/// With two-factor sign-in on, the right password answers `mfa_required` with an `mfa_token`
/// instead, and `/api/v1/auth/signin/mfa` completes the signin.
#[utoipa::path(
    post, path = "/api/v1/auth/signin", tag = "auth",
    request_body = SigninRequest,
    responses(
        (status = 200, description = "Signed in, or (two-factor sign-in on) `mfa_required`", body = SigninResponse),
        (status = 401, description = "`invalid_credentials` (identical for unknown email, wrong password, inactive account)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: per-IP limit or per-account backoff", body = ProblemDocument, content_type = "application/problem+json"),
        (status = "default", description = "Any other error", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn sign_in(
    State(state): State<AppState>,
    Client(client): Client,
    Json(request): Json<SigninRequest>,
) -> ApiResult<axum::Json<SigninResponse>> {
    let (email, password) = request.parse()?;
    let outcome = state.accounts.sign_in(&email, &password, &client).await?;
    Ok(axum::Json(outcome.into()))
}

/// Exchange a refresh token for a new access token and the next refresh token. The presented
/// token is spent; presenting it again within 10 s returns the same successor, later it
/// revokes the whole session.
#[utoipa::path(
    post, path = "/api/v1/auth/refresh", tag = "auth",
    request_body = RefreshTokenRequest,
    responses(
        (status = 200, description = "Rotated", body = TokenResponse),
        (status = 401, description = "`invalid_refresh_token`", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`", body = ProblemDocument, content_type = "application/problem+json"),
        (status = "default", description = "Any other error", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn refresh(
    State(state): State<AppState>,
    Client(client): Client,
    Json(request): Json<RefreshTokenRequest>,
) -> ApiResult<axum::Json<TokenResponse>> {
    let signed_in = state.sessions.refresh(&request.refresh_token, &client).await?;
    Ok(axum::Json(signed_in.into()))
}

/// End the session the refresh token belongs to. 204 for any well-formed body: sign-out is
/// idempotent and does not reveal which tokens exist.
#[utoipa::path(
    post, path = "/api/v1/auth/signout", tag = "auth",
    request_body = RefreshTokenRequest,
    responses(
        (status = 204, description = "Signed out"),
        (status = 422, description = "`validation_failed`", body = ProblemDocument, content_type = "application/problem+json"),
        (status = "default", description = "Any other error", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn sign_out(
    State(state): State<AppState>,
    Client(client): Client,
    Json(request): Json<RefreshTokenRequest>,
) -> ApiResult<StatusCode> {
    state.sessions.sign_out(&request.refresh_token, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}
