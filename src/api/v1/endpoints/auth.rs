//! `/api/v1/auth`: signing up, signing in, refreshing and signing out.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;

use crate::api::AppState;
use crate::api::error::ApiResult;
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

async fn sign_up(
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

async fn sign_in(
    State(state): State<AppState>,
    Client(client): Client,
    Json(request): Json<SigninRequest>,
) -> ApiResult<axum::Json<TokenResponse>> {
    let (email, password) = request.parse()?;
    let signed_in = state.accounts.sign_in(&email, &password, &client).await?;
    Ok(axum::Json(signed_in.into()))
}

/// Exchanges a refresh token for a new access token and a rotated refresh token.
async fn refresh(
    State(state): State<AppState>,
    Client(client): Client,
    Json(request): Json<RefreshTokenRequest>,
) -> ApiResult<axum::Json<TokenResponse>> {
    let signed_in = state.sessions.refresh(&request.refresh_token, &client).await?;
    Ok(axum::Json(signed_in.into()))
}

/// Ends the session the refresh token belongs to. Always 204 for a well-formed body.
async fn sign_out(
    State(state): State<AppState>,
    Client(client): Client,
    Json(request): Json<RefreshTokenRequest>,
) -> ApiResult<StatusCode> {
    state.sessions.sign_out(&request.refresh_token, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}
