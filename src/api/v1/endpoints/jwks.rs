//! `/.well-known/jwks.json`: the public keys other services verify access tokens with.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/.well-known/jwks.json", get(jwks))
}

/// The JSON Web Key Set (RFC 7517), as `core::security::KeyRing` serialises it.
#[derive(Debug, Serialize, ToSchema)]
pub struct JwkSet {
    keys: Vec<Jwk>,
}

/// One Ed25519 public key (RFC 8037).
#[derive(Debug, Serialize, ToSchema)]
pub struct Jwk {
    #[schema(example = "OKP")]
    kty: String,
    #[schema(example = "Ed25519")]
    crv: String,
    /// The public key, base64url.
    #[schema(example = "oWAma10ClrNhHxAqiWeF1O97QHVOf8xSSzwFDYJ4w30")]
    x: String,
    /// RFC 7638 thumbprint; matches the `kid` header of tokens this key signed.
    #[schema(example = "NcAu4Tmqf6aZ_YPM_EDA4mQefuHeI2kmXR0tZ09cdTo")]
    kid: String,
    #[schema(example = "EdDSA")]
    alg: String,
    #[serde(rename = "use")]
    #[schema(example = "sig")]
    key_use: String,
}

/// The keys that verify Warren's access tokens: the signing key and any older keys still
/// accepted. Cacheable for a third of the access-token lifetime.
#[utoipa::path(
    get, path = "/.well-known/jwks.json", tag = "keys",
    responses((status = 200, description = "Public signing keys", body = JwkSet))
)]
pub(crate) async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (header::CACHE_CONTROL, state.jwks_cache_control.clone()),
        ],
        state.keys.jwks_json().to_owned(),
    )
}
