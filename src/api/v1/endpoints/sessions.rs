//! `/api/v1/users/me/sessions`: the caller's signed-in devices.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

use crate::api::AppState;
use crate::api::error::ApiResult;
use crate::api::error::responses::problem_responses;
use crate::api::extractors::{AuthUser, Client};
use crate::api::v1::schemas::SessionResponse;

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(list).delete(sign_out_everywhere))
}

problem_responses!(ListProblems: Unauthenticated);

/// List the caller's live sessions, oldest first.
///
/// `current` marks the session whose access token made the request.
#[utoipa::path(
    get, path = "/api/v1/users/me/sessions", tag = "sessions", security(("bearer" = [])),
    responses(
        (status = 200, description = "Live sessions", body = Vec<SessionResponse>),
        ListProblems,
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    AuthUser(caller): AuthUser,
) -> ApiResult<axum::Json<Vec<SessionResponse>>> {
    let sessions = state.sessions.list(&caller).await?;
    Ok(axum::Json(sessions.into_iter().map(SessionResponse::from).collect()))
}

problem_responses!(SignOutEverywhereProblems: Unauthenticated);

/// Sign out everywhere: every session and every access token issued so far, this one included.
#[utoipa::path(
    delete, path = "/api/v1/users/me/sessions", tag = "sessions", security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out everywhere"),
        SignOutEverywhereProblems,
    )
)]
pub(crate) async fn sign_out_everywhere(
    State(state): State<AppState>,
    AuthUser(caller): AuthUser,
    Client(client): Client,
) -> ApiResult<StatusCode> {
    state.sessions.sign_out_everywhere(&caller, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}
