//! Only Warren's own, current tokens get in; Warren being down does not lock users out.

use reqwest::StatusCode;
use warren::core::config::SigningAlgorithm;
use warren::core::security::KeyRing;

use crate::support::{Backend, ChatTest, Warren, assert_problem};

async fn assert_refused(chat: &ChatTest, token: &str) {
    let response = chat.get(token, "/api/v1/rooms").await;
    assert_eq!(
        response.headers().get("www-authenticate").map(|v| v.to_str().expect("ascii")),
        Some("Bearer")
    );
    assert_problem(response, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

#[tokio::test]
async fn requests_without_a_valid_warren_token_are_unauthenticated() {
    let chat = ChatTest::spawn(Backend::Sqlite).await;
    let no_token = chat.client.get(chat.url("/api/v1/rooms")).send().await.expect("request");
    assert_problem(no_token, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    assert_refused(&chat, "not-a-jwt").await;
    let (_, genuine) = chat.warren.user("Ada Lovelace").await;
    assert_eq!(chat.get(&genuine, "/api/v1/rooms").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn tokens_from_a_warren_signing_es256_are_accepted() {
    let warren = Warren::spawn(|figment| figment.merge(("auth.signing_algorithm", "ES256"))).await;
    let chat = ChatTest::spawn_beside(warren, Backend::Sqlite, |figment| figment).await;
    let (_, token) = chat.warren.user("Grace Hopper").await;
    let header = token.split('.').next().expect("header");
    let header = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header);
    let header: serde_json::Value =
        serde_json::from_slice(&header.expect("base64url")).expect("json");
    assert_eq!(header["alg"], "ES256");
    assert_eq!(chat.get(&token, "/api/v1/rooms").await.status(), StatusCode::OK);
    // An ES256 token from another Warren: same issuer and audience, a key nobody published.
    let impostor =
        Warren::spawn(|figment| figment.merge(("auth.signing_algorithm", "ES256"))).await;
    let (_, forged) = impostor.user("Mallory").await;
    assert_refused(&chat, &forged).await;
}

#[tokio::test]
async fn a_token_signed_by_a_foreign_key_is_refused() {
    let chat = ChatTest::spawn(Backend::Sqlite).await;
    // Another Warren: same issuer and audience, its own key.
    let impostor = Warren::spawn(|figment| figment).await;
    let (_, forged) = impostor.user("Mallory").await;
    assert_refused(&chat, &forged).await;
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let chat = ChatTest::spawn(Backend::Sqlite).await;
    chat.warren.clock.shift(time::Duration::minutes(-20));
    let (_, expired) = chat.warren.user("Ada Lovelace").await;
    assert_refused(&chat, &expired).await;
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused() {
    let chat = ChatTest::spawn(Backend::Sqlite).await;
    let key =
        KeyRing::development_key_path(&chat.warren.settings.data_dir, SigningAlgorithm::EdDSA);
    // Same signing key, so only the audience differs.
    let billing = Warren::spawn(|figment| {
        figment.merge(("auth.audience", "billing")).merge(("auth.signing_key_file", key))
    })
    .await;
    let (_, token) = billing.user("Ada Lovelace").await;
    assert_refused(&chat, &token).await;
}

#[tokio::test]
async fn with_warren_stopped_valid_tokens_still_work_from_cached_keys_and_names() {
    let mut chat = ChatTest::spawn(Backend::Sqlite).await;
    let (id, token) = chat.warren.user("Ada Lovelace").await;
    let room = chat.room(&token, "Warren").await;
    chat.warren.stop().await;
    let message = chat.say(&token, &room, "still here").await;
    assert_eq!(message["sender"]["id"], id.as_str());
    assert_eq!(message["sender"]["name"], "Ada Lovelace", "the cached name");
    assert_refused(&chat, "eyJhbGciOiJFZERTQSJ9.e30.c2ln").await;
}
