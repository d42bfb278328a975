//! Abuse controls: per-IP rate limits and the per-account signin backoff.

use reqwest::StatusCode;
use serde_json::json;
use time::Duration;
use warren::startup::Application;

use crate::helpers::{Backend, TestApp, TestUser, assert_problem, both_backends};

async fn signin_with_forwarded_for(app: &TestApp, forwarded_for: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/auth/signin"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"email": "nobody@example.com", "password": "wrong password"}))
        .send()
        .await
        .expect("request")
}

async fn assert_rate_limited(response: reqwest::Response) {
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("Retry-After in seconds");
    assert!(retry_after >= 1);
    assert_problem(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}

fn strict(burst: u32) -> impl FnOnce(figment::Figment) -> figment::Figment {
    move |f| f.merge(("rate_limit.auth_burst", burst)).merge(("rate_limit.auth_per_minute", 1))
}

async fn credential_endpoints_answer_429_with_retry_after_past_the_per_ip_limit(app: TestApp) {
    let (user, token) = app.signed_in_user().await; // signup and signin: two of three
    assert_eq!(app.signin(&user.email, "wrong password").await.status(), StatusCode::UNAUTHORIZED);
    assert_rate_limited(app.signin(&user.email, &user.password).await).await;
    assert_rate_limited(app.signup(&TestUser::generate()).await).await;
    // Other endpoints have their own, roomier budget.
    assert_eq!(app.me(&token).await.status(), StatusCode::OK);
}
both_backends!(credential_endpoints_answer_429_with_retry_after_past_the_per_ip_limit, strict(3));

#[tokio::test]
async fn clients_behind_a_trusted_proxy_are_limited_by_their_forwarded_address() {
    let app = TestApp::spawn_with(Backend::Sqlite, |f| {
        strict(2)(f).merge(("trusted_proxies", ["127.0.0.1/32"]))
    })
    .await;
    for _ in 0..2 {
        let response = signin_with_forwarded_for(&app, "198.51.100.1, 203.0.113.1").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    assert_rate_limited(signin_with_forwarded_for(&app, "203.0.113.1").await).await;
    // A different client behind the same proxy has its own bucket; the spoofable left-most
    // entry is not what counts.
    let other = signin_with_forwarded_for(&app, "198.51.100.1, 203.0.113.2").await;
    assert_eq!(other.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn forwarded_for_from_an_untrusted_peer_is_ignored() {
    let app = TestApp::spawn_with(Backend::Sqlite, strict(2)).await;
    for client in ["203.0.113.1", "203.0.113.2"] {
        let response = signin_with_forwarded_for(&app, client).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    assert_rate_limited(signin_with_forwarded_for(&app, "203.0.113.3").await).await;
}

#[tokio::test]
async fn disabling_rate_limits_switches_the_per_ip_limits_off() {
    let app =
        TestApp::spawn_with(Backend::Sqlite, |f| strict(1)(f).merge(("rate_limit.enabled", false)))
            .await;
    for _ in 0..4 {
        let response = signin_with_forwarded_for(&app, "203.0.113.1").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
}

async fn repeated_failures_lock_the_account_even_for_the_right_password(app: TestApp) {
    let user = TestUser::generate();
    app.signup(&user).await;
    for _ in 0..5 {
        let response = app.signin(&user.email, "not the password").await;
        assert_problem(response, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    let locked = app.signin(&user.email, &user.password).await;
    let retry_after = locked.headers()["retry-after"].to_str().expect("ascii").to_owned();
    assert!((25..=30).contains(&retry_after.parse::<i64>().expect("seconds")), "{retry_after}");
    assert_rate_limited(locked).await;

    app.clock.advance(Duration::seconds(31));
    assert_eq!(app.signin(&user.email, &user.password).await.status(), StatusCode::OK);
    // Success reset the count: four more failures do not lock.
    for _ in 0..4 {
        assert_eq!(
            app.signin(&user.email, "nope nope nope").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(app.signin(&user.email, &user.password).await.status(), StatusCode::OK);
}
both_backends!(repeated_failures_lock_the_account_even_for_the_right_password);

async fn lock_windows_double_with_each_further_failure(app: TestApp) {
    let email = TestUser::generate().email;
    for _ in 0..5 {
        app.signin(&email, "wrong password").await;
    }
    app.clock.advance(Duration::seconds(31));
    app.signin(&email, "wrong password").await; // sixth failure: 60 s
    let locked = app.signin(&email, "wrong password").await;
    let retry_after: i64 =
        locked.headers()["retry-after"].to_str().expect("ascii").parse().expect("secs");
    assert!((55..=60).contains(&retry_after), "{retry_after}");
}
both_backends!(lock_windows_double_with_each_further_failure);

async fn unknown_emails_are_locked_exactly_like_real_ones(app: TestApp) {
    let real = TestUser::generate();
    app.signup(&real).await;
    let unknown = TestUser::generate().email;
    for email in [&real.email, &unknown] {
        for _ in 0..5 {
            app.signin(email, "not the password").await;
        }
    }
    let real_locked = app.signin(&real.email, "not the password").await;
    let unknown_locked = app.signin(&unknown, "not the password").await;
    assert_eq!(real_locked.status(), unknown_locked.status());
    assert_rate_limited(real_locked).await;
    assert_rate_limited(unknown_locked).await;
}
both_backends!(unknown_emails_are_locked_exactly_like_real_ones);

async fn the_lockout_holds_across_instances(app: TestApp) {
    let user = TestUser::generate();
    app.signup(&user).await;
    for _ in 0..5 {
        app.signin(&user.email, "not the password").await;
    }
    // A second instance on the same database, as behind a load balancer.
    let mut settings = app.settings.clone();
    settings.server.port = 0;
    let other = Application::build(&settings).await.expect("second instance");
    let address = format!("http://{}", other.local_addr().expect("bound"));
    tokio::spawn(other.run_until(std::future::pending()));
    let response = app
        .client
        .post(format!("{address}/api/v1/auth/signin"))
        .json(&json!({"email": user.email, "password": user.password}))
        .send()
        .await
        .expect("request");
    assert_rate_limited(response).await;
}
both_backends!(the_lockout_holds_across_instances);
