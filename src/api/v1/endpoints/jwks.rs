//! `/.well-known/jwks.json`: the public keys other services verify access tokens with.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::api::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/.well-known/jwks.json", get(jwks))
}

/// Serialised once at startup; cacheable, unlike every other response.
async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (header::CACHE_CONTROL, state.jwks_cache_control.clone()),
        ],
        state.keys.jwks_json().to_owned(),
    )
}
