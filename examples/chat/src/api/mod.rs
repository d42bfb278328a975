//! The HTTP edge: routes, state, extractors, errors, the room WebSocket and the OpenAPI document.

pub mod error;
pub mod extractors;
pub mod messages;
pub mod openapi;
pub mod rooms;
pub mod ws;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use axum::{Json, Router, middleware};
use serde_json::{Value, json};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;
use warren_verifier::WarrenVerifier;

use crate::services::ChatService;
use crate::services::names::NameDirectory;

/// JSON bodies are small: a message is at most 4000 characters.
const BODY_LIMIT: usize = 16 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub chat: Arc<ChatService>,
    pub verifier: Arc<WarrenVerifier>,
    pub names: Arc<NameDirectory>,
    /// `cors.allowed_origins`: the only `Origin`s a room socket may come from.
    pub allowed_origins: Arc<[String]>,
    /// Turns `true` when the server stops, so room sockets close with 1001.
    pub stopping: tokio::sync::watch::Receiver<bool>,
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/api/v1/rooms", get(rooms::list).post(rooms::create))
        .route("/api/v1/rooms/{id}", get(rooms::get))
        .route("/api/v1/rooms/{id}/join", post(rooms::join))
        .route("/api/v1/rooms/{id}/leave", post(rooms::leave))
        .route("/api/v1/rooms/{id}/messages", get(messages::history).post(messages::send))
        .route("/api/v1/rooms/{id}/read", post(messages::mark_read))
        .route(
            "/api/v1/rooms/{id}/messages/{message_id}/reactions/{emoji}",
            put(messages::add_reaction).delete(messages::remove_reaction),
        )
        .route("/ws/rooms/{id}", get(ws::room_socket))
        .route("/api/health", get(health))
        .with_state(state);
    Router::new()
        .merge(SwaggerUi::new("/docs").url("/docs/openapi.json", openapi::ApiDoc::openapi()))
        .merge(api)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(CatchPanicLayer::new())
        .layer(middleware::from_fn(error::problems))
        .layer(TraceLayer::new_for_http())
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/api/health", tag = "health", responses((status = 200)))]
pub async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}
