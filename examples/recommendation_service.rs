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
//! What it checks, exactly as Warren does: the algorithm is pinned to `EdDSA`, the header `typ`
//! must be `at+jwt`, the `kid` must be a published key, and `iss`, `aud`, `exp` and `nbf` are
//! validated with 30 s of leeway. Keys are cached: an unknown `kid` triggers a refetch (at
//! most one per `min_refetch_interval`, so forged kids cannot make us hammer Warren), and if
//! Warren is briefly down the cached keys keep working.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::RwLock;

/// The claims this service relies on; Warren's tokens carry more.
#[derive(Debug, Clone, Deserialize)]
pub struct WarrenClaims {
    pub sub: String,
    pub exp: i64,
    pub sid: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    Malformed,
    NotAnAccessToken,
    UnknownKey,
    Invalid(String),
}

#[derive(Debug, Clone)]
pub struct VerifierConfig {
    pub jwks_url: String,
    pub issuer: String,
    pub audience: String,
    pub min_refetch_interval: Duration,
}

#[derive(Default)]
struct KeyCache {
    keys: HashMap<String, DecodingKey>,
    fetched_at: Option<Instant>,
}

/// Verifies Warren access tokens against a cached copy of Warren's JWKS.
pub struct WarrenVerifier {
    config: VerifierConfig,
    http: reqwest::Client,
    validation: Validation,
    cache: RwLock<KeyCache>,
    fetches: AtomicUsize,
}

impl WarrenVerifier {
    pub fn new(config: VerifierConfig) -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 30;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(3))
            .build()
            .expect("a client without TLS options always builds");
        Self { config, http, validation, cache: RwLock::default(), fetches: AtomicUsize::new(0) }
    }

    pub async fn verify(&self, token: &str) -> Result<WarrenClaims, Rejection> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| Rejection::Malformed)?;
        if header.alg != Algorithm::EdDSA || header.typ.as_deref() != Some("at+jwt") {
            return Err(Rejection::NotAnAccessToken);
        }
        let kid = header.kid.ok_or(Rejection::UnknownKey)?;
        let key = if let Some(key) = self.cached_key(&kid).await {
            key
        } else {
            self.refetch_keys().await;
            self.cached_key(&kid).await.ok_or(Rejection::UnknownKey)?
        };
        jsonwebtoken::decode::<WarrenClaims>(token, &key, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| Rejection::Invalid(e.to_string()))
    }

    /// How many times the JWKS was fetched (for tests and metrics).
    pub fn fetch_count(&self) -> usize {
        self.fetches.load(Ordering::Relaxed)
    }

    async fn cached_key(&self, kid: &str) -> Option<DecodingKey> {
        self.cache.read().await.keys.get(kid).cloned()
    }

    /// Refetches the JWKS unless it was fetched within the minimum interval. A failed fetch
    /// keeps the keys we have.
    async fn refetch_keys(&self) {
        let mut cache = self.cache.write().await;
        if cache.fetched_at.is_some_and(|at| at.elapsed() < self.config.min_refetch_interval) {
            return;
        }
        cache.fetched_at = Some(Instant::now());
        self.fetches.fetch_add(1, Ordering::Relaxed);
        match self.fetch_keys().await {
            Ok(keys) => cache.keys = keys,
            Err(error) => eprintln!("JWKS fetch failed, keeping cached keys: {error}"),
        }
    }

    async fn fetch_keys(&self) -> Result<HashMap<String, DecodingKey>, String> {
        let response =
            self.http.get(&self.config.jwks_url).send().await.map_err(|e| e.to_string())?;
        let jwks: JwkSet = response
            .error_for_status()
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        Ok(jwks
            .keys
            .iter()
            .filter_map(|jwk| {
                let kid = jwk.common.key_id.clone()?;
                DecodingKey::from_jwk(jwk).ok().map(|key| (kid, key))
            })
            .collect())
    }
}

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
            "recommendations": recommend(&claims.sub),
        }))
        .into_response(),
        Err(rejection) => unauthorized(&format!("token refused: {rejection:?}")),
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
    let verifier = Arc::new(WarrenVerifier::new(VerifierConfig {
        jwks_url: format!("{warren}/.well-known/jwks.json"),
        issuer: env_or("RECOMMENDER_ISSUER", "http://localhost:8000"),
        audience: env_or("RECOMMENDER_AUDIENCE", "warren"),
        min_refetch_interval: Duration::from_secs(5),
    }));
    let port: u16 = env_or("RECOMMENDER_PORT", "8100").parse()?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("recommendation service on http://127.0.0.1:{port}, trusting {warren}");
    axum::serve(listener, app(verifier)).await?;
    Ok(())
}
