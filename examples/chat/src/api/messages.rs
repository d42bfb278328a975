//! `/api/v1/rooms/{id}/messages`, `/read` and reactions: members only.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::AppState;
use super::error::{ApiError, Problem};
use super::extractors::{ApiJson, AuthUser, path_id};
use crate::domain::{Emoji, FieldError, MessageContent};
use crate::services::chat::MAX_PAGE;
use crate::services::views::Message;

#[derive(Debug, Deserialize, IntoParams)]
pub struct HistoryQuery {
    /// Only messages older than this message id (the cursor: the last id of the previous page).
    pub before: Option<String>,
    /// 1..=100, default 50.
    pub limit: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SendMessageRequest {
    /// 1..=4000 characters.
    pub content: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MarkReadRequest {
    pub message_id: String,
}

/// The room's messages, newest first, a page at a time.
#[utoipa::path(get, path = "/api/v1/rooms/{id}/messages", tag = "messages", security(("bearer" = [])),
    params(("id" = Uuid, Path), HistoryQuery),
    responses((status = 200, body = [Message]), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn history(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    Query(query): Query<HistoryQuery>,
) -> Result<Json<Vec<Message>>, ApiError> {
    let room = path_id(&id)?;
    let before =
        query.before.as_deref().map(Uuid::parse_str).transpose().map_err(|_| FieldError {
            field: "before",
            code: "invalid",
            message: "before must be a message id".into(),
        })?;
    let limit = match query.limit.as_deref().map(str::parse::<i64>) {
        None => 50,
        Some(Ok(n)) if (1..=MAX_PAGE).contains(&n) => n,
        Some(_) => {
            let message = "limit must be between 1 and 100".into();
            return Err(FieldError { field: "limit", code: "out_of_range", message }.into());
        }
    };
    Ok(Json(state.chat.history(room, auth.user.id, before, limit).await?))
}

#[utoipa::path(post, path = "/api/v1/rooms/{id}/messages", tag = "messages", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = SendMessageRequest,
    responses((status = 201, body = Message), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn send(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<SendMessageRequest>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    let room = path_id(&id)?;
    let content = MessageContent::parse(&request.content)?;
    Ok((StatusCode::CREATED, Json(state.chat.send(room, &auth.user, content).await?)))
}

/// Marks everything up to `message_id` as read.
#[utoipa::path(post, path = "/api/v1/rooms/{id}/read", tag = "messages", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = MarkReadRequest,
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn mark_read(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<MarkReadRequest>,
) -> Result<StatusCode, ApiError> {
    let room = path_id(&id)?;
    let message = Uuid::parse_str(&request.message_id).map_err(|_| FieldError {
        field: "message_id",
        code: "invalid",
        message: "message_id must be a message id".into(),
    })?;
    state.chat.mark_read(room, auth.user.id, message).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/api/v1/rooms/{id}/messages/{message_id}/reactions/{emoji}", tag = "messages",
    security(("bearer" = [])), params(("id" = Uuid, Path), ("message_id" = Uuid, Path), ("emoji" = String, Path)),
    responses((status = 200, body = Message), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn add_reaction(
    state: State<AppState>,
    auth: AuthUser,
    path: Path<(String, String, String)>,
) -> Result<Json<Message>, ApiError> {
    react(state, auth, path, true).await
}

#[utoipa::path(delete, path = "/api/v1/rooms/{id}/messages/{message_id}/reactions/{emoji}", tag = "messages",
    security(("bearer" = [])), params(("id" = Uuid, Path), ("message_id" = Uuid, Path), ("emoji" = String, Path)),
    responses((status = 200, body = Message), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn remove_reaction(
    state: State<AppState>,
    auth: AuthUser,
    path: Path<(String, String, String)>,
) -> Result<Json<Message>, ApiError> {
    react(state, auth, path, false).await
}

async fn react(
    State(state): State<AppState>,
    auth: AuthUser,
    Path((room, message, emoji)): Path<(String, String, String)>,
    add: bool,
) -> Result<Json<Message>, ApiError> {
    let (room, message) = (path_id(&room)?, path_id(&message)?);
    let emoji = Emoji::parse(&emoji)?;
    Ok(Json(state.chat.react(room, message, &auth.user, &emoji, add).await?))
}
