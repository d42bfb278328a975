//! `/api/v1/auth`: signing up, signing in, refreshing and signing out.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;

use crate::api::AppState;
use crate::api::error::ApiResult;
use crate::api::error::responses::problem_responses;
use crate::api::extractors::{Client, Json};
use crate::api::v1::schemas::{
    RefreshTokenRequest, SigninRequest, SignupRequest, SignupResponse, TokenResponse, UserResponse,
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
#[utoipa::path(
    post, path = "/api/v1/auth/signin", tag = "auth",
    request_body = SigninRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        SignInProblems,
    )
)]
pub(crate) async fn sign_in(
    State(state): State<AppState>,
    Client(client): Client,
    Json(request): Json<SigninRequest>,
) -> ApiResult<axum::Json<TokenResponse>> {
    let (email, password) = request.parse()?;
    let signed_in = state.accounts.sign_in(&email, &password, &client).await?;
    Ok(axum::Json(signed_in.into()))
}

problem_responses!(RefreshProblems: InvalidRefreshToken, ValidationFailed, RateLimited);

/// Exchange a refresh token for a new access token and the next refresh token. The presented
/// token is spent; presenting it again within 10 s returns the same successor, later it
/// revokes the whole session.
#[utoipa::path(
    post, path = "/api/v1/auth/refresh", tag = "auth",
    request_body = RefreshTokenRequest,
    responses(
        (status = 200, description = "Rotated", body = TokenResponse),
        RefreshProblems,
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

problem_responses!(SignOutProblems: ValidationFailed);

/// End the session the refresh token belongs to. 204 for any well-formed body: sign-out is
/// idempotent and does not reveal which tokens exist.
#[utoipa::path(
    post, path = "/api/v1/auth/signout", tag = "auth",
    request_body = RefreshTokenRequest,
    responses(
        (status = 204, description = "Signed out"),
        SignOutProblems,
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
