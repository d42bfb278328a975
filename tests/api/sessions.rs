//! Sessions and refresh tokens: rotation, reuse detection, expiry, sign-out.

use reqwest::StatusCode;
use serde_json::{Value, json};
use time::Duration;
use warren::domain::UserId;

use crate::helpers::{TestApp, TestUser, assert_problem, both_backends};

fn field<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name].as_str().unwrap_or_else(|| panic!("{name} missing in {body}"))
}

async fn signed_up(app: &TestApp) -> TestUser {
    let user = TestUser::generate();
    assert_eq!(app.signup(&user).await.status(), StatusCode::CREATED);
    user
}

async fn refreshed(app: &TestApp, refresh_token: &str) -> Value {
    let response = app.refresh(refresh_token).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

async fn listed_sessions(app: &TestApp, access_token: &str) -> Vec<Value> {
    let response = app
        .client
        .get(app.url("/api/v1/users/me/sessions"))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

fn user_agents(sessions: &[Value]) -> Vec<&str> {
    sessions.iter().map(|s| field(s, "user_agent")).collect()
}

async fn refresh_refused(app: &TestApp, refresh_token: &str) {
    let response = app.refresh(refresh_token).await;
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    assert_problem(response, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
}

async fn signin_returns_an_opaque_256_bit_refresh_token(app: TestApp) {
    let user = signed_up(&app).await;
    let body = app.signin_body(&user, "tests").await;
    let refresh = field(&body, "refresh_token");
    assert!(refresh.starts_with("wrt_") && refresh.len() == 47, "{refresh}");
    assert_eq!(body["token_type"], "bearer");
}
both_backends!(signin_returns_an_opaque_256_bit_refresh_token);

async fn refresh_rotates_the_refresh_token_and_issues_a_new_access_token(app: TestApp) {
    let user = signed_up(&app).await;
    let first = app.signin_body(&user, "tests").await;
    let second = refreshed(&app, field(&first, "refresh_token")).await;
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_eq!(second["user"]["email"], first["user"]["email"]);
    assert_eq!(second["expires_in"], 900);
    assert_eq!(app.me(field(&second, "access_token")).await.status(), StatusCode::OK);
    let third = refreshed(&app, field(&second, "refresh_token")).await;
    assert_ne!(third["refresh_token"], second["refresh_token"]);
}
both_backends!(refresh_rotates_the_refresh_token_and_issues_a_new_access_token);

async fn a_rotated_token_replayed_within_the_grace_window_returns_the_same_successor(app: TestApp) {
    let user = signed_up(&app).await;
    let original = field(&app.signin_body(&user, "tab").await, "refresh_token").to_owned();
    let tab_a = refreshed(&app, &original).await;
    app.clock.advance(Duration::seconds(5));
    let tab_b = refreshed(&app, &original).await;
    assert_eq!(tab_a["refresh_token"], tab_b["refresh_token"]);
    assert_eq!(app.me(field(&tab_b, "access_token")).await.status(), StatusCode::OK);
    refreshed(&app, field(&tab_a, "refresh_token")).await;
}
both_backends!(a_rotated_token_replayed_within_the_grace_window_returns_the_same_successor);

async fn a_rotated_token_replayed_after_the_grace_window_revokes_the_whole_family(app: TestApp) {
    let user = signed_up(&app).await;
    let stolen = field(&app.signin_body(&user, "victim").await, "refresh_token").to_owned();
    let legitimate = refreshed(&app, &stolen).await;
    app.clock.advance(Duration::seconds(11));
    refresh_refused(&app, &stolen).await;
    // The thief's replay ended the session: the legitimate successor is dead too,
    // and so is the access token issued with it.
    refresh_refused(&app, field(&legitimate, "refresh_token")).await;
    assert_problem(
        app.me(field(&legitimate, "access_token")).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    // Other sessions are untouched.
    let other = app.signin_body(&user, "laptop").await;
    refreshed(&app, field(&other, "refresh_token")).await;
}
both_backends!(a_rotated_token_replayed_after_the_grace_window_revokes_the_whole_family);

async fn concurrent_refreshes_of_one_token_mint_exactly_one_successor(app: TestApp) {
    let user = signed_up(&app).await;
    let token = field(&app.signin_body(&user, "race").await, "refresh_token").to_owned();
    let attempts = (0..8).map(|_| {
        let (app, token) = (&app, token.clone());
        async move {
            let response = app.refresh(&token).await;
            let status = response.status();
            let body: Value = response.json().await.expect("json");
            (status, body["refresh_token"].as_str().map(str::to_owned))
        }
    });
    let outcomes = futures_util::future::join_all(attempts).await;
    assert!(outcomes.iter().all(|(status, _)| *status == StatusCode::OK), "{outcomes:?}");
    let successors: std::collections::BTreeSet<_> =
        outcomes.into_iter().filter_map(|(_, t)| t).collect();
    assert_eq!(successors.len(), 1, "one family of successors: {successors:?}");
    let successor = successors.into_iter().next().expect("one successor");
    refreshed(&app, &successor).await;
}
both_backends!(concurrent_refreshes_of_one_token_mint_exactly_one_successor);

async fn refresh_tokens_expire_after_the_idle_lifetime(app: TestApp) {
    let user = signed_up(&app).await;
    let token = field(&app.signin_body(&user, "idle").await, "refresh_token").to_owned();
    app.clock.advance(Duration::days(14) + Duration::seconds(1));
    refresh_refused(&app, &token).await;
}
both_backends!(refresh_tokens_expire_after_the_idle_lifetime);

async fn sessions_end_at_the_absolute_expiry_however_often_refreshed(app: TestApp) {
    let user = signed_up(&app).await;
    let mut token = field(&app.signin_body(&user, "keepalive").await, "refresh_token").to_owned();
    for _ in 0..2 {
        app.clock.advance(Duration::days(13));
        field(&refreshed(&app, &token).await, "refresh_token").clone_into(&mut token);
    }
    app.clock.advance(Duration::days(5)); // 31 days after signin
    refresh_refused(&app, &token).await;
}
both_backends!(sessions_end_at_the_absolute_expiry_however_often_refreshed);

async fn an_expired_access_token_is_refused_and_refresh_replaces_it(app: TestApp) {
    let user = signed_up(&app).await;
    let body = app.signin_body(&user, "expiry").await;
    app.clock.advance(Duration::seconds(900 + 31));
    assert_problem(
        app.me(field(&body, "access_token")).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    let fresh = refreshed(&app, field(&body, "refresh_token")).await;
    assert_eq!(app.me(field(&fresh, "access_token")).await.status(), StatusCode::OK);
}
both_backends!(an_expired_access_token_is_refused_and_refresh_replaces_it);

async fn malformed_or_unknown_refresh_tokens_are_refused(app: TestApp) {
    for token in ["", "garbage", &format!("wrt_{}", "A".repeat(43))] {
        refresh_refused(&app, token).await;
    }
    let missing = app.post_json("/api/v1/auth/refresh", &json!({})).await;
    assert_problem(missing, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}
both_backends!(malformed_or_unknown_refresh_tokens_are_refused);

async fn signout_revokes_that_session_only(app: TestApp) {
    let user = signed_up(&app).await;
    let phone = app.signin_body(&user, "phone").await;
    let laptop = app.signin_body(&user, "laptop").await;
    let response = app
        .post_json(
            "/api/v1/auth/signout",
            &json!({"refresh_token": field(&phone, "refresh_token")}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    refresh_refused(&app, field(&phone, "refresh_token")).await;
    assert_problem(
        app.me(field(&phone, "access_token")).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    assert_eq!(app.me(field(&laptop, "access_token")).await.status(), StatusCode::OK);
    refreshed(&app, field(&laptop, "refresh_token")).await;
}
both_backends!(signout_revokes_that_session_only);

async fn signout_refused(app: &TestApp, refresh_token: &str) {
    let body = json!({"refresh_token": refresh_token});
    let response = app.post_json("/api/v1/auth/signout", &body).await;
    assert_problem(response, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
}

async fn signout_with_a_malformed_or_unknown_token_is_401_and_ends_nothing(app: TestApp) {
    let user = signed_up(&app).await;
    let live = app.signin_body(&user, "live").await;
    let unknown = format!("wrt_{}", "A".repeat(43));
    assert_eq!(unknown.len(), field(&live, "refresh_token").len(), "shaped like a real token");

    signout_refused(&app, "wrt_nothing").await;
    signout_refused(&app, &unknown).await;

    refreshed(&app, field(&live, "refresh_token")).await;
}
both_backends!(signout_with_a_malformed_or_unknown_token_is_401_and_ends_nothing);

async fn signout_with_a_spent_or_revoked_token_is_401(app: TestApp) {
    let user = signed_up(&app).await;
    let first = app.signin_body(&user, "tab").await;
    let second = refreshed(&app, field(&first, "refresh_token")).await;
    app.clock.advance(Duration::seconds(11)); // past the reuse grace

    signout_refused(&app, field(&first, "refresh_token")).await;
    let body = json!({"refresh_token": field(&second, "refresh_token")});
    let response = app.post_json("/api/v1/auth/signout", &body).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT, "the spent token ended nothing");
    signout_refused(&app, field(&second, "refresh_token")).await;
}
both_backends!(signout_with_a_spent_or_revoked_token_is_401);

async fn signout_of_a_deactivated_account_is_401(app: TestApp) {
    let user = signed_up(&app).await;
    let body = app.signin_body(&user, "here").await;
    let id = field(&body["user"], "id").parse().expect("a user id");
    let users = &app.database.repositories().users;
    let now = time::OffsetDateTime::now_utc();
    let deactivated = users.set_active(UserId::from_uuid(id), false, now).await.expect("update");
    assert!(deactivated.is_some(), "the account exists");

    signout_refused(&app, field(&body, "refresh_token")).await;
}
both_backends!(signout_of_a_deactivated_account_is_401);

async fn the_session_list_shows_live_sessions_and_marks_the_current_one(app: TestApp) {
    let user = signed_up(&app).await;
    let phone = app.signin_body(&user, "Phone/1.0").await;
    let laptop = app.signin_body(&user, "Laptop/2.0").await;
    app.post_json(
        "/api/v1/auth/signout",
        &json!({"refresh_token": field(&laptop, "refresh_token")}),
    )
    .await;
    let _tablet = app.signin_body(&user, "Tablet/3.0").await;
    let sessions = listed_sessions(&app, field(&phone, "access_token")).await;
    assert_eq!(user_agents(&sessions), ["Phone/1.0", "Tablet/3.0"]);
    let current: Vec<bool> =
        sessions.iter().map(|s| s["current"].as_bool().expect("bool")).collect();
    assert_eq!(current, [true, false]);
    for session in &sessions {
        for key in ["id", "created_at", "last_used_at", "expires_at"] {
            assert!(session[key].is_string(), "{key} in {session}");
        }
        assert_eq!(session["ip"], "127.0.0.1");
    }
}
both_backends!(the_session_list_shows_live_sessions_and_marks_the_current_one);

async fn sign_out_everywhere_revokes_every_session_and_access_token(app: TestApp) {
    let user = signed_up(&app).await;
    let phone = app.signin_body(&user, "phone").await;
    let laptop = app.signin_body(&user, "laptop").await;
    let response = app
        .client
        .delete(app.url("/api/v1/users/me/sessions"))
        .bearer_auth(field(&phone, "access_token"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    for device in [&phone, &laptop] {
        assert_problem(
            app.me(field(device, "access_token")).await,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        )
        .await;
        refresh_refused(&app, field(device, "refresh_token")).await;
    }
    let again = app.signin_body(&user, "phone").await;
    assert_eq!(app.me(field(&again, "access_token")).await.status(), StatusCode::OK);
}
both_backends!(sign_out_everywhere_revokes_every_session_and_access_token);

async fn a_password_change_revokes_other_sessions_and_keeps_this_one_refreshable(app: TestApp) {
    let user = signed_up(&app).await;
    let here = app.signin_body(&user, "here").await;
    let elsewhere = app.signin_body(&user, "elsewhere").await;
    let body = json!({"password": "a brand new passphrase", "current_password": user.password});
    assert_eq!(app.patch_me(field(&here, "access_token"), &body).await.status(), StatusCode::OK);
    assert_problem(
        app.me(field(&here, "access_token")).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    let renewed = refreshed(&app, field(&here, "refresh_token")).await;
    assert_eq!(app.me(field(&renewed, "access_token")).await.status(), StatusCode::OK);
    refresh_refused(&app, field(&elsewhere, "refresh_token")).await;
}
both_backends!(a_password_change_revokes_other_sessions_and_keeps_this_one_refreshable);

async fn deleting_the_account_ends_every_session(app: TestApp) {
    let user = signed_up(&app).await;
    let body = app.signin_body(&user, "doomed").await;
    assert_eq!(
        app.delete_me(field(&body, "access_token"), &user.password).await.status(),
        StatusCode::NO_CONTENT
    );
    refresh_refused(&app, field(&body, "refresh_token")).await;
}
both_backends!(deleting_the_account_ends_every_session);

async fn sessions_past_their_idle_expiry_are_hidden_from_the_list(app: TestApp) {
    let user = signed_up(&app).await;
    let _idle = app.signin_body(&user, "Idle/1.0").await;
    app.clock.advance(Duration::days(10));
    let active = app.signin_body(&user, "Active/1.0").await;
    app.clock.advance(Duration::days(5)); // the first is now 15 days idle, past the 14-day limit
    let renewed = refreshed(&app, field(&active, "refresh_token")).await;

    let sessions = listed_sessions(&app, field(&renewed, "access_token")).await;

    assert_eq!(user_agents(&sessions), ["Active/1.0"]);
}
both_backends!(sessions_past_their_idle_expiry_are_hidden_from_the_list);
