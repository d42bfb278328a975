//! Room sockets and browser origins: a page may open one only from an allowlisted origin;
//! clients that send no `Origin` (terminals, services) are not browsers and may connect.

use reqwest::StatusCode;
use serde_json::json;

use crate::sockets::{connect, connect_from, next_frame, open};
use crate::support::{Backend, ChatTest, both_backends};

const ALLOWED: &str = "http://localhost:5173";

fn allow_the_spa(figment: figment::Figment) -> figment::Figment {
    figment.merge(("cors.allowed_origins", [ALLOWED]))
}

/// Asserts that a page at `origin` is refused with a 403 problem before any upgrade.
async fn assert_origin_refused(chat: &ChatTest, token: &str, room: &str, origin: &str) {
    let offer = format!("warren.v1, warren.bearer.{token}");
    let refusal = open(chat, &offer, room, Some(origin))
        .await
        .map(|_| ())
        .expect_err("a socket for a page at a foreign origin");
    assert_eq!(refusal.status, StatusCode::FORBIDDEN, "{origin}");
    assert_eq!(refusal.content_type, "application/problem+json");
    assert_eq!(refusal.body["code"], "origin_not_allowed", "{}", refusal.body);
}

async fn only_allowlisted_origins_and_non_browser_clients_get_a_room_socket(chat: ChatTest) {
    let (_, ada) = chat.warren.user("Ada Lovelace").await;
    let room = chat.room(&ada, "Warren").await;
    for foreign in
        ["https://evil.example", "http://localhost:5174", "http://LOCALHOST:5173", "null"]
    {
        assert_origin_refused(&chat, &ada, &room, foreign).await;
    }

    let mut from_the_spa = connect_from(&chat, &ada, &room, Some(ALLOWED)).await;
    let mut from_a_terminal = connect(&chat, &ada, &room).await;
    chat.say(&ada, &room, "who is listening?").await;
    for socket in [&mut from_the_spa, &mut from_a_terminal] {
        let frame = next_frame(socket).await;
        assert_eq!(frame["message"]["content"], json!("who is listening?"), "{frame}");
    }
}
both_backends!(only_allowlisted_origins_and_non_browser_clients_get_a_room_socket, allow_the_spa);

#[tokio::test]
async fn with_no_origins_configured_every_browser_page_is_refused() {
    let chat = ChatTest::spawn(Backend::Sqlite).await;
    let (_, ada) = chat.warren.user("Ada Lovelace").await;
    let room = chat.room(&ada, "Warren").await;
    assert_origin_refused(&chat, &ada, &room, ALLOWED).await;
    assert_origin_refused(&chat, &ada, &room, &chat.address).await;
}
