//! A recommendation service that trusts Warren's access tokens without calling Warren per
//! request: it verifies them offline against Warren's published keys (JWKS).
//!
//! ```sh
//! make run                                          # Warren on :8000
//! cargo run --example recommendation_service        # this service on :8100
//! curl localhost:8100/recommendations -H "authorization: Bearer $TOKEN"
//! ```
//!
//! Environment: `RECOMMENDER_WARREN_URL` (default `http://127.0.0.1:8000`),
//! `RECOMMENDER_ISSUER` (`http://localhost:8000`), `RECOMMENDER_AUDIENCE` (`warren`),
//! `RECOMMENDER_PORT` (`8100`).
//!
//! Verification is `warren-verifier` (`crates/verifier`), the library every Rust service
//! uses to consume Warren tokens: pinned `EdDSA`, `typ: at+jwt`, a published `kid`, every
//! claim required, `iss`/`aud`, `exp`/`nbf` with 30 s of leeway, no `iat` from the future, no
//! lifetime over the maximum; cached keys, refetched on an unknown `kid` at a bounded rate.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
pub use warren_verifier::{VerifierConfig, WarrenVerifier};

pub fn app(verifier: Arc<WarrenVerifier>) -> Router {
    Router::new().route("/recommendations", get(recommendations)).with_state(verifier)
}

async fn recommendations(
    State(verifier): State<Arc<WarrenVerifier>>,
    headers: HeaderMap,
) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(token) = token else {
        return unauthorized("a Warren access token is required");
    };
    match verifier.verify(token).await {
        Ok(claims) => Json(json!({
            "user_id": claims.sub,
            "recommendations": recommend(&claims.sub.to_string()),
        }))
        .into_response(),
        Err(rejection) => unauthorized(&format!("token refused: {rejection}")),
    }
}

/// A stable pick per user; a real service would ask its model.
fn recommend(user_id: &str) -> Vec<&'static str> {
    const CATALOGUE: [&str; 6] = ["burrows", "tunnels", "carrots", "clover", "meadows", "hedges"];
    let seed = user_id.bytes().fold(0usize, |acc, b| acc.wrapping_mul(31).wrapping_add(b.into()));
    (0..3).map(|i| CATALOGUE[(seed + i * 2) % CATALOGUE.len()]).collect()
}

fn unauthorized(detail: &str) -> Response {
    let body =
        json!({"type": "about:blank", "title": "Unauthorized", "status": 401, "detail": detail});
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer"), (header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let warren = env_or("RECOMMENDER_WARREN_URL", "http://127.0.0.1:8000");
    let verifier = Arc::new(WarrenVerifier::new(VerifierConfig::new(
        &warren,
        &env_or("RECOMMENDER_ISSUER", "http://localhost:8000"),
        &env_or("RECOMMENDER_AUDIENCE", "warren"),
    )));
    let port: u16 = env_or("RECOMMENDER_PORT", "8100").parse()?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("recommendation service on http://127.0.0.1:{port}, trusting {warren}");
    axum::serve(listener, app(verifier)).await?;
    Ok(())
}
