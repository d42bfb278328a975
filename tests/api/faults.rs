//! Database faults become 503 with `Retry-After` — never 500 — and heal without a restart.

use reqwest::StatusCode;
use serde_json::json;
use sqlx::Connection;
use warren::repositories::Backend as Pools;

use crate::helpers::{Backend, TestApp, TestUser, assert_problem, default_database_budget};

#[tokio::test]
async fn a_locked_sqlite_database_is_503_and_writes_resume_once_it_is_released() {
    // The default budget, which runs out before SQLite's busy timeout.
    let app = TestApp::spawn_with(Backend::Sqlite, default_database_budget).await;
    let Pools::Sqlite(_) = app.database.backend() else { unreachable!("spawned on SQLite") };
    let (user, token) = app.signed_in_user().await;
    let url = app.settings.database_url();
    // Another process holding the write lock longer than the busy timeout (5 s).
    let mut intruder = sqlx::SqliteConnection::connect(&url).await.expect("second connection");
    sqlx::query("BEGIN EXCLUSIVE").execute(&mut intruder).await.expect("lock");

    let blocked = app.signup(&TestUser::generate()).await;
    let rename = app.patch_me(&token, &json!({"full_name": "Renamed While Locked"})).await;
    let read = app.me(&token).await;

    for response in [blocked, rename] {
        assert!(response.headers().contains_key("retry-after"));
        assert_problem(response, StatusCode::SERVICE_UNAVAILABLE, "service_unavailable").await;
    }
    assert_eq!(read.status(), StatusCode::OK, "reads keep working");
    sqlx::query("ROLLBACK").execute(&mut intruder).await.expect("unlock");
    let me: serde_json::Value = app.me(&token).await.json().await.expect("json");
    assert_eq!(me["full_name"], user.full_name.as_str(), "the refused rename changed nothing");
    assert_eq!(app.signup(&TestUser::generate()).await.status(), StatusCode::CREATED);
}

/// Postgres only (named `::postgres` so `make test` skips it when Postgres is unreachable).
mod killed_connections_heal_without_a_restart {
    use super::*;

    #[tokio::test]
    async fn postgres() {
        let app = TestApp::spawn(Backend::Postgres).await;
        let (_, token) = app.signed_in_user().await;
        let Pools::Postgres(pool) = app.database.backend() else {
            unreachable!("spawned on Postgres")
        };
        let admin_url = std::env::var("POSTGRES_TEST_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let database: String =
            sqlx::query_scalar("SELECT current_database()").fetch_one(pool).await.expect("name");
        let mut admin = sqlx::PgConnection::connect(&admin_url).await.expect("admin connection");
        // What a failover or a server restart does to every pooled connection.
        sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
            .bind(&database)
            .execute(&mut admin)
            .await
            .expect("terminate");

        let mut statuses = Vec::new();
        for _ in 0..10 {
            let status = app.me(&token).await.status();
            statuses.push(status);
            if status == StatusCode::OK {
                break;
            }
        }
        assert!(
            statuses.iter().all(|s| matches!(*s, StatusCode::OK | StatusCode::SERVICE_UNAVAILABLE)),
            "{statuses:?}"
        );
        assert_eq!(statuses.last(), Some(&StatusCode::OK), "{statuses:?}");
    }
}
