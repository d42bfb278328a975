//! The service around the API: OpenAPI, health, errors outside handlers, reversible
//! migrations, logs.

use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use warren_chat::repositories::ChatDatabase;

use crate::support::{Backend, ChatTest, Warren, assert_problem, both_backends, json_of};

#[tokio::test]
async fn the_openapi_document_lists_every_endpoint_and_swagger_ui_is_served() {
    let chat = ChatTest::spawn(Backend::Sqlite).await;
    let document: Value =
        json_of(chat.client.get(chat.url("/docs/openapi.json")).send().await.expect("request"))
            .await;
    let paths = document["paths"].as_object().expect("paths");
    for path in [
        "/api/v1/rooms",
        "/api/v1/rooms/{id}",
        "/api/v1/rooms/{id}/join",
        "/api/v1/rooms/{id}/leave",
        "/api/v1/rooms/{id}/messages",
        "/api/v1/rooms/{id}/read",
        "/api/v1/rooms/{id}/messages/{message_id}/reactions/{emoji}",
        "/api/health",
    ] {
        assert!(paths.contains_key(path), "{path} missing from the document");
    }
    let ui = chat.client.get(chat.url("/docs/")).send().await.expect("request");
    assert_eq!(ui.status(), StatusCode::OK);
    assert!(ui.text().await.expect("html").contains("swagger"), "Swagger UI");
    let health = chat.client.get(chat.url("/api/health")).send().await.expect("request");
    assert_eq!(json_of(health).await["status"], "ok");
}

#[tokio::test]
async fn errors_outside_handlers_are_problems_with_the_request_id() {
    let chat = ChatTest::spawn(Backend::Sqlite).await;
    let unknown = chat
        .client
        .get(chat.url("/nowhere"))
        .header("x-request-id", "trace-42")
        .send()
        .await
        .expect("request");
    let body = assert_problem(unknown, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(body["request_id"], "trace-42");
    let wrong_method = chat.client.delete(chat.url("/api/v1/rooms")).send().await.expect("request");
    assert_problem(wrong_method, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    let (_, token) = chat.warren.user("Ada Lovelace").await;
    let huge = serde_json::json!({"name": "x".repeat(20_000)});
    let too_large = chat.post(&token, "/api/v1/rooms", &huge).await;
    assert_problem(too_large, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
}

async fn migrations_revert_and_reapply_cleanly(chat: ChatTest) {
    match &chat.database {
        ChatDatabase::Sqlite(pool) => {
            let migrator = sqlx::migrate!("./migrations/sqlite");
            migrator.undo(pool, 0).await.expect("revert");
            migrator.run(pool).await.expect("reapply");
        }
        ChatDatabase::Postgres(pool) => {
            let migrator = sqlx::migrate!("./migrations/postgres");
            migrator.undo(pool, 0).await.expect("revert");
            migrator.run(pool).await.expect("reapply");
        }
    }
    let (_, token) = chat.warren.user("Ada Lovelace").await;
    let rooms = json_of(chat.get(&token, "/api/v1/rooms").await).await;
    assert_eq!(rooms.as_array().map(Vec::len), Some(3), "seeded again: {rooms}");
}
both_backends!(migrations_revert_and_reapply_cleanly);

/// Logs written to a file or a pipe carry no colour codes (only a terminal gets them).
#[tokio::test]
async fn logs_written_to_a_pipe_carry_no_colour_codes() {
    let warren = Warren::spawn(|figment| figment).await;
    let dir = tempfile::tempdir().expect("temporary dir");
    let mut chat = Command::new(env!("CARGO_BIN_EXE_warren-chat"))
        .arg("serve")
        .current_dir(dir.path())
        .env("CHAT_CONFIG", dir.path().join("absent.toml"))
        .env("CHAT_DATA_DIR", dir.path())
        .env("CHAT_SERVER__PORT", "0")
        .env("CHAT_WARREN__URL", &warren.address)
        .env_remove("NO_COLOR")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("warren-chat starts");
    let mut lines = BufReader::new(chat.stdout.take().expect("stdout")).lines();
    let mut seen = String::new();
    while !seen.contains("chat serving") {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("not serving in time; output so far:\n{seen}"))
            .expect("read")
            .unwrap_or_else(|| panic!("warren-chat exited; output:\n{seen}"));
        seen.push_str(&line);
        seen.push('\n');
    }
    assert!(seen.contains("INFO"), "the log line has its level: {seen}");
    assert!(!seen.contains('\u{1b}'), "colour codes in piped logs: {seen:?}");
}
