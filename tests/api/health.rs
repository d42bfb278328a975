//! Liveness and readiness.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, assert_problem, both_backends, database_free};

async fn health_is_healthy(app: TestApp) {
    let response = app.client.get(app.url("/api/health")).send().await.expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body, serde_json::json!({"status": "healthy"}));
}
database_free!(health_is_healthy);

async fn ready_when_the_database_answers(app: TestApp) {
    let response = app.client.get(app.url("/api/health/ready")).send().await.expect("request");
    assert_eq!(response.status(), StatusCode::OK);
}
both_backends!(ready_when_the_database_answers);

async fn a_lost_database_is_503_with_retry_after_never_500(app: TestApp) {
    let (_, token) = app.signed_in_user().await;
    app.database.close().await;
    let ready = app.client.get(app.url("/api/health/ready")).send().await.expect("request");
    assert!(ready.headers().contains_key("retry-after"));
    assert_problem(ready, StatusCode::SERVICE_UNAVAILABLE, "service_unavailable").await;
    let me = app.me(&token).await;
    assert!(me.headers().contains_key("retry-after"));
    assert_problem(me, StatusCode::SERVICE_UNAVAILABLE, "service_unavailable").await;
    let health = app.client.get(app.url("/api/health")).send().await.expect("request");
    assert_eq!(health.status(), StatusCode::OK, "liveness does not depend on the database");
}
both_backends!(a_lost_database_is_503_with_retry_after_never_500);

/// `warren migrate down` on a live database: the instance says it is not ready instead of
/// answering 500s while its probe says ready.
async fn readiness_requires_every_migration_this_build_needs(app: TestApp) {
    let reverted = app.database.migrate_down().await.expect("revert the newest migration");
    assert!(reverted.is_some(), "there was a migration to revert");

    let behind = app.get("/api/health/ready").await;
    assert_problem(behind, StatusCode::SERVICE_UNAVAILABLE, "service_unavailable").await;

    app.database.migrate_up().await.expect("re-apply");
    assert_eq!(app.get("/api/health/ready").await.status(), StatusCode::OK);
}
both_backends!(readiness_requires_every_migration_this_build_needs);
