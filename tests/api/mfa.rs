//! SPEC §15 over real HTTP: TOTP enrolment, the two-step signin, recovery codes, switching off,
//! and what must never happen (a code used twice, a secret stored in plaintext).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};
use totp_rs::{Builder, Secret, Totp};
use warren::core::clock::Clock;
use warren::repositories::Backend;

use crate::helpers::{TestApp, TestUser, assert_problem, both_backends};
use crate::mail_sink::deliver_to_sink;

/// A signed-in user with two-factor sign-in on.
struct Enrolled {
    user: TestUser,
    access_token: String,
    secret: String,
    recovery_codes: Vec<String>,
}

impl Enrolled {
    fn totp(&self) -> Totp {
        totp_of(&self.secret)
    }
}

fn totp_of(secret: &str) -> Totp {
    let secret = Secret::try_from_base32(secret).expect("the secret is base32");
    Builder::new().with_secret(secret).build().expect("an RFC 6238 generator")
}

/// The code of `totp` at `at` (RFC 6238, SHA-1, 6 digits, 30 s).
fn code_at(totp: &Totp, at: OffsetDateTime) -> String {
    totp.generate(u64::try_from(at.unix_timestamp()).expect("after 1970")).to_string()
}

/// A 6-digit code valid at no step near `at`.
fn wrong_code(totp: &Totp, at: OffsetDateTime) -> String {
    let near: Vec<String> =
        (-3..=3).map(|s| code_at(totp, at + Duration::seconds(30 * s))).collect();
    (0..10).map(|d| d.to_string().repeat(6)).find(|c| !near.contains(c)).expect("one is free")
}

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: &Value,
) -> Response {
    let request = app.client.request(method, app.url(path)).bearer_auth(token).json(body);
    request.send().await.expect("request")
}

async fn start_enrolment(app: &TestApp, token: &str, password: &str) -> Value {
    let body = json!({"current_password": password});
    let response =
        send(app, reqwest::Method::POST, "/api/v1/users/me/mfa/totp", token, &body).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

async fn confirm(app: &TestApp, token: &str, code: &str) -> Response {
    let body = json!({"code": code});
    send(app, reqwest::Method::POST, "/api/v1/users/me/mfa/totp/confirm", token, &body).await
}

/// Signs a fresh user up and in, enrols and confirms, then moves the clock to the next step so
/// the test's next code is a fresh one.
async fn enrolled(app: &TestApp) -> Enrolled {
    let (user, access_token) = app.signed_in_user().await;
    let enrolment = start_enrolment(app, &access_token, &user.password).await;
    let secret = enrolment["secret"].as_str().expect("secret").to_owned();
    let uri = enrolment["otpauth_uri"].as_str().expect("otpauth_uri");
    assert!(uri.starts_with("otpauth://totp/Warren:"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}&")) && uri.ends_with("issuer=Warren"), "{uri}");
    assert!(!secret.contains('='), "base32 without padding");
    let code = code_at(&totp_of(&secret), app.clock.now());
    let confirmed = confirm(app, &access_token, &code).await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let body: Value = confirmed.json().await.expect("json");
    let recovery_codes: Vec<String> = serde_json::from_value(body["recovery_codes"].clone())
        .expect("recovery_codes is a list of strings");
    assert_eq!(recovery_codes.len(), 10);
    app.clock.advance(Duration::seconds(30));
    Enrolled { user, access_token, secret, recovery_codes }
}

/// The first step: asserts it asked for the second factor and returns the `mfa_token`.
async fn mfa_token(app: &TestApp, user: &TestUser) -> String {
    let response = app.signin(&user.email, &user.password).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["mfa_required"], true, "{body}");
    assert!(body.get("access_token").is_none() && body.get("refresh_token").is_none());
    assert_eq!(body["expires_in"], 300);
    assert_eq!(body["methods"], json!(["totp", "recovery_code"]));
    let token = body["mfa_token"].as_str().expect("mfa_token").to_owned();
    assert!(
        token.len() >= 22 && token.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
    );
    token
}

async fn second_step(app: &TestApp, token: &str, code: &str) -> Response {
    app.post_json("/api/v1/auth/signin/mfa", &json!({"mfa_token": token, "code": code})).await
}

fn amr_of(access_token: &str) -> Value {
    let payload = access_token.split('.').nth(1).expect("a JWT");
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("json");
    claims["amr"].clone()
}

async fn enrolling_turns_signin_into_two_steps_whose_tokens_say_otp(app: TestApp) {
    let enrolled = enrolled(&app).await;
    let me: Value = app.me(&enrolled.access_token).await.json().await.expect("json");
    assert_eq!(me["mfa_enabled"], true);
    assert_eq!(amr_of(&enrolled.access_token), json!(["pwd"]));

    let token = mfa_token(&app, &enrolled.user).await;
    let sessions =
        app.client.get(app.url("/api/v1/users/me/sessions")).bearer_auth(&enrolled.access_token);
    let listed: Vec<Value> = sessions.send().await.expect("request").json().await.expect("json");
    assert_eq!(listed.len(), 1, "the first step opens no session");

    let code = code_at(&enrolled.totp(), app.clock.now());
    let response = second_step(&app, &token, &code).await;
    assert_eq!(response.status(), StatusCode::OK);
    let tokens: Value = response.json().await.expect("json");
    assert_eq!(tokens["token_type"], "bearer");
    assert_eq!(tokens["user"]["mfa_enabled"], true);
    let access = tokens["access_token"].as_str().expect("access_token");
    assert_eq!(amr_of(access), json!(["pwd", "otp"]));
    assert_eq!(app.me(access).await.status(), StatusCode::OK);

    let refreshed = app.refresh(tokens["refresh_token"].as_str().expect("refresh_token")).await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    let refreshed: Value = refreshed.json().await.expect("json");
    let access = refreshed["access_token"].as_str().expect("access_token");
    assert_eq!(amr_of(access), json!(["pwd", "otp"]), "a refresh keeps the signin's amr");
    let reused = second_step(&app, &token, &code_at(&enrolled.totp(), app.clock.now())).await;
    assert_problem(reused, StatusCode::UNAUTHORIZED, "invalid_mfa_token").await;
}
both_backends!(enrolling_turns_signin_into_two_steps_whose_tokens_say_otp);

async fn a_code_works_once_and_one_from_two_steps_ago_not_at_all(app: TestApp) {
    let enrolled = enrolled(&app).await;
    let totp = enrolled.totp();
    let token = mfa_token(&app, &enrolled.user).await;

    let old = code_at(&totp, app.clock.now() - Duration::seconds(60));
    assert_problem(
        second_step(&app, &token, &old).await,
        StatusCode::UNAUTHORIZED,
        "invalid_mfa_code",
    )
    .await;
    // Four wrong codes in all: the token survives four.
    for malformed in ["", "abcdef", &"9".repeat(500)] {
        let response = second_step(&app, &token, malformed).await;
        assert_problem(response, StatusCode::UNAUTHORIZED, "invalid_mfa_code").await;
    }
    let code = code_at(&totp, app.clock.now());
    assert_eq!(second_step(&app, &token, &code).await.status(), StatusCode::OK);

    let again = mfa_token(&app, &enrolled.user).await;
    let reused = second_step(&app, &again, &code).await;
    assert_problem(reused, StatusCode::UNAUTHORIZED, "invalid_mfa_code").await;
}
both_backends!(a_code_works_once_and_one_from_two_steps_ago_not_at_all);

async fn a_recovery_code_works_once(app: TestApp) {
    let enrolled = enrolled(&app).await;
    let recovery = &enrolled.recovery_codes[0];

    let first = mfa_token(&app, &enrolled.user).await;
    let response = second_step(&app, &first, &recovery.to_uppercase()).await;
    assert_eq!(response.status(), StatusCode::OK, "case and dashes do not matter");
    let tokens: Value = response.json().await.expect("json");
    assert_eq!(amr_of(tokens["access_token"].as_str().expect("token")), json!(["pwd", "otp"]));

    let second = mfa_token(&app, &enrolled.user).await;
    let reused = second_step(&app, &second, recovery).await;
    assert_problem(reused, StatusCode::UNAUTHORIZED, "invalid_mfa_code").await;
    let export =
        app.client.get(app.url("/api/v1/users/me/export")).bearer_auth(&enrolled.access_token);
    let export: Value = export.send().await.expect("request").json().await.expect("json");
    assert_eq!(export["mfa"]["enabled"], true);
    assert!(export["mfa"]["enabled_at"].is_string());
    assert_eq!(export["mfa"]["recovery_codes_left"], 9);
    let text = export.to_string();
    assert!(!text.contains(&enrolled.secret) && !text.contains(&enrolled.recovery_codes[1]));
}
both_backends!(a_recovery_code_works_once);

async fn five_wrong_codes_kill_the_mfa_token(app: TestApp) {
    let enrolled = enrolled(&app).await;
    let token = mfa_token(&app, &enrolled.user).await;
    let wrong = wrong_code(&enrolled.totp(), app.clock.now());

    for attempt in 1..=5 {
        let response = second_step(&app, &token, &wrong).await;
        let body = assert_problem(response, StatusCode::UNAUTHORIZED, "invalid_mfa_code").await;
        assert_eq!(body["status"], 401, "attempt {attempt}");
    }
    let right = code_at(&enrolled.totp(), app.clock.now());
    let dead = second_step(&app, &token, &right).await;
    assert_problem(dead, StatusCode::UNAUTHORIZED, "invalid_mfa_token").await;
    let garbage = second_step(&app, "wmt_not-a-token", &right).await;
    assert_problem(garbage, StatusCode::UNAUTHORIZED, "invalid_mfa_token").await;
}
both_backends!(five_wrong_codes_kill_the_mfa_token);

async fn an_expired_mfa_token_is_refused(app: TestApp) {
    let enrolled = enrolled(&app).await;
    let token = mfa_token(&app, &enrolled.user).await;
    app.clock.advance(Duration::seconds(301));
    let response = second_step(&app, &token, &code_at(&enrolled.totp(), app.clock.now())).await;
    assert_problem(response, StatusCode::UNAUTHORIZED, "invalid_mfa_token").await;
}
both_backends!(an_expired_mfa_token_is_refused);

async fn concurrent_uses_of_one_recovery_code_succeed_once(app: TestApp) {
    let enrolled = enrolled(&app).await;
    let mut tokens = Vec::new();
    for _ in 0..4 {
        tokens.push(mfa_token(&app, &enrolled.user).await);
    }
    let recovery = &enrolled.recovery_codes[3];

    let attempts = tokens.iter().map(|token| second_step(&app, token, recovery));
    let responses = futures_util::future::join_all(attempts).await;

    let statuses: Vec<StatusCode> = responses.iter().map(Response::status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == StatusCode::OK || *s == StatusCode::UNAUTHORIZED));
}
both_backends!(concurrent_uses_of_one_recovery_code_succeed_once);

const RECOVERY_CODES: &str = "/api/v1/users/me/mfa/recovery-codes";
const TOTP: &str = "/api/v1/users/me/mfa/totp";

/// A change that needs the password and a code: regenerating (`POST`) or disabling (`DELETE`).
async fn with_code(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    e: &Enrolled,
    password: &str,
    code: &str,
) -> Response {
    let body = json!({"current_password": password, "code": code});
    send(app, method, path, &e.access_token, &body).await
}

async fn regenerating_needs_the_password_and_a_code_and_kills_the_old_codes(app: TestApp) {
    let enrolled = enrolled(&app).await;
    let (totp, password) = (enrolled.totp(), enrolled.user.password.clone());
    let right = code_at(&totp, app.clock.now());
    let wrong = wrong_code(&totp, app.clock.now());
    let post = reqwest::Method::POST;

    let bad_password =
        with_code(&app, post.clone(), RECOVERY_CODES, &enrolled, "not my password at all", &right)
            .await;
    assert_problem(bad_password, StatusCode::FORBIDDEN, "reauthentication_failed").await;
    let bad_code =
        with_code(&app, post.clone(), RECOVERY_CODES, &enrolled, &password, &wrong).await;
    assert_problem(bad_code, StatusCode::UNAUTHORIZED, "invalid_mfa_code").await;
    let regenerated = with_code(&app, post, RECOVERY_CODES, &enrolled, &password, &right).await;
    assert_eq!(regenerated.status(), StatusCode::OK);
    let fresh: Value = regenerated.json().await.expect("json");
    let fresh = fresh["recovery_codes"].as_array().expect("codes").clone();
    assert_eq!(fresh.len(), 10);

    let token = mfa_token(&app, &enrolled.user).await;
    let old = second_step(&app, &token, &enrolled.recovery_codes[0]).await;
    assert_problem(old, StatusCode::UNAUTHORIZED, "invalid_mfa_code").await;
    let new = second_step(&app, &token, fresh[0].as_str().expect("code")).await;
    assert_eq!(new.status(), StatusCode::OK);
    assert_eq!(app.me(&enrolled.access_token).await.status(), StatusCode::OK, "nothing revoked");
}
both_backends!(regenerating_needs_the_password_and_a_code_and_kills_the_old_codes);

async fn disabling_needs_the_password_and_a_code_and_revokes_nothing(app: TestApp) {
    let enrolled = enrolled(&app).await;
    let (totp, password) = (enrolled.totp(), enrolled.user.password.clone());
    let recovery = &enrolled.recovery_codes[0];
    let delete = reqwest::Method::DELETE;

    let body = json!({"current_password": password});
    let missing = send(&app, delete.clone(), TOTP, &enrolled.access_token, &body).await;
    assert_problem(missing, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let bad_password =
        with_code(&app, delete.clone(), TOTP, &enrolled, "not my password at all", recovery).await;
    assert_problem(bad_password, StatusCode::FORBIDDEN, "reauthentication_failed").await;
    let wrong = wrong_code(&totp, app.clock.now());
    let bad_code = with_code(&app, delete.clone(), TOTP, &enrolled, &password, &wrong).await;
    assert_problem(bad_code, StatusCode::UNAUTHORIZED, "invalid_mfa_code").await;
    let disabled = with_code(&app, delete.clone(), TOTP, &enrolled, &password, recovery).await;
    assert_eq!(disabled.status(), StatusCode::NO_CONTENT);

    let me: Value = app.me(&enrolled.access_token).await.json().await.expect("json");
    assert_eq!(me["mfa_enabled"], false, "and the token still works");
    let signin: Value = app.signin_body(&enrolled.user, "after").await;
    assert_eq!(amr_of(signin["access_token"].as_str().expect("single step")), json!(["pwd"]));
    let again =
        with_code(&app, delete, TOTP, &enrolled, &password, &enrolled.recovery_codes[1]).await;
    assert_problem(again, StatusCode::CONFLICT, "mfa_not_enabled").await;
}
both_backends!(disabling_needs_the_password_and_a_code_and_revokes_nothing);

async fn a_pending_enrolment_leaves_signin_single_step(app: TestApp) {
    let (user, token) = app.signed_in_user().await;
    let enrolment = start_enrolment(&app, &token, &user.password).await;
    let totp = totp_of(enrolment["secret"].as_str().expect("secret"));

    let body = app.signin_body(&user, "pending").await;
    assert!(body["access_token"].is_string(), "{body}");
    assert_eq!(body["user"]["mfa_enabled"], false);

    let wrong = confirm(&app, &token, &wrong_code(&totp, app.clock.now())).await;
    assert_problem(wrong, StatusCode::UNAUTHORIZED, "invalid_mfa_code").await;
    let me: Value = app.me(&token).await.json().await.expect("json");
    assert_eq!(me["mfa_enabled"], false);
    let unenrolled = app.signed_in_user().await;
    let nothing = confirm(&app, &unenrolled.1, "123456").await;
    assert_problem(nothing, StatusCode::CONFLICT, "mfa_not_enabled").await;
}
both_backends!(a_pending_enrolment_leaves_signin_single_step);

async fn enrolling_needs_the_password_and_not_mfa_already_on(app: TestApp) {
    let enrolled = enrolled(&app).await;
    let path = "/api/v1/users/me/mfa/totp";
    let token = &enrolled.access_token;

    let wrong = send(
        &app,
        reqwest::Method::POST,
        path,
        token,
        &json!({"current_password": "wrong password here"}),
    )
    .await;
    assert_problem(wrong, StatusCode::FORBIDDEN, "reauthentication_failed").await;
    let again = send(
        &app,
        reqwest::Method::POST,
        path,
        token,
        &json!({"current_password": enrolled.user.password}),
    )
    .await;
    assert_problem(again, StatusCode::CONFLICT, "mfa_already_enabled").await;
    let anonymous = app.post_json(path, &json!({"current_password": "x"})).await;
    assert_problem(anonymous, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}
both_backends!(enrolling_needs_the_password_and_not_mfa_already_on);

async fn a_password_reset_keeps_mfa_on(mut app: TestApp) {
    let sink = deliver_to_sink(&mut app).await;
    let enrolled = enrolled(&app).await;
    let forgot =
        app.post_json("/api/v1/auth/forgot-password", &json!({"email": enrolled.user.email})).await;
    assert_eq!(forgot.status(), StatusCode::ACCEPTED);
    let messages = sink.wait_for(&enrolled.user.email, 3).await;
    let reset_mail = messages
        .iter()
        .find(|m| m.header("subject").as_deref() == Some("Reset your password"))
        .expect("the reset link arrives");
    let password = "an entirely new passphrase 77";
    let body = json!({"token": reset_mail.token(), "password": password});
    assert_eq!(
        app.post_json("/api/v1/auth/reset-password", &body).await.status(),
        StatusCode::NO_CONTENT
    );

    let user = TestUser { password: password.to_owned(), ..enrolled.user.clone() };
    let token = mfa_token(&app, &user).await;
    let response = second_step(&app, &token, &code_at(&enrolled.totp(), app.clock.now())).await;
    assert_eq!(response.status(), StatusCode::OK);
}
both_backends!(a_password_reset_keeps_mfa_on);

async fn the_secret_is_not_stored_in_plaintext(app: TestApp) {
    let enrolled = enrolled(&app).await;
    let raw = Secret::try_from_base32(&enrolled.secret).expect("base32");
    let raw = raw.as_bytes().to_vec();

    let rows: Vec<Vec<u8>> = match app.database.backend() {
        Backend::Sqlite(pools) => {
            sqlx::query_scalar("SELECT secret FROM mfa_totp").fetch_all(&pools.read).await
        }
        Backend::Postgres(pool) => {
            sqlx::query_scalar("SELECT secret FROM mfa_totp").fetch_all(pool).await
        }
    }
    .expect("read the raw rows");
    let codes: Vec<Vec<u8>> = match app.database.backend() {
        Backend::Sqlite(pools) => {
            sqlx::query_scalar("SELECT code_hash FROM mfa_recovery_codes")
                .fetch_all(&pools.read)
                .await
        }
        Backend::Postgres(pool) => {
            sqlx::query_scalar("SELECT code_hash FROM mfa_recovery_codes").fetch_all(pool).await
        }
    }
    .expect("read the raw rows");

    assert_eq!(rows.len(), 1);
    let stored = &rows[0];
    assert!(stored.len() > raw.len(), "nonce and tag besides the ciphertext");
    assert!(!stored.windows(raw.len()).any(|window| window == raw.as_slice()), "raw secret bytes");
    let base32 = enrolled.secret.as_bytes();
    assert!(!stored.windows(base32.len()).any(|window| window == base32), "base32 secret");
    assert_eq!(codes.len(), 10);
    for code in &enrolled.recovery_codes {
        let plain = code.replace('-', "");
        assert!(codes.iter().all(|hash| !hash.windows(plain.len()).any(|w| w == plain.as_bytes())));
    }
}
both_backends!(the_secret_is_not_stored_in_plaintext);

async fn every_mfa_change_mails_a_notice_and_is_audited(mut app: TestApp) {
    let sink = deliver_to_sink(&mut app).await;
    let enrolled = enrolled(&app).await;
    let (token, password) = (&enrolled.access_token, &enrolled.user.password);
    let first = mfa_token(&app, &enrolled.user).await;
    let used = second_step(&app, &first, &enrolled.recovery_codes[0]).await;
    assert_eq!(used.status(), StatusCode::OK);
    let body = json!({"current_password": password, "code": enrolled.recovery_codes[1]});
    let regenerated =
        send(&app, reqwest::Method::POST, "/api/v1/users/me/mfa/recovery-codes", token, &body)
            .await;
    assert_eq!(regenerated.status(), StatusCode::OK);
    let codes: Value = regenerated.json().await.expect("json");
    let body = json!({"current_password": password, "code": codes["recovery_codes"][0]});
    let disabled =
        send(&app, reqwest::Method::DELETE, "/api/v1/users/me/mfa/totp", token, &body).await;
    assert_eq!(disabled.status(), StatusCode::NO_CONTENT);

    // Verification, on, two recovery codes used, regenerated, off.
    let messages = sink.wait_for(&enrolled.user.email, 7).await;
    let subjects: Vec<String> = messages.iter().filter_map(|m| m.header("subject")).collect();
    for subject in [
        "Two-factor sign-in is on",
        "A recovery code was used",
        "New recovery codes were made",
        "Two-factor sign-in is off",
    ] {
        assert!(subjects.iter().any(|s| s == subject), "{subject:?} missing from {subjects:?}");
    }
    let export = app.client.get(app.url("/api/v1/users/me/export")).bearer_auth(token);
    let export: Value = export.send().await.expect("request").json().await.expect("json");
    let kinds: Vec<&str> = export["audit_events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    for kind in [
        "mfa_enabled",
        "signin_mfa_required",
        "mfa_recovery_code_used",
        "mfa_recovery_codes_regenerated",
        "mfa_disabled",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    assert_eq!(
        export["mfa"],
        json!({"enabled": false, "enabled_at": null, "recovery_codes_left": 0})
    );
}
both_backends!(every_mfa_change_mails_a_notice_and_is_audited);
