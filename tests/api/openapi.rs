//! The OpenAPI document: committed, served, and matching what the code generates.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, database_free};

#[test]
fn the_committed_document_matches_the_code() {
    let committed = std::fs::read_to_string("src/api/v1/openapi.json").expect("committed copy");
    let generated = warren::api::openapi::document_json();
    assert!(
        committed == generated,
        "src/api/v1/openapi.json is stale: run `make openapi` and commit the result"
    );
}

async fn the_document_is_served_as_openapi_3_1_with_every_route(app: TestApp) {
    let response = app.client.get(app.url("/api/v1/openapi.json")).send().await.expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let document: Value = response.json().await.expect("json");
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().expect("paths");
    for path in [
        "/api/v1/auth/signup",
        "/api/v1/auth/signin",
        "/api/v1/auth/refresh",
        "/api/v1/auth/signout",
        "/api/v1/users/me",
        "/api/v1/users/me/sessions",
        "/api/health",
        "/api/health/ready",
        "/.well-known/jwks.json",
    ] {
        assert!(paths.contains_key(path), "{path} is undocumented");
    }
    assert_eq!(document["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
}
database_free!(the_document_is_served_as_openapi_3_1_with_every_route);

async fn swagger_ui_is_served_from_vendored_assets(app: TestApp) {
    let page = app.client.get(app.url("/docs/")).send().await.expect("request");
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"].to_str().expect("ascii").to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let html = page.text().await.expect("html");
    assert!(html.contains("swagger-ui"), "the Swagger UI page");
    let script =
        app.client.get(app.url("/docs/swagger-initializer.js")).send().await.expect("request");
    assert_eq!(script.status(), StatusCode::OK);
    assert!(script.text().await.expect("js").contains("/api/v1/openapi.json"));
}
database_free!(swagger_ui_is_served_from_vendored_assets);

/// Swagger UI shows summaries as plain text, so markdown there shows up raw (descriptions are
/// rendered as markdown, so code spans belong there).
#[test]
fn operation_summaries_are_plain_text() {
    let document: Value =
        serde_json::from_str(&warren::api::openapi::document_json()).expect("document");
    let paths = document["paths"].as_object().expect("paths");
    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("path item") {
            let summary = operation["summary"].as_str().unwrap_or_default();
            assert!(!summary.is_empty(), "{method} {path} has no summary");
            assert!(!summary.contains(['`', '*']), "{method} {path}: {summary:?}");
        }
    }
}

#[test]
fn the_bearer_scheme_says_to_paste_the_token_without_its_prefix() {
    let document: Value =
        serde_json::from_str(&warren::api::openapi::document_json()).expect("document");
    let bearer = &document["components"]["securitySchemes"]["bearer"]["description"];
    let description = bearer.as_str().expect("a description");
    assert!(description.contains("access_token"), "{description}");
    assert!(description.contains("without \"Bearer \""), "{description}");
}

/// Fuzzers learn from 422 messages: "`full_name` must not be blank" or "`current_password` is
/// required" about a field the document calls optional is read as "this field is required", and
/// requests that leave the field out are then expected to fail. The document states both rules.
#[test]
fn optional_fields_state_the_rules_that_the_server_enforces() {
    let document: Value =
        serde_json::from_str(&warren::api::openapi::document_json()).expect("document");
    let schemas = &document["components"]["schemas"];
    for body in ["SignupRequest", "UpdateMeRequest"] {
        let full_name = &schemas[body]["properties"]["full_name"];
        assert_eq!(full_name["pattern"], r"\S", "{body}: a blank full_name is refused");
        assert_eq!(full_name["type"], serde_json::json!(["string", "null"]), "{body}");
    }
    assert_eq!(
        schemas["UpdateMeRequest"]["dependentRequired"],
        serde_json::json!({"email": ["current_password"], "password": ["current_password"]}),
        "a new email or password needs current_password; a new name does not"
    );
}
