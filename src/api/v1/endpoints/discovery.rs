//! `/.well-known/openid-configuration` and `/.well-known/oauth-authorization-server`: where
//! Warren's keys and endpoints are and what its tokens are signed with, so a stock
//! resource-server library configured with nothing but the issuer URL verifies Warren tokens.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;
use jsonwebtoken::Algorithm;
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::AppState;
use crate::core::config::Settings;
use crate::core::security::KeyRing;

pub const OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";
pub const AUTHORIZATION_SERVER: &str = "/.well-known/oauth-authorization-server";

/// The scopes service clients can be granted.
pub const SCOPES: [&str; 3] = ["admin:read", "admin:write", "introspect"];

/// Five minutes: a new signing algorithm shows here well before tokens signed with it are
/// common (a rotation publishes the new key a token lifetime ahead).
const CACHE_CONTROL: &str = "public, max-age=300";

/// The server metadata (RFC 8414, and the `OpenID` Connect Discovery members resource-server
/// libraries read). Every URL is absolute and built from `server.public_url`, never from a
/// request's `Host` header; only endpoints that exist are named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({
    "issuer": "https://auth.example.com",
    "jwks_uri": "https://auth.example.com/.well-known/jwks.json",
    "token_endpoint": "https://auth.example.com/oauth/token",
    "introspection_endpoint": "https://auth.example.com/oauth/introspect",
    "grant_types_supported": ["client_credentials"],
    "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    "scopes_supported": ["admin:read", "admin:write", "introspect"],
    "response_types_supported": [],
    "subject_types_supported": ["public"],
    "id_token_signing_alg_values_supported": ["EdDSA"],
}))]
pub struct ServerMetadata {
    /// Exactly `auth.issuer`, the `iss` of every token.
    pub issuer: String,
    /// The JSON Web Key Set that verifies Warren's tokens.
    pub jwks_uri: String,
    /// Where service clients get tokens (client credentials).
    pub token_endpoint: String,
    /// Where services ask whether a token is still live (RFC 7662).
    pub introspection_endpoint: String,
    pub grant_types_supported: Vec<&'static str>,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    pub scopes_supported: Vec<&'static str>,
    /// Empty: there is no authorization endpoint.
    pub response_types_supported: Vec<&'static str>,
    pub subject_types_supported: Vec<&'static str>,
    /// Every algorithm of a key in the JWKS, the signing key's first. Some libraries take it
    /// as their allow-list.
    #[schema(value_type = Vec<String>, example = json!(["EdDSA", "ES256"]))]
    pub id_token_signing_alg_values_supported: Vec<Algorithm>,
}

impl ServerMetadata {
    pub fn new(settings: &Settings, keys: &KeyRing) -> Self {
        let base = settings.server.public_base();
        Self {
            issuer: settings.auth.issuer.clone(),
            jwks_uri: format!("{base}/.well-known/jwks.json"),
            token_endpoint: format!("{base}/oauth/token"),
            introspection_endpoint: format!("{base}/oauth/introspect"),
            grant_types_supported: vec!["client_credentials"],
            token_endpoint_auth_methods_supported: vec![
                "client_secret_basic",
                "client_secret_post",
            ],
            scopes_supported: SCOPES.to_vec(),
            response_types_supported: Vec::new(),
            subject_types_supported: vec!["public"],
            id_token_signing_alg_values_supported: keys.algorithms(),
        }
    }
}

/// Both documents, serialised once: they cannot change while the process runs.
pub fn router(metadata: &ServerMetadata) -> Router<AppState> {
    let body = Bytes::from(serde_json::to_vec(metadata).unwrap_or_default());
    let openid = Arc::new(body);
    let oauth = Arc::clone(&openid);
    Router::new()
        .route(OPENID_CONFIGURATION, get(move || std::future::ready(openid_configuration(&openid))))
        .route(AUTHORIZATION_SERVER, get(move || std::future::ready(authorization_server(&oauth))))
}

/// OIDC discovery metadata: the issuer, keys and endpoints.
///
/// Public and cacheable for five minutes; readable from any origin (without credentials).
/// The same document as `/.well-known/oauth-authorization-server`.
#[utoipa::path(
    get, path = "/.well-known/openid-configuration", tag = "keys",
    responses((status = 200, description = "Server metadata", body = ServerMetadata))
)]
pub(crate) fn openid_configuration(body: &Bytes) -> impl IntoResponse + use<> {
    respond(body)
}

/// OAuth 2.0 authorization server metadata (RFC 8414).
///
/// The same document as `/.well-known/openid-configuration`.
#[utoipa::path(
    get, path = "/.well-known/oauth-authorization-server", tag = "keys",
    responses((status = 200, description = "Server metadata", body = ServerMetadata))
)]
pub(crate) fn authorization_server(body: &Bytes) -> impl IntoResponse + use<> {
    respond(body)
}

/// The document with its own caching (the global `no-store` default yields to a header a
/// route sets) and an open CORS grant: public metadata, no credentials.
fn respond(body: &Bytes) -> impl IntoResponse + use<> {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (header::CACHE_CONTROL, HeaderValue::from_static(CACHE_CONTROL)),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*")),
        ],
        body.clone(),
    )
}
