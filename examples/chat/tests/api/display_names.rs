//! Display names never come from the email: a user without a full name appears to the room as
//! "Member " and the last four hex digits of their id.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::sockets::{connect, next_text, send};
use crate::support::{ChatTest, both_backends};

async fn a_member_without_a_full_name_is_never_shown_by_any_part_of_the_email(chat: ChatTest) {
    let email = format!("ada.lovelace.secret.{}@example.com", Uuid::now_v7().simple());
    let password = chat.warren.signup_with(&email, None).await;
    let (ada_id, ada) = chat.warren.signin(&email, &password).await;
    let (_, bob) = chat.warren.user("Bob Burrow").await;
    let room = chat.room(&bob, "Warren").await;
    let mut bob_socket = connect(&chat, &bob, &room).await;

    chat.join(&ada, &room).await;
    let joined = next_text(&mut bob_socket).await;
    let answer = chat.say(&ada, &room, "hello").await;
    let message = next_text(&mut bob_socket).await;
    let mut ada_socket = connect(&chat, &ada, &room).await;
    send(&mut ada_socket, &json!({"type": "typing"})).await;
    let typing = next_text(&mut bob_socket).await;
    let history = chat.get(&bob, &format!("/api/v1/rooms/{room}/messages")).await;
    assert_eq!(history.status(), StatusCode::OK);
    let history = history.text().await.expect("body");

    let placeholder = format!("Member {}", &ada_id[ada_id.len() - 4..]);
    let (local, domain) = email.split_once('@').expect("an email");
    for (what, text) in [
        ("member_joined", &joined),
        ("message", &message),
        ("typing", &typing),
        ("history", &history),
    ] {
        for part in [local, domain, "ada.lovelace", "secret"] {
            assert!(!text.contains(part), "{what} shows {part:?} of the email: {text}");
        }
        let value: Value = serde_json::from_str(text).expect("JSON");
        let name = [
            &value["user"]["name"],
            &value["message"]["sender"]["name"],
            &value[0]["sender"]["name"],
        ]
        .into_iter()
        .find_map(Value::as_str)
        .unwrap_or_else(|| panic!("{what} names nobody: {text}"));
        assert_eq!(name, placeholder, "{what}");
    }
    assert_eq!(answer["sender"]["name"], placeholder.as_str(), "the answer to the sender");
}
both_backends!(a_member_without_a_full_name_is_never_shown_by_any_part_of_the_email);
