//! `/api/v1/admin`: account administration for service clients. Only client tokens
//! (`/oauth/token`) are accepted: `admin:read` for reads, `admin:write` for changes. The calls
//! go through the same [`crate::services::AdminService`] as `warren users …`, so they have the
//! same effects (events published, sockets closed), and each is audited with the client's id.

mod schemas;

use axum::Router;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::{Method, StatusCode, request::Parts};
use axum::routing::{get, post};
use uuid::Uuid;

use crate::api::AppState;
use crate::api::error::responses::problem_responses;
use crate::api::error::{ApiResult, AppError};
use crate::api::extractors::{Client, Json, bearer_token};
use crate::api::v1::schemas::UserResponse;
use crate::domain::{Scope, UserId};
use crate::services::{AccountRef, Actor, ClientError};
pub use schemas::{
    AdminAuditEventResponse, AdminUpdateRequest, AuditPageResponse, AuditParams, UserPageResponse,
    UsersParams,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(list_users))
        .route("/users/{id}", get(show_user).patch(update_user).delete(delete_user))
        .route("/users/{id}/sign-out", post(sign_out_user))
        .route("/audit", get(audit))
}

/// A service client holding a token with the scope the request's method needs.
pub struct AdminCaller(pub Actor);

impl FromRequestParts<AppState> for AdminCaller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let needed = if parts.method == Method::GET { Scope::AdminRead } else { Scope::AdminWrite };
        let Some(token) = bearer_token(&parts.headers) else {
            return Err(AppError::Unauthenticated);
        };
        let caller = match state.clients.caller(token).await {
            Ok(caller) => caller,
            Err(ClientError::InvalidClient) => {
                // A live user token is the wrong kind of token, not a bad one.
                return Err(match state.sessions.authenticate(token).await {
                    Ok(_) => AppError::InsufficientScope(needed),
                    Err(_) => AppError::InvalidAccessToken,
                });
            }
            Err(other) => return Err(other.into()),
        };
        if !caller.scopes.contains(needed) {
            return Err(AppError::InsufficientScope(needed));
        }
        let Client(context) =
            Client::from_request_parts(parts, state).await.unwrap_or_else(|e| match e {});
        Ok(Self(Actor::Client { id: caller.id, context }))
    }
}

/// The account a path names; anything but a UUID names none.
fn account(id: &str) -> Result<AccountRef, AppError> {
    let uuid = Uuid::try_parse(id).map_err(|_| AppError::NotFound)?;
    Ok(AccountRef::Id(UserId::from_uuid(uuid)))
}

problem_responses!(ReadProblems: ValidationFailed, Unauthenticated, InsufficientScope("a user token, or a client token without `admin:read`"));

/// List accounts, oldest first, a page at a time.
///
/// `query` matches anywhere in the email or name, in any case. Pass a response's
/// `next_cursor` as `cursor` for the next page; it is null on the last page.
#[utoipa::path(
    get, path = "/api/v1/admin/users", tag = "admin", security(("bearer" = [])),
    params(UsersParams),
    responses((status = 200, description = "One page of accounts", body = UserPageResponse), ReadProblems)
)]
pub(crate) async fn list_users(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
    params: UsersParams,
) -> ApiResult<axum::Json<UserPageResponse>> {
    let page =
        state.admin.list(params.query.as_deref(), params.cursor, params.limit, &actor).await?;
    Ok(axum::Json(UserPageResponse {
        users: page.users.iter().map(UserResponse::from).collect(),
        next_cursor: page.next.map(|id| id.to_string()),
    }))
}

problem_responses!(ShowProblems: Unauthenticated, InsufficientScope("a user token, or a client token without `admin:read`"), NotFound);

/// One account.
#[utoipa::path(
    get, path = "/api/v1/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The user id")),
    responses((status = 200, description = "The account", body = UserResponse), ShowProblems)
)]
pub(crate) async fn show_user(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<UserResponse>> {
    let user = state.admin.show(&account(&id)?, &actor).await?;
    Ok(axum::Json(UserResponse::from(&user)))
}

problem_responses!(UpdateProblems: MalformedJson, Unauthenticated, InsufficientScope("a user token, or a client token without `admin:write`"), NotFound, UnsupportedMediaType, ValidationFailed);

/// Change an account: activate or deactivate it, mark its email verified or not, set or clear
/// its name.
///
/// Deactivating works as `warren users deactivate`: signin then fails like a wrong password,
/// its tokens stop working and its event sockets close.
#[utoipa::path(
    patch, path = "/api/v1/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The user id")),
    request_body = AdminUpdateRequest,
    responses((status = 200, description = "The account as changed", body = UserResponse), UpdateProblems)
)]
pub(crate) async fn update_user(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
    Path(id): Path<String>,
    Json(request): Json<AdminUpdateRequest>,
) -> ApiResult<axum::Json<UserResponse>> {
    let target = account(&id)?;
    let update = request.parse()?;
    let user = state.admin.update(&target, update, &actor).await?;
    Ok(axum::Json(UserResponse::from(&user)))
}

problem_responses!(WriteProblems: Unauthenticated, InsufficientScope("a user token, or a client token without `admin:write`"), NotFound);

/// Sign an account out everywhere: every session revoked, every access token invalid.
#[utoipa::path(
    post, path = "/api/v1/admin/users/{id}/sign-out", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The user id")),
    responses((status = 204, description = "Signed out everywhere"), WriteProblems)
)]
pub(crate) async fn sign_out_user(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.admin.sign_out(&account(&id)?, &actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete an account with its sessions (its audit events stay).
#[utoipa::path(
    delete, path = "/api/v1/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The user id")),
    responses((status = 204, description = "Deleted"), WriteProblems)
)]
pub(crate) async fn delete_user(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.admin.delete(&account(&id)?, &actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The audit trail, newest first, a page at a time.
///
/// Filter by `user_id` and/or `kind`; pass a response's `next_cursor` as `before` for the
/// next (older) page.
#[utoipa::path(
    get, path = "/api/v1/admin/audit", tag = "admin", security(("bearer" = [])),
    params(AuditParams),
    responses((status = 200, description = "One page of events", body = AuditPageResponse), ReadProblems)
)]
pub(crate) async fn audit(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
    params: AuditParams,
) -> ApiResult<axum::Json<AuditPageResponse>> {
    let page = state.admin.audit(params.query(), &actor).await?;
    Ok(axum::Json(AuditPageResponse {
        events: page.events.into_iter().map(AdminAuditEventResponse::from).collect(),
        next_cursor: page.next.map(|id| id.to_string()),
    }))
}
