//! Micro-benchmarks (criterion) for the costs that dominate the hot paths:
//! password hashing and verification, access-token signing and verification (first sight
//! and cached), and `GET /api/v1/users/me` through the whole router without the network.
//!
//! ```sh
//! cargo bench --bench micro
//! ```

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use time::OffsetDateTime;
use tower::ServiceExt;
use warren::core::config::Settings;
use warren::core::security::{AccessTokens, KeyRing, PasswordHasher};
use warren::domain::{Amr, CandidatePassword, Password, PasswordPolicy, SessionId, UserId};
use warren::startup::Application;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime")
}

fn passwords(c: &mut Criterion) {
    let runtime = runtime();
    let hasher = PasswordHasher::new(PasswordHasher::recommended_params(), 1).expect("hasher");
    let password =
        Password::parse("benchmark pass phrase", PasswordPolicy::default(), None).expect("valid");
    let stored = runtime.block_on(hasher.hash(&password)).expect("hash");
    let candidate = CandidatePassword::new("benchmark pass phrase");
    let mut group = c.benchmark_group("password");
    group.sample_size(20);
    group.bench_function("hash", |b| b.to_async(&runtime).iter(|| hasher.hash(&password)));
    group.bench_function("verify", |b| {
        b.to_async(&runtime).iter(|| hasher.verify(&candidate, Some(&stored)));
    });
    group.finish();
}

fn tokens(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let figment =
        Settings::figment(&dir.path().join("absent.toml")).merge(("data_dir", dir.path()));
    let settings = Settings::from_figment(&figment).expect("settings");
    let keys = Arc::new(KeyRing::load(&settings).expect("keys"));
    let tokens = AccessTokens::new(keys, "http://localhost:8000", "warren", 900);
    let now = OffsetDateTime::now_utc();
    let (user, session) = (UserId::generate(), SessionId::generate());
    let mut group = c.benchmark_group("access_token");
    group.bench_function("sign", |b| b.iter(|| tokens.issue(user, session, 0, Amr::Password, now)));
    group.bench_function("verify_first_sight", |b| {
        b.iter_batched(
            || tokens.issue(user, session, 0, Amr::Password, now).expect("token").token,
            |token| tokens.verify(&token, now),
            criterion::BatchSize::SmallInput,
        );
    });
    let cached = tokens.issue(user, session, 0, Amr::Password, now).expect("token").token;
    group.bench_function("verify_cached", |b| b.iter(|| tokens.verify(&cached, now)));
    group.finish();
}

async fn json_request(router: &axum::Router, path: &str, body: &Value) -> Value {
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    let response = router.clone().oneshot(request).await.expect("response");
    let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024).await.expect("body");
    serde_json::from_slice(&bytes).expect("json")
}

fn users_me(c: &mut Criterion) {
    let runtime = runtime();
    let dir = tempfile::tempdir().expect("tempdir");
    let figment = Settings::figment(&dir.path().join("absent.toml"))
        .merge(("data_dir", dir.path()))
        .merge(("server.port", 0))
        .merge(("rate_limit.enabled", false))
        .merge(("log.level", "warn"));
    let settings = Settings::from_figment(&figment).expect("settings");
    let (router, token) = runtime.block_on(async {
        let router = Application::build(&settings).await.expect("application").into_router();
        let credentials =
            json!({"email": "micro@example.com", "password": "benchmark pass phrase"});
        json_request(&router, "/api/v1/auth/signup", &credentials).await;
        let signed_in = json_request(&router, "/api/v1/auth/signin", &credentials).await;
        (router, signed_in["access_token"].as_str().expect("token").to_owned())
    });
    let bearer = format!("Bearer {token}");
    c.bench_function("GET /api/v1/users/me (router, SQLite, no network)", |b| {
        b.to_async(&runtime).iter(|| async {
            let request = Request::get("/api/v1/users/me")
                .header(header::AUTHORIZATION, &bearer)
                .body(Body::empty())
                .expect("request");
            let response = router.clone().oneshot(request).await.expect("response");
            assert_eq!(response.status(), StatusCode::OK);
        });
    });
}

criterion_group!(benches, passwords, tokens, users_me);
criterion_main!(benches);
