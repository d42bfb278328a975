//! Signin must not reveal whether an account exists: same status, body and headers (timing is
//! measured by `make bench`, never asserted in a test).

use reqwest::{Response, StatusCode};
use serde_json::Value;

use crate::helpers::{TestApp, TestUser, both_backends};

/// Status, headers (minus per-request ones) and body (minus `request_id`).
async fn observable(response: Response) -> (StatusCode, Vec<(String, String)>, Value) {
    let status = response.status();
    let mut headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "x-request-id" | "date"))
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    headers.sort();
    let mut body: Value = response.json().await.expect("json");
    body.as_object_mut().expect("object").remove("request_id");
    (status, headers, body)
}

async fn unknown_email_wrong_password_and_inactive_account_are_indistinguishable(app: TestApp) {
    let active = TestUser::generate();
    let inactive = TestUser::generate();
    app.signup(&active).await;
    app.signup(&inactive).await;
    app.deactivate(&inactive.email).await;
    let wrong_password = observable(app.signin(&active.email, "not the password").await).await;
    let unknown = observable(app.signin("nobody@example.com", "not the password").await).await;
    // The right password for an inactive account must not tell it apart either.
    let inactive = observable(app.signin(&inactive.email, &inactive.password).await).await;
    assert_eq!(wrong_password.0, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_password, unknown);
    assert_eq!(wrong_password, inactive);
}
both_backends!(unknown_email_wrong_password_and_inactive_account_are_indistinguishable);

async fn a_deleted_account_signs_in_like_an_unknown_one(app: TestApp) {
    let (user, token) = app.signed_in_user().await;
    app.delete_me(&token, &user.password).await;
    let deleted = observable(app.signin(&user.email, &user.password).await).await;
    let unknown = observable(app.signin("nobody@example.com", &user.password).await).await;
    assert_eq!(deleted, unknown);
}
both_backends!(a_deleted_account_signs_in_like_an_unknown_one);
