//! `/api/v1/users/me`: the caller's own account.

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;

use crate::api::AppState;
use crate::api::error::ApiResult;
use crate::api::error::responses::problem_responses;
use crate::api::extractors::{AuthUser, Client, Json};
use crate::api::refresh_cookie::{RequestOrigin, ended_response};
use crate::api::v1::schemas::{DeleteMeRequest, UpdateMeRequest, UserResponse};
use crate::domain::CandidatePassword;

pub fn router() -> Router<AppState> {
    Router::new().route("/me", get(me).patch(update_me).delete(delete_me))
}

problem_responses!(MeProblems: Unauthenticated);

/// The caller's account.
#[utoipa::path(
    get, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])),
    responses(
        (status = 200, description = "The account", body = UserResponse),
        MeProblems,
    )
)]
pub(crate) async fn me(AuthUser(caller): AuthUser) -> axum::Json<UserResponse> {
    axum::Json(UserResponse::from(&caller.user))
}

problem_responses!(UpdateMeProblems:
    Unauthenticated,
    ReauthenticationFailed,
    EmailTaken,
    ValidationFailed,
);

/// Change the name, email or password.
///
/// Email and password changes need `current_password`. A password change ends every other
/// session and every access token issued before it.
#[utoipa::path(
    patch, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])),
    request_body = UpdateMeRequest,
    responses(
        (status = 200, description = "The updated account", body = UserResponse),
        UpdateMeProblems,
    )
)]
pub(crate) async fn update_me(
    State(state): State<AppState>,
    AuthUser(caller): AuthUser,
    Client(client): Client,
    Json(request): Json<UpdateMeRequest>,
) -> ApiResult<axum::Json<UserResponse>> {
    let update = request.parse(state.password_policy, &caller.user.email)?;
    let user = state.accounts.update_profile(&caller, update, &client).await?;
    Ok(axum::Json(UserResponse::from(&user)))
}

problem_responses!(DeleteMeProblems: Unauthenticated, ReauthenticationFailed, ValidationFailed);

/// Delete the account for good: its sessions, refresh tokens and access tokens end at once and
/// the email is free again.
#[utoipa::path(
    delete, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])),
    request_body = DeleteMeRequest,
    responses(
        (status = 204, description = "Deleted", headers(
            ("Set-Cookie" = String, description = "`__Host-warren_refresh=; Max-Age=0; …` in cookie mode"),
        )),
        DeleteMeProblems,
    )
)]
pub(crate) async fn delete_me(
    State(state): State<AppState>,
    AuthUser(caller): AuthUser,
    Client(client): Client,
    origin: RequestOrigin,
    headers: HeaderMap,
    Json(request): Json<DeleteMeRequest>,
) -> ApiResult<Response> {
    let password = CandidatePassword::new(&request.current_password);
    state.accounts.delete_account(&caller, &password, &client).await?;
    Ok(ended_response(&state, origin, &headers))
}
