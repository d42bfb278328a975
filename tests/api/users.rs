//! The caller's own account: reading, changing, deleting.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, assert_problem, both_backends, field_codes};

async fn me_without_a_token_is_401_with_www_authenticate(app: TestApp) {
    let response = app.client.get(app.url("/api/v1/users/me")).send().await.expect("request");
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    assert_problem(response, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}
both_backends!(me_without_a_token_is_401_with_www_authenticate);

async fn me_with_an_invalid_token_is_401(app: TestApp) {
    let (_, token) = app.signed_in_user().await;
    let tampered = format!("{}x", &token[..token.len() - 1]);
    for bad in ["garbage", "a.b.c", tampered.as_str()] {
        assert_problem(app.me(bad).await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    }
    let basic = app
        .client
        .get(app.url("/api/v1/users/me"))
        .header("authorization", format!("Basic {token}"))
        .send()
        .await
        .expect("request");
    assert_problem(basic, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}
both_backends!(me_with_an_invalid_token_is_401);

async fn me_returns_the_signed_in_user(app: TestApp) {
    let (user, token) = app.signed_in_user().await;
    let response = app.me(&token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["email"], user.email.to_lowercase());
    assert_eq!(body["full_name"], user.full_name);
    let mut keys: Vec<&str> =
        body.as_object().expect("object").keys().map(String::as_str).collect();
    keys.sort_unstable();
    // The public user object (with mfa_enabled), and never a hash.
    let expected = [
        "avatar_url",
        "created_at",
        "email",
        "email_verified",
        "full_name",
        "id",
        "is_active",
        "mfa_enabled",
        "pending_email",
        "updated_at",
    ];
    assert_eq!(keys, expected);
    assert_eq!(body["mfa_enabled"], false);
    assert_eq!(
        (body["email_verified"].clone(), body["pending_email"].clone()),
        (json!(false), Value::Null)
    );
}
both_backends!(me_returns_the_signed_in_user);

async fn profile_update_changes_the_name_and_null_clears_it(app: TestApp) {
    let (_, token) = app.signed_in_user().await;
    let response = app.patch_me(&token, &json!({"full_name": "  Grace Hopper "})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["full_name"], "Grace Hopper");
    assert_ne!(body["updated_at"], body["created_at"]);
    let me: Value = app.me(&token).await.json().await.expect("json");
    assert_eq!(me["full_name"], "Grace Hopper");

    let cleared: Value =
        app.patch_me(&token, &json!({"full_name": null})).await.json().await.expect("json");
    assert_eq!(cleared["full_name"], Value::Null);
}
both_backends!(profile_update_changes_the_name_and_null_clears_it);

async fn an_empty_update_changes_nothing(app: TestApp) {
    let (_, token) = app.signed_in_user().await;
    let before: Value = app.me(&token).await.json().await.expect("json");
    let after: Value = app.patch_me(&token, &json!({})).await.json().await.expect("json");
    assert_eq!(before, after);
}
both_backends!(an_empty_update_changes_nothing);

async fn changing_email_requires_the_current_password(app: TestApp) {
    let (user, token) = app.signed_in_user().await;
    let new_email = TestUser::generate().email;
    let missing = app.patch_me(&token, &json!({"email": new_email})).await;
    let problem =
        assert_problem(missing, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(field_codes(&problem), [("current_password".to_owned(), "required".to_owned())]);
    let wrong = app
        .patch_me(&token, &json!({"email": new_email, "current_password": "wrong password!"}))
        .await;
    assert_problem(wrong, StatusCode::FORBIDDEN, "reauthentication_failed").await;
    let me: Value = app.me(&token).await.json().await.expect("json");
    assert_eq!(me["email"], user.email.to_lowercase());

    // With the password the change is accepted, but waits for the new address to confirm
    // it (the confirmation itself is tested in `email.rs`).
    let ok =
        app.patch_me(&token, &json!({"email": new_email, "current_password": user.password})).await;
    assert_eq!(ok.status(), StatusCode::OK);
    let pending: Value = ok.json().await.expect("json");
    assert_eq!(pending["email"], user.email.to_lowercase());
    assert_eq!(pending["pending_email"], new_email.to_lowercase());
    app.token_for(&user.email, &user.password).await;
    assert_problem(
        app.signin(&new_email, &user.password).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
}
both_backends!(changing_email_requires_the_current_password);

async fn changing_email_to_a_taken_one_is_409_and_changes_nothing(app: TestApp) {
    let (other, _) = app.signed_in_user().await;
    let (user, token) = app.signed_in_user().await;
    let body =
        json!({"email": other.email, "full_name": "Changed", "current_password": user.password});
    assert_problem(app.patch_me(&token, &body).await, StatusCode::CONFLICT, "email_taken").await;
    let me: Value = app.me(&token).await.json().await.expect("json");
    assert_eq!(me["full_name"], user.full_name);
}
both_backends!(changing_email_to_a_taken_one_is_409_and_changes_nothing);

async fn password_change_then_signin_with_the_new_password(app: TestApp) {
    let (user, token) = app.signed_in_user().await;
    let new_password = "an entirely new passphrase";
    let body = json!({"password": new_password, "current_password": user.password});
    assert_eq!(app.patch_me(&token, &body).await.status(), StatusCode::OK);
    // Every access token issued before the change stops working here at once.
    assert_problem(app.me(&token).await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    assert_problem(
        app.signin(&user.email, &user.password).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    let fresh = app.token_for(&user.email, new_password).await;
    assert_eq!(app.me(&fresh).await.status(), StatusCode::OK);
}
both_backends!(password_change_then_signin_with_the_new_password);

async fn a_new_password_must_satisfy_the_policy(app: TestApp) {
    let (user, token) = app.signed_in_user().await;
    let body = json!({"password": "short", "current_password": user.password});
    let problem = assert_problem(
        app.patch_me(&token, &body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_codes(&problem), [("password".to_owned(), "too_short".to_owned())]);
    assert_eq!(app.me(&token).await.status(), StatusCode::OK);
}
both_backends!(a_new_password_must_satisfy_the_policy);

async fn a_body_that_is_not_a_json_object_is_422_and_changes_nothing(app: TestApp) {
    // Found by schemathesis: serde accepts a struct written as an array.
    let (user, token) = app.signed_in_user().await;
    for body in [json!([]), json!(["Renamed"]), json!(null)] {
        let response = app.patch_me(&token, &body).await;
        assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    }
    let me: Value = app.me(&token).await.json().await.expect("json");
    assert_eq!(me["full_name"], user.full_name);
}
both_backends!(a_body_that_is_not_a_json_object_is_422_and_changes_nothing);

async fn null_is_refused_for_fields_that_cannot_be_cleared(app: TestApp) {
    let (_, token) = app.signed_in_user().await;
    let problem = assert_problem(
        app.patch_me(&token, &json!({"email": null})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_codes(&problem), [("email".to_owned(), "invalid_type".to_owned())]);
}
both_backends!(null_is_refused_for_fields_that_cannot_be_cleared);

async fn delete_with_a_wrong_password_is_403_and_keeps_the_account(app: TestApp) {
    let (_, token) = app.signed_in_user().await;
    assert_problem(
        app.delete_me(&token, "not my password").await,
        StatusCode::FORBIDDEN,
        "reauthentication_failed",
    )
    .await;
    assert_eq!(app.me(&token).await.status(), StatusCode::OK);
}
both_backends!(delete_with_a_wrong_password_is_403_and_keeps_the_account);

async fn delete_then_signin_fails_and_the_email_is_free_again(app: TestApp) {
    let (user, token) = app.signed_in_user().await;
    let response = app.delete_me(&token, &user.password).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_problem(app.me(&token).await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    assert_problem(
        app.signin(&user.email, &user.password).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    assert_eq!(app.signup(&user).await.status(), StatusCode::CREATED);
}
both_backends!(delete_then_signin_fails_and_the_email_is_free_again);

async fn delete_requires_a_json_body_with_the_password(app: TestApp) {
    let (_, token) = app.signed_in_user().await;
    let response = app
        .client
        .delete(app.url("/api/v1/users/me"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request");
    assert_problem(response, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
    assert_eq!(app.me(&token).await.status(), StatusCode::OK);
}
both_backends!(delete_requires_a_json_body_with_the_password);

/// RFC 6750: a presented but unusable token is `invalid_token` (refresh), no token is a bare
/// challenge (sign in).
#[tokio::test]
async fn a_refused_token_gets_the_invalid_token_challenge_and_a_missing_one_a_bare_challenge() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let (_, token) = app.signed_in_user().await;
    app.clock.advance(time::Duration::minutes(16));

    let expired = app.me(&token).await;
    let malformed = app.me("not a jwt").await;
    let missing = app.get("/api/v1/users/me").await;

    for refused in [expired, malformed] {
        let challenge = refused.headers()["www-authenticate"].to_str().expect("ascii").to_owned();
        assert!(
            challenge.starts_with("Bearer error=\"invalid_token\", error_description=\""),
            "{challenge}"
        );
        assert_problem(refused, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    }
    assert_eq!(missing.headers()["www-authenticate"], "Bearer");
    assert_problem(missing, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

/// Both databases store whole microseconds; an answer must show the time as stored, so a
/// client comparing a write's answer with a later read sees one value.
async fn the_times_a_write_answers_are_the_times_later_reads_show(app: TestApp) {
    let user = TestUser::generate();
    let signup: Value = app.signup(&user).await.json().await.expect("json");
    let token = app.token_for(&user.email, &user.password).await;
    let renamed = app.patch_me(&token, &json!({"full_name": "Ada King"})).await;
    let renamed: Value = renamed.json().await.expect("json");

    let me: Value = app.me(&token).await.json().await.expect("json");

    assert_eq!(me["created_at"], signup["user"]["created_at"]);
    assert_eq!(me["updated_at"], renamed["updated_at"]);
    for time in [&me["created_at"], &me["updated_at"]] {
        let time = time.as_str().expect("a time");
        let fraction = time.split_once('.').map_or("", |(_, rest)| rest.trim_end_matches('Z'));
        assert!(fraction.len() <= 6, "{time} has more than microseconds");
    }
}
both_backends!(the_times_a_write_answers_are_the_times_later_reads_show);
