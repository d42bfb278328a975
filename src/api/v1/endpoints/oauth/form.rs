//! The form bodies of the OAuth endpoints, client authentication (HTTP Basic or
//! `client_secret_post`, exactly one), and OAuth's error format.

use std::collections::HashMap;

use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::AppState;
use crate::api::error::AppError;
use crate::domain::ServiceClient;
use crate::services::ClientError;

/// An OAuth error (RFC 6749 §5.2): `error` and a description for developers.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("client authentication failed")]
    InvalidClient,
    #[error("the requested scope is unknown or exceeds the client's scopes")]
    InvalidScope,
    #[error("only grant_type=client_credentials is supported")]
    UnsupportedGrantType,
    #[error("the client lacks scope introspect")]
    InsufficientScope,
    /// Not the client's fault (storage): answered as problem+json like every other endpoint.
    #[error("server error")]
    Server(AppError),
}

impl OAuthError {
    pub(super) fn request(description: &str) -> Self {
        Self::InvalidRequest(description.to_owned())
    }

    pub(super) fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::InvalidRequest(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
            Self::InvalidClient => (StatusCode::UNAUTHORIZED, "invalid_client"),
            Self::InvalidScope => (StatusCode::BAD_REQUEST, "invalid_scope"),
            Self::UnsupportedGrantType => (StatusCode::BAD_REQUEST, "unsupported_grant_type"),
            Self::InsufficientScope => (StatusCode::FORBIDDEN, "insufficient_scope"),
            Self::Server(_) => (StatusCode::INTERNAL_SERVER_ERROR, "server_error"),
        }
    }
}

/// The body of an OAuth error.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"error": "invalid_client", "error_description": "client authentication failed"}))]
pub struct OAuthErrorBody {
    /// `invalid_request`, `invalid_client`, `invalid_scope`, `unsupported_grant_type` or
    /// `insufficient_scope`.
    pub error: &'static str,
    pub error_description: String,
}

/// The token request's form (for the OpenAPI document; the handler reads the form itself).
#[allow(dead_code)]
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenForm {
    /// Must be `client_credentials`.
    #[schema(example = "client_credentials")]
    pub grant_type: String,
    /// Space-separated: `admin:read`, `admin:write`, `introspect`. Default: all the client's.
    pub scope: Option<String>,
    /// With `client_secret`, instead of HTTP Basic.
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// The introspection request's form.
#[allow(dead_code)]
#[derive(Debug, Deserialize, ToSchema)]
pub struct IntrospectionForm {
    /// The token to look at.
    pub token: String,
    /// Ignored: every kind of token is looked up.
    pub token_type_hint: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// A form's parameters. Each may appear once (RFC 6749 §3.2); an empty value counts as absent
/// (§3.1).
pub(super) struct Params(HashMap<String, Vec<String>>);

impl Params {
    pub(super) fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Self, OAuthError> {
        let essence = headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .map(|value| value.trim().to_ascii_lowercase());
        if essence.as_deref() != Some("application/x-www-form-urlencoded") {
            return Err(OAuthError::request("the body must be application/x-www-form-urlencoded"));
        }
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
            .map_err(|_| OAuthError::request("the form body is malformed"))?;
        let mut params: HashMap<String, Vec<String>> = HashMap::new();
        for (name, value) in pairs {
            if !value.is_empty() {
                params.entry(name).or_default().push(value);
            }
        }
        Ok(Self(params))
    }

    /// The parameter's value, if given; `invalid_request` when it is given twice.
    pub(super) fn single(&self, name: &str) -> Result<Option<&str>, OAuthError> {
        match self.0.get(name).map(Vec::as_slice) {
            None | Some([]) => Ok(None),
            Some([value]) => Ok(Some(value)),
            Some(_) => Err(OAuthError::InvalidRequest(format!("{name} is given more than once"))),
        }
    }
}

/// The client the request authenticates as, by exactly one method.
pub(super) async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
) -> Result<ServiceClient, OAuthError> {
    let posted = (params.single("client_id")?, params.single("client_secret")?);
    let (id, secret) = match (headers.get(header::AUTHORIZATION), posted) {
        (Some(_), (Some(_), _) | (_, Some(_))) => {
            return Err(OAuthError::request("use one client authentication method, not two"));
        }
        (Some(value), _) => basic_credentials(value.to_str().unwrap_or_default())?,
        (None, (Some(id), Some(secret))) => (id.to_owned(), secret.to_owned()),
        (None, _) => return Err(OAuthError::InvalidClient),
    };
    state.clients.authenticate(&id, &secret).await.map_err(|error| match error {
        ClientError::InvalidClient => OAuthError::InvalidClient,
        other => OAuthError::Server(other.into()),
    })
}

/// `Basic base64(form-encoded id ":" form-encoded secret)` (RFC 6749 §2.3.1).
fn basic_credentials(value: &str) -> Result<(String, String), OAuthError> {
    let (scheme, encoded) = value.split_once(' ').ok_or(OAuthError::InvalidClient)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError::InvalidClient);
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| OAuthError::InvalidClient)?;
    let decoded = String::from_utf8(decoded).map_err(|_| OAuthError::InvalidClient)?;
    let (id, secret) = decoded.split_once(':').ok_or(OAuthError::InvalidClient)?;
    Ok((form_decoded(id)?, form_decoded(secret)?))
}

fn form_decoded(text: &str) -> Result<String, OAuthError> {
    let encoded = format!("v={text}");
    let mut pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(&encoded).map_err(|_| OAuthError::InvalidClient)?;
    pairs.pop().map(|(_, value)| value).ok_or(OAuthError::InvalidClient)
}
