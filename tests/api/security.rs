//! Regression tests for the holes an outside security review found: the edges where untrusted
//! input meets the service, and password hashes that must be upgraded, never weakened.

use reqwest::StatusCode;
use serde_json::{Value, json};
use warren::core::config::Settings;
use warren::core::security::PasswordHasher;
use warren::domain::{EmailAddress, UserId};
use warren::startup::Application;

use crate::helpers::{TestApp, TestUser, assert_problem, both_backends};

/// The password hash stored for `email`, read through the public repository trait.
async fn stored_hash(app: &TestApp, email: &str) -> String {
    let email = EmailAddress::parse(email).expect("valid email");
    let credentials =
        app.database.repositories().users.find_credentials_by_email(&email).await.expect("query");
    credentials.expect("the account exists").password_hash.as_str().to_owned()
}

async fn a_weak_but_valid_hash_is_upgraded_at_signin(mut app: TestApp) {
    let older_policy = argon2::Params::new(7_168, 1, 1, None).expect("params");
    app.restart_with_password_params(older_policy).await;
    let user = TestUser::generate();
    assert_eq!(app.signup(&user).await.status(), StatusCode::CREATED);
    let weak = stored_hash(&app, &user.email).await;
    assert!(weak.starts_with("$argon2id$v=19$m=7168,t=1,p=1$"), "{weak}");

    app.restart_with_password_params(PasswordHasher::recommended_params()).await;
    assert_eq!(app.signin(&user.email, &user.password).await.status(), StatusCode::OK);
    let upgraded = stored_hash(&app, &user.email).await;
    assert!(upgraded.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{upgraded}");
    assert_eq!(app.signin(&user.email, &user.password).await.status(), StatusCode::OK);
    assert_eq!(stored_hash(&app, &user.email).await, upgraded, "a hash at policy stays");
}
both_backends!(a_weak_but_valid_hash_is_upgraded_at_signin);

/// Listens on every IPv6 and IPv4 address (one dual-stack socket), behind a trusted local
/// proxy, with room for three credential requests per client.
fn dual_stack_behind_local_proxy(figment: figment::Figment) -> figment::Figment {
    figment
        .merge(("server.host", "::"))
        .merge(("trusted_proxies", ["127.0.0.1/32"]))
        .merge(("rate_limit.auth_burst", 3))
        .merge(("rate_limit.auth_per_minute", 1))
}

async fn post_forwarded(app: &TestApp, path: &str, forwarded_for: &str, body: &Value) -> Value {
    let response = app
        .client
        .post(app.url(path))
        .header("x-forwarded-for", forwarded_for)
        .json(body)
        .send()
        .await
        .expect("request");
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    json!({"status": status.as_u16(), "body": body})
}

async fn trusted_ipv4_proxies_are_recognised_on_a_dual_stack_bind(app: TestApp) {
    let user = TestUser::generate();
    let (signup, signin) = ("/api/v1/auth/signup", "/api/v1/auth/signin");
    let credentials = json!({"email": user.email, "password": user.password});
    let wrong = json!({"email": user.email, "password": "not the password at all"});
    let client = "203.0.113.7";
    let full = json!({"email": user.email, "password": user.password, "full_name": "Ada"});
    assert_eq!(post_forwarded(&app, signup, client, &full).await["status"], 201);
    let signed_in = post_forwarded(&app, signin, client, &credentials).await;
    assert_eq!(signed_in["status"], 200, "{signed_in}");

    // The session records the client, not the proxy.
    let token = signed_in["body"]["access_token"].as_str().expect("access token");
    let sessions = app.client.get(app.url("/api/v1/users/me/sessions")).bearer_auth(token);
    let sessions: Value = sessions.send().await.expect("request").json().await.expect("json");
    assert_eq!(sessions[0]["ip"], client, "{sessions}");

    // The client's own bucket runs out; another client behind the same proxy has its own.
    assert_eq!(post_forwarded(&app, signin, client, &wrong).await["status"], 401);
    assert_eq!(post_forwarded(&app, signin, client, &wrong).await["status"], 429);
    assert_eq!(post_forwarded(&app, signin, "198.51.100.4", &wrong).await["status"], 401);
}
both_backends!(
    trusted_ipv4_proxies_are_recognised_on_a_dual_stack_bind,
    dual_stack_behind_local_proxy
);

async fn oversized_or_odd_request_ids_are_replaced_not_echoed_or_stored(app: TestApp) {
    let user = TestUser::generate();
    let body = json!({"email": user.email, "password": user.password});
    for sent in ["x".repeat(100_000), "x".repeat(65), "has space".to_owned(), "a/b".to_owned()] {
        let response =
            app.client.post(app.url("/api/v1/auth/signin")).header("x-request-id", &sent);
        let response = response.json(&body).send().await.expect("request");
        let echoed = response.headers()["x-request-id"].to_str().expect("ascii").to_owned();
        assert!(echoed != sent && (1..=64).contains(&echoed.len()), "{echoed}");
        let problem = assert_problem(response, StatusCode::UNAUTHORIZED, "invalid_credentials");
        assert_eq!(problem.await["request_id"], echoed.as_str());
    }

    let odd = "y".repeat(5_000);
    let response = app.client.post(app.url("/api/v1/auth/signup")).header("x-request-id", &odd);
    let response = response.json(&body).send().await.expect("request");
    assert_eq!(response.status(), StatusCode::CREATED);
    let echoed = response.headers()["x-request-id"].to_str().expect("ascii").to_owned();
    let created: Value = response.json().await.expect("json");
    let id: uuid::Uuid = created["user"]["id"].as_str().expect("id").parse().expect("uuid");
    let events =
        app.database.repositories().audit.for_user(UserId::from_uuid(id)).await.expect("events");
    // Signup, and the verification link it sends: both under the generated id.
    assert_eq!(events.len(), 2, "{events:?}");
    for event in &events {
        assert_eq!(event.request_id.as_deref(), Some(echoed.as_str()), "the generated id");
    }
}
both_backends!(oversized_or_odd_request_ids_are_replaced_not_echoed_or_stored);

async fn a_plain_client_request_id_of_64_characters_is_kept(app: TestApp) {
    let sent = format!("{}-trace_1.0", "a".repeat(54));
    assert_eq!(sent.len(), 64);
    let response = app.client.get(app.url("/api/health")).header("x-request-id", &sent);
    let response = response.send().await.expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-request-id"], sent.as_str());
}
both_backends!(a_plain_client_request_id_of_64_characters_is_kept);

async fn long_user_agents_are_stored_truncated(app: TestApp) {
    let user = TestUser::generate();
    assert_eq!(app.signup(&user).await.status(), StatusCode::CREATED);
    let signed_in = app.signin_body(&user, &"Mozilla/5.0 ".repeat(1_000)).await;
    let token = signed_in["access_token"].as_str().expect("access token");
    let sessions = app.client.get(app.url("/api/v1/users/me/sessions")).bearer_auth(token);
    let sessions: Value = sessions.send().await.expect("request").json().await.expect("json");
    let stored = sessions[0]["user_agent"].as_str().expect("user agent");
    assert_eq!(stored.len(), 256, "{stored}");
    assert!("Mozilla/5.0 ".repeat(1_000).starts_with(stored));
}
both_backends!(long_user_agents_are_stored_truncated);

#[tokio::test]
async fn a_zero_rate_limit_quota_is_a_startup_error_naming_the_setting() {
    let dir = tempfile::tempdir().expect("tempdir");
    let figment = Settings::figment(&dir.path().join("absent.toml"))
        .merge(("server.port", 0))
        .merge(("data_dir", dir.path()))
        .merge(("database.url", format!("sqlite://{}/warren.db", dir.path().display())));
    let zero_rate = figment.clone().merge(("rate_limit.auth_per_minute", 0));
    let refused = Settings::from_figment(&zero_rate).expect_err("a zero rate is refused");
    assert!(refused.to_string().contains("rate_limit.auth_per_minute"), "{refused}");

    // Settings that skipped validation still cannot start with the limit silently off.
    let mut settings = Settings::from_figment(&figment).expect("valid settings");
    settings.rate_limit.auth_burst = 0;
    let error = Application::build(&settings).await.err().expect("startup is refused");
    assert!(format!("{error:#}").contains("rate_limit.auth_burst"), "{error:#}");
}
