//! `/api/v1/users/me/sessions`: the caller's signed-in devices.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

use crate::api::AppState;
use crate::api::error::ApiResult;
use crate::api::extractors::{AuthUser, Client};
use crate::api::v1::schemas::SessionResponse;

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(list).delete(sign_out_everywhere))
}

async fn list(
    State(state): State<AppState>,
    AuthUser(caller): AuthUser,
) -> ApiResult<axum::Json<Vec<SessionResponse>>> {
    let sessions = state.sessions.list(&caller).await?;
    Ok(axum::Json(sessions.into_iter().map(SessionResponse::from).collect()))
}

/// Revokes every session and every access token issued so far, this one included.
async fn sign_out_everywhere(
    State(state): State<AppState>,
    AuthUser(caller): AuthUser,
    Client(client): Client,
) -> ApiResult<StatusCode> {
    state.sessions.sign_out_everywhere(&caller, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}
