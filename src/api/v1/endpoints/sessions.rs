//! `/api/v1/users/me/sessions`: the caller's signed-in devices.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{delete, get};
use uuid::Uuid;

use crate::api::AppState;
use crate::api::error::responses::problem_responses;
use crate::api::error::{ApiResult, AppError};
use crate::api::extractors::{AuthUser, Client};
use crate::api::refresh_cookie::{RequestOrigin, ended_response};
use crate::api::v1::schemas::SessionResponse;
use crate::domain::SessionId;

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(list).delete(sign_out_everywhere)).route("/{id}", delete(end_one))
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
///
/// In cookie mode the answer also deletes the browser's refresh cookie.
#[utoipa::path(
    delete, path = "/api/v1/users/me/sessions", tag = "sessions", security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out everywhere", headers(
            ("Set-Cookie" = String, description = "`__Host-warren_refresh=; Max-Age=0; …` in cookie mode"),
        )),
        SignOutEverywhereProblems,
    )
)]
pub(crate) async fn sign_out_everywhere(
    State(state): State<AppState>,
    AuthUser(caller): AuthUser,
    Client(client): Client,
    origin: RequestOrigin,
    headers: HeaderMap,
) -> ApiResult<Response> {
    state.sessions.sign_out_everywhere(&caller, &client).await?;
    Ok(ended_response(&state, origin, &headers))
}

problem_responses!(EndOneProblems: Unauthenticated, NotFound);

/// End one of the caller's sessions, e.g. every other one from the sessions list: its refresh
/// token dies, its access tokens fail here at once and its event sockets close with 4401.
///
/// 404 for anything that is not one of the caller's live sessions.
#[utoipa::path(
    delete, path = "/api/v1/users/me/sessions/{id}", tag = "sessions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "A session `id` from the list")),
    responses(
        (status = 204, description = "That session ended"),
        EndOneProblems,
    )
)]
pub(crate) async fn end_one(
    State(state): State<AppState>,
    AuthUser(caller): AuthUser,
    Client(client): Client,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = Uuid::parse_str(&id).map_err(|_| AppError::NotFound)?;
    let ended = state.sessions.end_session(&caller, SessionId::from_uuid(id), &client).await?;
    if ended { Ok(StatusCode::NO_CONTENT) } else { Err(AppError::NotFound) }
}
