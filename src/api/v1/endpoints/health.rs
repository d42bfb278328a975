//! `/api/health`: liveness and readiness.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde_json::{Value, json};

use crate::api::error::ApiResult;
use crate::api::{AppError, AppState};

/// Readiness answers within this even when the database hangs.
const READINESS_TIMEOUT: Duration = Duration::from_secs(2);

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(health)).route("/ready", get(ready))
}

/// The process is up and serving; says nothing about dependencies.
async fn health() -> axum::Json<Value> {
    axum::Json(json!({ "status": "healthy" }))
}

/// Ready when the database answers a query; 503 otherwise, so load balancers route around us.
async fn ready(State(state): State<AppState>) -> ApiResult<axum::Json<Value>> {
    match tokio::time::timeout(READINESS_TIMEOUT, state.database.ping()).await {
        Ok(Ok(())) => Ok(axum::Json(json!({ "status": "ready", "database": "ok" }))),
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness check failed");
            Err(AppError::Unavailable)
        }
        Err(_) => {
            tracing::warn!("readiness check timed out");
            Err(AppError::Unavailable)
        }
    }
}
