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
            "description": "One public key: Ed25519 (`OKP`, RFC 8037) verifying EdDSA, or \
                            P-256 (`EC`, RFC 7518) verifying ES256; `alg` names the one \
                            algorithm it verifies.",
            "required": ["kty", "crv", "x", "kid", "alg", "use"],
            "properties": {
                "kty": {"type": "string", "enum": ["OKP", "EC"], "example": "OKP"},
                "crv": {"type": "string", "enum": ["Ed25519", "P-256"], "example": "Ed25519"},
                "x": {"type": "string",
                      "description": "The public key (Ed25519) or its x coordinate (P-256), base64url.",
                      "example": "oWAma10ClrNhHxAqiWeF1O97QHVOf8xSSzwFDYJ4w30"},
                "y": {"type": "string",
                      "description": "P-256 keys only: the y coordinate, base64url."},
                "kid": {"type": "string",
                        "description": "RFC 7638 thumbprint; the kid header of tokens this key signed.",
                        "example": "NcAu4Tmqf6aZ_YPM_EDA4mQefuHeI2kmXR0tZ09cdTo"},
                "alg": {"type": "string", "enum": ["EdDSA", "ES256"], "example": "EdDSA"},
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
    use std::collections::BTreeSet;

    use super::*;
    use crate::core::config::SigningAlgorithm;
    use crate::core::security::keys::tests::{generated_ring, generated_ring_with};

    /// The schema is written by hand, so it is checked against what is actually served, for
    /// keys of both algorithms.
    #[test]
    fn the_schema_declares_exactly_the_members_served() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ring = generated_ring_with(dir.path(), SigningAlgorithm::ES256, &[]);
        let eddsa = generated_ring(dir.path());
        let mut served = serde_json::to_value(PublicKeys(ring.jwks().clone())).expect("json");
        let ed_served = serde_json::to_value(PublicKeys(eddsa.jwks().clone())).expect("json");
        served["keys"].as_array_mut().expect("keys").push(ed_served["keys"][0].clone());
        let schema = serde_json::to_value(PublicKeys::schema()).expect("schema json");
        let declared = &schema["properties"]["keys"]["items"];
        let properties: BTreeSet<&str> = declared["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .map(String::as_str)
            .collect();
        let required: BTreeSet<&str> = declared["required"]
            .as_array()
            .expect("required")
            .iter()
            .filter_map(|r| r.as_str())
            .collect();
        let mut every_member = BTreeSet::new();
        for key in served["keys"].as_array().expect("keys") {
            let members: BTreeSet<&str> =
                key.as_object().expect("a key object").keys().map(String::as_str).collect();
            assert!(required.is_subset(&members), "{key} lacks a required member");
            every_member.extend(members);
        }
        assert_eq!(every_member, properties, "declared members are exactly those served");
    }
}
