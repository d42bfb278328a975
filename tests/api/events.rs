//! Live account events: what a socket is told, when it is closed, and who may open
//! one at all.

use image::ImageFormat;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite;

use crate::helpers::{TestApp, both_backends};
use crate::images::{encode, picture};
use crate::live::{close_code, next_frame, open, open_with, round_trip, send};

async fn upload(app: &TestApp, token: &str) -> String {
    let response = app
        .client
        .put(app.url("/api/v1/users/me/avatar"))
        .bearer_auth(token)
        .body(encode(&picture(16, 16), ImageFormat::Png))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let user: Value = response.json().await.expect("json");
    user["avatar_url"].as_str().expect("avatar_url").to_owned()
}

async fn an_upload_elsewhere_reaches_the_socket_as_avatar_changed_and_user_updated(app: TestApp) {
    let (user, token) = app.signed_in_user().await;
    let other_session = app.token_for(&user.email, &user.password).await;
    let (mut socket, ready) = open(&app, &token).await;
    let me: Value = app.me(&token).await.json().await.expect("json");
    assert_eq!(ready["user_id"], me["id"]);
    assert!(ready["session_id"].is_string());

    let url = upload(&app, &other_session).await;

    let changed = next_frame(&mut socket).await;
    assert_eq!(
        (changed["type"].as_str(), changed["avatar_url"].as_str()),
        (Some("avatar_changed"), Some(url.as_str()))
    );
    let updated = next_frame(&mut socket).await;
    assert_eq!(updated["type"], "user_updated");
    assert_eq!(updated["user"]["avatar_url"], url.as_str());
    app.patch_me(&other_session, &json!({"full_name": "Ada"})).await;
    let renamed = next_frame(&mut socket).await;
    assert_eq!(
        (renamed["type"].as_str(), renamed["user"]["full_name"].as_str()),
        (Some("user_updated"), Some("Ada"))
    );
}
both_backends!(an_upload_elsewhere_reaches_the_socket_as_avatar_changed_and_user_updated);

async fn a_signout_elsewhere_is_reported_as_session_revoked(app: TestApp) {
    let (user, token) = app.signed_in_user().await;
    let other = app.signin_body(&user, "other device").await;
    let (mut socket, _) = open(&app, &token).await;

    let signout = app
        .post_json("/api/v1/auth/signout", &json!({"refresh_token": other["refresh_token"]}))
        .await;
    assert_eq!(signout.status(), StatusCode::NO_CONTENT);

    let revoked = next_frame(&mut socket).await;
    assert_eq!(revoked["type"], "session_revoked");
    let sessions = app.sessions(&token).await;
    assert_eq!(sessions.as_array().map(Vec::len), Some(1), "only this session is left");
    assert_ne!(revoked["session_id"], sessions[0]["id"]);
    round_trip(&mut socket).await;
}
both_backends!(a_signout_elsewhere_is_reported_as_session_revoked);

async fn a_password_change_closes_the_socket_with_4401(app: TestApp) {
    let (user, token) = app.signed_in_user().await;
    let (mut socket, _) = open(&app, &token).await;

    let body =
        json!({"password": "a completely new passphrase", "current_password": user.password});
    assert_eq!(app.patch_me(&token, &body).await.status(), StatusCode::OK);

    assert_eq!(close_code(&mut socket).await, 4401);
}
both_backends!(a_password_change_closes_the_socket_with_4401);

async fn signing_out_everywhere_closes_the_socket_with_4401(app: TestApp) {
    let (_, token) = app.signed_in_user().await;
    let (mut socket, _) = open(&app, &token).await;

    let response = app
        .client
        .delete(app.url("/api/v1/users/me/sessions"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    assert_eq!(close_code(&mut socket).await, 4401);
}
both_backends!(signing_out_everywhere_closes_the_socket_with_4401);

async fn deleting_the_account_sends_account_deleted_then_closes_with_4401(app: TestApp) {
    let (user, token) = app.signed_in_user().await;
    let (mut socket, _) = open(&app, &token).await;

    assert_eq!(app.delete_me(&token, &user.password).await.status(), StatusCode::NO_CONTENT);

    assert_eq!(next_frame(&mut socket).await["type"], "account_deleted");
    assert_eq!(close_code(&mut socket).await, 4401);
}
both_backends!(deleting_the_account_sends_account_deleted_then_closes_with_4401);

async fn a_token_swap_keeps_the_socket_open_past_the_first_tokens_expiry(app: TestApp) {
    let (user, first) = app.signed_in_user().await;
    let (mut swapped, _) = open(&app, &first).await;
    let (mut unswapped, _) = open(&app, &first).await;
    app.clock.advance(time::Duration::seconds(40));
    let second = app.token_for(&user.email, &user.password).await;

    send(&mut swapped, &json!({"type": "auth", "access_token": second}).to_string()).await;
    round_trip(&mut swapped).await;
    app.clock.advance(time::Duration::seconds(30)); // past the first token's 60 s

    assert_eq!(close_code(&mut unswapped).await, 4401);
    round_trip(&mut swapped).await;
}
both_backends!(
    a_token_swap_keeps_the_socket_open_past_the_first_tokens_expiry,
    |figment: figment::Figment| figment.merge(("auth.access_token_ttl_secs", 60))
);

async fn another_users_token_in_auth_closes_the_socket_with_4401(app: TestApp) {
    let (_, token) = app.signed_in_user().await;
    let (_, stranger) = app.signed_in_user().await;
    let (mut socket, _) = open(&app, &token).await;

    send(&mut socket, &json!({"type": "auth", "access_token": stranger}).to_string()).await;

    assert_eq!(close_code(&mut socket).await, 4401);
}
both_backends!(another_users_token_in_auth_closes_the_socket_with_4401);

/// The status and problem `code` of a refused handshake.
fn refusal(result: Result<impl std::fmt::Debug, tungstenite::Error>) -> (u16, String) {
    match result {
        Err(tungstenite::Error::Http(response)) => {
            let body: Value =
                serde_json::from_slice(response.body().as_deref().unwrap_or_default())
                    .expect("problem body");
            (response.status().as_u16(), body["code"].as_str().unwrap_or_default().to_owned())
        }
        other => panic!("expected a refused handshake, got {other:?}"),
    }
}

async fn sockets_are_refused_before_the_upgrade_without_token_from_strangers_and_beyond_the_cap(
    app: TestApp,
) {
    let (_, token) = app.signed_in_user().await;
    let bearer = format!("Bearer {token}");

    assert_eq!(refusal(open_with(&app, &[]).await), (401, "unauthenticated".to_owned()));
    assert_eq!(
        refusal(
            open_with(&app, &[("sec-websocket-protocol", "warren.v1, warren.bearer.x.y.z")]).await
        ),
        (401, "unauthenticated".to_owned())
    );
    let foreign = [("authorization", bearer.as_str()), ("origin", "https://evil.example")];
    assert_eq!(refusal(open_with(&app, &foreign).await), (403, "origin_not_allowed".to_owned()));
    let allowed = [("authorization", bearer.as_str()), ("origin", "https://app.example")];
    let mut sockets = vec![open_with(&app, &allowed).await.expect("allowed origin").0];
    for _ in 1..16 {
        sockets.push(
            open_with(&app, &[("authorization", bearer.as_str())]).await.expect("within the cap").0,
        );
    }
    assert_eq!(
        refusal(open_with(&app, &[("authorization", bearer.as_str())]).await),
        (429, "rate_limited".to_owned())
    );
    drop(sockets.pop());
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(
        open_with(&app, &[("authorization", bearer.as_str())]).await.is_ok(),
        "a closed socket frees its place"
    );
}
both_backends!(
    sockets_are_refused_before_the_upgrade_without_token_from_strangers_and_beyond_the_cap,
    |figment: figment::Figment| figment
        .merge(("cors.allowed_origins", vec!["https://app.example"]))
);

#[tokio::test]
async fn oversized_and_unknown_client_frames_close_the_socket_with_1008() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let (_, token) = app.signed_in_user().await;
    let (mut large, _) = open(&app, &token).await;
    let (mut unknown, _) = open(&app, &token).await;

    send(&mut large, &format!(r#"{{"type":"ping","x":"{}"}}"#, "a".repeat(5000))).await;
    send(&mut unknown, r#"{"type":"subscribe"}"#).await;

    assert_eq!(close_code(&mut large).await, 1008);
    assert_eq!(close_code(&mut unknown).await, 1008);
}

#[tokio::test]
async fn stopping_the_server_closes_sockets_with_1001() {
    let mut app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let (_, token) = app.signed_in_user().await;
    let (mut socket, _) = open(&app, &token).await;

    app.stop().await;

    assert_eq!(close_code(&mut socket).await, 1001);
}
