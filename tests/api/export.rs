//! `GET /api/v1/users/me/export`: the caller's own data as a JSON attachment.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, assert_problem, both_backends};

async fn export(app: &TestApp, token: &str) -> reqwest::Response {
    let url = app.url("/api/v1/users/me/export");
    app.client.get(url).bearer_auth(token).send().await.expect("request")
}

async fn export_holds_what_the_api_shows_and_no_secrets(app: TestApp) {
    let (user, token) = app.signed_in_user().await;
    let me: Value = app.me(&token).await.json().await.expect("json");
    let sessions = app.client.get(app.url("/api/v1/users/me/sessions")).bearer_auth(&token);
    let sessions: Value = sessions.send().await.expect("request").json().await.expect("json");
    assert_eq!(sessions.as_array().map(Vec::len), Some(1), "{sessions}");

    let response = export(&app, &token).await;

    assert_eq!(response.status(), StatusCode::OK);
    let disposition = &response.headers()["content-disposition"];
    assert_eq!(disposition, "attachment; filename=\"warren-export.json\"");
    let text = response.text().await.expect("body");
    let body: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(body["user"], me);
    assert_eq!(body["sessions"], sessions);
    let kinds: Vec<&str> = body["audit_events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["signup", "verification_sent", "signin_success"]);
    for secret in [user.password.as_str(), "argon2", "password_hash", "wrt_", token.as_str()] {
        assert!(!text.contains(secret), "export leaks {secret:?}");
    }
}
both_backends!(export_holds_what_the_api_shows_and_no_secrets);

async fn export_never_holds_another_users_data(app: TestApp) {
    let (user, token) = app.signed_in_user().await;
    let (other, other_token) = app.signed_in_user().await;
    let other_me: Value = app.me(&other_token).await.json().await.expect("json");

    let text = export(&app, &token).await.text().await.expect("body");

    assert!(text.contains(&user.email.to_lowercase()), "{text}");
    assert!(!text.contains(&other.email.to_lowercase()), "{text}");
    assert!(!text.contains(other_me["id"].as_str().expect("id")), "{text}");
}
both_backends!(export_never_holds_another_users_data);

async fn export_without_a_token_is_401(app: TestApp) {
    let response = app.get("/api/v1/users/me/export").await;

    assert_problem(response, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}
both_backends!(export_without_a_token_is_401);

/// Database-free: the per-account limit, tested once.
#[tokio::test]
async fn exports_are_limited_per_account_not_per_client() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let (_, token) = app.signed_in_user().await;
    let (_, other_token) = app.signed_in_user().await;
    for _ in 0..5 {
        assert_eq!(export(&app, &token).await.status(), StatusCode::OK);
    }

    let limited = export(&app, &token).await;

    assert!(limited.headers().contains_key("retry-after"));
    assert_problem(limited, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    assert_eq!(export(&app, &other_token).await.status(), StatusCode::OK);
}
