//! `/api/v1/rooms`: list, create, get, join, leave.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use super::AppState;
use super::error::{ApiError, Problem};
use super::extractors::{ApiJson, AuthUser, path_id};
use crate::domain::RoomName;
use crate::services::views::Room;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateRoomRequest {
    /// 1..=64 characters.
    #[schema(example = "Burrow builders")]
    pub name: String,
}

/// Every room, with your unread counts.
#[utoipa::path(get, path = "/api/v1/rooms", tag = "rooms", security(("bearer" = [])),
    responses((status = 200, body = [Room]), (status = 401, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Vec<Room>>, ApiError> {
    Ok(Json(state.chat.list_rooms(auth.user.id).await?))
}

/// Creates a room; its creator is its first member.
#[utoipa::path(post, path = "/api/v1/rooms", tag = "rooms", security(("bearer" = [])),
    request_body = CreateRoomRequest,
    responses((status = 201, body = Room), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(request): ApiJson<CreateRoomRequest>,
) -> Result<(StatusCode, Json<Room>), ApiError> {
    let name = RoomName::parse(&request.name)?;
    Ok((StatusCode::CREATED, Json(state.chat.create_room(&name, auth.user.id).await?)))
}

#[utoipa::path(get, path = "/api/v1/rooms/{id}", tag = "rooms", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Room), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Room>, ApiError> {
    Ok(Json(state.chat.room(path_id(&id)?, auth.user.id).await?))
}

/// Joins the room (idempotent).
#[utoipa::path(post, path = "/api/v1/rooms/{id}/join", tag = "rooms", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Room), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn join(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Room>, ApiError> {
    Ok(Json(state.chat.join(path_id(&id)?, &auth.user).await?))
}

/// Leaves the room (idempotent).
#[utoipa::path(post, path = "/api/v1/rooms/{id}/leave", tag = "rooms", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn leave(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.chat.leave(path_id(&id)?, &auth.user).await?;
    Ok(StatusCode::NO_CONTENT)
}
