//! Every time the chat shows is the stored one: whole microseconds, the finest both databases
//! keep, so a message on a socket, in the answer to its sender and in history is one object.

use serde_json::{Value, json};
use time::macros::datetime;
use uuid::Uuid;
use warren_chat::domain::RoomName;

use crate::sockets::{connect, next_frame, send};
use crate::support::{ChatTest, both_backends, json_of};

/// How many digits follow the decimal point of an RFC 3339 time (0 when there is no point).
fn fractional_digits(at: &Value) -> usize {
    let at = at.as_str().expect("a time string");
    at.split_once('.').map_or(0, |(_, rest)| rest.bytes().take_while(u8::is_ascii_digit).count())
}

/// Asserts two JSON objects serialise to the same bytes, naming the field where they differ.
fn assert_same_object(seen: &Value, stored: &Value, what: &str) {
    assert_eq!(seen["created_at"], stored["created_at"], "{what}: created_at");
    assert_eq!(seen.to_string(), stored.to_string(), "{what}: the whole object");
    assert!(fractional_digits(&stored["created_at"]) <= 6, "{what}: {}", stored["created_at"]);
}

async fn a_message_frame_carries_exactly_the_message_history_serves(chat: ChatTest) {
    let (_, ada) = chat.warren.user("Ada Lovelace").await;
    let room = chat.room(&ada, "Warren").await;
    let mut socket = connect(&chat, &ada, &room).await;
    // Several messages, so a clock reading that happens to fall on a whole microsecond cannot
    // hide a difference; sent over REST and over the socket.
    let mut answers = Vec::new();
    let mut frames = Vec::new();
    for n in 0..3 {
        answers.push(chat.say(&ada, &room, &format!("over REST {n}")).await);
        frames.push(next_frame(&mut socket).await["message"].clone());
    }
    send(&mut socket, &json!({"type": "message", "content": "over the socket"})).await;
    frames.push(next_frame(&mut socket).await["message"].clone());

    let history = json_of(chat.get(&ada, &format!("/api/v1/rooms/{room}/messages")).await).await;
    let mut stored = history.as_array().expect("a page").clone();
    stored.reverse();
    assert_eq!(stored.len(), frames.len(), "every message stored: {history}");
    for (n, (frame, stored)) in frames.iter().zip(&stored).enumerate() {
        assert_same_object(frame, stored, &format!("frame {n}"));
    }
    for (n, (answer, stored)) in answers.iter().zip(&stored).enumerate() {
        assert_same_object(answer, stored, &format!("answer {n}"));
    }
}
both_backends!(a_message_frame_carries_exactly_the_message_history_serves);

async fn a_new_room_shows_its_stored_creation_time_everywhere(chat: ChatTest) {
    let (_, ada) = chat.warren.user("Ada Lovelace").await;
    let created = json_of(chat.post(&ada, "/api/v1/rooms", &json!({"name": "Warren"})).await).await;
    let id = created["id"].as_str().expect("room id");
    let fetched = json_of(chat.get(&ada, &format!("/api/v1/rooms/{id}")).await).await;
    let listed = json_of(chat.get(&ada, "/api/v1/rooms").await).await;
    let listed = listed.as_array().expect("rooms").iter().find(|r| r["id"] == id).expect("listed");
    assert_same_object(&fetched, &created, "fetched room");
    assert_same_object(listed, &created, "listed room");
}
both_backends!(a_new_room_shows_its_stored_creation_time_everywhere);

async fn rooms_are_listed_in_creation_order_within_one_second(chat: ChatTest) {
    let (creator, token) = chat.warren.user("Ada Lovelace").await;
    let creator = Uuid::parse_str(&creator).expect("user id");
    let rooms = chat.database.repositories().rooms;
    // The later room gets the smaller id, so only the creation times can order them; as text,
    // `…05.12Z` would sort after `…05.123Z`.
    let (later, earlier) = (Uuid::now_v7(), Uuid::now_v7());
    let at = datetime!(2026-12-07 13:27:05.12 UTC);
    rooms
        .create(earlier, &RoomName::parse("Earlier").expect("name"), creator, at)
        .await
        .expect("create");
    let at = datetime!(2026-12-07 13:27:05.123 UTC);
    rooms
        .create(later, &RoomName::parse("Later").expect("name"), creator, at)
        .await
        .expect("create");

    let rooms = json_of(chat.get(&token, "/api/v1/rooms").await).await;
    let names: Vec<&str> = rooms
        .as_array()
        .expect("rooms")
        .iter()
        .filter_map(|room| room["name"].as_str())
        .filter(|name| ["Earlier", "Later"].contains(name))
        .collect();
    assert_eq!(names, ["Earlier", "Later"]);
}
both_backends!(rooms_are_listed_in_creation_order_within_one_second);
