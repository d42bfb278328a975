//! Email flows through real SMTP: verification, password reset, email change, their tokens, and
//! the outbox's delivery guarantees.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, assert_problem, both_backends};
use crate::mail_sink::{MailSink, Received, deliver_to, deliver_to_sink};

async fn post_token(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.post_json(path, &json!({"token": token})).await
}

async fn forgot(app: &TestApp, email: &str) -> reqwest::Response {
    app.post_json("/api/v1/auth/forgot-password", &json!({"email": email})).await
}

async fn reset(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    let body = json!({"token": token, "password": password});
    app.post_json("/api/v1/auth/reset-password", &body).await
}

fn with_subject<'a>(messages: &'a [Received], subject: &str) -> &'a Received {
    messages
        .iter()
        .find(|m| m.header("subject").as_deref() == Some(subject))
        .unwrap_or_else(|| panic!("no message {subject:?} among {messages:?}"))
}

/// Signs a user up and returns them with the reset link's token that `forgot-password` sent.
async fn reset_token_for(app: &TestApp, sink: &MailSink) -> (TestUser, String) {
    let user = TestUser::generate();
    assert_eq!(app.signup(&user).await.status(), StatusCode::CREATED);
    assert_eq!(forgot(app, &user.email).await.status(), StatusCode::ACCEPTED);
    let messages = sink.wait_for(&user.email, 2).await;
    let token = with_subject(&messages, "Reset your password").token();
    (user, token)
}

async fn signup_sends_a_verification_link_that_verifies_the_address(mut app: TestApp) {
    let sink = deliver_to_sink(&mut app).await;
    let user = TestUser::generate();
    let signup: Value = app.signup(&user).await.json().await.expect("json");
    assert_eq!(signup["user"]["email_verified"], false);

    let messages = sink.wait_for(&user.email, 1).await;
    let mail = with_subject(&messages, "Confirm your email address");
    assert_eq!(mail.header("auto-submitted").as_deref(), Some("auto-generated"));
    assert!(mail.header("content-type").is_some_and(|t| t.contains("multipart/alternative")));
    let token = mail.token();
    let link = format!("http://localhost:5173/verify-email#token={token}");
    assert!(mail.decoded().contains(&link), "the configured link, unchanged");
    assert!(!mail.decoded().contains("<img"), "no remote resources");

    let response = post_token(&app, "/api/v1/auth/verify-email", &token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let verified: Value = response.json().await.expect("json");
    assert_eq!(verified["email_verified"], true);
    let again = post_token(&app, "/api/v1/auth/verify-email", &token).await;
    assert_problem(again, StatusCode::BAD_REQUEST, "invalid_token").await;
}
both_backends!(signup_sends_a_verification_link_that_verifies_the_address);

async fn a_reset_replaces_the_password_and_ends_every_session_and_token(mut app: TestApp) {
    let sink = deliver_to_sink(&mut app).await;
    let user = TestUser::generate();
    assert_eq!(app.signup(&user).await.status(), StatusCode::CREATED);
    let signed_in = app.signin_body(&user, "old-device").await;
    let access = signed_in["access_token"].as_str().expect("access token");
    let refresh = signed_in["refresh_token"].as_str().expect("refresh token");
    assert_eq!(forgot(&app, &user.email).await.status(), StatusCode::ACCEPTED);
    let messages = sink.wait_for(&user.email, 2).await;
    let verify_token = with_subject(&messages, "Confirm your email address").token();
    let token = with_subject(&messages, "Reset your password").token();

    let weak = reset(&app, &token, "short").await;
    assert_problem(weak, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let new_password = "a completely new passphrase 42";
    assert_eq!(reset(&app, &token, new_password).await.status(), StatusCode::NO_CONTENT);

    assert_eq!(app.me(access).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.refresh(refresh).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.signin(&user.email, &user.password).await.status(), StatusCode::UNAUTHORIZED);
    let fresh = app.token_for(&user.email, new_password).await;
    let me: Value = app.me(&fresh).await.json().await.expect("json");
    assert_eq!(me["email_verified"], true, "the link proved the address");
    let reused = reset(&app, &token, "yet another passphrase 43").await;
    assert_problem(reused, StatusCode::BAD_REQUEST, "invalid_token").await;
    let stale = post_token(&app, "/api/v1/auth/verify-email", &verify_token).await;
    assert_problem(stale, StatusCode::BAD_REQUEST, "invalid_token").await;
    let notices = sink.wait_for(&user.email, 3).await;
    with_subject(&notices, "Your password was changed");
}
both_backends!(a_reset_replaces_the_password_and_ends_every_session_and_token);

async fn garbage_wrong_purpose_superseded_and_expired_tokens_are_all_invalid(mut app: TestApp) {
    let sink = deliver_to_sink(&mut app).await;
    let (user, first) = reset_token_for(&app, &sink).await;
    let verify_token = with_subject(&sink.to(&user.email), "Confirm your email address").token();
    for garbage in ["", "x", "%00'; DROP TABLE users; --", &"a".repeat(5_000), &verify_token] {
        let response = reset(&app, garbage, "a completely new passphrase 42").await;
        assert_problem(response, StatusCode::BAD_REQUEST, "invalid_token").await;
    }
    let wrong = post_token(&app, "/api/v1/auth/verify-email", &first).await;
    assert_problem(wrong, StatusCode::BAD_REQUEST, "invalid_token").await;
    let missing = app.post_json("/api/v1/auth/verify-email", &json!({"token": 7})).await;
    assert_problem(missing, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;

    // Past the resend interval a second link goes out and ends the first.
    app.clock.advance(time::Duration::seconds(61));
    assert_eq!(forgot(&app, &user.email).await.status(), StatusCode::ACCEPTED);
    let resets = sink.wait_for(&user.email, 3).await;
    let second = resets.last().expect("a second reset link").token();
    assert_ne!(first, second);
    let superseded = reset(&app, &first, "a completely new passphrase 42").await;
    assert_problem(superseded, StatusCode::BAD_REQUEST, "invalid_token").await;

    app.clock.advance(time::Duration::seconds(1_801));
    let expired = reset(&app, &second, "a completely new passphrase 42").await;
    assert_problem(expired, StatusCode::BAD_REQUEST, "invalid_token").await;
}
both_backends!(garbage_wrong_purpose_superseded_and_expired_tokens_are_all_invalid);

async fn two_concurrent_resets_with_one_token_succeed_once(mut app: TestApp) {
    let sink = deliver_to_sink(&mut app).await;
    let (_, token) = reset_token_for(&app, &sink).await;
    let (a, b) = tokio::join!(
        reset(&app, &token, "first concurrent passphrase 1"),
        reset(&app, &token, "second concurrent passphrase 2"),
    );
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::NO_CONTENT, StatusCode::BAD_REQUEST]);
}
both_backends!(two_concurrent_resets_with_one_token_succeed_once);

async fn forgot_password_answers_an_unknown_address_like_a_known_one_and_sends_nothing(
    mut app: TestApp,
) {
    let sink = deliver_to_sink(&mut app).await;
    let user = TestUser::generate();
    assert_eq!(app.signup(&user).await.status(), StatusCode::CREATED);
    let stranger = TestUser::generate().email;
    let known = forgot(&app, &user.email).await;
    let unknown = forgot(&app, &stranger).await;
    assert_eq!(known.status(), StatusCode::ACCEPTED);
    assert_eq!(known.status(), unknown.status());
    let names = |r: &reqwest::Response| {
        let mut headers: Vec<(String, String)> = r
            .headers()
            .iter()
            .filter(|(name, _)| !matches!(name.as_str(), "x-request-id" | "date"))
            .map(|(n, v)| (n.to_string(), v.to_str().expect("ascii").to_owned()))
            .collect();
        headers.sort();
        headers
    };
    assert_eq!(names(&known), names(&unknown));
    let known_body: Value = known.json().await.expect("json");
    assert_eq!(known_body, unknown.json::<Value>().await.expect("json"));

    sink.wait_for(&user.email, 2).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(sink.to(&stranger).is_empty(), "nothing for an unknown address");
}
both_backends!(forgot_password_answers_an_unknown_address_like_a_known_one_and_sends_nothing);

async fn mail_queued_while_smtp_is_down_is_delivered_once_it_is_up(mut app: TestApp) {
    let port = MailSink::free_port();
    deliver_to(&mut app, &format!("smtp://127.0.0.1:{port}")).await;
    let user = TestUser::generate();
    assert_eq!(app.signup(&user).await.status(), StatusCode::CREATED);
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;

    let sink = MailSink::start_on(port).await;
    let messages = sink.wait_for(&user.email, 1).await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(sink.to(&user.email).len(), 1, "delivered once: {messages:?}");
}
both_backends!(mail_queued_while_smtp_is_down_is_delivered_once_it_is_up);

async fn an_email_change_waits_for_the_new_address_to_confirm_it(mut app: TestApp) {
    let sink = deliver_to_sink(&mut app).await;
    let (user, token) = app.signed_in_user().await;
    let new_email = TestUser::generate().email;
    let body = json!({"email": new_email, "current_password": user.password});
    let response = app.patch_me(&token, &body).await;
    assert_eq!(response.status(), StatusCode::OK);
    let pending: Value = response.json().await.expect("json");
    assert_eq!(pending["email"], user.email.to_lowercase());
    assert_eq!(pending["pending_email"], new_email.to_lowercase());

    let link = sink.wait_for(&new_email, 1).await[0].token();
    let notices = sink.wait_for(&user.email, 2).await;
    with_subject(&notices, "A change of your email address was requested");
    let response = post_token(&app, "/api/v1/auth/confirm-email-change", &link).await;
    assert_eq!(response.status(), StatusCode::OK);
    let changed: Value = response.json().await.expect("json");
    assert_eq!(changed["email"], new_email.to_lowercase());
    assert_eq!(changed["pending_email"], Value::Null);
    assert_eq!(changed["email_verified"], true);
    let notices = sink.wait_for(&user.email, 3).await;
    with_subject(&notices, "Your email address was changed");
    assert_eq!(app.signin(&new_email, &user.password).await.status(), StatusCode::OK);
}
both_backends!(an_email_change_waits_for_the_new_address_to_confirm_it);

async fn confirming_an_address_taken_meanwhile_is_a_conflict(mut app: TestApp) {
    let sink = deliver_to_sink(&mut app).await;
    let (user, token) = app.signed_in_user().await;
    let wanted = TestUser::generate();
    let body = json!({"email": wanted.email, "current_password": user.password});
    assert_eq!(app.patch_me(&token, &body).await.status(), StatusCode::OK);
    let link = sink.wait_for(&wanted.email, 1).await[0].token();
    assert_eq!(app.signup(&wanted).await.status(), StatusCode::CREATED);
    let response = post_token(&app, "/api/v1/auth/confirm-email-change", &link).await;
    assert_problem(response, StatusCode::CONFLICT, "email_taken").await;
}
both_backends!(confirming_an_address_taken_meanwhile_is_a_conflict);

async fn an_unverified_address_cannot_sign_in_when_verification_is_required(mut app: TestApp) {
    let sink = MailSink::start().await;
    let url = sink.url();
    app.restart_with(|figment| {
        figment
            .merge(("email.transport", "smtp"))
            .merge(("email.smtp_url", url))
            .merge(("auth.require_verified_email", true))
    })
    .await;
    let user = TestUser::generate();
    assert_eq!(app.signup(&user).await.status(), StatusCode::CREATED);
    let refused = app.signin(&user.email, &user.password).await;
    assert_problem(refused, StatusCode::FORBIDDEN, "email_not_verified").await;
    let wrong = app.signin(&user.email, "not the password at all").await;
    assert_problem(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;

    let token = sink.wait_for(&user.email, 1).await[0].token();
    let verified = post_token(&app, "/api/v1/auth/verify-email", &token).await;
    assert_eq!(verified.status(), StatusCode::OK);
    assert_eq!(app.signin(&user.email, &user.password).await.status(), StatusCode::OK);
}
both_backends!(an_unverified_address_cannot_sign_in_when_verification_is_required);

async fn a_permanent_smtp_refusal_is_not_retried(mut app: TestApp) {
    let sink = deliver_to_sink(&mut app).await;
    sink.refuse_with(Some("550 no such mailbox"));
    let user = TestUser::generate();
    assert_eq!(app.signup(&user).await.status(), StatusCode::CREATED);
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    sink.refuse_with(None);
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert!(sink.to(&user.email).is_empty(), "a 5xx marks the message failed for good");
}
both_backends!(a_permanent_smtp_refusal_is_not_retried);
