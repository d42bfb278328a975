//! No acknowledgement before durability: every 201/200 names a committed write,
//! storage faults are fast 503s, and the service heals without a restart.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use reqwest::{Response, StatusCode};
use serde_json::json;
use warren::repositories::Backend as Pools;

use crate::helpers::{
    Backend, TestApp, TestUser, assert_problem, both_backends, default_database_budget,
};
use crate::proxy::{Mode, Proxy};

async fn every_acknowledged_signup_can_sign_in_at_once(app: TestApp) {
    for _ in 0..6 {
        let attempts = (0..5).map(|_| async {
            let user = TestUser::generate();
            assert_eq!(app.signup(&user).await.status(), StatusCode::CREATED);
            app.signin(&user.email, &user.password).await.status()
        });
        let statuses = join_all(attempts).await;
        assert!(statuses.iter().all(|s| *s == StatusCode::OK), "{statuses:?}");
    }
}
both_backends!(every_acknowledged_signup_can_sign_in_at_once);

/// Lets the SQLite writer connection grow the file no further.
async fn fill_up(app: &TestApp) {
    let Pools::Sqlite(pools) = app.database.backend() else { unreachable!("spawned on SQLite") };
    let mut writer = pools.write.acquire().await.expect("writer connection");
    let pages: i64 =
        sqlx::query_scalar("PRAGMA page_count").fetch_one(&mut *writer).await.expect("size");
    let limit = format!("PRAGMA max_page_count = {pages}");
    sqlx::query(sqlx::AssertSqlSafe(limit)).execute(&mut *writer).await.expect("limit");
}

fn fat_user() -> TestUser {
    TestUser { full_name: "Fat ".repeat(25), ..TestUser::generate() }
}

#[tokio::test]
async fn a_full_sqlite_database_refuses_writes_with_503_and_heals_without_a_restart() {
    let mut app = TestApp::spawn(Backend::Sqlite).await;
    let (_, token) = app.signed_in_user().await;
    let (mut acknowledged, mut refused) = (Vec::new(), None);
    for _ in 0..300 {
        fill_up(&app).await;
        let user = fat_user();
        let response = app.signup(&user).await;
        if response.status() == StatusCode::CREATED {
            acknowledged.push(user);
        } else {
            refused = Some((user, response));
            break;
        }
    }

    let (refused, response) = refused.expect("the database filled up");
    assert!(response.headers().contains_key("retry-after"));
    assert_problem(response, StatusCode::SERVICE_UNAVAILABLE, "service_unavailable").await;
    assert_eq!(app.me(&token).await.status(), StatusCode::OK, "reads keep working");
    assert_eq!(app.get("/api/health").await.status(), StatusCode::OK);
    // Space is back (the failed writer connection and its limit are gone): writes resume.
    assert_eq!(app.signup(&TestUser::generate()).await.status(), StatusCode::CREATED);
    app.restart_with(|figment| figment).await;
    for user in &acknowledged {
        assert_eq!(app.signin(&user.email, &user.password).await.status(), StatusCode::OK);
    }
    let never_created = app.signin(&refused.email, &refused.password).await;
    assert_eq!(never_created.status(), StatusCode::UNAUTHORIZED);
    let Pools::Sqlite(pools) = app.database.backend() else { unreachable!("SQLite") };
    let check: String =
        sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&pools.read).await.expect("check");
    assert_eq!(check, "ok");
}

/// Every request that needs the database, and readiness, against a cut database.
async fn requests_needing_the_database(
    app: &TestApp,
    token: &str,
    refresh: &str,
) -> Vec<(&'static str, Response)> {
    let user = TestUser::generate();
    vec![
        ("signup", app.signup(&user).await),
        ("signin", app.signin(&user.email, &user.password).await),
        ("refresh", app.refresh(refresh).await),
        ("me", app.me(token).await),
        ("patch", app.patch_me(token, &json!({"full_name": "Cut Off"})).await),
        ("ready", app.get("/api/health/ready").await),
    ]
}

async fn assert_fast_503s(app: &TestApp, token: &str, refresh: &str) {
    for _ in 0..2 {
        let started = Instant::now();
        for (name, response) in requests_needing_the_database(app, token, refresh).await {
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{name}");
        }
        let per_request = started.elapsed() / 6;
        assert!(per_request < Duration::from_secs(2), "{per_request:?} per request");
    }
}

async fn assert_heals(app: &TestApp, token: &str) {
    for _ in 0..20 {
        if app.me(token).await.status() == StatusCode::OK {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the service did not recover");
}

/// Postgres only (named `::postgres` so `make test` skips it when Postgres is unreachable).
mod a_cut_postgres_answers_503_within_2s_and_heals_without_a_restart {
    use super::*;

    #[tokio::test]
    async fn postgres() {
        let proxy = Proxy::start("127.0.0.1:5432".parse().expect("address")).await;
        let port = proxy.port;
        let app = TestApp::spawn_with(Backend::Postgres, move |figment| {
            let url: String = figment.extract_inner("database.url").expect("url");
            let through_proxy = url.replacen("127.0.0.1:5432", &format!("127.0.0.1:{port}"), 1);
            assert_ne!(url, through_proxy, "POSTGRES_TEST_URL names 127.0.0.1:5432");
            // The test measures that requests fail within the default budget.
            default_database_budget(figment.merge(("database.url", through_proxy)))
        })
        .await;
        let user = TestUser::generate();
        assert_eq!(app.signup(&user).await.status(), StatusCode::CREATED);
        let body = app.signin_body(&user, "tests").await;
        let token = body["access_token"].as_str().expect("access token");
        let refresh = body["refresh_token"].as_str().expect("refresh token");

        for mode in [Mode::Refuse, Mode::Blackhole] {
            proxy.set(mode);
            assert_fast_503s(&app, token, refresh).await;
            proxy.set(Mode::Forward);
            assert_heals(&app, token).await;
        }
        assert_eq!(app.refresh(refresh).await.status(), StatusCode::OK);
    }
}
