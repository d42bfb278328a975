//! Unit tests of the edge parsers: client address, bearer header, JSON bodies.

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
                assert_eq!(errors.iter().next().map(|e| e.code), Some("invalid_type"), "{body}");
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
