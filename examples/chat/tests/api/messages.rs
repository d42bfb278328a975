//! Messages: history with the cursor, unread counts, reactions, validation, encryption at rest.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use warren_chat::repositories::ChatDatabase;

use crate::support::{ChatTest, assert_problem, both_backends, json_of};

fn contents(page: &Value) -> Vec<&str> {
    page.as_array().expect("list").iter().map(|m| m["content"].as_str().expect("content")).collect()
}

async fn unread_count_of(chat: &ChatTest, token: &str, room: &str) -> i64 {
    let response = chat.get(token, &format!("/api/v1/rooms/{room}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    json_of(response).await["unread_count"].as_i64().expect("unread_count")
}

async fn history_pages_newest_first_and_unread_counts_drop_after_mark_read(chat: ChatTest) {
    let (ada_id, ada) = chat.warren.user("Ada Lovelace").await;
    let (_, bob) = chat.warren.user("Bob Burrow").await;
    let room = chat.room(&ada, "Warren").await;
    chat.join(&bob, &room).await;
    let mut sent = Vec::new();
    for i in 1..=5 {
        sent.push(chat.say(&ada, &room, &format!("message {i}")).await);
    }
    assert_eq!(sent[0]["sender"], json!({"id": ada_id, "name": "Ada Lovelace"}));
    assert_eq!(sent[0]["reactions"], json!([]));
    assert_eq!(unread_count_of(&chat, &bob, &room).await, 5);
    assert_eq!(unread_count_of(&chat, &ada, &room).await, 0, "own messages are never unread");

    let first =
        json_of(chat.get(&bob, &format!("/api/v1/rooms/{room}/messages?limit=2")).await).await;
    assert_eq!(contents(&first), ["message 5", "message 4"]);
    let cursor = first[1]["id"].as_str().expect("id");
    let path = format!("/api/v1/rooms/{room}/messages?limit=2&before={cursor}");
    let second = json_of(chat.get(&bob, &path).await).await;
    assert_eq!(contents(&second), ["message 3", "message 2"]);
    let path = format!(
        "/api/v1/rooms/{room}/messages?limit=100&before={}",
        second[1]["id"].as_str().expect("id")
    );
    assert_eq!(contents(&json_of(chat.get(&bob, &path).await).await), ["message 1"]);

    let read = chat
        .post(&bob, &format!("/api/v1/rooms/{room}/read"), &json!({"message_id": sent[2]["id"]}))
        .await;
    assert_eq!(read.status(), StatusCode::NO_CONTENT);
    assert_eq!(unread_count_of(&chat, &bob, &room).await, 2);
    let read = chat
        .post(&bob, &format!("/api/v1/rooms/{room}/read"), &json!({"message_id": sent[4]["id"]}))
        .await;
    assert_eq!(read.status(), StatusCode::NO_CONTENT);
    assert_eq!(unread_count_of(&chat, &bob, &room).await, 0);
    let rooms = json_of(chat.get(&bob, "/api/v1/rooms").await).await;
    let listed =
        rooms.as_array().expect("list").iter().find(|r| r["id"] == room.as_str()).expect("listed");
    assert_eq!(listed["unread_count"], 0);
}
both_backends!(history_pages_newest_first_and_unread_counts_drop_after_mark_read);

async fn reactions_are_counted_per_emoji_with_mine_from_the_viewer(chat: ChatTest) {
    let (_, ada) = chat.warren.user("Ada Lovelace").await;
    let (_, bob) = chat.warren.user("Bob Burrow").await;
    let room = chat.room(&ada, "Warren").await;
    chat.join(&bob, &room).await;
    let message = chat.say(&ada, &room, "carrots for everyone").await;
    let path = format!(
        "/api/v1/rooms/{room}/messages/{}/reactions/%F0%9F%A5%95",
        message["id"].as_str().expect("id")
    );
    for token in [&ada, &bob, &bob] {
        let response = chat.reaction(Method::PUT, token, &path).await;
        assert_eq!(response.status(), StatusCode::OK, "idempotent");
    }
    let as_bob = json_of(chat.reaction(Method::PUT, &bob, &path).await).await;
    assert_eq!(as_bob["reactions"], json!([{"emoji": "🥕", "count": 2, "mine": true}]));
    let removed = json_of(chat.reaction(Method::DELETE, &ada, &path).await).await;
    assert_eq!(removed["reactions"], json!([{"emoji": "🥕", "count": 1, "mine": false}]));
    let history = json_of(chat.get(&ada, &format!("/api/v1/rooms/{room}/messages")).await).await;
    assert_eq!(history[0]["reactions"], json!([{"emoji": "🥕", "count": 1, "mine": false}]));
}
both_backends!(reactions_are_counted_per_emoji_with_mine_from_the_viewer);

async fn bad_message_input_is_a_problem_not_a_500(chat: ChatTest) {
    let (_, ada) = chat.warren.user("Ada Lovelace").await;
    let room = chat.room(&ada, "Warren").await;
    let send = format!("/api/v1/rooms/{room}/messages");
    for content in [json!(""), json!("x".repeat(4001)), json!(42)] {
        let response = chat.post(&ada, &send, &json!({"content": content})).await;
        assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    }
    assert_eq!(
        chat.post(&ada, &send, &json!({"content": "x".repeat(4000)})).await.status(),
        StatusCode::CREATED
    );
    let raw = chat
        .client
        .post(chat.url(&send))
        .bearer_auth(&ada)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .expect("request");
    assert_problem(raw, StatusCode::BAD_REQUEST, "malformed_json").await;
    let unknown = format!("/api/v1/rooms/{}/messages", uuid::Uuid::now_v7());
    assert_problem(
        chat.post(&ada, &unknown, &json!({"content": "hi"})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    for limit in ["0", "101", "many"] {
        let response = chat.get(&ada, &format!("{send}?limit={limit}")).await;
        assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    }
    let message = chat.say(&ada, &room, "react to me").await;
    let base =
        format!("/api/v1/rooms/{room}/messages/{}/reactions", message["id"].as_str().expect("id"));
    for emoji in ["ok", "a", "%F0%9F%91%8D%F0%9F%91%8D", "%F0%9F%91%8Dx"] {
        let response = chat.reaction(Method::PUT, &ada, &format!("{base}/{emoji}")).await;
        assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    }
    let unknown_message =
        format!("/api/v1/rooms/{room}/messages/{}/reactions/%F0%9F%91%8D", uuid::Uuid::now_v7());
    assert_problem(
        chat.reaction(Method::PUT, &ada, &unknown_message).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let read = chat
        .post(
            &ada,
            &format!("/api/v1/rooms/{room}/read"),
            &json!({"message_id": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_problem(read, StatusCode::NOT_FOUND, "not_found").await;
}
both_backends!(bad_message_input_is_a_problem_not_a_500);

/// What a database dump would show: the SQLite file, or every Postgres row as text.
async fn dump(database: &ChatDatabase, data_dir: &std::path::Path) -> String {
    match database {
        ChatDatabase::Sqlite(pool) => {
            // Push the WAL into the main file so the file on disk is the whole database.
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(pool).await.expect("checkpoint");
            String::from_utf8_lossy(&std::fs::read(data_dir.join("chat.db")).expect("db file"))
                .into_owned()
        }
        ChatDatabase::Postgres(pool) => {
            let every_table = "SELECT t::text FROM messages t UNION ALL SELECT t::text FROM rooms t \
                               UNION ALL SELECT t::text FROM display_names t";
            let rows: Vec<(String,)> =
                sqlx::query_as(every_table).fetch_all(pool).await.expect("dump");
            rows.into_iter().map(|(row,)| row).collect()
        }
    }
}

async fn a_database_dump_holds_no_message_plaintext(chat: ChatTest) {
    let (_, ada) = chat.warren.user("Ada Lovelace").await;
    let room = chat.room(&ada, "Warren").await;
    chat.say(&ada, &room, "the-secret-burrow-is-under-the-oak").await;
    let dumped = dump(&chat.database, &chat.data_dir).await;
    assert!(dumped.contains("Warren"), "the dump is real: room names are plain");
    assert!(!dumped.contains("the-secret-burrow"), "message plaintext leaked");
}
both_backends!(a_database_dump_holds_no_message_plaintext);

/// Runs `sql` with `$1` = `id` and `$2` = `bytes`, as an attacker with database access would.
async fn execute(database: &ChatDatabase, sql: &'static str, id: uuid::Uuid, bytes: Vec<u8>) {
    let done = match database {
        ChatDatabase::Sqlite(pool) => {
            sqlx::query(sql).bind(id).bind(bytes).execute(pool).await.map(|r| r.rows_affected())
        }
        ChatDatabase::Postgres(pool) => {
            sqlx::query(sql).bind(id).bind(bytes).execute(pool).await.map(|r| r.rows_affected())
        }
    };
    assert_eq!(done.expect("update"), 1, "{sql}");
}

async fn a_tampered_or_moved_message_is_not_served(chat: ChatTest) {
    let (_, ada) = chat.warren.user("Ada Lovelace").await;
    let room = chat.room(&ada, "Warren").await;
    let other = chat.room(&ada, "Elsewhere").await;
    chat.say(&ada, &room, "kept").await;
    let tampered = chat.say(&ada, &room, "tampered").await;
    let moved = chat.say(&ada, &room, "moved").await;
    let id = |m: &Value| uuid::Uuid::parse_str(m["id"].as_str().expect("id")).expect("uuid");
    // Same length as the real ciphertext ("tampered" + 16-byte tag), other bytes.
    let forged = "UPDATE messages SET ciphertext = $2 WHERE id = $1";
    execute(&chat.database, forged, id(&tampered), vec![7; 24]).await;
    let relocate = "UPDATE messages SET room_id = (SELECT id FROM rooms WHERE name = 'Elsewhere') \
                    WHERE id = $1 AND $2 IS NOT NULL";
    execute(&chat.database, relocate, id(&moved), Vec::new()).await;

    let history = json_of(chat.get(&ada, &format!("/api/v1/rooms/{room}/messages")).await).await;
    assert_eq!(contents(&history), ["kept"]);
    let elsewhere = json_of(chat.get(&ada, &format!("/api/v1/rooms/{other}/messages")).await).await;
    assert_eq!(
        contents(&elsewhere),
        Vec::<&str>::new(),
        "a moved ciphertext does not open in its new room"
    );
}
both_backends!(a_tampered_or_moved_message_is_not_served);
