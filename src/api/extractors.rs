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
use crate::services::{Authenticated, ClientContext};

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

/// The caller, authenticated by a bearer access token; 401 `unauthenticated` otherwise.
#[derive(Debug, Clone)]
pub struct AuthUser(pub Authenticated);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = bearer_token(&parts.headers).ok_or(AppError::Unauthenticated)?;
        let caller = state.sessions.authenticate(token).await?;
        Ok(Self(caller))
    }
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
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).expect("header value"));
        }
        map
    }

    #[test]
    fn bearer_tokens_are_parsed_strictly() {
        let cases = [
            ("Bearer abc.def.ghi", Some("abc.def.ghi")),
            ("bearer abc", Some("abc")),
            ("Bearer  abc", Some("abc")),
            ("Basic abc", None),
            ("Bearer", None),
            ("Bearer ", None),
            ("Bearer a b", None),
            ("Bearerabc", None),
        ];
        for (value, expected) in cases {
            assert_eq!(bearer_token(&headers(&[("authorization", value)])), expected, "{value:?}");
        }
        assert_eq!(bearer_token(&HeaderMap::new()), None);
    }

    #[test]
    fn client_ip_trusts_forwarded_for_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("cidr")];
        let forwarded = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.9, 10.0.0.2")]);
        let proxy: IpAddr = "10.0.0.1".parse().expect("ip");
        let stranger: IpAddr = "198.51.100.7".parse().expect("ip");
        assert_eq!(client_ip(proxy, &forwarded, &trusted).to_string(), "203.0.113.9");
        assert_eq!(client_ip(stranger, &forwarded, &trusted), stranger);
        assert_eq!(client_ip(proxy, &HeaderMap::new(), &trusted), proxy);
        let garbage = headers(&[("x-forwarded-for", "not-an-ip")]);
        assert_eq!(client_ip(proxy, &garbage, &trusted), proxy);
    }

    #[test]
    fn ipv4_mapped_ipv6_addresses_count_as_ipv4_for_proxies_and_clients() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("cidr")];
        let mapped_proxy: IpAddr = "::ffff:10.0.0.1".parse().expect("ip");
        let forwarded = headers(&[("x-forwarded-for", "::ffff:203.0.113.9, ::ffff:10.0.0.2")]);
        assert_eq!(client_ip(mapped_proxy, &forwarded, &trusted).to_string(), "203.0.113.9");
        let mapped_stranger: IpAddr = "::ffff:198.51.100.7".parse().expect("ip");
        assert_eq!(client_ip(mapped_stranger, &forwarded, &trusted).to_string(), "198.51.100.7");
        let mapped_alone = client_ip(mapped_proxy, &HeaderMap::new(), &trusted);
        assert_eq!(mapped_alone.to_string(), "10.0.0.1");
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        email: String,
        age: u8,
    }

    fn field_error(body: &str) -> (String, &'static str) {
        match parse_json::<Sample>(body.as_bytes()) {
            Err(AppError::Validation(errors)) => {
                let first = errors.iter().next().expect("one error");
                (first.field.clone(), first.code)
            }
            other => panic!("expected a validation error for {body}, got {other:?}"),
        }
    }

    #[test]
    fn json_shape_errors_name_the_field() {
        assert_eq!(
            field_error(r#"{"email":"a","age":1,"admin":true}"#),
            ("admin".into(), "unknown_field")
        );
        assert_eq!(field_error(r#"{"email":"a"}"#), ("age".into(), "required"));
        assert_eq!(
            field_error(r#"{"email":"a","email":"b","age":1}"#),
            ("email".into(), "duplicate_field")
        );
        assert_eq!(field_error(r#"{"email":"a","age":"old"}"#), ("age".into(), "invalid_type"));
    }

    #[test]
    fn bodies_that_are_not_objects_are_refused_even_when_serde_would_accept_them() {
        for body in [r#"["a", 1]"#, "[]", "null", "42", r#""text""#] {
            match parse_json::<Sample>(body.as_bytes()) {
                Err(AppError::Validation(errors)) => {
                    assert_eq!(
                        errors.iter().next().map(|e| e.code),
                        Some("invalid_type"),
                        "{body}"
                    );
                }
                other => panic!("{body} must be refused as not an object, got {other:?}"),
            }
        }
    }

    #[test]
    fn json_syntax_errors_are_malformed() {
        for body in ["{", "", "{\"email\":}", "{\"email\":\"a\",\"age\":1} x", "nul"] {
            assert!(
                matches!(parse_json::<Sample>(body.as_bytes()), Err(AppError::MalformedJson(_))),
                "{body:?}"
            );
        }
    }

    #[test]
    fn json_media_types_are_recognised() {
        for value in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/merge-patch+json",
        ] {
            assert!(is_json(&headers(&[("content-type", value)])), "{value}");
        }
        for value in ["text/plain", "application/x-www-form-urlencoded", "application/jsonx"] {
            assert!(!is_json(&headers(&[("content-type", value)])), "{value}");
        }
    }

    proptest::proptest! {
        #[test]
        fn bearer_parsing_never_panics_and_returns_only_token_characters(value in "[ -~]{0,200}") {
            let mut map = HeaderMap::new();
            if let Ok(header) = HeaderValue::from_str(&value) {
                map.insert(header::AUTHORIZATION, header);
                if let Some(token) = bearer_token(&map) {
                    proptest::prop_assert!(!token.is_empty());
                    proptest::prop_assert!(value.ends_with(token));
                    proptest::prop_assert!(token.chars().all(|c| c.is_ascii_alphanumeric() || "-._~+/=".contains(c)));
                }
            }
        }

        #[test]
        fn request_bodies_never_panic_and_fail_with_client_errors(body in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
            match parse_json::<crate::api::v1::schemas::SignupRequest>(&body) {
                Ok(_) | Err(AppError::Validation(_) | AppError::MalformedJson(_)) => {}
                Err(other) => proptest::prop_assert!(false, "unexpected {other:?}"),
            }
        }

        #[test]
        fn json_shaped_bodies_never_panic(body in r#"\{("(email|password|full_name|x)":("[^"]{0,20}"|null|1|\[\]),?){0,4}\}"#) {
            match parse_json::<crate::api::v1::schemas::SignupRequest>(body.as_bytes()) {
                Ok(_) | Err(AppError::Validation(_) | AppError::MalformedJson(_)) => {}
                Err(other) => proptest::prop_assert!(false, "unexpected {other:?}"),
            }
        }
    }
}
