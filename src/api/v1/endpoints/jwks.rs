//! `/.well-known/jwks.json`: the public keys other services verify access tokens with.

use std::borrow::Cow;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use jsonwebtoken::jwk::JwkSet;
use serde::Serialize;
use serde_json::json;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa::{PartialSchema, ToSchema};

use crate::api::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/.well-known/jwks.json", get(jwks))
}

/// The served body: `jsonwebtoken`'s own [`JwkSet`], so verifiers built on it (the example
/// consumer, the tests) parse exactly the type we write. This wrapper only gives it a schema.
/// A clone per request: the set is a few hundred bytes and fetched once per cache period.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct PublicKeys(JwkSet);

impl PartialSchema for PublicKeys {
    fn schema() -> RefOr<Schema> {
        let key = json!({
            "type": "object",
            "description": "One Ed25519 public key (RFC 8037).",
            "required": ["kty", "crv", "x", "kid", "alg", "use"],
            "properties": {
                "kty": {"type": "string", "example": "OKP"},
                "crv": {"type": "string", "example": "Ed25519"},
                "x": {"type": "string", "description": "The public key, base64url.",
                      "example": "oWAma10ClrNhHxAqiWeF1O97QHVOf8xSSzwFDYJ4w30"},
                "kid": {"type": "string",
                        "description": "RFC 7638 thumbprint; the kid header of tokens this key signed.",
                        "example": "NcAu4Tmqf6aZ_YPM_EDA4mQefuHeI2kmXR0tZ09cdTo"},
                "alg": {"type": "string", "example": "EdDSA"},
                "use": {"type": "string", "example": "sig"},
            },
        });
        let set = json!({
            "type": "object",
            "description": "The JSON Web Key Set (RFC 7517).",
            "required": ["keys"],
            "properties": {"keys": {"type": "array", "items": key}},
        });
        RefOr::T(serde_json::from_value(set).expect("the literal above is a valid schema"))
    }
}

impl ToSchema for PublicKeys {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("JwkSet")
    }
}

/// The public keys that verify Warren's access tokens.
///
/// The signing key and any older keys still accepted. Cacheable for a third of the
/// access-token lifetime.
#[utoipa::path(
    get, path = "/.well-known/jwks.json", tag = "keys",
    responses((status = 200, description = "Public signing keys", body = PublicKeys))
)]
pub(crate) async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, state.jwks_cache_control.clone())],
        Json(PublicKeys(state.keys.jwks().clone())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::security::keys::tests::generated_ring;

    /// The schema is written by hand, so it is checked against what is actually served.
    #[test]
    fn the_schema_declares_exactly_the_members_served() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ring = generated_ring(dir.path());
        let served = serde_json::to_value(PublicKeys(ring.jwks().clone())).expect("json");
        let schema = serde_json::to_value(PublicKeys::schema()).expect("schema json");
        let declared = &schema["properties"]["keys"]["items"];
        let mut members: Vec<&String> =
            served["keys"][0].as_object().expect("a key object").keys().collect();
        let mut properties: Vec<&String> =
            declared["properties"].as_object().expect("properties").keys().collect();
        let mut required: Vec<&str> = declared["required"]
            .as_array()
            .expect("required")
            .iter()
            .filter_map(|r| r.as_str())
            .collect();
        members.sort();
        properties.sort();
        required.sort_unstable();
        assert_eq!(members, properties);
        assert_eq!(members, required);
    }
}
