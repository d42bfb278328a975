//! Service clients: `/oauth/token`, `/oauth/introspect`, the admin API and `warren clients`.

mod admin;
mod introspection;
mod token;

use std::sync::Arc;

use base64::Engine;
use reqwest::Response;
use serde_json::Value;
use warren::core::clock::SystemClock;
use warren::core::security::SecretBox;
use warren::domain::{ClientName, Scopes};
use warren::services::ClientService;

use crate::helpers::TestApp;

/// A registered client's credentials.
pub struct TestClient {
    pub id: String,
    pub secret: String,
}

/// Registers a client with `scopes` (space-separated) on the app's database, under the key the
/// server derives from the same data directory.
pub async fn client(app: &TestApp, scopes: &str) -> TestClient {
    let secrets = SecretBox::load(&app.settings).expect("MFA key").client_secrets();
    let registry = ClientService::registry(
        Arc::clone(&app.database.repositories().clients),
        secrets,
        Arc::new(SystemClock),
    );
    let name = ClientName::parse("test service").expect("name");
    let (client, secret) =
        registry.create(name, Scopes::parse(scopes).expect("scopes")).await.expect("create");
    TestClient { id: client.id.to_string(), secret: secret.expose().to_owned() }
}

/// POSTs `pairs` form-encoded, with HTTP Basic when `basic` is given.
pub async fn post_form(
    app: &TestApp,
    path: &str,
    pairs: &[(&str, &str)],
    basic: Option<&TestClient>,
) -> Response {
    let mut request = app
        .client
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(pairs).expect("form"));
    if let Some(client) = basic {
        request = request.basic_auth(&client.id, Some(&client.secret));
    }
    request.send().await.expect("request")
}

/// A client token for `client`, by HTTP Basic.
pub async fn client_token(app: &TestApp, client: &TestClient) -> String {
    let response =
        post_form(app, "/oauth/token", &[("grant_type", "client_credentials")], Some(client)).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    body["access_token"].as_str().expect("token").to_owned()
}

/// The JSON of a JWT part (0 header, 1 claims), unverified.
pub fn jwt_part(token: &str, part: usize) -> Value {
    let segment = token.split('.').nth(part).expect("JWT part");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(segment).expect("base64");
    serde_json::from_slice(&bytes).expect("JSON")
}

/// An OAuth error's status, `error` and `WWW-Authenticate`.
pub async fn oauth_error(response: Response) -> (u16, String, Option<String>) {
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|value| value.to_str().expect("ascii").to_owned());
    let content_type = response.headers()["content-type"].to_str().expect("ascii").to_owned();
    assert_eq!(content_type, "application/json", "OAuth errors are plain JSON");
    let body: Value = response.json().await.expect("json");
    assert!(body["error_description"].is_string(), "{body}");
    (status, body["error"].as_str().expect("error").to_owned(), challenge)
}
