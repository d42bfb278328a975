//! Events across instances: two Warren processes on one Postgres, an event caused
//! on one reaching a socket on the other, also after the listener connection was killed.

use std::time::Duration;

use serde_json::{Value, json};
use sqlx::Connection;

use crate::helpers::{Backend, TestApp};
use crate::live::{next_frame, open};

/// The backends currently listening for account events on `url`'s database.
async fn listeners(url: &str) -> Vec<i32> {
    let mut connection = sqlx::PgConnection::connect(url).await.expect("connect");
    sqlx::query_scalar(
        "SELECT pid FROM pg_stat_activity
         WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
    )
    .fetch_all(&mut connection)
    .await
    .expect("list listeners")
}

/// Waits until two instances listen, none of them on one of the `gone` backends.
async fn wait_for_two_listeners(url: &str, gone: &[i32]) -> Vec<i32> {
    for _ in 0..100 {
        let pids = listeners(url).await;
        if pids.len() == 2 && !pids.iter().any(|pid| gone.contains(pid)) {
            return pids;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("expected two listening connections");
}

async fn rename(app: &TestApp, token: &str, name: &str) {
    let response = app.patch_me(token, &json!({"full_name": name})).await;
    assert_eq!(response.status(), reqwest::StatusCode::OK);
}

#[tokio::test]
async fn an_event_on_one_instance_reaches_a_socket_on_another_also_after_its_listener_is_killed() {
    let a = TestApp::spawn(Backend::Postgres).await;
    let url = a.settings.database_url();
    let shared = url.clone();
    // The instances share the database and the signing key, as a real deployment does.
    let key = a.settings.data_dir.join("keys/signing.pem");
    let b = TestApp::spawn_with(Backend::Postgres, move |figment| {
        figment.merge(("database.url", shared)).merge(("auth.signing_key_file", key))
    })
    .await;
    let before = wait_for_two_listeners(&url, &[]).await;
    let (_, token) = a.signed_in_user().await;
    let (mut socket, _) = open(&b, &token).await;

    rename(&a, &token, "Before").await;
    let frame = next_frame(&mut socket).await;
    assert_eq!(
        (frame["type"].as_str(), frame["user"]["full_name"].as_str()),
        (Some("user_updated"), Some("Before"))
    );

    let mut admin = sqlx::PgConnection::connect(&url).await.expect("connect");
    for pid in &before {
        let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
            .bind(pid)
            .fetch_one(&mut admin)
            .await
            .expect("terminate a listener");
        assert!(killed, "listener {pid} terminated");
    }
    wait_for_two_listeners(&url, &before).await;

    rename(&a, &token, "After").await;
    let frame: Value = next_frame(&mut socket).await;
    assert_eq!(
        (frame["type"].as_str(), frame["user"]["full_name"].as_str()),
        (Some("user_updated"), Some("After"))
    );
}
