//! `warren serve` as a process: what it logs, and several of them on one SQLite file.

use crate::{Operator, Server};

#[test]
fn serve_logs_its_url_docs_database_and_key_id_without_colour_codes() {
    let operator = Operator::new();
    let server = Server::start(&operator, &[]);
    let line = &server.line;
    assert!(server.url.starts_with("http://127.0.0.1:"), "{line}");
    assert!(line.contains(&format!("docs={}/docs", server.url)), "{line}");
    assert!(line.contains("SQLite file ./data/warren.db"), "{line}");
    assert!(line.contains("kid="), "{line}");
    assert!(!line.contains('\u{1b}'), "colour codes in a pipe: {line:?}");
}

/// Two processes on one SQLite file, as docs/decisions.md describes: on one host SQLite's
/// locking keeps them consistent (what one writes, the other reads at once). The docs still
/// say not to deploy this way; this checks only the consistency they claim.
#[tokio::test]
async fn two_instances_on_one_sqlite_file_see_each_others_writes() {
    let operator = Operator::new();
    let first = Server::start(&operator, &[]);
    let second = Server::start(&operator, &[]);
    let client = reqwest::Client::new();
    let account = serde_json::json!({
        "email": "shared@example.com",
        "password": "one file two processes",
        "full_name": "Shared File",
    });
    let signup = client.post(format!("{}/api/v1/auth/signup", first.url)).json(&account);
    assert_eq!(signup.send().await.expect("signup").status(), 201);
    let signin = client
        .post(format!("{}/api/v1/auth/signin", second.url))
        .json(&serde_json::json!({"email": account["email"], "password": account["password"]}))
        .send()
        .await
        .expect("signin");
    assert_eq!(signin.status(), 200, "the second instance sees the first one's account");
    let tokens: serde_json::Value = signin.json().await.expect("signin body");
    let refresh = client
        .post(format!("{}/api/v1/auth/refresh", first.url))
        .json(&serde_json::json!({"refresh_token": tokens["refresh_token"]}))
        .send()
        .await
        .expect("refresh");
    assert_eq!(refresh.status(), 200, "the first instance sees the second one's session");
}
