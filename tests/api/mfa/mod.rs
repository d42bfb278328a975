//! Two-factor sign-in over real HTTP: TOTP enrolment, the two-step signin, recovery codes, switching off,
//! and what must never happen (a code used twice, a secret stored in plaintext). This module
//! holds the steps the tests share; `signin` the two-step signin, `management` enrolling,
//! regenerating and switching off.

mod management;
mod signin;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};
use totp_rs::{Builder, Secret, Totp};
use warren::core::clock::Clock;
use warren::repositories::Backend;

use crate::helpers::{TestApp, TestUser, assert_problem, both_backends};
use crate::mail_sink::deliver_to_sink;

/// A signed-in user with two-factor sign-in on.
struct Enrolled {
    user: TestUser,
    access_token: String,
    secret: String,
    recovery_codes: Vec<String>,
}

impl Enrolled {
    fn totp(&self) -> Totp {
        totp_of(&self.secret)
    }
}

fn totp_of(secret: &str) -> Totp {
    let secret = Secret::try_from_base32(secret).expect("the secret is base32");
    Builder::new().with_secret(secret).build().expect("an RFC 6238 generator")
}

/// The code of `totp` at `at` (RFC 6238, SHA-1, 6 digits, 30 s).
fn code_at(totp: &Totp, at: OffsetDateTime) -> String {
    totp.generate(u64::try_from(at.unix_timestamp()).expect("after 1970")).to_string()
}

/// A 6-digit code valid at no step near `at`.
fn wrong_code(totp: &Totp, at: OffsetDateTime) -> String {
    let near: Vec<String> =
        (-3..=3).map(|s| code_at(totp, at + Duration::seconds(30 * s))).collect();
    (0..10).map(|d| d.to_string().repeat(6)).find(|c| !near.contains(c)).expect("one is free")
}

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: &Value,
) -> Response {
    let request = app.client.request(method, app.url(path)).bearer_auth(token).json(body);
    request.send().await.expect("request")
}

async fn start_enrolment(app: &TestApp, token: &str, password: &str) -> Value {
    let body = json!({"current_password": password});
    let response =
        send(app, reqwest::Method::POST, "/api/v1/users/me/mfa/totp", token, &body).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

async fn confirm(app: &TestApp, token: &str, code: &str) -> Response {
    let body = json!({"code": code});
    send(app, reqwest::Method::POST, "/api/v1/users/me/mfa/totp/confirm", token, &body).await
}

/// Signs a fresh user up and in, enrols and confirms, then moves the clock to the next step so
/// the test's next code is a fresh one.
async fn enrolled(app: &TestApp) -> Enrolled {
    let (user, access_token) = app.signed_in_user().await;
    let enrolment = start_enrolment(app, &access_token, &user.password).await;
    let secret = enrolment["secret"].as_str().expect("secret").to_owned();
    let uri = enrolment["otpauth_uri"].as_str().expect("otpauth_uri");
    assert!(uri.starts_with("otpauth://totp/Warren:"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}&")) && uri.ends_with("issuer=Warren"), "{uri}");
    assert!(!secret.contains('='), "base32 without padding");
    let code = code_at(&totp_of(&secret), app.clock.now());
    let confirmed = confirm(app, &access_token, &code).await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let body: Value = confirmed.json().await.expect("json");
    let recovery_codes: Vec<String> = serde_json::from_value(body["recovery_codes"].clone())
        .expect("recovery_codes is a list of strings");
    assert_eq!(recovery_codes.len(), 10);
    app.clock.advance(Duration::seconds(30));
    Enrolled { user, access_token, secret, recovery_codes }
}

/// The first step: asserts it asked for the second factor and returns the `mfa_token`.
async fn mfa_token(app: &TestApp, user: &TestUser) -> String {
    let response = app.signin(&user.email, &user.password).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["mfa_required"], true, "{body}");
    assert!(body.get("access_token").is_none() && body.get("refresh_token").is_none());
    assert_eq!(body["expires_in"], 300);
    assert_eq!(body["methods"], json!(["totp", "recovery_code"]));
    let token = body["mfa_token"].as_str().expect("mfa_token").to_owned();
    assert!(
        token.len() >= 22 && token.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
    );
    token
}

async fn second_step(app: &TestApp, token: &str, code: &str) -> Response {
    app.post_json("/api/v1/auth/signin/mfa", &json!({"mfa_token": token, "code": code})).await
}

fn amr_of(access_token: &str) -> Value {
    let payload = access_token.split('.').nth(1).expect("a JWT");
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("json");
    claims["amr"].clone()
}
