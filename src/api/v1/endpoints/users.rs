//! `/api/v1/users/me`: the caller's own account.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

use crate::api::AppState;
use crate::api::error::ApiResult;
use crate::api::extractors::{AuthUser, Client, Json};
use crate::api::v1::schemas::{DeleteMeRequest, UpdateMeRequest, UserResponse};
use crate::domain::CandidatePassword;

pub fn router() -> Router<AppState> {
    Router::new().route("/me", get(me).patch(update_me).delete(delete_me))
}

async fn me(AuthUser(caller): AuthUser) -> axum::Json<UserResponse> {
    axum::Json(UserResponse::from(&caller.user))
}

async fn update_me(
    State(state): State<AppState>,
    AuthUser(caller): AuthUser,
    Client(client): Client,
    Json(request): Json<UpdateMeRequest>,
) -> ApiResult<axum::Json<UserResponse>> {
    let update = request.parse(state.password_policy, &caller.user.email)?;
    let user = state.accounts.update_profile(&caller, update, &client).await?;
    Ok(axum::Json(UserResponse::from(&user)))
}

async fn delete_me(
    State(state): State<AppState>,
    AuthUser(caller): AuthUser,
    Client(client): Client,
    Json(request): Json<DeleteMeRequest>,
) -> ApiResult<StatusCode> {
    let password = CandidatePassword::new(&request.current_password);
    state.accounts.delete_account(&caller, &password, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}
