//! The room WebSocket: two members chatting live, typing, reactions, auth and closing rules.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::sockets::{close_code, connect, connect_with, next_frame, send};
use crate::support::{Backend, ChatTest, both_backends};

async fn two_members_chat_live_with_typing_and_reactions(chat: ChatTest) {
    let (ada_id, ada) = chat.warren.user("Ada Lovelace").await;
    let (bob_id, bob) = chat.warren.user("Bob Burrow").await;
    let room = chat.room(&ada, "Warren").await;
    chat.join(&bob, &room).await;
    let mut ada_socket = connect(&chat, &ada, &room).await;
    let mut bob_socket = connect(&chat, &bob, &room).await;

    send(&mut ada_socket, &json!({"type": "typing"})).await;
    send(&mut ada_socket, &json!({"type": "typing"})).await;
    let typing = next_frame(&mut bob_socket).await;
    assert_eq!(typing["type"], "typing");
    assert_eq!(typing["user"], json!({"id": ada_id, "name": "Ada Lovelace"}));

    send(&mut ada_socket, &json!({"type": "message", "content": "hello bob"})).await;
    for socket in [&mut bob_socket, &mut ada_socket] {
        let frame = next_frame(socket).await;
        assert_eq!(frame["type"], "message", "typing is throttled and never echoed: {frame}");
        assert_eq!(frame["message"]["content"], "hello bob");
        assert_eq!(frame["message"]["sender"]["id"], ada_id.as_str());
    }
    let history =
        crate::support::json_of(chat.get(&bob, &format!("/api/v1/rooms/{room}/messages")).await)
            .await;
    let message_id = history[0]["id"].as_str().expect("stored").to_owned();

    let reaction = format!("/api/v1/rooms/{room}/messages/{message_id}/reactions/%F0%9F%90%87");
    assert_eq!(chat.reaction(Method::PUT, &bob, &reaction).await.status(), StatusCode::OK);
    let added = next_frame(&mut ada_socket).await;
    assert_eq!(added["type"], "reaction_added");
    assert_eq!(
        (added["message_id"].as_str(), added["emoji"].as_str()),
        (Some(message_id.as_str()), Some("🐇"))
    );
    assert_eq!(added["user"], json!({"id": bob_id, "name": "Bob Burrow"}));
    assert_eq!(chat.reaction(Method::DELETE, &bob, &reaction).await.status(), StatusCode::OK);
    assert_eq!(next_frame(&mut ada_socket).await["type"], "reaction_removed");

    send(&mut bob_socket, &json!({"type": "message", "content": ""})).await;
    let skip = next_frame(&mut bob_socket).await;
    assert_eq!(skip["type"], "reaction_added");
    assert_eq!(next_frame(&mut bob_socket).await["type"], "reaction_removed");
    let error = next_frame(&mut bob_socket).await;
    assert_eq!(
        (error["type"].as_str(), error["code"].as_str()),
        (Some("error"), Some("validation_failed"))
    );
    send(&mut bob_socket, &json!({"type": "ping"})).await;
    assert_eq!(next_frame(&mut bob_socket).await["type"], "pong", "the socket stayed open");

    let (carol_id, carol) = chat.warren.user("Carol Clover").await;
    chat.join(&carol, &room).await;
    let joined = next_frame(&mut ada_socket).await;
    assert_eq!(
        (joined["type"].as_str(), joined["user"]["id"].as_str()),
        (Some("member_joined"), Some(carol_id.as_str()))
    );
}
both_backends!(two_members_chat_live_with_typing_and_reactions);

#[tokio::test]
async fn sockets_need_a_token_and_membership_and_close_1008_on_bad_frames() {
    let chat = ChatTest::spawn(Backend::Sqlite).await;
    let (_, ada) = chat.warren.user("Ada Lovelace").await;
    let (_, bob) = chat.warren.user("Bob Burrow").await;
    let room = chat.room(&ada, "Warren").await;
    assert_eq!(connect_with(&chat, "warren.v1", &room).await.err(), Some(StatusCode::UNAUTHORIZED));
    let bob_offer = format!("warren.v1, warren.bearer.{bob}");
    assert_eq!(connect_with(&chat, &bob_offer, &room).await.err(), Some(StatusCode::FORBIDDEN));

    let mut socket = connect(&chat, &ada, &room).await;
    send(&mut socket, &json!({"type": "dance"})).await;
    assert_eq!(close_code(&mut socket, Duration::from_secs(5)).await, 1008);
    let mut socket = connect(&chat, &ada, &room).await;
    send(&mut socket, &json!({"type": "message", "content": "x".repeat(17 * 1024)})).await;
    assert_eq!(close_code(&mut socket, Duration::from_secs(5)).await, 1008);
}

#[tokio::test]
async fn a_socket_closes_4401_when_its_token_expires_unless_renewed() {
    let chat = ChatTest::spawn(Backend::Sqlite).await;
    let (_, ada) = chat.warren.user("Ada Lovelace").await;
    let room = chat.room(&ada, "Warren").await;
    let (email, password) = chat.warren.signup("Carol Clover").await;
    // Warren's tokens live 900 s: one issued 897 s ago expires in 3 s.
    chat.warren.clock.shift(time::Duration::seconds(-897));
    let (_, short_lived) = chat.warren.user("Bob Burrow").await;
    let (_, carol_short) = chat.warren.signin(&email, &password).await;
    chat.warren.clock.shift(time::Duration::ZERO);
    for token in [&short_lived, &carol_short] {
        chat.join(token, &room).await;
    }
    let mut expiring = connect(&chat, &short_lived, &room).await;
    let mut renewed = connect(&chat, &carol_short, &room).await;
    let (_, carol_fresh) = chat.warren.signin(&email, &password).await;
    send(&mut renewed, &json!({"type": "auth", "access_token": carol_fresh})).await;

    assert_eq!(close_code(&mut expiring, Duration::from_secs(10)).await, 4401);
    send(&mut renewed, &json!({"type": "ping"})).await;
    assert_eq!(next_frame(&mut renewed).await["type"], "pong", "renewed past the old exp");
    let (_, someone_else) = chat.warren.user("Somebody Else").await;
    send(&mut renewed, &json!({"type": "auth", "access_token": someone_else})).await;
    assert_eq!(
        close_code(&mut renewed, Duration::from_secs(5)).await,
        4401,
        "another user's token"
    );
}

#[tokio::test]
async fn sockets_close_1001_when_the_service_stops() {
    let mut chat = ChatTest::spawn(Backend::Sqlite).await;
    let (_, ada) = chat.warren.user("Ada Lovelace").await;
    let room = chat.room(&ada, "Warren").await;
    let mut socket = connect(&chat, &ada, &room).await;
    chat.stop_chat();
    assert_eq!(close_code(&mut socket, Duration::from_secs(5)).await, 1001);
}
