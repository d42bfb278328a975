//! No inbox can be flooded through Warren, and no emailed link outlives the address it was
//! sent to.

use reqwest::StatusCode;
use serde_json::json;
use warren::repositories::Backend as Storage;

use crate::helpers::{TestApp, TestUser, assert_problem, both_backends};
use crate::mail_sink::deliver_to_sink;

/// Messages queued for `recipient`, delivered or not: what the outbox decided, however far
/// delivery has got.
async fn queued_for(app: &TestApp, recipient: &str, kind: &str) -> i64 {
    let sql = "SELECT count(*) FROM email_outbox WHERE recipient = $1 AND kind = $2";
    let recipient = recipient.to_lowercase();
    let counted = match app.database.backend() {
        Storage::Sqlite(pools) => {
            sqlx::query_scalar(sql).bind(recipient).bind(kind).fetch_one(&pools.read).await
        }
        Storage::Postgres(pool) => {
            sqlx::query_scalar(sql).bind(recipient).bind(kind).fetch_one(pool).await
        }
    };
    counted.expect("count the outbox")
}

async fn repeated_email_change_requests_mail_each_address_once_per_interval(app: TestApp) {
    let (user, token) = app.signed_in_user().await;
    let (other, other_token) = app.signed_in_user().await;
    let target = TestUser::generate().email;

    for _ in 0..10 {
        let body = json!({"email": target, "current_password": user.password});
        assert_eq!(app.patch_me(&token, &body).await.status(), StatusCode::OK);
    }
    // Another account asking for the same address within the interval mails it nothing more.
    let body = json!({"email": target, "current_password": other.password});
    assert_eq!(app.patch_me(&other_token, &body).await.status(), StatusCode::OK);

    assert_eq!(queued_for(&app, &target, "confirm_email_change").await, 1);
    assert_eq!(queued_for(&app, &user.email, "email_change_requested").await, 1);

    app.clock.advance(time::Duration::seconds(61));
    let body = json!({"email": target, "current_password": user.password});
    assert_eq!(app.patch_me(&token, &body).await.status(), StatusCode::OK);
    assert_eq!(queued_for(&app, &target, "confirm_email_change").await, 2, "a new interval");
}
both_backends!(repeated_email_change_requests_mail_each_address_once_per_interval);

async fn a_reset_link_sent_to_the_old_address_dies_when_an_email_change_is_confirmed(
    mut app: TestApp,
) {
    let sink = deliver_to_sink(&mut app).await;
    let (user, token) = app.signed_in_user().await;
    let forgot = json!({"email": user.email});
    let answer = app.post_json("/api/v1/auth/forgot-password", &forgot).await;
    assert_eq!(answer.status(), StatusCode::ACCEPTED);
    let messages = sink.wait_for(&user.email, 2).await;
    let reset_token = messages
        .iter()
        .find(|m| m.header("subject").as_deref() == Some("Reset your password"))
        .expect("the reset link")
        .token();
    let new_email = TestUser::generate().email;
    let body = json!({"email": new_email, "current_password": user.password});
    assert_eq!(app.patch_me(&token, &body).await.status(), StatusCode::OK);
    let confirm = sink.wait_for(&new_email, 1).await[0].token();
    let body = json!({"token": confirm});
    let confirmed = app.post_json("/api/v1/auth/confirm-email-change", &body).await;
    assert_eq!(confirmed.status(), StatusCode::OK);

    let new_password = "a password chosen by whoever read the old inbox";
    let body = json!({"token": reset_token, "password": new_password});
    let reset = app.post_json("/api/v1/auth/reset-password", &body).await;

    assert_problem(reset, StatusCode::BAD_REQUEST, "invalid_token").await;
    assert_eq!(app.signin(&new_email, new_password).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.signin(&new_email, &user.password).await.status(), StatusCode::OK);
}
both_backends!(a_reset_link_sent_to_the_old_address_dies_when_an_email_change_is_confirmed);
