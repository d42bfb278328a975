//! `/api/health`: liveness and readiness.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::error::ApiResult;
use crate::api::error::responses::problem_responses;
use crate::api::{AppError, AppState};

/// Readiness answers within this even when the database hangs (a blackholed connection):
/// an unreachable database must give a 503 within 2 s, and the margin covers a busy scheduler.
const READINESS_TIMEOUT: Duration = Duration::from_millis(1500);

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(health)).route("/ready", get(ready))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Liveness {
    #[schema(example = "healthy")]
    status: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    #[schema(example = "ready")]
    status: &'static str,
    #[schema(example = "ok")]
    database: &'static str,
}

/// Liveness: the process is up and serving. Says nothing about dependencies.
#[utoipa::path(
    get, path = "/api/health", tag = "health",
    responses((status = 200, description = "Alive", body = Liveness))
)]
pub(crate) async fn health() -> axum::Json<Liveness> {
    axum::Json(Liveness { status: "healthy" })
}

problem_responses!(ReadyProblems: ServiceUnavailable);

/// Readiness: the database answers within 2 s and has every migration this build needs. 503 otherwise, so load balancers route
/// around this instance until it recovers.
#[utoipa::path(
    get, path = "/api/health/ready", tag = "health",
    responses(
        (status = 200, description = "Ready", body = Readiness),
        ReadyProblems,
    )
)]
pub(crate) async fn ready(State(state): State<AppState>) -> ApiResult<axum::Json<Readiness>> {
    match tokio::time::timeout(READINESS_TIMEOUT, state.database.ready()).await {
        Ok(Ok(())) => Ok(axum::Json(Readiness { status: "ready", database: "ok" })),
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
