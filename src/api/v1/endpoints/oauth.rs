//! `/oauth/token` (client credentials, RFC 6749 §4.4) and `/oauth/introspect` (RFC 7662): the
//! endpoints other services call with their client id and secret. Both take form-encoded
//! bodies and answer errors in OAuth's own JSON format (RFC 6749 §5.2), which client libraries
//! parse, not as problem+json.

mod form;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::AppState;
use crate::api::error::AppError;
use crate::api::extractors::Client;
use crate::domain::{Scope, Scopes};
use crate::services::{ClientError, Introspection};
pub use form::{IntrospectionForm, OAuthError, OAuthErrorBody, TokenForm};
use form::{Params, authenticate};

pub fn token_router() -> Router<AppState> {
    Router::new().route("/token", post(token))
}

pub fn introspection_router() -> Router<AppState> {
    Router::new().route("/introspect", post(introspect))
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"access_token": "eyJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiIsInR5cCI6ImF0K2p3dCJ9.e30.c2ln", "token_type": "Bearer", "expires_in": 900, "scope": "admin:read"}))]
pub struct ClientTokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    pub expires_in: u64,
    /// The granted scopes, space-separated.
    pub scope: String,
}

/// Get an access token for a service client (OAuth 2.0 client credentials).
///
/// Authenticate the client with HTTP Basic (`client_id:client_secret`) or with `client_id` and
/// `client_secret` in the form, not both. `scope` (space-separated) must be a subset of the
/// client's scopes; without it the token gets all of them. The token is an `at+jwt` whose
/// `sub` and `client_id` are the client id. Errors are RFC 6749 JSON, not problem+json.
#[utoipa::path(
    post, path = "/oauth/token", tag = "oauth",
    security((), ("client_basic" = [])),
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "A client access token", body = ClientTokenResponse,
         headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "`invalid_request`, `invalid_scope` or `unsupported_grant_type`", body = OAuthErrorBody),
        (status = 401, description = "`invalid_client`: unknown client, wrong secret or no client authentication", body = OAuthErrorBody,
         headers(("WWW-Authenticate" = String, description = "`Basic realm=\"warren\"`"))),
        (status = 429, description = "Too many requests from this address", body = crate::api::error::ProblemDocument),
        (status = 503, description = "The database is unavailable", body = crate::api::error::ProblemDocument),
    )
)]
pub(crate) async fn token(
    State(state): State<AppState>,
    Client(context): Client,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let params = Params::parse(&headers, &body)?;
    match params.single("grant_type")? {
        None => return Err(OAuthError::request("grant_type is required")),
        Some("client_credentials") => {}
        Some(_) => return Err(OAuthError::UnsupportedGrantType),
    }
    let requested = match params.single("scope")? {
        None => None,
        Some(text) => Some(requested_scopes(text)?),
    };
    let client = authenticate(&state, &headers, &params).await?;
    let issued =
        state.clients.issue(&client, requested, &context).await.map_err(|error| match error {
            ClientError::InvalidScope => OAuthError::InvalidScope,
            other => OAuthError::Server(other.into()),
        })?;
    let body = ClientTokenResponse {
        access_token: issued.token,
        token_type: "Bearer",
        expires_in: issued.expires_in,
        scope: issued.scopes.to_string(),
    };
    Ok(no_store(axum::Json(body).into_response()))
}

fn requested_scopes(text: &str) -> Result<Scopes, OAuthError> {
    let scopes = Scopes::parse(text).map_err(|_| OAuthError::InvalidScope)?;
    if scopes.is_empty() { Err(OAuthError::InvalidScope) } else { Ok(scopes) }
}

/// What introspection says about a token (RFC 7662 §2.2).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"active": true, "sub": "0193a2b4-7c1e-7d3a-9f00-5b6c7d8e9f01", "sid": "0193a2b4-7c1e-7d3a-9f00-5b6c7d8e9f02", "exp": 1_764_000_900, "iat": 1_764_000_000, "iss": "warren", "aud": "warren", "token_type": "access_token"}))]
pub struct IntrospectionResponse {
    /// Whether the token is live now. Every other field is absent when it is not.
    pub active: bool,
    /// The user id (user tokens) or the client id (client tokens).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Client tokens only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Client tokens only: space-separated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// User tokens only: the session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// `access_token` for an active token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
}

impl From<Introspection> for IntrospectionResponse {
    fn from(found: Introspection) -> Self {
        Self {
            active: found.active,
            token_type: found.active.then_some("access_token"),
            sub: found.sub,
            client_id: found.client_id,
            scope: found.scope,
            sid: found.sid,
            exp: found.exp,
            iat: found.iat,
            iss: found.iss,
            aud: found.aud,
        }
    }
}

/// Ask whether a token is live (RFC 7662), e.g. to honour a sign-out before the token expires.
///
/// The calling client authenticates as at `/oauth/token` and needs scope `introspect`; a client
/// without it gets 403 `insufficient_scope`. Any token that is not live now (expired, signed
/// out, account deactivated, client deleted, forged, not a token) is `{"active": false}`.
#[utoipa::path(
    post, path = "/oauth/introspect", tag = "oauth",
    security((), ("client_basic" = [])),
    request_body(content = IntrospectionForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "What the token is", body = IntrospectionResponse),
        (status = 400, description = "`invalid_request`: no `token`, or a malformed form", body = OAuthErrorBody),
        (status = 401, description = "`invalid_client`", body = OAuthErrorBody,
         headers(("WWW-Authenticate" = String, description = "`Basic realm=\"warren\"`"))),
        (status = 403, description = "`insufficient_scope`: the client lacks scope `introspect`", body = OAuthErrorBody),
        (status = 429, description = "Too many requests from this address", body = crate::api::error::ProblemDocument),
        (status = 503, description = "The database is unavailable", body = crate::api::error::ProblemDocument),
    )
)]
pub(crate) async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let params = Params::parse(&headers, &body)?;
    let token = params.single("token")?.ok_or_else(|| OAuthError::request("token is required"))?;
    // `token_type_hint` is optional and may be ignored (RFC 7662 §2.1); it is checked only for
    // repetition, like every parameter.
    params.single("token_type_hint")?;
    let client = authenticate(&state, &headers, &params).await?;
    if !client.scopes.contains(Scope::Introspect) {
        return Err(OAuthError::InsufficientScope);
    }
    let found = state
        .clients
        .introspect(&state.sessions, token)
        .await
        .map_err(|error| OAuthError::Server(error.into()))?;
    Ok(no_store(axum::Json(IntrospectionResponse::from(found)).into_response()))
}

/// Token responses must not be cached anywhere (RFC 6749 §5.1).
fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        if let Self::Server(error) = self {
            return error.into_response();
        }
        let (status, code) = self.status_and_code();
        let body = OAuthErrorBody { error: code, error_description: self.to_string() };
        let mut response = no_store((status, axum::Json(body)).into_response());
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"warren\""),
            );
        }
        response.extensions_mut().insert(crate::api::middleware::OwnErrorFormat);
        response
    }
}

impl From<AppError> for OAuthError {
    fn from(error: AppError) -> Self {
        Self::Server(error)
    }
}
