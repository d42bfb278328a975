//! Enrolling, regenerating recovery codes, switching off, and what a password reset keeps.

use super::*;

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
        // Lookup secrets under 112 bits would need a slow salted hash; these carry 5 bits a
        // character and are stored under a keyed hash, never a bare one anyone can recompute.
        assert!(plain.len() * 5 >= 112, "{code} is too short");
        let bare = warren::domain::SecretHash::of(&plain);
        assert!(codes.iter().all(|hash| hash.as_slice() != bare.as_bytes()), "bare SHA-256");
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

    // Verification, on, three recovery codes used (one notice: repeats of a kind to one
    // address within the resend interval go out once), regenerated, off.
    let messages = sink.wait_for(&enrolled.user.email, 5).await;
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
