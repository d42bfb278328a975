//! The audit trail: one `auth_events` row and one log event per auth action, never a secret.

use std::io::Write;
use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::{Value, json};
use warren::domain::AuthEventKind::{
    AccountDeleted, EmailChange, PasswordChange, ReauthenticationFailure, Refresh, SigninFailure,
    SigninSuccess, Signout, SignoutEverywhere, Signup, VerificationSent,
};
use warren::domain::{AuthEventKind, UserId};

use crate::helpers::{TestApp, TestUser, both_backends};

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.expect("json")
}

/// Every auth action a user can take, in order; returns the user's id and every token seen.
async fn full_lifecycle(
    app: &TestApp,
    user: &TestUser,
    new_password: &str,
) -> (UserId, Vec<String>) {
    let mut tokens = Vec::new();
    let signup = json_of(app.signup(user).await).await;
    let id = UserId::from_uuid(signup["user"]["id"].as_str().expect("id").parse().expect("uuid"));
    app.signin(&user.email, "not the password").await;
    let first = app.signin_body(user, "audit").await;
    let refreshed =
        json_of(app.refresh(first["refresh_token"].as_str().expect("token")).await).await;
    let access = refreshed["access_token"].as_str().expect("token").to_owned();
    let new_email = TestUser::generate().email;
    app.patch_me(&access, &json!({"email": new_email, "current_password": "wrong guess"})).await;
    app.patch_me(&access, &json!({"email": new_email, "current_password": user.password})).await;
    app.patch_me(&access, &json!({"password": new_password, "current_password": user.password}))
        .await;
    let refresh = refreshed["refresh_token"].as_str().expect("token").to_owned();
    app.post_json("/api/v1/auth/signout", &json!({"refresh_token": refresh})).await;
    // The email change waits for confirmation: the account keeps its address.
    let moved = TestUser { password: new_password.to_owned(), ..user.clone() };
    let second = app.signin_body(&moved, "audit").await;
    let second_access = second["access_token"].as_str().expect("token").to_owned();
    app.client
        .delete(app.url("/api/v1/users/me/sessions"))
        .bearer_auth(&second_access)
        .send()
        .await
        .expect("request");
    let third = app.signin_body(&moved, "audit").await;
    let third_access = third["access_token"].as_str().expect("token").to_owned();
    assert_eq!(app.delete_me(&third_access, new_password).await.status(), StatusCode::NO_CONTENT);
    for body in [&first, &refreshed, &second, &third] {
        for key in ["access_token", "refresh_token"] {
            tokens.push(body[key].as_str().expect("token").to_owned());
        }
    }
    (id, tokens)
}

async fn every_auth_action_is_recorded_with_ip_and_request_id(app: TestApp) {
    let user = TestUser::generate();
    let (id, _) = full_lifecycle(&app, &user, "a fresh audit passphrase").await;
    // The account is gone; its events remain, naming only the pseudonymous id.
    let events = app.database.repositories().audit.for_user(id).await.expect("events");
    let kinds: Vec<AuthEventKind> = events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            Signup,
            VerificationSent,
            SigninFailure,
            SigninSuccess,
            Refresh,
            ReauthenticationFailure,
            EmailChange,
            PasswordChange,
            Signout,
            SigninSuccess,
            SignoutEverywhere,
            SigninSuccess,
            AccountDeleted,
        ]
    );
    for event in &events {
        assert_eq!(event.ip.as_deref(), Some("127.0.0.1"), "{event:?}");
        assert!(event.request_id.as_deref().is_some_and(|id| !id.is_empty()), "{event:?}");
    }
    assert!(events[3].session_id.is_some(), "signin names its session");
}
both_backends!(every_auth_action_is_recorded_with_ip_and_request_id);

async fn the_audit_request_id_is_the_response_request_id(app: TestApp) {
    let user = TestUser::generate();
    let response = app
        .client
        .post(app.url("/api/v1/auth/signup"))
        .header("x-request-id", "audit-trace-42")
        .json(&json!({"email": user.email, "password": user.password}))
        .send()
        .await
        .expect("request");
    let body = json_of(response).await;
    let id = UserId::from_uuid(body["user"]["id"].as_str().expect("id").parse().expect("uuid"));
    let events = app.database.repositories().audit.for_user(id).await.expect("events");
    assert_eq!(events[0].request_id.as_deref(), Some("audit-trace-42"));
}
both_backends!(the_audit_request_id_is_the_response_request_id);

/// Collects everything the global subscriber writes.
#[derive(Clone, Default)]
struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl Write for CapturedLogs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }
}

#[tokio::test]
async fn logs_never_contain_a_password_a_token_or_a_hash() {
    let logs = CapturedLogs::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .init();
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let canary = "canary-Pa55phrase-zebra-7";
    let new_canary = "second-canary-Pa55phrase-okapi";
    let user = TestUser { password: canary.to_owned(), ..TestUser::generate() };
    let (_, tokens) = full_lifecycle(&app, &user, new_canary).await;

    let text = logs.text();
    assert!(
        text.contains("signin_success") && text.contains("account_deleted"),
        "logs were captured"
    );
    for secret in
        [canary, new_canary, "$argon2id$"].iter().copied().chain(tokens.iter().map(String::as_str))
    {
        assert!(!text.contains(secret), "a secret leaked into the logs: {}…", &secret[..12]);
    }
}
