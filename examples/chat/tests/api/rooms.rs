//! Rooms and membership.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{ChatTest, assert_problem, both_backends, json_of};

fn names(rooms: &Value) -> Vec<&str> {
    rooms.as_array().expect("list").iter().map(|r| r["name"].as_str().expect("name")).collect()
}

async fn the_seeded_rooms_are_listed_for_any_signed_in_user(chat: ChatTest) {
    let (_, token) = chat.warren.user("Ada Lovelace").await;
    let response = chat.get(&token, "/api/v1/rooms").await;
    assert_eq!(response.status(), StatusCode::OK);
    let rooms = json_of(response).await;
    assert_eq!(names(&rooms), ["General", "Random", "Tech Talk"]);
    let general = &rooms[0];
    assert_eq!(general["member_count"], 0);
    assert_eq!(general["unread_count"], 0);
    assert!(general["id"].is_string() && general["created_at"].is_string(), "{general}");
}
both_backends!(the_seeded_rooms_are_listed_for_any_signed_in_user);

async fn creating_a_room_makes_its_creator_a_member(chat: ChatTest) {
    let (_, token) = chat.warren.user("Ada Lovelace").await;
    let room = chat.room(&token, "  Burrow builders ").await;
    let response = chat.get(&token, &format!("/api/v1/rooms/{room}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = json_of(response).await;
    assert_eq!(body["name"], "Burrow builders", "trimmed");
    assert_eq!(body["member_count"], 1);
    assert_eq!(
        chat.get(&token, &format!("/api/v1/rooms/{room}/messages")).await.status(),
        StatusCode::OK
    );
}
both_backends!(creating_a_room_makes_its_creator_a_member);

async fn join_and_leave_are_idempotent_and_gate_the_room(chat: ChatTest) {
    let (_, ada) = chat.warren.user("Ada Lovelace").await;
    let (_, bob) = chat.warren.user("Bob Burrow").await;
    let room = chat.room(&ada, "Warren").await;
    let messages = format!("/api/v1/rooms/{room}/messages");
    assert_problem(chat.get(&bob, &messages).await, StatusCode::FORBIDDEN, "not_a_member").await;

    for _ in 0..2 {
        let joined = chat.post(&bob, &format!("/api/v1/rooms/{room}/join"), &json!({})).await;
        assert_eq!(joined.status(), StatusCode::OK);
        assert_eq!(json_of(joined).await["member_count"], 2);
    }
    assert_eq!(chat.get(&bob, &messages).await.status(), StatusCode::OK);

    for _ in 0..2 {
        let left = chat.post(&bob, &format!("/api/v1/rooms/{room}/leave"), &json!({})).await;
        assert_eq!(left.status(), StatusCode::NO_CONTENT);
    }
    assert_problem(chat.get(&bob, &messages).await, StatusCode::FORBIDDEN, "not_a_member").await;
}
both_backends!(join_and_leave_are_idempotent_and_gate_the_room);

async fn room_input_is_validated(chat: ChatTest) {
    let (_, token) = chat.warren.user("Ada Lovelace").await;
    for name in ["", "   ", &"x".repeat(65)] {
        let response = chat.post(&token, "/api/v1/rooms", &json!({"name": name})).await;
        assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    }
    let response = chat.post(&token, "/api/v1/rooms", &json!({"title": "x"})).await;
    assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let unknown = uuid::Uuid::now_v7();
    for path in [format!("/api/v1/rooms/{unknown}"), "/api/v1/rooms/not-a-uuid".to_owned()] {
        assert_problem(chat.get(&token, &path).await, StatusCode::NOT_FOUND, "not_found").await;
    }
    let join = chat.post(&token, &format!("/api/v1/rooms/{unknown}/join"), &json!({})).await;
    assert_problem(join, StatusCode::NOT_FOUND, "not_found").await;
}
both_backends!(room_input_is_validated);
