//! Extractors ("deps"): JSON bodies in our error format, the authenticated caller, and where a
//! request came from.

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, header, request::Parts};
use ipnet::IpNet;
use serde::de::DeserializeOwned;

use super::{AppError, AppState};
use crate::domain::ValidationErrors;
use crate::services::{Authenticated, ClientContext, SessionError};

/// A JSON body. Wrong media type → 415, bad syntax → 400 `malformed_json`, well-formed JSON
/// of the wrong shape (unknown, duplicate, missing or mistyped fields) → 422 naming the field.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        if !is_json(request.headers()) {
            return Err(AppError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            if matches!(&rejection, BytesRejection::FailedToBufferBody(_))
                && rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE
            {
                AppError::PayloadTooLarge
            } else {
                AppError::MalformedJson("the request body could not be read".to_owned())
            }
        })?;
        parse_json(&bytes).map(Json)
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Deserialises strictly, mapping serde's failures onto our error codes. Every request body is
/// a JSON object: serde would otherwise also accept a struct written as an array.
fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err(match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
            Ok(_) => AppError::Validation(ValidationErrors::single(
                "",
                "invalid_type",
                "the request body must be a JSON object",
            )),
            Err(_) => AppError::MalformedJson("the request body is not valid JSON".to_owned()),
        });
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.is_data() {
            AppError::Validation(shape_error(&path, &inner))
        } else {
            AppError::MalformedJson(format!(
                "invalid JSON at line {} column {}",
                inner.line(),
                inner.column()
            ))
        }
    })?;
    deserializer
        .end()
        .map_err(|_| AppError::MalformedJson("unexpected data after the JSON value".to_owned()))?;
    Ok(value)
}

/// Names the field and the kind of mismatch from serde's message, which is the only place
/// serde reports unknown, missing and duplicate fields.
fn shape_error(path: &str, error: &serde_json::Error) -> ValidationErrors {
    let message = error.to_string();
    let message = message.split(" at line ").next().unwrap_or_default();
    let quoted = message.split('`').nth(1);
    let (code, field) = if message.starts_with("unknown field") {
        ("unknown_field", quoted)
    } else if message.starts_with("missing field") {
        ("required", quoted)
    } else if message.starts_with("duplicate field") {
        ("duplicate_field", quoted)
    } else {
        ("invalid_type", None)
    };
    // The path ends at the offending key for unknown and duplicate fields, but at the
    // enclosing object for missing ones.
    let field = match (field, path) {
        (Some(name), "." | "") => name.to_owned(),
        (Some(name), path) if path == name || path.ends_with(&format!(".{name}")) => {
            path.to_owned()
        }
        (Some(name), parent) => format!("{parent}.{name}"),
        (None, path) => path.to_owned(),
    };
    ValidationErrors::single(&field, code, message)
}

/// The caller, authenticated by a bearer access token; 401 `unauthenticated` otherwise, with
/// RFC 6750's `error="invalid_token"` challenge when a bearer token was presented but refused.
#[derive(Debug, Clone)]
pub struct AuthUser(pub Authenticated);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let Some(token) = bearer_token(&parts.headers) else {
            return Err(if presents_bearer(&parts.headers) {
                AppError::InvalidAccessToken
            } else {
                AppError::Unauthenticated
            });
        };
        match state.sessions.authenticate(token).await {
            Ok(caller) => Ok(Self(caller)),
            Err(SessionError::Unauthenticated) => Err(AppError::InvalidAccessToken),
            Err(other) => Err(other.into()),
        }
    }
}

/// Whether the request carries an `Authorization` header of the Bearer scheme at all.
fn presents_bearer(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.as_bytes().get(..7))
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case(b"bearer "))
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim_start_matches(' ');
    let is_token68 = |c: char| c.is_ascii_alphanumeric() || "-._~+/=".contains(c);
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && token.chars().all(is_token68))
        .then_some(token)
}

/// The client's address and user agent, for sessions and audit events.
#[derive(Debug, Clone)]
pub struct Client(pub ClientContext);

/// Longest user agent recorded; the rest is noise or an attack on log storage. `to_str` only
/// accepts visible ASCII, so these characters are also bytes and the cut is on a boundary.
const MAX_USER_AGENT_CHARS: usize = 256;

impl FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer =
            parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip());
        let ip = peer.map(|peer| client_ip(peer, &parts.headers, &state.trusted_proxies));
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(MAX_USER_AGENT_CHARS).collect());
        let request_id = parts
            .headers
            .get(super::middleware::REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .map(ToOwned::to_owned);
        Ok(Self(ClientContext { ip, user_agent, request_id }))
    }
}

/// The socket peer, unless it is a trusted proxy: then the right-most `X-Forwarded-For` entry
/// that is not itself a trusted proxy (entries further left are client-controlled).
///
/// Every address is canonicalised first: a dual-stack listener reports an IPv4 peer as
/// `::ffff:a.b.c.d`, which no IPv4 CIDR contains, so without this a trusted IPv4 proxy would
/// go unrecognised and all its clients would share one identity.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for entry in forwarded.iter().rev() {
        match entry.parse::<IpAddr>().map(|ip| ip.to_canonical()) {
            Ok(ip) if is_trusted(&ip) => {}
            Ok(ip) => return ip,
            Err(_) => return peer,
        }
    }
    peer
}

#[cfg(test)]
mod tests;
