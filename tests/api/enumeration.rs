//! Signin must not reveal whether an account exists: same status, body, headers, and timing.

use std::time::{Duration, Instant};

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

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

both_backends! {
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

    async fn a_deleted_account_signs_in_like_an_unknown_one(app: TestApp) {
        let (user, token) = app.signed_in_user().await;
        app.delete_me(&token, &user.password).await;
        let deleted = observable(app.signin(&user.email, &user.password).await).await;
        let unknown = observable(app.signin("nobody@example.com", &user.password).await).await;
        assert_eq!(deleted, unknown);
    }

    async fn unknown_and_known_emails_take_similar_time(app: TestApp) {
        // Interleaved, one attempt per email so the account backoff never kicks in. The bound
        // is loose on purpose: a missing dummy hash would make unknown emails ~100x faster.
        let mut known = Vec::new();
        for _ in 0..7 {
            let user = TestUser::generate();
            app.signup(&user).await;
            known.push(user.email);
        }
        let (mut known_times, mut unknown_times) = (Vec::new(), Vec::new());
        for email in &known {
            let started = Instant::now();
            app.signin(email, "not the password").await;
            known_times.push(started.elapsed());
            let started = Instant::now();
            app.signin(&TestUser::generate().email, "not the password").await;
            unknown_times.push(started.elapsed());
        }
        let (known, unknown) = (median(known_times), median(unknown_times));
        let ratio = unknown.as_secs_f64() / known.as_secs_f64();
        assert!((0.5..2.0).contains(&ratio), "known {known:?} vs unknown {unknown:?}");
    }
}
