//! Regression tests for the holes an outside security review found, each named
//! for the rule it protects.

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::Duration;
use warren::domain::AuthEventKind;

use crate::helpers::{TestApp, TestUser, assert_problem, both_backends};

fn without_ip_limits(figment: figment::Figment) -> figment::Figment {
    figment.merge(("rate_limit.enabled", false))
}

async fn body_of(response: reqwest::Response) -> Value {
    response.json().await.expect("json body")
}

/// Concurrent guesses are each counted before the password is checked, so no more than the
/// threshold (5) of them ever reach the password check.
async fn concurrent_wrong_signins_cost_one_attempt_each(app: TestApp) {
    let user = TestUser::generate();
    assert_eq!(app.signup(&user).await.status(), StatusCode::CREATED);
    let mut guesses: Vec<String> = (0..59).map(|n| format!("wrong guess number {n}")).collect();
    guesses.insert(30, user.password.clone());

    let responses = join_all(guesses.iter().map(|guess| app.signin(&user.email, guess))).await;

    let statuses: Vec<StatusCode> = responses.iter().map(reqwest::Response::status).collect();
    let checked = statuses.iter().filter(|s| **s != StatusCode::TOO_MANY_REQUESTS).count();
    assert!(checked <= 5, "{checked} guesses reached the password check: {statuses:?}");
    assert!(statuses.iter().all(|s| [200, 401, 429].contains(&s.as_u16())), "{statuses:?}");
}
both_backends!(concurrent_wrong_signins_cost_one_attempt_each, without_ip_limits);

/// A stolen access token is no password oracle: `current_password` checks share the backoff.
async fn wrong_current_passwords_are_throttled_like_signins(app: TestApp) {
    let (user, token) = app.signed_in_user().await;
    let patch = |password: &str| json!({"email": format!("moved.{}", user.email), "current_password": password});
    for _ in 0..5 {
        let response = app.patch_me(&token, &patch("not the password at all")).await;
        assert_problem(response, StatusCode::FORBIDDEN, "reauthentication_failed").await;
    }

    let with_right_password = app.patch_me(&token, &patch(&user.password)).await;
    let delete = app.delete_me(&token, &user.password).await;
    let signin = app.signin(&user.email, &user.password).await;

    for response in [with_right_password, delete, signin] {
        assert!(response.headers().contains_key("retry-after"));
        assert_problem(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    }
    let me = body_of(app.me(&token).await).await;
    assert_eq!(me["email"], user.email.to_lowercase(), "the email did not change");
}
both_backends!(wrong_current_passwords_are_throttled_like_signins);

/// A successful re-authentication does not add up towards the lock.
async fn right_current_passwords_never_lock_the_account(app: TestApp) {
    let (user, token) = app.signed_in_user().await;
    let reauthenticate =
        |password: &str| json!({"email": user.email, "current_password": password});
    for _ in 0..8 {
        let response = app.patch_me(&token, &reauthenticate(&user.password)).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    for _ in 0..4 {
        let response = app.patch_me(&token, &reauthenticate("not the password at all")).await;
        assert_problem(response, StatusCode::FORBIDDEN, "reauthentication_failed").await;
    }
    let response = app.patch_me(&token, &reauthenticate(&user.password)).await;
    assert_eq!(response.status(), StatusCode::OK);
}
both_backends!(right_current_passwords_never_lock_the_account);

/// The backoff row of an email goes with its account: the next owner starts clean.
async fn a_deleted_accounts_backoff_does_not_pass_to_the_next_owner(app: TestApp) {
    let (user, token) = app.signed_in_user().await;
    for _ in 0..4 {
        assert_eq!(
            app.signin(&user.email, "wrong password!").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(app.delete_me(&token, &user.password).await.status(), StatusCode::NO_CONTENT);
    let next_owner = TestUser { password: "a new owner's passphrase".to_owned(), ..user };
    assert_eq!(app.signup(&next_owner).await.status(), StatusCode::CREATED);

    for _ in 0..4 {
        let wrong = app.signin(&next_owner.email, "wrong password!").await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    }
    let right = app.signin(&next_owner.email, &next_owner.password).await;
    assert_eq!(right.status(), StatusCode::OK);
}
both_backends!(a_deleted_accounts_backoff_does_not_pass_to_the_next_owner);

/// A signin that loses the race against its account's deletion is an ordinary 401.
async fn signin_racing_account_deletion_is_never_a_server_error(app: TestApp) {
    for _ in 0..5 {
        let (user, token) = app.signed_in_user().await;
        let signins = join_all((0..4).map(|_| app.signin(&user.email, &user.password)));
        let (signins, deleted) = tokio::join!(signins, app.delete_me(&token, &user.password));
        assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
        for response in signins {
            assert!([200, 401].contains(&response.status().as_u16()), "{}", response.status());
        }
    }
}
both_backends!(signin_racing_account_deletion_is_never_a_server_error);

/// Inside the grace window a replay may only get a successor that is still unused.
async fn a_grace_replay_never_returns_a_spent_successor(app: TestApp) {
    let user = TestUser::generate();
    assert_eq!(app.signup(&user).await.status(), StatusCode::CREATED);
    let parent =
        app.signin_body(&user, "tab").await["refresh_token"].as_str().expect("token").to_owned();
    let first = body_of(app.refresh(&parent).await).await;
    let first_token = first["refresh_token"].as_str().expect("successor");
    let second = body_of(app.refresh(first_token).await).await;
    app.clock.advance(Duration::seconds(2));

    let replay = app.refresh(&parent).await;

    assert_problem(replay, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
    let newest = second["refresh_token"].as_str().expect("newest");
    assert_eq!(app.refresh(newest).await.status(), StatusCode::OK, "the family survives");
}
both_backends!(a_grace_replay_never_returns_a_spent_successor);

/// Replaying a signout cannot be used to write audit rows.
async fn signing_out_twice_is_audited_once(app: TestApp) {
    let user = TestUser::generate();
    assert_eq!(app.signup(&user).await.status(), StatusCode::CREATED);
    let body = app.signin_body(&user, "tests").await;
    let refresh = body["refresh_token"].as_str().expect("refresh token");
    let id = body["user"]["id"].as_str().expect("id").parse().expect("uuid");

    let mut statuses = Vec::new();
    for _ in 0..3 {
        let response =
            app.post_json("/api/v1/auth/signout", &json!({"refresh_token": refresh})).await;
        statuses.push(response.status());
    }

    let unauthorized = StatusCode::UNAUTHORIZED;
    assert_eq!(statuses, [StatusCode::NO_CONTENT, unauthorized, unauthorized]);

    let events = app
        .database
        .repositories()
        .audit
        .for_user(warren::domain::UserId::from_uuid(id))
        .await
        .expect("events");
    let signouts = events.iter().filter(|e| e.kind == AuthEventKind::Signout).count();
    assert_eq!(signouts, 1);
}
both_backends!(signing_out_twice_is_audited_once);
